//! The `live_log`, `live_head` and `live_state` tables: appending entries in the writer's
//! transaction (numbered by the one counter row, notified at commit), reading them back in
//! order, and pruning each channel to its newest rows.

use cockpit_live::{Channel, Epoch, Offset};
use serde_json::Value;
use sqlx::postgres::PgListener;
use sqlx::{FromRow, PgConnection, PgPool};

use crate::StoreError;

/// The channel every instance listens on; the payload is the last offset written.
pub const NOTIFY_CHANNEL: &str = "cockpit_live";

/// A log entry to write.
#[allow(missing_docs)] // One field per column; see migrations/0010_live.sql.
#[derive(Debug, Clone)]
pub struct NewEntry {
    pub channel: Channel,
    pub key: String,
    pub regions: Vec<String>,
    pub position: Option<(f64, f64)>,
    pub layer: Option<String>,
    pub assignee: Option<Value>,
    pub payload: Value,
}

/// A log entry as read.
#[allow(missing_docs)] // One field per column.
#[derive(Debug, Clone, FromRow)]
pub struct LogRow {
    pub seq: i64,
    pub channel: String,
    pub key: String,
    pub regions: Vec<String>,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub layer: Option<String>,
    pub assignee: Option<Value>,
    pub payload: Value,
}

/// Appends `entries` in the caller's transaction: their offsets, in order. Take this last
/// in a transaction: it holds the counter row's lock until the commit, which is what keeps
/// offsets committing in order.
pub async fn append(tx: &mut PgConnection, entries: &[NewEntry]) -> Result<(Epoch, Offset), StoreError> {
    let n = entries.len() as i64;
    let (epoch, last): (i64, i64) = sqlx::query_as(
        "WITH h AS (UPDATE live_head SET last = last + $1 RETURNING epoch, last),
         input AS (
             SELECT * FROM unnest($2::text[], $3::text[], $4::jsonb[], $5::float8[], $6::float8[], $7::text[],
                 $8::jsonb[], $9::jsonb[]) WITH ORDINALITY
             AS i(channel, key, regions, lon, lat, layer, assignee, payload, n)),
         logged AS (
             INSERT INTO live_log (seq, channel, key, regions, lon, lat, layer, assignee, payload)
             SELECT h.last - $1 + i.n, i.channel, i.key, ARRAY(SELECT jsonb_array_elements_text(i.regions)),
                 i.lon, i.lat, i.layer, i.assignee, i.payload
             FROM input i, h),
         latest AS (
             SELECT DISTINCT ON (channel, key) * FROM input
             WHERE channel IN ('alarms', 'devices') ORDER BY channel, key, n DESC),
         kept AS (
             INSERT INTO live_state (channel, key, seq, regions, lon, lat, layer, payload, at)
             SELECT l.channel, l.key, h.last - $1 + l.n, ARRAY(SELECT jsonb_array_elements_text(l.regions)),
                 l.lon, l.lat, l.layer, l.payload, now()
             FROM latest l, h
             ON CONFLICT (channel, key) DO UPDATE SET seq = EXCLUDED.seq, regions = EXCLUDED.regions,
                 lon = EXCLUDED.lon, lat = EXCLUDED.lat, layer = EXCLUDED.layer, payload = EXCLUDED.payload,
                 at = EXCLUDED.at)
         SELECT h.epoch, h.last FROM h, LATERAL (SELECT pg_notify($10, h.last::text)) AS notified",
    )
    .bind(n)
    .bind(entries.iter().map(|e| e.channel.as_str().to_string()).collect::<Vec<_>>())
    .bind(entries.iter().map(|e| e.key.clone()).collect::<Vec<_>>())
    .bind(entries.iter().map(|e| serde_json::json!(e.regions)).collect::<Vec<_>>())
    .bind(entries.iter().map(|e| e.position.map(|p| p.0)).collect::<Vec<_>>())
    .bind(entries.iter().map(|e| e.position.map(|p| p.1)).collect::<Vec<_>>())
    .bind(entries.iter().map(|e| e.layer.clone()).collect::<Vec<_>>())
    .bind(entries.iter().map(|e| e.assignee.clone()).collect::<Vec<_>>())
    .bind(entries.iter().map(|e| e.payload.clone()).collect::<Vec<_>>())
    .bind(NOTIFY_CHANNEL)
    .fetch_one(&mut *tx)
    .await?;
    Ok((Epoch(epoch as u64), Offset(last as u64)))
}

/// Appends `entries` in a transaction of their own: the offset of the last. With
/// `durable` false the commit does not wait for the disk (`synchronous_commit = off`: for
/// values that the next one supersedes).
pub async fn publish(pool: &PgPool, entries: &[NewEntry], durable: bool) -> Result<Offset, StoreError> {
    let mut tx = pool.begin().await?;
    if !durable {
        sqlx::query("SET LOCAL synchronous_commit = off").execute(&mut *tx).await?;
    }
    let (_, last) = append(&mut tx, entries).await?;
    tx.commit().await?;
    Ok(last)
}

/// A connection that hears every append (the payload is the last offset written).
pub async fn listen(pool: &PgPool) -> Result<PgListener, StoreError> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(NOTIFY_CHANNEL).await?;
    Ok(listener)
}

/// The log's epoch and last offset.
pub async fn head(pool: &PgPool) -> Result<(Epoch, Offset), StoreError> {
    let (epoch, last): (i64, i64) = sqlx::query_as("SELECT epoch, last FROM live_head").fetch_one(pool).await?;
    Ok((Epoch(epoch as u64), Offset(last as u64)))
}

/// Up to `limit` entries after `after`, oldest first.
pub async fn since(pool: &PgPool, after: Offset, limit: i64) -> Result<Vec<LogRow>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT seq, channel, key, regions, lon, lat, layer, assignee, payload FROM live_log
         WHERE seq > $1 ORDER BY seq LIMIT $2",
    )
    .bind(after.0 as i64)
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

/// The newest `limit` entries of `channel` up to `upto`, oldest first (to fill a history).
pub async fn newest(pool: &PgPool, channel: Channel, upto: Offset, limit: i64) -> Result<Vec<LogRow>, StoreError> {
    let mut rows: Vec<LogRow> = sqlx::query_as(
        "SELECT seq, channel, key, regions, lon, lat, layer, assignee, payload FROM live_log
         WHERE channel = $1 AND seq <= $2 ORDER BY seq DESC LIMIT $3",
    )
    .bind(channel.as_str())
    .bind(upto.0 as i64)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.reverse();
    Ok(rows)
}

/// Deletes all but the newest `keep` entries of each channel.
pub async fn prune(pool: &PgPool, keep: i64) -> Result<u64, StoreError> {
    let mut deleted = 0;
    for channel in Channel::ALL {
        deleted += sqlx::query(
            "DELETE FROM live_log WHERE channel = $1 AND seq <= (
                 SELECT seq FROM live_log WHERE channel = $1 ORDER BY seq DESC OFFSET $2 LIMIT 1)",
        )
        .bind(channel.as_str())
        .bind(keep)
        .execute(pool)
        .await?
        .rows_affected();
    }
    Ok(deleted)
}

/// A kept alarm or device value.
#[allow(missing_docs)] // One field per column.
#[derive(Debug, Clone, FromRow)]
pub struct StateRow {
    pub key: String,
    pub seq: i64,
    pub regions: Vec<String>,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub layer: Option<String>,
    pub payload: Value,
}

/// The latest value of each key of `channel` tagged with `region` (any region: none),
/// at most `limit`.
pub async fn state(
    pool: &PgPool,
    channel: Channel,
    region: Option<&str>,
    layer: Option<&str>,
    bbox: Option<[f64; 4]>,
    limit: i64,
) -> Result<Vec<StateRow>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT key, seq, regions, lon, lat, layer, payload FROM live_state
         WHERE channel = $1 AND ($2::text IS NULL OR $2 = ANY(regions)) AND ($3::text IS NULL OR layer = $3)
           AND ($4::float8 IS NULL OR (lon BETWEEN $4 AND $6 AND lat BETWEEN $5 AND $7))
         ORDER BY key LIMIT $8",
    )
    .bind(channel.as_str())
    .bind(region)
    .bind(layer)
    .bind(bbox.map(|b| b[0]))
    .bind(bbox.map(|b| b[1]))
    .bind(bbox.map(|b| b[2]))
    .bind(bbox.map(|b| b[3]))
    .bind(limit)
    .fetch_all(pool)
    .await?)
}
