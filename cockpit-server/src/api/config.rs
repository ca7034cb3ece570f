//! The case rules an operator edits: the category tree with its time limits (the deadline
//! templates), the dispatch rules and the working calendar. Reading the category tree is
//! for everyone who handles cases (the forms need it); the documents are for those who
//! configure rules, and each change is audited.

use super::params::Path;
use axum::Json;
use axum::extract::State;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::ApiError;
use crate::AppState;
use crate::auth::Caller;
use crate::cases::DocumentError;
use crate::iot::rules::DOCUMENTS as IOT_DOCUMENTS;

type Body = Result<super::params::JsonBody, ApiError>;

/// The category tree in force.
#[derive(Serialize, ToSchema)]
pub(crate) struct Categories {
    /// Parents before children, each with its `code`, `name`, `parent` and time limits, as
    /// the categories document has them; a case's `category` is one of these codes.
    #[schema(value_type = Option<Vec<Object>>)]
    items: Option<Value>,
}

/// A rules document as stored.
#[derive(Serialize, ToSchema)]
pub(crate) struct RulesStored {
    /// The document's name.
    name: String,
    /// Its new version.
    version: i64,
    /// The document as now in force.
    #[schema(value_type = Option<Object>)]
    body: Option<Value>,
}

#[utoipa::path(get, path = "/api/categories", summary = "The category tree in force: each category with its parent and time limits (the deadline templates).", responses((status = 200, description = "OK", body = Categories), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission")))]
/// `GET /api/categories`: the category tree in force, each category with its parent and
/// time limits, parents before children.
pub(crate) async fn categories(State(state): State<AppState>) -> Json<Categories> {
    let rules = state.cases.rules.get();
    Json(Categories { items: rules.document("categories") })
}

#[utoipa::path(get, path = "/api/config/rules", summary = "Every editable rules document as in force (categories, dispatch-rules, calendar, mapping:<source>, device-rules, detections), each {body, source: edited|file, version, updated_by, updated_at}", responses((status = 200, description = "OK"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission")))]
/// `GET /api/config/rules`: each editable document as in force, and who last edited it:
/// the case rules (`categories`, `dispatch-rules`, `calendar`, `mapping:<source>`) and the
/// IoT rules (`device-rules`, `detections`).
pub(crate) async fn rules(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let mut all = state.cases.documents.current().await?;
    if let (Some(all), Value::Object(iot)) = (all.as_object_mut(), state.iot.rules().current().await?) {
        all.extend(iot);
    }
    Ok(Json(all))
}

#[utoipa::path(put, path = "/api/config/rules/{name}", summary = "Replace one rules document: categories, dispatch-rules, calendar or mapping:<source> (the form of its file under cases/), device-rules or detections (the form of its file under iot/). Checked as at start; 400 names the document and what is wrong; audited; in force on every instance within seconds.", params(("name" = String, Path, description = "categories, dispatch-rules, calendar, mapping:<source> (a source with a gateway), device-rules or detections", pattern = "^(categories|dispatch-rules|calendar|mapping:[A-Za-z0-9_-]+|device-rules|detections)$", example = "calendar")), request_body(content = Object, description = "the whole document, in the form of its file", content_type = "application/json"), responses((status = 200, description = "OK", body = RulesStored), (status = 400, description = "The document does not check"), (status = 404, description = "No such document"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission")))]
/// `PUT /api/config/rules/{name}` with the whole document (as its file under `cases/`, or
/// `iot/` for the IoT rules): checked as the file is at start (a bad document is a 400
/// naming it and saying why), stored, audited and in force on every instance within
/// seconds.
pub(crate) async fn put_rules(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    body: Body,
) -> Result<Json<RulesStored>, ApiError> {
    let iot = state.iot.rules();
    let mut names = state.cases.rules.get().document_names();
    names.extend(IOT_DOCUMENTS.iter().map(|n| n.to_string()));
    if !names.contains(&name) {
        return Err(ApiError::NotFound(format!("no rules document `{name}`; there are {}", names.join(", "))));
    }
    let super::params::JsonBody(body) = body?;
    let refused = |e: DocumentError| match e {
        DocumentError::Invalid { name, reason } => ApiError::bad(&name, reason),
        DocumentError::Store(e) => ApiError::from(e),
    };
    let (version, body) = if IOT_DOCUMENTS.contains(&name.as_str()) {
        let version = iot.put(&name, &body, caller.audit_actor()).await.map_err(refused)?;
        (version, iot.document(&name))
    } else {
        let version = state.cases.documents.put(&name, &body, caller.audit_actor()).await.map_err(refused)?;
        (version, state.cases.rules.get().document(&name))
    };
    Ok(Json(RulesStored { name, version, body }))
}
