//! Creating cases and applying actions: each change and its timeline entry commit in one
//! transaction, or not at all.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use cockpit_events::{
    Action, ActionKind, Actor, CaseId, CategoryCode, Crs, DispatchDecision, DispatchRequest, EntryPath, EventsError,
    Handler, NewCase, Status, check_assignee, intake, transition,
};
use cockpit_geo::{Coord, Place, gcj02_to_wgs84};

pub use super::batch::Created;
use super::batch::{Batcher, Prepared, grid_worker};
pub use super::error::ServiceError;
use super::rules::RulesHandle;
use crate::GeographyHandle;
use cockpit_store::{AuditActor, AuditEntry, CaseRow, Store, StoreError};

/// Creates cases and applies actions.
#[allow(missing_docs)] // One field per column or setting; see migrations/0001_cases.sql and the config.
#[derive(Clone)]
pub struct CaseService {
    pub store: Store,
    pub geography: GeographyHandle,
    /// The city's case rules in force (an operator may replace them while running).
    pub rules: RulesHandle,
    /// The editable documents behind `rules`.
    pub documents: super::RuleDocuments,
    pub batcher: Batcher,
    /// Seals reporters' personal data.
    pub privacy: Arc<cockpit_access::KeyRing>,
    /// The audit records of reads, written with group commit.
    pub reads: super::ReadAudit,
    /// Statistics shared for a moment.
    pub stats: super::StatsCache,
}

/// What a delivery says, to compare a repeated source reference with the case stored
/// under it.
struct Delivered {
    source_ref: Option<String>,
    title: String,
    description: String,
    category: String,
    /// WGS84.
    point: Option<(f64, f64)>,
    address: Option<String>,
    reporter_masked: Option<serde_json::Value>,
}

impl Delivered {
    /// The fields in which `row` (the first delivery) differs from this one.
    fn differences(&self, row: &CaseRow) -> Vec<&'static str> {
        let mut fields = Vec::new();
        if row.title != self.title {
            fields.push("title");
        }
        if row.description != self.description {
            fields.push("description");
        }
        if row.category != self.category {
            fields.push("category");
        }
        let stored = row.lon.zip(row.lat);
        let same_point = match (stored, self.point) {
            (None, None) => true,
            // Within a centimetre: the stored point went through PostGIS and back.
            (Some(a), Some(b)) => (a.0 - b.0).abs() < 1e-7 && (a.1 - b.1).abs() < 1e-7,
            _ => false,
        };
        if !same_point {
            fields.push("location");
        }
        if row.address != self.address {
            fields.push("address");
        }
        if row.reporter_masked != self.reporter_masked {
            fields.push("reporter");
        }
        fields
    }
}

/// The idempotency key a caller sent with an action: who, the key, and a digest of the
/// request it came with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionKey {
    /// The caller.
    pub username: String,
    /// The `Idempotency-Key` header.
    pub key: String,
    /// SHA-256 (hex) of the request body.
    pub request_sha256: String,
}

/// What applying an action did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The action changed the case.
    Done,
    /// The key was used before for this very request: nothing was applied again.
    Replayed,
}

impl CaseService {
    /// Creates a case from intake, and returns it as stored. Idempotent on (source,
    /// source reference): a repeat returns the case delivered before, unchanged.
    pub async fn create(
        &self,
        new: NewCase,
        path: EntryPath,
        actor: &Actor,
        now: DateTime<Utc>,
        who: AuditActor,
    ) -> Result<(Created, CaseRow), ServiceError> {
        new.check_limits(now).map_err(|(field, reason)| ServiceError::BadField { field, reason })?;
        let rules = self.rules.get();
        let category = rules.categories.get(&new.category).ok_or_else(|| ServiceError::BadField {
            field: "category",
            reason: format!("`{}` is not a configured category", new.category.as_str()),
        })?;
        let opening =
            intake(path, actor, now, format!("{}：{}", category.name, new.title)).map_err(ServiceError::Refused)?;
        let point = new.location.map(|p| match new.crs {
            Crs::Wgs84 => Coord { x: p.lon, y: p.lat },
            Crs::Gcj02 => gcj02_to_wgs84(Coord { x: p.lon, y: p.lat }),
        });
        let geography = self.geography.get();
        let city = &geography.city;
        let regions = point.map(|p| city.place(p)).unwrap_or_default();
        let deadline =
            if opening.state.status == Status::New { self.deadline(&new.category, new.urgency, now)? } else { None };

        let (reporter_sealed, reporter_masked) = match &new.reporter {
            Some(r) => {
                let (sealed, masked) = crate::privacy::seal_reporter(&self.privacy, r)
                    .map_err(|e| ServiceError::Store(StoreError::Corrupt(e)))?;
                (Some(sealed), Some(masked))
            }
            None => (None, None),
        };
        // What a repeat of this reference must match (the stored row is the first delivery).
        let first = Delivered {
            source_ref: new.source_ref.as_ref().map(|r| r.as_str().to_string()),
            title: new.title.clone(),
            description: new.description.clone(),
            category: new.category.as_str().to_string(),
            point: point.map(|p| (p.x, p.y)),
            address: new.address.clone(),
            reporter_masked: reporter_masked.clone(),
        };
        let prepared = Prepared {
            new,
            point,
            outside: point.is_some() && regions.street.is_none(),
            regions,
            opening,
            deadline,
            now,
            reporter_sealed,
            reporter_masked,
            who,
        };
        // The cockpit's own alarm cases wait for room; a create from outside is refused
        // when the writer's queue is full (the caller is told to send it again).
        let (created, row) = self.batcher.submit(prepared, path == EntryPath::Alarm).await?;
        // Our own alarms name their case by the alarm's or its storm's reference, and a
        // storm's later alarms say other things of the same case: only deliveries from
        // outside must repeat what they said.
        if !created.new && path != EntryPath::Alarm {
            let fields = first.differences(&row);
            if !fields.is_empty() {
                return Err(ServiceError::ReferenceConflict {
                    source_ref: first.source_ref.unwrap_or_default(),
                    fields,
                });
            }
        }
        Ok((created, row))
    }

    /// Applies an action; the state change, its timeline entry, its audit record and its
    /// idempotency key (if any) commit together. A key seen before for the same request
    /// applies nothing and answers [`Applied::Replayed`]; for another request it is refused.
    #[allow(clippy::too_many_arguments)] // Who acts (three views of one caller), on what, when, and the key.
    pub async fn act(
        &self,
        id: CaseId,
        actor: &Actor,
        handler: &Handler<'_>,
        action: Action,
        now: DateTime<Utc>,
        who: AuditActor,
        key: Option<&ActionKey>,
    ) -> Result<Applied, ServiceError> {
        let mut tx = self.store.pool().begin().await?;
        if let Some(key) = key {
            // A concurrent request with the same key waits here for the first to commit
            // (then finds its key) or to roll back (then applies the action itself).
            let claimed =
                Store::claim_action_key(&mut tx, &key.username, &key.key, id.0, &key.request_sha256, now).await?;
            if !claimed {
                drop(tx);
                let (case_id, digest) = self
                    .store
                    .action_key(&key.username, &key.key)
                    .await?
                    .ok_or_else(|| StoreError::Corrupt(format!("action key {} vanished", key.key)))?;
                if case_id != id.0 || digest != key.request_sha256 {
                    return Err(ServiceError::BadField {
                        field: "Idempotency-Key",
                        reason: format!("was used before for another request (on case {case_id}); choose a new key"),
                    });
                }
                return Ok(Applied::Replayed);
            }
        }
        let row = Store::case_for_update(&mut tx, id).await?.ok_or(ServiceError::NotFound(id.0))?;
        let state = row.state()?;
        let kind = action.kind();
        let step = transition(&state, actor, action, now).map_err(|e| match e {
            EventsError::ActionNotAllowed { .. } => ServiceError::Refused(e),
            other => ServiceError::BadField { field: "action", reason: other.to_string() },
        })?;
        // After the status and the role (a closed case answers 409 to anyone): whose it is.
        check_assignee(&state, actor, kind, handler).map_err(ServiceError::Refused)?;
        Store::update_state(&mut tx, id, &step.state, now).await?;
        if step.state.status == Status::Closed {
            // An alarm's case closing is recorded on the alarm, in the same transaction.
            Store::close_alarms_of_case(&mut tx, id.0, now).await?;
        }
        Store::insert_timeline(&mut tx, id, &step.entry).await?;
        // The clock starts when a case enters the pool: on approval, and again on reopening.
        if matches!(kind, ActionKind::Approve | ActionKind::Reopen) {
            let category = CategoryCode(row.category.clone());
            let urgency = cockpit_events::Urgency::parse(&row.urgency)
                .ok_or_else(|| StoreError::Corrupt(format!("case {}: urgency {}", id.0, row.urgency)))?;
            let deadline = self.deadline(&category, urgency, now)?;
            Store::restart_deadline(&mut tx, id, deadline.as_ref()).await?;
        }
        let entry = AuditEntry {
            who,
            action: format!("case.{}", kind.as_str()),
            object: format!("case:{}", id.0),
            result: "ok".into(),
            detail: serde_json::json!({"from": state.status.as_str(), "to": step.state.status.as_str(), "as": actor.role.as_str()}),
        };
        Store::audit(&mut tx, now, &[entry]).await?;
        // Last: the live log's counter row stays locked until the commit.
        let assignee = step.state.assignee.as_ref().and_then(|a| serde_json::to_value(a).ok());
        let live = cockpit_store::live_entry(id.0, kind.as_str(), &row, assignee);
        cockpit_store::live_log::append(&mut tx, &[live]).await?;
        tx.commit().await?;
        Ok(Applied::Done)
    }

    /// What the dispatch rules would decide for a stored case now: the suggestion a
    /// dispatcher sees before dispatching by hand.
    pub async fn suggest_dispatch(&self, row: &CaseRow) -> Result<DispatchDecision, ServiceError> {
        let regions = Place::from_codes(row.street_code.clone(), row.village_code.clone(), row.grid_code.clone());
        let workers = self.store.grid_workers(row.grid_code.as_slice()).await?;
        let worker = row.grid_code.as_deref().map(|g| grid_worker(workers.get(g).cloned(), g));
        Ok(self.rules.get().dispatch.decide(DispatchRequest {
            category: &CategoryCode(row.category.clone()),
            regions: &regions,
            grid_worker: worker.as_ref(),
        }))
    }

    fn deadline(
        &self,
        category: &CategoryCode,
        urgency: cockpit_events::Urgency,
        now: DateTime<Utc>,
    ) -> Result<Option<cockpit_events::Deadline>, ServiceError> {
        let rules = self.rules.get();
        let Some(limit) = rules.categories.time_limit(category, urgency) else { return Ok(None) };
        rules
            .deadlines
            .deadline(&rules.calendar, now, limit)
            .map(Some)
            .map_err(|e| ServiceError::BadField { field: "category", reason: e.to_string() })
    }
}
