//! Thresholds: checks that name the field, hysteresis, minimum durations, episodes, the
//! change measures and the do-not-disturb window.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};

use crate::*;

fn t(minutes: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_750_000_000, 0).expect("a moment") + TimeDelta::minutes(minutes)
}

/// Bands for "lower is better": yellow from 80 (clears below 70), red from 100 (clears
/// below 90); a change of level holds 10 minutes worse, 5 better.
fn bands() -> Threshold {
    Threshold {
        enabled: true,
        measure: Measure::Value,
        yellow: Some(Level { raise: 80.0, clear: Some(70.0) }),
        red: Level { raise: 100.0, clear: Some(90.0) },
        raise_after_seconds: 600,
        clear_after_seconds: 300,
        quiet: None,
        case_category: None,
    }
}

/// Feeds `(minute, value)` through `th` from normal; the steps that were not `Same`, with
/// their minute, and the last state.
fn run(th: &Threshold, better: Better, values: &[(i64, f64)]) -> (Vec<(i64, Step)>, AlarmState) {
    let mut state = AlarmState::default();
    let mut steps = Vec::new();
    for &(m, x) in values {
        let (next, step) = th.step(better, &state, t(m), x);
        if step != Step::Same {
            steps.push((m, step));
        }
        state = next;
    }
    (steps, state)
}

#[test]
fn a_level_is_raised_only_after_it_held_its_duration() {
    use Severity::*;
    let (steps, state) = run(&bands(), Better::Lower, &[(0, 85.0), (5, 88.0), (10, 86.0)]);
    assert_eq!(steps, [(10, Step::Raised(Yellow))]);
    assert_eq!(state.level, Some(Yellow));
    // A dip back to green restarts the clock.
    let (steps, _) = run(&bands(), Better::Lower, &[(0, 85.0), (5, 60.0), (12, 85.0), (21, 85.0), (22, 85.0)]);
    assert_eq!(steps, [(22, Step::Raised(Yellow))]);
}

#[test]
fn a_waiting_change_is_due_when_its_duration_has_passed_with_no_new_value() {
    let th = bands();
    let (_, state) = run(&th, Better::Lower, &[(0, 85.0)]);
    assert!(!th.due(&state, t(9)), "ten minutes worse are needed: {state:?}");
    assert!(th.due(&state, t(10)));
    // Stepped again at the due moment with the value that stands, it raises.
    let (raised, step) = th.step(Better::Lower, &state, t(10), 85.0);
    assert_eq!(step, Step::Raised(Severity::Yellow));
    assert!(!th.due(&raised, t(60)), "nothing waits once raised: {raised:?}");
    // Better again: five minutes to clear.
    let (waiting, _) = th.step(Better::Lower, &raised, t(20), 10.0);
    assert!(!th.due(&waiting, t(24)) && th.due(&waiting, t(25)), "{waiting:?}");
    assert!(!th.due(&AlarmState::default(), t(100)));
}

#[test]
fn hysteresis_holds_a_level_until_the_measure_is_past_its_clear() {
    use Severity::*;
    let values = [
        (0, 105.0),
        (10, 105.0),
        (11, 95.0),
        (20, 92.0),
        (21, 89.0),
        (26, 89.0),
        (27, 75.0),
        (40, 71.0),
        (41, 69.0),
        (46, 50.0),
    ];
    let (steps, state) = run(&bands(), Better::Lower, &values);
    assert_eq!(
        steps,
        [(10, Step::Raised(Red)), (26, Step::Changed { from: Red, to: Yellow }), (46, Step::Cleared(Yellow))]
    );
    assert_eq!(state, AlarmState { level: None, pending: None, last_at: Some(t(46)) });
}

#[test]
fn the_time_worse_counts_from_leaving_the_level_whichever_level_is_called_for() {
    use Severity::*;
    // Yellow at 0, red at 4: red is raised at 10, ten minutes after the measure left green.
    let (steps, _) = run(&bands(), Better::Lower, &[(0, 85.0), (4, 120.0), (10, 120.0)]);
    assert_eq!(steps, [(10, Step::Raised(Red))]);
    // Back to green at 12 for 4 minutes: not long enough to clear; red again holds.
    let (steps, state) =
        run(&bands(), Better::Lower, &[(0, 120.0), (10, 120.0), (12, 10.0), (16, 10.0), (17, 120.0), (40, 120.0)]);
    assert_eq!(steps, [(10, Step::Raised(Red))]);
    assert_eq!(state.level, Some(Red));
}

#[test]
fn a_plain_line_with_no_duration_raises_clears_and_rearms_for_higher_is_better() {
    let line = Threshold {
        enabled: true,
        measure: Measure::Value,
        yellow: None,
        red: Level { raise: 60.0, clear: None },
        raise_after_seconds: 0,
        clear_after_seconds: 0,
        quiet: None,
        case_category: None,
    };
    line.check(Better::Higher).unwrap();
    let (steps, _) = run(&line, Better::Higher, &[(0, 70.0), (1, 60.0), (2, 59.0), (3, 60.5), (4, 20.0)]);
    // Re-armed after clearing: a second episode.
    assert_eq!(
        steps,
        [(1, Step::Raised(Severity::Red)), (3, Step::Cleared(Severity::Red)), (4, Step::Raised(Severity::Red))]
    );
}

#[test]
fn observations_out_of_order_are_ignored_and_a_repeat_changes_nothing() {
    let th = bands();
    let (state, _) = th.step(Better::Lower, &AlarmState::default(), t(10), 85.0);
    let (earlier, step) = th.step(Better::Lower, &state, t(5), 200.0);
    assert_eq!((earlier, step), (state.clone(), Step::Same));
    let (again, step) = th.step(Better::Lower, &state, t(10), 85.0);
    assert_eq!((again, step), (state, Step::Same));
}

#[test]
fn switched_off_an_open_alarm_clears_at_the_next_value() {
    let mut th = bands();
    let (_, state) = run(&th, Better::Lower, &[(0, 120.0), (10, 120.0)]);
    assert_eq!(state.level, Some(Severity::Red));
    th.enabled = false;
    let (next, step) = th.step(Better::Lower, &state, t(11), 120.0);
    assert_eq!((next.level, step), (None, Step::Cleared(Severity::Red)));
    let (_, step) = th.step(Better::Lower, &next, t(12), 500.0);
    assert_eq!(step, Step::Same);
}

#[test]
fn an_edit_reads_the_value_that_stands_against_the_new_line_counting_from_the_value() {
    use Severity::*;
    let mut th = bands();
    // 65 stood for an hour under the bands: green. The red line lowered to 60 (yellow to
    // 50): it has been red for an hour, longer than the ten minutes, so red at once.
    let (_, green) = run(&th, Better::Lower, &[(0, 65.0)]);
    assert_eq!(green.level, None);
    th.yellow = Some(Level { raise: 50.0, clear: None });
    th.red = Level { raise: 60.0, clear: Some(55.0) };
    let (red, step) = th.revise(Better::Lower, &green, t(0), t(60), 65.0);
    assert_eq!((red.level, red.pending, step), (Some(Red), None, Step::Raised(Red)));
    assert_eq!(red.last_at, Some(t(60)), "the edit's moment");
    // Read again (another instance, a restart): nothing to write.
    assert_eq!(th.revise(Better::Lower, &red, t(0), t(61), 65.0), (red.clone(), Step::Same));
    // Put back: 65 is better than every clear, and has been since minute 0, longer than
    // the five minutes better: cleared at once.
    let (cleared, step) = bands().revise(Better::Lower, &red, t(0), t(62), 65.0);
    assert_eq!((cleared.level, cleared.pending, step), (None, None, Step::Cleared(Red)));
    // Put back over a value that came a minute before: the clear waits its five minutes.
    let (waiting, step) = bands().revise(Better::Lower, &red, t(61), t(62), 65.0);
    assert_eq!(
        (waiting.level, waiting.pending, step),
        (Some(Red), Some(Pending { worse: false, since: t(61) }), Step::Same)
    );
    assert!(!bands().due(&waiting, t(65)));
    assert!(bands().due(&waiting, t(66)));
}

#[test]
fn an_edit_under_a_value_that_came_a_minute_ago_waits_out_the_rest_of_its_duration() {
    let mut th = bands();
    let (_, green) = run(&th, Better::Lower, &[(0, 75.0)]);
    th.red = Level { raise: 70.0, clear: None };
    th.yellow = None;
    // The value came at minute 0; the edit at minute 1: nine minutes to go.
    let (waiting, step) = th.revise(Better::Lower, &green, t(0), t(1), 75.0);
    assert_eq!((waiting.level, waiting.pending, step), (None, Some(Pending { worse: true, since: t(0) }), Step::Same));
    assert_eq!(th.revise(Better::Lower, &waiting, t(0), t(2), 75.0), (waiting.clone(), Step::Same), "read again");
    assert!(!th.due(&waiting, t(9)));
    assert!(th.due(&waiting, t(10)));
    // A wait already running the same way keeps its earlier start.
    let (_, pending) = run(&bands(), Better::Lower, &[(0, 85.0), (5, 85.0)]);
    let (kept, _) = th.revise(Better::Lower, &pending, t(5), t(6), 85.0);
    assert_eq!(kept.pending, Some(Pending { worse: true, since: t(0) }));
    // A line moved away from a value that was waiting to raise: the wait ends.
    let (none, _) = bands().revise(Better::Lower, &waiting, t(0), t(3), 75.0);
    assert_eq!(none, AlarmState { level: None, pending: None, last_at: Some(t(3)) });
}

#[test]
fn switched_off_at_the_edit_an_open_alarm_clears_and_a_wait_ends() {
    let mut th = bands();
    let (_, red) = run(&th, Better::Lower, &[(0, 120.0), (10, 120.0)]);
    let (_, waiting) = run(&th, Better::Lower, &[(0, 120.0)]);
    th.enabled = false;
    let (off, step) = th.revise(Better::Lower, &red, t(10), t(11), 120.0);
    assert_eq!((off.level, off.pending, step), (None, None, Step::Cleared(Severity::Red)));
    let (off, step) = th.revise(Better::Lower, &waiting, t(0), t(11), 120.0);
    assert_eq!((off.level, off.pending, step), (None, None, Step::Same));
    assert_eq!(th.revise(Better::Lower, &off, t(0), t(12), 120.0), (off, Step::Same));
}

#[test]
fn change_measures_against_last_year_and_a_rolling_baseline() {
    assert_eq!(Measure::Value.of(5.0, None, &[]), Some(5.0));
    assert_eq!(Measure::ChangeFromLastYear.of(130.0, Some(100.0), &[]), Some(30.0));
    assert_eq!(Measure::ChangeFromLastYear.of(130.0, None, &[]), None, "no data last year: no measure");
    assert_eq!(Measure::ChangeFromLastYear.of(130.0, Some(0.0), &[]), None);
    assert_eq!(Measure::ChangeFromLastYear.of(-50.0, Some(-100.0), &[]), Some(50.0));
    let baseline = Measure::ChangeFromBaseline { periods: 3 };
    // The mean of the three newest (100, 80, 120 = 100), the fourth left out.
    assert_eq!(baseline.of(150.0, None, &[100.0, 80.0, 120.0, 1000.0]), Some(50.0));
    assert_eq!(baseline.of(150.0, None, &[75.0]), Some(100.0), "missing periods are left out");
    assert_eq!(baseline.of(150.0, None, &[]), None);
}

#[test]
fn checks_name_the_field_at_fault() {
    let check = |edit: fn(&mut Threshold), better: Better, expected: &str| {
        let mut th = bands();
        edit(&mut th);
        match th.check(better) {
            Err(IndicatorError::Field { field, .. }) => assert_eq!(field, expected),
            other => panic!("{expected}: {other:?}"),
        }
    };
    bands().check(Better::Lower).unwrap();
    check(|_| {}, Better::Higher, "yellow.clear");
    check(|th| th.red.raise = f64::NAN, Better::Lower, "red.raise");
    check(|th| th.red.clear = Some(110.0), Better::Lower, "red.clear");
    check(|th| th.red = Level { raise: 80.0, clear: None }, Better::Lower, "red.raise");
    check(|th| th.red = Level { raise: 50.0, clear: None }, Better::Lower, "red.raise");
    check(|th| th.measure = Measure::ChangeFromBaseline { periods: 0 }, Better::Lower, "measure.periods");
    check(|th| th.raise_after_seconds = 40 * 86_400, Better::Lower, "raise_after_seconds");
    check(|th| th.quiet = Some(QuietWindow { from: "25:00".into(), to: "07:00".into() }), Better::Lower, "quiet.from");
    check(|th| th.quiet = Some(QuietWindow { from: "22:00".into(), to: "7:00".into() }), Better::Lower, "quiet.to");
    check(|th| th.quiet = Some(QuietWindow { from: "22:00".into(), to: "22:00".into() }), Better::Lower, "quiet.to");
    check(|th| th.case_category = Some("0x".into()), Better::Lower, "case_category");
    // Read for "higher is better", the same bands mirrored are right.
    let mirrored = Threshold {
        yellow: Some(Level { raise: 80.0, clear: Some(90.0) }),
        red: Level { raise: 60.0, clear: Some(65.0) },
        ..bands()
    };
    mirrored.check(Better::Higher).unwrap();
}

#[test]
fn the_quiet_window_and_its_end() {
    let at = |d: u32, h: u32, m: u32| NaiveDate::from_ymd_opt(2025, 6, d).unwrap().and_hms_opt(h, m, 0).unwrap();
    let night = QuietWindow { from: "22:00".into(), to: "07:00".into() };
    assert_eq!(night.ends_after(at(1, 23, 30)), Some(at(2, 7, 0)));
    assert_eq!(night.ends_after(at(2, 6, 59)), Some(at(2, 7, 0)));
    assert_eq!(night.ends_after(at(2, 7, 0)), None);
    assert_eq!(night.ends_after(at(2, 21, 59)), None);
    assert_eq!(night.ends_after(at(2, 22, 0)), Some(at(3, 7, 0)));
    let lunch = QuietWindow { from: "12:00".into(), to: "13:30".into() };
    assert_eq!(lunch.ends_after(at(1, 12, 15)), Some(at(1, 13, 30)));
    assert_eq!(lunch.ends_after(at(1, 13, 30)), None);
    assert_eq!(lunch.ends_after(at(1, 11, 59)), None);
}

#[test]
fn a_threshold_reads_and_writes_its_json() {
    let text = r#"{"enabled":true,"measure":{"kind":"change_from_baseline","periods":6},
        "red":{"raise":30.0},"raise_after_seconds":0,"quiet":{"from":"22:00","to":"07:00"}}"#;
    let th: Threshold = serde_json::from_str(text).unwrap();
    assert_eq!(th.measure, Measure::ChangeFromBaseline { periods: 6 });
    assert_eq!((th.yellow, th.clear_after_seconds), (None, 0));
    let back: Threshold = serde_json::from_value(serde_json::to_value(&th).unwrap()).unwrap();
    assert_eq!(back, th);
    assert!(
        serde_json::from_str::<Threshold>(
            r#"{"enabled":true,"measure":{"kind":"value"},"red":{"raise":1},"colour":1}"#
        )
        .is_err()
    );
}
