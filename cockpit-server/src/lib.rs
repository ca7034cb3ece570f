//! The cockpit's server: configuration, start-up, and the HTTP API over the domain crates.
//!
//! `app(state)` builds the router and `run(listener, config, shutdown)` serves it, so that
//! tests start the whole server in-process on port 0 and `main` stays short.

mod api;
mod config;
mod geography;

use std::future::Future;
use std::sync::Arc;

use anyhow::Context;

pub use api::app;
pub use config::{Cli, Config, DEFAULT_CONFIG};
pub use geography::Geography;

/// Everything the handlers share. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The city and its layers, loaded at start-up and read-only after.
    pub geography: Arc<Geography>,
}

impl AppState {
    /// Loads what the configuration names.
    pub fn load(config: &Config) -> anyhow::Result<AppState> {
        let geography = Geography::load(&config.data_dir)
            .with_context(|| format!("loading the city from {}", config.data_dir.display()))?;
        Ok(AppState { geography: Arc::new(geography) })
    }
}

/// Serves the cockpit on `listener` until `shutdown` completes.
pub async fn run(
    listener: tokio::net::TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let state = AppState::load(&config)?;
    let g = &state.geography;
    tracing::info!(
        regions = g.city.regions().len(),
        point_layers = g.points.len(),
        area_layers = g.areas.len(),
        address = %listener.local_addr()?,
        "cockpit serving"
    );
    axum::serve(listener, app(state)).with_graceful_shutdown(shutdown).await.context("serving HTTP")
}
