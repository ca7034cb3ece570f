//! The writer: one task takes what the shards produce and commits it in batches, one
//! transaction each, then fires the acknowledgements that waited for it. A batch that
//! fails is retried as a whole until it commits; meanwhile the queue fills and the broker
//! stops reading (backpressure), so nothing acknowledged is ever dropped.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, oneshot};

use super::Iot;
use cockpit_store::{AlarmWrite, EventRow, ReadingRow, Store, StoreError};

/// Operations queued before the shards wait.
pub(crate) const QUEUE: usize = 16_384;
/// Readings queued for the history writers before they are shed: a second and more at ten
/// times the design rate (50,000/s), so that a slow commit (a checkpoint) sheds nothing;
/// about 200 bytes each.
pub(crate) const HISTORY_QUEUE: usize = 65_536;
/// The most operations in one transaction.
const BATCH: usize = 4_096;
/// From this many values a batch's readings are copied (`Store::copy_readings`: a few
/// round trips, far less work per value); fewer take one statement.
const COPY_FROM: usize = 256;

pub(crate) enum WriteOp {
    Readings(Vec<ReadingRow>),
    Event(EventRow),
    Status {
        device_id: String,
        online: bool,
        at: DateTime<Utc>,
    },
    Alarm(AlarmWrite),
    /// Fires when everything queued before it is committed.
    Done(oneshot::Sender<bool>),
}

#[derive(Default)]
struct Batch {
    readings: Vec<ReadingRow>,
    events: Vec<EventRow>,
    statuses: HashMap<String, (bool, DateTime<Utc>)>,
    alarms: Vec<AlarmWrite>,
    done: Vec<oneshot::Sender<bool>>,
    ops: usize,
}

impl Batch {
    fn add(&mut self, op: WriteOp) {
        self.ops += 1;
        match op {
            WriteOp::Readings(rows) => self.readings.extend(rows),
            WriteOp::Event(row) => self.events.push(row),
            WriteOp::Status { device_id, online, at } => {
                let newer = self.statuses.get(&device_id).is_none_or(|(_, seen)| *seen <= at);
                if newer {
                    self.statuses.insert(device_id, (online, at));
                }
            }
            WriteOp::Alarm(write) => self.alarms.push(write),
            WriteOp::Done(done) => self.done.push(done),
        }
    }

    async fn commit(&self, store: &Store) -> Result<(u64, bool), StoreError> {
        let mut tx = store.pool().begin().await?;
        let stored = if self.readings.len() >= COPY_FROM {
            Store::copy_readings(&mut tx, &self.readings).await?
        } else {
            Store::insert_readings(&mut tx, &self.readings).await?
        };
        Store::insert_device_events(&mut tx, &self.events).await?;
        for (device, (online, at)) in &self.statuses {
            Store::upsert_device_status(&mut tx, device, *online, *at).await?;
        }
        // Camera detections and alarms that want a case wake the case opener at once.
        let mut wants_case = self.events.iter().any(|e| e.case_wanted.is_some());
        for write in &self.alarms {
            Store::write_alarm(&mut tx, write).await?;
            if let AlarmWrite::Raised(raised) = write {
                wants_case |= raised.case_wanted.is_some();
            }
        }
        tx.commit().await?;
        Ok((stored, wants_case))
    }
}

/// The writer of everything that is waited for (acknowledgements, alarms, events,
/// statuses): one task, so that a `Done` fires only after everything queued before it.
pub(crate) async fn run(store: Store, mut rx: mpsc::Receiver<WriteOp>, cases: mpsc::Sender<()>, iot: Iot) {
    while let Some(batch) = next_batch(&mut rx).await {
        commit(&store, batch, &cases, &iot).await;
    }
}

/// The history writers: `writers` tasks taking batches of readings nobody waits for from
/// one queue, so that one batch is built and sent while another is committed (no `Done`
/// comes this way, so their order does not matter).
pub(crate) fn run_history(
    store: Store,
    rx: mpsc::Receiver<WriteOp>,
    cases: mpsc::Sender<()>,
    iot: Iot,
    writers: usize,
) {
    let rx = std::sync::Arc::new(tokio::sync::Mutex::new(rx));
    for _ in 0..writers.max(1) {
        let (store, rx, cases, iot) = (store.clone(), rx.clone(), cases.clone(), iot.clone());
        tokio::spawn(async move {
            loop {
                // The queue is held while a batch is taken, not while it commits.
                let taken = {
                    let mut rx = rx.lock().await;
                    next_batch(&mut rx).await
                };
                let Some(batch) = taken else { return };
                commit(&store, batch, &cases, &iot).await;
            }
        });
    }
}

/// The next batch: the first operation waited for, then whatever is queued, up to
/// [`BATCH`]; `None` once the queue is closed.
async fn next_batch(rx: &mut mpsc::Receiver<WriteOp>) -> Option<Batch> {
    let mut batch = Batch::default();
    batch.add(rx.recv().await?);
    while batch.ops < BATCH {
        match rx.try_recv() {
            Ok(op) => batch.add(op),
            Err(_) => break,
        }
    }
    Some(batch)
}

/// Commits `batch`, retrying it as a whole until it commits; then fires what waited for it.
async fn commit(store: &Store, mut batch: Batch, cases: &mpsc::Sender<()>, iot: &Iot) {
    let mut delay = Duration::from_millis(100);
    loop {
        match batch.commit(store).await {
            Ok((stored, wants_case)) => {
                let counters = iot.counters();
                counters.stored_values.fetch_add(stored, Ordering::Relaxed);
                counters.batches.fetch_add(1, Ordering::Relaxed);
                counters.alarm_changes.fetch_add(batch.alarms.len() as u64, Ordering::Relaxed);
                for done in batch.done.drain(..) {
                    let _ = done.send(true);
                }
                if wants_case {
                    let _ = cases.try_send(());
                }
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, ops = batch.ops, "writing telemetry failed; retrying the batch");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        }
    }
}

/// How often the pending minutes are rolled up into the aggregates.
const ROLL_UP_EVERY: Duration = Duration::from_secs(5);
/// How long after its end a minute is rolled up: its readings still in flight (a batch
/// being written) are in by then; a later one marks it again.
const ROLL_UP_AFTER: chrono::TimeDelta = chrono::TimeDelta::seconds(65);

/// Rolls the readings of closed minutes up into the minute and hour aggregates
/// (`Store::roll_up_readings`), every few seconds, until `stop`.
pub(super) async fn roll_up(store: Store, iot: Iot, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut interval = tokio::time::interval(ROLL_UP_EVERY);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            _ = stop.changed() => return,
        }
        match store.roll_up_readings(Utc::now() - ROLL_UP_AFTER).await {
            Ok(rolled) => {
                iot.counters().minutes_rolled_up.fetch_add(rolled, Ordering::Relaxed);
            }
            Err(e) => tracing::warn!(error = %e, "rolling readings up into the aggregates failed; retrying"),
        }
    }
}

/// Creates tomorrow's partitions ahead and drops those past retention, hourly.
pub(super) async fn maintain(
    store: Store,
    retention_days: i64,
    aggregate_days: i64,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut interval = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            _ = stop.changed() => return,
        }
        let now = chrono::Utc::now();
        let today = now.date_naive();
        let first = today.pred_opt().unwrap_or(today);
        let keep_from = today - chrono::Days::new(retention_days.max(1) as u64);
        let aggregates_from = now - chrono::TimeDelta::days(aggregate_days.max(1));
        match store.maintain_readings(first, 4, keep_from, aggregates_from).await {
            Ok((created, dropped)) if created + dropped > 0 => {
                tracing::info!(created, dropped, "telemetry partitions maintained")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "maintaining telemetry partitions failed; retrying in an hour"),
        }
    }
}
