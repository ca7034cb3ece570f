//! GeoJSON out: regions and layer features as RFC 7946 Features.

use cockpit_geo::{City, Coord, MultiPolygon, Region};
use serde_json::{Map, Value, json};

pub(crate) fn multipolygon(shape: &MultiPolygon<f64>) -> Value {
    let ring = |r: &cockpit_geo::LineString<f64>| r.0.iter().map(|c| json!([c.x, c.y])).collect::<Vec<_>>();
    let polygons: Vec<Value> = shape
        .iter()
        .map(|p| {
            let mut rings = vec![Value::Array(ring(p.exterior()))];
            rings.extend(p.interiors().iter().map(|r| Value::Array(ring(r))));
            Value::Array(rings)
        })
        .collect();
    json!({"type": "MultiPolygon", "coordinates": polygons})
}

pub(crate) fn point(p: Coord) -> Value {
    json!({"type": "Point", "coordinates": [p.x, p.y]})
}

/// A region's identity, for lists and breadcrumbs.
pub(crate) fn region_ref(region: &Region) -> Value {
    json!({"code": region.code, "name": region.name, "level": region.level})
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

pub(crate) fn feature(properties: Map<String, Value>, geometry: Value) -> Value {
    json!({"type": "Feature", "properties": properties, "geometry": geometry})
}

pub(crate) fn collection(features: Vec<Value>) -> Value {
    json!({"type": "FeatureCollection", "features": features})
}
