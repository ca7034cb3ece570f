//! Case statistics counted in PostgreSQL: one pass over the cases that match the list
//! filters, grouped per region of one level and status and per status over all of them
//! (cases without a region at that level, outside the district or without a point, count
//! only there).
//!
//! The store only counts; what counts as open, closed, on time or satisfied in the rates is
//! the rule of `cockpit-events` (`closed_on_time`, `satisfaction_rate`), mirrored here in SQL.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sqlx::{FromRow, Postgres, QueryBuilder};

use super::cases::{CaseFilter, push_filter};
use super::{Store, StoreError};

/// The region level statistics are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatsLevel {
    /// Streets and towns.
    Street,
    /// Villages and communities.
    Village,
    /// Grids.
    Grid,
}

impl StatsLevel {
    /// Parses `street`, `village` or `grid`.
    pub fn parse(name: &str) -> Option<StatsLevel> {
        match name {
            "street" => Some(StatsLevel::Street),
            "village" => Some(StatsLevel::Village),
            "grid" => Some(StatsLevel::Grid),
            _ => None,
        }
    }

    /// The level's name, as stored in `regions.level`.
    pub fn as_str(self) -> &'static str {
        match self {
            StatsLevel::Street => "street",
            StatsLevel::Village => "village",
            StatsLevel::Grid => "grid",
        }
    }

    fn column(self) -> &'static str {
        match self {
            StatsLevel::Street => "street_code",
            StatsLevel::Village => "village_code",
            StatsLevel::Grid => "grid_code",
        }
    }
}

/// Counts over a set of cases that share a status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Cases.
    pub cases: i64,
    /// Overdue as the case view shows it: flagged by the scheduler, or open past its due time.
    pub overdue: i64,
    /// Closed (verified, evaluated or not) with a deadline: the on-time rate's denominator.
    pub with_deadline: i64,
    /// Of those, closed no later than the deadline.
    pub on_time: i64,
    /// Cases with an evaluation.
    pub evaluated: i64,
    /// Of those, evaluated satisfied.
    pub satisfied: i64,
    /// Created since the start of the local day.
    pub created_today: i64,
    /// Closed since the start of the local day.
    pub closed_today: i64,
}

impl Tally {
    /// Adds another tally's counts to this one.
    pub fn add(&mut self, other: &Tally) {
        self.cases += other.cases;
        self.overdue += other.overdue;
        self.with_deadline += other.with_deadline;
        self.on_time += other.on_time;
        self.evaluated += other.evaluated;
        self.satisfied += other.satisfied;
        self.created_today += other.created_today;
        self.closed_today += other.closed_today;
    }
}

/// One region of the requested level and its counts per status (statuses without cases
/// are absent).
#[derive(Debug, Clone)]
pub struct RegionTally {
    /// The region's code.
    pub code: String,
    /// Its name.
    pub name: String,
    /// Counts per stored status name.
    pub by_status: BTreeMap<String, Tally>,
}

/// The statistics of one query.
#[derive(Debug, Clone)]
pub struct CaseStats {
    /// Every region of the level (under the filter's region, when it names one), by code.
    pub regions: Vec<RegionTally>,
    /// Counts per status over every matching case, located or not.
    pub all: BTreeMap<String, Tally>,
}

#[derive(FromRow)]
struct Row {
    code: Option<String>,
    name: Option<String>,
    status: Option<String>,
    cases: i64,
    overdue: i64,
    with_deadline: i64,
    on_time: i64,
    evaluated: i64,
    satisfied: i64,
    created_today: i64,
    closed_today: i64,
}

impl Row {
    fn tally(&self) -> Tally {
        Tally {
            cases: self.cases,
            overdue: self.overdue,
            with_deadline: self.with_deadline,
            on_time: self.on_time,
            evaluated: self.evaluated,
            satisfied: self.satisfied,
            created_today: self.created_today,
            closed_today: self.closed_today,
        }
    }
}

/// The aggregates, over the CTE `c` built by [`push_matching`].
const AGGREGATES: &str = "count(c.status) AS cases,
    count(*) FILTER (WHERE c.is_overdue) AS overdue,
    count(*) FILTER (WHERE c.resolved AND c.due_at IS NOT NULL) AS with_deadline,
    count(*) FILTER (WHERE c.resolved AND c.due_at IS NOT NULL AND c.closed_at <= c.due_at) AS on_time,
    count(*) FILTER (WHERE c.evaluation IS NOT NULL) AS evaluated,
    count(*) FILTER (WHERE c.evaluation -> 'verdict' = '\"satisfied\"'::jsonb) AS satisfied,
    count(*) FILTER (WHERE c.created_at >= c.day_start) AS created_today,
    count(*) FILTER (WHERE c.closed_at >= c.day_start) AS closed_today";

/// [`AGGREGATES`] of the subquery `a`, zero for a region it has no row for.
const COUNTED: &str = "coalesce(a.cases, 0) AS cases, coalesce(a.overdue, 0) AS overdue,
    coalesce(a.with_deadline, 0) AS with_deadline, coalesce(a.on_time, 0) AS on_time,
    coalesce(a.evaluated, 0) AS evaluated, coalesce(a.satisfied, 0) AS satisfied,
    coalesce(a.created_today, 0) AS created_today, coalesce(a.closed_today, 0) AS closed_today";

impl Store {
    /// Counts the cases matching `filter` (its keyset and limit are ignored) per region of
    /// `level` × status, and overall. `now` decides which open cases are past due;
    /// `day_start` is the start of the local day.
    pub async fn case_stats(
        &self,
        level: StatsLevel,
        filter: &CaseFilter,
        now: DateTime<Utc>,
        day_start: DateTime<Utc>,
    ) -> Result<CaseStats, StoreError> {
        let column = level.column();

        // One pass over the matching cases, counted per region code × status and per status
        // (`GROUPING SETS`), then the per-region counts joined to the regions of the level:
        // joined first, the planner guessed a few hundred rows for every case and sorted
        // them on disk (0.5 s for 84,000 cases, against 0.09 s this way; BENCHMARKS.md, read
        // paths). The rows without a code are the overall counts.
        let mut q = push_matching(column, filter, now, day_start);
        q.push(format!(
            ", a AS (SELECT c.region_code, c.status, GROUPING(c.region_code) AS overall, {AGGREGATES}
                FROM c GROUP BY GROUPING SETS ((c.region_code, c.status), (c.status)))
              SELECT reg.code, reg.name, a.status, {COUNTED}
              FROM regions reg
              LEFT JOIN a ON a.overall = 0 AND a.region_code = reg.code
              WHERE reg.level = "
        ));
        q.push_bind(level.as_str());
        if let Some(region) = &filter.region {
            // Region codes extend their parent's, so the prefix selects the regions under it.
            q.push(" AND reg.code LIKE ")
                .push_bind(format!("{}%", region.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")));
        }
        q.push(format!(" UNION ALL SELECT NULL, NULL, a.status, {COUNTED} FROM a WHERE a.overall = 1 ORDER BY 1"));
        let rows: Vec<Row> = q.build_query_as().fetch_all(&self.pool).await?;
        let mut regions: Vec<RegionTally> = Vec::new();
        let mut all = BTreeMap::new();
        for row in &rows {
            let (Some(code), Some(name)) = (&row.code, &row.name) else {
                if let Some(status) = &row.status {
                    all.insert(status.clone(), row.tally());
                }
                continue;
            };
            if regions.last().is_none_or(|r| &r.code != code) {
                regions.push(RegionTally { code: code.clone(), name: name.clone(), by_status: BTreeMap::new() });
            }
            if let (Some(status), Some(region)) = (&row.status, regions.last_mut()) {
                region.by_status.insert(status.clone(), row.tally());
            }
        }
        Ok(CaseStats { regions, all })
    }
}

/// `WITH c AS (...)`: the matching cases, with the flags the aggregates count.
fn push_matching(
    column: &'static str,
    filter: &CaseFilter,
    now: DateTime<Utc>,
    day_start: DateTime<Utc>,
) -> QueryBuilder<Postgres> {
    let mut q: QueryBuilder<Postgres> = QueryBuilder::new(format!(
        "WITH c AS (SELECT {column} AS region_code, status, due_at, closed_at, created_at, evaluation,
             status IN ('closed', 'evaluated_satisfied', 'evaluated_unsatisfied') AS resolved,
             (overdue OR (closed_at IS NULL AND due_at <= "
    ));
    q.push_bind(now).push(")) AS is_overdue, ").push_bind(day_start).push("::timestamptz AS day_start");
    q.push(" FROM cases WHERE true");
    push_filter(&mut q, filter);
    q.push(")");
    q
}

/// The district (`None`) or a street or village, by code: the regions indicators count.
pub type CountsByRegion = std::collections::HashMap<Option<String>, cockpit_indicators::Counts>;

/// Rows of counts per (level, code) from a `GROUPING SETS ((), (street_code), (street_code,
/// village_code))` query: the district's row has no code.
const REGION_OF_GROUP: &str = "CASE GROUPING(street_code, village_code) WHEN 3 THEN NULL WHEN 1 THEN street_code
         ELSE village_code END AS code, GROUPING(street_code, village_code) AS grouping";
const REGION_GROUPS: &str = "GROUP BY GROUPING SETS ((), (street_code), (street_code, village_code))";

/// What the indicators count, and as of when.
#[derive(Debug, Clone, Copy)]
pub struct IndicatorQuery<'a> {
    /// Open cases past due at this time are overdue.
    pub now: DateTime<Utc>,
    /// The start of the local day: "today".
    pub day_start: DateTime<Utc>,
    /// Rates count the cases resolved since.
    pub window_start: DateTime<Utc>,
    /// The statuses of open cases.
    pub open: &'a [&'a str],
    /// The statuses of resolved cases.
    pub resolved: &'a [&'a str],
    /// The tag of risks identified (none: not counted).
    pub risk_tag: Option<&'a str>,
    /// The tag of hazards found (none: not counted).
    pub hazard_tag: Option<&'a str>,
}

impl Store {
    /// What the indicators count, over the district and per street and village: cases
    /// created today; open cases and those overdue; cases resolved in the window, those with
    /// a deadline and those closed by it, those evaluated and satisfied; cases created today
    /// with the risks' and the hazards' tags; device alarms not cleared. Cases without a
    /// street or village count in the district only. Devices are the caller's (their health
    /// is kept in memory).
    pub async fn indicator_counts(&self, q: &IndicatorQuery<'_>) -> Result<CountsByRegion, StoreError> {
        type CaseCounts = (Option<String>, i32, i64, i64, i64, i64, i64, i64, i64, i64, i64);
        let rows: Vec<CaseCounts> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {REGION_OF_GROUP},
                 count(*) FILTER (WHERE created_at >= $2),
                 count(*) FILTER (WHERE status = ANY($4)),
                 count(*) FILTER (WHERE status = ANY($4) AND (overdue OR due_at <= $1)),
                 count(*) FILTER (WHERE status = ANY($5) AND due_at IS NOT NULL AND closed_at >= $3),
                 count(*) FILTER (WHERE status = ANY($5) AND due_at IS NOT NULL AND closed_at >= $3
                                    AND closed_at <= due_at),
                 count(*) FILTER (WHERE status = ANY($5) AND evaluation IS NOT NULL AND closed_at >= $3),
                 count(*) FILTER (WHERE status = ANY($5) AND closed_at >= $3
                                    AND evaluation -> 'verdict' = '\"satisfied\"'::jsonb),
                 count(*) FILTER (WHERE created_at >= $2 AND $6::text = ANY(tags)),
                 count(*) FILTER (WHERE created_at >= $2 AND $7::text = ANY(tags))
             FROM cases
             WHERE created_at >= $2 OR status = ANY($4) OR closed_at >= $3
             {REGION_GROUPS}"
        )))
        .bind(q.now)
        .bind(q.day_start)
        .bind(q.window_start)
        .bind(q.open)
        .bind(q.resolved)
        .bind(q.risk_tag)
        .bind(q.hazard_tag)
        .fetch_all(&self.pool)
        .await?;
        let mut out = CountsByRegion::new();
        let n = |v: i64| u64::try_from(v).unwrap_or(0);
        for (
            code,
            grouping,
            created_today,
            open,
            overdue,
            with_deadline,
            on_time,
            evaluated,
            satisfied,
            risks,
            hazards,
        ) in rows
        {
            // A street-level group of cases without a street (or village) is no region.
            if grouping != 3 && code.is_none() {
                continue;
            }
            let counts = out.entry(code).or_default();
            counts.created_today = n(created_today);
            counts.open = n(open);
            counts.overdue = n(overdue);
            counts.with_deadline = n(with_deadline);
            counts.on_time = n(on_time);
            counts.evaluated = n(evaluated);
            counts.satisfied = n(satisfied);
            counts.risks_today = n(risks);
            counts.hazards_today = n(hazards);
        }
        let alarms: Vec<(Option<String>, i32, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {REGION_OF_GROUP}, count(*) FROM alarms WHERE state <> 'cleared' {REGION_GROUPS}"
        )))
        .fetch_all(&self.pool)
        .await?;
        for (code, grouping, active) in alarms {
            if grouping != 3 && code.is_none() {
                continue;
            }
            out.entry(code).or_default().active_alarms = n(active);
        }
        Ok(out)
    }
}

impl Store {
    /// The cases created since `since` per region at every level and status: (region
    /// code, level, status, count), by code and status.
    pub async fn cases_by_region_since(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Vec<(String, String, String, i64)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT x.code, x.level, c.status, count(*)
             FROM cases c
             CROSS JOIN LATERAL (VALUES ('street', c.street_code), ('village', c.village_code), ('grid', c.grid_code))
                 AS x(level, code)
             WHERE x.code IS NOT NULL AND c.created_at >= $1
             GROUP BY x.code, x.level, c.status ORDER BY x.code, c.status",
        )
        .bind(since)
        .fetch_all(&self.pool)
        .await?)
    }
}
