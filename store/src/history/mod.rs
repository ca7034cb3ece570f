//! Writing a generated history in bulk: the people (departments, accounts and their roles)
//! and the cases with their timelines, by `COPY` in one transaction, with the case ids
//! taken as one block of the cases' sequence first (so live cases created meanwhile never
//! collide with them), the seeding recorded in `history_seeds` and in the audit trail.
//! Nothing goes on the live log: the past is not news; screens load it over REST.
//! The sample sensors' past (readings, aggregates, alarms) follows in a second
//! transaction (`sensors.rs`).

mod copy;
mod followed;
mod sensors;

use chrono::{DateTime, Utc};
use cockpit_access::Role;
use sqlx::{AssertSqlSafe, Postgres, Transaction};

pub use copy::{CopyChunk, PastCase};
pub use sensors::{PastAlarmRow, SensorChunk, SensorWriter, SensorsWritten};

use crate::{AuditEntry, NewUser, Store, StoreError};

/// One history being written, in its transaction.
pub struct HistoryWriter {
    tx: Transaction<'static, Postgres>,
    first_case: i64,
    cases: u64,
    written: u64,
    /// The secondary indexes dropped for the load, as the catalogue defines them.
    indexes: Vec<String>,
}

/// The foreign key from timeline entries to their case, dropped for the load and added
/// again (checked once, by one join) before the commit.
const TIMELINE_CASE_KEY: &str = "case_timeline_case_id_fkey";

/// What a finished seeding wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeedRecord {
    /// The seed.
    pub seed: i64,
    /// Days of history.
    pub days: i32,
    /// Cases written.
    pub cases: i64,
    /// The first case's id.
    pub first_case: i64,
    /// The last case's id.
    pub last_case: i64,
}

impl Store {
    /// The seedings recorded so far, oldest first.
    pub async fn history_seeds(&self) -> Result<Vec<SeedRecord>, StoreError> {
        let rows: Vec<(i64, i32, i64, i64, i64)> =
            sqlx::query_as("SELECT seed, days, cases, first_case, last_case FROM history_seeds ORDER BY id")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(seed, days, cases, first_case, last_case)| SeedRecord { seed, days, cases, first_case, last_case })
            .collect())
    }

    /// Starts writing a history of `cases` cases: takes their ids, as one block, from the
    /// cases' sequence (the first is [`HistoryWriter::first_case`]), and opens the
    /// transaction everything else goes into.
    pub async fn history_writer(&self, cases: u64) -> Result<HistoryWriter, StoreError> {
        let n = i64::try_from(cases).map_err(|_| StoreError::Corrupt(format!("{cases} cases")))?;
        // One statement: nextval and setval together, so that no other caller's nextval
        // can fall inside the block between them.
        let last: i64 = sqlx::query_scalar("SELECT setval('cases_id_seq', nextval('cases_id_seq') + $1 - 1)")
            .bind(n.max(1))
            .fetch_one(&self.pool)
            .await?;
        let mut tx = self.pool.begin().await?;
        // Copying into indexed tables costs about ten times copying into bare ones (the
        // trigram and spatial indexes most), and the timeline's foreign key checks each row:
        // the secondary indexes and the key go for the load and come back before the
        // commit, built once. Both tables are locked meanwhile: case reads and writes wait
        // for the history (BENCHMARKS.md), and find it whole.
        sqlx::query("LOCK TABLE cases, case_timeline IN ACCESS EXCLUSIVE MODE").execute(&mut *tx).await?;
        sqlx::query("SET LOCAL maintenance_work_mem = '256MB'").execute(&mut *tx).await?;
        let indexes: Vec<(String, String)> = sqlx::query_as(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i
             JOIN pg_class c ON c.relname = i.indexname
             JOIN pg_index x ON x.indexrelid = c.oid
             WHERE i.schemaname = current_schema() AND i.tablename IN ('cases', 'case_timeline')
               AND NOT x.indisprimary AND NOT x.indisunique",
        )
        .fetch_all(&mut *tx)
        .await?;
        for (name, _) in &indexes {
            sqlx::query(AssertSqlSafe(format!("DROP INDEX \"{}\"", name.replace('"', "\"\""))))
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(AssertSqlSafe(format!("ALTER TABLE case_timeline DROP CONSTRAINT IF EXISTS {TIMELINE_CASE_KEY}")))
            .execute(&mut *tx)
            .await?;
        let indexes = indexes.into_iter().map(|(_, definition)| definition).collect();
        Ok(HistoryWriter { tx, first_case: last - n.max(1) + 1, cases, written: 0, indexes })
    }
}

impl HistoryWriter {
    /// The id of the history's first case; the others follow in order.
    pub fn first_case(&self) -> i64 {
        self.first_case
    }

    /// Adds the departments that are missing (id, name, parent) and the accounts with their
    /// one role each (an account whose username exists is left as it is).
    pub async fn people(
        &mut self,
        departments: &[(String, String, Option<String>)],
        users: &[(NewUser, Role)],
    ) -> Result<u64, StoreError> {
        for (id, name, parent) in departments {
            sqlx::query("INSERT INTO departments (id, name, parent_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                .bind(id)
                .bind(name)
                .bind(parent)
                .execute(&mut *self.tx)
                .await?;
        }
        let col = |f: &dyn Fn(&(NewUser, Role)) -> Option<String>| users.iter().map(f).collect::<Vec<_>>();
        let done = sqlx::query(
            "WITH u AS (
                 INSERT INTO users (username, display_name, password_hash, department_id, scope_level, scope_code,
                     must_change_password)
                 SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bool[])
                 ON CONFLICT (username) DO NOTHING
                 RETURNING id, username)
             INSERT INTO user_roles (user_id, role)
             SELECT u.id, r.role FROM u JOIN unnest($1::text[], $8::text[]) AS r(username, role) USING (username)",
        )
        .bind(col(&|(u, _)| Some(u.username.clone())))
        .bind(col(&|(u, _)| Some(u.display_name.clone())))
        .bind(col(&|(u, _)| Some(u.password_hash.clone())))
        .bind(col(&|(u, _)| u.department_id.clone()))
        .bind(col(&|(u, _)| Some(u.scope.level.as_str().to_string())))
        .bind(col(&|(u, _)| Some(u.scope.code.clone())))
        .bind(users.iter().map(|(u, _)| u.must_change_password).collect::<Vec<_>>())
        .bind(col(&|(_, r)| Some(r.as_str().to_string())))
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected())
    }

    /// Copies a chunk of cases, then their timeline entries.
    pub async fn write(&mut self, chunk: &CopyChunk) -> Result<(), StoreError> {
        if chunk.is_empty() {
            return Ok(());
        }
        let sql = format!("COPY cases ({}) FROM STDIN", copy::CASE_COLUMNS);
        let mut copy = self.tx.copy_in_raw(&sql).await?;
        copy.send(chunk.cases.as_bytes()).await?;
        copy.finish().await?;
        let sql = format!("COPY case_timeline ({}) FROM STDIN", copy::TIMELINE_COLUMNS);
        let mut copy = self.tx.copy_in_raw(&sql).await?;
        copy.send(chunk.timeline.as_bytes()).await?;
        copy.finish().await?;
        self.written += chunk.case_rows;
        Ok(())
    }

    /// Records the seeding (and `audit`) and commits, the indexes and the key back in
    /// place but the trigram text index and the spatial ones, which
    /// [`DeferredIndexes::build`] builds after the commit without locking the table (about
    /// half of the index work; text search and map queries scan meanwhile, and a crash
    /// before it leaves them without their indexes).
    pub async fn finish(
        mut self,
        seed: u64,
        days: u32,
        ends_at: DateTime<Utc>,
        audit: AuditEntry,
    ) -> Result<(SeedRecord, DeferredIndexes), StoreError> {
        if self.written != self.cases {
            return Err(StoreError::Corrupt(format!("{} cases written of {} planned", self.written, self.cases)));
        }
        let record = SeedRecord {
            seed: seed as i64,
            days: i32::try_from(days).unwrap_or(i32::MAX),
            cases: self.cases as i64,
            first_case: self.first_case,
            last_case: self.first_case + self.cases as i64 - 1,
        };
        sqlx::query(
            "INSERT INTO history_seeds (seed, days, cases, first_case, last_case, ends_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(record.seed)
        .bind(record.days)
        .bind(record.cases)
        .bind(record.first_case)
        .bind(record.last_case)
        .bind(ends_at)
        .execute(&mut *self.tx)
        .await?;
        let (later, now): (Vec<String>, Vec<String>) =
            self.indexes.into_iter().partition(|definition| deferred(definition));
        for definition in now {
            sqlx::query(AssertSqlSafe(definition)).execute(&mut *self.tx).await?;
        }
        sqlx::query(AssertSqlSafe(format!(
            "ALTER TABLE case_timeline ADD CONSTRAINT {TIMELINE_CASE_KEY} FOREIGN KEY (case_id) REFERENCES cases (id)"
        )))
        .execute(&mut *self.tx)
        .await?;
        Store::audit(&mut self.tx, Utc::now(), &[audit]).await?;
        self.tx.commit().await?;
        Ok((record, DeferredIndexes(later)))
    }
}

/// Whether an index of the cases is built after the history's commit: the trigram text
/// index and the spatial ones, which the first screens (lists, statistics, the phone's
/// tasks) do not need and which take the longest to build.
fn deferred(definition: &str) -> bool {
    definition.contains("gin_trgm_ops") || definition.contains("USING gist")
}

/// Indexes a history's load left to build after its commit.
#[derive(Debug, Clone, Default)]
pub struct DeferredIndexes(Vec<String>);

impl DeferredIndexes {
    /// Builds them (`CREATE INDEX CONCURRENTLY`: reads and writes go on), then refreshes
    /// the planner's statistics of the two tables, which grew by far.
    pub async fn build(self, store: &Store) -> Result<(), StoreError> {
        for definition in self.0 {
            let concurrently = definition.replacen("CREATE INDEX", "CREATE INDEX CONCURRENTLY", 1);
            sqlx::query(AssertSqlSafe(concurrently)).execute(store.pool()).await?;
        }
        sqlx::query("ANALYZE cases, case_timeline").execute(store.pool()).await?;
        Ok(())
    }
}
