//! A pull's status as answered: its definition with the headers masked, what its attempts
//! did, and its staleness against the interval in force (never succeeded: no data, never
//! zero; stale past twice the interval).

use chrono::{DateTime, Utc};
use cockpit_indicators::{CatalogueEntry, Frequency};
use cockpit_store::{PullRow, Store};
use serde::Serialize;
use utoipa::ToSchema;

use super::{Pick, default_interval, stored_headers, stored_picks};
use crate::indicators::IndicatorsError;

/// A header as answered: its name and the last four characters of its value.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MaskedHeader {
    /// Its name.
    pub name: String,
    /// `…` and the value's last four characters (the whole is never answered).
    pub hint: String,
}

/// A pull and what its attempts did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PullStatus {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The indicator.
    pub indicator: String,
    /// The address fetched.
    pub url: String,
    /// The headers sent, masked.
    pub headers: Vec<MaskedHeader>,
    /// The picks.
    pub picks: Vec<Pick>,
    /// The interval set (none: from the indicator's frequency).
    pub interval_seconds: Option<u32>,
    /// The interval in force.
    pub every_seconds: u32,
    /// Seconds an attempt may take.
    pub timeout_seconds: u32,
    /// Whether it is fetched.
    pub enabled: bool,
    /// When it is next fetched.
    pub next_due: DateTime<Utc>,
    /// Failed attempts since the last success.
    pub failures: u32,
    /// The last attempt's start.
    pub last_attempt: Option<DateTime<Utc>>,
    /// The last attempt whose every pick found its value (none: never: no data).
    pub last_success: Option<DateTime<Utc>>,
    /// Why the last attempt failed (none: it succeeded, or none was made).
    pub last_error: Option<String>,
    /// Seconds since the last success (none: never: no data, never zero).
    pub staleness_seconds: Option<i64>,
    /// Never succeeded, or not for more than twice its interval.
    pub stale: bool,
    /// Who last edited it.
    pub updated_by: String,
    /// When.
    pub updated_at: DateTime<Utc>,
}

/// The status of `row` at `now`.
pub async fn status(store: &Store, row: PullRow, now: DateTime<Utc>) -> Result<PullStatus, IndicatorsError> {
    let frequency = match store.indicator_entry(&row.indicator).await? {
        Some(stored) => serde_json::from_value::<CatalogueEntry>(stored.entry).ok().map(|e| e.frequency),
        None => None,
    };
    let every = every(&row, frequency.unwrap_or(Frequency::Daily));
    let headers = stored_headers(&row)
        .into_iter()
        .map(|h| {
            let value = h.value.unwrap_or_default();
            let tail: String = value.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
            MaskedHeader { name: h.name, hint: format!("…{tail}") }
        })
        .collect();
    let staleness = row.last_success.map(|s| (now - s).num_seconds().max(0));
    Ok(PullStatus {
        picks: stored_picks(&row),
        id: row.id,
        name: row.name,
        indicator: row.indicator,
        url: row.url,
        headers,
        interval_seconds: row.interval_seconds.map(|s| s as u32),
        every_seconds: every,
        timeout_seconds: row.timeout_seconds as u32,
        enabled: row.enabled,
        next_due: row.next_due,
        failures: row.failures as u32,
        last_attempt: row.last_attempt,
        last_success: row.last_success,
        last_error: row.last_error,
        staleness_seconds: staleness,
        stale: staleness.is_none_or(|s| s > 2 * i64::from(every)),
        updated_by: row.updated_by,
        updated_at: row.updated_at,
    })
}

/// The interval in force for `row` of an indicator kept at `frequency`.
pub fn every(row: &PullRow, frequency: Frequency) -> u32 {
    row.interval_seconds.map_or_else(|| default_interval(frequency), |s| s as u32)
}
