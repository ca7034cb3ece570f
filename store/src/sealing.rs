//! Rewriting sealed personal data: the reporters stored in the clear or under an old key,
//! and the users' sealed TOTP secrets. Sealing itself is the caller's (cockpit-access).

use serde_json::Value;

use crate::{Store, StoreError};

/// A case's reporter as stored: its id, the reporter in the clear (rows from before sealing
/// existed) and the sealed bytes.
pub type StoredReporter = (i64, Option<Value>, Option<Vec<u8>>);

impl Store {
    /// The reporters still stored in the clear, and with `rekey` also every sealed one.
    pub async fn reporters_to_seal(&self, rekey: bool) -> Result<Vec<StoredReporter>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, reporter, reporter_sealed FROM cases
             WHERE reporter IS NOT NULL OR ($1 AND reporter_sealed IS NOT NULL)",
        )
        .bind(rekey)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Keeps case `id`'s reporter sealed (and masked) only, the clear copy gone.
    pub async fn set_sealed_reporter(&self, id: i64, sealed: &[u8], masked: &Value) -> Result<(), StoreError> {
        sqlx::query("UPDATE cases SET reporter = NULL, reporter_sealed = $2, reporter_masked = $3 WHERE id = $1")
            .bind(id)
            .bind(sealed)
            .bind(masked)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Every user's sealed TOTP secret: (user id, sealed bytes).
    pub async fn sealed_totp_secrets(&self) -> Result<Vec<(i64, Vec<u8>)>, StoreError> {
        Ok(sqlx::query_as("SELECT id, totp_sealed FROM users WHERE totp_sealed IS NOT NULL")
            .fetch_all(&self.pool)
            .await?)
    }

    /// Replaces user `id`'s sealed TOTP secret.
    pub async fn set_sealed_totp(&self, id: i64, sealed: &[u8]) -> Result<(), StoreError> {
        sqlx::query("UPDATE users SET totp_sealed = $2 WHERE id = $1")
            .bind(id)
            .bind(sealed)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
