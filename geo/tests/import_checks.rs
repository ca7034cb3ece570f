//! Every way a GeoJSON import can be wrong yields its own problem, naming the feature; and
//! points on shared edges and vertices follow the documented rule.

use cockpit_geo::{City, CityGeoJson, Coord, GeoError, Level, PointLayer, Problem, Tolerance};
use serde_json::{Value, json};

/// An axis-aligned rectangle, corners given exactly (no arithmetic, so shared edges are
/// bit-identical).
fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> Value {
    json!([[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]])
}

fn collection(features: Vec<Value>) -> String {
    json!({"type": "FeatureCollection", "features": features}).to_string()
}

fn region(code: &str, parent: Option<&str>, rings: Value) -> Value {
    let mut properties = json!({"code": code, "name": format!("区域{code}")});
    if let Some(parent) = parent {
        properties["parent"] = json!(parent);
    }
    json!({"type": "Feature", "properties": properties, "geometry": {"type": "Polygon", "coordinates": rings}})
}

/// A 2 × 2 block of 0.01° squares near Wenzhou: one district, two streets (west, east),
/// each with one village and two grids (south, north).
fn city_with(streets: Vec<Value>, villages: Vec<Value>, grids: Vec<Value>) -> Result<City, GeoError> {
    let district = collection(vec![region("D", None, rect(120.0, 28.0, 120.02, 28.02))]);
    let (s, v, g) = (collection(streets), collection(villages), collection(grids));
    City::from_geojson(
        CityGeoJson { district: &district, streets: &s, villages: Some(&v), grids: Some(&g) },
        Tolerance::default(),
    )
}

fn good_streets() -> Vec<Value> {
    vec![
        region("W", None, json!([[[120.0, 28.0], [120.01, 28.0], [120.01, 28.02], [120.0, 28.02], [120.0, 28.0]]])),
        region("E", None, json!([[[120.01, 28.0], [120.02, 28.0], [120.02, 28.02], [120.01, 28.02], [120.01, 28.0]]])),
    ]
}

fn good_villages() -> Vec<Value> {
    vec![
        region(
            "WV",
            Some("W"),
            json!([[[120.0, 28.0], [120.01, 28.0], [120.01, 28.02], [120.0, 28.02], [120.0, 28.0]]]),
        ),
        region(
            "EV",
            Some("E"),
            json!([[[120.01, 28.0], [120.02, 28.0], [120.02, 28.02], [120.01, 28.02], [120.01, 28.0]]]),
        ),
    ]
}

fn good_grids() -> Vec<Value> {
    vec![
        region("WS", Some("WV"), rect(120.0, 28.0, 120.01, 28.01)),
        region("WN", Some("WV"), rect(120.0, 28.01, 120.01, 28.02)),
        region("ES", Some("EV"), rect(120.01, 28.0, 120.02, 28.01)),
        region("EN", Some("EV"), rect(120.01, 28.01, 120.02, 28.02)),
    ]
}

/// The problems of an import that must fail.
fn problems(result: Result<City, GeoError>) -> Vec<Problem> {
    match result {
        Err(GeoError::Invalid { problems }) => problems,
        Err(other) => panic!("expected invalid features, got {other}"),
        Ok(_) => panic!("expected the import to fail"),
    }
}

#[test]
fn the_small_city_loads() {
    let city = city_with(good_streets(), good_villages(), good_grids()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(city.level(Level::Grid).count(), 4);
}

#[test]
fn points_on_edges_and_vertices_follow_the_east_then_north_rule() {
    let city = city_with(good_streets(), good_villages(), good_grids()).unwrap_or_else(|e| panic!("{e}"));
    let grid_at = |x: f64, y: f64| {
        let p = Coord { x, y };
        let got = city.locate(p).and_then(|l| l.grid).map(|g| city.region(g).code.to_string());
        let scanned = city.locate_by_scan(p).and_then(|l| l.grid).map(|g| city.region(g).code.to_string());
        assert_eq!(got, scanned, "index and scan disagree at {p:?}");
        got
    };
    let check = |x: f64, y: f64, expected: Option<&str>| {
        assert_eq!(grid_at(x, y).as_deref(), expected, "at ({x}, {y})");
    };
    // On the north–south edge between west and east grids: the east one.
    check(120.01, 28.005, Some("ES"));
    check(120.01, 28.015, Some("EN"));
    // On the east–west edge between south and north grids: the north one.
    check(120.005, 28.01, Some("WN"));
    check(120.015, 28.01, Some("EN"));
    // The vertex where all four meet: north-east.
    check(120.01, 28.01, Some("EN"));
    // The district's west and south edges are inside, east and north outside.
    check(120.0, 28.005, Some("WS"));
    check(120.005, 28.0, Some("WS"));
    check(120.02, 28.005, None);
    check(120.005, 28.02, None);
    check(120.0, 28.0, Some("WS"));
    // Not a number, and far away.
    check(f64::NAN, 28.005, None);
    check(500.0, 28.005, None);
}

#[test]
fn each_bad_feature_yields_its_own_problem() {
    // (what is wrong, the grids to load, a predicate on the problem)
    type Check = fn(&Problem) -> bool;
    let mut bad_grids = good_grids();
    bad_grids[0] = region("WS", Some("WV"), json!([[[120.0, 28.0], [120.01, 28.0], [120.01, 28.01], [120.0, 28.01]]]));
    let unclosed = (bad_grids, (|p: &Problem| matches!(p, Problem::UnclosedRing { ring: 0, .. })) as Check);

    let mut bad_grids = good_grids();
    bad_grids[0] = region(
        "WS",
        Some("WV"),
        json!([[[120.0, 28.0], [120.01, 28.01], [120.01, 28.0], [120.0, 28.01], [120.0, 28.0]]]),
    );
    let bow_tie = (bad_grids, (|p: &Problem| matches!(p, Problem::SelfIntersection { .. })) as Check);

    let mut bad_grids = good_grids();
    bad_grids[0] = region("WS", Some("WV"), json!([[[120.0, 28.0], [200.0, 28.0], [120.01, 28.01], [120.0, 28.0]]]));
    let out_of_range =
        (bad_grids, (|p: &Problem| matches!(p, Problem::CoordinateOutOfRange { lon, .. } if *lon == 200.0)) as Check);

    let mut bad_grids = good_grids();
    bad_grids[1] = region("WS", Some("WV"), rect(120.0, 28.01, 120.01, 28.02));
    let duplicate =
        (bad_grids, (|p: &Problem| matches!(p, Problem::DuplicateId { code, .. } if code == "WS")) as Check);

    let mut bad_grids = good_grids();
    bad_grids[0] = region("WS", Some("NOPE"), rect(120.0, 28.0, 120.01, 28.01));
    let orphan =
        (bad_grids, (|p: &Problem| matches!(p, Problem::MissingParent { parent, .. } if parent == "NOPE")) as Check);

    let mut bad_grids = good_grids();
    // The west-south grid spills 0.005° (about 490 m × 1.1 km) into the east street.
    bad_grids[0] = region(
        "WS",
        Some("WV"),
        json!([[[120.0, 28.0], [120.015, 28.0], [120.015, 28.01], [120.0, 28.01], [120.0, 28.0]]]),
    );
    let outside =
        (bad_grids, (|p: &Problem| matches!(p, Problem::OutsideParent { parent, .. } if parent == "WV")) as Check);

    let mut bad_grids = good_grids();
    // The west-north grid reaches down over half of the west-south one.
    bad_grids[1] = region(
        "WN",
        Some("WV"),
        json!([[[120.0, 28.005], [120.01, 28.005], [120.01, 28.02], [120.0, 28.02], [120.0, 28.005]]]),
    );
    let overlap =
        (bad_grids, (|p: &Problem| matches!(p, Problem::OverlapsSibling { sibling, .. } if sibling == "WS")) as Check);

    let mut bad_grids = good_grids();
    bad_grids[2] = json!({"type": "Feature", "properties": {"code": "ES", "name": "x", "parent": "EV"}, "geometry": {"type": "Point", "coordinates": [120.015, 28.005]}});
    let not_a_polygon =
        (bad_grids, (|p: &Problem| matches!(p, Problem::GeometryType { found, .. } if found == "Point")) as Check);

    let mut bad_grids = good_grids();
    bad_grids[3] = json!({"type": "Feature", "properties": {"code": "EN", "parent": "EV"}, "geometry": {"type": "Polygon", "coordinates": rect(120.01, 28.01, 120.02, 28.02)}});
    let nameless = (bad_grids, (|p: &Problem| matches!(p, Problem::Property { property: "name", .. })) as Check);

    for (name, (grids, predicate)) in [
        ("unclosed ring", unclosed),
        ("self-intersecting ring", bow_tie),
        ("coordinate out of range", out_of_range),
        ("duplicate id", duplicate),
        ("missing parent", orphan),
        ("child outside its parent", outside),
        ("siblings overlapping", overlap),
        ("not a polygon", not_a_polygon),
        ("no name", nameless),
    ] {
        let found = problems(city_with(good_streets(), good_villages(), grids));
        assert!(found.iter().any(predicate), "{name}: got {found:?}");
        // Each names its feature: the grids input and a code.
        let problem = found.iter().find(|p| predicate(p)).unwrap_or_else(|| unreachable!());
        assert_eq!(problem.feature().input, "grid", "{name}");
        assert!(problem.feature().code.is_some(), "{name}");
        assert!(problem.to_string().starts_with("grid feature #"), "{name}: {problem}");
    }
}

#[test]
fn not_a_feature_collection_is_said_plainly() {
    let err = PointLayer::from_geojson("cameras", "{\"type\": \"Feature\", \"features\": []}")
        .err()
        .unwrap_or_else(|| panic!("must fail"));
    assert!(matches!(&err, GeoError::NotGeoJson { what, .. } if what == "cameras"), "{err}");
    let err = PointLayer::from_geojson("cameras", "not json").err().unwrap_or_else(|| panic!("must fail"));
    assert!(matches!(err, GeoError::NotGeoJson { .. }));
}

#[test]
fn point_layers_reject_duplicates_and_bad_positions() {
    let layer = json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"id": "a"}, "geometry": {"type": "Point", "coordinates": [120.0, 28.0]}},
        {"type": "Feature", "properties": {"id": "a"}, "geometry": {"type": "Point", "coordinates": [120.1, 28.0]}},
        {"type": "Feature", "properties": {"id": "b"}, "geometry": {"type": "Point", "coordinates": [120.0, 95.0]}},
        {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [120.0, 28.0]}},
    ]});
    let err = PointLayer::from_geojson("cameras", &layer.to_string()).err().unwrap_or_else(|| panic!("must fail"));
    let GeoError::Invalid { problems } = err else { panic!("expected invalid features") };
    assert!(matches!(&problems[0], Problem::CoordinateOutOfRange { lat, .. } if *lat == 95.0), "{problems:?}");
    assert!(problems.iter().any(|p| matches!(p, Problem::DuplicateId { code, .. } if code == "a")));
    assert!(problems.iter().any(|p| matches!(p, Problem::Property { property: "id", .. })));
}

/// Features the GeoJSON reader refuses are problems of their own, each naming its feature,
/// beside the problems of the features it could read: nothing stops at the first.
#[test]
fn unreadable_features_are_named_with_the_others() {
    let layer = json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"id": "circle"}, "geometry": {"type": "Circle", "coordinates": [120.0, 28.0]}},
        {"type": "Feature", "properties": {"id": "words"}, "geometry": {"type": "Point", "coordinates": ["120", "28"]}},
        {"type": "Feature", "properties": {"id": "short"}, "geometry": {"type": "Point", "coordinates": [120.0]}},
        {"type": "Feature", "id": "listed", "properties": [1, 2], "geometry": {"type": "Point", "coordinates": [120.0, 28.0]}},
        {"type": "Point", "properties": {"id": "no-feature"}, "coordinates": [120.0, 28.0]},
        {"type": "Feature", "properties": {"id": "line"}, "geometry": {"type": "LineString", "coordinates": [[120.0, 28.0], [120.1, 28.0]]}},
        {"type": "Feature", "properties": {"id": "north"}, "geometry": {"type": "Point", "coordinates": [120.0, 95.0]}},
        {"type": "Feature", "properties": {"id": "good"}, "geometry": {"type": "Point", "coordinates": [120.0, 28.0]}},
    ]});
    let err = PointLayer::from_geojson("cameras", &layer.to_string()).err().unwrap_or_else(|| panic!("must fail"));
    let GeoError::Invalid { problems } = err else { panic!("expected invalid features") };
    let named: Vec<(&str, &str)> = problems
        .iter()
        .map(|p| {
            let kind = match p {
                Problem::Malformed { .. } => "malformed",
                Problem::GeometryType { .. } => "type",
                Problem::CoordinateOutOfRange { .. } => "range",
                _ => "other",
            };
            (p.feature().code.as_deref().unwrap_or("?"), kind)
        })
        .collect();
    assert_eq!(
        named,
        [
            ("circle", "malformed"),
            ("words", "malformed"),
            ("short", "malformed"),
            ("listed", "malformed"),
            ("no-feature", "malformed"),
            ("line", "type"),
            ("north", "range")
        ],
        "{problems:?}"
    );
    for p in &problems {
        assert!(p.to_string().starts_with("cameras feature #"), "{p}");
    }
    assert!(problems[0].to_string().contains("Circle"), "{}", problems[0]);
}
