//! The snapshot a subscription starts with: cases as the case list shows them to the
//! viewer, the kept latest value of each alarm and device key, today's counts per region
//! and status, the indicators of the regions in view.

use chrono::Utc;
use cockpit_live::Channel;
use serde_json::{Value, json};

use super::fanout::Sub;
use super::{Hub, log};
use crate::cases::CaseService;
use cockpit_store::{CaseFilter, StoreError};

/// The items of `sub`'s snapshot.
pub(super) async fn items(hub: &Hub, sub: &Sub) -> Result<Vec<Value>, StoreError> {
    let cases = &hub.inner.cases;
    let limit = hub.inner.config.snapshot_limit.max(1);
    let principal = &sub.client.principal;
    match sub.channel {
        Channel::Cases => {
            let filter = CaseFilter {
                region: sub.filter.region.clone(),
                assigned: sub.assigned.clone(),
                scope: principal.case_scope(),
                limit,
                ..CaseFilter::default()
            };
            let now = Utc::now();
            Ok(cases
                .store
                .cases(&filter)
                .await?
                .iter()
                .map(|row| {
                    let mut case =
                        crate::cases::case_view(row, &cases.rules.get(), &cases.geography.get(), Some(principal), now);
                    // As in the deltas (`live_case_text`): whether a duplicate, not of which.
                    case.duplicate_of = None;
                    json!(case)
                })
                .collect())
        }
        Channel::Alarms | Channel::Devices => {
            let rows = log::state(
                cases.store.pool(),
                sub.channel,
                sub.region.as_deref(),
                sub.filter.layer.as_deref(),
                sub.filter.bbox,
                limit,
            )
            .await?;
            Ok(rows
                .into_iter()
                .filter(|r| !sub.inside_only || !r.regions.is_empty())
                .map(|r| {
                    json!({
                        "key": r.key,
                        "offset": r.seq,
                        "regions": r.regions,
                        "position": r.lon.zip(r.lat).map(|(x, y)| [x, y]),
                        "layer": r.layer,
                        "data": r.payload,
                    })
                })
                .collect())
        }
        Channel::Statistics => {
            let cached = {
                let mut s = hub.state();
                if s.statistics.is_none() {
                    // Computed now from every case so far: what changes from here on is
                    // what the next refresh sends (a case applied meanwhile sets it again).
                    s.cases_changed = false;
                }
                s.statistics.clone()
            };
            let table = match cached {
                Some(t) => t,
                None => {
                    let table = std::sync::Arc::new(statistics(cases).await?);
                    hub.state().statistics.get_or_insert_with(|| table.clone());
                    table
                }
            };
            Ok(statistics_in(&table, sub.region.as_deref()))
        }
        Channel::Indicators => {
            let table = hub.state().indicators.clone();
            Ok(crate::indicators::visible(&table, sub.region.as_deref()))
        }
    }
}

/// Today's cases (created since the start of the city's day) per region at every level
/// and status: `{"region", "level", "status", "count"}`.
pub(super) async fn statistics(cases: &CaseService) -> Result<Vec<Value>, StoreError> {
    let day_start = cases.rules.get().calendar.day_start(chrono::Utc::now());
    let rows = cases.store.cases_by_region_since(day_start).await?;
    Ok(rows
        .into_iter()
        .map(|(region, level, status, count)| json!({"region": region, "level": level, "status": status, "count": count}))
        .collect())
}

/// The rows of regions inside `region` (codes are hierarchical: a grid's starts with its
/// village's, a village's with its street's).
pub(super) fn statistics_in(table: &[Value], region: Option<&str>) -> Vec<Value> {
    table
        .iter()
        .filter(|row| region.is_none_or(|r| row["region"].as_str().is_some_and(|code| code.starts_with(r))))
        .cloned()
        .collect()
}
