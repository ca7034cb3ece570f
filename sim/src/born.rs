//! How a case is born: its place (a point inside its grid), its words, its urgency and
//! tags, whether it repeats an earlier report, where the rules or a dispatcher send it;
//! and the plan's arithmetic (each day's count, a time within the day, weighted draws).

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc};
use cockpit_events::{
    Actor, Assignee, CategoryCode, DepartmentId, DispatchDecision, DispatchRequest, EntryPath, RegionCode, SourceId,
    Tag, Urgency, UserId, WorkingCalendar, intake,
};
use cockpit_geo::{City, Coord};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::SimError;
use crate::history::{Born, Grid, History, HistoryCase, Plan};
use crate::life::live;
use crate::people::People;
use crate::shape::{self, Channel, Season};
use crate::text;

/// The seed's stream `n`: day `i` draws from stream `i + 1`, its count from another.
pub(crate) fn stream(seed: u64, n: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(n);
    rng
}

/// An index drawn by weight (the first when every weight is zero).
pub(crate) fn weighted<R: Rng>(rng: &mut R, weights: &[u32]) -> usize {
    let total: u64 = weights.iter().map(|&w| u64::from(w)).sum();
    if total == 0 {
        return 0;
    }
    let mut pick = rng.random_range(0..total);
    for (i, &w) in weights.iter().enumerate() {
        if pick < u64::from(w) {
            return i;
        }
        pick -= u64::from(w);
    }
    weights.len() - 1
}

/// The cases' weight per local hour, over every channel by its share.
fn hour_weights() -> [f64; 24] {
    let mut w = [0.0; 24];
    for channel in Channel::ALL {
        let hours = channel.hours();
        let sum: u32 = hours.iter().sum();
        for (h, x) in hours.iter().enumerate() {
            w[h] += f64::from(channel.share()) * f64::from(*x) / f64::from(sum.max(1));
        }
    }
    w
}

/// The share of a day's cases that come between its local midnight `start` and `end`.
pub(crate) fn elapsed_share(start: DateTime<Utc>, end: DateTime<Utc>) -> f64 {
    let w = hour_weights();
    let total: f64 = w.iter().sum();
    let elapsed: f64 = (0..24)
        .map(|h| {
            let from = start + TimeDelta::hours(h as i64);
            let covered = (end - from).num_seconds().clamp(0, 3600) as f64 / 3600.0;
            w[h] * covered
        })
        .sum();
    if total > 0.0 { elapsed / total } else { 1.0 }
}

/// The number of cases day `i` on local `date` brings: the plan's working day, by weekday
/// or day off and season, ±6 % noise, times the share of the day that has passed.
pub(crate) fn day_count(plan: &Plan, calendar: &WorkingCalendar, date: NaiveDate, i: u32, share: f64) -> u32 {
    let mut rng = stream(plan.seed, 1_000_000 + u64::from(i));
    let weekday = shape::weekday_per_mille(date.weekday(), calendar.is_working_day(date));
    let season = Season::of(date).volume_per_mille();
    let noise = rng.random_range(940..=1060);
    let full = f64::from(plan.per_day) * f64::from(weekday) * f64::from(season) * f64::from(noise) / 1e9;
    (full * share).round() as u32
}

/// A time in `[start, end)` drawn by the channel's hour weights.
pub(crate) fn time_in<R: Rng>(
    rng: &mut R,
    hours: &[u32; 24],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> DateTime<Utc> {
    let open: Vec<u32> = (0..24).map(|h| if start + TimeDelta::hours(h as i64) < end { hours[h] } else { 0 }).collect();
    let span = (end - start).num_seconds().max(1);
    if open.iter().all(|&w| w == 0) {
        return start + TimeDelta::seconds(rng.random_range(0..span));
    }
    let h = weighted(rng, &open) as i64;
    let at = start + TimeDelta::hours(h) + TimeDelta::seconds(rng.random_range(0..3600));
    if at < end { at } else { start + TimeDelta::seconds(rng.random_range(h * 3600..span)) }
}

/// The letters of a channel's source references.
pub(crate) fn prefix(channel: Channel) -> &'static str {
    match channel {
        Channel::Patrol => "JC",
        Channel::Hotline => "12345",
        Channel::PublicOpinion => "YQ",
        Channel::Police => "110",
        Channel::IotAlarm => "IOT",
        Channel::Camera => "AI",
    }
}

/// The departments a dispatcher sends a category to (by name), the likeliest first.
fn departments_for(category: &str) -> &'static [&'static str] {
    match category {
        "0501" => &["区水利局", "区住房和城乡建设局"],
        "0503" => &["区住房和城乡建设局", "区交通运输局", "区水利局"],
        "0701" => &["区司法局", "区信访局"],
        "0704" => &["区消防救援大队", "区应急管理局"],
        "0708" => &["区人力资源和社会保障局"],
        c if c.starts_with("03") => &["区住房和城乡建设局", "市生态环境局瓯海分局"],
        c if c.starts_with("04") => &["区综合行政执法局", "区市场监督管理局"],
        c if c.starts_with("05") => &["区应急管理局", "区住房和城乡建设局"],
        c if c.starts_with("07") => &["区信访局"],
        c if c.starts_with("01") || c.starts_with("02") => &["区综合行政执法局"],
        _ => &["区综合行政执法局", "区市场监督管理局", "区交通运输局"],
    }
}

impl History<'_> {
    /// A case of `channel` and `category` at `at` in grid `grid`, and its life.
    #[allow(clippy::too_many_arguments)] // What a case is made of, and the day so far.
    pub(crate) fn case<R: Rng>(
        &self,
        rng: &mut R,
        n: u64,
        source_ref: String,
        at: DateTime<Utc>,
        channel: Channel,
        category: CategoryCode,
        grid: usize,
        hold: bool,
        earlier: &[HistoryCase],
        refused: &mut u32,
    ) -> Result<HistoryCase, SimError> {
        let repeats = match channel {
            Channel::Hotline => 0.06,
            Channel::PublicOpinion => 0.04,
            Channel::Patrol => 0.015,
            _ => 0.0,
        };
        let original = if !hold && rng.random_bool(repeats) {
            earlier.iter().rev().take(400).find(|c| {
                c.category == category && c.duplicate_of.is_none() && at - c.created_at <= TimeDelta::hours(6)
            })
        } else {
            None
        };
        let g =
            match original.and_then(|o| self.grids.iter().position(|g| Some(g.code.as_str()) == o.place.grid_code())) {
                Some(i) => &self.grids[i],
                None => &self.grids[grid],
            };
        let point = match original {
            Some(o) => {
                let p = Coord {
                    x: o.point.x + rng.random_range(-0.0002..0.0002),
                    y: o.point.y + rng.random_range(-0.0002..0.0002),
                };
                if self.city.place(p).grid_code() == Some(g.code.as_str()) { p } else { o.point }
            }
            None => point_in(self.city, rng, g),
        };
        let urgency = shape::urgency(crate::born::weighted(rng, &channel.urgencies(category.as_str())));
        let words = text::case_words(rng, channel, category.as_str(), &g.village);
        let before = match channel {
            Channel::Patrol => (1, 60),
            Channel::Hotline => (10, 2880),
            Channel::PublicOpinion => (60, 1440),
            Channel::Police => (5, 60),
            Channel::IotAlarm | Channel::Camera => (0, 3),
        };
        let occurred_at = at - TimeDelta::minutes(rng.random_range(before.0..=before.1));
        let sensitive = (channel == Channel::PublicOpinion && rng.random_bool(0.12)) || rng.random_bool(0.004);
        let mut tags = Vec::new();
        if urgency == Urgency::Critical {
            tags.push(Tag::Emergency);
        }
        if sensitive {
            tags.push(Tag::Sensitive);
        }
        let name =
            self.rules.categories.get(&category).map_or_else(|| category.as_str().to_string(), |c| c.name.clone());
        let (path, actor) = match channel {
            Channel::IotAlarm | Channel::Camera => (EntryPath::Alarm, Actor::system()),
            _ => (EntryPath::Gateway, Actor::source(&SourceId::new(channel.source()))),
        };
        let opening = intake(path, &actor, at, format!("{name}：{}", words.title))?;
        let dispatch = if original.is_some() {
            None
        } else {
            let worker = self.people.grid_worker(&g.code).map(|w| UserId(w.to_string()));
            match self.rules.dispatch.decide(DispatchRequest {
                category: &category,
                regions: &g.place,
                grid_worker: worker.as_ref(),
            }) {
                DispatchDecision::Dispatch { rule, to } => Some((rule, to)),
                DispatchDecision::Manual { .. } => None,
            }
        };
        let manual = target(self.people, rng, &category, g.place.street_code(), None);
        let second = target(self.people, rng, &category, g.place.street_code(), Some(&manual));
        let born = Born {
            channel,
            urgency,
            limit: self.rules.categories.time_limit(&category, urgency),
            category: category.clone(),
            created_at: at,
            opening,
            duplicate_of: original.map(|o| (o.n, o.source_ref.clone())),
            dispatch,
            manual,
            second,
            leader: self.demo.as_ref().map(|d| d.leader.clone()),
            sensitive,
            hold,
        };
        let (lived, r) = live(rng, &self.rules, self.people, &born, self.plan.now);
        *refused += r;
        Ok(HistoryCase {
            n,
            channel,
            source_ref,
            category,
            urgency,
            tags,
            title: words.title,
            description: words.description,
            address: words.address,
            point,
            place: g.place.clone(),
            occurred_at,
            created_at: at,
            duplicate_of: original.map(|o| o.n),
            lived,
        })
    }
}

/// A point inside the grid (its centre if sixty-four draws in its box all miss it).
pub(crate) fn point_in<R: Rng>(city: &City, rng: &mut R, g: &Grid) -> Coord {
    for _ in 0..64 {
        let p = Coord { x: rng.random_range(g.bbox.0.x..g.bbox.1.x), y: rng.random_range(g.bbox.0.y..g.bbox.1.y) };
        if city.place(p).grid_code() == Some(g.code.as_str()) {
            return p;
        }
    }
    g.centre
}

/// Where a dispatcher sends a case: a staffed department for its category (not `not`),
/// else the platform of its street.
pub(crate) fn target<R: Rng>(
    people: &People,
    rng: &mut R,
    category: &CategoryCode,
    street: Option<&str>,
    not: Option<&Assignee>,
) -> Assignee {
    let names = departments_for(category.as_str());
    let staffed: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| !people.handlers(n).is_empty())
        .filter(|n| not != Some(&Assignee::Department { department: DepartmentId::new(*n) }))
        .collect();
    if !staffed.is_empty() {
        return Assignee::Department { department: DepartmentId::new(staffed[rng.random_range(0..staffed.len())]) };
    }
    match street {
        Some(street) => Assignee::StreetPlatform { street: RegionCode::new(street) },
        None => Assignee::Department { department: DepartmentId::new(names[0]) },
    }
}
