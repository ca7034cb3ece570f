//! Failed logins per username and client address (`login_failures`) and the throttle of
//! accounts under a spread attack (`login_throttle`), shared by every instance. The
//! decisions are the auth service's; this is their storage.

use chrono::{DateTime, Utc};

use super::{Store, StoreError};

/// What the failures of one username look like from one address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoginStanding {
    /// When this address's last lock ends (or ended): `LockoutPolicy::is_locked` decides.
    pub locked_until: Option<DateTime<Utc>>,
    /// This address's failures in a row since its last lock or success.
    pub failures: u32,
    /// Failures of the username from every other address in the window (those that
    /// locked an address included).
    pub elsewhere: u32,
    /// How many other addresses failed in the window.
    pub other_addresses: u32,
    /// Whether this address ever opened a session of this username's account.
    pub known_address: bool,
}

/// An account's failed logins, as its owner and the security administrator are told.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LoginFailures {
    /// The username tried (also one without an account).
    pub username: String,
    /// Failures in the window, every address together.
    pub failures: i64,
    /// The addresses that failed.
    pub addresses: Vec<String>,
    /// The addresses locked now.
    pub locked_addresses: Vec<String>,
    /// The last failure.
    pub last_at: DateTime<Utc>,
}

impl Store {
    /// The standing of `username` from `address`, counting failures since `since`.
    pub async fn login_standing(
        &self,
        username: &str,
        address: &str,
        since: DateTime<Utc>,
    ) -> Result<LoginStanding, StoreError> {
        let (locked_until, failures, elsewhere, other_addresses, known_address): (
            Option<DateTime<Utc>>,
            i64,
            i64,
            i64,
            bool,
        ) = sqlx::query_as(
            "SELECT
                 (SELECT locked_until FROM login_failures WHERE username = $1 AND address = $2),
                 COALESCE((SELECT failures FROM login_failures
                   WHERE username = $1 AND address = $2 AND last_at >= $3), 0)::bigint,
                 COALESCE((SELECT sum(total) FROM login_failures
                   WHERE username = $1 AND address <> $2 AND last_at >= $3), 0)::bigint,
                 (SELECT count(*) FROM login_failures
                   WHERE username = $1 AND address <> $2 AND last_at >= $3 AND total > 0),
                 EXISTS (SELECT 1 FROM sessions s JOIN users u ON u.id = s.user_id
                   WHERE u.username = $1 AND s.address = $2)",
        )
        .bind(username)
        .bind(address)
        .bind(since)
        .fetch_one(&self.pool)
        .await?;
        let count = |n: i64| u32::try_from(n.max(0)).unwrap_or(u32::MAX);
        Ok(LoginStanding {
            locked_until,
            failures: count(failures),
            elsewhere: count(elsewhere),
            other_addresses: count(other_addresses),
            known_address,
        })
    }

    /// Records a failure of `username` from `address`: the count in a row after it, and
    /// the lock when this failure set one (the count in a row then restarts; the total of
    /// the period since `since` goes on).
    pub async fn record_login_failure(
        &self,
        username: &str,
        address: &str,
        failures: u32,
        locked_until: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
        since: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO login_failures (username, address, failures, total, locked_until, last_at)
             VALUES ($1, $2, $3, 1, $4, $5)
             ON CONFLICT (username, address) DO UPDATE SET failures = EXCLUDED.failures,
                 total = CASE WHEN login_failures.last_at < $6 THEN 1 ELSE login_failures.total + 1 END,
                 locked_until = COALESCE(EXCLUDED.locked_until, login_failures.locked_until),
                 last_at = EXCLUDED.last_at",
        )
        .bind(username)
        .bind(address)
        .bind(failures as i32)
        .bind(locked_until)
        .bind(now)
        .bind(since)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A success from `address` clears that address's failures; the failures of other
    /// addresses stay, for the owner to be told of and the throttle to count.
    pub async fn clear_login_failures(&self, username: &str, address: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM login_failures WHERE username = $1 AND address = $2")
            .bind(username)
            .bind(address)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Takes the account's one attempt per `every` from an unknown address; false when
    /// the attempt must wait (until the returned time).
    pub async fn take_login_turn(
        &self,
        username: &str,
        now: DateTime<Utc>,
        every: chrono::TimeDelta,
    ) -> Result<Result<(), DateTime<Utc>>, StoreError> {
        let taken: Option<(DateTime<Utc>,)> = sqlx::query_as(
            "INSERT INTO login_throttle (username, next_at) VALUES ($1, $2 + $3)
             ON CONFLICT (username) DO UPDATE SET next_at = EXCLUDED.next_at
                 WHERE login_throttle.next_at <= $2
             RETURNING next_at",
        )
        .bind(username)
        .bind(now)
        .bind(every)
        .fetch_optional(&self.pool)
        .await?;
        if taken.is_some() {
            return Ok(Ok(()));
        }
        let (next,): (DateTime<Utc>,) = sqlx::query_as("SELECT next_at FROM login_throttle WHERE username = $1")
            .bind(username)
            .fetch_one(&self.pool)
            .await?;
        Ok(Err(next))
    }

    /// The failed logins since `since`: of one username, or of all (newest first, at most
    /// 500 usernames).
    pub async fn login_failures(
        &self,
        username: Option<&str>,
        now: DateTime<Utc>,
        since: DateTime<Utc>,
    ) -> Result<Vec<LoginFailures>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT username, sum(total)::bigint AS failures,
                 array_agg(address ORDER BY address) AS addresses,
                 array_remove(array_agg(CASE WHEN locked_until > $2 THEN address END ORDER BY address), NULL)
                     AS locked_addresses,
                 max(last_at) AS last_at
             FROM login_failures
             WHERE last_at >= $3 AND ($1::text IS NULL OR username = $1)
               AND (total > 0 OR locked_until > $2)
             GROUP BY username ORDER BY max(last_at) DESC LIMIT 500",
        )
        .bind(username)
        .bind(now)
        .bind(since)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Forgets failures older than `before` (a day, pruned by the deadline scheduler).
    pub async fn prune_login_failures(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "DELETE FROM login_failures WHERE last_at < $1 AND (locked_until IS NULL OR locked_until < $1)",
        )
        .bind(before)
        .execute(&self.pool)
        .await?;
        sqlx::query("DELETE FROM login_throttle WHERE next_at < $1").bind(before).execute(&self.pool).await?;
        Ok(done.rows_affected())
    }
}
