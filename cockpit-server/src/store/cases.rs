//! The `cases`, `case_timeline` and `case_alarms` tables.

use chrono::{DateTime, Utc};
use cockpit_events::{CaseId, CaseState, Status, TimelineEntry};
use serde_json::Value;
use sqlx::{AssertSqlSafe, FromRow, PgConnection, Postgres, QueryBuilder};

use super::{Store, StoreError};

/// A case as stored: one field per column (location as lon/lat).
#[allow(missing_docs)] // One field per column or setting; see migrations/0001_cases.sql and the config.
#[derive(Debug, Clone, FromRow)]
pub struct CaseRow {
    pub id: i64,
    pub source_id: String,
    pub source_ref: Option<String>,
    pub category: String,
    pub urgency: String,
    pub tags: Vec<String>,
    pub title: String,
    pub description: String,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub outside_district: bool,
    pub street_code: Option<String>,
    pub village_code: Option<String>,
    pub grid_code: Option<String>,
    pub address: Option<String>,
    pub reporter: Option<Value>,
    pub occurred_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub status: String,
    pub assignee: Option<Value>,
    pub dispatch_rule: Option<String>,
    pub leaders: Vec<String>,
    pub evaluation: Option<Value>,
    pub duplicate_of: Option<i64>,
    pub deadline_limit: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub warn_at: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
    pub warned: bool,
    pub overdue: bool,
    pub closed_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

const CASE_COLUMNS: &str = "id, source_id, source_ref, category, urgency, tags, title, description,
    ST_X(location) AS lon, ST_Y(location) AS lat, outside_district, street_code, village_code, grid_code,
    address, reporter, occurred_at, created_at, status, assignee, dispatch_rule, leaders, evaluation,
    duplicate_of, deadline_limit, started_at, warn_at, due_at, warned, overdue, closed_at, updated_at";

impl CaseRow {
    /// The lifecycle part, as the state machine sees it.
    pub fn state(&self) -> Result<CaseState, StoreError> {
        let corrupt =
            |what: &str, e: &dyn std::fmt::Display| StoreError::Corrupt(format!("case {}: {what}: {e}", self.id));
        Ok(CaseState {
            status: Status::parse(&self.status).ok_or_else(|| corrupt("status", &self.status))?,
            assignee: self
                .assignee
                .clone()
                .map(serde_json::from_value)
                .transpose()
                .map_err(|e| corrupt("assignee", &e))?,
            dispatch_rule: self.dispatch_rule.clone().map(cockpit_events::RuleId),
            leaders: self.leaders.iter().cloned().map(cockpit_events::UserId).collect(),
            evaluation: self
                .evaluation
                .clone()
                .map(serde_json::from_value)
                .transpose()
                .map_err(|e| corrupt("evaluation", &e))?,
        })
    }
}

/// A timeline row.
#[allow(missing_docs)] // One field per column or setting; see migrations/0001_cases.sql and the config.
#[derive(Debug, Clone, FromRow)]
pub struct TimelineRow {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor_user: String,
    pub actor_role: String,
    pub action: Option<String>,
    pub from_status: Option<String>,
    pub to_status: String,
    pub content: String,
    pub attachments: Value,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
}

/// Everything a new case row needs.
#[allow(missing_docs)] // One field per column or setting; see migrations/0001_cases.sql and the config.
#[derive(Debug, Clone)]
pub struct InsertCase {
    pub source_id: String,
    pub source_ref: Option<String>,
    pub category: String,
    pub urgency: String,
    pub tags: Vec<String>,
    pub title: String,
    pub description: String,
    /// WGS84.
    pub location: Option<(f64, f64)>,
    pub outside_district: bool,
    pub street_code: Option<String>,
    pub village_code: Option<String>,
    pub grid_code: Option<String>,
    pub address: Option<String>,
    pub reporter: Option<Value>,
    pub occurred_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    /// The lifecycle state it starts in (after automatic dispatch, when a rule matched).
    pub state: CaseState,
    /// Its first timeline entries (intake, and automatic dispatch), in order.
    pub timeline: Vec<TimelineEntry>,
    pub duplicate_of: Option<i64>,
    pub deadline_limit: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub warn_at: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
}

/// Filters for the case list; every field narrows it.
#[allow(missing_docs)] // One field per column or setting; see migrations/0001_cases.sql and the config.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    /// A region code at any level (the district's code matches every case inside it).
    pub region: Option<String>,
    pub statuses: Vec<String>,
    /// A category code or prefix.
    pub category: Option<String>,
    pub tag: Option<String>,
    pub source: Option<String>,
    pub urgency: Option<String>,
    pub overdue: Option<bool>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
    /// A substring of the title or description (Chinese works: trigram index).
    pub keyword: Option<String>,
    /// Within `metres` of a WGS84 point (geodesic).
    pub near: Option<(f64, f64, f64)>,
    /// Inside a WGS84 box: west, south, east, north.
    pub bbox: Option<(f64, f64, f64, f64)>,
    /// Keyset pagination: only cases with an id below this one (newest first).
    pub before_id: Option<i64>,
    pub limit: i64,
}

impl Store {
    /// Inserts a case with its first timeline entries, in one statement (so one commit),
    /// unless the source already delivered one with the same reference. Returns the new
    /// row, or the id of the one delivered before.
    pub async fn create_case(&self, case: &InsertCase) -> Result<Result<CaseRow, CaseId>, StoreError> {
        let t = &case.timeline;
        let inserted: Option<CaseRow> = sqlx::query_as(AssertSqlSafe(format!(
            "WITH c AS (
                 INSERT INTO cases (source_id, source_ref, category, urgency, tags, title, description, location,
                     outside_district, street_code, village_code, grid_code, address, reporter, occurred_at,
                     created_at, status, assignee, dispatch_rule, duplicate_of, deadline_limit, started_at, warn_at,
                     due_at, next_alarm_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7,
                     CASE WHEN $8::float8 IS NULL THEN NULL ELSE ST_SetSRID(ST_MakePoint($8, $9), 4326) END,
                     $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $25, $17)
                 ON CONFLICT (source_id, source_ref) DO NOTHING
                 RETURNING {CASE_COLUMNS}),
             t AS (
                 INSERT INTO case_timeline (case_id, at, actor_user, actor_role, action, from_status, to_status, content)
                 SELECT c.id, e.at, e.actor_user, e.actor_role, e.action, e.from_status, e.to_status, e.content
                 FROM c, unnest($26::timestamptz[], $27::text[], $28::text[], $29::text[], $30::text[], $31::text[],
                     $32::text[]) WITH ORDINALITY AS e(at, actor_user, actor_role, action, from_status, to_status,
                     content, n)
                 ORDER BY e.n)
             SELECT * FROM c"
        )))
        .bind(&case.source_id)
        .bind(&case.source_ref)
        .bind(&case.category)
        .bind(&case.urgency)
        .bind(&case.tags)
        .bind(&case.title)
        .bind(&case.description)
        .bind(case.location.map(|l| l.0))
        .bind(case.location.map(|l| l.1))
        .bind(case.outside_district)
        .bind(&case.street_code)
        .bind(&case.village_code)
        .bind(&case.grid_code)
        .bind(&case.address)
        .bind(&case.reporter)
        .bind(case.occurred_at)
        .bind(case.created_at)
        .bind(case.state.status.as_str())
        .bind(case.state.assignee.as_ref().map(|a| serde_json::to_value(a).unwrap_or(Value::Null)))
        .bind(case.state.dispatch_rule.as_ref().map(|r| r.as_str().to_string()))
        .bind(case.duplicate_of)
        .bind(&case.deadline_limit)
        .bind(case.started_at)
        .bind(case.warn_at)
        .bind(case.due_at)
        .bind(t.iter().map(|e| e.at).collect::<Vec<_>>())
        .bind(t.iter().map(|e| e.actor.user.as_str().to_string()).collect::<Vec<_>>())
        .bind(t.iter().map(|e| e.actor.role.as_str().to_string()).collect::<Vec<_>>())
        .bind(t.iter().map(|e| e.action.map(|a| a.as_str().to_string())).collect::<Vec<_>>())
        .bind(t.iter().map(|e| e.from.map(|s| s.as_str().to_string())).collect::<Vec<_>>())
        .bind(t.iter().map(|e| e.to.as_str().to_string()).collect::<Vec<_>>())
        .bind(t.iter().map(|e| e.content.clone()).collect::<Vec<_>>())
        .fetch_optional(&self.pool)
        .await?;
        if let Some(row) = inserted {
            return Ok(Ok(row));
        }
        let (id,): (i64,) = sqlx::query_as("SELECT id FROM cases WHERE source_id = $1 AND source_ref = $2")
            .bind(&case.source_id)
            .bind(&case.source_ref)
            .fetch_one(&self.pool)
            .await?;
        Ok(Err(CaseId(id)))
    }

    /// Appends a timeline entry.
    pub async fn insert_timeline(tx: &mut PgConnection, case: CaseId, entry: &TimelineEntry) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO case_timeline (case_id, at, actor_user, actor_role, action, from_status, to_status, content,
                 attachments, position)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,
                 CASE WHEN $10::float8 IS NULL THEN NULL ELSE ST_SetSRID(ST_MakePoint($10, $11), 4326) END)",
        )
        .bind(case.0)
        .bind(entry.at)
        .bind(entry.actor.user.as_str())
        .bind(entry.actor.role.as_str())
        .bind(entry.action.map(|a| a.as_str()))
        .bind(entry.from.map(|s| s.as_str()))
        .bind(entry.to.as_str())
        .bind(&entry.content)
        .bind(serde_json::to_value(&entry.attachments).unwrap_or(Value::Array(Vec::new())))
        .bind(entry.position.map(|p| p.lon))
        .bind(entry.position.map(|p| p.lat))
        .execute(&mut *tx)
        .await?;
        Ok(())
    }

    /// Reads a case and locks its row until the transaction ends.
    pub async fn case_for_update(tx: &mut PgConnection, id: CaseId) -> Result<Option<CaseRow>, StoreError> {
        Ok(sqlx::query_as(AssertSqlSafe(format!("SELECT {CASE_COLUMNS} FROM cases WHERE id = $1 FOR UPDATE")))
            .bind(id.0)
            .fetch_optional(&mut *tx)
            .await?)
    }

    /// Writes a new lifecycle state. Closing stops the deadline clock and its alarms.
    pub async fn update_state(
        tx: &mut PgConnection,
        id: CaseId,
        state: &CaseState,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let closed = !state.status.is_open() && state.status != Status::Submitted;
        sqlx::query(
            "UPDATE cases SET status = $2, assignee = $3, dispatch_rule = $4, leaders = $5, evaluation = $6,
                 closed_at = CASE WHEN $7 THEN COALESCE(closed_at, $8) ELSE NULL END,
                 next_alarm_at = CASE WHEN $7 THEN NULL ELSE next_alarm_at END,
                 updated_at = $8
             WHERE id = $1",
        )
        .bind(id.0)
        .bind(state.status.as_str())
        .bind(state.assignee.as_ref().map(|a| serde_json::to_value(a).unwrap_or(Value::Null)))
        .bind(state.dispatch_rule.as_ref().map(|r| r.as_str().to_string()))
        .bind(state.leaders.iter().map(|l| l.as_str().to_string()).collect::<Vec<_>>())
        .bind(state.evaluation.as_ref().map(|e| serde_json::to_value(e).unwrap_or(Value::Null)))
        .bind(closed)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        Ok(())
    }

    /// One case.
    pub async fn case(&self, id: CaseId) -> Result<Option<CaseRow>, StoreError> {
        Ok(sqlx::query_as(AssertSqlSafe(format!("SELECT {CASE_COLUMNS} FROM cases WHERE id = $1")))
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// A case's timeline, oldest first.
    pub async fn timeline(&self, id: CaseId) -> Result<Vec<TimelineRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, at, actor_user, actor_role, action, from_status, to_status, content, attachments,
                 ST_X(position) AS lon, ST_Y(position) AS lat
             FROM case_timeline WHERE case_id = $1 ORDER BY id",
        )
        .bind(id.0)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Open cases of a category created since `since` within `metres` of a point: the
    /// candidates for duplicate detection.
    pub async fn open_cases_near(
        &self,
        category: &str,
        (lon, lat): (f64, f64),
        metres: f64,
        since: DateTime<Utc>,
    ) -> Result<Vec<(i64, f64, f64, DateTime<Utc>)>, StoreError> {
        Ok(sqlx::query_as(
            // The spatial condition runs first, on its own, so that the geography index
            // answers it; planned together, a fresh table's statistics can send the planner
            // down the category index and a distance computed for every open case.
            "WITH near AS MATERIALIZED (
                 SELECT id, location, category, status, occurred_at, closed_at, duplicate_of FROM cases
                 WHERE ST_DWithin(location::geography, ST_SetSRID(ST_MakePoint($2, $3), 4326)::geography, $4))
             SELECT id, ST_X(location), ST_Y(location), occurred_at FROM near
             WHERE category = $1 AND closed_at IS NULL AND duplicate_of IS NULL
               AND status IN ('new', 'dispatched', 'accepted', 'in_progress', 'handled')
               AND occurred_at >= $5",
        )
        .bind(category)
        .bind(lon)
        .bind(lat)
        .bind(metres)
        .bind(since)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Cases matching `filter`, newest first.
    pub async fn cases(&self, filter: &CaseFilter) -> Result<Vec<CaseRow>, StoreError> {
        let mut q: QueryBuilder<Postgres> = QueryBuilder::new(format!("SELECT {CASE_COLUMNS} FROM cases WHERE true"));
        push_filter(&mut q, filter);
        if let Some(before) = filter.before_id {
            q.push(" AND id < ").push_bind(before);
        }
        q.push(" ORDER BY id DESC LIMIT ").push_bind(filter.limit);
        Ok(q.build_query_as().fetch_all(&self.pool).await?)
    }
}

/// Appends the filter's conditions (shared by the list, the statistics and the exports).
pub(crate) fn push_filter(q: &mut QueryBuilder<Postgres>, f: &CaseFilter) {
    if let Some(region) = &f.region {
        q.push(" AND (street_code = ").push_bind(region.clone());
        q.push(" OR village_code = ").push_bind(region.clone());
        q.push(" OR grid_code = ").push_bind(region.clone());
        q.push(" OR (NOT outside_district AND EXISTS (SELECT 1 FROM regions r WHERE r.code = ")
            .push_bind(region.clone())
            .push(" AND r.level = 'district')))");
    }
    if !f.statuses.is_empty() {
        q.push(" AND status = ANY(").push_bind(f.statuses.clone()).push(")");
    }
    if let Some(category) = &f.category {
        q.push(" AND category LIKE ").push_bind(format!("{}%", escape_like(category)));
    }
    if let Some(tag) = &f.tag {
        q.push(" AND ").push_bind(tag.clone()).push(" = ANY(tags)");
    }
    if let Some(source) = &f.source {
        q.push(" AND source_id = ").push_bind(source.clone());
    }
    if let Some(urgency) = &f.urgency {
        q.push(" AND urgency = ").push_bind(urgency.clone());
    }
    if let Some(overdue) = f.overdue {
        q.push(" AND overdue = ").push_bind(overdue);
    }
    if let Some(from) = f.created_from {
        q.push(" AND created_at >= ").push_bind(from);
    }
    if let Some(to) = f.created_to {
        q.push(" AND created_at < ").push_bind(to);
    }
    if let Some(keyword) = &f.keyword {
        q.push(" AND (title || ' ' || description) LIKE ").push_bind(format!("%{}%", escape_like(keyword)));
    }
    if let Some((lon, lat, metres)) = f.near {
        q.push(" AND ST_DWithin(location::geography, ST_SetSRID(ST_MakePoint(")
            .push_bind(lon)
            .push(", ")
            .push_bind(lat)
            .push("), 4326)::geography, ")
            .push_bind(metres)
            .push(")");
    }
    if let Some((w, s, e, n)) = f.bbox {
        q.push(" AND location && ST_MakeEnvelope(")
            .push_bind(w)
            .push(", ")
            .push_bind(s)
            .push(", ")
            .push_bind(e)
            .push(", ")
            .push_bind(n)
            .push(", 4326)");
    }
}

fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

impl Store {
    /// Starts the deadline clock again (or clears it when the category has no limit).
    pub async fn restart_deadline(
        tx: &mut PgConnection,
        id: CaseId,
        deadline: Option<&cockpit_events::Deadline>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE cases SET deadline_limit = $2, started_at = $3, warn_at = $4, due_at = $5, next_alarm_at = $5,
                 warned = false, overdue = false
             WHERE id = $1",
        )
        .bind(id.0)
        .bind(deadline.map(|d| serde_json::to_string(&d.limit).unwrap_or_default()))
        .bind(deadline.map(|d| d.started_at))
        .bind(deadline.map(|d| d.warn_at))
        .bind(deadline.map(|d| d.due_at))
        .execute(&mut *tx)
        .await?;
        Ok(())
    }
}
