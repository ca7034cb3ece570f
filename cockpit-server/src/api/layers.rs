//! The point and area layers (resources, cameras, key areas, blind spots): listed, one
//! whole as GeoJSON, replaced whole, and a point layer's features near a point.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use cockpit_geo::geojson::{Feature, FeatureCollection, collection, feature, multipolygon, point};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use super::ApiError;
use super::params::{self, Path};
use super::regions::{Body, PositionQuery, crs_of};
use crate::AppState;
use crate::auth::Caller;
use crate::geography::LayerKind;

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

#[utoipa::path(get, path = "/api/layers/{name}", summary = "One layer as GeoJSON", description = "Built once per change of the geography and kept compressed, as `GET /api/regions`: brotli or gzip as accepted, a strong ETag, `Cache-Control: private, no-cache`, 304 on `If-None-Match`.", params(("name" = String, Path, description = "layer name")), responses((status = 200, description = "FeatureCollection", body = crate::api::schemas::FeatureCollection, content_type = "application/json"), (status = 304, description = "unchanged since the ETag named in If-None-Match"), (status = 404, description = "no such layer", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `GET /api/layers/{name}`: a whole layer as a FeatureCollection, built once per
/// geography and served as stored (`cached.rs`).
pub(crate) async fn layer(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let geography = state.geography.get();
    if !geography.points.contains_key(&name) && !geography.areas.contains_key(&name) {
        return Err(ApiError::NotFound(format!("no layer named `{name}`")));
    }
    let g = geography.clone();
    let key = format!("layer:{name}");
    let answer = geography
        .answers
        .get_or_build(&key, move || {
            let features = if let Some(layer) = g.points.get(&name) {
                layer.features().iter().map(|f| feature(with_id(&f.properties, &f.id), point(f.position))).collect()
            } else if let Some(layer) = g.areas.get(&name) {
                layer
                    .features()
                    .iter()
                    .map(|f| feature(with_id(&f.properties, &f.id), multipolygon(&f.boundary)))
                    .collect()
            } else {
                Vec::new()
            };
            serde_json::to_vec(&collection(features)).unwrap_or_default()
        })
        .await
        .map_err(|e| ApiError::Internal(format!("building {key}: {e}")))?;
    Ok(super::cached::respond(&answer, &headers))
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
