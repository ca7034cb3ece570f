//! Assessment models and their publications (migration 0022), and what a month's
//! assessment reads from the case history: per street or per department, the cases
//! resolved in the month with a deadline and those closed by it, those evaluated and
//! satisfied, and the cases due in the month and those that went past it.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Value, json};
use sqlx::FromRow;

use crate::{AuditEntry, Store, StoreError};

/// A stored model.
#[allow(missing_docs)] // One field per column; see migrations/0022_assessment.sql.
#[derive(Debug, Clone, FromRow)]
pub struct StoredModel {
    pub id: String,
    pub model: Value,
    pub version: i64,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
}

/// A publication decision.
#[allow(missing_docs)] // One field per column; see migrations/0022_assessment.sql.
#[derive(Debug, Clone, FromRow)]
pub struct Publication {
    pub published: bool,
    pub decided_by: String,
    pub decided_at: DateTime<Utc>,
}

/// Who the case counts are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseGroup {
    /// The case's street.
    Street,
    /// The department the case is assigned to.
    Department,
}

/// One street's or department's cases in a month.
#[allow(missing_docs)] // See `Store::case_month`.
#[derive(Debug, Clone, Default, PartialEq, FromRow)]
pub struct CaseMonth {
    pub subject: String,
    pub resolved_with_deadline: i64,
    pub on_time: i64,
    pub evaluated: i64,
    pub satisfied: i64,
    pub due: i64,
    pub overdue: i64,
}

impl Store {
    /// Every model, by id.
    pub async fn assessment_models(&self) -> Result<Vec<StoredModel>, StoreError> {
        Ok(sqlx::query_as("SELECT id, model, version, updated_by, updated_at FROM assessment_models ORDER BY id")
            .fetch_all(&self.pool)
            .await?)
    }

    /// Model `id`, if it exists.
    pub async fn assessment_model(&self, id: &str) -> Result<Option<StoredModel>, StoreError> {
        Ok(sqlx::query_as("SELECT id, model, version, updated_by, updated_at FROM assessment_models WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Creates (`create`) or replaces model `id` with `model`, with `audit`, in one
    /// transaction; false when it exists (create) or does not (replace).
    pub async fn put_assessment_model(
        &self,
        id: &str,
        model: &Value,
        create: bool,
        audit: AuditEntry,
    ) -> Result<bool, StoreError> {
        let now = Utc::now();
        let mut tx = self.pool.begin().await?;
        let query = if create {
            "INSERT INTO assessment_models (id, model, updated_by, updated_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (id) DO NOTHING"
        } else {
            "UPDATE assessment_models SET model = $2, version = version + 1, updated_by = $3, updated_at = $4
             WHERE id = $1"
        };
        let done = sqlx::query(query).bind(id).bind(model).bind(&audit.who.actor).bind(now).execute(&mut *tx).await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        Store::audit(&mut tx, now, &[audit]).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Loads `models` (id, model) when there are none at all; how many it wrote.
    pub async fn seed_assessment_models(&self, models: &[(String, Value)]) -> Result<u64, StoreError> {
        let (ids, bodies): (Vec<&str>, Vec<Value>) = models.iter().map(|(i, m)| (i.as_str(), m.clone())).unzip();
        let done = sqlx::query(
            "INSERT INTO assessment_models (id, model, updated_by)
             SELECT i, m, 'system' FROM unnest($1::text[], $2::jsonb[]) AS s(i, m)
             WHERE NOT EXISTS (SELECT 1 FROM assessment_models)
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(ids)
        .bind(bodies)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// Whether model `model`'s results for `month` are published, and by whom.
    pub async fn assessment_publication(
        &self,
        model: &str,
        month: NaiveDate,
    ) -> Result<Option<Publication>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT published, decided_by, decided_at FROM assessment_publications WHERE model = $1 AND month = $2",
        )
        .bind(model)
        .bind(month)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Publishes or withholds model `model`'s results for `month`, with `audit`.
    pub async fn publish_assessment(
        &self,
        model: &str,
        month: NaiveDate,
        published: bool,
        mut audit: AuditEntry,
    ) -> Result<Publication, StoreError> {
        let now = Utc::now();
        let mut tx = self.pool.begin().await?;
        let publication: Publication = sqlx::query_as(
            "INSERT INTO assessment_publications (model, month, published, decided_by, decided_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (model, month) DO UPDATE SET published = EXCLUDED.published,
                 decided_by = EXCLUDED.decided_by, decided_at = EXCLUDED.decided_at
             RETURNING published, decided_by, decided_at",
        )
        .bind(model)
        .bind(month)
        .bind(published)
        .bind(&audit.who.actor)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        if let Some(detail) = audit.detail.as_object_mut() {
            detail.insert("published".into(), json!(published));
        }
        Store::audit(&mut tx, now, &[audit]).await?;
        tx.commit().await?;
        Ok(publication)
    }

    /// The cases of `[from, to)` by street or department: resolved in it with a deadline
    /// and of those closed by it; evaluated among those resolved in it and satisfied; due
    /// in it and of those past due (closed after it, or open at `now` after it). Subjects
    /// with no case are left out.
    pub async fn case_month(
        &self,
        group: CaseGroup,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Vec<CaseMonth>, StoreError> {
        let subject = match group {
            CaseGroup::Street => "street_code",
            CaseGroup::Department => "assignee ->> 'department'",
        };
        let resolved = "status IN ('closed', 'evaluated_satisfied', 'evaluated_unsatisfied') \
                        AND closed_at >= $1 AND closed_at < $2";
        // Only the two fixed texts above are formatted in; every value is bound.
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {subject} AS subject,
                 count(*) FILTER (WHERE {resolved} AND due_at IS NOT NULL) AS resolved_with_deadline,
                 count(*) FILTER (WHERE {resolved} AND due_at IS NOT NULL AND closed_at <= due_at) AS on_time,
                 count(*) FILTER (WHERE {resolved} AND evaluation IS NOT NULL) AS evaluated,
                 count(*) FILTER (WHERE {resolved} AND evaluation -> 'verdict' = '\"satisfied\"'::jsonb) AS satisfied,
                 count(*) FILTER (WHERE due_at >= $1 AND due_at < $2) AS due,
                 count(*) FILTER (WHERE due_at >= $1 AND due_at < $2
                     AND (closed_at > due_at OR (closed_at IS NULL AND due_at < $3))) AS overdue
             FROM cases
             WHERE {subject} IS NOT NULL AND ((closed_at >= $1 AND closed_at < $2) OR (due_at >= $1 AND due_at < $2))
             GROUP BY 1 ORDER BY 1"
        )))
        .bind(from)
        .bind(to)
        .bind(now)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The values of each `(indicator, period)` in `wanted` in every street (a region code of
    /// nine digits): indicator, street, value.
    pub async fn street_values(
        &self,
        wanted: &[(String, NaiveDate)],
    ) -> Result<Vec<(String, String, f64)>, StoreError> {
        let (ids, periods): (Vec<&str>, Vec<NaiveDate>) = wanted.iter().map(|(i, p)| (i.as_str(), *p)).unzip();
        Ok(sqlx::query_as(
            "SELECT v.indicator, v.region, v.value FROM indicator_values v
             JOIN unnest($1::text[], $2::date[]) AS w(i, p) ON v.indicator = w.i AND v.period = w.p
             WHERE length(v.region) = 9",
        )
        .bind(ids)
        .bind(periods)
        .fetch_all(&self.pool)
        .await?)
    }
}
