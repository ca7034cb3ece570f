//! Case statistics shared for a moment (`GET /api/cases/stats`): counting every matching
//! case costs PostgreSQL about 0.1 s for 84,000 cases and grows with the history, so an
//! answer is computed at most a few times a second per question and shared.
//!
//! A question is the level and the whole filter, the caller's scope and assignment among
//! it: callers who may see different cases never share an answer. Every answer served was
//! computed (its counting began) less than [`MAX_AGE`] before: statistics lag the cases by
//! at most a second. Concurrent callers of one question share one computation; an answer
//! older than [`REFRESH_AFTER`] is recomputed in the background while it is still served,
//! so that under steady load nobody waits for the count.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};

use super::error::ServiceError;
use cockpit_store::{CaseFilter, CaseStats, StatsLevel, Store};

/// The oldest answer served.
pub(crate) const MAX_AGE: Duration = Duration::from_secs(1);
/// From this age a request starts the next computation in the background.
const REFRESH_AFTER: Duration = Duration::from_millis(500);
/// Questions not asked for this long are forgotten when another is added.
const FORGET_AFTER: Duration = Duration::from_secs(60);
/// The most questions kept (an answer at the grid level is about 100 KB).
const MAX_QUESTIONS: usize = 256;

type Counting = Shared<BoxFuture<'static, Result<Arc<CaseStats>, String>>>;

/// One question's last answer and the computation under way.
struct Slot {
    answer: Option<(Arc<CaseStats>, Instant)>,
    /// The start of the local day the answer counted "today" from.
    day_start: Option<DateTime<Utc>>,
    running: Option<Counting>,
    asked: Instant,
}

/// The statistics answered lately, per question. Cheap to clone.
#[derive(Clone, Default)]
pub struct StatsCache {
    /// A std Mutex: held to look up or replace a slot, never across an await.
    slots: Arc<Mutex<HashMap<String, Slot>>>,
}

impl StatsCache {
    /// The statistics of `filter` per region of `level`, counted (by `store`, with the
    /// clock at the time of counting) less than [`MAX_AGE`] ago. `day_start` is the start
    /// of the local day: an answer counted with another day's start is not reused.
    pub async fn get(
        &self,
        store: &Store,
        level: StatsLevel,
        filter: &CaseFilter,
        day_start: DateTime<Utc>,
    ) -> Result<Arc<CaseStats>, ServiceError> {
        // Every field of the filter, the scope included, is in its Debug form.
        let key = format!("{level:?} {filter:?}");
        let counting = {
            let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
            if !slots.contains_key(&key) {
                slots.retain(|_, s| s.asked.elapsed() < FORGET_AFTER || s.running.is_some());
                // Bounded: many different questions at once (a time range per request) keep
                // the most recently asked.
                while slots.len() >= MAX_QUESTIONS {
                    let Some(oldest) = slots.iter().min_by_key(|(_, s)| s.asked).map(|(k, _)| k.clone()) else {
                        break;
                    };
                    slots.remove(&oldest);
                }
            }
            let slot = slots.entry(key.clone()).or_insert_with(|| Slot {
                answer: None,
                day_start: None,
                running: None,
                asked: Instant::now(),
            });
            slot.asked = Instant::now();
            let reusable = match &slot.answer {
                Some((stats, at)) if slot.day_start == Some(day_start) && at.elapsed() < MAX_AGE => {
                    Some((stats.clone(), at.elapsed()))
                }
                _ => None,
            };
            if let Some((stats, age)) = reusable {
                if age >= REFRESH_AFTER && slot.running.is_none() {
                    slot.running = Some(self.count(store, key, level, filter, day_start));
                }
                return Ok(stats);
            }
            match &slot.running {
                Some(running) => running.clone(),
                None => {
                    let running = self.count(store, key, level, filter, day_start);
                    slot.running = Some(running.clone());
                    running
                }
            }
        };
        counting.await.map_err(|e| {
            tracing::warn!(error = %e, "counting the case statistics failed");
            ServiceError::Unavailable("the statistics could not be counted; try again".into())
        })
    }

    /// Starts counting, in a task of its own (it finishes and is kept even when every
    /// caller waiting for it went away); the computation callers may wait for.
    fn count(
        &self,
        store: &Store,
        key: String,
        level: StatsLevel,
        filter: &CaseFilter,
        day_start: DateTime<Utc>,
    ) -> Counting {
        let (store, filter, slots) = (store.clone(), filter.clone(), self.slots.clone());
        let started = Instant::now();
        let counting: Counting = async move {
            store.case_stats(level, &filter, Utc::now(), day_start).await.map(Arc::new).map_err(|e| e.to_string())
        }
        .boxed()
        .shared();
        let keep = counting.clone();
        tokio::spawn(async move {
            let result = keep.await;
            let mut slots = slots.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(slot) = slots.get_mut(&key) {
                slot.running = None;
                if let Ok(stats) = result {
                    slot.answer = Some((stats, started));
                    slot.day_start = Some(day_start);
                }
            }
        });
        counting
    }
}
