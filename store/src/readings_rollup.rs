//! The readings' minute and hour aggregates, added off the writers' path. A batch of
//! readings appends what it adds to each device, metric and minute to `reading_partials`
//! (only values that were new), in its own transaction and without a key to check;
//! [`Store::roll_up_readings`] takes the partials of closed minutes, adds them to the
//! minute and hour aggregates and deletes them, in one transaction. So each stored value is
//! added once however many instances roll up, a late value is added when it comes, and a
//! batch not yet committed is invisible to the rollup until it is.

use std::collections::BTreeMap;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use sqlx::PgConnection;

use super::{ReadingRow, Store, StoreError};

/// The partials one rollup transaction takes at most.
const CHUNK: i64 = 100_000;

impl Store {
    /// Appends the partial aggregates of `rows`, every one of them new (the `COPY` path),
    /// summed per device, metric and minute.
    pub(crate) async fn add_reading_partials(tx: &mut PgConnection, rows: &[ReadingRow]) -> Result<(), StoreError> {
        type Key<'a> = (&'a str, &'a str, DateTime<Utc>);
        let mut minutes: BTreeMap<Key, (i64, f64, f64, f64)> = BTreeMap::new();
        for r in rows {
            let start = r.at.duration_trunc(TimeDelta::minutes(1)).unwrap_or(r.at);
            let b = minutes.entry((&r.device_id, r.metric, start)).or_insert((0, 0.0, r.value, r.value));
            *b = (b.0 + 1, b.1 + r.value, b.2.min(r.value), b.3.max(r.value));
        }
        if minutes.is_empty() {
            return Ok(());
        }
        let n = minutes.len();
        let (mut devices, mut metrics, mut starts) =
            (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
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
            "INSERT INTO reading_partials (device_id, metric, minute, count, sum, min, max)
             SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::int8[], $5::float8[], $6::float8[],
                 $7::float8[])",
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

    /// Adds the partials of every minute that starts before `before` to the minute and
    /// hour aggregates, deleting them, a chunk per transaction. Partials another instance is
    /// taking are left to it. The minutes rolled up (a minute split over two chunks counts
    /// twice).
    pub async fn roll_up_readings(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let mut rolled = 0;
        loop {
            // The aggregates are written in key order, so that two instances adding to the
            // same buckets lock them in the same order. The hour is the session zone's, as
            // everywhere the aggregates are read.
            let minutes: i64 = sqlx::query_scalar(
                "WITH taken AS (
                     DELETE FROM reading_partials WHERE ctid = ANY (ARRAY(
                         SELECT ctid FROM reading_partials WHERE minute < $1 LIMIT $2 FOR UPDATE SKIP LOCKED))
                     RETURNING *),
                 m AS (
                     SELECT device_id, metric, minute, sum(count)::bigint AS count, sum(sum) AS sum, min(min) AS min,
                         max(max) AS max
                     FROM taken GROUP BY 1, 2, 3),
                 added AS (
                     INSERT INTO reading_aggregates AS a (device_id, metric, resolution, bucket, count, sum, min, max)
                     SELECT * FROM (
                         SELECT device_id, metric, 'minute', minute, count, sum, min, max FROM m
                         UNION ALL
                         SELECT device_id, metric, 'hour', date_trunc('hour', minute), sum(count)::bigint, sum(sum),
                             min(min), max(max)
                         FROM m GROUP BY 1, 2, 4) AS b
                     ORDER BY 1, 2, 3, 4
                     ON CONFLICT (device_id, metric, resolution, bucket) DO UPDATE SET count = a.count + EXCLUDED.count,
                         sum = a.sum + EXCLUDED.sum, min = least(a.min, EXCLUDED.min), max = greatest(a.max, EXCLUDED.max))
                 SELECT count(DISTINCT minute) FROM m",
            )
            .bind(before)
            .bind(CHUNK)
            .fetch_one(&self.pool)
            .await?;
            if minutes == 0 {
                return Ok(rolled);
            }
            rolled += minutes as u64;
        }
    }

    /// The start of the oldest minute not rolled up yet, if any (how far the aggregates
    /// trail the readings).
    pub async fn oldest_pending_minute(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(sqlx::query_scalar("SELECT min(minute) FROM reading_partials").fetch_one(&self.pool).await?)
    }
}
