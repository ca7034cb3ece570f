//! The sample sensors' past over a year and two months: a reading of every watched metric
//! of every sample device each slot, alarms at the stated rates and in their seasons (floods
//! in the plum rains and typhoon months, haze in winter), and one seed making the same.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{DateTime, Datelike, FixedOffset, TimeDelta, Utc};
use cockpit_iot::{DeviceRegistry, Rule};
use cockpit_sim::{PastAlarm, Sensor, SensorHistory, SensorPlan};

const DAYS: i64 = 420;

fn sample() -> (Vec<Sensor>, Vec<Rule>) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data/ouhai/iot");
    let mut registry = DeviceRegistry::new();
    registry.import_json(&std::fs::read_to_string(dir.join("devices.json")).unwrap()).unwrap();
    let sensors = registry
        .iter()
        .map(|d| Sensor { id: d.id.clone(), device_type: d.device_type, region: d.id.to_string() })
        .collect();
    // The rules file's entries: a `cockpit-iot` rule and the case it maps to.
    let mut entries: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("rules.json")).unwrap()).unwrap();
    entries.iter_mut().for_each(|e| _ = e.as_object_mut().unwrap().remove("case"));
    (sensors, serde_json::from_value(serde_json::Value::Array(entries)).unwrap())
}

fn generate(seed: u64) -> (u64, usize, Vec<PastAlarm>) {
    let (sensors, rules) = sample();
    let end: DateTime<Utc> = "2026-12-07T04:00:00Z".parse().unwrap();
    let start: DateTime<Utc> = "2026-12-06T16:00:00Z".parse::<DateTime<Utc>>().unwrap() - TimeDelta::days(DAYS - 1);
    let plan = SensorPlan {
        start,
        end,
        every_minutes: 180,
        seed,
        offset: FixedOffset::east_opt(8 * 3600).unwrap(),
        acknowledgers: vec!["sim-dispatcher-1".into(), "sim-dispatcher-2".into()],
        storm_window_ms: 300_000,
        storm_threshold: 5,
    };
    let mut history = SensorHistory::new(sensors, rules, plan).unwrap();
    let mut days = 0;
    while let Some(readings) = history.next_day() {
        assert!(readings.windows(2).all(|w| w[0].at_ms <= w[1].at_ms), "day {days} in time order");
        assert!(readings.iter().all(|r| r.at_ms < end.timestamp_millis()));
        days += 1;
    }
    (history.readings(), days, history.alarms())
}

#[test]
fn a_year_of_sensors_raises_alarms_at_the_stated_rates_and_seasons() {
    let (sensors, _) = sample();
    let (readings, days, alarms) = generate(20260101);
    assert_eq!(days, DAYS as usize);
    // Every watched metric of every device in every slot: eight a day, the last day's first
    // four (00:00 to 09:00 local; the end is 12:00 local).
    let metrics: u64 = sensors.iter().map(|s| SensorHistory::metrics(s.device_type).len() as u64).sum();
    assert_eq!(readings, metrics * ((DAYS as u64 - 1) * 8 + 4));

    let mut by_rule: BTreeMap<&str, Vec<&PastAlarm>> = BTreeMap::new();
    for a in &alarms {
        by_rule.entry(a.key.rule.as_str()).or_default().push(a);
        assert!(a.peak_value >= a.raised_value || a.key.rule.as_str().contains("rising"), "{a:?}");
        if let Some((at, _)) = a.cleared {
            assert!(at > a.raised_at);
        }
        if let Some((_, at)) = &a.acknowledged {
            assert!(*at > a.raised_at && a.cleared.is_none_or(|(c, _)| *at < c), "{a:?}");
        }
    }
    let counts: BTreeMap<&str, usize> = by_rule.iter().map(|(r, a)| (*r, a.len())).collect();
    println!("{counts:?}");
    // The stated rates (data/README.md), with room for chance.
    for (rule, range) in [
        ("smoke", 150..=400),
        ("manhole-open", 20..=120),
        ("manhole-tilt", 20..=120),
        ("noise-high", 50..=2000),
        ("river-high", 10..=400),
        ("road-ponding", 10..=400),
        ("pm25-high", 5..=200),
        ("reservoir-flood-limit", 1..=40),
    ] {
        let n = counts.get(rule).copied().unwrap_or(0);
        assert!(range.contains(&n), "{rule}: {n} alarms, expected {range:?}");
    }
    // Floods in the wet months, haze in the cold ones.
    let offset = FixedOffset::east_opt(8 * 3600).unwrap();
    let month = |a: &PastAlarm| a.raised_at.with_timezone(&offset).month();
    let wet = by_rule["river-high"].iter().filter(|a| (6..=9).contains(&month(a))).count();
    assert!(wet * 10 >= by_rule["river-high"].len() * 7, "{wet} of the river alarms in June to September");
    assert!(by_rule["pm25-high"].iter().all(|a| matches!(month(a), 11 | 12 | 1 | 2 | 3)), "haze in winter");
    assert!(alarms.iter().any(|a| a.acknowledged.is_some()));

    assert_eq!(generate(20260101).2, alarms, "the same seed");
    assert_ne!(generate(7).2, alarms, "another seed");
}
