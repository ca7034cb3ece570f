//! Health of a river gauge through a day of messages, checked against the default policy:
//! warning after 10 minutes of silence, offline after 30, abnormal after an hour without a
//! water level, low battery under 20 %.

use super::*;
use crate::reading::{Reading, Status};

const MIN: i64 = 60_000;
const T0: i64 = 1_764_000_000_000;

fn id() -> DeviceId {
    DeviceId::new("wl-1").unwrap()
}

fn reading(at_ms: i64, values: &[(Metric, f64)]) -> Decoded {
    Decoded::Reading(Reading {
        device: id(),
        device_type: DeviceType::WaterLevelRiver,
        at_ms,
        values: values.to_vec(),
        position: None,
    })
}

fn status(at_ms: i64, online: bool) -> Decoded {
    Decoded::Status(Status { device: id(), online, at_ms })
}

fn state(messages: &[Decoded]) -> DeviceState {
    let mut state = DeviceState::new(id(), DeviceType::WaterLevelRiver);
    for message in messages {
        assert!(state.apply(message));
    }
    state
}

fn check(messages: &[Decoded], now_ms: i64, expected: Health) {
    assert_eq!(health(&state(messages), now_ms, &HealthPolicy::default()), expected, "at +{} min", (now_ms - T0) / MIN);
}

#[test]
fn silence_turns_warning_then_offline() {
    let level = [reading(T0, &[(Metric::WaterLevel, 3.4), (Metric::Battery, 90.0)])];
    check(&level, T0, Health::Online);
    check(&level, T0 + 10 * MIN - 1, Health::Online);
    check(&level, T0 + 10 * MIN, Health::Warning);
    check(&level, T0 + 30 * MIN - 1, Health::Warning);
    check(&level, T0 + 30 * MIN, Health::Offline);
    check(&level, T0 - 5 * MIN, Health::Online);
    check(&[], T0, Health::Offline);
}

#[test]
fn a_last_will_is_offline_until_the_device_speaks_again() {
    let up = reading(T0, &[(Metric::WaterLevel, 3.4)]);
    check(&[up.clone(), status(T0 + MIN, false)], T0 + MIN, Health::Offline);
    check(&[up.clone(), status(T0 + MIN, false), status(T0 + 2 * MIN, true)], T0 + 2 * MIN, Health::Online);
    check(
        &[up.clone(), status(T0 + MIN, false), reading(T0 + 2 * MIN, &[(Metric::WaterLevel, 3.5)])],
        T0 + 2 * MIN,
        Health::Online,
    );
    // A reading stamped before the will (buffered) does not bring it back.
    check(
        &[up.clone(), status(T0 + MIN, false), reading(T0 + MIN, &[(Metric::WaterLevel, 3.5)])],
        T0 + 2 * MIN,
        Health::Offline,
    );
    // An older will arriving late does not override a newer online status.
    check(&[up, status(T0 + 2 * MIN, true), status(T0 + MIN, false)], T0 + 2 * MIN, Health::Online);
    // A will alone: never heard from the device itself.
    check(&[status(T0, false)], T0, Health::Offline);
}

#[test]
fn talking_without_the_primary_metric_is_abnormal() {
    let battery_only = |at_ms: i64| reading(at_ms, &[(Metric::Battery, 80.0)]);
    // Just connected: not abnormal until the hour has passed since first heard.
    check(&[battery_only(T0)], T0 + 5 * MIN, Health::Online);
    let chatter: Vec<Decoded> = (0..=12).map(|i| battery_only(T0 + i * 5 * MIN)).collect();
    check(&chatter, T0 + 60 * MIN, Health::Abnormal);
    let mut with_level = vec![reading(T0, &[(Metric::WaterLevel, 3.4)])];
    with_level.extend((1..=12).map(|i| battery_only(T0 + i * 5 * MIN)));
    check(&with_level, T0 + 60 * MIN - 1, Health::Online);
    check(&with_level, T0 + 60 * MIN, Health::Abnormal);
}

#[test]
fn low_battery_is_a_warning() {
    check(&[reading(T0, &[(Metric::WaterLevel, 3.4), (Metric::Battery, 19.5)])], T0, Health::Warning);
    check(&[reading(T0, &[(Metric::WaterLevel, 3.4), (Metric::Battery, 20.0)])], T0, Health::Online);
    // The newest battery value counts, even when an older one arrives later.
    let recharged = [
        reading(T0 + MIN, &[(Metric::WaterLevel, 3.4), (Metric::Battery, 95.0)]),
        reading(T0, &[(Metric::Battery, 5.0)]),
    ];
    check(&recharged, T0 + MIN, Health::Online);
}

#[test]
fn state_keeps_the_newest_of_everything() {
    let mut state = state(&[
        reading(T0 + 2 * MIN, &[(Metric::WaterLevel, 3.6)]),
        reading(T0, &[(Metric::WaterLevel, 3.4), (Metric::FlowVelocity, 1.2)]),
    ]);
    assert_eq!(state.latest(Metric::WaterLevel), Some(Sample { value: 3.6, at_ms: T0 + 2 * MIN }));
    assert_eq!(state.latest(Metric::FlowVelocity), Some(Sample { value: 1.2, at_ms: T0 }));
    assert_eq!(state.last_seen_ms(), Some(T0 + 2 * MIN));
    assert!(state.online());
    let other = Decoded::Status(Status { device: DeviceId::new("wl-2").unwrap(), online: false, at_ms: T0 + 3 * MIN });
    assert!(!state.apply(&other), "another device's message is not taken");
    assert!(state.online());
    let json = serde_json::to_string(&state).unwrap();
    assert_eq!(serde_json::from_str::<DeviceState>(&json).unwrap(), state);
}

#[test]
fn cameras_have_no_primary_metric() {
    let mut camera = DeviceState::new(id(), DeviceType::Camera);
    camera.apply(&Decoded::Reading(Reading {
        device: id(),
        device_type: DeviceType::Camera,
        at_ms: T0,
        values: vec![(Metric::Temperature, 30.0)],
        position: None,
    }));
    camera.apply(&status(T0 + 5 * MIN, true));
    assert_eq!(health(&camera, T0 + 9 * MIN, &HealthPolicy::default()), Health::Online);
    let strict = HealthPolicy { primary_stale_after_ms: 0, ..HealthPolicy::default() };
    assert_eq!(health(&camera, T0 + 9 * MIN, &strict), Health::Online);
}
