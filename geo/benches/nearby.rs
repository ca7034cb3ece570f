//! `within_radius` (100/200/500/1000 m) and `nearest` on the 2,648 sample cameras,
//! against a brute-force geodesic scan, measured in the same run.
//!
//! Run: `cargo bench -p cockpit-geo --bench nearby`.

use std::hint::black_box;
use std::time::Instant;

use cockpit_geo::{Coord, PointLayer};
use criterion::{Criterion, Throughput};

fn main() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/ouhai/points/cameras.geojson");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let cameras = PointLayer::from_geojson("cameras", &text).unwrap_or_else(|e| panic!("{e}"));
    // Queries at the cameras themselves (where cases happen: among things), shifted 50 m.
    let queries: Vec<Coord> =
        cameras.features().iter().step_by(5).map(|f| Coord { x: f.position.x + 0.0005, y: f.position.y }).collect();

    let mut c = Criterion::default().configure_from_args().sample_size(10);
    let mut group = c.benchmark_group("nearby");
    group.throughput(Throughput::Elements(queries.len() as u64));
    for radius in [100.0, 1000.0] {
        group.bench_function(format!("within_{radius}m"), |b| {
            b.iter(|| queries.iter().map(|&p| black_box(cameras.within_radius(p, radius)).len()).sum::<usize>())
        });
    }
    group.bench_function("nearest_10", |b| {
        b.iter(|| queries.iter().map(|&p| black_box(cameras.nearest(p, 10)).len()).sum::<usize>())
    });
    group.bench_function("scan", |b| {
        b.iter(|| queries.iter().map(|&p| black_box(cameras.scan_by_distance(p)).len()).sum::<usize>())
    });
    group.finish();
    c.final_summary();
    // Under `cargo test` criterion runs each benchmark once as a smoke test; the timed
    // summary is for `cargo bench` only.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }

    let rate = |f: &dyn Fn(Coord) -> usize| {
        (0..3)
            .map(|_| {
                let t = Instant::now();
                let n: usize = queries.iter().map(|&p| f(p)).sum();
                black_box(n);
                queries.len() as f64 / t.elapsed().as_secs_f64()
            })
            .fold(0.0, f64::max)
    };
    let scan = rate(&|p| cameras.scan_by_distance(p).iter().take_while(|n| n.distance_m <= 1000.0).count());
    for radius in [100.0, 200.0, 500.0, 1000.0] {
        let indexed = rate(&|p| cameras.within_radius(p, radius).len());
        println!(
            "summary: within_radius {radius:>6} m {indexed:>10.0} queries/s; scan {scan:>8.0} queries/s; ratio {:.0}x",
            indexed / scan
        );
    }
    let nearest = rate(&|p| cameras.nearest(p, 10).len());
    println!(
        "summary: nearest 10       {nearest:>10.0} queries/s; scan {scan:>8.0} queries/s; ratio {:.0}x",
        nearest / scan
    );
}
