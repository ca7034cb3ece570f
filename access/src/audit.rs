//! The append-only, hash-chained audit trail. Each record's hash covers the previous
//! record's hash and every field of the record, so deleting, reordering or altering any
//! stored record (or its stored hash) breaks the chain at that record. The server writes
//! records in one serialised transaction and verifies the chain with [`ChainVerifier`] as it
//! streams them back, in `seq` order.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// One audit record, as stored. `detail` is JSON text hashed byte for byte, so it must be
/// stored and read back exactly as written (a `TEXT` column, not `JSONB`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// Position in the chain, from 1 without gaps.
    pub seq: i64,
    /// When it happened, in unix microseconds.
    pub at_micros: i64,
    /// Who did it (login name, or `system`).
    pub actor: String,
    /// The role they acted in.
    pub role: String,
    /// The client's network address.
    pub address: String,
    /// What was done (`user.create`, `personal_data.unmask`, `login.failure`, ...).
    pub action: String,
    /// What it was done to (`user:17`, `case:2024-000123`, ...).
    pub object: String,
    /// How it ended (`ok`, `denied`, `failed`).
    pub result: String,
    /// Further detail as JSON text, stored byte-exact.
    pub detail: String,
}

/// The previous hash of the first record (seq 1): 64 zeros.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Separates this hash from any other SHA-256 use, and versions the encoding.
const DOMAIN: &[u8] = b"cockpit-audit-v1";

/// The record's chain hash: lowercase hex SHA-256 over the domain tag, `prev_hash` and
/// every field. Texts are written as a u64 big-endian length and then their bytes, integers
/// as 8 bytes big-endian, so no two different records encode the same.
pub fn chain_hash(prev_hash: &str, record: &AuditRecord) -> String {
    let mut hasher = Sha256::new();
    put_text(&mut hasher, DOMAIN);
    put_text(&mut hasher, prev_hash.as_bytes());
    hasher.update(record.seq.to_be_bytes());
    hasher.update(record.at_micros.to_be_bytes());
    for field in [&record.actor, &record.role, &record.address, &record.action, &record.object, &record.result] {
        put_text(&mut hasher, field.as_bytes());
    }
    put_text(&mut hasher, record.detail.as_bytes());
    hex::encode(hasher.finalize())
}

/// A length-prefixed text: u64 big-endian length, then the bytes.
fn put_text(hasher: &mut Sha256, bytes: &[u8]) {
    hasher.update((bytes.len() as u64).to_be_bytes());
    hasher.update(bytes);
}

/// Where and why a chain stopped verifying.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("audit record {seq}: {reason}")]
pub struct ChainBreak {
    /// The sequence number at which the chain breaks: the record that was expected next.
    pub seq: i64,
    /// What is wrong there.
    pub reason: String,
}

/// Verifies a chain one stored record at a time, in `seq` order, holding only the running
/// hash. A failed [`ChainVerifier::push`] leaves the verifier where it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainVerifier {
    last_seq: i64,
    last_hash: String,
    count: u64,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier::new()
    }
}

impl ChainVerifier {
    /// A verifier for a whole chain: it expects seq 1 with [`GENESIS`] as previous hash.
    pub fn new() -> ChainVerifier {
        ChainVerifier::resume(0, GENESIS.to_owned())
    }

    /// A verifier that continues after a checkpoint: the next record must be
    /// `after_seq + 1` with `prev_hash` as previous hash.
    pub fn resume(after_seq: i64, prev_hash: String) -> ChainVerifier {
        ChainVerifier { last_seq: after_seq, last_hash: prev_hash, count: 0 }
    }

    /// Checks the next stored record: its seq follows the last one exactly (a gap means a
    /// deleted record, a repeat or a lower seq means reordering), its stored previous hash
    /// is the running hash, and its stored hash is the hash of its contents.
    pub fn push(&mut self, record: &AuditRecord, stored_prev: &str, stored_hash: &str) -> Result<(), ChainBreak> {
        let expected = self.last_seq.saturating_add(1);
        let broken = |reason: String| Err(ChainBreak { seq: expected, reason });
        if record.seq > expected {
            let missing = if record.seq - 1 == expected {
                format!("record {expected} is missing")
            } else {
                format!("records {expected} to {} are missing", record.seq - 1)
            };
            return broken(format!("{missing} (deleted?): the next stored record is {}", record.seq));
        }
        if record.seq < expected {
            return broken(format!("out of order: found record {} where {expected} was expected", record.seq));
        }
        if stored_prev != self.last_hash {
            return broken("the stored previous hash does not match the preceding record".to_owned());
        }
        if stored_hash != chain_hash(&self.last_hash, record) {
            return broken("the stored hash does not match the record's contents (altered?)".to_owned());
        }
        self.last_seq = record.seq;
        self.last_hash = stored_hash.to_owned();
        self.count += 1;
        Ok(())
    }

    /// How many records verified so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The hash of the last verified record (or the starting hash).
    pub fn last_hash(&self) -> &str {
        &self.last_hash
    }

    /// The seq of the last verified record (or the starting seq).
    pub fn last_seq(&self) -> i64 {
        self.last_seq
    }
}
