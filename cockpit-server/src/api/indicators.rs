//! `GET /api/indicators`: city vital signs per region, from the table the server keeps
//! (`crate::indicators`), cut to the caller's region scope.

use axum::Json;
use axum::extract::State;
use cockpit_access::ScopeLevel;
use cockpit_geo::Level;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::ApiError;
use super::params::{TypedQuery, blank_as_none};
use crate::AppState;
use crate::auth::Caller;

/// The level whose regions are rated.
#[derive(Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum RatedLevel {
    /// The district as a whole.
    District,
    /// Its streets (the default).
    Street,
    /// Its villages and communities.
    Village,
    /// Its grids (not on the live channel: asked for when shown).
    Grid,
}

impl std::str::FromStr for RatedLevel {
    type Err = &'static str;

    fn from_str(s: &str) -> Result<RatedLevel, &'static str> {
        match s {
            "district" => Ok(RatedLevel::District),
            "street" => Ok(RatedLevel::Street),
            "village" => Ok(RatedLevel::Village),
            "grid" => Ok(RatedLevel::Grid),
            _ => Err("not one of district, street, village, grid"),
        }
    }
}

impl From<RatedLevel> for Level {
    fn from(level: RatedLevel) -> Level {
        match level {
            RatedLevel::District => Level::District,
            RatedLevel::Street => Level::Street,
            RatedLevel::Village => Level::Village,
            RatedLevel::Grid => Level::Grid,
        }
    }
}

/// `GET /api/indicators`; blank is absent.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct IndicatorQuery {
    /// `district`, `street` (default), `village` or `grid`.
    #[serde(default, deserialize_with = "blank_as_none")]
    #[param(inline)]
    level: Option<RatedLevel>,
    /// Only regions inside this one: the code of the district, a street or a village
    /// (`GET /api/regions`); 404 when it does not exist or lies outside the caller's scope.
    #[serde(default, deserialize_with = "blank_as_none")]
    #[param(pattern = "^([0-9]{6}([0-9]{3}){0,3})?$", example = "330304001")]
    region: Option<String>,
}

#[utoipa::path(get, path = "/api/indicators", summary = "City vital signs per region: values with traffic lights, score, five-colour rating, rank", description = "From the table recomputed every [indicators] interval_seconds (computed_at says when). Regions outside the caller's scope are left out; the district's entry only for district-wide users. Users who see cases by assignment only get 403.", params(IndicatorQuery), responses((status = 200, description = "definitions, regions, alarmed", body = crate::indicators::IndicatorsAnswer, content_type = "application/json"), (status = 400, description = "a bad level", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "no permission, or cases seen by assignment only", body = crate::api::Problem, content_type = "application/problem+json"), (status = 404, description = "no such region in the caller's scope", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `GET /api/indicators?level=district|street|village|grid&region=<code>`: the catalogue's
/// definitions and, for each region of the level inside `region` (default: the caller's
/// scope), its values with traffic lights, score, five-colour rating and rank.
pub(crate) async fn indicators(
    State(state): State<AppState>,
    caller: Caller,
    TypedQuery(q): TypedQuery<IndicatorQuery>,
) -> Result<Json<crate::indicators::IndicatorsAnswer>, ApiError> {
    let principal = &caller.principal;
    // Counts per region are case statistics: not for those who see cases by assignment.
    if principal.case_scope().assigned_to.is_some() {
        return Err(ApiError::Forbidden {
            detail: "indicators need the permission cases.view".into(),
            allowed: Vec::new(),
        });
    }
    let level = Level::from(q.level.unwrap_or(RatedLevel::Street));
    let own = (principal.scope.level != ScopeLevel::District).then(|| principal.scope.code.clone());
    let scope = match (q.region.as_deref(), own) {
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
