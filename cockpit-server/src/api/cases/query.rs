//! The case list's filters as a caller sends them (also the statistics' and the exports'),
//! and the store's filter they make within the caller's scope.

use chrono::{DateTime, Utc};
use cockpit_events::Urgency;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::super::ApiError;
use super::super::params;
use crate::auth::Principal;
use cockpit_store::{CaseFilter, CaseSort};

/// The list's filters (`GET /api/cases`; the statistics and exports take them too). Every
/// parameter is optional; blank counts as absent.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct CaseQuery {
    /// A region code at any level: 6 digits for the district, 9 for a street, 12 for a
    /// village, 15 for a grid (`GET /api/regions`).
    #[param(pattern = "^[0-9]{6}([0-9]{3}){0,3}$", example = "330304001")]
    region: Option<String>,
    /// Statuses, comma-separated.
    #[param(
        pattern = "^(submitted|rejected|new|dispatched|accepted|in_progress|handled|closed|evaluated_satisfied|evaluated_unsatisfied)(,(submitted|rejected|new|dispatched|accepted|in_progress|handled|closed|evaluated_satisfied|evaluated_unsatisfied))*$",
        example = "new,dispatched"
    )]
    status: Option<String>,
    /// A category code or its prefix (`GET /api/categories`).
    #[param(pattern = "^[0-9]{2,8}$", example = "0402")]
    category: Option<String>,
    /// A tag.
    #[param(pattern = "^[^\\x00-\\x1F\\x7F]*$")]
    tag: Option<String>,
    /// A source id.
    #[param(pattern = "^[^\\x00-\\x1F\\x7F]*$")]
    source: Option<String>,
    /// How urgent.
    #[param(value_type = Option<cockpit_events::Urgency>, inline)]
    urgency: Option<Urgency>,
    /// Overdue or not.
    overdue: Option<bool>,
    /// Created at or after.
    from: Option<DateTime<Utc>>,
    /// Created before.
    to: Option<DateTime<Utc>>,
    /// A substring of the title or description.
    #[param(pattern = "^[^\\x00-\\x1F\\x7F]*$")]
    q: Option<String>,
    /// Only cases within `radius` metres (geodesic, at most 50 km) of a point:
    /// `lon,lat,radius`, in degrees (WGS84) and metres.
    #[param(
        pattern = "^-?(180(\\.0+)?|(1[0-7][0-9]|[0-9]{1,2})(\\.[0-9]+)?),-?(90(\\.0+)?|[0-8]?[0-9](\\.[0-9]+)?),(50000(\\.0+)?|[1-4]?[0-9]{1,4}(\\.[0-9]+)?)$",
        example = "120.63,28.03,500"
    )]
    near: Option<String>,
    /// Two opposite corners of a box, `west,south,east,north` in degrees.
    #[param(
        pattern = "^-?[0-9]+(\\.[0-9]+)?,-?[0-9]+(\\.[0-9]+)?,-?[0-9]+(\\.[0-9]+)?,-?[0-9]+(\\.[0-9]+)?$",
        example = "120.5,27.9,120.8,28.2"
    )]
    bbox: Option<String>,
    /// Only cases with a smaller id: the keyset paging of the newest-first order.
    before: Option<i64>,
    /// Page size.
    #[param(minimum = 1, maximum = 500)]
    pub(crate) limit: Option<usize>,
    /// Rows to skip, for the sorts other than `newest`.
    #[param(minimum = 0, maximum = 100000)]
    offset: Option<usize>,
    /// `me`: only what is assigned to the caller, their department or (a grid worker)
    /// their grid.
    #[param(inline)]
    assigned: Option<Me>,
    /// `me`: only cases the caller is bound to as a leader.
    #[param(inline)]
    leader: Option<Me>,
    /// `me`: only cases the caller gave an instruction (批示) on.
    #[param(inline)]
    instructed: Option<Me>,
    /// The order: newest (default; page with `before`), oldest, deadline, urgency (page
    /// with `offset`).
    #[param(inline)]
    sort: Option<Sort>,
}

/// The caller, in a filter.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Me {
    /// The caller.
    Me,
}

/// The order of a case list.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Sort {
    /// Newest first; page with `before`.
    Newest,
    /// Oldest first.
    Oldest,
    /// The nearest deadline first.
    Deadline,
    /// Critical, then urgent, then normal.
    Urgency,
}

impl From<Sort> for CaseSort {
    fn from(sort: Sort) -> CaseSort {
        match sort {
            Sort::Newest => CaseSort::Newest,
            Sort::Oldest => CaseSort::Oldest,
            Sort::Deadline => CaseSort::Deadline,
            Sort::Urgency => CaseSort::Urgency,
        }
    }
}

/// `lon,lat,radius` (a longitude, a latitude and a radius of at most 50,000 metres) read
/// and checked, each refusal naming `near`.
fn near(text: &str) -> Result<(f64, f64, f64), ApiError> {
    let parts: Vec<f64> = text.split(',').filter_map(|x| x.trim().parse().ok()).collect();
    let [lon, lat, radius] = parts[..] else {
        return Err(ApiError::bad("near", "must be lon,lat,radius in degrees and metres"));
    };
    let inside = |v: f64, low: f64, high: f64| v.is_finite() && (low..=high).contains(&v);
    if !inside(lon, -180.0, 180.0) || !inside(lat, -90.0, 90.0) {
        return Err(ApiError::bad("near", format!("{lon},{lat} is not a point in degrees")));
    }
    if !inside(radius, 0.0, 50_000.0) {
        return Err(ApiError::bad("near", format!("the radius {radius} is outside 0 to 50000 metres")));
    }
    Ok((lon, lat, radius))
}

/// Parses list filters from a query string for `caller` (see [`filter_of`]).
pub(crate) fn filter_from(q: &params::Query, caller: &Principal) -> Result<CaseFilter, ApiError> {
    filter_of(params::from_query(q)?, caller)
}

/// The store's filter for `caller` (whose scope bounds it and who is the `me` of
/// `assigned=me` and `leader=me`); every error names its parameter.
pub(crate) fn filter_of(q: CaseQuery, caller: &Principal) -> Result<CaseFilter, ApiError> {
    let statuses: Vec<String> =
        q.status.map(|s| s.split(',').map(|x| x.trim().to_string()).collect()).unwrap_or_default();
    for status in &statuses {
        if cockpit_events::Status::parse(status).is_none() {
            return Err(ApiError::bad("status", format!("`{status}` is not a status")));
        }
    }
    if let Some(region) = &q.region {
        params::region_code("region", region)?;
    }
    if let Some(category) = &q.category
        && !(category.bytes().all(|b| b.is_ascii_digit()) && (2..=8).contains(&category.len()))
    {
        return Err(ApiError::bad("category", format!("`{category}` is not a category code (2 to 8 digits)")));
    }
    let near = q.near.as_deref().map(near).transpose()?;
    let bbox = match q.bbox {
        Some(b) => {
            let parts: Vec<f64> = b.split(',').filter_map(|x| x.trim().parse().ok()).collect();
            if parts.len() != 4 {
                return Err(ApiError::bad("bbox", "must be west,south,east,north in degrees"));
            }
            // Any two opposite corners make the same box.
            Some((parts[0].min(parts[2]), parts[1].min(parts[3]), parts[0].max(parts[2]), parts[1].max(parts[3])))
        }
        None => None,
    };
    let sort = q.sort.map_or(CaseSort::Newest, CaseSort::from);
    Ok(CaseFilter {
        region: q.region,
        statuses,
        category: q.category,
        tag: q.tag,
        source: q.source,
        urgency: q.urgency.map(|u| u.as_str().to_string()),
        overdue: q.overdue,
        created_from: q.from,
        created_to: q.to,
        keyword: q.q,
        near,
        bbox,
        before_id: q.before,
        limit: params::counted(q.limit, "limit", 1..=500, 50)? as i64,
        offset: params::counted(q.offset, "offset", 0..=100_000, 0)? as i64,
        sort,
        assigned: q.assigned.map(|_| caller.assigned_to_me()),
        leader: q.leader.map(|_| caller.username.clone()),
        instructed_by: q.instructed.map(|_| caller.username.clone()),
        scope: caller.case_scope(),
    })
}
