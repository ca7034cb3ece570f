//! The rule engine against a river gauge's water level, minute by minute. Each check feeds
//! (minute, value) readings and compares what changed, written as `raised 4.6 @3` (value
//! and minute), `updated`, `cleared`, with `-` for a reading that changed nothing.

use super::*;
use crate::rules::Severity;

const MIN: i64 = 60_000;
const T0: i64 = 1_764_000_000_000;

fn id(text: &str) -> DeviceId {
    DeviceId::new(text).unwrap()
}

fn rule(id: &str, metric: Metric, condition: Condition) -> Rule {
    Rule {
        id: RuleId::from(id),
        device_type: DeviceType::WaterLevelRiver,
        metric,
        condition,
        severity: Severity::Major,
        devices: vec![],
    }
}

fn engine(condition: Condition) -> RuleEngine {
    RuleEngine::new(vec![rule("r", Metric::WaterLevel, condition)]).unwrap()
}

fn reading(device: &str, minute: i64, values: &[(Metric, f64)]) -> Reading {
    Reading {
        device: id(device),
        device_type: DeviceType::WaterLevelRiver,
        at_ms: T0 + minute * MIN,
        values: values.to_vec(),
        position: None,
    }
}

/// A change in short, values rounded to six decimals (rates carry float noise).
fn describe(change: &AlarmChange) -> String {
    let minute = |at_ms: i64| (at_ms - T0) / MIN;
    let round = |value: f64| (value * 1e6).round() / 1e6;
    match change {
        AlarmChange::Raised { alarm } => {
            format!("raised {} @{}", round(alarm.raised_value), minute(alarm.raised_at_ms))
        }
        AlarmChange::Updated { alarm } => format!("updated {} @{}", round(alarm.peak_value), minute(alarm.peak_at_ms)),
        AlarmChange::Cleared { value, at_ms, .. } => format!("cleared {} @{}", round(*value), minute(*at_ms)),
    }
}

/// Feeds water levels to `engine` from device `wl-1`, one line of changes per reading.
fn feed(engine: &mut RuleEngine, levels: &[(i64, f64)]) -> Vec<String> {
    levels
        .iter()
        .map(|&(minute, level)| {
            let changes = engine.observe(&reading("wl-1", minute, &[(Metric::WaterLevel, level)]));
            if changes.is_empty() {
                "-".to_owned()
            } else {
                changes.iter().map(describe).collect::<Vec<_>>().join(", ")
            }
        })
        .collect()
}

fn check(condition: Condition, levels: &[(i64, f64)], expected: &[&str]) {
    assert_eq!(feed(&mut engine(condition), levels), expected, "{condition:?}");
}

#[test]
fn thresholds_clear_only_past_the_hysteresis_level() {
    let above = Condition::Above { raise: 4.5, clear: 4.3, for_ms: 0 };
    check(
        above,
        &[(0, 4.0), (1, 4.5), (2, 4.6), (3, 4.7), (4, 4.65), (5, 4.4), (6, 4.31), (7, 4.3), (8, 4.4), (9, 4.51)],
        &["-", "-", "raised 4.6 @2", "updated 4.7 @3", "-", "-", "-", "cleared 4.3 @7", "-", "raised 4.51 @9"],
    );
    let below = Condition::Below { raise: -1.0, clear: -0.5, for_ms: 0 };
    check(
        below,
        &[(0, 0.0), (1, -1.2), (2, -1.5), (3, -1.1), (4, -0.6), (5, -0.5)],
        &["-", "raised -1.2 @1", "updated -1.5 @2", "-", "-", "cleared -0.5 @5"],
    );
    let no_band = Condition::Above { raise: 4.5, clear: 4.5, for_ms: 0 };
    check(no_band, &[(0, 4.6), (1, 4.5), (2, 4.6)], &["raised 4.6 @0", "cleared 4.5 @1", "raised 4.6 @2"]);
}

#[test]
fn a_duration_must_pass_beyond_the_line() {
    let sustained = Condition::Above { raise: 4.5, clear: 4.3, for_ms: 5 * MIN };
    check(
        sustained,
        &[(0, 4.6), (2, 4.8), (4, 4.9), (5, 4.7), (6, 4.95)],
        &["-", "-", "-", "raised 4.7 @5", "updated 4.95 @6"],
    );
    // A reading back at or under the line restarts the wait, even inside the hysteresis band.
    check(sustained, &[(0, 4.6), (3, 4.4), (4, 4.6), (8, 4.6), (9, 4.7)], &["-", "-", "-", "-", "raised 4.7 @9"]);
    // A wave that never lasts five minutes never raises.
    let waves: Vec<(i64, f64)> = (0..60).map(|m| (m, if m % 4 == 3 { 4.0 } else { 4.8 })).collect();
    assert!(feed(&mut engine(sustained), &waves).iter().all(|line| line == "-"));
}

#[test]
fn exactly_one_alarm_for_a_long_flood() {
    let mut engine = engine(Condition::Above { raise: 4.5, clear: 4.3, for_ms: 0 });
    let flood: Vec<(i64, f64)> =
        (0..2000).map(|m| (m, 4.6 + 0.4 * ((m as f64) / 50.0).sin().abs() + (m as f64) / 10_000.0)).collect();
    let lines = feed(&mut engine, &flood);
    let raised = lines.iter().filter(|line| line.starts_with("raised")).count();
    let cleared = lines.iter().filter(|line| line.starts_with("cleared")).count();
    let updated = lines.iter().filter(|line| line.starts_with("updated")).count();
    assert_eq!((raised, cleared), (1, 0));
    assert!(updated > 0 && updated < 2000 / 2, "updates only on new peaks: {updated}");
    assert_eq!(engine.active_alarms().count(), 1);
    let alarm = engine.alarm(&id("wl-1"), &RuleId::from("r")).unwrap();
    let peak = flood.iter().map(|(_, v)| *v).fold(f64::MIN, f64::max);
    assert_eq!((alarm.raised_at_ms, alarm.peak_value), (T0, peak));
}

#[test]
fn rate_of_change_over_a_window() {
    // 0.05 m/min over 10 minutes: a rise of more than 0.5 m inside the window.
    let rising = Condition::RateOfChange { per_minute: 0.05, clear_per_minute: 0.02, window_ms: 10 * MIN };
    let mut levels: Vec<(i64, f64)> = (0..=10).map(|m| (m, 3.0 + 0.01 * m as f64)).collect();
    levels.extend((11..=20).map(|m| (m, 3.1 + 0.1 * (m - 10) as f64)));
    levels.extend((21..=40).map(|m| (m, 4.1)));
    let lines = feed(&mut engine(rising), &levels);
    let changes: Vec<(usize, &String)> = lines.iter().enumerate().filter(|(_, line)| *line != "-").collect();
    // The window includes its start. Minute 15: 3.6 - 3.05 (minute 5) = 0.55 m in the window;
    // every minute after adds to the peak until the rise stops at minute 20.
    assert!(changes[0] == (15, &"raised 0.055 @15".to_owned()), "{changes:?}");
    assert!(changes[1..=5].iter().all(|(_, line)| line.starts_with("updated")), "{changes:?}");
    let cleared: Vec<_> = changes.iter().filter(|(_, line)| line.starts_with("cleared")).collect();
    assert_eq!(cleared.len(), 1, "{changes:?}");
    // It clears once the window holds at most 0.2 m of rise: minute 28 (4.1 - 3.9 from minute 18).
    assert!(*cleared[0] == (28, &"cleared 0.02 @28".to_owned()), "{changes:?}");
    assert_eq!(changes.iter().filter(|(_, line)| line.starts_with("raised")).count(), 1);

    // A single jump right after start-up counts over the whole window: 0.3 m is 0.03 m/min.
    check(rising, &[(0, 3.0), (1, 3.3)], &["-", "-"]);
    check(rising, &[(0, 3.0), (1, 3.6)], &["-", "raised 0.06 @1"]);

    let falling = Condition::RateOfChange { per_minute: -0.1, clear_per_minute: 0.0, window_ms: 5 * MIN };
    check(
        falling,
        &[(0, 10.0), (1, 9.8), (2, 9.4), (3, 9.4), (7, 9.4), (8, 9.4)],
        &["-", "-", "raised -0.12 @2", "-", "cleared 0 @7", "-"],
    );
}

#[test]
fn stale_data_raises_on_tick_and_clears_on_the_next_value() {
    let mut engine = engine(Condition::Stale { after_ms: 30 * MIN });
    let battery = |minute: i64| reading("wl-1", minute, &[(Metric::Battery, 80.0)]);
    let level = |minute: i64| reading("wl-1", minute, &[(Metric::WaterLevel, 3.0)]);
    assert!(engine.tick(T0).is_empty(), "no device seen yet");
    assert!(engine.observe(&level(0)).is_empty());
    assert!(engine.tick(T0 + 30 * MIN - 1).is_empty());
    let raised: Vec<String> = engine.tick(T0 + 30 * MIN).iter().map(describe).collect();
    assert_eq!(raised, [format!("raised {} @30", 30 * MIN)]);
    assert!(engine.tick(T0 + 45 * MIN).is_empty(), "raised once");
    assert!(engine.observe(&battery(46)).is_empty(), "another metric does not clear it");
    let cleared: Vec<String> = engine.observe(&level(47)).iter().map(describe).collect();
    assert_eq!(cleared, ["cleared 3 @47"]);

    // A device that talks but never sends the metric goes stale from when it was first heard.
    let mut engine =
        RuleEngine::new(vec![rule("r", Metric::WaterLevel, Condition::Stale { after_ms: 30 * MIN })]).unwrap();
    engine.observe(&battery(0));
    engine.observe(&battery(20));
    assert_eq!(engine.tick(T0 + 30 * MIN).len(), 1);
}

#[test]
fn a_watched_device_that_never_speaks_goes_stale_from_when_it_was_watched() {
    let mut e = engine(Condition::Stale { after_ms: 30 * MIN });
    e.watch(id("wl-silent"), DeviceType::WaterLevelRiver, T0);
    assert!(e.tick(T0 + 30 * MIN - 1).is_empty());
    let raised: Vec<String> = e.tick(T0 + 30 * MIN).iter().map(describe).collect();
    assert_eq!(raised, [format!("raised {} @30", 30 * MIN)]);
    assert!(e.tick(T0 + 40 * MIN).is_empty(), "raised once");
    // Its first reading clears it, whatever its clock says (nothing newer was seen).
    let cleared: Vec<String> =
        e.observe(&reading("wl-silent", 41, &[(Metric::WaterLevel, 3.0)])).iter().map(describe).collect();
    assert_eq!(cleared, ["cleared 3 @41"]);

    // Watching a device already heard changes nothing: its clock stays its last reading.
    let mut e = engine(Condition::Stale { after_ms: 30 * MIN });
    e.observe(&reading("wl-1", 10, &[(Metric::WaterLevel, 3.0)]));
    e.watch(id("wl-1"), DeviceType::WaterLevelRiver, T0);
    assert!(e.tick(T0 + 39 * MIN).is_empty());
    assert_eq!(e.tick(T0 + 40 * MIN).len(), 1);
    // A device of a type no stale rule covers is never raised.
    let mut e = engine(Condition::Stale { after_ms: 30 * MIN });
    e.watch(id("smk-1"), DeviceType::Smoke, T0);
    assert!(e.tick(T0 + 600 * MIN).is_empty());
}

#[test]
fn readings_out_of_order_are_ignored() {
    let mut engine = engine(Condition::Above { raise: 4.5, clear: 4.3, for_ms: 0 });
    assert_eq!(feed(&mut engine, &[(10, 4.0), (5, 9.0), (10, 4.6), (9, 1.0)]), ["-", "-", "raised 4.6 @10", "-"]);
    assert!(engine.alarm(&id("wl-1"), &RuleId::from("r")).is_some(), "the late low reading did not clear it");
}

#[test]
fn acknowledged_alarms_stay_active_until_cleared() {
    let mut engine = engine(Condition::Above { raise: 4.5, clear: 4.3, for_ms: 0 });
    let (device, rule) = (id("wl-1"), RuleId::from("r"));
    let none = engine.acknowledge(&device, &rule, "duty-1", T0);
    assert_eq!(none, Err(IotError::NoActiveAlarm { device: device.clone(), rule: rule.clone() }));
    let unknown = engine.acknowledge(&device, &RuleId::from("nope"), "duty-1", T0);
    assert_eq!(unknown, Err(IotError::UnknownRule { rule: RuleId::from("nope") }));

    feed(&mut engine, &[(0, 4.6)]);
    let acknowledged = engine.acknowledge(&device, &rule, "duty-1", T0 + MIN).unwrap();
    let first = Acknowledgement { by: "duty-1".into(), at_ms: T0 + MIN };
    assert_eq!(acknowledged.acknowledged, Some(first.clone()));
    let again = engine.acknowledge(&device, &rule, "duty-2", T0 + 2 * MIN).unwrap();
    assert_eq!(again.acknowledged, Some(first.clone()), "the first acknowledgement stands");
    let updated = engine.observe(&reading("wl-1", 3, &[(Metric::WaterLevel, 4.9)]));
    assert_eq!(updated[0].alarm().acknowledged, Some(first.clone()));
    let cleared = engine.observe(&reading("wl-1", 4, &[(Metric::WaterLevel, 4.0)]));
    assert!(matches!(&cleared[..], [AlarmChange::Cleared { alarm, .. }] if alarm.acknowledged == Some(first.clone())));
    assert_eq!(engine.active_alarms().count(), 0);
}

#[test]
fn rules_pick_their_devices_and_keep_alarms_apart() {
    let mut only_gauge_2 = rule("gauge-2", Metric::WaterLevel, Condition::Above { raise: 2.0, clear: 2.0, for_ms: 0 });
    only_gauge_2.devices = vec![id("wl-2")];
    let all = rule("all", Metric::WaterLevel, Condition::Above { raise: 4.5, clear: 4.3, for_ms: 0 });
    let fast = rule("fast", Metric::FlowVelocity, Condition::Above { raise: 3.0, clear: 2.5, for_ms: 0 });
    let mut engine = RuleEngine::new(vec![only_gauge_2, all, fast]).unwrap();
    let keys = |changes: Vec<AlarmChange>| changes.iter().map(|c| c.key().to_string()).collect::<Vec<_>>();
    let high = [(Metric::WaterLevel, 5.0), (Metric::FlowVelocity, 3.5)];
    assert_eq!(keys(engine.observe(&reading("wl-1", 0, &high))), ["wl-1/all", "wl-1/fast"]);
    assert_eq!(keys(engine.observe(&reading("wl-2", 0, &high))), ["wl-2/gauge-2", "wl-2/all", "wl-2/fast"]);
    let reservoir = Reading { device_type: DeviceType::WaterLevelReservoir, ..reading("res-1", 0, &high[..1]) };
    assert!(engine.observe(&reservoir).is_empty(), "river rules do not watch reservoirs");
    assert_eq!(engine.active_alarms().count(), 5);
    assert_eq!(engine.rules().len(), 3);
}

#[test]
fn bad_rule_sets_are_refused() {
    let above = Condition::Above { raise: 4.5, clear: 4.3, for_ms: 0 };
    let twice = RuleEngine::new(vec![rule("r", Metric::WaterLevel, above), rule("r", Metric::Battery, above)]);
    assert!(matches!(twice, Err(IotError::InvalidRule { reason, .. }) if reason == "duplicate rule id"));
    let inverted = Condition::Above { raise: 4.5, clear: 4.6, for_ms: 0 };
    assert!(RuleEngine::new(vec![rule("r", Metric::WaterLevel, inverted)]).is_err());
}

#[test]
fn restored_alarms_are_not_raised_twice() {
    let mut engine = engine(Condition::Above { raise: 4.5, clear: 4.3, for_ms: 0 });
    let key = AlarmKey { device: id("wl-1"), rule: RuleId::from("r") };
    let alarm = Alarm::raise(key, Severity::Major, Metric::WaterLevel, T0 - 60 * MIN, 4.8);
    engine.restore(alarm).unwrap();
    assert_eq!(feed(&mut engine, &[(0, 4.7), (1, 4.9), (2, 4.2)]), ["-", "updated 4.9 @1", "cleared 4.2 @2"]);
    let stray = Alarm::raise(
        AlarmKey { device: id("wl-1"), rule: RuleId::from("gone") },
        Severity::Info,
        Metric::WaterLevel,
        T0,
        1.0,
    );
    assert_eq!(engine.restore(stray), Err(IotError::UnknownRule { rule: RuleId::from("gone") }));
}

#[test]
fn replaced_rules_keep_the_state_of_rules_that_stay_and_end_the_alarms_of_rules_that_go() {
    let above = |raise, clear| Condition::Above { raise, clear, for_ms: 0 };
    let mut engine = RuleEngine::new(vec![
        rule("high", Metric::WaterLevel, above(4.5, 4.3)),
        rule("very-high", Metric::WaterLevel, above(5.0, 4.8)),
    ])
    .unwrap();
    assert_eq!(feed(&mut engine, &[(0, 5.2)]), ["raised 5.2 @0, raised 5.2 @0"]);
    // `high` stays with a higher line, `very-high` goes, `low` comes.
    let ended = engine
        .replace_rules(
            vec![rule("low", Metric::WaterLevel, above(1.0, 0.5)), rule("high", Metric::WaterLevel, above(6.0, 5.5))],
            T0 + MIN,
        )
        .unwrap();
    assert_eq!(ended.iter().map(describe).collect::<Vec<_>>(), ["cleared 5.2 @1"]);
    assert_eq!(ended[0].key().rule, RuleId::from("very-high"));
    // `high`'s alarm is still the one raised (no second raise); it clears by its new line.
    assert!(engine.alarm(&id("wl-1"), &RuleId::from("high")).is_some());
    assert_eq!(feed(&mut engine, &[(2, 5.6), (3, 5.4)]), ["raised 5.6 @2, updated 5.6 @2", "cleared 5.4 @3"]);
    // A bad set is refused and the rules in force stay.
    let twice = vec![rule("x", Metric::WaterLevel, above(1.0, 0.5)), rule("x", Metric::WaterLevel, above(1.0, 0.5))];
    assert!(engine.replace_rules(twice, T0).is_err());
    assert_eq!(engine.rules().len(), 2);
}

/// A device handed to another engine: forgetting it drops its wait and its alarm here, and
/// the other engine, fed the same readings from the start of the rules' memory, raises at
/// the same reading as one engine that saw them all.
#[test]
fn a_device_forgotten_and_replayed_elsewhere_raises_where_one_engine_would() {
    let sustained = Condition::Above { raise: 4.5, clear: 4.3, for_ms: 5 * MIN };
    let levels: Vec<(i64, f64)> = (0..8).map(|m| (m, 4.6 + m as f64 / 100.0)).collect();
    let whole = feed(&mut engine(sustained), &levels);
    assert_eq!(whole[5], "raised 4.65 @5");

    let mut first = engine(sustained);
    feed(&mut first, &levels[..3]);
    first.forget(&id("wl-1"));
    assert_eq!(first.active_alarms().count(), 0);
    // Forgotten, it starts over: three minutes later it has not waited five.
    assert_eq!(feed(&mut first, &levels[3..6]), ["-", "-", "-"]);

    let mut second = engine(sustained);
    // The replay of what the first saw (its changes are the first's business)...
    feed(&mut second, &levels[..3]);
    // ...then the live readings: raised at minute 5, as the whole run did.
    assert_eq!(feed(&mut second, &levels[3..]), whole[3..]);
    second.forget(&id("wl-1"));
    assert_eq!(second.active_alarms().count(), 0);
    second.forget(&id("never-seen"));
}

#[test]
fn a_rules_memory_is_its_duration_window_or_silence() {
    let rules = [
        rule("d", Metric::WaterLevel, Condition::Above { raise: 4.5, clear: 4.3, for_ms: 2 * MIN }),
        rule(
            "w",
            Metric::WaterLevel,
            Condition::RateOfChange { per_minute: 0.05, clear_per_minute: 0.02, window_ms: 10 * MIN },
        ),
        rule("s", Metric::WaterLevel, Condition::Stale { after_ms: 15 * MIN }),
    ];
    let memory: Vec<i64> = rules.iter().map(Rule::memory_ms).collect();
    assert_eq!(memory, [2 * MIN, 10 * MIN, 15 * MIN]);
}
