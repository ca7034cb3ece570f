//! The `indicator_values` table: a value per indicator, region and period, written many at
//! a time in one statement that changes only what differs (a retry changes nothing), with
//! a live log entry for each indicator and region changed (its newest period) and the
//! caller's audit record in the same transaction.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;
use sqlx::FromRow;

use crate::live_log::{self, NewEntry};
use crate::{AuditEntry, Store, StoreError};

/// A value to write.
#[derive(Debug, Clone, PartialEq)]
pub struct NewValue {
    /// The indicator's id (it must be in the catalogue).
    pub indicator: String,
    /// The region's code.
    pub region: String,
    /// The local date its period starts on.
    pub period: NaiveDate,
    /// The value (finite).
    pub value: f64,
    /// `computed`, `pushed`, `pulled` or `manual` (`generated`: written by `seed_indicator_values`).
    pub source: &'static str,
    /// The push source's id, the user, or the definition.
    pub source_name: String,
    /// The regions whose live subscriptions see it: the street and village codes it lies in.
    pub live_regions: Vec<String>,
}

/// A stored value.
#[allow(missing_docs)] // One field per column; see migrations/0016_indicators_catalogue.sql.
#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct ValueRow {
    pub indicator: String,
    pub region: String,
    pub period: NaiveDate,
    pub value: f64,
    pub source: String,
    pub source_name: String,
    pub recorded_at: DateTime<Utc>,
}

impl Store {
    /// Writes `values` (at most one per indicator, region and period: the caller keeps the
    /// last) with `audit`, in one transaction: a value whose row already holds the same
    /// value from the same source is left as it is. The rows that changed; the newest
    /// period changed of each indicator and region is also a `value:<indicator>:<region>`
    /// entry of the live `indicators` channel.
    pub async fn put_indicator_values(
        &self,
        values: &[NewValue],
        audit: Option<AuditEntry>,
    ) -> Result<Vec<ValueRow>, StoreError> {
        let now = Utc::now();
        let mut tx = self.pool.begin().await?;
        let changed: Vec<ValueRow> = sqlx::query_as(
            "INSERT INTO indicator_values (indicator, region, period, value, source, source_name, recorded_at)
             SELECT i, r, p, v, s, n, $7 FROM unnest($1::text[], $2::text[], $3::date[], $4::float8[], $5::text[], $6::text[])
                 AS u(i, r, p, v, s, n)
             -- An indicator deleted meanwhile (or a computed one people removed) takes none.
             WHERE EXISTS (SELECT 1 FROM indicator_catalogue c WHERE c.id = u.i)
             ON CONFLICT (indicator, region, period) DO UPDATE
                 SET value = EXCLUDED.value, source = EXCLUDED.source, source_name = EXCLUDED.source_name,
                     recorded_at = EXCLUDED.recorded_at
                 WHERE (indicator_values.value, indicator_values.source, indicator_values.source_name)
                     IS DISTINCT FROM (EXCLUDED.value, EXCLUDED.source, EXCLUDED.source_name)
             RETURNING indicator, region, period, value, source, source_name, recorded_at",
        )
        .bind(values.iter().map(|v| v.indicator.as_str()).collect::<Vec<_>>())
        .bind(values.iter().map(|v| v.region.as_str()).collect::<Vec<_>>())
        .bind(values.iter().map(|v| v.period).collect::<Vec<_>>())
        .bind(values.iter().map(|v| v.value).collect::<Vec<_>>())
        .bind(values.iter().map(|v| v.source).collect::<Vec<_>>())
        .bind(values.iter().map(|v| v.source_name.as_str()).collect::<Vec<_>>())
        .bind(now)
        .fetch_all(&mut *tx)
        .await?;
        if changed.is_empty() {
            // A retry: nothing to record, nothing to stream.
            return Ok(changed);
        }
        if let Some(mut record) = audit {
            if let Some(detail) = record.detail.as_object_mut() {
                detail.insert("changed".into(), json!(changed.len()));
            }
            Store::audit(&mut tx, now, &[record]).await?;
        }
        // One live entry per indicator and region, of the newest period changed: a screen
        // keeps the newest period it has seen, so the older ones of the same batch (history
        // pushed at once) would change nothing on it.
        let mut newest: Vec<&ValueRow> = Vec::new();
        let mut slots: HashMap<(&str, &str), usize> = HashMap::with_capacity(changed.len());
        for row in &changed {
            match slots.entry((row.indicator.as_str(), row.region.as_str())) {
                Entry::Occupied(slot) if row.period > newest[*slot.get()].period => newest[*slot.get()] = row,
                Entry::Occupied(_) => {}
                Entry::Vacant(slot) => {
                    slot.insert(newest.len());
                    newest.push(row);
                }
            }
        }
        let regions: HashMap<(&str, &str), &Vec<String>> =
            values.iter().map(|v| ((v.indicator.as_str(), v.region.as_str()), &v.live_regions)).collect();
        let entries: Vec<NewEntry> = newest
            .into_iter()
            .map(|row| NewEntry {
                channel: cockpit_live::Channel::Indicators,
                key: format!("value:{}:{}", row.indicator, row.region),
                regions: regions
                    .get(&(row.indicator.as_str(), row.region.as_str()))
                    .map(|r| r.to_vec())
                    .unwrap_or_default(),
                position: None,
                layer: None,
                assignee: None,
                payload: json!({
                    "indicator": row.indicator, "region": row.region, "period": row.period, "value": row.value,
                    "source": row.source, "recorded_at": row.recorded_at,
                }),
            })
            .collect();
        live_log::append(&mut tx, &entries).await?;
        tx.commit().await?;
        Ok(changed)
    }

    /// The values of `indicator` in `region` (every region: `None`) with periods in
    /// `from..=to`, newest period first, at most `limit`.
    pub async fn indicator_values(
        &self,
        indicator: &str,
        region: Option<&str>,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        limit: i64,
    ) -> Result<Vec<ValueRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT indicator, region, period, value, source, source_name, recorded_at FROM indicator_values
             WHERE indicator = $1 AND ($2::text IS NULL OR region = $2)
                 AND ($3::date IS NULL OR period >= $3) AND ($4::date IS NULL OR period <= $4)
             ORDER BY period DESC, region LIMIT $5",
        )
        .bind(indicator)
        .bind(region)
        .bind(from)
        .bind(to)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }
}

impl Store {
    /// The latest value of `indicator` in each region that has one (the newest period), by
    /// region.
    pub async fn latest_indicator_values(&self, indicator: &str) -> Result<Vec<ValueRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT DISTINCT ON (region) indicator, region, period, value, source, source_name, recorded_at
             FROM indicator_values WHERE indicator = $1 ORDER BY region, period DESC",
        )
        .bind(indicator)
        .fetch_all(&self.pool)
        .await?)
    }
}

impl Store {
    /// Whether any generated (sample) value is stored.
    pub async fn has_generated_indicator_values(&self) -> Result<bool, StoreError> {
        Ok(sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM indicator_values WHERE source = 'generated')")
            .fetch_one(&self.pool)
            .await?)
    }

    /// Writes past values (sample values, source `generated`, or computed ones back-filled
    /// from the history) in one transaction with `audit`, leaving every key that already
    /// holds a value as it is: a sample never replaces a real value, a back-fill never a
    /// value that arrived. Nothing is streamed: the history is read when asked for. How
    /// many were written.
    pub async fn seed_indicator_values(&self, values: &[NewValue], audit: AuditEntry) -> Result<u64, StoreError> {
        let now = Utc::now();
        let mut tx = self.pool.begin().await?;
        let mut written = 0;
        for chunk in values.chunks(20_000) {
            let done = sqlx::query(
                "INSERT INTO indicator_values (indicator, region, period, value, source, source_name, recorded_at)
                 SELECT i, r, p, v, s, n, $6
                 FROM unnest($1::text[], $2::text[], $3::date[], $4::float8[], $5::text[], $7::text[])
                     AS u(i, r, p, v, n, s)
                 ON CONFLICT (indicator, region, period) DO NOTHING",
            )
            .bind(chunk.iter().map(|v| v.indicator.as_str()).collect::<Vec<_>>())
            .bind(chunk.iter().map(|v| v.region.as_str()).collect::<Vec<_>>())
            .bind(chunk.iter().map(|v| v.period).collect::<Vec<_>>())
            .bind(chunk.iter().map(|v| v.value).collect::<Vec<_>>())
            .bind(chunk.iter().map(|v| v.source_name.as_str()).collect::<Vec<_>>())
            .bind(now)
            .bind(chunk.iter().map(|v| v.source).collect::<Vec<_>>())
            .execute(&mut *tx)
            .await?;
            written += done.rows_affected();
        }
        let mut record = audit;
        if let Some(detail) = record.detail.as_object_mut() {
            detail.insert("written".into(), json!(written));
        }
        Store::audit(&mut tx, now, &[record]).await?;
        tx.commit().await?;
        Ok(written)
    }
}
