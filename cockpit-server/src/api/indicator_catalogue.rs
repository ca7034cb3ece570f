//! The catalogue people edit (`/api/indicators/catalogue`): search, read, export as CSV;
//! create, replace, publish and delete with `indicators.manage`, each change audited
//! (`crate::indicators::catalogue`). Also where `IndicatorsError` becomes a problem.

use axum::Json as Answer;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use cockpit_indicators::{CatalogueEntry, Search};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::ApiError;
use super::params::{Json, Path, TypedQuery, blank_as_none};
use crate::AppState;
use crate::auth::Caller;
use crate::indicators::IndicatorsError;
use crate::indicators::catalogue::{self, Listed};

impl From<IndicatorsError> for ApiError {
    fn from(e: IndicatorsError) -> ApiError {
        match e {
            IndicatorsError::Field { field, reason } => ApiError::BadParameter { field, reason },
            IndicatorsError::NotFound(detail) => ApiError::NotFound(detail),
            IndicatorsError::Taken(detail) => ApiError::ReferenceConflict { field: "id".into(), detail },
            IndicatorsError::Forbidden(detail) => ApiError::Forbidden { detail, allowed: Vec::new() },
            IndicatorsError::Unauthorized(detail) => ApiError::Unauthorized(detail),
            IndicatorsError::Random(detail) => ApiError::Internal(detail),
            IndicatorsError::Store(e) => e.into(),
        }
    }
}

/// The tender's four systems.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code, clippy::enum_variant_names)] // The schema of cockpit-indicators' System.
pub(crate) enum SystemName {
    SmartGovernance,
    HealthyEconomy,
    LivableCity,
    SafeSociety,
}

/// The tender's sixteen domains.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)] // The schema of cockpit-indicators' Domain.
pub(crate) enum DomainName {
    Economy,
    CultureSports,
    Health,
    Education,
    Transport,
    Environment,
    Livelihood,
    Construction,
    Disputes,
    Litigation,
    Petitions,
    FireSafety,
    FoodDrugs,
    PublicSecurity,
    Finance,
    WageArrears,
}

/// How often a value arrives.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)] // The schema of cockpit-indicators' Frequency.
pub(crate) enum FrequencyName {
    RealTime,
    Daily,
    Monthly,
    Quarterly,
    HalfYearly,
    Yearly,
}

/// Which way is better.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)] // The schema of cockpit-indicators' Better.
pub(crate) enum BetterName {
    Higher,
    Lower,
}

/// Chinese and English names.
#[derive(Serialize, Deserialize, ToSchema)]
#[allow(dead_code)]
pub(crate) struct IndicatorNames {
    /// Chinese, 1–100 characters.
    #[schema(example = "刑事案件立案数", min_length = 1, max_length = 100)]
    zh: String,
    /// English, at most 200 characters.
    #[schema(example = "Criminal cases filed", max_length = 200)]
    en: String,
}

/// The owner department and person.
#[derive(Serialize, Deserialize, ToSchema)]
#[allow(dead_code)]
pub(crate) struct IndicatorOwner {
    /// The department (its code or name), 1–100 characters.
    #[schema(example = "公安瓯海分局", min_length = 1, max_length = 100)]
    department: String,
    /// The person in charge: a username, who may enter values by hand.
    #[schema(example = "police.chen", max_length = 64)]
    person: String,
}

/// One indicator of the catalogue (cockpit-indicators' `CatalogueEntry`).
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // The schema of the entry the handlers read and write.
pub(crate) struct Indicator {
    /// Its id: 1–64 of a-z, 0-9, `_ - .`.
    #[schema(pattern = "^[a-z0-9][a-z0-9_.-]{0,63}$", example = "public_security.001")]
    id: String,
    name: IndicatorNames,
    /// What it measures and how (指标定义), 1–2000 characters.
    #[schema(min_length = 1, max_length = 2000)]
    definition: String,
    system: SystemName,
    domain: DomainName,
    /// Its unit: `%`, `件`, `万元`, ...
    #[schema(max_length = 20, example = "件")]
    unit: String,
    better: BetterName,
    owner: IndicatorOwner,
    /// The responsible leader (分管领导).
    #[schema(max_length = 64)]
    leader: String,
    frequency: FrequencyName,
    /// The target of each period.
    #[serde(default)]
    target: Option<f64>,
    /// The regions it exists for (codes of `GET /api/regions`).
    #[schema(min_items = 1, example = json!(["330304"]))]
    regions: Vec<String>,
    /// Whether it may be shown to the public.
    #[serde(default)]
    public: bool,
    /// Search words, at most 32 of 1–32 characters.
    #[serde(default)]
    keywords: Vec<String>,
    /// Whether it is published on the boards.
    #[serde(default)]
    published: bool,
    /// Where it comes from.
    #[serde(default)]
    source: Option<String>,
}

/// An indicator with who changed it last.
#[derive(Serialize, ToSchema)]
pub(crate) struct IndicatorAnswer {
    /// The indicator.
    #[schema(value_type = Indicator)]
    indicator: CatalogueEntry,
    /// Who changed it last (`system`: the sample).
    updated_by: String,
    /// When.
    updated_at: DateTime<Utc>,
}

impl From<Listed> for IndicatorAnswer {
    fn from(l: Listed) -> IndicatorAnswer {
        IndicatorAnswer { indicator: l.entry, updated_by: l.updated_by, updated_at: l.updated_at }
    }
}

/// The indicators found.
#[derive(Serialize, ToSchema)]
pub(crate) struct IndicatorList {
    /// How many.
    total: usize,
    /// By id.
    indicators: Vec<IndicatorAnswer>,
}

/// A search of the catalogue; blank is absent.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct CatalogueQuery {
    /// Words found in the id, names, definition, unit, keywords or owner department (all of them).
    #[serde(default, deserialize_with = "blank_as_none")]
    #[param(pattern = "^[^\\x00-\\x1F\\x7F]*$", max_length = 200)]
    q: Option<String>,
    /// Of this system.
    #[serde(default)]
    #[param(value_type = Option<SystemName>, inline)]
    system: Option<cockpit_indicators::System>,
    /// Of this domain.
    #[serde(default)]
    #[param(value_type = Option<DomainName>, inline)]
    domain: Option<cockpit_indicators::Domain>,
    /// Of this frequency.
    #[serde(default)]
    #[param(value_type = Option<FrequencyName>, inline)]
    frequency: Option<cockpit_indicators::Frequency>,
    /// Published or not.
    #[serde(default, deserialize_with = "blank_as_none")]
    published: Option<bool>,
    /// Public or not.
    #[serde(default, deserialize_with = "blank_as_none")]
    public: Option<bool>,
}

impl CatalogueQuery {
    /// The search, once its words are of a length to search for.
    fn checked(&self) -> Result<Search, ApiError> {
        if self.q.as_ref().is_some_and(|q| q.chars().count() > 200) {
            return Err(ApiError::bad("q", "is longer than 200 characters"));
        }
        Ok(self.search())
    }

    fn search(&self) -> Search {
        Search {
            q: self.q.clone(),
            system: self.system,
            domain: self.domain,
            frequency: self.frequency,
            published: self.published,
            public: self.public,
        }
    }
}

/// `PUT /api/indicators/catalogue/{id}/published`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Publication {
    /// True publishes the indicator on the boards, false withdraws it.
    published: bool,
}

#[utoipa::path(get, path = "/api/indicators/catalogue", summary = "Search the indicator catalogue", params(CatalogueQuery), responses((status = 200, description = "the indicators found, by id", body = IndicatorList), (status = 400, description = "a bad parameter, named in `field`", body = crate::api::Problem, content_type = "application/problem+json"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `GET /api/indicators/catalogue`: the indicators a search finds.
pub(crate) async fn list(
    State(state): State<AppState>,
    TypedQuery(q): TypedQuery<CatalogueQuery>,
) -> Result<Answer<IndicatorList>, ApiError> {
    let found = catalogue::search(&state.cases.store, &q.checked()?).await?;
    Ok(Answer(IndicatorList { total: found.len(), indicators: found.into_iter().map(Into::into).collect() }))
}

#[utoipa::path(get, path = "/api/indicators/catalogue/export.csv", summary = "Export the indicators a search finds as CSV", params(CatalogueQuery), responses((status = 200, description = "one row per indicator (UTF-8 with BOM, formulas neutralised)", body = String, content_type = "text/csv"), (status = 400, description = "a bad parameter, named in `field`", body = crate::api::Problem, content_type = "application/problem+json"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `GET /api/indicators/catalogue/export.csv`: the search's indicators as CSV.
pub(crate) async fn export_csv(
    State(state): State<AppState>,
    TypedQuery(q): TypedQuery<CatalogueQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let found = catalogue::search(&state.cases.store, &q.checked()?).await?;
    let mut csv = super::csv::Csv::new(true, 512 * (found.len() + 1));
    let columns = [
        "id",
        "名称",
        "name",
        "定义",
        "体系",
        "领域",
        "单位",
        "方向",
        "责任部门",
        "责任人",
        "分管领导",
        "更新频率",
        "目标",
        "区域",
        "公开",
        "关键词",
        "发布",
        "来源",
        "updated_by",
        "updated_at",
    ];
    for column in columns {
        csv.value(column);
    }
    csv.end_row();
    for l in &found {
        let e = &l.entry;
        csv.text(e.id.as_str()).text(&e.name.zh).text(&e.name.en).text(&e.definition);
        csv.value(e.system.zh()).value(e.domain.zh()).text(&e.unit).value(&word(&e.better));
        csv.text(&e.owner.department).text(&e.owner.person).text(&e.leader).value(&word(&e.frequency));
        csv.value(&e.target.map(|t| t.to_string()).unwrap_or_default()).text(&e.regions.join(" "));
        csv.value(if e.public { "是" } else { "否" }).text(&e.keywords.join(" "));
        csv.value(if e.published { "是" } else { "否" }).text(e.source.as_deref().unwrap_or(""));
        csv.text(&l.updated_by).value(&l.updated_at.to_rfc3339());
        csv.end_row();
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"indicators.csv\""),
        ],
        csv.finish(),
    ))
}

/// A value serde writes as one word (the catalogue's enums), for the CSV.
fn word<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

#[utoipa::path(post, path = "/api/indicators/catalogue", summary = "Create an indicator (audited)", request_body = Indicator, responses((status = 201, description = "created", body = IndicatorAnswer), (status = 400, description = "a field at fault, named in `field`", body = crate::api::Problem, content_type = "application/problem+json"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission", body = crate::api::Problem, content_type = "application/problem+json"), (status = 409, description = "the id is taken", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `POST /api/indicators/catalogue`: a new indicator.
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(entry): Json<CatalogueEntry>,
) -> Result<(StatusCode, Answer<IndicatorAnswer>), ApiError> {
    let city = &state.geography.get().city;
    catalogue::create(&state.cases.store, city, &entry, caller.audit_actor()).await?;
    let l = catalogue::get(&state.cases.store, entry.id.as_str()).await?;
    Ok((StatusCode::CREATED, Answer(l.into())))
}

#[utoipa::path(get, path = "/api/indicators/catalogue/{id}", summary = "One indicator of the catalogue", params(("id" = String, Path, description = "the indicator's id", pattern = "^[a-z0-9][a-z0-9_.-]{0,63}$", example = "economy.001")), responses((status = 200, description = "the indicator", body = IndicatorAnswer), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission", body = crate::api::Problem, content_type = "application/problem+json"), (status = 404, description = "no such indicator", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `GET /api/indicators/catalogue/{id}`.
pub(crate) async fn one(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Answer<IndicatorAnswer>, ApiError> {
    Ok(Answer(catalogue::get(&state.cases.store, &id).await?.into()))
}

#[utoipa::path(put, path = "/api/indicators/catalogue/{id}", summary = "Replace an indicator whole (audited)", params(("id" = String, Path, description = "the indicator's id", pattern = "^[a-z0-9][a-z0-9_.-]{0,63}$", example = "economy.001")), request_body = Indicator, responses((status = 200, description = "the indicator as stored", body = IndicatorAnswer), (status = 400, description = "a field at fault, named in `field`", body = crate::api::Problem, content_type = "application/problem+json"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission", body = crate::api::Problem, content_type = "application/problem+json"), (status = 404, description = "no such indicator", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `PUT /api/indicators/catalogue/{id}`: the indicator replaced whole.
pub(crate) async fn replace(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(entry): Json<CatalogueEntry>,
) -> Result<Answer<IndicatorAnswer>, ApiError> {
    let city = &state.geography.get().city;
    catalogue::replace(&state.cases.store, city, &id, &entry, caller.audit_actor()).await?;
    Ok(Answer(catalogue::get(&state.cases.store, &id).await?.into()))
}

#[utoipa::path(put, path = "/api/indicators/catalogue/{id}/published", summary = "Publish or withdraw an indicator (audited)", params(("id" = String, Path, description = "the indicator's id", pattern = "^[a-z0-9][a-z0-9_.-]{0,63}$", example = "economy.001")), request_body = Publication, responses((status = 200, description = "the indicator as stored", body = IndicatorAnswer), (status = 400, description = "a field at fault, named in `field`", body = crate::api::Problem, content_type = "application/problem+json"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission", body = crate::api::Problem, content_type = "application/problem+json"), (status = 404, description = "no such indicator", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `PUT /api/indicators/catalogue/{id}/published`.
pub(crate) async fn publish(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(p): Json<Publication>,
) -> Result<Answer<IndicatorAnswer>, ApiError> {
    Ok(Answer(catalogue::publish(&state.cases.store, &id, p.published, caller.audit_actor()).await?.into()))
}

#[utoipa::path(delete, path = "/api/indicators/catalogue/{id}", summary = "Delete an indicator and its values (audited); deleting one that is not there is done too", params(("id" = String, Path, description = "the indicator's id", pattern = "^[a-z0-9][a-z0-9_.-]{0,63}$", example = "economy.001")), responses((status = 204, description = "gone"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `DELETE /api/indicators/catalogue/{id}`: gone, whether or not it was there (a retry
/// of a delete is no error; only a removal is audited).
pub(crate) async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let well_formed = id.len() <= 64
        && id.bytes().next().is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.-".contains(&b));
    if !well_formed {
        return Err(ApiError::bad("id", format!("`{id}` is not an indicator's id")));
    }
    match catalogue::delete(&state.cases.store, &id, caller.audit_actor()).await {
        Ok(()) | Err(IndicatorsError::NotFound(_)) => Ok(StatusCode::NO_CONTENT),
        Err(e) => Err(e.into()),
    }
}
