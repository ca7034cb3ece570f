//! Rows as they stood at a past moment, so that a formula evaluated over them at that
//! moment gives the value it would have given then (the computed indicators' past periods,
//! back-filled from the history). A row is taken back from what is known of its life: its
//! creation (raising) and closing (clearing) times.
//!
//! - A row created after the moment did not exist: dropped.
//! - A case closed after the moment was open then: its status is `open_as` (its status
//!   while open is not kept), with no closing and no evaluation; an alarm cleared after it
//!   was `active_as`, with no clearing.
//! - Overdue is what the deadline says at the moment (the stored mark is today's).
//! - A row closed before `horizon` is dropped: no formula's window reaches it. A formula
//!   without a window that counts closed rows would miss them; none of the built-in ones
//!   does (theirs count what is open at the moment).

use crate::evaluate::Now;
use crate::formula::Formula;
use crate::rows::{NO_TIME, Rows};

/// The earliest moment any of `formulas`' windows reaches at `now` (`now` itself when
/// none has a window).
pub fn horizon<'a>(formulas: impl IntoIterator<Item = &'a Formula>, now: Now) -> i64 {
    formulas
        .into_iter()
        .filter_map(|f| f.window.as_ref().map(|w| now.since(w.period, w.last_days)))
        .fold(now.at, i64::min)
}

/// What a row becomes while it was open.
#[derive(Debug, Clone, Copy)]
pub struct Reopened<'a> {
    /// A case's status while open (`in_progress`).
    pub open_as: &'a str,
    /// An alarm's state while raised (`active`).
    pub active_as: &'a str,
}

impl Rows {
    /// The rows as they stood at `at` (Unix seconds), without those closed before
    /// `horizon` (see the module's notes). Devices are left out: their health is not kept
    /// over time.
    pub fn as_of(&self, at: i64, horizon: i64, reopened: Reopened) -> Rows {
        let mut out = Rows { places: self.places.clone(), ..Rows::default() };
        let (c, o) = (&self.cases, &mut out.cases);
        o.statuses = c.statuses.clone();
        o.categories = c.categories.clone();
        o.sources = c.sources.clone();
        o.tag_names = c.tag_names.clone();
        let open = o.statuses.code(reopened.open_as);
        for i in 0..c.len() {
            let (created, closed) = (c.created[i], c.closed[i]);
            if created > at || (closed != NO_TIME && closed < horizon) {
                continue;
            }
            let still_open = closed != NO_TIME && closed > at;
            o.place.push(c.place[i]);
            o.status.push(if still_open { open } else { c.status[i] });
            o.category.push(c.category[i]);
            o.source.push(c.source[i]);
            o.tags.push(c.tags[i]);
            o.created.push(created);
            o.due.push(c.due[i]);
            o.closed.push(if still_open { NO_TIME } else { closed });
            o.overdue.push(false);
            o.verdict.push(if still_open { 0 } else { c.verdict[i] });
        }
        let (a, o) = (&self.alarms, &mut out.alarms);
        o.states = a.states.clone();
        o.severities = a.severities.clone();
        o.metrics = a.metrics.clone();
        o.kinds = a.kinds.clone();
        let active = o.states.code(reopened.active_as);
        for i in 0..a.place.len() {
            let (raised, cleared) = (a.raised[i], a.cleared[i]);
            if raised > at || (cleared != NO_TIME && cleared < horizon) {
                continue;
            }
            let still_raised = cleared != NO_TIME && cleared > at;
            o.place.push(a.place[i]);
            o.state.push(if still_raised { active } else { a.state[i] });
            o.severity.push(a.severity[i]);
            o.metric.push(a.metric[i]);
            o.kind.push(a.kind[i]);
            o.raised.push(raised);
            o.cleared.push(if still_raised { NO_TIME } else { cleared });
        }
        let (r, o) = (&self.readings, &mut out.readings);
        o.metrics = r.metrics.clone();
        o.kinds = r.kinds.clone();
        for i in 0..r.place.len() {
            if r.at[i] > at || r.at[i] < horizon {
                continue;
            }
            o.place.push(r.place[i]);
            o.metric.push(r.metric[i]);
            o.kind.push(r.kind[i]);
            o.at.push(r.at[i]);
            o.value.push(r.value[i]);
        }
        out
    }
}
