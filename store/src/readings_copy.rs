//! Readings in bulk: the history writer's path. `COPY` straight into `readings` inside a
//! savepoint, then what the batch adds to each device, metric and minute appended for the
//! rollup (`readings_rollup.rs`). A value already stored (a message delivered twice) makes
//! the `COPY` fail as a whole; then the savepoint is rolled back and the batch takes
//! [`Store::insert_readings`], which skips what is stored and adds only what is new. So the
//! common case (nothing stored twice) pays neither `ON CONFLICT`'s speculative insertion for
//! every row nor an upsert of the aggregates (BENCHMARKS.md).

use sqlx::PgConnection;

use super::{ReadingRow, Store, StoreError};

impl Store {
    /// Writes readings as [`Store::insert_readings`] does (the values new for their device,
    /// metric and time, their partial aggregates for the rollup), by `COPY`; falls back to it
    /// when a value was stored already. The values stored.
    pub async fn copy_readings(tx: &mut PgConnection, rows: &[ReadingRow]) -> Result<u64, StoreError> {
        if rows.is_empty() {
            return Ok(0);
        }
        let data = binary_rows(rows);
        sqlx::query("SAVEPOINT bulk_readings").execute(&mut *tx).await?;
        let copied = async {
            let mut copy =
                tx.copy_in_raw("COPY readings (device_id, metric, at, value) FROM STDIN (FORMAT binary)").await?;
            copy.send(data).await?;
            copy.finish().await
        }
        .await;
        match copied {
            Ok(_) => {}
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                sqlx::query("ROLLBACK TO SAVEPOINT bulk_readings").execute(&mut *tx).await?;
                return Store::insert_readings(tx, rows).await;
            }
            Err(e) => return Err(e.into()),
        }
        sqlx::query("RELEASE SAVEPOINT bulk_readings").execute(&mut *tx).await?;
        Store::add_reading_partials(tx, rows).await?;
        Ok(rows.len() as u64)
    }
}

/// Microseconds from the Unix epoch to PostgreSQL's, 2000-01-01.
const POSTGRES_EPOCH_US: i64 = 946_684_800_000_000;

/// The rows in `COPY`'s binary format (no text to format or parse: a timestamp is its
/// microseconds since 2000, a value its eight bytes).
fn binary_rows(rows: &[ReadingRow]) -> Vec<u8> {
    let mut out = Vec::with_capacity(19 + rows.len() * 64 + 2);
    out.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
    out.extend_from_slice(&0i32.to_be_bytes()); // flags
    out.extend_from_slice(&0i32.to_be_bytes()); // header extension
    for r in rows {
        out.extend_from_slice(&4i16.to_be_bytes());
        for text in [r.device_id.as_bytes(), r.metric.as_bytes()] {
            out.extend_from_slice(&(text.len() as i32).to_be_bytes());
            out.extend_from_slice(text);
        }
        out.extend_from_slice(&8i32.to_be_bytes());
        out.extend_from_slice(&(r.at.timestamp_micros() - POSTGRES_EPOCH_US).to_be_bytes());
        out.extend_from_slice(&8i32.to_be_bytes());
        out.extend_from_slice(&r.value.to_bits().to_be_bytes());
    }
    out.extend_from_slice(&(-1i16).to_be_bytes());
    out
}
