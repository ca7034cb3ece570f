//! Assessment models (考核模型): the items a street or a department is assessed on, each
//! with its weight (the points it is worth) and a scoring rule, giving every subject's
//! points per item, its total and its rank for a month. Several models can be kept and
//! compared; which results are published is the server's business.
//!
//! A rule turns an item's value into a share of its points:
//! - `linear`: all the points at `best`, none at `worst`, in proportion between;
//! - `target`: all the points when the target is met, otherwise in proportion to how near
//!   the value came (value/target going up, target/value going down);
//! - `relative`: among the subjects assessed, the best gets all the points and the worst
//!   `floor` percent of them, the others in proportion between.
//!
//! A subject with no value for an item gets no points for it, and the item says "no data".

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::{Better, IndicatorError, Names};

/// Who a model assesses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Subject {
    /// The streets (街道、镇).
    Streets,
    /// The departments that handle cases.
    Departments,
}

/// What an item measures for a subject in the month.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ItemMeasure {
    /// Of the cases resolved in the month that had a deadline, the share closed by it (%).
    OnTimeRate,
    /// Of the cases evaluated among those resolved in the month, the share satisfied (%).
    SatisfactionRate,
    /// Of the cases due in the month, the share that went past their deadline (%).
    OverdueRate,
    /// An indicator of the catalogue: its value for the subject (a street) in the period
    /// holding the month.
    Indicator {
        /// The indicator's id.
        id: String,
    },
}

/// How an item's value becomes points.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Scoring {
    /// All the points at `best`, none at `worst` (either may be the larger), linear between.
    Linear {
        /// The value worth every point.
        best: f64,
        /// The value worth none.
        worst: f64,
    },
    /// All the points when `target` is met in the `better` direction, otherwise the share
    /// value/target (going up) or target/value (going down).
    Target {
        /// The target.
        target: f64,
        /// Which way is better.
        better: Better,
    },
    /// The best subject all the points, the worst `floor` percent of them, linear between.
    Relative {
        /// Which way is better.
        better: Better,
        /// The worst subject's share of the points, in percent (0–100).
        floor: f64,
    },
}

/// One item of a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Item {
    /// Its names.
    pub name: Names,
    /// What it measures.
    pub measure: ItemMeasure,
    /// The points it is worth (above 0).
    pub weight: f64,
    /// How its value becomes points.
    pub scoring: Scoring,
}

/// An assessment model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Model {
    /// Its id: lower-case letters, digits, `-`, `_` and `.`, 1 to 64.
    pub id: String,
    /// Its names.
    pub name: Names,
    /// Who it assesses.
    pub subject: Subject,
    /// Its items, at least one.
    pub items: Vec<Item>,
}

/// One subject's result under a model.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Scored {
    /// The street's code or the department's id.
    pub subject: String,
    /// Per item, in the model's order: the value (`None`: no data) and the points.
    pub items: Vec<ItemScore>,
    /// The points of every item.
    pub total: f64,
    /// 1 for the highest total; equal totals share a rank.
    pub rank: usize,
}

/// One item's value and points for a subject.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct ItemScore {
    /// The value; `None`: no data (and no points).
    pub value: Option<f64>,
    /// The points given, rounded to two decimals.
    pub points: f64,
}

fn field(name: String, reason: &str) -> IndicatorError {
    IndicatorError::Field { field: name, reason: reason.to_string() }
}

impl Model {
    /// Checks the model field by field: the error names the field (`items[2].weight`).
    pub fn check(&self) -> Result<(), IndicatorError> {
        let id_ok = (1..=64).contains(&self.id.len())
            && self.id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b));
        if !id_ok {
            return Err(field("id".into(), "1 to 64 of a-z, 0-9, '-', '_', '.'"));
        }
        if self.name.zh.trim().is_empty() {
            return Err(field("name.zh".into(), "a name in Chinese is required"));
        }
        if self.items.is_empty() {
            return Err(field("items".into(), "at least one item"));
        }
        for (i, item) in self.items.iter().enumerate() {
            let at = |f: &str| format!("items[{i}].{f}");
            if item.name.zh.trim().is_empty() {
                return Err(field(at("name.zh"), "a name in Chinese is required"));
            }
            if !(item.weight.is_finite() && item.weight > 0.0 && item.weight <= 1000.0) {
                return Err(field(at("weight"), "points above 0, at most 1000"));
            }
            if let ItemMeasure::Indicator { id } = &item.measure {
                if self.subject == Subject::Departments {
                    return Err(field(at("measure"), "indicators are kept per region: a street model's item"));
                }
                if id.trim().is_empty() {
                    return Err(field(at("measure.id"), "an indicator's id"));
                }
            }
            match item.scoring {
                Scoring::Linear { best, worst } if !(best.is_finite() && worst.is_finite()) || best == worst => {
                    return Err(field(at("scoring"), "best and worst: two different finite numbers"));
                }
                Scoring::Target { target, .. } if !(target.is_finite() && target > 0.0) => {
                    return Err(field(at("scoring.target"), "a target above 0"));
                }
                Scoring::Relative { floor, .. } if !(0.0..=100.0).contains(&floor) => {
                    return Err(field(at("scoring.floor"), "a share from 0 to 100"));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The points a subject could get: every item's weight.
    pub fn points(&self) -> f64 {
        self.items.iter().map(|i| i.weight).sum()
    }

    /// Scores `subjects` (in the order given; ties keep it) from `values`: item `i`'s value
    /// for a subject at `(subject, i)`, missing where there is no data. Highest total first.
    pub fn score(&self, subjects: &[String], values: &HashMap<(String, usize), f64>) -> Vec<Scored> {
        let mut out: Vec<Scored> = subjects
            .iter()
            .map(|s| Scored { subject: s.clone(), items: Vec::with_capacity(self.items.len()), total: 0.0, rank: 0 })
            .collect();
        for (i, item) in self.items.iter().enumerate() {
            let of = |s: &String| values.get(&(s.clone(), i)).copied().filter(|v| v.is_finite());
            let seen: Vec<f64> = subjects.iter().filter_map(of).collect();
            let (low, high) = seen.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| (l.min(*v), h.max(*v)));
            for scored in &mut out {
                let value = of(&scored.subject);
                let share = value.map_or(0.0, |v| share(item.scoring, v, low, high));
                let points = round2(item.weight * share);
                scored.items.push(ItemScore { value, points });
                scored.total += points;
            }
        }
        for scored in &mut out {
            scored.total = round2(scored.total);
        }
        out.sort_by(|a, b| b.total.total_cmp(&a.total));
        let totals: Vec<f64> = out.iter().map(|s| s.total).collect();
        for (k, scored) in out.iter_mut().enumerate() {
            scored.rank = 1 + totals[..k].iter().filter(|t| **t > scored.total).count();
        }
        out
    }

    /// The catalogue indicators this model's items read.
    pub fn indicators(&self) -> BTreeSet<&str> {
        self.items
            .iter()
            .filter_map(|i| match &i.measure {
                ItemMeasure::Indicator { id } => Some(id.as_str()),
                _ => None,
            })
            .collect()
    }
}

/// The share (0–1) of an item's points `v` earns, `low` and `high` being the lowest and
/// highest value among the subjects.
fn share(scoring: Scoring, v: f64, low: f64, high: f64) -> f64 {
    let s = match scoring {
        Scoring::Linear { best, worst } => (v - worst) / (best - worst),
        Scoring::Target { target, better: Better::Higher } => v / target,
        Scoring::Target { target, better: Better::Lower } if v <= target => 1.0,
        Scoring::Target { target, better: Better::Lower } => target / v,
        Scoring::Relative { .. } if high <= low => 1.0,
        Scoring::Relative { better, floor } => {
            let t = match better {
                Better::Higher => (v - low) / (high - low),
                Better::Lower => (high - v) / (high - low),
            };
            floor / 100.0 + (1.0 - floor / 100.0) * t
        }
    };
    s.clamp(0.0, 1.0)
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}
