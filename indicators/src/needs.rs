//! Which rows the formulas can count, so that the server loads no more than that: each
//! formula of a source contributes a [`Slice`] (its window's start, its status list), and a
//! row is needed when it falls in any slice of its source. Rows outside every slice pass
//! no formula, so leaving them in the database changes no value.

use crate::evaluate::Now;
use crate::formula::{Formula, Moment, Source};

/// The rows one formula can count: those since a moment and of one of these statuses
/// (each when given; neither: every row).
#[derive(Debug, Clone, PartialEq)]
pub struct Slice {
    /// The row's moment is at or after this (Unix seconds).
    pub since: Option<(Moment, i64)>,
    /// The row's status (case) or state (alarm) is one of these.
    pub status: Option<Vec<String>>,
}

/// The slices of every source the formulas use; a source no formula uses is `None`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Needs {
    /// Cases.
    pub cases: Option<Vec<Slice>>,
    /// Device alarms.
    pub alarms: Option<Vec<Slice>>,
    /// Readings.
    pub readings: Option<Vec<Slice>>,
    /// Whether devices are counted.
    pub devices: bool,
}

/// What `formulas` need at `now`.
pub fn needs<'a>(formulas: impl IntoIterator<Item = &'a Formula>, now: Now) -> Needs {
    let mut out = Needs::default();
    for f in formulas {
        let slice = Slice {
            since: f.window.as_ref().map(|w| (w.on, now.since(w.period, w.last_days))),
            status: f.filter.status.clone(),
        };
        let list = match f.source {
            Source::Cases => &mut out.cases,
            Source::Alarms => &mut out.alarms,
            Source::Readings => &mut out.readings,
            Source::Devices => {
                out.devices = true;
                continue;
            }
        };
        let list = list.get_or_insert_with(Vec::new);
        if !list.contains(&slice) {
            list.push(slice);
        }
    }
    out
}
