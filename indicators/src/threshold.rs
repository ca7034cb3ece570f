//! Thresholds and the alarm state machine over an indicator's values in one region.
//!
//! A [`Threshold`] is a plain line (`red` alone) or red/yellow/green bands (`yellow` and
//! `red`; green is neither), read in the direction that is worse for the indicator (up
//! for "lower is better", down for "higher is better"). What it compares is the value
//! itself, or its change in percent against the same period last year or against the mean
//! of the N periods before (a rolling baseline) — [`Measure`].
//!
//! Each level raises at `raise` and clears only once the measure is back past `clear`
//! (hysteresis), and a change of level must hold for a minimum duration before it is
//! taken: `raise_after_seconds` going worse, `clear_after_seconds` going better. The time
//! is the observations' own (`at`), so the machine is replayable and needs no clock.
//!
//! ```text
//!   normal ──worse held raise_after──> yellow ──worse held──> red
//!     ^                                   │                      │
//!     └──────better held clear_after──────┴──────────────────────┘
//! ```
//!
//! An episode runs from leaving normal to coming back to it; whatever levels it passes
//! through, it is one alarm (the server opens one case for an episode that reaches red).

use chrono::{DateTime, NaiveDateTime, NaiveTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::{Better, IndicatorError};

/// An alarm's level; yellow is below red.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// 黄色预警.
    Yellow,
    /// 红色告警.
    Red,
}

impl Severity {
    /// The name used in JSON and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Yellow => "yellow",
            Severity::Red => "red",
        }
    }

    /// Reads [`Severity::as_str`].
    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "yellow" => Some(Severity::Yellow),
            "red" => Some(Severity::Red),
            _ => None,
        }
    }

    /// The Chinese name of its line.
    pub fn zh(self) -> &'static str {
        match self {
            Severity::Yellow => "黄线",
            Severity::Red => "红线",
        }
    }
}

/// What the levels are compared with.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Measure {
    /// The value itself, in the indicator's unit.
    Value,
    /// The change in percent against the same period a year before (同比).
    ChangeFromLastYear,
    /// The change in percent against the mean of the `periods` periods before (a rolling
    /// baseline).
    ChangeFromBaseline {
        /// How many periods the baseline averages (1–60); those without a value are left
        /// out, and with none the measure has no value.
        periods: u32,
    },
}

/// One level: where it raises and where it clears.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Level {
    /// The level is reached at this measure or worse.
    pub raise: f64,
    /// Once reached, it holds until the measure is better than this (on the better side of
    /// `raise`, or equal to it); absent: `raise`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clear: Option<f64>,
}

impl Level {
    fn clear(&self) -> f64 {
        self.clear.unwrap_or(self.raise)
    }
}

/// The do-not-disturb window (免打扰), in the city's local time: alarms are still recorded
/// and streamed, but the case of a red episode waits for the window's end and is opened then
/// only if the episode is still open.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuietWindow {
    /// Local start, `HH:MM`.
    pub from: String,
    /// Local end, `HH:MM`; before `from`: the window runs over midnight.
    pub to: String,
}

/// An indicator's threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Threshold {
    /// Whether it alarms; switched off, an open alarm clears (at the edit that switches it
    /// off, or at the next value).
    pub enabled: bool,
    /// What is compared.
    pub measure: Measure,
    /// The yellow level (bands); absent: a plain line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub yellow: Option<Level>,
    /// The red level (the line).
    pub red: Level,
    /// How long a worse level must hold before it is raised (0: at once).
    #[serde(default)]
    pub raise_after_seconds: u32,
    /// How long a better level must hold before the alarm steps down or clears.
    #[serde(default)]
    pub clear_after_seconds: u32,
    /// The do-not-disturb window, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quiet: Option<QuietWindow>,
    /// The category of the case a red episode opens (a code of the case categories);
    /// absent: the server's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_category: Option<String>,
}

/// Where one indicator in one region stands; stored between values.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AlarmState {
    /// The level raised; `None`: normal.
    pub level: Option<Severity>,
    /// A change of level waiting for its minimum duration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<Pending>,
    /// The moment of the latest observation taken; earlier ones are ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_at: Option<DateTime<Utc>>,
}

/// A change of level that has not yet held long enough.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Pending {
    /// Worse (`true`) or better.
    pub worse: bool,
    /// Since when the measure has been on that side of the level raised.
    pub since: DateTime<Utc>,
}

/// What an observation did to the alarm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Nothing changed that anyone sees (a pending change may have started).
    Same,
    /// An episode opened at this level.
    Raised(Severity),
    /// The open episode moved between levels.
    Changed {
        /// The level before.
        from: Severity,
        /// The level now.
        to: Severity,
    },
    /// The episode ended, from this level.
    Cleared(Severity),
}

fn field(name: &str, reason: &str) -> IndicatorError {
    IndicatorError::Field { field: name.to_string(), reason: reason.to_string() }
}

/// Whether `x` is at `limit` or worse, for an indicator whose `better` way is given.
fn at_or_worse(better: Better, x: f64, limit: f64) -> bool {
    match better {
        Better::Lower => x >= limit,
        Better::Higher => x <= limit,
    }
}

/// Reads `HH:MM`.
fn clock(text: &str) -> Option<NaiveTime> {
    (text.len() == 5).then(|| NaiveTime::parse_from_str(text, "%H:%M").ok()).flatten()
}

impl Threshold {
    /// Checks what serde cannot, for an indicator whose `better` way is given, naming the
    /// first field at fault.
    pub fn check(&self, better: Better) -> Result<(), IndicatorError> {
        const WORSE: &str = "on the worse side of the yellow level";
        let finite = |name: &str, x: f64| if x.is_finite() { Ok(()) } else { Err(field(name, "a finite number")) };
        if let Measure::ChangeFromBaseline { periods } = self.measure
            && !(1..=60).contains(&periods)
        {
            return Err(field("measure.periods", "1–60 periods"));
        }
        for (name, level) in [("yellow", self.yellow.as_ref()), ("red", Some(&self.red))] {
            let Some(level) = level else { continue };
            finite(&format!("{name}.raise"), level.raise)?;
            if let Some(clear) = level.clear {
                finite(&format!("{name}.clear"), clear)?;
                if at_or_worse(better, clear, level.raise) && clear != level.raise {
                    return Err(field(&format!("{name}.clear"), "on the better side of `raise` (or equal to it)"));
                }
            }
        }
        if let Some(yellow) = &self.yellow
            && !(at_or_worse(better, self.red.raise, yellow.raise) && self.red.raise != yellow.raise)
        {
            return Err(field("red.raise", WORSE));
        }
        for (name, seconds) in
            [("raise_after_seconds", self.raise_after_seconds), ("clear_after_seconds", self.clear_after_seconds)]
        {
            if seconds > 30 * 86_400 {
                return Err(field(name, "at most 30 days (2592000)"));
            }
        }
        if let Some(c) = &self.case_category
            && !((2..=16).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(field("case_category", "a category code (2–16 digits)"));
        }
        if let Some(q) = &self.quiet {
            let (Some(from), Some(to)) = (clock(&q.from), clock(&q.to)) else {
                let name = if clock(&q.from).is_none() { "quiet.from" } else { "quiet.to" };
                return Err(field(name, "a local time HH:MM"));
            };
            if from == to {
                return Err(field("quiet.to", "differs from `quiet.from`"));
            }
        }
        Ok(())
    }

    /// The level the measure `x` calls for, given the level raised now (hysteresis: a level
    /// raised holds until `x` is better than its `clear`).
    pub fn level_for(&self, better: Better, now: Option<Severity>, x: f64) -> Option<Severity> {
        let mut wanted = None;
        for (severity, level) in [(Severity::Yellow, self.yellow.as_ref()), (Severity::Red, Some(&self.red))] {
            let Some(level) = level else { continue };
            let holds = now.is_some_and(|n| severity <= n) && at_or_worse(better, x, level.clear());
            if at_or_worse(better, x, level.raise) || holds {
                wanted = Some(severity);
            }
        }
        wanted
    }

    /// Whether the change `state` waits for has held its minimum duration at `now`: the
    /// moment to step the alarm again with the value that stands, though no new one came.
    pub fn due(&self, state: &AlarmState, now: DateTime<Utc>) -> bool {
        state.pending.is_some_and(|p| {
            let seconds = if p.worse { self.raise_after_seconds } else { self.clear_after_seconds };
            now - p.since >= TimeDelta::seconds(i64::from(seconds))
        })
    }

    /// Takes the measure `x` observed at `at` into `state`: the state after it and what
    /// changed. An observation before the latest one taken changes nothing. Switched off,
    /// the threshold calls for normal at once.
    pub fn step(&self, better: Better, state: &AlarmState, at: DateTime<Utc>, x: f64) -> (AlarmState, Step) {
        if state.last_at.is_some_and(|last| at < last) || !x.is_finite() {
            return (state.clone(), Step::Same);
        }
        self.take(better, state, at, at, x)
    }

    /// Reads again, at `now`, just after this threshold was edited, the measure `x` of the
    /// value that stands, unchanged since `since`: the state after it and what changed, with
    /// the same hysteresis and minimum durations as a new value.
    ///
    /// The time worse (or better) counts from `since`, the value's own time, not from the
    /// edit: a minimum duration keeps a passing value from raising an alarm, and a value
    /// that has stood for a month is not passing; measured against the line as it is now,
    /// it has been on that side for a month, so it raises at once, and one that came a
    /// minute ago waits out the rest of its duration (a wait already running the same way
    /// keeps the earlier start). Counting from the edit would make the alarm
    /// depend on when an operator edited rather than on what the values did.
    ///
    /// The state is returned unchanged when nothing is raised, changed or cleared and no
    /// wait starts or ends, so reading the same threshold again (on another instance, or
    /// after a restart) writes nothing; otherwise its latest moment becomes `now` (or
    /// stays, if later), as for a check of a wait at `now`.
    pub fn revise(
        &self,
        better: Better,
        state: &AlarmState,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
        x: f64,
    ) -> (AlarmState, Step) {
        if !x.is_finite() {
            return (state.clone(), Step::Same);
        }
        let at = state.last_at.map_or(now, |last| last.max(now));
        let (next, step) = self.take(better, state, at, since.min(at), x);
        if step == Step::Same && next.level == state.level && next.pending == state.pending {
            return (state.clone(), Step::Same);
        }
        (next, step)
    }

    /// Takes `x` at `at` into `state`; a wait that starts now counts from `since`.
    fn take(
        &self,
        better: Better,
        state: &AlarmState,
        at: DateTime<Utc>,
        since: DateTime<Utc>,
        x: f64,
    ) -> (AlarmState, Step) {
        let (wanted, raise_after, clear_after) = if self.enabled {
            (self.level_for(better, state.level, x), self.raise_after_seconds, self.clear_after_seconds)
        } else {
            (None, 0, 0)
        };
        let mut next = AlarmState { level: state.level, pending: None, last_at: Some(at) };
        if wanted == state.level {
            return (next, Step::Same);
        }
        let worse = wanted > state.level;
        // The time on this side counts from when the measure first left the level raised
        // in this direction, whichever level it calls for now (for a new value, `since`
        // is its moment, never before a wait already running).
        let since = match state.pending {
            Some(p) if p.worse == worse => p.since.min(since),
            _ => since,
        };
        let needed = TimeDelta::seconds(i64::from(if worse { raise_after } else { clear_after }));
        if at - since < needed {
            next.pending = Some(Pending { worse, since });
            return (next, Step::Same);
        }
        next.level = wanted;
        let step = match (state.level, wanted) {
            (None, Some(to)) => Step::Raised(to),
            (Some(from), Some(to)) => Step::Changed { from, to },
            (Some(from), None) => Step::Cleared(from),
            (None, None) => Step::Same,
        };
        (next, step)
    }
}

impl Measure {
    /// The measure of `value`, given the same period's value a year before and the values
    /// of the periods before it (newest first, at most what the baseline averages; missing
    /// ones left out). `None`: it has no value (no base, or a base of zero).
    pub fn of(&self, value: f64, last_year: Option<f64>, before: &[f64]) -> Option<f64> {
        let percent = |base: f64| (base != 0.0 && base.is_finite()).then(|| (value - base) / base.abs() * 100.0);
        match *self {
            Measure::Value => value.is_finite().then_some(value),
            Measure::ChangeFromLastYear => last_year.and_then(percent),
            Measure::ChangeFromBaseline { periods } => {
                let taken: Vec<f64> = before.iter().copied().take(periods as usize).collect();
                (!taken.is_empty()).then(|| taken.iter().sum::<f64>() / taken.len() as f64).and_then(percent)
            }
        }
    }
}

impl QuietWindow {
    /// If the local moment `t` is inside the window, the local moment the window ends.
    pub fn ends_after(&self, t: NaiveDateTime) -> Option<NaiveDateTime> {
        let (from, to) = (clock(&self.from)?, clock(&self.to)?);
        let (day, time) = (t.date(), t.time());
        if from < to {
            (from <= time && time < to).then(|| day.and_time(to))
        } else if time >= from {
            day.succ_opt().map(|next| next.and_time(to))
        } else {
            (time < to).then(|| day.and_time(to))
        }
    }
}
