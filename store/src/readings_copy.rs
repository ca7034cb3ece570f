//! Readings in bulk: the history writer's path. `COPY` straight into `readings`, and the
//! minute and hour aggregates summed here and upserted once per bucket, inside a
//! savepoint. A value already stored (a message delivered twice) makes the `COPY` fail
//! as a whole; then the savepoint is rolled back and the batch takes
//! [`Store::insert_readings`], which skips what is stored and counts only what is new. So
//! the aggregates stay exact either way, and the common case (nothing stored twice) pays
//! neither `ON CONFLICT`'s speculative insertion for every row nor the aggregation of the
//! returned rows in SQL, which were most of the writer's time (BENCHMARKS.md).

use std::collections::BTreeMap;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use sqlx::PgConnection;

use super::{ReadingRow, Store, StoreError};

/// One aggregate bucket: count, sum, min, max.
type Bucket = (i64, f64, f64, f64);

impl Store {
    /// Writes readings as [`Store::insert_readings`] does (the values new for their device,
    /// metric and time, and their minute and hour aggregates), by `COPY`; falls back to
    /// it when a value was stored already. The values stored.
    pub async fn copy_readings(tx: &mut PgConnection, rows: &[ReadingRow]) -> Result<u64, StoreError> {
        if rows.is_empty() {
            return Ok(0);
        }
        let data = binary_rows(rows);
        sqlx::query("SAVEPOINT bulk_readings").execute(&mut *tx).await?;
        let copied = async {
            let mut copy =
                tx.copy_in_raw("COPY readings (device_id, metric, at, value) FROM STDIN (FORMAT binary)").await?;
            copy.send(data).await?;
            copy.finish().await
        }
        .await;
        match copied {
            Ok(_) => {}
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                sqlx::query("ROLLBACK TO SAVEPOINT bulk_readings").execute(&mut *tx).await?;
                return Store::insert_readings(tx, rows).await;
            }
            Err(e) => return Err(e.into()),
        }
        sqlx::query("RELEASE SAVEPOINT bulk_readings").execute(&mut *tx).await?;
        upsert_aggregates(tx, rows).await?;
        Ok(rows.len() as u64)
    }
}

/// Adds every row, all of them new, to its minute and hour buckets: summed by minute here
/// (in sorted order, so that two writers lock shared buckets in the same order), by hour in
/// the statement, with `date_trunc` in the session's zone as [`Store::insert_readings`]
/// does (a minute starts at the same instant in every zone of whole minutes).
async fn upsert_aggregates(tx: &mut PgConnection, rows: &[ReadingRow]) -> Result<(), StoreError> {
    let mut minutes: BTreeMap<(&str, &str, DateTime<Utc>), Bucket> = BTreeMap::new();
    for r in rows {
        let start = r.at.duration_trunc(TimeDelta::minutes(1)).unwrap_or(r.at);
        let b = minutes.entry((&r.device_id, r.metric, start)).or_insert((0, 0.0, r.value, r.value));
        b.0 += 1;
        b.1 += r.value;
        b.2 = b.2.min(r.value);
        b.3 = b.3.max(r.value);
    }
    let n = minutes.len();
    let (mut devices, mut metrics, mut starts) = (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
    let (mut counts, mut sums, mut mins, mut maxes) =
        (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
    for ((device, metric, start), (count, sum, min, max)) in minutes {
        devices.push(device);
        metrics.push(metric);
        starts.push(start);
        counts.push(count);
        sums.push(sum);
        mins.push(min);
        maxes.push(max);
    }
    sqlx::query(
        "WITH m (device_id, metric, bucket, count, sum, min, max) AS (
             SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::int8[], $5::float8[], $6::float8[],
                 $7::float8[]))
         INSERT INTO reading_aggregates AS a (device_id, metric, resolution, bucket, count, sum, min, max)
         SELECT device_id, metric, 'minute', date_trunc('minute', bucket), count, sum, min, max FROM m
         UNION ALL
         SELECT device_id, metric, 'hour', date_trunc('hour', bucket), sum(count), sum(sum), min(min), max(max)
         FROM m GROUP BY 1, 2, 4
         ON CONFLICT (device_id, metric, resolution, bucket) DO UPDATE SET count = a.count + EXCLUDED.count,
             sum = a.sum + EXCLUDED.sum, min = least(a.min, EXCLUDED.min), max = greatest(a.max, EXCLUDED.max)",
    )
    .bind(devices)
    .bind(metrics)
    .bind(starts)
    .bind(counts)
    .bind(sums)
    .bind(mins)
    .bind(maxes)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Microseconds from the Unix epoch to PostgreSQL's, 2000-01-01.
const POSTGRES_EPOCH_US: i64 = 946_684_800_000_000;

/// The rows in `COPY`'s binary format (no text to format or parse: a timestamp is its
/// microseconds since 2000, a value its eight bytes).
fn binary_rows(rows: &[ReadingRow]) -> Vec<u8> {
    let mut out = Vec::with_capacity(19 + rows.len() * 64 + 2);
    out.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
    out.extend_from_slice(&0i32.to_be_bytes()); // flags
    out.extend_from_slice(&0i32.to_be_bytes()); // header extension
    for r in rows {
        out.extend_from_slice(&4i16.to_be_bytes());
        for text in [r.device_id.as_bytes(), r.metric.as_bytes()] {
            out.extend_from_slice(&(text.len() as i32).to_be_bytes());
            out.extend_from_slice(text);
        }
        out.extend_from_slice(&8i32.to_be_bytes());
        out.extend_from_slice(&(r.at.timestamp_micros() - POSTGRES_EPOCH_US).to_be_bytes());
        out.extend_from_slice(&8i32.to_be_bytes());
        out.extend_from_slice(&r.value.to_bits().to_be_bytes());
    }
    out.extend_from_slice(&(-1i16).to_be_bytes());
    out
}
