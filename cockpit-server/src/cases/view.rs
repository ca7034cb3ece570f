//! Cases as the API shows them: names beside codes, the deadline's state, the actions the
//! caller may take now, and personal data masked: the reporter's fields always, and ID,
//! phone, bank card numbers and e-mail addresses typed into the free text (title,
//! description, timeline notes) for everyone without `personal_data.unmask`.

use chrono::{DateTime, Utc};
use cockpit_events::{
    ActionKind, Assignee, CategoryCode, DeadlineState, DispatchStatus, Evaluation, GeoPoint, Reporter, Status,
    TimeLimit, Urgency,
};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::rules::CaseRules;
use crate::Geography;
use crate::auth::Principal;
use cockpit_store::{CaseRow, TimelineRow};

/// A region, named beside its code.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RegionRef {
    /// Its code (the statistical division code, or the grid's).
    pub code: String,
    /// Its name.
    pub name: String,
}

/// A case's category, named beside its code.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CategoryRef {
    /// Its code.
    pub code: String,
    /// Its full name, from the top of the tree down (`市容环境 / 暴露垃圾`); none for a
    /// code the city's categories no longer have.
    pub name: Option<String>,
}

/// A case's deadline and where it stands against it now.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeadlineView {
    /// The time limit it was given (none where the stored limit is not one this version
    /// reads).
    pub limit: Option<TimeLimit>,
    /// When the clock started.
    pub started_at: Option<DateTime<Utc>>,
    /// When it is near its deadline (临期).
    pub warn_at: Option<DateTime<Utc>>,
    /// When it is due.
    pub due_at: DateTime<Utc>,
    /// Where it stands now.
    pub state: Option<DeadlineState>,
}

/// One case as the API and the live streams show it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseView {
    /// Its id.
    pub id: i64,
    /// The source it came from (a gateway source's id, `manual`, `open311`, ...).
    pub source: String,
    /// The source's name.
    pub source_name: Option<String>,
    /// The source system's own reference (never one made from a user's idempotency key).
    pub source_ref: Option<String>,
    /// Its category.
    pub category: CategoryRef,
    /// How urgent it is.
    #[schema(value_type = Urgency)]
    pub urgency: String,
    /// Its tags.
    pub tags: Vec<String>,
    /// The title, personal data masked unless the viewer may see it.
    pub title: String,
    /// The description, masked likewise.
    pub description: String,
    /// Where it is (WGS84).
    pub location: Option<GeoPoint>,
    /// Whether it lies outside the district.
    pub outside_district: bool,
    /// Its street or town.
    pub street: Option<RegionRef>,
    /// Its village or community.
    pub village: Option<RegionRef>,
    /// Its grid.
    pub grid: Option<RegionRef>,
    /// The address given.
    pub address: Option<String>,
    /// The reporter, masked (`GET /api/cases/{id}/reporter` unmasks, audited).
    #[schema(value_type = Option<Reporter>)]
    pub reporter: Option<Value>,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
    /// Its lifecycle status.
    #[schema(value_type = Status)]
    pub status: String,
    /// Whether it was ever sent to someone.
    pub dispatch_status: DispatchStatus,
    /// Who it is assigned to.
    #[schema(value_type = Option<Assignee>)]
    pub assignee: Option<Value>,
    /// The dispatch rule that assigned it, if a rule did.
    pub dispatch_rule: Option<String>,
    /// The leaders bound to it (包案).
    pub leaders: Vec<String>,
    /// The evaluation after closure.
    #[schema(value_type = Option<Evaluation>)]
    pub evaluation: Option<Value>,
    /// Whether it was linked as a duplicate.
    pub duplicate: bool,
    /// The case it duplicates; none also where the viewer may not see that one, and on the
    /// live streams, whose one text goes to every subscriber.
    pub duplicate_of: Option<i64>,
    /// Its deadline.
    pub deadline: Option<DeadlineView>,
    /// Whether it is or went overdue.
    pub overdue: bool,
    /// When it was closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// What the viewer may do now (absent on the live streams, which write it in front for
    /// each subscription).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_actions: Option<Vec<ActionKind>>,
}

/// Who took a step on a case's timeline.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TimelineActor {
    /// Their user name.
    pub user: String,
    /// The role they acted in.
    pub role: String,
}

/// One step on a case's timeline.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TimelineStep {
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: TimelineActor,
    /// The action (none for the intake step).
    #[schema(value_type = Option<ActionKind>)]
    pub action: Option<String>,
    /// The status before.
    #[schema(value_type = Option<Status>)]
    pub from: Option<String>,
    /// The status after.
    #[schema(value_type = Status)]
    pub to: String,
    /// What they wrote, masked as the case's free text.
    pub content: String,
    /// The attachments they cited, by id.
    #[schema(value_type = Vec<String>)]
    pub attachments: Value,
    /// Where they were.
    pub position: Option<GeoPoint>,
}

/// One case for `viewer` (none: the live streams, which write the viewer's actions in
/// front per subscription), at `now`.
pub fn case_view(
    row: &CaseRow,
    rules: &CaseRules,
    geography: &Geography,
    viewer: Option<&Principal>,
    now: DateTime<Utc>,
) -> CaseView {
    let region = |code: &Option<String>| {
        code.as_deref()
            .and_then(|c| geography.city.by_code(c))
            .map(|r| RegionRef { code: r.code.0.clone(), name: r.name.clone() })
    };
    let status = Status::parse(&row.status);
    let clear = viewer.is_some_and(|v| v.can(cockpit_access::Permission::UnmaskPersonalData));
    let deadline_state = match (row.due_at, row.warn_at) {
        (Some(due), _) if row.closed_at.is_none() && now >= due => Some(DeadlineState::Overdue),
        (Some(_), Some(warn)) if row.closed_at.is_none() && now >= warn => Some(DeadlineState::Warning),
        (Some(_), _) => Some(DeadlineState::NotDue),
        _ => None,
    };
    CaseView {
        id: row.id,
        source: row.source_id.clone(),
        source_name: rules.sources.get(&row.source_id).map(|s| s.name.clone()),
        // A reference made from a user's idempotency key is theirs alone, not the case's.
        source_ref: row.source_ref.clone().filter(|r| !r.starts_with("key:")),
        category: CategoryRef {
            code: row.category.clone(),
            name: rules.categories.full_name(&CategoryCode(row.category.clone())),
        },
        urgency: row.urgency.clone(),
        tags: row.tags.clone(),
        title: free_text(&row.title, clear).into_owned(),
        description: free_text(&row.description, clear).into_owned(),
        location: row.lon.zip(row.lat).map(|(lon, lat)| GeoPoint { lon, lat }),
        outside_district: row.outside_district,
        street: region(&row.street_code),
        village: region(&row.village_code),
        grid: region(&row.grid_code),
        address: row.address.clone(),
        reporter: row.reporter_masked.clone(),
        occurred_at: row.occurred_at,
        created_at: row.created_at,
        status: row.status.clone(),
        dispatch_status: if row.assignee.is_some() { DispatchStatus::Dispatched } else { DispatchStatus::Undispatched },
        assignee: row.assignee.clone(),
        dispatch_rule: row.dispatch_rule.clone(),
        leaders: row.leaders.clone(),
        evaluation: row.evaluation.clone(),
        duplicate: row.duplicate_of.is_some(),
        duplicate_of: row.duplicate_of,
        deadline: row.due_at.map(|due_at| DeadlineView {
            limit: row.deadline_limit.as_deref().and_then(|l| serde_json::from_str(l).ok()),
            started_at: row.started_at,
            warn_at: row.warn_at,
            due_at,
            state: deadline_state,
        }),
        overdue: row.overdue || deadline_state == Some(DeadlineState::Overdue),
        closed_at: row.closed_at,
        allowed_actions: status.zip(viewer).map(|(s, v)| v.allowed_actions_on(s, row.assignee.as_ref())),
    }
}

/// A text someone typed, with the personal data in it masked unless `clear`.
pub fn free_text(text: &str, clear: bool) -> std::borrow::Cow<'_, str> {
    if clear { std::borrow::Cow::Borrowed(text) } else { cockpit_access::mask_personal_data(text) }
}

/// A case's timeline, oldest first; notes masked as [`free_text`] unless `clear`.
pub fn timeline(rows: &[TimelineRow], clear: bool) -> Vec<TimelineStep> {
    rows.iter()
        .map(|t| TimelineStep {
            at: t.at,
            actor: TimelineActor { user: t.actor_user.clone(), role: t.actor_role.clone() },
            action: t.action.clone(),
            from: t.from_status.clone(),
            to: t.to_status.clone(),
            content: free_text(&t.content, clear).into_owned(),
            attachments: t.attachments.clone(),
            position: t.lon.zip(t.lat).map(|(lon, lat)| GeoPoint { lon, lat }),
        })
        .collect()
}

/// A case as the live streams carry it: [`case_view`] without the viewer's allowed
/// actions (written in front per subscription) and without the id of the case it
/// duplicates, as text, with its status.
pub fn live_case_text(
    row: &CaseRow,
    rules: &CaseRules,
    geography: &Geography,
    now: DateTime<Utc>,
) -> (String, Option<Status>) {
    let mut case = case_view(row, rules, geography, None, now);
    // One text goes to every subscriber, some of whom may not see the case this one
    // duplicates: the stream says only that it is a duplicate (the case over HTTP says of
    // which, to whoever may see that one).
    case.duplicate_of = None;
    // Writing a struct of strings, numbers and JSON values cannot fail; were it to, the
    // stream still says which case changed.
    let text = serde_json::to_string(&case).unwrap_or_else(|_| format!("{{\"id\": {}}}", row.id));
    (text, Status::parse(&row.status))
}
