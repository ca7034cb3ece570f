//! One client's outbox: what keeps a slow client from growing the server's memory.
//!
//! Two kinds of traffic. Messages that must not be dropped (cases, alarms) wait in a
//! bounded queue; when it is full the client has fallen behind, [`Outbox::push`] says so,
//! and the server disconnects it with the reason (it resumes by offset). Fast-changing
//! state (device values, counts) is coalesced: one pending value per key, the latest
//! replacing the earlier, released at most once per interval. So an outbox holds at most
//! `capacity` messages and one value per key, whatever the client does.

use std::collections::{BTreeMap, VecDeque};

/// The client fell behind on messages that must not be dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the client fell behind by more than {capacity} messages: reconnect and resume from the last offset")]
pub struct Overflow {
    /// The queue's capacity.
    pub capacity: usize,
}

/// One client's pending traffic: `M` messages that must arrive, `V` values per key `K`
/// that may be coalesced.
#[derive(Debug, Clone)]
pub struct Outbox<K, V, M> {
    capacity: usize,
    interval_ms: i64,
    queue: VecDeque<M>,
    latest: BTreeMap<K, V>,
    last_release_ms: Option<i64>,
}

impl<K: Ord, V, M> Outbox<K, V, M> {
    /// An outbox queueing at most `capacity` messages (at least one) and releasing
    /// coalesced values at most once every `interval_ms`.
    pub fn new(capacity: usize, interval_ms: i64) -> Outbox<K, V, M> {
        Outbox {
            capacity: capacity.max(1),
            interval_ms: interval_ms.max(0),
            queue: VecDeque::new(),
            latest: BTreeMap::new(),
            last_release_ms: None,
        }
    }

    /// Queues a message that must arrive, or says the client has fallen behind (the
    /// message is not queued).
    pub fn push(&mut self, message: M) -> Result<(), Overflow> {
        if self.queue.len() == self.capacity {
            return Err(Overflow { capacity: self.capacity });
        }
        self.queue.push_back(message);
        Ok(())
    }

    /// The next queued message, oldest first.
    pub fn pop(&mut self) -> Option<M> {
        self.queue.pop_front()
    }

    /// How many messages wait.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Offers the latest value of `key`; an earlier one not yet released is replaced.
    /// Refused (false, nothing kept) when `max_keys` other keys already wait: the caller
    /// then sends the client the latest state afresh instead.
    pub fn offer(&mut self, key: K, value: V, max_keys: usize) -> bool {
        if self.latest.len() >= max_keys && !self.latest.contains_key(&key) {
            return false;
        }
        self.latest.insert(key, value);
        true
    }

    /// Drops the waiting values whose key fails `keep` (an unsubscription).
    pub fn forget(&mut self, keep: impl Fn(&K) -> bool) {
        self.latest.retain(|k, _| keep(k));
    }

    /// When the waiting values may be released next (none when nothing waits).
    pub fn next_release_ms(&self) -> Option<i64> {
        if self.latest.is_empty() {
            return None;
        }
        Some(self.last_release_ms.map_or(i64::MIN, |last| last.saturating_add(self.interval_ms)))
    }

    /// How many keys have a value waiting.
    pub fn pending(&self) -> usize {
        self.latest.len()
    }

    /// The waiting values, by key, when the interval since the last release has passed
    /// (and there are any); none otherwise.
    pub fn release(&mut self, now_ms: i64) -> Option<Vec<(K, V)>> {
        if self.latest.is_empty() {
            return None;
        }
        if let Some(last) = self.last_release_ms
            && now_ms.saturating_sub(last) < self.interval_ms
        {
            return None;
        }
        self.last_release_ms = Some(now_ms);
        Some(std::mem::take(&mut self.latest).into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_that_must_arrive_are_never_dropped_silently() {
        let mut out: Outbox<u32, f64, &str> = Outbox::new(2, 100);
        assert_eq!(out.push("case 1"), Ok(()));
        assert_eq!(out.push("case 2"), Ok(()));
        assert_eq!(out.push("case 3"), Err(Overflow { capacity: 2 }));
        assert_eq!(out.queued(), 2);
        assert_eq!((out.pop(), out.pop(), out.pop()), (Some("case 1"), Some("case 2"), None));
        assert_eq!(out.push("case 3"), Ok(()));
    }

    #[test]
    fn values_are_coalesced_latest_wins_at_most_once_per_interval() {
        let mut out: Outbox<&str, f64, ()> = Outbox::new(1, 200);
        assert_eq!(out.release(0), None, "nothing waits");
        for n in 0..1000 {
            assert!(out.offer(if n % 2 == 0 { "wl-1" } else { "wl-2" }, f64::from(n), 2));
        }
        assert!(!out.offer("wl-3", 0.0, 2), "a third key is refused at two");
        assert_eq!(out.pending(), 2, "one value per key, however many arrive");
        assert_eq!(out.release(1_000), Some(vec![("wl-1", 998.0), ("wl-2", 999.0)]));
        assert_eq!(out.next_release_ms(), None);
        out.offer("wl-1", 1.5, 2);
        assert_eq!(out.next_release_ms(), Some(1_200));
        assert_eq!(out.release(1_100), None, "within the interval");
        out.offer("wl-1", 2.5, 2);
        assert_eq!(out.release(1_200), Some(vec![("wl-1", 2.5)]));
        assert_eq!(out.release(5_000), None, "released values are gone");
    }
}
