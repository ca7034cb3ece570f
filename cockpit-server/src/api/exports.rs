//! The exports of the case list, with its filters (`GET /api/cases/export.csv`, `.xlsx`).
//! Built in memory and bounded at [`EXPORT_MAX_ROWS`] rows; when more match, the response
//! says so in the `X-Cockpit-Export-Truncated` header. Times are the city's (its working
//! calendar's zone), as the city reads them; the reporter's phone is masked, their name
//! left out.

use axum::extract::State;
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Datelike, FixedOffset, Timelike, Utc};
use cockpit_events::CategoryCode;
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, XlsxError};
use serde_json::{Value, json};
use utoipa::IntoParams;

use super::ApiError;
use super::cases::{CaseQuery, filter_from};
use super::params::{self, count};
use super::stats::city_offset;
use crate::AppState;
use crate::auth::Caller;
use cockpit_store::{AuditEntry, CaseRow};

/// The most rows one export holds; narrow the filters (or page with `before`) for more.
pub(crate) const EXPORT_MAX_ROWS: usize = 100_000;

/// The list's parameters without `limit`, which exports and statistics bound themselves.
fn without_limit(q: &params::Query) -> params::Query {
    q.iter().filter(|(k, _)| k.as_str() != "limit").map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// One exported value.
enum Cell {
    Int(i64),
    Text(String),
    Bool(bool),
    Time(Option<DateTime<FixedOffset>>),
}

const COLUMNS: [&str; 19] = [
    "id",
    "source",
    "source_ref",
    "category_code",
    "category_name",
    "urgency",
    "tags",
    "title",
    "description",
    "street",
    "village",
    "grid",
    "address",
    "reporter_phone",
    "status",
    "overdue",
    "created_at",
    "due_at",
    "closed_at",
];

/// The matching cases, newest first, at most `limit` (≤ [`EXPORT_MAX_ROWS`]) of them, and
/// whether more matched.
async fn export_rows(
    state: &AppState,
    q: &params::Query,
    caller: &Caller,
    format: &str,
) -> Result<(Vec<CaseRow>, bool), ApiError> {
    let limit = count(q, "limit", 1..=EXPORT_MAX_ROWS, EXPORT_MAX_ROWS)?;
    let mut filter = filter_from(&without_limit(q), &caller.principal)?;
    filter.limit = limit as i64 + 1;
    let mut rows = state.cases.store.cases(&filter).await?;
    let truncated = rows.len() > limit;
    rows.truncate(limit);
    // Exports leave a trace: who took which cases out, with which filters.
    let filters: serde_json::Map<String, Value> =
        q.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
    state
        .cases
        .store
        .audit_now(&[AuditEntry {
            who: caller.audit_actor(),
            action: "case.export".into(),
            object: "cases".into(),
            result: "ok".into(),
            detail: json!({"format": format, "rows": rows.len(), "filters": filters}),
        }])
        .await?;
    Ok((rows, truncated))
}

/// A case's row of an export; the free text with its personal data masked unless `clear`.
fn cells(row: &CaseRow, state: &AppState, now: DateTime<Utc>, clear: bool) -> [Cell; 19] {
    let geography = state.geography.get();
    let region = |code: &Option<String>| {
        Cell::Text(code.as_deref().and_then(|c| geography.city.by_code(c)).map(|r| r.name.clone()).unwrap_or_default())
    };
    // Stored masked: an export never holds the clear phone number.
    let phone = row.reporter_masked.as_ref().and_then(|r| r["phone"].as_str()).map(str::to_string);
    let overdue = row.overdue || (row.closed_at.is_none() && row.due_at.is_some_and(|due| now >= due));
    let category = state.cases.rules.get().categories.full_name(&CategoryCode(row.category.clone()));
    let offset = city_offset(state);
    let local = |t: Option<DateTime<Utc>>| Cell::Time(t.map(|t| t.with_timezone(&offset)));
    [
        Cell::Int(row.id),
        Cell::Text(row.source_id.clone()),
        Cell::Text(row.source_ref.clone().unwrap_or_default()),
        Cell::Text(row.category.clone()),
        Cell::Text(category.unwrap_or_default()),
        Cell::Text(row.urgency.clone()),
        Cell::Text(row.tags.join(";")),
        Cell::Text(crate::cases::free_text(&row.title, clear).into_owned()),
        Cell::Text(crate::cases::free_text(&row.description, clear).into_owned()),
        region(&row.street_code),
        region(&row.village_code),
        region(&row.grid_code),
        Cell::Text(row.address.clone().unwrap_or_default()),
        Cell::Text(phone.unwrap_or_default()),
        Cell::Text(row.status.clone()),
        Cell::Bool(overdue),
        local(Some(row.created_at)),
        local(row.due_at),
        local(row.closed_at),
    ]
}

/// An export's parameters: the list's filters, with `limit` up to [`EXPORT_MAX_ROWS`].
pub(crate) struct ExportQuery;

impl IntoParams for ExportQuery {
    fn into_params(
        parameter_in: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        let mut list = CaseQuery::into_params(parameter_in);
        for parameter in list.iter_mut().filter(|p| p.name == "limit") {
            parameter.description = Some(format!("At most this many rows ({EXPORT_MAX_ROWS} when left out)."));
            parameter.schema = Some(
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::Type::Integer)
                    .minimum(Some(1))
                    .maximum(Some(EXPORT_MAX_ROWS as f64))
                    .into(),
            );
        }
        list
    }
}

#[utoipa::path(get, path = "/api/cases/export.csv", summary = "Filtered cases as CSV (UTF-8 with BOM)", params(ExportQuery), responses((status = 200, description = "CSV", body = String, content_type = "text/csv"), (status = 400, description = "a bad filter", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `GET /api/cases/export.csv?...list filters[&limit=]`: UTF-8 with a byte-order mark, so
/// that Excel reads the Chinese text; RFC 4180 quoting.
pub(crate) async fn export_csv(
    State(state): State<AppState>,
    caller: Caller,
    super::params::QueryMap(q): super::params::QueryMap,
) -> Result<Response, ApiError> {
    let (rows, truncated) = export_rows(&state, &q, &caller, "csv").await?;
    let now = Utc::now();
    let clear = caller.principal.can(cockpit_access::Permission::UnmaskPersonalData);
    let mut csv = super::csv::Csv::new(true, 256 * (rows.len() + 1));
    push_csv_line(&mut csv, COLUMNS.iter().map(|c| Cell::Text(c.to_string())));
    for row in &rows {
        push_csv_line(&mut csv, cells(row, &state, now, clear));
    }
    let local_now = now.with_timezone(&city_offset(&state));
    Ok(download(csv.finish().into_bytes(), "text/csv; charset=utf-8", "csv", truncated, local_now))
}

fn push_csv_line(csv: &mut super::csv::Csv, cells: impl IntoIterator<Item = Cell>) {
    for cell in cells {
        match cell {
            Cell::Int(n) => csv.value(&n.to_string()),
            Cell::Bool(b) => csv.value(if b { "true" } else { "false" }),
            Cell::Time(t) => csv.value(&t.map(local_text).unwrap_or_default()),
            Cell::Text(text) => csv.text(&text),
        };
    }
    csv.end_row();
}

fn local_text(t: DateTime<FixedOffset>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

#[utoipa::path(get, path = "/api/cases/export.xlsx", summary = "Filtered cases as an Excel workbook", params(ExportQuery), responses((status = 200, description = "XLSX", body = String, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (status = 400, description = "a bad filter", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `GET /api/cases/export.xlsx?...list filters[&limit=]`: one worksheet, a header row,
/// times as Excel date-times.
pub(crate) async fn export_xlsx(
    State(state): State<AppState>,
    caller: Caller,
    super::params::QueryMap(q): super::params::QueryMap,
) -> Result<Response, ApiError> {
    let (rows, truncated) = export_rows(&state, &q, &caller, "xlsx").await?;
    let now = Utc::now();
    let clear = caller.principal.can(cockpit_access::Permission::UnmaskPersonalData);
    let bytes =
        workbook(&rows, &state, now, clear).map_err(|e| ApiError::Internal(format!("building the workbook: {e}")))?;
    let local_now = now.with_timezone(&city_offset(&state));
    Ok(download(
        bytes,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "xlsx",
        truncated,
        local_now,
    ))
}

fn workbook(rows: &[CaseRow], state: &AppState, now: DateTime<Utc>, clear: bool) -> Result<Vec<u8>, XlsxError> {
    /// Excel refuses longer cell texts.
    const MAX_CELL_CHARS: usize = 32_767;
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("cases")?;
    let bold = Format::new().set_bold();
    let time_format = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
    for (col, name) in COLUMNS.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, *name, &bold)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    for (i, row) in rows.iter().enumerate() {
        let r = i as u32 + 1;
        for (col, cell) in cells(row, state, now, clear).into_iter().enumerate() {
            let col = col as u16;
            match cell {
                Cell::Int(n) => sheet.write_number(r, col, n as f64)?,
                Cell::Bool(b) => sheet.write_boolean(r, col, b)?,
                Cell::Text(text) if text.is_empty() => sheet,
                Cell::Text(text) => {
                    sheet.write_string(r, col, text.chars().take(MAX_CELL_CHARS).collect::<String>())?
                }
                Cell::Time(None) => sheet,
                Cell::Time(Some(t)) => {
                    let when = ExcelDateTime::from_ymd(t.year() as u16, t.month() as u8, t.day() as u8)?.and_hms(
                        t.hour() as u16,
                        t.minute() as u8,
                        t.second(),
                    )?;
                    sheet.write_datetime_with_format(r, col, &when, &time_format)?
                }
            };
        }
    }
    book.save_to_buffer()
}

fn download(
    body: Vec<u8>,
    content_type: &'static str,
    extension: &str,
    truncated: bool,
    now: DateTime<FixedOffset>,
) -> Response {
    let name = format!("cases-{}.{extension}", now.format("%Y%m%d-%H%M%S"));
    let mut response = ([(header::CONTENT_TYPE, HeaderValue::from_static(content_type))], body).into_response();
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        response.headers_mut().insert(header::CONTENT_DISPOSITION, value);
    }
    response.headers_mut().insert(
        HeaderName::from_static("x-cockpit-export-truncated"),
        HeaderValue::from_static(if truncated { "true" } else { "false" }),
    );
    response
}
