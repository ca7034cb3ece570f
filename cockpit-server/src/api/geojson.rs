//! A region as the API shows it: its identity and its properties (the GeoJSON around them
//! is written by `cockpit_geo::geojson`).

use cockpit_geo::{City, Level, Region};
use serde::Serialize;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

/// A region's identity, for lists and breadcrumbs.
#[derive(Serialize, ToSchema)]
pub(crate) struct RegionName {
    /// Its code.
    code: String,
    /// Its name.
    name: String,
    /// Its level.
    #[schema(value_type = crate::api::schemas::ScopeLevelName)]
    level: Level,
}

/// A region's identity, for lists and breadcrumbs.
pub(crate) fn region_ref(region: &Region) -> RegionName {
    RegionName { code: region.code.0.clone(), name: region.name.clone(), level: region.level }
}

/// A region's identity and the point to centre a map on it.
#[derive(Serialize, ToSchema)]
pub(crate) struct RegionCentred {
    /// The region.
    #[serde(flatten)]
    pub(crate) region: RegionName,
    /// Its centre, `[lon, lat]` (WGS84).
    pub(crate) centre: [f64; 2],
}

/// [`region_ref`] with its centre.
pub(crate) fn region_centred(region: &Region) -> RegionCentred {
    RegionCentred { region: region_ref(region), centre: [region.centre.x, region.centre.y] }
}

/// A region's properties, without children.
pub(crate) fn region_properties(city: &City, region: &Region) -> Map<String, Value> {
    let mut p = Map::new();
    p.insert("code".into(), json!(region.code));
    p.insert("name".into(), json!(region.name));
    p.insert("level".into(), json!(region.level));
    p.insert("parent".into(), json!(region.parent.map(|id| city.region(id).code.clone())));
    p.insert("centre".into(), json!([region.centre.x, region.centre.y]));
    p.insert("area_km2".into(), json!((region.area_km2 * 1000.0).round() / 1000.0));
    p.insert("persons".into(), json!(region.persons));
    p.insert("children_count".into(), json!(region.children.len()));
    p.insert("generated".into(), json!(region.generated));
    p
}
