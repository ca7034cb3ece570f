//! The example intake mappings shipped in `data/ouhai/cases/mappings/`, applied to their sample
//! payloads: each mapped case is checked field by field, then damaged payloads show the
//! errors a source gets back.

use std::path::PathBuf;

use chrono::{DateTime, TimeZone, Utc};
use cockpit_events::{
    CaseMapping, CategoryCode, CategoryTree, Crs, EventsError, FieldProblem, GeoPoint, NewCase, RegionCode, Reporter,
    SourceId, SourceRef, Tag, TimeLimit, Urgency,
};
use serde_json::Value;

fn read(name: &str) -> String {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "..", "data", "ouhai", "cases", "mappings", name].iter().collect();
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn categories() -> CategoryTree {
    serde_json::from_str(&read("../categories.json")).unwrap_or_else(|e| panic!("../categories.json: {e}"))
}

fn mapping(name: &str) -> CaseMapping {
    CaseMapping::from_json(&read(&format!("{name}.json")), &categories()).unwrap_or_else(|e| panic!("{name}.json: {e}"))
}

fn sample(name: &str) -> Value {
    serde_json::from_str(&read(&format!("{name}.sample.json"))).unwrap_or_else(|e| panic!("{name}.sample.json: {e}"))
}

fn received() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 12, 2, 0, 0).unwrap()
}

fn map(name: &str, document: &Value) -> Result<NewCase, EventsError> {
    mapping(name).apply(document, &categories(), received())
}

#[test]
fn hotline_ticket_maps_field_by_field() {
    let case = map("hotline-12345", &sample("hotline-12345")).unwrap();
    assert_eq!(case.source, SourceId::from("hotline-12345"));
    assert_eq!(case.source_ref, Some(SourceRef::from("WZ12345-20260309-004217")));
    assert_eq!(case.title, "小区门口垃圾堆积三天无人清运");
    assert!(case.description.starts_with("来电人反映：梧田街道"), "{}", case.description);
    assert_eq!(case.category, CategoryCode::from("0102"));
    assert_eq!(case.urgency, Urgency::Urgent);
    assert_eq!(case.tags, [Tag::Custom("重复来电".into()), Tag::Sensitive]);
    assert_eq!(
        case.reporter,
        Some(Reporter {
            name: Some("测试来电人甲".into()), phone: Some("13800000000".into()), ..Reporter::default()
        })
    );
    assert_eq!(case.address.as_deref(), Some("浙江省温州市瓯海区梧田街道样例路1号"));
    assert_eq!(case.location, Some(GeoPoint { lon: 120.6585, lat: 27.954 }));
    assert_eq!(case.crs, Crs::Gcj02);
    // 受理时间 is local time in China: 10:12:30 at UTC+8.
    assert_eq!(case.occurred_at, Utc.with_ymd_and_hms(2026, 3, 9, 2, 12, 30).unwrap());
    assert_eq!(case.region_hint, None);
    assert_eq!(categories().time_limit(&case.category, case.urgency), Some(TimeLimit::WorkingHours(4)));
}

#[test]
fn grassroots_case_maps_field_by_field() {
    let case = map("grassroots-platform", &sample("grassroots-platform")).unwrap();
    assert_eq!(case.source, SourceId::from("grassroots-platform"));
    assert_eq!(case.source_ref, Some(SourceRef::from("JCZL-330304005-20260312-000187")));
    assert_eq!(case.title, "邻里因违规搭建雨棚发生纠纷");
    assert!(case.description.contains("需街道综治中心协调调解"), "{}", case.description);
    assert_eq!(case.category, CategoryCode::from("0701"));
    assert_eq!(case.urgency, Urgency::Urgent);
    assert_eq!(case.tags, [Tag::Difficult, Tag::Custom("重点关注".into())]);
    assert_eq!(
        case.reporter,
        Some(Reporter {
            name: Some("测试网格员乙".into()), phone: Some("13900000000".into()), ..Reporter::default()
        })
    );
    assert_eq!(case.address.as_deref(), Some("浙江省温州市瓯海区娄桥街道样例村8号"));
    assert_eq!(case.location, Some(GeoPoint { lon: 120.6147, lat: 27.9585 }));
    assert_eq!(case.crs, Crs::Wgs84);
    assert_eq!(case.occurred_at, Utc.with_ymd_and_hms(2026, 3, 12, 1, 10, 0).unwrap());
    assert_eq!(case.region_hint, Some(RegionCode::from("330304005")));
    assert_eq!(categories().time_limit(&case.category, case.urgency), Some(TimeLimit::WorkingHours(4)));
}

/// Applies a change to a sample and returns the (field, path, problem) list it causes.
fn damage(name: &str, change: impl FnOnce(&mut Value)) -> Vec<(String, String, FieldProblem)> {
    let mut document = sample(name);
    change(&mut document);
    match map(name, &document) {
        Err(EventsError::Mapping { errors }) => errors.into_iter().map(|e| (e.field, e.path, e.reason)).collect(),
        other => panic!("expected mapping errors, got {other:?}"),
    }
}

fn error(field: &str, path: &str, reason: FieldProblem) -> (String, String, FieldProblem) {
    (field.to_owned(), path.to_owned(), reason)
}

#[test]
fn damaged_hotline_tickets_name_each_field() {
    let errors = damage("hotline-12345", |doc| {
        doc["data"]["gdbh"] = Value::Null;
        doc["data"]["jjcd"] = "5".into();
        doc["data"]["jwd"] = "28.0,120.6".into();
        doc["data"]["slsj"] = "2026年3月9日".into();
    });
    assert_eq!(
        errors,
        [
            error("source_ref", "data.gdbh", FieldProblem::Missing),
            error("urgency", "data.jjcd", FieldProblem::UnknownValue { value: "5".into() }),
            error("location", "data.jwd", FieldProblem::OutOfRange { value: "120.6".into() }),
            error(
                "occurred_at",
                "data.slsj",
                FieldProblem::Unparsable { value: "2026年3月9日".into(), format: "%Y-%m-%d %H:%M:%S".into() }
            ),
        ]
    );
    let unknown = map("hotline-12345", &{
        let mut doc = sample("hotline-12345");
        doc["data"]["sqlx"] = "政策咨询-社保".into();
        doc
    });
    assert_eq!(unknown.map(|case| case.category), Ok(CategoryCode::from("06")), "unlisted types are 其他事件");
}

#[test]
fn damaged_grassroots_cases_name_each_field() {
    let errors = damage("grassroots-platform", |doc| {
        doc["event"]["place"]["coordinates"] = Value::Array(vec![]);
        doc["event"]["eventDesc"] = "   ".into();
        doc["event"]["urgentLevel"] = Value::Bool(true);
    });
    assert_eq!(
        errors,
        [
            error("description", "event.eventDesc", FieldProblem::Missing),
            error(
                "urgency",
                "event.urgentLevel",
                FieldProblem::WrongType { expected: "text or number".into(), found: "a boolean".into() }
            ),
            error("longitude", "event.place.coordinates[0].lng", FieldProblem::Missing),
            error("latitude", "event.place.coordinates[0].lat", FieldProblem::Missing),
        ]
    );
}
