//! The audit trail for the auditor: read, verify, export. There is no route that changes
//! or deletes a record, and the table refuses it too (migrations/0002_access.sql).

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use super::ApiError;
use super::params::{TypedQuery, blank_as_none};
use crate::AppState;
use crate::auth::Caller;
use cockpit_store::{AuditEntry, AuditFilter, AuditRow};

/// Which records, newest first: every filter is optional, blank is absent.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct AuditQuery {
    /// Only this actor (a username).
    #[serde(default, deserialize_with = "blank_as_none")]
    #[param(pattern = "^[^\\u0000-\\u001f\\u007f]*$")]
    actor: Option<String>,
    /// Actions starting with this (`case.`, `auth.login`).
    #[serde(default, deserialize_with = "blank_as_none")]
    #[param(pattern = "^[^\\u0000-\\u001f\\u007f]*$", example = "auth.")]
    action: Option<String>,
    /// Only this object (`case:42`).
    #[serde(default, deserialize_with = "blank_as_none")]
    #[param(pattern = "^[^\\u0000-\\u001f\\u007f]*$", example = "case:1")]
    object: Option<String>,
    /// Only this result (`ok`, `refused`, `locked`).
    #[serde(default, deserialize_with = "blank_as_none")]
    #[param(pattern = "^[^\\u0000-\\u001f\\u007f]*$", example = "ok")]
    result: Option<String>,
    /// Only from this client address.
    #[serde(default, deserialize_with = "blank_as_none")]
    #[param(pattern = "^[^\\u0000-\\u001f\\u007f]*$", example = "127.0.0.1")]
    address: Option<String>,
    /// From this time on (RFC 3339).
    #[serde(default, deserialize_with = "blank_as_none")]
    from: Option<DateTime<Utc>>,
    /// Before this time (RFC 3339).
    #[serde(default, deserialize_with = "blank_as_none")]
    to: Option<DateTime<Utc>>,
    /// Records before this sequence number (the last page's `next_before`).
    #[serde(default, deserialize_with = "blank_as_none")]
    before: Option<i64>,
    /// Page size: 1 to 1,000 (100 by default); the export takes up to 100,000 (all by
    /// default).
    #[serde(default, deserialize_with = "blank_as_none")]
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<usize>,
}

/// One audit record.
#[derive(Serialize, ToSchema)]
pub(crate) struct AuditRecord {
    /// Its place in the chain.
    seq: i64,
    /// When.
    at: DateTime<Utc>,
    /// Who (a username, or `system`).
    actor: String,
    /// Their role.
    role: String,
    /// The client's address.
    address: String,
    /// What (`case.dispatch`, `auth.login`).
    action: String,
    /// On what (`case:42`).
    object: String,
    /// `ok`, `refused`, `locked`...
    result: String,
    /// The action's details (JSON, or the text as stored).
    detail: Value,
    /// The record's hash over the previous one's.
    hash: String,
}

impl From<&AuditRow> for AuditRecord {
    fn from(r: &AuditRow) -> AuditRecord {
        AuditRecord {
            seq: r.seq,
            at: r.at,
            actor: r.actor.clone(),
            role: r.role.clone(),
            address: r.address.clone(),
            action: r.action.clone(),
            object: r.object.clone(),
            result: r.result.clone(),
            detail: serde_json::from_str::<Value>(&r.detail).unwrap_or(Value::String(r.detail.clone())),
            hash: r.hash.clone(),
        }
    }
}

/// A page of audit records.
#[derive(Serialize, ToSchema)]
pub(crate) struct AuditPage {
    /// Newest first.
    records: Vec<AuditRecord>,
    /// `before` for the next page; null on the last.
    next_before: Option<i64>,
}

/// The hash chain's walk.
#[derive(Serialize, ToSchema)]
pub(crate) struct AuditVerification {
    /// Whether every record's hash holds.
    intact: bool,
    /// Records walked.
    records: u64,
    /// The last record's hash.
    last_hash: String,
    /// The first record whose hash does not hold.
    broken_at: Option<i64>,
    /// Why it does not.
    reason: Option<String>,
}

impl AuditQuery {
    /// The store's filter, with at most `max` records (`default` when no limit is asked).
    fn filter(&self, max: usize, default: usize) -> Result<AuditFilter, ApiError> {
        let limit = self.limit.unwrap_or(default);
        if !(1..=max).contains(&limit) {
            return Err(ApiError::bad("limit", format!("{limit} is outside 1 to {max}")));
        }
        Ok(AuditFilter {
            actor: self.actor.clone(),
            action: self.action.clone(),
            object: self.object.clone(),
            result: self.result.clone(),
            address: self.address.clone(),
            from: self.from,
            to: self.to,
            before_seq: self.before,
            limit: limit as i64,
        })
    }
}

#[utoipa::path(get, path = "/api/audit", summary = "Audit records, newest first (actor, action prefix, object, from, to, before, limit).", params(AuditQuery), responses((status = 200, description = "OK", body = AuditPage), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission")))]
/// `GET /api/audit?actor&action&object&from&to&before&limit`: newest first.
pub(crate) async fn list(
    State(state): State<AppState>,
    TypedQuery(q): TypedQuery<AuditQuery>,
) -> Result<Json<AuditPage>, ApiError> {
    let filter = q.filter(1000, 100)?;
    let rows = state.cases.store.audit_records(&filter).await?;
    let next = (rows.len() as i64 == filter.limit).then(|| rows.last().map(|r| r.seq)).flatten();
    Ok(Json(AuditPage { records: rows.iter().map(AuditRecord::from).collect(), next_before: next }))
}

#[utoipa::path(get, path = "/api/audit/verify", summary = "Walks the hash chain: intact, records, first broken record.", responses((status = 200, description = "OK", body = AuditVerification), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission")))]
/// `GET /api/audit/verify`: walks the chain.
pub(crate) async fn verify(State(state): State<AppState>) -> Result<Json<AuditVerification>, ApiError> {
    let report = state.cases.store.verify_audit().await?;
    Ok(Json(AuditVerification {
        intact: report.broken.is_none(),
        records: report.records,
        broken_at: report.broken.as_ref().map(|b| b.seq),
        reason: report.broken.as_ref().map(|b| b.reason.clone()),
        last_hash: report.last_hash,
    }))
}

#[utoipa::path(get, path = "/api/audit/export.csv", summary = "The audit records as CSV with their hashes (the export is audited).", params(AuditQuery), responses((status = 200, description = "The records as CSV, oldest first, with their hashes", body = String, content_type = "text/csv"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission")))]
/// `GET /api/audit/export.csv?...`: up to 100,000 records with their hashes, so that the
/// export can be verified on its own. The export itself is audited.
pub(crate) async fn export_csv(
    State(state): State<AppState>,
    caller: Caller,
    TypedQuery(q): TypedQuery<AuditQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let filter = q.filter(100_000, 100_000)?;
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
