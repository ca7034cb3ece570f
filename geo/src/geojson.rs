//! GeoJSON out (RFC 7946): regions, layer features and points as the `geojson` crate's
//! values, which serialise as the standard writes them. The server answers with them and
//! stores boundaries in PostGIS through them; nothing else writes GeoJSON.

use geo::{Coord, MultiPolygon};
use serde_json::{Map, Value};

/// Re-exported so that callers name the same GeoJSON types as this crate.
pub use ::geojson::{Feature, FeatureCollection, GeoJson, Geometry, GeometryValue};

/// A region's or an area's boundary as a MultiPolygon geometry.
pub fn multipolygon(shape: &MultiPolygon<f64>) -> Geometry {
    Geometry::new(::geojson::GeometryValue::from(shape))
}

/// A WGS84 position as a Point geometry.
pub fn point(p: Coord) -> Geometry {
    Geometry::new_point([p.x, p.y])
}

/// A Feature with these properties and this geometry (no `id` member: the ids travel in
/// the properties, as the importers read them).
pub fn feature(properties: Map<String, Value>, geometry: Geometry) -> Feature {
    Feature { geometry: Some(geometry), properties: Some(properties), ..Feature::default() }
}

/// A FeatureCollection of these features.
pub fn collection(features: Vec<Feature>) -> FeatureCollection {
    FeatureCollection::new(features)
}

#[cfg(test)]
mod tests {
    use geo::{LineString, Polygon};
    use serde_json::json;

    use super::*;

    #[test]
    fn features_are_written_as_rfc_7946_says() {
        let ring = LineString::from(vec![(120.0, 28.0), (120.5, 28.0), (120.5, 28.5), (120.0, 28.0)]);
        let hole = LineString::from(vec![(120.1, 28.1), (120.2, 28.1), (120.2, 28.2), (120.1, 28.1)]);
        let shape = MultiPolygon(vec![Polygon::new(ring, vec![hole])]);
        let mut properties = Map::new();
        properties.insert("code".into(), json!("330304001"));
        let written = collection(vec![
            feature(properties, multipolygon(&shape)),
            feature(Map::new(), point(Coord { x: 120.25, y: 28.75 })),
        ]);
        assert_eq!(
            serde_json::to_value(&written).unwrap(),
            json!({"type": "FeatureCollection", "features": [
                {"type": "Feature", "properties": {"code": "330304001"}, "geometry": {"type": "MultiPolygon",
                    "coordinates": [[
                        [[120.0, 28.0], [120.5, 28.0], [120.5, 28.5], [120.0, 28.0]],
                        [[120.1, 28.1], [120.2, 28.1], [120.2, 28.2], [120.1, 28.1]]
                    ]]}},
                {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [120.25, 28.75]}}
            ]})
        );
        // What is written reads back through the crate's own reader.
        let back: FeatureCollection = written.to_string().parse().unwrap();
        assert_eq!(back, written);
    }
}
