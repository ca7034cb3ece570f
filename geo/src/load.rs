//! Reading GeoJSON (RFC 7946) FeatureCollections into checked features.
//!
//! Each feature is read by the `geojson` crate on its own, so that a feature it refuses
//! (bad coordinates, an unknown geometry type, properties that are not an object) is one
//! problem naming that feature and the others are still read and checked: every problem in
//! a file is reported at once, each with its feature and reason.

use ::geojson::GeometryValue;
use geo::{Coord, LineString, MultiPolygon, Polygon};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::{FeatureRef, GeoError, Problem};
use crate::validate::check_ring;

/// How much imprecision an import tolerates where neighbouring surveys rarely agree to the
/// metre.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerance {
    /// Area of a region that may lie outside its parent, in m².
    pub outside_parent_m2: f64,
    /// Area that two regions with the same parent may share, in m².
    pub sibling_overlap_m2: f64,
}

impl Default for Tolerance {
    /// 1,000 m² each: far above the slivers between real surveyed boundaries (the 13 towns
    /// of the sample overlap by 160 m² in all), far below a misplaced region.
    fn default() -> Tolerance {
        Tolerance { outside_parent_m2: 1_000.0, sibling_overlap_m2: 1_000.0 }
    }
}

/// The collection's frame: its type and its features, each still raw JSON.
#[derive(Deserialize)]
struct RawCollection {
    #[serde(rename = "type")]
    kind: String,
    features: Vec<Value>,
}

/// A parsed feature: its reference for messages, properties, and geometry.
pub(crate) struct Feature<G> {
    pub(crate) at: FeatureRef,
    pub(crate) properties: Map<String, Value>,
    pub(crate) geometry: G,
}

/// Parses a FeatureCollection of polygons or multipolygons. Features with problems are
/// left out and their problems appended to `problems`. `code_key` names the property that
/// identifies a feature (`code` for regions, `id` for layers, which may also use the
/// feature's own `id` member).
pub(crate) fn polygons(
    input: &str,
    text: &str,
    code_key: &str,
    problems: &mut Vec<Problem>,
) -> Result<Vec<Feature<MultiPolygon<f64>>>, GeoError> {
    let mut out = Vec::new();
    for (at, properties, geometry) in features(input, text, code_key, problems)? {
        let polygons: Vec<&Vec<Vec<::geojson::Position>>> = match &geometry {
            Some(GeometryValue::Polygon { coordinates }) => vec![coordinates],
            Some(GeometryValue::MultiPolygon { coordinates }) => coordinates.iter().collect(),
            other => {
                problems.push(Problem::GeometryType {
                    feature: at,
                    expected: "Polygon or MultiPolygon",
                    found: other.as_ref().map_or("null", GeometryValue::type_name).into(),
                });
                continue;
            }
        };
        let before = problems.len();
        let mut ring_number = 0;
        let mut shape = Vec::new();
        for polygon in polygons {
            if polygon.is_empty() {
                problems.push(malformed(&at, "a polygon without rings"));
                continue;
            }
            let rings = polygon;
            let mut checked = Vec::new();
            for ring in rings {
                match positions(ring) {
                    Some(coords) => {
                        check_ring(&at, ring_number, &coords, problems);
                        checked.push(LineString(coords));
                    }
                    None => problems.push(malformed(&at, "a position with fewer than two numbers")),
                }
                ring_number += 1;
            }
            if !checked.is_empty() {
                let exterior = checked.remove(0);
                shape.push(Polygon::new(exterior, checked));
            }
        }
        if problems.len() == before {
            out.push(Feature { at, properties, geometry: MultiPolygon(shape) });
        }
    }
    Ok(out)
}

/// Parses a FeatureCollection of points, checking each is in range.
pub(crate) fn points(
    input: &str,
    text: &str,
    code_key: &str,
    problems: &mut Vec<Problem>,
) -> Result<Vec<Feature<Coord>>, GeoError> {
    let mut out = Vec::new();
    for (at, properties, geometry) in features(input, text, code_key, problems)? {
        let coordinates = match &geometry {
            Some(GeometryValue::Point { coordinates }) => coordinates,
            other => {
                let found = other.as_ref().map_or("null", GeometryValue::type_name).into();
                problems.push(Problem::GeometryType { feature: at, expected: "Point", found });
                continue;
            }
        };
        match position(coordinates) {
            Some(p) if in_range(p) => out.push(Feature { at, properties, geometry: p }),
            Some(p) => problems.push(Problem::CoordinateOutOfRange { feature: at, lon: p.x, lat: p.y }),
            None => problems.push(malformed(&at, "a position with fewer than two numbers")),
        }
    }
    Ok(out)
}

type RawParts = (FeatureRef, Map<String, Value>, Option<GeometryValue>);

/// The features of a collection, each read by the `geojson` crate; a feature it refuses
/// is a problem of its own and is left out.
fn features(input: &str, text: &str, code_key: &str, problems: &mut Vec<Problem>) -> Result<Vec<RawParts>, GeoError> {
    let collection: RawCollection = serde_json::from_str(text)
        .map_err(|e| GeoError::NotGeoJson { what: input.to_string(), reason: e.to_string() })?;
    if collection.kind != "FeatureCollection" {
        return Err(GeoError::NotGeoJson {
            what: input.to_string(),
            reason: format!("type is `{}`, not `FeatureCollection`", collection.kind),
        });
    }
    let mut out = Vec::with_capacity(collection.features.len());
    for (index, raw) in collection.features.into_iter().enumerate() {
        // The reference is taken from the raw member first, so that even a feature the
        // reader refuses is named by its code.
        let code = raw.get("properties").and_then(|p| p.get(code_key)).or(raw.get("id")).and_then(|v| match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        });
        let at = FeatureRef { input: input.to_string(), index, code };
        match serde_json::from_value::<::geojson::Feature>(raw) {
            Ok(feature) => out.push((at, feature.properties.unwrap_or_default(), feature.geometry.map(|g| g.value))),
            Err(e) => problems.push(malformed(&at, &e.to_string())),
        }
    }
    Ok(out)
}

fn malformed(at: &FeatureRef, reason: &str) -> Problem {
    Problem::Malformed { feature: at.clone(), reason: reason.to_string() }
}

fn positions(ring: &[::geojson::Position]) -> Option<Vec<Coord>> {
    ring.iter().map(position).collect()
}

fn position(p: &::geojson::Position) -> Option<Coord> {
    match p.as_slice() {
        [x, y, ..] => Some(Coord { x: *x, y: *y }),
        _ => None,
    }
}

/// A finite WGS84 longitude/latitude.
pub(crate) fn in_range(p: Coord) -> bool {
    p.x.is_finite() && p.y.is_finite() && (-180.0..=180.0).contains(&p.x) && (-90.0..=90.0).contains(&p.y)
}

/// A text property, if present and a string (or a number, written as text).
pub(crate) fn text_property(properties: &Map<String, Value>, key: &str) -> Option<String> {
    match properties.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}
