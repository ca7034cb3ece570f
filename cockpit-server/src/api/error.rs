//! The API's error: one `match` decides the status; the body is a JSON problem
//! (RFC 9457: `type`, `title`, `status`, `detail`, and `field` for a bad parameter).
//! Internal details never reach the client; they are logged.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cockpit_events::{EventsError, Refusal};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::cases::ServiceError;

/// Everything a handler can answer other than success.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ApiError {
    /// A parameter or body field is missing or wrong; names it.
    #[error("{field}: {reason}")]
    BadParameter { field: String, reason: String },
    /// Several fields of a mapped source document are wrong.
    #[error("{} field(s) could not be mapped", errors.len())]
    BadFields { errors: Vec<Value> },
    /// No (valid) credentials.
    #[error("{0}")]
    Unauthorized(String),
    /// The password was right; the account has a second factor and no code was sent.
    #[error("a one-time code from the authenticator app is required: send it as `totp`")]
    SecondFactorRequired,
    /// Too many failed logins.
    #[error("{detail}")]
    Locked { detail: String, retry_after_s: u64 },
    /// Credentials are valid, the action is not for this role.
    #[error("{detail}")]
    Forbidden { detail: String, allowed: Vec<String> },
    /// Nothing there.
    #[error("{0}")]
    NotFound(String),
    /// The route exists; the method does not.
    #[error("{0}")]
    MethodNotAllowed(String),
    /// The action does not fit the case's current state; lists what does.
    #[error("{detail}")]
    Conflict { detail: String, allowed: Vec<String> },
    /// A reference (a source's, or an idempotency key) was used before for something else.
    #[error("{field}: {detail}")]
    ReferenceConflict { field: String, detail: String },
    /// The body is larger than allowed.
    #[error("the body is larger than the limit of {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// Slow down.
    #[error("rate limit of {per_minute} requests per minute reached")]
    TooManyRequests { per_minute: u32, retry_after_s: u64 },
    /// Slowed down for a while (an account under attack from many addresses).
    #[error("{detail}")]
    Throttled { detail: String, retry_after_s: u64 },
    /// Shutting down: try again.
    #[error("{0}")]
    Unavailable(String),
    /// Overloaded: nothing was done, try again after `retry_after_s`.
    #[error("{detail}")]
    Overloaded { detail: String, retry_after_s: u64 },
    /// Our fault; the cause is logged, not sent.
    #[error("internal error")]
    Internal(String),
}

/// The body of every refusal (RFC 9457), sent as `application/problem+json`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Problem {
    /// `/problems/<kind>`: what kind of refusal.
    #[serde(rename = "type")]
    pub(crate) kind: String,
    /// The kind in words.
    pub(crate) title: String,
    /// The HTTP status.
    pub(crate) status: u16,
    /// What was wrong.
    pub(crate) detail: String,
    /// The parameter or body field at fault (`body` for the body as a whole).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) field: Option<String>,
    /// What is allowed instead (actions, when the state or the role refuses one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) allowed: Option<Vec<String>>,
    /// Each field of a mapped document that could not be mapped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) errors: Option<Vec<Value>>,
}

impl ApiError {
    pub(crate) fn bad(field: &str, reason: impl Into<String>) -> ApiError {
        ApiError::BadParameter { field: field.to_string(), reason: reason.into() }
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> ApiError {
        match e {
            ServiceError::NotFound(id) => ApiError::NotFound(format!("case {id} does not exist")),
            ServiceError::BadField { field, reason } => ApiError::bad(field, reason),
            ServiceError::Refused(EventsError::ActionNotAllowed { action, status, role, refusal, allowed }) => {
                let allowed: Vec<String> = allowed.iter().map(|a| a.as_str().to_string()).collect();
                let detail = format!(
                    "`{}` is {} (case is `{}`, you act as `{}`); allowed now: [{}]",
                    action.as_str(),
                    refusal,
                    status.as_str(),
                    role.as_str(),
                    allowed.join(", ")
                );
                match refusal {
                    Refusal::Status => ApiError::Conflict { detail, allowed },
                    Refusal::Role | Refusal::NotAssignee => ApiError::Forbidden { detail, allowed },
                }
            }
            ServiceError::Refused(other) => ApiError::Forbidden { detail: other.to_string(), allowed: Vec::new() },
            ServiceError::Store(e) => e.into(),
            ServiceError::Unavailable(why) => ApiError::Unavailable(why),
            e @ ServiceError::Overloaded { retry_after_s, .. } => {
                ApiError::Overloaded { detail: e.to_string(), retry_after_s }
            }
            e @ ServiceError::ReferenceConflict { .. } => {
                ApiError::ReferenceConflict { field: "source_ref".into(), detail: e.to_string() }
            }
        }
    }
}

impl From<crate::cases::TokenError> for ApiError {
    fn from(e: crate::cases::TokenError) -> ApiError {
        match e {
            crate::cases::TokenError::NotGateway(_) => ApiError::NotFound(e.to_string()),
            crate::cases::TokenError::Random(_) | crate::cases::TokenError::Store(_) => {
                ApiError::Internal(e.to_string())
            }
        }
    }
}

impl From<axum::extract::rejection::JsonRejection> for ApiError {
    /// A body that is not JSON, or not sent as JSON.
    fn from(e: axum::extract::rejection::JsonRejection) -> ApiError {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            return ApiError::PayloadTooLarge { limit: super::body_limit() };
        }
        ApiError::bad("body", e.body_text())
    }
}

impl From<crate::auth::AuthError> for ApiError {
    fn from(e: crate::auth::AuthError) -> ApiError {
        use crate::auth::AuthError as A;
        match e {
            A::Unauthorized(detail) => ApiError::Unauthorized(detail),
            A::SecondFactorRequired => ApiError::SecondFactorRequired,
            A::Locked { detail, retry_after_s } => ApiError::Locked { detail, retry_after_s },
            A::Throttled { detail, retry_after_s } => ApiError::Throttled { detail, retry_after_s },
            A::Limited(limited) => limited.into(),
            A::Forbidden(detail) => ApiError::Forbidden { detail, allowed: Vec::new() },
            A::BadField { field, reason } => ApiError::bad(field, reason),
            A::Store(e) => e.into(),
            A::Internal(cause) => ApiError::Internal(cause),
        }
    }
}

impl From<crate::limits::RateLimited> for ApiError {
    fn from(e: crate::limits::RateLimited) -> ApiError {
        ApiError::TooManyRequests { per_minute: e.per_minute, retry_after_s: e.retry_after_s }
    }
}

impl From<cockpit_store::StoreError> for ApiError {
    /// A request that waited its whole time for a database connection met an overload, not
    /// a fault: 503, try again.
    fn from(e: cockpit_store::StoreError) -> ApiError {
        match e {
            cockpit_store::StoreError::Database(sqlx::Error::PoolTimedOut) => ApiError::Overloaded {
                detail: "no database connection came free in time; nothing was done, try again".into(),
                retry_after_s: 1,
            },
            e => ApiError::Internal(e.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, kind, title) = match &self {
            ApiError::BadParameter { .. } => (StatusCode::BAD_REQUEST, "bad-parameter", "A parameter is invalid"),
            ApiError::BadFields { .. } => (StatusCode::BAD_REQUEST, "bad-fields", "The document could not be mapped"),
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized", "Credentials required"),
            ApiError::SecondFactorRequired => (StatusCode::UNAUTHORIZED, "second-factor", "Second factor required"),
            ApiError::Locked { .. } => (StatusCode::LOCKED, "locked", "Account locked"),
            ApiError::Forbidden { .. } => (StatusCode::FORBIDDEN, "forbidden", "Not allowed for this role"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not-found", "Not found"),
            ApiError::MethodNotAllowed(_) => {
                (StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed", "Method not allowed")
            }
            ApiError::Conflict { .. } => (StatusCode::CONFLICT, "invalid-transition", "Not allowed in this state"),
            ApiError::ReferenceConflict { .. } => {
                (StatusCode::CONFLICT, "reference-conflict", "The reference was used before for other content")
            }
            ApiError::TooManyRequests { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate-limited", "Too many requests"),
            ApiError::Throttled { .. } => (StatusCode::TOO_MANY_REQUESTS, "throttled", "Slowed down"),
            ApiError::PayloadTooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "too-large", "Too large"),
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable", "Unavailable"),
            ApiError::Overloaded { .. } => (StatusCode::SERVICE_UNAVAILABLE, "overloaded", "Overloaded: try again"),
            ApiError::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal", "Internal error")
            }
        };
        let mut body = Problem {
            kind: format!("/problems/{kind}"),
            title: title.to_string(),
            status: status.as_u16(),
            detail: self.to_string(),
            field: None,
            allowed: None,
            errors: None,
        };
        match &self {
            ApiError::BadParameter { field, .. } | ApiError::ReferenceConflict { field, .. } => {
                body.field = Some(field.clone())
            }
            ApiError::PayloadTooLarge { .. } => body.field = Some("body".into()),
            ApiError::BadFields { errors } => body.errors = Some(errors.clone()),
            ApiError::SecondFactorRequired => body.field = Some("totp".into()),
            ApiError::Conflict { allowed, .. } | ApiError::Forbidden { allowed, .. } => {
                body.allowed = Some(allowed.clone())
            }
            _ => {}
        }
        let mut response =
            (status, [(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"))], Json(body))
                .into_response();
        if let ApiError::TooManyRequests { retry_after_s, .. }
        | ApiError::Locked { retry_after_s, .. }
        | ApiError::Throttled { retry_after_s, .. }
        | ApiError::Overloaded { retry_after_s, .. } = self
            && let Ok(value) = HeaderValue::from_str(&retry_after_s.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}
