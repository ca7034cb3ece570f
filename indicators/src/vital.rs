//! The vital signs the cockpit computes from its own counts: each [`Indicator`]'s
//! [`Definition`] in the [`Catalogue`], a region's [`Counts`] assessed into values, lights,
//! a score and a [`Colour`], and regions ranked by score.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::formula::Formula;

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
    /// Cases created today with the formula's tag (风险辨识: risks identified).
    RisksToday,
    /// Cases created today with the formula's tag (隐患发现: hazards found).
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

    /// Whether it counts the cases of a tag (its formula's filter names the tag).
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
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
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
    /// How it is computed from our own data (cases, alarms, readings, devices).
    pub compute: Formula,
    /// Its domain among the sixteen, where it differs from the keeper's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<crate::Domain>,
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
