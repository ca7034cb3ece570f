//! The API's error: one `match` decides the status; the body is a JSON problem
//! (RFC 9457: `type`, `title`, `status`, `detail`, and `field` for a bad parameter).
//! Internal details never reach the client; they are logged.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Everything a handler can answer other than success.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ApiError {
    /// A parameter is missing or wrong; names it.
    #[error("{field}: {reason}")]
    BadParameter { field: &'static str, reason: String },
    /// Nothing there.
    #[error("{0}")]
    NotFound(String),
}

impl ApiError {
    pub(crate) fn bad(field: &'static str, reason: impl Into<String>) -> ApiError {
        ApiError::BadParameter { field, reason: reason.into() }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, kind, title) = match &self {
            ApiError::BadParameter { .. } => (StatusCode::BAD_REQUEST, "bad-parameter", "A parameter is invalid"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not-found", "Not found"),
        };
        let mut body = json!({
            "type": format!("/problems/{kind}"),
            "title": title,
            "status": status.as_u16(),
            "detail": self.to_string(),
        });
        if let ApiError::BadParameter { field, .. } = &self {
            body["field"] = json!(field);
        }
        (status, [(axum::http::header::CONTENT_TYPE, "application/problem+json")], Json(body)).into_response()
    }
}
