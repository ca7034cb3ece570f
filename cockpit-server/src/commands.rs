//! The one-shot commands on the city's database (`audit-verify`, `seed-history`, `rekey`):
//! each opens the store as a start does and, when it started the embedded cluster itself,
//! stops it again; a cluster that was running before (under a server, or `db-start`) is
//! left running.

use std::sync::Arc;

use anyhow::Context;

use crate::{Config, Geography, auth, case_rules, history, indicators, open_store, privacy};
use cockpit_store::EmbeddedPostgres;

/// Stops the embedded cluster if this command started it.
fn release(embedded: Option<EmbeddedPostgres>) {
    if let Some(cluster) = embedded.filter(EmbeddedPostgres::launched) {
        cluster.stop().ok();
    }
}

/// `cockpit-server audit-verify`: walks the audit chain; false when it is broken.
pub async fn audit_verify(config: &Config) -> anyhow::Result<bool> {
    let (store, embedded) = open_store(config).await?;
    let report = store.verify_audit().await;
    release(embedded);
    let report = report?;
    match &report.broken {
        None => println!("audit trail intact: {} records, last hash {}", report.records, report.last_hash),
        Some(b) => println!(
            "audit trail BROKEN at record {}: {} ({} records verified before it)",
            b.seq, b.reason, report.records
        ),
    }
    Ok(report.broken.is_none())
}

/// `cockpit-server seed-history`: the city and its rules loaded as a start loads them,
/// then the history written (refused when the database has one already).
pub async fn seed_history(config: &Config) -> anyhow::Result<history::Seeded> {
    let (store, embedded) = open_store(config).await?;
    let seeded = async {
        if let Some(record) = store.history_seeds().await?.first() {
            anyhow::bail!(
                "the database has a history already (seed {}, {} days, cases {}–{})",
                record.seed,
                record.days,
                record.first_case,
                record.last_case
            );
        }
        let geography = Geography::load(&config.data_dir)
            .with_context(|| format!("loading the city from {}", config.data_dir.display()))?;
        let rules = case_rules(config)?;
        store.sync_sources(&rules.source_records()).await?;
        store.sync_departments(&auth::load_departments(&config.data_dir)?).await?;
        store.seed_roles().await?;
        let now = chrono::Utc::now();
        let offset = rules.calendar.offset();
        let (geography, rules) = (Arc::new(geography), Arc::new(rules));
        let seeded = history::seed(&store, geography.clone(), rules.clone(), &config.history, now).await?;
        // The registered devices' past after the cases' commit (none registered: none).
        let sensors = history::SensorSettings::load(config, &store).await?;
        let written = history::seed_sensors_of(&store, &geography, rules, &config.history, &sensors, now).await?;
        tracing::info!(
            readings = written.readings,
            aggregates = written.aggregates,
            alarms = written.alarms,
            "the sensors' history written"
        );
        // The catalogue as a start loads it (the sample's values need its entries).
        indicators::catalogue::seed(&store, &geography.city, &config.data_dir.join(&config.indicators.sample)).await?;
        let catalogue = indicators::Indicators::load(&config.data_dir.join(&config.indicators.catalogue))?;
        let started = std::time::Instant::now();
        let past = indicators::computed_values::backfill(
            &store,
            catalogue.catalogue(),
            &geography.city,
            offset,
            config.history.days,
            now,
        )
        .await?;
        tracing::info!(values = past, seconds = started.elapsed().as_secs_f64(), "computed indicators back-filled");
        let values = indicators::sample::seed(&store, &geography.city, offset, now, &config.history).await?;
        tracing::info!(values, "sample indicator values written");
        Ok(seeded)
    }
    .await;
    release(embedded);
    seeded
}

/// `cockpit-server rekey`: re-seals personal data and TOTP secrets under the key ring's
/// active key; how many values it re-sealed.
pub async fn rekey(config: &Config) -> anyhow::Result<u64> {
    let (store, embedded) = open_store(config).await?;
    let ring = auth::load_or_create_key_ring(&config.key_ring_path())?;
    let reporters = privacy::reseal(&store, &ring, true).await;
    let secrets = privacy::reseal_totp(&store, &ring, auth::TOTP_AAD).await;
    release(embedded);
    Ok(reporters? + secrets?)
}
