//! Geometry checks: rings (closed, long enough, in range, not crossing themselves) and
//! regions against their parent and siblings.

use geo::line_intersection::line_intersection;
use geo::{BooleanOps, Coord, Line, MultiPolygon};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};

use crate::error::{FeatureRef, Problem};
use crate::geodesic::area_m2;
use crate::load::in_range;

/// Checks one ring as written in the file (before any closing or cleaning).
pub(crate) fn check_ring(at: &FeatureRef, ring: usize, coords: &[Coord], problems: &mut Vec<Problem>) {
    if let Some(bad) = coords.iter().find(|p| !in_range(**p)) {
        problems.push(Problem::CoordinateOutOfRange { feature: at.clone(), lon: bad.x, lat: bad.y });
        return;
    }
    if coords.len() < 4 {
        problems.push(Problem::RingTooShort { feature: at.clone(), ring, positions: coords.len() });
        return;
    }
    if coords.first() != coords.last() {
        problems.push(Problem::UnclosedRing { feature: at.clone(), ring });
        return;
    }
    if let Some(point) = self_intersection(coords) {
        problems.push(Problem::SelfIntersection { feature: at.clone(), ring, at: point });
    }
}

type Segment = GeomWithData<Rectangle<[f64; 2]>, usize>;

/// A point where two non-adjacent edges of a closed ring meet, if any. Repeated
/// consecutive positions are allowed and skipped.
fn self_intersection(coords: &[Coord]) -> Option<Coord> {
    let mut ring: Vec<Coord> = Vec::with_capacity(coords.len());
    for &p in coords {
        if ring.last() != Some(&p) {
            ring.push(p);
        }
    }
    let lines: Vec<Line<f64>> = ring.windows(2).map(|w| Line::new(w[0], w[1])).collect();
    let n = lines.len();
    if n < 3 {
        return None;
    }
    let tree = RTree::bulk_load(
        lines
            .iter()
            .enumerate()
            .map(|(i, l)| Segment::new(Rectangle::from_corners([l.start.x, l.start.y], [l.end.x, l.end.y]), i))
            .collect(),
    );
    for (i, line) in lines.iter().enumerate() {
        let envelope = AABB::from_corners([line.start.x, line.start.y], [line.end.x, line.end.y]);
        for other in tree.locate_in_envelope_intersecting(&envelope) {
            let j = other.data;
            // Each pair once; neighbours share a vertex by construction (the last edge and
            // the first share the closing vertex).
            if j <= i || j == i + 1 || (i == 0 && j == n - 1) {
                continue;
            }
            if let Some(hit) = line_intersection(*line, lines[j]) {
                return Some(match hit {
                    geo::LineIntersection::SinglePoint { intersection, .. } => intersection,
                    geo::LineIntersection::Collinear { intersection } => intersection.start,
                });
            }
        }
    }
    None
}

/// Area of `child` outside `parent`, in m².
pub(crate) fn area_outside(child: &MultiPolygon<f64>, parent: &MultiPolygon<f64>) -> f64 {
    area_m2(&child.difference(parent))
}

/// Area shared by two regions, in m².
pub(crate) fn area_shared(a: &MultiPolygon<f64>, b: &MultiPolygon<f64>) -> f64 {
    area_m2(&a.intersection(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(points: &[(f64, f64)]) -> Vec<Coord> {
        points.iter().map(|&(x, y)| Coord { x, y }).collect()
    }

    #[test]
    fn finds_a_bow_tie_and_accepts_a_square() {
        let bow_tie = ring(&[(0.0, 0.0), (1.0, 1.0), (1.0, 0.0), (0.0, 1.0), (0.0, 0.0)]);
        let at = self_intersection(&bow_tie).unwrap_or_else(|| panic!("bow tie not found"));
        assert!((at.x - 0.5).abs() < 1e-12 && (at.y - 0.5).abs() < 1e-12);
        let square = ring(&[(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (1.0, 1.0), (0.0, 1.0), (0.0, 0.0)]);
        assert_eq!(self_intersection(&square), None);
    }

    #[test]
    fn a_ring_touching_itself_at_a_vertex_is_reported() {
        // A figure eight through (1, 1).
        let eight = ring(&[(0.0, 0.0), (1.0, 1.0), (2.0, 0.0), (2.0, 2.0), (1.0, 1.0), (0.0, 2.0), (0.0, 0.0)]);
        assert!(self_intersection(&eight).is_some());
    }
}
