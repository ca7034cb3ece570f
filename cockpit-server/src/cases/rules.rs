//! The city's case configuration, read from `<data_dir>/cases/` at start:
//! `categories.json` (the category tree with time limits), `dispatch-rules.json`,
//! `calendar.json` (office hours, holidays, make-up working days) and `sources.json`
//! (sources, their tokens, rates and field mappings under `mappings/`).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, RwLock};

use anyhow::Context;
use cockpit_events::{
    CalendarConfig, CaseMapping, Category, CategoryTree, DeadlinePolicy, DispatchRule, DispatchRules, DuplicatePolicy,
    SourceKind, WorkingCalendar,
};
use serde::Deserialize;

/// One source as configured.
#[allow(missing_docs)] // One field per column or setting; see migrations/0001_cases.sql and the config.
#[derive(Debug, Clone)]
pub struct SourceConfig {
    pub id: String,
    pub name: String,
    pub kind: SourceKind,
    /// SHA-256 (hex) of a bearer token configured in `sources.json`. Without one, a
    /// gateway source gets a generated token at the first start (`bootstrap_tokens`),
    /// kept hashed in the database only.
    pub token_sha256: Option<String>,
    pub rate_per_minute: u32,
    pub mapping: Option<CaseMapping>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    id: String,
    name: String,
    kind: SourceKind,
    #[serde(default)]
    token: Option<String>,
    #[serde(default = "default_rate")]
    rate_per_minute: u32,
    #[serde(default)]
    mapping: Option<String>,
}

fn default_rate() -> u32 {
    600
}

/// Everything the service needs to judge a case.
#[allow(missing_docs)] // One field per column or setting; see migrations/0001_cases.sql and the config.
#[derive(Debug, Clone)]
pub struct CaseRules {
    pub categories: CategoryTree,
    pub dispatch: DispatchRules,
    pub calendar: WorkingCalendar,
    /// The calendar as configured (the working calendar is built from it).
    pub calendar_config: CalendarConfig,
    pub deadlines: DeadlinePolicy,
    pub duplicates: DuplicatePolicy,
    pub sources: BTreeMap<String, SourceConfig>,
}

impl CaseRules {
    /// The configured gateway sources, as the store keeps them.
    pub fn source_records(&self) -> Vec<cockpit_store::SourceRecord> {
        self.sources
            .values()
            .map(|source| cockpit_store::SourceRecord {
                id: source.id.clone(),
                name: source.name.clone(),
                kind: serde_json::to_value(source.kind).ok().and_then(|v| v.as_str().map(str::to_string)),
                token_sha256: source.token_sha256.clone(),
                mapping: source.mapping.as_ref().and_then(|m| serde_json::to_value(m).ok()),
                rate_per_minute: i32::try_from(source.rate_per_minute).unwrap_or(i32::MAX),
            })
            .collect()
    }

    /// Reads `<dir>/cases/`.
    pub fn load(dir: &Path, deadlines: DeadlinePolicy, duplicates: DuplicatePolicy) -> anyhow::Result<CaseRules> {
        let dir = dir.join("cases");
        let read = |name: &str| {
            std::fs::read_to_string(dir.join(name)).with_context(|| format!("reading {}", dir.join(name).display()))
        };
        let categories: Vec<Category> = serde_json::from_str(&read("categories.json")?).context("categories.json")?;
        let categories = CategoryTree::new(categories).context("categories.json")?;
        let rules: Vec<DispatchRule> =
            serde_json::from_str(&read("dispatch-rules.json")?).context("dispatch-rules.json")?;
        let dispatch = DispatchRules::new(rules).context("dispatch-rules.json")?;
        let calendar_config: CalendarConfig = serde_json::from_str(&read("calendar.json")?).context("calendar.json")?;
        let calendar = WorkingCalendar::new(&calendar_config).context("calendar.json")?;
        let raw: Vec<RawSource> = serde_json::from_str(&read("sources.json")?).context("sources.json")?;
        let mut sources = BTreeMap::new();
        for source in raw {
            let mapping = match &source.mapping {
                Some(file) => Some(
                    CaseMapping::from_json(&read(file)?, &categories)
                        .with_context(|| format!("mapping {file} of source {}", source.id))?,
                ),
                None => None,
            };
            if let Some(token) = &source.token {
                check_configured_token(&source.id, token)?;
            }
            let token_sha256 = source.token.as_deref().map(cockpit_access::token_digest);
            sources.insert(
                source.id.clone(),
                SourceConfig {
                    id: source.id,
                    name: source.name,
                    kind: source.kind,
                    token_sha256,
                    rate_per_minute: source.rate_per_minute.max(1),
                    mapping,
                },
            );
        }
        for required in ["manual", "third-party", "alarm"] {
            anyhow::ensure!(
                sources.contains_key(required),
                "sources.json must define the built-in source `{required}`"
            );
        }
        Ok(CaseRules { categories, dispatch, calendar, calendar_config, deadlines, duplicates, sources })
    }

    /// The editable documents: the three of [`DOCUMENTS`], and `mapping:<source>` for each
    /// source that may call the gateway.
    pub fn document_names(&self) -> Vec<String> {
        let mut names: Vec<String> = DOCUMENTS.iter().map(|d| d.to_string()).collect();
        names.extend(self.sources.values().filter(|s| s.mapping.is_some()).map(|s| format!("mapping:{}", s.id)));
        names
    }

    /// An editable document as JSON, in the form of its file under `cases/`.
    pub fn document(&self, name: &str) -> Option<serde_json::Value> {
        if let Some(source) = name.strip_prefix("mapping:") {
            return self.sources.get(source)?.mapping.as_ref().and_then(|m| serde_json::to_value(m).ok());
        }
        match name {
            "categories" => serde_json::to_value(&self.categories).ok(),
            "dispatch-rules" => serde_json::to_value(&self.dispatch).ok(),
            "calendar" => serde_json::to_value(&self.calendar_config).ok(),
            _ => None,
        }
    }

    /// These rules with one document replaced, checked as the file would be at start; the
    /// error says what is wrong with the document.
    pub fn with_document(&self, name: &str, body: &serde_json::Value) -> Result<CaseRules, String> {
        let mut next = self.clone();
        if let Some(id) = name.strip_prefix("mapping:") {
            let categories = next.categories.clone();
            let source = next.sources.get_mut(id).ok_or_else(|| format!("there is no source `{id}`"))?;
            source.mapping = Some(CaseMapping::from_json(&body.to_string(), &categories).map_err(|e| e.to_string())?);
            return Ok(next);
        }
        match name {
            "categories" => {
                let categories: Vec<Category> = serde_json::from_value(body.clone()).map_err(|e| e.to_string())?;
                next.categories = CategoryTree::new(categories).map_err(|e| e.to_string())?;
            }
            "dispatch-rules" => {
                let rules: Vec<DispatchRule> = serde_json::from_value(body.clone()).map_err(|e| e.to_string())?;
                next.dispatch = DispatchRules::new(rules).map_err(|e| e.to_string())?;
            }
            "calendar" => {
                let config: CalendarConfig = serde_json::from_value(body.clone()).map_err(|e| e.to_string())?;
                next.calendar = WorkingCalendar::new(&config).map_err(|e| e.to_string())?;
                next.calendar_config = config;
            }
            other => return Err(format!("there is no document `{other}`; the documents are {}", DOCUMENTS.join(", "))),
        }
        Ok(next)
    }
}

/// The shortest bearer token a source may be configured with: 32 characters, as long as a
/// generated one.
pub const MIN_SOURCE_TOKEN_LEN: usize = 32;

/// Refuses a configured source token that anyone could guess: a short one, or one of the
/// samples that were once printed in the README and `sources.json`.
fn check_configured_token(source: &str, token: &str) -> anyhow::Result<()> {
    const KNOWN_SAMPLES: [&str; 3] = ["sample-token", "changeme", "example"];
    let lower = token.to_ascii_lowercase();
    anyhow::ensure!(
        !KNOWN_SAMPLES.iter().any(|s| lower.contains(s)),
        "sources.json: the token of source `{source}` is a published sample; remove it (a token is then \
         generated at the first start) or configure a secret one"
    );
    anyhow::ensure!(
        token.chars().count() >= MIN_SOURCE_TOKEN_LEN,
        "sources.json: the token of source `{source}` is shorter than {MIN_SOURCE_TOKEN_LEN} characters; \
         remove it (a token is then generated at the first start) or configure a longer one"
    );
    Ok(())
}

/// The documents of the case rules an operator may edit through the API (stored in
/// `config_documents`, laid over the files of `cases/` at start and on every change).
pub const DOCUMENTS: [&str; 3] = ["categories", "dispatch-rules", "calendar"];

/// The stored names of the case rules' documents start with one of these.
pub const PREFIXES: [&str; 4] = ["categories", "dispatch-rules", "calendar", "mapping:"];

/// The case rules in force: replaced whole when an operator edits a document, read by
/// each request as it starts.
#[derive(Debug, Clone)]
pub struct RulesHandle(Arc<RwLock<Arc<CaseRules>>>);

impl RulesHandle {
    /// A handle on `rules`.
    pub fn new(rules: CaseRules) -> RulesHandle {
        RulesHandle(Arc::new(RwLock::new(Arc::new(rules))))
    }

    /// The rules as they are now.
    pub fn get(&self) -> Arc<CaseRules> {
        match self.0.read() {
            Ok(rules) => rules.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Puts `rules` in force.
    pub fn set(&self, rules: CaseRules) {
        let rules = Arc::new(rules);
        match self.0.write() {
            Ok(mut slot) => *slot = rules,
            Err(poisoned) => *poisoned.into_inner() = rules,
        }
    }
}
