//! Radius and nearest queries agree with a brute-force geodesic scan; key areas contain
//! the points they should.

mod common;

use cockpit_geo::{Coord, distance_m};
use common::{Rng, cameras, city, key_areas};

#[test]
fn within_radius_agrees_with_a_geodesic_scan() {
    let city = city();
    let cameras = cameras();
    let mut rng = Rng(1);
    let mut found = 0;
    for i in 0..400 {
        let p = rng.point_in_district_box(city);
        let radius = [100.0, 200.0, 500.0, 1000.0][i % 4];
        let got: Vec<(&str, f64)> =
            cameras.within_radius(p, radius).iter().map(|n| (n.feature.id.as_str(), n.distance_m)).collect();
        let expected: Vec<(&str, f64)> = cameras
            .scan_by_distance(p)
            .iter()
            .take_while(|n| n.distance_m <= radius)
            .map(|n| (n.feature.id.as_str(), n.distance_m))
            .collect();
        assert_eq!(got, expected, "around {p:?} within {radius} m");
        found += got.len();
    }
    assert!(found > 100, "only {found} cameras found in 400 searches: the test is not testing much");
}

#[test]
fn nearest_agrees_with_a_geodesic_scan() {
    let city = city();
    let cameras = cameras();
    let mut rng = Rng(2);
    for k in [1, 3, 10] {
        for _ in 0..100 {
            let p = rng.point_in_district_box(city);
            let got: Vec<&str> = cameras.nearest(p, k).iter().map(|n| n.feature.id.as_str()).collect();
            let expected: Vec<&str> =
                cameras.scan_by_distance(p).iter().take(k).map(|n| n.feature.id.as_str()).collect();
            assert_eq!(got, expected, "{k} nearest to {p:?}");
        }
    }
    assert!(cameras.nearest(Coord { x: 120.6, y: 28.0 }, 0).is_empty());
}

#[test]
fn distances_are_geodesic_metres() {
    let cameras = cameras();
    let p = Coord { x: 120.63, y: 27.98 };
    for n in cameras.within_radius(p, 1000.0) {
        assert_eq!(n.distance_m, distance_m(p, n.feature.position));
        assert!(n.distance_m <= 1000.0);
    }
}

#[test]
fn key_areas_contain_their_own_centres_only() {
    let areas = key_areas();
    assert!(areas.features().len() >= 4);
    for area in areas.features() {
        let ring = &area.boundary.0[0].exterior().0;
        let n = (ring.len() - 1) as f64;
        let centre = Coord {
            x: ring[..ring.len() - 1].iter().map(|c| c.x).sum::<f64>() / n,
            y: ring[..ring.len() - 1].iter().map(|c| c.y).sum::<f64>() / n,
        };
        let ids: Vec<&str> = areas.containing(centre).iter().map(|a| a.id.as_str()).collect();
        assert!(ids.contains(&area.id.as_str()), "{} does not contain its centre", area.id);
        assert!(area.kind.is_some());
    }
    assert!(areas.containing(Coord { x: 0.0, y: 0.0 }).is_empty());
}
