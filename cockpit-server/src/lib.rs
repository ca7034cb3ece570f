//! The cockpit's server: configuration, start-up, the PostGIS store, the case service and
//! its deadline scheduler, and the HTTP API over the domain crates.
//!
//! `app(state)` builds the router and `run(listener, config, shutdown)` serves it, so that
//! tests start the whole server in-process on port 0 and `main` stays short.

mod api;
pub mod attachments;
mod auth;
pub mod backup;
mod cases;
mod cli;
mod commands;
mod config;
pub mod deadlines;
mod demo;
mod documents;
mod geography;
pub mod history;
pub mod http;
pub mod indicators;
pub mod iot;
mod limits;
pub mod live;
pub mod privacy;
mod web;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::TimeDelta;
use cockpit_events::{DeadlinePolicy, DuplicatePolicy};

pub use api::{Access, RouteInfo, app, route_table};
pub use auth::Bootstrap;
pub use cases::{CaseRules, CaseService};
pub use cli::{Cli, Command};
use cockpit_store::{EmbeddedPostgres, Store};
pub use commands::{audit_verify, rekey, seed_history};
pub use config::{Config, DEFAULT_CONFIG, DemoConfig, HistoryConfig, IotConfig, MqttConfig, MqttMode};
pub use geography::{Geography, GeographyEdits, GeographyHandle};
use limits::RateLimits;
/// The allocator the binary runs on (and the benches, which run the server in-process):
/// the server's hot paths (an MQTT reading, a case create) make many small short-lived
/// allocations, which glibc's allocator served at about a quarter of their CPU time.
pub use mimalloc::MiMalloc as Allocator;

/// Everything the handlers share. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The city and its layers in force (an operator may edit them while running).
    pub geography: GeographyHandle,
    /// The edits behind `geography`.
    pub geography_edits: GeographyEdits,
    /// Cases: the store and the city's rules.
    pub cases: CaseService,
    /// Case attachments on disk.
    pub attachments: attachments::AttachmentStore,
    /// Logins, sessions and the principal of each request.
    pub(crate) auth: Arc<auth::Auth>,
    /// HTTP hardening settings.
    pub http: http::HttpConfig,
    /// Sensors: the device directory, latest states, alarms and the live bus.
    pub iot: iot::Iot,
    /// The live streams of this instance.
    pub live: live::Hub,
    /// City vital signs per region.
    pub indicators: indicators::Indicators,
    /// The client of indicator pulls, with the hosts they may fetch.
    pub pulls: indicators::pull::Puller,
    /// Backups: the schedule's settings and what it last saw.
    pub backups: backup::Backups,
    intake_limits: Arc<RateLimits>,
    /// Open311's budgets per key and per client address.
    open311: (config::Open311Config, Arc<RateLimits>),
}

impl AppState {
    /// Loads the geography and the case rules named by the configuration, over `store`,
    /// and starts the IoT pipeline's tasks, which end when `stop` turns true.
    pub async fn load(
        config: &Config,
        store: Store,
        stop: tokio::sync::watch::Receiver<bool>,
    ) -> anyhow::Result<AppState> {
        let files = geography::GeographyFiles::read(&config.data_dir)
            .with_context(|| format!("loading the city from {}", config.data_dir.display()))?;
        let rules = case_rules(config)?;
        let geography_edits = GeographyEdits::start(files, store.clone())
            .await
            .with_context(|| format!("loading the city from {} and its edits", config.data_dir.display()))?;
        let geography = geography_edits.handle();
        store.sync_sources(&rules.source_records()).await.context("writing the sources to the database")?;
        cases::bootstrap_source_tokens(&store, &rules, &config.data_home)
            .await
            .context("issuing the source systems' tokens")?;
        let departments = auth::load_departments(&config.data_dir)?;
        store.sync_departments(&departments).await.context("writing the departments to the database")?;
        store.seed_roles().await.context("writing the shipped roles")?;
        let token_key = auth::load_or_create_token_key(&config.token_key_path())?;
        let ring = Arc::new(auth::load_or_create_key_ring(&config.key_ring_path())?);
        let sealed =
            privacy::reseal(&store, &ring, false).await.context("sealing personal data stored in the clear")?;
        if sealed > 0 {
            tracing::info!(cases = sealed, "sealed reporters stored in the clear");
        }
        let a = &config.auth;
        let settings = auth::AuthSettings {
            access_seconds: a.access_token_seconds.max(1),
            refresh_hours: a.refresh_token_hours.max(1),
            lockout: cockpit_access::LockoutPolicy {
                max_failures: a.max_failed_logins.max(1),
                lock_seconds: a.lockout_minutes.max(1) * 60,
            },
            password: cockpit_access::PasswordPolicy { min_length: a.password_min_length.max(8) },
            login_per_minute: a.login_per_minute.max(1),
            password_max_age: (a.password_max_age_days > 0)
                .then(|| chrono::TimeDelta::days(i64::from(a.password_max_age_days))),
        };
        let auth = Arc::new(auth::Auth::new(store.clone(), token_key, ring.clone(), settings));
        auth::bootstrap_accounts(&store, &auth, &geography.get().city, a.bootstrap, &config.data_home)
            .await
            .context("creating the first accounts")?;
        let documents =
            cases::RuleDocuments::start(rules, store.clone()).await.context("reading the edited rules documents")?;
        let rules = documents.handle();
        let batcher = cases::Batcher::start(store.clone(), rules.clone(), geography.clone(), config.cases.create_queue);
        let reads = cases::ReadAudit::start(store.clone());
        let cases = CaseService {
            store,
            geography: geography.clone(),
            rules,
            documents,
            batcher,
            privacy: ring,
            reads,
            stats: cases::StatsCache::default(),
        };
        let live = live::Hub::new(cases.clone(), config.live.clone());
        let backups = backup::Backups::new(backup::BackupSettings::from_config(config)?);
        let mut attachments = attachments::AttachmentStore::new(&config.data_home, config.attachments.max_bytes);
        if let Some(settings) = backups.settings() {
            attachments = attachments.with_mirror(settings.attachments_folder());
        }
        if config.iot.simulate {
            iot::demo::register_devices(&cases, &config.data_dir, &config.data_home).await?;
        }
        let stop_indicators = stop.clone();
        let iot =
            iot::Iot::start(cases.store.clone(), cases.clone(), &config.mqtt, &config.iot, &config.data_dir, stop)
                .await
                .context("starting the IoT pipeline")?;
        let indicators = indicators::Indicators::load(&config.data_dir.join(&config.indicators.catalogue))?;
        let sample = config.data_dir.join(&config.indicators.sample);
        let seeded = indicators::catalogue::seed(&cases.store, &geography.get().city, &sample)
            .await
            .context("loading the sample indicator catalogue")?;
        if seeded > 0 {
            tracing::info!(indicators = seeded, "loaded the sample indicator catalogue");
        }
        let models = config.data_dir.join(&config.indicators.assessment_models);
        let seeded = indicators::assessment::seed(&cases.store, &models)
            .await
            .context("loading the sample assessment models")?;
        if seeded > 0 {
            tracing::info!(models = seeded, "loaded the sample assessment models");
        }
        indicators
            .start(
                cases.clone(),
                {
                    let iot = iot.clone();
                    Box::new(move || {
                        let now = iot.devices_now().into_iter();
                        now.map(|d| indicators::computed::DeviceNow {
                            regions: d.regions,
                            device_type: d.device_type,
                            online: d.online,
                        })
                        .collect()
                    })
                },
                {
                    let live = live.clone();
                    move |entries| live.indicators_changed(entries)
                },
                std::time::Duration::from_secs(config.indicators.interval_seconds),
                stop_indicators,
            )
            .await
            .context("computing the indicators")?;
        Ok(AppState {
            geography,
            geography_edits,
            cases,
            attachments,
            auth,
            http: config.http.clone(),
            iot,
            live,
            indicators,
            pulls: indicators::pull::Puller::from_config(&config.indicators.pull_hosts)?,
            backups,
            intake_limits: Arc::new(RateLimits::default()),
            open311: (config.open311.clone(), Arc::new(RateLimits::default())),
        })
    }
}

/// Starts the embedded cluster (if it is not running), archiving as `[backup]` says.
pub fn start_embedded(config: &Config) -> anyhow::Result<EmbeddedPostgres> {
    let backups = backup::BackupSettings::from_config(config)?;
    let archiving = backups.map(|b| b.archiving);
    EmbeddedPostgres::start_archived(&config.data_home, config.database.embedded_port, archiving.as_ref())
        .context("starting the embedded PostgreSQL (or set DATABASE_URL, or [backup] enabled = false)")
}

/// Connects to the configured database, or starts the embedded one.
pub async fn open_store(config: &Config) -> anyhow::Result<(Store, Option<EmbeddedPostgres>)> {
    let (url, embedded) = if config.database.url.is_empty() {
        let cluster = start_embedded(config)?;
        tracing::info!(cluster = %cluster.root().display(), port = config.database.embedded_port, "embedded PostgreSQL running");
        (cluster.url(), Some(cluster))
    } else {
        (config.database.url.clone(), None)
    };
    let store = Store::connect(&url, config.database.max_connections).await?;
    Ok((store, embedded))
}

/// Serves the cockpit on `listener` until `shutdown` completes, then stops the scheduler
/// and, if it started one, the embedded database.
pub async fn run(
    listener: tokio::net::TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    run_observed(listener, config, shutdown, None).await
}

/// [`run`], handing the running server's state to `observer` once it is loaded (for
/// benchmarks that watch the live bus).
pub async fn run_observed(
    listener: tokio::net::TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
    observer: Option<tokio::sync::oneshot::Sender<AppState>>,
) -> anyhow::Result<()> {
    let (store, embedded) = open_store(&config).await?;
    let repo = embedded.as_ref().and_then(|c| c.backups().cloned());
    let served = serve(listener, &config, store, repo, shutdown, observer).await;
    if let Some(cluster) = embedded
        && let Err(e) = cluster.stop()
    {
        tracing::warn!(error = %e, "stopping the embedded PostgreSQL");
    }
    served
}

async fn serve(
    listener: tokio::net::TcpListener,
    config: &Config,
    store: Store,
    repo: Option<cockpit_store::BackupRepository>,
    shutdown: impl Future<Output = ()> + Send + 'static,
    observer: Option<tokio::sync::oneshot::Sender<AppState>>,
) -> anyhow::Result<()> {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let state = AppState::load(config, store.clone(), stopped.clone()).await?;
    let hub = state.live.clone();
    let follower = hub.start().await.context("loading the live log")?;
    // WebSockets close (1001) when shutdown begins, so that serving can end.
    let shutdown = {
        let hub = hub.clone();
        async move {
            shutdown.await;
            hub.stop();
        }
    };
    if let Some(observer) = observer {
        let _ = observer.send(state.clone());
    }
    let mqtt = iot::start_transport(&state.iot, config, stopped.clone()).await?;
    // Alarms and device values from the sensors reach the live streams.
    tokio::spawn(iot::live::run(state.iot.clone(), hub.clone(), stopped.clone()));
    let chainer = tokio::spawn(chain_audit(store.clone(), stopped.clone()));
    // Red indicator alarms get their case (once per episode, whichever instance opens it).
    tokio::spawn(indicators::alarm_cases::run(state.cases.clone(), stopped.clone()));
    // A level waiting for its minimum duration is raised or cleared when the wait is over,
    // though no new value comes.
    if config.indicators.wait_check_seconds > 0 {
        let (geography, rules) = (state.geography.clone(), state.cases.rules.clone());
        tokio::spawn(indicators::alarm_timer::run(
            store.clone(),
            Duration::from_secs(config.indicators.wait_check_seconds),
            move || geography.get(),
            move || rules.get().calendar.offset(),
            stopped.clone(),
        ));
    }
    // Indicator values pulled from other systems, each pull on its own task when due.
    tokio::spawn(indicators::pull::schedule::run(state.cases.clone(), state.pulls.clone(), stopped.clone()));
    // Rules documents edited through another instance come into force here within seconds.
    tokio::spawn(state.cases.documents.clone().follow(Duration::from_secs(5), stopped.clone()));
    tokio::spawn(state.geography_edits.clone().follow(Duration::from_secs(5), stopped.clone()));
    tokio::spawn(state.iot.rules().clone().follow(Duration::from_secs(5), stopped.clone()));
    // The demonstration's present (--demo only): case feeds and simulated handlers.
    demo::start(
        state.cases.clone(),
        config.demo.clone(),
        config.data_home.clone(),
        listener.local_addr()?,
        config.http.tls(),
        stopped.clone(),
    );
    let rules = state.cases.rules.clone();
    let files = state.attachments.root().to_path_buf();
    let offset = move || rules.get().calendar.offset();
    tokio::spawn(state.backups.clone().run(store.clone(), repo, files, offset, stopped.clone()));
    let scheduler = tokio::spawn(deadlines::run(
        store,
        Duration::from_secs(config.cases.scheduler_interval_seconds.max(1)),
        TimeDelta::minutes(i64::from(config.cases.realarm_minutes.max(1))),
        stopped,
    ));
    let g = state.geography.get();
    tracing::info!(
        regions = g.city.regions().len(),
        point_layers = g.points.len(),
        area_layers = g.areas.len(),
        address = %listener.local_addr()?,
        "cockpit serving"
    );
    // Last, once everything that starts by reading cases has: the load locks them a while.
    history::start_in_background(config, &state).await;
    let router = app(state);
    let served = if config.http.tls() {
        http::serve_tls(listener, router, &config.http, shutdown).await
    } else {
        axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>())
            .with_graceful_shutdown(shutdown)
            .await
            .context("serving HTTP")
    };
    let _ = stop.send(true);
    if let Some(mqtt) = mqtt {
        let _ = mqtt.await;
    }
    hub.stop();
    let _ = follower.await;
    let _ = scheduler.await;
    let _ = chainer.await;
    served
}

/// Chains pending audit records every 200 ms, and once more when `stop` turns true.
async fn chain_audit(store: Store, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut interval = tokio::time::interval(Duration::from_millis(200));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let stopping = tokio::select! {
            _ = interval.tick() => false,
            _ = stop.changed() => true,
        };
        if let Err(e) = store.chain_audit().await {
            tracing::warn!(error = %e, "chaining audit records failed; retrying");
        }
        if stopping {
            return;
        }
    }
}

/// The city's zone, from its working calendar (`backup-list` and `restore` read times in it).
pub fn city_offset(config: &Config) -> anyhow::Result<chrono::FixedOffset> {
    Ok(case_rules(config)?.calendar.offset())
}

/// The case rules of the data folder, with the configured deadline and duplicate policies.
pub(crate) fn case_rules(config: &Config) -> anyhow::Result<CaseRules> {
    let c = &config.cases;
    CaseRules::load(
        &config.data_dir,
        DeadlinePolicy { warn_percent: c.warn_percent, realarm_minutes: c.realarm_minutes },
        DuplicatePolicy { max_distance_m: c.duplicate_distance_m, window_minutes: c.duplicate_window_minutes },
    )
    .with_context(|| format!("loading the case rules from {}/cases", config.data_dir.display()))
}
