//! The demonstration's indicator values: fourteen months (the history's days) of generated
//! values for every indicator of the catalogue, per street and for the district
//! (`cockpit_sim::indicator_sample`), stored as source `generated` beside the history of
//! cases, so that comparisons over time, year-on-year and rankings have shape on a first
//! start. Written once: a database holding any generated value is left as it is, and a
//! sample never replaces a value that arrived.

use std::sync::Arc;

use chrono::{DateTime, FixedOffset, Utc};
use cockpit_geo::City;
use cockpit_indicators::Search;
use cockpit_store::{AuditActor, AuditEntry, NewValue, Store};
use serde_json::json;

use super::{IndicatorsError, catalogue};
use crate::config::HistoryConfig;
use crate::geography::Geography;

/// Writes the sample values of `config`'s seed over its days up to `now` (the city's
/// local date by `offset`), unless the database holds generated values already; how many
/// it wrote.
pub async fn seed(
    store: &Store,
    city: &City,
    offset: FixedOffset,
    now: DateTime<Utc>,
    config: &HistoryConfig,
) -> Result<u64, IndicatorsError> {
    if store.has_generated_indicator_values().await? {
        return Ok(0);
    }
    // The computed indicators have their past from the history (`computed_values.rs`).
    let entries: Vec<_> = catalogue::search(store, &Search::default())
        .await?
        .into_iter()
        .map(|l| l.entry)
        .filter(|e| e.source.as_deref() != Some("computed"))
        .collect();
    let today = now.with_timezone(&offset).date_naive();
    let label = format!("cockpit-sim seed {}", config.seed);
    let values: Vec<NewValue> = cockpit_sim::indicator_sample(&entries, city, today, config.days, config.seed)
        .into_iter()
        .map(|v| NewValue {
            indicator: v.indicator,
            region: v.region,
            period: v.period,
            value: v.value,
            source: "generated",
            source_name: label.clone(),
            live_regions: Vec::new(),
        })
        .collect();
    let audit = AuditEntry {
        who: AuditActor::system(),
        action: "indicator.seed_values".into(),
        object: "indicators".into(),
        result: "ok".into(),
        detail: json!({"seed": config.seed, "days": config.days, "indicators": entries.len()}),
    };
    Ok(store.seed_indicator_values(&values, audit).await?)
}

/// On a start that seeds the history (`[history] seed_on_start`, set by `--demo`), the
/// sample values too, in the background.
pub fn seed_in_background(store: Store, geography: Arc<Geography>, offset: FixedOffset, config: HistoryConfig) {
    if !config.seed_on_start {
        return;
    }
    tokio::spawn(async move {
        let started = std::time::Instant::now();
        match seed(&store, &geography.city, offset, Utc::now(), &config).await {
            Ok(0) => {}
            Ok(n) => {
                tracing::info!(values = n, seconds = started.elapsed().as_secs_f64(), "sample indicator values written")
            }
            Err(e) => tracing::error!(error = %e, "writing the sample indicator values"),
        }
    });
}
