//! The `departments`, `roles`, `users` and `user_roles` tables.

use chrono::{DateTime, Utc};
use cockpit_access::{Permission, PermissionSet, Role, Scope, ScopeLevel};
use sqlx::{AssertSqlSafe, FromRow, PgConnection};

use super::{Store, StoreError};

/// A user as stored (the password hash and TOTP secret stay in the store).
#[allow(missing_docs)] // One field per column; see migrations/0002_access.sql.
#[derive(Debug, Clone, FromRow)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub department_id: Option<String>,
    pub scope_level: String,
    pub scope_code: String,
    pub active: bool,
    pub totp_enabled: bool,
    pub must_change_password: bool,
    pub roles: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub password_changed_at: DateTime<Utc>,
}

const USER_COLUMNS: &str = "u.id, u.username, u.display_name, u.department_id, u.scope_level, u.scope_code,
    u.active, u.totp_enabled, u.must_change_password,
    ARRAY(SELECT role FROM user_roles r WHERE r.user_id = u.id ORDER BY role) AS roles, u.created_at,
    u.password_changed_at";

impl UserRow {
    /// The roles; a name this build does not know is an error that names it, never skipped.
    pub fn roles(&self) -> Result<Vec<Role>, StoreError> {
        self.roles
            .iter()
            .map(|r| Role::parse(r).map_err(|e| StoreError::Corrupt(format!("user {}: {e}", self.id))))
            .collect()
    }

    /// The region scope.
    pub fn scope(&self) -> Result<Scope, StoreError> {
        let level = ScopeLevel::parse(&self.scope_level)
            .ok_or_else(|| StoreError::Corrupt(format!("user {}: scope level {}", self.id, self.scope_level)))?;
        Ok(Scope { level, code: self.scope_code.clone() })
    }
}

/// What logging in needs: the user, their password hash and second factor.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// The user.
    pub user: UserRow,
    /// argon2id PHC string.
    pub password_hash: String,
    /// The sealed TOTP secret.
    pub totp_sealed: Option<Vec<u8>>,
    /// The last TOTP step accepted (no replays).
    pub totp_last_step: Option<i64>,
}

/// A new account.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Login name.
    pub username: String,
    /// Name shown.
    pub display_name: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Department id.
    pub department_id: Option<String>,
    /// What the user may see.
    pub scope: Scope,
    /// Must choose a new password at the next login.
    pub must_change_password: bool,
}

/// A role and what it grants.
#[derive(Debug, Clone)]
pub struct RoleRow {
    /// The role.
    pub role: Role,
    /// Its permissions.
    pub permissions: PermissionSet,
    /// Whether its holders need a second factor.
    pub require_totp: bool,
}

pub(super) fn permissions_of(names: &[String]) -> PermissionSet {
    names.iter().filter_map(|p| Permission::parse(p)).collect()
}

/// Every grid's full-time workers with an account (`grid`, `username`): active users with
/// the grid worker role scoped to a grid. Where a grid has two, the first by username is
/// its worker.
pub(super) const GRID_WORKERS: &str = "SELECT u.scope_code AS grid, u.username
    FROM users u JOIN user_roles r ON r.user_id = u.id
    WHERE r.role = 'grid_worker' AND u.active AND u.scope_level = 'grid'";

impl Store {
    /// The full-time worker of each of these grids that has an account: the active user
    /// with the grid worker role scoped to it (the first by username when there are two).
    pub async fn grid_workers(
        &self,
        grids: &[String],
    ) -> Result<std::collections::HashMap<String, String>, StoreError> {
        if grids.is_empty() {
            return Ok(Default::default());
        }
        let rows: Vec<(String, String)> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT DISTINCT ON (grid) grid, username FROM ({GRID_WORKERS}) w WHERE grid = ANY($1)
             ORDER BY grid, username"
        )))
        .bind(grids)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().collect())
    }

    /// Inserts the shipped role bundles that are missing; existing ones stay as the
    /// security administrator left them.
    pub async fn seed_roles(&self) -> Result<(), StoreError> {
        let roles: Vec<String> = Role::ALL.iter().map(|r| r.as_str().to_string()).collect();
        let bundles: Vec<String> = Role::ALL
            .iter()
            .map(|r| r.default_permissions().iter().map(Permission::as_str).collect::<Vec<_>>().join(","))
            .collect();
        sqlx::query(
            "INSERT INTO roles (role, permissions)
             SELECT role, string_to_array(bundle, ',') FROM unnest($1::text[], $2::text[]) AS b(role, bundle)
             ON CONFLICT (role) DO NOTHING",
        )
        .bind(roles)
        .bind(bundles)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Every role.
    pub async fn roles(&self) -> Result<Vec<RoleRow>, StoreError> {
        let rows: Vec<(String, Vec<String>, bool)> =
            sqlx::query_as("SELECT role, permissions, require_totp FROM roles ORDER BY role")
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter()
            .map(|(role, permissions, require_totp)| {
                let role = Role::parse(&role).map_err(|e| StoreError::Corrupt(format!("roles: {e}")))?;
                Ok(RoleRow { role, permissions: permissions_of(&permissions), require_totp })
            })
            .collect()
    }

    /// Changes a role's bundle and second-factor requirement.
    pub async fn update_role(tx: &mut PgConnection, role: &RoleRow) -> Result<(), StoreError> {
        sqlx::query("UPDATE roles SET permissions = $2, require_totp = $3, updated_at = now() WHERE role = $1")
            .bind(role.role.as_str())
            .bind(role.permissions.iter().map(|p| p.as_str().to_string()).collect::<Vec<_>>())
            .bind(role.require_totp)
            .execute(&mut *tx)
            .await?;
        Ok(())
    }

    /// Upserts the department tree (parents before children).
    pub async fn sync_departments(&self, departments: &[(String, String, Option<String>)]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        for (id, name, parent) in departments {
            sqlx::query(
                "INSERT INTO departments (id, name, parent_id) VALUES ($1, $2, $3)
                 ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, parent_id = EXCLUDED.parent_id",
            )
            .bind(id)
            .bind(name)
            .bind(parent)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The department tree: id, name, parent.
    pub async fn departments(&self) -> Result<Vec<(String, String, Option<String>)>, StoreError> {
        Ok(sqlx::query_as("SELECT id, name, parent_id FROM departments ORDER BY id").fetch_all(&self.pool).await?)
    }

    /// How many accounts exist.
    pub async fn user_count(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT count(*) FROM users").fetch_one(&self.pool).await?)
    }

    /// Creates an account with its roles; None when the username is taken.
    pub async fn create_user(tx: &mut PgConnection, user: &NewUser, roles: &[Role]) -> Result<Option<i64>, StoreError> {
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO users (username, display_name, password_hash, department_id, scope_level, scope_code,
                 must_change_password)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (username) DO NOTHING RETURNING id",
        )
        .bind(&user.username)
        .bind(&user.display_name)
        .bind(&user.password_hash)
        .bind(&user.department_id)
        .bind(user.scope.level.as_str())
        .bind(&user.scope.code)
        .bind(user.must_change_password)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(id) = id {
            Store::set_roles(tx, id, roles).await?;
        }
        Ok(id)
    }

    /// Replaces a user's roles.
    pub async fn set_roles(tx: &mut PgConnection, user: i64, roles: &[Role]) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM user_roles WHERE user_id = $1").bind(user).execute(&mut *tx).await?;
        sqlx::query("INSERT INTO user_roles (user_id, role) SELECT $1, unnest($2::text[])")
            .bind(user)
            .bind(roles.iter().map(|r| r.as_str().to_string()).collect::<Vec<_>>())
            .execute(&mut *tx)
            .await?;
        Ok(())
    }

    /// One user by id.
    pub async fn user(&self, id: i64) -> Result<Option<UserRow>, StoreError> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// One user by username.
    pub async fn user_named(&self, username: &str) -> Result<Option<UserRow>, StoreError> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {USER_COLUMNS} FROM users u WHERE u.username = $1")))
            .bind(username)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// The display names of these usernames (those with an account), by username: what
    /// screens show for a person an answer mentions.
    pub async fn display_names(
        &self,
        usernames: &[String],
    ) -> Result<std::collections::BTreeMap<String, String>, StoreError> {
        if usernames.is_empty() {
            return Ok(Default::default());
        }
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT username, display_name FROM users WHERE username = ANY($1) AND display_name <> ''")
                .bind(usernames)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().collect())
    }

    /// Every user, by username.
    pub async fn users(&self) -> Result<Vec<UserRow>, StoreError> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {USER_COLUMNS} FROM users u ORDER BY u.username")))
            .fetch_all(&self.pool)
            .await?)
    }

    /// A user's login material, by username.
    pub async fn credentials(&self, username: &str) -> Result<Option<Credentials>, StoreError> {
        type Row = (String, Option<Vec<u8>>, Option<i64>, i64);
        let row: Option<Row> =
            sqlx::query_as("SELECT password_hash, totp_sealed, totp_last_step, id FROM users WHERE username = $1")
                .bind(username)
                .fetch_optional(&self.pool)
                .await?;
        let Some((password_hash, totp_sealed, totp_last_step, id)) = row else { return Ok(None) };
        let Some(user) = self.user(id).await? else { return Ok(None) };
        Ok(Some(Credentials { user, password_hash, totp_sealed, totp_last_step }))
    }

    /// Records a good login: the TOTP step used up, and an expired password to be changed.
    pub async fn record_success(
        tx: &mut PgConnection,
        user: i64,
        totp_step: Option<i64>,
        password_expired: bool,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE users SET totp_last_step = COALESCE($2, totp_last_step),
                 must_change_password = must_change_password OR $3 WHERE id = $1",
        )
        .bind(user)
        .bind(totp_step)
        .bind(password_expired)
        .execute(&mut *tx)
        .await?;
        Ok(())
    }

    /// Sets a password (by the user, or reset by an administrator).
    pub async fn set_password(
        tx: &mut PgConnection,
        user: i64,
        hash: &str,
        must_change: bool,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE users SET password_hash = $2, must_change_password = $3,
                 password_changed_at = now(), updated_at = now() WHERE id = $1",
        )
        .bind(user)
        .bind(hash)
        .bind(must_change)
        .execute(&mut *tx)
        .await?;
        // A new password ends every lock and throttle of the account.
        sqlx::query(
            "WITH u AS (SELECT username FROM users WHERE id = $1),
                  f AS (DELETE FROM login_failures WHERE username = (SELECT username FROM u))
             DELETE FROM login_throttle WHERE username = (SELECT username FROM u)",
        )
        .bind(user)
        .execute(&mut *tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Updates what an administrator may change of an account.
    pub async fn update_user(
        tx: &mut PgConnection,
        user: i64,
        display_name: &str,
        department_id: Option<&str>,
        scope: &Scope,
        active: bool,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE users SET display_name = $2, department_id = $3, scope_level = $4, scope_code = $5, active = $6,
                 updated_at = now() WHERE id = $1",
        )
        .bind(user)
        .bind(display_name)
        .bind(department_id)
        .bind(scope.level.as_str())
        .bind(&scope.code)
        .bind(active)
        .execute(&mut *tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Stores a sealed TOTP secret awaiting confirmation (or, with `enabled`, confirmed).
    pub async fn set_totp(
        tx: &mut PgConnection,
        user: i64,
        sealed: Option<&[u8]>,
        enabled: bool,
        last_step: Option<i64>,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE users SET totp_sealed = $2, totp_enabled = $3, totp_last_step = $4 WHERE id = $1")
            .bind(user)
            .bind(sealed)
            .bind(enabled)
            .bind(last_step)
            .execute(&mut *tx)
            .await?;
        Ok(())
    }
}
