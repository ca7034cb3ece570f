//! A deterministic fuzz run: tens of thousands of generated and mutated messages from a
//! fixed seed. Whatever the bytes, the decoder must return a sound value or a rejection
//! with one of the known reasons, and the generator must be good enough to reach every
//! reason (otherwise the run proves little).

use std::collections::BTreeMap;

use super::tests::registry;
use super::*;
use crate::rejection::RejectionCounts;

const NOW: i64 = 1_764_000_000_000;
const RUNS: usize = 60_000;

/// SplitMix64: tiny, seeded, and the same on every platform and dependency update.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

const TOPICS: &[&str] = &[
    "city/ouhai/devices/wl-1/telemetry",
    "city/ouhai/devices/wl-1/status",
    "city/ouhai/devices/mh-1/telemetry",
    "city/ouhai/devices/cam-1/events",
    "city/ouhai/devices/cam-1/telemetry",
    "city/ouhai/devices/wl-1/events",
    "city/ouhai/devices/ghost/telemetry",
];

const SEEDS: &[&str] = &[
    r#"{"ts": 1764000000000, "values": {"water_level_m": 3.42, "battery_pct": 88}, "position": {"lon": 120.64, "lat": 27.97}}"#,
    r#"{"values": {"tilt_deg": 12.5, "cover_open": true}}"#,
    r#"{"online": false}"#,
    r#"{"ts": "2025-11-24T16:00:00Z", "kind": "illegal_parking", "confidence": 0.91, "detail": {"plate": "浙C"}}"#,
];

/// Well-formed messages with holes (`$`) for values from [`SCALARS`].
const TEMPLATES: &[(&str, &str)] = &[
    (
        "city/ouhai/devices/wl-1/telemetry",
        r#"{"ts": $, "values": {"water_level_m": $, "battery_pct": $}, "position": {"lon": $, "lat": 27.9}}"#,
    ),
    ("city/ouhai/devices/wl-1/telemetry", r#"{"values": {"water_level_m": $, "flow_velocity_ms": $}}"#),
    ("city/ouhai/devices/mh-1/telemetry", r#"{"values": {"tilt_deg": $, "cover_open": $}}"#),
    ("city/ouhai/devices/mh-1/status", r#"{"online": $}"#),
    ("city/ouhai/devices/cam-1/events", r#"{"kind": $, "confidence": $, "detail": {"plate": $}}"#),
];

/// Values that fit most holes.
const FITTING: &[&str] = &["3.42", "88", "1", "0", "false", "\"illegal_parking\"", "1764000000000"];

const KEYS: &[&str] = &[
    "ts",
    "values",
    "position",
    "online",
    "kind",
    "confidence",
    "detail",
    "lon",
    "lat",
    "water_level_m",
    "battery_pct",
    "tilt_deg",
    "cover_open",
    "flow_velocity_ms",
    "temperature_c",
    "pm25_ugm3",
    "junk",
    "",
];

const SCALARS: &[&str] = &[
    "0",
    "-0",
    "1",
    "-1",
    "3.42",
    "88",
    "100.0001",
    "1e999",
    "-1e999",
    "1e-999",
    "1764000000000",
    "1763990000000",
    "1764000300001",
    "9223372036854775807",
    "-9223372036854775808",
    "99999999999999999999",
    "0.5",
    "true",
    "false",
    "null",
    "\"NaN\"",
    "\"Infinity\"",
    "\"-inf\"",
    "\"3.42\"",
    "\"2025-11-24T16:00:00Z\"",
    "\"illegal_parking\"",
    "\"ufo\"",
    "\"\"",
    "\"\\u0000\"",
    "\"\\ud800\"",
    "[]",
    "{}",
    "[1,2]",
];

const TOKENS: &[&str] =
    &["{", "}", "[", "]", ",", ":", "\"", "\\", "1e999", "NaN", "-", "null", "\u{0}", "\u{fffd}", "{\"a\":", "\n"];

/// A random JSON-ish value, `depth` levels deep at most.
fn value(rng: &mut SplitMix64, depth: usize) -> String {
    match rng.below(if depth == 0 { 1 } else { 4 }) {
        0 => rng.pick(SCALARS).to_owned(),
        1 => format!("[{}]", (0..rng.below(4)).map(|_| value(rng, depth - 1)).collect::<Vec<_>>().join(",")),
        _ => object(rng, depth - 1),
    }
}

/// A random JSON-ish object with keys from the vocabulary.
fn object(rng: &mut SplitMix64, depth: usize) -> String {
    let members: Vec<String> =
        (0..rng.below(5)).map(|_| format!("\"{}\": {}", rng.pick(KEYS), value(rng, depth))).collect();
    format!("{{{}}}", members.join(", "))
}

/// A payload: a seed mutated at the byte level, a generated object, or raw noise.
fn payload(rng: &mut SplitMix64) -> Vec<u8> {
    match rng.below(10) {
        0..=5 => {
            let mut bytes = rng.pick(SEEDS).as_bytes().to_vec();
            for _ in 0..=rng.below(4) {
                let at = rng.below(bytes.len() + 1);
                match rng.below(5) {
                    0 if at < bytes.len() => bytes[at] = rng.next() as u8,
                    1 => bytes.splice(at..at, rng.pick(TOKENS).bytes()).for_each(drop),
                    2 => bytes.truncate(at),
                    3 if at < bytes.len() => {
                        let end = (at + rng.below(8)).min(bytes.len());
                        bytes.drain(at..end).for_each(drop);
                    }
                    _ => bytes.splice(at..at, rng.pick(SCALARS).bytes()).for_each(drop),
                }
            }
            bytes
        }
        6..=8 => object(rng, 3).into_bytes(),
        _ => (0..rng.below(64)).map(|_| rng.next() as u8).collect(),
    }
}

/// A template filled in: mostly well-formed and accepted.
fn template(rng: &mut SplitMix64) -> (String, Vec<u8>) {
    let (topic, template) = rng.pick(TEMPLATES);
    let mut filled = String::new();
    for (i, part) in template.split('$').enumerate() {
        if i > 0 {
            let value: &str = if rng.chance(85) { rng.pick(FITTING) } else { rng.pick(SCALARS) };
            filled.push_str(value);
        }
        filled.push_str(part);
    }
    (topic.to_owned(), filled.into_bytes())
}

/// A topic: mostly well-formed, sometimes mutated.
fn topic(rng: &mut SplitMix64) -> String {
    let mut topic = rng.pick(TOPICS).to_owned();
    if rng.chance(10) {
        let at = rng.below(topic.len() + 1);
        let chars = ["/", "+", "#", " ", "", "é"];
        topic = format!("{}{}{}", &topic[..at], rng.pick(&chars), &topic[(at + 1).min(topic.len())..]);
    }
    topic
}

#[test]
fn no_bytes_make_the_decoder_panic() {
    let registry = registry();
    let mut rng = SplitMix64(0x00C0_FFEE_2025_1124);
    let mut counts = RejectionCounts::new();
    let mut accepted = 0;
    let mut by_kind: BTreeMap<&str, usize> = BTreeMap::new();
    for _ in 0..RUNS {
        let (topic, payload) = if rng.chance(30) { template(&mut rng) } else { (topic(&mut rng), payload(&mut rng)) };
        let sender = match rng.below(10) {
            0 => Some("wl-1"),
            1 => Some("cam-1"),
            _ => None,
        };
        let mut limits = DecodeLimits::default();
        if rng.chance(5) {
            limits.max_payload_bytes = rng.below(64);
        }
        if rng.chance(2) {
            limits = DecodeLimits { max_payload_bytes: usize::MAX, max_future_ms: i64::MAX, max_age_ms: i64::MAX };
        }
        let now_ms = if rng.chance(2) { rng.pick(&[i64::MIN, -1, 0, i64::MAX]) } else { NOW };
        match decode(&topic, &payload, sender, &registry, now_ms, &limits) {
            Ok(decoded) => {
                accepted += 1;
                *by_kind
                    .entry(match decoded {
                        Decoded::Reading(_) => "reading",
                        Decoded::Status(_) => "status",
                        Decoded::Event(_) => "event",
                    })
                    .or_default() += 1;
                assert_sound(&decoded, now_ms, &limits);
            }
            Err(rejection) => {
                assert!(Rejection::REASONS.contains(&rejection.reason()), "{rejection:?}");
                let json = serde_json::to_value(&rejection).unwrap();
                assert_eq!(json["reason"], rejection.reason());
                assert!(!rejection.to_string().is_empty());
                counts.record(&rejection);
            }
        }
    }
    assert_eq!(counts.total() + accepted as u64, RUNS as u64);
    let missed: Vec<&str> = counts.reasons().filter(|(_, n)| *n == 0).map(|(reason, _)| reason).collect();
    assert!(missed.is_empty(), "the generator never reached {missed:?}");
    assert_eq!(by_kind.len(), 3, "accepted every message kind: {by_kind:?}");
    assert!(accepted > 1_000, "only {accepted} accepted: too few to check soundness");
}
