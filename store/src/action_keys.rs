//! The `action_keys` table: the idempotency keys of case actions, each committed with its
//! action.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use crate::{Store, StoreError};

impl Store {
    /// Claims `key` of `username` for `request_sha256` on case `case` in the action's
    /// transaction; false when the key was claimed before (a concurrent claim waits here
    /// for the first to commit or roll back).
    pub async fn claim_action_key(
        tx: &mut PgConnection,
        username: &str,
        key: &str,
        case: i64,
        request_sha256: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO action_keys (username, key, case_id, request_sha256, created_at)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(username)
        .bind(key)
        .bind(case)
        .bind(request_sha256)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        Ok(inserted.rows_affected() == 1)
    }

    /// The case and request digest a claimed key was used for.
    pub async fn action_key(&self, username: &str, key: &str) -> Result<Option<(i64, String)>, StoreError> {
        Ok(sqlx::query_as("SELECT case_id, request_sha256 FROM action_keys WHERE username = $1 AND key = $2")
            .bind(username)
            .bind(key)
            .fetch_optional(&self.pool)
            .await?)
    }
}
