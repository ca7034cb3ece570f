//! The one configuration: a commented TOML file whose defaults are [`DEFAULT_CONFIG`],
//! then environment overrides (`COCKPIT_*`), then command-line flags.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;

use crate::cli::Cli;

/// Every setting with its default and what it means (`cockpit-server/config.default.toml`,
/// a commented TOML file an operator copies and edits). `--print-default-config` prints it.
pub const DEFAULT_CONFIG: &str = include_str!("../config.default.toml");

/// The server's settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where to serve HTTP.
    pub listen: SocketAddr,
    /// The city's data folder.
    pub data_dir: PathBuf,
    /// Log filter.
    pub log: String,
    /// What the server writes.
    pub data_home: PathBuf,
    /// The database.
    pub database: DatabaseConfig,
    /// Case handling.
    pub cases: CasesConfig,
    /// Attachments.
    pub attachments: AttachmentsConfig,
    /// Accounts and sessions.
    pub auth: AuthConfig,
    /// Personal data.
    pub privacy: PrivacyConfig,
    /// HTTP hardening.
    pub http: HttpConfig,
    /// `[mqtt]`.
    pub mqtt: MqttConfig,
    /// `[iot]`.
    pub iot: IotConfig,
    /// The live streams.
    pub live: LiveConfig,
    /// City vital signs.
    pub indicators: IndicatorsConfig,
    /// Open311 for citizens' applications.
    pub open311: Open311Config,
    /// The demonstration's generated past.
    pub history: HistoryConfig,
    /// The demonstration's present: case feeds and simulated handlers.
    pub demo: DemoConfig,
    /// Backups and point-in-time recovery.
    pub backup: BackupConfig,
}

/// `[demo]`.
#[allow(missing_docs)] // One field per setting; see DEFAULT_CONFIG.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoConfig {
    pub present: bool,
    pub feeds_per_minute: u32,
    pub time_scale: u32,
    pub seed: u64,
    pub tick_ms: u64,
}

/// `[backup]`.
#[allow(missing_docs)] // One field per setting; see DEFAULT_CONFIG.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupConfig {
    pub enabled: bool,
    pub folder: PathBuf,
    pub rpo_seconds: u32,
    pub hour: u32,
    pub full_weekday: u32,
    pub incremental_days: u32,
    pub weekly_full_days: u32,
    pub monthly_full_months: u32,
    pub processes: u32,
    pub check_seconds: u64,
}

/// `[history]`.
#[allow(missing_docs)] // One field per setting; see DEFAULT_CONFIG.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryConfig {
    pub seed_on_start: bool,
    pub days: u32,
    pub per_day: u32,
    pub seed: u64,
    pub readings_every_minutes: u32,
}

/// `[open311]`.
#[allow(missing_docs)] // One field per setting; see DEFAULT_CONFIG.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Open311Config {
    pub per_key_per_minute: u32,
    pub per_address_per_minute: u32,
}

/// `[indicators]`.
#[allow(missing_docs)] // One field per setting; see DEFAULT_CONFIG.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorsConfig {
    pub catalogue: PathBuf,
    pub interval_seconds: u64,
    pub sample: PathBuf,
    pub assessment_models: PathBuf,
    pub wait_check_seconds: u64,
    pub pull_hosts: Vec<String>,
}

/// `[auth]`.
#[allow(missing_docs)] // One field per setting; see DEFAULT_CONFIG.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    pub access_token_seconds: i64,
    pub refresh_token_hours: i64,
    pub max_failed_logins: u32,
    pub lockout_minutes: i64,
    pub password_max_age_days: u32,
    pub password_min_length: usize,
    pub login_per_minute: u32,
    pub token_key_file: PathBuf,
    pub bootstrap: Bootstrap,
}

/// `[privacy]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivacyConfig {
    /// The key ring file; empty for the generated one.
    pub key_file: PathBuf,
}

impl Config {
    /// The token key file in use.
    pub fn token_key_path(&self) -> PathBuf {
        if self.auth.token_key_file.as_os_str().is_empty() {
            self.data_home.join("keys/token.key")
        } else {
            self.auth.token_key_file.clone()
        }
    }

    /// The personal-data key ring file in use.
    pub fn key_ring_path(&self) -> PathBuf {
        if self.privacy.key_file.as_os_str().is_empty() {
            self.data_home.join("keys/personal-data.keys")
        } else {
            self.privacy.key_file.clone()
        }
    }
}

/// `[attachments]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachmentsConfig {
    /// The largest accepted file, in bytes.
    pub max_bytes: usize,
}

/// `[database]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// PostgreSQL URL; empty for the embedded cluster.
    pub url: String,
    /// The embedded cluster's port.
    pub embedded_port: u16,
    /// Pool size.
    pub max_connections: u32,
}

/// `[cases]`.
#[allow(missing_docs)] // One field per column or setting; see migrations/0001_cases.sql and the config.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CasesConfig {
    pub warn_percent: u8,
    pub realarm_minutes: u32,
    pub scheduler_interval_seconds: u64,
    pub duplicate_distance_m: f64,
    pub duplicate_window_minutes: u32,
    /// Creates waiting to be written; past it, creates from outside get 503 with Retry-After.
    pub create_queue: usize,
}

/// `[mqtt]`: how sensors reach the cockpit.
#[allow(missing_docs)] // Each setting is described in DEFAULT_CONFIG.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MqttConfig {
    pub mode: MqttMode,
    pub listen: SocketAddr,
    pub url: String,
    pub username: String,
    pub password_file: PathBuf,
    pub client_id: String,
    pub share_group: String,
    pub split: MqttSplit,
    pub claim_lease_seconds: u64,
    pub district: String,
    pub critical: Vec<cockpit_iot::TopicKind>,
    pub max_connections: usize,
    pub max_packet_bytes: usize,
    pub max_waiting_logins: usize,
}

/// Where MQTT messages come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MqttMode {
    /// The server is the broker.
    Embedded,
    /// The server subscribes to the city's broker.
    External,
    /// No MQTT at all.
    Off,
}

/// How instances on one external broker split the district's messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MqttSplit {
    /// Each instance receives every message and claims whole grids (docs/operations.md).
    Claim,
    /// A shared subscription: the broker hands each message to one instance.
    Share,
}

/// `[iot]`: rules, alarms, telemetry history and the demonstration simulator.
#[allow(missing_docs)] // Each setting is described in DEFAULT_CONFIG.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IotConfig {
    pub rules_file: PathBuf,
    pub detections_file: PathBuf,
    pub case_severity: String,
    pub storm_window_seconds: i64,
    pub storm_threshold: usize,
    pub retention_days: i64,
    pub aggregate_retention_days: i64,
    pub history_writers: usize,
    pub simulate: bool,
    pub simulate_rate: u32,
    pub simulate_detections_per_minute: u32,
}

impl Config {
    /// Defaults, then the file, then the environment, then the flags.
    pub fn load(cli: &Cli) -> anyhow::Result<Config> {
        let mut table: toml::Table = toml::from_str(DEFAULT_CONFIG).context("the built-in defaults")?;
        if let Some(path) = &cli.config {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            let file: toml::Table = toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
            merge(&mut table, file);
        }
        for (key, var) in [
            ("listen", "COCKPIT_LISTEN"),
            ("data_dir", "COCKPIT_DATA_DIR"),
            ("log", "COCKPIT_LOG"),
            ("data_home", "COCKPIT_DATA_HOME"),
        ] {
            if let Ok(value) = std::env::var(var) {
                table.insert(key.into(), toml::Value::String(value));
            }
        }
        if let Ok(listen) = std::env::var("COCKPIT_MQTT_LISTEN")
            && let Some(toml::Value::Table(mqtt)) = table.get_mut("mqtt")
        {
            mqtt.insert("listen".into(), toml::Value::String(listen));
        }
        if let Ok(url) = std::env::var("DATABASE_URL")
            && let Some(toml::Value::Table(database)) = table.get_mut("database")
        {
            database.insert("url".into(), toml::Value::String(url));
        }
        let mut config: Config = table.try_into().context("invalid configuration")?;
        if let Some(listen) = cli.listen {
            config.listen = listen;
        }
        if let Some(dir) = &cli.data_dir {
            config.data_dir = dir.clone();
        }
        if cli.demo {
            config.auth.bootstrap = Bootstrap::Demo;
            config.iot.simulate = true;
            config.history.seed_on_start = true;
            config.demo.present = true;
        }
        Ok(config)
    }

    /// The defaults with another data folder, port 0 and the given database: for tests.
    pub fn for_tests(data_dir: &Path, database_url: &str) -> Config {
        let mut config = Config::load(&Cli::default()).unwrap_or_else(|e| panic!("built-in defaults: {e}"));
        config.data_dir = data_dir.to_path_buf();
        config.listen = SocketAddr::from(([127, 0, 0, 1], 0));
        config.database.url = database_url.to_string();
        config.database.max_connections = 4;
        config.data_home = std::env::temp_dir().join(format!("cockpit-test-{}", std::process::id()));
        config.auth.bootstrap = Bootstrap::None;
        // Tests log in and report often from one address.
        config.auth.login_per_minute = 100_000;
        config.open311.per_address_per_minute = 100_000;
        config.mqtt.listen = SocketAddr::from(([127, 0, 0, 1], 0));
        // Tests wait for recomputed indicators; a second is the shortest interval.
        config.indicators.interval_seconds = 1;
        // The other systems tests pull from are their own HTTP servers on this machine.
        config.indicators.pull_hosts = vec!["127.0.0.1".into()];
        // Tests share one cluster through DATABASE_URL; the restore drill turns it on.
        config.backup.enabled = false;
        config
    }

    /// The tests' configuration with the shipped timings: a benchmark measures the server
    /// as it runs in production, not with the tests' shortened intervals.
    pub fn for_benches(data_dir: &Path, database_url: &str) -> Config {
        let shipped = Config::load(&Cli::default()).unwrap_or_else(|e| panic!("built-in defaults: {e}"));
        let mut config = Config::for_tests(data_dir, database_url);
        config.indicators.interval_seconds = shipped.indicators.interval_seconds;
        config
    }
}

/// Overlays `over` on `base`, table by table, so a file may set one key of a section.
fn merge(base: &mut toml::Table, over: toml::Table) {
    for (key, value) in over {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(inner)), toml::Value::Table(over_inner)) => merge(inner, over_inner),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// `[live]`: the live streams' bounds and timing.
#[allow(missing_docs)] // One field per setting; see DEFAULT_CONFIG.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiveConfig {
    pub history: usize,
    pub queue: usize,
    pub max_pending_values: usize,
    pub device_rate_per_second: u32,
    pub statistics_interval_ms: u64,
    pub heartbeat_seconds: u64,
    pub idle_timeout_seconds: u64,
    pub write_timeout_seconds: u64,
    pub max_subscriptions: usize,
    pub snapshot_limit: i64,
}

/// `[http]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// PEM certificate chain; with `tls_key_file`, the server speaks HTTPS only.
    pub tls_cert_file: PathBuf,
    /// PEM private key.
    pub tls_key_file: PathBuf,
    /// Origins allowed to call the API from a browser page they serve; empty: none
    /// (the cockpit's own pages are same-origin and need no CORS).
    pub cors_origins: Vec<String>,
    /// The largest request body, except attachment uploads (`[attachments] max_bytes`).
    pub max_body_bytes: usize,
    /// The built web front ends, served at `/` (see `crate::web`).
    pub web_dir: PathBuf,
}

/// Which accounts a first start creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bootstrap {
    /// None: accounts come from elsewhere.
    None,
    /// The system administrator, the security administrator and the auditor.
    Admins,
    /// One user per role, scoped to the sample city (a grid worker on one grid).
    Demo,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_file_parses_and_unknown_keys_are_refused() {
        let config = Config::load(&Cli::default()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(config.data_dir, PathBuf::from("data/ouhai"));
        let mut table: toml::Table = toml::from_str(DEFAULT_CONFIG).unwrap_or_else(|e| panic!("{e}"));
        table.insert("lisen".into(), toml::Value::String("x".into()));
        let err = toml::Value::Table(table).try_into::<Config>().err().unwrap_or_else(|| panic!("must fail"));
        assert!(err.to_string().contains("lisen"), "{err}");
    }

    #[test]
    fn a_file_may_set_one_key_of_a_section() {
        let mut table: toml::Table = toml::from_str(DEFAULT_CONFIG).unwrap_or_else(|e| panic!("{e}"));
        merge(&mut table, toml::from_str("[database]\nembedded_port = 1234\n").unwrap_or_else(|e| panic!("{e}")));
        let config: Config = toml::Value::Table(table).try_into().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(config.database.embedded_port, 1234);
        assert_eq!(config.database.max_connections, 16);
    }
}
