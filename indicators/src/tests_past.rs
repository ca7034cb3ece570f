//! The computed indicators over time: rows taken back to a past moment give what the
//! formulas counted then (the fixture of `tests_formula.rs`, counted by hand), and each
//! built-in definition is an entry the catalogue people edit takes.

use super::tests_formula::{city, formula, sample, t};
use super::*;

const OFFSET: i32 = 8 * 3600;
const OPEN: &str = r#"{"source": "cases", "filter": {"status": ["new", "dispatched", "accepted", "in_progress", "handled"]}, "measure": "count"}"#;
const TODAY: &str = r#"{"source": "cases", "window": {"on": "created", "period": "daily"}, "measure": "count"}"#;
const REOPENED: Reopened = Reopened { open_as: "in_progress", active_as: "active" };

/// The district's open cases and cases created that day, at `at`.
fn at(at: i64) -> (Option<f64>, Option<f64>) {
    let now = Now { at, offset_seconds: OFFSET };
    let (open, today) = (formula(OPEN), formula(TODAY));
    let rows = city().as_of(at, horizon([&open, &today], now), REOPENED);
    let g = evaluate(&[&open, &today], &rows, now, 1);
    (g[0].get(RegionLevel::District, 0), g[1].get(RegionLevel::District, 0))
}

#[test]
fn rows_as_they_stood_count_what_was_open_and_new_that_day() {
    // 12 March, 23:00: the case created at 09:00 is open; those of the 15th do not exist yet.
    assert_eq!(at(t(12, 23)), (Some(1.0), Some(1.0)));
    // 9 March, 08:00: the case closed at 09:00 that day was open (its status then taken
    // as in progress); nothing was created that day.
    assert_eq!(at(t(9, 8)), (Some(1.0), Some(0.0)));
    // 9 March, 10:00: closed.
    assert_eq!(at(t(9, 10)), (Some(0.0), Some(0.0)));
    // Now: as the rows are (two new, one in progress, one dispatched).
    assert_eq!(at(t(15, 10)), (Some(4.0), Some(3.0)));
}

#[test]
fn an_alarm_cleared_later_was_active() {
    let mut rows = Rows::default();
    let a = &mut rows.alarms;
    for (state, raised, cleared) in [("cleared", t(10, 8), t(10, 12)), ("active", t(11, 8), NO_TIME)] {
        a.place.push(0);
        let s = a.states.code(state);
        a.state.push(s);
        a.severity.push(0);
        a.metric.push(0);
        a.kind.push(0);
        a.raised.push(raised);
        a.cleared.push(cleared);
    }
    rows.places = Places { regions: vec![[0, 0, 0]], sizes: [1, 1, 1] };
    let active =
        formula(r#"{"source": "alarms", "filter": {"status": ["active", "acknowledged"]}, "measure": "count"}"#);
    let count = |at: i64| {
        let now = Now { at, offset_seconds: OFFSET };
        let past = rows.as_of(at, horizon([&active], now), REOPENED);
        evaluate(&[&active], &past, now, 1)[0].get(RegionLevel::District, 0)
    };
    assert_eq!(count(t(10, 9)), Some(1.0));
    assert_eq!(count(t(10, 13)), Some(0.0));
    assert_eq!(count(t(11, 9)), Some(1.0));
}

#[test]
fn every_built_in_definition_is_a_daily_catalogue_entry() {
    let catalogue = sample();
    let keeper = catalogue.keeper.clone().expect("the sample names its keeper");
    for d in &catalogue.definitions {
        let entry = d.catalogue_entry(&keeper, "330304").expect("a well-formed id");
        entry.check().unwrap();
        assert_eq!(entry.id.as_str(), d.id.as_str());
        let per_day = [Frequency::Daily, Frequency::RealTime];
        assert!(per_day.contains(&entry.frequency), "{}: {:?}", d.id, entry.frequency);
        assert!(entry.covers("330304001002"));
    }
    assert_eq!(formula(TODAY).frequency(), Frequency::Daily);
    assert_eq!(formula(OPEN).frequency(), Frequency::RealTime);
}
