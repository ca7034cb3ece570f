//! The IoT rules an operator edits while the server runs: `device-rules` (the alarm rules,
//! the form of `iot/rules.json`) and `detections` (which camera detections open a case,
//! the form of `iot/detections.json`). Checked as the files are at start, stored as
//! documents, and handed to the shards, which keep the state of the rules that stay.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use anyhow::Context;
use cockpit_events::{CategoryCode, Urgency};
use cockpit_iot::{EventKind, Rule, RuleEngine};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::watch;

use crate::cases::RulesHandle;
use crate::documents::{self, DocumentError};
use cockpit_store::{AuditActor, Store, StoreError};

/// A rule as the city writes it: the `cockpit-iot` rule and, optionally, the case its
/// alarms open.
#[derive(Debug, Clone, Deserialize)]
pub struct RuleEntry {
    /// The rule.
    #[serde(flatten)]
    pub rule: Rule,
    /// The case to open.
    #[serde(default)]
    pub case: Option<CaseMapping>,
}

/// What case an alarm opens.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CaseMapping {
    /// A category code of the case tree.
    pub category: String,
    /// `normal`, `urgent` or `critical`.
    pub urgency: String,
    /// The case's title.
    pub title: String,
}

/// Loads the rules file.
pub fn load_rules(path: &std::path::Path) -> anyhow::Result<Vec<RuleEntry>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

/// The editable IoT documents.
pub const DOCUMENTS: [&str; 2] = ["device-rules", "detections"];

/// A camera detection that opens a case: of `kind`, at least `min_confidence` sure. One
/// case per camera and kind per `cooldown_seconds` (a camera reports what it sees every
/// few seconds).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Detection {
    /// What was detected.
    pub kind: EventKind,
    /// The least confidence, 0 to 1.
    #[serde(default = "default_confidence")]
    pub min_confidence: f64,
    /// One case per camera and kind within this many seconds.
    #[serde(default = "default_cooldown")]
    pub cooldown_seconds: i64,
    /// The case to open.
    pub case: CaseMapping,
}

fn default_confidence() -> f64 {
    0.8
}

fn default_cooldown() -> i64 {
    600
}

/// What the shards judge by.
pub(crate) struct RuleSet {
    /// The alarm rules, for the engine.
    pub engine: Vec<Rule>,
    /// The case mapping of each rule.
    pub cases: HashMap<cockpit_iot::RuleId, Option<CaseMapping>>,
    /// By kind.
    pub detections: HashMap<EventKind, Detection>,
}

impl RuleSet {
    /// Reads and checks the two documents against the case categories.
    fn parse(rules: &Value, detections: &Value, categories: &RulesHandle) -> Result<RuleSet, String> {
        let entries: Vec<RuleEntry> = serde_json::from_value(rules.clone()).map_err(|e| e.to_string())?;
        let list: Vec<Detection> = serde_json::from_value(detections.clone()).map_err(|e| e.to_string())?;
        let engine: Vec<Rule> = entries.iter().map(|r| r.rule.clone()).collect();
        RuleEngine::new(engine.clone()).map_err(|e| e.to_string())?;
        let rules = categories.get();
        let check = |what: String, case: &CaseMapping| -> Result<(), String> {
            if rules.categories.get(&CategoryCode::new(case.category.clone())).is_none() {
                return Err(format!("{what}: case category `{}` is not configured", case.category));
            }
            if Urgency::parse(&case.urgency).is_none() {
                return Err(format!("{what}: urgency `{}` is not normal, urgent or critical", case.urgency));
            }
            if case.title.trim().is_empty() {
                return Err(format!("{what}: the case needs a title"));
            }
            Ok(())
        };
        for entry in &entries {
            if let Some(case) = &entry.case {
                check(format!("rule {}", entry.rule.id), case)?;
            }
        }
        let mut by_kind = HashMap::new();
        for detection in list {
            let what = format!("detection {}", serde_json::to_value(detection.kind).unwrap_or_default());
            check(what.clone(), &detection.case)?;
            if !(0.0..=1.0).contains(&detection.min_confidence) {
                return Err(format!("{what}: min_confidence must be between 0 and 1"));
            }
            if detection.cooldown_seconds < 1 {
                return Err(format!("{what}: cooldown_seconds must be at least 1"));
            }
            if by_kind.insert(detection.kind, detection).is_some() {
                return Err(format!("{what} appears twice"));
            }
        }
        let cases = entries.iter().map(|r| (r.rule.id.clone(), r.case.clone())).collect();
        Ok(RuleSet { engine: entries.into_iter().map(|r| r.rule).collect(), cases, detections: by_kind })
    }
}

/// The files' documents, the stored edits, and the channel the shards follow.
#[derive(Clone)]
pub struct IotRules {
    base: Arc<[Value; 2]>,
    in_force: Arc<std::sync::RwLock<[Value; 2]>>,
    categories: RulesHandle,
    store: Store,
    version: Arc<AtomicI64>,
    pub(crate) sender: Arc<watch::Sender<Arc<RuleSet>>>,
}

impl IotRules {
    /// Reads the files (`detections` is optional), lays the stored edits over them, and
    /// checks the result. The receiver the shards follow.
    pub(crate) async fn start(
        rules_file: &Path,
        detections_file: &Path,
        categories: RulesHandle,
        store: Store,
    ) -> anyhow::Result<(IotRules, watch::Receiver<Arc<RuleSet>>)> {
        let read = |path: &Path| -> anyhow::Result<Value> {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
        };
        let rules = read(rules_file)?;
        let detections = if detections_file.exists() { read(detections_file)? } else { Value::Array(Vec::new()) };
        let set = RuleSet::parse(&rules, &detections, &categories)
            .map_err(|e| anyhow::anyhow!("{} / {}: {e}", rules_file.display(), detections_file.display()))?;
        let (sender, receiver) = watch::channel(Arc::new(set));
        let base = Arc::new([rules, detections]);
        let this = IotRules {
            in_force: Arc::new(std::sync::RwLock::new((*base).clone())),
            base,
            categories,
            store,
            version: Arc::new(AtomicI64::new(0)),
            sender: Arc::new(sender),
        };
        this.reload().await?;
        Ok((this, receiver))
    }

    /// Document `name` as in force.
    pub fn document(&self, name: &str) -> Option<Value> {
        let i = DOCUMENTS.iter().position(|d| *d == name)?;
        let in_force = self.in_force.read().unwrap_or_else(|p| p.into_inner());
        Some(in_force[i].clone())
    }

    /// Each document as in force, with who last changed it.
    pub async fn current(&self) -> Result<Value, StoreError> {
        let stored = self.stored().await?;
        Ok(documents::describe(DOCUMENTS.iter().map(|n| (*n, self.document(n))), &stored))
    }

    /// The stored edits of the IoT documents.
    pub async fn stored(&self) -> Result<Vec<documents::StoredDocument>, StoreError> {
        self.store.documents(&DOCUMENTS).await
    }

    /// Checks `body` as document `name` with the other in force, stores it with its audit
    /// record, and hands the rules to the shards. The new version.
    pub async fn put(&self, name: &str, body: &Value, who: AuditActor) -> Result<i64, DocumentError> {
        let invalid = |reason: String| DocumentError::Invalid { name: name.to_string(), reason };
        let i = DOCUMENTS
            .iter()
            .position(|d| *d == name)
            .ok_or_else(|| invalid(format!("is not a document; the documents are {}", DOCUMENTS.join(", "))))?;
        let mut next = self.in_force.read().unwrap_or_else(|p| p.into_inner()).clone();
        next[i] = body.clone();
        RuleSet::parse(&next[0], &next[1], &self.categories).map_err(invalid)?;
        let version = self.store.put_document(name, body, who).await?;
        self.reload().await?;
        Ok(version)
    }

    /// Lays the stored edits over the files and hands the result to the shards. An edit
    /// that no longer checks (the categories changed under it) is skipped with a warning.
    pub async fn reload(&self) -> Result<(), StoreError> {
        let stored = self.stored().await?;
        let mut next = (*self.base).clone();
        for document in &stored {
            let Some(i) = DOCUMENTS.iter().position(|d| *d == document.name) else { continue };
            let mut attempt = next.clone();
            attempt[i] = document.body.clone();
            match RuleSet::parse(&attempt[0], &attempt[1], &self.categories) {
                Ok(_) => next = attempt,
                Err(reason) => tracing::warn!(
                    document = %document.name,
                    version = document.version,
                    %reason,
                    "a stored IoT rules document does not check; the file's stays in force"
                ),
            }
        }
        if let Ok(set) = RuleSet::parse(&next[0], &next[1], &self.categories) {
            self.sender.send_replace(Arc::new(set));
            *self.in_force.write().unwrap_or_else(|p| p.into_inner()) = next;
        }
        self.version.store(stored.iter().map(|d| d.version).max().unwrap_or(0), Ordering::Relaxed);
        Ok(())
    }

    /// Follows edits made through other instances until `stop` turns true.
    pub async fn follow(self, every: Duration, stop: watch::Receiver<bool>) {
        let version = self.version.clone();
        documents::follow(&self.store.clone(), &DOCUMENTS, every, stop, version, "IoT rules", || self.reload()).await;
    }
}
