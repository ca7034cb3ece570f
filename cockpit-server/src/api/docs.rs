//! The browsable API reference: Swagger UI over `/openapi.json`, its files built into the
//! binary (utoipa-swagger-ui's `vendored` feature: nothing comes from a CDN).

use std::sync::{Arc, OnceLock};

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::ApiError;
use super::params::Path;

fn config() -> Arc<utoipa_swagger_ui::Config<'static>> {
    static CONFIG: OnceLock<Arc<utoipa_swagger_ui::Config<'static>>> = OnceLock::new();
    CONFIG.get_or_init(|| Arc::new(utoipa_swagger_ui::Config::from("/openapi.json"))).clone()
}

#[utoipa::path(get, path = "/api/docs", summary = "API 参考 The API reference (Swagger UI)", responses((status = 303, description = "to /api/docs/index.html")))]
/// `GET /api/docs`: to the reference's page, whose files are named relative to it.
pub(crate) async fn index() -> Redirect {
    Redirect::to("/api/docs/index.html")
}

#[utoipa::path(get, path = "/api/docs/{file}", summary = "API 参考的文件 A file of the API reference (Swagger UI)", params(("file" = String, Path, description = "a file of Swagger UI", example = "index.html")), responses((status = 200, description = "the file", body = String, content_type = "text/html")))]
/// `GET /api/docs/{file}`: a file of Swagger UI.
pub(crate) async fn file(Path(file): Path<String>) -> Result<Response, ApiError> {
    let found = utoipa_swagger_ui::serve(&file, config())
        .map_err(|e| ApiError::Internal(format!("Swagger UI: {e}")))?
        .ok_or_else(|| ApiError::NotFound(format!("the API reference has no file {file}")))?;
    let mut response = (StatusCode::OK, found.bytes.into_owned()).into_response();
    if let Ok(value) = HeaderValue::from_str(&found.content_type) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    if found.gzpipped {
        response.headers_mut().insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    Ok(response)
}
