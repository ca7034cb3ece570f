//! The caller of a request as handlers take it: put in the request by the access layer
//! (`access.rs`), taken out here.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::ApiError;
use crate::auth::{Caller, ClientAddress};

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Caller, ApiError> {
        // The access layer inserts it on every route that needs a user; its absence is a
        // route declared public whose handler asks for a caller: a bug, not a client error.
        parts.extensions.get::<Caller>().cloned().ok_or_else(|| ApiError::Internal("route without a caller".into()))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<ClientAddress, ApiError> {
        Ok(parts.extensions.get::<ClientAddress>().cloned().unwrap_or(ClientAddress(String::new())))
    }
}
