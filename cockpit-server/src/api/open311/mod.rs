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

mod requests;
mod wire;

use std::collections::HashMap;

use super::params;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use cockpit_events::{Actor, CategoryCode, Crs, EntryPath, GeoPoint, NewCase, Reporter, SourceId, Urgency};
use serde_json::Value;

use super::ApiError;
use crate::AppState;
pub(crate) use requests::{__path_request, __path_requests, request, requests};
pub(crate) use wire::Failure;
use wire::{Receipt, Service};

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
        let mut response = (status, Json([Failure { code: status.as_u16(), description }])).into_response();
        if let Some(retry) = problem.headers().get(header::RETRY_AFTER) {
            response.headers_mut().insert(header::RETRY_AFTER, retry.clone());
        }
        response
    }
}

#[utoipa::path(get, path = "/open311/v2/services.json", summary = "Open311 GeoReport v2: services (leaf categories)", responses((status = 200, description = "services", body = [Service], content_type = "application/json")))]
/// `GET /open311/v2/services.json`: every leaf category, grouped by its parent.
pub(crate) async fn services(State(state): State<AppState>) -> Json<Vec<Service>> {
    let rules = state.cases.rules.get();
    let tree = &rules.categories;
    let leaves = tree.leaves();
    let services = leaves
        .into_iter()
        .map(|c| Service {
            service_code: c.code.to_string(),
            service_name: c.name.clone(),
            description: tree.full_name(&c.code).unwrap_or_else(|| c.name.clone()),
            metadata: false,
            kind: "realtime",
            keywords: "",
            group: c.parent.as_ref().and_then(|p| tree.get(p)).map_or(String::new(), |p| p.name.clone()),
        })
        .collect();
    Json(services)
}

#[utoipa::path(post, path = "/open311/v2/requests.json", summary = "Open311: report a service request (api_key required: one per application, POST /api/open311/keys)", request_body(content((wire::Report = "application/x-www-form-urlencoded"), (wire::Report = "application/json"))), responses((status = 400, description = "[{code, description}]", body = [Failure], content_type = "application/json"), (status = 200, description = "[{service_request_id, service_notice}] (GeoReport v2 answers 200)", body = [Receipt], content_type = "application/json"), (status = 403, description = "[{code, description}]: api_key is not a key in force", body = [Failure], content_type = "application/json"), (status = 429, description = "[{code, description}]: the key's or the client address's budget is spent (Retry-After)", body = [Failure], content_type = "application/json")))]
/// `POST /open311/v2/requests.json`, form-urlencoded or JSON: reports a request and answers
/// its id. `api_key` must be a key the city issued (403 otherwise); `media_url` is ignored.
pub(crate) async fn report(
    State(state): State<AppState>,
    client: crate::auth::ClientAddress,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Vec<Receipt>>, Open311Error> {
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
    Ok(Json(vec![Receipt { service_request_id: created.id.0.to_string(), service_notice: notice, account_id: None }]))
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
