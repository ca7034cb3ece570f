//! An indicator's values over time, and what one value means against them: the previous
//! period (环比), the same period last year (同比), the target and the gap to it, the trend
//! over the last N periods, and the historical peak, low and mean. A period without a value
//! is "no data" (`None`), never zero.
//!
//! At the size of one indicator in one region (at most a few thousand periods) this is a
//! sort and one pass in plain Rust; see the crate's documentation on polars.

use chrono::NaiveDate;
use serde::Serialize;

use crate::{Better, Frequency};

/// A value of one period.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Point {
    /// The period's start.
    pub period: NaiveDate,
    /// Its value.
    pub value: f64,
}

/// A value against an earlier one.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Change {
    /// The earlier period's start.
    pub period: NaiveDate,
    /// Its value.
    pub value: f64,
    /// This value minus it.
    pub change: f64,
    /// The change as a percentage of it; `None` when it is zero.
    pub percent: Option<f64>,
}

/// One period of a trend: its value, or none.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct TrendPoint {
    /// The period's start.
    pub period: NaiveDate,
    /// Its value; `None`: no data.
    pub value: Option<f64>,
}

/// What a period's value means against the indicator's history and target.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Comparison {
    /// The period's start.
    pub period: NaiveDate,
    /// Its value; `None`: no data.
    pub value: Option<f64>,
    /// Against the period before (环比); `None` when either has no data.
    pub previous: Option<Change>,
    /// Against the same period a year before (同比); `None` when either has no data.
    pub last_year: Option<Change>,
    /// The target.
    pub target: Option<f64>,
    /// The value minus the target.
    pub gap: Option<f64>,
    /// Whether the target is met, in the indicator's better direction.
    pub met: Option<bool>,
    /// The last `n` periods up to this one, oldest first.
    pub trend: Vec<TrendPoint>,
    /// The largest value up to this period (the earliest period on a tie).
    pub peak: Option<Point>,
    /// The smallest value up to this period (the earliest period on a tie).
    pub low: Option<Point>,
    /// The mean of the values up to this period.
    pub mean: Option<f64>,
    /// How many periods up to this one have a value.
    pub periods: usize,
}

fn change(now: Option<f64>, then: Option<Point>) -> Option<Change> {
    let (now, then) = (now?, then?);
    let percent = (then.value != 0.0).then(|| (now - then.value) / then.value.abs() * 100.0);
    Some(Change { period: then.period, value: then.value, change: now - then.value, percent })
}

/// Compares the value of the period starting at `at` with `history` (any order; at most
/// one value per period, as stored) for an indicator of `frequency`, `better` direction and
/// `target`, with a trend of the last `n` periods.
pub fn compare(
    frequency: Frequency,
    better: Better,
    target: Option<f64>,
    history: &[Point],
    at: NaiveDate,
    n: usize,
) -> Comparison {
    let at = frequency.period_start(at);
    let mut upto: Vec<Point> = history.iter().copied().filter(|p| p.period <= at && p.value.is_finite()).collect();
    upto.sort_by_key(|p| p.period);
    let find = |period: Option<NaiveDate>| -> Option<Point> {
        let period = period?;
        upto.binary_search_by_key(&period, |p| p.period).ok().map(|i| upto[i])
    };
    let value = find(Some(at)).map(|p| p.value);
    let mut trend = Vec::with_capacity(n);
    let mut period = Some(at);
    for _ in 0..n {
        let Some(p) = period else { break };
        trend.push(TrendPoint { period: p, value: find(Some(p)).map(|x| x.value) });
        period = frequency.previous(p);
    }
    trend.reverse();
    let mut peak: Option<Point> = None;
    let mut low: Option<Point> = None;
    let mut sum = 0.0;
    for p in &upto {
        if peak.is_none_or(|k| p.value > k.value) {
            peak = Some(*p);
        }
        if low.is_none_or(|k| p.value < k.value) {
            low = Some(*p);
        }
        sum += p.value;
    }
    let gap = value.zip(target).map(|(v, t)| v - t);
    let met = value.zip(target).map(|(v, t)| match better {
        Better::Higher => v >= t,
        Better::Lower => v <= t,
    });
    Comparison {
        period: at,
        value,
        previous: change(value, find(frequency.previous(at))),
        last_year: change(value, find(frequency.year_before(at))),
        target,
        gap,
        met,
        trend,
        peak,
        low,
        mean: (!upto.is_empty()).then(|| sum / upto.len() as f64),
        periods: upto.len(),
    }
}
