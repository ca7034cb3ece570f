//! The one configuration: a commented TOML file whose defaults are [`DEFAULT_CONFIG`],
//! then environment overrides (`COCKPIT_*`), then command-line flags.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;

/// Every setting with its default and what it means. `--print-default-config` prints it.
pub const DEFAULT_CONFIG: &str = r#"# cockpit-server configuration. Every setting is shown with its default.
# Environment variables override the file: COCKPIT_LISTEN, COCKPIT_DATA_DIR, COCKPIT_LOG.

# Address and port to serve HTTP on.
listen = "127.0.0.1:8080"

# Folder of the city's geography: district.geojson, streets.geojson, villages.geojson,
# grids.geojson (WGS84), and layers in points/*.geojson and areas/*.geojson, each named
# after its file. Relative paths are relative to the working directory.
data_dir = "data/ouhai"

# Log filter (tracing-subscriber EnvFilter syntax), e.g. "info" or "cockpit_server=debug".
log = "info,tower_http=info"
"#;

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
}

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
}

impl Config {
    /// Defaults, then the file, then the environment, then the flags.
    pub fn load(cli: &Cli) -> anyhow::Result<Config> {
        let mut table: toml::Table = toml::from_str(DEFAULT_CONFIG).context("the built-in defaults")?;
        if let Some(path) = &cli.config {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            let file: toml::Table = toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
            table.extend(file);
        }
        for (key, var) in [("listen", "COCKPIT_LISTEN"), ("data_dir", "COCKPIT_DATA_DIR"), ("log", "COCKPIT_LOG")] {
            if let Ok(value) = std::env::var(var) {
                table.insert(key.into(), toml::Value::String(value));
            }
        }
        let mut config: Config = table.try_into().context("invalid configuration")?;
        if let Some(listen) = cli.listen {
            config.listen = listen;
        }
        if let Some(dir) = &cli.data_dir {
            config.data_dir = dir.clone();
        }
        Ok(config)
    }

    /// The defaults with another data folder and port 0: for tests.
    pub fn for_tests(data_dir: &Path) -> Config {
        let mut config = Config::load(&Cli::default()).unwrap_or_else(|e| panic!("built-in defaults: {e}"));
        config.data_dir = data_dir.to_path_buf();
        config.listen = SocketAddr::from(([127, 0, 0, 1], 0));
        config
    }
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
}
