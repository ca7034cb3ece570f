//! The embedded default database: a private PostgreSQL cluster that the server creates in
//! its data folder from the machine's PostgreSQL binaries, starts, and stops on shutdown.
//!
//! PostgreSQL refuses to run as root, so when the server runs as root the cluster is
//! owned and run by the `postgres` system user (which Debian's package creates), and lives
//! under `/var/lib/cockpit/` where that user can reach it (root's home usually cannot be
//! traversed by others). It listens on 127.0.0.1 on its own port, with its socket in its
//! own folder, so it never collides with a system cluster; the superuser `cockpit` has a
//! random password kept beside the cluster (mode 0600).

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use crate::StoreError;
use crate::backup::{Archiving, BackupRepository};

/// The identity of a data folder's cluster: a random id kept in `cluster-id` in the folder,
/// made at its first start. The cluster outside the folder (run as root) is found by path
/// and id, so a new folder at an old path (a fresh clone where an old one was) gets a new
/// cluster instead of the old one's accounts and sealed data without the old keys. A folder
/// used before ids existed (it holds `keys/`) keeps the cluster of its path: the id "".
fn cluster_id(home: &Path) -> Result<String, StoreError> {
    let file = home.join("cluster-id");
    match std::fs::read_to_string(&file) {
        Ok(id) => return Ok(id.trim().to_string()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).or_cluster(|| format!("reading {}", file.display())),
    }
    let id = if home.join("keys").exists() { String::new() } else { random_hex(8)? };
    std::fs::create_dir_all(home).or_cluster(|| format!("creating {}", home.display()))?;
    std::fs::write(&file, format!("{id}\n")).or_cluster(|| format!("writing {}", file.display()))?;
    Ok(id)
}

/// A private cluster, started.
#[derive(Debug)]
pub struct EmbeddedPostgres {
    pub(crate) root: PathBuf,
    pub(crate) bin: PathBuf,
    port: u16,
    pub(crate) password: String,
    pub(crate) as_postgres: bool,
    pub(crate) backup: Option<BackupRepository>,
    launched: bool,
}

impl EmbeddedPostgres {
    /// Where the cluster for `data_home` lives.
    pub fn location(data_home: &Path) -> Result<PathBuf, StoreError> {
        let home = std::path::absolute(data_home).or_cluster(|| "resolving the data folder".to_string())?;
        if is_root() {
            let id = cluster_id(&home)?;
            let mut digest = Sha256::new();
            digest.update(home.to_string_lossy().as_bytes());
            if !id.is_empty() {
                digest.update(b"\n");
                digest.update(id.as_bytes());
            }
            let hash = hex::encode(&digest.finalize()[..8]);
            Ok(PathBuf::from("/var/lib/cockpit").join(format!("postgres-{hash}")))
        } else {
            Ok(home.join("postgres"))
        }
    }

    /// Creates the cluster if it does not exist, starts it unless it is already running,
    /// and creates the `cockpit` database in it.
    pub fn start(data_home: &Path, port: u16) -> Result<EmbeddedPostgres, StoreError> {
        EmbeddedPostgres::start_archived(data_home, port, None)
    }

    /// [`EmbeddedPostgres::start`], archiving the WAL to the repository of `archiving`
    /// (configured, and its stanza created, at every start) when it is given.
    pub fn start_archived(
        data_home: &Path,
        port: u16,
        archiving: Option<&Archiving>,
    ) -> Result<EmbeddedPostgres, StoreError> {
        if let Some(archiving) = archiving {
            let root = EmbeddedPostgres::location(data_home)?;
            let fresh = !root.join("data/PG_VERSION").exists();
            if fresh && !BackupRepository::holds_backups(&archiving.folder) {
                BackupRepository::forget_empty(&archiving.folder)?;
            }
            if fresh && BackupRepository::holds_backups(&archiving.folder) {
                return Err(StoreError::Backup(format!(
                    "the database in {} is gone but {} holds its backups: run `cockpit-server restore --to <time>` \
                     (or move the backup folder away to start with an empty database)",
                    root.display(),
                    archiving.folder.display()
                )));
            }
        }
        let mut cluster = EmbeddedPostgres::open(data_home, port, true)?;
        if let Some(archiving) = archiving {
            cluster.backup = Some(BackupRepository::configure(archiving, &cluster.root, port, &cluster.password)?);
        }
        if !cluster.is_running() {
            cluster.launch(120)?;
            cluster.launched = true;
        }
        if let Some(repo) = &cluster.backup {
            repo.stanza_create()?;
        }
        Ok(cluster)
    }

    /// The cluster of `data_home`, made with initdb when `init` and it has no data yet.
    pub(crate) fn open(data_home: &Path, port: u16, init: bool) -> Result<EmbeddedPostgres, StoreError> {
        let root = EmbeddedPostgres::location(data_home)?;
        let bin = find_binaries()?;
        let as_postgres = is_root();
        std::fs::create_dir_all(&root).or_cluster(|| format!("creating {}", root.display()))?;
        let password_file = root.join("password");
        if init && !root.join("data/PG_VERSION").exists() {
            let password = random_hex(16)?;
            write_private(&password_file, &password)?;
            if as_postgres {
                chown_postgres(&root)?;
            }
            let mut initdb = Command::new(bin.join("initdb"));
            initdb
                .arg("-D")
                .arg(root.join("data"))
                .args(["-U", "cockpit", "--auth=scram-sha-256", "--encoding=UTF8", "--locale=C.UTF-8"])
                .arg(format!("--pwfile={}", password_file.display()));
            run(initdb, as_postgres, "initdb")?;
        }
        let password = std::fs::read_to_string(&password_file)
            .or_cluster(|| format!("reading {}", password_file.display()))?
            .trim()
            .to_string();
        Ok(EmbeddedPostgres { root, bin, port, password, as_postgres, backup: None, launched: false })
    }

    /// Starts the cluster, waiting up to `wait_seconds` for it to take connections.
    pub(crate) fn launch(&self, wait_seconds: u32) -> Result<(), StoreError> {
        let port = self.port;
        let run_dir = self.root.join("run");
        std::fs::create_dir_all(&run_dir).or_cluster(|| format!("creating {}", run_dir.display()))?;
        if self.as_postgres {
            chown_postgres(&run_dir)?;
        }
        let archiving = self.backup.as_ref().map(BackupRepository::server_options).unwrap_or_default();
        let mut pg_ctl = Command::new(self.bin.join("pg_ctl"));
        pg_ctl
            .arg("-D")
            .arg(self.root.join("data"))
            .arg("-l")
            .arg(self.root.join("postgres.log"))
            .args(["-w", "-t", &wait_seconds.to_string(), "-o"])
            // Commits stay durable (fsync, synchronous_commit); commit_delay lets
            // concurrent commits share one WAL flush. Checkpoints come at most every
            // 4 GB of WAL (1 GB made one every 27 s under a peak of readings, each followed
            // by every page written in full), and full pages are compressed (lz4).
            .arg(format!(
                "-p {port} -c listen_addresses=127.0.0.1 -k {} -c fsync=on -c synchronous_commit=on \
                 -c max_connections=200 -c shared_buffers=256MB -c commit_delay=50 -c commit_siblings=4 \
                 -c max_wal_size=4GB -c wal_compression=lz4{archiving}",
                run_dir.display()
            ))
            .arg("start");
        run(pg_ctl, self.as_postgres, "pg_ctl start").or_cluster(|| {
            format!("starting PostgreSQL on port {port} (see {})", self.root.join("postgres.log").display())
        })
    }

    /// The URL of the `cockpit` database (which [`crate::Store::connect`] creates
    /// when missing).
    pub fn url(&self) -> String {
        format!("postgres://cockpit:{}@127.0.0.1:{}/cockpit", self.password, self.port)
    }

    /// Where the cluster lives.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Whether this call started it (it was not running).
    pub fn launched(&self) -> bool {
        self.launched
    }

    /// Its backup repository, when it archives.
    pub fn backups(&self) -> Option<&BackupRepository> {
        self.backup.as_ref()
    }

    pub(crate) fn is_running(&self) -> bool {
        let mut status = Command::new(self.bin.join("pg_ctl"));
        status.arg("-D").arg(self.root.join("data")).arg("status");
        run(status, self.as_postgres, "pg_ctl status").is_ok()
    }

    /// Stops the cluster (fast shutdown: open transactions roll back, committed data stays).
    pub fn stop(&self) -> Result<(), StoreError> {
        let mut pg_ctl = Command::new(self.bin.join("pg_ctl"));
        pg_ctl.arg("-D").arg(self.root.join("data")).args(["-m", "fast", "-w", "stop"]);
        run(pg_ctl, self.as_postgres, "pg_ctl stop")
    }
}

pub(crate) fn is_root() -> bool {
    // The effective uid, from the kernel's own account of this process.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("Uid:")).map(|l| l.split_whitespace().nth(2) == Some("0")))
        .unwrap_or(false)
}

/// The newest PostgreSQL server binaries installed by Debian's packages.
pub(crate) fn find_binaries() -> Result<PathBuf, StoreError> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    match versions.pop() {
        Some((_, bin)) => Ok(bin),
        None => Err(StoreError::Cluster(
            "no PostgreSQL server found under /usr/lib/postgresql: install postgresql-15 and \
             postgresql-15-postgis-3 (./run.sh does), or set DATABASE_URL"
                .into(),
        )),
    }
}

fn run(command: Command, as_postgres: bool, what: &str) -> Result<(), StoreError> {
    let mut command = if as_postgres {
        let mut wrapped = Command::new("runuser");
        wrapped.args(["-u", "postgres", "--"]).arg(command.get_program()).args(command.get_args());
        wrapped
    } else {
        command
    };
    let output = command.output().or_cluster(|| format!("running {what}"))?;
    if !output.status.success() {
        return Err(StoreError::Cluster(format!(
            "{what} failed ({}): {}{}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim(),
            String::from_utf8_lossy(&output.stdout).trim()
        )));
    }
    Ok(())
}

pub(crate) fn chown_postgres(path: &Path) -> Result<(), StoreError> {
    let mut chown = Command::new("chown");
    chown.args(["-R", "postgres:postgres"]).arg(path);
    run(chown, false, "chown to the postgres user")
}

fn random_hex(bytes: usize) -> Result<String, StoreError> {
    use std::io::Read;
    let mut buf = vec![0u8; bytes];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .or_cluster(|| "reading /dev/urandom".to_string())?;
    Ok(hex::encode(buf))
}

pub(crate) fn write_private(path: &Path, text: &str) -> Result<(), StoreError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .or_cluster(|| format!("writing {}", path.display()))?;
    file.write_all(text.as_bytes()).or_cluster(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// Failures of the cluster's files and commands, with what was being done.
pub(crate) trait OrCluster<T> {
    fn or_cluster(self, doing: impl FnOnce() -> String) -> Result<T, StoreError>;
}

impl<T, E: std::fmt::Display> OrCluster<T> for Result<T, E> {
    fn or_cluster(self, doing: impl FnOnce() -> String) -> Result<T, StoreError> {
        self.map_err(|e| StoreError::Cluster(format!("{}: {e}", doing())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("cockpit-cluster-id-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn a_new_folder_gets_an_id_of_its_own_and_keeps_it() {
        let home = folder("new");
        let first = cluster_id(&home).unwrap();
        assert_eq!(first.len(), 16, "{first}");
        assert_eq!(cluster_id(&home).unwrap(), first, "kept");
        // The same path made again (a fresh clone): another id, so another cluster.
        std::fs::remove_dir_all(&home).unwrap();
        assert_ne!(cluster_id(&home).unwrap(), first);
        std::fs::remove_dir_all(&home).unwrap();
    }

    #[test]
    fn a_folder_used_before_ids_keeps_the_cluster_of_its_path() {
        let home = folder("legacy");
        std::fs::create_dir_all(home.join("keys")).unwrap();
        assert_eq!(cluster_id(&home).unwrap(), "");
        assert_eq!(std::fs::read_to_string(home.join("cluster-id")).unwrap(), "\n");
        std::fs::remove_dir_all(&home).unwrap();
    }
}
