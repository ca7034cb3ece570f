//! Geodesic distance on the WGS84 ellipsoid (Karney's algorithm, through `geo`), and the
//! cheap bounds that let the spatial indexes avoid computing it for far-away points.

use geo::{Coord, Distance, Geodesic, Point};

/// The geodesic distance in metres between two WGS84 positions.
pub fn distance_m(a: Coord, b: Coord) -> f64 {
    Geodesic.distance(Point(a), Point(b))
}

/// Metres per degree of latitude, at least (the meridian degree is shortest at the equator,
/// 110,574 m; this rounds down so that a degree box built from it is never too small).
pub(crate) const MIN_METRES_PER_DEGREE_LAT: f64 = 110_500.0;

/// A longitude/latitude box that contains every point within `metres` of `centre`
/// (for radii up to a few hundred kilometres, away from the poles).
pub(crate) fn degree_box(centre: Coord, metres: f64) -> (Coord, Coord) {
    let dlat = metres / MIN_METRES_PER_DEGREE_LAT;
    let far_lat = (centre.y.abs() + dlat).min(89.9);
    // A degree of longitude is shortest at the box's latitude farthest from the equator;
    // 111,000 m × cos(lat) bounds it from below on the ellipsoid.
    let dlon = metres / (111_000.0 * far_lat.to_radians().cos());
    (Coord { x: centre.x - dlon, y: centre.y - dlat }, Coord { x: centre.x + dlon, y: centre.y + dlat })
}

/// The area of a shape in m², from its planar area in degrees scaled at its mean latitude:
/// within 0.1 % of the ellipsoidal area for anything city-sized, and, unlike the
/// ellipsoidal formula, indifferent to the winding of rings that boolean operations return.
pub(crate) fn area_m2(shape: &geo::MultiPolygon<f64>) -> f64 {
    use geo::{Area, BoundingRect};
    let Some(bbox) = shape.bounding_rect() else { return 0.0 };
    let lat = bbox.center().y.to_radians();
    // Metres per degree on WGS84 at this latitude (meridian and parallel).
    let m_lat = 111_132.954 - 559.822 * (2.0 * lat).cos() + 1.175 * (4.0 * lat).cos();
    let m_lon = 111_412.84 * lat.cos() - 93.5 * (3.0 * lat).cos();
    shape.unsigned_area() * m_lat * m_lon
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_distances() {
        // One degree of latitude at the equator is 110,574.4 m on WGS84.
        let d = distance_m(Coord { x: 0.0, y: 0.0 }, Coord { x: 0.0, y: 1.0 });
        assert!((d - 110_574.4).abs() < 0.5, "{d}");
        // One degree of longitude at 28° N (Wenzhou) is 98,356 m on WGS84.
        let d = distance_m(Coord { x: 120.0, y: 28.0 }, Coord { x: 121.0, y: 28.0 });
        assert!((d - 98_356.0).abs() < 200.0, "{d}");
    }

    #[test]
    fn degree_box_contains_the_circle() {
        let centre = Coord { x: 120.6, y: 28.0 };
        let (min, max) = degree_box(centre, 1000.0);
        for corner in [
            Coord { x: min.x, y: centre.y },
            Coord { x: max.x, y: centre.y },
            Coord { x: centre.x, y: min.y },
            Coord { x: centre.x, y: max.y },
        ] {
            assert!(distance_m(centre, corner) >= 1000.0, "{corner:?}");
        }
    }
}
