//! Telemetry, device events and statuses, and alarms: what the IoT pipeline writes, in
//! batches, each batch in one transaction.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;
use sqlx::{AssertSqlSafe, FromRow, PgConnection};

use super::{Store, StoreError};

/// One value of one reading.
#[allow(missing_docs)] // One field per column; see migrations/0007_telemetry.sql.
#[derive(Debug, Clone)]
pub struct ReadingRow {
    pub device_id: std::sync::Arc<str>,
    pub metric: &'static str,
    pub at: DateTime<Utc>,
    pub value: f64,
}

/// A device event as stored.
#[allow(missing_docs)] // One field per column; see migrations/0007_telemetry.sql.
#[derive(Debug, Clone)]
pub struct EventRow {
    pub device_id: String,
    pub at: DateTime<Utc>,
    pub kind: &'static str,
    pub confidence: f64,
    pub detail: Value,
    /// The case it should open (category, urgency, title, source reference), if any.
    pub case_wanted: Option<Value>,
}

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

/// One bucket of a metric's history.
#[allow(missing_docs)] // One field per column; see migrations/0007_telemetry.sql.
#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct HistoryPoint {
    pub at: DateTime<Utc>,
    pub count: i64,
    pub avg: f64,
    pub min: f64,
    pub max: f64,
}

/// A device with what the broker needs to let it in.
#[derive(Debug, Clone, FromRow)]
pub struct DeviceLogin {
    /// Its id (the MQTT username).
    pub id: String,
    /// Its type, as stored.
    pub device_type: String,
    /// WGS84.
    pub lon: f64,
    /// WGS84.
    pub lat: f64,
    /// Metadata as given.
    pub metadata: Value,
    /// The SHA-256 of its credential.
    pub credential_hash: String,
    /// Its regions.
    pub street_code: Option<String>,
    /// Its regions.
    pub village_code: Option<String>,
    /// Its regions.
    pub grid_code: Option<String>,
}

impl Store {
    /// Every device with its credential digest and regions: the broker's directory.
    pub async fn device_logins(&self) -> Result<Vec<DeviceLogin>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, device_type, ST_X(location) AS lon, ST_Y(location) AS lat, metadata, credential_hash,
                 street_code, village_code, grid_code FROM devices ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// Writes readings (a value already stored for its device, metric and time is skipped,
    /// so a redelivered message counts once) and adds the new ones to the minute and hour
    /// aggregates, in one statement.
    pub async fn insert_readings(tx: &mut PgConnection, rows: &[ReadingRow]) -> Result<u64, StoreError> {
        if rows.is_empty() {
            return Ok(0);
        }
        let devices: Vec<&str> = rows.iter().map(|r| &*r.device_id).collect();
        let metrics: Vec<&str> = rows.iter().map(|r| r.metric).collect();
        let at: Vec<DateTime<Utc>> = rows.iter().map(|r| r.at).collect();
        let values: Vec<f64> = rows.iter().map(|r| r.value).collect();
        let inserted: i64 = sqlx::query_scalar(
            "WITH new AS (
                 INSERT INTO readings (device_id, metric, at, value)
                 SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::float8[])
                 ON CONFLICT DO NOTHING
                 RETURNING device_id, metric, at, value),
             buckets AS (
                 SELECT device_id, metric, 'minute' AS resolution, date_trunc('minute', at) AS bucket,
                     count(*) AS count, sum(value) AS sum, min(value) AS min, max(value) AS max
                 FROM new GROUP BY 1, 2, 4
                 UNION ALL
                 SELECT device_id, metric, 'hour', date_trunc('hour', at), count(*), sum(value), min(value), max(value)
                 FROM new GROUP BY 1, 2, 4),
             agg AS (
                 INSERT INTO reading_aggregates AS a (device_id, metric, resolution, bucket, count, sum, min, max)
                 SELECT * FROM buckets
                 ON CONFLICT (device_id, metric, resolution, bucket) DO UPDATE SET count = a.count + EXCLUDED.count,
                     sum = a.sum + EXCLUDED.sum, min = least(a.min, EXCLUDED.min), max = greatest(a.max, EXCLUDED.max)
                 RETURNING 1)
             SELECT (SELECT count(*) FROM new) + 0 * (SELECT count(*) FROM agg)",
        )
        .bind(devices)
        .bind(metrics)
        .bind(at)
        .bind(values)
        .fetch_one(&mut *tx)
        .await?;
        Ok(inserted as u64)
    }

    /// Writes device events, once per (device, time, kind).
    pub async fn insert_device_events(tx: &mut PgConnection, rows: &[EventRow]) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO device_events (device_id, at, kind, confidence, detail, case_wanted)
             SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::float8[], $5::jsonb[], $6::jsonb[])
             ON CONFLICT DO NOTHING",
        )
        .bind(rows.iter().map(|r| r.device_id.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.at).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.kind).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.confidence).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.detail.clone()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.case_wanted.clone()).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await?;
        Ok(())
    }

    /// Records a device's status unless a newer one is stored.
    pub async fn upsert_device_status(
        tx: &mut PgConnection,
        device_id: &str,
        online: bool,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO device_status AS s (device_id, online, at) VALUES ($1, $2, $3)
             ON CONFLICT (device_id) DO UPDATE SET online = EXCLUDED.online, at = EXCLUDED.at
             WHERE s.at <= EXCLUDED.at",
        )
        .bind(device_id)
        .bind(online)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        Ok(())
    }

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

    /// A metric's history between two times: raw values, or minute or hour aggregates.
    pub async fn history(
        &self,
        device: &str,
        metric: &str,
        resolution: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<HistoryPoint>, StoreError> {
        let query = if resolution == "raw" {
            "SELECT at, 1::bigint AS count, value AS avg, value AS min, value AS max FROM readings
             WHERE device_id = $1 AND metric = $2 AND at >= $4 AND at < $5 ORDER BY at LIMIT $6"
        } else {
            "SELECT bucket AS at, count, sum / count AS avg, min, max FROM reading_aggregates
             WHERE device_id = $1 AND metric = $2 AND resolution = $3 AND bucket >= $4 AND bucket < $5
             ORDER BY bucket LIMIT $6"
        };
        Ok(sqlx::query_as(query)
            .bind(device)
            .bind(metric)
            .bind(resolution)
            .bind(from)
            .bind(to)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Creates the daily partitions of `readings` from `first` for `days` days (those that
    /// exist are kept), and drops those wholly before `keep_from`; aggregates older than
    /// `aggregates_from` are deleted. The partitions created and dropped.
    pub async fn maintain_readings(
        &self,
        first: NaiveDate,
        days: u32,
        keep_from: NaiveDate,
        aggregates_from: DateTime<Utc>,
    ) -> Result<(usize, usize), StoreError> {
        let mut created = 0;
        for offset in 0..days {
            let Some(day) = first.checked_add_days(chrono::Days::new(u64::from(offset))) else { continue };
            let Some(next) = day.succ_opt() else { continue };
            let name = format!("readings_{}", day.format("%Y%m%d"));
            let exists: bool =
                sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL").bind(&name).fetch_one(&self.pool).await?;
            if !exists {
                // Readings of a day that had no partition yet (the first start after
                // midnight, before this ran) wait in the default partition, over which the
                // day's partition could not be attached: they move into it, in one
                // transaction with inserts held off. Names and bounds are formatted from
                // dates, never from input.
                let mut tx = self.pool.begin().await?;
                for statement in [
                    "LOCK TABLE readings_default IN ACCESS EXCLUSIVE MODE".to_string(),
                    format!("CREATE TABLE {name} (LIKE readings INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"),
                    format!(
                        "WITH moved AS (DELETE FROM readings_default WHERE at >= '{day}' AND at < '{next}' RETURNING *)
                         INSERT INTO {name} SELECT * FROM moved"
                    ),
                    format!("ALTER TABLE readings ATTACH PARTITION {name} FOR VALUES FROM ('{day}') TO ('{next}')"),
                ] {
                    sqlx::query(AssertSqlSafe(statement)).execute(&mut *tx).await?;
                }
                tx.commit().await?;
                created += 1;
            }
        }
        let old: Vec<String> = sqlx::query_scalar(
            "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
             JOIN pg_class p ON p.oid = i.inhparent
             WHERE p.relname = 'readings' AND c.relname ~ '^readings_[0-9]{8}$' AND c.relname < $1",
        )
        .bind(format!("readings_{}", keep_from.format("%Y%m%d")))
        .fetch_all(&self.pool)
        .await?;
        for name in &old {
            if name.len() == 17 && name.bytes().skip(9).all(|b| b.is_ascii_digit()) {
                sqlx::query(AssertSqlSafe(format!("DROP TABLE IF EXISTS {name}"))).execute(&self.pool).await?;
            }
        }
        sqlx::query("DELETE FROM reading_aggregates WHERE bucket < $1")
            .bind(aggregates_from)
            .execute(&self.pool)
            .await?;
        Ok((created, old.len()))
    }
}
