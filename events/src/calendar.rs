//! The working calendar that deadline clocks run on: office periods on working days, in
//! one fixed UTC offset (China Standard Time, UTC+8, has no daylight saving). A date is a
//! working day when it is a make-up working day (调休), or else when it is neither a
//! public holiday nor a weekend day. Holidays and make-up days are explicit lists: each
//! year's arrangement is announced by the State Council and configured by the city.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Utc, Weekday};
use serde::{Deserialize, Serialize};

use crate::error::EventsError;

/// How far ahead a search for working time looks before concluding there is none.
const HORIZON_DAYS: u32 = 3660;

/// One stretch of office hours within a day, local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfficePeriod {
    /// When it starts.
    pub start: NaiveTime,
    /// When it ends (after `start`, same day).
    pub end: NaiveTime,
}

/// The configuration a [`WorkingCalendar`] is built from; its default is a Chinese
/// government office's week with no holidays listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CalendarConfig {
    /// The local offset from UTC in minutes (480 for China Standard Time).
    pub utc_offset_minutes: i32,
    /// Office periods in order (default 08:30–12:00 and 13:30–17:30).
    pub office_hours: Vec<OfficePeriod>,
    /// The days off each week (default Saturday and Sunday).
    pub weekend: Vec<Weekday>,
    /// Public holidays (法定节假日 and the days off around them).
    pub holidays: Vec<NaiveDate>,
    /// Weekend days that are working days (调休上班).
    pub makeup_workdays: Vec<NaiveDate>,
}

impl Default for CalendarConfig {
    fn default() -> CalendarConfig {
        let time = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN);
        CalendarConfig {
            utc_offset_minutes: 8 * 60,
            office_hours: vec![
                OfficePeriod { start: time(8, 30), end: time(12, 0) },
                OfficePeriod { start: time(13, 30), end: time(17, 30) },
            ],
            weekend: vec![Weekday::Sat, Weekday::Sun],
            holidays: Vec::new(),
            makeup_workdays: Vec::new(),
        }
    }
}

/// A validated working calendar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkingCalendar {
    offset: FixedOffset,
    periods: Vec<OfficePeriod>,
    weekend: Vec<Weekday>,
    holidays: BTreeSet<NaiveDate>,
    makeup_workdays: BTreeSet<NaiveDate>,
}

impl WorkingCalendar {
    /// Builds a calendar, refusing an offset out of range, empty or overlapping office
    /// periods, and a date listed both as holiday and as make-up working day.
    pub fn new(config: &CalendarConfig) -> Result<WorkingCalendar, EventsError> {
        let invalid = |reason: String| EventsError::InvalidConfig { what: "working calendar", reason };
        let offset = FixedOffset::east_opt(config.utc_offset_minutes.saturating_mul(60))
            .ok_or_else(|| invalid(format!("UTC offset of {} minutes", config.utc_offset_minutes)))?;
        if config.office_hours.is_empty() {
            return Err(invalid("no office hours".into()));
        }
        let mut previous_end = NaiveTime::MIN;
        for (i, period) in config.office_hours.iter().enumerate() {
            if period.start >= period.end || (i > 0 && period.start < previous_end) {
                return Err(invalid(format!(
                    "office period {}–{} is empty, out of order or overlapping",
                    period.start, period.end
                )));
            }
            previous_end = period.end;
        }
        let holidays: BTreeSet<_> = config.holidays.iter().copied().collect();
        let makeup_workdays: BTreeSet<_> = config.makeup_workdays.iter().copied().collect();
        if let Some(date) = holidays.intersection(&makeup_workdays).next() {
            return Err(invalid(format!("{date} is both a holiday and a make-up working day")));
        }
        Ok(WorkingCalendar {
            offset,
            periods: config.office_hours.clone(),
            weekend: config.weekend.clone(),
            holidays,
            makeup_workdays,
        })
    }

    /// The default Chinese office week (UTC+8, 08:30–12:00 and 13:30–17:30, Saturday and
    /// Sunday off) with a year's holidays and make-up working days.
    pub fn china(
        holidays: impl IntoIterator<Item = NaiveDate>,
        makeup_workdays: impl IntoIterator<Item = NaiveDate>,
    ) -> Result<WorkingCalendar, EventsError> {
        WorkingCalendar::new(&CalendarConfig {
            holidays: holidays.into_iter().collect(),
            makeup_workdays: makeup_workdays.into_iter().collect(),
            ..CalendarConfig::default()
        })
    }

    /// The calendar's UTC offset.
    pub fn offset(&self) -> FixedOffset {
        self.offset
    }

    /// Whether office hours apply on this local date.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        self.makeup_workdays.contains(&date)
            || !(self.holidays.contains(&date) || self.weekend.contains(&date.weekday()))
    }

    /// The office time in one working day (7.5 hours by default): the length of a
    /// "working day" in time limits.
    pub fn working_day_length(&self) -> TimeDelta {
        self.periods.iter().map(|p| p.end - p.start).sum()
    }

    /// The instant `amount` of office time after `start`. A start outside office hours
    /// counts from the next office period; a result that falls exactly at the end of a
    /// period is that end, not the next period's start.
    pub fn add_working_time(&self, start: DateTime<Utc>, amount: TimeDelta) -> Result<DateTime<Utc>, EventsError> {
        if amount <= TimeDelta::zero() {
            return Ok(start);
        }
        let local = self.local(start);
        let mut remaining = amount;
        let mut date = local.date();
        for _ in 0..HORIZON_DAYS {
            if self.is_working_day(date) {
                for period in &self.periods {
                    let from = local.max(date.and_time(period.start));
                    let end = date.and_time(period.end);
                    if from >= end {
                        continue;
                    }
                    if remaining <= end - from {
                        return Ok(self.utc(from + remaining));
                    }
                    remaining -= end - from;
                }
            }
            match date.succ_opt() {
                Some(next) => date = next,
                None => break,
            }
        }
        Err(EventsError::NoWorkingTime { from: local.date(), days: HORIZON_DAYS })
    }

    /// The office time between two instants (zero when `to` is not after `from`).
    pub fn working_time_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> TimeDelta {
        let (from, to) = (self.local(from), self.local(to));
        let mut total = TimeDelta::zero();
        let mut date = from.date();
        while date <= to.date() {
            if self.is_working_day(date) {
                for period in &self.periods {
                    let start = from.max(date.and_time(period.start));
                    let end = to.min(date.and_time(period.end));
                    if start < end {
                        total += end - start;
                    }
                }
            }
            match date.succ_opt() {
                Some(next) => date = next,
                None => break,
            }
        }
        total
    }

    /// The start of the city's day that `at` falls in (local midnight), where "today"
    /// starts for every count of the day.
    pub fn day_start(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        self.utc(self.local(at).date().and_time(chrono::NaiveTime::MIN))
    }

    fn local(&self, at: DateTime<Utc>) -> NaiveDateTime {
        at.with_timezone(&self.offset).naive_local()
    }

    fn utc(&self, local: NaiveDateTime) -> DateTime<Utc> {
        let offset = TimeDelta::seconds(i64::from(self.offset.local_minus_utc()));
        DateTime::from_naive_utc_and_offset(local - offset, Utc)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use chrono::TimeZone;

    use super::*;

    /// A test fixture laid out like China's 2025 National Day arrangement: 1–8 October
    /// off, Sunday 28 September and Saturday 11 October worked.
    pub(crate) fn fixture() -> WorkingCalendar {
        let day = |m, d| NaiveDate::from_ymd_opt(2025, m, d).unwrap();
        WorkingCalendar::china((1..=8).map(|d| day(10, d)), [day(9, 28), day(10, 11)]).unwrap()
    }

    /// An instant given in China Standard Time.
    pub(crate) fn cst(m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        FixedOffset::east_opt(8 * 3600).unwrap().with_ymd_and_hms(2025, m, d, h, min, 0).unwrap().to_utc()
    }

    #[test]
    fn working_days_follow_weekends_holidays_and_makeup_days() {
        let calendar = fixture();
        let check = |m, d, expected: bool| {
            let date = NaiveDate::from_ymd_opt(2025, m, d).unwrap();
            assert_eq!(calendar.is_working_day(date), expected, "{date} {}", date.weekday());
        };
        check(9, 26, true); // Friday
        check(9, 27, false); // Saturday
        check(9, 28, true); // Sunday, make-up
        check(10, 1, false); // Wednesday, National Day
        check(10, 8, false); // Wednesday, holiday
        check(10, 9, true); // Thursday
        check(10, 11, true); // Saturday, make-up
        check(10, 12, false); // Sunday
    }

    #[test]
    fn adding_working_hours_skips_what_is_not_office_time() {
        let calendar = fixture();
        let check = |start: DateTime<Utc>, minutes: i64, expected: DateTime<Utc>, why: &str| {
            let due = calendar.add_working_time(start, TimeDelta::minutes(minutes)).unwrap();
            assert_eq!(due, expected, "{why}");
            assert_eq!(calendar.working_time_between(start, due), TimeDelta::minutes(minutes), "{why}");
        };
        check(cst(9, 22, 9, 0), 240, cst(9, 22, 14, 30), "within a Monday, across lunch");
        check(cst(9, 22, 7, 0), 240, cst(9, 22, 14, 0), "start before office hours");
        check(cst(9, 22, 12, 30), 120, cst(9, 22, 15, 30), "start during lunch");
        check(cst(9, 22, 8, 30), 210, cst(9, 22, 12, 0), "exactly the morning ends at noon");
        check(cst(9, 19, 18, 0), 240, cst(9, 22, 14, 0), "Friday evening, over the weekend");
        check(cst(9, 19, 16, 30), 240, cst(9, 22, 11, 30), "across a weekend");
        check(cst(9, 30, 16, 30), 240, cst(10, 9, 11, 30), "across the holiday week");
        check(cst(9, 27, 10, 0), 240, cst(9, 28, 14, 0), "Saturday start, make-up Sunday");
        check(cst(10, 10, 17, 0), 240, cst(10, 11, 12, 0), "into a make-up Saturday");
        check(cst(9, 22, 10, 0), 450, cst(9, 23, 10, 0), "one working day of 7.5 hours");
        check(cst(9, 22, 23, 30), 30, cst(9, 23, 9, 0), "late night UTC date differs from local");
    }

    #[test]
    fn zero_time_is_the_start_itself() {
        let start = cst(9, 27, 10, 0);
        assert_eq!(fixture().add_working_time(start, TimeDelta::zero()).unwrap(), start);
        assert_eq!(fixture().working_time_between(start, cst(9, 26, 10, 0)), TimeDelta::zero());
    }

    #[test]
    fn default_working_day_is_seven_and_a_half_hours() {
        assert_eq!(fixture().working_day_length(), TimeDelta::minutes(450));
        assert_eq!(fixture().offset().local_minus_utc(), 8 * 3600);
        // The day starts at local midnight: 16:00 UTC the day before.
        let at = |t: &str| t.parse::<DateTime<Utc>>().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(fixture().day_start(at("2026-11-25T17:30:00Z")), at("2026-11-25T16:00:00Z"));
        assert_eq!(fixture().day_start(at("2026-11-25T15:59:59Z")), at("2026-11-24T16:00:00Z"));
    }

    #[test]
    fn bad_configurations_are_refused() {
        let time = |h| NaiveTime::from_hms_opt(h, 0, 0).unwrap();
        let day = NaiveDate::from_ymd_opt(2025, 10, 1).unwrap();
        let check = |config: CalendarConfig, why: &str| {
            let result = WorkingCalendar::new(&config);
            assert!(matches!(result, Err(EventsError::InvalidConfig { .. })), "{why}: {result:?}");
        };
        check(CalendarConfig { utc_offset_minutes: 25 * 60, ..Default::default() }, "offset");
        check(CalendarConfig { office_hours: vec![], ..Default::default() }, "no hours");
        let backwards = vec![OfficePeriod { start: time(12), end: time(9) }];
        check(CalendarConfig { office_hours: backwards, ..Default::default() }, "backwards");
        let overlapping =
            vec![OfficePeriod { start: time(8), end: time(12) }, OfficePeriod { start: time(11), end: time(17) }];
        check(CalendarConfig { office_hours: overlapping, ..Default::default() }, "overlap");
        check(CalendarConfig { holidays: vec![day], makeup_workdays: vec![day], ..Default::default() }, "both");
    }

    #[test]
    fn a_calendar_without_working_days_says_so() {
        let config = CalendarConfig {
            weekend: {
                use Weekday::*;
                vec![Mon, Tue, Wed, Thu, Fri, Sat, Sun]
            },
            ..Default::default()
        };
        let calendar = WorkingCalendar::new(&config).unwrap();
        let result = calendar.add_working_time(Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap(), TimeDelta::hours(1));
        assert!(matches!(result, Err(EventsError::NoWorkingTime { days: 3660, .. })), "{result:?}");
    }

    #[test]
    fn configuration_reads_from_json_with_defaults() {
        let config: CalendarConfig =
            serde_json::from_str(r#"{"holidays": ["2025-10-01"], "makeup_workdays": ["2025-09-28"]}"#).unwrap();
        assert_eq!(config.utc_offset_minutes, 480);
        assert_eq!(config.office_hours.len(), 2);
        let calendar = WorkingCalendar::new(&config).unwrap();
        assert!(!calendar.is_working_day(NaiveDate::from_ymd_opt(2025, 10, 1).unwrap()));
    }
}
