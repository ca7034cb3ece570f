//! The cases the demonstration's simulated handlers follow, kept so that a restart goes on
//! following them (`demo_followed`): the present belongs beside the generated past.

use crate::{Store, StoreError};

impl Store {
    /// Starts following a case (a case followed already keeps its step).
    pub async fn follow_case(&self, case: i64) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO demo_followed (case_id) VALUES ($1) ON CONFLICT DO NOTHING")
            .bind(case)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Records the moves made on a followed case.
    pub async fn followed_step(&self, case: i64, step: u32) -> Result<(), StoreError> {
        sqlx::query("UPDATE demo_followed SET step = $2 WHERE case_id = $1")
            .bind(case)
            .bind(i32::try_from(step).unwrap_or(i32::MAX))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Lets a case go.
    pub async fn unfollow_case(&self, case: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM demo_followed WHERE case_id = $1").bind(case).execute(&self.pool).await?;
        Ok(())
    }

    /// The followed cases and the moves made on each, oldest first.
    pub async fn followed_cases(&self) -> Result<Vec<(i64, u32)>, StoreError> {
        let rows: Vec<(i64, i32)> =
            sqlx::query_as("SELECT case_id, step FROM demo_followed ORDER BY case_id").fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(|(case, step)| (case, step.unsigned_abs())).collect())
    }
}
