//! The geography API: regions by level, one region with its children and persons in
//! charge (and their edits), locate, search; the point and area layers are `layers.rs`.

use super::params::Path;
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use cockpit_geo::Level;
use cockpit_geo::geojson::{Feature, collection, feature, multipolygon};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use super::ApiError;
use super::geojson::{RegionCentred, RegionName, region_centred, region_properties, region_ref};
use super::params;
use crate::AppState;
use crate::auth::Caller;
use crate::geography::{Crs, EditError};

/// `GET /api/regions`'s parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct RegionsQuery {
    /// The level (`street` when left out).
    #[param(inline)]
    level: Option<RegionLevel>,
    /// Only the regions under this code: 6 digits for the district, 9 for a street, 12 for
    /// a village.
    #[param(pattern = "^[0-9]{6}([0-9]{3}){0,2}$", example = "330304001")]
    parent: Option<String>,
}

/// A level of the region tree.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum RegionLevel {
    /// The district (区).
    District,
    /// Streets and towns (街道、镇).
    Street,
    /// Villages and communities (村、社区).
    Village,
    /// Grids (网格).
    Grid,
}

impl From<RegionLevel> for Level {
    fn from(level: RegionLevel) -> Level {
        match level {
            RegionLevel::District => Level::District,
            RegionLevel::Street => Level::Street,
            RegionLevel::Village => Level::Village,
            RegionLevel::Grid => Level::Grid,
        }
    }
}

/// A point: `lon` and `lat`, in WGS84 unless `crs=gcj02`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct PositionQuery {
    /// Longitude.
    #[param(minimum = -180.0, maximum = 180.0, example = 120.65)]
    lon: f64,
    /// Latitude.
    #[param(minimum = -90.0, maximum = 90.0, example = 28.01)]
    lat: f64,
    /// The coordinate system of `lon` and `lat` (`wgs84` when left out).
    #[param(value_type = Option<crate::api::schemas::Crs>, inline)]
    crs: Option<cockpit_events::Crs>,
}

impl PositionQuery {
    /// The point in WGS84; a coordinate out of range is refused by name.
    pub(super) fn wgs84(&self) -> Result<cockpit_geo::Coord, ApiError> {
        let lon = params::within(Some(self.lon), "lon", -180.0..=180.0)?.unwrap_or(self.lon);
        let lat = params::within(Some(self.lat), "lat", -90.0..=90.0)?.unwrap_or(self.lat);
        let p = cockpit_geo::Coord { x: lon, y: lat };
        Ok(match self.crs {
            None | Some(cockpit_events::Crs::Wgs84) => p,
            Some(cockpit_events::Crs::Gcj02) => cockpit_geo::gcj02_to_wgs84(p),
        })
    }
}

/// `GET /api/search`'s parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct SearchQuery {
    /// A part of a region's name or code.
    #[param(min_length = 1, example = "南白象")]
    q: String,
    /// At most this many results (20 when left out).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<usize>,
}

#[utoipa::path(get, path = "/api/regions", summary = "Regions of one level as GeoJSON", description = "Built once per change of the geography and kept compressed: sent as brotli or gzip to a client that accepts it, with a strong ETag (the same on every instance for the same city) and `Cache-Control: private, no-cache`; `If-None-Match` with that ETag answers 304. Every user with the geography permission gets the whole city's map.", params(RegionsQuery), responses((status = 200, description = "FeatureCollection", body = crate::api::schemas::FeatureCollection, content_type = "application/json"), (status = 304, description = "unchanged since the ETag named in If-None-Match"), (status = 400, description = "a bad parameter, named in `field`", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `GET /api/regions?level=grid[&parent=code]`: the regions of one level as a
/// FeatureCollection, optionally only those under `parent`; built once per geography
/// (the grid layer is 716 KB of JSON) and served as stored (`cached.rs`).
pub(crate) async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    params::TypedQuery(q): params::TypedQuery<RegionsQuery>,
) -> Result<Response, ApiError> {
    let geography = state.geography.get();
    let level = q.level.map_or(Level::Street, Level::from);
    let parent = match &q.parent {
        Some(code) => Some(
            geography
                .city
                .by_code(code)
                .ok_or_else(|| ApiError::bad("parent", format!("no region has code `{code}`")))?
                .id,
        ),
        None => None,
    };
    let key = format!("regions:{level:?}:{}", q.parent.as_deref().unwrap_or_default());
    let g = geography.clone();
    let answer = geography
        .answers
        .get_or_build(&key, move || {
            let city = &g.city;
            let features = city
                .level(level)
                .filter(|r| parent.is_none_or(|p| city.ancestors(r.id).any(|a| a.id == p)))
                .map(|r| feature(region_properties(city, r), multipolygon(&r.boundary)))
                .collect();
            serde_json::to_vec(&collection(features)).unwrap_or_default()
        })
        .await
        .map_err(|e| ApiError::Internal(format!("building the regions of {key}: {e}")))?;
    Ok(super::cached::respond(&answer, &headers))
}

#[utoipa::path(get, path = "/api/regions/{code}", summary = "One region with ancestors, children and persons in charge", params(("code" = String, Path, description = "NBS or city code: 6 digits for the district, 9 for a street, 12 for a village, 15 for a grid", pattern = "^[0-9]{6}([0-9]{3}){0,3}$", example = "330304001")), responses((status = 200, description = "the region, its ancestors, children and persons in charge in its properties", body = crate::api::schemas::Feature, content_type = "application/json"), (status = 404, description = "no such region", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `GET /api/regions/{code}`: one region as a Feature, with its ancestors (for a
/// breadcrumb), its children and its persons in charge.
pub(crate) async fn one(State(state): State<AppState>, Path(code): Path<String>) -> Result<Json<Feature>, ApiError> {
    region_json(&state, &code).map(Json)
}

pub(super) type Body = Result<super::params::JsonBody, ApiError>;

impl From<EditError> for ApiError {
    fn from(e: EditError) -> ApiError {
        match e {
            EditError::NotFound(detail) => ApiError::NotFound(detail),
            EditError::Invalid { field, reason } => ApiError::bad(field, reason),
            EditError::Build(reason) => ApiError::Internal(reason),
            EditError::Store(e) => ApiError::from(e),
        }
    }
}

pub(super) fn crs_of(body: &Value) -> Result<Crs, ApiError> {
    Crs::parse(body.get("crs").and_then(Value::as_str)).map_err(|reason| ApiError::bad("crs", reason))
}

#[utoipa::path(put, path = "/api/regions/{code}/boundary", summary = "Replace a region's boundary (drawn on the map or imported). Checked with the whole city as at start (valid rings, inside its parent, not over its siblings); stored in WGS84; audited; in force on every instance within seconds. Cases and devices keep the regions they were tagged with.", params(("code" = String, Path, description = "NBS or city code")), request_body(content = Object, content_type = "application/json"), responses((status = 200, description = "The region as GET /api/regions/{code} gives it, with properties.version", body = crate::api::schemas::Feature, content_type = "application/json"), (status = 400, description = "The geometry or crs does not check (field: geometry or crs)"), (status = 404, description = "No such region"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission")))]
/// `PUT /api/regions/{code}/boundary` with `{"crs": "wgs84"|"gcj02", "geometry": ...}`:
/// the region's new boundary (a Polygon or MultiPolygon, a Feature of one, or a
/// FeatureCollection of exactly one), checked with the whole city as at start (inside its
/// parent, not over its siblings), stored in WGS84, audited, in force everywhere. Cases
/// and devices keep the regions they were tagged with.
pub(crate) async fn put_boundary(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    body: Body,
) -> Result<Json<Feature>, ApiError> {
    let super::params::JsonBody(body) = body?;
    let crs = crs_of(&body)?;
    let geometry = body.get("geometry").ok_or_else(|| ApiError::bad("geometry", "is required"))?;
    let version = state.geography_edits.set_boundary(&code, geometry, crs, caller.audit_actor()).await?;
    edited_region(&state, &code, version)
}

#[utoipa::path(put, path = "/api/regions/{code}/persons", summary = "Replace a region's persons in charge. Audited; in force on every instance within seconds.", params(("code" = String, Path, description = "NBS or city code")), request_body(content = Object, content_type = "application/json"), responses((status = 200, description = "The region as GET /api/regions/{code} gives it, with properties.version", body = crate::api::schemas::Feature, content_type = "application/json"), (status = 400, description = "persons is not a list of {role, name}"), (status = 404, description = "No such region"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission")))]
/// `PUT /api/regions/{code}/persons` with `{"persons": [{"role", "name"}]}`.
pub(crate) async fn put_persons(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    body: Body,
) -> Result<Json<Feature>, ApiError> {
    let super::params::JsonBody(body) = body?;
    let persons = body.get("persons").ok_or_else(|| ApiError::bad("persons", "is required"))?;
    let version = state.geography_edits.set_persons(&code, persons, caller.audit_actor()).await?;
    edited_region(&state, &code, version)
}

/// The region as now in force, with the version of its edit.
fn edited_region(state: &AppState, code: &str, version: i64) -> Result<Json<Feature>, ApiError> {
    let mut region = region_json(state, code)?;
    region.set_property("version", version);
    Ok(Json(region))
}

fn region_json(state: &AppState, code: &str) -> Result<Feature, ApiError> {
    let geography = state.geography.get();
    let city = &geography.city;
    let region = city.by_code(code).ok_or_else(|| ApiError::NotFound(format!("no region has code `{code}`")))?;
    let mut properties = region_properties(city, region);
    let mut ancestors: Vec<Value> = city.ancestors(region.id).skip(1).map(|a| json!(region_ref(a))).collect();
    ancestors.reverse();
    properties.insert("ancestors".into(), Value::Array(ancestors));
    properties.insert(
        "children".into(),
        Value::Array(region.children.iter().map(|&c| json!(region_centred(city.region(c)))).collect()),
    );
    Ok(feature(properties, multipolygon(&region.boundary)))
}

#[utoipa::path(get, path = "/api/locate", summary = "Street, village and grid at a point", params(PositionQuery), responses((status = 200, description = "the regions and key areas", body = Located, content_type = "application/json"), (status = 400, description = "a bad parameter", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `GET /api/locate?lon=..&lat=..[&crs=gcj02]`: the street, village and grid at a point,
/// and the key areas that contain it.
pub(crate) async fn locate(
    State(state): State<AppState>,
    params::TypedQuery(at): params::TypedQuery<PositionQuery>,
) -> Result<Json<Located>, ApiError> {
    let g = state.geography.get();
    let p = at.wgs84()?;
    let at = g.city.locate(p);
    let name = |id: Option<cockpit_geo::RegionId>| id.map(|id| region_ref(g.city.region(id)));
    let areas = g
        .areas
        .iter()
        .flat_map(|(layer, areas)| {
            areas.containing(p).into_iter().map(move |a| AreaHit {
                layer: layer.clone(),
                id: a.id.clone(),
                name: a.name.clone(),
                kind: a.kind.clone(),
            })
        })
        .collect();
    Ok(Json(Located {
        lon: p.x,
        lat: p.y,
        inside: at.is_some(),
        street: name(at.map(|l| l.street)),
        village: name(at.and_then(|l| l.village)),
        grid: name(at.and_then(|l| l.grid)),
        areas,
    }))
}

/// The regions and key areas at a point.
#[derive(Serialize, ToSchema)]
pub(crate) struct Located {
    /// The point's longitude (WGS84).
    lon: f64,
    /// Its latitude (WGS84).
    lat: f64,
    /// Whether it lies inside the district.
    inside: bool,
    /// The street or town there.
    street: Option<RegionName>,
    /// The village or community there.
    village: Option<RegionName>,
    /// The grid there.
    grid: Option<RegionName>,
    /// The key areas that contain it.
    areas: Vec<AreaHit>,
}

/// A key area that contains a point.
#[derive(Serialize, ToSchema)]
pub(crate) struct AreaHit {
    /// Its layer.
    layer: String,
    /// Its id in the layer.
    id: String,
    /// Its name.
    name: Option<String>,
    /// Its kind (`flood`, `landslide`, ...).
    kind: Option<String>,
}

#[utoipa::path(get, path = "/api/search", summary = "Regions by name or code", params(SearchQuery), responses((status = 200, description = "results", body = Found, content_type = "application/json"), (status = 400, description = "a bad parameter", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `GET /api/search?q=..[&limit=20]`: regions by name or code at every level.
pub(crate) async fn search(
    State(state): State<AppState>,
    params::TypedQuery(q): params::TypedQuery<SearchQuery>,
) -> Result<Json<Found>, ApiError> {
    let geography = state.geography.get();
    let city = &geography.city;
    let limit = params::counted(q.limit, "limit", 1..=200, 20)?;
    let results = city
        .search(&q.q, limit)
        .into_iter()
        .map(|r| {
            let mut path: Vec<&str> = city.ancestors(r.id).map(|a| a.name.as_str()).collect();
            path.reverse();
            SearchHit { region: region_centred(r), path: path.join(" / ") }
        })
        .collect();
    Ok(Json(Found { query: q.q, results }))
}

/// Regions found by name or code.
#[derive(Serialize, ToSchema)]
pub(crate) struct Found {
    /// What was asked.
    query: String,
    /// The regions, best first.
    results: Vec<SearchHit>,
}

/// A region found.
#[derive(Serialize, ToSchema)]
pub(crate) struct SearchHit {
    /// The region and its centre.
    #[serde(flatten)]
    region: RegionCentred,
    /// Its place in the hierarchy, from the top (`瓯海区 / 娄桥街道 / ...`).
    path: String,
}
