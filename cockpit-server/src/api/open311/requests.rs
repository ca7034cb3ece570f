//! Reading requests back: by id, or by service, status and time; only those reported
//! through Open311, never the reporter.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, TimeDelta, Utc};
use cockpit_events::{CaseId, CategoryCode, Status};
use cockpit_store::{CaseFilter, CaseRow};

use super::wire::{Request, RequestsQuery};
use super::{MAX_REQUESTS, Open311Error, SOURCE};
use crate::AppState;
use crate::api::ApiError;
use crate::api::params::{self, Path};
use crate::api::stats::city_offset;

#[utoipa::path(get, path = "/open311/v2/requests.json", summary = "Open311: service requests", params(RequestsQuery), responses((status = 200, description = "requests, newest first", body = [Request], content_type = "application/json"), (status = 400, description = "[{code, description}]", body = [super::wire::Failure], content_type = "application/json")))]
/// `GET /open311/v2/requests.json`: by `service_request_id` (a comma list; the other
/// filters are then ignored), or by `service_code` (comma list), `status` (`open`,
/// `closed`), `start_date` and `end_date` (default: the last 90 days); newest first, at
/// most 1000.
pub(crate) async fn requests(
    State(state): State<AppState>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Result<Json<Vec<Request>>, Open311Error> {
    let q: RequestsQuery = params::from_query_string(query.as_deref().unwrap_or_default())?;
    fn list(v: &Option<String>) -> Option<Vec<&str>> {
        v.as_deref().map(|v| v.split(',').map(str::trim).filter(|x| !x.is_empty()).collect())
    }
    let store = &state.cases.store;
    // Every filter is checked, also those that a list of ids makes moot.
    let end = q.end_date;
    let start = q.start_date.unwrap_or_else(|| end.unwrap_or_else(Utc::now) - TimeDelta::days(90));
    let mut statuses = Vec::new();
    for wanted in list(&q.status).unwrap_or_default() {
        let open = match wanted {
            "open" => true,
            "closed" => false,
            other => return Err(ApiError::bad("status", format!("`{other}` is not one of open, closed")).into()),
        };
        statuses.extend(Status::ALL.into_iter().filter(|s| is_open(*s) == open).map(|s| s.as_str().to_string()));
    }
    let rules = state.cases.rules.get();
    let tree = &rules.categories;
    let codes: Vec<Option<String>> = match list(&q.service_code) {
        None => vec![None],
        Some(codes) => codes
            .into_iter()
            .map(|c| match tree.get(&CategoryCode::new(c)) {
                Some(category) if tree.children(Some(&category.code)).is_empty() => Ok(Some(c.to_string())),
                _ => Err(ApiError::bad("service_code", format!("`{c}` is not a service"))),
            })
            .collect::<Result<_, _>>()?,
    };
    let mut rows: Vec<CaseRow> = Vec::new();
    if let Some(ids) = list(&q.service_request_id) {
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
    Ok(Json(rows.iter().map(|r| request_view(r, &state)).collect()))
}

#[utoipa::path(get, path = "/open311/v2/requests/{file}", summary = "Open311: one service request ({id}.json)", params(("file" = String, Path, description = "the request id followed by .json", pattern = "^[0-9]{1,18}\\.json$", example = "12.json")), responses((status = 200, description = "[request]", body = [Request], content_type = "application/json"), (status = 404, description = "[{code, description}]", body = [super::wire::Failure], content_type = "application/json")))]
/// `GET /open311/v2/requests/{id}.json`: one request, as a list of one.
pub(crate) async fn request(
    State(state): State<AppState>,
    Path(file): Path<String>,
) -> Result<Json<Vec<Request>>, Open311Error> {
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
    Ok(Json(vec![request_view(&row, &state)]))
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

fn request_view(row: &CaseRow, state: &AppState) -> Request {
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
    Request {
        service_request_id: row.id.to_string(),
        status: if status.is_some_and(is_open) { "open" } else { "closed" },
        status_notes: status.map(status_note),
        service_name: tree.get(&CategoryCode::new(row.category.clone())).map(|c| c.name.clone()),
        service_code: row.category.clone(),
        // Public: whatever personal data the citizen typed is masked for everyone.
        description: crate::cases::free_text(&row.description, false).into_owned(),
        agency_responsible: agency,
        service_notice: None,
        requested_datetime: local(row.created_at),
        updated_datetime: local(row.updated_at),
        expected_datetime: row.due_at.map(local),
        address: row.address.clone(),
        address_id: None,
        zipcode: None,
        lat: row.lat,
        long: row.lon,
        media_url: None,
    }
}
