//! Creating cases and applying actions: each change and its timeline entry commit in one
//! transaction, or not at all.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use cockpit_events::{
    Action, ActionKind, Actor, CaseId, CaseRegions, CategoryCode, Crs, EntryPath, EventsError, NewCase, RegionCode,
    Status, UserId, intake, transition,
};
use cockpit_geo::{Coord, gcj02_to_wgs84};

use super::batch::{Batcher, Prepared};
use super::rules::CaseRules;
use crate::Geography;
use crate::store::{AuditActor, AuditEntry, CaseRow, Store, StoreError};

/// Creates cases and applies actions.
#[allow(missing_docs)] // One field per column or setting; see migrations/0001_cases.sql and the config.
#[derive(Clone)]
pub struct CaseService {
    pub store: Store,
    pub geography: Arc<Geography>,
    pub rules: Arc<CaseRules>,
    pub batcher: Batcher,
    /// Seals reporters' personal data.
    pub privacy: Arc<cockpit_access::KeyRing>,
}

/// What creating a case did.
#[allow(missing_docs)] // One field per column or setting; see migrations/0001_cases.sql and the config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Created {
    pub id: CaseId,
    /// False when the source had already delivered this reference: nothing was written.
    pub new: bool,
    /// The open case this one duplicates, when it was linked to one.
    pub duplicate_of: Option<CaseId>,
}

/// Why a case operation failed.
#[allow(missing_docs)] // One field per column or setting; see migrations/0001_cases.sql and the config.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("case {0} does not exist")]
    NotFound(i64),
    #[error("{field}: {reason}")]
    BadField { field: &'static str, reason: String },
    /// The state machine refused (status or role); carries the allowed actions.
    #[error(transparent)]
    Refused(EventsError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The server is shutting down.
    #[error("{0}")]
    Unavailable(String),
}

impl From<sqlx::Error> for ServiceError {
    fn from(e: sqlx::Error) -> ServiceError {
        ServiceError::Store(StoreError::Database(e))
    }
}

/// The account id of a grid's full-time worker.
pub(crate) fn grid_worker(grid: &str) -> UserId {
    UserId(format!("grid-worker-{grid}"))
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
        let category = self.rules.categories.get(&new.category).ok_or_else(|| ServiceError::BadField {
            field: "category",
            reason: format!("`{}` is not a configured category", new.category.as_str()),
        })?;
        let opening =
            intake(path, actor, now, format!("{}：{}", category.name, new.title)).map_err(ServiceError::Refused)?;
        let point = new.location.map(|p| match new.crs {
            Crs::Wgs84 => Coord { x: p.lon, y: p.lat },
            Crs::Gcj02 => gcj02_to_wgs84(Coord { x: p.lon, y: p.lat }),
        });
        let city = &self.geography.city;
        let located = point.and_then(|p| city.locate(p));
        let code = |id: Option<cockpit_geo::RegionId>| id.map(|id| city.region(id).code.as_str().to_string());
        let regions = CaseRegions {
            street: code(located.map(|l| l.street)).map(RegionCode),
            village: code(located.and_then(|l| l.village)).map(RegionCode),
            grid: code(located.and_then(|l| l.grid)).map(RegionCode),
        };
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
        let prepared = Prepared {
            new,
            point,
            outside: point.is_some() && located.is_none(),
            regions,
            opening,
            deadline,
            now,
            reporter_sealed,
            reporter_masked,
            who,
        };
        self.batcher.submit(prepared).await
    }

    /// Applies an action; the state change, its timeline entry and its audit record
    /// commit together.
    pub async fn act(
        &self,
        id: CaseId,
        actor: &Actor,
        action: Action,
        now: DateTime<Utc>,
        who: AuditActor,
    ) -> Result<(), ServiceError> {
        let mut tx = self.store.pool().begin().await?;
        let row = Store::case_for_update(&mut tx, id).await?.ok_or(ServiceError::NotFound(id.0))?;
        let state = row.state()?;
        let kind = action.kind();
        let step = transition(&state, actor, action, now).map_err(|e| match e {
            EventsError::ActionNotAllowed { .. } => ServiceError::Refused(e),
            other => ServiceError::BadField { field: "action", reason: other.to_string() },
        })?;
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
        let live = crate::store::live_entry(id.0, kind.as_str(), &row, assignee);
        crate::live::log::append(&mut tx, &[live]).await?;
        tx.commit().await?;
        Ok(())
    }

    fn deadline(
        &self,
        category: &CategoryCode,
        urgency: cockpit_events::Urgency,
        now: DateTime<Utc>,
    ) -> Result<Option<cockpit_events::Deadline>, ServiceError> {
        let Some(limit) = self.rules.categories.time_limit(category, urgency) else { return Ok(None) };
        self.rules
            .deadlines
            .deadline(&self.rules.calendar, now, limit)
            .map(Some)
            .map_err(|e| ServiceError::BadField { field: "category", reason: e.to_string() })
    }
}
