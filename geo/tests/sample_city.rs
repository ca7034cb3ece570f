//! The sample city: the index agrees with the brute-force scan, the generated levels tile
//! their parents, and the counts and searches over it.

mod common;

use cockpit_geo::{Coord, Level};
use common::{Rng, city};

#[test]
fn locate_agrees_with_a_scan_of_every_grid_for_100k_random_points() {
    let city = city();
    let mut rng = Rng(20_261_125);
    let mut inside = 0;
    for _ in 0..100_000 {
        let p = rng.point_in_district_box(city);
        let indexed = city.locate(p);
        assert_eq!(indexed, city.locate_by_scan(p), "at {p:?}");
        inside += usize::from(indexed.is_some());
    }
    // The district fills about half of its bounding box; a broken index that answered
    // "outside" everywhere would agree with nothing here.
    assert!((30_000..80_000).contains(&inside), "{inside} of 100,000 inside");
}

#[test]
fn locate_many_is_locate_for_each() {
    let city = city();
    let mut rng = Rng(7);
    let points: Vec<Coord> = (0..1000).map(|_| rng.point_in_district_box(city)).collect();
    let batch = city.locate_many(&points);
    for (p, got) in points.iter().zip(batch) {
        assert_eq!(got, city.locate(*p));
    }
}

#[test]
fn every_point_of_a_street_is_in_exactly_one_of_its_villages_and_one_grid() {
    let city = city();
    let mut rng = Rng(42);
    let mut checked = 0;
    while checked < 20_000 {
        let p = rng.point_in_district_box(city);
        let Some(location) = city.locate(p) else { continue };
        checked += 1;
        let street = city.region(location.street);
        let villages: Vec<_> =
            street.children.iter().filter(|&&v| city.region(v).boundary.iter().any(|poly| contains(poly, p))).collect();
        assert_eq!(villages.len(), 1, "{p:?} in {} villages of {}", villages.len(), street.name);
        let village = city.region(*villages[0]);
        assert_eq!(location.village, Some(village.id));
        let grids: Vec<_> = village
            .children
            .iter()
            .filter(|&&g| city.region(g).boundary.iter().any(|poly| contains(poly, p)))
            .collect();
        assert_eq!(grids.len(), 1, "{p:?} in {} grids of {}", grids.len(), village.name);
        assert_eq!(location.grid, Some(*grids[0]));
    }
}

/// Area sums: the children of every region cover it (within 0.1 %).
#[test]
fn children_areas_add_up_to_their_parent() {
    let city = city();
    for region in city.regions().iter().filter(|r| !r.children.is_empty()) {
        let sum: f64 = region.children.iter().map(|&c| city.region(c).area_km2).sum();
        let gap = (sum - region.area_km2).abs() / region.area_km2;
        assert!(gap < 0.001, "{} ({}): children {sum} km², itself {} km²", region.name, region.code, region.area_km2);
    }
}

#[test]
fn the_sample_has_the_districts_real_shape_and_counts() {
    let city = city();
    let count = |level| city.level(level).count();
    assert_eq!(
        [count(Level::District), count(Level::Street), count(Level::Village), count(Level::Grid)],
        [1, 13, 197, 942]
    );
    assert!((city.district().area_km2 - 465.7).abs() < 2.0, "{}", city.district().area_km2);
    let zeya = city.by_code("330304108").unwrap_or_else(|| panic!("泽雅镇"));
    assert_eq!(zeya.name, "泽雅镇");
    assert!((zeya.area_km2 - 146.8).abs() < 1.0, "{}", zeya.area_km2);
    // Every grid has its three persons in charge, and a centre inside it.
    for grid in city.level(Level::Grid) {
        let roles: Vec<&str> = grid.persons.iter().map(|p| p.role.as_str()).collect();
        assert_eq!(roles, ["网格指导员", "网格长", "专职网格员"], "{}", grid.code);
        assert!(grid.generated);
        assert_eq!(city.locate(grid.centre).and_then(|l| l.grid), Some(grid.id), "centre of {}", grid.code);
    }
}

#[test]
fn counts_roll_up_from_grids_to_the_district() {
    let city = city();
    let mut rng = Rng(99);
    let points: Vec<Coord> = (0..5_000).map(|_| rng.point_in_district_box(city)).collect();
    let counts = city.count_points(&points);
    let located = points.iter().filter(|&&p| city.locate(p).is_some()).count() as u64;
    assert_eq!(counts.get(city.district().id), located);
    assert_eq!(counts.outside, 5_000 - located);
    for region in city.regions().iter().filter(|r| !r.children.is_empty()) {
        let sum: u64 = region.children.iter().map(|&c| counts.get(c)).sum();
        assert_eq!(sum, counts.get(region.id), "{}", region.code);
    }
    let wutian = city.by_code("330304002").unwrap_or_else(|| panic!("梧田街道"));
    let direct = points.iter().filter(|&&p| city.locate(p).map(|l| l.street) == Some(wutian.id)).count() as u64;
    assert_eq!(counts.get(wutian.id), direct);
}

#[test]
fn search_finds_regions_by_name_and_code_at_every_level() {
    let city = city();
    let names = |q: &str, n: usize| city.search(q, n).iter().map(|r| r.code.to_string()).collect::<Vec<_>>();
    // The exact code first, then the regions under it by code prefix.
    let zeya = names("330304108", 5);
    assert_eq!(zeya[0], "330304108");
    assert_eq!(zeya.len(), 5);
    assert!(zeya[1..].iter().all(|c| c.starts_with("330304108") && c.len() > 9), "{zeya:?}");
    assert_eq!(city.search("景山街道", 5)[0].code.as_str(), "330304001");
    // A name fragment finds the community and its grids, community first.
    let hits = city.search("繁荣社区", 3);
    assert_eq!(hits[0].code.as_str(), "330304001002");
    assert_eq!(hits[1].level, Level::Grid);
    // A code prefix finds the street's villages.
    assert!(names("330304001", 10).iter().all(|c| c.starts_with("330304001")));
    assert!(city.search("   ", 10).is_empty());
    assert!(city.search("不存在的地方", 10).is_empty());
}

fn contains(polygon: &cockpit_geo::Polygon<f64>, p: Coord) -> bool {
    use geo::Contains;
    polygon.contains(&geo::Point(p))
}
