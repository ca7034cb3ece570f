//! Subscribing: what a principal may watch on a channel (permissions, region, assignment)
//! and where a resume starts (the deltas missed, or a snapshot when the history does not
//! reach back), decided under the hub's lock.

use std::sync::Arc;

use cockpit_access::{Permission as P, ScopeLevel};
use cockpit_live::{Channel, Epoch, Filter, NotRecoveredReason, Offset, ProtocolError, Resume};

use super::Hub;
use super::fanout::{Entry, Sub};
use crate::auth::Principal;
use cockpit_store::Assigned;

/// One step of a resume, decided under the hub's lock.
pub(super) enum Step {
    /// The missed deltas after the resume point up to `upto` that the subscription
    /// matches; registered (live deltas follow) once few enough remain.
    Deltas { replay: Vec<Arc<Entry>>, upto: Offset, handle: Option<u64> },
    /// The history does not reach back: a snapshot instead.
    Refused(NotRecoveredReason),
}

impl Hub {
    /// What `principal` may subscribe to on `channel` with `filter`: the region watched,
    /// whether only inside the district, and the assignment scope.
    #[allow(clippy::type_complexity)]
    pub(super) fn authorize(
        &self,
        principal: &Principal,
        channel: Channel,
        filter: &Filter,
    ) -> Result<(Option<String>, bool, Option<Assigned>), ProtocolError> {
        let needs: &[P] = match channel {
            Channel::Cases => &[P::ViewCases, P::ViewAssignedCases],
            Channel::Alarms => &[P::ViewWall, P::ViewDevices, P::AcknowledgeAlarms],
            Channel::Devices => &[P::ViewDevices],
            Channel::Statistics => &[P::ViewStatistics],
            Channel::Indicators => &[P::ViewWall, P::ViewStatistics],
        };
        if !needs.iter().any(|p| principal.can(*p)) {
            let names: Vec<&str> = needs.iter().map(|p| p.as_str()).collect();
            return Err(ProtocolError::Forbidden(format!(
                "channel `{}` needs the permission {}",
                channel.as_str(),
                names.join(" or ")
            )));
        }
        let scope = match principal.scope.level {
            ScopeLevel::District => None,
            _ => Some(principal.scope.code.clone()),
        };
        let (region, inside_only) = match (&filter.region, scope) {
            (Some(r), Some(s)) if r.starts_with(&s) => (Some(r.clone()), false),
            (Some(r), Some(s)) => {
                return Err(ProtocolError::Forbidden(format!("region {r} is outside your region {s}")));
            }
            (Some(r), None) if *r == self.inner.district => (None, true),
            (Some(r), None) => (Some(r.clone()), false),
            (None, s) => (s, false),
        };
        if let Some(r) = &region
            && self.inner.cases.geography.get().city.by_code(r).is_none()
        {
            return Err(ProtocolError::BadFilter(format!("`region`: there is no region {r}")));
        }
        let case_scope = principal.case_scope();
        if matches!(channel, Channel::Statistics | Channel::Indicators) && case_scope.assigned_to.is_some() {
            return Err(ProtocolError::Forbidden(format!("{} need the permission cases.view", channel.as_str())));
        }
        // Those who see by assignment see only what is theirs; others may ask for it
        // (a grid worker's "mine" includes what went to their grid's worker).
        let assigned = match (channel, case_scope.assigned_to) {
            (Channel::Cases, Some((user, department))) => Some(Assigned { user, department, grid: None }),
            (Channel::Cases, None) if filter.assigned_to_me => Some(principal.assigned_to_me()),
            _ => None,
        };
        Ok((region, inside_only, assigned))
    }

    /// Registers `sub`: its handle, the epoch and the offset its snapshot must show.
    pub(super) fn register(&self, sub: Arc<Sub>) -> (u64, Epoch, Offset) {
        let mut s = self.state();
        let handle = s.fanout.add(sub);
        (handle, s.epoch, s.current)
    }

    /// The deltas `sub` missed after `(epoch, after)`. When at most `register_below`
    /// remain, the subscription is registered under the same lock, so that live deltas
    /// continue exactly where the replay ends; otherwise the caller sends these and asks
    /// again (a long replay is never raced by a queue filling behind it).
    pub(super) fn resume_step(
        &self,
        sub: &Arc<Sub>,
        epoch: Epoch,
        after: Offset,
        register_below: usize,
    ) -> (Epoch, Offset, Step) {
        let mut s = self.state();
        let (current, now) = (s.current, s.epoch);
        let Some(history) = s.histories.get(&sub.channel) else {
            return (now, current, Step::Refused(NotRecoveredReason::StateOnly));
        };
        let mut replay: Vec<Arc<Entry>> = match history.resume(epoch, after) {
            Resume::Deltas(deltas) => deltas.into_iter().map(|(_, e)| e.clone()).filter(|e| sub.reaches(e)).collect(),
            Resume::NotRecovered { reason, .. } => return (now, current, Step::Refused(reason.into())),
        };
        if sub.channel.coalesced() {
            // The latest of each key only.
            let mut seen = std::collections::HashSet::new();
            replay.reverse();
            replay.retain(|e| seen.insert(e.key.clone()));
            replay.reverse();
        }
        let handle = (replay.len() <= register_below).then(|| s.fanout.add(sub.clone()));
        (now, current, Step::Deltas { replay, upto: current, handle })
    }

    pub(super) fn unregister(&self, sub: &Sub, handle: u64) {
        self.state().fanout.remove(sub.channel, &sub.region, handle);
    }
}

impl Sub {
    /// Whether `entry` is for this subscription (region included).
    pub(super) fn reaches(&self, entry: &Entry) -> bool {
        entry.channel == self.channel
            && self.region.as_ref().is_none_or(|r| entry.regions.contains(r))
            && self.matches_filter(entry)
    }
}
