//! Point in polygon, with one exact rule for points on boundaries.
//!
//! The test counts the edges crossed by a ray from the point towards +x (east), with the
//! half-open convention: an edge counts when `lo.y <= p.y < hi.y` and it crosses strictly
//! east of the point. A point on a boundary therefore belongs to the polygon that lies
//! immediately east of it (north of it, where the boundary runs exactly east–west): the
//! point is treated as nudged an infinitesimal step east and a far smaller step north. Two
//! polygons that share an edge never both contain a point of it, and a point of a tiling
//! lies in exactly one tile.
//!
//! Every edge is stored with its endpoints in a canonical order (lower `(y, x)` first) so
//! that the same edge in two neighbouring polygons gives bit-identical answers.

use geo::{Coord, MultiPolygon, Rect};

/// One edge in canonical order: `lo` has the smaller `(y, x)`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Edge {
    pub(crate) lo: Coord,
    pub(crate) hi: Coord,
}

impl Edge {
    pub(crate) fn new(a: Coord, b: Coord) -> Edge {
        if (a.y, a.x) <= (b.y, b.x) { Edge { lo: a, hi: b } } else { Edge { lo: b, hi: a } }
    }

    /// Whether the eastward ray from `p` crosses this edge, under the half-open rule.
    #[inline]
    pub(crate) fn crossed_by_ray_from(&self, p: Coord) -> bool {
        if !(self.lo.y <= p.y && p.y < self.hi.y) {
            return false;
        }
        let x = self.lo.x + (p.y - self.lo.y) * (self.hi.x - self.lo.x) / (self.hi.y - self.lo.y);
        x > p.x
    }
}

/// Every edge of every ring of a multipolygon.
pub(crate) fn edges(shape: &MultiPolygon<f64>) -> Vec<Edge> {
    let mut out = Vec::new();
    for polygon in shape {
        for ring in std::iter::once(polygon.exterior()).chain(polygon.interiors()) {
            for pair in ring.0.windows(2) {
                if pair[0] != pair[1] {
                    out.push(Edge::new(pair[0], pair[1]));
                }
            }
        }
    }
    out
}

/// The reference test: every edge, no index. The indexes must agree with it exactly.
pub(crate) fn contains_brute(shape: &MultiPolygon<f64>, p: Coord) -> bool {
    let mut inside = false;
    for polygon in shape {
        for ring in std::iter::once(polygon.exterior()).chain(polygon.interiors()) {
            for pair in ring.0.windows(2) {
                if pair[0] != pair[1] && Edge::new(pair[0], pair[1]).crossed_by_ray_from(p) {
                    inside = !inside;
                }
            }
        }
    }
    inside
}

/// A polygon prepared for many point tests: its edges bucketed into horizontal bands, so a
/// test looks only at the edges whose latitude range covers the point. Gives exactly the
/// answer of [`contains_brute`], since the edges it skips cannot satisfy the half-open rule.
#[derive(Debug, Clone)]
pub(crate) struct PreparedArea {
    bbox: Rect<f64>,
    edges: Vec<Edge>,
    /// `band_start[b]..band_start[b + 1]` indexes `band_edges` for band `b`.
    band_start: Vec<u32>,
    band_edges: Vec<u32>,
    band_height: f64,
}

impl PreparedArea {
    pub(crate) fn new(shape: &MultiPolygon<f64>, bbox: Rect<f64>) -> PreparedArea {
        let edges = edges(shape);
        let bands = (edges.len() / 4).clamp(1, 1024);
        let band_height = (bbox.height() / bands as f64).max(f64::MIN_POSITIVE);
        let mut area =
            PreparedArea { bbox, edges, band_start: vec![0; bands + 1], band_edges: Vec::new(), band_height };
        let mut per_band: Vec<Vec<u32>> = vec![Vec::new(); bands];
        for (i, edge) in area.edges.iter().enumerate() {
            // Horizontal edges never satisfy `lo.y <= p.y < hi.y`.
            if edge.lo.y == edge.hi.y {
                continue;
            }
            for band in per_band.iter_mut().take(area.band(edge.hi.y) + 1).skip(area.band(edge.lo.y)) {
                band.push(i as u32);
            }
        }
        for (b, list) in per_band.into_iter().enumerate() {
            area.band_edges.extend(list);
            area.band_start[b + 1] = area.band_edges.len() as u32;
        }
        area
    }

    /// The band of a latitude: monotone in `y`, so an edge registered in the bands of its
    /// endpoints' latitudes is in the band of every latitude between them.
    #[inline]
    fn band(&self, y: f64) -> usize {
        let bands = self.band_start.len() - 1;
        let b = ((y - self.bbox.min().y) / self.band_height).floor();
        if b <= 0.0 { 0 } else { (b as usize).min(bands - 1) }
    }

    #[inline]
    pub(crate) fn contains(&self, p: Coord) -> bool {
        // Exact: no edge has `hi.y` above the box's top or `lo.y` below its bottom.
        if p.y < self.bbox.min().y || p.y >= self.bbox.max().y {
            return false;
        }
        let b = self.band(p.y);
        let range = self.band_start[b] as usize..self.band_start[b + 1] as usize;
        let mut inside = false;
        for &i in &self.band_edges[range] {
            if self.edges[i as usize].crossed_by_ray_from(p) {
                inside = !inside;
            }
        }
        inside
    }

    pub(crate) fn edges(&self) -> &[Edge] {
        &self.edges
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{BoundingRect, polygon};

    fn square(x0: f64, y0: f64, size: f64) -> MultiPolygon<f64> {
        MultiPolygon(vec![polygon![
            (x: x0, y: y0),
            (x: x0 + size, y: y0),
            (x: x0 + size, y: y0 + size),
            (x: x0, y: y0 + size),
            (x: x0, y: y0),
        ]])
    }

    /// A point on a shared edge is in exactly one of the two squares: the east or north one.
    #[test]
    fn shared_edges_belong_east_then_north() {
        let west = square(0.0, 0.0, 1.0);
        let east = square(1.0, 0.0, 1.0);
        let north = square(0.0, 1.0, 1.0);
        let check = |p: Coord, expected: [bool; 3]| {
            let got = [west.clone(), east.clone(), north.clone()].map(|s| contains_brute(&s, p));
            assert_eq!(got, expected, "point {p:?}");
        };
        check(Coord { x: 1.0, y: 0.5 }, [false, true, false]);
        check(Coord { x: 0.5, y: 1.0 }, [false, false, true]);
        // The vertex shared by all three goes north-east: none of these, as (1, 1) has
        // nothing north-east of it here but the open plane.
        check(Coord { x: 1.0, y: 1.0 }, [false, false, false]);
        // West and south edges of the whole block are in; east and north are out.
        check(Coord { x: 0.0, y: 0.5 }, [true, false, false]);
        check(Coord { x: 2.0, y: 0.5 }, [false, false, false]);
        check(Coord { x: 0.5, y: 0.0 }, [true, false, false]);
        check(Coord { x: 0.5, y: 2.0 }, [false, false, false]);
    }

    #[test]
    fn prepared_agrees_with_brute_force() {
        let shape = MultiPolygon(vec![polygon![
            exterior: [(x: 0.0, y: 0.0), (x: 10.0, y: 0.0), (x: 10.0, y: 10.0), (x: 5.0, y: 3.0), (x: 0.0, y: 10.0), (x: 0.0, y: 0.0)],
            interiors: [[(x: 1.0, y: 1.0), (x: 2.0, y: 1.0), (x: 2.0, y: 2.0), (x: 1.0, y: 2.0), (x: 1.0, y: 1.0)]],
        ]]);
        let bbox = shape.bounding_rect().unwrap_or_else(|| unreachable!());
        let prepared = PreparedArea::new(&shape, bbox);
        let mut mismatches = 0;
        for i in -5..=105 {
            for j in -5..=105 {
                let p = Coord { x: i as f64 / 10.0 + 0.003, y: j as f64 / 10.0 };
                if prepared.contains(p) != contains_brute(&shape, p) {
                    mismatches += 1;
                }
            }
        }
        assert_eq!(mismatches, 0);
        assert!(prepared.contains(Coord { x: 5.0, y: 1.0 }));
        assert!(!prepared.contains(Coord { x: 1.5, y: 1.5 }), "inside the hole");
        assert!(!prepared.contains(Coord { x: 5.0, y: 5.0 }), "inside the notch");
    }
}
