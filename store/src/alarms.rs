//! Alarms: each step of an alarm's life as the IoT pipeline writes it (in its batch's
//! transaction), the lists and the acknowledgement, and the link to the case it opened.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{AssertSqlSafe, FromRow, PgConnection};

use super::{Store, StoreError};

/// A step of an alarm's life, as written.
#[derive(Debug, Clone)]
pub enum AlarmWrite {
    /// Raised: a new row (or, if one is open for the key, its peak moved).
    Raised(Box<RaisedAlarm>),
    /// A new peak.
    Peak {
        /// Device.
        device_id: String,
        /// Rule.
        rule_id: String,
        /// The value.
        value: f64,
        /// When.
        at: DateTime<Utc>,
    },
    /// Cleared.
    Cleared {
        /// Device.
        device_id: String,
        /// Rule.
        rule_id: String,
        /// The value that cleared it.
        value: f64,
        /// When.
        at: DateTime<Utc>,
    },
}

/// A new alarm.
#[allow(missing_docs)] // One field per column; see migrations/0007_telemetry.sql.
#[derive(Debug, Clone)]
pub struct RaisedAlarm {
    pub device_id: String,
    pub rule_id: String,
    pub severity: &'static str,
    pub metric: &'static str,
    pub raised_at: DateTime<Utc>,
    pub raised_value: f64,
    pub street_code: Option<String>,
    pub village_code: Option<String>,
    pub grid_code: Option<String>,
    pub storm_id: Option<String>,
    /// The case to open: `{"category", "urgency", "title", "source_ref"}`.
    pub case_wanted: Option<Value>,
}

/// An alarm as stored.
#[allow(missing_docs)] // One field per column; see migrations/0007_telemetry.sql.
#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct AlarmRow {
    pub id: i64,
    pub device_id: String,
    pub rule_id: String,
    pub severity: String,
    pub metric: String,
    pub state: String,
    pub raised_at: DateTime<Utc>,
    pub raised_value: f64,
    pub peak_value: f64,
    pub peak_at: DateTime<Utc>,
    pub acknowledged_by: Option<String>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub cleared_at: Option<DateTime<Utc>>,
    pub cleared_value: Option<f64>,
    pub street_code: Option<String>,
    pub village_code: Option<String>,
    pub grid_code: Option<String>,
    pub storm_id: Option<String>,
    pub case_id: Option<i64>,
    pub case_closed_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

const ALARM_COLUMNS: &str = "id, device_id, rule_id, severity, metric, state, raised_at, raised_value, peak_value,
    peak_at, acknowledged_by, acknowledged_at, cleared_at, cleared_value, street_code, village_code, grid_code,
    storm_id, case_id, case_closed_at, updated_at";

/// Filters for the alarm list.
#[derive(Debug, Clone, Default)]
pub struct AlarmFilter {
    /// Only alarms not cleared.
    pub open_only: bool,
    /// One device.
    pub device: Option<String>,
    /// A region code at any level.
    pub region: Option<String>,
    /// What the caller may see.
    pub scope: super::CaseScope,
    /// Page size.
    pub limit: i64,
}

impl Store {
    /// Writes one step of an alarm's life; the alarm's id.
    pub async fn write_alarm(tx: &mut PgConnection, write: &AlarmWrite) -> Result<Option<i64>, StoreError> {
        let id = match write {
            AlarmWrite::Raised(a) => {
                sqlx::query_scalar(
                    "INSERT INTO alarms AS x (device_id, rule_id, severity, metric, state, raised_at, raised_value,
                         peak_value, peak_at, street_code, village_code, grid_code, storm_id, case_wanted)
                     VALUES ($1, $2, $3, $4, 'active', $5, $6, $6, $5, $7, $8, $9, $10, $11)
                     ON CONFLICT (device_id, rule_id) WHERE state <> 'cleared' DO UPDATE
                         SET peak_value = greatest(x.peak_value, EXCLUDED.peak_value), updated_at = now()
                     RETURNING id",
                )
                .bind(&a.device_id)
                .bind(&a.rule_id)
                .bind(a.severity)
                .bind(a.metric)
                .bind(a.raised_at)
                .bind(a.raised_value)
                .bind(&a.street_code)
                .bind(&a.village_code)
                .bind(&a.grid_code)
                .bind(&a.storm_id)
                .bind(&a.case_wanted)
                .fetch_optional(&mut *tx)
                .await?
            }
            AlarmWrite::Peak { device_id, rule_id, value, at } => {
                sqlx::query_scalar(
                    "UPDATE alarms SET peak_value = $3, peak_at = $4, updated_at = now()
                     WHERE device_id = $1 AND rule_id = $2 AND state <> 'cleared' RETURNING id",
                )
                .bind(device_id)
                .bind(rule_id)
                .bind(value)
                .bind(at)
                .fetch_optional(&mut *tx)
                .await?
            }
            AlarmWrite::Cleared { device_id, rule_id, value, at } => {
                sqlx::query_scalar(
                    "UPDATE alarms SET state = 'cleared', cleared_at = $4, cleared_value = $3, updated_at = now()
                     WHERE device_id = $1 AND rule_id = $2 AND state <> 'cleared' RETURNING id",
                )
                .bind(device_id)
                .bind(rule_id)
                .bind(value)
                .bind(at)
                .fetch_optional(&mut *tx)
                .await?
            }
        };
        Ok(id)
    }

    /// Marks an open alarm acknowledged; the alarm, if it was open.
    pub async fn acknowledge_alarm(
        tx: &mut PgConnection,
        id: i64,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<Option<AlarmRow>, StoreError> {
        Ok(sqlx::query_as(AssertSqlSafe(format!(
            "UPDATE alarms SET state = 'acknowledged', acknowledged_by = $2, acknowledged_at = $3, updated_at = now()
             WHERE id = $1 AND state = 'active' RETURNING {ALARM_COLUMNS}"
        )))
        .bind(id)
        .bind(by)
        .bind(at)
        .fetch_optional(&mut *tx)
        .await?)
    }

    /// Alarms not cleared: the rule engine's state at start.
    pub async fn open_alarms(&self) -> Result<Vec<AlarmRow>, StoreError> {
        Ok(sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {ALARM_COLUMNS} FROM alarms WHERE state <> 'cleared' ORDER BY id"
        )))
        .fetch_all(&self.pool)
        .await?)
    }

    /// One alarm, if the scope lets its caller see it.
    pub async fn alarm_in(&self, id: i64, scope: &super::CaseScope) -> Result<Option<AlarmRow>, StoreError> {
        let mut q = sqlx::QueryBuilder::new(format!("SELECT {ALARM_COLUMNS} FROM alarms WHERE id = "));
        q.push_bind(id);
        super::cases::push_scope(&mut q, scope);
        Ok(q.build_query_as().fetch_optional(&self.pool).await?)
    }

    /// Alarms matching `filter`, newest first.
    pub async fn alarms(&self, filter: &AlarmFilter) -> Result<Vec<AlarmRow>, StoreError> {
        let mut q = sqlx::QueryBuilder::new(format!("SELECT {ALARM_COLUMNS} FROM alarms WHERE true"));
        super::cases::push_scope(&mut q, &filter.scope);
        if filter.open_only {
            q.push(" AND state <> 'cleared'");
        }
        if let Some(device) = &filter.device {
            q.push(" AND device_id = ").push_bind(device.clone());
        }
        if let Some(region) = &filter.region {
            q.push(" AND (street_code = ").push_bind(region.clone());
            q.push(" OR village_code = ").push_bind(region.clone());
            q.push(" OR grid_code = ").push_bind(region.clone()).push(")");
        }
        q.push(" ORDER BY raised_at DESC, id DESC LIMIT ").push_bind(filter.limit);
        Ok(q.build_query_as().fetch_all(&self.pool).await?)
    }

    /// Alarms waiting for their case: (id, what to open).
    pub async fn alarms_wanting_cases(&self) -> Result<Vec<(i64, String, Value)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, device_id, case_wanted FROM alarms WHERE case_wanted IS NOT NULL AND case_id IS NULL ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// Camera detections that want a case and have none yet: (id, device, what case).
    pub async fn events_wanting_cases(&self) -> Result<Vec<(i64, String, Value)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, device_id, case_wanted FROM device_events
             WHERE case_wanted IS NOT NULL AND case_id IS NULL ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// Records the case opened for a camera detection.
    pub async fn link_event_case(&self, event: i64, case: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE device_events SET case_id = $2 WHERE id = $1")
            .bind(event)
            .bind(case)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Records the case opened for an alarm.
    pub async fn link_alarm_case(&self, alarm: i64, case: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE alarms SET case_id = $2, updated_at = now() WHERE id = $1")
            .bind(alarm)
            .bind(case)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Records on its alarms that a case was closed (in the closing transaction).
    pub async fn close_alarms_of_case(tx: &mut PgConnection, case: i64, at: DateTime<Utc>) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE alarms SET case_closed_at = $2, updated_at = now() WHERE case_id = $1 AND case_closed_at IS NULL",
        )
        .bind(case)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        Ok(())
    }
}
