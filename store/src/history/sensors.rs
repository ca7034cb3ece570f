//! Writing the sample sensors' past: readings, their minute and hour aggregates (the rows
//! the live pipeline's `insert_readings` makes for a reading alone in its minute and hour),
//! and alarms with their whole life, by `COPY` into temporary tables and from there into
//! the real ones in one transaction, merged with what the live pipeline wrote meanwhile
//! (a reading stored already is kept; aggregates add up; an alarm whose device and rule
//! have one open already stays out, as the one-open-alarm index wants).

use std::fmt::Write as _;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{Postgres, Transaction};

use super::copy::{end, field, optional, optional_time, time};
use crate::{Store, StoreError};

/// An alarm of the past, as stored.
#[allow(missing_docs)] // One field per column; see migrations/0007_telemetry.sql.
#[derive(Debug, Clone)]
pub struct PastAlarmRow<'a> {
    pub device_id: &'a str,
    pub rule_id: &'a str,
    pub severity: &'a str,
    pub metric: &'a str,
    pub raised_at: DateTime<Utc>,
    pub raised_value: f64,
    pub peak_value: f64,
    pub peak_at: DateTime<Utc>,
    pub acknowledged: Option<(&'a str, DateTime<Utc>)>,
    pub cleared: Option<(DateTime<Utc>, f64)>,
    pub street_code: Option<&'a str>,
    pub village_code: Option<&'a str>,
    pub grid_code: Option<&'a str>,
    pub storm_id: Option<&'a str>,
}

/// Rendered rows of readings and aggregates, ready to be copied.
#[derive(Debug, Clone, Default)]
pub struct SensorChunk {
    readings: String,
    aggregates: String,
    reading_rows: u64,
    aggregate_rows: u64,
}

impl SensorChunk {
    /// Adds a value: its raw row when `raw`, its hour aggregate always, its minute
    /// aggregate when `raw` too (the minute resolution serves the charts of recent days).
    pub fn push(&mut self, device: &str, metric: &str, at: DateTime<Utc>, value: f64, raw: bool) {
        if raw {
            let r = &mut self.readings;
            field(r, device);
            field(r, metric);
            time(r, at);
            let _ = write!(r, "{value}\t");
            end(r);
            self.reading_rows += 1;
        }
        let buckets: &[(&str, i64)] = if raw { &[("minute", 60), ("hour", 3600)] } else { &[("hour", 3600)] };
        for (resolution, seconds) in buckets {
            let bucket =
                DateTime::<Utc>::from_timestamp(at.timestamp().div_euclid(*seconds) * seconds, 0).unwrap_or(at);
            let a = &mut self.aggregates;
            field(a, device);
            field(a, metric);
            field(a, resolution);
            time(a, bucket);
            let _ = write!(a, "1\t{value}\t{value}\t{value}\t");
            end(a);
            self.aggregate_rows += 1;
        }
    }

    /// Raw readings in the chunk.
    pub fn reading_rows(&self) -> u64 {
        self.reading_rows
    }

    /// Aggregate rows in the chunk.
    pub fn aggregate_rows(&self) -> u64 {
        self.aggregate_rows
    }
}

/// The sensors' past being written, in its transaction.
pub struct SensorWriter {
    tx: Transaction<'static, Postgres>,
}

/// What the sensors' past added.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SensorsWritten {
    /// Raw readings.
    pub readings: u64,
    /// Minute and hour aggregate rows.
    pub aggregates: u64,
    /// Alarms.
    pub alarms: u64,
}

impl Store {
    /// Starts writing the sensors' past: the daily partitions of raw readings from
    /// `raw_from` to `until` (UTC dates) made first, then the transaction and its staging
    /// tables.
    pub async fn sensor_writer(&self, raw_from: NaiveDate, until: NaiveDate) -> Result<SensorWriter, StoreError> {
        let days = (until - raw_from).num_days().max(0) as u32 + 2;
        // Creates the partitions (moving what the default one holds of their days); drops
        // no partition and no aggregate (nothing is older than 1970): retention is the
        // maintenance loop's.
        let far_past = DateTime::<Utc>::from_timestamp(0, 0).unwrap_or_default();
        self.maintain_readings(raw_from, days, far_past.date_naive(), far_past).await?;
        let mut tx = self.pool.begin().await?;
        for statement in [
            "SET LOCAL maintenance_work_mem = '256MB'",
            "CREATE TEMP TABLE past_readings (device_id text, metric text, at timestamptz, value float8) ON COMMIT DROP",
            "CREATE TEMP TABLE past_aggregates (device_id text, metric text, resolution text, bucket timestamptz,
                 count bigint, sum float8, min float8, max float8) ON COMMIT DROP",
            "CREATE TEMP TABLE past_alarms (device_id text, rule_id text, severity text, metric text, state text,
                 raised_at timestamptz, raised_value float8, peak_value float8, peak_at timestamptz,
                 acknowledged_by text, acknowledged_at timestamptz, cleared_at timestamptz, cleared_value float8,
                 street_code text, village_code text, grid_code text, storm_id text, updated_at timestamptz)
                 ON COMMIT DROP",
        ] {
            sqlx::query(statement).execute(&mut *tx).await?;
        }
        Ok(SensorWriter { tx })
    }
}

impl SensorWriter {
    /// Copies a chunk of readings and aggregates into the staging tables.
    pub async fn write(&mut self, chunk: &SensorChunk) -> Result<(), StoreError> {
        for (table, text) in [("past_readings", &chunk.readings), ("past_aggregates", &chunk.aggregates)] {
            if text.is_empty() {
                continue;
            }
            let mut copy = self.tx.copy_in_raw(&format!("COPY {table} FROM STDIN")).await?;
            copy.send(text.as_bytes()).await?;
            copy.finish().await?;
        }
        Ok(())
    }

    /// Copies the alarms, moves everything into the real tables, and commits.
    pub async fn finish(mut self, alarms: &[PastAlarmRow<'_>]) -> Result<SensorsWritten, StoreError> {
        let mut text = String::new();
        for a in alarms {
            let state = match (a.cleared, a.acknowledged) {
                (Some(_), _) => "cleared",
                (None, Some(_)) => "acknowledged",
                (None, None) => "active",
            };
            for v in [a.device_id, a.rule_id, a.severity, a.metric, state] {
                field(&mut text, v);
            }
            time(&mut text, a.raised_at);
            let _ = write!(text, "{}\t{}\t", a.raised_value, a.peak_value);
            time(&mut text, a.peak_at);
            optional(&mut text, a.acknowledged.map(|(who, _)| who));
            optional_time(&mut text, a.acknowledged.map(|(_, at)| at));
            optional_time(&mut text, a.cleared.map(|(at, _)| at));
            optional(&mut text, a.cleared.map(|(_, v)| v.to_string()).as_deref());
            for v in [a.street_code, a.village_code, a.grid_code, a.storm_id] {
                optional(&mut text, v);
            }
            let updated = [Some(a.peak_at), a.acknowledged.map(|(_, at)| at), a.cleared.map(|(at, _)| at)];
            time(&mut text, updated.into_iter().flatten().max().unwrap_or(a.raised_at));
            end(&mut text);
        }
        if !text.is_empty() {
            let mut copy = self.tx.copy_in_raw("COPY past_alarms FROM STDIN").await?;
            copy.send(text.as_bytes()).await?;
            copy.finish().await?;
        }
        let readings = sqlx::query("INSERT INTO readings SELECT * FROM past_readings ON CONFLICT DO NOTHING")
            .execute(&mut *self.tx)
            .await?
            .rows_affected();
        let aggregates = sqlx::query(
            "INSERT INTO reading_aggregates AS a SELECT * FROM past_aggregates
             ON CONFLICT (device_id, metric, resolution, bucket) DO UPDATE SET count = a.count + EXCLUDED.count,
                 sum = a.sum + EXCLUDED.sum, min = least(a.min, EXCLUDED.min), max = greatest(a.max, EXCLUDED.max)",
        )
        .execute(&mut *self.tx)
        .await?
        .rows_affected();
        // Alarms of devices the registry still has, in the order raised (their ids follow
        // it); none that a live alarm of the same device and rule holds open.
        let alarms = sqlx::query(
            "INSERT INTO alarms (device_id, rule_id, severity, metric, state, raised_at, raised_value, peak_value,
                 peak_at, acknowledged_by, acknowledged_at, cleared_at, cleared_value, street_code, village_code,
                 grid_code, storm_id, updated_at)
             SELECT p.* FROM past_alarms p JOIN devices d ON d.id = p.device_id ORDER BY p.raised_at, p.device_id, p.rule_id
             ON CONFLICT (device_id, rule_id) WHERE state <> 'cleared' DO NOTHING",
        )
        .execute(&mut *self.tx)
        .await?
        .rows_affected();
        self.tx.commit().await?;
        Ok(SensorsWritten { readings, aggregates, alarms })
    }
}
