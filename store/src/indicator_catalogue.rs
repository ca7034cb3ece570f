//! The `indicator_catalogue` and `indicator_sources` tables: the catalogue people edit,
//! each change with its audit record and a `catalogue:<indicator>` entry of the live
//! `indicators` channel in one transaction, and the systems that push values with the
//! SHA-256 of their tokens.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::live_log::{self, NewEntry};
use crate::{AuditActor, AuditEntry, Store, StoreError};

/// A stored catalogue entry, whole (cockpit-indicators' `CatalogueEntry` as JSON).
#[allow(missing_docs)] // One field per column; see migrations/0016_indicators_catalogue.sql.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredIndicator {
    pub id: String,
    pub entry: Value,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
}

/// A system that pushes indicator values.
#[allow(missing_docs)] // One field per column.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct IndicatorSourceRow {
    pub id: String,
    pub name: String,
    pub indicators: Vec<String>,
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
}

/// What changed in the catalogue, for the audit record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CatalogueChange {
    /// A new indicator.
    Create,
    /// An indicator replaced whole.
    Update,
    /// An indicator removed, with its values.
    Delete,
}

impl Store {
    /// Every catalogue entry, by id.
    pub async fn indicator_entries(&self) -> Result<Vec<StoredIndicator>, StoreError> {
        Ok(sqlx::query_as("SELECT id, entry, updated_by, updated_at FROM indicator_catalogue ORDER BY id")
            .fetch_all(&self.pool)
            .await?)
    }

    /// One catalogue entry.
    pub async fn indicator_entry(&self, id: &str) -> Result<Option<StoredIndicator>, StoreError> {
        Ok(sqlx::query_as("SELECT id, entry, updated_by, updated_at FROM indicator_catalogue WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Creates, replaces or deletes entry `id` with its audit record, in one transaction:
    /// false when there was nothing to change (a create of an id that exists, an update or
    /// delete of one that does not). `entry` is ignored by a delete.
    pub async fn change_indicator(
        &self,
        change: CatalogueChange,
        id: &str,
        entry: &Value,
        who: AuditActor,
    ) -> Result<bool, StoreError> {
        let now = Utc::now();
        let mut tx = self.pool.begin().await?;
        let done = match change {
            CatalogueChange::Create => sqlx::query(
                "INSERT INTO indicator_catalogue (id, entry, updated_by, updated_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (id) DO NOTHING",
            ),
            CatalogueChange::Update => {
                sqlx::query("UPDATE indicator_catalogue SET entry = $2, updated_by = $3, updated_at = $4 WHERE id = $1")
            }
            CatalogueChange::Delete => {
                let done =
                    sqlx::query("DELETE FROM indicator_catalogue WHERE id = $1").bind(id).execute(&mut *tx).await?;
                return self.audited(tx, done.rows_affected(), change, id, entry, who, now).await;
            }
        }
        .bind(id)
        .bind(entry)
        .bind(&who.actor)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        self.audited(tx, done.rows_affected(), change, id, entry, who, now).await
    }

    /// Writes the audit record of a catalogue change that touched `rows` and commits; false
    /// (rolled back) when it touched none.
    #[allow(clippy::too_many_arguments)] // The change and its record, as the caller has them.
    async fn audited(
        &self,
        mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
        rows: u64,
        change: CatalogueChange,
        id: &str,
        entry: &Value,
        who: AuditActor,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        if rows == 0 {
            return Ok(false);
        }
        let (action, detail) = match change {
            CatalogueChange::Create => ("indicator.create", json!({"published": entry.get("published")})),
            CatalogueChange::Update => ("indicator.update", json!({"published": entry.get("published")})),
            CatalogueChange::Delete => ("indicator.delete", json!({})),
        };
        let record =
            AuditEntry { who, action: action.into(), object: format!("indicator:{id}"), result: "ok".into(), detail };
        Store::audit(&mut tx, now, &[record]).await?;
        // Publish, withdraw and delete reach the walls (which read the entry again) on
        // every instance; district-wide subscriptions see it (no region).
        let published = if change == CatalogueChange::Delete { Value::Bool(false) } else { entry["published"].clone() };
        let live = NewEntry {
            channel: cockpit_live::Channel::Indicators,
            key: format!("catalogue:{id}"),
            regions: Vec::new(),
            position: None,
            layer: None,
            assignee: None,
            payload: json!({"indicator": id, "change": action, "published": published}),
        };
        live_log::append(&mut tx, &[live]).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Loads the sample catalogue when the catalogue has never held anything but the
    /// computed indicators: `(id, entry)` pairs. How many were inserted (none when people's
    /// catalogue has entries).
    pub async fn seed_indicators(&self, entries: &[(String, Value)]) -> Result<u64, StoreError> {
        self.add_indicator_entries(entries, true).await
    }

    /// Adds the entries whose ids the catalogue does not hold (the computed indicators',
    /// at every start: an entry people edited stays as they left it); how many it added.
    pub async fn register_indicators(&self, entries: &[(String, Value)]) -> Result<u64, StoreError> {
        self.add_indicator_entries(entries, false).await
    }

    /// Inserts the `(id, entry)` pairs whose ids are free, as the system (with
    /// `only_if_empty`, only into a catalogue holding nothing but the computed indicators,
    /// which are registered at start); how many it inserted.
    async fn add_indicator_entries(&self, entries: &[(String, Value)], only_if_empty: bool) -> Result<u64, StoreError> {
        let (ids, bodies): (Vec<&str>, Vec<Value>) = entries.iter().map(|(i, e)| (i.as_str(), e.clone())).unzip();
        let condition = match only_if_empty {
            true => {
                "WHERE NOT EXISTS (SELECT 1 FROM indicator_catalogue WHERE entry ->> 'source' IS DISTINCT FROM 'computed')"
            }
            false => "",
        };
        let query = format!(
            "INSERT INTO indicator_catalogue (id, entry, updated_by)
             SELECT i, e, 'system' FROM unnest($1::text[], $2::jsonb[]) AS s(i, e) {condition}
             ON CONFLICT (id) DO NOTHING"
        );
        let done = sqlx::query(sqlx::AssertSqlSafe(query)).bind(ids).bind(bodies).execute(&self.pool).await?;
        Ok(done.rows_affected())
    }

    /// Registers a push source with the SHA-256 of its token and the indicators it may
    /// push, audited; false when the id is taken.
    pub async fn create_indicator_source(
        &self,
        id: &str,
        name: &str,
        token_sha256: &str,
        indicators: &[String],
        who: AuditActor,
    ) -> Result<bool, StoreError> {
        let now = Utc::now();
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "INSERT INTO indicator_sources (id, name, token_sha256, indicators, created_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(id)
        .bind(name)
        .bind(token_sha256)
        .bind(indicators)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        let record = AuditEntry {
            who,
            action: "indicator_source.create".into(),
            object: format!("indicator_source:{id}"),
            result: "ok".into(),
            detail: json!({"indicators": indicators}),
        };
        Store::audit(&mut tx, now, &[record]).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Push source `id` with the SHA-256 (hex) of its token.
    pub async fn indicator_source(&self, id: &str) -> Result<Option<(IndicatorSourceRow, String)>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Gate {
            #[sqlx(flatten)]
            row: IndicatorSourceRow,
            token_sha256: String,
        }
        let gate: Option<Gate> = sqlx::query_as(
            "SELECT id, name, indicators, enabled, created_at, token_sha256 FROM indicator_sources WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(gate.map(|g| (g.row, g.token_sha256)))
    }

    /// Every push source, by id.
    pub async fn indicator_sources(&self) -> Result<Vec<IndicatorSourceRow>, StoreError> {
        Ok(sqlx::query_as("SELECT id, name, indicators, enabled, created_at FROM indicator_sources ORDER BY id")
            .fetch_all(&self.pool)
            .await?)
    }
}
