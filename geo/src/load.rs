//! Reading GeoJSON (RFC 7946) FeatureCollections into checked features.
//!
//! The parser is our own small serde model rather than a general GeoJSON library, so that
//! every problem can name the feature and the reason, and so that every problem in a file
//! is reported at once instead of the first.

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

#[derive(Deserialize)]
struct RawCollection {
    #[serde(rename = "type")]
    kind: String,
    features: Vec<RawFeature>,
}

#[derive(Deserialize)]
struct RawFeature {
    #[serde(default)]
    id: Option<Value>,
    #[serde(default)]
    properties: Option<Map<String, Value>>,
    #[serde(default)]
    geometry: Option<RawGeometry>,
}

#[derive(Deserialize)]
struct RawGeometry {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    coordinates: Value,
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
    for (at, properties, geometry) in features(input, text, code_key)? {
        let Some(geometry) = geometry else {
            problems.push(Problem::GeometryType {
                feature: at,
                expected: "Polygon or MultiPolygon",
                found: "null".into(),
            });
            continue;
        };
        let polygons: Vec<&Value> = match geometry.kind.as_str() {
            "Polygon" => vec![&geometry.coordinates],
            "MultiPolygon" => match geometry.coordinates.as_array() {
                Some(list) => list.iter().collect(),
                None => {
                    problems.push(malformed(&at));
                    continue;
                }
            },
            other => {
                problems.push(Problem::GeometryType {
                    feature: at,
                    expected: "Polygon or MultiPolygon",
                    found: other.into(),
                });
                continue;
            }
        };
        let before = problems.len();
        let mut ring_number = 0;
        let mut shape = Vec::new();
        for polygon in polygons {
            let Some(rings) = polygon.as_array().filter(|r| !r.is_empty()) else {
                problems.push(malformed(&at));
                continue;
            };
            let mut checked = Vec::new();
            for ring in rings {
                match positions(ring) {
                    Some(coords) => {
                        check_ring(&at, ring_number, &coords, problems);
                        checked.push(LineString(coords));
                    }
                    None => problems.push(malformed(&at)),
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
    for (at, properties, geometry) in features(input, text, code_key)? {
        let found = geometry.as_ref().map_or("null".to_string(), |g| g.kind.clone());
        let Some(geometry) = geometry.filter(|g| g.kind == "Point") else {
            problems.push(Problem::GeometryType { feature: at, expected: "Point", found });
            continue;
        };
        match position(&geometry.coordinates) {
            Some(p) if in_range(p) => out.push(Feature { at, properties, geometry: p }),
            Some(p) => problems.push(Problem::CoordinateOutOfRange { feature: at, lon: p.x, lat: p.y }),
            None => problems.push(malformed(&at)),
        }
    }
    Ok(out)
}

type RawParts = (FeatureRef, Map<String, Value>, Option<RawGeometry>);

fn features(input: &str, text: &str, code_key: &str) -> Result<Vec<RawParts>, GeoError> {
    let collection: RawCollection = serde_json::from_str(text)
        .map_err(|e| GeoError::NotGeoJson { what: input.to_string(), reason: e.to_string() })?;
    if collection.kind != "FeatureCollection" {
        return Err(GeoError::NotGeoJson {
            what: input.to_string(),
            reason: format!("type is `{}`, not `FeatureCollection`", collection.kind),
        });
    }
    Ok(collection
        .features
        .into_iter()
        .enumerate()
        .map(|(index, feature)| {
            let properties = feature.properties.unwrap_or_default();
            let code = properties.get(code_key).or(feature.id.as_ref()).and_then(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            });
            (FeatureRef { input: input.to_string(), index, code }, properties, feature.geometry)
        })
        .collect())
}

fn malformed(at: &FeatureRef) -> Problem {
    Problem::GeometryType {
        feature: at.clone(),
        expected: "coordinates as arrays of [longitude, latitude] positions",
        found: "malformed coordinates".into(),
    }
}

fn positions(ring: &Value) -> Option<Vec<Coord>> {
    ring.as_array()?.iter().map(position).collect()
}

fn position(value: &Value) -> Option<Coord> {
    let pair = value.as_array()?;
    if pair.len() < 2 {
        return None;
    }
    Some(Coord { x: pair[0].as_f64()?, y: pair[1].as_f64()? })
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
