//! The live hub: what the WebSocket streams of `GET /api/live` carry (`docs/live.md`).
//!
//! Every change a stream can show is an entry of the `live_log` table, written in the
//! transaction of the change (cases: `store/cases.rs`, `cases/service.rs`) or by
//! [`publish`] (alarms and device values from the IoT pipeline), numbered by one counter
//! row and announced with `NOTIFY` at commit. Each instance follows the log (`follow`),
//! keeps a bounded [`History`] per channel for resumes, and fans each entry out to the
//! subscriptions it matches (`fanout`); each connection drains its own bounded outbox
//! (`socket`). So a change made through any instance reaches clients of every instance,
//! with the same offset everywhere.
//!
//! ```text
//! case tx / publish ─> live_log (+ NOTIFY) ─> every instance: follow ─> History + Fanout
//!                                                  ─> Client outbox (queue | coalesce) ─> socket
//! ```

mod fanout;
mod publish;
mod snapshot;
mod socket;
mod subscribe;

pub use publish::{LiveError, Publisher, Update, publish};

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use cockpit_events::Status;
use cockpit_live::{Channel, Epoch, History, Offset};
use serde_json::Value;
use tokio::sync::watch;

use crate::cases::CaseService;
use cockpit_store::StoreError;
use cockpit_store::live_log as log;
use fanout::{Entry, Fanout};
pub(crate) use socket::upgrade;

pub use crate::config::LiveConfig;

/// The hub of one instance. Cheap to clone.
#[derive(Clone)]
pub struct Hub {
    inner: Arc<Inner>,
}

struct Inner {
    cases: CaseService,
    config: LiveConfig,
    /// The district's code: a region filter naming it means "inside the district".
    district: String,
    /// A std Mutex: held to apply entries or register a subscription, never across an await.
    state: Mutex<HubState>,
    /// Turns true when the server stops: connections close with `1001`, following ends.
    stop_tx: watch::Sender<bool>,
    stop: watch::Receiver<bool>,
    publisher: Publisher,
}

struct HubState {
    epoch: Epoch,
    current: Offset,
    histories: HashMap<Channel, History<Arc<Entry>>>,
    fanout: Fanout,
    cases_changed: bool,
    statistics: Option<Arc<Vec<Value>>>,
    /// The last indicators table (`crate::indicators`), every region.
    indicators: Arc<Vec<Value>>,
    connections: usize,
}

/// What the hub holds now (`GET /api/live/status`).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct HubStatus {
    /// The log's epoch.
    #[schema(value_type = u64)]
    pub epoch: Epoch,
    /// The last offset applied.
    #[schema(value_type = u64)]
    pub offset: Offset,
    /// Open connections.
    pub connections: usize,
    /// Subscriptions.
    pub subscriptions: usize,
    /// Deltas held for resumes, per channel.
    #[schema(value_type = HashMap<String, usize>)]
    pub history: HashMap<&'static str, usize>,
    /// The longest queue of cases and alarms of any client (never above `[live] queue`).
    pub largest_queue: usize,
    /// Coalesced values waiting, over all clients.
    pub values_waiting: usize,
}

const LOGGED: [Channel; 3] = [Channel::Cases, Channel::Alarms, Channel::Devices];

impl Hub {
    /// A hub over the case service's store; [`Hub::start`] loads the log and follows it.
    pub fn new(cases: CaseService, config: LiveConfig) -> Hub {
        let (stop_tx, stop) = watch::channel(false);
        let district = cases
            .geography
            .get()
            .city
            .regions()
            .iter()
            .find(|r| r.level == cockpit_geo::Level::District)
            .map(|r| r.code.as_str().to_string())
            .unwrap_or_default();
        let histories = LOGGED.into_iter().map(|c| (c, History::new(Epoch(0), config.history))).collect();
        let state = HubState {
            epoch: Epoch(0),
            current: Offset(0),
            histories,
            fanout: Fanout::default(),
            cases_changed: true,
            statistics: None,
            indicators: Arc::new(Vec::new()),
            connections: 0,
        };
        let publisher = Publisher::start(cases.store.clone());
        Hub { inner: Arc::new(Inner { cases, config, district, state: Mutex::new(state), stop_tx, stop, publisher }) }
    }

    /// Closes every connection (`1001`) and stops following the log.
    pub fn stop(&self) {
        let _ = self.inner.stop_tx.send(true);
    }

    fn state(&self) -> std::sync::MutexGuard<'_, HubState> {
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Publishes alarms and device values (see [`publish`]), grouped with concurrent
    /// callers' into one transaction: the offset of the transaction's last update.
    pub async fn publish(&self, updates: Vec<Update>) -> Result<Offset, LiveError> {
        self.inner.publisher.publish(updates).await
    }

    /// What the hub holds now.
    pub fn status(&self) -> HubStatus {
        let s = self.state();
        let mut seen = std::collections::HashSet::new();
        let (mut largest_queue, mut values_waiting) = (0, 0);
        for channel in Channel::ALL {
            for sub in s.fanout.of_channel(channel) {
                if seen.insert(Arc::as_ptr(&sub.client)) {
                    let (queued, waiting) = sub.client.sizes();
                    largest_queue = largest_queue.max(queued);
                    values_waiting += waiting;
                }
            }
        }
        HubStatus {
            largest_queue,
            values_waiting,
            epoch: s.epoch,
            offset: s.current,
            connections: s.connections,
            subscriptions: s.fanout.len(),
            history: s.histories.iter().map(|(c, h)| (c.as_str(), h.len())).collect(),
        }
    }

    /// Loads the epoch and each channel's history from the log, then follows it (and
    /// prunes it, and recomputes statistics) until `stop`.
    pub async fn start(&self) -> Result<tokio::task::JoinHandle<()>, StoreError> {
        let pool = self.inner.cases.store.pool().clone();
        let (epoch, last) = log::head(&pool).await?;
        let capacity = self.inner.config.history;
        let mut histories = HashMap::new();
        for channel in LOGGED {
            let rows = log::newest(&pool, channel, last, capacity as i64).await?;
            // Fewer rows than the history holds: the log was never pruned below them.
            let floor = match rows.first() {
                Some(first) if rows.len() >= capacity => Offset(first.seq as u64 - 1),
                _ => Offset(0),
            };
            let mut history = History::starting_at(epoch, capacity, floor);
            for entry in self.entries(rows).await? {
                history.push_at(entry.offset, Arc::new(entry));
            }
            history.advance(last);
            histories.insert(channel, history);
        }
        {
            let mut s = self.state();
            s.epoch = epoch;
            s.current = last;
            s.histories = histories;
        }
        tracing::info!(epoch = epoch.0, offset = last.0, "live hub following the log");
        let hub = self.clone();
        Ok(tokio::spawn(async move { hub.follow().await }))
    }

    async fn follow(&self) {
        let pool = self.inner.cases.store.pool().clone();
        let mut stop = self.inner.stop.clone();
        let mut listener = match log::listen(&pool).await {
            Ok(l) => Some(l),
            Err(e) => {
                tracing::warn!(error = %e, "LISTEN failed; polling the live log every 200 ms");
                None
            }
        };
        let stats_every = Duration::from_millis(self.inner.config.statistics_interval_ms.max(100));
        let mut stats_tick = tokio::time::interval(stats_every);
        let mut prune_tick = tokio::time::interval(Duration::from_secs(30));
        // Missed notifications (a reconnect of the listener) are caught by polling too.
        let poll = if listener.is_some() { Duration::from_secs(1) } else { Duration::from_millis(200) };
        loop {
            tokio::select! {
                _ = stop.changed() => return,
                n = async { match listener.as_mut() { Some(l) => l.recv().await.map(|_| ()), None => std::future::pending().await } } => {
                    if let Err(e) = n {
                        tracing::warn!(error = %e, "live log notifications interrupted; reconnecting");
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                }
                _ = tokio::time::sleep(poll) => {}
                _ = stats_tick.tick() => {
                    if let Err(e) = self.refresh_statistics().await {
                        tracing::warn!(error = %e, "live statistics failed; retrying");
                    }
                    continue;
                }
                _ = prune_tick.tick() => {
                    if let Err(e) = log::prune(&pool, self.inner.config.history as i64).await {
                        tracing::warn!(error = %e, "pruning the live log failed; retrying");
                    }
                    continue;
                }
            }
            if let Err(e) = self.catch_up().await {
                tracing::warn!(error = %e, "reading the live log failed; retrying");
            }
        }
    }

    /// Whether a client resuming from `(epoch, after)` saw offsets this instance has not applied.
    fn ahead(&self, epoch: Epoch, after: Offset) -> bool {
        let s = self.state();
        s.epoch == epoch && after > s.current
    }

    /// Reads and applies every entry after the last one applied. Safe beside the follower:
    /// an entry applied already is skipped.
    async fn catch_up(&self) -> Result<(), StoreError> {
        let pool = self.inner.cases.store.pool().clone();
        loop {
            let after = self.state().current;
            let rows = log::since(&pool, after, 1000).await?;
            let full = rows.len() == 1000;
            if rows.is_empty() {
                return Ok(());
            }
            let entries = self.entries(rows).await?;
            self.apply(entries);
            if !full {
                return Ok(());
            }
        }
    }

    /// Log rows as entries: cases rendered as `GET /api/cases/{id}` shows them (without
    /// the viewer's actions, added per viewer).
    async fn entries(&self, rows: Vec<log::LogRow>) -> Result<Vec<Entry>, StoreError> {
        let cases = &self.inner.cases;
        // Cases this instance just created come rendered by their writer; the rest are read.
        let mut rendered: HashMap<i64, (Arc<str>, Option<Status>)> = HashMap::new();
        let mut ids = Vec::new();
        for r in rows.iter().filter(|r| r.channel == "cases") {
            let Some(id) = r.payload.get("id").and_then(Value::as_i64) else { continue };
            let created = r.payload.get("change").and_then(Value::as_str) == Some("created");
            match created.then(|| cases.batcher.rendered().take(id)).flatten() {
                Some(case) => {
                    rendered.insert(id, case);
                }
                None => ids.push(id),
            }
        }
        if !ids.is_empty() {
            let (rules, geography, now) = (cases.rules.get(), cases.geography.get(), Utc::now());
            for row in cases.store.cases_by_ids(&ids).await? {
                let (text, status) = crate::cases::live_case_text(&row, &rules, &geography, now);
                rendered.insert(row.id, (text.into(), status));
            }
        }
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let Some(channel) = Channel::parse(&r.channel) else { continue };
            let (data, status): (Arc<str>, _) =
                match r.payload.get("id").and_then(Value::as_i64).and_then(|id| rendered.get(&id)) {
                    Some((json, status)) if channel == Channel::Cases => (json.clone(), *status),
                    _ => (r.payload.to_string().into(), None),
                };
            out.push(Entry {
                offset: Offset(r.seq as u64),
                channel,
                key: r.key,
                regions: r.regions,
                position: r.lon.zip(r.lat),
                layer: r.layer,
                assignee: r.assignee,
                data,
                status,
            });
        }
        Ok(out)
    }

    /// Applies entries in order: into the history and out to the subscriptions.
    fn apply(&self, entries: Vec<Entry>) {
        let mut guard = self.state();
        let s = &mut *guard;
        for entry in entries {
            if entry.offset <= s.current {
                continue;
            }
            if entry.offset.0 != s.current.0 + 1 {
                // Pruned before this instance read it (it was far behind): what it held no
                // longer reaches back, and clients of queued channels may have missed deltas.
                tracing::warn!(from = s.current.0, to = entry.offset.0, "live log gap: histories restarted");
                let floor = Offset(entry.offset.0 - 1);
                for h in s.histories.values_mut() {
                    *h = History::starting_at(s.epoch, self.inner.config.history, floor);
                }
                for channel in [Channel::Cases, Channel::Alarms] {
                    for sub in s.fanout.of_channel(channel) {
                        sub.client.behind.store(true, std::sync::atomic::Ordering::Relaxed);
                        sub.client.notify.notify_one();
                    }
                }
            }
            let entry = Arc::new(entry);
            for sub in s.fanout.matching(&entry) {
                sub.deliver(&entry.key, sub.frame(s.epoch, &entry));
            }
            for (channel, h) in s.histories.iter_mut() {
                if *channel == entry.channel {
                    h.push_at(entry.offset, entry.clone());
                } else {
                    h.advance(entry.offset);
                }
            }
            s.cases_changed |= entry.channel == Channel::Cases;
            s.current = entry.offset;
        }
    }

    /// Keeps a new indicators table and sends each indicators subscription what of it lies
    /// in its region.
    pub fn indicators_changed(&self, entries: Arc<Vec<Value>>) {
        let mut s = self.state();
        s.indicators = entries.clone();
        let (epoch, offset) = (s.epoch, s.current);
        for sub in s.fanout.of_channel(Channel::Indicators) {
            let items = crate::indicators::visible(&entries, sub.region.as_deref());
            let data = serde_json::json!({ "items": items }).to_string();
            let text =
                cockpit_live::delta_text(&sub.id, Channel::Indicators, epoch, offset, "indicators", "replace", &data);
            sub.deliver("indicators", text);
        }
    }

    /// Recomputes today's counts when cases changed, and sends them to the statistics
    /// subscriptions.
    async fn refresh_statistics(&self) -> Result<(), StoreError> {
        {
            let mut s = self.state();
            // Without subscribers the table is computed by the next snapshot that asks.
            let wanted = s.fanout.of_channel(Channel::Statistics).next().is_some();
            if !s.cases_changed {
                return Ok(());
            }
            if !wanted {
                // Nobody to tell now: forget the table, so that the next subscriber's
                // snapshot is computed afresh rather than served stale.
                s.statistics = None;
                return Ok(());
            }
            s.cases_changed = false;
        }
        let offset = self.state().current;
        let table = Arc::new(snapshot::statistics(&self.inner.cases).await?);
        let mut s = self.state();
        s.statistics = Some(table.clone());
        let epoch = s.epoch;
        for sub in s.fanout.of_channel(Channel::Statistics) {
            let items = snapshot::statistics_in(&table, sub.region.as_deref());
            let data = serde_json::json!({ "items": items }).to_string();
            let text =
                cockpit_live::delta_text(&sub.id, Channel::Statistics, epoch, offset, "statistics", "replace", &data);
            sub.deliver("statistics", text);
        }
        Ok(())
    }
}
