//! The `config_documents` table: the documents an operator edits while the server runs,
//! stored whole with a version from one sequence and an audit record in the same
//! transaction.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::{AuditActor, AuditEntry, Store, StoreError};

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

fn patterns(prefixes: &[&str]) -> Vec<String> {
    prefixes.iter().map(|p| format!("{}%", p.replace('%', "\\%").replace('_', "\\_"))).collect()
}

impl Store {
    /// The stored documents whose names start with one of `prefixes`, in version order.
    pub async fn documents(&self, prefixes: &[&str]) -> Result<Vec<StoredDocument>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT name, body, version, updated_by, updated_at FROM config_documents
             WHERE name LIKE ANY($1) ORDER BY version",
        )
        .bind(patterns(prefixes))
        .fetch_all(&self.pool)
        .await?)
    }

    /// Stores `body` as document `name` with its audit record, in one transaction. The new
    /// version.
    pub async fn put_document(&self, name: &str, body: &Value, who: AuditActor) -> Result<i64, StoreError> {
        let now = Utc::now();
        let mut tx = self.pool.begin().await?;
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

    /// The largest version of the documents under `prefixes` (none: none stored).
    pub async fn latest_document_version(&self, prefixes: &[&str]) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar("SELECT max(version) FROM config_documents WHERE name LIKE ANY($1)")
            .bind(patterns(prefixes))
            .fetch_one(&self.pool)
            .await?)
    }
}
