//! Periods in the city's calendar: a value stands for one period of its indicator's
//! [`Frequency`], named by the local date it starts on. The caller turns a moment into a
//! local date (with the working calendar's offset); everything here is dates.

use chrono::{Datelike, Months, NaiveDate};

use crate::Frequency;

impl Frequency {
    /// The start of the period holding `date`.
    pub fn period_start(self, date: NaiveDate) -> NaiveDate {
        let first_month = |m: u32| NaiveDate::from_ymd_opt(date.year(), m, 1).unwrap_or(date);
        match self {
            Frequency::RealTime | Frequency::Daily => date,
            Frequency::Monthly => first_month(date.month()),
            Frequency::Quarterly => first_month((date.month() - 1) / 3 * 3 + 1),
            Frequency::HalfYearly => first_month(if date.month() <= 6 { 1 } else { 7 }),
            Frequency::Yearly => first_month(1),
        }
    }

    /// Whether `date` starts a period.
    pub fn is_period_start(self, date: NaiveDate) -> bool {
        self.period_start(date) == date
    }

    /// Months in one period; `None` for periods of a day.
    fn months(self) -> Option<u32> {
        match self {
            Frequency::RealTime | Frequency::Daily => None,
            Frequency::Monthly => Some(1),
            Frequency::Quarterly => Some(3),
            Frequency::HalfYearly => Some(6),
            Frequency::Yearly => Some(12),
        }
    }

    /// The period `n` periods after (before, for a negative `n`) the one starting at
    /// `start`; `None` beyond the calendar's range.
    pub fn shift(self, start: NaiveDate, n: i32) -> Option<NaiveDate> {
        match self.months() {
            None => start.checked_add_signed(chrono::TimeDelta::days(i64::from(n))),
            Some(m) => {
                let months = Months::new(m * n.unsigned_abs());
                if n >= 0 { start.checked_add_months(months) } else { start.checked_sub_months(months) }
            }
        }
    }

    /// The period before (环比, month-on-month for monthly indicators).
    pub fn previous(self, start: NaiveDate) -> Option<NaiveDate> {
        self.shift(start, -1)
    }

    /// The same period a year before (同比). For a day, the same date (28 February for
    /// the 29th).
    pub fn year_before(self, start: NaiveDate) -> Option<NaiveDate> {
        start.checked_sub_months(Months::new(12))
    }
}
