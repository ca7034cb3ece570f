//! The case rules an operator edits while the server runs: each document (`categories`,
//! `dispatch-rules`, `calendar`) is checked as its file would be at start, stored in
//! `config_documents` with its audit record in one transaction, and laid over the rules
//! read from the files. Every instance notices a change by the documents' largest version
//! (polled) and rebuilds its rules the same way, so all of them agree within a poll.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::watch;

use super::rules::{CaseRules, PREFIXES, RulesHandle};
use crate::documents::{self, DocumentError, StoredDocument};
use cockpit_store::{AuditActor, Store, StoreError};

/// The rules from the files, the handle every request reads, and the version in force.
#[derive(Debug, Clone)]
pub struct RuleDocuments {
    base: Arc<CaseRules>,
    handle: RulesHandle,
    store: Store,
    version: Arc<AtomicI64>,
}

impl RuleDocuments {
    /// Lays the stored documents over `base` (the files) and puts the result in force. A
    /// stored document that no longer checks (after an upgrade, say) is skipped with a
    /// warning: the file's version stays in force.
    pub async fn start(base: CaseRules, store: Store) -> Result<RuleDocuments, StoreError> {
        let documents = RuleDocuments {
            handle: RulesHandle::new(base.clone()),
            base: Arc::new(base),
            store,
            version: Arc::new(AtomicI64::new(0)),
        };
        documents.reload().await?;
        Ok(documents)
    }

    /// The handle on the rules in force.
    pub fn handle(&self) -> RulesHandle {
        self.handle.clone()
    }

    /// Every stored document.
    pub async fn stored(&self) -> Result<Vec<StoredDocument>, StoreError> {
        self.store.documents(&PREFIXES).await
    }

    /// Each editable document as in force, with who last changed it (none: the file's).
    pub async fn current(&self) -> Result<Value, StoreError> {
        let stored = self.stored().await?;
        let rules = self.handle.get();
        let names = rules.document_names();
        Ok(documents::describe(names.iter().map(|n| (n.as_str(), rules.document(n))), &stored))
    }

    /// Checks `body` as document `name`, stores it with its audit record, and puts the
    /// rules in force. The new version.
    pub async fn put(&self, name: &str, body: &Value, who: AuditActor) -> Result<i64, DocumentError> {
        let invalid = |reason: String| DocumentError::Invalid { name: name.to_string(), reason };
        let names = self.handle.get().document_names();
        if !names.iter().any(|n| n == name) {
            return Err(invalid(format!("is not a document; the documents are {}", names.join(", "))));
        }
        let next = self.handle.get().with_document(name, body).map_err(invalid)?;
        if name == "dispatch-rules" {
            // A rule must send its cases somewhere that exists.
            // Rules and assignees name departments by name.
            let departments: Vec<String> =
                self.store.departments().await?.into_iter().map(|(_, name, _)| name).collect();
            for rule in next.dispatch.rules() {
                if let cockpit_events::RuleTarget::Department { department } = &rule.target
                    && !departments.iter().any(|d| d == department.as_str())
                {
                    return Err(invalid(format!(
                        "rule {} sends cases to department `{}`, which does not exist",
                        rule.id.as_str(),
                        department.as_str()
                    )));
                }
            }
        }
        let version = self.store.put_document(name, body, who).await?;
        self.reload().await?;
        if name.starts_with("mapping:") {
            self.store.sync_sources(&self.handle.get().source_records()).await?;
        }
        Ok(version)
    }

    /// Rebuilds the rules from the files and the stored documents, and puts them in force.
    pub async fn reload(&self) -> Result<(), StoreError> {
        let stored = self.stored().await?;
        let mut rules = (*self.base).clone();
        for document in &stored {
            match rules.with_document(&document.name, &document.body) {
                Ok(next) => rules = next,
                Err(reason) => tracing::warn!(
                    document = %document.name,
                    version = document.version,
                    %reason,
                    "a stored rules document does not check; its file stays in force"
                ),
            }
        }
        let version = stored.iter().map(|d| d.version).max().unwrap_or(0);
        self.handle.set(rules);
        self.version.store(version, Ordering::Relaxed);
        Ok(())
    }

    /// Polls the largest version every `every` and reloads when it moved (another instance
    /// took an edit), until `stop` turns true.
    pub async fn follow(self, every: Duration, stop: watch::Receiver<bool>) {
        let version = self.version.clone();
        documents::follow(&self.store.clone(), &PREFIXES, every, stop, version, "case rules", || self.reload()).await;
    }
}
