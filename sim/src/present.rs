//! The present's case feeds: what the next case is that the 12345 hotline, the grassroots
//! platform or a citizen through Open311 delivers (its category, urgency, grid, a point
//! inside the grid, its words from the history's templates), and that case as the source
//! writes it, in its own field names: the inverse of the source's `CaseMapping`, so what
//! the gateway reads back is what was meant.
//!
//! Item `n` of a run depends on the seed, the run and `n` only (times on `now`): the same
//! seed gives the same sequence, and a new run (the server passes its start) new
//! references, so that a restart delivers new cases rather than repeats.

use chrono::{DateTime, TimeDelta, Utc};
use cockpit_events::{CaseMapping, CategoryCode, CategoryTree, Crs, TargetField, Urgency};
use cockpit_geo::{City, Coord, wgs84_to_gcj02};
use rand::Rng;
use serde_json::{Value, json};

use crate::born::{point_in, stream, weighted};
use crate::error::SimError;
use crate::history::{Grid, city_grids};
use crate::names::person_name;
use crate::shape::{self, Channel};
use crate::text;

/// A gateway the present's cases come through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Feed {
    /// The 12345 hotline, through its gateway mapping.
    Hotline,
    /// Grid workers' reports, through the grassroots platform's gateway mapping.
    Grassroots,
    /// Citizens' applications, through Open311 (GeoReport v2).
    Open311,
}

impl Feed {
    /// Every feed.
    pub const ALL: [Feed; 3] = [Feed::Hotline, Feed::Grassroots, Feed::Open311];

    /// The source its cases are stored under.
    pub fn source(self) -> &'static str {
        match self {
            Feed::Hotline => "hotline-12345",
            Feed::Grassroots => "grassroots-platform",
            Feed::Open311 => "open311",
        }
    }

    /// The history's channel whose mixes (categories, urgencies, words) it follows.
    fn channel(self) -> Channel {
        match self {
            Feed::Hotline | Feed::Open311 => Channel::Hotline,
            Feed::Grassroots => Channel::Patrol,
        }
    }

    /// Its share of the feeds' cases, in per mille.
    fn share(self) -> u32 {
        match self {
            Feed::Grassroots => 450,
            Feed::Hotline => 400,
            Feed::Open311 => 150,
        }
    }
}

/// One case a feed delivers.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedItem {
    /// Its place in the run, from 0.
    pub n: u64,
    /// Through which gateway.
    pub feed: Feed,
    /// The source's reference (none for Open311, which answers its own id).
    pub source_ref: Option<String>,
    /// The category meant (the mapping reads it back).
    pub category: CategoryCode,
    /// The urgency meant.
    pub urgency: Urgency,
    /// The grid it is in.
    pub grid: String,
    /// Where, WGS84, inside the grid.
    pub point: Coord,
    /// The title.
    pub title: String,
    /// The description.
    pub description: String,
    /// The address.
    pub address: String,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// The document the source sends: for a gateway source its own JSON, written through
    /// its mapping; for Open311 the request's fields, but the `api_key` the sender adds.
    pub document: Value,
}

/// The feeds of one run.
pub struct Feeds<'a> {
    city: &'a City,
    categories: &'a CategoryTree,
    hotline: Option<&'a CaseMapping>,
    grassroots: Option<&'a CaseMapping>,
    grids: Vec<Grid>,
    grid_weights: Vec<u32>,
    seed: u64,
    run: u64,
}

/// The stream of the feeds' items, apart from the history's days.
const FEED_STREAM: u64 = 1 << 40;

impl<'a> Feeds<'a> {
    /// The feeds of `city` under its `categories`: the hotline and the grassroots platform
    /// through their mappings (a feed without one delivers nothing), Open311 always.
    pub fn new(
        city: &'a City,
        categories: &'a CategoryTree,
        hotline: Option<&'a CaseMapping>,
        grassroots: Option<&'a CaseMapping>,
        seed: u64,
        run: u64,
    ) -> Result<Feeds<'a>, SimError> {
        let (grids, grid_weights) = city_grids(city);
        if grids.is_empty() {
            return Err(SimError::City("grid"));
        }
        Ok(Feeds { city, categories, hotline, grassroots, grids, grid_weights, seed, run })
    }

    /// Item `n` of the run, delivered at `now`.
    pub fn item(&self, n: u64, now: DateTime<Utc>) -> FeedItem {
        let mut rng = stream(self.seed ^ self.run.rotate_left(20), FEED_STREAM + n);
        let weights: Vec<u32> =
            Feed::ALL.iter().map(|f| if self.mapping(*f).is_some() { f.share() } else { 0 }).collect();
        let feed = Feed::ALL[weighted(&mut rng, &weights)];
        let channel = feed.channel();
        let category = self.category(&mut rng, feed);
        let urgency = shape::urgency(weighted(&mut rng, &channel.urgencies(category.as_str())));
        let grid = &self.grids[weighted(&mut rng, &self.grid_weights)];
        let point = point_in(self.city, &mut rng, grid);
        let mut words = text::case_words(&mut rng, channel, category.as_str(), &grid.village);
        if feed == Feed::Open311 {
            // A citizen's application, not a call; and no title: the server takes the
            // description's first thirty characters.
            words.description = words.description.replacen("市民来电反映：", "市民通过手机应用上报：", 1);
            words.title = words.description.chars().take(30).collect();
        }
        let before = if feed == Feed::Grassroots { (1, 30) } else { (5, 240) };
        let occurred_at = now - TimeDelta::minutes(rng.random_range(before.0..=before.1));
        let reporter = person_name(&mut rng);
        let phone = format!("1{}{:09}", [3, 5, 7, 8, 9][rng.random_range(0..5)], rng.random_range(0..1_000_000_000u64));
        let run = self.run % 1_000_000;
        let source_ref = match feed {
            Feed::Hotline => Some(format!("WZ12345-SIM{run:06}-{n:06}")),
            Feed::Grassroots => Some(format!("JCZL-SIM{run:06}-{n:06}")),
            Feed::Open311 => None,
        };
        let mut item = FeedItem {
            n,
            feed,
            source_ref,
            category,
            urgency,
            grid: grid.code.clone(),
            point,
            title: words.title,
            description: words.description,
            address: format!("浙江省温州市瓯海区{}", words.address),
            occurred_at,
            document: Value::Null,
        };
        item.document = match self.mapping(feed) {
            Some(Some(mapping)) => written(mapping, &item, &reporter, &phone, grid.place.street_code()),
            _ => open311(&item, &reporter, &phone),
        };
        item
    }

    /// The feed's mapping: `Some(None)` for Open311, which needs none; `None` for a
    /// gateway feed without one.
    fn mapping(&self, feed: Feed) -> Option<Option<&'a CaseMapping>> {
        match feed {
            Feed::Hotline => self.hotline.map(Some),
            Feed::Grassroots => self.grassroots.map(Some),
            Feed::Open311 => Some(None),
        }
    }

    /// A category the feed can say: its channel's mix, kept to what the source's category
    /// dictionary has (or turns into by `otherwise`), and to leaves for Open311.
    fn category<R: Rng>(&self, rng: &mut R, feed: Feed) -> CategoryCode {
        let sayable = |code: &str| -> bool {
            let Some(category) = self.categories.get(&CategoryCode::new(code)) else { return false };
            match self.mapping(feed) {
                Some(Some(mapping)) => source_code(mapping, code).is_some(),
                _ => self.categories.children(Some(&category.code)).is_empty(),
            }
        };
        let table: Vec<(&str, u32)> =
            feed.channel().categories().iter().copied().filter(|(code, _)| sayable(code)).collect();
        if table.is_empty() {
            // Nothing of the mix: any leaf (every source can say its `otherwise`).
            let leaves = self.categories.leaves();
            return leaves
                .get(rng.random_range(0..leaves.len().max(1)))
                .map_or_else(|| CategoryCode::new("06"), |c| c.code.clone());
        }
        let weights: Vec<u32> = table.iter().map(|(_, w)| *w).collect();
        CategoryCode::new(table[weighted(rng, &weights)].0)
    }
}

/// What the source writes for `category`: the key its dictionary turns into it, a word
/// the dictionary lacks when it is the `otherwise`, the code itself without a dictionary;
/// none when the source cannot say it.
fn source_code(mapping: &CaseMapping, category: &str) -> Option<String> {
    let rule = mapping.fields.get(&TargetField::Category)?;
    if rule.dictionary.is_empty() {
        return Some(category.to_string());
    }
    if let Some((key, _)) = rule.dictionary.iter().find(|(_, v)| v.as_str() == category) {
        return Some(key.clone());
    }
    (rule.otherwise.as_deref() == Some(category)).then(|| "其他".to_string())
}

/// The item as the source writes it: every field its mapping reads, at the mapping's path,
/// in the mapping's form (dictionary keys, coordinate system, time format and offset).
fn written(mapping: &CaseMapping, item: &FeedItem, reporter: &str, phone: &str, street: Option<&str>) -> Value {
    let point = match mapping.crs {
        Crs::Wgs84 => item.point,
        Crs::Gcj02 => wgs84_to_gcj02(item.point),
    };
    let mut document = json!({});
    for (field, rule) in &mapping.fields {
        let Some(path) = &rule.path else { continue };
        let from_dictionary = |meant: &str| {
            rule.dictionary
                .iter()
                .find(|(_, v)| v.as_str() == meant)
                .map_or_else(|| meant.to_string(), |(k, _)| k.clone())
        };
        let value = match field {
            TargetField::SourceRef => item.source_ref.clone().map(Value::from),
            TargetField::Title => Some(Value::from(item.title.clone())),
            TargetField::Description => Some(Value::from(item.description.clone())),
            TargetField::Category => source_code(mapping, item.category.as_str()).map(Value::from),
            TargetField::Urgency => Some(Value::from(from_dictionary(item.urgency.as_str()))),
            TargetField::Tags => None,
            TargetField::ReporterName => Some(Value::from(reporter)),
            TargetField::ReporterPhone => Some(Value::from(phone)),
            TargetField::Address => Some(Value::from(item.address.clone())),
            TargetField::Location => Some(Value::from(format!("{:.6},{:.6}", point.x, point.y))),
            TargetField::Longitude => Some(json!(round6(point.x))),
            TargetField::Latitude => Some(json!(round6(point.y))),
            TargetField::OccurredAt => Some(time(rule.format.as_deref(), mapping.utc_offset_minutes, item.occurred_at)),
            TargetField::RegionHint => street.map(Value::from),
        };
        if let Some(value) = value {
            path.insert(&mut document, value);
        }
    }
    document
}

/// A time in a mapping's format: epoch seconds or milliseconds, a pattern in the source's
/// local time, or RFC 3339.
fn time(format: Option<&str>, offset_minutes: i32, at: DateTime<Utc>) -> Value {
    match format {
        Some("epoch_millis") => json!(at.timestamp_millis()),
        Some("epoch_seconds") => json!(at.timestamp()),
        Some(pattern) => {
            let local = at.naive_utc() + TimeDelta::minutes(i64::from(offset_minutes));
            Value::from(local.format(pattern).to_string())
        }
        None => Value::from(at.to_rfc3339()),
    }
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// An Open311 request's fields (GeoReport v2), but the `api_key`.
fn open311(item: &FeedItem, reporter: &str, phone: &str) -> Value {
    let mut chars = reporter.chars();
    let last: String = chars.next().map(String::from).unwrap_or_default();
    let first: String = chars.collect();
    json!({
        "service_code": item.category.as_str(),
        "lat": round6(item.point.y),
        "long": round6(item.point.x),
        "address_string": item.address,
        "description": item.description,
        "first_name": first,
        "last_name": last,
        "phone": phone,
    })
}
