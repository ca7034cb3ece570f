//! The vital-sign index (城市体征指数) of each street for a period, from the catalogue's
//! indicators over the tender's sixteen domains: the eight of the city (经济运行 to 城市建设)
//! and the eight of governance (矛盾纠纷 to 劳动欠薪).
//!
//! Each indicator with a value in a street scores 0–100: against its target when it has
//! one (met: 100; else value/target going up, target/value going down, as a percentage);
//! otherwise against the other streets, the best 100 and the worst 60, in proportion
//! between (all equal: 100). A domain's score is the mean of its indicators' scores, the
//! city and governance indices the means of their domains' scores, and the index the mean
//! of every domain scored; the index's colour is the catalogue's five-colour rating. A
//! domain with no value anywhere is "no data" and left out of the means, never a zero.

use std::collections::HashMap;

use serde::Serialize;

use crate::{Better, CatalogueEntry, Colour, Domain, Rating};

/// The lowest score an indicator without a target gives the worst street.
const RELATIVE_FLOOR: f64 = 60.0;

/// A domain's score in a street.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct DomainScore {
    /// The domain.
    #[cfg_attr(feature = "schema", schema(value_type = String, example = "economy"))]
    pub domain: Domain,
    /// 0–100; `None`: no indicator of it has a value here.
    pub score: Option<f64>,
    /// Indicators of the domain with a value here.
    pub indicators: usize,
}

/// One street's index.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct StreetIndex {
    /// The street's code.
    pub street: String,
    /// The sixteen domains, in the tender's order.
    pub domains: Vec<DomainScore>,
    /// The mean of the eight city domains scored.
    pub city: Option<f64>,
    /// The mean of the eight governance domains scored.
    pub governance: Option<f64>,
    /// The mean of every domain scored.
    pub index: Option<f64>,
    /// The five-colour rating of the index.
    #[cfg_attr(feature = "schema", schema(value_type = Option<String>, example = "blue"))]
    pub colour: Option<Colour>,
    /// 1 for the highest index among the streets with one.
    pub rank: Option<usize>,
}

impl Domain {
    /// Whether it is one of the eight city domains (the others are governance's).
    pub fn is_city(self) -> bool {
        Domain::ALL.iter().position(|d| *d == self).is_some_and(|i| i < 8)
    }
}

/// The index of each of `streets` from `values` (an indicator's value in a street, by
/// `(indicator id, street code)`), over `entries`, coloured by `rating`. In the order of
/// `streets`.
pub fn vital_index(
    entries: &[CatalogueEntry],
    streets: &[String],
    values: &HashMap<(String, String), f64>,
    rating: &Rating,
) -> Vec<StreetIndex> {
    // Each street's scores per domain: the sum and how many.
    let mut sums: HashMap<(&str, Domain), (f64, usize)> = HashMap::new();
    for entry in entries {
        let of = |s: &String| values.get(&(entry.id.to_string(), s.clone())).copied().filter(|v| v.is_finite());
        let seen: Vec<f64> = streets.iter().filter_map(of).collect();
        let (low, high) = seen.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| (l.min(*v), h.max(*v)));
        for street in streets {
            let Some(v) = of(street) else { continue };
            let score = indicator_score(entry, v, low, high);
            let sum = sums.entry((street.as_str(), entry.domain)).or_insert((0.0, 0));
            sum.0 += score;
            sum.1 += 1;
        }
    }
    let mut out: Vec<StreetIndex> = streets
        .iter()
        .map(|street| {
            let domains: Vec<DomainScore> = Domain::ALL
                .iter()
                .map(|d| {
                    let (sum, n) = sums.get(&(street.as_str(), *d)).copied().unwrap_or((0.0, 0));
                    DomainScore { domain: *d, score: (n > 0).then(|| round1(sum / n as f64)), indicators: n }
                })
                .collect();
            let mean = |keep: &dyn Fn(Domain) -> bool| {
                let scores: Vec<f64> = domains.iter().filter(|d| keep(d.domain)).filter_map(|d| d.score).collect();
                (!scores.is_empty()).then(|| round1(scores.iter().sum::<f64>() / scores.len() as f64))
            };
            let (city, governance, index) = (mean(&Domain::is_city), mean(&|d| !d.is_city()), mean(&|_| true));
            let colour = index.map(|i| rating.colour(i));
            StreetIndex { street: street.clone(), domains, city, governance, index, colour, rank: None }
        })
        .collect();
    let indices: Vec<f64> = out.iter().filter_map(|s| s.index).collect();
    for s in &mut out {
        s.rank = s.index.map(|i| 1 + indices.iter().filter(|o| **o > i).count());
    }
    out
}

/// An indicator's score (0–100) for value `v`, the streets' values lying in `low..=high`.
fn indicator_score(entry: &CatalogueEntry, v: f64, low: f64, high: f64) -> f64 {
    let score = match (entry.target, entry.better) {
        (Some(t), Better::Higher) if t > 0.0 => 100.0 * v / t,
        (Some(t), Better::Lower) if v <= t => 100.0,
        (Some(t), Better::Lower) if t > 0.0 => 100.0 * t / v,
        _ if high <= low => 100.0,
        (_, Better::Higher) => RELATIVE_FLOOR + (100.0 - RELATIVE_FLOOR) * (v - low) / (high - low),
        (_, Better::Lower) => RELATIVE_FLOOR + (100.0 - RELATIVE_FLOOR) * (high - v) / (high - low),
    };
    score.clamp(0.0, 100.0)
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}
