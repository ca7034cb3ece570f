//! Creating cases in batches: concurrent creates are gathered and written with two
//! statements per batch (one looking up their ids, duplicate candidates and grid workers,
//! one writing the cases with their first timeline entries, audit records and live log
//! entries, committing on its own) instead of several per case. Each request is answered
//! only after its batch has committed, so a 201 is as durable as before. PostgreSQL's cost
//! per statement, which batching shares out, was most of a create's cost on 2 cores.
//!
//! One writer task takes from a bounded queue whatever is waiting (up to `MAX_BATCH`) as
//! soon as it is free, so a lone request waits for nobody. One, not several: its batches
//! never overlap, so a batch's duplicate check sees every case of the batches before it
//! (and one was faster than two: fewer, larger batches; BENCHMARKS.md). The queue is the
//! admission: when it is full, a create from outside is refused at once (503 with
//! Retry-After: nothing was written, the caller sends it again), so that overload never
//! piles up as waiting requests; the cockpit's own alarm cases wait for room instead.
//! If a batch fails as a whole, its cases are written one by one, so that one bad case
//! cannot fail the others.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use cockpit_events::{
    Action, Actor, CaseFootprint, CaseId, Deadline, DispatchDecision, DispatchRequest, GeoPoint, NewCase, Status,
    Transition, UserId, transition,
};
use cockpit_geo::{Coord, Place};
use tokio::sync::{mpsc, oneshot};

use super::error::ServiceError;
use super::rules::{CaseRules, RulesHandle};
use crate::geography::GeographyHandle;
use cockpit_store::{AuditActor, CaseRow, InsertCase, Lookup, NearQuery, Store};

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

/// The account of a grid's full-time worker, as looked up (`Store::grid_workers`);
/// `grid-worker-<grid>` when the grid has none yet, which the grid's worker still finds
/// among their grid's tasks.
pub(crate) fn grid_worker(worker: Option<String>, grid: &str) -> UserId {
    UserId(worker.unwrap_or_else(|| format!("grid-worker-{grid}")))
}

/// The most cases one statement writes.
const MAX_BATCH: usize = 64;

/// A case checked and tagged, ready for its duplicate check and its insert.
#[derive(Debug)]
pub struct Prepared {
    pub(crate) new: NewCase,
    /// WGS84.
    pub(crate) point: Option<Coord>,
    pub(crate) outside: bool,
    pub(crate) regions: Place,
    pub(crate) opening: Transition,
    pub(crate) deadline: Option<Deadline>,
    pub(crate) now: DateTime<Utc>,
    pub(crate) reporter_sealed: Option<Vec<u8>>,
    pub(crate) reporter_masked: Option<serde_json::Value>,
    pub(crate) who: AuditActor,
}

type Reply = oneshot::Sender<Result<(Created, CaseRow), ServiceError>>;

/// The handle that requests submit to.
#[derive(Clone, Debug)]
pub struct Batcher {
    // Bounded (`[cases] create_queue`); when full, outside creates are refused, alarm
    // cases wait (`submit`).
    queue: mpsc::Sender<(Prepared, Reply)>,
    rendered: Arc<Rendered>,
}

/// New cases as the live streams carry them, rendered by the writer that created them, so
/// that this instance's live hub need not read them back (other instances do). Taken once;
/// bounded, in case no hub takes them.
#[derive(Debug, Default)]
pub struct Rendered {
    cases: std::sync::Mutex<std::collections::HashMap<i64, LiveCase>>,
}

/// A case's live text and status.
pub type LiveCase = (Arc<str>, Option<Status>);

/// The most rendered cases kept for the hub.
const RENDERED: usize = 4096;

impl Rendered {
    fn put(&self, id: i64, text: String, status: Option<Status>) {
        let mut cases = self.cases.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if cases.len() >= RENDERED {
            // Not taken: no hub runs, or it is far behind and reads them back anyway.
            cases.clear();
        }
        cases.insert(id, (text.into(), status));
    }

    /// The created case `id` as rendered, if this instance created it.
    pub fn take(&self, id: i64) -> Option<LiveCase> {
        self.cases.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&id)
    }
}

impl Batcher {
    /// Starts the writer, with room for `queue` creates waiting (at least 1).
    pub fn start(store: Store, rules: RulesHandle, geography: GeographyHandle, queue: usize) -> Batcher {
        let (queue, mut receiver) = mpsc::channel(queue.max(1));
        let rendered = Arc::new(Rendered::default());
        let writer = rendered.clone();
        tokio::spawn(async move {
            while let Some(first) = receiver.recv().await {
                let mut batch = vec![first];
                while batch.len() < MAX_BATCH {
                    match receiver.try_recv() {
                        Ok(job) => batch.push(job),
                        Err(_) => break,
                    }
                }
                write(&store, &rules.get(), batch, &geography, &writer).await;
            }
        });
        Batcher { queue, rendered }
    }

    /// The cases this instance's writer created, as rendered for the live streams.
    pub fn rendered(&self) -> &Rendered {
        &self.rendered
    }

    /// Writes one case, with the others waiting at the same moment. With `wait`, waits for
    /// room in the queue; without, a full queue refuses the case (`Overloaded`) and
    /// nothing is written.
    pub async fn submit(&self, case: Prepared, wait: bool) -> Result<(Created, CaseRow), ServiceError> {
        let (reply, answer) = oneshot::channel();
        let stopped = || ServiceError::Unavailable("the case writer has stopped".into());
        if wait {
            self.queue.send((case, reply)).await.map_err(|_| stopped())?;
        } else {
            self.queue.try_send((case, reply)).map_err(|e| match e {
                mpsc::error::TrySendError::Full(_) => {
                    ServiceError::Overloaded { waiting: self.queue.max_capacity(), retry_after_s: 1 }
                }
                mpsc::error::TrySendError::Closed(_) => stopped(),
            })?;
        }
        answer.await.map_err(|_| stopped())?
    }
}

async fn write(
    store: &Store,
    rules: &CaseRules,
    batch: Vec<(Prepared, Reply)>,
    geography: &GeographyHandle,
    rendered: &Rendered,
) {
    let (cases, replies): (Vec<Prepared>, Vec<Reply>) = batch.into_iter().unzip();
    let results = match write_batch(store, rules, &cases).await {
        Ok(results) => results,
        Err(error) => {
            tracing::warn!(%error, cases = cases.len(), "batch failed; writing its cases one by one");
            let mut results = Vec::with_capacity(cases.len());
            for case in &cases {
                results.push(write_batch(store, rules, std::slice::from_ref(case)).await.and_then(|mut r| {
                    r.pop().unwrap_or_else(|| Err(ServiceError::Unavailable("no result for the case".into())))
                }));
            }
            results
        }
    };
    let (geography, now) = (geography.get(), chrono::Utc::now());
    for result in &results {
        if let Ok((created, row)) = result
            && created.new
        {
            let (text, status) = super::live_case_text(row, rules, &geography, now);
            rendered.put(row.id, text, status);
        }
    }
    for (reply, result) in replies.into_iter().zip(results) {
        // The requester may have gone (client hung up); the case is written all the same.
        let _ = reply.send(result);
    }
}

/// Duplicate checks, dispatch decisions and the insert for a batch. The outer error fails
/// the batch; inner results are per case.
async fn write_batch(
    store: &Store,
    rules: &CaseRules,
    cases: &[Prepared],
) -> Result<Vec<Result<(Created, CaseRow), ServiceError>>, ServiceError> {
    let policy = &rules.duplicates;
    let queries: Vec<NearQuery> = cases
        .iter()
        .map(|c| NearQuery {
            category: c.new.category.as_str().to_string(),
            point: c.point.map(|p| (p.x, p.y)),
            metres: policy.max_distance_m,
            since: c.new.occurred_at - TimeDelta::minutes(i64::from(policy.window_minutes)),
            grid: c.regions.grid.as_ref().map(|g| g.as_str().to_string()),
        })
        .collect();
    let lookups = store.lookup_new_cases(&queries).await?;
    let mut rows = Vec::with_capacity(cases.len());
    let mut duplicates = Vec::with_capacity(cases.len());
    // The originals written earlier in this batch: a second report of the same spot in the
    // same batch is linked to the first. (Batches of two instances written at the same
    // instant can still miss each other: then there are two cases, never one lost.)
    let mut in_batch: Vec<CaseFootprint> = Vec::new();
    for (case, lookup) in cases.iter().zip(lookups) {
        let Lookup { id, near: open, worker } = lookup;
        let footprint = |id: i64, lon: f64, lat: f64, occurred_at| CaseFootprint {
            id: CaseId(id),
            category: case.new.category.clone(),
            point: GeoPoint { lon, lat },
            occurred_at,
        };
        let duplicate_of = case.point.and_then(|p| {
            let mut candidates: Vec<CaseFootprint> =
                open.into_iter().map(|(id, lon, lat, occurred_at)| footprint(id, lon, lat, occurred_at)).collect();
            candidates.extend(in_batch.iter().filter(|f| f.category == case.new.category).cloned());
            policy.find(&footprint(0, p.x, p.y, case.new.occurred_at), &candidates).map(|m| m.case)
        });
        if duplicate_of.is_none()
            && let Some(p) = case.point
        {
            in_batch.push(footprint(id, p.x, p.y, case.new.occurred_at));
        }
        rows.push(row(rules, worker, case, duplicate_of, id)?);
        duplicates.push(duplicate_of);
    }
    let written = store.create_cases(&rows).await?;
    let mut results = Vec::with_capacity(cases.len());
    for (outcome, duplicate_of) in written.into_iter().zip(duplicates) {
        results.push(match outcome {
            Ok(stored) => Ok((Created { id: CaseId(stored.id), new: true, duplicate_of }, stored)),
            Err(existing) => match store.case(existing).await {
                Ok(Some(stored)) => Ok((Created { id: existing, new: false, duplicate_of: None }, stored)),
                Ok(None) => Err(ServiceError::NotFound(existing.0)),
                Err(e) => Err(e.into()),
            },
        });
    }
    Ok(results)
}

/// The row for a case: its deadline (none for a duplicate, which waits with the case it
/// duplicates), and its dispatch by the rules, decided before the insert so that the case,
/// its intake entry and its dispatch entry are written together.
fn row(
    rules: &CaseRules,
    worker: Option<String>,
    case: &Prepared,
    duplicate_of: Option<CaseId>,
    id: i64,
) -> Result<InsertCase, ServiceError> {
    let new = &case.new;
    let deadline = case.deadline.filter(|_| duplicate_of.is_none());
    let mut state = case.opening.state.clone();
    let mut timeline = vec![case.opening.entry.clone()];
    if state.status == Status::New && duplicate_of.is_none() {
        let worker = case.regions.grid.as_ref().map(|g| grid_worker(worker, g.as_str()));
        let decision = rules.dispatch.decide(DispatchRequest {
            category: &new.category,
            regions: &case.regions,
            grid_worker: worker.as_ref(),
        });
        if let DispatchDecision::Dispatch { rule, to } = decision {
            let step = transition(&state, &Actor::system(), Action::AutoDispatch { to, rule }, case.now)
                .map_err(ServiceError::Refused)?;
            state = step.state;
            timeline.push(step.entry);
        }
    }
    let regions = &case.regions;
    Ok(InsertCase {
        id,
        source_id: new.source.as_str().to_string(),
        source_ref: new.source_ref.as_ref().map(|r| r.as_str().to_string()),
        category: new.category.as_str().to_string(),
        urgency: new.urgency.as_str().to_string(),
        tags: new.tags.iter().map(|t| t.as_str().to_string()).collect(),
        title: new.title.clone(),
        description: new.description.clone(),
        location: case.point.map(|p| (p.x, p.y)),
        outside_district: case.outside,
        street_code: regions.street.as_ref().map(|c| c.as_str().to_string()),
        village_code: regions.village.as_ref().map(|c| c.as_str().to_string()),
        grid_code: regions.grid.as_ref().map(|c| c.as_str().to_string()),
        address: new.address.clone(),
        reporter_sealed: case.reporter_sealed.clone(),
        reporter_masked: case.reporter_masked.clone(),
        occurred_at: new.occurred_at,
        created_at: case.now,
        who: case.who.clone(),
        state,
        timeline,
        duplicate_of: duplicate_of.map(|c| c.0),
        deadline_limit: deadline.map(|d| serde_json::to_string(&d.limit).unwrap_or_default()),
        started_at: deadline.map(|d| d.started_at),
        warn_at: deadline.map(|d| d.warn_at),
        due_at: deadline.map(|d| d.due_at),
    })
}
