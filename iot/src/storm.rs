//! Storm grouping: when a flood puts a hundred gauges of one grid over the line within
//! minutes, the screens should show one storm, not a hundred alarms. Alarms are grouped by
//! (rule, region), the region an opaque key the caller supplies (a grid code, say): the
//! first `threshold` raised within `window_ms` of each other go out singly; the next one
//! starts a storm and every later one joins it, for as long as they keep coming within
//! `window_ms` of the previous one. After a quiet window the next alarm starts afresh.
//!
//! State grows with the number of (rule, region) pairs that ever raised an alarm, which the
//! city's configuration bounds.

use std::collections::{HashMap, VecDeque};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ids::RuleId;

/// A storm's id: rule, region and the time it started, so it is stable across restarts.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StormId(pub String);

impl fmt::Display for StormId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What to do with a newly raised alarm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "grouping", rename_all = "snake_case")]
pub enum Grouping {
    /// Show it on its own.
    Single,
    /// It starts a storm: show one grouped alarm in place of it and of those to come.
    StormStarted {
        /// The storm.
        storm_id: StormId,
        /// Alarms in the storm so far, counting those just before it that went out singly.
        count: usize,
    },
    /// It joins a storm already shown.
    JoinedStorm {
        /// The storm.
        storm_id: StormId,
        /// Alarms in the storm so far, this one included.
        count: usize,
    },
}

/// Groups raised alarms into storms.
#[derive(Debug, Clone)]
pub struct StormGrouper {
    window_ms: i64,
    threshold: usize,
    groups: HashMap<(RuleId, String), Group>,
}

/// One (rule, region)'s recent alarms.
#[derive(Debug, Clone, Default)]
struct Group {
    /// Times of recent alarms outside a storm, oldest first.
    recent: VecDeque<i64>,
    /// The storm under way: its id, its count and its latest alarm's time.
    storm: Option<(StormId, usize, i64)>,
    /// The latest alarm's time, so that a late alarm is counted at that time, never earlier.
    latest_ms: i64,
}

impl StormGrouper {
    /// Groups alarms when more than `threshold` arrive within `window_ms`.
    pub fn new(window_ms: i64, threshold: usize) -> StormGrouper {
        StormGrouper { window_ms, threshold, groups: HashMap::new() }
    }

    /// Groups an alarm of `rule` in `region` raised at `at_ms`.
    pub fn group(&mut self, rule: &RuleId, region: &str, at_ms: i64) -> Grouping {
        let group = self
            .groups
            .entry((rule.clone(), region.to_owned()))
            .or_insert_with(|| Group { latest_ms: at_ms, ..Group::default() });
        let at_ms = at_ms.max(group.latest_ms);
        group.latest_ms = at_ms;
        if let Some((storm_id, count, last_ms)) = &mut group.storm {
            if at_ms.saturating_sub(*last_ms) <= self.window_ms {
                *count += 1;
                *last_ms = at_ms;
                return Grouping::JoinedStorm { storm_id: storm_id.clone(), count: *count };
            }
            group.storm = None;
        }
        group.recent.push_back(at_ms);
        let start = at_ms.saturating_sub(self.window_ms);
        while group.recent.front().is_some_and(|t| *t < start) {
            group.recent.pop_front();
        }
        if group.recent.len() <= self.threshold {
            return Grouping::Single;
        }
        let storm_id = StormId(format!("{rule}@{region}@{at_ms}"));
        let count = group.recent.len();
        group.recent.clear();
        group.storm = Some((storm_id.clone(), count, at_ms));
        Grouping::StormStarted { storm_id, count }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    /// Groups alarms given as (minute, region) and writes each outcome in short:
    /// `single`, `start n`, `join n`.
    fn check(grouper: &mut StormGrouper, alarms: &[(i64, &str)], expected: &[&str]) {
        let rule = RuleId::from("river-high");
        let found: Vec<String> = alarms
            .iter()
            .map(|&(minute, region)| match grouper.group(&rule, region, minute * MIN) {
                Grouping::Single => "single".to_owned(),
                Grouping::StormStarted { count, .. } => format!("start {count}"),
                Grouping::JoinedStorm { count, .. } => format!("join {count}"),
            })
            .collect();
        assert_eq!(found, expected);
    }

    #[test]
    fn a_flood_is_one_storm() {
        let mut grouper = StormGrouper::new(10 * MIN, 3);
        let rule = RuleId::from("river-high");
        let outcomes: Vec<Grouping> = (0..300).map(|i| grouper.group(&rule, "330304001001", i * 1000)).collect();
        assert!(outcomes[..3].iter().all(|g| *g == Grouping::Single));
        let storm_id = StormId("river-high@330304001001@3000".into());
        assert_eq!(outcomes[3], Grouping::StormStarted { storm_id: storm_id.clone(), count: 4 });
        assert_eq!(outcomes[299], Grouping::JoinedStorm { storm_id, count: 300 });
        let started = outcomes.iter().filter(|g| matches!(g, Grouping::StormStarted { .. })).count();
        assert_eq!(started, 1);
    }

    #[test]
    fn the_window_slides_and_a_quiet_window_ends_a_storm() {
        let mut grouper = StormGrouper::new(10 * MIN, 2);
        // Spread out: never more than two within ten minutes.
        check(&mut grouper, &[(0, "g1"), (6, "g1"), (11, "g1"), (17, "g1")], &["single"; 4]);
        // Three within ten minutes start a storm (the window includes its start); it lasts while
        // alarms come within ten minutes of each other.
        let mut grouper = StormGrouper::new(10 * MIN, 2);
        check(
            &mut grouper,
            &[(20, "g1"), (27, "g1"), (30, "g1"), (39, "g1"), (49, "g1"), (60, "g1"), (61, "g1")],
            &["single", "single", "start 3", "join 4", "join 5", "single", "single"],
        );
    }

    #[test]
    fn regions_and_rules_group_apart() {
        let mut grouper = StormGrouper::new(10 * MIN, 1);
        check(&mut grouper, &[(0, "g1"), (0, "g2"), (1, "g1"), (1, "g2")], &["single", "single", "start 2", "start 2"]);
        let other = RuleId::from("smoke");
        assert_eq!(grouper.group(&other, "g1", 2 * MIN), Grouping::Single);
    }

    #[test]
    fn late_alarms_count_at_the_latest_time() {
        let mut grouper = StormGrouper::new(10 * MIN, 1);
        check(&mut grouper, &[(30, "g1"), (5, "g1")], &["single", "start 2"]);
        let mut lone = StormGrouper::new(10 * MIN, 0);
        check(&mut lone, &[(0, "g1"), (1, "g1")], &["start 1", "join 2"]);
    }
}
