//! The catalogue people edit (`indicator_catalogue`): listed and searched, created,
//! replaced, published and deleted, each change audited. Read from the database on every
//! request, so that an edit is in force on every instance at once. The sample catalogue
//! (`data/<city>/indicators/tender.json`, the tender's own indicators) is loaded when the
//! catalogue has never held anything.

use std::path::Path;

use anyhow::Context;
use chrono::{DateTime, Utc};
use cockpit_geo::City;
use cockpit_indicators::{CatalogueEntry, Search};
use cockpit_store::{AuditActor, CatalogueChange, Store, StoredIndicator};
use serde::Deserialize;

use super::IndicatorsError;

/// A catalogue entry with who changed it last and when.
#[derive(Debug, Clone)]
pub struct Listed {
    /// The entry.
    pub entry: CatalogueEntry,
    /// Who changed it last (`system` for the sample).
    pub updated_by: String,
    /// When.
    pub updated_at: DateTime<Utc>,
}

fn listed(row: StoredIndicator) -> Result<Listed, IndicatorsError> {
    let entry = serde_json::from_value(row.entry).map_err(|e| {
        IndicatorsError::Store(cockpit_store::StoreError::Corrupt(format!("indicator {}: {e}", row.id)))
    })?;
    Ok(Listed { entry, updated_by: row.updated_by, updated_at: row.updated_at })
}

/// The entries `search` finds, by id.
pub async fn search(store: &Store, search: &Search) -> Result<Vec<Listed>, IndicatorsError> {
    let mut out = Vec::new();
    for row in store.indicator_entries().await? {
        let l = listed(row)?;
        if search.matches(&l.entry) {
            out.push(l);
        }
    }
    Ok(out)
}

/// Entry `id`.
pub async fn get(store: &Store, id: &str) -> Result<Listed, IndicatorsError> {
    let row = store.indicator_entry(id).await?;
    listed(row.ok_or_else(|| IndicatorsError::NotFound(format!("indicator `{id}` does not exist")))?)
}

/// Checks `entry` and that its regions exist in `city`.
pub fn check(entry: &CatalogueEntry, city: &City) -> Result<(), IndicatorsError> {
    entry.check()?;
    for (i, code) in entry.regions.iter().enumerate() {
        if city.by_code(code).is_none() {
            return Err(IndicatorsError::field(format!("regions[{i}]"), format!("region `{code}` does not exist")));
        }
    }
    Ok(())
}

/// Creates `entry`, audited.
pub async fn create(
    store: &Store,
    city: &City,
    entry: &CatalogueEntry,
    who: AuditActor,
) -> Result<(), IndicatorsError> {
    check(entry, city)?;
    let body = serde_json::to_value(entry).map_err(|e| IndicatorsError::field("body", e.to_string()))?;
    if store.change_indicator(CatalogueChange::Create, entry.id.as_str(), &body, who).await? {
        Ok(())
    } else {
        Err(IndicatorsError::Taken(format!("indicator `{}` exists", entry.id)))
    }
}

/// Replaces entry `id` with `entry` (whose id must be `id`), audited.
pub async fn replace(
    store: &Store,
    city: &City,
    id: &str,
    entry: &CatalogueEntry,
    who: AuditActor,
) -> Result<(), IndicatorsError> {
    if entry.id.as_str() != id {
        return Err(IndicatorsError::field("id", format!("the path names `{id}`: an indicator's id does not change")));
    }
    check(entry, city)?;
    let body = serde_json::to_value(entry).map_err(|e| IndicatorsError::field("body", e.to_string()))?;
    if store.change_indicator(CatalogueChange::Update, id, &body, who).await? {
        Ok(())
    } else {
        Err(IndicatorsError::NotFound(format!("indicator `{id}` does not exist")))
    }
}

/// Publishes or withdraws entry `id`, audited; the entry as it is now.
pub async fn publish(store: &Store, id: &str, published: bool, who: AuditActor) -> Result<Listed, IndicatorsError> {
    let mut l = get(store, id).await?;
    l.entry.published = published;
    let body = serde_json::to_value(&l.entry).map_err(|e| IndicatorsError::field("body", e.to_string()))?;
    if !store.change_indicator(CatalogueChange::Update, id, &body, who).await? {
        return Err(IndicatorsError::NotFound(format!("indicator `{id}` does not exist")));
    }
    get(store, id).await
}

/// Deletes entry `id` and its values, audited.
pub async fn delete(store: &Store, id: &str, who: AuditActor) -> Result<(), IndicatorsError> {
    if store.change_indicator(CatalogueChange::Delete, id, &serde_json::Value::Null, who).await? {
        Ok(())
    } else {
        Err(IndicatorsError::NotFound(format!("indicator `{id}` does not exist")))
    }
}

/// The sample catalogue's file.
#[derive(Deserialize)]
struct SampleFile {
    indicators: Vec<CatalogueEntry>,
}

/// Loads the sample catalogue at `path` into an empty catalogue (never into one that holds
/// anything); how many entries were loaded. Every entry is checked against `city` first.
pub async fn seed(store: &Store, city: &City, path: &Path) -> anyhow::Result<u64> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let file: SampleFile = serde_json::from_str(&text).with_context(|| format!("in {}", path.display()))?;
    let mut entries = Vec::with_capacity(file.indicators.len());
    for entry in &file.indicators {
        check(entry, city).with_context(|| format!("{}: indicator {}", path.display(), entry.id))?;
        entries.push((entry.id.to_string(), serde_json::to_value(entry)?));
    }
    Ok(store.seed_indicators(&entries).await?)
}
