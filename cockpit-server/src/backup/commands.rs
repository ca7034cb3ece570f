//! The commands: `cockpit-server backup`, `backup-list` and `restore --to <time>`, run
//! while the server is stopped (a backup may also run beside it), on the embedded cluster.

use std::path::PathBuf;
use std::time::Instant;

use chrono::{DateTime, FixedOffset, NaiveDateTime, Utc};
use cockpit_store::{BackupKind, BackupRepository, EmbeddedPostgres, RepositoryInfo, Store};

use super::files::{self, Copied};
use super::{BackupError, BackupSettings};
use crate::config::Config;

/// Takes a backup of `kind` (on a blocking thread: it runs minutes), then copies into the
/// backup folder the attachments (`files`: the data folder's and the copies') it lacks.
pub async fn take(repo: BackupRepository, kind: BackupKind, files: (PathBuf, PathBuf)) -> Result<Copied, BackupError> {
    tokio::task::spawn_blocking(move || -> Result<Copied, BackupError> {
        repo.backup(kind)?;
        Ok(files::sweep(&files.0, &files.1)?)
    })
    .await
    .map_err(|e| BackupError::Invalid(format!("the backup task: {e}")))?
}

/// The settings, or why there are none to use.
fn settings(config: &Config) -> Result<BackupSettings, BackupError> {
    let settings = BackupSettings::from_config(config)?;
    settings.ok_or_else(|| BackupError::Invalid("backups are off ([backup] enabled = false)".into()))
}

/// The attachments' folder and their copies'.
fn attachment_folders(config: &Config, settings: &BackupSettings) -> (PathBuf, PathBuf) {
    (config.data_home.join("attachments"), settings.attachments_folder())
}

/// `backup`: a backup of `kind` now, and the attachments' copies; what was done, in words.
/// An external database is its operator's: only the attachments are copied.
pub async fn backup(config: &Config, kind: BackupKind) -> Result<String, BackupError> {
    let settings = settings(config)?;
    let folders = attachment_folders(config, &settings);
    if !config.database.url.is_empty() {
        let copied = files::sweep(&folders.0, &folders.1)?;
        return Ok(format!(
            "the database at DATABASE_URL is backed up by its operator (docs/operations.md); \
             attachments: {} copied, {} there already, in {}",
            copied.copied,
            copied.present,
            folders.1.display()
        ));
    }
    let started = Instant::now();
    let archiving = settings.archiving.clone();
    let (home, port) = (config.data_home.clone(), config.database.embedded_port);
    let cluster = tokio::task::spawn_blocking(move || EmbeddedPostgres::start_archived(&home, port, Some(&archiving)))
        .await
        .map_err(|e| BackupError::Invalid(format!("starting the cluster: {e}")))??;
    let Some(repo) = cluster.backups().cloned() else {
        return Err(BackupError::Invalid("the cluster has no repository".into()));
    };
    let taken = take(repo.clone(), kind, folders.clone()).await;
    let info = repo.info();
    if cluster.launched() {
        cluster.stop()?;
    }
    let copied = taken?;
    let info = info?;
    let last = info.backups.last().map(|b| format!("{} ({})", b.label, b.kind.as_str())).unwrap_or_default();
    Ok(format!(
        "backup {last} taken in {:.1} s into {}; attachments: {} copied, {} there already",
        started.elapsed().as_secs_f64(),
        settings.archiving.folder.display(),
        copied.copied,
        copied.present
    ))
}

/// `backup-check`: the current WAL segment closed and archived (pgBackRest's `check`); the
/// seconds it took.
pub async fn check(config: &Config) -> Result<f64, BackupError> {
    let settings = settings(config)?;
    if !config.database.url.is_empty() {
        return Err(BackupError::Invalid(
            "the database at DATABASE_URL is archived by its operator (docs/operations.md)".into(),
        ));
    }
    let started = Instant::now();
    let (home, port) = (config.data_home.clone(), config.database.embedded_port);
    tokio::task::spawn_blocking(move || -> Result<(), BackupError> {
        let cluster = EmbeddedPostgres::start_archived(&home, port, Some(&settings.archiving))?;
        let checked = cluster.backups().map(|r| r.check()).transpose();
        if cluster.launched() {
            cluster.stop()?;
        }
        checked?;
        Ok(())
    })
    .await
    .map_err(|e| BackupError::Invalid(format!("the check task: {e}")))??;
    Ok(started.elapsed().as_secs_f64())
}

/// `backup-list`: the backups kept and the archive's range, times in the city's zone.
pub fn backup_list(config: &Config, offset: FixedOffset) -> Result<String, BackupError> {
    let settings = settings(config)?;
    if !config.database.url.is_empty() {
        return Err(BackupError::Invalid(
            "the database at DATABASE_URL is backed up by its operator (docs/operations.md)".into(),
        ));
    }
    let repo = EmbeddedPostgres::repository(&config.data_home, config.database.embedded_port, &settings.archiving)?;
    Ok(listing(&repo.info()?, offset))
}

/// The listing's text.
fn listing(info: &RepositoryInfo, offset: FixedOffset) -> String {
    let local = |t: DateTime<Utc>| t.with_timezone(&offset).format("%Y-%m-%d %H:%M:%S").to_string();
    let mb = |bytes: u64| format!("{:.1} MB", bytes as f64 / 1e6);
    let mut text = format!(
        "{:<36} {:<5} {:<20} {:<20} {:>10} {:>10}\n",
        format!("backup (times UTC{offset})"),
        "kind",
        "started",
        "ended",
        "size",
        "stored"
    );
    for b in &info.backups {
        text.push_str(&format!(
            "{:<36} {:<5} {:<20} {:<20} {:>10} {:>10}\n",
            b.label,
            b.kind.as_str(),
            local(b.started),
            local(b.stopped),
            mb(b.size),
            mb(b.stored)
        ));
    }
    match (&info.archive, info.backups.first()) {
        (Some((first, last)), Some(oldest)) => text.push_str(&format!(
            "WAL archive: {first} to {last}\nrestorable to any moment from {} to the last archived commit\n",
            local(oldest.stopped)
        )),
        _ => text.push_str(&format!("no backup to restore from yet ({})\n", info.status)),
    }
    text
}

/// What a restore did.
#[derive(Debug, Clone)]
pub struct Restored {
    /// The moment restored to.
    pub target: DateTime<Utc>,
    /// Seconds from the command's start until the database was recovered and promoted.
    pub database_seconds: f64,
    /// Seconds until the attachments were back too.
    pub total_seconds: f64,
    /// The attachments brought back.
    pub files: Copied,
}

/// `restore --to`: the embedded cluster restored to `target` (stopped first; its data may
/// be gone), then every attachment its rows name brought back from the copies. The
/// server must be stopped; the cluster is left stopped, for the next start.
pub async fn restore(config: &Config, target: DateTime<Utc>) -> Result<Restored, BackupError> {
    let settings = settings(config)?;
    if !config.database.url.is_empty() {
        return Err(BackupError::Invalid(
            "the database at DATABASE_URL is restored by its operator (docs/operations.md)".into(),
        ));
    }
    let started = Instant::now();
    let archiving = settings.archiving.clone();
    let (home, port) = (config.data_home.clone(), config.database.embedded_port);
    let cluster = tokio::task::spawn_blocking(move || EmbeddedPostgres::restore(&home, port, &archiving, target))
        .await
        .map_err(|e| BackupError::Invalid(format!("the restore task: {e}")))??;
    let database_seconds = started.elapsed().as_secs_f64();
    let store = Store::connect(&cluster.url(), 2).await?;
    let digests = store.attachment_digests().await?;
    store.pool().close().await;
    let (root, mirror) = attachment_folders(config, &settings);
    let files = files::restore(&root, &mirror, &digests)?;
    cluster.stop()?;
    Ok(Restored { target, database_seconds, total_seconds: started.elapsed().as_secs_f64(), files })
}

/// `restore-attachments`: every attachment the database's rows name brought back from
/// the copies where the data folder lacks it; for a database restored by other means (an
/// external one, restored by its operator). The embedded cluster is started if need be.
pub async fn restore_attachments(config: &Config) -> Result<Copied, BackupError> {
    let settings = settings(config)?;
    let (url, cluster) = if config.database.url.is_empty() {
        let (home, port) = (config.data_home.clone(), config.database.embedded_port);
        let archiving = settings.archiving.clone();
        let cluster =
            tokio::task::spawn_blocking(move || EmbeddedPostgres::start_archived(&home, port, Some(&archiving)))
                .await
                .map_err(|e| BackupError::Invalid(format!("starting the cluster: {e}")))??;
        (cluster.url(), Some(cluster))
    } else {
        (config.database.url.clone(), None)
    };
    let digests = async {
        let store = Store::connect(&url, 2).await?;
        let digests = store.attachment_digests().await;
        store.pool().close().await;
        digests
    }
    .await;
    if let Some(cluster) = cluster.filter(|c| c.launched()) {
        cluster.stop()?;
    }
    let (root, mirror) = attachment_folders(config, &settings);
    Ok(files::restore(&root, &mirror, &digests?)?)
}

/// Reads a restore target: RFC 3339 with its offset (`2026-12-07T13:05:00+08:00`), or a
/// moment in the city's zone (`2026-12-07 13:05`, seconds and their fractions optional).
pub fn parse_target(text: &str, offset: FixedOffset) -> Result<DateTime<Utc>, BackupError> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.to_utc());
    }
    for format in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(local) = NaiveDateTime::parse_from_str(text, format)
            && let Some(t) = local.and_local_timezone(offset).single()
        {
            return Ok(t.to_utc());
        }
    }
    Err(BackupError::Invalid(format!(
        "--to: `{text}` is not a time: write 2026-12-07 13:05:00 (the city's zone) or 2026-12-07T13:05:00+08:00"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_is_read_in_the_city_zone_unless_it_names_its_offset() {
        let china = FixedOffset::east_opt(8 * 3600).unwrap();
        let utc = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().to_utc();
        let check =
            |text: &str, expected: &str| assert_eq!(parse_target(text, china).unwrap(), utc(expected), "{text}");
        check("2026-12-07 13:05", "2026-12-07T05:05:00Z");
        check("2026-12-07 13:05:09", "2026-12-07T05:05:09Z");
        check("2026-12-07 13:05:09.250", "2026-12-07T05:05:09.25Z");
        check("2026-12-07T13:05:09", "2026-12-07T05:05:09Z");
        check("2026-12-07T13:05:09+00:00", "2026-12-07T13:05:09Z");
        check(" 2026-12-07T05:05:09Z ", "2026-12-07T05:05:09Z");
        for bad in ["", "yesterday", "2026-13-01 00:00", "2026-12-07"] {
            let err = parse_target(bad, china).unwrap_err().to_string();
            assert!(err.starts_with("--to:"), "{bad}: {err}");
        }
    }
}
