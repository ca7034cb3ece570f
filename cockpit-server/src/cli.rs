//! The command line: flags over the configuration, and the commands besides serving.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Command-line flags.
#[derive(Debug, Default, clap::Parser)]
#[command(name = "cockpit-server", about = "The city operations cockpit server", version)]
pub struct Cli {
    /// Configuration file (TOML); settings it leaves out keep their defaults.
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// Print the default configuration, with comments, and exit.
    #[arg(long)]
    pub print_default_config: bool,
    /// Address to listen on (overrides the file and COCKPIT_LISTEN).
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// The city's data folder (overrides the file and COCKPIT_DATA_DIR).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// At the first start, create one user per role for the sample city (`[auth]
    /// bootstrap = "demo"`).
    #[arg(long)]
    pub demo: bool,
    /// What to do instead of serving.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Commands besides serving.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Start the embedded PostgreSQL cluster, print its DATABASE_URL and leave it running.
    DbStart,
    /// Stop the embedded PostgreSQL cluster.
    DbStop,
    /// Check the audit trail's hash chain from the first record to the last; exit 1 and
    /// name the first broken record if any was changed, removed or reordered.
    AuditVerify,
    /// Re-seal personal data under the active key of the key ring (after a rotation).
    Rekey,
    /// Write the demonstration's generated past into a database that has none: the
    /// district's people and `--days` days of cases ending now (`[history]` for the rest).
    SeedHistory {
        /// Days of history, ending today (default: `[history] days`).
        #[arg(long)]
        days: Option<u32>,
        /// The generator's seed (default: `[history] seed`).
        #[arg(long)]
        seed: Option<u64>,
        /// Cases on an ordinary working day (default: `[history] per_day`).
        #[arg(long)]
        per_day: Option<u32>,
    },
    /// Take a backup of the embedded database now (pgBackRest; `[backup]`), and copy the
    /// attachments the backup folder lacks. It may run beside the server.
    Backup {
        /// full, diff or incr (an incremental or differential one without a full one
        /// before it is taken full).
        #[arg(long = "type", default_value = "full")]
        kind: String,
    },
    /// Close the current WAL segment and wait until the archive has it: checks that
    /// archiving works, and makes every commit so far restorable.
    BackupCheck,
    /// List the backups kept and the WAL archive's range (times in the city's zone).
    BackupList,
    /// Restore the embedded database to a moment (every transaction committed at or before
    /// it, none after) and bring back the attachments its rows name. Stop the server first.
    Restore {
        /// The moment: `2026-12-07 13:05:00` in the city's zone, or RFC 3339 with an offset.
        #[arg(long)]
        to: String,
    },
    /// Bring back, from the backup folder's copies, every attachment the database names
    /// that the data folder lacks (after an external database was restored by its operator).
    RestoreAttachments,
    /// Publish simulated sensor readings over MQTT (the demo's devices and credentials, or
    /// those of `--credentials`), with incidents unless `--no-incidents`.
    Simulate {
        /// Broker address; default: `[mqtt] listen`.
        #[arg(long)]
        broker: Option<String>,
        /// A JSON array of `{"id", "type", "password"}`; default:
        /// `<data_home>/device-credentials.json`, written by `--demo`.
        #[arg(long)]
        credentials: Option<PathBuf>,
        /// Readings per second, over all devices.
        #[arg(long, default_value_t = 100)]
        rate: u32,
        /// Stop after this many seconds (default: never).
        #[arg(long)]
        seconds: Option<u64>,
        /// QoS of telemetry: 0 or 1.
        #[arg(long, default_value_t = 1)]
        qos: u8,
        /// Only the first N devices of the file.
        #[arg(long)]
        devices: Option<usize>,
        /// Steady readings only: no river rising, smoke alarm or silent device.
        #[arg(long)]
        no_incidents: bool,
    },
}
