//! WGS84 ↔ GCJ-02, the obfuscated datum that Chinese commercial maps (AMap/Gaode, Tencent)
//! and DataV exports use.
//!
//! WGS84 → GCJ-02 is the published reference transform (Krasovsky ellipsoid constants,
//! the well-known polynomial offsets); it is exact by definition, and the test checks it
//! against the reference vector bit for bit to 1e-9°. GCJ-02 → WGS84 has no closed form:
//! this inverts the forward transform by fixed-point iteration until the forward image of
//! the answer is within 1e-10° (about 0.01 mm) of the input, so a round trip is accurate to
//! well under a millimetre. Outside mainland China (a bounding-box test, as in the
//! reference) both are the identity. Around Ouhai the offset is about +0.0040° longitude
//! and −0.0033° latitude (roughly 400 m east and 370 m south).

use std::f64::consts::PI;

use geo::Coord;

const A: f64 = 6_378_245.0;
const EE: f64 = 0.006_693_421_622_965_943;

/// Whether the reference transform applies at this position (mainland China's box).
pub fn in_china(p: Coord) -> bool {
    (72.004..=137.8347).contains(&p.x) && (0.8293..=55.8271).contains(&p.y)
}

/// WGS84 → GCJ-02.
pub fn wgs84_to_gcj02(p: Coord) -> Coord {
    if !in_china(p) {
        return p;
    }
    let (dx, dy) = offset(p);
    Coord { x: p.x + dx, y: p.y + dy }
}

/// GCJ-02 → WGS84, by iteration (accurate to about 1e-10°).
pub fn gcj02_to_wgs84(g: Coord) -> Coord {
    if !in_china(g) {
        return g;
    }
    let mut w = g;
    for _ in 0..30 {
        let image = wgs84_to_gcj02(w);
        let (ex, ey) = (image.x - g.x, image.y - g.y);
        w = Coord { x: w.x - ex, y: w.y - ey };
        if ex.abs() < 1e-10 && ey.abs() < 1e-10 {
            break;
        }
    }
    w
}

fn offset(p: Coord) -> (f64, f64) {
    let x = p.x - 105.0;
    let y = p.y - 35.0;
    let mut dlat = transform_lat(x, y);
    let mut dlon = transform_lon(x, y);
    let rad_lat = p.y / 180.0 * PI;
    let magic = 1.0 - EE * rad_lat.sin() * rad_lat.sin();
    let sqrt_magic = magic.sqrt();
    dlat = (dlat * 180.0) / ((A * (1.0 - EE)) / (magic * sqrt_magic) * PI);
    dlon = (dlon * 180.0) / (A / sqrt_magic * rad_lat.cos() * PI);
    (dlon, dlat)
}

fn transform_lat(x: f64, y: f64) -> f64 {
    let mut ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    ret += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    ret += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    ret += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    ret
}

fn transform_lon(x: f64, y: f64) -> f64 {
    let mut ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    ret += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    ret += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    ret += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    ret
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distance_m;

    #[test]
    fn matches_the_reference_vector() {
        // The reference implementations' published vector (Tiananmen).
        let g = wgs84_to_gcj02(Coord { x: 116.404, y: 39.915 });
        assert!((g.x - 116.410_244_499_169_38).abs() < 1e-9, "{g:?}");
        assert!((g.y - 39.916_404_281_501_64).abs() < 1e-9, "{g:?}");
    }

    #[test]
    fn ouhai_offset_is_as_documented() {
        let w = Coord { x: 120.64, y: 27.97 };
        let g = wgs84_to_gcj02(w);
        assert!((g.x - w.x - 0.0040).abs() < 0.0005, "{g:?}");
        assert!((g.y - w.y + 0.0033).abs() < 0.0005, "{g:?}");
    }

    #[test]
    fn round_trip_is_submillimetre_across_china() {
        let mut worst: f64 = 0.0;
        for i in 0..=40 {
            for j in 0..=40 {
                let w = Coord { x: 75.0 + 62.0 * i as f64 / 40.0, y: 18.0 + 35.0 * j as f64 / 40.0 };
                let back = gcj02_to_wgs84(wgs84_to_gcj02(w));
                worst = worst.max(distance_m(w, back));
            }
        }
        assert!(worst < 0.001, "worst round-trip error {worst} m");
    }

    #[test]
    fn identity_outside_china() {
        let paris = Coord { x: 2.35, y: 48.85 };
        assert_eq!(wgs84_to_gcj02(paris), paris);
        assert_eq!(gcj02_to_wgs84(paris), paris);
    }
}
