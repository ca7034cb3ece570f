//! Deadlines (处置时限): a [`TimeLimit`] from the category's template, counted on the
//! [`WorkingCalendar`] from the moment the clock starts, with a warning point at a share
//! of the limit (measured in the same kind of time as the limit), overdue at the
//! deadline, and an overdue alarm re-sent until someone acknowledges it.
//!
//! The server stores `started_at`, `warn_at` and `due_at` as columns and claims due rows
//! with `FOR UPDATE SKIP LOCKED`; nothing here sleeps or reads the clock.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::calendar::WorkingCalendar;
use crate::error::EventsError;

/// A time limit as city standards state it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TimeLimit {
    /// Working hours (工作时): office time only.
    WorkingHours(u32),
    /// Working days (工作日): each one a [working day's length](WorkingCalendar::working_day_length)
    /// of office time, so 1 working day from Monday 10:00 is Tuesday 10:00.
    WorkingDays(u32),
    /// Wall-clock hours, for emergencies that do not wait for office hours.
    Hours(u32),
    /// Wall-clock minutes.
    Minutes(u32),
}

impl TimeLimit {
    /// Whether the limit counts office time only.
    pub fn is_working_time(self) -> bool {
        matches!(self, TimeLimit::WorkingHours(_) | TimeLimit::WorkingDays(_))
    }

    /// The limit as a duration: of office time when [`is_working_time`](Self::is_working_time),
    /// of wall-clock time otherwise.
    pub fn duration(self, calendar: &WorkingCalendar) -> TimeDelta {
        match self {
            TimeLimit::WorkingHours(h) | TimeLimit::Hours(h) => TimeDelta::hours(i64::from(h)),
            TimeLimit::WorkingDays(d) => calendar.working_day_length() * d.min(i32::MAX as u32) as i32,
            TimeLimit::Minutes(m) => TimeDelta::minutes(i64::from(m)),
        }
    }
}

/// The deadline settings a city configures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeadlinePolicy {
    /// The warning point, in percent of the time limit (1–100, default 80).
    pub warn_percent: u8,
    /// How often an unacknowledged overdue alarm is sent again, in minutes (default 30).
    pub realarm_minutes: u32,
}

impl Default for DeadlinePolicy {
    fn default() -> DeadlinePolicy {
        DeadlinePolicy { warn_percent: 80, realarm_minutes: 30 }
    }
}

/// A computed deadline, stored with the case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadline {
    /// When the clock started (usually dispatch).
    pub started_at: DateTime<Utc>,
    /// The limit it was computed from.
    pub limit: TimeLimit,
    /// When the warning is due.
    pub warn_at: DateTime<Utc>,
    /// When the case becomes overdue.
    pub due_at: DateTime<Utc>,
}

/// Where a case stands against its deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeadlineState {
    /// Before the warning point.
    NotDue,
    /// Past the warning point, before the deadline (临期).
    Warning,
    /// At or past the deadline (逾期).
    Overdue,
}

impl DeadlinePolicy {
    /// Computes the deadline of a clock started at `started_at` with `limit`.
    pub fn deadline(
        &self,
        calendar: &WorkingCalendar,
        started_at: DateTime<Utc>,
        limit: TimeLimit,
    ) -> Result<Deadline, EventsError> {
        if !(1..=100).contains(&self.warn_percent) {
            return Err(EventsError::InvalidConfig {
                what: "deadline policy",
                reason: format!("warning at {} % of the time limit", self.warn_percent),
            });
        }
        let total = limit.duration(calendar);
        let warn = TimeDelta::seconds(total.num_seconds() * i64::from(self.warn_percent) / 100);
        let (warn_at, due_at) = if limit.is_working_time() {
            (calendar.add_working_time(started_at, warn)?, calendar.add_working_time(started_at, total)?)
        } else {
            (started_at + warn, started_at + total)
        };
        Ok(Deadline { started_at, limit, warn_at, due_at })
    }

    /// When the next overdue alarm for a deadline due at `due_at` should go out: at the
    /// deadline first, then every [`realarm_minutes`](Self::realarm_minutes) after the last
    /// one sent, and never once acknowledged. An interval of 0 is read as 1 minute, so a
    /// misconfiguration cannot turn into an alarm storm.
    pub fn next_alarm(
        &self,
        due_at: DateTime<Utc>,
        last_sent: Option<DateTime<Utc>>,
        acknowledged: bool,
    ) -> Option<DateTime<Utc>> {
        if acknowledged {
            return None;
        }
        let every = TimeDelta::minutes(i64::from(self.realarm_minutes.max(1)));
        Some(match last_sent {
            None => due_at,
            Some(last) => (last + every).max(due_at),
        })
    }
}

impl Deadline {
    /// Where the case stands at `now`.
    pub fn state(&self, now: DateTime<Utc>) -> DeadlineState {
        if now >= self.due_at {
            DeadlineState::Overdue
        } else if now >= self.warn_at {
            DeadlineState::Warning
        } else {
            DeadlineState::NotDue
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::tests::{cst, fixture};

    #[test]
    fn deadlines_and_warning_points_in_working_time() {
        let calendar = fixture();
        let policy = DeadlinePolicy::default();
        let check = |start: DateTime<Utc>, limit: TimeLimit, warn: DateTime<Utc>, due: DateTime<Utc>| {
            let deadline = policy.deadline(&calendar, start, limit).unwrap();
            assert_eq!((deadline.warn_at, deadline.due_at), (warn, due), "{limit:?} from {start}");
        };
        // 4 working hours from 09:00: 80 % is 3h12m, which ends in the afternoon.
        check(cst(9, 22, 9, 0), TimeLimit::WorkingHours(4), cst(9, 22, 13, 42), cst(9, 22, 14, 30));
        // Friday 16:30, 4 working hours: warning and deadline both after the weekend.
        check(cst(9, 19, 16, 30), TimeLimit::WorkingHours(4), cst(9, 22, 10, 42), cst(9, 22, 11, 30));
        // 1 working day = 7.5 h; 80 % = 6 h, which ends exactly at Monday's close.
        check(cst(9, 22, 10, 0), TimeLimit::WorkingDays(1), cst(9, 22, 17, 30), cst(9, 23, 10, 0));
        // 2 working days over the National Day week.
        check(cst(9, 30, 9, 0), TimeLimit::WorkingDays(2), cst(10, 9, 15, 0), cst(10, 10, 9, 0));
        // Wall-clock limits ignore the calendar.
        check(cst(9, 27, 23, 0), TimeLimit::Hours(2), cst(9, 28, 0, 36), cst(9, 28, 1, 0));
        check(cst(10, 1, 12, 0), TimeLimit::Minutes(30), cst(10, 1, 12, 24), cst(10, 1, 12, 30));
    }

    #[test]
    fn state_moves_from_not_due_to_warning_to_overdue() {
        let deadline =
            DeadlinePolicy::default().deadline(&fixture(), cst(9, 22, 9, 0), TimeLimit::WorkingHours(4)).unwrap();
        let check = |now: DateTime<Utc>, expected: DeadlineState| {
            assert_eq!(deadline.state(now), expected, "{now}");
        };
        check(cst(9, 22, 9, 0), DeadlineState::NotDue);
        check(cst(9, 22, 13, 41), DeadlineState::NotDue);
        check(cst(9, 22, 13, 42), DeadlineState::Warning);
        check(cst(9, 22, 14, 29), DeadlineState::Warning);
        check(cst(9, 22, 14, 30), DeadlineState::Overdue);
        check(cst(9, 25, 0, 0), DeadlineState::Overdue);
    }

    #[test]
    fn warning_share_is_configurable_and_checked() {
        let calendar = fixture();
        let check = |percent: u8, expected: Option<DateTime<Utc>>| {
            let policy = DeadlinePolicy { warn_percent: percent, ..Default::default() };
            let result = policy.deadline(&calendar, cst(9, 22, 8, 30), TimeLimit::WorkingHours(4));
            assert_eq!(result.ok().map(|d| d.warn_at), expected, "{percent} %");
        };
        check(50, Some(cst(9, 22, 10, 30)));
        check(100, Some(cst(9, 22, 14, 0)));
        check(1, Some(cst(9, 22, 8, 32) + TimeDelta::seconds(24))); // 2.4 minutes
        check(0, None);
        check(101, None);
    }

    #[test]
    fn overdue_alarms_repeat_until_acknowledged() {
        let policy = DeadlinePolicy::default();
        let due = cst(9, 22, 14, 30);
        let check = |last: Option<DateTime<Utc>>, acknowledged: bool, expected: Option<DateTime<Utc>>| {
            assert_eq!(policy.next_alarm(due, last, acknowledged), expected, "{last:?} {acknowledged}");
        };
        check(None, false, Some(due));
        check(Some(due), false, Some(cst(9, 22, 15, 0)));
        check(Some(cst(9, 22, 15, 7)), false, Some(cst(9, 22, 15, 37)));
        check(Some(cst(9, 22, 15, 7)), true, None);
        check(None, true, None);
        // An alarm recorded before the deadline (a clock moved later) waits for it.
        check(Some(cst(9, 22, 13, 0)), false, Some(due));
        let storm = DeadlinePolicy { realarm_minutes: 0, ..Default::default() };
        assert_eq!(storm.next_alarm(due, Some(due), false), Some(cst(9, 22, 14, 31)));
    }
}
