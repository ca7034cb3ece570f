//! Sessions: made at login, their refresh tokens rotated (a replayed one ends its session),
//! revoked, and read back with their user's grant for each request.

use chrono::{DateTime, Utc};
use cockpit_access::PermissionSet;
use sqlx::PgConnection;

use super::access::permissions_of;
use super::{Store, StoreError, UserRow};

/// A session with its user, as each request's authorisation needs it.
#[derive(Debug, Clone)]
pub struct SessionGrant {
    /// The user.
    pub user: UserRow,
    /// The department's name (what case assignees name).
    pub department_name: Option<String>,
    /// The union of the user's roles' permissions.
    pub permissions: PermissionSet,
    /// Revoked, expired or the user disabled: refuse.
    pub valid: bool,
    /// May only enrol a second factor.
    pub enrolment_only: bool,
}

impl Store {
    /// Opens a session.
    #[allow(clippy::too_many_arguments)] // One per column of the row it writes.
    pub async fn create_session(
        tx: &mut PgConnection,
        id: &str,
        user: i64,
        refresh_digest: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
        address: &str,
        enrolment_only: bool,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sessions (id, user_id, refresh_digest, created_at, refreshed_at, expires_at, address,
                 enrolment_only)
             VALUES ($1, $2, $3, $4, $4, $5, $6, $7)",
        )
        .bind(id)
        .bind(user)
        .bind(refresh_digest)
        .bind(now)
        .bind(expires_at)
        .bind(address)
        .bind(enrolment_only)
        .execute(&mut *tx)
        .await?;
        Ok(())
    }

    /// Swaps a session's refresh token for a new one, if the old one is current and the
    /// session live: the session id and user. A refresh token used twice (stolen and
    /// replayed) is not current: the session it belonged to is revoked.
    pub async fn rotate_refresh(
        &self,
        old_digest: &str,
        new_digest: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(String, i64)>, StoreError> {
        Ok(sqlx::query_as(
            "UPDATE sessions SET previous_refresh_digest = refresh_digest, refresh_digest = $2, refreshed_at = $3
             WHERE refresh_digest = $1 AND revoked_at IS NULL AND expires_at > $3
               AND EXISTS (SELECT 1 FROM users u WHERE u.id = user_id AND u.active)
             RETURNING id, user_id",
        )
        .bind(old_digest)
        .bind(new_digest)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Revokes the live session whose previous refresh token this is (a replayed,
    /// so copied, token): its id.
    pub async fn revoke_replayed(&self, old_digest: &str, now: DateTime<Utc>) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "UPDATE sessions SET revoked_at = $2 WHERE previous_refresh_digest = $1 AND revoked_at IS NULL RETURNING id",
        )
        .bind(old_digest)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Revokes one session; false when it was not live.
    pub async fn revoke_session(tx: &mut PgConnection, id: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
            .bind(id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Revokes every live session of a user: their ids.
    pub async fn revoke_sessions_of(
        tx: &mut PgConnection,
        user: i64,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "UPDATE sessions SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL RETURNING id",
        )
        .bind(user)
        .bind(now)
        .fetch_all(&mut *tx)
        .await?)
    }

    /// A session and everything its requests are authorised by.
    pub async fn session_grant(&self, session: &str, now: DateTime<Utc>) -> Result<Option<SessionGrant>, StoreError> {
        type Row = (i64, bool, bool, Option<String>, Vec<String>);
        let row: Option<Row> = sqlx::query_as(
            "SELECT s.user_id, s.revoked_at IS NULL AND s.expires_at > $2, s.enrolment_only,
                 (SELECT d.name FROM departments d JOIN users u ON u.department_id = d.id WHERE u.id = s.user_id),
                 ARRAY(SELECT DISTINCT unnest(r.permissions) FROM user_roles ur JOIN roles r ON r.role = ur.role
                       WHERE ur.user_id = s.user_id)
             FROM sessions s WHERE s.id = $1",
        )
        .bind(session)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        let Some((user_id, live, enrolment_only, department_name, permissions)) = row else { return Ok(None) };
        let Some(user) = self.user(user_id).await? else { return Ok(None) };
        Ok(Some(SessionGrant {
            valid: live && user.active,
            user,
            department_name,
            permissions: permissions_of(&permissions),
            enrolment_only,
        }))
    }
}
