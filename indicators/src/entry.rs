//! The catalogue people edit: one [`CatalogueEntry`] per indicator, with its names,
//! definition, place among the tender's four systems and sixteen domains, owner, update
//! frequency, target and regions; checked field by field ([`CatalogueEntry::check`]) and
//! searched ([`Search`]).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{Better, IndicatorError, Names};

/// An indicator's id: 1–64 of `a-z`, `0-9`, `_`, `-`, `.`, starting with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IndicatorId(String);

impl IndicatorId {
    /// Checks `id`'s form.
    pub fn new(id: &str) -> Result<IndicatorId, IndicatorError> {
        let well_formed = (1..=64).contains(&id.len())
            && id.bytes().enumerate().all(|(i, b)| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || (i > 0 && matches!(b, b'_' | b'-' | b'.'))
            });
        if well_formed {
            Ok(IndicatorId(id.to_string()))
        } else {
            Err(field("id", "1–64 of a-z, 0-9, _ - . starting with a letter or digit"))
        }
    }

    /// The id's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for IndicatorId {
    type Error = IndicatorError;
    fn try_from(s: String) -> Result<IndicatorId, IndicatorError> {
        IndicatorId::new(&s)
    }
}

impl From<IndicatorId> for String {
    fn from(id: IndicatorId) -> String {
        id.0
    }
}

impl fmt::Display for IndicatorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The tender's four indicator systems (四大指标体系).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum System {
    /// 党政更智治.
    SmartGovernance,
    /// 经济更健康.
    HealthyEconomy,
    /// 城市更宜居.
    LivableCity,
    /// 社会更安全.
    SafeSociety,
}

/// The tender's sixteen domains (16大领域): eight of city management (城市智管), eight of
/// social governance (社会治理).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Domain {
    /// 经济运行.
    Economy,
    /// 文化体育.
    CultureSports,
    /// 医疗健康.
    Health,
    /// 智慧教育.
    Education,
    /// 交通畅行.
    Transport,
    /// 生态环境.
    Environment,
    /// 民生保障.
    Livelihood,
    /// 城市建设.
    Construction,
    /// 矛盾纠纷.
    Disputes,
    /// 诉讼调解.
    Litigation,
    /// 信访维稳.
    Petitions,
    /// 消防安全.
    FireSafety,
    /// 食品药品.
    FoodDrugs,
    /// 社会治安.
    PublicSecurity,
    /// 经济金融.
    Finance,
    /// 劳动欠薪.
    WageArrears,
}

impl System {
    /// Every system, in the tender's order.
    pub const ALL: [System; 4] =
        [System::SmartGovernance, System::HealthyEconomy, System::LivableCity, System::SafeSociety];

    /// The Chinese name.
    pub fn zh(self) -> &'static str {
        match self {
            System::SmartGovernance => "党政更智治",
            System::HealthyEconomy => "经济更健康",
            System::LivableCity => "城市更宜居",
            System::SafeSociety => "社会更安全",
        }
    }
}

impl Domain {
    /// Every domain, in the tender's order.
    pub const ALL: [Domain; 16] = [
        Domain::Economy,
        Domain::CultureSports,
        Domain::Health,
        Domain::Education,
        Domain::Transport,
        Domain::Environment,
        Domain::Livelihood,
        Domain::Construction,
        Domain::Disputes,
        Domain::Litigation,
        Domain::Petitions,
        Domain::FireSafety,
        Domain::FoodDrugs,
        Domain::PublicSecurity,
        Domain::Finance,
        Domain::WageArrears,
    ];

    /// The Chinese name.
    pub fn zh(self) -> &'static str {
        const NAMES: [&str; 16] = [
            "经济运行",
            "文化体育",
            "医疗健康",
            "智慧教育",
            "交通畅行",
            "生态环境",
            "民生保障",
            "城市建设",
            "矛盾纠纷",
            "诉讼调解",
            "信访维稳",
            "消防安全",
            "食品药品",
            "社会治安",
            "经济金融",
            "劳动欠薪",
        ];
        NAMES[Domain::ALL.iter().position(|d| *d == self).unwrap_or(0)]
    }
}

/// How often a value arrives: each value stands for one period of this length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Frequency {
    /// 实时: kept per day (the day's latest value stands for it).
    RealTime,
    /// 每日.
    Daily,
    /// 每月.
    Monthly,
    /// 每季度.
    Quarterly,
    /// 每半年.
    HalfYearly,
    /// 每年.
    Yearly,
}

/// Who keeps an indicator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Owner {
    /// The owner department (责任部门), as the department's name or code.
    pub department: String,
    /// The person in charge (责任人): a username, who may enter values by hand.
    pub person: String,
}

/// One indicator of the catalogue people edit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogueEntry {
    /// Its id.
    pub id: IndicatorId,
    /// Chinese and English names.
    pub name: Names,
    /// What it measures and how (指标定义).
    pub definition: String,
    /// Its system.
    pub system: System,
    /// Its domain.
    pub domain: Domain,
    /// Its unit as shown: `%`, `件`, `万元`, ...
    pub unit: String,
    /// Which way is better.
    pub better: Better,
    /// Its owner department and person.
    pub owner: Owner,
    /// The responsible leader (分管领导).
    pub leader: String,
    /// How often a value arrives.
    pub frequency: Frequency,
    /// The target of each period, if any.
    #[serde(default)]
    pub target: Option<f64>,
    /// The regions it exists for (codes of the district, streets, villages or grids).
    pub regions: Vec<String>,
    /// Whether it may be shown to the public.
    #[serde(default)]
    pub public: bool,
    /// Search words.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Whether it is published (shown on the boards).
    #[serde(default)]
    pub published: bool,
    /// Where the indicator comes from (the sample's: the tender's line).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

fn field(name: &str, reason: &str) -> IndicatorError {
    IndicatorError::Field { field: name.to_string(), reason: reason.to_string() }
}

/// `text` has between `min` and `max` characters after trimming, and no control character.
fn text(name: &str, value: &str, min: usize, max: usize) -> Result<(), IndicatorError> {
    let n = value.trim().chars().count();
    if n < min || value.chars().count() > max {
        return Err(field(name, &format!("{min}–{max} characters")));
    }
    if value.chars().any(char::is_control) {
        return Err(field(name, "no control characters"));
    }
    Ok(())
}

/// Whether `code` has the form of a region code: 6 digits, then 3, 3 and 3 more.
pub fn is_region_code(code: &str) -> bool {
    matches!(code.len(), 6 | 9 | 12 | 15) && code.bytes().all(|b| b.is_ascii_digit())
}

impl CatalogueEntry {
    /// Checks every field serde cannot, naming the first one at fault.
    pub fn check(&self) -> Result<(), IndicatorError> {
        text("name.zh", &self.name.zh, 1, 100)?;
        text("name.en", &self.name.en, 0, 200)?;
        text("definition", &self.definition, 1, 2000)?;
        text("unit", &self.unit, 0, 20)?;
        text("owner.department", &self.owner.department, 1, 100)?;
        text("owner.person", &self.owner.person, 0, 64)?;
        text("leader", &self.leader, 0, 64)?;
        if let Some(source) = &self.source {
            text("source", source, 0, 200)?;
        }
        if self.target.is_some_and(|t| !t.is_finite()) {
            return Err(field("target", "a finite number"));
        }
        if self.regions.is_empty() || self.regions.len() > 2000 {
            return Err(field("regions", "1–2000 region codes"));
        }
        for (i, code) in self.regions.iter().enumerate() {
            if !is_region_code(code) {
                return Err(field(&format!("regions[{i}]"), "a region code (6, 9, 12 or 15 digits)"));
            }
        }
        if self.keywords.len() > 32 {
            return Err(field("keywords", "at most 32"));
        }
        for (i, k) in self.keywords.iter().enumerate() {
            text(&format!("keywords[{i}]"), k, 1, 32)?;
        }
        Ok(())
    }

    /// Whether it exists for `region`: one of its regions is `region` or contains it.
    pub fn covers(&self, region: &str) -> bool {
        self.regions.iter().any(|r| region.starts_with(r.as_str()))
    }
}

/// A search of the catalogue: every condition given must hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Search {
    /// Words found (case-insensitively) in the id, names, definition, keywords, unit or
    /// owner department; all of them, separated by spaces.
    pub q: Option<String>,
    /// Of this system.
    pub system: Option<System>,
    /// Of this domain.
    pub domain: Option<Domain>,
    /// Of this frequency.
    pub frequency: Option<Frequency>,
    /// Published, or not.
    pub published: Option<bool>,
    /// Public, or not.
    pub public: Option<bool>,
}

impl Search {
    /// Whether `e` is found.
    pub fn matches(&self, e: &CatalogueEntry) -> bool {
        let words = self.q.as_deref().unwrap_or("").to_lowercase();
        let found = |w: &str| {
            [e.id.as_str(), &e.name.zh, &e.name.en, &e.definition, &e.unit, &e.owner.department]
                .into_iter()
                .chain(e.keywords.iter().map(String::as_str))
                .any(|t| t.to_lowercase().contains(w))
        };
        words.split_whitespace().all(found)
            && self.system.is_none_or(|s| s == e.system)
            && self.domain.is_none_or(|d| d == e.domain)
            && self.frequency.is_none_or(|f| f == e.frequency)
            && self.published.is_none_or(|p| p == e.published)
            && self.public.is_none_or(|p| p == e.public)
    }
}
