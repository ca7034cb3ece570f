//! The `indicator_pulls` table: the other systems' HTTP JSON APIs whose values are pulled,
//! each edit audited in its transaction; the due pulls claimed under a row lock, so that
//! of several instances one fetches each due time; and what each attempt did.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::{AuditActor, AuditEntry, Store, StoreError};

/// A pull as an operator defines it (the server checks it before it comes here).
#[derive(Debug, Clone, PartialEq)]
pub struct PullDefinition {
    /// Its name.
    pub name: String,
    /// The indicator whose values it pulls.
    pub indicator: String,
    /// The address fetched.
    pub url: String,
    /// `[{"name", "value"}]`, sent with every request.
    pub headers: Value,
    /// `[{"region", "path"}]`.
    pub picks: Value,
    /// Seconds between fetches (`None`: from the indicator's frequency).
    pub interval_seconds: Option<i32>,
    /// Seconds an attempt may take.
    pub timeout_seconds: i32,
    /// Whether it is fetched.
    pub enabled: bool,
}

/// A stored pull with what its attempts did.
#[allow(missing_docs)] // One field per column; see migrations/0019_indicator_pulls.sql.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct PullRow {
    pub id: String,
    pub name: String,
    pub indicator: String,
    pub url: String,
    pub headers: Value,
    pub picks: Value,
    pub interval_seconds: Option<i32>,
    pub timeout_seconds: i32,
    pub enabled: bool,
    pub version: i64,
    pub next_due: DateTime<Utc>,
    pub failures: i32,
    pub last_attempt: Option<DateTime<Utc>>,
    pub last_success: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
}

/// What an attempt did.
#[derive(Debug, Clone, PartialEq)]
pub enum PullOutcome {
    /// Every pick found its value.
    Succeeded,
    /// Why it failed (the values it did pick are stored all the same).
    Failed(String),
}

const COLUMNS: &str = "id, name, indicator, url, headers, picks, interval_seconds, timeout_seconds, enabled, version, \
     next_due, failures, last_attempt, last_success, last_error, updated_by, updated_at";

impl Store {
    /// Creates pull `id` or replaces its definition (due at once, its failures forgotten),
    /// audited with `who`; whether it was new.
    pub async fn put_indicator_pull(&self, id: &str, d: &PullDefinition, who: AuditActor) -> Result<bool, StoreError> {
        let now = Utc::now();
        let mut tx = self.pool.begin().await?;
        let (new,): (bool,) = sqlx::query_as(
            "INSERT INTO indicator_pulls (id, name, indicator, url, headers, picks, interval_seconds, timeout_seconds,
                 enabled, next_due, updated_by, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $10)
             ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, indicator = EXCLUDED.indicator, url = EXCLUDED.url,
                 headers = EXCLUDED.headers, picks = EXCLUDED.picks, interval_seconds = EXCLUDED.interval_seconds,
                 timeout_seconds = EXCLUDED.timeout_seconds, enabled = EXCLUDED.enabled, next_due = EXCLUDED.next_due,
                 failures = 0, version = indicator_pulls.version + 1, updated_by = EXCLUDED.updated_by,
                 updated_at = EXCLUDED.updated_at
             RETURNING (xmax = 0)",
        )
        .bind(id)
        .bind(&d.name)
        .bind(&d.indicator)
        .bind(&d.url)
        .bind(&d.headers)
        .bind(&d.picks)
        .bind(d.interval_seconds)
        .bind(d.timeout_seconds)
        .bind(d.enabled)
        .bind(now)
        .bind(&who.actor)
        .fetch_one(&mut *tx)
        .await?;
        // The headers' values (tokens) stay out of the audit trail: their names only.
        let header_names: Vec<&Value> = d.headers.as_array().into_iter().flatten().map(|h| &h["name"]).collect();
        let record = AuditEntry {
            who,
            action: if new { "indicator_pull.create" } else { "indicator_pull.replace" }.into(),
            object: format!("indicator_pull:{id}"),
            result: "ok".into(),
            detail: json!({
                "name": d.name, "indicator": d.indicator, "url": d.url, "headers": header_names, "picks": d.picks,
                "interval_seconds": d.interval_seconds, "timeout_seconds": d.timeout_seconds, "enabled": d.enabled,
            }),
        };
        Store::audit(&mut tx, now, &[record]).await?;
        tx.commit().await?;
        Ok(new)
    }

    /// Deletes pull `id`, audited; whether it was there.
    pub async fn delete_indicator_pull(&self, id: &str, who: AuditActor) -> Result<bool, StoreError> {
        let now = Utc::now();
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query("DELETE FROM indicator_pulls WHERE id = $1").bind(id).execute(&mut *tx).await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        let record = AuditEntry {
            who,
            action: "indicator_pull.delete".into(),
            object: format!("indicator_pull:{id}"),
            result: "ok".into(),
            detail: json!({}),
        };
        Store::audit(&mut tx, now, &[record]).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Every pull, by id.
    pub async fn indicator_pulls(&self) -> Result<Vec<PullRow>, StoreError> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM indicator_pulls ORDER BY id")))
            .fetch_all(&self.pool)
            .await?)
    }

    /// Pull `id`.
    pub async fn indicator_pull(&self, id: &str) -> Result<Option<PullRow>, StoreError> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM indicator_pulls WHERE id = $1")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Claims at most `limit` enabled pulls due at `now` for this instance: each row's
    /// `next_due` moves past its attempt's timeout plus `grace` (a crashed attempt is tried
    /// again then) and `last_attempt` becomes `now`, under a row lock that another
    /// instance's claim skips. The claimed rows as claimed (their `version` is the one the
    /// attempt records under).
    pub async fn claim_due_indicator_pulls(
        &self,
        now: DateTime<Utc>,
        grace_seconds: i32,
        limit: i64,
    ) -> Result<Vec<PullRow>, StoreError> {
        let columns = COLUMNS.split(", ").map(|c| format!("p.{c}")).collect::<Vec<_>>().join(", ");
        // The columns are this file's constant: nothing from outside is in the text.
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "WITH due AS (
                 SELECT id FROM indicator_pulls WHERE enabled AND next_due <= $1 ORDER BY next_due LIMIT $3
                 FOR UPDATE SKIP LOCKED)
             UPDATE indicator_pulls p
                 SET next_due = $1 + make_interval(secs => p.timeout_seconds + $2), last_attempt = $1
             FROM due WHERE p.id = due.id
             RETURNING {columns}"
        )))
        .bind(now)
        .bind(grace_seconds)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Records what the attempt of `id` under `version` did and when it is next due; an
    /// attempt under a definition since replaced records nothing. Whether it was recorded.
    pub async fn record_indicator_pull(
        &self,
        id: &str,
        version: i64,
        attempt: DateTime<Utc>,
        outcome: &PullOutcome,
        next_due: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let error = match outcome {
            PullOutcome::Succeeded => None,
            PullOutcome::Failed(e) => Some(e.as_str()),
        };
        let done = sqlx::query(
            "UPDATE indicator_pulls SET next_due = $3, last_error = $4,
                 failures = CASE WHEN $4::text IS NULL THEN 0 ELSE failures + 1 END,
                 last_success = CASE WHEN $4::text IS NULL THEN $5 ELSE last_success END
             WHERE id = $1 AND version = $2",
        )
        .bind(id)
        .bind(version)
        .bind(next_due)
        .bind(error)
        .bind(attempt)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
