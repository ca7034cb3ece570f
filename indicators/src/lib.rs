//! City vital signs as pure values. A catalogue (`indicators.json`) defines each indicator:
//! its names, unit, which way is better, and traffic-light bands. Given the counts of one
//! region (cases, devices, alarms), [`Catalogue::assess`] gives each indicator's value and
//! light, a score of 0–100 from the lights, and the region's five-colour rating (五色图).
//! [`rank`] orders regions by score.
//!
//! The catalogue people edit ([`CatalogueEntry`], `entry.rs`) names each indicator of the
//! tender's four systems and sixteen domains, its owner, [`Frequency`] and target. Values
//! are kept per period (`period.rs`: a period is named by the local date it starts on), and
//! [`compare`] (`series.rs`) tells a value against the period before, the same period last
//! year, the target, the trend and the historical peak, low and mean. A [`Threshold`]
//! (`threshold.rs`: a line or bands, raise and clear levels, minimum durations, on the value
//! or its change against last year or a rolling baseline) steps an [`AlarmState`] through
//! an alarm's episodes, one observation at a time.
//!
//! No I/O and no clock: the server counts in PostGIS and passes the counts in; it turns
//! moments into local dates with the working calendar.
//!
//! Polars, named in the design for time windows and aggregates, is not used: one
//! indicator's series in one region is at most a few thousand periods, which a sort and one
//! pass handle in microseconds, and polars would multiply this crate's build time many
//! times over on the machines that build it.
//!
//! ```text
//! Counts --assess--> value per indicator --bands--> light (green / yellow / red)
//!        lights --weighted points--> score 0..100 --cut points--> colour (green blue yellow orange red)
//! ```

use std::collections::HashSet;
use std::fmt;

use serde::{Deserialize, Serialize};

mod entry;
mod period;
mod series;
mod threshold;

pub use entry::{CatalogueEntry, Domain, Frequency, IndicatorId, Owner, Search, System, is_region_code};
pub use series::{Change, Comparison, Point, TrendPoint, compare};
pub use threshold::{AlarmState, Level, Measure, Pending, QuietWindow, Severity, Step, Threshold};

/// What is wrong with a catalogue.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum IndicatorError {
    /// The document is not a catalogue (bad JSON, a missing field, an unknown indicator).
    #[error("not an indicator catalogue: {0}")]
    Malformed(String),
    /// An indicator is defined twice.
    #[error("indicator {0} is defined twice")]
    Duplicate(Indicator),
    /// Bands that cannot be read one way (green must be the better side of yellow).
    #[error("indicator {0}: {1}")]
    Bands(Indicator, String),
    /// A tag where none is counted, or none where one is.
    #[error("indicator {0}: {1}")]
    Tag(Indicator, String),
    /// Rating cut points or light points out of order or range.
    #[error("{0}")]
    Rating(String),
    /// A field of a catalogue entry or a value that cannot be taken.
    #[error("{field}: {reason}")]
    Field {
        /// The field's path (`name.zh`, `regions[2]`).
        field: String,
        /// What it must be.
        reason: String,
    },
}

/// The indicators the cockpit computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Indicator {
    /// Cases created today (local day).
    CasesToday,
    /// Cases not yet resolved.
    OpenCases,
    /// Open cases past their deadline.
    OverdueCases,
    /// Overdue cases as a share of open cases, %.
    OverdueRate,
    /// Cases resolved by their deadline as a share of resolved cases with one (window), %.
    OnTimeRate,
    /// Satisfied evaluations as a share of evaluations (window), %.
    SatisfactionRate,
    /// Devices online as a share of registered devices, %.
    DeviceOnlineRate,
    /// Device alarms not yet cleared.
    ActiveAlarms,
    /// Cases created today with the definition's tag (风险辨识: risks identified).
    RisksToday,
    /// Cases created today with the definition's tag (隐患发现: hazards found).
    HazardsToday,
}

impl Indicator {
    /// The name used in JSON and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Indicator::CasesToday => "cases_today",
            Indicator::OpenCases => "open_cases",
            Indicator::OverdueCases => "overdue_cases",
            Indicator::OverdueRate => "overdue_rate",
            Indicator::OnTimeRate => "on_time_rate",
            Indicator::SatisfactionRate => "satisfaction_rate",
            Indicator::DeviceOnlineRate => "device_online_rate",
            Indicator::ActiveAlarms => "active_alarms",
            Indicator::RisksToday => "risks_today",
            Indicator::HazardsToday => "hazards_today",
        }
    }

    /// Its value from a region's counts: `None` for a share of nothing.
    pub fn value(self, c: &Counts) -> Option<f64> {
        let count = |n: u64| Some(n as f64);
        let percent = |part: u64, whole: u64| (whole > 0).then(|| part as f64 * 100.0 / whole as f64);
        match self {
            Indicator::CasesToday => count(c.created_today),
            Indicator::OpenCases => count(c.open),
            Indicator::OverdueCases => count(c.overdue),
            Indicator::OverdueRate => percent(c.overdue, c.open),
            Indicator::OnTimeRate => percent(c.on_time, c.with_deadline),
            Indicator::SatisfactionRate => percent(c.satisfied, c.evaluated),
            Indicator::DeviceOnlineRate => percent(c.devices_online, c.devices),
            Indicator::ActiveAlarms => count(c.active_alarms),
            Indicator::RisksToday => count(c.risks_today),
            Indicator::HazardsToday => count(c.hazards_today),
        }
    }

    /// Whether it counts the cases of a tag (its definition names the tag).
    pub fn counts_a_tag(self) -> bool {
        matches!(self, Indicator::RisksToday | Indicator::HazardsToday)
    }
}

impl fmt::Display for Indicator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What one region counts, as the server finds it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Cases created today.
    pub created_today: u64,
    /// Cases not yet resolved.
    pub open: u64,
    /// Of those, past their deadline.
    pub overdue: u64,
    /// Cases of the window resolved, that had a deadline.
    pub with_deadline: u64,
    /// Of those, resolved by it.
    pub on_time: u64,
    /// Cases of the window evaluated.
    pub evaluated: u64,
    /// Of those, satisfied.
    pub satisfied: u64,
    /// Registered devices.
    pub devices: u64,
    /// Of those, online.
    pub devices_online: u64,
    /// Device alarms not yet cleared.
    pub active_alarms: u64,
    /// Cases created today with the risks' tag.
    pub risks_today: u64,
    /// Cases created today with the hazards' tag.
    pub hazards_today: u64,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, o: Counts) {
        self.created_today += o.created_today;
        self.open += o.open;
        self.overdue += o.overdue;
        self.with_deadline += o.with_deadline;
        self.on_time += o.on_time;
        self.evaluated += o.evaluated;
        self.satisfied += o.satisfied;
        self.devices += o.devices;
        self.devices_online += o.devices_online;
        self.active_alarms += o.active_alarms;
        self.risks_today += o.risks_today;
        self.hazards_today += o.hazards_today;
    }
}

/// An indicator's names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Names {
    /// Chinese.
    pub zh: String,
    /// English.
    pub en: String,
}

/// A count or a percentage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// A number of things.
    Count,
    /// 0–100.
    Percent,
}

/// Which way is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Better {
    /// More is better (on-time rate).
    Higher,
    /// Less is better (overdue rate).
    Lower,
}

/// Traffic-light bands: green up to (or from) `green`, yellow up to (or from) `yellow`,
/// red beyond, read in the indicator's better direction.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bands {
    /// The green limit.
    pub green: f64,
    /// The yellow limit.
    pub yellow: f64,
}

/// A traffic light.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Light {
    /// Within the green band.
    Green,
    /// Within the yellow band.
    Yellow,
    /// Beyond it: an alarmed indicator.
    Red,
}

/// One indicator of the catalogue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Definition {
    /// Which indicator.
    pub id: Indicator,
    /// Its names.
    pub name: Names,
    /// Count or percent.
    pub unit: Unit,
    /// Which way is better.
    pub better: Better,
    /// Its bands; `None`: shown, not rated.
    #[serde(default)]
    pub bands: Option<Bands>,
    /// Its weight in the score (rated indicators only).
    #[serde(default = "one")]
    pub weight: u32,
    /// The case tag it counts (`risks_today`, `hazards_today` only), e.g. 隐患.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
}

fn one() -> u32 {
    1
}

impl Definition {
    /// The light of `value` in this indicator's bands.
    pub fn light(&self, value: f64) -> Option<Light> {
        let b = self.bands?;
        let within = |limit: f64| match self.better {
            Better::Higher => value >= limit,
            Better::Lower => value <= limit,
        };
        Some(if within(b.green) {
            Light::Green
        } else if within(b.yellow) {
            Light::Yellow
        } else {
            Light::Red
        })
    }
}

/// The five colours of a rating, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Colour {
    /// 绿.
    Green,
    /// 蓝.
    Blue,
    /// 黄.
    Yellow,
    /// 橙.
    Orange,
    /// 红.
    Red,
}

/// The points each light earns toward the score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LightPoints {
    /// Green.
    pub green: f64,
    /// Yellow.
    pub yellow: f64,
    /// Red.
    pub red: f64,
}

/// The lowest score of each colour but red (red is below `orange`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rating {
    /// Green from here.
    pub green: f64,
    /// Blue from here.
    pub blue: f64,
    /// Yellow from here.
    pub yellow: f64,
    /// Orange from here.
    pub orange: f64,
}

impl Rating {
    /// The colour of `score`.
    pub fn colour(&self, score: f64) -> Colour {
        if score >= self.green {
            Colour::Green
        } else if score >= self.blue {
            Colour::Blue
        } else if score >= self.yellow {
            Colour::Yellow
        } else if score >= self.orange {
            Colour::Orange
        } else {
            Colour::Red
        }
    }
}

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
        for d in &self.definitions {
            if !seen.insert(d.id) {
                return Err(IndicatorError::Duplicate(d.id));
            }
            match (&d.tag, d.id.counts_a_tag()) {
                (None, true) => return Err(IndicatorError::Tag(d.id, "names no `tag` to count".into())),
                (Some(t), true) if t.trim().is_empty() => {
                    return Err(IndicatorError::Tag(d.id, "`tag` is empty".into()));
                }
                (Some(_), false) => return Err(IndicatorError::Tag(d.id, "counts no tag: remove `tag`".into())),
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

    /// The tag `id` counts, if the catalogue shows it.
    pub fn tag(&self, id: Indicator) -> Option<&str> {
        self.definition(id).and_then(|d| d.tag.as_deref())
    }

    /// The definition of `id`, if the catalogue shows it.
    pub fn definition(&self, id: Indicator) -> Option<&Definition> {
        self.definitions.iter().find(|d| d.id == id)
    }

    /// A region's readings, score and colour from its counts.
    pub fn assess(&self, counts: &Counts) -> Assessment {
        let mut readings = Vec::with_capacity(self.definitions.len());
        let (mut points, mut weights, mut alarmed) = (0.0, 0.0, 0);
        for d in &self.definitions {
            let value = d.id.value(counts);
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

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_over_time;
#[cfg(test)]
mod tests_threshold;
