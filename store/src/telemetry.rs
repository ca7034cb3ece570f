//! Telemetry, device events and statuses: what the IoT pipeline writes, in batches, each
//! batch in one transaction; a metric's history; the readings' partitions.

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
    /// so a redelivered message counts once) and appends what the new ones add to their
    /// minutes for the rollup (`readings_rollup.rs`), in one statement. The values new.
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
             partials AS (
                 INSERT INTO reading_partials (device_id, metric, minute, count, sum, min, max)
                 SELECT device_id, metric, date_trunc('minute', at), count(*), sum(value), min(value), max(value)
                 FROM new GROUP BY 1, 2, 3)
             SELECT count(*) FROM new",
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
        // The aggregates up to the bucket of the oldest minute not rolled up yet; from there
        // the buckets are counted from the readings themselves, so the answer is the same
        // before and after the rollup.
        let query = if resolution == "raw" {
            "SELECT at, 1::bigint AS count, value AS avg, value AS min, value AS max FROM readings
             WHERE device_id = $1 AND metric = $2 AND at >= $4 AND at < $5 ORDER BY at LIMIT $6"
        } else {
            "WITH pending AS (
                 SELECT date_trunc($3, coalesce(min(minute), 'infinity')) AS since FROM reading_partials)
             SELECT bucket AS at, count, sum / count AS avg, min, max FROM reading_aggregates, pending
             WHERE device_id = $1 AND metric = $2 AND resolution = $3 AND bucket >= $4 AND bucket < $5
                 AND bucket < pending.since
             UNION ALL
             SELECT date_trunc($3, at), count(*), sum(value) / count(*), min(value), max(value) FROM readings, pending
             WHERE device_id = $1 AND metric = $2 AND at >= greatest(pending.since, $4) AND at < $5
                 AND date_trunc($3, at) >= $4
             GROUP BY 1
             ORDER BY 1 LIMIT $6"
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
