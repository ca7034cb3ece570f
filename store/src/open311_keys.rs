//! The `open311_keys` table: one API key per citizens' application, kept as SHA-256.

use chrono::{DateTime, Utc};

use super::{AuditActor, AuditEntry, Store, StoreError};

/// An issued key, without the key.
#[allow(missing_docs)] // One field per column; see migrations/0014_security.sql.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Open311Key {
    pub id: i64,
    pub application: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl Store {
    /// Stores a new key's hash for `application`, audited in the same transaction; its id.
    pub async fn create_open311_key(
        &self,
        application: &str,
        key_sha256: &str,
        who: &AuditActor,
    ) -> Result<i64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO open311_keys (application, key_sha256, created_by) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(application)
        .bind(key_sha256)
        .bind(&who.actor)
        .fetch_one(&mut *tx)
        .await?;
        let entry = AuditEntry {
            who: who.clone(),
            action: "open311.key_issue".into(),
            object: format!("open311_key:{id}"),
            result: "ok".into(),
            detail: serde_json::json!({"application": application}),
        };
        Store::audit(&mut tx, Utc::now(), &[entry]).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Revokes a key, audited; false when there is no such key. A key revoked before
    /// stays revoked (and the repeat is not recorded again).
    pub async fn revoke_open311_key(&self, id: i64, who: &AuditActor) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let exists: Option<(bool,)> =
            sqlx::query_as("SELECT revoked_at IS NOT NULL FROM open311_keys WHERE id = $1 FOR UPDATE")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        match exists {
            None => return Ok(false),
            Some((true,)) => return Ok(true),
            Some((false,)) => {}
        }
        sqlx::query("UPDATE open311_keys SET revoked_at = now() WHERE id = $1").bind(id).execute(&mut *tx).await?;
        let entry = AuditEntry {
            who: who.clone(),
            action: "open311.key_revoke".into(),
            object: format!("open311_key:{id}"),
            result: "ok".into(),
            detail: serde_json::json!({}),
        };
        Store::audit(&mut tx, Utc::now(), &[entry]).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Every key, newest first.
    pub async fn open311_keys(&self) -> Result<Vec<Open311Key>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, application, created_at, created_by, revoked_at FROM open311_keys ORDER BY id DESC",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// The key in force with this hash: its id.
    pub async fn open311_key(&self, key_sha256: &str) -> Result<Option<i64>, StoreError> {
        let row: Option<(i64,)> =
            sqlx::query_as("SELECT id FROM open311_keys WHERE key_sha256 = $1 AND revoked_at IS NULL")
                .bind(key_sha256)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(id,)| id))
    }
}
