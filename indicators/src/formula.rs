//! How an indicator is computed from our own data: a [`Formula`] names a [`Source`] (cases,
//! alarms, readings, devices), a [`Filter`] of its rows, a [`Window`] of time, an
//! [`Aggregate`] (a count, a rate of one filter within another, a mean or a percentile),
//! and the [`RegionLevel`]s it is grouped by. Written in the catalogue as JSON:
//!
//! ```json
//! {"source": "cases",
//!  "filter": {"status": ["closed", "evaluated_satisfied", "evaluated_unsatisfied"], "deadline": true},
//!  "window": {"on": "closed", "last_days": 30},
//!  "measure": {"rate": {"on_time": true}}}
//! ```
//!
//! A formula is checked against its source when the catalogue is read, so that a filter
//! that can never apply (a tag on readings) is refused with the field named, not silently
//! counted as nothing.

use serde::{Deserialize, Serialize};

use crate::entry::Frequency;

/// How one indicator is computed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Formula {
    /// The rows it looks at.
    pub source: Source,
    /// Which of them count; every condition must hold.
    #[serde(default, skip_serializing_if = "Filter::is_empty")]
    pub filter: Filter,
    /// Which time they must fall in; none: rows as they are now (open cases).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Window>,
    /// What is taken of them.
    pub measure: Aggregate,
    /// The levels it has values for; every level when left out.
    #[serde(default = "RegionLevel::all", skip_serializing_if = "RegionLevel::is_all")]
    pub levels: Vec<RegionLevel>,
}

/// The rows a formula looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Cases (事件): status, category, source, tags, created, deadline, closed, evaluation.
    Cases,
    /// Device alarms: state, severity, metric, device kind, raised, cleared.
    Alarms,
    /// Sensor readings: metric, device kind, time, value.
    Readings,
    /// Registered devices: device kind, online.
    Devices,
}

/// A region level values are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegionLevel {
    /// The whole district: every row, placed or not.
    District,
    /// Streets (街道).
    Street,
    /// Villages and communities (村社).
    Village,
    /// Grids (网格).
    Grid,
}

impl RegionLevel {
    /// Every level, largest first.
    pub const ALL: [RegionLevel; 4] =
        [RegionLevel::District, RegionLevel::Street, RegionLevel::Village, RegionLevel::Grid];

    fn all() -> Vec<RegionLevel> {
        RegionLevel::ALL.to_vec()
    }

    fn is_all(levels: &[RegionLevel]) -> bool {
        RegionLevel::ALL.iter().all(|l| levels.contains(l))
    }
}

/// Conditions on a row; every one that is given must hold. Each applies to some sources
/// only ([`Filter::check`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Filter {
    /// Case status or alarm state, one of these names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Vec<String>>,
    /// Case category code starting with one of these (`"05"`: every city-management case).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<Vec<String>>,
    /// The case's source system, one of these ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_source: Option<Vec<String>>,
    /// The case carries this tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// The case is (or is not) overdue: marked so, or past its deadline now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overdue: Option<bool>,
    /// The case has (or has not) a deadline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<bool>,
    /// The case was (or was not) closed by its deadline; a case without one is neither.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_time: Option<bool>,
    /// The case was (or was not) evaluated by its reporter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluated: Option<bool>,
    /// The evaluation was (true) or was not (false) satisfied; unevaluated cases are neither.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub satisfied: Option<bool>,
    /// Alarm severity, one of these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Vec<String>>,
    /// Reading or alarm metric, one of these (`water_level_m`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<Vec<String>>,
    /// Device type of the reading, alarm or device, one of these (`water_level_river`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_kind: Option<Vec<String>>,
    /// The device is (or is not) online.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub online: Option<bool>,
    /// The reading's value is at least this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_least: Option<f64>,
    /// The reading's value is at most this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_most: Option<f64>,
}

/// A span of time a row's moment must fall in: from the start of the current period (local
/// day, month ...) or the last N days, up to now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    /// Which moment of the row.
    pub on: Moment,
    /// Since the start of the current period of this frequency (local calendar).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<Frequency>,
    /// Since this many days before now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_days: Option<u32>,
}

/// A moment of a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Moment {
    /// A case's creation, an alarm's raising, a reading's time.
    Created,
    /// A case's closing, an alarm's clearing.
    Closed,
}

/// What is taken of the rows that pass.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Aggregate {
    /// How many.
    Count,
    /// The percentage of them that also pass this filter; none of a region without rows.
    Rate(Filter),
    /// The mean of a quantity; none without rows.
    Mean(Quantity),
    /// A percentile (nearest rank) of a quantity; none without rows.
    Percentile {
        /// 0–100: 50 is the median.
        p: f64,
        /// Of what.
        of: Quantity,
    },
}

/// A number a row carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Quantity {
    /// A reading's value.
    Value,
    /// Hours from creation to closing (a case) or from raising to clearing (an alarm);
    /// rows not yet closed have none.
    Hours,
}

impl Filter {
    fn is_empty(&self) -> bool {
        *self == Filter::default()
    }

    /// The first condition that cannot apply to `source`: its field name and why.
    pub fn check(&self, source: Source) -> Result<(), (String, String)> {
        use Source::{Alarms, Cases, Devices, Readings};
        let given = [
            ("status", self.status.is_some(), &[Cases, Alarms][..]),
            ("category", self.category.is_some(), &[Cases]),
            ("case_source", self.case_source.is_some(), &[Cases]),
            ("tag", self.tag.is_some(), &[Cases]),
            ("overdue", self.overdue.is_some(), &[Cases]),
            ("deadline", self.deadline.is_some(), &[Cases]),
            ("on_time", self.on_time.is_some(), &[Cases]),
            ("evaluated", self.evaluated.is_some(), &[Cases]),
            ("satisfied", self.satisfied.is_some(), &[Cases]),
            ("severity", self.severity.is_some(), &[Alarms]),
            ("metric", self.metric.is_some(), &[Alarms, Readings]),
            ("device_kind", self.device_kind.is_some(), &[Alarms, Readings, Devices]),
            ("online", self.online.is_some(), &[Devices]),
            ("at_least", self.at_least.is_some(), &[Readings]),
            ("at_most", self.at_most.is_some(), &[Readings]),
        ];
        for (field, present, sources) in given {
            if present && !sources.contains(&source) {
                return Err((field.into(), format!("does not apply to {}", source.as_str())));
            }
        }
        if self.tag.as_deref().is_some_and(|t| t.trim().is_empty()) {
            return Err(("tag".into(), "must not be empty".into()));
        }
        if [self.at_least, self.at_most].into_iter().flatten().any(|v| !v.is_finite()) {
            return Err(("at_least".into(), "must be a number".into()));
        }
        Ok(())
    }
}

impl Source {
    /// The name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Cases => "cases",
            Source::Alarms => "alarms",
            Source::Readings => "readings",
            Source::Devices => "devices",
        }
    }
}

impl Formula {
    /// Checks what serde cannot: every condition applies to the source, a window names one
    /// span, the measure's quantity exists. The error is the field's path and the reason.
    pub fn check(&self) -> Result<(), (String, String)> {
        fn at(prefix: &str) -> impl Fn((String, String)) -> (String, String) + '_ {
            move |(field, reason)| (format!("{prefix}.{field}"), reason)
        }
        self.filter.check(self.source).map_err(at("filter"))?;
        if let Some(w) = &self.window {
            if w.period.is_some() == w.last_days.is_some() {
                return Err(("window".into(), "give exactly one of `period` and `last_days`".into()));
            }
            if w.last_days == Some(0) {
                return Err(("window.last_days".into(), "must be at least 1".into()));
            }
            let has_close = matches!(self.source, Source::Cases | Source::Alarms);
            if w.on == Moment::Closed && !has_close {
                return Err(("window.on".into(), format!("{} are never closed", self.source.as_str())));
            }
            if self.source == Source::Devices {
                return Err(("window".into(), "devices are counted as they are now".into()));
            }
        }
        match &self.measure {
            Aggregate::Count => {}
            Aggregate::Rate(part) => part.check(self.source).map_err(at("measure.rate"))?,
            Aggregate::Mean(of) | Aggregate::Percentile { of, .. } => {
                let fits = match of {
                    Quantity::Value => self.source == Source::Readings,
                    Quantity::Hours => matches!(self.source, Source::Cases | Source::Alarms),
                };
                if !fits {
                    return Err(("measure".into(), format!("{of:?} is not a quantity of {}", self.source.as_str())));
                }
                if let Aggregate::Percentile { p, .. } = &self.measure
                    && !(0.0..=100.0).contains(p)
                {
                    return Err(("measure.percentile.p".into(), "must lie within 0–100".into()));
                }
            }
        }
        if self.levels.is_empty() {
            return Err(("levels".into(), "name at least one level".into()));
        }
        Ok(())
    }
}
