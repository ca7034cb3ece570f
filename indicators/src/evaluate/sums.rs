//! What a formula adds up per place while the rows go by, and how the places' sums become
//! each region's value: a place counts toward its street, village and grid and the
//! district; a place without one of them counts in the others.

use super::{Amount, BLOCK, Kind, Plan};
use crate::evaluate::Grouped;
use crate::formula::RegionLevel;
use crate::rows::{NO_REGION, Rows};

/// A formula's running sums, per place (the last slot: rows of no known place).
#[derive(Debug, Clone)]
pub(super) enum Sums {
    Count(Vec<u64>),
    Rate(Vec<u64>, Vec<u64>),
    Mean(Vec<f64>, Vec<u64>),
    Values(Vec<(u32, f64)>),
}

impl Sums {
    pub(super) fn new(kind: &Kind, slots: usize) -> Sums {
        match kind {
            Kind::Count => Sums::Count(vec![0; slots]),
            Kind::Rate => Sums::Rate(vec![0; slots], vec![0; slots]),
            Kind::Mean(_) => Sums::Mean(vec![0.0; slots], vec![0; slots]),
            Kind::Percentile(..) => Sums::Values(Vec::new()),
        }
    }

    /// Adds another thread's sums of the same formula.
    pub(super) fn merge(&mut self, other: Sums) {
        let plus = |a: &mut Vec<u64>, b: Vec<u64>| a.iter_mut().zip(b).for_each(|(a, b)| *a += b);
        match (self, other) {
            (Sums::Count(a), Sums::Count(b)) => plus(a, b),
            (Sums::Rate(a, c), Sums::Rate(b, d)) => {
                plus(a, b);
                plus(c, d);
            }
            (Sums::Mean(a, c), Sums::Mean(b, d)) => {
                a.iter_mut().zip(b).for_each(|(a, b)| *a += b);
                plus(c, d);
            }
            (Sums::Values(a), Sums::Values(b)) => a.extend(b),
            _ => {}
        }
    }

    /// Each region's value at the formula's levels.
    pub(super) fn roll_up(self, kind: &Kind, levels: &[RegionLevel], rows: &Rows) -> Grouped {
        let mut out = Grouped::default();
        for &level in levels {
            let size = size(level, rows);
            let region = |slot: usize| region_of(level, slot, rows, size);
            out.levels[level as usize] = match &self {
                Sums::Count(n) => fold(n, region, size).into_iter().map(|n| Some(n as f64)).collect(),
                Sums::Rate(whole, part) => fold(whole, region, size)
                    .into_iter()
                    .zip(fold(part, region, size))
                    .map(|(w, p)| (w > 0).then(|| p as f64 * 100.0 / w as f64))
                    .collect(),
                Sums::Mean(sum, n) => fold(sum, region, size)
                    .into_iter()
                    .zip(fold(n, region, size))
                    .map(|(s, n)| (n > 0).then(|| s / n as f64))
                    .collect(),
                Sums::Values(values) => {
                    let Kind::Percentile(p, _) = kind else { continue };
                    let mut by_region: Vec<Vec<f64>> = vec![Vec::new(); size];
                    for (slot, v) in values {
                        if let Some(r) = region(*slot as usize) {
                            by_region[r].push(*v);
                        }
                    }
                    by_region.into_iter().map(|mut v| nearest_rank(&mut v, *p)).collect()
                }
            };
        }
        out
    }
}

/// Regions of `level` in the city (one district).
fn size(level: RegionLevel, rows: &Rows) -> usize {
    match level {
        RegionLevel::District => 1,
        other => rows.places.sizes[other as usize - 1],
    }
}

/// The region of `level` the place in `slot` lies in.
fn region_of(level: RegionLevel, slot: usize, rows: &Rows, size: usize) -> Option<usize> {
    if level == RegionLevel::District {
        return Some(0);
    }
    let r = rows.places.regions.get(slot)?[level as usize - 1];
    (r != NO_REGION && (r as usize) < size).then_some(r as usize)
}

fn fold<T: Copy + Default + std::ops::AddAssign>(
    per_slot: &[T],
    region: impl Fn(usize) -> Option<usize>,
    size: usize,
) -> Vec<T> {
    let mut out = vec![T::default(); size];
    for (slot, v) in per_slot.iter().enumerate() {
        if let Some(r) = region(slot) {
            out[r] += *v;
        }
    }
    out
}

/// The `p`th percentile by nearest rank: the smallest value with at least p % of the values
/// at or below it.
fn nearest_rank(values: &mut [f64], p: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * values.len() as f64).ceil() as usize;
    let at = rank.clamp(1, values.len()) - 1;
    let (_, v, _) = values.select_nth_unstable_by(at, f64::total_cmp);
    Some(*v)
}

/// Runs the rows `from..to` of one source through its formulas, block by block.
pub(super) fn add(mut plans: Vec<(&Plan, &mut Sums)>, place: &[u32], from: usize, to: usize, slots: usize) {
    let mut mask = [true; BLOCK];
    let mut part = [true; BLOCK];
    let slot = |p: u32| (p as usize).min(slots - 1);
    let mut start = from;
    while start < to {
        let n = (to - start).min(BLOCK);
        let places = &place[start..start + n];
        for (plan, sums) in plans.iter_mut() {
            let mask = &mut mask[..n];
            mask.fill(true);
            for t in &plan.whole {
                t.apply(start, mask);
            }
            match (&mut **sums, &plan.measure) {
                (Sums::Count(c), _) => {
                    for (p, m) in places.iter().zip(mask.iter()) {
                        c[slot(*p)] += u64::from(*m);
                    }
                }
                (Sums::Rate(whole, hit), _) => {
                    let part = &mut part[..n];
                    part.copy_from_slice(mask);
                    for t in &plan.part {
                        t.apply(start, part);
                    }
                    for i in 0..n {
                        let s = slot(places[i]);
                        whole[s] += u64::from(mask[i]);
                        hit[s] += u64::from(part[i]);
                    }
                }
                (Sums::Mean(sum, k), Kind::Mean(amount)) => {
                    for i in (0..n).filter(|i| mask[*i]) {
                        if let Some(v) = amount.of(start + i) {
                            sum[slot(places[i])] += v;
                            k[slot(places[i])] += 1;
                        }
                    }
                }
                (Sums::Values(values), Kind::Percentile(_, amount)) => {
                    let amount: &Amount = amount;
                    for i in (0..n).filter(|i| mask[*i]) {
                        if let Some(v) = amount.of(start + i) {
                            values.push((slot(places[i]) as u32, v));
                        }
                    }
                }
                _ => {}
            }
        }
        start += n;
    }
}
