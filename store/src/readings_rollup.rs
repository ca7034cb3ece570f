//! The readings' minute and hour aggregates, computed from the readings off the writers'
//! path. A writer marks the minutes a batch wrote into as pending, in the batch's own
//! transaction ([`Store::mark_reading_minutes`]); [`Store::roll_up_readings`] takes a
//! pending minute, counts its readings again, replaces the minute's aggregates and adds the
//! difference to the hour's. Counting again from what is stored makes a value delivered
//! twice count once, and keeps every instance's rollup exact whatever the order.
//!
//! Why this is safe against a batch still open: the mark is an upsert that holds the
//! minute's row until the batch commits, and the rollup skips a locked minute. A batch that
//! marks a minute while the rollup holds it waits, and marks it again once the rollup has
//! deleted it; so a minute is never taken as done with readings of an open batch missing.

use std::collections::BTreeSet;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use sqlx::PgConnection;

use super::{ReadingRow, Store, StoreError};

impl Store {
    /// Marks the minutes of `rows` as pending for the rollup, in the writer's transaction
    /// (in time order, so that two writers lock shared minutes in the same order).
    pub async fn mark_reading_minutes(tx: &mut PgConnection, rows: &[ReadingRow]) -> Result<(), StoreError> {
        let minutes: BTreeSet<DateTime<Utc>> =
            rows.iter().map(|r| r.at.duration_trunc(TimeDelta::minutes(1)).unwrap_or(r.at)).collect();
        if minutes.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO reading_minutes_pending (minute) SELECT m FROM unnest($1::timestamptz[]) AS u(m) ORDER BY m
             ON CONFLICT (minute) DO UPDATE SET marked_at = now()",
        )
        .bind(minutes.into_iter().collect::<Vec<_>>())
        .execute(&mut *tx)
        .await?;
        Ok(())
    }

    /// Rolls up every pending minute that starts before `before`, one transaction each: the
    /// minute's aggregates counted again from its readings, the hour's changed by the
    /// difference. Minutes another instance is rolling up, or a writer is marking, are left
    /// for the next call. The minutes rolled up.
    pub async fn roll_up_readings(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let mut rolled = 0;
        loop {
            let mut tx = self.pool.begin().await?;
            let minute: Option<DateTime<Utc>> = sqlx::query_scalar(
                "SELECT minute FROM reading_minutes_pending WHERE minute < $1 ORDER BY minute LIMIT 1
                 FOR UPDATE SKIP LOCKED",
            )
            .bind(before)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(minute) = minute else { return Ok(rolled) };
            // `old` is read before `minutes` writes (one snapshot for the statement, and a
            // writing `WITH` runs whether or not it is read); the
            // hours are written in (device, metric) order, so two instances rolling up
            // minutes of one hour lock its rows in the same order. The hour's zone is the
            // session's, as everywhere the aggregates are read.
            sqlx::query(
                "WITH new AS (
                     SELECT device_id, metric, count(*) AS count, sum(value) AS sum, min(value) AS min,
                         max(value) AS max
                     FROM readings WHERE at >= $1 AND at < $1 + interval '1 minute' GROUP BY 1, 2),
                 old AS (
                     SELECT device_id, metric, count, sum FROM reading_aggregates
                     WHERE resolution = 'minute' AND bucket = $1),
                 minutes AS (
                     INSERT INTO reading_aggregates AS a (device_id, metric, resolution, bucket, count, sum, min, max)
                     SELECT device_id, metric, 'minute', $1, count, sum, min, max FROM new ORDER BY 1, 2
                     ON CONFLICT (device_id, metric, resolution, bucket) DO UPDATE SET count = EXCLUDED.count,
                         sum = EXCLUDED.sum, min = EXCLUDED.min, max = EXCLUDED.max)
                 INSERT INTO reading_aggregates AS a (device_id, metric, resolution, bucket, count, sum, min, max)
                 SELECT n.device_id, n.metric, 'hour', date_trunc('hour', $1), n.count - coalesce(o.count, 0),
                     n.sum - coalesce(o.sum, 0), n.min, n.max
                 FROM new n LEFT JOIN old o USING (device_id, metric)
                 WHERE n.count <> coalesce(o.count, 0)
                 ORDER BY 1, 2
                 ON CONFLICT (device_id, metric, resolution, bucket) DO UPDATE SET count = a.count + EXCLUDED.count,
                     sum = a.sum + EXCLUDED.sum, min = least(a.min, EXCLUDED.min), max = greatest(a.max, EXCLUDED.max)",
            )
            .bind(minute)
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM reading_minutes_pending WHERE minute = $1").bind(minute).execute(&mut *tx).await?;
            tx.commit().await?;
            rolled += 1;
        }
    }

    /// The start of the oldest minute not rolled up yet, if any (how far the aggregates
    /// trail the readings).
    pub async fn oldest_pending_minute(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(sqlx::query_scalar("SELECT min(minute) FROM reading_minutes_pending").fetch_one(&self.pool).await?)
    }
}
