//! The pull scheduler: on every instance, every [`TICK`], the due pulls are claimed
//! (`Store::claim_due_indicator_pulls`: a row lock skipped by the other instances' claims,
//! and `next_due` moved past the attempt's timeout, so one instance fetches each due time)
//! and each is fetched on a task of its own: a source that is slow or failing holds its own
//! task only, never another pull's. A success is due again after the interval; a failure
//! after the backoff (1 s, 2 s, 4 s, … up to the interval). The values picked are written
//! like pushed ones (source `pulled`, the pull's id as its name), then evaluated for alarms.

use std::time::Duration;

use chrono::{DateTime, Utc};
use cockpit_indicators::CatalogueEntry;
use cockpit_store::{AuditActor, AuditEntry, PullOutcome, PullRow};
use serde_json::json;
use tokio::sync::watch;

use super::{Puller, backoff, every, fetch, stored_headers, stored_picks};
use crate::cases::CaseService;
use crate::indicators::values::{self, Arriving, Origin};
use crate::indicators::{IndicatorsError, alarms};

/// How often each instance looks for due pulls: a pull is fetched within this of its time.
pub const TICK: Duration = Duration::from_secs(1);

/// Seconds past an attempt's timeout before a claimed pull is due again (an instance that
/// died during the attempt leaves it to another then).
const GRACE_SECONDS: i32 = 30;

/// The most pulls one instance claims per tick; the rest are claimed at the next.
const CLAIM: i64 = 64;

/// Claims and fetches due pulls every [`TICK`] until `stop` turns true.
pub async fn run(cases: CaseService, puller: Puller, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        let claimed = match cases.store.claim_due_indicator_pulls(Utc::now(), GRACE_SECONDS, CLAIM).await {
            Ok(claimed) => claimed,
            Err(error) => {
                tracing::warn!(%error, "claiming due indicator pulls failed; retrying");
                continue;
            }
        };
        for row in claimed {
            // Its own task: a pull waiting on its source delays no other, nor the next tick.
            let (cases, puller) = (cases.clone(), puller.clone());
            tokio::spawn(async move {
                if let Err(error) = attempt(&cases, &puller, &row).await {
                    tracing::warn!(pull = %row.id, %error, "an indicator pull could not record its attempt");
                }
            });
        }
    }
}

/// Fetches claimed `row` (its `last_attempt` is the claim's moment), writes what it picked
/// and records the outcome with the next due time.
pub async fn attempt(cases: &CaseService, puller: &Puller, row: &PullRow) -> Result<PullOutcome, IndicatorsError> {
    let started = row.last_attempt.unwrap_or_else(Utc::now);
    let store = &cases.store;
    let entry: Option<CatalogueEntry> = match store.indicator_entry(&row.indicator).await? {
        Some(stored) => serde_json::from_value(stored.entry).ok(),
        None => None,
    };
    let (outcome, every) = match &entry {
        Some(entry) => (pull_and_write(cases, puller, row, entry).await?, every(row, entry.frequency)),
        None => (PullOutcome::Failed(format!("indicator `{}` is not in the catalogue", row.indicator)), 3600),
    };
    let next = next_due(started, &outcome, row.failures, every);
    store.record_indicator_pull(&row.id, row.version, started, &outcome, next).await?;
    if let PullOutcome::Failed(reason) = &outcome {
        tracing::info!(pull = %row.id, failures = row.failures + 1, %next, %reason, "indicator pull failed; retrying");
    }
    Ok(outcome)
}

/// When a pull attempted at `started` is next due: the interval after a success, the
/// backoff after the `failures + 1`-th failure in a row.
pub fn next_due(started: DateTime<Utc>, outcome: &PullOutcome, failures: i32, every: u32) -> DateTime<Utc> {
    match outcome {
        PullOutcome::Succeeded => started + chrono::TimeDelta::seconds(i64::from(every)),
        PullOutcome::Failed(_) => started + backoff(failures.max(0) as u32 + 1, every),
    }
}

async fn pull_and_write(
    cases: &CaseService,
    puller: &Puller,
    row: &PullRow,
    entry: &CatalogueEntry,
) -> Result<PullOutcome, IndicatorsError> {
    let timeout = Duration::from_secs(row.timeout_seconds.max(1) as u64);
    let fetched = match fetch::fetch(puller, &row.url, &stored_headers(row), timeout).await {
        Ok(fetched) => fetched,
        Err(reason) => return Ok(PullOutcome::Failed(reason)),
    };
    let picks = stored_picks(row);
    let now = Utc::now();
    let offset = cases.rules.get().calendar.offset();
    let geography = cases.geography.get();
    let city = &geography.city;
    let mut failed = Vec::new();
    let mut prepared = Vec::new();
    for (i, picked) in fetch::pick_all(&fetched.document, &picks).into_iter().enumerate() {
        let period = picked.date.map(|d| entry.frequency.period_start(d));
        let value = match (picked.value, picked.reason) {
            (Some(v), _) => v,
            (None, reason) => {
                failed.push(format!("picks[{i}] {} {}: {}", picked.region, picked.path, reason.unwrap_or_default()));
                continue;
            }
        };
        let arriving =
            Arriving { indicator: row.indicator.clone(), region: picked.region.clone(), period, at: None, value };
        match values::prepare(entry, city, offset, now, &arriving, None, Origin::Pulled, &row.id) {
            Ok(v) => prepared.push(v),
            Err(e) => failed.push(format!("picks[{i}] {}: {e}", picked.region)),
        }
    }
    if !prepared.is_empty() {
        let audit = AuditEntry {
            who: AuditActor { actor: row.id.clone(), role: "pull".into(), address: String::new() },
            action: "indicator.pull".into(),
            object: format!("indicator_pull:{}", row.id),
            result: "ok".into(),
            detail: json!({"picked": prepared.len()}),
        };
        values::write(&cases.store, prepared.clone(), Some(audit)).await?;
        let observations: Vec<alarms::Observation> =
            prepared.iter().map(|value| alarms::Observation { entry, value, at: now }).collect();
        alarms::evaluate(&cases.store, city, offset, now, &observations).await?;
    }
    Ok(if failed.is_empty() { PullOutcome::Succeeded } else { PullOutcome::Failed(failed.join("; ")) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_success_waits_the_interval_and_failures_back_off() {
        let t = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap_or_default();
        let wait = |outcome: &PullOutcome, failures| (next_due(t, outcome, failures, 60) - t).num_seconds();
        let failed = PullOutcome::Failed("HTTP 500 from the source".into());
        assert_eq!(wait(&PullOutcome::Succeeded, 3), 60);
        assert_eq!([0, 1, 2, 3, 9].map(|f| wait(&failed, f)), [1, 2, 4, 8, 60]);
    }
}
