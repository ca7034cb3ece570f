//! The demonstration's present, with `--demo` only (`[demo] present`): case feeds arrive
//! over the real intake gateway and Open311 (`feeds.rs`), and the generated people act on
//! them through the case service (`handlers.rs`), so that the wall shows the loop moving.
//! What comes and what is done is `cockpit-sim`'s ([`cockpit_sim::Feeds`],
//! [`cockpit_sim::Handlers`]); this module only delivers and applies it.
//!
//! One task does both, on a tick, and ends when the server stops. The cases it follows are
//! kept in its memory and in the database (`demo_followed`, with the moves made on each):
//! after a restart it goes on with them where it left off.

mod feeds;
mod handlers;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use chrono::Utc;
use cockpit_sim::{Feed, Feeds, Handlers, SimError};
use cockpit_store::StoreError;
use tokio::sync::watch;

use crate::cases::{CaseService, ServiceError};
use crate::config::DemoConfig;

/// Why a feed or a move failed.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The case service refused a move.
    #[error(transparent)]
    Service(#[from] ServiceError),
    /// The generator refused.
    #[error(transparent)]
    Sim(#[from] SimError),
    /// The HTTP request failed.
    #[error("delivering a feed item: {0}")]
    Http(#[from] reqwest::Error),
    /// The server refused a delivery.
    #[error("{feed} delivery answered {status}: {body}")]
    Refused {
        /// The source.
        feed: &'static str,
        /// The HTTP status.
        status: u16,
        /// The answer.
        body: String,
    },
    /// The feed has no gateway mapping.
    #[error("source `{0}` does not deliver through the gateway")]
    NoFeed(&'static str),
    /// A token or a key could not be had.
    #[error("the feeds' credentials: {0}")]
    Credentials(String),
}

/// Starts the present when configured (`--demo`), delivering to the server listening on
/// `listening` (over HTTPS when `tls`); it ends when `stop` turns true.
pub fn start(
    cases: CaseService,
    config: DemoConfig,
    data_home: PathBuf,
    listening: SocketAddr,
    tls: bool,
    stop: watch::Receiver<bool>,
) {
    if !config.present {
        return;
    }
    let host = if listening.ip().is_unspecified() { "127.0.0.1".to_string() } else { listening.ip().to_string() };
    let host = if host.contains(':') { format!("[{host}]") } else { host };
    let base = format!("{}://{host}:{}", if tls { "https" } else { "http" }, listening.port());
    tokio::spawn(async move {
        if let Err(e) = run(cases, config, data_home, base, stop).await {
            tracing::warn!(error = %e, "the demonstration's feeds stopped");
        }
    });
}

async fn run(
    cases: CaseService,
    config: DemoConfig,
    data_home: PathBuf,
    base: String,
    mut stop: watch::Receiver<bool>,
) -> Result<(), DemoError> {
    let sender = feeds::Sender::new(&cases, &data_home, base).await?;
    let rules = cases.rules.get();
    let geography = cases.geography.get();
    let mapping = |feed: Feed| rules.sources.get(feed.source()).and_then(|s| s.mapping.as_ref());
    // A new run each start: new references, so that a restart delivers new cases.
    let run = Utc::now().timestamp().unsigned_abs();
    let feeds = Feeds::new(
        &geography.city,
        &rules.categories,
        mapping(Feed::Hotline),
        mapping(Feed::Grassroots),
        config.seed,
        run,
    )?;
    tracing::info!(
        per_minute = config.feeds_per_minute,
        time_scale = config.time_scale,
        "demonstration feeds and handlers running"
    );
    let period =
        (config.feeds_per_minute > 0).then(|| Duration::from_secs_f64(60.0 / f64::from(config.feeds_per_minute)));
    let mut next_feed = tokio::time::Instant::now();
    let mut n = 0;
    let mut people = None;
    let mut followed: BTreeMap<i64, handlers::Followed> = handlers::followed(&cases, Utc::now()).await?;
    let mut interval = tokio::time::interval(Duration::from_millis(config.tick_ms.max(10)));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            _ = stop.changed() => return Ok(()),
        }
        if *stop.borrow() {
            return Ok(());
        }
        if let Some(period) = period
            && tokio::time::Instant::now() >= next_feed
        {
            // After a long wait (the history's load holds the cases a minute) no burst.
            next_feed = (next_feed + period).max(tokio::time::Instant::now());
            let item = feeds.item(n, Utc::now());
            n += 1;
            match sender.deliver(&item).await {
                Ok(id) => handlers::follow(&cases, &mut followed, id, Utc::now()).await,
                Err(e) => tracing::warn!(error = %e, "a demonstration feed item was not delivered"),
            }
        }
        if people.is_none() {
            people = handlers::people(&cases).await.unwrap_or_else(|e| {
                tracing::warn!(error = %e, "reading the generated people");
                None
            });
        }
        if let Some(people) = &people {
            let handlers = Handlers::new(people, config.seed, config.time_scale);
            handlers::tick(&cases, &handlers, &mut followed, Utc::now()).await;
        }
    }
}
