//! The cockpit's system of record: PostgreSQL + PostGIS through sqlx. Connecting (to
//! `DATABASE_URL` or the embedded cluster), the migrations embedded in the binary, and
//! every read and write of every table, the live log's included.
//!
//! It stands on the domain crates and sqlx only: no HTTP, no live hub, no server module.
//! Callers pass plain values in (times, codes, rows) and get rows back; "today" is the
//! caller's, from the city's working calendar.

mod access;
mod action_keys;
mod alarms;
mod archive;
mod assessment;
mod attachments;
mod audit;
mod backup;
mod cases;
mod deadlines;
mod devices;
mod documents;
mod embedded;
mod history;
mod indicator_alarms;
mod indicator_catalogue;
mod indicator_pulls;
mod indicator_rows;
mod indicator_thresholds;
mod indicator_values;
mod iot_members;
pub mod live_log;
mod logins;
mod open311_keys;
mod readings_copy;
mod readings_rollup;
mod sealing;
mod sessions;
mod stats;
mod telemetry;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, PgPool};

pub use access::{Credentials, NewUser, RoleRow, UserRow};
pub use alarms::{AlarmFilter, AlarmRow, AlarmWrite, RaisedAlarm};
pub use archive::ArchiveStatus;
pub use assessment::{CaseGroup, CaseMonth, Publication, StoredModel};
pub use attachments::{Attachment, Recorded};
pub use audit::{AuditActor, AuditEntry, AuditFilter, AuditRow, ChainReport};
pub use backup::{Archiving, BackupKind, BackupRepository, BackupSet, RepositoryInfo};
pub use cases::live_entry;
pub use cases::{
    Assigned, CaseFilter, CaseRow, CaseScope, CaseSort, InsertCase, Lookup, NearCase, NearQuery, TimelineRow,
};
pub use devices::{DeviceFilter, DeviceRow, NewDevice};
pub use documents::StoredDocument;
pub use embedded::EmbeddedPostgres;
pub use history::{
    CopyChunk, DeferredIndexes, HistoryWriter, PastAlarmRow, PastCase, SeedRecord, SensorChunk, SensorWriter,
    SensorsWritten,
};
pub use indicator_alarms::{AlarmStep, EpisodeChange, IndicatorAlarmFilter, IndicatorAlarmRow, Stepped, WantedCase};
pub use indicator_catalogue::{CatalogueChange, IndicatorSourceRow, StoredIndicator};
pub use indicator_pulls::{PullDefinition, PullOutcome, PullRow};
pub use indicator_rows::Placer;
pub use indicator_thresholds::ThresholdRow;
pub use indicator_values::{NewValue, ValueRow};
pub use iot_members::StoredReading;
pub use logins::{LoginFailures, LoginStanding};
pub use open311_keys::Open311Key;
pub use sealing::StoredReporter;
pub use sessions::SessionGrant;
pub use stats::{CaseStats, CountsByRegion, IndicatorQuery, RegionTally, StatsLevel, Tally};
pub use telemetry::{DeviceLogin, EventRow, HistoryPoint, ReadingRow};

/// The statuses of an open case (in the pool or with a handler), as stored: bound into the
/// queries that need them, so that the lifecycle crate stays their one definition.
pub fn open_statuses() -> Vec<String> {
    cockpit_events::Status::ALL.into_iter().filter(|s| s.is_open()).map(|s| s.as_str().to_string()).collect()
}

/// The migrations, applied at start.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The database, shared by every handler.
#[derive(Clone, Debug)]
pub struct Store {
    pool: PgPool,
}

/// What a store operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database said no or could not be reached.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    /// A stored value could not be read back (a bug or a hand-edited row).
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// The migrations could not be applied.
    #[error("applying migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The embedded cluster could not be made, started or stopped.
    #[error("{0}")]
    Cluster(String),
    /// A backup, a restore or the WAL archive failed (pgBackRest's own words).
    #[error("{0}")]
    Backup(String),
    /// `DATABASE_URL` is not a PostgreSQL URL, or its database could not be made.
    #[error("{0}")]
    Connect(String),
}

impl Store {
    /// Connects to `url`, creating its database when it does not exist (the embedded
    /// cluster starts with none), and applies the migrations.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Store, StoreError> {
        let options: PgConnectOptions =
            url.parse().map_err(|e| StoreError::Connect(format!("DATABASE_URL is not a PostgreSQL URL: {e}")))?;
        let options = options.log_statements(tracing::log::LevelFilter::Trace);
        let database = options.get_database().unwrap_or("postgres").to_string();
        if let Err(first) = options.connect().await {
            // Create the database from the maintenance one, then try again.
            let mut admin = options
                .clone()
                .database("postgres")
                .connect()
                .await
                .map_err(|e| StoreError::Connect(format!("connecting to PostgreSQL: {e}")))?;
            sqlx::query(AssertSqlSafe(format!("CREATE DATABASE \"{}\"", database.replace('"', ""))))
                .execute(&mut admin)
                .await
                .map_err(|e| {
                    StoreError::Connect(format!("creating database {database} (connecting had failed: {first}): {e}"))
                })?;
            admin.close().await.ok();
        }
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Connect(format!("connecting to PostgreSQL: {e}")))?;
        MIGRATOR.run(&pool).await?;
        Ok(Store { pool })
    }

    /// The pool.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Writes every region of the city (upsert by code, one statement), so that PostGIS
    /// can answer region queries over history.
    pub async fn sync_regions(&self, regions: &[RegionRecord]) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO regions (code, level, name, parent_code, geom)
             SELECT code, level, name, parent_code, ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(geometry), 4326))
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
                 AS r(code, level, name, parent_code, geometry)
             ON CONFLICT (code) DO UPDATE
             SET level = EXCLUDED.level, name = EXCLUDED.name, parent_code = EXCLUDED.parent_code, geom = EXCLUDED.geom",
        )
        .bind(regions.iter().map(|r| r.code.clone()).collect::<Vec<_>>())
        .bind(regions.iter().map(|r| r.level.clone()).collect::<Vec<_>>())
        .bind(regions.iter().map(|r| r.name.clone()).collect::<Vec<_>>())
        .bind(regions.iter().map(|r| r.parent_code.clone()).collect::<Vec<_>>())
        .bind(regions.iter().map(|r| r.geometry.clone()).collect::<Vec<_>>())
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

/// A region as stored: its boundary as a GeoJSON geometry's text.
#[derive(Debug, Clone)]
#[allow(missing_docs)] // One field per column.
pub struct RegionRecord {
    pub code: String,
    pub level: String,
    pub name: String,
    pub parent_code: Option<String>,
    pub geometry: String,
}

/// A configured gateway source, as stored.
#[derive(Debug, Clone)]
#[allow(missing_docs)] // One field per column; see migrations/0001_cases.sql.
pub struct SourceRecord {
    pub id: String,
    pub name: String,
    pub kind: Option<String>,
    pub token_sha256: Option<String>,
    pub mapping: Option<serde_json::Value>,
    pub rate_per_minute: i32,
}

impl Store {
    /// Writes the configured sources (upsert by id); `enabled` stays as operators set it,
    /// and so does a generated token where the configuration names none.
    pub async fn sync_sources(&self, sources: &[SourceRecord]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        for source in sources {
            sqlx::query(
                "INSERT INTO sources (id, name, kind, credential_hash, mapping, rate_per_minute)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, kind = EXCLUDED.kind,
                     credential_hash = COALESCE(EXCLUDED.credential_hash, sources.credential_hash),
                     mapping = EXCLUDED.mapping,
                     rate_per_minute = EXCLUDED.rate_per_minute",
            )
            .bind(&source.id)
            .bind(&source.name)
            .bind(&source.kind)
            .bind(&source.token_sha256)
            .bind(&source.mapping)
            .bind(source.rate_per_minute)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// A source as listed: id, name, kind, enabled, last delivery, cases created since the given time.
pub type SourceRow = (String, String, String, bool, Option<chrono::DateTime<chrono::Utc>>, i64);

impl Store {
    /// Whether a source is enabled, and the SHA-256 of its bearer token; `None` for an
    /// unknown source.
    pub async fn source_gate(&self, id: &str) -> Result<Option<(bool, Option<String>)>, StoreError> {
        Ok(sqlx::query_as("SELECT enabled, credential_hash FROM sources WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Sets a source's token hash, audited in the same transaction. With `only_if_none`,
    /// only where it has none yet (a first start; false when another instance was first).
    /// False when nothing was set.
    pub async fn set_source_token(
        &self,
        id: &str,
        token_sha256: &str,
        only_if_none: bool,
        who: &AuditActor,
    ) -> Result<bool, StoreError> {
        let update = sqlx::query(
            "UPDATE sources SET credential_hash = $2 WHERE id = $1 AND (NOT $3 OR credential_hash IS NULL)",
        )
        .bind(id)
        .bind(token_sha256)
        .bind(only_if_none);
        let detail = serde_json::json!({"first_start": only_if_none});
        self.audited_source_change(update, id, "source.token_issue", detail, who).await
    }

    /// Runs `update` of source `id`'s row and, when it changed the row, its audit record,
    /// in one transaction; whether it changed the row.
    async fn audited_source_change(
        &self,
        update: sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments>,
        id: &str,
        action: &str,
        detail: serde_json::Value,
        who: &AuditActor,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        if update.execute(&mut *tx).await?.rows_affected() != 1 {
            return Ok(false);
        }
        let entry = AuditEntry {
            who: who.clone(),
            action: action.into(),
            object: format!("source:{id}"),
            result: "ok".into(),
            detail,
        };
        Store::audit(&mut tx, chrono::Utc::now(), &[entry]).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Notes a successful delivery.
    pub async fn record_delivery(&self, id: &str, at: chrono::DateTime<chrono::Utc>) -> Result<(), StoreError> {
        sqlx::query("UPDATE sources SET last_delivery_at = $2 WHERE id = $1")
            .bind(id)
            .bind(at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Switches a source, audited in the same transaction; false when there is no such
    /// source.
    pub async fn set_source_enabled(&self, id: &str, enabled: bool, who: &AuditActor) -> Result<bool, StoreError> {
        let update = sqlx::query("UPDATE sources SET enabled = $2 WHERE id = $1").bind(id).bind(enabled);
        let detail = serde_json::json!({"enabled": enabled});
        self.audited_source_change(update, id, "source.set_enabled", detail, who).await
    }

    /// Every source with its state, and the cases each created since `since` (the start of
    /// the city's day).
    pub async fn sources(&self, since: chrono::DateTime<chrono::Utc>) -> Result<Vec<SourceRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT s.id, s.name, s.kind, s.enabled, s.last_delivery_at,
                 (SELECT count(*) FROM cases c WHERE c.source_id = s.id
                    AND c.created_at >= $1)
             FROM sources s ORDER BY s.id",
        )
        .bind(since)
        .fetch_all(&self.pool)
        .await?)
    }
}
