//! Shared by the integration tests: the sample city from `data/ouhai/` and a seeded
//! random generator.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;

use cockpit_geo::{AreaLayer, City, CityGeoJson, Coord, PointLayer, Tolerance};

pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data/ouhai")
}

pub fn read(name: &str) -> String {
    std::fs::read_to_string(data_dir().join(name)).unwrap_or_else(|e| panic!("reading data/ouhai/{name}: {e}"))
}

/// The sample city, loaded once per test binary.
pub fn city() -> &'static City {
    static CITY: OnceLock<City> = OnceLock::new();
    CITY.get_or_init(|| {
        let (d, s, v, g) =
            (read("district.geojson"), read("streets.geojson"), read("villages.geojson"), read("grids.geojson"));
        City::from_geojson(
            CityGeoJson { district: &d, streets: &s, villages: Some(&v), grids: Some(&g) },
            Tolerance::default(),
        )
        .unwrap_or_else(|e| panic!("the sample city must load: {e}"))
    })
}

pub fn cameras() -> PointLayer {
    PointLayer::from_geojson("cameras", &read("points/cameras.geojson")).unwrap_or_else(|e| panic!("{e}"))
}

pub fn key_areas() -> AreaLayer {
    AreaLayer::from_geojson("key_areas", &read("areas/key_areas.geojson")).unwrap_or_else(|e| panic!("{e}"))
}

/// SplitMix64, seeded.
pub struct Rng(pub u64);

impl Rng {
    pub fn unit(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A uniform point in the district's bounding box.
    pub fn point_in_district_box(&mut self, city: &City) -> Coord {
        let b = city.district().bbox;
        Coord { x: b.min().x + b.width() * self.unit(), y: b.min().y + b.height() * self.unit() }
    }
}
