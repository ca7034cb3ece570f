//! Assessment models, their monthly results and comparisons, their publication, and the
//! streets' vital-sign index (`/api/assessment/...`, `/api/indicators/vital-signs`):
//! read by the wall's and the statistics' readers and those who keep indicators; models
//! kept and results published by those who keep indicators (`indicators.manage`), who also
//! see results not yet published. See `crate::indicators::assessment`.

use std::collections::HashMap;

use axum::Json as Answer;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use cockpit_access::Permission as P;
use cockpit_indicators::{DomainScore, ItemScore, Model, Names, Subject};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::ApiError;
use super::params::{Json, Path, TypedQuery, blank_as_none};
use crate::AppState;
use crate::auth::Caller;
use crate::indicators::assessment::{self, Kept, Results, month_of};

/// A model with who changed it last.
#[derive(Serialize, ToSchema)]
pub(crate) struct AssessmentModelView {
    model: Model,
    /// Edits since it was made (1: never edited).
    version: i64,
    /// Who changed it last (`system`: the sample).
    updated_by: String,
    updated_at: DateTime<Utc>,
}

impl From<Kept> for AssessmentModelView {
    fn from(k: Kept) -> AssessmentModelView {
        AssessmentModelView { model: k.model, version: k.version, updated_by: k.updated_by, updated_at: k.updated_at }
    }
}

/// Every model.
#[derive(Serialize, ToSchema)]
pub(crate) struct AssessmentModels {
    models: Vec<AssessmentModelView>,
}

/// One subject's result.
#[derive(Serialize, ToSchema)]
pub(crate) struct AssessmentRow {
    /// The street's code or the department's id.
    subject: String,
    /// Its name.
    name: String,
    /// Per item, in the model's order: the value (`null`: no data) and the points.
    items: Vec<ItemScore>,
    total: f64,
    /// 1 for the highest total; equal totals share a rank.
    rank: usize,
}

/// A model's results for a month.
#[derive(Serialize, ToSchema)]
pub(crate) struct AssessmentResults {
    /// The model's id.
    model: String,
    name: Names,
    subject: Subject,
    /// `YYYY-MM`.
    #[schema(example = "2026-11")]
    month: String,
    /// The items' names, in order.
    items: Vec<Names>,
    /// The points a subject could get.
    points: f64,
    /// Whether the results are published (those without `indicators.manage` see only these).
    published: bool,
    decided_by: Option<String>,
    decided_at: Option<DateTime<Utc>>,
    /// Highest total first.
    results: Vec<AssessmentRow>,
}

impl From<Results> for AssessmentResults {
    fn from(r: Results) -> AssessmentResults {
        let name = |code: &str| r.names.get(code).cloned().unwrap_or_else(|| code.to_string());
        AssessmentResults {
            model: r.model.id.clone(),
            name: r.model.name.clone(),
            subject: r.model.subject,
            month: r.month.format("%Y-%m").to_string(),
            items: r.model.items.iter().map(|i| i.name.clone()).collect(),
            points: r.model.points(),
            published: r.publication.as_ref().is_some_and(|p| p.published),
            decided_by: r.publication.as_ref().map(|p| p.decided_by.clone()),
            decided_at: r.publication.as_ref().map(|p| p.decided_at),
            results: r
                .scored
                .iter()
                .map(|s| AssessmentRow {
                    subject: s.subject.clone(),
                    name: name(&s.subject),
                    items: s.items.clone(),
                    total: s.total,
                    rank: s.rank,
                })
                .collect(),
        }
    }
}

/// `?model=&month=`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ResultsQuery {
    /// The model's id.
    #[param(example = "street.case-handling", min_length = 1, max_length = 64)]
    model: String,
    /// `YYYY-MM`; the month before the current one when absent.
    #[serde(default, deserialize_with = "blank_as_none")]
    #[param(example = "2026-11", pattern = "^[0-9]{4}-(0[1-9]|1[0-2])$")]
    month: Option<String>,
}

/// `?models=a,b&month=`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct CompareQuery {
    /// Two to five models' ids, comma-separated, assessing the same subjects.
    #[param(
        example = "street.case-handling,street.safety-governance",
        pattern = "^[a-z0-9._-]{1,64}(,[a-z0-9._-]{1,64}){1,4}$"
    )]
    models: String,
    /// `YYYY-MM`; the month before the current one when absent.
    #[serde(default, deserialize_with = "blank_as_none")]
    #[param(example = "2026-11", pattern = "^[0-9]{4}-(0[1-9]|1[0-2])$")]
    month: Option<String>,
}

/// One subject under several models.
#[derive(Serialize, ToSchema)]
pub(crate) struct ComparedRow {
    subject: String,
    name: String,
    /// Per model, in the order asked.
    totals: Vec<f64>,
    /// Per model, in the order asked.
    ranks: Vec<usize>,
}

/// Several models' results for one month, side by side.
#[derive(Serialize, ToSchema)]
pub(crate) struct AssessmentComparison {
    #[schema(example = "2026-11")]
    month: String,
    /// The models' ids, in the order asked.
    models: Vec<String>,
    /// The subjects, by rank under the first model.
    subjects: Vec<ComparedRow>,
}

/// `PUT /api/assessment/results/published`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PublishResults {
    #[schema(example = "street.case-handling")]
    model: String,
    /// `YYYY-MM`.
    #[schema(example = "2026-11", pattern = "^[0-9]{4}-(0[1-9]|1[0-2])$")]
    month: String,
    published: bool,
}

/// The decision stored.
#[derive(Serialize, ToSchema)]
pub(crate) struct PublishedAnswer {
    model: String,
    month: String,
    published: bool,
    decided_by: String,
    decided_at: DateTime<Utc>,
}

/// One street's vital-sign index.
#[derive(Serialize, ToSchema)]
pub(crate) struct StreetVitals {
    street: String,
    name: String,
    /// The sixteen domains, in the tender's order.
    domains: Vec<DomainScore>,
    /// The eight city domains' mean.
    city: Option<f64>,
    /// The eight governance domains' mean.
    governance: Option<f64>,
    /// Every scored domain's mean; `null`: no data.
    index: Option<f64>,
    /// green, blue, yellow, orange or red.
    #[schema(example = "blue")]
    colour: Option<String>,
    rank: Option<usize>,
}

/// The streets' vital-sign index for a month.
#[derive(Serialize, ToSchema)]
pub(crate) struct VitalSigns {
    #[schema(example = "2026-11")]
    month: String,
    streets: Vec<StreetVitals>,
}

/// `?month=`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct MonthQuery {
    /// `YYYY-MM`; the month before the current one when absent.
    #[serde(default, deserialize_with = "blank_as_none")]
    #[param(example = "2026-11", pattern = "^[0-9]{4}-(0[1-9]|1[0-2])$")]
    month: Option<String>,
}

/// `YYYY-MM` as the month's first day; absent: the month before the current one.
fn month(state: &AppState, field: &str, text: Option<&str>) -> Result<NaiveDate, ApiError> {
    match text {
        Some(t) => NaiveDate::parse_from_str(&format!("{}-01", t.trim()), "%Y-%m-%d")
            .ok()
            .filter(|_| t.trim().len() == 7)
            .ok_or_else(|| ApiError::bad(field, "a month as YYYY-MM")),
        None => {
            let offset = state.cases.rules.get().calendar.offset();
            let this = month_of(Utc::now().with_timezone(&offset).date_naive());
            Ok(this.pred_opt().map_or(this, month_of))
        }
    }
}

/// Model `id`'s results for `month`: refused as not found to a caller who may not see
/// them yet.
async fn results_for(state: &AppState, caller: &Caller, id: &str, month: NaiveDate) -> Result<Results, ApiError> {
    let store = &state.cases.store;
    let kept = assessment::model(store, id).await?;
    let offset = state.cases.rules.get().calendar.offset();
    let city = &state.geography.get().city;
    let results = assessment::results(store, city, offset, kept, month, Utc::now()).await?;
    let published = results.publication.as_ref().is_some_and(|p| p.published);
    if !published && !caller.principal.can(P::ManageIndicators) {
        return Err(ApiError::NotFound(format!(
            "the results of `{id}` for {} are not published",
            month.format("%Y-%m")
        )));
    }
    Ok(results)
}

#[utoipa::path(get, path = "/api/assessment/models", summary = "The assessment models", responses((status = 200, description = "every model, by id", body = AssessmentModels), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `GET /api/assessment/models`.
pub(crate) async fn models(State(state): State<AppState>) -> Result<Answer<AssessmentModels>, ApiError> {
    let models = assessment::models(&state.cases.store).await?;
    Ok(Answer(AssessmentModels { models: models.into_iter().map(Into::into).collect() }))
}

#[utoipa::path(get, path = "/api/assessment/models/{id}", summary = "One assessment model", params(("id" = String, Path, description = "the model's id", pattern = "^[a-z0-9._-]{1,64}$", example = "street.case-handling")), responses((status = 200, description = "the model", body = AssessmentModelView), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission", body = crate::api::Problem, content_type = "application/problem+json"), (status = 404, description = "no such model", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `GET /api/assessment/models/{id}`.
pub(crate) async fn model(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Answer<AssessmentModelView>, ApiError> {
    Ok(Answer(assessment::model(&state.cases.store, &id).await?.into()))
}

#[utoipa::path(post, path = "/api/assessment/models", summary = "Create an assessment model (audited)", request_body = Model, responses((status = 201, description = "the model", body = AssessmentModelView), (status = 400, description = "a field at fault, named in `field` (`items[1].weight`)", body = crate::api::Problem, content_type = "application/problem+json"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission", body = crate::api::Problem, content_type = "application/problem+json"), (status = 409, description = "the id is taken", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `POST /api/assessment/models`.
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(model): Json<Model>,
) -> Result<(StatusCode, Answer<AssessmentModelView>), ApiError> {
    let kept = assessment::put(&state.cases.store, None, &model, caller.audit_actor()).await?;
    Ok((StatusCode::CREATED, Answer(kept.into())))
}

#[utoipa::path(put, path = "/api/assessment/models/{id}", summary = "Replace an assessment model whole (audited)", params(("id" = String, Path, description = "the model's id", pattern = "^[a-z0-9._-]{1,64}$", example = "street.case-handling")), request_body = Model, responses((status = 200, description = "the model", body = AssessmentModelView), (status = 400, description = "a field at fault, named in `field`", body = crate::api::Problem, content_type = "application/problem+json"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission", body = crate::api::Problem, content_type = "application/problem+json"), (status = 404, description = "no such model", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `PUT /api/assessment/models/{id}`.
pub(crate) async fn replace(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(model): Json<Model>,
) -> Result<Answer<AssessmentModelView>, ApiError> {
    Ok(Answer(assessment::put(&state.cases.store, Some(&id), &model, caller.audit_actor()).await?.into()))
}

#[utoipa::path(get, path = "/api/assessment/results", summary = "A model's results for a month: each subject's points per item, total and rank", params(ResultsQuery), responses((status = 200, description = "highest total first", body = AssessmentResults), (status = 400, description = "a bad parameter, named in `field`", body = crate::api::Problem, content_type = "application/problem+json"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission", body = crate::api::Problem, content_type = "application/problem+json"), (status = 404, description = "no such model, or results not published (to a caller without indicators.manage)", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `GET /api/assessment/results`.
pub(crate) async fn results(
    State(state): State<AppState>,
    caller: Caller,
    TypedQuery(q): TypedQuery<ResultsQuery>,
) -> Result<Answer<AssessmentResults>, ApiError> {
    let month = month(&state, "month", q.month.as_deref())?;
    Ok(Answer(results_for(&state, &caller, &q.model, month).await?.into()))
}

#[utoipa::path(get, path = "/api/assessment/compare", summary = "Several models' results for a month, side by side", params(CompareQuery), responses((status = 200, description = "each subject's total and rank under each model", body = AssessmentComparison), (status = 400, description = "a bad parameter, named in `field`", body = crate::api::Problem, content_type = "application/problem+json"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission", body = crate::api::Problem, content_type = "application/problem+json"), (status = 404, description = "no such model, or results not published", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `GET /api/assessment/compare`.
pub(crate) async fn compare(
    State(state): State<AppState>,
    caller: Caller,
    TypedQuery(q): TypedQuery<CompareQuery>,
) -> Result<Answer<AssessmentComparison>, ApiError> {
    let month = month(&state, "month", q.month.as_deref())?;
    let ids: Vec<&str> = q.models.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
    if !(2..=5).contains(&ids.len()) {
        return Err(ApiError::bad("models", "two to five models' ids, comma-separated"));
    }
    let mut all = Vec::with_capacity(ids.len());
    for id in &ids {
        all.push(results_for(&state, &caller, id, month).await?);
    }
    if all.iter().any(|r| r.model.subject != all[0].model.subject) {
        return Err(ApiError::bad("models", "models that assess the same subjects (streets or departments)"));
    }
    let by_model: Vec<HashMap<&str, (f64, usize)>> =
        all.iter().map(|r| r.scored.iter().map(|s| (s.subject.as_str(), (s.total, s.rank))).collect()).collect();
    let subjects = all[0]
        .scored
        .iter()
        .map(|s| {
            let each: Vec<(f64, usize)> =
                by_model.iter().map(|m| m.get(s.subject.as_str()).copied().unwrap_or((0.0, 0))).collect();
            ComparedRow {
                subject: s.subject.clone(),
                name: all[0].names.get(&s.subject).cloned().unwrap_or_else(|| s.subject.clone()),
                totals: each.iter().map(|e| e.0).collect(),
                ranks: each.iter().map(|e| e.1).collect(),
            }
        })
        .collect();
    Ok(Answer(AssessmentComparison {
        month: month.format("%Y-%m").to_string(),
        models: ids.iter().map(|s| s.to_string()).collect(),
        subjects,
    }))
}

#[utoipa::path(put, path = "/api/assessment/results/published", summary = "Publish or withhold a model's results for a month (audited)", request_body = PublishResults, responses((status = 200, description = "the decision stored", body = PublishedAnswer), (status = 400, description = "a field at fault, named in `field`", body = crate::api::Problem, content_type = "application/problem+json"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission", body = crate::api::Problem, content_type = "application/problem+json"), (status = 404, description = "no such model", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `PUT /api/assessment/results/published`.
pub(crate) async fn publish(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<PublishResults>,
) -> Result<Answer<PublishedAnswer>, ApiError> {
    let month = month(&state, "month", Some(&body.month))?;
    let p = assessment::publish(&state.cases.store, &body.model, month, body.published, caller.audit_actor()).await?;
    Ok(Answer(PublishedAnswer {
        model: body.model,
        month: month.format("%Y-%m").to_string(),
        published: p.published,
        decided_by: p.decided_by,
        decided_at: p.decided_at,
    }))
}

#[utoipa::path(get, path = "/api/indicators/vital-signs", summary = "The streets' vital-sign index for a month: a score per domain, the city and governance indices, the five-colour rating and rank", params(MonthQuery), responses((status = 200, description = "every street, in the city's order", body = VitalSigns), (status = 400, description = "a bad parameter, named in `field`", body = crate::api::Problem, content_type = "application/problem+json"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `GET /api/indicators/vital-signs`.
pub(crate) async fn vital_signs(
    State(state): State<AppState>,
    TypedQuery(q): TypedQuery<MonthQuery>,
) -> Result<Answer<VitalSigns>, ApiError> {
    let month = month(&state, "month", q.month.as_deref())?;
    let city = &state.geography.get().city;
    let rating = state.indicators.catalogue().rating;
    let (streets, names) = assessment::vital_signs(&state.cases.store, city, &rating, month).await?;
    let colour = |c: cockpit_indicators::Colour| {
        serde_json::to_value(c).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
    };
    Ok(Answer(VitalSigns {
        month: month.format("%Y-%m").to_string(),
        streets: streets
            .into_iter()
            .map(|s| StreetVitals {
                name: names.get(&s.street).cloned().unwrap_or_else(|| s.street.clone()),
                street: s.street,
                domains: s.domains,
                city: s.city,
                governance: s.governance,
                index: s.index,
                colour: s.colour.map(colour),
                rank: s.rank,
            })
            .collect(),
    }))
}
