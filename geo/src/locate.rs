//! The index behind [`City::locate`](crate::City::locate): a uniform raster of cells over
//! the leaves (the finest regions). A cell that no boundary passes through answers at once
//! with the one leaf that covers it (or none); a cell that a boundary crosses keeps the
//! short list of leaves that can contain its points and tests them with
//! [`PreparedArea`]. The answer is exactly the brute-force scan's: the first leaf, in load
//! order, that contains the point under the half-open rule of [`crate::pip`].

use geo::{Coord, Rect};

use crate::pip::PreparedArea;

/// Cell contents, packed in a `u32`: `EMPTY`, a leaf (`leaf + 1`), or a mixed cell
/// (`MIXED | index into mixed`).
const EMPTY: u32 = 0;
const MIXED: u32 = 1 << 31;

#[derive(Debug, Clone)]
pub(crate) struct LeafIndex {
    bbox: Rect<f64>,
    columns: usize,
    rows: usize,
    cell_width: f64,
    cell_height: f64,
    cells: Vec<u32>,
    /// `mixed[m]` is a range of `candidates`.
    mixed: Vec<(u32, u32)>,
    candidates: Vec<u32>,
    areas: Vec<PreparedArea>,
}

impl LeafIndex {
    /// Builds the index over `areas` (leaf `i` is `areas[i]`), with about `target_cells`
    /// cells over their joint bounding box.
    pub(crate) fn new(areas: Vec<PreparedArea>, bboxes: &[Rect<f64>], target_cells: usize) -> LeafIndex {
        let bbox = joint_bbox(bboxes);
        let aspect = (bbox.width() / bbox.height().max(f64::MIN_POSITIVE)).max(f64::MIN_POSITIVE);
        let rows = ((target_cells as f64 / aspect).sqrt().round() as usize).clamp(1, 8192);
        let columns = (target_cells / rows).clamp(1, 8192);
        let mut index = LeafIndex {
            bbox,
            columns,
            rows,
            cell_width: (bbox.width() / columns as f64).max(f64::MIN_POSITIVE),
            cell_height: (bbox.height() / rows as f64).max(f64::MIN_POSITIVE),
            cells: vec![EMPTY; columns * rows],
            mixed: Vec::new(),
            candidates: Vec::new(),
            areas,
        };
        index.fill();
        index
    }

    fn fill(&mut self) {
        // Which leaves have an edge in each cell. A cell is marked for every part of an edge
        // whose bounding box, grown by a tenth of a cell, touches it: conservative, so an
        // unmarked cell truly has no boundary in it.
        let mut touching: Vec<Vec<u32>> = vec![Vec::new(); self.cells.len()];
        let margin_x = self.cell_width * 0.1;
        let margin_y = self.cell_height * 0.1;
        for (leaf, area) in self.areas.iter().enumerate() {
            for edge in area.edges() {
                let (a, b) = (edge.lo, edge.hi);
                let steps = (((b.x - a.x) / self.cell_width).abs().max(((b.y - a.y) / self.cell_height).abs()).ceil()
                    as usize)
                    .max(1);
                for s in 0..steps {
                    let t0 = s as f64 / steps as f64;
                    let t1 = (s + 1) as f64 / steps as f64;
                    let p0 = Coord { x: a.x + (b.x - a.x) * t0, y: a.y + (b.y - a.y) * t0 };
                    let p1 = Coord { x: a.x + (b.x - a.x) * t1, y: a.y + (b.y - a.y) * t1 };
                    let (c0, r0) =
                        self.cell_of_clamped(Coord { x: p0.x.min(p1.x) - margin_x, y: p0.y.min(p1.y) - margin_y });
                    let (c1, r1) =
                        self.cell_of_clamped(Coord { x: p0.x.max(p1.x) + margin_x, y: p0.y.max(p1.y) + margin_y });
                    for r in r0..=r1 {
                        for c in c0..=c1 {
                            let list = &mut touching[r * self.columns + c];
                            if list.last() != Some(&(leaf as u32)) {
                                list.push(leaf as u32);
                            }
                        }
                    }
                }
            }
        }
        for r in 0..self.rows {
            for c in 0..self.columns {
                let i = r * self.columns + c;
                let centre = Coord {
                    x: self.bbox.min().x + (c as f64 + 0.5) * self.cell_width,
                    y: self.bbox.min().y + (r as f64 + 0.5) * self.cell_height,
                };
                let mut list = std::mem::take(&mut touching[i]);
                if list.is_empty() {
                    // Two neighbouring cells with no boundary in either have the same answer.
                    let left_is_clear = c > 0 && self.cells[i - 1] & MIXED == 0;
                    self.cells[i] = if left_is_clear {
                        self.cells[i - 1]
                    } else {
                        self.scan(centre).map_or(EMPTY, |leaf| leaf as u32 + 1)
                    };
                    continue;
                }
                // Leaves that cover the whole cell have no edge in it but contain its centre.
                list.extend((0..self.areas.len() as u32).filter(|&leaf| self.areas[leaf as usize].contains(centre)));
                list.sort_unstable();
                list.dedup();
                let start = self.candidates.len() as u32;
                self.candidates.extend(&list);
                self.mixed.push((start, self.candidates.len() as u32));
                self.cells[i] = MIXED | (self.mixed.len() as u32 - 1);
            }
        }
    }

    fn cell_of_clamped(&self, p: Coord) -> (usize, usize) {
        let c = ((p.x - self.bbox.min().x) / self.cell_width).floor().clamp(0.0, (self.columns - 1) as f64);
        let r = ((p.y - self.bbox.min().y) / self.cell_height).floor().clamp(0.0, (self.rows - 1) as f64);
        (c as usize, r as usize)
    }

    /// The first leaf that contains `p`, testing every leaf.
    pub(crate) fn scan(&self, p: Coord) -> Option<usize> {
        self.areas.iter().position(|area| area.contains(p))
    }

    /// The first leaf that contains `p`, through the cells.
    #[inline]
    pub(crate) fn locate(&self, p: Coord) -> Option<usize> {
        let min = self.bbox.min();
        let max = self.bbox.max();
        // Outside the joint box (or NaN): no leaf can contain the point.
        if !(p.x >= min.x && p.x <= max.x && p.y >= min.y && p.y <= max.y) {
            return None;
        }
        let c = (((p.x - min.x) / self.cell_width) as usize).min(self.columns - 1);
        let r = (((p.y - min.y) / self.cell_height) as usize).min(self.rows - 1);
        let cell = self.cells[r * self.columns + c];
        if cell == EMPTY {
            None
        } else if cell & MIXED == 0 {
            Some(cell as usize - 1)
        } else {
            let (start, end) = self.mixed[(cell & !MIXED) as usize];
            self.candidates[start as usize..end as usize]
                .iter()
                .map(|&leaf| leaf as usize)
                .find(|&leaf| self.areas[leaf].contains(p))
        }
    }

    /// How many cells there are and how many of them need a polygon test.
    pub(crate) fn stats(&self) -> (usize, usize) {
        (self.cells.len(), self.mixed.len())
    }
}

fn joint_bbox(bboxes: &[Rect<f64>]) -> Rect<f64> {
    let mut min = Coord { x: f64::INFINITY, y: f64::INFINITY };
    let mut max = Coord { x: f64::NEG_INFINITY, y: f64::NEG_INFINITY };
    for b in bboxes {
        min.x = min.x.min(b.min().x);
        min.y = min.y.min(b.min().y);
        max.x = max.x.max(b.max().x);
        max.y = max.y.max(b.max().y);
    }
    if bboxes.is_empty() {
        return Rect::new(Coord { x: 0.0, y: 0.0 }, Coord { x: 0.0, y: 0.0 });
    }
    Rect::new(min, max)
}
