//! The audit trail: records written in the caller's transaction into `audit_pending`, so
//! that a record exists exactly when the change it describes does, then chained into
//! `audit_log` by cockpit-access's `chain_hash` under the lock of `audit_head` (the
//! server's chainer runs every few hundred milliseconds, and before every read).

use chrono::{DateTime, Utc};
use cockpit_access::{AuditRecord, ChainBreak, ChainVerifier};
use futures_util::TryStreamExt;
use serde_json::Value;
use sqlx::{FromRow, PgConnection};

use super::{Store, StoreError};

/// Who did something, from where: the first half of every audit record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditActor {
    /// The username, a source id, or `system`.
    pub actor: String,
    /// The role acted in (`anonymous` for a failed login).
    pub role: String,
    /// The client's IP address.
    pub address: String,
}

impl AuditActor {
    /// The server itself.
    pub fn system() -> AuditActor {
        AuditActor { actor: "system".into(), role: "system".into(), address: String::new() }
    }
}

/// One thing to record: what was done, to which object, with what result.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    /// Who.
    pub who: AuditActor,
    /// What, as `area.verb`: `auth.login`, `case.dispatch`, `user.grant_role`, ...
    pub action: String,
    /// On which object, as `kind:id`: `case:42`, `user:7`, `source:hotline-12345`.
    pub object: String,
    /// `ok`, `refused` or `failed`.
    pub result: String,
    /// Anything else worth keeping (never personal data in the clear).
    pub detail: Value,
}

/// A stored record with its chain links, as the auditor reads it.
#[allow(missing_docs)] // One field per column; see migrations/0002_access.sql.
#[derive(Debug, Clone, FromRow)]
pub struct AuditRow {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub role: String,
    pub address: String,
    pub action: String,
    pub object: String,
    pub result: String,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditRow {
    fn record(&self) -> AuditRecord {
        AuditRecord {
            seq: self.seq,
            at_micros: self.at.timestamp_micros(),
            actor: self.actor.clone(),
            role: self.role.clone(),
            address: self.address.clone(),
            action: self.action.clone(),
            object: self.object.clone(),
            result: self.result.clone(),
            detail: self.detail.clone(),
        }
    }
}

/// Filters for reading the trail, newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only this actor.
    pub actor: Option<String>,
    /// Only actions starting with this (`case.`, `auth.login`).
    pub action: Option<String>,
    /// Only this object (`case:42`).
    pub object: Option<String>,
    /// Only this result (`ok`, `refused`, `locked`).
    pub result: Option<String>,
    /// Only from this client address.
    pub address: Option<String>,
    /// From this time on.
    pub from: Option<DateTime<Utc>>,
    /// Before this time.
    pub to: Option<DateTime<Utc>>,
    /// Keyset pagination: records before this sequence number.
    pub before_seq: Option<i64>,
    /// Page size.
    pub limit: i64,
}

/// What the verifier found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    /// Records checked.
    pub records: u64,
    /// The hash at the end of the chain.
    pub last_hash: String,
    /// The first break, when there is one.
    pub broken: Option<ChainBreak>,
}

impl Store {
    /// Records `entries` at `at` inside the caller's transaction: they exist exactly when
    /// the change does. They join the hash chain moments later ([`Store::chain_audit`]),
    /// so the commit waits for no other transaction.
    pub async fn audit(tx: &mut PgConnection, at: DateTime<Utc>, entries: &[AuditEntry]) -> Result<(), StoreError> {
        if entries.is_empty() {
            return Ok(());
        }
        // Stored at microsecond precision, so hashed at it.
        let at = DateTime::from_timestamp_micros(at.timestamp_micros()).unwrap_or(at);
        let column = |f: &dyn Fn(&AuditEntry) -> String| entries.iter().map(f).collect::<Vec<_>>();
        sqlx::query(
            "INSERT INTO audit_pending (at, actor, role, address, action, object, result, detail)
             SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                 $8::text[])",
        )
        .bind(at)
        .bind(column(&|e| e.who.actor.clone()))
        .bind(column(&|e| e.who.role.clone()))
        .bind(column(&|e| e.who.address.clone()))
        .bind(column(&|e| e.action.clone()))
        .bind(column(&|e| e.object.clone()))
        .bind(column(&|e| e.result.clone()))
        .bind(column(&|e| e.detail.to_string()))
        .execute(&mut *tx)
        .await?;
        Ok(())
    }

    /// Moves the pending records into the chain, in the order they were written, each
    /// hashed with the one before: how many. Several instances may call it at once: the
    /// head's row lock takes them one at a time.
    pub async fn chain_audit(&self) -> Result<u64, StoreError> {
        const CHUNK: i64 = 5_000;
        let mut total = 0;
        loop {
            let mut tx = self.pool.begin().await?;
            let (mut seq, mut prev): (i64, String) =
                sqlx::query_as("SELECT seq, hash FROM audit_head FOR UPDATE").fetch_one(&mut *tx).await?;
            let mut pending: Vec<AuditRow> = sqlx::query_as(
                "DELETE FROM audit_pending WHERE id IN (SELECT id FROM audit_pending ORDER BY id LIMIT $1)
                 RETURNING id AS seq, at, actor, role, address, action, object, result, detail,
                     '' AS prev_hash, '' AS hash",
            )
            .bind(CHUNK)
            .fetch_all(&mut *tx)
            .await?;
            if pending.is_empty() {
                return Ok(total);
            }
            pending.sort_by_key(|r| r.seq);
            for row in &mut pending {
                seq += 1;
                row.seq = seq;
                let hash = cockpit_access::chain_hash(&prev, &row.record());
                row.prev_hash = std::mem::replace(&mut prev, hash.clone());
                row.hash = hash;
            }
            let column = |f: &dyn Fn(&AuditRow) -> String| pending.iter().map(f).collect::<Vec<_>>();
            sqlx::query(
                "WITH written AS (
                     INSERT INTO audit_log (seq, at, actor, role, address, action, object, result, detail, prev_hash,
                         hash)
                     SELECT * FROM unnest($1::int8[], $2::timestamptz[], $3::text[], $4::text[], $5::text[],
                         $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[])
                     RETURNING seq)
                 UPDATE audit_head SET seq = $12, hash = $13",
            )
            .bind(pending.iter().map(|r| r.seq).collect::<Vec<_>>())
            .bind(pending.iter().map(|r| r.at).collect::<Vec<_>>())
            .bind(column(&|r| r.actor.clone()))
            .bind(column(&|r| r.role.clone()))
            .bind(column(&|r| r.address.clone()))
            .bind(column(&|r| r.action.clone()))
            .bind(column(&|r| r.object.clone()))
            .bind(column(&|r| r.result.clone()))
            .bind(column(&|r| r.detail.clone()))
            .bind(column(&|r| r.prev_hash.clone()))
            .bind(column(&|r| r.hash.clone()))
            .bind(seq)
            .bind(&prev)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            total += pending.len() as u64;
            if (pending.len() as i64) < CHUNK {
                return Ok(total);
            }
        }
    }

    /// Appends `entries` in a transaction of their own (logins, refusals, reads).
    pub async fn audit_now(&self, entries: &[AuditEntry]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        Store::audit(&mut tx, Utc::now(), entries).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records matching `filter`, newest first (pending ones chained first).
    pub async fn audit_records(&self, filter: &AuditFilter) -> Result<Vec<AuditRow>, StoreError> {
        self.chain_audit().await?;
        Ok(sqlx::query_as(
            "SELECT seq, at, actor, role, address, action, object, result, detail, prev_hash, hash FROM audit_log
             WHERE ($1::text IS NULL OR actor = $1)
               AND ($2::text IS NULL OR starts_with(action, $2))
               AND ($3::text IS NULL OR object = $3)
               AND ($4::timestamptz IS NULL OR at >= $4)
               AND ($5::timestamptz IS NULL OR at < $5)
               AND ($6::int8 IS NULL OR seq < $6)
               AND ($8::text IS NULL OR result = $8)
               AND ($9::text IS NULL OR address = $9)
             ORDER BY seq DESC LIMIT $7",
        )
        .bind(&filter.actor)
        .bind(&filter.action)
        .bind(&filter.object)
        .bind(filter.from)
        .bind(filter.to)
        .bind(filter.before_seq)
        .bind(filter.limit)
        .bind(&filter.result)
        .bind(&filter.address)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Walks the whole chain from the first record and checks every link and every hash,
    /// and that the head names the last record.
    pub async fn verify_audit(&self) -> Result<ChainReport, StoreError> {
        self.chain_audit().await?;
        let mut verifier = ChainVerifier::new();
        let mut broken = None;
        {
            let mut rows = sqlx::query_as::<_, AuditRow>(
                "SELECT seq, at, actor, role, address, action, object, result, detail, prev_hash, hash
                 FROM audit_log ORDER BY seq",
            )
            .fetch(&self.pool);
            while let Some(row) = rows.try_next().await? {
                if let Err(e) = verifier.push(&row.record(), &row.prev_hash, &row.hash) {
                    broken = Some(e);
                    break;
                }
            }
        }
        if broken.is_none() {
            let (seq, hash): (i64, String) =
                sqlx::query_as("SELECT seq, hash FROM audit_head").fetch_one(&self.pool).await?;
            if seq != verifier.last_seq() || hash != verifier.last_hash() {
                broken = Some(ChainBreak {
                    seq: verifier.last_seq() + 1,
                    reason: format!(
                        "the head names record {seq} but the chain ends at {}: records were removed from the end",
                        verifier.last_seq()
                    ),
                });
            }
        }
        Ok(ChainReport { records: verifier.count(), last_hash: verifier.last_hash().to_string(), broken })
    }
}
