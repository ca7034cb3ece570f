//! Formulas over a small city by hand: two streets, three villages, four grids, seven
//! cases, three alarms, three devices and six readings, evaluated on 15 March 2026 at 10:00
//! local time (UTC+8); every expected value below is counted from the rows as written.

use chrono::NaiveDate;

use super::*;

const OFFSET: i32 = 8 * 3600;

/// Local 2026-03-`day` `hour`:00 as Unix seconds.
pub(crate) fn t(day: u32, hour: u32) -> i64 {
    let local = NaiveDate::from_ymd_opt(2026, 3, day).unwrap().and_hms_opt(hour, 0, 0).unwrap();
    local.and_utc().timestamp() - i64::from(OFFSET)
}

fn now() -> Now {
    Now { at: t(15, 10), offset_seconds: OFFSET }
}

/// A case: place, status, created, due, closed, marked overdue, verdict, tags, category.
type Case<'a> = (u32, &'a str, i64, i64, i64, bool, u8, &'a [&'a str], &'a str);

pub(crate) fn city() -> Rows {
    let mut rows = Rows {
        places: Places { regions: vec![[0, 0, 0], [0, 1, NO_REGION], [1, 2, 3]], sizes: [2, 3, 4] },
        ..Rows::default()
    };
    let cases: [Case; 7] = [
        (0, "new", t(15, 8), t(16, 8), NO_TIME, false, 0, &["隐患"], "0501"),
        (0, "in_progress", t(12, 9), t(14, 9), NO_TIME, false, 0, &[], "0502"),
        (1, "closed", t(5, 9), t(10, 9), t(9, 9), false, 0, &[], "0301"),
        (1, "evaluated_satisfied", t(1, 9) - 4 * 86_400, t(1, 9), t(1, 9) + 3600, false, 1, &[], "0501"),
        (2, "evaluated_unsatisfied", t(1, 9) - 40 * 86_400, NO_TIME, t(1, 9) - 35 * 86_400, false, 2, &[], "0501"),
        // A case of no known place counts in the district only.
        (99, "new", t(15, 9), NO_TIME, NO_TIME, true, 0, &["风险"], "0601"),
        (2, "dispatched", t(15, 1), NO_TIME, NO_TIME, false, 0, &[], "0501"),
    ];
    for (place, status, created, due, closed, overdue, verdict, tags, category) in cases {
        let c = &mut rows.cases;
        c.place.push(place);
        let code = c.statuses.code(status);
        c.status.push(code);
        let code = c.categories.code(category);
        c.category.push(code);
        let code = c.sources.code("hotline_12345");
        c.source.push(code);
        let bits = c.tag_bits(tags.iter().copied());
        c.tags.push(bits);
        c.created.push(created);
        c.due.push(due);
        c.closed.push(closed);
        c.overdue.push(overdue);
        c.verdict.push(verdict);
    }
    for (place, state, raised) in [(0, "active", t(15, 7)), (1, "cleared", t(14, 7)), (2, "acknowledged", t(13, 7))] {
        let a = &mut rows.alarms;
        a.place.push(place);
        let code = a.states.code(state);
        a.state.push(code);
        let code = a.severities.code("major");
        a.severity.push(code);
        let code = a.metrics.code("water_level_m");
        a.metric.push(code);
        let code = a.kinds.code("water_level_river");
        a.kind.push(code);
        a.raised.push(raised);
        a.cleared.push(if state == "cleared" { raised + 2 * 3600 } else { NO_TIME });
    }
    for (place, online) in [(0, true), (0, false), (2, true)] {
        let d = &mut rows.devices;
        d.place.push(place);
        let code = d.kinds.code("camera");
        d.kind.push(code);
        d.online.push(online);
    }
    let readings = [
        (0, "pm25", t(15, 6), 30.0),
        (0, "pm25", t(15, 7), 50.0),
        (2, "pm25", t(15, 8), 80.0),
        (2, "pm25", t(14, 8), 500.0), // yesterday: outside "today"
        (1, "water_level_m", t(15, 8), 3.5),
        (2, "pm25", t(15, 9), 20.0),
    ];
    for (place, metric, at, value) in readings {
        let r = &mut rows.readings;
        r.place.push(place);
        let code = r.metrics.code(metric);
        r.metric.push(code);
        let code = r.kinds.code("air");
        r.kind.push(code);
        r.at.push(at);
        r.value.push(value);
    }
    rows
}

pub(crate) fn formula(json: &str) -> Formula {
    let f: Formula = serde_json::from_str(json).unwrap();
    f.check().unwrap();
    f
}

pub(crate) fn sample() -> Catalogue {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../data/ouhai/indicators/catalogue.json"))
        .unwrap();
    Catalogue::parse(&text).unwrap()
}

/// Values as district; streets; villages; grids.
type Expected<'a> = [&'a [Option<f64>]; 4];

fn check(grouped: &Grouped, expected: Expected, what: &str) {
    for (level, want) in RegionLevel::ALL.into_iter().zip(expected) {
        let got: Vec<Option<f64>> = (0..want.len()).map(|i| grouped.get(level, i)).collect();
        let rounded: Vec<Option<f64>> = got.iter().map(|v| v.map(|v| (v * 100.0).round() / 100.0)).collect();
        assert_eq!(rounded, want, "{what} at {level:?}");
    }
}

#[test]
fn the_ten_built_in_formulas_count_what_the_rows_hold() {
    let catalogue = sample();
    let formulas: Vec<&Formula> = catalogue.definitions.iter().map(|d| &d.compute).collect();
    let rows = city();
    let got = evaluate(&formulas, &rows, now(), 2);
    let n = |v: f64| Some(v);
    let expected: [(Indicator, Expected); 10] = [
        (Indicator::CasesToday, [&[n(3.)], &[n(1.), n(1.)], &[n(1.), n(0.), n(1.)], &[n(1.), n(0.), n(0.), n(1.)]]),
        (Indicator::OpenCases, [&[n(4.)], &[n(2.), n(1.)], &[n(2.), n(0.), n(1.)], &[n(2.), n(0.), n(0.), n(1.)]]),
        (Indicator::OverdueCases, [&[n(2.)], &[n(1.), n(0.)], &[n(1.), n(0.), n(0.)], &[n(1.), n(0.), n(0.), n(0.)]]),
        (Indicator::OverdueRate, [&[n(50.)], &[n(50.), n(0.)], &[n(50.), None, n(0.)], &[n(50.), None, None, n(0.)]]),
        (Indicator::OnTimeRate, [&[n(50.)], &[n(50.), None], &[None, n(50.), None], &[None, None, None, None]]),
        (Indicator::SatisfactionRate, [&[n(100.)], &[n(100.), None], &[None, n(100.), None], &[None; 4]]),
        (
            Indicator::DeviceOnlineRate,
            [&[n(66.67)], &[n(50.), n(100.)], &[n(50.), None, n(100.)], &[n(50.), None, None, n(100.)]],
        ),
        (Indicator::ActiveAlarms, [&[n(2.)], &[n(1.), n(1.)], &[n(1.), n(0.), n(1.)], &[n(1.), n(0.), n(0.), n(1.)]]),
        (Indicator::RisksToday, [&[n(1.)], &[n(0.), n(0.)], &[n(0.); 3], &[n(0.); 4]]),
        (Indicator::HazardsToday, [&[n(1.)], &[n(1.), n(0.)], &[n(1.), n(0.), n(0.)], &[n(1.), n(0.), n(0.), n(0.)]]),
    ];
    for (id, want) in expected {
        let at = catalogue.definitions.iter().position(|d| d.id == id).unwrap();
        check(&got[at], want, id.as_str());
    }
}

#[test]
fn means_percentiles_and_windows_of_the_calendar() {
    let rows = city();
    let formulas = [
        // Hours from creation to closing of every resolved case: 96, 97 (four days over
        // the end of February, and an hour), 120.
        formula(
            r#"{"source": "cases", "filter": {"status": ["closed", "evaluated_satisfied", "evaluated_unsatisfied"]}, "measure": {"mean": "hours"}}"#,
        ),
        formula(r#"{"source": "cases", "measure": {"percentile": {"p": 50, "of": "hours"}}, "levels": ["district"]}"#),
        // Today's PM2.5: 30, 50 in street 0; 80, 20 in street 1 (yesterday's 500 is out).
        formula(
            r#"{"source": "readings", "filter": {"metric": ["pm25"]}, "window": {"on": "created", "period": "daily"}, "measure": {"mean": "value"}}"#,
        ),
        formula(
            r#"{"source": "readings", "filter": {"metric": ["pm25"]}, "window": {"on": "created", "last_days": 2}, "measure": {"percentile": {"p": 95, "of": "value"}}}"#,
        ),
        // Cases of this month (from 1 March local) by category prefix 05: three of them
        // (the fourth 05 case was created in February).
        formula(
            r#"{"source": "cases", "filter": {"category": ["05"]}, "window": {"on": "created", "period": "monthly"}, "measure": "count"}"#,
        ),
        formula(r#"{"source": "readings", "filter": {"at_least": 50}, "measure": "count", "levels": ["street"]}"#),
    ];
    let refs: Vec<&Formula> = formulas.iter().collect();
    let got = evaluate(&refs, &rows, now(), 1);
    let n = |v: f64| Some(v);
    check(
        &got[0],
        [&[n(104.33)], &[n(96.5), n(120.)], &[None, n(96.5), n(120.)], &[None, None, None, n(120.)]],
        "mean",
    );
    check(&got[1], [&[n(97.)], &[], &[], &[]], "median hours, district only");
    assert_eq!(got[1].get(RegionLevel::Street, 0), None, "not grouped by street");
    check(&got[2], [&[n(45.)], &[n(40.), n(50.)], &[n(40.), None, n(50.)], &[n(40.), None, None, n(50.)]], "pm2.5");
    check(&got[3], [&[n(500.)], &[n(50.), n(500.)], &[n(50.), None, n(500.)], &[n(50.), None, None, n(500.)]], "p95");
    check(&got[4], [&[n(3.)], &[n(2.), n(1.)], &[n(2.), n(0.), n(1.)], &[n(2.), n(0.), n(0.), n(1.)]], "this month");
    check(&got[5], [&[None], &[n(1.), n(2.)], &[None; 3], &[None; 4]], "streets only");
}

#[test]
fn threads_and_blocks_change_nothing() {
    // The city's rows 3,000 times over: more than one block, split unevenly over threads.
    let one = city();
    let mut many = one.clone();
    for _ in 1..3000 {
        let (c, o) = (&mut many.cases, &one.cases);
        c.place.extend(&o.place);
        c.status.extend(&o.status);
        c.category.extend(&o.category);
        c.source.extend(&o.source);
        c.tags.extend(&o.tags);
        c.created.extend(&o.created);
        c.due.extend(&o.due);
        c.closed.extend(&o.closed);
        c.overdue.extend(&o.overdue);
        c.verdict.extend(&o.verdict);
    }
    let catalogue = sample();
    let formulas: Vec<&Formula> = catalogue.definitions.iter().map(|d| &d.compute).collect();
    let base = evaluate(&formulas, &one, now(), 1);
    for threads in [1, 3, 7] {
        let got = evaluate(&formulas, &many, now(), threads);
        for ((d, g), b) in catalogue.definitions.iter().zip(&got).zip(&base) {
            let scale = if d.compute.source == Source::Cases && d.unit == Unit::Count { 3000.0 } else { 1.0 };
            for level in RegionLevel::ALL {
                for i in 0..b.levels[level as usize].len() {
                    let want = b.get(level, i).map(|v| v * scale);
                    assert_eq!(g.get(level, i), want, "{} at {level:?} {i} on {threads} threads", d.id);
                }
            }
        }
    }
}

#[test]
fn a_short_column_is_cut_to_not_read_past() {
    let mut rows = city();
    rows.cases.due.truncate(3);
    let f = formula(r#"{"source": "cases", "measure": "count"}"#);
    let got = evaluate(&[&f], &rows, now(), 2);
    assert_eq!(got[0].get(RegionLevel::District, 0), Some(3.0));
}
