//! Declarative intake mapping: for each source, where in its JSON each field of the
//! standard case comes from ([`FieldPath`]s), dictionaries from its values to ours
//! (category codes, urgency, tags), defaults, and which fields are required. Applying a
//! mapping to a delivered document yields a [`NewCase`] or every field that failed, each
//! with its path and reason, so the source is told everything wrong at once.
//!
//! Example mappings for the 12345 hotline and the grassroots platform live in
//! `data/ouhai/cases/mappings/`.

mod apply;
mod path;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::case::{Crs, Urgency};
use crate::category::CategoryTree;
use crate::error::EventsError;
use crate::ids::{CategoryCode, SourceId};

pub use path::FieldPath;

/// A source's mapping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseMapping {
    /// The source it applies to.
    pub source: SourceId,
    /// The coordinate system the source sends (default WGS84).
    #[serde(default)]
    pub crs: Crs,
    /// The UTC offset, in minutes, of timestamps the source sends without one
    /// (default 480, China Standard Time).
    #[serde(default = "china_offset")]
    pub utc_offset_minutes: i32,
    /// Where each case field comes from. `description` and `category` must resolve;
    /// `title` defaults to the start of the description, `urgency` to normal,
    /// `occurred_at` to the time of receipt. The point comes from `location` (a
    /// `"lng,lat"` string or a `[lng, lat]` array) or from `longitude` and `latitude`.
    pub fields: BTreeMap<TargetField, FieldRule>,
}

fn china_offset() -> i32 {
    8 * 60
}

/// The fields of a [`NewCase`](crate::NewCase) a mapping can fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetField {
    /// The case's id in the source.
    SourceRef,
    /// A short title.
    Title,
    /// The description.
    Description,
    /// The category code (usually through a dictionary).
    Category,
    /// The urgency (`normal`, `urgent`, `critical`, usually through a dictionary).
    Urgency,
    /// Tags: a list, or one text with labels separated by commas.
    Tags,
    /// The reporter's name.
    ReporterName,
    /// The reporter's phone.
    ReporterPhone,
    /// The address.
    Address,
    /// Longitude and latitude together.
    Location,
    /// Longitude alone.
    Longitude,
    /// Latitude alone.
    Latitude,
    /// When it happened.
    OccurredAt,
    /// A region code the source gives.
    RegionHint,
}

impl TargetField {
    /// The field's name, as error messages give it.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetField::SourceRef => "source_ref",
            TargetField::Title => "title",
            TargetField::Description => "description",
            TargetField::Category => "category",
            TargetField::Urgency => "urgency",
            TargetField::Tags => "tags",
            TargetField::ReporterName => "reporter_name",
            TargetField::ReporterPhone => "reporter_phone",
            TargetField::Address => "address",
            TargetField::Location => "location",
            TargetField::Longitude => "longitude",
            TargetField::Latitude => "latitude",
            TargetField::OccurredAt => "occurred_at",
            TargetField::RegionHint => "region_hint",
        }
    }
}

/// Where one field comes from and how its value is translated.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldRule {
    /// The path in the source document; without one, the field is the default.
    #[serde(default)]
    pub path: Option<FieldPath>,
    /// Refuse the document when the value is absent (null and blank text count as
    /// absent) and there is no default.
    #[serde(default)]
    pub required: bool,
    /// The value used when the source gives none (taken before the dictionary).
    #[serde(default)]
    pub default: Option<Value>,
    /// Source values (as text) → our values. When not empty, every value must be in it
    /// unless `otherwise` is set.
    #[serde(default)]
    pub dictionary: BTreeMap<String, String>,
    /// Our value for source values missing from the dictionary (`06`, "other", say).
    #[serde(default)]
    pub otherwise: Option<String>,
    /// For `occurred_at`: a chrono format for local time at `utc_offset_minutes`
    /// (`%Y-%m-%d %H:%M:%S`), or `epoch_seconds` / `epoch_millis`; RFC 3339 without it.
    #[serde(default)]
    pub format: Option<String>,
}

impl CaseMapping {
    /// Reads a mapping from its JSON text and checks it against the category tree.
    pub fn from_json(text: &str, categories: &CategoryTree) -> Result<CaseMapping, EventsError> {
        let mapping: CaseMapping = serde_json::from_str(text)
            .map_err(|error| EventsError::InvalidConfig { what: "case mapping", reason: error.to_string() })?;
        mapping.check(categories)?;
        Ok(mapping)
    }

    /// Refuses a mapping whose dictionaries name categories or urgencies that do not
    /// exist, whose UTC offset is a day or more, or that gives the point both as `location` and as separate coordinates.
    pub fn check(&self, categories: &CategoryTree) -> Result<(), EventsError> {
        let invalid = |reason: String| EventsError::InvalidConfig { what: "case mapping", reason };
        let targets = |field| {
            self.fields.get(&field).into_iter().flat_map(|rule| rule.dictionary.values().chain(&rule.otherwise))
        };
        if let Some(code) =
            targets(TargetField::Category).find(|code| categories.get(&CategoryCode::new(*code)).is_none())
        {
            return Err(invalid(format!("category dictionary names unknown category {code}")));
        }
        if let Some(name) = targets(TargetField::Urgency).find(|name| Urgency::parse(name).is_none()) {
            return Err(invalid(format!("urgency dictionary names unknown urgency {name:?}")));
        }
        if self.utc_offset_minutes.abs() >= 24 * 60 {
            return Err(invalid(format!("UTC offset of {} minutes", self.utc_offset_minutes)));
        }
        let separate =
            self.fields.contains_key(&TargetField::Longitude) || self.fields.contains_key(&TargetField::Latitude);
        if self.fields.contains_key(&TargetField::Location) && separate {
            return Err(invalid("the point is mapped both as location and as longitude/latitude".into()));
        }
        Ok(())
    }
}
