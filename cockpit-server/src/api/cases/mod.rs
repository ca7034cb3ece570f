//! The case API: create, list, read with timeline, act, acknowledge alarms, unmask the
//! reporter (the intake gateway for source systems is `intake.rs`).
//!
//! Every read goes through the caller's case scope (a case outside it is not found), and
//! every change is audited in its own transaction.

use super::params::Path;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chrono::Utc;
use cockpit_events::{Action, Actor, CaseId, DispatchDecision, ManualReason, SourceRef, Status, intake as open_case};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::ApiError;
use super::params;
use crate::AppState;
use crate::auth::{Caller, permission_for};
use crate::cases::{ActionKey, Applied, CaseView, case_view, timeline};
use cockpit_store::{AuditEntry, CaseRow, CaseSort};

mod answers;
mod new;
mod query;
mod targets;

pub(crate) use answers::{Acknowledged, CaseAnswer, CaseDetail, CasePage, DispatchSuggestion, ReporterAnswer, Unseen};

pub(crate) use new::NewCaseBody;
use new::new_case_from;
pub(crate) use query::{CaseQuery, filter_from, filter_of};
use targets::assignee_exists;

type Body = Result<super::params::JsonBody, ApiError>;

/// The case, if the caller may see it; otherwise 404, as if it did not exist.
pub(crate) async fn visible(state: &AppState, caller: &Caller, id: i64) -> Result<CaseRow, ApiError> {
    state
        .cases
        .store
        .case_in(CaseId(id), &caller.principal.case_scope())
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("case {id} does not exist")))
}

#[utoipa::path(post, path = "/api/cases", summary = "Create a case by hand (or a third-party submission)", params(("Idempotency-Key" = Option<String>, Header, description = "1 to 100 visible ASCII characters chosen by the client; a repeat by the same user applies nothing and answers with `Idempotent-Replayed: true`", pattern = "^[!-~]{1,100}$")), request_body(content = NewCaseBody, content_type = "application/json"), responses((status = 201, description = "the case", body = CaseView, content_type = "application/json"), (status = 200, description = "the existing case with this source_ref (or with this Idempotency-Key, then possibly out of view)", body = CaseAnswer, content_type = "application/json"), (status = 400, description = "a bad field, named in `field`", body = crate::api::Problem, content_type = "application/problem+json"), (status = 409, description = "the Idempotency-Key or source_ref was used before for another case", body = crate::api::Problem, content_type = "application/problem+json"), (status = 401, description = "no identity", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "role may not create", body = crate::api::Problem, content_type = "application/problem+json"), (status = 503, description = "too many creates waiting to be written: nothing was written; send it again after `Retry-After` seconds", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `POST /api/cases`: a case created by hand (`entry`: `manual`, the default) or
/// submitted by a third party for approval (`entry`: `third_party`).
///
/// With an `Idempotency-Key` header (and no `source_ref`), the key becomes the case's
/// source reference for this user, so a repeat answers the case created first (200,
/// `Idempotent-Replayed: true`) instead of opening a second one.
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, HeaderMap, Json<CaseAnswer>), ApiError> {
    let super::params::JsonBody(body) = body?;
    let now = Utc::now();
    let (mut new, path) = new_case_from(params::from_body(body)?, now)?;
    let p = &caller.principal;
    let key = idempotency_key(&headers)?;
    if new.source_ref.as_ref().is_some_and(|r| r.as_str().starts_with("key:")) {
        return Err(ApiError::bad("source_ref", "`key:` starts the references made from idempotency keys"));
    }
    if let Some(key) = &key {
        if new.source_ref.is_some() {
            return Err(ApiError::bad("Idempotency-Key", "cannot be combined with `source_ref`"));
        }
        new.source_ref = Some(SourceRef::new(format!("key:{}:{key}", p.username)));
    }
    // The first of the caller's roles that may open a case this way.
    let actor = p
        .roles
        .iter()
        .map(|r| Actor::new(p.username.as_str(), *r))
        .find(|a| open_case(path, a, now, String::new()).is_ok());
    let actor = match actor {
        Some(actor) => actor,
        None => p.primary_actor()?,
    };
    let (created, row) =
        state.cases.create(new, path, &actor, now, caller.audit_actor()).await.map_err(|e| match (&key, e) {
            (Some(_), crate::cases::ServiceError::ReferenceConflict { .. }) => ApiError::ReferenceConflict {
                field: "Idempotency-Key".into(),
                detail: "was used before for another case; choose a new key".into(),
            },
            (_, e) => e.into(),
        })?;
    let scope = p.case_scope();
    if !created.new && state.cases.store.case_in(created.id, &scope).await?.is_none() {
        // A repeat of the same delivery, of a case the caller may not see (outside their
        // region, or dispatched away from them): never the case itself.
        if key.is_some() {
            // Their own key: they were answered this id when they created it.
            return Ok((
                StatusCode::OK,
                replayed_header(true),
                Json(CaseAnswer::Unseen(Unseen { id: row.id, status: None, replayed: Some(true), visible: false })),
            ));
        }
        return Err(ApiError::ReferenceConflict {
            field: "source_ref".into(),
            detail: "was delivered before, for a case you may not see; nothing was written".into(),
        });
    }
    let replayed = key.is_some() && !created.new;
    let status = if created.new { StatusCode::CREATED } else { StatusCode::OK };
    let mut case = case_view(&row, &state.cases.rules.get(), &state.geography.get(), Some(p), now);
    hide_unseen_duplicate(&state, &scope, &row, &mut case).await?;
    Ok((status, replayed_header(replayed), Json(CaseAnswer::Case(Box::new(case)))))
}

/// [`hide_unseen_duplicate`] for a page of cases, with one query for all of them.
async fn hide_unseen_duplicates(
    state: &AppState,
    scope: &cockpit_store::CaseScope,
    rows: &[CaseRow],
    items: &mut [CaseView],
) -> Result<(), ApiError> {
    let originals: Vec<i64> = rows.iter().filter_map(|r| r.duplicate_of).collect();
    if originals.is_empty() {
        return Ok(());
    }
    let seen = state.cases.store.cases_in(&originals, scope).await?;
    for (row, item) in rows.iter().zip(items.iter_mut()) {
        if row.duplicate_of.is_some_and(|o| !seen.contains(&o)) {
            item.duplicate_of = None;
        }
    }
    Ok(())
}

/// A case linked as a duplicate of one the viewer may not see says that it is a
/// duplicate, but not of which case: the id would tell that a case exists out of scope.
async fn hide_unseen_duplicate(
    state: &AppState,
    scope: &cockpit_store::CaseScope,
    row: &CaseRow,
    case: &mut CaseView,
) -> Result<(), ApiError> {
    if let Some(original) = row.duplicate_of
        && state.cases.store.case_in(CaseId(original), scope).await?.is_none()
    {
        case.duplicate_of = None;
    }
    Ok(())
}

#[utoipa::path(get, path = "/api/cases/{id}", summary = "A case with its timeline", params(("id" = i64, Path, description = "case id")), responses((status = 200, description = "the case", body = CaseDetail, content_type = "application/json"), (status = 404, description = "no such case", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `GET /api/cases/{id}`: the case and its timeline.
pub(crate) async fn one(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<CaseDetail>, ApiError> {
    let row = visible(&state, &caller, id).await?;
    state
        .cases
        .reads
        .record(AuditEntry {
            who: caller.audit_actor(),
            action: "case.view".into(),
            object: format!("case:{id}"),
            result: "ok".into(),
            detail: json!({}),
        })
        .await?;
    let timeline_rows = state.cases.store.timeline(CaseId(id)).await?;
    let attachments = state
        .attachments
        .of_case(&state.cases.store, CaseId(id))
        .await
        .map_err(|e| ApiError::Internal(format!("case {id}: {e}")))?;
    let mut case =
        case_view(&row, &state.cases.rules.get(), &state.geography.get(), Some(&caller.principal), Utc::now());
    hide_unseen_duplicate(&state, &caller.principal.case_scope(), &row, &mut case).await?;
    let clear = caller.principal.can(cockpit_access::Permission::UnmaskPersonalData);
    let actors = timeline_rows.iter().map(|t| t.actor_user.clone());
    let names = state.cases.store.display_names(&people_in(std::slice::from_ref(&case), actors)).await?;
    Ok(Json(CaseDetail {
        case,
        timeline: timeline(&timeline_rows, clear),
        attachments: attachments.into_iter().map(Into::into).collect(),
        names,
    }))
}

#[utoipa::path(get, path = "/api/cases/{id}/reporter", summary = "The reporter's personal data in the clear; audited.", params(("id" = i64, Path)), responses((status = 200, description = "the reporter", body = ReporterAnswer, content_type = "application/json"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission")))]
/// `GET /api/cases/{id}/reporter`: the reporter's personal data in the clear, for those
/// allowed to unmask it; every read is audited before it is answered.
pub(crate) async fn reporter(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<ReporterAnswer>, ApiError> {
    visible(&state, &caller, id).await?;
    let Some(sealed) = state.cases.store.reporter_sealed(CaseId(id)).await? else {
        return Ok(Json(ReporterAnswer { id, reporter: None }));
    };
    let reporter = crate::privacy::open_reporter(&state.cases.privacy, &sealed)
        .map_err(|e| ApiError::Internal(format!("case {id}: {e}")))?;
    state
        .cases
        .reads
        .record(AuditEntry {
            who: caller.audit_actor(),
            action: "personal_data.unmask".into(),
            object: format!("case:{id}"),
            result: "ok".into(),
            detail: json!({"fields": ["name", "phone", "id_number", "address"]}),
        })
        .await?;
    Ok(Json(ReporterAnswer { id, reporter: Some(reporter) }))
}

#[utoipa::path(post, path = "/api/cases/{id}/actions", summary = "Apply a lifecycle action", params(("id" = i64, Path, description = "case id"), ("Idempotency-Key" = Option<String>, Header, description = "1 to 100 visible ASCII characters chosen by the client; a repeat by the same user applies nothing and answers with `Idempotent-Replayed: true`", pattern = "^[!-~]{1,100}$")), request_body(content = crate::api::schemas::Action, content_type = "application/json"), responses((status = 200, description = "the case after the action, or that it is out of view", body = CaseAnswer, content_type = "application/json"), (status = 400, description = "a malformed action", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "not for this role; `allowed` lists what is", body = crate::api::Problem, content_type = "application/problem+json"), (status = 404, description = "no such case", body = crate::api::Problem, content_type = "application/problem+json"), (status = 409, description = "not in this status; `allowed` lists what is", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `POST /api/cases/{id}/actions`: one action (`{"action": "dispatch", ...}`), answered
/// with the case as it is now (or, when the action took it out of the caller's view,
/// `{"id", "status", "visible": false}`); 409 with the allowed actions when the status
/// does not allow it, 403 when the caller's roles and permissions do not.
///
/// With an `Idempotency-Key` header, a repeat of the same request by the same user (a
/// phone resending what it queued offline) applies nothing and answers the case as it is
/// now with `Idempotent-Replayed: true`.
pub(crate) async fn act(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<i64>,
    body: Body,
) -> Result<(HeaderMap, Json<CaseAnswer>), ApiError> {
    let super::params::JsonBody(body) = body?;
    let key = idempotency_key(&headers)?.map(|key| ActionKey {
        username: caller.principal.username.clone(),
        key,
        request_sha256: hex::encode(Sha256::digest(body.to_string().as_bytes())),
    });
    let name =
        body.get("action").and_then(Value::as_str).ok_or_else(|| ApiError::bad("action", "is required"))?.to_string();
    if name == "auto_dispatch" {
        return Err(ApiError::bad("action", "`auto_dispatch` is taken by the rules, not by people"));
    }
    let action: Action = serde_json::from_value(body).map_err(|e| ApiError::bad("action", format!("`{name}`: {e}")))?;
    let row = visible(&state, &caller, id).await?;
    caller.require(permission_for(action.kind()))?;
    if let Action::Dispatch { to, .. } = &action {
        assignee_exists(&state, to).await?;
    }
    let status = Status::parse(&row.status).ok_or_else(|| ApiError::Internal(format!("case {id}: status")))?;
    let actor = caller.principal.actor_for(action.kind(), status)?;
    let now = Utc::now();
    let handler = caller.principal.handler();
    let applied =
        state.cases.act(CaseId(id), &actor, &handler, action, now, caller.audit_actor(), key.as_ref()).await?;
    let headers = replayed_header(applied == Applied::Replayed);
    // An action can take the case out of the actor's view (a handler's return): it was
    // applied all the same, and the answer says so without showing the case.
    let Some(row) = state.cases.store.case_in(CaseId(id), &caller.principal.case_scope()).await? else {
        let status = state.cases.store.case(CaseId(id)).await?.map(|r| r.status);
        return Ok((headers, Json(CaseAnswer::Unseen(Unseen { id, status, replayed: None, visible: false }))));
    };
    let case = case_view(&row, &state.cases.rules.get(), &state.geography.get(), Some(&caller.principal), now);
    Ok((headers, Json(CaseAnswer::Case(Box::new(case)))))
}

/// The `Idempotency-Key` header, if sent: 1 to 100 visible ASCII characters.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else { return Ok(None) };
    let key = value.to_str().ok().filter(|k| (1..=100).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()));
    key.map(|k| Some(k.to_string()))
        .ok_or_else(|| ApiError::bad("Idempotency-Key", "must be 1 to 100 visible ASCII characters"))
}

/// `Idempotent-Replayed: true` on an answer to a repeated request.
fn replayed_header(replayed: bool) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if replayed {
        headers.insert("idempotent-replayed", axum::http::HeaderValue::from_static("true"));
    }
    headers
}

#[utoipa::path(get, path = "/api/cases/{id}/dispatch-suggestion", summary = "What the dispatch rules decide for the case now: {rule, to, explanation}, or rule null with the reason a dispatcher must choose.", params(("id" = i64, Path, description = "case id")), responses((status = 200, description = "the decision", body = DispatchSuggestion, content_type = "application/json"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission"), (status = 404, description = "No such case in the caller's scope")))]
/// `GET /api/cases/{id}/dispatch-suggestion`: what the dispatch rules decide for the case
/// as it is now — the rule and the assignee, or why a dispatcher must choose.
pub(crate) async fn dispatch_suggestion(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<DispatchSuggestion>, ApiError> {
    let row = visible(&state, &caller, id).await?;
    Ok(Json(match state.cases.suggest_dispatch(&row).await? {
        DispatchDecision::Dispatch { rule, to } => DispatchSuggestion {
            explanation: format!("rule `{}` covers category {} here", rule.as_str(), row.category),
            rule: Some(rule),
            to: Some(to),
            reason: None,
        },
        DispatchDecision::Manual { reason } => DispatchSuggestion {
            explanation: match &reason {
                ManualReason::NoRuleMatched => "no enabled rule covers this category and region".to_string(),
                ManualReason::TargetUnresolved { rule, missing } => {
                    format!("rule `{}` matches but {missing}", rule.as_str())
                }
            },
            rule: None,
            to: None,
            reason: Some(reason),
        },
    }))
}

#[utoipa::path(get, path = "/api/cases", summary = "Cases, filtered, newest first", params(CaseQuery), responses((status = 200, description = "a page of cases", body = CasePage, content_type = "application/json"), (status = 400, description = "a bad filter", body = crate::api::Problem, content_type = "application/problem+json"), (status = 401, description = "no identity", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `GET /api/cases?...`: filtered, newest first, `limit` per page; pass the last id of a
/// page as `before` for the next one.
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    params::TypedQuery(query): params::TypedQuery<CaseQuery>,
    params::QueryMap(q): params::QueryMap,
) -> Result<Json<CasePage>, ApiError> {
    let filter = filter_of(query, &caller.principal)?;
    let rows = state.cases.store.cases(&filter).await?;
    let now = Utc::now();
    let full = rows.len() as i64 == filter.limit;
    let (next_before, next_offset) = match filter.sort {
        CaseSort::Newest => (full.then(|| rows.last().map(|r| r.id)).flatten(), None),
        _ => (None, full.then_some(filter.offset + filter.limit)),
    };
    let mut items: Vec<CaseView> = rows
        .iter()
        .map(|r| case_view(r, &state.cases.rules.get(), &state.geography.get(), Some(&caller.principal), now))
        .collect();
    hide_unseen_duplicates(&state, &caller.principal.case_scope(), &rows, &mut items).await?;
    // Browsing is audited (等保三级): who listed which cases, with what filter, from where.
    let mut query: Vec<(&String, &String)> = q.iter().collect();
    query.sort();
    // Answered once the record is committed (group commit with other reads: `ReadAudit`).
    let audited = state.cases.reads.record(AuditEntry {
        who: caller.audit_actor(),
        action: "case.list".into(),
        object: "cases".into(),
        result: "ok".into(),
        detail: json!({"query": query, "ids": rows.iter().map(|r| r.id).collect::<Vec<_>>()}),
    });
    let people = people_in(&items, std::iter::empty());
    let (audited, names) = tokio::join!(audited, state.cases.store.display_names(&people));
    audited?;
    let names = names?;
    Ok(Json(CasePage { items, next_before, next_offset, names }))
}

/// The usernames cases mention (each one's assignee, a person or a grid's worker, and its
/// leaders) and `more`, once each.
fn people_in(cases: &[CaseView], more: impl Iterator<Item = String>) -> Vec<String> {
    let mut people: std::collections::BTreeSet<String> = more.collect();
    for case in cases {
        people.extend(case.leaders.iter().cloned());
        if let Some(a) = &case.assignee {
            for key in ["user", "worker"] {
                people.extend(a.get(key).and_then(Value::as_str).map(str::to_string));
            }
        }
    }
    people.into_iter().collect()
}

#[utoipa::path(post, path = "/api/cases/{id}/alarms/acknowledge", summary = "Stop a case's overdue re-alarms", params(("id" = i64, Path, description = "case id")), responses((status = 200, description = "acknowledged", body = Acknowledged, content_type = "application/json"), (status = 404, description = "no such case", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `POST /api/cases/{id}/alarms/acknowledge`: stops the overdue re-alarms of a case.
pub(crate) async fn acknowledge(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Acknowledged>, ApiError> {
    visible(&state, &caller, id).await?;
    let actor = caller.principal.primary_actor()?;
    let acknowledged =
        state.cases.store.acknowledge_case_alarms(CaseId(id), &actor, Utc::now(), caller.audit_actor()).await?;
    if !acknowledged {
        return Err(ApiError::NotFound(format!("case {id} does not exist")));
    }
    Ok(Json(Acknowledged { id, acknowledged: true }))
}
