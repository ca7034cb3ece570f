//! N days of cases ending now: how many each day brings (weekday, season, holidays, a
//! little noise), when and where each comes from (channel, hour, grid, a point inside the
//! grid), what it is (category, urgency, words), and its life ([`crate::life`]). Each day
//! is generated from its own stream of the seed, so days can be made in any order, one at
//! a time, and the same seed gives the same history.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use cockpit_events::{
    Assignee, CategoryCode, CategoryTree, Deadline, DeadlinePolicy, DispatchDecision, DispatchRequest, DispatchRules,
    RuleId, Tag, TimeLimit, Transition, Urgency, UserId, WorkingCalendar,
};
use cockpit_geo::{City, Coord, Level, Place};
use rand::Rng;

use crate::born::{day_count, elapsed_share, prefix, stream, time_in, weighted};
use crate::error::SimError;
use crate::life::Lived;
use crate::people::{Demo, People};
use crate::shape::{self, Channel, Season};

/// The city's case rules the history follows, as the server has them.
#[derive(Debug, Clone, Copy)]
pub struct Rules<'a> {
    /// Categories and their time limits.
    pub categories: &'a CategoryTree,
    /// Automatic dispatch.
    pub dispatch: &'a DispatchRules,
    /// The working calendar deadlines count on, and the city's day.
    pub calendar: &'a WorkingCalendar,
    /// The warning point and the re-alarm interval.
    pub deadlines: DeadlinePolicy,
}

impl Rules<'_> {
    /// The deadline of a clock started at `at`, as the server computes it.
    pub(crate) fn deadline(&self, limit: Option<TimeLimit>, at: DateTime<Utc>) -> Option<Deadline> {
        limit.and_then(|limit| self.deadlines.deadline(self.calendar, at, limit).ok())
    }
}

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// How many days, the last being today up to `now`.
    pub days: u32,
    /// Cases on an ordinary working day.
    pub per_day: u32,
    /// The seed.
    pub seed: u64,
    /// The end of the history.
    pub now: DateTime<Utc>,
}

/// One generated case, its life up to `now` included.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryCase {
    /// Its place in the whole history, from 0, in order of creation: the store adds an
    /// id base.
    pub n: u64,
    /// The channel, hence the source.
    pub channel: Channel,
    /// The source's reference (unique per source).
    pub source_ref: String,
    /// Its category.
    pub category: CategoryCode,
    /// Its urgency.
    pub urgency: Urgency,
    /// Its tags.
    pub tags: Vec<Tag>,
    /// The title.
    pub title: String,
    /// The description.
    pub description: String,
    /// The address.
    pub address: String,
    /// Where, WGS84: inside its grid.
    pub point: Coord,
    /// Its street, village and grid.
    pub place: Place,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// When it came in.
    pub created_at: DateTime<Utc>,
    /// The case it repeats (by `n`), closed as a duplicate.
    pub duplicate_of: Option<u64>,
    /// Its life.
    pub lived: Lived,
}

/// One day's cases, and how many steps the lifecycle refused (none when all is well).
#[derive(Debug, Clone)]
pub struct Day {
    /// The cases, in order of creation.
    pub cases: Vec<HistoryCase>,
    /// Steps refused by the lifecycle.
    pub refused: u32,
}

/// A case before its life: what the script needs.
pub(crate) struct Born {
    pub channel: Channel,
    pub category: CategoryCode,
    pub urgency: Urgency,
    pub limit: Option<TimeLimit>,
    pub created_at: DateTime<Utc>,
    pub opening: Transition,
    /// The case it repeats: its `n` and source reference.
    pub duplicate_of: Option<(u64, String)>,
    /// What the rules decide, when they do.
    pub dispatch: Option<(RuleId, Assignee)>,
    /// Where a dispatcher sends it, when the rules do not.
    pub manual: Assignee,
    /// Where it goes after being returned.
    pub second: Assignee,
    /// A leader of the demonstration to bind, if any.
    pub leader: Option<String>,
    /// Sensitive: a leader is bound and instructs.
    pub sensitive: bool,
    /// Stop once accepted (the demonstration grid worker's open tasks).
    pub hold: bool,
}

pub(crate) struct Grid {
    pub code: String,
    pub village: String,
    pub place: Place,
    pub bbox: (Coord, Coord),
    pub centre: Coord,
}

struct DayPlan {
    date: NaiveDate,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    count: u32,
    first: u64,
}

/// The city's grids, each with its place, village name and box, and its weight as a
/// place cases come from (a community's grid twice a village's).
pub(crate) fn city_grids(city: &City) -> (Vec<Grid>, Vec<u32>) {
    let mut grids = Vec::new();
    let mut weights = Vec::new();
    for grid in city.level(Level::Grid) {
        let village = grid.parent.map(|p| city.region(p));
        let street = village.and_then(|v| v.parent).map(|p| city.region(p).code.as_str().to_string());
        let village_name = village.map_or_else(|| grid.name.clone(), |v| v.name.clone());
        weights.push(if village_name.ends_with("社区") { 2 } else { 1 });
        grids.push(Grid {
            code: grid.code.as_str().to_string(),
            place: Place::from_codes(
                street,
                village.map(|v| v.code.as_str().to_string()),
                Some(grid.code.as_str().to_string()),
            ),
            village: village_name,
            bbox: (grid.bbox.min(), grid.bbox.max()),
            centre: grid.centre,
        });
    }
    (grids, weights)
}

/// A history to generate, day by day.
pub struct History<'a> {
    pub(crate) city: &'a City,
    pub(crate) rules: Rules<'a>,
    pub(crate) people: &'a People,
    pub(crate) plan: Plan,
    pub(crate) demo: Option<Demo>,
    pub(crate) grids: Vec<Grid>,
    grid_weights: Vec<u32>,
    days: Vec<DayPlan>,
    pub(crate) leaves: Vec<(CategoryCode, String)>,
}

/// Cases the demonstration's grid worker finds open on the last day.
const DEMO_TASKS: u32 = 5;

impl<'a> History<'a> {
    /// Plans the history: every day's count.
    pub fn new(
        city: &'a City,
        rules: Rules<'a>,
        people: &'a People,
        plan: Plan,
        demo: Option<Demo>,
    ) -> Result<History<'a>, SimError> {
        if plan.days == 0 || plan.days > 3660 || plan.per_day == 0 || plan.per_day > 100_000 {
            return Err(SimError::Plan(format!("{} days of {} cases", plan.days, plan.per_day)));
        }
        rules.deadlines.deadline(rules.calendar, plan.now, TimeLimit::Hours(1))?;
        let (grids, grid_weights) = city_grids(city);
        if grids.is_empty() {
            return Err(SimError::City("grid"));
        }
        let leaves: Vec<(CategoryCode, String)> = rules
            .categories
            .children(None)
            .into_iter()
            .flat_map(|major| {
                let minors = rules.categories.children(Some(&major.code));
                if minors.is_empty() { vec![major] } else { minors }
            })
            .map(|c| (c.code.clone(), c.name.clone()))
            .collect();
        if leaves.is_empty() {
            return Err(SimError::Plan("the category tree is empty".into()));
        }
        let today = rules.calendar.day_start(plan.now);
        let mut days = Vec::with_capacity(plan.days as usize);
        let mut first = 0;
        for i in 0..plan.days {
            let start = today - TimeDelta::days(i64::from(plan.days - 1 - i));
            let end = (start + TimeDelta::days(1)).min(plan.now);
            let date = start.with_timezone(&rules.calendar.offset()).date_naive();
            let mut count = day_count(&plan, rules.calendar, date, i, elapsed_share(start, end));
            if i == plan.days - 1 && demo.is_some() {
                count += DEMO_TASKS;
            }
            days.push(DayPlan { date, start, end, count, first });
            first += u64::from(count);
        }
        Ok(History { city, rules, people, plan, demo, grids, grid_weights, days, leaves })
    }

    /// How many days.
    pub fn days(&self) -> usize {
        self.days.len()
    }

    /// How many cases day `i` (0 the oldest) was planned to bring.
    pub fn day_count(&self, i: usize) -> u32 {
        self.days.get(i).map_or(0, |d| d.count)
    }

    /// The local date of day `i`.
    pub fn date(&self, i: usize) -> Option<NaiveDate> {
        self.days.get(i).map(|d| d.date)
    }

    /// How many cases in all.
    pub fn total(&self) -> u64 {
        self.days.last().map_or(0, |d| d.first + u64::from(d.count))
    }

    /// Generates day `i` (0 the oldest): its cases in order of creation.
    pub fn day(&self, i: usize) -> Result<Day, SimError> {
        let Some(plan) = self.days.get(i) else { return Ok(Day { cases: Vec::new(), refused: 0 }) };
        let mut rng = stream(self.plan.seed, 1 + i as u64);
        let working = self.rules.calendar.is_working_day(plan.date);
        let season = Season::of(plan.date);
        let channel_weights: Vec<u32> = Channel::ALL
            .iter()
            .map(|c| (f64::from(c.share()) * if working { 1.0 } else { c.day_off_factor() }) as u32)
            .collect();
        let demo_tasks = if i + 1 == self.days.len() && self.demo.is_some() { DEMO_TASKS } else { 0 };
        let mut seeds = Vec::with_capacity(plan.count as usize);
        for _ in 0..plan.count - demo_tasks {
            let channel = Channel::ALL[weighted(&mut rng, &channel_weights)];
            let at = time_in(&mut rng, &channel.hours(), plan.start, plan.end);
            let category = self.category(&mut rng, channel, season);
            let grid = weighted(&mut rng, &self.grid_weights);
            seeds.push((at, channel, category, grid, false));
        }
        if let Some(demo) = &self.demo
            && let Some(grid) = self.grids.iter().position(|g| g.code == demo.grid)
        {
            for k in 0..demo_tasks {
                let at = (self.plan.now - TimeDelta::minutes(i64::from(15 + 35 * k))).max(plan.start);
                let category = self.grid_category(k as usize, grid);
                seeds.push((at, Channel::Patrol, category, grid, true));
            }
        }
        seeds.sort_by_key(|s| s.0);
        let mut cases: Vec<HistoryCase> = Vec::with_capacity(seeds.len());
        let mut refused = 0;
        for (k, (at, channel, category, grid, hold)) in seeds.into_iter().enumerate() {
            let n = plan.first + k as u64;
            let source_ref = format!("H{}-{}-{k:05}", prefix(channel), plan.date.format("%Y%m%d"));
            let case = self.case(&mut rng, n, source_ref, at, channel, category, grid, hold, &cases, &mut refused)?;
            cases.push(case);
        }
        Ok(Day { cases, refused })
    }

    fn category<R: Rng>(&self, rng: &mut R, channel: Channel, season: Season) -> CategoryCode {
        let table: Vec<(&CategoryCode, u32)> = channel
            .categories()
            .iter()
            .filter_map(|(code, w)| {
                let leaf = self.leaves.iter().find(|(c, _)| c.as_str() == *code)?;
                let w = if shape::is_flooding(code) { w * season.flooding_factor() } else { *w };
                Some((&leaf.0, w))
            })
            .collect();
        if table.is_empty() {
            return self.leaves[rng.random_range(0..self.leaves.len())].0.clone();
        }
        let weights: Vec<u32> = table.iter().map(|(_, w)| *w).collect();
        table[weighted(rng, &weights)].0.clone()
    }

    /// The `k`-th of the categories the rules give the grid's worker, for the
    /// demonstration's tasks (any category when none is).
    fn grid_category(&self, k: usize, grid: usize) -> CategoryCode {
        let worker = self.people.grid_worker(&self.grids[grid].code).map(|w| UserId(w.to_string()));
        let theirs: Vec<&CategoryCode> = self
            .leaves
            .iter()
            .map(|(c, _)| c)
            .filter(|c| {
                let decision = self.rules.dispatch.decide(DispatchRequest {
                    category: c,
                    regions: &self.grids[grid].place,
                    grid_worker: worker.as_ref(),
                });
                matches!(decision, DispatchDecision::Dispatch { to: Assignee::GridWorker { .. }, .. })
            })
            .collect();
        match theirs.get(k % theirs.len().max(1)) {
            Some(c) => (*c).clone(),
            None => self.leaves[k % self.leaves.len()].0.clone(),
        }
    }
}
