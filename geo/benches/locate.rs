//! `locate` over 1,000,000 seeded points in the district's bounding box, against the
//! brute-force scan of every grid, measured in the same run.
//!
//! Run: `cargo bench -p cockpit-geo --bench locate`. Criterion prints its own estimates;
//! the summary at the end prints lookups per second for both and their ratio.

use std::hint::black_box;
use std::time::Instant;

use cockpit_geo::{City, CityGeoJson, Coord, Tolerance};
use criterion::{Criterion, Throughput};

fn read(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/ouhai").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn points(city: &City, n: usize) -> Vec<Coord> {
    let b = city.district().bbox;
    let mut state: u64 = 1_000_000;
    let mut unit = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..n).map(|_| Coord { x: b.min().x + b.width() * unit(), y: b.min().y + b.height() * unit() }).collect()
}

fn main() {
    let (d, s, v, g) =
        (read("district.geojson"), read("streets.geojson"), read("villages.geojson"), read("grids.geojson"));
    let started = Instant::now();
    let city = City::from_geojson(
        CityGeoJson { district: &d, streets: &s, villages: Some(&v), grids: Some(&g) },
        Tolerance::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let load = started.elapsed();
    let million = points(&city, 1_000_000);
    let sample = &million[..2_000];

    let mut c = Criterion::default().configure_from_args().sample_size(10);
    let mut group = c.benchmark_group("locate");
    group.throughput(Throughput::Elements(million.len() as u64));
    group.bench_function("indexed_1M", |b| {
        b.iter(|| million.iter().filter(|&&p| black_box(city.locate(p)).is_some()).count())
    });
    group.throughput(Throughput::Elements(sample.len() as u64));
    group.bench_function("scan_2k", |b| {
        b.iter(|| sample.iter().filter(|&&p| black_box(city.locate_by_scan(p)).is_some()).count())
    });
    group.finish();
    c.final_summary();
    // Under `cargo test` criterion runs each benchmark once as a smoke test; the timed
    // summary is for `cargo bench` only.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }

    // The summary: best of five timed passes each, same points, same process.
    let best = |n: usize, f: &dyn Fn() -> usize| {
        (0..5)
            .map(|_| {
                let t = Instant::now();
                black_box(f());
                n as f64 / t.elapsed().as_secs_f64()
            })
            .fold(0.0, f64::max)
    };
    let indexed = best(million.len(), &|| million.iter().filter(|&&p| city.locate(p).is_some()).count());
    let scan = best(sample.len(), &|| sample.iter().filter(|&&p| city.locate_by_scan(p).is_some()).count());
    let (cells, mixed) = city.index_stats();
    println!(
        "summary: city load + index build {:.2} s; index {cells} cells, {mixed} with a boundary",
        load.as_secs_f64()
    );
    println!("summary: locate indexed   {:>12.0} lookups/s (1,000,000 points, one core)", indexed);
    println!("summary: locate scan      {:>12.0} lookups/s (brute force over 942 grids)", scan);
    println!("summary: ratio indexed/scan {:.0}x", indexed / scan);
}
