//! Who gets what: each connection's [`Client`] (its outbox and wake-up), each
//! subscription's [`Sub`] (channel, the region it watches, its filter and the viewer's
//! assignment scope), and [`Fanout`], the index of subscriptions by channel and region
//! through which every log entry reaches exactly the subscriptions that match it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use cockpit_events::Status;
use cockpit_live::{Channel, Epoch, Filter, Offset, Outbox, delta_text};
use serde_json::Value;
use tokio::sync::Notify;

use crate::auth::Principal;
use cockpit_store::Assigned;

/// One change as every instance holds it after reading it from the log.
#[derive(Debug)]
pub(crate) struct Entry {
    pub offset: Offset,
    pub channel: Channel,
    pub key: String,
    /// Street, village and grid codes.
    pub regions: Vec<String>,
    pub position: Option<(f64, f64)>,
    pub layer: Option<String>,
    /// Cases: the assignee (`user`, `worker`, `department`).
    pub assignee: Option<Value>,
    /// The JSON text sent as `data`; a case's without its `allowed_actions`, which
    /// depend on the viewer and are written in front per subscription.
    pub data: Arc<str>,
    /// Cases: the status, for the viewer's allowed actions.
    pub status: Option<Status>,
}

/// One connection's side of the hub.
pub(crate) struct Client {
    /// Who is connected.
    pub principal: Arc<Principal>,
    /// Cases and alarms queued (full: `behind`), device values and statistics coalesced
    /// per `"<subscription>\0<key>"`. A std Mutex: held for one push or pop, never across
    /// an await.
    outbox: Mutex<Outbox<String, String, String>>,
    /// Wakes the connection's task when something was queued or it fell behind.
    pub notify: Notify,
    /// Its queue filled: the connection closes with `4008 behind`.
    pub behind: AtomicBool,
    max_pending: usize,
}

impl Client {
    /// A client whose outbox queues `queue` messages and coalesces values, released at
    /// most every `interval_ms`, of at most `max_pending` keys.
    pub fn new(principal: Arc<Principal>, queue: usize, interval_ms: i64, max_pending: usize) -> Client {
        Client {
            principal,
            outbox: Mutex::new(Outbox::new(queue, interval_ms)),
            notify: Notify::new(),
            behind: AtomicBool::new(false),
            max_pending,
        }
    }

    fn outbox(&self) -> std::sync::MutexGuard<'_, Outbox<String, String, String>> {
        self.outbox.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues a message that must arrive; false when the client fell behind.
    pub fn push(&self, text: String) -> bool {
        let ok = self.outbox().push(text).is_ok();
        if !ok {
            self.behind.store(true, Ordering::Relaxed);
        }
        self.notify.notify_one();
        ok
    }

    /// Offers a coalescable value; false when too many keys wait (the subscription then
    /// gets a fresh snapshot).
    pub fn offer(&self, key: String, text: String) -> bool {
        let ok = self.outbox().offer(key, text, self.max_pending);
        self.notify.notify_one();
        ok
    }

    /// The next queued message.
    pub fn pop(&self) -> Option<String> {
        self.outbox().pop()
    }

    /// The coalesced values due at `now_ms`, and when the next are due.
    pub fn release(&self, now_ms: i64) -> (Vec<String>, Option<i64>) {
        let mut outbox = self.outbox();
        let released = outbox.release(now_ms).map(|v| v.into_iter().map(|(_, text)| text).collect());
        (released.unwrap_or_default(), outbox.next_release_ms())
    }

    /// Drops the values waiting for subscription `id`.
    pub fn forget(&self, id: &str) {
        let prefix = format!("{id}\u{0}");
        self.outbox().forget(|k| !k.starts_with(&prefix));
    }

    /// Messages queued and values waiting.
    pub fn sizes(&self) -> (usize, usize) {
        let outbox = self.outbox();
        (outbox.queued(), outbox.pending())
    }
}

/// One subscription.
pub(crate) struct Sub {
    pub client: Arc<Client>,
    pub id: Arc<str>,
    pub channel: Channel,
    /// The region it watches (none: everything the viewer may see).
    pub region: Option<String>,
    /// The region is the whole district: only what lies inside it.
    pub inside_only: bool,
    pub filter: Filter,
    /// Only what is assigned to this user, their department or their grid.
    pub assigned: Option<Assigned>,
    /// Too many values waited: the connection sends a fresh snapshot.
    pub lagging: AtomicBool,
}

impl Sub {
    /// Whether the entry is for this subscription (its region already matched).
    pub(super) fn matches_filter(&self, entry: &Entry) -> bool {
        if self.inside_only && entry.regions.is_empty() {
            return false;
        }
        if let Some(layer) = &self.filter.layer
            && entry.layer.as_ref() != Some(layer)
        {
            return false;
        }
        if !self.filter.contains(entry.position) {
            return false;
        }
        if let Some(Assigned { user, department, grid }) = &self.assigned {
            let a = entry.assignee.as_ref();
            let field = |name: &str| a.and_then(|a| a.get(name)).and_then(Value::as_str);
            let mine = field("user") == Some(user.as_str())
                || field("worker") == Some(user.as_str())
                || (department.is_some() && field("department") == department.as_deref())
                || (grid.is_some() && field("kind") == Some("grid_worker") && field("grid") == grid.as_deref());
            if !mine {
                return false;
            }
        }
        true
    }

    /// The delta frame of `entry` for this subscription's viewer.
    pub fn frame(&self, epoch: Epoch, entry: &Entry) -> String {
        let data = match (entry.status, entry.data.strip_prefix('{')) {
            (Some(status), Some(rest)) => {
                let actions: Vec<&str> = self
                    .client
                    .principal
                    .allowed_actions_on(status, entry.assignee.as_ref())
                    .iter()
                    .map(|a| a.as_str())
                    .collect();
                let actions = serde_json::to_string(&actions).unwrap_or_else(|_| "[]".into());
                std::borrow::Cow::Owned(format!(r#"{{"allowed_actions":{actions},{rest}"#))
            }
            _ => std::borrow::Cow::Borrowed(&*entry.data),
        };
        delta_text(&self.id, self.channel, epoch, entry.offset, &entry.key, "upsert", &data)
    }

    /// Delivers a delta frame: queued, or coalesced per key.
    pub fn deliver(&self, key: &str, text: String) {
        if self.channel.coalesced() {
            if !self.client.offer(format!("{}\u{0}{key}", self.id), text) {
                self.lagging.store(true, Ordering::Relaxed);
                self.client.notify.notify_one();
            }
        } else {
            self.client.push(text);
        }
    }
}

/// Every subscription, by channel and the region it watches.
#[derive(Default)]
pub(crate) struct Fanout {
    subs: HashMap<(Channel, Option<String>), HashMap<u64, Arc<Sub>>>,
    next: u64,
    count: usize,
}

impl Fanout {
    /// Adds one: its handle.
    pub fn add(&mut self, sub: Arc<Sub>) -> u64 {
        self.next += 1;
        self.subs.entry((sub.channel, sub.region.clone())).or_default().insert(self.next, sub);
        self.count += 1;
        self.next
    }

    /// Removes one.
    pub fn remove(&mut self, channel: Channel, region: &Option<String>, handle: u64) {
        let key = (channel, region.clone());
        if let Some(map) = self.subs.get_mut(&key) {
            if map.remove(&handle).is_some() {
                self.count -= 1;
            }
            if map.is_empty() {
                self.subs.remove(&key);
            }
        }
    }

    /// How many subscriptions there are.
    pub fn len(&self) -> usize {
        self.count
    }

    /// The subscriptions of `channel` that `entry` reaches.
    pub fn matching<'a>(&'a self, entry: &'a Entry) -> impl Iterator<Item = &'a Arc<Sub>> + 'a {
        std::iter::once(None)
            .chain(entry.regions.iter().map(|r| Some(r.clone())))
            .filter_map(move |region| self.subs.get(&(entry.channel, region)))
            .flat_map(|map| map.values())
            .filter(move |sub| sub.matches_filter(entry))
    }

    /// Every subscription of `channel`.
    pub fn of_channel(&self, channel: Channel) -> impl Iterator<Item = &Arc<Sub>> {
        self.subs.iter().filter(move |((c, _), _)| *c == channel).flat_map(|(_, map)| map.values())
    }
}
