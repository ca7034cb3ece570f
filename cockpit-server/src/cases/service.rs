//! Creating cases and applying actions: each change and its timeline entry commit in one
//! transaction, or not at all.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use cockpit_events::{
    Action, ActionKind, Actor, CaseFootprint, CaseId, CaseRegions, CategoryCode, Crs, DispatchDecision,
    DispatchRequest, EntryPath, EventsError, GeoPoint, NewCase, RegionCode, Status, UserId, intake, transition,
};
use cockpit_geo::{Coord, gcj02_to_wgs84};

use super::rules::CaseRules;
use crate::Geography;
use crate::store::{CaseRow, InsertCase, Store, StoreError};

/// Creates cases and applies actions.
#[allow(missing_docs)] // One field per column or setting; see migrations/0001_cases.sql and the config.
#[derive(Clone)]
pub struct CaseService {
    pub store: Store,
    pub geography: Arc<Geography>,
    pub rules: Arc<CaseRules>,
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
}

impl From<sqlx::Error> for ServiceError {
    fn from(e: sqlx::Error) -> ServiceError {
        ServiceError::Store(StoreError::Database(e))
    }
}

/// The account id of a grid's full-time worker.
pub fn grid_worker(grid: &str) -> UserId {
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

        // Duplicate detection reads the open cases first. Two reports of one spot in the
        // same instant can both miss each other; they are then two cases, never one lost.
        let mut duplicate_of = None;
        if let Some(p) = point {
            let policy = &self.rules.duplicates;
            let since = new.occurred_at - TimeDelta::minutes(i64::from(policy.window_minutes));
            let open =
                self.store.open_cases_near(new.category.as_str(), (p.x, p.y), policy.max_distance_m, since).await?;
            let footprints: Vec<CaseFootprint> = open
                .into_iter()
                .map(|(id, lon, lat, occurred_at)| CaseFootprint {
                    id: CaseId(id),
                    category: new.category.clone(),
                    point: GeoPoint { lon, lat },
                    occurred_at,
                })
                .collect();
            let this = CaseFootprint {
                id: CaseId(0),
                category: new.category.clone(),
                point: GeoPoint { lon: p.x, lat: p.y },
                occurred_at: new.occurred_at,
            };
            duplicate_of = policy.find(&this, &footprints).map(|m| m.case);
        }
        // A duplicate waits with the case it duplicates and is never dispatched on its own,
        // so a clock of its own would only raise overdue alarms nobody can clear.
        let deadline = deadline.filter(|_| duplicate_of.is_none());
        // Rules dispatch what they can, decided before the insert so that the case, its
        // intake entry and its dispatch entry are written in one statement.
        let mut state = opening.state.clone();
        let mut timeline = vec![opening.entry];
        if state.status == Status::New && duplicate_of.is_none() {
            let worker = regions.grid.as_ref().map(|g| grid_worker(g.as_str()));
            let decision = self.rules.dispatch.decide(DispatchRequest {
                category: &new.category,
                regions: &regions,
                grid_worker: worker.as_ref(),
            });
            if let DispatchDecision::Dispatch { rule, to } = decision {
                let step = transition(&state, &Actor::system(), Action::AutoDispatch { to, rule }, now)
                    .map_err(ServiceError::Refused)?;
                state = step.state;
                timeline.push(step.entry);
            }
        }
        let row = InsertCase {
            source_id: new.source.as_str().to_string(),
            source_ref: new.source_ref.as_ref().map(|r| r.as_str().to_string()),
            category: new.category.as_str().to_string(),
            urgency: new.urgency.as_str().to_string(),
            tags: new.tags.iter().map(|t| t.as_str().to_string()).collect(),
            title: new.title.clone(),
            description: new.description.clone(),
            location: point.map(|p| (p.x, p.y)),
            outside_district: point.is_some() && located.is_none(),
            street_code: regions.street.as_ref().map(|c| c.as_str().to_string()),
            village_code: regions.village.as_ref().map(|c| c.as_str().to_string()),
            grid_code: regions.grid.as_ref().map(|c| c.as_str().to_string()),
            address: new.address.clone(),
            reporter: new.reporter.as_ref().map(|r| serde_json::json!({"name": r.name, "phone": r.phone})),
            occurred_at: new.occurred_at,
            created_at: now,
            state,
            timeline,
            duplicate_of: duplicate_of.map(|c| c.0),
            deadline_limit: deadline.map(|d| serde_json::to_string(&d.limit).unwrap_or_default()),
            started_at: deadline.map(|d| d.started_at),
            warn_at: deadline.map(|d| d.warn_at),
            due_at: deadline.map(|d| d.due_at),
        };
        match self.store.create_case(&row).await? {
            Ok(stored) => Ok((Created { id: CaseId(stored.id), new: true, duplicate_of }, stored)),
            Err(existing) => {
                let stored = self.store.case(existing).await?.ok_or(ServiceError::NotFound(existing.0))?;
                Ok((Created { id: existing, new: false, duplicate_of: None }, stored))
            }
        }
    }

    /// Applies an action; the state change and its timeline entry commit together.
    pub async fn act(&self, id: CaseId, actor: &Actor, action: Action, now: DateTime<Utc>) -> Result<(), ServiceError> {
        let mut tx = self.store.pool().begin().await?;
        let row = Store::case_for_update(&mut tx, id).await?.ok_or(ServiceError::NotFound(id.0))?;
        let state = row.state()?;
        let kind = action.kind();
        let step = transition(&state, actor, action, now).map_err(|e| match e {
            EventsError::ActionNotAllowed { .. } => ServiceError::Refused(e),
            other => ServiceError::BadField { field: "action", reason: other.to_string() },
        })?;
        Store::update_state(&mut tx, id, &step.state, now).await?;
        Store::insert_timeline(&mut tx, id, &step.entry).await?;
        // The clock starts when a case enters the pool: on approval, and again on reopening.
        if matches!(kind, ActionKind::Approve | ActionKind::Reopen) {
            let category = CategoryCode(row.category.clone());
            let urgency = cockpit_events::Urgency::parse(&row.urgency)
                .ok_or_else(|| StoreError::Corrupt(format!("case {}: urgency {}", id.0, row.urgency)))?;
            let deadline = self.deadline(&category, urgency, now)?;
            Store::restart_deadline(&mut tx, id, deadline.as_ref()).await?;
        }
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
