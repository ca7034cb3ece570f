//! The case rules an operator edits while the server runs: each document (`categories`,
//! `dispatch-rules`, `calendar`) is checked as its file would be at start, stored in
//! `config_documents` with its audit record in one transaction, and laid over the rules
//! read from the files. Every instance notices a change by the documents' largest version
//! (polled) and rebuilds its rules the same way, so all of them agree within a poll.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use tokio::sync::watch;

use super::rules::{CaseRules, DOCUMENTS, RulesHandle};
use crate::store::{AuditActor, AuditEntry, Store, StoreError};

/// A stored document.
#[allow(missing_docs)] // One field per column; see migrations/0012_config_documents.sql.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredDocument {
    pub name: String,
    pub body: Value,
    pub version: i64,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
}

/// Why a document was not taken.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    /// The document does not check; the reason names what is wrong.
    #[error("{name}: {reason}")]
    Invalid {
        /// The document.
        name: String,
        /// What is wrong.
        reason: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for DocumentError {
    fn from(e: sqlx::Error) -> DocumentError {
        DocumentError::Store(StoreError::Database(e))
    }
}

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
        Ok(sqlx::query_as("SELECT name, body, version, updated_by, updated_at FROM config_documents ORDER BY name")
            .fetch_all(self.store.pool())
            .await?)
    }

    /// Each editable document as in force, with who last changed it (none: the file's).
    pub async fn current(&self) -> Result<Value, StoreError> {
        let stored = self.stored().await?;
        let rules = self.handle.get();
        let mut out = serde_json::Map::new();
        for name in DOCUMENTS {
            let edit = stored.iter().find(|d| d.name == name);
            out.insert(
                name.to_string(),
                json!({
                    "body": rules.document(name),
                    "source": if edit.is_some() { "edited" } else { "file" },
                    "version": edit.map(|d| d.version),
                    "updated_by": edit.map(|d| d.updated_by.clone()),
                    "updated_at": edit.map(|d| d.updated_at),
                }),
            );
        }
        Ok(Value::Object(out))
    }

    /// Checks `body` as document `name`, stores it with its audit record, and puts the
    /// rules in force. The new version.
    pub async fn put(&self, name: &str, body: &Value, who: AuditActor) -> Result<i64, DocumentError> {
        let invalid = |reason: String| DocumentError::Invalid { name: name.to_string(), reason };
        if !DOCUMENTS.contains(&name) {
            return Err(invalid(format!("is not a document; the documents are {}", DOCUMENTS.join(", "))));
        }
        self.handle.get().with_document(name, body).map_err(invalid)?;
        let now = Utc::now();
        let mut tx = self.store.pool().begin().await?;
        let version: i64 = sqlx::query_scalar(
            "INSERT INTO config_documents (name, body, updated_by, updated_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (name) DO UPDATE SET body = EXCLUDED.body, version = nextval('config_documents_version'),
                 updated_by = EXCLUDED.updated_by, updated_at = EXCLUDED.updated_at
             RETURNING version",
        )
        .bind(name)
        .bind(body)
        .bind(&who.actor)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let entry = AuditEntry {
            who,
            action: "config.update".into(),
            object: format!("config:{name}"),
            result: "ok".into(),
            detail: json!({"version": version}),
        };
        Store::audit(&mut tx, now, &[entry]).await?;
        tx.commit().await?;
        self.reload().await?;
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
    pub async fn follow(self, every: Duration, mut stop: watch::Receiver<bool>) {
        let mut interval = tokio::time::interval(every);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = interval.tick() => {}
                _ = stop.changed() => return,
            }
            let latest: Result<Option<i64>, sqlx::Error> =
                sqlx::query_scalar("SELECT max(version) FROM config_documents").fetch_one(self.store.pool()).await;
            match latest {
                Ok(latest) if latest.unwrap_or(0) != self.version.load(Ordering::Relaxed) => {
                    if let Err(e) = self.reload().await {
                        tracing::warn!(error = %e, "reloading the rules documents failed; retrying next poll");
                    } else {
                        tracing::info!(version = latest.unwrap_or(0), "case rules reloaded from their documents");
                    }
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "polling the rules documents failed"),
            }
        }
    }
}
