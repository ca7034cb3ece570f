//! The WAL archive as the cluster sees it: what `pg_stat_archiver` counts and the
//! segments still waiting in `pg_wal/archive_status`, from which the caller judges the lag.

use chrono::{DateTime, Utc};

use crate::{Store, StoreError};

/// The archiver's state.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ArchiveStatus {
    /// `archive_mode` is on.
    pub enabled: bool,
    /// The last segment archived, and when.
    pub last_archived_wal: Option<String>,
    /// When the last segment was archived.
    pub last_archived_at: Option<DateTime<Utc>>,
    /// Failed attempts since the statistics were reset.
    pub failed_count: i64,
    /// The last failure.
    pub last_failed_at: Option<DateTime<Utc>>,
    /// Closed segments not yet archived; `None` where the account may not see them.
    pub pending_segments: Option<i64>,
    /// When the oldest of them was closed.
    pub oldest_pending_at: Option<DateTime<Utc>>,
}

/// A row of the archiver.
type Row = (String, Option<String>, Option<DateTime<Utc>>, i64, Option<DateTime<Utc>>);

impl Store {
    /// The archiver's state. The waiting segments need the superuser or `pg_monitor` (the
    /// embedded cluster's account has it); without, they are `None`.
    pub async fn archive_status(&self) -> Result<ArchiveStatus, StoreError> {
        let (mode, last_wal, last_at, failed_count, failed_at): Row = sqlx::query_as(
            "SELECT current_setting('archive_mode'), last_archived_wal, last_archived_time, failed_count,
                    last_failed_time
             FROM pg_stat_archiver",
        )
        .fetch_one(&self.pool)
        .await?;
        let pending: Option<(i64, Option<DateTime<Utc>>)> = sqlx::query_as(
            "SELECT count(*), min(modification) FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready'",
        )
        .fetch_one(&self.pool)
        .await
        .ok();
        Ok(ArchiveStatus {
            enabled: mode != "off",
            last_archived_wal: last_wal,
            last_archived_at: last_at,
            failed_count,
            last_failed_at: failed_at,
            pending_segments: pending.map(|p| p.0),
            oldest_pending_at: pending.and_then(|p| p.1),
        })
    }
}
