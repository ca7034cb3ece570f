//! The route table against its document, and the document against the API's types.

use std::collections::BTreeSet;

/// The OpenAPI document of every route, as JSON.
fn openapi_json() -> String {
    serde_json::to_string_pretty(super::openapi::document()).unwrap_or_default()
}

/// Every declared route is an operation of the generated document and every operation
/// a declared route; each handler's `#[utoipa::path]` names the route it is declared
/// at, declares every path parameter, and the document shows each route's permission.
#[test]
fn the_openapi_document_is_the_route_table() {
    let table = super::route_table();
    let declared: BTreeSet<(String, String)> =
        table.iter().map(|r| (super::openapi::openapi_path(r.path), r.method.as_str().to_lowercase())).collect();
    let doc: serde_json::Value = serde_json::from_str(&openapi_json()).unwrap_or_else(|e| panic!("{e}"));
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap_or_else(|| panic!("paths")) {
        for (method, operation) in item.as_object().unwrap_or_else(|| panic!("{path}")) {
            documented.insert((path.clone(), method.clone()));
            let route = table
                .iter()
                .find(|r| {
                    super::openapi::openapi_path(r.path) == *path && r.method.as_str().eq_ignore_ascii_case(method)
                })
                .unwrap_or_else(|| panic!("{method} {path} is not declared"));
            let needs = super::openapi::permission(&route.access);
            assert_eq!(operation["x-permission"], serde_json::json!(needs), "{method} {path}");
            let description = operation["description"].as_str().unwrap_or_default();
            assert!(description.contains(&needs), "{method} {path}: {description}");
            for segment in path.split('/') {
                if let Some(name) = segment.strip_prefix('{').and_then(|n| n.strip_suffix('}')) {
                    let declared = operation["parameters"]
                        .as_array()
                        .is_some_and(|ps| ps.iter().any(|p| p["name"] == name && p["in"] == "path"));
                    assert!(declared, "{method} {path} does not declare its path parameter {name}");
                }
            }
        }
    }
    for route in &table {
        let documented = (route.doc)();
        let what = format!("the #[utoipa::path] of {} {}", route.method, route.path);
        assert_eq!(documented.path, super::openapi::openapi_path(route.path), "{what}");
        let methods: Vec<String> =
            documented.methods.iter().map(|m| serde_json::json!(m).as_str().unwrap_or_default().to_string()).collect();
        assert_eq!(methods, [route.method.as_str().to_lowercase()], "{what}");
    }
    assert!(declared.len() > 40, "found only {declared:?}");
    assert_eq!(declared, documented);
}

/// Every `$ref` of the document names one of its schemas, and the typed requests show
/// the values they accept, so that generated requests are ones the server takes.
#[test]
fn the_typed_requests_document_what_they_accept() {
    let doc: serde_json::Value = serde_json::from_str(&openapi_json()).unwrap_or_else(|e| panic!("{e}"));
    fn refs(value: &serde_json::Value, out: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(members) => {
                for (key, item) in members {
                    match (key.as_str(), item.as_str()) {
                        ("$ref", Some(target)) => out.push(target.to_string()),
                        _ => refs(item, out),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|i| refs(i, out)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    refs(&doc, &mut found);
    for target in &found {
        let name = target.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("{target}"));
        assert!(doc["components"]["schemas"][name].is_object(), "{target} is not in the document");
    }
    // The schema with its references written out (three deep: `FreeJson` refers to itself).
    fn inline(schema: &serde_json::Value, doc: &serde_json::Value, depth: u32) -> serde_json::Value {
        match schema {
            serde_json::Value::Object(members) => {
                if let Some(name) = members.get("$ref").and_then(|r| r.as_str()) {
                    let name = name.trim_start_matches("#/components/schemas/");
                    return if depth == 0 {
                        serde_json::Value::Null
                    } else {
                        inline(&doc["components"]["schemas"][name], doc, depth - 1)
                    };
                }
                members.iter().map(|(k, v)| (k.clone(), inline(v, doc, depth))).collect()
            }
            serde_json::Value::Array(items) => items.iter().map(|i| inline(i, doc, depth)).collect(),
            other => other.clone(),
        }
    }
    let resolve = |schema: &serde_json::Value| inline(schema, &doc, 3);
    let parameter = |path: &str, method: &str, name: &str| -> serde_json::Value {
        let ps = doc["paths"][path][method]["parameters"].as_array().cloned().unwrap_or_default();
        let p = ps.into_iter().find(|p| p["name"] == name).unwrap_or_else(|| panic!("{method} {path} has no {name}"));
        resolve(&p["schema"])
    };
    let check = |schema: serde_json::Value, expected: &str| {
        let shown = schema.to_string();
        assert!(shown.contains(expected), "{shown} does not show {expected}");
    };
    check(parameter("/api/cases", "get", "sort"), r#"["newest","oldest","deadline","urgency"]"#);
    check(parameter("/api/cases", "get", "urgency"), r#"["normal","urgent","critical"]"#);
    check(parameter("/api/cases", "get", "assigned"), r#"["me"]"#);
    check(parameter("/api/cases", "get", "region"), r#""pattern""#);
    check(parameter("/api/cases", "get", "near"), r#""pattern""#);
    check(parameter("/api/cases", "get", "status"), "in_progress");
    check(parameter("/api/cases/stats", "get", "level"), r#"["street","village","grid"]"#);
    check(parameter("/api/cases/stats", "get", "category"), r#""pattern""#);
    check(parameter("/api/regions", "get", "level"), r#"["district","street","village","grid"]"#);
    check(parameter("/api/regions/{code}", "get", "code"), r#""pattern""#);
    check(parameter("/api/locate", "get", "crs"), r#"["wgs84","gcj02"]"#);
    check(parameter("/api/nearby", "get", "radius"), r#""maximum":50000"#);
    check(parameter("/api/search", "get", "q"), r#""minLength":1"#);
    check(parameter("/api/nearby", "get", "layer"), r#""minLength":1"#);
    check(parameter("/api/cases", "get", "q"), r#""pattern":"^[^\\x00-\\x1F\\x7F]*$""#);
    check(parameter("/api/cases/{id}/actions", "post", "Idempotency-Key"), r#""pattern""#);
    let body = &doc["paths"]["/api/cases"]["post"]["requestBody"]["content"]["application/json"]["schema"];
    let body = resolve(body);
    assert_eq!(body["required"], serde_json::json!(["description", "category"]), "{body}");
    check(resolve(&body["properties"]["entry"]), r#"["manual","third_party"]"#);
    check(body["properties"]["category"].clone(), r#""pattern""#);
}

/// Only these routes are open without a user; every other one names what it needs.
#[test]
fn only_the_known_routes_are_public() {
    let open: BTreeSet<&str> = super::route_table()
        .into_iter()
        .filter(|r| matches!(r.access, super::Access::Public | super::Access::Source))
        .map(|r| r.path)
        .collect();
    let expected: BTreeSet<&str> = [
        "/healthz",
        "/openapi.json",
        "/api/docs",
        "/api/docs/{file}",
        "/api/auth/login",
        "/api/auth/refresh",
        "/api/intake/{source}",
        "/api/indicators/push/{source}",
        "/open311/v2/services.json",
        "/open311/v2/requests.json",
        "/open311/v2/requests/{file}",
    ]
    .into();
    assert_eq!(open, expected);
}

/// The actions a person may post are every action but `auto_dispatch`, which only the
/// dispatch rules take.
#[test]
fn the_action_schema_is_every_action_but_auto_dispatch() {
    let doc: serde_json::Value = serde_json::from_str(&openapi_json()).unwrap_or_else(|e| panic!("{e}"));
    let variants = doc["components"]["schemas"]["Action"]["oneOf"].as_array().cloned().unwrap_or_default();
    let tags: BTreeSet<String> =
        variants.iter().filter_map(|v| v["properties"]["action"]["enum"][0].as_str().map(str::to_string)).collect();
    let expected: BTreeSet<String> = cockpit_events::ActionKind::ALL
        .iter()
        .filter(|k| **k != cockpit_events::ActionKind::AutoDispatch)
        .map(|k| k.as_str().to_string())
        .collect();
    assert_eq!(variants.len(), expected.len(), "one variant per action");
    assert_eq!(tags, expected);
}

/// Every successful answer of a JSON operation says what it holds: a schema with its
/// members, not a bare object (the document is generated from the handlers' types).
#[test]
fn every_json_answer_has_a_schema() {
    let doc: serde_json::Value = serde_json::from_str(&openapi_json()).unwrap_or_else(|e| panic!("{e}"));
    // Documents whose shape is theirs to define: this document itself, and the rules
    // document an operator edits whole (checked by its own validation on PUT).
    let free = ["/openapi.json", "/api/config/rules"];
    let mut bare = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap_or_else(|| panic!("paths")) {
        for (method, operation) in item.as_object().unwrap_or_else(|| panic!("{path}")) {
            for (status, answer) in operation["responses"].as_object().into_iter().flatten() {
                if !status.starts_with('2') || status == "204" || free.contains(&path.as_str()) {
                    continue;
                }
                let Some(content) = answer["content"].as_object() else {
                    bare.push(format!("{method} {path} {status}: no content"));
                    continue;
                };
                for (media, body) in content {
                    let schema = &body["schema"];
                    let untyped = schema.as_object().is_none_or(|o| o.is_empty())
                        || (schema["type"] == "object"
                            && schema.get("properties").is_none()
                            && schema.get("additionalProperties").is_none());
                    if media.contains("json") && untyped {
                        bare.push(format!("{method} {path} {status} {media}: {schema}"));
                    }
                }
            }
        }
    }
    assert!(bare.is_empty(), "answers without a schema:\n{}", bare.join("\n"));
}

/// No two schemas share a name: the document keeps one of them, and the operations of the
/// other would be documented with a schema that is not theirs (the fuzzer found an
/// `AlarmList` of indicator alarms documented as the devices' alarm list).
#[test]
fn no_two_types_share_a_schema_name() {
    let mut seen: std::collections::BTreeMap<String, (String, String)> = Default::default();
    for route in super::route_table() {
        for (name, schema) in (route.doc)().schemas {
            let text = serde_json::to_string(&schema).unwrap_or_default();
            let at = format!("{} {}", route.method, route.path);
            match seen.get(&name) {
                Some((other, first)) => assert_eq!(&text, other, "schema {name} of {at} differs from {first}'s"),
                None => {
                    seen.insert(name, (text, at));
                }
            }
        }
    }
}
