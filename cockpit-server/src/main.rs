//! `cockpit-server`: runs the cockpit. See `--help`, and `--print-default-config` for
//! every setting with its default.

use anyhow::Context;
use clap::Parser;
use cockpit_server::{Cli, Command, Config};

#[global_allocator]
static ALLOCATOR: cockpit_server::Allocator = cockpit_server::Allocator;

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
            let cluster = cockpit_server::start_embedded(&config)?;
            println!("{}", cluster.url());
            return Ok(());
        }
        Some(Command::DbStop) => {
            // Through the same start as serving: a lost cluster with backups is not made anew.
            return Ok(cockpit_server::start_embedded(&config)?.stop()?);
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
        Some(Command::SeedHistory { days, seed, per_day }) => {
            tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::new("warn")).init();
            let mut config = config;
            config.history.days = days.unwrap_or(config.history.days);
            config.history.seed = seed.unwrap_or(config.history.seed);
            config.history.per_day = per_day.unwrap_or(config.history.per_day);
            let started = std::time::Instant::now();
            let s = cockpit_server::seed_history(&config).await?;
            let seconds = started.elapsed().as_secs_f64();
            println!(
                "history of {} days (seed {}): {} cases with {} timeline entries, {} generated accounts, in {seconds:.1} s",
                s.record.days, s.record.seed, s.record.cases, s.entries, s.people
            );
            return Ok(());
        }
        Some(Command::Backup { kind }) => {
            let kind = cockpit_store::BackupKind::parse(&kind)
                .with_context(|| format!("--type: `{kind}` is not full, diff or incr"))?;
            println!("{}", cockpit_server::backup::commands::backup(&config, kind).await?);
            return Ok(());
        }
        Some(Command::BackupCheck) => {
            let seconds = cockpit_server::backup::commands::check(&config).await?;
            println!("the WAL archive took the current segment in {seconds:.1} s: every commit so far is restorable");
            return Ok(());
        }
        Some(Command::BackupList) => {
            let offset = cockpit_server::city_offset(&config)?;
            print!("{}", cockpit_server::backup::commands::backup_list(&config, offset)?);
            return Ok(());
        }
        Some(Command::Restore { to }) => {
            let offset = cockpit_server::city_offset(&config)?;
            let target = cockpit_server::backup::commands::parse_target(&to, offset)?;
            let r = cockpit_server::backup::commands::restore(&config, target).await?;
            println!(
                "restored to {} (UTC{offset}): database recovered in {:.1} s, attachments in {:.1} s \
                 ({} brought back, {} in place, {} missing)",
                r.target.with_timezone(&offset).format("%Y-%m-%d %H:%M:%S%.6f"),
                r.database_seconds,
                r.total_seconds,
                r.files.copied,
                r.files.present,
                r.files.missing
            );
            if r.files.missing > 0 {
                std::process::exit(1);
            }
            return Ok(());
        }
        Some(Command::RestoreAttachments) => {
            let r = cockpit_server::backup::commands::restore_attachments(&config).await?;
            println!("attachments: {} brought back, {} in place, {} missing", r.copied, r.present, r.missing);
            if r.missing > 0 {
                std::process::exit(1);
            }
            return Ok(());
        }
        Some(Command::Simulate { broker, credentials, rate, seconds, qos, devices, no_incidents }) => {
            tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::new("warn")).init();
            let broker = broker.unwrap_or_else(|| config.mqtt.listen.to_string());
            let (host, port) = broker.rsplit_once(':').context("--broker: host:port")?;
            let port: u16 = port.parse().context("--broker: the port")?;
            let path = credentials.unwrap_or_else(|| cockpit_server::iot::demo::credentials_path(&config.data_home));
            let mut list = cockpit_server::iot::simulate::load_credentials(&path)?;
            if let Some(n) = devices {
                list.truncate(n);
            }
            let plan = cockpit_server::iot::simulate::Plan {
                broker: (host.to_string(), port),
                district: config.mqtt.district.clone(),
                rate,
                duration: seconds.map(std::time::Duration::from_secs),
                incidents: !no_incidents,
                qos: if qos == 0 { rumqttc::QoS::AtMostOnce } else { rumqttc::QoS::AtLeastOnce },
                detections: None,
            };
            let sent = std::sync::Arc::new(cockpit_server::iot::simulate::Sent::default());
            let started = std::time::Instant::now();
            cockpit_server::iot::simulate::run(list, plan, sent.clone()).await?;
            let n = sent.messages.load(std::sync::atomic::Ordering::Relaxed);
            let acked = sent.acknowledged.load(std::sync::atomic::Ordering::Relaxed);
            println!(
                "sent {n} readings in {:.1} s; {acked} QoS 1 messages acknowledged",
                started.elapsed().as_secs_f64()
            );
            return Ok(());
        }
        None => {}
    }
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_new(&config.log).context("the `log` setting")?)
        // Colours for a terminal only: a log file or journald gets plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("listening on {} (is another cockpit running? set COCKPIT_LISTEN)", config.listen))?;
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    cockpit_server::run(listener, config, shutdown).await
}
