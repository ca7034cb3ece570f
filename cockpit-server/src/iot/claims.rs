//! Grids claimed per instance (`[mqtt] split = "claim"`, the default with an external
//! broker). Every instance subscribes to every device of the district on its own persistent
//! session; each stores and judges only the grids it claims, so that all of a device's
//! readings meet one rule engine (a duration, a hysteresis, a silence), and the devices of
//! one grid one storm grouper.
//!
//! - Membership: each instance renews a row in `iot_members` every second. The members that
//!   count are those seen within the lease and alive for the grace period, by the database's
//!   clock; a grid belongs to one of them by rendezvous hashing ([`owner`]), so a member
//!   leaving moves only its own grids, and every instance computes the same split.
//! - Standby: a message of a grid claimed by another instance is acknowledged at once (the
//!   owner's session holds it too) and kept here for [`Claims::keep_for`]; one of a grid
//!   nobody claims yet (starting, or fenced) is kept unacknowledged until a takeover has
//!   stored it. Its device's latest state is updated here; the live bus is the owner's.
//! - Takeover: when the split changes, the new owner of a grid replays its devices' stored
//!   readings over the rules' memory (silently: what they raised is stored), puts back the
//!   stored open alarms, raises what the replay raised that was never stored (its owner died
//!   between the two commits), then takes the standby messages of the grid as if they had
//!   just come, storing them (idempotently: the last owner may have stored them already).
//! - Fencing: an instance that could not renew its row for most of the lease claims nothing
//!   until it can, before the others see its lease run out. For the second or so in which
//!   two instances both judge a grid (one joins, the other has not yet seen it), the
//!   database keeps one open alarm per device and rule, and alarm cases are idempotent.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;
use cockpit_iot::{Decoded, DeviceId, DeviceType, Metric, Reading, Rule};
use tokio::sync::{oneshot, watch};

use super::pipeline::{ShardInput, ShardMessage, Takeover};
use super::{Iot, Place};

/// How often a member renews its lease and reads the split.
const RENEW_EVERY: Duration = Duration::from_secs(1);
/// How long a new member waits before it counts, so that it has seen the others first.
const GRACE: Duration = Duration::from_secs(2);
/// A member stops claiming this long before its lease runs out for the others.
const FENCE_MARGIN: Duration = Duration::from_secs(3);
/// The most standby messages kept; beyond it the oldest go (counted).
const STANDBY_MAX: usize = 1_000_000;
/// The longest replay, whatever the rules look back over.
const REPLAY_MAX_MS: i64 = 3_600_000;

/// The owner of `key` among `members`: the highest hash of (member, key) (FNV-1a, then
/// MurmurHash3's finalizer). Stable across runs and instances; a member leaving moves only
/// its own keys.
pub fn owner<'a>(members: &'a [String], key: &str) -> Option<&'a str> {
    members
        .iter()
        .max_by_key(|member| {
            let mut hash = super::fnv1a(member.bytes().chain([0xff]).chain(key.bytes()));
            // FNV's last bytes reach only its low bits: MurmurHash3's finalizer spreads them
            // over all, so that the comparison between members is not decided by the names.
            hash ^= hash >> 33;
            hash = hash.wrapping_mul(0xff51_afd7_ed55_8ccd);
            hash ^= hash >> 33;
            hash = hash.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
            hash ^ (hash >> 33)
        })
        .map(String::as_str)
}

/// A message of a grid another instance claims, or that nobody claims yet.
struct Standby {
    at: Instant,
    key: Arc<str>,
    shard: usize,
    decoded: Decoded,
    place: Arc<Place>,
    /// Unacknowledged until stored (a critical QoS 1 message that no member claimed when
    /// it came): kept whatever its age, and bounded by the broker's in-flight window.
    done: Option<oneshot::Sender<bool>>,
}

struct State {
    /// The split in force; empty: nothing claimed (starting, or fenced).
    members: Vec<String>,
    standby: VecDeque<Standby>,
}

/// This instance's share of the district's grids.
pub(crate) struct Claims {
    /// Off: every grid is this instance's (the embedded broker, a shared subscription).
    enabled: bool,
    member: String,
    lease: Duration,
    state: Mutex<State>,
}

/// Where `ingest` sends a message.
pub(crate) enum Route {
    /// To its shard: the grid is this instance's.
    Own(Decoded, Arc<Place>, Option<oneshot::Sender<bool>>),
    /// Kept for a takeover. `waits`: its acknowledgement waits for its commit (no member
    /// claims its grid, so no other session will store it); otherwise acknowledged now,
    /// its owner's session holding it too.
    Standby { waits: bool },
}

impl Claims {
    /// Every grid this instance's.
    pub(crate) fn all() -> Claims {
        Claims::new(false, String::new(), Duration::ZERO)
    }

    /// Grids split among the members alive; nothing claimed until the first renewal.
    pub(crate) fn split(member: String, lease: Duration) -> Claims {
        Claims::new(true, member, lease)
    }

    fn new(enabled: bool, member: String, lease: Duration) -> Claims {
        Claims { enabled, member, lease, state: Mutex::new(State { members: Vec::new(), standby: VecDeque::new() }) }
    }

    /// How long a standby message is kept: past the lease of a member that died holding it,
    /// and the renewal that then sees it gone.
    fn keep_for(&self) -> Duration {
        self.lease + RENEW_EVERY * 2 + Duration::from_secs(5)
    }

    /// This instance and the members in force; `None` when grids are not claimed.
    pub(crate) fn view(&self) -> Option<super::SplitView> {
        let members = self.state.lock().ok()?.members.clone();
        self.enabled.then(|| super::SplitView { member: self.member.clone(), members })
    }

    /// Whether the grid (or gridless device) `key` is this instance's now.
    pub(crate) fn owns(&self, key: &str) -> bool {
        !self.enabled || self.state.lock().is_ok_and(|state| owner(&state.members, key) == Some(self.member.as_str()))
    }

    /// Routes one decoded message of `key`: to its shard, or kept for a takeover. `done`
    /// fires once it is committed (a critical QoS 1 message). The last check and the
    /// keeping are one step, so a takeover sees every message that was not routed.
    pub(crate) fn route(
        &self,
        iot: &Iot,
        key: &str,
        shard: usize,
        decoded: Decoded,
        place: Arc<Place>,
        done: Option<oneshot::Sender<bool>>,
    ) -> Route {
        if self.owns(key) {
            return Route::Own(decoded, place, done);
        }
        // Another instance's, or nobody's yet: its device's latest state is kept here too
        // (outside the claims' lock: the states' lock and the directory's come after it).
        iot.note_state(shard, &decoded);
        let Ok(mut state) = self.state.lock() else { return Route::Own(decoded, place, done) };
        let claimed_by = owner(&state.members, key);
        if claimed_by == Some(self.member.as_str()) {
            return Route::Own(decoded, place, done);
        }
        let done = if claimed_by.is_none() { done } else { None };
        let waits = done.is_some();
        let counters = iot.counters();
        counters.standby.fetch_add(1, Ordering::Relaxed);
        if state.standby.len() >= STANDBY_MAX && state.standby.front().is_some_and(|s| s.done.is_none()) {
            state.standby.pop_front();
            counters.standby_dropped.fetch_add(1, Ordering::Relaxed);
        }
        state.standby.push_back(Standby { at: Instant::now(), key: key.into(), shard, decoded, place, done });
        Route::Standby { waits }
    }

    /// Drops standby messages older than [`Claims::keep_for`], but those still waiting
    /// for their commit.
    fn prune(&self) {
        let keep = self.keep_for();
        if let Ok(mut state) = self.state.lock() {
            state.standby.retain(|s| s.done.is_some() || s.at.elapsed() <= keep);
        }
    }

    /// Puts `members` in force and takes out the standby messages of the grids that are now
    /// this instance's, by shard, in the order they came.
    fn put_in_force(&self, members: Vec<String>) -> HashMap<usize, Vec<ShardMessage>> {
        let mut taken: HashMap<usize, Vec<ShardMessage>> = HashMap::new();
        let Ok(mut state) = self.state.lock() else { return taken };
        let mine = |key: &str| owner(&members, key) == Some(self.member.as_str());
        let (claimed, mut kept): (VecDeque<Standby>, VecDeque<Standby>) =
            std::mem::take(&mut state.standby).into_iter().partition(|s| mine(&s.key));
        // One that waited for a claim now has an owner elsewhere, whose session holds it too.
        for s in kept.iter_mut().filter(|s| owner(&members, &s.key).is_some()) {
            if let Some(done) = s.done.take() {
                let _ = done.send(true);
            }
        }
        state.standby = kept;
        state.members = members;
        for s in claimed {
            taken.entry(s.shard).or_default().push(ShardMessage {
                decoded: s.decoded,
                place: s.place,
                done: s.done,
                durable: true,
            });
        }
        taken
    }
}

/// Renews this instance's membership every second and hands grids over when the split
/// changes; leaves the split when `stop` turns true.
pub(crate) async fn run(iot: Iot, mut stop: watch::Receiver<bool>) {
    let claims = iot.claims();
    let (district, member) = (iot.district().to_string(), claims.member.clone());
    let lease_ms = claims.lease.as_millis() as i64;
    let mut in_force: Vec<String> = Vec::new();
    let mut renewed = Instant::now();
    let mut tick = tokio::time::interval(RENEW_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => {
                if let Err(e) = iot.store().leave_iot_members(&district, &member).await {
                    tracing::warn!(error = %e, "leaving the IoT split failed; the others wait out the lease");
                }
                return;
            }
        }
        let renewal = iot.store().renew_iot_member(&district, &member, lease_ms, GRACE.as_millis() as i64);
        // A database that hangs counts as one that refuses: the fence must not wait for it.
        let renewal = match tokio::time::timeout(RENEW_EVERY * 2, renewal).await {
            Ok(renewed) => renewed.map_err(|e| e.to_string()),
            Err(_) => Err("the renewal timed out".to_string()),
        };
        let next = match renewal {
            Ok(members) => {
                renewed = Instant::now();
                members
            }
            Err(e) if renewed.elapsed() + FENCE_MARGIN >= claims.lease => {
                tracing::warn!(error = %e, "the IoT lease could not be renewed; claiming nothing until it can");
                Vec::new()
            }
            Err(e) => {
                tracing::warn!(error = %e, "renewing the IoT lease failed; trying again");
                continue;
            }
        };
        if next != in_force {
            match hand_over(&iot, &in_force, next.clone()).await {
                Ok(()) => {
                    tracing::info!(members = ?next, "the IoT split changed");
                    in_force = next;
                }
                Err(e) => tracing::warn!(error = %e, "taking grids over failed; trying again"),
            }
        }
        claims.prune();
    }
}

/// Moves the grids whose owner changes from `before` to `after`: those leaving this
/// instance are forgotten by their shards, those coming are replayed into them.
async fn hand_over(iot: &Iot, before: &[String], after: Vec<String>) -> anyhow::Result<()> {
    let me = iot.claims().member.as_str();
    let mut claimed: Vec<Vec<(DeviceId, DeviceType)>> = vec![Vec::new(); iot.shard_count()];
    let mut released: Vec<Vec<DeviceId>> = vec![Vec::new(); iot.shard_count()];
    for (key, shard, device, device_type) in iot.devices_by_key() {
        let (was, will) = (owner(before, &key) == Some(me), owner(&after, &key) == Some(me));
        if will && !was {
            claimed[shard].push((device, device_type));
        } else if was && !will {
            released[shard].push(device);
        }
    }
    let coming: HashMap<&str, (&DeviceId, DeviceType)> =
        claimed.iter().flatten().map(|(d, t)| (d.as_str(), (d, *t))).collect();
    let (open, replay) = if coming.is_empty() {
        (Vec::new(), HashMap::new())
    } else {
        let open = iot.store().open_alarms().await.context("reading open alarms")?;
        let open: Vec<_> = open.into_iter().filter(|a| coming.contains_key(a.device_id.as_str())).collect();
        (open, replay(iot, &coming).await?)
    };
    let mut standby = iot.claims().put_in_force(after);
    let mut replay = replay;
    for (shard, devices) in claimed.into_iter().enumerate() {
        if !released[shard].is_empty() {
            iot.send_to_shard(shard, ShardInput::Release(std::mem::take(&mut released[shard]))).await?;
        }
        let messages = standby.remove(&shard).unwrap_or_default();
        if devices.is_empty() && messages.is_empty() {
            continue;
        }
        let mine: HashSet<&str> = devices.iter().map(|(d, _)| d.as_str()).collect();
        let takeover = Takeover {
            open: open.iter().filter(|a| mine.contains(a.device_id.as_str())).cloned().collect(),
            replay: devices.iter().flat_map(|(d, _)| replay.remove(d).unwrap_or_default()).collect(),
            devices,
            standby: messages,
        };
        iot.counters().takeovers.fetch_add(1, Ordering::Relaxed);
        iot.send_to_shard(shard, ShardInput::Claim(Box::new(takeover))).await?;
    }
    Ok(())
}

/// The stored readings of the devices `coming` over the rules' memory, as readings per
/// device in time order (values of one device and time together).
async fn replay(
    iot: &Iot,
    coming: &HashMap<&str, (&DeviceId, DeviceType)>,
) -> anyhow::Result<HashMap<DeviceId, Vec<Reading>>> {
    let (memory, mut metrics) = {
        let rules = iot.rules().sender.borrow();
        let memory = rules.engine.iter().map(Rule::memory_ms).max().unwrap_or(0).min(REPLAY_MAX_MS);
        (memory, rules.engine.iter().map(|r| r.metric.name()).collect::<Vec<_>>())
    };
    metrics.sort_unstable();
    metrics.dedup();
    let since = Utc::now() - chrono::TimeDelta::milliseconds(memory);
    let ids: Vec<String> = coming.keys().map(|id| id.to_string()).collect();
    let rows = iot.store().recent_readings(&ids, &metrics, since).await.context("reading recent readings")?;
    let mut out: HashMap<DeviceId, Vec<Reading>> = HashMap::new();
    for row in rows {
        let (Some(&(device, device_type)), Some(metric)) =
            (coming.get(row.device_id.as_str()), Metric::from_name(&row.metric))
        else {
            continue;
        };
        let at_ms = row.at.timestamp_millis();
        let readings = out.entry(device.clone()).or_default();
        match readings.last_mut() {
            Some(last) if last.at_ms == at_ms => last.values.push((metric, row.value)),
            _ => readings.push(Reading {
                device: device.clone(),
                device_type,
                at_ms,
                values: vec![(metric, row.value)],
                position: None,
            }),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::owner;

    fn members(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    /// Every key has one owner; a member leaving moves only its own keys, spread over the
    /// rest; a member joining takes keys only for itself.
    #[test]
    fn rendezvous_moves_only_the_leavers_keys() {
        let three = members(&["cockpit-a", "cockpit-b", "cockpit-c"]);
        let two = members(&["cockpit-a", "cockpit-c"]);
        let keys: Vec<String> = (0..3000).map(|n| format!("330304{n:06}")).collect();
        let mut per_member = std::collections::HashMap::new();
        for key in &keys {
            let before = owner(&three, key).unwrap();
            *per_member.entry(before).or_insert(0) += 1;
            let after = owner(&two, key).unwrap();
            if before != "cockpit-b" {
                assert_eq!(before, after, "{key} moved though its owner stayed");
            } else {
                assert_ne!(after, "cockpit-b");
            }
        }
        // Roughly a third each (rendezvous hashing spreads evenly).
        assert!(per_member.values().all(|n| (800..1200).contains(n)), "{per_member:?}");
        assert_eq!(owner(&[], "x"), None);
        assert_eq!(owner(&members(&["only"]), "x"), Some("only"));
    }
}
