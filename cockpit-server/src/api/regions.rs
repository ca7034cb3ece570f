//! The geography API: regions by level, one region with its children and persons in
//! charge, locate, search, layers, and what is near a point.

use super::params::Path;
use axum::Json;
use axum::extract::State;
use cockpit_geo::Level;
use cockpit_geo::geojson::{Feature, FeatureCollection, collection, feature, multipolygon, point};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use super::ApiError;
use super::geojson::{RegionCentred, RegionName, region_centred, region_properties, region_ref};
use super::params;
use crate::AppState;
use crate::auth::Caller;
use crate::geography::{Crs, EditError, LayerKind};

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
    fn wgs84(&self) -> Result<cockpit_geo::Coord, ApiError> {
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
    #[param(min_length = 1, pattern = "^[^\\x00-\\x1F\\x7F]*$", example = "南白象")]
    q: String,
    /// At most this many results (20 when left out).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<usize>,
}

/// `GET /api/nearby`'s parameters besides the point.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct NearbyQuery {
    /// Metres from the point, geodesic.
    #[param(minimum = 0.0, maximum = 50000.0, example = 1000.0)]
    radius: f64,
    /// A point layer (`GET /api/layers`).
    #[param(min_length = 1, example = "hospitals")]
    layer: String,
    /// At most this many features (500 when left out).
    #[param(minimum = 1, maximum = 10000)]
    limit: Option<usize>,
}

#[utoipa::path(get, path = "/api/regions", summary = "Regions of one level as GeoJSON", params(RegionsQuery), responses((status = 200, description = "FeatureCollection", body = crate::api::schemas::FeatureCollection, content_type = "application/json"), (status = 400, description = "a bad parameter, named in `field`", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `GET /api/regions?level=grid[&parent=code]`: the regions of one level as a
/// FeatureCollection, optionally only those under `parent`.
pub(crate) async fn list(
    State(state): State<AppState>,
    params::TypedQuery(q): params::TypedQuery<RegionsQuery>,
) -> Result<Json<FeatureCollection>, ApiError> {
    let geography = state.geography.get();
    let city = &geography.city;
    let level = q.level.map_or(Level::Street, Level::from);
    let parent = match &q.parent {
        Some(code) => {
            Some(city.by_code(code).ok_or_else(|| ApiError::bad("parent", format!("no region has code `{code}`")))?.id)
        }
        None => None,
    };
    let features = city
        .level(level)
        .filter(|r| parent.is_none_or(|p| city.ancestors(r.id).any(|a| a.id == p)))
        .map(|r| feature(region_properties(city, r), multipolygon(&r.boundary)))
        .collect();
    Ok(Json(collection(features)))
}

#[utoipa::path(get, path = "/api/regions/{code}", summary = "One region with ancestors, children and persons in charge", params(("code" = String, Path, description = "NBS or city code: 6 digits for the district, 9 for a street, 12 for a village, 15 for a grid", pattern = "^[0-9]{6}([0-9]{3}){0,3}$", example = "330304001")), responses((status = 200, description = "the region, its ancestors, children and persons in charge in its properties", body = crate::api::schemas::Feature, content_type = "application/json"), (status = 404, description = "no such region", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `GET /api/regions/{code}`: one region as a Feature, with its ancestors (for a
/// breadcrumb), its children and its persons in charge.
pub(crate) async fn one(State(state): State<AppState>, Path(code): Path<String>) -> Result<Json<Feature>, ApiError> {
    region_json(&state, &code).map(Json)
}

type Body = Result<super::params::JsonBody, ApiError>;

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

fn crs_of(body: &Value) -> Result<Crs, ApiError> {
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

#[utoipa::path(put, path = "/api/layers/{name}", summary = "Replace a whole point or area layer (resources, cameras, key areas, blind spots), or create one. Checked as its file would be (ids unique, geometry of the layer's kind); stored in WGS84; audited; in force on every instance within seconds.", params(("name" = String, Path, description = "Layer name: 1 to 64 of a-z, 0-9, _ and -")), request_body(content = Object, content_type = "application/json"), responses((status = 200, description = "the layer saved", body = LayerSaved, content_type = "application/json"), (status = 400, description = "The name, kind or features do not check (field names which)"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission")))]
/// `PUT /api/layers/{name}` with `{"crs", "kind" (a new layer only), "features": FeatureCollection}`:
/// the whole layer replaced, checked as its file would be (ids unique, geometry of its
/// kind), stored in WGS84, audited, in force everywhere.
pub(crate) async fn put_layer(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    body: Body,
) -> Result<Json<LayerSaved>, ApiError> {
    let super::params::JsonBody(body) = body?;
    let crs = crs_of(&body)?;
    let kind = match body.get("kind") {
        None | Some(Value::Null) => None,
        Some(Value::String(k)) => Some(k.as_str()),
        Some(_) => return Err(ApiError::bad("kind", "must be points or areas")),
    };
    let features = body.get("features").ok_or_else(|| ApiError::bad("features", "is required"))?;
    let (kind, version) = state.geography_edits.set_layer(&name, kind, features, crs, caller.audit_actor()).await?;
    let g = state.geography.get();
    let count = match kind {
        LayerKind::Points => g.points.get(&name).map(|l| l.features().len()),
        LayerKind::Areas => g.areas.get(&name).map(|l| l.features().len()),
    };
    Ok(Json(LayerSaved { name, kind: kind.as_str(), count, version }))
}

/// A layer as saved.
#[derive(Serialize, ToSchema)]
pub(crate) struct LayerSaved {
    /// Its name.
    name: String,
    /// `points` or `areas`.
    #[schema(pattern = "^(points|areas)$")]
    kind: &'static str,
    /// How many features it holds.
    count: Option<usize>,
    /// The version of the geography edits it was saved as.
    version: i64,
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

#[utoipa::path(get, path = "/api/layers", summary = "The point and area layers", responses((status = 200, description = "layers", body = Layers, content_type = "application/json")))]
/// `GET /api/layers`: every layer with its kind and size.
pub(crate) async fn layers(State(state): State<AppState>) -> Json<Layers> {
    let g = state.geography.get();
    let mut layers: Vec<LayerInfo> = g
        .points
        .iter()
        .map(|(name, l)| LayerInfo { name: name.clone(), kind: "points", count: l.features().len() })
        .collect();
    layers.extend(g.areas.iter().map(|(name, l)| LayerInfo {
        name: name.clone(),
        kind: "areas",
        count: l.features().len(),
    }));
    Json(Layers { layers })
}

/// The point and area layers.
#[derive(Serialize, ToSchema)]
pub(crate) struct Layers {
    /// Each layer.
    layers: Vec<LayerInfo>,
}

/// A layer, its kind and size.
#[derive(Serialize, ToSchema)]
pub(crate) struct LayerInfo {
    /// Its name.
    name: String,
    /// `points` or `areas`.
    #[schema(pattern = "^(points|areas)$")]
    kind: &'static str,
    /// How many features it holds.
    count: usize,
}

#[utoipa::path(get, path = "/api/layers/{name}", summary = "One layer as GeoJSON", params(("name" = String, Path, description = "layer name")), responses((status = 200, description = "FeatureCollection", body = crate::api::schemas::FeatureCollection, content_type = "application/json"), (status = 404, description = "no such layer", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `GET /api/layers/{name}`: a whole layer as a FeatureCollection.
pub(crate) async fn layer(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<FeatureCollection>, ApiError> {
    let g = state.geography.get();
    if let Some(layer) = g.points.get(&name) {
        let features =
            layer.features().iter().map(|f| feature(with_id(&f.properties, &f.id), point(f.position))).collect();
        return Ok(Json(collection(features)));
    }
    if let Some(layer) = g.areas.get(&name) {
        let features = layer
            .features()
            .iter()
            .map(|f| feature(with_id(&f.properties, &f.id), multipolygon(&f.boundary)))
            .collect();
        return Ok(Json(collection(features)));
    }
    Err(ApiError::NotFound(format!("no layer named `{name}`")))
}

#[utoipa::path(get, path = "/api/nearby", summary = "A point layer's features within a radius, nearest first", params(PositionQuery, NearbyQuery), responses((status = 200, description = "FeatureCollection with distance_m", body = crate::api::schemas::FeatureCollection, content_type = "application/json"), (status = 400, description = "a bad parameter", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `GET /api/nearby?lon=..&lat=..&radius=..&layer=..[&limit=..]`: the layer's points
/// within `radius` metres (geodesic, at most 50 km), nearest first, each with its
/// `distance_m`.
pub(crate) async fn nearby(
    State(state): State<AppState>,
    params::TypedQuery(at): params::TypedQuery<PositionQuery>,
    params::TypedQuery(q): params::TypedQuery<NearbyQuery>,
) -> Result<Json<FeatureCollection>, ApiError> {
    let g = state.geography.get();
    let p = at.wgs84()?;
    let radius = params::within(Some(q.radius), "radius", 0.0..=50_000.0)?.unwrap_or(q.radius);
    let name = &q.layer;
    let layer = g.points.get(name).ok_or_else(|| {
        let known: Vec<&str> = g.points.keys().map(String::as_str).collect();
        ApiError::bad("layer", format!("`{name}` is not a point layer; known: {}", known.join(", ")))
    })?;
    let limit = params::counted(q.limit, "limit", 1..=10_000, 500)?;
    let features: Vec<Feature> = layer
        .within_radius(p, radius)
        .into_iter()
        .take(limit)
        .map(|n| {
            let mut properties = with_id(&n.feature.properties, &n.feature.id);
            properties.insert("distance_m".into(), json!((n.distance_m * 10.0).round() / 10.0));
            feature(properties, point(n.feature.position))
        })
        .collect();
    Ok(Json(collection(features)))
}

fn with_id(properties: &serde_json::Map<String, Value>, id: &str) -> serde_json::Map<String, Value> {
    let mut p = properties.clone();
    p.insert("id".into(), json!(id));
    p
}
