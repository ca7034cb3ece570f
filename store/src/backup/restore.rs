//! A point-in-time restore of the embedded cluster: stopped, its files restored from the
//! repository (onto an empty or lost data folder too), started, and waited for until its
//! recovery reached the target and it was promoted.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::{Archiving, BackupRepository};
use crate::embedded::{OrCluster, chown_postgres, write_private};
use crate::{EmbeddedPostgres, StoreError};

/// How long the restored cluster may take to replay the WAL up to the target.
const RECOVERY_LIMIT: Duration = Duration::from_secs(24 * 3600);

impl EmbeddedPostgres {
    /// The repository of the cluster of `data_home`, configured, without starting the
    /// cluster (what a listing needs).
    pub fn repository(data_home: &Path, port: u16, archiving: &Archiving) -> Result<BackupRepository, StoreError> {
        let root = EmbeddedPostgres::location(data_home)?;
        let password = BackupRepository::kept_password(&archiving.folder)
            .or_else(|| std::fs::read_to_string(root.join("password")).ok().map(|p| p.trim().to_string()))
            .ok_or_else(|| StoreError::Backup(format!("no cluster password in {}", root.display())))?;
        BackupRepository::configure(archiving, &root, port, &password)
    }

    /// Restores the cluster of `data_home` to `target` from the repository of `archiving`
    /// and leaves it running, recovered and promoted: every transaction committed at or
    /// before `target`, none after. The cluster is stopped first if it runs; its data
    /// folder may be gone (the password comes back from the backup folder's copy).
    pub fn restore(
        data_home: &Path,
        port: u16,
        archiving: &Archiving,
        target: DateTime<Utc>,
    ) -> Result<EmbeddedPostgres, StoreError> {
        let root = EmbeddedPostgres::location(data_home)?;
        std::fs::create_dir_all(&root).or_cluster(|| format!("creating {}", root.display()))?;
        // The password of the cluster the backups are of, which a cluster made anew at
        // this place since (a start after the loss) would have replaced.
        let password_file = root.join("password");
        match BackupRepository::kept_password(&archiving.folder) {
            Some(kept) => write_private(&password_file, &kept)?,
            None if password_file.exists() => {}
            None => {
                return Err(StoreError::Backup(format!(
                    "no cluster password in {} nor in the backup folder {}",
                    root.display(),
                    archiving.folder.display()
                )));
            }
        }
        let mut cluster = EmbeddedPostgres::open(data_home, port, false)?;
        let repo = BackupRepository::configure(archiving, &cluster.root, port, &cluster.password)?;
        cluster.backup = Some(repo.clone());
        if cluster.is_running() {
            cluster.stop()?;
        }
        let data = cluster.root.join("data");
        std::fs::create_dir_all(&data).or_cluster(|| format!("creating {}", data.display()))?;
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o700))
                .or_cluster(|| format!("restricting {}", data.display()))?;
        }
        if cluster.as_postgres {
            chown_postgres(&cluster.root)?;
        }
        repo.restore(target)?;
        cluster.launch(RECOVERY_LIMIT.as_secs() as u32)?;
        // Hot standby lets pg_ctl return once the replay is consistent; the cluster is
        // the database again once its control file says "in production", after the
        // promotion at the target. A target the archive never reached stops the server.
        let started = Instant::now();
        while !cluster.in_production()? {
            if !cluster.is_running() || started.elapsed() > RECOVERY_LIMIT {
                return Err(StoreError::Backup(format!(
                    "the restored cluster did not recover to {target} (see {})",
                    cluster.root.join("postgres.log").display()
                )));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(cluster)
    }

    /// Whether the control file says the cluster is in production (not recovering).
    fn in_production(&self) -> Result<bool, StoreError> {
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(self.bin.join("pg_controldata"));
            c
        } else {
            Command::new(self.bin.join("pg_controldata"))
        };
        let output = command
            .arg("-D")
            .arg(self.root.join("data"))
            .output()
            .or_cluster(|| "running pg_controldata".to_string())?;
        let text = String::from_utf8_lossy(&output.stdout);
        Ok(text.lines().any(|l| l.starts_with("Database cluster state:") && l.trim_end().ends_with("in production")))
    }
}
