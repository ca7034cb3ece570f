//! Uploading and downloading case attachments.

use super::params::Path;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use cockpit_events::CaseId;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::ApiError;
use super::cases::visible;
use super::params::{TypedQuery, blank_as_none};
use crate::AppState;
use crate::attachments::AttachmentError;
use crate::auth::Caller;

/// `POST /api/cases/{id}/attachments`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct UploadQuery {
    /// The file's name, kept for downloads (its first 200 characters).
    #[serde(default, deserialize_with = "blank_as_none")]
    #[param(max_length = 200, pattern = "^[^\\u0000-\\u001f\\u007f]*$", example = "photo.jpg")]
    name: Option<String>,
}

/// An attachment stored.
#[derive(Serialize, ToSchema)]
pub(crate) struct Attachment {
    /// Its id, to cite in feedback's `photos` (`GET /api/attachments/{id}`).
    id: String,
    /// The case it belongs to.
    case_id: i64,
    /// SHA-256 of the content, hex.
    sha256: String,
    /// Size in bytes.
    size_bytes: i64,
    /// The content type, as checked against the content.
    content_type: String,
    /// The name it was uploaded with.
    file_name: Option<String>,
}

impl From<cockpit_store::Attachment> for Attachment {
    fn from(a: cockpit_store::Attachment) -> Attachment {
        Attachment {
            id: a.id,
            case_id: a.case_id,
            sha256: a.sha256,
            size_bytes: a.size_bytes,
            content_type: a.content_type,
            file_name: a.file_name,
        }
    }
}

#[utoipa::path(post, path = "/api/cases/{id}/attachments", summary = "Attach a photo, recording or file (raw body; type in Content-Type; checked by content)", params(("id" = i64, Path), UploadQuery), request_body(content(("image/jpeg"), ("image/png"), ("image/webp"), ("audio/mpeg"), ("audio/mp4"), ("audio/amr"), ("audio/wav"), ("video/mp4"), ("application/pdf"))), responses((status = 201, description = "Stored (also when it was before: `Idempotent-Replayed: true`)", body = Attachment), (status = 400, description = "type not accepted or content does not match it", body = crate::api::Problem, content_type = "application/problem+json"), (status = 404, description = "no such case", body = crate::api::Problem, content_type = "application/problem+json"), (status = 413, description = "larger than [attachments] max_bytes", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `POST /api/cases/{id}/attachments[?name=photo.jpg]`: the raw file as the body, its type
/// in `Content-Type`. 201 with the attachment's id, to cite in feedback's `photos`.
/// Attachments are named by their case and content, so an upload repeated (a phone
/// resending what it queued) names the same attachment, and is answered with
/// `Idempotent-Replayed: true`.
pub(crate) async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<i64>,
    TypedQuery(q): TypedQuery<UploadQuery>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, HeaderMap, axum::Json<Attachment>), ApiError> {
    visible(&state, &caller, id).await?;
    let limit = state.attachments.max_bytes();
    let body = body.map_err(|e| match e {
        BytesRejection::FailedToBufferBody(_) => ApiError::PayloadTooLarge { limit },
        other => ApiError::bad("body", other.body_text()),
    })?;
    let declared = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ApiError::bad("Content-Type", "is required"))?;
    let name = q.name.map(|n| n.chars().take(200).collect());
    let saved =
        state.attachments.save(&state.cases.store, CaseId(id), declared, name, &body).await.map_err(|e| match e {
            AttachmentError::TooLarge { limit, .. } => ApiError::PayloadTooLarge { limit },
            AttachmentError::Empty => ApiError::bad("body", "the file is empty"),
            AttachmentError::TypeNotAccepted(..) | AttachmentError::ContentMismatch(_) => {
                ApiError::bad("Content-Type", e.to_string())
            }
            AttachmentError::NoSuchCase(id) => ApiError::NotFound(format!("case {id} does not exist")),
            AttachmentError::Io(_) | AttachmentError::Store(_) => ApiError::Internal(e.to_string()),
        })?;
    let mut answer = HeaderMap::new();
    if saved.existed {
        answer.insert("idempotent-replayed", axum::http::HeaderValue::from_static("true"));
    }
    Ok((StatusCode::CREATED, answer, axum::Json(saved.attachment.into())))
}

#[utoipa::path(get, path = "/api/attachments/{id}", summary = "An attachment's content (checked against its SHA-256, also its ETag)", params(("id" = String, Path, description = "an attachment's id, as its upload answered", pattern = "^att-[0-9]+-[0-9a-f]{16}$", example = "att-1-0123456789abcdef")), responses((status = 200, description = "the file", content(("image/jpeg"), ("image/png"), ("image/webp"), ("audio/mpeg"), ("audio/mp4"), ("audio/amr"), ("audio/wav"), ("video/mp4"), ("application/pdf"))), (status = 404, description = "no such attachment", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `GET /api/attachments/{id}`: the file, checked against its SHA-256 (also its ETag).
pub(crate) async fn download(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let (attachment, bytes) = state
        .attachments
        .load(&state.cases.store, &id)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .ok_or_else(|| ApiError::NotFound(format!("no attachment `{id}`")))?;
    // An attachment of a case the caller may not see does not exist for them.
    visible(&state, &caller, attachment.case_id)
        .await
        .map_err(|_| ApiError::NotFound(format!("no attachment `{id}`")))?;
    Ok(([(header::CONTENT_TYPE, attachment.content_type), (header::ETAG, format!("\"{}\"", attachment.sha256))], bytes))
}
