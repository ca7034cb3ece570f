//! The systems that push indicator values, each with its own bearer token (256 random
//! bits, shown once; the database keeps its SHA-256) and the indicators it may push.
//! The token is checked against the database on every push, so a source's change holds on
//! every instance at once.

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, Utc};
use cockpit_access::{constant_time_eq, random_token, token_digest};
use cockpit_geo::City;
use cockpit_indicators::CatalogueEntry;
use cockpit_store::{AuditActor, AuditEntry, IndicatorSourceRow, Store};
use serde_json::json;

use super::IndicatorsError;
use super::alarms;
use super::values::{self, Arriving, Origin};

/// Registers push source `id`: its token, shown once.
pub async fn create_source(
    store: &Store,
    id: &str,
    name: &str,
    indicators: &[String],
    who: AuditActor,
) -> Result<String, IndicatorsError> {
    for (i, indicator) in indicators.iter().enumerate() {
        if store.indicator_entry(indicator).await?.is_none() {
            return Err(IndicatorsError::field(
                format!("indicators[{i}]"),
                format!("indicator `{indicator}` does not exist"),
            ));
        }
    }
    let token = random_token().map_err(|e| IndicatorsError::Random(e.to_string()))?;
    if store.create_indicator_source(id, name, &token_digest(&token), indicators, who).await? {
        Ok(token)
    } else {
        Err(IndicatorsError::Taken(format!("push source `{id}` exists")))
    }
}

/// Push source `id` if `token` is its own and it is enabled.
pub async fn authenticate(store: &Store, id: &str, token: &str) -> Result<IndicatorSourceRow, IndicatorsError> {
    let Some((source, expected)) = store.indicator_source(id).await? else {
        return Err(IndicatorsError::NotFound(format!("no push source `{id}`")));
    };
    if !constant_time_eq(token_digest(token).as_bytes(), expected.as_bytes()) {
        return Err(IndicatorsError::Unauthorized("the token is not this source's".into()));
    }
    if !source.enabled {
        return Err(IndicatorsError::Forbidden(format!("push source `{id}` is disabled")));
    }
    Ok(source)
}

/// Whether `source` may push `indicator`.
pub fn may_push(source: &IndicatorSourceRow, indicator: &str) -> bool {
    source.indicators.iter().any(|i| i == indicator)
}

/// Takes `arriving` from `source`, all or none: each value is checked (the source may push
/// its indicator, the region and period fit), then all are written with one audit record
/// when anything changed. How many values changed what was stored (a retry: none).
pub async fn ingest(
    store: &Store,
    city: &City,
    offset: FixedOffset,
    now: DateTime<Utc>,
    source: &IndicatorSourceRow,
    arriving: &[Arriving],
    who: AuditActor,
) -> Result<usize, IndicatorsError> {
    let mut entries: HashMap<String, CatalogueEntry> = HashMap::new();
    let mut prepared = Vec::with_capacity(arriving.len());
    for (i, v) in arriving.iter().enumerate() {
        if !may_push(source, &v.indicator) {
            return Err(IndicatorsError::Forbidden(format!(
                "values[{i}].indicator: source `{}` may not push `{}`",
                source.id, v.indicator
            )));
        }
        if !entries.contains_key(&v.indicator) {
            let Some(row) = store.indicator_entry(&v.indicator).await? else {
                return Err(IndicatorsError::field(
                    format!("values[{i}].indicator"),
                    format!("indicator `{}` does not exist", v.indicator),
                ));
            };
            let entry = serde_json::from_value(row.entry)
                .map_err(|e| cockpit_store::StoreError::Corrupt(format!("indicator {}: {e}", v.indicator)))?;
            entries.insert(v.indicator.clone(), entry);
        }
        let entry = &entries[&v.indicator];
        prepared.push(values::prepare(entry, city, offset, now, v, Some(i), Origin::Pushed, &source.id)?);
    }
    let audit = AuditEntry {
        who,
        action: "indicator.push".into(),
        object: format!("indicator_source:{}", source.id),
        result: "ok".into(),
        detail: json!({"received": arriving.len()}),
    };
    let changed = values::write(store, prepared.clone(), Some(audit)).await?.len();
    let observations: Vec<alarms::Observation> = arriving
        .iter()
        .zip(&prepared)
        .map(|(v, value)| alarms::Observation { entry: &entries[&v.indicator], value, at: v.at.unwrap_or(now) })
        .collect();
    alarms::evaluate(store, city, offset, now, &observations).await?;
    Ok(changed)
}
