//! The deadline scheduler: warnings at the warning point, overdue alarms at the deadline,
//! re-sent every `realarm_minutes` until acknowledged. The clock lives in the database,
//! not in in-memory sleeps: every instance runs [`tick`] on an interval, and each due row
//! is claimed with `FOR NO KEY UPDATE SKIP LOCKED` and changed in the same statement, so each
//! warning and alarm fires exactly once across instances and after restarts.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use tokio::sync::watch;

use cockpit_store::{Store, StoreError};

/// What one tick raised.
#[allow(missing_docs)] // One field per column or setting; see migrations/0001_cases.sql and the config.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Fired {
    pub warnings: u64,
    pub overdue_alarms: u64,
}

/// Raises every warning and alarm due at `now`. Each kind is claimed, marked, recorded
/// and put on the live streams (the case changed, and an alarm) in one transaction.
pub async fn tick(store: &Store, now: DateTime<Utc>, realarm: TimeDelta) -> Result<Fired, StoreError> {
    let (warnings, overdue_alarms) = store.raise_due_alarms(now, realarm).await?;
    Ok(Fired { warnings, overdue_alarms })
}

/// How long the idempotency keys of case actions are kept: far longer than a phone stays
/// offline with its queue.
pub const ACTION_KEY_DAYS: i64 = 30;

/// Forgets the action keys older than [`ACTION_KEY_DAYS`]; how many went.
pub async fn prune_action_keys(store: &Store, now: DateTime<Utc>) -> Result<u64, StoreError> {
    store.prune_action_keys(now - TimeDelta::days(ACTION_KEY_DAYS)).await
}

/// Runs [`tick`] (and prunes old action keys and failed logins) every `every` until `stop` turns true.
pub async fn run(store: Store, every: Duration, realarm: TimeDelta, mut stop: watch::Receiver<bool>) {
    let mut interval = tokio::time::interval(every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            _ = stop.changed() => return,
        }
        match tick(&store, Utc::now(), realarm).await {
            Ok(fired) if fired != Fired::default() => tracing::info!(?fired, "deadline alarms raised"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "deadline tick failed; retrying next interval"),
        }
        if let Err(e) = prune_action_keys(&store, Utc::now()).await {
            tracing::warn!(error = %e, "pruning action keys failed; retrying next interval");
        }
        // Failed logins are kept a day: long past any lock, long enough to be told of.
        if let Err(e) = store.prune_login_failures(Utc::now() - TimeDelta::days(1)).await {
            tracing::warn!(error = %e, "pruning failed logins failed; retrying next interval");
        }
    }
}
