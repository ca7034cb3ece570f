//! Decoding against a small registry: a river gauge, a manhole cover, a camera. Every
//! rejection reason is reached here, and the test checks that none is missed.

use std::collections::BTreeSet;

use super::*;
use crate::device::DeviceType;
use crate::topic::Topic;

const NOW: i64 = 1_764_000_000_000;

pub(super) fn registry() -> DeviceRegistry {
    let mut registry = DeviceRegistry::new();
    let json = r#"[
        {"id": "wl-1", "type": "water_level_river", "lon": 120.64, "lat": 27.97},
        {"id": "mh-1", "type": "manhole_cover", "lon": 120.65, "lat": 27.98},
        {"id": "cam-1", "type": "camera", "lon": 120.66, "lat": 27.99}
    ]"#;
    registry.import_json(json).unwrap();
    registry
}

fn run(topic: &str, payload: &str, sender: Option<&str>) -> Result<Decoded, Rejection> {
    decode(topic, payload.as_bytes(), sender, &registry(), NOW, &DecodeLimits::default())
}

const WL: &str = "city/ouhai/devices/wl-1/telemetry";
const MH: &str = "city/ouhai/devices/mh-1/telemetry";
const CAM: &str = "city/ouhai/devices/cam-1/events";

#[test]
fn telemetry_is_decoded() {
    let payload = r#"{"ts": 1764000000000, "values": {"water_level_m": 3.42, "battery_pct": 88},
                      "position": {"lon": 120.64, "lat": 27.97}, "firmware": "2.1"}"#;
    let expected = Reading {
        device: DeviceId::new("wl-1").unwrap(),
        device_type: DeviceType::WaterLevelRiver,
        at_ms: NOW,
        values: vec![(Metric::WaterLevel, 3.42), (Metric::Battery, 88.0)],
        position: Some(Position { lon: 120.64, lat: 27.97 }),
    };
    assert_eq!(run(WL, payload, Some("wl-1")), Ok(Decoded::Reading(expected.clone())));

    let rfc3339 = r#"{"ts": "2025-11-25T00:00:00+08:00", "values": {"water_level_m": 3.42, "battery_pct": 88},
                      "position": {"lon": 120.64, "lat": 27.97}}"#;
    assert_eq!(run(WL, rfc3339, None), Ok(Decoded::Reading(expected)));

    let Ok(Decoded::Reading(unstamped)) = run(MH, r#"{"values": {"cover_open": true, "tilt_deg": 0}}"#, None) else {
        panic!("manhole reading refused");
    };
    assert_eq!(unstamped.at_ms, NOW, "no ts: stamped with the server's time");
    assert_eq!(unstamped.values, [(Metric::CoverOpen, 1.0), (Metric::Tilt, 0.0)]);
    assert_eq!(unstamped.position, None);
}

#[test]
fn status_and_last_will() {
    let status = |payload: &str| match run("city/ouhai/devices/wl-1/status", payload, None) {
        Ok(Decoded::Status(status)) => (status.online, status.at_ms),
        other => panic!("{payload}: {other:?}"),
    };
    assert_eq!(status(r#"{"online": false}"#), (false, NOW));
    assert_eq!(status(r#"{"online": true, "ts": 1763999990000}"#), (true, NOW - 10_000));
}

#[test]
fn camera_events() {
    let payload = r#"{"ts": 1764000000000, "kind": "fire_lane_blocked", "confidence": 0.91,
                      "detail": {"plate": "浙C12345", "box": [10, 20, 200, 120]}}"#;
    let Ok(Decoded::Event(event)) = run(CAM, payload, Some("cam-1")) else { panic!("event refused") };
    assert_eq!((event.kind, event.confidence, event.at_ms), (EventKind::FireLaneBlocked, 0.91, NOW));
    assert_eq!(event.detail["plate"], "浙C12345");
    let Ok(Decoded::Event(bare)) = run(CAM, r#"{"kind": "street_vending", "confidence": 1}"#, None) else {
        panic!("event without detail refused");
    };
    assert!(bare.detail.is_empty());
}

/// Decodes and returns the rejection's reason (or `ok`), checking the device it names.
fn check(topic: &str, payload: &str, sender: Option<&str>, expected: &str) -> &'static str {
    match run(topic, payload, sender) {
        Ok(decoded) => {
            assert_eq!(expected, "ok", "{topic} {payload:?} was accepted: {decoded:?}");
            "ok"
        }
        Err(rejection) => {
            assert_eq!(rejection.reason(), expected, "{topic} {payload:?}: {rejection}");
            let device = Topic::parse(topic).ok().map(|topic| topic.device);
            assert_eq!(rejection.device(), device.as_ref(), "{rejection}");
            rejection.reason()
        }
    }
}

#[test]
fn every_rejection_reason_is_reachable() {
    let good = r#"{"values": {"water_level_m": 3.42}}"#;
    let at = |ts: i64| format!(r#"{{"ts": {ts}, "values": {{"water_level_m": 1}}}}"#);
    let cases: Vec<(&str, String, Option<&str>, &str)> = vec![
        (WL, good.into(), Some("wl-1"), "ok"),
        ("city/ouhai/devices/wl-1/telemetry/x", good.into(), None, "bad_topic"),
        ("city/ouhai/devices/+/telemetry", good.into(), None, "bad_topic"),
        (WL, good.into(), Some("wl-2"), "not_own_topic"),
        ("city/ouhai/devices/wl-9/telemetry", good.into(), None, "unknown_device"),
        (
            WL,
            format!(r#"{{"values": {{"water_level_m": 1}}, "pad": "{}"}}"#, "x".repeat(16 * 1024)),
            None,
            "oversized_payload",
        ),
        (WL, "{\"values\": ".into(), None, "bad_json"),
        (WL, "".into(), None, "bad_json"),
        (WL, "NaN".into(), None, "bad_json"),
        (WL, r#"{"values": {"water_level_m": 1}, "values": {}}"#.into(), None, "bad_json"),
        (WL, r#"{"values": {"water_level_m": 1, "water_level_m": 2}}"#.into(), None, "bad_json"),
        (WL, "[1, 2]".into(), None, "wrong_type"),
        (WL, r#"{"values": [3.42]}"#.into(), None, "wrong_type"),
        (WL, r#"{"values": {"water_level_m": "3.42"}}"#.into(), None, "wrong_type"),
        (WL, r#"{"values": {"water_level_m": true}}"#.into(), None, "wrong_type"),
        (WL, r#"{"ts": "yesterday", "values": {"water_level_m": 1}}"#.into(), None, "wrong_type"),
        (WL, r#"{"ts": 1764000000000}"#.into(), None, "missing_field"),
        (WL, r#"{"values": null}"#.into(), None, "missing_field"),
        (WL, r#"{"values": {}}"#.into(), None, "missing_field"),
        (WL, r#"{"values": {"water_level_m": 1e999}}"#.into(), None, "not_finite"),
        (WL, r#"{"values": {"water_level_m": -1e999}}"#.into(), None, "not_finite"),
        (WL, r#"{"values": {"water_level_m": "NaN"}}"#.into(), None, "not_finite"),
        (WL, r#"{"values": {"water_level_m": "Infinity"}}"#.into(), None, "not_finite"),
        (WL, r#"{"ts": 1e999, "values": {"water_level_m": 1}}"#.into(), None, "not_finite"),
        (WL, r#"{"values": {"water_level": 1}}"#.into(), None, "unknown_metric"),
        (WL, r#"{"values": {"pm25_ugm3": 1}}"#.into(), None, "unknown_metric"),
        (WL, r#"{"values": {"water_level_m": 100.01}}"#.into(), None, "out_of_range"),
        (WL, r#"{"values": {"battery_pct": -1}}"#.into(), None, "out_of_range"),
        (MH, r#"{"values": {"cover_open": 0.5}}"#.into(), None, "out_of_range"),
        (MH, r#"{"values": {"tilt_deg": 181}}"#.into(), None, "out_of_range"),
        (CAM, r#"{"kind": "illegal_parking", "confidence": 1.2}"#.into(), None, "out_of_range"),
        (CAM, r#"{"kind": "ufo", "confidence": 0.9}"#.into(), None, "unknown_event_kind"),
        (
            "city/ouhai/devices/wl-1/events",
            r#"{"kind": "illegal_parking", "confidence": 0.9}"#.into(),
            None,
            "unknown_event_kind",
        ),
        (CAM, r#"{"kind": 7, "confidence": 0.9}"#.into(), None, "wrong_type"),
        (CAM, r#"{"kind": "illegal_parking"}"#.into(), None, "missing_field"),
        (CAM, r#"{"kind": "illegal_parking", "confidence": 0.9, "detail": [1]}"#.into(), None, "wrong_type"),
        (CAM, r#"{"kind": "illegal_parking", "confidence": 0.9, "detail": {"x": 1e999}}"#.into(), None, "not_finite"),
        ("city/ouhai/devices/wl-1/status", r#"{"ts": 1764000000000}"#.into(), None, "missing_field"),
        ("city/ouhai/devices/wl-1/status", r#"{"online": "no"}"#.into(), None, "wrong_type"),
        (WL, at(NOW + 5 * 60 * 1000), None, "ok"),
        (WL, at(NOW + 5 * 60 * 1000 + 1), None, "future_timestamp"),
        (WL, at(i64::MAX), None, "future_timestamp"),
        (WL, r#"{"ts": "2100-01-01T00:00:00Z", "values": {"water_level_m": 1}}"#.into(), None, "future_timestamp"),
        (WL, at(NOW - 86_400_000), None, "ok"),
        (WL, at(NOW - 86_400_001), None, "stale_timestamp"),
        (WL, at(1_764_000_000), None, "stale_timestamp"),
        (WL, at(i64::MIN), None, "stale_timestamp"),
        (WL, r#"{"values": {"water_level_m": 1}, "position": [120, 28]}"#.into(), None, "bad_position"),
        (WL, r#"{"values": {"water_level_m": 1}, "position": {"lon": 120}}"#.into(), None, "bad_position"),
        (WL, r#"{"values": {"water_level_m": 1}, "position": {"lon": 1e999, "lat": 1}}"#.into(), None, "bad_position"),
        (WL, r#"{"values": {"water_level_m": 1}, "position": {"lon": "120", "lat": 1}}"#.into(), None, "bad_position"),
        (WL, r#"{"values": {"water_level_m": 1}, "position": {"lon": 120, "lat": 91}}"#.into(), None, "bad_position"),
    ];
    let mut reached = BTreeSet::new();
    for (topic, payload, sender, expected) in &cases {
        reached.insert(check(topic, payload, *sender, expected));
    }
    reached.remove("ok");
    assert_eq!(reached, Rejection::REASONS.into_iter().collect::<BTreeSet<_>>(), "every reason reached");
}

#[test]
fn checks_run_in_the_documented_order() {
    // A bad topic wins over a bad payload; a foreign sender over an unknown device; size over JSON.
    check("city/x/devices/wl 1/telemetry", "{", Some("wl-2"), "bad_topic");
    check("city/ouhai/devices/wl-9/telemetry", "{", Some("wl-1"), "not_own_topic");
    check("city/ouhai/devices/wl-9/telemetry", "{", None, "unknown_device");
    check(WL, &"{".repeat(20_000), None, "oversized_payload");
    // The timestamp is checked before the values.
    check(WL, r#"{"ts": 1, "values": {"water_level_m": 1e999}}"#, None, "stale_timestamp");
}

#[test]
fn bytes_that_are_not_utf8_are_bad_json() {
    let payload = b"{\"values\": {\"water_level_m\": \xff}}";
    let result = decode(WL, payload, None, &registry(), NOW, &DecodeLimits::default());
    assert_eq!(result.unwrap_err().reason(), "bad_json");
}

#[test]
fn wire_text_is_clipped() {
    let metric = "m".repeat(1000);
    let payload = format!(r#"{{"values": {{"{metric}": 1}}}}"#);
    let Err(Rejection::UnknownMetric { metric: kept, .. }) = run(WL, &payload, None) else { panic!() };
    assert_eq!(kept.len(), 64);
    let Err(Rejection::NotOwnTopic { sender, .. }) = run(WL, r#"{}"#, Some(&"s".repeat(500))) else { panic!() };
    assert_eq!(sender.len(), 64);
}
