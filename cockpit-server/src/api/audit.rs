//! The audit trail for the auditor: read, verify, export. There is no route that changes
//! or deletes a record, and the table refuses it too (migrations/0002_access.sql).

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde_json::{Value, json};

use super::ApiError;
use super::params::{self, count};
use crate::AppState;
use crate::auth::Caller;
use crate::store::{AuditEntry, AuditFilter, AuditRow};

fn filter_from(q: &params::Query, max: usize) -> Result<AuditFilter, ApiError> {
    let text = |k: &str| q.get(k).map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let before_seq = match text("before") {
        Some(b) => {
            Some(b.parse::<i64>().map_err(|_| ApiError::bad("before", format!("`{b}` is not a sequence number")))?)
        }
        None => None,
    };
    Ok(AuditFilter {
        actor: text("actor"),
        action: text("action"),
        object: text("object"),
        result: text("result"),
        address: text("address"),
        from: params::time(q, "from")?,
        to: params::time(q, "to")?,
        before_seq,
        limit: count(q, "limit", 1..=max, 100.min(max))? as i64,
    })
}

fn row_json(r: &AuditRow) -> Value {
    json!({
        "seq": r.seq,
        "at": r.at,
        "actor": r.actor,
        "role": r.role,
        "address": r.address,
        "action": r.action,
        "object": r.object,
        "result": r.result,
        "detail": serde_json::from_str::<Value>(&r.detail).unwrap_or(Value::String(r.detail.clone())),
        "hash": r.hash,
    })
}

#[utoipa::path(get, path = "/api/audit", summary = "Audit records, newest first (actor, action prefix, object, from, to, before, limit).", params(("actor" = Option<String>, Query, description = "only this actor"), ("action" = Option<String>, Query, description = "actions starting with this (case., auth.login)"), ("object" = Option<String>, Query, description = "only this object (case:42)"), ("result" = Option<String>, Query, description = "only this result (ok, refused, locked)"), ("address" = Option<String>, Query, description = "only from this client address"), ("from" = Option<chrono::DateTime<chrono::Utc>>, Query, description = "from this time on (RFC 3339)"), ("to" = Option<chrono::DateTime<chrono::Utc>>, Query, description = "before this time (RFC 3339)"), ("before" = Option<i64>, Query, description = "records before this sequence number"), ("limit" = Option<i64>, Query, description = "page size")), responses((status = 200, description = "OK"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission")))]
/// `GET /api/audit?actor&action&object&from&to&before&limit`: newest first.
pub(crate) async fn list(
    State(state): State<AppState>,
    super::params::QueryMap(q): super::params::QueryMap,
) -> Result<Json<Value>, ApiError> {
    let filter = filter_from(&q, 1000)?;
    let rows = state.cases.store.audit_records(&filter).await?;
    let next = (rows.len() as i64 == filter.limit).then(|| rows.last().map(|r| r.seq)).flatten();
    Ok(Json(json!({"records": rows.iter().map(row_json).collect::<Vec<_>>(), "next_before": next})))
}

#[utoipa::path(get, path = "/api/audit/verify", summary = "Walks the hash chain: intact, records, first broken record.", responses((status = 200, description = "OK"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission")))]
/// `GET /api/audit/verify`: walks the chain.
pub(crate) async fn verify(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let report = state.cases.store.verify_audit().await?;
    Ok(Json(json!({
        "intact": report.broken.is_none(),
        "records": report.records,
        "last_hash": report.last_hash,
        "broken_at": report.broken.as_ref().map(|b| b.seq),
        "reason": report.broken.as_ref().map(|b| b.reason.clone()),
    })))
}

#[utoipa::path(get, path = "/api/audit/export.csv", summary = "The audit records as CSV with their hashes (the export is audited).", params(("actor" = Option<String>, Query, description = "only this actor"), ("action" = Option<String>, Query, description = "actions starting with this (case., auth.login)"), ("object" = Option<String>, Query, description = "only this object (case:42)"), ("result" = Option<String>, Query, description = "only this result (ok, refused, locked)"), ("address" = Option<String>, Query, description = "only from this client address"), ("from" = Option<chrono::DateTime<chrono::Utc>>, Query, description = "from this time on (RFC 3339)"), ("to" = Option<chrono::DateTime<chrono::Utc>>, Query, description = "before this time (RFC 3339)"), ("before" = Option<i64>, Query, description = "records before this sequence number"), ("limit" = Option<i64>, Query, description = "page size")), responses((status = 200, description = "OK"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission")))]
/// `GET /api/audit/export.csv?...`: up to 100,000 records with their hashes, so that the
/// export can be verified on its own. The export itself is audited.
pub(crate) async fn export_csv(
    State(state): State<AppState>,
    caller: Caller,
    super::params::QueryMap(q): super::params::QueryMap,
) -> Result<impl IntoResponse, ApiError> {
    let mut filter = filter_from(&q, 100_000)?;
    if !q.contains_key("limit") {
        filter.limit = 100_000;
    }
    let rows = state.cases.store.audit_records(&filter).await?;
    state
        .cases
        .store
        .audit_now(&[AuditEntry {
            who: caller.audit_actor(),
            action: "audit.export".into(),
            object: "audit".into(),
            result: "ok".into(),
            detail: json!({"records": rows.len()}),
        }])
        .await?;
    let mut csv = super::csv::Csv::new(false, 256 * (rows.len() + 1));
    for column in ["seq", "at", "actor", "role", "address", "action", "object", "result", "detail", "prev_hash", "hash"]
    {
        csv.value(column);
    }
    csv.end_row();
    for r in rows.iter().rev() {
        csv.value(&r.seq.to_string()).value(&r.at.to_rfc3339());
        // Actors and objects come from outside (a failed login's username is whatever was
        // typed), and so may the detail's texts.
        csv.text(&r.actor).text(&r.role).text(&r.address).text(&r.action).text(&r.object).text(&r.result);
        csv.text(&r.detail).value(&r.prev_hash).value(&r.hash);
        csv.end_row();
    }
    let out = csv.finish();
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"audit.csv\""),
        ],
        out,
    ))
}
