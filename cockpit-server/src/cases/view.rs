//! Cases as the API shows them: names beside codes, the deadline's state, the actions the
//! caller may take now, and personal data masked: the reporter's fields always, and ID,
//! phone, bank card numbers and e-mail addresses typed into the free text (title,
//! description, timeline notes) for everyone without `personal_data.unmask`.

use chrono::{DateTime, Utc};
use cockpit_events::{CategoryCode, DeadlineState, Status};
use serde_json::{Value, json};

use super::rules::CaseRules;
use crate::Geography;
use crate::auth::Principal;
use cockpit_store::{CaseRow, TimelineRow};

/// One case for `viewer` (none: a source system, which takes no actions), at `now`.
pub fn case_json(
    row: &CaseRow,
    rules: &CaseRules,
    geography: &Geography,
    viewer: Option<&Principal>,
    now: DateTime<Utc>,
) -> Value {
    let region = |code: &Option<String>| {
        code.as_deref().and_then(|c| geography.city.by_code(c)).map(|r| json!({"code": r.code, "name": r.name}))
    };
    let status = Status::parse(&row.status);
    let clear = viewer.is_some_and(|v| v.can(cockpit_access::Permission::UnmaskPersonalData));
    let deadline_state = match (row.due_at, row.warn_at) {
        (Some(due), _) if row.closed_at.is_none() && now >= due => Some(DeadlineState::Overdue),
        (Some(_), Some(warn)) if row.closed_at.is_none() && now >= warn => Some(DeadlineState::Warning),
        (Some(_), _) => Some(DeadlineState::NotDue),
        _ => None,
    };
    json!({
        "id": row.id,
        "source": row.source_id,
        "source_name": rules.sources.get(&row.source_id).map(|s| s.name.as_str()),
        // A reference made from a user's idempotency key is theirs alone, not the case's.
        "source_ref": row.source_ref.as_deref().filter(|r| !r.starts_with("key:")),
        "category": {
            "code": row.category,
            "name": rules.categories.full_name(&CategoryCode(row.category.clone())),
        },
        "urgency": row.urgency,
        "tags": row.tags,
        "title": free_text(&row.title, clear),
        "description": free_text(&row.description, clear),
        "location": row.lon.zip(row.lat).map(|(lon, lat)| json!({"lon": lon, "lat": lat})),
        "outside_district": row.outside_district,
        "street": region(&row.street_code),
        "village": region(&row.village_code),
        "grid": region(&row.grid_code),
        "address": row.address,
        "reporter": row.reporter_masked,
        "occurred_at": row.occurred_at,
        "created_at": row.created_at,
        "status": row.status,
        "dispatch_status": if row.assignee.is_some() { "dispatched" } else { "undispatched" },
        "assignee": row.assignee,
        "dispatch_rule": row.dispatch_rule,
        "leaders": row.leaders,
        "evaluation": row.evaluation,
        // Whether it was linked as a duplicate; `duplicate_of` names the case, except to
        // viewers who may not see that one (the API clears it for them).
        "duplicate": row.duplicate_of.is_some(),
        "duplicate_of": row.duplicate_of,
        "deadline": row.due_at.map(|due| json!({
            "limit": row.deadline_limit.as_deref().and_then(|l| serde_json::from_str::<Value>(l).ok()),
            "started_at": row.started_at,
            "warn_at": row.warn_at,
            "due_at": due,
            "state": deadline_state,
        })),
        "overdue": row.overdue || deadline_state == Some(DeadlineState::Overdue),
        "closed_at": row.closed_at,
        "allowed_actions": status.zip(viewer).map(|(s, v)| {
            v.allowed_actions_on(s, row.assignee.as_ref()).iter().map(|a| a.as_str()).collect::<Vec<_>>()
        }),
    })
}

/// A text someone typed, with the personal data in it masked unless `clear`.
pub fn free_text(text: &str, clear: bool) -> std::borrow::Cow<'_, str> {
    if clear { std::borrow::Cow::Borrowed(text) } else { cockpit_access::mask_personal_data(text) }
}

/// A case's timeline, oldest first; notes masked as [`free_text`] unless `clear`.
pub fn timeline_json(rows: &[TimelineRow], clear: bool) -> Value {
    Value::Array(
        rows.iter()
            .map(|t| {
                json!({
                    "at": t.at,
                    "actor": {"user": t.actor_user, "role": t.actor_role},
                    "action": t.action,
                    "from": t.from_status,
                    "to": t.to_status,
                    "content": free_text(&t.content, clear),
                    "attachments": t.attachments,
                    "position": t.lon.zip(t.lat).map(|(lon, lat)| json!({"lon": lon, "lat": lat})),
                })
            })
            .collect(),
    )
}

/// A case as the live streams carry it: [`case_json`] without the viewer's allowed
/// actions (written in front per subscription) and without the id of the case it
/// duplicates, as text, with its status.
pub fn live_case_text(
    row: &CaseRow,
    rules: &CaseRules,
    geography: &Geography,
    now: DateTime<Utc>,
) -> (String, Option<Status>) {
    let mut json = case_json(row, rules, geography, None, now);
    if let Some(object) = json.as_object_mut() {
        object.remove("allowed_actions");
        // One text goes to every subscriber, some of whom may not see the case this one
        // duplicates: the stream says only that it is a duplicate (the case over HTTP says
        // of which, to whoever may see that one).
        object.insert("duplicate_of".into(), Value::Null);
    }
    (json.to_string(), Status::parse(&row.status))
}
