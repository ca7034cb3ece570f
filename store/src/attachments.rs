//! The `attachments` table: the record of each case's stored file (the file itself is the
//! server's, on disk under its SHA-256).

use cockpit_events::CaseId;

use crate::{Store, StoreError};

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

/// What recording an attachment did.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Recorded {
    /// The attachment as stored.
    #[sqlx(flatten)]
    pub attachment: Attachment,
    /// The same content was attached to the case before (a repeated upload): nothing new.
    pub existed: bool,
}

impl Store {
    /// Whether case `id` exists.
    pub async fn case_exists(&self, id: CaseId) -> Result<bool, StoreError> {
        let found: Option<(i64,)> =
            sqlx::query_as("SELECT id FROM cases WHERE id = $1").bind(id.0).fetch_optional(&self.pool).await?;
        Ok(found.is_some())
    }

    /// Records `attachment` (its file already written); the same id again keeps the first
    /// record, taking a file name where it had none.
    pub async fn record_attachment(&self, attachment: &Attachment) -> Result<Recorded, StoreError> {
        // `xmax` is set on a row the upsert updated: the same content was attached before.
        Ok(sqlx::query_as(
            "INSERT INTO attachments (id, case_id, sha256, size_bytes, content_type, file_name)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (id) DO UPDATE SET file_name = COALESCE(attachments.file_name, EXCLUDED.file_name)
             RETURNING id, case_id, sha256, size_bytes, content_type, file_name, (xmax <> 0) AS existed",
        )
        .bind(&attachment.id)
        .bind(attachment.case_id)
        .bind(&attachment.sha256)
        .bind(attachment.size_bytes)
        .bind(&attachment.content_type)
        .bind(&attachment.file_name)
        .fetch_one(&self.pool)
        .await?)
    }

    /// The records of a case's attachments, oldest first.
    pub async fn attachments_of(&self, case: CaseId) -> Result<Vec<Attachment>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, case_id, sha256, size_bytes, content_type, file_name FROM attachments
             WHERE case_id = $1 ORDER BY created_at, id",
        )
        .bind(case.0)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The record of attachment `id`.
    pub async fn attachment(&self, id: &str) -> Result<Option<Attachment>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, case_id, sha256, size_bytes, content_type, file_name FROM attachments WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?)
    }
}

impl Store {
    /// The SHA-256 of every attachment recorded: the files a restored database names.
    pub async fn attachment_digests(&self) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT DISTINCT sha256 FROM attachments ORDER BY 1").fetch_all(&self.pool).await?)
    }
}
