//! Attachments (photos, audio, files) of cases: checked by their first bytes against the
//! declared type, limited in size, stored on disk under their SHA-256, and recorded in the
//! `attachments` table. The file is written to a temporary name, synced and renamed before
//! the row is inserted, so an acknowledged upload is durable and a crash leaves at worst an
//! unreferenced file, never a row without its file.

use std::io::Write;
use std::path::{Path, PathBuf};

use cockpit_events::CaseId;
use sha2::{Digest, Sha256};

use crate::store::{Store, StoreError};

/// A test on a file's first bytes.
type Signature = fn(&[u8]) -> bool;

/// The kinds accepted, by their signature: (content type, test on the first bytes).
const KINDS: &[(&str, Signature)] = &[
    ("image/jpeg", |b| b.starts_with(&[0xFF, 0xD8, 0xFF])),
    ("image/png", |b| b.starts_with(b"\x89PNG\r\n\x1a\n")),
    ("image/webp", |b| b.len() >= 12 && &b[..4] == b"RIFF" && &b[8..12] == b"WEBP"),
    ("audio/mpeg", |b| b.starts_with(b"ID3") || b.starts_with(&[0xFF, 0xFB]) || b.starts_with(&[0xFF, 0xF3])),
    ("audio/mp4", |b| b.len() >= 8 && &b[4..8] == b"ftyp"),
    ("video/mp4", |b| b.len() >= 8 && &b[4..8] == b"ftyp"),
    ("audio/amr", |b| b.starts_with(b"#!AMR")),
    ("audio/wav", |b| b.len() >= 12 && &b[..4] == b"RIFF" && &b[8..12] == b"WAVE"),
    ("application/pdf", |b| b.starts_with(b"%PDF-")),
];

/// Why an upload was refused (each variant says so in its message).
#[allow(missing_docs)]
#[derive(Debug, thiserror::Error)]
pub enum AttachmentError {
    #[error("{size} bytes is more than the limit of {limit} bytes")]
    TooLarge { size: usize, limit: usize },
    #[error("the file is empty")]
    Empty,
    #[error("type `{0}` is not accepted; accepted: {1}")]
    TypeNotAccepted(String, String),
    #[error("the content is not a `{0}` file")]
    ContentMismatch(String),
    #[error("case {0} does not exist")]
    NoSuchCase(i64),
    #[error("storing the file: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A stored attachment.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct Attachment {
    /// Its id (what timeline entries refer to).
    pub id: String,
    /// The case it belongs to.
    pub case_id: i64,
    /// SHA-256 of the content, hex.
    pub sha256: String,
    /// Size in bytes.
    pub size_bytes: i64,
    /// The checked content type.
    pub content_type: String,
    /// The name it was uploaded with, if any.
    pub file_name: Option<String>,
}

/// What saving an attachment did.
#[derive(Debug, Clone)]
pub struct Saved {
    /// The attachment as stored.
    pub attachment: Attachment,
    /// The same content was attached to the case before (a repeated upload): nothing new.
    pub existed: bool,
}

#[derive(sqlx::FromRow)]
struct SavedRow {
    #[sqlx(flatten)]
    attachment: Attachment,
    existed: bool,
}

/// Where attachment files live: `<data_home>/attachments/<first two hex>/<sha256>`.
#[derive(Debug, Clone)]
pub struct AttachmentStore {
    root: PathBuf,
    max_bytes: usize,
}

impl AttachmentStore {
    /// Files under `data_home`, at most `max_bytes` each.
    pub fn new(data_home: &Path, max_bytes: usize) -> AttachmentStore {
        AttachmentStore { root: data_home.join("attachments"), max_bytes }
    }

    /// The size limit.
    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    /// Checks and stores `bytes` for `case`.
    pub async fn save(
        &self,
        store: &Store,
        case: CaseId,
        declared_type: &str,
        file_name: Option<String>,
        bytes: &[u8],
    ) -> Result<Saved, AttachmentError> {
        if bytes.is_empty() {
            return Err(AttachmentError::Empty);
        }
        if bytes.len() > self.max_bytes {
            return Err(AttachmentError::TooLarge { size: bytes.len(), limit: self.max_bytes });
        }
        let declared = declared_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        let Some((_, matches)) = KINDS.iter().find(|(kind, _)| *kind == declared) else {
            let accepted: Vec<&str> = KINDS.iter().map(|(k, _)| *k).collect();
            return Err(AttachmentError::TypeNotAccepted(declared, accepted.join(", ")));
        };
        if !matches(bytes) {
            return Err(AttachmentError::ContentMismatch(declared));
        }
        let exists: Option<(i64,)> = sqlx::query_as("SELECT id FROM cases WHERE id = $1")
            .bind(case.0)
            .fetch_optional(store.pool())
            .await
            .map_err(StoreError::from)?;
        if exists.is_none() {
            return Err(AttachmentError::NoSuchCase(case.0));
        }
        let sha256 = hex::encode(Sha256::digest(bytes));
        self.write_file(&sha256, bytes)?;
        let id = format!("att-{}-{}", case.0, &sha256[..16]);
        // `xmax` is set on a row the upsert updated: the same content was attached before.
        let row: SavedRow = sqlx::query_as(
            "INSERT INTO attachments (id, case_id, sha256, size_bytes, content_type, file_name)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (id) DO UPDATE SET file_name = COALESCE(attachments.file_name, EXCLUDED.file_name)
             RETURNING id, case_id, sha256, size_bytes, content_type, file_name, (xmax <> 0) AS existed",
        )
        .bind(&id)
        .bind(case.0)
        .bind(&sha256)
        .bind(bytes.len() as i64)
        .bind(&declared)
        .bind(file_name)
        .fetch_one(store.pool())
        .await
        .map_err(StoreError::from)?;
        Ok(Saved { attachment: row.attachment, existed: row.existed })
    }

    /// The records of a case's attachments, oldest first (those a report brought with it
    /// are cited by no timeline entry, so the case lists them all).
    pub async fn of_case(&self, store: &Store, case: CaseId) -> Result<Vec<Attachment>, AttachmentError> {
        Ok(sqlx::query_as(
            "SELECT id, case_id, sha256, size_bytes, content_type, file_name FROM attachments
             WHERE case_id = $1 ORDER BY created_at, id",
        )
        .bind(case.0)
        .fetch_all(store.pool())
        .await
        .map_err(StoreError::from)?)
    }

    /// The record and content of an attachment, the content checked against its SHA-256.
    pub async fn load(&self, store: &Store, id: &str) -> Result<Option<(Attachment, Vec<u8>)>, AttachmentError> {
        let found: Option<Attachment> = sqlx::query_as(
            "SELECT id, case_id, sha256, size_bytes, content_type, file_name FROM attachments WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(store.pool())
        .await
        .map_err(StoreError::from)?;
        let Some(attachment) = found else { return Ok(None) };
        let bytes = std::fs::read(self.path(&attachment.sha256))?;
        if hex::encode(Sha256::digest(&bytes)) != attachment.sha256 {
            return Err(AttachmentError::Io(std::io::Error::other(format!("{} failed its checksum", attachment.id))));
        }
        Ok(Some((attachment, bytes)))
    }

    fn path(&self, sha256: &str) -> PathBuf {
        self.root.join(&sha256[..2]).join(sha256)
    }

    fn write_file(&self, sha256: &str, bytes: &[u8]) -> std::io::Result<()> {
        let path = self.path(sha256);
        if path.exists() {
            return Ok(()); // Content-addressed: the same bytes are already there.
        }
        let dir = path.parent().unwrap_or(&self.root);
        std::fs::create_dir_all(dir)?;
        // A name of its own: two uploads of the same file at once must not write one file.
        let nonce = cockpit_access::random_id().map_err(|e| std::io::Error::other(e.to_string()))?;
        let temp = dir.join(format!(".{sha256}.{nonce}.tmp"));
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, &path)?;
        std::fs::File::open(dir)?.sync_all()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_tell_types_apart() {
        let find = |bytes: &[u8]| KINDS.iter().filter(|(_, m)| m(bytes)).map(|(k, _)| *k).collect::<Vec<_>>();
        assert_eq!(find(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]), ["image/jpeg"]);
        assert_eq!(find(b"\x89PNG\r\n\x1a\n...."), ["image/png"]);
        assert_eq!(find(b"%PDF-1.7\n"), ["application/pdf"]);
        assert_eq!(find(b"#!AMR\n"), ["audio/amr"]);
        assert_eq!(find(b"RIFF\0\0\0\0WAVEfmt "), ["audio/wav"]);
        assert!(find(b"MZ\x90\0 an executable").is_empty());
        assert!(find(b"<html>").is_empty());
    }
}
