//! The documents an operator edits while the server runs (case rules, device rules,
//! intake mappings, geography edits): stored whole in `config_documents` with a version
//! from one sequence and an audit record in the same transaction. Each owner reads the
//! documents under its name prefixes, lays them over its files, and follows the largest
//! version (polled) so that every instance takes an edit within a poll.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::watch;

use cockpit_store::{Store, StoreError};

pub use cockpit_store::StoredDocument;

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
    let mut interval = tokio::time::interval(every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            _ = stop.changed() => return,
        }
        let latest = store.latest_document_version(prefixes).await;
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
