//! A region's counts assessed against the [`Catalogue`]: each indicator's value and light,
//! the score and colour, and regions ranked by score.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::IndicatorError;
use crate::vital::{Better, Colour, Counts, Definition, Indicator, Light, LightPoints, Rating};

/// The catalogue: every indicator shown, how lights score and scores rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalogue {
    /// Days back the rates (on time, satisfaction) look at.
    pub window_days: u32,
    /// The indicators, in the order screens show them.
    pub definitions: Vec<Definition>,
    /// Points per light.
    pub points: LightPoints,
    /// Colours per score.
    pub rating: Rating,
    /// Where the computed indicators stand in the catalogue people edit (their system,
    /// domain, owner); without it they are not registered there and keep no history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keeper: Option<crate::Keeper>,
}

/// One indicator's value and light in a region.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Reading {
    /// The value; `None` when there is nothing to take a share of.
    pub value: Option<f64>,
    /// Its light; `None` when unrated or without a value.
    pub light: Option<Light>,
}

/// A region's indicators, score and rating.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    /// Each indicator of the catalogue, in its order.
    pub readings: Vec<(Indicator, Reading)>,
    /// 0–100, from the lights; `None` when no rated indicator has a value.
    pub score: Option<f64>,
    /// The score's colour.
    pub colour: Option<Colour>,
    /// Red readings.
    pub alarmed: usize,
}

impl Catalogue {
    /// Reads and checks a catalogue.
    pub fn parse(text: &str) -> Result<Catalogue, IndicatorError> {
        let catalogue: Catalogue = serde_json::from_str(text).map_err(|e| IndicatorError::Malformed(e.to_string()))?;
        catalogue.check()?;
        Ok(catalogue)
    }

    /// Checks what serde cannot: no indicator twice, bands and cut points in order.
    pub fn check(&self) -> Result<(), IndicatorError> {
        let mut seen = HashSet::new();
        for (i, d) in self.definitions.iter().enumerate() {
            if !seen.insert(d.id) {
                return Err(IndicatorError::Duplicate(d.id));
            }
            d.compute.check().map_err(|(field, reason)| IndicatorError::Field {
                field: format!("definitions[{i}].compute.{field}"),
                reason,
            })?;
            match (&d.compute.filter.tag, d.id.counts_a_tag()) {
                (None, true) => return Err(IndicatorError::Tag(d.id, "its filter names no `tag` to count".into())),
                (Some(t), true) if t.trim().is_empty() => {
                    return Err(IndicatorError::Tag(d.id, "`tag` is empty".into()));
                }
                (Some(_), false) => {}
                _ => {}
            }
            if let Some(b) = d.bands {
                if !b.green.is_finite() || !b.yellow.is_finite() {
                    return Err(IndicatorError::Bands(d.id, "limits must be numbers".into()));
                }
                let ordered = match d.better {
                    Better::Higher => b.green >= b.yellow,
                    Better::Lower => b.green <= b.yellow,
                };
                if !ordered {
                    return Err(IndicatorError::Bands(
                        d.id,
                        format!("green ({}) must be on the better side of yellow ({})", b.green, b.yellow),
                    ));
                }
                if d.weight == 0 {
                    return Err(IndicatorError::Bands(d.id, "a rated indicator needs a weight above 0".into()));
                }
            }
        }
        let p = self.points;
        if !(p.green >= p.yellow && p.yellow >= p.red && p.red >= 0.0 && p.green <= 100.0) {
            return Err(IndicatorError::Rating("points must run green ≥ yellow ≥ red, within 0–100".into()));
        }
        let r = self.rating;
        if !(r.green >= r.blue && r.blue >= r.yellow && r.yellow >= r.orange && r.orange >= 0.0 && r.green <= 100.0) {
            return Err(IndicatorError::Rating(
                "rating cut points must run green ≥ blue ≥ yellow ≥ orange, within 0–100".into(),
            ));
        }
        if self.window_days == 0 {
            return Err(IndicatorError::Rating("window_days must be at least 1".into()));
        }
        Ok(())
    }

    /// The tag `id`'s formula counts, if the catalogue shows it.
    pub fn tag(&self, id: Indicator) -> Option<&str> {
        self.definition(id).and_then(|d| d.compute.filter.tag.as_deref())
    }

    /// The definition of `id`, if the catalogue shows it.
    pub fn definition(&self, id: Indicator) -> Option<&Definition> {
        self.definitions.iter().find(|d| d.id == id)
    }

    /// A region's readings, score and colour from its counts.
    pub fn assess(&self, counts: &Counts) -> Assessment {
        self.assess_values(|d| d.id.value(counts))
    }

    /// A region's readings, score and colour from each definition's value (computed by its
    /// formula, or `None`: no data).
    pub fn assess_values(&self, value_of: impl Fn(&Definition) -> Option<f64>) -> Assessment {
        let mut readings = Vec::with_capacity(self.definitions.len());
        let (mut points, mut weights, mut alarmed) = (0.0, 0.0, 0);
        for d in &self.definitions {
            let value = value_of(d);
            let light = value.and_then(|v| d.light(v));
            if let Some(light) = light {
                let earned = match light {
                    Light::Green => self.points.green,
                    Light::Yellow => self.points.yellow,
                    Light::Red => self.points.red,
                };
                points += earned * f64::from(d.weight);
                weights += f64::from(d.weight);
                alarmed += usize::from(light == Light::Red);
            }
            readings.push((d.id, Reading { value, light }));
        }
        let score = (weights > 0.0).then(|| (points / weights * 10.0).round() / 10.0);
        Assessment { readings, score, colour: score.map(|s| self.rating.colour(s)), alarmed }
    }
}

/// Places by score, best first (1-based); regions with equal scores share a place, and
/// regions without a score get none.
pub fn rank(scores: &[Option<f64>]) -> Vec<Option<u32>> {
    scores
        .iter()
        .map(|s| s.map(|mine| 1 + scores.iter().flatten().filter(|other| **other > mine).count() as u32))
        .collect()
}
