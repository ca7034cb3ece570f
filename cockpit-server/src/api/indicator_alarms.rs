//! Indicator thresholds and alarms: an indicator's threshold read by whoever reads the
//! catalogue and set with `indicators.manage` (audited, in force on every instance at once,
//! `crate::indicators::thresholds`); the alarm episodes listed by status, severity,
//! acknowledgement, indicator and region within the caller's scope, and acknowledged with
//! `alarms.acknowledge`.

use axum::Json as Answer;
use axum::extract::State;
use chrono::{DateTime, Utc};
use cockpit_access::ScopeLevel;
use cockpit_indicators::{IndicatorId, Threshold};
use cockpit_store::{AuditEntry, IndicatorAlarmFilter, IndicatorAlarmRow};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use super::ApiError;
use super::params::{Json, Path, TypedQuery, blank_as_none};
use crate::AppState;
use crate::auth::Caller;
use crate::indicators::{catalogue, threshold_edits, thresholds};

/// What the levels are compared with.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
#[allow(dead_code)] // The schema of cockpit-indicators' Measure.
pub(crate) enum ThresholdMeasure {
    /// The value itself, in the indicator's unit.
    Value,
    /// The change in percent against the same period a year before (同比).
    ChangeFromLastYear,
    /// The change in percent against the mean of the periods before (a rolling baseline).
    ChangeFromBaseline {
        /// How many periods the baseline averages.
        #[schema(minimum = 1, maximum = 60)]
        periods: u32,
    },
}

/// One level: it is reached at `raise` or worse, and holds until the measure is better
/// than `clear` (on the better side of `raise`, or equal; absent: `raise`).
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub(crate) struct ThresholdLevel {
    #[schema(example = 100.0)]
    raise: f64,
    #[serde(default)]
    #[schema(example = 90.0)]
    clear: Option<f64>,
}

/// The do-not-disturb window in the city's local time (`to` before `from`: over midnight).
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub(crate) struct ThresholdQuietWindow {
    #[schema(pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$", example = "22:00")]
    from: String,
    #[schema(pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$", example = "07:00")]
    to: String,
}

/// An indicator's threshold (cockpit-indicators' `Threshold`): a plain line (`red` alone)
/// or bands (`yellow` and `red`), read in the direction worse for the indicator; a level
/// must hold `raise_after_seconds` before it is raised and `clear_after_seconds` before it
/// steps down. Inside `quiet`, alarms are recorded and streamed, and a red one's case waits
/// for the window's end (opened then if the alarm is still open).
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub(crate) struct IndicatorThreshold {
    /// Whether it alarms (switched off: its open alarms clear at once, `cleared_by: disabled`).
    enabled: bool,
    measure: ThresholdMeasure,
    #[serde(default)]
    yellow: Option<ThresholdLevel>,
    red: ThresholdLevel,
    #[serde(default)]
    #[schema(maximum = 2592000)]
    raise_after_seconds: u32,
    #[serde(default)]
    #[schema(maximum = 2592000)]
    clear_after_seconds: u32,
    #[serde(default)]
    quiet: Option<ThresholdQuietWindow>,
    /// The case category of a red alarm's case (default 06, 其他事件).
    #[serde(default)]
    #[schema(pattern = "^[0-9]{2,16}$", example = "07")]
    case_category: Option<String>,
}

/// A threshold with its version; an indicator without one has `threshold: null` and
/// version 0.
#[derive(Serialize, ToSchema)]
pub(crate) struct IndicatorThresholdAnswer {
    indicator: String,
    #[schema(value_type = Option<IndicatorThreshold>)]
    threshold: Option<Threshold>,
    /// How many edits it has had.
    version: i64,
    updated_by: Option<String>,
    updated_at: Option<DateTime<Utc>>,
}

impl IndicatorThresholdAnswer {
    fn of(indicator: String, s: Option<thresholds::Stored>) -> IndicatorThresholdAnswer {
        match s {
            Some(s) => IndicatorThresholdAnswer {
                indicator,
                threshold: Some(s.threshold),
                version: s.version,
                updated_by: Some(s.updated_by),
                updated_at: Some(s.updated_at),
            },
            None => {
                IndicatorThresholdAnswer { indicator, threshold: None, version: 0, updated_by: None, updated_at: None }
            }
        }
    }
}

/// An alarm's level.
#[derive(Serialize, Deserialize, ToSchema, Clone, Copy, PartialEq)]
#[serde(rename_all = "snake_case")]
pub(crate) enum IndicatorAlarmLevel {
    Yellow,
    Red,
}

/// Open or cleared.
#[derive(Serialize, Deserialize, ToSchema, Clone, Copy, PartialEq)]
#[serde(rename_all = "snake_case")]
pub(crate) enum IndicatorAlarmStatus {
    Open,
    Cleared,
}

/// One alarm episode of an indicator in a region.
#[derive(Serialize, ToSchema)]
pub(crate) struct IndicatorAlarmAnswer {
    id: i64,
    indicator: String,
    region: String,
    status: IndicatorAlarmStatus,
    /// The level now (or when it cleared).
    #[schema(value_type = IndicatorAlarmLevel)]
    level: String,
    /// The highest level it reached.
    #[schema(value_type = IndicatorAlarmLevel)]
    peak: String,
    /// The value at its last change.
    value: f64,
    /// The measure compared with the levels (the value, or its change in percent).
    measure: f64,
    opened_at: DateTime<Utc>,
    changed_at: DateTime<Utc>,
    cleared_at: Option<DateTime<Utc>>,
    acknowledged_by: Option<String>,
    acknowledged_at: Option<DateTime<Utc>>,
    /// The case it opened (red alarms), once opened.
    case_id: Option<i64>,
    /// When its case may be opened (the end of a do-not-disturb window, or its raising).
    case_after: Option<DateTime<Utc>>,
    /// Why it ended: the values came back (`value`), the threshold was edited past the value
    /// that stands (`edit`) or switched off (`disabled`); null while open.
    #[schema(value_type = Option<IndicatorAlarmClearedBy>)]
    cleared_by: Option<String>,
}

/// Why an alarm ended.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)] // The schema of the stored reason.
pub(crate) enum IndicatorAlarmClearedBy {
    /// The values came back past the clear line and held there.
    Value,
    /// The threshold was edited and the value that stands no longer calls for a level.
    Edit,
    /// The threshold was switched off.
    Disabled,
}

impl From<IndicatorAlarmRow> for IndicatorAlarmAnswer {
    fn from(r: IndicatorAlarmRow) -> IndicatorAlarmAnswer {
        IndicatorAlarmAnswer {
            id: r.id,
            indicator: r.indicator,
            region: r.region,
            status: if r.cleared_at.is_some() { IndicatorAlarmStatus::Cleared } else { IndicatorAlarmStatus::Open },
            level: r.level,
            peak: r.peak,
            value: r.value,
            measure: r.measure,
            opened_at: r.opened_at,
            changed_at: r.changed_at,
            cleared_at: r.cleared_at,
            acknowledged_by: r.acknowledged_by,
            acknowledged_at: r.acknowledged_at,
            case_id: r.case_id,
            case_after: r.case_after,
            cleared_by: r.cleared_by,
        }
    }
}

/// The alarms found.
#[derive(Serialize, ToSchema)]
pub(crate) struct IndicatorAlarmList {
    /// How many match in all.
    total: i64,
    /// Newest first.
    alarms: Vec<IndicatorAlarmAnswer>,
}

/// Which alarms; blank is absent.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct IndicatorAlarmQuery {
    /// Open or cleared.
    #[serde(default)]
    #[param(inline)]
    status: Option<IndicatorAlarmStatus>,
    /// At this level.
    #[serde(default)]
    #[param(inline)]
    severity: Option<IndicatorAlarmLevel>,
    /// Acknowledged or not.
    #[serde(default, deserialize_with = "blank_as_none")]
    acknowledged: Option<bool>,
    /// Of this indicator.
    #[serde(default, deserialize_with = "blank_as_none")]
    #[param(pattern = "^[a-z0-9][a-z0-9_.-]{0,63}$")]
    indicator: Option<String>,
    /// In this region or within it.
    #[serde(default, deserialize_with = "blank_as_none")]
    #[param(pattern = "^[0-9]{6}([0-9]{3}){0,3}$", example = "330304001")]
    region: Option<String>,
    /// At most this many (1–500, default 100).
    #[serde(default, deserialize_with = "blank_as_none")]
    #[param(minimum = 1, maximum = 500)]
    limit: Option<usize>,
    /// Skipped first (at most 100000).
    #[serde(default, deserialize_with = "blank_as_none")]
    #[param(minimum = 0, maximum = 100000)]
    offset: Option<usize>,
}

/// The caller's region scope as a code prefix (the district: every region).
fn scope(caller: &Caller) -> String {
    let s = &caller.principal.scope;
    if s.level == ScopeLevel::District { String::new() } else { s.code.clone() }
}

#[utoipa::path(get, path = "/api/indicators/catalogue/{id}/threshold", summary = "An indicator's threshold", params(("id" = String, Path, description = "the indicator's id", pattern = "^[a-z0-9][a-z0-9_.-]{0,63}$", example = "economy.001")), responses((status = 200, description = "the threshold and its version (`null` and 0: none set)", body = IndicatorThresholdAnswer), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission", body = crate::api::Problem, content_type = "application/problem+json"), (status = 404, description = "no such indicator", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `GET /api/indicators/catalogue/{id}/threshold`.
pub(crate) async fn threshold(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Answer<IndicatorThresholdAnswer>, ApiError> {
    let entry = catalogue::get(&state.cases.store, &id).await?.entry;
    let stored = thresholds::get(&state.cases.store, entry.id.as_str()).await?;
    Ok(Answer(IndicatorThresholdAnswer::of(id, stored)))
}

#[utoipa::path(put, path = "/api/indicators/catalogue/{id}/threshold", summary = "Set an indicator's threshold (audited; in force at once: the latest values are read again against it, alarms raised or cleared)", params(("id" = String, Path, description = "the indicator's id", pattern = "^[a-z0-9][a-z0-9_.-]{0,63}$", example = "economy.001")), request_body = IndicatorThreshold, responses((status = 200, description = "the threshold stored, with its version", body = IndicatorThresholdAnswer), (status = 400, description = "a field at fault, named in `field` (`red.clear`, `quiet.from`)", body = crate::api::Problem, content_type = "application/problem+json"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission", body = crate::api::Problem, content_type = "application/problem+json"), (status = 404, description = "no such indicator", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `PUT /api/indicators/catalogue/{id}/threshold`.
pub(crate) async fn set_threshold(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(threshold): Json<Threshold>,
) -> Result<Answer<IndicatorThresholdAnswer>, ApiError> {
    let entry = catalogue::get(&state.cases.store, &id).await?.entry;
    let stored = thresholds::put(&state.cases, &entry, threshold, caller.audit_actor()).await?;
    // In force at once: the values that stand are read against it now. The edit is stored
    // either way; should this fail, every instance's alarm timer reads them at its next
    // check (it has not seen this version).
    let (geography, offset) = (state.cases.geography.get(), state.cases.rules.get().calendar.offset());
    let store = &state.cases.store;
    if let Err(e) = threshold_edits::revise(store, &geography.city, offset, Utc::now(), entry.id.as_str()).await {
        tracing::warn!(error = %e, indicator = %id, "reading the values again against an edited threshold failed");
    }
    Ok(Answer(IndicatorThresholdAnswer::of(id, Some(stored))))
}

#[utoipa::path(get, path = "/api/indicators/alarms", summary = "Indicator alarms in the caller's scope, newest first", params(IndicatorAlarmQuery), responses((status = 200, description = "the alarms found", body = IndicatorAlarmList), (status = 400, description = "a bad parameter, named in `field`", body = crate::api::Problem, content_type = "application/problem+json"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `GET /api/indicators/alarms`.
pub(crate) async fn alarms(
    State(state): State<AppState>,
    caller: Caller,
    TypedQuery(q): TypedQuery<IndicatorAlarmQuery>,
) -> Result<Answer<IndicatorAlarmList>, ApiError> {
    if let Some(region) = &q.region {
        super::params::region_code("region", region)?;
    }
    if let Some(indicator) = &q.indicator
        && IndicatorId::new(indicator).is_err()
    {
        return Err(ApiError::bad("indicator", "1–64 of a-z, 0-9, _ - . starting with a letter or digit"));
    }
    let filter = IndicatorAlarmFilter {
        scope: scope(&caller),
        open: q.status.map(|s| s == IndicatorAlarmStatus::Open),
        level: q.severity.map(|s| if s == IndicatorAlarmLevel::Red { "red" } else { "yellow" }.to_string()),
        acknowledged: q.acknowledged,
        indicator: q.indicator,
        region: q.region,
        limit: super::params::counted(q.limit, "limit", 1..=500, 100)? as i64,
        offset: super::params::counted(q.offset, "offset", 0..=100_000, 0)? as i64,
    };
    let (rows, total) = state.cases.store.indicator_alarms(&filter).await?;
    Ok(Answer(IndicatorAlarmList { total, alarms: rows.into_iter().map(Into::into).collect() }))
}

#[utoipa::path(post, path = "/api/indicators/alarms/{id}/acknowledge", summary = "Acknowledge an indicator alarm (audited; again changes nothing)", params(("id" = i64, Path, description = "the alarm's id", minimum = 1, example = 1)), responses((status = 200, description = "the alarm, acknowledged", body = IndicatorAlarmAnswer), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission", body = crate::api::Problem, content_type = "application/problem+json"), (status = 404, description = "no such alarm in the caller's scope", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `POST /api/indicators/alarms/{id}/acknowledge`.
pub(crate) async fn acknowledge(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Answer<IndicatorAlarmAnswer>, ApiError> {
    let who = caller.audit_actor();
    let actor = who.actor.clone();
    let audit = AuditEntry {
        who,
        action: "indicator.alarm_acknowledge".into(),
        object: format!("indicator_alarm:{id}"),
        result: "ok".into(),
        detail: json!({}),
    };
    match state.cases.store.acknowledge_indicator_alarm(id, &scope(&caller), &actor, audit).await? {
        Some((row, _)) => Ok(Answer(row.into())),
        None => Err(ApiError::NotFound(format!("indicator alarm {id} does not exist"))),
    }
}
