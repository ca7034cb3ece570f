//! The `indicator_thresholds` table: an indicator's threshold, stored whole as JSON with a
//! version that counts its edits; each edit is audited in its transaction.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sqlx::FromRow;

use crate::{AuditEntry, Store, StoreError};

/// A stored threshold.
#[allow(missing_docs)] // One field per column; see migrations/0017_indicator_alarms.sql.
#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct ThresholdRow {
    pub indicator: String,
    pub threshold: Value,
    pub version: i64,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "indicator, threshold, version, updated_by, updated_at";

impl Store {
    /// The threshold of `indicator`, if it has one.
    pub async fn indicator_threshold(&self, indicator: &str) -> Result<Option<ThresholdRow>, StoreError> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM indicator_thresholds WHERE indicator = $1"
        )))
        .bind(indicator)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The thresholds of `indicators` that exist.
    pub async fn indicator_thresholds(&self, indicators: &[&str]) -> Result<Vec<ThresholdRow>, StoreError> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM indicator_thresholds WHERE indicator = ANY($1) ORDER BY indicator"
        )))
        .bind(indicators)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Sets the threshold of `indicator` (which must be in the catalogue) by `who`, with
    /// `audit` (its detail gets `before`, `after` and `version`), in one transaction. The
    /// stored row; `None` when the indicator does not exist.
    pub async fn put_indicator_threshold(
        &self,
        indicator: &str,
        threshold: &Value,
        who: &str,
        mut audit: AuditEntry,
    ) -> Result<Option<ThresholdRow>, StoreError> {
        let now = Utc::now();
        let mut tx = self.pool.begin().await?;
        let exists: Option<(String,)> =
            sqlx::query_as("SELECT id FROM indicator_catalogue WHERE id = $1 FOR KEY SHARE")
                .bind(indicator)
                .fetch_optional(&mut *tx)
                .await?;
        if exists.is_none() {
            return Ok(None);
        }
        let before: Option<(Value,)> =
            sqlx::query_as("SELECT threshold FROM indicator_thresholds WHERE indicator = $1 FOR UPDATE")
                .bind(indicator)
                .fetch_optional(&mut *tx)
                .await?;
        let row: ThresholdRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "INSERT INTO indicator_thresholds ({COLUMNS}) VALUES ($1, $2, 1, $3, $4)
             ON CONFLICT (indicator) DO UPDATE SET threshold = EXCLUDED.threshold,
                 version = indicator_thresholds.version + 1, updated_by = EXCLUDED.updated_by,
                 updated_at = EXCLUDED.updated_at
             RETURNING {COLUMNS}"
        )))
        .bind(indicator)
        .bind(threshold)
        .bind(who)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        if let Some(detail) = audit.detail.as_object_mut() {
            detail.insert("before".into(), before.map(|b| b.0).unwrap_or(Value::Null));
            detail.insert("after".into(), threshold.clone());
            detail.insert("version".into(), json!(row.version));
        }
        Store::audit(&mut tx, now, &[audit]).await?;
        tx.commit().await?;
        Ok(Some(row))
    }

    /// Every indicator's threshold version, so that an instance sees an edit made on another
    /// (`cockpit-server`'s alarm timer reads the values again against it).
    pub async fn indicator_threshold_versions(&self) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(sqlx::query_as("SELECT indicator, version FROM indicator_thresholds ORDER BY indicator")
            .fetch_all(&self.pool)
            .await?)
    }
}
