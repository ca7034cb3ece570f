//! Open311 GeoReport v2, JSON only, so that existing civic-issue apps can report cases and
//! follow them: the leaf categories as services, reporting a request, and reading requests.
//!
//! Reports arrive as the built-in source `open311` through the gateway path, so they land
//! in the pool like any other intake (geo-tagged, deadline, dispatch rules, duplicates).
//! Only requests reported through Open311 can be read back here: cases from the hotline or
//! the police are not public. The reporter's name and phone are stored (masked as
//! everywhere) and never answered; the email has no place in the case model and is dropped.
//! Errors follow the spec, `[{"code": 400, "description": "service_code: ..."}]`, with the
//! status that `ApiError` decides and the field named first in the description.

use std::collections::HashMap;

use super::params::{self, Path};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, TimeDelta, Utc};
use cockpit_events::{
    Actor, CaseId, Category, CategoryCode, Crs, EntryPath, GeoPoint, NewCase, Reporter, SourceId, Status, Urgency,
};
use serde_json::{Value, json};

use super::ApiError;
use super::stats::city_offset;
use crate::AppState;
use cockpit_store::{CaseFilter, CaseRow};

/// The source that Open311 reports are created as (see `data/<city>/cases/sources.json`).
const SOURCE: &str = "open311";
/// The spec's bound on one answer.
const MAX_REQUESTS: usize = 1000;
/// The spec's bound on a description.
const MAX_DESCRIPTION_CHARS: usize = 4000;

/// An [`ApiError`] answered in the GeoReport error format.
pub(crate) struct Open311Error(ApiError);

impl<E: Into<ApiError>> From<E> for Open311Error {
    fn from(e: E) -> Open311Error {
        Open311Error(e.into())
    }
}

impl IntoResponse for Open311Error {
    fn into_response(self) -> Response {
        // `ApiError` chooses the status (and logs an internal cause); its message names the
        // field and never carries internals.
        let description = self.0.to_string();
        let problem = self.0.into_response();
        let status = problem.status();
        let mut response =
            (status, Json(json!([{"code": status.as_u16(), "description": description}]))).into_response();
        if let Some(retry) = problem.headers().get(header::RETRY_AFTER) {
            response.headers_mut().insert(header::RETRY_AFTER, retry.clone());
        }
        response
    }
}

#[utoipa::path(get, path = "/open311/v2/services.json", summary = "Open311 GeoReport v2: services (leaf categories)", responses((status = 200, description = "services", body = [Object], content_type = "application/json")))]
/// `GET /open311/v2/services.json`: every leaf category, grouped by its parent.
pub(crate) async fn services(State(state): State<AppState>) -> Json<Value> {
    let rules = state.cases.rules.get();
    let tree = &rules.categories;
    let mut leaves = Vec::new();
    let mut stack: Vec<&Category> = tree.children(None).into_iter().rev().collect();
    while let Some(category) = stack.pop() {
        let children = tree.children(Some(&category.code));
        if children.is_empty() {
            leaves.push(category);
        } else {
            stack.extend(children.into_iter().rev());
        }
    }
    let services: Vec<Value> = leaves
        .into_iter()
        .map(|c| {
            let group = c.parent.as_ref().and_then(|p| tree.get(p)).map_or("", |p| p.name.as_str());
            json!({
                "service_code": c.code,
                "service_name": c.name,
                "description": tree.full_name(&c.code),
                "metadata": false,
                "type": "realtime",
                "keywords": "",
                "group": group,
            })
        })
        .collect();
    Json(Value::Array(services))
}

#[utoipa::path(post, path = "/open311/v2/requests.json", summary = "Open311: report a service request (api_key required: one per application, POST /api/open311/keys)", request_body(content((Object = "application/x-www-form-urlencoded"), (Object = "application/json"))), responses((status = 400, description = "[{code, description}]", body = [Object], content_type = "application/json"), (status = 200, description = "[{service_request_id, service_notice}] (GeoReport v2 answers 200)", body = [Object], content_type = "application/json"), (status = 403, description = "[{code, description}]: api_key is not a key in force", body = [Object], content_type = "application/json"), (status = 429, description = "[{code, description}]: the key's or the client address's budget is spent (Retry-After)", body = [Object], content_type = "application/json")))]
/// `POST /open311/v2/requests.json`, form-urlencoded or JSON: reports a request and answers
/// its id. `api_key` must be a key the city issued (403 otherwise); `media_url` is ignored.
pub(crate) async fn report(
    State(state): State<AppState>,
    client: crate::auth::ClientAddress,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, Open311Error> {
    let rules = &state.cases.rules.get();
    if !rules.sources.contains_key(SOURCE) {
        return Err(ApiError::NotFound(format!("Open311 is not configured: no source `{SOURCE}`")).into());
    }
    // The client's address pays for every request, a wrong key's too; a key's own budget
    // is spent only by requests that carry it.
    let (limits, budgets) = &state.open311;
    budgets.check(&format!("address:{}", client.0), limits.per_address_per_minute)?;
    let fields = fields(&headers, &body)?;
    let key = fields
        .get("api_key")
        .map(|k| k.trim())
        .filter(|k| !k.is_empty())
        .ok_or_else(|| ApiError::bad("api_key", "is required: ask the city for your application's key"))?;
    let Some(key_id) = state.cases.store.open311_key(&cockpit_access::token_digest(key)).await? else {
        return Err(ApiError::Forbidden { detail: "api_key: is not a key in force".into(), allowed: Vec::new() }.into());
    };
    budgets.check(&format!("key:{key_id}"), limits.per_key_per_minute)?;
    let text = |k: &str| fields.get(k).map(|v| v.trim()).filter(|v| !v.is_empty()).map(str::to_string);

    let code = text("service_code").ok_or_else(|| ApiError::bad("service_code", "is required"))?;
    let category = rules
        .categories
        .get(&CategoryCode::new(code.clone()))
        .filter(|c| rules.categories.children(Some(&c.code)).is_empty())
        .ok_or_else(|| ApiError::bad("service_code", format!("`{code}` is not a service: see services.json")))?;
    let coordinate = |k: &'static str| -> Result<Option<f64>, ApiError> {
        text(k).map(|v| v.parse::<f64>().map_err(|_| ApiError::bad(k, format!("`{v}` is not a number")))).transpose()
    };
    let location = match (coordinate("lat")?, coordinate("long")?) {
        (Some(lat), Some(lon)) => Some(GeoPoint::new(lon, lat).map_err(|e| ApiError::bad("lat", e.to_string()))?),
        (Some(_), None) => return Err(ApiError::bad("long", "is required with lat").into()),
        (None, Some(_)) => return Err(ApiError::bad("lat", "is required with long").into()),
        (None, None) => None,
    };
    let address = text("address_string");
    if location.is_none() && address.is_none() {
        return Err(ApiError::bad("lat", "a location is required: lat and long, or address_string").into());
    }
    let description = text("description").unwrap_or_else(|| category.name.clone());
    if description.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(ApiError::bad("description", format!("is longer than {MAX_DESCRIPTION_CHARS} characters")).into());
    }
    let name = person_name(text("first_name"), text("last_name"));
    let phone = text("phone");
    let reporter = (name.is_some() || phone.is_some()).then_some(Reporter { name, phone, ..Reporter::default() });

    let now = Utc::now();
    let new = NewCase {
        source: SourceId::new(SOURCE),
        source_ref: None,
        title: description.chars().take(30).collect(),
        description,
        category: category.code.clone(),
        urgency: Urgency::Normal,
        tags: Vec::new(),
        location,
        crs: Crs::Wgs84,
        address,
        reporter,
        occurred_at: now,
        region_hint: None,
    };
    let who = cockpit_store::AuditActor {
        actor: format!("{SOURCE}:key:{key_id}"),
        role: "source".into(),
        address: client.0.clone(),
    };
    let (created, _) =
        state.cases.create(new, EntryPath::Gateway, &Actor::source(&SourceId::new(SOURCE)), now, who).await?;
    // The same notice whether or not a similar case is open nearby: anyone may post here,
    // and a different answer would tell them what others reported.
    let notice = "已受理，将由城市运行管理中心核实处置";
    Ok(Json(json!([{"service_request_id": created.id.0.to_string(), "service_notice": notice, "account_id": null}])))
}

/// The request's fields from a JSON object or a form-urlencoded body.
fn fields(headers: &HeaderMap, body: &[u8]) -> Result<HashMap<String, String>, ApiError> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if content_type.starts_with("application/json") {
        let value: Value =
            serde_json::from_slice(body).map_err(|e| ApiError::bad("body", format!("is not JSON: {e}")))?;
        let Value::Object(object) = value else { return Err(ApiError::bad("body", "must be a JSON object")) };
        let mut fields = HashMap::new();
        for (key, value) in object {
            let text = match value {
                Value::Null => continue,
                Value::String(s) => s,
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                Value::Array(_) | Value::Object(_) if key == "media_url" || key.starts_with("attribute") => continue,
                Value::Array(_) | Value::Object(_) => return Err(ApiError::bad(&key, "must be a string or a number")),
            };
            fields.insert(key, text);
        }
        return checked(fields);
    }
    let body = std::str::from_utf8(body).map_err(|_| ApiError::bad("body", "is not UTF-8"))?;
    let mut fields = HashMap::new();
    for pair in body.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = form_decode(key).ok_or_else(|| ApiError::bad("body", "is not form-urlencoded UTF-8"))?;
        let value = form_decode(value).ok_or_else(|| ApiError::bad(&key, "is not form-urlencoded UTF-8"))?;
        fields.insert(key, value);
    }
    checked(fields)
}

/// The fields, or a 400 naming the first that holds a control character.
fn checked(fields: HashMap<String, String>) -> Result<HashMap<String, String>, ApiError> {
    match fields.iter().find(|(_, value)| params::control_in_text(value)) {
        Some((key, _)) => Err(ApiError::bad(key, "contains a control character")),
        None => Ok(fields),
    }
}

/// Decodes one `application/x-www-form-urlencoded` component: `+` is a space, `%XX` a byte.
/// Kept by hand because the crates decode leniently: serde_urlencoded 0.7.1 parses with
/// form_urlencoded 1.2.2, which turns bytes that are not UTF-8 into U+FFFD
/// (`decode_utf8_lossy`), and percent-encoding keeps a broken escape (`%E`, `%ZZ`) as
/// text; either would store a report silently changed instead of answering 400 naming
/// the field.
fn form_decode(text: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut input = text.bytes();
    while let Some(b) = input.next() {
        match b {
            b'+' => bytes.push(b' '),
            b'%' => {
                let hex = [input.next()?, input.next()?];
                bytes.push(u8::from_str_radix(std::str::from_utf8(&hex).ok()?, 16).ok()?);
            }
            other => bytes.push(other),
        }
    }
    String::from_utf8(bytes).ok()
}

/// `张` + `三` → `张三`; `Jane` + `Doe` → `Jane Doe`.
fn person_name(first: Option<String>, last: Option<String>) -> Option<String> {
    let parts: Vec<String> = [first.clone(), last.clone()].into_iter().flatten().collect();
    if parts.is_empty() {
        return None;
    }
    if parts.iter().all(|p| p.is_ascii()) {
        Some(parts.join(" "))
    } else {
        Some([last, first].into_iter().flatten().collect())
    }
}

#[utoipa::path(get, path = "/open311/v2/requests.json", summary = "Open311: service requests", params(("service_request_id" = Option<String>, Query, description = "ids, comma-separated"), ("service_code" = Option<String>, Query, description = "category"), ("status" = Option<String>, Query, description = "open or closed"), ("start_date" = Option<String>, Query, description = "RFC 3339"), ("end_date" = Option<String>, Query, description = "RFC 3339")), responses((status = 200, description = "requests", body = [Object], content_type = "application/json"), (status = 400, description = "[{code, description}]", body = [Object], content_type = "application/json")))]
/// `GET /open311/v2/requests.json`: by `service_request_id` (a comma list; the other
/// filters are then ignored), or by `service_code` (comma list), `status` (`open`,
/// `closed`), `start_date` and `end_date` (default: the last 90 days); newest first, at
/// most 1000.
pub(crate) async fn requests(
    State(state): State<AppState>,
    params::QueryMap(q): params::QueryMap,
) -> Result<Json<Value>, Open311Error> {
    let text = |k: &str| q.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let list = |k: &str| text(k).map(|v| v.split(',').map(str::trim).filter(|x| !x.is_empty()).collect::<Vec<_>>());
    let store = &state.cases.store;
    let mut rows: Vec<CaseRow> = Vec::new();
    if let Some(ids) = list("service_request_id") {
        if ids.len() > MAX_REQUESTS {
            return Err(ApiError::bad("service_request_id", format!("names more than {MAX_REQUESTS} requests")).into());
        }
        for id in ids {
            let id: i64 =
                id.parse().map_err(|_| ApiError::bad("service_request_id", format!("`{id}` is not a request id")))?;
            if let Some(row) = store.case(CaseId(id)).await?.filter(|r| r.source_id == SOURCE) {
                rows.push(row);
            }
        }
    } else {
        let time = |k: &'static str| -> Result<Option<DateTime<Utc>>, ApiError> {
            text(k)
                .map(|t| {
                    DateTime::parse_from_rfc3339(t)
                        .map(|d| d.with_timezone(&Utc))
                        .map_err(|_| ApiError::bad(k, format!("`{t}` is not a W3C (RFC 3339) date-time")))
                })
                .transpose()
        };
        let end = time("end_date")?;
        let start = match time("start_date")? {
            Some(start) => start,
            None => end.unwrap_or_else(Utc::now) - TimeDelta::days(90),
        };
        let mut statuses = Vec::new();
        for wanted in list("status").unwrap_or_default() {
            let open = match wanted {
                "open" => true,
                "closed" => false,
                other => return Err(ApiError::bad("status", format!("`{other}` is not one of open, closed")).into()),
            };
            statuses.extend(Status::ALL.into_iter().filter(|s| is_open(*s) == open).map(|s| s.as_str().to_string()));
        }
        let rules = state.cases.rules.get();
        let tree = &rules.categories;
        let codes: Vec<Option<String>> = match list("service_code") {
            None => vec![None],
            Some(codes) => codes
                .into_iter()
                .map(|c| match tree.get(&CategoryCode::new(c)) {
                    Some(category) if tree.children(Some(&category.code)).is_empty() => Ok(Some(c.to_string())),
                    _ => Err(ApiError::bad("service_code", format!("`{c}` is not a service"))),
                })
                .collect::<Result<_, _>>()?,
        };
        // A leaf's code is a prefix of no other code, so the list's prefix filter is exact.
        for code in codes {
            let filter = CaseFilter {
                source: Some(SOURCE.to_string()),
                category: code,
                statuses: statuses.clone(),
                created_from: Some(start),
                created_to: end.map(|e| e + TimeDelta::microseconds(1)),
                limit: MAX_REQUESTS as i64,
                ..CaseFilter::default()
            };
            rows.extend(store.cases(&filter).await?);
        }
    }
    rows.sort_by_key(|r| std::cmp::Reverse(r.id));
    rows.dedup_by_key(|r| r.id);
    rows.truncate(MAX_REQUESTS);
    Ok(Json(Value::Array(rows.iter().map(|r| request_json(r, &state)).collect())))
}

#[utoipa::path(get, path = "/open311/v2/requests/{file}", summary = "Open311: one service request ({id}.json)", params(("file" = String, Path, description = "the request id followed by .json")), responses((status = 200, description = "[request]", body = [Object], content_type = "application/json"), (status = 404, description = "[{code, description}]", body = [Object], content_type = "application/json")))]
/// `GET /open311/v2/requests/{id}.json`: one request, as a list of one.
pub(crate) async fn request(
    State(state): State<AppState>,
    Path(file): Path<String>,
) -> Result<Json<Value>, Open311Error> {
    let Some(id) = file.strip_suffix(".json") else {
        return Err(match file.rsplit_once('.') {
            Some((_, format)) => ApiError::bad("format", format!("`{format}` is not served: only json")),
            None => ApiError::NotFound(format!("no route for request {file}: add .json")),
        }
        .into());
    };
    let missing = || ApiError::NotFound(format!("no service request {id}"));
    let id: i64 = id.parse().map_err(|_| missing())?;
    let row = state.cases.store.case(CaseId(id)).await?.filter(|r| r.source_id == SOURCE).ok_or_else(missing)?;
    Ok(Json(json!([request_json(&row, &state)])))
}

/// Open311's two statuses: a submission awaiting approval is still open; a rejected one
/// is closed.
fn is_open(status: Status) -> bool {
    status.is_open() || status == Status::Submitted
}

fn status_note(status: Status) -> &'static str {
    match status {
        Status::Submitted => "待审核",
        Status::Rejected => "未予受理",
        Status::New => "已受理，待派遣",
        Status::Dispatched => "已派遣，待签收",
        Status::Accepted => "已签收",
        Status::InProgress => "处置中",
        Status::Handled => "已处置，待核查",
        Status::Closed => "已结案",
        Status::EvaluatedSatisfied => "已结案，评价满意",
        Status::EvaluatedUnsatisfied => "已结案，评价不满意",
    }
}

fn request_json(row: &CaseRow, state: &AppState) -> Value {
    let status = Status::parse(&row.status);
    let rules = state.cases.rules.get();
    let tree = &rules.categories;
    let geography = state.geography.get();
    let city = &geography.city;
    // The unit in charge, never a person: a department, or a street's own platform.
    let agency = row.assignee.as_ref().and_then(|a| match a["kind"].as_str() {
        Some("department") => a["department"].as_str().map(str::to_string),
        Some("street_platform") => a["street"].as_str().and_then(|c| city.by_code(c)).map(|r| r.name.clone()),
        _ => None,
    });
    let offset = city_offset(state);
    let local = |t: DateTime<Utc>| t.with_timezone(&offset).to_rfc3339();
    json!({
        "service_request_id": row.id.to_string(),
        "status": if status.is_some_and(is_open) { "open" } else { "closed" },
        "status_notes": status.map(status_note),
        "service_name": tree.get(&CategoryCode::new(row.category.clone())).map(|c| c.name.as_str()),
        "service_code": row.category,
        // Public: whatever personal data the citizen typed is masked for everyone.
        "description": crate::cases::free_text(&row.description, false),
        "agency_responsible": agency,
        "service_notice": null,
        "requested_datetime": local(row.created_at),
        "updated_datetime": local(row.updated_at),
        "expected_datetime": row.due_at.map(local),
        "address": row.address,
        "address_id": null,
        "zipcode": null,
        "lat": row.lat,
        "long": row.lon,
        "media_url": null,
    })
}
