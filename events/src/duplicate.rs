//! Duplicate detection at intake: a new case of the same category, close in space and
//! time to an open case, is linked to it instead of being counted twice (ten calls about
//! one burst pipe are one case). The server fetches the candidates (open cases of the
//! category near the point, a PostGIS radius query); this module decides, deterministically.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::case::GeoPoint;
use crate::ids::{CaseId, CategoryCode};

/// How close counts as the same.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DuplicatePolicy {
    /// The largest distance, in metres (default 100).
    pub max_distance_m: f64,
    /// The largest gap between the two occurrence times, in minutes (default 24 hours).
    pub window_minutes: u32,
}

impl Default for DuplicatePolicy {
    fn default() -> DuplicatePolicy {
        DuplicatePolicy { max_distance_m: 100.0, window_minutes: 24 * 60 }
    }
}

/// What duplicate detection knows of a case, new or open.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseFootprint {
    /// The case (ignored for the new case, which has no id yet).
    pub id: CaseId,
    /// Its category.
    pub category: CategoryCode,
    /// Where, in WGS84.
    pub point: GeoPoint,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
}

/// The open case a new one duplicates.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DuplicateMatch {
    /// The open case.
    pub case: CaseId,
    /// How far apart the two points are, in metres.
    pub distance_m: f64,
}

/// The geodesic distance between two WGS84 points in metres, on the ellipsoid
/// (`cockpit_geo::distance_m`): one measure of distance everywhere in the cockpit.
pub(crate) fn distance_m(a: GeoPoint, b: GeoPoint) -> f64 {
    cockpit_geo::distance_m(cockpit_geo::Coord { x: a.lon, y: a.lat }, cockpit_geo::Coord { x: b.lon, y: b.lat })
}

impl DuplicatePolicy {
    /// The open case that `new` duplicates, if any: same category, within the distance
    /// and the time window (both inclusive). Among several, the nearest; at equal
    /// distance the one that occurred first; then the lowest id.
    pub fn find(&self, new: &CaseFootprint, open: &[CaseFootprint]) -> Option<DuplicateMatch> {
        let window = TimeDelta::minutes(i64::from(self.window_minutes));
        open.iter()
            .filter(|candidate| candidate.category == new.category)
            .filter(|candidate| (candidate.occurred_at - new.occurred_at).abs() <= window)
            .map(|candidate| (candidate, distance_m(new.point, candidate.point)))
            .filter(|(_, distance)| *distance <= self.max_distance_m)
            .min_by(|(a, da), (b, db)| da.total_cmp(db).then(a.occurred_at.cmp(&b.occurred_at)).then(a.id.cmp(&b.id)))
            .map(|(candidate, distance_m)| DuplicateMatch { case: candidate.id, distance_m })
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(hour: u32, minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 10, hour, minute, 0).unwrap()
    }

    /// A point `north_m` metres north and `east_m` east of a spot in Ouhai, by the WGS84
    /// ellipsoid's radii of curvature there (exact to a millimetre over these distances).
    fn near(north_m: f64, east_m: f64) -> GeoPoint {
        let (lon, lat) = (120.6551_f64, 28.0166_f64);
        let (a, e2) = (6_378_137.0_f64, 0.006_694_379_990_14_f64);
        let w = 1.0 - e2 * lat.to_radians().sin().powi(2);
        let meridian = a * (1.0 - e2) / w.powf(1.5);
        let normal = a / w.sqrt();
        GeoPoint {
            lon: lon + (east_m / (normal * lat.to_radians().cos())).to_degrees(),
            lat: lat + (north_m / meridian).to_degrees(),
        }
    }

    fn case(id: i64, category: &str, point: GeoPoint, occurred_at: DateTime<Utc>) -> CaseFootprint {
        CaseFootprint { id: CaseId(id), category: category.into(), point, occurred_at }
    }

    #[test]
    fn distances_match_known_values() {
        let check = |a: GeoPoint, b: GeoPoint, expected: f64, tolerance: f64| {
            let d = distance_m(a, b);
            assert!((d - expected).abs() <= tolerance, "{a:?} {b:?}: {d}");
            assert!((distance_m(b, a) - d).abs() < 1e-9, "symmetric");
        };
        let p = |lon, lat| GeoPoint { lon, lat };
        check(p(120.0, 28.0), p(120.0, 28.0), 0.0, 1e-9);
        // Expected values from GeographicLib (Karney), WGS84.
        check(p(120.0, 28.0), p(120.0, 29.0), 110_827.576, 0.01); // one degree of latitude
        check(p(0.0, 0.0), p(180.0, 0.0), 20_003_931.459, 0.01); // antipodes: over a pole
        check(near(0.0, 0.0), near(30.0, 40.0), 50.0, 0.01);
        // A few kilometres across Wenzhou.
        check(p(120.6138, 27.9719), p(120.6373, 28.0069), 4_515.331, 0.01);
    }

    #[test]
    fn the_nearest_then_oldest_open_case_of_the_category_is_chosen() {
        let policy = DuplicatePolicy { max_distance_m: 100.0, window_minutes: 120 };
        let new = case(0, "0503", near(0.0, 0.0), at(10, 0));
        let check = |open: &[CaseFootprint], expected: Option<i64>| {
            let found = policy.find(&new, open).map(|m| m.case.0);
            assert_eq!(found, expected, "{open:?}");
        };
        check(&[], None);
        check(&[case(1, "0503", near(60.0, 0.0), at(9, 0))], Some(1));
        check(&[case(1, "0102", near(10.0, 0.0), at(9, 0))], None); // other category
        check(&[case(1, "0503", near(100.5, 0.0), at(9, 0))], None); // too far
        check(&[case(1, "0503", near(99.5, 0.0), at(8, 0))], Some(1)); // inside, window edge
        check(&[case(1, "0503", near(10.0, 0.0), at(7, 59))], None); // outside the window
        check(&[case(1, "0503", near(10.0, 0.0), at(12, 0))], Some(1)); // later, still inside
        check(&[case(1, "0503", near(80.0, 0.0), at(9, 0)), case(2, "0503", near(0.0, 30.0), at(9, 30))], Some(2));
        check(&[case(3, "0503", near(50.0, 0.0), at(9, 30)), case(4, "0503", near(50.0, 0.0), at(9, 0))], Some(4));
        check(&[case(6, "0503", near(50.0, 0.0), at(9, 0)), case(5, "0503", near(50.0, 0.0), at(9, 0))], Some(5));
    }

    #[test]
    fn the_match_reports_its_distance() {
        let new = case(0, "0102", near(0.0, 0.0), at(10, 0));
        let found = DuplicatePolicy::default().find(&new, &[case(9, "0102", near(30.0, 40.0), at(3, 0))]).unwrap();
        assert_eq!(found.case, CaseId(9));
        assert!((found.distance_m - 50.0).abs() < 0.01, "{}", found.distance_m);
    }
}
