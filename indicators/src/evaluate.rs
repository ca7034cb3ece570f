//! Formulas evaluated over columnar [`Rows`]: each formula becomes a list of tests on
//! columns; rows are taken in blocks of [`BLOCK`], every formula of a source filters the
//! block into a mask and adds it to per-place sums, and the places' sums are rolled up to
//! their street, village and grid and the district at the end. One pass per source, split
//! over threads by row ranges; no sorting but for percentiles.

use chrono::{DateTime, Datelike, NaiveDate};

use crate::formula::{Aggregate, Filter, Formula, Moment, Quantity, RegionLevel, Source};
use crate::rows::{NO_TIME, Rows};

/// Rows filtered together: small enough that a block's columns stay in cache across the
/// formulas of its source.
pub const BLOCK: usize = 2048;

/// The moment formulas are evaluated at, and the city's offset from UTC, which places the
/// local day, month, quarter and year their windows start at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Now {
    /// Unix seconds.
    pub at: i64,
    /// Local time minus UTC, seconds (28,800 for China Standard Time).
    pub offset_seconds: i32,
}

/// One formula's values: per level, per region index of that level (the district's level
/// has one). A level the formula is not grouped by has no values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Grouped {
    /// District, streets, villages, grids.
    pub levels: [Vec<Option<f64>>; 4],
}

impl Grouped {
    /// The value of region `index` of `level`; `None`: no data (a share of nothing, a mean
    /// of no rows, a level not grouped by).
    pub fn get(&self, level: RegionLevel, index: usize) -> Option<f64> {
        self.levels[level as usize].get(index).copied().flatten()
    }
}

impl Now {
    /// The start of the window, Unix seconds.
    pub(crate) fn since(&self, period: Option<crate::Frequency>, last_days: Option<u32>) -> i64 {
        if let Some(days) = last_days {
            return self.at - i64::from(days) * 86_400;
        }
        let offset = i64::from(self.offset_seconds);
        let local = DateTime::from_timestamp(self.at + offset, 0).map(|t| t.date_naive());
        let (Some(today), Some(f)) = (local, period) else { return self.at };
        let start = f.period_start(today);
        local_midnight(start) - offset
    }
}

fn local_midnight(date: NaiveDate) -> i64 {
    i64::from(date.num_days_from_ce() - 719_163) * 86_400
}

/// A condition on one column (or two) of a source's rows.
enum Test<'a> {
    Never,
    Code(&'a [u16], Vec<bool>),
    Bit(&'a [u64], u64),
    Since(&'a [i64], i64),
    Present(&'a [i64], bool),
    Flag(&'a [bool], bool),
    Overdue(&'a [bool], &'a [i64], i64, bool),
    OnTime(&'a [i64], &'a [i64], bool),
    Verdict(&'a [u8], Option<bool>, bool),
    AtLeast(&'a [f64], f64),
    AtMost(&'a [f64], f64),
}

impl Test<'_> {
    /// Clears `mask[i]` where row `start + i` fails.
    fn apply(&self, start: usize, mask: &mut [bool]) {
        let n = mask.len();
        let end = start + n;
        match self {
            Test::Never => mask.fill(false),
            Test::Code(col, keep) => and(mask, &col[start..end], |c| keep[usize::from(*c)]),
            Test::Bit(col, bit) => and(mask, &col[start..end], |t| t & bit != 0),
            Test::Since(col, t) => and(mask, &col[start..end], |x| *x >= *t),
            Test::Present(col, want) => and(mask, &col[start..end], |x| (*x != NO_TIME) == *want),
            Test::Flag(col, want) => and(mask, &col[start..end], |x| *x == *want),
            Test::Overdue(flag, due, now, want) => {
                let (flag, due) = (&flag[start..end], &due[start..end]);
                for i in 0..n {
                    mask[i] &= (flag[i] || (due[i] != NO_TIME && due[i] <= *now)) == *want;
                }
            }
            Test::OnTime(closed, due, want) => {
                let (closed, due) = (&closed[start..end], &due[start..end]);
                for i in 0..n {
                    let both = closed[i] != NO_TIME && due[i] != NO_TIME;
                    mask[i] &= both && (closed[i] <= due[i]) == *want;
                }
            }
            Test::Verdict(col, satisfied, evaluated) => and(mask, &col[start..end], |v| match satisfied {
                None => (*v != 0) == *evaluated,
                Some(s) => *v != 0 && (*v == 1) == *s,
            }),
            Test::AtLeast(col, v) => and(mask, &col[start..end], |x| *x >= *v),
            Test::AtMost(col, v) => and(mask, &col[start..end], |x| *x <= *v),
        }
    }
}

fn and<T>(mask: &mut [bool], col: &[T], keep: impl Fn(&T) -> bool) {
    for (m, x) in mask.iter_mut().zip(col) {
        *m &= keep(x);
    }
}

/// A formula made ready for one set of rows.
struct Plan<'a> {
    source: Source,
    whole: Vec<Test<'a>>,
    part: Vec<Test<'a>>,
    measure: Kind<'a>,
}

enum Kind<'a> {
    Count,
    Rate,
    Mean(Amount<'a>),
    Percentile(f64, Amount<'a>),
}

/// Where a row's quantity comes from.
#[derive(Clone, Copy)]
enum Amount<'a> {
    Value(&'a [f64]),
    Hours(&'a [i64], &'a [i64]),
}

impl Amount<'_> {
    fn of(&self, row: usize) -> Option<f64> {
        match self {
            Amount::Value(v) => Some(v[row]),
            Amount::Hours(from, to) => {
                (from[row] != NO_TIME && to[row] != NO_TIME).then(|| (to[row] - from[row]) as f64 / 3600.0)
            }
        }
    }
}

/// A test of a name against a list: equal to one, or (`prefix`) starting with one.
fn one_of(list: &[String], prefix: bool) -> impl Fn(&str) -> bool + '_ {
    move |n: &str| list.iter().any(|x| if prefix { n.starts_with(x.as_str()) } else { n == x })
}

fn tests<'a>(source: Source, f: &Filter, rows: &'a Rows, now: i64) -> Vec<Test<'a>> {
    let (c, a, r, d) = (&rows.cases, &rows.alarms, &rows.readings, &rows.devices);
    let mut out = Vec::new();
    if let Some(list) = &f.status {
        out.push(match source {
            Source::Alarms => Test::Code(&a.state, a.states.select(one_of(list, false))),
            _ => Test::Code(&c.status, c.statuses.select(one_of(list, false))),
        });
    }
    if let Some(list) = &f.category {
        out.push(Test::Code(&c.category, c.categories.select(one_of(list, true))));
    }
    if let Some(list) = &f.case_source {
        out.push(Test::Code(&c.source, c.sources.select(one_of(list, false))));
    }
    if let Some(tag) = &f.tag {
        match c.tag_names.names().iter().position(|n| n == tag).filter(|i| *i < 64) {
            Some(i) => out.push(Test::Bit(&c.tags, 1 << i)),
            None => out.push(Test::Never),
        }
    }
    if let Some(want) = f.overdue {
        out.push(Test::Overdue(&c.overdue, &c.due, now, want));
    }
    if let Some(want) = f.deadline {
        out.push(Test::Present(&c.due, want));
    }
    if let Some(want) = f.on_time {
        out.push(Test::OnTime(&c.closed, &c.due, want));
    }
    if let Some(want) = f.evaluated {
        out.push(Test::Verdict(&c.verdict, None, want));
    }
    if let Some(want) = f.satisfied {
        out.push(Test::Verdict(&c.verdict, Some(want), true));
    }
    if let Some(list) = &f.severity {
        out.push(Test::Code(&a.severity, a.severities.select(one_of(list, false))));
    }
    if let Some(list) = &f.metric {
        out.push(match source {
            Source::Alarms => Test::Code(&a.metric, a.metrics.select(one_of(list, false))),
            _ => Test::Code(&r.metric, r.metrics.select(one_of(list, false))),
        });
    }
    if let Some(list) = &f.device_kind {
        out.push(match source {
            Source::Alarms => Test::Code(&a.kind, a.kinds.select(one_of(list, false))),
            Source::Devices => Test::Code(&d.kind, d.kinds.select(one_of(list, false))),
            _ => Test::Code(&r.kind, r.kinds.select(one_of(list, false))),
        });
    }
    if let Some(want) = f.online {
        out.push(Test::Flag(&d.online, want));
    }
    if let Some(v) = f.at_least {
        out.push(Test::AtLeast(&r.value, v));
    }
    if let Some(v) = f.at_most {
        out.push(Test::AtMost(&r.value, v));
    }
    out
}

fn plan<'a>(formula: &Formula, rows: &'a Rows, now: Now) -> Plan<'a> {
    let mut whole = tests(formula.source, &formula.filter, rows, now.at);
    if let Some(w) = &formula.window {
        let since = now.since(w.period, w.last_days);
        let column: &[i64] = match (formula.source, w.on) {
            (Source::Cases, Moment::Created) => &rows.cases.created,
            (Source::Cases, Moment::Closed) => &rows.cases.closed,
            (Source::Alarms, Moment::Created) => &rows.alarms.raised,
            (Source::Alarms, Moment::Closed) => &rows.alarms.cleared,
            (Source::Readings, _) => &rows.readings.at,
            (Source::Devices, _) => &[],
        };
        if formula.source != Source::Devices {
            whole.push(Test::Since(column, since));
        }
    }
    let amount = |q: Quantity| match (q, formula.source) {
        (Quantity::Value, _) => Amount::Value(&rows.readings.value),
        (Quantity::Hours, Source::Alarms) => Amount::Hours(&rows.alarms.raised, &rows.alarms.cleared),
        (Quantity::Hours, _) => Amount::Hours(&rows.cases.created, &rows.cases.closed),
    };
    let (part, measure) = match &formula.measure {
        Aggregate::Count => (Vec::new(), Kind::Count),
        Aggregate::Rate(part) => (tests(formula.source, part, rows, now.at), Kind::Rate),
        Aggregate::Mean(q) => (Vec::new(), Kind::Mean(amount(*q))),
        Aggregate::Percentile { p, of } => (Vec::new(), Kind::Percentile(*p, amount(*of))),
    };
    Plan { source: formula.source, whole, part, measure }
}

/// Rows of `source`: the shortest of its columns, so that a column left short by a
/// caller is cut to, never read past.
fn len(source: Source, rows: &Rows) -> usize {
    let (c, a, r, d) = (&rows.cases, &rows.alarms, &rows.readings, &rows.devices);
    let lens = match source {
        Source::Cases => vec![
            c.place.len(),
            c.status.len(),
            c.category.len(),
            c.source.len(),
            c.tags.len(),
            c.created.len(),
            c.due.len(),
            c.closed.len(),
            c.overdue.len(),
            c.verdict.len(),
        ],
        Source::Alarms => vec![
            a.place.len(),
            a.state.len(),
            a.severity.len(),
            a.metric.len(),
            a.kind.len(),
            a.raised.len(),
            a.cleared.len(),
        ],
        Source::Readings => vec![r.place.len(), r.metric.len(), r.kind.len(), r.at.len(), r.value.len()],
        Source::Devices => vec![d.place.len(), d.kind.len(), d.online.len()],
    };
    lens.into_iter().min().unwrap_or(0)
}

fn places(source: Source, rows: &Rows) -> &[u32] {
    match source {
        Source::Cases => &rows.cases.place,
        Source::Alarms => &rows.alarms.place,
        Source::Readings => &rows.readings.place,
        Source::Devices => &rows.devices.place,
    }
}

/// Each formula's values for every region of its levels, evaluated over `rows` at `now`
/// on up to `threads` threads. A row whose place is unknown counts in the district only.
pub fn evaluate(formulas: &[&Formula], rows: &Rows, now: Now, threads: usize) -> Vec<Grouped> {
    let plans: Vec<Plan> = formulas.iter().map(|f| plan(f, rows, now)).collect();
    let slots = rows.places.regions.len() + 1;
    let threads = threads.max(1);
    let sums = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let plans = &plans;
                scope.spawn(move || {
                    let mut sums: Vec<Sums> = plans.iter().map(|p| Sums::new(&p.measure, slots)).collect();
                    for source in [Source::Cases, Source::Alarms, Source::Readings, Source::Devices] {
                        let n = len(source, rows);
                        let (from, to) = (n * t / threads, n * (t + 1) / threads);
                        let mine: Vec<(&Plan, &mut Sums)> =
                            plans.iter().zip(&mut sums).filter(|(p, _)| p.source == source).collect();
                        if !mine.is_empty() {
                            add(mine, places(source, rows), from, to, slots);
                        }
                    }
                    sums
                })
            })
            .collect();
        let mut all = handles.into_iter().map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
        let first = all.next().unwrap_or_default();
        all.fold(first, |mut acc, more| {
            for (a, m) in acc.iter_mut().zip(more) {
                a.merge(m);
            }
            acc
        })
    });
    formulas.iter().zip(plans.iter().zip(sums)).map(|(f, (p, s))| s.roll_up(&p.measure, &f.levels, rows)).collect()
}

mod sums;
use sums::{Sums, add};
