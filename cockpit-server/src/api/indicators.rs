//! `GET /api/indicators`: city vital signs per region, from the table the server keeps
//! (`crate::indicators`), cut to the caller's region scope.

use axum::Json;
use axum::extract::State;
use cockpit_access::ScopeLevel;
use cockpit_geo::Level;
use serde_json::Value;

use super::ApiError;
use super::params;
use crate::AppState;
use crate::auth::Caller;

#[utoipa::path(get, path = "/api/indicators", summary = "City vital signs per region: values with traffic lights, score, five-colour rating, rank", description = "From the table recomputed every [indicators] interval_seconds (computed_at says when). Regions outside the caller's scope are left out; the district's entry only for district-wide users. Users who see cases by assignment only get 403.", params(("level" = Option<String>, Query, description = "district, street (default) or village"), ("region" = Option<String>, Query, description = "a region code: only regions inside it (404 outside the caller's scope)")), responses((status = 200, description = "definitions, regions, alarmed", body = Object, content_type = "application/json"), (status = 400, description = "a bad level", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "no permission, or cases seen by assignment only", body = crate::api::Problem, content_type = "application/problem+json"), (status = 404, description = "no such region in the caller's scope", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `GET /api/indicators?level=district|street|village&region=<code>`: the catalogue's
/// definitions and, for each region of the level inside `region` (default: the caller's
/// scope), its values with traffic lights, score, five-colour rating and rank.
pub(crate) async fn indicators(
    State(state): State<AppState>,
    caller: Caller,
    params::QueryMap(q): params::QueryMap,
) -> Result<Json<Value>, ApiError> {
    let principal = &caller.principal;
    // Counts per region are case statistics: not for those who see cases by assignment.
    if principal.case_scope().assigned_to.is_some() {
        return Err(ApiError::Forbidden {
            detail: "indicators need the permission cases.view".into(),
            allowed: Vec::new(),
        });
    }
    let level_name = q.get("level").map(|l| l.trim()).filter(|l| !l.is_empty()).unwrap_or("street");
    let level = Level::parse(level_name)
        .filter(|l| *l != Level::Grid)
        .ok_or_else(|| ApiError::bad("level", format!("`{level_name}` is not one of district, street, village")))?;
    let own = (principal.scope.level != ScopeLevel::District).then(|| principal.scope.code.clone());
    let scope = match (q.get("region").map(|r| r.trim()).filter(|r| !r.is_empty()), own) {
        (None, own) => own,
        (Some(region), own) => {
            let known = state.geography.get().city.by_code(region).is_some();
            // Outside the caller's scope is as unknown as a region that does not exist.
            if !known || own.as_deref().is_some_and(|o| !region.starts_with(o)) {
                return Err(ApiError::NotFound(format!("region `{region}` does not exist")));
            }
            Some(region.to_string())
        }
    };
    Ok(Json(state.indicators.answer(scope.as_deref(), level)))
}
