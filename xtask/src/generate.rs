//! The sample city's generated parts: village and grid polygons that tile the real town
//! polygons, resource points, key areas and monitoring blind spots.
//!
//! No public village or grid boundaries exist for Ouhai, so they are made here: each town
//! is cut by recursive bisection into as many pieces as NBS 2023 lists villages for it,
//! each piece's share of the area drawn at random, each cut's direction jittered so that
//! the result does not look like a chessboard; each village is cut into grids the same way
//! (942 grids in all, as the district has). Everything generated carries
//! `"generated": true`. The seed is fixed: the same sources give the same bytes.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, bail};
use cockpit_geo::{City, CityGeoJson, Coord, Level, MultiPolygon, Polygon, Tolerance};
use geo::{Area, BooleanOps, BoundingRect, Contains, LineString, Point};
use serde_json::{Value, json};

use crate::rng::Rng;

const SEED: u64 = 330_304;
const GRIDS: usize = 942;
const DISTRICT_CODE: &str = "330304";

/// Metres per degree, near Ouhai (27.9° N), for shaping cuts and circles.
const M_PER_DEG_LAT: f64 = 110_790.0;
const M_PER_DEG_LON: f64 = 98_440.0;

/// Generates every output file: (path relative to `data/ouhai/`, text).
pub(crate) fn sample_city(source: &Path) -> anyhow::Result<BTreeMap<String, String>> {
    let read = |name: &str| std::fs::read_to_string(source.join(name)).with_context(|| format!("reading {name}"));
    let district_text = read("ouhai_district_wgs84.geojson")?;
    let towns_text = read("ouhai_towns_13_wgs84.geojson")?;
    let villages_csv = read("ouhai_villages_nbs2023.csv")?;
    // The source has 梧田's exclave (5.3 ha) inside 南白象 without a hole for it, and a
    // 160 m² sliver shared by 梧田 and 娄桥: load it loosely, then give each overlap to the
    // town with the lower code.
    let towns = City::from_geojson(
        CityGeoJson { district: &district_text, streets: &towns_text, villages: None, grids: None },
        Tolerance { outside_parent_m2: 1_000.0, sibling_overlap_m2: 100_000.0 },
    )?;
    let mut streets: Vec<(&cockpit_geo::Region, MultiPolygon<f64>)> = Vec::new();
    for street in towns.level(Level::Street) {
        let mut shape = street.boundary.clone();
        for (earlier, earlier_shape) in &streets {
            if rects_touch(&earlier.bbox, &street.bbox) {
                shape = clean(shape.difference(earlier_shape));
            }
        }
        streets.push((street, shape));
    }
    let mut rng = Rng::new(SEED);
    let mut files = BTreeMap::new();

    let district = towns.district();
    files.insert(
        "district.geojson".to_string(),
        collection(vec![feature(
            json!({"code": DISTRICT_CODE, "name": district.name, "level": "district", "generated": false}),
            &district.boundary,
        )]),
    );
    files.insert(
        "streets.geojson".to_string(),
        collection(
            streets
                .iter()
                .map(|(s, shape)| {
                    feature(
                        json!({"code": s.code, "name": s.name, "level": "street", "parent": DISTRICT_CODE, "generated": false}),
                        shape,
                    )
                })
                .collect(),
        ),
    );

    // Villages: NBS 2023 list, grouped by street.
    let mut by_street: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for line in villages_csv.lines().skip(1) {
        let cols: Vec<&str> = line.split(',').map(|c| c.trim_matches('"')).collect();
        if cols.len() < 3 {
            bail!("malformed village line: {line}");
        }
        by_street.entry(cols[2].to_string()).or_default().push((cols[0].to_string(), cols[1].to_string()));
    }
    let mut villages: Vec<(String, String, String, MultiPolygon<f64>)> = Vec::new();
    for (street, shape) in &streets {
        let list = by_street.get(street.code.as_str()).with_context(|| format!("no villages for {}", street.code))?;
        let weights: Vec<f64> = list.iter().map(|_| rng.range(0.6, 1.4)).collect();
        let pieces = bisect(shape, &weights, &mut rng);
        for ((code, name), shape) in list.iter().zip(pieces) {
            villages.push((code.clone(), name.clone(), street.code.to_string(), shape));
        }
    }
    files.insert(
        "villages.geojson".to_string(),
        collection(
            villages
                .iter()
                .map(|(code, name, parent, shape)| {
                    feature(
                        json!({"code": code, "name": name, "level": "village", "parent": parent, "generated": true}),
                        shape,
                    )
                })
                .collect(),
        ),
    );

    // Grids: 942 shared out by area, communities (urban, denser) weighted double.
    let weights: Vec<f64> = villages
        .iter()
        .map(|(_, name, _, shape)| shape.unsigned_area().sqrt() * if name.ends_with("社区") { 2.0 } else { 1.0 })
        .collect();
    let counts = apportion(GRIDS, &weights);
    let mut grids = Vec::new();
    for ((code, name, _, shape), count) in villages.iter().zip(counts) {
        let weights: Vec<f64> = (0..count).map(|_| rng.range(0.7, 1.3)).collect();
        for (n, piece) in bisect(shape, &weights, &mut rng).into_iter().enumerate() {
            let persons = json!([
                {"role": "网格指导员", "name": person_name(&mut rng)},
                {"role": "网格长", "name": person_name(&mut rng)},
                {"role": "专职网格员", "name": person_name(&mut rng)},
            ]);
            grids.push((format!("{code}{:03}", n + 1), format!("{name}第{}网格", n + 1), code.clone(), persons, piece));
        }
    }
    files.insert(
        "grids.geojson".to_string(),
        collection(
            grids
                .iter()
                .map(|(code, name, parent, persons, shape)| {
                    feature(
                        json!({"code": code, "name": name, "level": "grid", "parent": parent, "persons": persons, "generated": true}),
                        shape,
                    )
                })
                .collect(),
        ),
    );

    // Points: cameras in every grid, services per street.
    let mut cameras = Vec::new();
    for (code, name, _, _, shape) in &grids {
        let urban = name.contains("社区");
        let n = 2 + rng.below(2) + usize::from(urban);
        for k in 0..n {
            let p = point_in(shape, &mut rng);
            let id = format!("CAM-{:05}", cameras.len() + 1);
            cameras.push(point_feature(json!({"id": id, "name": format!("{name}监控{}", k + 1), "kind": "camera", "grid": code, "generated": true}), p));
        }
    }
    files.insert("points/cameras.geojson".to_string(), collection(cameras));
    let mut hospitals = Vec::new();
    let mut fire_stations = Vec::new();
    let mut shelters = Vec::new();
    for (i, (street, shape)) in streets.iter().enumerate() {
        let short = street.name.trim_end_matches("街道").trim_end_matches('镇');
        for k in 0..2 {
            let p = point_in(shape, &mut rng);
            let name = if k == 0 { format!("{short}社区卫生服务中心") } else { format!("{short}医院") };
            hospitals.push(point_feature(json!({"id": format!("HOS-{:03}", hospitals.len() + 1), "name": name, "kind": "hospital", "street": street.code, "generated": true}), p));
        }
        if i % 2 == 0 || street.area_km2 > 30.0 {
            let p = point_in(shape, &mut rng);
            fire_stations.push(point_feature(json!({"id": format!("FIRE-{:02}", fire_stations.len() + 1), "name": format!("{short}消防救援站"), "kind": "fire_station", "street": street.code, "generated": true}), p));
        }
        for k in 0..3 {
            let p = point_in(shape, &mut rng);
            shelters.push(point_feature(json!({"id": format!("SHEL-{:03}", shelters.len() + 1), "name": format!("{short}应急避难场所{}", k + 1), "kind": "shelter", "street": street.code, "generated": true}), p));
        }
    }
    files.insert("points/hospitals.geojson".to_string(), collection(hospitals));
    files.insert("points/fire_stations.geojson".to_string(), collection(fire_stations));
    files.insert("points/shelters.geojson".to_string(), collection(shelters));

    // Key areas and blind spots: discs inside chosen towns.
    let key_areas = [
        ("330304007", "flood", "三垟湿地易涝区", 700.0),
        ("330304005", "flood", "娄桥低洼易涝区", 450.0),
        ("330304108", "landslide", "泽雅山区地质灾害隐患点", 600.0),
        ("330304108", "landslide", "泽雅水库下游滑坡隐患区", 400.0),
        ("330304002", "crowd", "梧田商圈人员密集区", 300.0),
        ("330304010", "safety_production", "潘桥工业区安全生产重点区", 500.0),
    ];
    let mut areas = Vec::new();
    for (i, (street, kind, name, radius)) in key_areas.iter().enumerate() {
        let street = towns.by_code(street).with_context(|| format!("street {street}"))?;
        let centre = point_in(&street.boundary, &mut rng);
        areas.push(feature(
            json!({"id": format!("KEY-{:02}", i + 1), "name": name, "kind": kind, "generated": true}),
            &disc(centre, *radius),
        ));
    }
    files.insert("areas/key_areas.geojson".to_string(), collection(areas));
    let mut blind = Vec::new();
    for i in 0..6 {
        let (code, name, _, _, shape) = &grids[rng.below(grids.len())];
        let centre = point_in(shape, &mut rng);
        blind.push(feature(
            json!({"id": format!("BLIND-{:02}", i + 1), "name": format!("{name}监控盲区"), "kind": "blind_spot", "grid": code, "generated": true}),
            &disc(centre, rng.range(80.0, 200.0)),
        ));
    }
    files.insert("areas/blind_spots.geojson".to_string(), collection(blind));

    // The output must load and pass every check the server applies.
    let text = |name: &str| files.get(name).map(String::as_str).unwrap_or_default();
    City::from_geojson(
        CityGeoJson {
            district: text("district.geojson"),
            streets: text("streets.geojson"),
            villages: Some(text("villages.geojson")),
            grids: Some(text("grids.geojson")),
        },
        Tolerance::default(),
    )
    .context("the generated city does not pass the loader's checks")?;
    Ok(files)
}

/// Cuts `shape` into `weights.len()` pieces with areas in proportion to the weights.
fn bisect(shape: &MultiPolygon<f64>, weights: &[f64], rng: &mut Rng) -> Vec<MultiPolygon<f64>> {
    if weights.len() <= 1 {
        return vec![shape.clone()];
    }
    let k = weights.len() / 2;
    let share = weights[..k].iter().sum::<f64>() / weights.iter().sum::<f64>();
    let Some(bbox) = shape.bounding_rect() else { return vec![shape.clone(); weights.len()] };
    let (w, h) = (bbox.width() * M_PER_DEG_LON, bbox.height() * M_PER_DEG_LAT);
    // Cut across the longer side, tilted by up to 25°.
    let base = if w >= h { 0.0 } else { std::f64::consts::FRAC_PI_2 };
    let angle = base + rng.range(-25.0, 25.0).to_radians();
    let normal = (angle.cos(), angle.sin());
    let project = |c: &Coord| c.x * M_PER_DEG_LON * normal.0 + c.y * M_PER_DEG_LAT * normal.1;
    let coords: Vec<Coord> = shape.iter().flat_map(|p| p.exterior().0.iter().copied()).collect();
    let (mut lo, mut hi) = coords.iter().map(project).fold((f64::MAX, f64::MIN), |(a, b), s| (a.min(s), b.max(s)));
    let total = shape.unsigned_area();
    let centre = bbox.center();
    let reach = (w + h) * 2.0 + 1000.0;
    let half = |s: f64| half_plane(centre, normal, s, reach);
    for _ in 0..40 {
        let mid = (lo + hi) / 2.0;
        let part = shape.intersection(&half(mid)).unsigned_area() / total;
        if part < share {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let cut = half((lo + hi) / 2.0);
    let first = clean(shape.intersection(&cut));
    let second = clean(shape.difference(&cut));
    let mut out = bisect(&first, &weights[..k], rng);
    out.extend(bisect(&second, &weights[k..], rng));
    out
}

/// The half plane `normal · x <= s` (x in local metres), as a large square in degrees.
fn half_plane(centre: Coord, normal: (f64, f64), s: f64, reach: f64) -> MultiPolygon<f64> {
    let c = (centre.x * M_PER_DEG_LON, centre.y * M_PER_DEG_LAT);
    // The point on the cut line nearest the centre, then a square behind the line.
    let t = s - (c.0 * normal.0 + c.1 * normal.1);
    let on = (c.0 + t * normal.0, c.1 + t * normal.1);
    let along = (-normal.1, normal.0);
    let corners = [
        (on.0 + along.0 * reach, on.1 + along.1 * reach),
        (on.0 - along.0 * reach, on.1 - along.1 * reach),
        (on.0 - along.0 * reach - normal.0 * 2.0 * reach, on.1 - along.1 * reach - normal.1 * 2.0 * reach),
        (on.0 + along.0 * reach - normal.0 * 2.0 * reach, on.1 + along.1 * reach - normal.1 * 2.0 * reach),
    ];
    let mut ring: Vec<Coord> =
        corners.iter().map(|&(x, y)| Coord { x: x / M_PER_DEG_LON, y: y / M_PER_DEG_LAT }).collect();
    ring.push(ring[0]);
    MultiPolygon(vec![Polygon::new(LineString(ring), vec![])])
}

fn rects_touch(a: &geo::Rect<f64>, b: &geo::Rect<f64>) -> bool {
    a.min().x <= b.max().x && b.min().x <= a.max().x && a.min().y <= b.max().y && b.min().y <= a.max().y
}

/// Drops the slivers a boolean operation can leave (under about a square metre).
fn clean(shape: MultiPolygon<f64>) -> MultiPolygon<f64> {
    MultiPolygon(shape.into_iter().filter(|p| p.unsigned_area() * M_PER_DEG_LAT * M_PER_DEG_LON > 1.0).collect())
}

/// Shares `total` out in proportion to `weights`, at least one each (largest remainder).
fn apportion(total: usize, weights: &[f64]) -> Vec<usize> {
    let spare = total - weights.len();
    let sum: f64 = weights.iter().sum();
    let exact: Vec<f64> = weights.iter().map(|w| w / sum * spare as f64).collect();
    let mut counts: Vec<usize> = exact.iter().map(|e| 1 + e.floor() as usize).collect();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| (exact[b] - exact[b].floor()).total_cmp(&(exact[a] - exact[a].floor())).then(a.cmp(&b)));
    let short = total - counts.iter().sum::<usize>();
    for &i in order.iter().take(short) {
        counts[i] += 1;
    }
    counts
}

fn point_in(shape: &MultiPolygon<f64>, rng: &mut Rng) -> Coord {
    let Some(b) = shape.bounding_rect() else { return Coord { x: 0.0, y: 0.0 } };
    for _ in 0..10_000 {
        let p = Coord { x: round(rng.range(b.min().x, b.max().x)), y: round(rng.range(b.min().y, b.max().y)) };
        if shape.contains(&Point(p)) {
            return p;
        }
    }
    b.center()
}

fn disc(centre: Coord, radius_m: f64) -> MultiPolygon<f64> {
    let mut ring: Vec<Coord> = (0..32)
        .map(|i| {
            let a = i as f64 / 32.0 * std::f64::consts::TAU;
            Coord { x: centre.x + radius_m * a.cos() / M_PER_DEG_LON, y: centre.y + radius_m * a.sin() / M_PER_DEG_LAT }
        })
        .collect();
    ring.push(ring[0]);
    MultiPolygon(vec![Polygon::new(LineString(ring), vec![])])
}

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "胡", "朱", "高", "林", "何", "郭", "马",
    "罗", "郑", "潘", "谢", "叶", "金", "池", "章", "季", "董", "包",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀", "霞",
    "平", "刚", "桂", "英", "华", "建", "国", "志", "海", "晓", "燕", "鹏", "辉", "玲", "丹", "萍", "红",
];

/// A generated name (the sample has no real people in it).
fn person_name(rng: &mut Rng) -> String {
    let mut name = (*rng.pick(SURNAMES)).to_string();
    for _ in 0..1 + rng.below(2) {
        let given: &&str = rng.pick(GIVEN);
        name.push_str(given);
    }
    name
}

fn round(v: f64) -> f64 {
    (v * 1e7).round() / 1e7
}

fn ring_json(ring: &LineString<f64>) -> Value {
    let mut coords: Vec<[f64; 2]> = Vec::with_capacity(ring.0.len());
    for c in &ring.0 {
        let p = [round(c.x), round(c.y)];
        if coords.last() != Some(&p) {
            coords.push(p);
        }
    }
    json!(coords)
}

fn feature(properties: Value, shape: &MultiPolygon<f64>) -> Value {
    let polygons: Vec<Value> = shape
        .iter()
        .map(|p| {
            let mut rings = vec![ring_json(p.exterior())];
            rings.extend(p.interiors().iter().map(ring_json));
            Value::Array(rings)
        })
        .collect();
    let geometry = if polygons.len() == 1 {
        json!({"type": "Polygon", "coordinates": polygons[0]})
    } else {
        json!({"type": "MultiPolygon", "coordinates": polygons})
    };
    json!({"type": "Feature", "properties": properties, "geometry": geometry})
}

fn point_feature(properties: Value, p: Coord) -> Value {
    json!({"type": "Feature", "properties": properties, "geometry": {"type": "Point", "coordinates": [round(p.x), round(p.y)]}})
}

/// One feature per line: diffs stay readable and the files stay small.
fn collection(features: Vec<Value>) -> String {
    let mut out = String::from("{\"type\":\"FeatureCollection\",\"features\":[\n");
    for (i, f) in features.iter().enumerate() {
        out.push_str(&f.to_string());
        out.push_str(if i + 1 < features.len() { ",\n" } else { "\n" });
    }
    out.push_str("]}\n");
    out
}
