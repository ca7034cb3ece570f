//! Attachments (photos, audio, files) of cases: checked by their first bytes against the
//! declared type, limited in size, stored on disk under their SHA-256, and recorded in the
//! `attachments` table. The file is written to a temporary name, synced and renamed before
//! the row is inserted, so an acknowledged upload is durable and a crash leaves at worst an
//! unreferenced file, never a row without its file.

use std::io::Write;
use std::path::{Path, PathBuf};

use cockpit_events::CaseId;
use sha2::{Digest, Sha256};

use cockpit_store::{Store, StoreError};

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

pub use cockpit_store::Attachment;
/// What saving an attachment did: the record, and whether the same content was there before.
pub use cockpit_store::Recorded as Saved;

/// Where attachment files live: `<data_home>/attachments/<first two hex>/<sha256>`.
#[derive(Debug, Clone)]
pub struct AttachmentStore {
    root: PathBuf,
    max_bytes: usize,
    /// The backup folder's copies (`[backup]`), written before the row as the file is.
    mirror: Option<PathBuf>,
}

impl AttachmentStore {
    /// Files under `data_home`, at most `max_bytes` each.
    pub fn new(data_home: &Path, max_bytes: usize) -> AttachmentStore {
        AttachmentStore { root: data_home.join("attachments"), max_bytes, mirror: None }
    }

    /// The same, copying every new file into `folder` too before its row is written, so
    /// that a database restored to any moment finds there every file it names.
    pub fn with_mirror(self, folder: PathBuf) -> AttachmentStore {
        AttachmentStore { mirror: Some(folder), ..self }
    }

    /// Where the files are.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where their copies are, if kept.
    pub fn mirror(&self) -> Option<&Path> {
        self.mirror.as_deref()
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
        if !store.case_exists(case).await? {
            return Err(AttachmentError::NoSuchCase(case.0));
        }
        let sha256 = hex::encode(Sha256::digest(bytes));
        write_content(&self.root, &sha256, bytes)?;
        if let Some(mirror) = &self.mirror {
            write_content(mirror, &sha256, bytes)?;
        }
        let attachment = Attachment {
            id: format!("att-{}-{}", case.0, &sha256[..16]),
            case_id: case.0,
            sha256,
            size_bytes: bytes.len() as i64,
            content_type: declared,
            file_name,
        };
        Ok(store.record_attachment(&attachment).await?)
    }

    /// The records of a case's attachments, oldest first (those a report brought with it
    /// are cited by no timeline entry, so the case lists them all).
    pub async fn of_case(&self, store: &Store, case: CaseId) -> Result<Vec<Attachment>, AttachmentError> {
        Ok(store.attachments_of(case).await?)
    }

    /// The record and content of an attachment, the content checked against its SHA-256.
    pub async fn load(&self, store: &Store, id: &str) -> Result<Option<(Attachment, Vec<u8>)>, AttachmentError> {
        let found = store.attachment(id).await?;
        let Some(attachment) = found else { return Ok(None) };
        let bytes = std::fs::read(content_path(&self.root, &attachment.sha256))?;
        if hex::encode(Sha256::digest(&bytes)) != attachment.sha256 {
            return Err(AttachmentError::Io(std::io::Error::other(format!("{} failed its checksum", attachment.id))));
        }
        Ok(Some((attachment, bytes)))
    }
}

/// Where the content of digest `sha256` lives under `root`: `<root>/<first two hex>/<sha256>`.
pub fn content_path(root: &Path, sha256: &str) -> PathBuf {
    root.join(sha256.get(..2).unwrap_or("xx")).join(sha256)
}

/// Writes `bytes` under `root` by their digest `sha256` (durably: a temporary file of its
/// own, synced, renamed, the folder synced), unless that content is there already.
pub fn write_content(root: &Path, sha256: &str, bytes: &[u8]) -> std::io::Result<()> {
    let path = content_path(root, sha256);
    if path.exists() {
        return Ok(()); // Content-addressed: the same bytes are already there.
    }
    let dir = path.parent().unwrap_or(root);
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
