//! Statistics over the case list, with the list's filters: counts per region × status
//! (`GET /api/cases/stats`); the exports of the same list are `exports.rs`.
//!
//! The counting is SQL (`store::stats`); this file shapes it with the rules of
//! `cockpit-events` for what is open, closed and a rate.

use std::collections::BTreeMap;

use axum::extract::State;
use chrono::{DateTime, FixedOffset, Utc};
use cockpit_events::{Rate, Status};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::ApiError;
use super::cases::{CaseQuery, filter_of};
use super::params::{self};
use crate::AppState;
use crate::auth::Caller;
use cockpit_store::{StatsLevel, Tally};

/// The city's offset from UTC, from its working calendar (`calendar.json`).
pub(crate) fn city_offset(state: &AppState) -> FixedOffset {
    state.cases.rules.get().calendar.offset()
}

#[utoipa::path(get, path = "/api/cases/stats", summary = "Counts per region × status, rates, today", params(StatsQuery, StatsFilters), responses((status = 200, description = "statistics", body = Stats, content_type = "application/json"), (status = 400, description = "a bad parameter", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `GET /api/cases/stats?level=street|village|grid[&from=&to=&...list filters]`: every
/// region of the level (under `region`, when given) with its counts per status, zeros
/// included, and the totals over every matching case.
pub(crate) async fn stats(
    State(state): State<AppState>,
    caller: Caller,
    params::TypedQuery(StatsQuery { level }): params::TypedQuery<StatsQuery>,
    params::TypedQuery(mut query): params::TypedQuery<CaseQuery>,
) -> Result<axum::Json<Stats>, ApiError> {
    let level = level.unwrap_or(Level::Street);
    let grouped = match level {
        Level::Street => StatsLevel::Street,
        Level::Village => StatsLevel::Village,
        Level::Grid => StatsLevel::Grid,
    };
    // The statistics count every matching case: the list's page size does not apply.
    query.limit = None;
    let filter = filter_of(query, &caller.principal)?;
    let now = Utc::now();
    let day_start = state.cases.rules.get().calendar.day_start(now);
    // Counted less than a second ago, for this very filter and scope (`StatsCache`).
    let counted = state.cases.stats.get(&state.cases.store, grouped, &filter, day_start).await?;

    let located: i64 = counted.regions.iter().flat_map(|r| r.by_status.values()).map(|t| t.cases).sum();
    let totals = summary(&counted.all);
    let unlocated = totals.total - located;
    let regions = counted
        .regions
        .iter()
        .map(|r| RegionStats { code: r.code.clone(), name: r.name.clone(), summary: summary(&r.by_status) })
        .collect();
    Ok(axum::Json(Stats {
        level,
        from: filter.created_from,
        to: filter.created_to,
        day_start: day_start.with_timezone(&city_offset(&state)),
        regions,
        totals,
        unlocated,
    }))
}

/// The statistics of the cases that match the filters.
#[derive(Serialize, ToSchema)]
pub(crate) struct Stats {
    /// The level the regions are of.
    level: Level,
    /// The filter's start, if any.
    from: Option<DateTime<Utc>>,
    /// The filter's end, if any.
    to: Option<DateTime<Utc>>,
    /// The start of the city's today (for `today`), in the city's zone.
    day_start: DateTime<FixedOffset>,
    /// Every region of the level (under `region`, when given), zeros included.
    regions: Vec<RegionStats>,
    /// Over every matching case.
    totals: Summary,
    /// Matching cases in no region of the level.
    unlocated: i64,
}

/// One region's statistics.
#[derive(Serialize, ToSchema)]
pub(crate) struct RegionStats {
    /// Its code.
    code: String,
    /// Its name.
    name: String,
    /// Its counts.
    #[serde(flatten)]
    summary: Summary,
}

/// Counts per status, then: open (in the pool or with a handler), closed (verified,
/// evaluated or not), overdue, the two rates and today's counts.
#[derive(Serialize, ToSchema)]
pub(crate) struct Summary {
    /// Every case.
    total: i64,
    /// In the pool or with a handler.
    open: i64,
    /// Verified, evaluated or not.
    closed: i64,
    /// Overdue, open or since closed: flagged by the scheduler, or open past due now.
    overdue: i64,
    /// Of those, the open ones: what is overdue now.
    overdue_open: i64,
    /// Cases per status, every status named.
    #[schema(value_type = BTreeMap<cockpit_events::Status, i64>)]
    by_status: BTreeMap<&'static str, i64>,
    /// Closed on time, of those with a deadline.
    on_time_closure: RateView,
    /// Evaluated satisfied, of those evaluated.
    satisfaction: RateView,
    /// Today, in the city's day.
    today: Today,
}

/// A rate: hits of a total, and the percentage (none of nothing).
#[derive(Serialize, ToSchema)]
pub(crate) struct RateView {
    /// Hits.
    hits: u64,
    /// Of.
    total: u64,
    /// 100 × hits / total; none when the total is 0 (shown as "—", never 0 %).
    percent: Option<f64>,
}

/// Today's counts.
#[derive(Serialize, ToSchema)]
pub(crate) struct Today {
    /// Created today.
    created: i64,
    /// Closed today.
    closed: i64,
}

/// The statistics' own parameter; the list's filters apply too.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct StatsQuery {
    /// The level the counts are grouped by (`street` when left out).
    #[param(inline)]
    level: Option<Level>,
}

/// A level statistics are grouped by.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = StatsLevel)]
pub(crate) enum Level {
    /// Streets and towns.
    Street,
    /// Villages and communities.
    Village,
    /// Grids.
    Grid,
}

/// The [`Summary`] of counts per status.
fn summary(by_status: &BTreeMap<String, Tally>) -> Summary {
    let mut all = Tally::default();
    let (mut open, mut closed, mut overdue_open) = (0, 0, 0);
    for (name, tally) in by_status {
        all.add(tally);
        match Status::parse(name) {
            Some(s) if s.is_open() => {
                open += tally.cases;
                overdue_open += tally.overdue;
            }
            Some(Status::Closed | Status::EvaluatedSatisfied | Status::EvaluatedUnsatisfied) => closed += tally.cases,
            _ => {}
        }
    }
    Summary {
        total: all.cases,
        open,
        closed,
        overdue: all.overdue,
        overdue_open,
        by_status: Status::ALL.iter().map(|s| (s.as_str(), by_status.get(s.as_str()).map_or(0, |t| t.cases))).collect(),
        on_time_closure: rate(all.on_time, all.with_deadline),
        satisfaction: rate(all.satisfied, all.evaluated),
        today: Today { created: all.created_today, closed: all.closed_today },
    }
}

fn rate(hits: i64, total: i64) -> RateView {
    let rate = Rate { hits: hits.max(0) as u64, total: total.max(0) as u64 };
    RateView { hits: rate.hits, total: rate.total, percent: rate.percent() }
}

/// The statistics' filters: the list's, without its page size (every matching case counts).
pub(crate) struct StatsFilters;

impl IntoParams for StatsFilters {
    fn into_params(
        parameter_in: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        CaseQuery::into_params(parameter_in).into_iter().filter(|p| p.name != "limit").collect()
    }
}
