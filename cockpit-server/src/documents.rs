//! The documents an operator edits while the server runs (case rules, device rules,
//! intake mappings, geography edits): stored whole in `config_documents` with a version
//! from one sequence and an audit record in the same transaction. Each owner reads the
//! documents under its name prefixes, lays them over its files, and follows the largest
//! version (polled) so that every instance takes an edit within a poll.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use tokio::sync::watch;

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

fn patterns(prefixes: &[&str]) -> Vec<String> {
    prefixes.iter().map(|p| format!("{}%", p.replace('%', "\\%").replace('_', "\\_"))).collect()
}

/// The stored documents whose names start with one of `prefixes`, in version order.
pub async fn stored(store: &Store, prefixes: &[&str]) -> Result<Vec<StoredDocument>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT name, body, version, updated_by, updated_at FROM config_documents
         WHERE name LIKE ANY($1) ORDER BY version",
    )
    .bind(patterns(prefixes))
    .fetch_all(store.pool())
    .await?)
}

/// Stores `body` as document `name` with its audit record, in one transaction. The new
/// version.
pub async fn put(store: &Store, name: &str, body: &Value, who: AuditActor) -> Result<i64, StoreError> {
    let now = Utc::now();
    let mut tx = store.pool().begin().await?;
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
    Ok(version)
}

/// Each of `documents` (name, body in force) with who last edited it: `{body, source:
/// "edited" | "file", version, updated_by, updated_at}` by name.
pub fn describe<'a>(documents: impl Iterator<Item = (&'a str, Option<Value>)>, stored: &[StoredDocument]) -> Value {
    let mut out = serde_json::Map::new();
    for (name, body) in documents {
        let edit = stored.iter().find(|d| d.name == name);
        out.insert(
            name.to_string(),
            json!({
                "body": body,
                "source": if edit.is_some() { "edited" } else { "file" },
                "version": edit.map(|d| d.version),
                "updated_by": edit.map(|d| d.updated_by.clone()),
                "updated_at": edit.map(|d| d.updated_at),
            }),
        );
    }
    Value::Object(out)
}

/// Polls the largest version under `prefixes` every `every` and calls `reload` when it
/// differs from `version` (another instance took an edit), until `stop` turns true.
pub async fn follow<F, Fut, E>(
    store: &Store,
    prefixes: &[&str],
    every: Duration,
    mut stop: watch::Receiver<bool>,
    version: Arc<AtomicI64>,
    what: &str,
    reload: F,
) where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    let patterns = patterns(prefixes);
    let mut interval = tokio::time::interval(every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            _ = stop.changed() => return,
        }
        let latest: Result<Option<i64>, sqlx::Error> =
            sqlx::query_scalar("SELECT max(version) FROM config_documents WHERE name LIKE ANY($1)")
                .bind(&patterns)
                .fetch_one(store.pool())
                .await;
        match latest {
            Ok(latest) if latest.unwrap_or(0) != version.load(Ordering::Relaxed) => match reload().await {
                Ok(()) => tracing::info!(version = latest.unwrap_or(0), what, "reloaded from the edited documents"),
                Err(e) => tracing::warn!(error = %e, what, "reloading the edited documents failed; retrying next poll"),
            },
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, what, "polling the edited documents failed"),
        }
    }
}
