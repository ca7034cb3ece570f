//! `cockpit-server`: runs the cockpit. See `--help`, and `--print-default-config` for
//! every setting with its default.

use anyhow::Context;
use clap::Parser;
use cockpit_server::{Cli, Command, Config, store::EmbeddedPostgres};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if cli.print_default_config {
        print!("{}", cockpit_server::DEFAULT_CONFIG);
        return Ok(());
    }
    let config = Config::load(&cli).context("reading the configuration")?;
    match cli.command {
        Some(Command::DbStart) => {
            let cluster = EmbeddedPostgres::start(&config.data_home, config.database.embedded_port)?;
            println!("{}", cluster.url());
            return Ok(());
        }
        Some(Command::DbStop) => {
            return EmbeddedPostgres::start(&config.data_home, config.database.embedded_port)?.stop();
        }
        Some(Command::AuditVerify) => {
            if !cockpit_server::audit_verify(&config).await? {
                std::process::exit(1);
            }
            return Ok(());
        }
        Some(Command::Rekey) => {
            let done = cockpit_server::rekey(&config).await?;
            println!("re-sealed {done} values (reporters and second-factor secrets) under the active key");
            return Ok(());
        }
        None => {}
    }
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_new(&config.log).context("the `log` setting")?)
        .init();
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("listening on {} (is another cockpit running? set COCKPIT_LISTEN)", config.listen))?;
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    cockpit_server::run(listener, config, shutdown).await
}
