//! Refusals that name their field: control characters, and typed bodies and queries.

use super::*;

#[test]
fn control_characters_are_refused_by_name() {
    let uri = |u: &str| u.parse::<axum::http::Uri>().unwrap_or_else(|e| panic!("{u}: {e}"));
    let field = |r: Result<(), ApiError>| match r {
        Err(ApiError::BadParameter { field, .. }) => field,
        other => panic!("{other:?}"),
    };
    assert!(check_uri("/api/cases", &uri("/api/cases?q=%E6%B3%BD&region=330304")).is_ok());
    assert_eq!(field(check_uri("/api/cases", &uri("/api/cases?q=a%00b"))), "q");
    assert_eq!(field(check_uri("/api/cases", &uri("/api/cases?region=1%0a2"))), "region");
    assert_eq!(field(check_uri("/api/attachments/{id}", &uri("/api/attachments/x%00y"))), "id");
    assert!(check_uri("/api/attachments/{id}", &uri("/api/attachments/x%2500y")).is_ok());
    assert_eq!(field(check_uri("/api/cases", &uri("/api/cases?region=1&q=a&region=2"))), "region");
    assert!(check_json(&serde_json::json!({"description": "两行\n文字\t"})).is_ok());
    assert_eq!(field(check_json(&serde_json::json!({"reporter": {"name": "a\u{0}"}}))), "reporter.name");
    assert_eq!(field(check_json(&serde_json::json!({"tags": ["a", "b\u{7}"]}))), "tags[1]");
}

#[test]
fn typed_requests_name_the_field_at_fault() {
    #[derive(Debug, serde::Deserialize)]
    struct Point {
        lon: f64,
        #[allow(dead_code)]
        lat: f64,
    }
    #[derive(Debug, serde::Deserialize)]
    struct Body {
        #[allow(dead_code)]
        name: String,
        #[allow(dead_code)]
        at: Option<Point>,
        #[allow(dead_code)]
        tags: Option<Vec<String>>,
    }
    #[derive(Debug, serde::Deserialize)]
    struct Filter {
        limit: Option<usize>,
        overdue: Option<bool>,
    }
    let field = |r: Result<Body, ApiError>| match r {
        Err(ApiError::BadParameter { field, .. }) => field,
        other => panic!("{other:?}"),
    };
    use serde_json::json;
    assert_eq!(field(from_body(json!({}))), "name");
    assert_eq!(field(from_body(json!({"name": "  "}))), "name");
    assert_eq!(field(from_body(json!({"name": "x", "at": {"lat": 1}}))), "at.lon");
    assert_eq!(field(from_body(json!({"name": "x", "at": {"lon": "a", "lat": 1}}))), "at.lon");
    assert_eq!(field(from_body(json!({"name": "x", "tags": "a"}))), "tags");
    assert_eq!(field(from_body(json!([1]))), "body");
    let body: Body = from_body(json!({"name": "x", "at": {"lon": 120.5, "lat": 28}})).unwrap();
    assert_eq!(body.at.map(|p| p.lon), Some(120.5));

    let query =
        |pairs: &[(&str, &str)]| -> Query { pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect() };
    let filter: Filter = from_query(&query(&[("limit", " 20 "), ("overdue", "")])).unwrap();
    assert_eq!((filter.limit, filter.overdue), (Some(20), None));
    match from_query::<Filter>(&query(&[("limit", "abc")])) {
        Err(ApiError::BadParameter { field, .. }) => assert_eq!(field, "limit"),
        other => panic!("{other:?}"),
    }
    match from_query::<Filter>(&query(&[("overdue", "maybe")])) {
        Err(ApiError::BadParameter { field, .. }) => assert_eq!(field, "overdue"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn typed_bodies_and_queries_name_the_member_at_fault() {
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)] // read by the assertions' Debug only
    struct Reporter {
        name: String,
    }
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Body {
        title: String,
        reporter: Option<Reporter>,
    }
    #[derive(Debug, serde::Deserialize)]
    struct Filter {
        #[serde(default, deserialize_with = "blank_as_none")]
        limit: Option<u32>,
        #[serde(default, deserialize_with = "blank_as_none")]
        open: Option<bool>,
    }
    fn refusal<T: std::fmt::Debug>(r: Result<T, ApiError>) -> (String, String) {
        match r {
            Err(ApiError::BadParameter { field, reason }) => (field, reason),
            other => panic!("{other:?}"),
        }
    }
    let body = |v| from_json::<Body>(v);
    assert_eq!(refusal(body(serde_json::json!({}))), ("title".to_string(), "is required".to_string()));
    assert_eq!(refusal(body(serde_json::json!({"title": "t", "reporter": {}}))).0, "reporter.name");
    assert_eq!(refusal(body(serde_json::json!({"title": 5}))).0, "title");
    assert_eq!(refusal(body(serde_json::json!("a text"))).0, "body");
    assert!(body(serde_json::json!({"title": "t", "reporter": {"name": "n"}})).is_ok());

    let filter = from_query_string::<Filter>("limit=7&open=true&other=x").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((filter.limit, filter.open), (Some(7), Some(true)));
    let blank = from_query_string::<Filter>("limit=%20&open=").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((blank.limit, blank.open), (None, None));
    let (field, reason) = refusal(from_query_string::<Filter>("limit=seven"));
    assert_eq!(field, "limit");
    assert!(reason.contains("`seven`"), "{reason}");
    assert_eq!(refusal(from_query_string::<Filter>("open=maybe")).0, "open");
}

/// Blank is what the document's blank patterns say (spaces, tabs, line ends), no other
/// white space: a query value of U+0085 is a value, to be checked, not an absent one.
#[test]
fn blank_is_what_the_document_calls_blank() {
    #[derive(Debug, serde::Deserialize)]
    struct Search {
        q: Option<String>,
    }
    let q = |query: &str| from_query_string::<Search>(query).unwrap_or_else(|e| panic!("{query}: {e:?}")).q;
    assert_eq!(q("q=+++"), None);
    assert_eq!(q("q=%20%E6%B3%BD%20"), Some("泽".to_string()));
    assert_eq!(q("q=%C2%85"), Some("\u{85}".to_string()));
    assert_eq!(q("q=%E3%80%80"), Some("\u{3000}".to_string()));
    assert_eq!(trimmed(" \t\r\nA \n"), "A");
}
