//! The case (事件) and what describes it: where it came from, its category, urgency and
//! tags, its place, its reporter. [`NewCase`] is what intake produces; [`Case`] is the
//! stored record the server keeps in its `cases` table, one field per column (the
//! lifecycle part lives in [`CaseState`]).

use chrono::{DateTime, Utc};
use cockpit_geo::Place;
use serde::{Deserialize, Serialize};

use crate::deadline::Deadline;
use crate::error::EventsError;
use crate::ids::{CaseId, CategoryCode, RegionCode, SourceId, SourceRef};
use crate::state::CaseState;

/// A system or channel that delivers cases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// The source's stable slug, used in mappings and idempotency keys.
    pub id: SourceId,
    /// The name shown to people (`12345 政务服务热线`).
    pub name: String,
    /// What kind of channel it is.
    pub kind: SourceKind,
    /// A disabled source's deliveries are refused at the gateway.
    pub enabled: bool,
}

/// The kinds of channel a case can come through (the tender's entry paths).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// The 12345 citizen hotline.
    Hotline,
    /// The grassroots governance "four platforms" (基层治理四平台).
    GrassrootsPlatform,
    /// Police non-emergency referrals.
    Police,
    /// Public-opinion monitoring.
    PublicOpinion,
    /// A third party that submits cases for approval (提报).
    ThirdParty,
    /// Alarms from sensors and indicators.
    Alarm,
    /// Created by hand in the workbench or the mobile app.
    Manual,
}

/// How urgent a case is (轻重缓急); with the category it selects the time limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    /// 一般: the category's ordinary time limit.
    Normal,
    /// 紧急.
    Urgent,
    /// 特急: life or property at immediate risk.
    Critical,
}

impl Urgency {
    /// Every level, least urgent first.
    pub const ALL: [Urgency; 3] = [Urgency::Normal, Urgency::Urgent, Urgency::Critical];

    /// The name stored in the database and used in configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Urgency::Normal => "normal",
            Urgency::Urgent => "urgent",
            Urgency::Critical => "critical",
        }
    }

    /// Parses a stored name.
    pub fn parse(name: &str) -> Option<Urgency> {
        Urgency::ALL.into_iter().find(|u| u.as_str() == name)
    }
}

/// A label on a case. The three the tender names are built in; cities add their own.
/// Stored as plain text (`difficult`, `emergency`, `sensitive`, or the custom label).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum Tag {
    /// 疑难: hard to resolve, needs coordination.
    Difficult,
    /// 应急: an emergency.
    Emergency,
    /// 敏感: politically or socially sensitive (also set by the keyword scan).
    Sensitive,
    /// Any label a city configures.
    Custom(String),
}

impl Tag {
    /// The stored text of the tag.
    pub fn as_str(&self) -> &str {
        match self {
            Tag::Difficult => "difficult",
            Tag::Emergency => "emergency",
            Tag::Sensitive => "sensitive",
            Tag::Custom(label) => label,
        }
    }
}

impl From<String> for Tag {
    /// Reads a tag by its English or Chinese name; anything else is custom.
    fn from(text: String) -> Tag {
        match text.as_str() {
            "difficult" | "疑难" => Tag::Difficult,
            "emergency" | "应急" => Tag::Emergency,
            "sensitive" | "敏感" => Tag::Sensitive,
            _ => Tag::Custom(text),
        }
    }
}

impl From<Tag> for String {
    fn from(tag: Tag) -> String {
        tag.as_str().to_owned()
    }
}

/// A point in degrees. Stored cases are WGS84 (SRID 4326); see [`Crs`] for intake.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct GeoPoint {
    /// Longitude, −180..=180.
    #[cfg_attr(feature = "schema", schema(minimum = -180.0, maximum = 180.0))]
    pub lon: f64,
    /// Latitude, −90..=90.
    #[cfg_attr(feature = "schema", schema(minimum = -90.0, maximum = 90.0))]
    pub lat: f64,
}

impl GeoPoint {
    /// A point, refused when a coordinate is not finite or out of range.
    pub fn new(lon: f64, lat: f64) -> Result<GeoPoint, EventsError> {
        if lon.is_finite() && lat.is_finite() && lon.abs() <= 180.0 && lat.abs() <= 90.0 {
            Ok(GeoPoint { lon, lat })
        } else {
            Err(EventsError::CoordinatesOutOfRange { lon, lat })
        }
    }
}

/// The coordinate system a source sends. The server converts GCJ-02 to WGS84 with the
/// geography crate before storing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Crs {
    /// WGS84 (GPS), what we store.
    #[default]
    Wgs84,
    /// GCJ-02, used by AMap/Gaode and Tencent maps.
    Gcj02,
}

/// Who reported the case. Every field is personal data: the server seals it at rest and
/// masks it for everyone without the permission to see it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Reporter {
    /// The caller's or reporter's name.
    pub name: Option<String>,
    /// Their phone number.
    pub phone: Option<String>,
    /// Their resident ID number (身份证号), when a source sends it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_number: Option<String>,
    /// Their own address (not the case's), when a source sends it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

/// A case as intake produces it, before it is stored, tagged with regions and given a
/// deadline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewCase {
    /// Where it came from.
    pub source: SourceId,
    /// Its id in the source system, when the source has one.
    pub source_ref: Option<SourceRef>,
    /// A short title.
    pub title: String,
    /// What happened, in the reporter's words.
    pub description: String,
    /// Its category in the configured tree.
    pub category: CategoryCode,
    /// How urgent it is.
    pub urgency: Urgency,
    /// Labels, without repeats.
    pub tags: Vec<Tag>,
    /// Where it happened, in `crs`.
    pub location: Option<GeoPoint>,
    /// The coordinate system of `location`.
    pub crs: Crs,
    /// The address as given.
    pub address: Option<String>,
    /// Who reported it.
    pub reporter: Option<Reporter>,
    /// When it happened (or was received, when the source does not say).
    pub occurred_at: DateTime<Utc>,
    /// A region code the source itself gives (a street code, say); the server still tags
    /// the point, and compares.
    pub region_hint: Option<RegionCode>,
}

/// The bounds every new case keeps, whichever way it came in: a source or a client may
/// send anything, and a case with ten thousand tags or a date in the year 9999 would
/// break every list, export and statistic after it.
pub mod limits {
    /// Tags on one case.
    pub const MAX_TAGS: usize = 20;
    /// Characters in one tag.
    pub const MAX_TAG_CHARS: usize = 32;
    /// Characters in a title.
    pub const MAX_TITLE_CHARS: usize = 200;
    /// Characters in a description.
    pub const MAX_DESCRIPTION_CHARS: usize = 4000;
    /// Characters in an address.
    pub const MAX_ADDRESS_CHARS: usize = 500;
    /// How far after its receipt a case may say it happened (clocks differ).
    pub const MAX_FUTURE_MINUTES: i64 = 10;
    /// How long before its receipt a case may say it happened.
    pub const MAX_PAST_DAYS: i64 = 5 * 366;
}

impl NewCase {
    /// Checks the bounds of [`limits`] at `received_at`: the field and why, for the first
    /// one broken.
    pub fn check_limits(&self, received_at: DateTime<Utc>) -> Result<(), (&'static str, String)> {
        use limits::*;
        let chars = |s: &str| s.chars().count();
        if self.tags.len() > MAX_TAGS {
            return Err(("tags", format!("{} tags: at most {MAX_TAGS}", self.tags.len())));
        }
        if let Some(tag) = self.tags.iter().find(|t| chars(t.as_str()) > MAX_TAG_CHARS) {
            let start: String = tag.as_str().chars().take(10).collect();
            return Err(("tags", format!("`{start}…` is longer than {MAX_TAG_CHARS} characters")));
        }
        if chars(&self.title) > MAX_TITLE_CHARS {
            return Err(("title", format!("is longer than {MAX_TITLE_CHARS} characters")));
        }
        if chars(&self.description) > MAX_DESCRIPTION_CHARS {
            return Err(("description", format!("is longer than {MAX_DESCRIPTION_CHARS} characters")));
        }
        if self.address.as_deref().is_some_and(|a| chars(a) > MAX_ADDRESS_CHARS) {
            return Err(("address", format!("is longer than {MAX_ADDRESS_CHARS} characters")));
        }
        if self.occurred_at > received_at + chrono::TimeDelta::minutes(MAX_FUTURE_MINUTES) {
            return Err(("occurred_at", format!("{} is in the future", self.occurred_at.to_rfc3339())));
        }
        if self.occurred_at < received_at - chrono::TimeDelta::days(MAX_PAST_DAYS) {
            return Err(("occurred_at", format!("{} is more than five years ago", self.occurred_at.to_rfc3339())));
        }
        Ok(())
    }
}

/// A stored case: one field per column of the server's `cases` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    /// Its id.
    pub id: CaseId,
    /// What intake produced, with the location converted to WGS84.
    pub intake: NewCase,
    /// The regions containing its point, as tagged at intake.
    pub regions: Place,
    /// When the case was created here.
    pub created_at: DateTime<Utc>,
    /// When it must be handled by, once the clock started.
    pub deadline: Option<Deadline>,
    /// Whether the deadline has passed while the case was open.
    pub overdue: bool,
    /// The open case this one duplicates, when intake linked it.
    pub duplicate_of: Option<CaseId>,
    /// Where it is in the lifecycle.
    pub state: CaseState,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_read_english_and_chinese_names() {
        let check = |text: &str, expected: Tag| {
            assert_eq!(Tag::from(text.to_owned()), expected, "{text}");
            let json = serde_json::to_string(&expected).unwrap();
            assert_eq!(serde_json::from_str::<Tag>(&json).unwrap(), expected);
        };
        check("difficult", Tag::Difficult);
        check("疑难", Tag::Difficult);
        check("应急", Tag::Emergency);
        check("sensitive", Tag::Sensitive);
        check("重点人员", Tag::Custom("重点人员".into()));
    }

    #[test]
    fn points_out_of_range_are_refused() {
        assert!(GeoPoint::new(120.65, 28.01).is_ok());
        assert!(GeoPoint::new(-180.0, 90.0).is_ok());
        for (lon, lat) in [(180.1, 0.0), (0.0, -90.5), (f64::NAN, 0.0), (0.0, f64::INFINITY)] {
            assert!(GeoPoint::new(lon, lat).is_err(), "{lon},{lat}");
        }
    }

    #[test]
    fn urgency_names_round_trip() {
        for urgency in Urgency::ALL {
            assert_eq!(Urgency::parse(urgency.as_str()), Some(urgency));
        }
        assert_eq!(Urgency::parse("紧急"), None);
    }
}
