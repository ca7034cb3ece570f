//! Mapping rules one by one on small documents: each kind of failure names its field and
//! path, dictionaries and defaults translate, points and times take their usual forms.

use chrono::TimeZone;
use serde_json::json;

use super::*;
use crate::category::tests::sample as categories;
use crate::error::FieldProblem as P;

fn received() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 10, 1, 0, 0).unwrap()
}

/// A mapping with the point as separate coordinates, every dictionary in use.
fn mapping() -> CaseMapping {
    let text = json!({
        "source": "test-source",
        "fields": {
            "source_ref": {"path": "id", "required": true},
            "description": {"path": "body"},
            "category": {"path": "kind", "dictionary": {"垃圾": "0102", "积水": "0503"}, "otherwise": "06"},
            "urgency": {"path": "level", "dictionary": {"1": "normal", "2": "urgent", "3": "critical"}},
            "tags": {"path": "labels"},
            "longitude": {"path": "pos.lng"},
            "latitude": {"path": "pos.lat"},
            "occurred_at": {"path": "time", "format": "%Y-%m-%d %H:%M:%S"},
            "address": {"path": "addr", "default": "地址不详"}
        }
    });
    CaseMapping::from_json(&text.to_string(), &categories()).unwrap()
}

fn errors(document: Value) -> Vec<(String, String, FieldProblem)> {
    match mapping().apply(&document, &categories(), received()) {
        Err(EventsError::Mapping { errors }) => errors.into_iter().map(|e| (e.field, e.path, e.reason)).collect(),
        other => panic!("expected mapping errors, got {other:?}"),
    }
}

fn error(field: &str, path: &str, reason: FieldProblem) -> (String, String, FieldProblem) {
    (field.to_owned(), path.to_owned(), reason)
}

#[test]
fn a_complete_document_maps_field_by_field() {
    let document = json!({"id": 17, "body": "路口有积水约20厘米深，车辆无法通行", "kind": "积水", "level": 3,
                          "labels": "应急, 敏感,应急", "pos": {"lng": "120.65", "lat": 28.01},
                          "time": "2026-03-10 08:15:00"});
    let case = mapping().apply(&document, &categories(), received()).unwrap();
    assert_eq!(case.source_ref, Some(SourceRef::from("17")));
    assert_eq!(case.category, CategoryCode::from("0503"));
    assert_eq!(case.urgency, Urgency::Critical);
    assert_eq!(case.tags, [Tag::Emergency, Tag::Sensitive]);
    assert_eq!(case.location, Some(GeoPoint { lon: 120.65, lat: 28.01 }));
    assert_eq!(case.occurred_at, Utc.with_ymd_and_hms(2026, 3, 10, 0, 15, 0).unwrap());
    assert_eq!(case.address.as_deref(), Some("地址不详"));
    assert_eq!(case.title, "路口有积水约20厘米深，车辆无法通行");
    assert_eq!(case.reporter, None);
}

#[test]
fn defaults_fallbacks_and_derived_fields() {
    let long = "小区门口垃圾桶满溢，垃圾散落一地，已经三天没人清理了，气味很大，请尽快处理";
    let document = json!({"id": "A-1", "body": long, "kind": "宠物扰民", "pos": {"lng": 0, "lat": 0}});
    let case = mapping().apply(&document, &categories(), received()).unwrap();
    assert_eq!(case.category, CategoryCode::from("06"), "unknown kinds fall back to `otherwise`");
    assert_eq!(case.urgency, Urgency::Normal);
    assert_eq!(case.occurred_at, received());
    assert_eq!(case.location, None, "(0, 0) means no point");
    assert_eq!(case.title.chars().count(), 31);
    assert!(case.title.ends_with('…') && long.starts_with(case.title.trim_end_matches('…')));
}

#[test]
fn every_failing_field_is_reported_with_its_path() {
    let check = |document: Value, expected: Vec<(String, String, FieldProblem)>| {
        assert_eq!(errors(document.clone()), expected, "{document}");
    };
    check(
        json!({"kind": "垃圾"}),
        vec![error("source_ref", "id", P::Missing), error("description", "body", P::Missing)],
    );
    check(
        json!({"id": "1", "body": {"text": "x"}, "kind": "垃圾", "level": "9"}),
        vec![
            error("description", "body", P::WrongType { expected: "text or number".into(), found: "an object".into() }),
            error("urgency", "level", P::UnknownValue { value: "9".into() }),
        ],
    );
    check(
        json!({"id": "1", "body": "x", "kind": "垃圾", "pos": {"lng": 200.5, "lat": "north"}}),
        vec![
            error("longitude", "pos.lng", P::OutOfRange { value: "200.5".into() }),
            error("latitude", "pos.lat", P::WrongType { expected: "number".into(), found: "text".into() }),
        ],
    );
    check(
        json!({"id": "1", "body": "x", "kind": "垃圾", "pos": {"lng": 120.6}}),
        vec![error("latitude", "pos.lat", P::Missing)],
    );
    check(
        json!({"id": "1", "body": "x", "kind": "垃圾", "time": "2026/03/10 08:15", "labels": true}),
        vec![
            error("tags", "labels", P::WrongType { expected: "list or text".into(), found: "a boolean".into() }),
            error(
                "occurred_at",
                "time",
                P::Unparsable { value: "2026/03/10 08:15".into(), format: "%Y-%m-%d %H:%M:%S".into() },
            ),
        ],
    );
}

#[test]
fn points_and_times_in_their_other_forms() {
    let mapping = |location: Value, time: Value| {
        let text = json!({"source": "s", "utc_offset_minutes": 0, "fields": {
            "description": {"default": "d"}, "category": {"default": "0102"},
            "location": location, "occurred_at": time}});
        CaseMapping::from_json(&text.to_string(), &categories()).unwrap()
    };
    let check = |document: Value, time_format: Option<&str>, expected: Result<(f64, f64, i64), String>| {
        let time = json!({"path": "t", "format": time_format});
        let result = mapping(json!({"path": "p"}), time).apply(&document, &categories(), received());
        let got = result
            .map(|case| {
                let point = case.location.unwrap();
                (point.lon, point.lat, case.occurred_at.timestamp())
            })
            .map_err(|e| e.to_string());
        assert_eq!(got, expected, "{document}");
    };
    check(json!({"p": "120.1,28.2", "t": "2026-03-10T09:00:00+08:00"}), None, Ok((120.1, 28.2, 1_773_104_400)));
    check(json!({"p": "120.1， 28.2", "t": 1_773_104_400}), Some("epoch_seconds"), Ok((120.1, 28.2, 1_773_104_400)));
    check(json!({"p": [120.1, "28.2"], "t": "1773104400000"}), Some("epoch_millis"), Ok((120.1, 28.2, 1_773_104_400)));
    check(
        json!({"p": "2026-03-10 09:00:00", "t": "2026-03-10 01:00:00"}),
        Some("%Y-%m-%d %H:%M:%S"),
        Err("1 field(s) rejected: location <- `p`: expected \"lng,lat\" text or [lng, lat], found text".into()),
    );
    check(
        json!({"p": [28.2, 120.1], "t": 0}),
        Some("epoch_seconds"),
        Err("1 field(s) rejected: location <- `p`: 120.1 is out of range".into()),
    );
}

#[test]
fn mappings_that_cannot_work_are_refused_at_load() {
    let check = |fields: Value, expected: &str| {
        let text = json!({"source": "s", "fields": fields}).to_string();
        let error = CaseMapping::from_json(&text, &categories()).unwrap_err().to_string();
        assert!(error.contains(expected), "{error}");
    };
    check(json!({"category": {"path": "k", "dictionary": {"x": "0999"}}}), "unknown category 0999");
    check(json!({"category": {"path": "k", "otherwise": "77"}}), "unknown category 77");
    check(json!({"urgency": {"path": "u", "dictionary": {"1": "紧急"}}}), "unknown urgency");
    check(json!({"location": {"path": "p"}, "latitude": {"path": "y"}}), "both as location");
    check(json!({"title": {"path": "a..b"}}), "empty key");
    check(json!({"title": {"path": "t", "requred": true}}), "unknown field `requred`");
    check(json!({"colour": {"path": "c"}}), "unknown variant `colour`");
    let text = json!({"source": "s", "utc_offset_minutes": 1440, "fields": {}}).to_string();
    assert!(CaseMapping::from_json(&text, &categories()).is_err());
}
