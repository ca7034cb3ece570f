//! Indicator thresholds, as operators edit them: read from the database at every
//! evaluation (so an edit is in force on every instance at once), each edit checked against
//! the indicator's better direction and the case categories, versioned and audited in its
//! transaction.

use cockpit_events::CategoryCode;
use cockpit_indicators::{CatalogueEntry, Threshold};
use cockpit_store::{AuditActor, AuditEntry, Store, StoreError, ThresholdRow};
use serde_json::json;

use super::IndicatorsError;
use crate::cases::CaseService;

/// The case category of a red episode when the threshold names none (其他事件).
pub const DEFAULT_CASE_CATEGORY: &str = "06";

/// A stored threshold, read.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    /// The threshold.
    pub threshold: Threshold,
    /// How many edits it has had.
    pub version: i64,
    /// Who edited it last.
    pub updated_by: String,
    /// When.
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

/// Reads a stored row.
pub fn read(row: ThresholdRow) -> Result<Stored, StoreError> {
    let threshold = serde_json::from_value(row.threshold)
        .map_err(|e| StoreError::Corrupt(format!("threshold of {}: {e}", row.indicator)))?;
    Ok(Stored { threshold, version: row.version, updated_by: row.updated_by, updated_at: row.updated_at })
}

/// The threshold of indicator `id`, if it has one.
pub async fn get(store: &Store, id: &str) -> Result<Option<Stored>, IndicatorsError> {
    Ok(store.indicator_threshold(id).await?.map(read).transpose()?)
}

/// Sets the threshold of `entry` by `who`, checked field by field.
pub async fn put(
    cases: &CaseService,
    entry: &CatalogueEntry,
    threshold: Threshold,
    who: AuditActor,
) -> Result<Stored, IndicatorsError> {
    threshold.check(entry.better)?;
    if let Some(code) = &threshold.case_category
        && cases.rules.get().categories.get(&CategoryCode::new(code.clone())).is_none()
    {
        return Err(IndicatorsError::field("case_category", format!("category `{code}` does not exist")));
    }
    let value = serde_json::to_value(&threshold).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let actor = who.actor.clone();
    let audit = AuditEntry {
        who,
        action: "indicator.threshold".into(),
        object: format!("indicator:{}", entry.id),
        result: "ok".into(),
        detail: json!({}),
    };
    match cases.store.put_indicator_threshold(entry.id.as_str(), &value, &actor, audit).await? {
        Some(row) => Ok(read(row)?),
        None => Err(IndicatorsError::NotFound(format!("indicator `{}` does not exist", entry.id))),
    }
}
