//! The `cases`, `case_timeline` and `case_alarms` tables.

use chrono::{DateTime, Utc};
use cockpit_events::{CaseId, CaseState, Status, TimelineEntry};
use serde_json::Value;
use sqlx::{AssertSqlSafe, FromRow, PgConnection};

mod create;
mod filter;

pub use create::{InsertCase, Lookup, NearCase, NearQuery};
pub use filter::{Assigned, CaseFilter, CaseScope, CaseSort};
pub(crate) use filter::{push_filter, push_scope};

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
    /// The reporter's personal data, masked (the sealed original is read only to unmask).
    pub reporter_masked: Option<Value>,
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
    address, reporter_masked, occurred_at, created_at, status, assignee, dispatch_rule, leaders, evaluation,
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

impl Store {
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

    /// Reads a case and locks its row until the transaction ends: against other changes
    /// of the case, not against references to it (`FOR NO KEY UPDATE`). A duplicate's
    /// insert checks its `duplicate_of` after taking the live log's counter; a change of the
    /// case takes the counter after this lock: `FOR UPDATE` made the two wait for each other.
    pub async fn case_for_update(tx: &mut PgConnection, id: CaseId) -> Result<Option<CaseRow>, StoreError> {
        Ok(sqlx::query_as(AssertSqlSafe(format!("SELECT {CASE_COLUMNS} FROM cases WHERE id = $1 FOR NO KEY UPDATE")))
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

    /// The sealed personal data of a case's reporter.
    pub async fn reporter_sealed(&self, id: CaseId) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(sqlx::query_scalar("SELECT reporter_sealed FROM cases WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?
            .flatten())
    }

    /// The cases of `ids` that exist.
    pub async fn cases_by_ids(&self, ids: &[i64]) -> Result<Vec<CaseRow>, StoreError> {
        Ok(sqlx::query_as(AssertSqlSafe(format!("SELECT {CASE_COLUMNS} FROM cases WHERE id = ANY($1)")))
            .bind(ids)
            .fetch_all(&self.pool)
            .await?)
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
}

/// The live log entry of a change to case `id` (`change`: `created` or the action), tagged
/// with the case's regions and assignee for the viewers' scopes.
pub fn live_entry(id: i64, change: &str, row: &CaseRow, assignee: Option<Value>) -> crate::live_log::NewEntry {
    crate::live_log::NewEntry {
        channel: cockpit_live::Channel::Cases,
        key: format!("case:{id}"),
        regions: [&row.street_code, &row.village_code, &row.grid_code].into_iter().flatten().cloned().collect(),
        position: row.lon.zip(row.lat),
        layer: None,
        assignee,
        payload: serde_json::json!({"id": id, "change": change}),
    }
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
