//! The instances that split one district's devices among them (`[mqtt] split = "claim"`):
//! each renews its membership every second and reads who else is alive, and a grid changing
//! hands is taken on from the readings its last owner stored.

use chrono::{DateTime, Utc};

use super::{Store, StoreError};

/// One stored reading, as a new owner replays it into its rules.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredReading {
    /// The device.
    pub device_id: String,
    /// The metric's name.
    pub metric: String,
    /// When it was measured.
    pub at: DateTime<Utc>,
    /// The value.
    pub value: f64,
}

impl Store {
    /// Renews `member`'s lease in `district` and returns the members that count for the
    /// split, sorted: those seen within `lease_ms` and alive for at least `grace_ms`. The
    /// database's clock judges both, so the instances' clocks need not agree. Rows of
    /// members gone for a day are removed on the way.
    pub async fn renew_iot_member(
        &self,
        district: &str,
        member: &str,
        lease_ms: i64,
        grace_ms: i64,
    ) -> Result<Vec<String>, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO iot_members (district, member, joined_at, seen_at) VALUES ($1, $2, now(), now())
             ON CONFLICT (district, member) DO UPDATE
                SET seen_at = now(),
                    -- A member back after its lease ran out joins again (and waits out the grace).
                    joined_at = CASE WHEN iot_members.seen_at < now() - make_interval(secs => $3 / 1000.0)
                                     THEN now() ELSE iot_members.joined_at END",
        )
        .bind(district)
        .bind(member)
        .bind(lease_ms as f64)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM iot_members WHERE seen_at < now() - interval '1 day'").execute(&mut *tx).await?;
        let members: Vec<String> = sqlx::query_scalar(
            "SELECT member FROM iot_members
             WHERE district = $1
               AND seen_at >= now() - make_interval(secs => $2 / 1000.0)
               AND joined_at <= now() - make_interval(secs => $3 / 1000.0)
             ORDER BY member",
        )
        .bind(district)
        .bind(lease_ms as f64)
        .bind(grace_ms as f64)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(members)
    }

    /// Leaves the split at once (a clean shutdown), so the others take its grids on without
    /// waiting for its lease to run out.
    pub async fn leave_iot_members(&self, district: &str, member: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM iot_members WHERE district = $1 AND member = $2")
            .bind(district)
            .bind(member)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The readings of `devices` in `metrics` since `since`, by device then time: what a
    /// new owner of their grids replays into its rules (durations, rates, staleness).
    pub async fn recent_readings(
        &self,
        devices: &[String],
        metrics: &[&str],
        since: DateTime<Utc>,
    ) -> Result<Vec<StoredReading>, StoreError> {
        if devices.is_empty() || metrics.is_empty() {
            return Ok(Vec::new());
        }
        Ok(sqlx::query_as(
            "SELECT device_id, metric, at, value FROM readings
             WHERE device_id = ANY($1) AND metric = ANY($2) AND at >= $3
             ORDER BY device_id, at",
        )
        .bind(devices)
        .bind(metrics)
        .bind(since)
        .fetch_all(&self.pool)
        .await?)
    }
}
