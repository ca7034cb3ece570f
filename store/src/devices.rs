//! The `devices` table: the registry of sensors, each tagged with its regions.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{FromRow, PgConnection, Postgres, QueryBuilder};

use super::{CaseScope, Store, StoreError};

/// A device as stored (its credential stays in the store).
#[allow(missing_docs)] // One field per column; see migrations/0004_devices.sql.
#[derive(Debug, Clone, FromRow)]
pub struct DeviceRow {
    pub id: String,
    pub device_type: String,
    pub lon: f64,
    pub lat: f64,
    pub outside_district: bool,
    pub street_code: Option<String>,
    pub village_code: Option<String>,
    pub grid_code: Option<String>,
    pub metadata: Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const DEVICE_COLUMNS: &str = "id, device_type, ST_X(location) AS lon, ST_Y(location) AS lat, outside_district,
    street_code, village_code, grid_code, metadata, created_at, updated_at";

/// A device to write: the row and, for a new one, its credential's digest.
#[allow(missing_docs)] // One field per column; see migrations/0004_devices.sql.
#[derive(Debug, Clone)]
pub struct NewDevice {
    pub id: String,
    pub device_type: String,
    /// WGS84.
    pub lon: f64,
    pub lat: f64,
    pub outside_district: bool,
    pub street_code: Option<String>,
    pub village_code: Option<String>,
    pub grid_code: Option<String>,
    pub metadata: Value,
    pub credential_hash: String,
}

/// Filters for the device list.
#[derive(Debug, Clone, Default)]
pub struct DeviceFilter {
    /// One device type.
    pub device_type: Option<String>,
    /// A region code at any level.
    pub region: Option<String>,
    /// Keyset pagination: ids after this one.
    pub after: Option<String>,
    /// Page size.
    pub limit: i64,
    /// What the caller may see.
    pub scope: CaseScope,
}

impl Store {
    /// Writes devices: new ones inserted with their credential, known ones updated (type,
    /// place, regions, metadata) keeping theirs. The ids that were new.
    pub async fn upsert_devices(tx: &mut PgConnection, devices: &[NewDevice]) -> Result<Vec<String>, StoreError> {
        let col = |f: &dyn Fn(&NewDevice) -> Option<String>| devices.iter().map(f).collect::<Vec<_>>();
        let new: Vec<Option<String>> = sqlx::query_scalar(
            "INSERT INTO devices (id, device_type, location, outside_district, street_code, village_code, grid_code,
                 metadata, credential_hash)
             SELECT id, device_type, ST_SetSRID(ST_MakePoint(lon, lat), 4326), outside_district, street_code,
                 village_code, grid_code, metadata, credential_hash
             FROM unnest($1::text[], $2::text[], $3::float8[], $4::float8[], $5::bool[], $6::text[], $7::text[],
                 $8::text[], $9::jsonb[], $10::text[])
                 AS d(id, device_type, lon, lat, outside_district, street_code, village_code, grid_code, metadata,
                      credential_hash)
             ON CONFLICT (id) DO UPDATE SET device_type = EXCLUDED.device_type, location = EXCLUDED.location,
                 outside_district = EXCLUDED.outside_district, street_code = EXCLUDED.street_code,
                 village_code = EXCLUDED.village_code, grid_code = EXCLUDED.grid_code, metadata = EXCLUDED.metadata,
                 updated_at = now()
             RETURNING CASE WHEN xmax = 0 THEN id END",
        )
        .bind(col(&|d| Some(d.id.clone())))
        .bind(col(&|d| Some(d.device_type.clone())))
        .bind(devices.iter().map(|d| d.lon).collect::<Vec<_>>())
        .bind(devices.iter().map(|d| d.lat).collect::<Vec<_>>())
        .bind(devices.iter().map(|d| d.outside_district).collect::<Vec<_>>())
        .bind(col(&|d| d.street_code.clone()))
        .bind(col(&|d| d.village_code.clone()))
        .bind(col(&|d| d.grid_code.clone()))
        .bind(devices.iter().map(|d| d.metadata.clone()).collect::<Vec<_>>())
        .bind(col(&|d| Some(d.credential_hash.clone())))
        .fetch_all(&mut *tx)
        .await?;
        Ok(new.into_iter().flatten().collect())
    }

    /// Replaces devices' credentials: (id, SHA-256 of the new credential).
    pub async fn set_device_credentials(
        tx: &mut PgConnection,
        credentials: &[(String, String)],
    ) -> Result<(), StoreError> {
        if credentials.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "UPDATE devices d SET credential_hash = c.hash, updated_at = now()
             FROM unnest($1::text[], $2::text[]) AS c(id, hash) WHERE d.id = c.id",
        )
        .bind(credentials.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>())
        .bind(credentials.iter().map(|(_, hash)| hash.as_str()).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await?;
        Ok(())
    }

    /// Devices matching `filter`, by id.
    pub async fn devices(&self, filter: &DeviceFilter) -> Result<Vec<DeviceRow>, StoreError> {
        let mut q: QueryBuilder<Postgres> =
            QueryBuilder::new(format!("SELECT {DEVICE_COLUMNS} FROM devices WHERE true"));
        super::cases::push_scope(&mut q, &filter.scope);
        if let Some(t) = &filter.device_type {
            q.push(" AND device_type = ").push_bind(t.clone());
        }
        if let Some(region) = &filter.region {
            q.push(" AND (street_code = ").push_bind(region.clone());
            q.push(" OR village_code = ").push_bind(region.clone());
            q.push(" OR grid_code = ").push_bind(region.clone());
            q.push(" OR (NOT outside_district AND EXISTS (SELECT 1 FROM regions r WHERE r.code = ")
                .push_bind(region.clone())
                .push(" AND r.level = 'district')))");
        }
        if let Some(after) = &filter.after {
            q.push(" AND id > ").push_bind(after.clone());
        }
        q.push(" ORDER BY id LIMIT ").push_bind(filter.limit);
        Ok(q.build_query_as().fetch_all(&self.pool).await?)
    }

    /// One device, if the scope lets its caller see it.
    pub async fn device_in(&self, id: &str, scope: &CaseScope) -> Result<Option<DeviceRow>, StoreError> {
        let mut q: QueryBuilder<Postgres> =
            QueryBuilder::new(format!("SELECT {DEVICE_COLUMNS} FROM devices WHERE id = "));
        q.push_bind(id.to_string());
        super::cases::push_scope(&mut q, scope);
        Ok(q.build_query_as().fetch_optional(&self.pool).await?)
    }

    /// The digest of a device's credential.
    pub async fn device_credential(&self, id: &str) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT credential_hash FROM devices WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }
}
