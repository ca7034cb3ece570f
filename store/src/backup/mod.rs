//! Backups of the embedded cluster with pgBackRest (Debian's `pgbackrest`): the
//! repository's configuration, the WAL archive the cluster pushes to, and the backups,
//! listings, expiries and restores, each run as a process as `embedded.rs` runs `pg_ctl`.
//!
//! pgBackRest does what PostgreSQL 15's own `pg_basebackup` cannot: incremental and
//! differential backups, a checked WAL archive, and a restore that picks the backup set for
//! a target time. Everything lives in one backup folder (`Archiving::folder`): the
//! repository (`repo/`), its log and lock, a copy of the cluster's password and, written by
//! the server, the attachments' copies. When the server runs as root the cluster runs as
//! `postgres`, so the folder is beside the cluster under `/var/lib/cockpit/`, where that
//! user can write; pgBackRest runs as `postgres` too.
//!
//! Which backup to take when, and which to expire, is the caller's decision (the server's
//! schedule): the repository keeps every backup until told to expire one, and the WAL of
//! the last `archive_fulls` full backups.

mod info;
mod restore;

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{DateTime, Utc};

pub use info::{BackupSet, RepositoryInfo};

use crate::StoreError;
use crate::embedded::{OrCluster, chown_postgres, is_root, write_private};

/// The stanza (pgBackRest's name for one cluster's backups) of the embedded cluster.
const STANZA: &str = "cockpit";

/// How the embedded cluster is archived and backed up.
#[derive(Debug, Clone)]
pub struct Archiving {
    /// The backup folder.
    pub folder: PathBuf,
    /// A WAL segment is closed and archived at most this long after its first write
    /// (PostgreSQL's `archive_timeout`): what a lost disk can cost, plus the push.
    pub archive_timeout_seconds: u32,
    /// The WAL is kept from the oldest of the last this many full backups: the window of
    /// point-in-time recovery. Older full backups stay restorable to their own end.
    pub archive_fulls: u32,
    /// Parallel processes of a backup or restore.
    pub process_max: u32,
}

impl Archiving {
    /// The default backup folder for the cluster of `data_home`: `<data_home>/backup`, or,
    /// when running as root, `/var/lib/cockpit/backup-<id>` beside the cluster, where the
    /// `postgres` user that pushes the WAL can write.
    pub fn default_folder(data_home: &Path) -> Result<PathBuf, StoreError> {
        let cluster = crate::EmbeddedPostgres::location(data_home)?;
        if is_root() {
            let name = cluster.file_name().and_then(|n| n.to_str()).unwrap_or("postgres-");
            let id = name.trim_start_matches("postgres-");
            Ok(cluster.with_file_name(format!("backup-{id}")))
        } else {
            let home = std::path::absolute(data_home).or_cluster(|| "resolving the data folder".to_string())?;
            Ok(home.join("backup"))
        }
    }
}

/// A kind of backup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BackupKind {
    /// Every file of the cluster.
    Full,
    /// What changed since the last full backup.
    Differential,
    /// What changed since the last backup of any kind.
    Incremental,
}

impl BackupKind {
    /// pgBackRest's word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            BackupKind::Full => "full",
            BackupKind::Differential => "diff",
            BackupKind::Incremental => "incr",
        }
    }

    /// Reads pgBackRest's word (or the spelled-out name).
    pub fn parse(text: &str) -> Option<BackupKind> {
        match text {
            "full" => Some(BackupKind::Full),
            "diff" | "differential" => Some(BackupKind::Differential),
            "incr" | "incremental" => Some(BackupKind::Incremental),
            _ => None,
        }
    }
}

/// The pgBackRest repository of the embedded cluster, configured.
#[derive(Debug, Clone)]
pub struct BackupRepository {
    folder: PathBuf,
    conf: PathBuf,
    password: String,
    as_postgres: bool,
    archive_timeout_seconds: u32,
}

impl BackupRepository {
    /// Writes the repository's configuration for the cluster at `root` (data in
    /// `root/data`, socket in `root/run`) on `port`, makes its folders, and keeps a copy of
    /// the cluster's password, the first time (a restore onto a lost cluster folder needs
    /// it).
    pub(crate) fn configure(
        archiving: &Archiving,
        root: &Path,
        port: u16,
        password: &str,
    ) -> Result<BackupRepository, StoreError> {
        let folder = std::path::absolute(&archiving.folder).or_cluster(|| "resolving the backup folder".to_string())?;
        let text = folder.to_string_lossy();
        if text.contains(|c: char| c.is_whitespace() || c == '\'' || c == '"' || c == '\\' || c == '%') {
            return Err(StoreError::Backup(format!(
                "the backup folder {text} holds a space, quote, backslash or %: PostgreSQL's archive_command cannot name it"
            )));
        }
        let as_postgres = is_root();
        for sub in ["repo", "log", "lock", "spool"] {
            let dir = folder.join(sub);
            std::fs::create_dir_all(&dir).or_cluster(|| format!("creating {}", dir.display()))?;
            if as_postgres {
                chown_postgres(&dir)?;
            }
        }
        // The repository belongs to one cluster (pgBackRest checks its system id), and so
        // does the password kept with it: a cluster made anew here cannot replace it.
        let kept = folder.join("password");
        if !kept.exists() {
            write_private(&kept, password)?;
        }
        let conf = folder.join("pgbackrest.conf");
        let config = format!(
            "# Written by cockpit-server at every start of the embedded cluster: edits are lost.\n\
             [global]\n\
             repo1-path={folder}/repo\n\
             # The server's schedule expires backups itself (`expire --set`).\n\
             repo1-retention-full=9999999\n\
             repo1-retention-archive-type=full\n\
             repo1-retention-archive={fulls}\n\
             log-path={folder}/log\n\
             lock-path={folder}/lock\n\
             spool-path={folder}/spool\n\
             log-level-console=warn\n\
             log-level-file=info\n\
             compress-type=zst\n\
             process-max={processes}\n\
             start-fast=y\n\
             archive-timeout=120\n\
             \n\
             [{STANZA}]\n\
             pg1-path={data}\n\
             pg1-port={port}\n\
             pg1-socket-path={run}\n\
             pg1-user=cockpit\n",
            folder = folder.display(),
            fulls = archiving.archive_fulls.max(1),
            processes = archiving.process_max.max(1),
            data = root.join("data").display(),
            run = root.join("run").display(),
        );
        std::fs::write(&conf, config).or_cluster(|| format!("writing {}", conf.display()))?;
        Ok(BackupRepository {
            folder,
            conf,
            password: password.to_string(),
            as_postgres,
            archive_timeout_seconds: archiving.archive_timeout_seconds.max(1),
        })
    }

    /// The backup folder.
    pub fn folder(&self) -> &Path {
        &self.folder
    }

    /// The server settings that make the cluster archive its WAL here, as `postgres -c`
    /// options (inside `pg_ctl -o`, which a shell reads).
    pub(crate) fn server_options(&self) -> String {
        format!(
            " -c archive_mode=on -c archive_command='pgbackrest --config={} --stanza={STANZA} archive-push %p' \
             -c archive_timeout={}",
            self.conf.display(),
            self.archive_timeout_seconds
        )
    }

    /// Creates the stanza, or checks the one there matches this cluster.
    pub fn stanza_create(&self) -> Result<(), StoreError> {
        self.pgbackrest(&["stanza-create"]).map(drop)
    }

    /// Takes a backup of `kind`. An incremental or differential one without a full one
    /// before it is taken full (pgBackRest's rule).
    pub fn backup(&self, kind: BackupKind) -> Result<(), StoreError> {
        self.pgbackrest(&["backup", &format!("--type={}", kind.as_str())]).map(drop)
    }

    /// Closes the current WAL segment and waits until it is in the archive (pgBackRest's
    /// `check`): everything committed before the call can then be restored.
    pub fn check(&self) -> Result<(), StoreError> {
        self.pgbackrest(&["check"]).map(drop)
    }

    /// The backups in the repository and the WAL archive's range.
    pub fn info(&self) -> Result<RepositoryInfo, StoreError> {
        let json = self.pgbackrest(&["info", "--output=json"])?;
        RepositoryInfo::parse(&json)
    }

    /// Expires one backup and those that depend on it, then the WAL no backup needs.
    pub fn expire(&self, label: &str) -> Result<(), StoreError> {
        self.pgbackrest(&["expire", &format!("--set={label}")]).map(drop)
    }

    /// Restores the cluster's files (stopped; its data folder may be empty) so that it
    /// recovers to `target` at its next start, then promotes: every transaction committed
    /// at or before `target` and none after. The backup set is the last that ended before
    /// `target`; files already right are kept (`--delta`).
    pub(crate) fn restore(&self, target: DateTime<Utc>) -> Result<(), StoreError> {
        let target = target.format("%Y-%m-%d %H:%M:%S%.6f+00").to_string();
        self.pgbackrest(&[
            "restore",
            "--delta",
            "--type=time",
            &format!("--target={target}"),
            "--target-action=promote",
        ])
        .map(drop)
    }

    /// Whether the backup folder holds a full backup (a folder `YYYYMMDD-HHMMSSF` in the
    /// stanza's part of the repository), without asking pgBackRest.
    pub(crate) fn holds_backups(folder: &Path) -> bool {
        let Ok(entries) = std::fs::read_dir(folder.join("repo/backup").join(STANZA)) else { return false };
        entries.flatten().any(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.len() == 16 && name.ends_with('F') && e.path().is_dir()
        })
    }

    /// Forgets a stanza that holds no backup (its WAL and the kept password), so that a
    /// cluster made anew can archive here: what it held restores nothing.
    pub(crate) fn forget_empty(folder: &Path) -> Result<(), StoreError> {
        for path in [folder.join("repo/backup").join(STANZA), folder.join("repo/archive").join(STANZA)] {
            if path.exists() {
                std::fs::remove_dir_all(&path).or_cluster(|| format!("removing {}", path.display()))?;
            }
        }
        let kept = folder.join("password");
        if kept.exists() {
            std::fs::remove_file(&kept).or_cluster(|| format!("removing {}", kept.display()))?;
        }
        Ok(())
    }

    /// The cluster's password as kept in the backup folder.
    pub(crate) fn kept_password(folder: &Path) -> Option<String> {
        std::fs::read_to_string(folder.join("password")).ok().map(|p| p.trim().to_string())
    }

    /// Runs pgBackRest on the stanza with `args`: its standard output, or its complaint.
    fn pgbackrest(&self, args: &[&str]) -> Result<String, StoreError> {
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--", "pgbackrest"]);
            c
        } else {
            Command::new("pgbackrest")
        };
        command
            .arg(format!("--config={}", self.conf.display()))
            .arg(format!("--stanza={STANZA}"))
            .args(args)
            .env("PGPASSWORD", &self.password)
            // A restore runs from the data folder's parent; never from a folder the
            // postgres user cannot enter.
            .current_dir(&self.folder);
        let what = args.first().copied().unwrap_or("pgbackrest");
        let output = command.output().map_err(|e| {
            StoreError::Backup(format!("running pgbackrest {what}: {e} (install Debian's pgbackrest package)"))
        })?;
        if !output.status.success() {
            return Err(StoreError::Backup(format!(
                "pgbackrest {what} failed ({}): {} {} (log: {})",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim(),
                String::from_utf8_lossy(&output.stdout).trim(),
                self.folder.join("log").display()
            )));
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_read_back_as_written() {
        for kind in [BackupKind::Full, BackupKind::Differential, BackupKind::Incremental] {
            assert_eq!(BackupKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(BackupKind::parse("incremental"), Some(BackupKind::Incremental));
        assert_eq!(BackupKind::parse("weekly"), None);
    }

    #[test]
    fn a_folder_the_archive_command_cannot_name_is_refused() {
        let archiving = Archiving {
            folder: PathBuf::from("/tmp/back up"),
            archive_timeout_seconds: 55,
            archive_fulls: 5,
            process_max: 1,
        };
        let err = BackupRepository::configure(&archiving, Path::new("/tmp/x"), 1, "p").unwrap_err();
        assert!(err.to_string().contains("space"), "{err}");
    }
}
