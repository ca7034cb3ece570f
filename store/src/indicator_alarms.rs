//! The `indicator_alarm_states` and `indicator_alarms` tables: where each indicator stands in
//! each region, and its alarm episodes. A step (the state after a value, and what it did to
//! the episode) is one transaction, a compare-and-set on the state's version: of two
//! instances stepping one pair at once, one writes and the other reads again. One episode is
//! open per pair at most (a partial unique index); a red one wants one case, which the
//! opener fills in.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};
use sqlx::{FromRow, PgConnection};

use crate::live_log::{self, NewEntry};
use crate::{AuditEntry, Store, StoreError};

/// An alarm episode.
#[allow(missing_docs)] // One field per column; see migrations/0017_indicator_alarms.sql.
#[derive(Debug, Clone, PartialEq, FromRow, Serialize)]
pub struct IndicatorAlarmRow {
    pub id: i64,
    pub indicator: String,
    pub region: String,
    pub level: String,
    pub peak: String,
    pub value: f64,
    pub measure: f64,
    pub opened_at: DateTime<Utc>,
    pub changed_at: DateTime<Utc>,
    pub cleared_at: Option<DateTime<Utc>>,
    pub acknowledged_by: Option<String>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub case_wanted: Option<Value>,
    pub case_after: Option<DateTime<Utc>>,
    pub case_id: Option<i64>,
    pub cleared_by: Option<String>,
    #[serde(skip)]
    pub live_regions: Vec<String>,
}

const COLUMNS: &str = "id, indicator, region, level, peak, value, measure, opened_at, changed_at, cleared_at, \
    acknowledged_by, acknowledged_at, case_wanted, case_after, case_id, cleared_by, live_regions";

/// The case a red episode wants: its words, and when it may be opened.
#[derive(Debug, Clone, PartialEq)]
pub struct WantedCase {
    /// What the opener needs (title, description, category, ...), as the caller writes it.
    pub words: Value,
    /// Not before this (the end of a do-not-disturb window, or now).
    pub after: DateTime<Utc>,
}

/// What a step did to the pair's episode.
#[derive(Debug, Clone, PartialEq)]
pub enum EpisodeChange {
    /// An episode opens at `level`.
    Open {
        /// `yellow` or `red`.
        level: &'static str,
        /// The value and the measure compared.
        value: f64,
        /// The measure compared with the levels.
        measure: f64,
        /// When.
        at: DateTime<Utc>,
        /// The case, for a red one.
        case: Option<WantedCase>,
        /// The street, village and grid codes whose live subscriptions see it.
        live_regions: Vec<String>,
    },
    /// The open episode moves to `level` (a case given is kept only if none is wanted yet).
    Change {
        /// `yellow` or `red`.
        level: &'static str,
        /// The value.
        value: f64,
        /// The measure compared with the levels.
        measure: f64,
        /// When.
        at: DateTime<Utc>,
        /// The case, for red.
        case: Option<WantedCase>,
    },
    /// The open episode ends.
    Clear {
        /// The value.
        value: f64,
        /// The measure compared with the levels.
        measure: f64,
        /// When.
        at: DateTime<Utc>,
        /// Why: `value`, `edit` or `disabled` (migrations/0023_indicator_alarm_cleared_by.sql).
        by: &'static str,
    },
}

/// One step of a pair: the state after a value, written only over the version read.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmStep {
    /// The indicator.
    pub indicator: String,
    /// The region.
    pub region: String,
    /// The state's version as read; `None`: it had none.
    pub read_version: Option<i64>,
    /// The state after the value.
    pub state: Value,
    /// What happened to the episode.
    pub episode: Option<EpisodeChange>,
}

/// How a step went.
#[derive(Debug, Clone, PartialEq)]
pub enum Stepped {
    /// Another step wrote the state first: read it again.
    Conflict,
    /// Written; the episode as it is now, if the step changed one.
    Written(Option<Box<IndicatorAlarmRow>>),
}

/// Which alarms a list shows; every condition given must hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IndicatorAlarmFilter {
    /// The caller's region scope: alarms of regions within it (a code prefix).
    pub scope: String,
    /// Open (`true`) or cleared.
    pub open: Option<bool>,
    /// At this level (now, or when it cleared).
    pub level: Option<String>,
    /// Acknowledged or not.
    pub acknowledged: Option<bool>,
    /// Of this indicator.
    pub indicator: Option<String>,
    /// In this region or within it.
    pub region: Option<String>,
    /// Newest first: at most this many, after skipping `offset`.
    pub limit: i64,
    /// Skipped.
    pub offset: i64,
}

fn live(row: &IndicatorAlarmRow) -> NewEntry {
    NewEntry {
        channel: cockpit_live::Channel::Indicators,
        key: format!("alarm:{}:{}", row.indicator, row.region),
        regions: row.live_regions.clone(),
        position: None,
        layer: None,
        assignee: None,
        payload: json!({"alarm": row}),
    }
}

impl Store {
    /// The state of `indicator` in `region` and its version, if it has one.
    pub async fn indicator_alarm_state(
        &self,
        indicator: &str,
        region: &str,
    ) -> Result<Option<(Value, i64)>, StoreError> {
        Ok(sqlx::query_as("SELECT state, version FROM indicator_alarm_states WHERE indicator = $1 AND region = $2")
            .bind(indicator)
            .bind(region)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Writes `step` in one transaction, if the state is still at the version read: the
    /// state, the episode's change and its live entry.
    pub async fn step_indicator_alarm(&self, step: &AlarmStep) -> Result<Stepped, StoreError> {
        let mut tx = self.pool.begin().await?;
        let written = match step.read_version {
            None => sqlx::query(
                "INSERT INTO indicator_alarm_states (indicator, region, state, version) VALUES ($1, $2, $3, 1)
                 ON CONFLICT DO NOTHING",
            ),
            Some(_) => sqlx::query(
                "UPDATE indicator_alarm_states SET state = $3, version = version + 1
                 WHERE indicator = $1 AND region = $2 AND version = $4",
            ),
        }
        .bind(&step.indicator)
        .bind(&step.region)
        .bind(&step.state)
        .bind(step.read_version)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if written == 0 {
            return Ok(Stepped::Conflict);
        }
        let row = match &step.episode {
            None => None,
            Some(change) => Some(episode(&mut tx, &step.indicator, &step.region, change).await?),
        };
        if let Some(row) = &row {
            live_log::append(&mut tx, &[live(row)]).await?;
        }
        tx.commit().await?;
        Ok(Stepped::Written(row.map(Box::new)))
    }

    /// Alarms matching `filter`, newest first, and how many match in all.
    pub async fn indicator_alarms(
        &self,
        f: &IndicatorAlarmFilter,
    ) -> Result<(Vec<IndicatorAlarmRow>, i64), StoreError> {
        let filter = "WHERE starts_with(region, $1) AND ($2::bool IS NULL OR (cleared_at IS NULL) = $2)
                 AND ($3::text IS NULL OR level = $3) AND ($4::bool IS NULL OR (acknowledged_at IS NOT NULL) = $4)
                 AND ($5::text IS NULL OR indicator = $5) AND ($6::text IS NULL OR starts_with(region, $6))";
        let rows = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM indicator_alarms {filter} ORDER BY opened_at DESC, id DESC LIMIT $7 OFFSET $8"
        )))
        .bind(&f.scope)
        .bind(f.open)
        .bind(&f.level)
        .bind(f.acknowledged)
        .bind(&f.indicator)
        .bind(&f.region)
        .bind(f.limit)
        .bind(f.offset)
        .fetch_all(&self.pool)
        .await?;
        let (total,): (i64,) =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM indicator_alarms {filter}")))
                .bind(&f.scope)
                .bind(f.open)
                .bind(&f.level)
                .bind(f.acknowledged)
                .bind(&f.indicator)
                .bind(&f.region)
                .fetch_one(&self.pool)
                .await?;
        Ok((rows, total))
    }

    /// Alarm `id`, if it lies within `scope`.
    pub async fn indicator_alarm(&self, id: i64, scope: &str) -> Result<Option<IndicatorAlarmRow>, StoreError> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM indicator_alarms WHERE id = $1 AND starts_with(region, $2)"
        )))
        .bind(id)
        .bind(scope)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Acknowledges alarm `id` within `scope` as `who`, with `audit`, in one transaction:
    /// the alarm and whether this call acknowledged it (false: it already was); `None`
    /// when there is no such alarm in scope.
    pub async fn acknowledge_indicator_alarm(
        &self,
        id: i64,
        scope: &str,
        who: &str,
        audit: AuditEntry,
    ) -> Result<Option<(IndicatorAlarmRow, bool)>, StoreError> {
        let now = Utc::now();
        let mut tx = self.pool.begin().await?;
        let changed: Option<IndicatorAlarmRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "UPDATE indicator_alarms SET acknowledged_by = $3, acknowledged_at = $4
             WHERE id = $1 AND starts_with(region, $2) AND acknowledged_at IS NULL RETURNING {COLUMNS}"
        )))
        .bind(id)
        .bind(scope)
        .bind(who)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = changed else {
            drop(tx);
            return Ok(self.indicator_alarm(id, scope).await?.map(|row| (row, false)));
        };
        Store::audit(&mut tx, now, &[audit]).await?;
        live_log::append(&mut tx, &[live(&row)]).await?;
        tx.commit().await?;
        Ok(Some((row, true)))
    }

    /// Alarms whose case may be opened by `now` and has not been: those still open at their
    /// `case_after` (an episode that ended inside a do-not-disturb window gets none).
    pub async fn indicator_alarms_wanting_cases(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<IndicatorAlarmRow>, StoreError> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM indicator_alarms
             WHERE case_wanted IS NOT NULL AND case_id IS NULL AND case_after <= $1
                 AND (cleared_at IS NULL OR cleared_at >= case_after)
             ORDER BY id"
        )))
        .bind(now)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Records the case opened for alarm `id`, with its live entry.
    pub async fn link_indicator_alarm_case(&self, id: i64, case: i64) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let row: Option<IndicatorAlarmRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "UPDATE indicator_alarms SET case_id = $2 WHERE id = $1 AND case_id IS NULL RETURNING {COLUMNS}"
        )))
        .bind(id)
        .bind(case)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(row) = row {
            live_log::append(&mut tx, &[live(&row)]).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// Applies `change` to the pair's episode in `tx`: the episode after it.
async fn episode(
    tx: &mut PgConnection,
    indicator: &str,
    region: &str,
    change: &EpisodeChange,
) -> Result<IndicatorAlarmRow, StoreError> {
    let q = match change {
        EpisodeChange::Open { level, value, measure, at, case, live_regions } => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "INSERT INTO indicator_alarms (indicator, region, level, peak, value, measure, opened_at, changed_at,
                     case_wanted, case_after, live_regions)
                 VALUES ($1, $2, $3, $3, $4, $5, $6, $6, $7, $8, $9) RETURNING {COLUMNS}"
            )))
            .bind(indicator)
            .bind(region)
            .bind(*level)
            .bind(value)
            .bind(measure)
            .bind(at)
            .bind(case.as_ref().map(|c| &c.words))
            .bind(case.as_ref().map(|c| c.after))
            .bind(live_regions)
        }
        EpisodeChange::Change { level, value, measure, at, case } => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "UPDATE indicator_alarms SET level = $3, peak = CASE WHEN $3 = 'red' THEN 'red' ELSE peak END,
                 value = $4, measure = $5, changed_at = $6,
                 case_wanted = COALESCE(case_wanted, $7), case_after = COALESCE(case_after, $8)
             WHERE indicator = $1 AND region = $2 AND cleared_at IS NULL RETURNING {COLUMNS}"
        )))
        .bind(indicator)
        .bind(region)
        .bind(*level)
        .bind(value)
        .bind(measure)
        .bind(at)
        .bind(case.as_ref().map(|c| &c.words))
        .bind(case.as_ref().map(|c| c.after)),
        EpisodeChange::Clear { value, measure, at, by } => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "UPDATE indicator_alarms SET value = $3, measure = $4, changed_at = $5, cleared_at = $5, cleared_by = $6
             WHERE indicator = $1 AND region = $2 AND cleared_at IS NULL RETURNING {COLUMNS}"
        )))
        .bind(indicator)
        .bind(region)
        .bind(value)
        .bind(measure)
        .bind(at)
        .bind(*by),
    };
    q.fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::Corrupt(format!("no open alarm of {indicator} in {region} to change")))
}

impl Store {
    /// The pairs whose state holds a change waiting for its minimum duration: indicator,
    /// region and state.
    pub async fn pending_indicator_alarm_states(&self) -> Result<Vec<(String, String, Value)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT indicator, region, state FROM indicator_alarm_states WHERE state -> 'pending' IS NOT NULL
             ORDER BY indicator, region",
        )
        .fetch_all(&self.pool)
        .await?)
    }
}
