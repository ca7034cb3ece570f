//! Backups and point-in-time recovery (docs/operations.md): the schedule the running
//! server keeps (`run`), the archive's lag it watches and reports (`Backups::status`), and
//! the commands `backup`, `backup-list` and `restore --to` (`commands.rs`). The files and
//! processes are the store's (`cockpit_store::BackupRepository`, pgBackRest); when to take
//! which backup, and which to keep, is decided here (`plan.rs`); the attachments' copies
//! are `files.rs`.

pub mod commands;
pub mod files;
pub mod plan;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, FixedOffset, Utc, Weekday};
use cockpit_store::{Archiving, BackupKind, BackupRepository, BackupSet, Store, StoreError};

use crate::config::Config;
use plan::{ArchiveLag, Schedule};

/// What a backup task or command can fail with.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The repository, the cluster or the database.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The attachments' files or their copies.
    #[error("attachments: {0}")]
    Files(#[from] std::io::Error),
    /// A setting or an argument that cannot be used.
    #[error("{0}")]
    Invalid(String),
}

/// The backup settings in force, resolved.
#[derive(Debug, Clone)]
pub struct BackupSettings {
    /// The repository's settings for the embedded cluster.
    pub archiving: Archiving,
    /// When backups are taken and how long kept.
    pub schedule: Schedule,
    /// The recovery point, in seconds.
    pub rpo_seconds: u32,
    /// How often the archive's lag is checked.
    pub check: Duration,
}

impl BackupSettings {
    /// The settings of `[backup]`; `None` when off. The default folder is beside the
    /// embedded cluster, or `<data_home>/backup` with an external database (only the
    /// attachments' copies go there).
    pub fn from_config(all: &Config) -> Result<Option<Self>, BackupError> {
        let config = &all.backup;
        if !config.enabled {
            return Ok(None);
        }
        let folder = if !config.folder.as_os_str().is_empty() {
            config.folder.clone()
        } else if all.database.url.is_empty() {
            Archiving::default_folder(&all.data_home)?
        } else {
            all.data_home.join("backup")
        };
        let weekday = match config.full_weekday {
            1 => Weekday::Mon,
            2 => Weekday::Tue,
            3 => Weekday::Wed,
            4 => Weekday::Thu,
            5 => Weekday::Fri,
            6 => Weekday::Sat,
            7 => Weekday::Sun,
            n => {
                return Err(BackupError::Invalid(format!(
                    "[backup] full_weekday: {n} is not 1 (Monday) to 7 (Sunday)"
                )));
            }
        };
        if config.hour > 23 {
            return Err(BackupError::Invalid(format!("[backup] hour: {} is not 0 to 23", config.hour)));
        }
        if config.rpo_seconds < 2 * plan::PUSH_MARGIN_SECONDS {
            return Err(BackupError::Invalid(format!(
                "[backup] rpo_seconds: {} is less than {}",
                config.rpo_seconds,
                2 * plan::PUSH_MARGIN_SECONDS
            )));
        }
        Ok(Some(BackupSettings {
            archiving: Archiving {
                folder,
                archive_timeout_seconds: plan::archive_timeout(config.rpo_seconds),
                // WAL over every weekly full backup kept, and the week before the oldest.
                archive_fulls: config.weekly_full_days / 7 + 1,
                process_max: config.processes.max(1),
            },
            schedule: Schedule {
                hour: config.hour,
                full_weekday: weekday,
                incremental_days: config.incremental_days,
                weekly_full_days: config.weekly_full_days,
                monthly_full_months: config.monthly_full_months,
            },
            rpo_seconds: config.rpo_seconds,
            check: Duration::from_secs(config.check_seconds.max(1)),
        }))
    }

    /// Where the attachments' copies go.
    pub fn attachments_folder(&self) -> PathBuf {
        files::mirror_folder(&self.archiving.folder)
    }
}

/// What `GET /api/backup/status` tells.
#[derive(Debug, Clone, Default, serde::Serialize, utoipa::ToSchema)]
pub struct BackupStatus {
    /// Backups are on.
    pub enabled: bool,
    /// The server takes them (the embedded cluster); otherwise the database's operator does.
    pub scheduled: bool,
    /// The recovery point aimed at, in seconds.
    pub rpo_seconds: u32,
    /// The archive judged against it, at `checked_at`; none with an external database
    /// that hides its archiver.
    pub archive: Option<ArchiveLag>,
    /// When the archive was last checked.
    pub checked_at: Option<DateTime<Utc>>,
    /// The last backup taken, and the oldest moment a restore can reach.
    #[schema(value_type = Option<BackupSetSchema>)]
    pub last_backup: Option<BackupSet>,
    /// The end of the oldest backup kept.
    pub restorable_from: Option<DateTime<Utc>>,
    /// The last failure of a scheduled backup, if the last attempt failed.
    pub last_error: Option<String>,
}

/// The schema of a backup (`cockpit_store::BackupSet`, which the store keeps free of the
/// API's documentation types).
#[derive(serde::Serialize, utoipa::ToSchema)]
#[schema(as = BackupSet)]
#[allow(dead_code, reason = "documentation type: read by utoipa, never built")]
pub struct BackupSetSchema {
    /// pgBackRest's label, e.g. `20261207-020000F_20261208-020000I`.
    label: String,
    /// `full`, `differential` or `incremental`.
    #[schema(pattern = "^(full|differential|incremental)$")]
    kind: String,
    /// When it began.
    started: DateTime<Utc>,
    /// When it ended: it restores to any moment from then on.
    stopped: DateTime<Utc>,
    /// The cluster's size in bytes.
    size: u64,
    /// What it takes in the repository, in bytes.
    stored: u64,
    /// The full backup it stands on (itself for a full one).
    full: String,
}

/// The backup schedule of this instance and what it last saw.
#[derive(Clone)]
pub struct Backups {
    settings: Option<BackupSettings>,
    /// Written by the task, read by the status route; never held across an await.
    status: Arc<Mutex<BackupStatus>>,
}

impl Backups {
    /// Backups as configured (`None`: off).
    pub fn new(settings: Option<BackupSettings>) -> Backups {
        let status = BackupStatus {
            enabled: settings.is_some(),
            rpo_seconds: settings.as_ref().map(|s| s.rpo_seconds).unwrap_or_default(),
            ..BackupStatus::default()
        };
        Backups { settings, status: Arc::new(Mutex::new(status)) }
    }

    /// The settings, when on.
    pub fn settings(&self) -> Option<&BackupSettings> {
        self.settings.as_ref()
    }

    /// What the task last saw.
    pub fn status(&self) -> BackupStatus {
        self.status.lock().map(|s| s.clone()).unwrap_or_default()
    }

    fn update(&self, change: impl FnOnce(&mut BackupStatus)) {
        if let Ok(mut status) = self.status.lock() {
            change(&mut status);
        }
    }

    /// Every `check` interval until `stop`: checks the archive's lag (logged when it is
    /// beyond the recovery point) and, with a repository (the embedded cluster), takes the
    /// backup due and expires what the retention lets go. `attachments` is the folder of
    /// the attachments' files, `offset` the city's zone now.
    pub async fn run(
        self,
        store: Store,
        repo: Option<BackupRepository>,
        attachments: PathBuf,
        offset: impl Fn() -> FixedOffset + Send + 'static,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) {
        let Some(settings) = self.settings.clone() else { return };
        let files = (attachments, settings.attachments_folder());
        self.update(|s| s.scheduled = repo.is_some());
        let mut listing: Option<Vec<BackupSet>> = None;
        // A backup runs as a task of its own (a full one may take an hour), so that the
        // archive is still watched meanwhile; none is started while one runs.
        let mut job: Option<tokio::task::JoinHandle<(Option<Vec<BackupSet>>, bool)>> = None;
        let mut retry_at = tokio::time::Instant::now();
        let mut interval = tokio::time::interval(settings.check);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = interval.tick() => {}
                _ = stop.changed() => return,
            }
            self.check_archive(&store, &settings, repo.is_some()).await;
            let Some(repo) = &repo else { continue };
            if let Some(running) = job.take_if(|j| j.is_finished()) {
                let (fresh, failed) = running.await.unwrap_or((None, true));
                listing = fresh;
                if failed {
                    // Try again later rather than at every check.
                    retry_at = tokio::time::Instant::now() + settings.check.max(Duration::from_secs(300));
                }
            }
            if job.is_some() || tokio::time::Instant::now() < retry_at {
                continue;
            }
            if listing.is_none() {
                listing = self.list(repo).await;
            }
            let Some(backups) = &listing else { continue };
            let offset = offset();
            if let Some(kind) = settings.schedule.due(Utc::now(), offset, backups) {
                let this = self.clone();
                let (repo, files, schedule) = (repo.clone(), files.clone(), settings.schedule.clone());
                job = Some(tokio::spawn(async move { this.scheduled(repo, kind, files, schedule, offset).await }));
            }
        }
    }

    /// Takes the backup due, then expires what the retention lets go: the listing after,
    /// and whether the backup failed.
    async fn scheduled(
        self,
        repo: BackupRepository,
        kind: BackupKind,
        files: (PathBuf, PathBuf),
        schedule: Schedule,
        offset: FixedOffset,
    ) -> (Option<Vec<BackupSet>>, bool) {
        let taken = commands::take(repo.clone(), kind, files).await;
        let error = taken.as_ref().err().map(|e| e.to_string());
        match &taken {
            Ok(_) => tracing::info!(kind = kind.as_str(), "scheduled backup taken"),
            Err(e) => tracing::error!(kind = kind.as_str(), error = %e, "scheduled backup failed"),
        }
        self.update(|s| s.last_error = error);
        let Some(backups) = self.list(&repo).await else { return (None, taken.is_err()) };
        for label in schedule.expired(Utc::now(), offset, &backups) {
            let (repo, name) = (repo.clone(), label.clone());
            match tokio::task::spawn_blocking(move || repo.expire(&name)).await {
                Ok(Ok(())) => tracing::info!(backup = %label, "backup expired"),
                Ok(Err(e)) => tracing::warn!(backup = %label, error = %e, "expiring a backup"),
                Err(e) => tracing::warn!(error = %e, "expiring a backup"),
            }
        }
        (self.list(&repo).await, taken.is_err())
    }

    /// The repository's backups, noted in the status; `None` (logged) when it cannot say.
    async fn list(&self, repo: &BackupRepository) -> Option<Vec<BackupSet>> {
        let repo = repo.clone();
        match tokio::task::spawn_blocking(move || repo.info()).await {
            Ok(Ok(info)) => {
                self.update(|s| {
                    s.last_backup = info.backups.last().cloned();
                    s.restorable_from = info.backups.first().map(|b| b.stopped);
                });
                Some(info.backups)
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "listing the backups");
                None
            }
            Err(e) => {
                tracing::warn!(error = %e, "listing the backups");
                None
            }
        }
    }

    /// Checks the archive; an external database that does not archive (`ours` false) is
    /// its operator's, and is not warned about.
    async fn check_archive(&self, store: &Store, settings: &BackupSettings, ours: bool) {
        let now = Utc::now();
        match store.archive_status().await {
            Ok(status) => {
                let lag =
                    plan::archive_lag(&status, now, settings.rpo_seconds, settings.archiving.archive_timeout_seconds);
                if !lag.ok && (ours || status.enabled) {
                    tracing::warn!(
                        waiting_seconds = lag.waiting_seconds,
                        recovery_point_seconds = lag.recovery_point_seconds,
                        rpo_seconds = settings.rpo_seconds,
                        failing = lag.failing,
                        enabled = status.enabled,
                        pending = status.pending_segments,
                        "the WAL archive is behind the recovery point"
                    );
                }
                self.update(|s| {
                    s.archive = Some(lag);
                    s.checked_at = Some(now);
                });
            }
            Err(e) => tracing::warn!(error = %e, "reading the WAL archiver's state"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        let mut config = Config::load(&crate::cli::Cli::default()).unwrap_or_else(|e| panic!("{e}"));
        config.database.url = "postgres://elsewhere/cockpit".into();
        config.data_home = PathBuf::from("/srv/cockpit");
        config
    }

    #[test]
    fn the_shipped_settings_are_the_tenders_and_a_bad_one_is_named() {
        let settings = BackupSettings::from_config(&config()).unwrap().unwrap();
        assert_eq!(settings.archiving.archive_timeout_seconds, 50);
        assert_eq!(settings.archiving.archive_fulls, 5);
        assert_eq!(settings.schedule.full_weekday, Weekday::Sun);
        assert_eq!(
            (
                settings.schedule.incremental_days,
                settings.schedule.weekly_full_days,
                settings.schedule.monthly_full_months
            ),
            (10, 31, 6)
        );
        // An external database's: only the attachments' copies, in the data folder.
        assert_eq!(settings.archiving.folder, PathBuf::from("/srv/cockpit/backup"));
        assert_eq!(settings.attachments_folder(), PathBuf::from("/srv/cockpit/backup/attachments"));
        for (change, named) in [
            ((|c: &mut Config| c.backup.full_weekday = 0) as fn(&mut Config), "full_weekday"),
            (|c: &mut Config| c.backup.hour = 24, "hour"),
            (|c: &mut Config| c.backup.rpo_seconds = 15, "rpo_seconds"),
        ] {
            let mut bad = config();
            change(&mut bad);
            let err = BackupSettings::from_config(&bad).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(err.contains(named), "{named}: {err}");
        }
        let mut off = config();
        off.backup.enabled = false;
        assert!(BackupSettings::from_config(&off).unwrap().is_none());
    }
}
