//! One stream's recent deltas, numbered: every delta gets the next offset of the stream's
//! epoch. A client that reconnects with its last (epoch, offset) gets every delta after
//! it, or, when the history no longer reaches back that far or the server restarted (a
//! new epoch), an explicit [`Resume::NotRecovered`] so that it takes a fresh snapshot.
//! Never a silent gap.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

/// A stream's life: changes when the server restarts, so offsets of an earlier life are
/// never mistaken for this one's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Epoch(pub u64);

/// A delta's place in its stream: 1 for the first, then one more for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Offset(pub u64);

/// Why a resume cannot be answered with deltas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unrecoverable {
    /// The client's offset is from another epoch (the server restarted).
    EpochChanged,
    /// The deltas after the client's offset have left the bounded history.
    TooOld,
    /// The client claims an offset this stream has not reached.
    Ahead,
}

/// The answer to a resume.
#[derive(Debug, PartialEq)]
pub enum Resume<'a, T> {
    /// Every delta after the client's offset, in order (possibly none).
    Deltas(Vec<(Offset, &'a T)>),
    /// Take a fresh snapshot; the stream is now at `current`.
    NotRecovered {
        /// Why.
        reason: Unrecoverable,
        /// The stream's epoch.
        epoch: Epoch,
        /// The stream's last offset.
        current: Offset,
    },
}

/// The last `capacity` deltas of one stream.
///
/// Offsets are either numbered here ([`History::push`]: 1, 2, 3, ...) or by the caller
/// ([`History::push_at`]), when several channels share one counter (the server's
/// `live_log`): then a channel's offsets increase but skip the other channels' ones, and
/// [`History::advance`] tells the history how far the shared counter has gone.
#[derive(Debug, Clone)]
pub struct History<T> {
    epoch: Epoch,
    capacity: usize,
    /// The shared counter's last offset (this stream's or another's).
    last: u64,
    /// Every delta of this stream after `floor` is held.
    floor: u64,
    deltas: VecDeque<(u64, T)>,
}

impl<T> History<T> {
    /// An empty stream of `epoch` keeping at most `capacity` deltas (at least one).
    pub fn new(epoch: Epoch, capacity: usize) -> History<T> {
        History::starting_at(epoch, capacity, Offset(0))
    }

    /// An empty history of a stream already at `current`: it can answer a resume from
    /// `current` on, but not from before (whose deltas it never held).
    pub fn starting_at(epoch: Epoch, capacity: usize, current: Offset) -> History<T> {
        History { epoch, capacity: capacity.max(1), last: current.0, floor: current.0, deltas: VecDeque::new() }
    }

    /// The epoch.
    pub fn epoch(&self) -> Epoch {
        self.epoch
    }

    /// The offset of the last delta (0 before the first).
    pub fn current(&self) -> Offset {
        Offset(self.last)
    }

    /// How many deltas are held.
    pub fn len(&self) -> usize {
        self.deltas.len()
    }

    /// None held.
    pub fn is_empty(&self) -> bool {
        self.deltas.is_empty()
    }

    /// Appends a delta, dropping the oldest beyond the capacity: its offset.
    pub fn push(&mut self, delta: T) -> Offset {
        let offset = Offset(self.last + 1);
        self.push_at(offset, delta);
        offset
    }

    /// Appends a delta numbered by the caller. An offset not beyond the current one is a
    /// delta already held (delivered twice): ignored, false.
    pub fn push_at(&mut self, offset: Offset, delta: T) -> bool {
        if offset.0 <= self.last {
            return false;
        }
        self.last = offset.0;
        if self.deltas.len() == self.capacity
            && let Some((dropped, _)) = self.deltas.pop_front()
        {
            self.floor = dropped;
        }
        self.deltas.push_back((offset.0, delta));
        true
    }

    /// The shared counter reached `offset` with deltas of other streams: nothing of this
    /// one was missed.
    pub fn advance(&mut self, offset: Offset) {
        self.last = self.last.max(offset.0);
    }

    /// What a client that saw everything up to `(epoch, after)` has missed.
    pub fn resume(&self, epoch: Epoch, after: Offset) -> Resume<'_, T> {
        let refuse = |reason| Resume::NotRecovered { reason, epoch: self.epoch, current: self.current() };
        if epoch != self.epoch {
            return refuse(Unrecoverable::EpochChanged);
        }
        if after.0 > self.last {
            return refuse(Unrecoverable::Ahead);
        }
        if after.0 < self.floor {
            return refuse(Unrecoverable::TooOld);
        }
        Resume::Deltas(self.deltas.iter().filter(|(o, _)| *o > after.0).map(|(o, d)| (Offset(*o), d)).collect())
    }

    /// Every delta held, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = (Offset, &T)> {
        self.deltas.iter().map(|(o, d)| (Offset(*o), d))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offsets<T>(r: &Resume<'_, T>) -> Vec<u64> {
        match r {
            Resume::Deltas(d) => d.iter().map(|(o, _)| o.0).collect(),
            Resume::NotRecovered { .. } => panic!("not recovered"),
        }
    }

    #[test]
    fn a_resume_gets_every_missed_delta_in_order_or_a_plain_refusal() {
        let mut h = History::new(Epoch(7), 3);
        assert_eq!(offsets(&h.resume(Epoch(7), Offset(0))), Vec::<u64>::new());
        for n in 1..=5 {
            assert_eq!(h.push(n * 10), Offset(n));
        }
        // Kept: 3, 4, 5.
        assert_eq!(offsets(&h.resume(Epoch(7), Offset(2))), [3, 4, 5]);
        assert_eq!(offsets(&h.resume(Epoch(7), Offset(4))), [5]);
        assert_eq!(offsets(&h.resume(Epoch(7), Offset(5))), Vec::<u64>::new());
        match h.resume(Epoch(7), Offset(3)) {
            Resume::Deltas(d) => assert_eq!(d.iter().map(|(_, v)| **v).collect::<Vec<_>>(), [40, 50]),
            other => panic!("{other:?}"),
        }
        let refused = |epoch, after| match h.resume(Epoch(epoch), Offset(after)) {
            Resume::NotRecovered { reason, epoch, current } => (reason, epoch, current),
            other => panic!("{other:?}"),
        };
        assert_eq!(refused(7, 1), (Unrecoverable::TooOld, Epoch(7), Offset(5)));
        assert_eq!(refused(7, 0), (Unrecoverable::TooOld, Epoch(7), Offset(5)));
        assert_eq!(refused(6, 5), (Unrecoverable::EpochChanged, Epoch(7), Offset(5)));
        assert_eq!(refused(7, 9), (Unrecoverable::Ahead, Epoch(7), Offset(5)));
    }

    #[test]
    fn every_resume_point_is_either_complete_or_refused() {
        // Whatever the capacity and the point, deltas answered are exactly after..=last.
        for capacity in 1..6 {
            let mut h = History::new(Epoch(1), capacity);
            for n in 1..=12u64 {
                h.push(n);
                for after in 0..=n + 1 {
                    match h.resume(Epoch(1), Offset(after)) {
                        Resume::Deltas(d) => {
                            let got: Vec<u64> = d
                                .iter()
                                .map(|(o, v)| {
                                    assert_eq!(o.0, **v);
                                    o.0
                                })
                                .collect();
                            assert_eq!(got, (after + 1..=n).collect::<Vec<_>>());
                        }
                        Resume::NotRecovered { reason, .. } => {
                            let expected = if after > n { Unrecoverable::Ahead } else { Unrecoverable::TooOld };
                            assert_eq!(reason, expected);
                            assert!(after > n || n - after > capacity as u64, "refused {after} at {n}/{capacity}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn a_shared_counter_skips_other_streams_offsets_without_refusing() {
        // Offsets 10, 12, 15 are this stream's; 11, 13, 14, 16 another's.
        let mut h = History::starting_at(Epoch(2), 2, Offset(9));
        assert_eq!(offsets(&h.resume(Epoch(2), Offset(9))), Vec::<u64>::new());
        assert!(matches!(h.resume(Epoch(2), Offset(8)), Resume::NotRecovered { reason: Unrecoverable::TooOld, .. }));
        assert!(h.push_at(Offset(10), 10));
        h.advance(Offset(11));
        assert!(h.push_at(Offset(12), 12));
        assert!(!h.push_at(Offset(12), 12), "a delta delivered twice is held once");
        h.advance(Offset(14));
        assert_eq!(offsets(&h.resume(Epoch(2), Offset(9))), [10, 12]);
        assert_eq!(offsets(&h.resume(Epoch(2), Offset(11))), [12]);
        assert_eq!(offsets(&h.resume(Epoch(2), Offset(14))), Vec::<u64>::new());
        assert!(h.push_at(Offset(15), 15));
        h.advance(Offset(16));
        // 10 left: a client after 9 missed it; one after 10 or 11 missed nothing held elsewhere.
        assert!(matches!(h.resume(Epoch(2), Offset(9)), Resume::NotRecovered { reason: Unrecoverable::TooOld, .. }));
        assert_eq!(offsets(&h.resume(Epoch(2), Offset(10)),), [12, 15]);
        assert_eq!(offsets(&h.resume(Epoch(2), Offset(13))), [15]);
        assert!(matches!(h.resume(Epoch(2), Offset(17)), Resume::NotRecovered { reason: Unrecoverable::Ahead, .. }));
        assert_eq!((h.len(), h.current()), (2, Offset(16)));
    }
}
