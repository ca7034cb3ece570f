//! Publishing alarms and device values to every instance's live streams: one at a time
//! ([`publish`]) or with group commit ([`Publisher`]), each through the live log.

use cockpit_geo::Place;
use cockpit_live::{Channel, Offset};
use cockpit_store::live_log::{self as log, NewEntry};
use cockpit_store::{Store, StoreError};
use serde_json::Value;

/// One alarm or device value for the live streams.
#[derive(Debug, Clone, PartialEq)]
pub struct Update {
    /// [`Channel::Alarms`] (never coalesced) or [`Channel::Devices`] (coalesced per key).
    pub channel: Channel,
    /// The thing: a device id, or an alarm id. A device key's values coalesce.
    pub key: String,
    /// Where it is, for region subscriptions and the viewer's region scope.
    pub regions: Place,
    /// WGS84 longitude and latitude, for bounding-box subscriptions.
    pub position: Option<(f64, f64)>,
    /// The device type (the `layer` filter).
    pub layer: Option<String>,
    /// What clients get as `data`.
    pub payload: Value,
}

/// Why a publish failed.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// Only alarms and device values are published; cases log themselves.
    #[error("channel `{0}` cannot be published to")]
    Channel(&'static str),
    /// The database.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The transaction that carried the updates failed (group commit).
    #[error("publishing failed: {0}")]
    Failed(String),
}

/// Publishes alarms and device values to every instance's live streams, in one
/// transaction: the offset of the last. Alarms commit durably; device values with
/// `synchronous_commit = off` (a value lost in a crash is superseded by the next one).
pub async fn publish(store: &Store, updates: &[Update]) -> Result<Offset, LiveError> {
    let mut entries = Vec::with_capacity(updates.len());
    for u in updates {
        if !matches!(u.channel, Channel::Alarms | Channel::Devices) {
            return Err(LiveError::Channel(u.channel.as_str()));
        }
        entries.push(NewEntry {
            channel: u.channel,
            key: u.key.clone(),
            // Street first, as the cases' entries list them.
            regions: [u.regions.street_code(), u.regions.village_code(), u.regions.grid_code()]
                .into_iter()
                .flatten()
                .map(str::to_string)
                .collect(),
            position: u.position,
            layer: u.layer.clone(),
            assignee: None,
            payload: u.payload.clone(),
        });
    }
    let durable = !updates.iter().all(|u| u.channel == Channel::Devices);
    Ok(log::publish(store.pool(), &entries, durable).await?)
}

/// Publishes alarms and device values with group commit: callers queue their updates
/// (a bounded queue: when full, `publish` waits, which slows the caller down rather than
/// growing memory) and one writer puts everything that waits into one transaction. So a
/// slow database makes batches larger, not the queue of transactions longer. Cheap to clone.
#[derive(Clone)]
pub struct Publisher {
    queue: tokio::sync::mpsc::Sender<Waiting>,
}

/// Updates waiting to be published, and where their answer goes.
type Waiting = (Vec<Update>, tokio::sync::oneshot::Sender<Result<Offset, LiveError>>);

impl Publisher {
    /// Starts the writer over `store`; it ends when every `Publisher` is dropped.
    pub fn start(store: Store) -> Publisher {
        let (queue, mut waiting) = tokio::sync::mpsc::channel::<Waiting>(1024);
        tokio::spawn(async move {
            while let Some(first) = waiting.recv().await {
                let mut batch = vec![first];
                let mut size = batch[0].0.len();
                while size < 5_000 {
                    match waiting.try_recv() {
                        Ok(more) => {
                            size += more.0.len();
                            batch.push(more);
                        }
                        Err(_) => break,
                    }
                }
                let updates: Vec<Update> = batch.iter().flat_map(|(u, _)| u.iter().cloned()).collect();
                let result = publish(&store, &updates).await;
                for (_, reply) in batch {
                    let _ = reply.send(match &result {
                        Ok(offset) => Ok(*offset),
                        Err(e) => Err(LiveError::Failed(e.to_string())),
                    });
                }
            }
        });
        Publisher { queue }
    }

    /// Publishes `updates` (see [`publish`]) together with whatever else waits: the offset
    /// of the last update of the transaction that carried them.
    pub async fn publish(&self, updates: Vec<Update>) -> Result<Offset, LiveError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.queue.send((updates, reply)).await.map_err(|_| LiveError::Failed("the publisher stopped".into()))?;
        answer.await.map_err(|_| LiveError::Failed("the publisher stopped".into()))?
    }
}
