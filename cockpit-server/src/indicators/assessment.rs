//! Assessment (考核) and the vital-sign index (城市体征指数), for a month.
//!
//! Models (`cockpit_indicators::Model`) are kept in `assessment_models`, read at every
//! request, each change audited; the sample (`data/<city>/indicators/assessment-models.json`)
//! is loaded when there are none. A model's results for a month are computed when asked,
//! from the case history (on-time closure, satisfaction and overdue per street or
//! department, `Store::case_month`) and from the catalogue's values per street in the
//! period holding the month; whether they are published is stored per model and month.
//! The vital-sign index scores every street over the sixteen domains from the catalogue's
//! values of the month (`cockpit_indicators::vital_index`).

use std::collections::HashMap;
use std::path::Path;

use anyhow::Context;
use chrono::{DateTime, FixedOffset, Months, NaiveDate, Utc};
use cockpit_geo::{City, Level};
use cockpit_indicators::{
    CatalogueEntry, Frequency, ItemMeasure, Model, Rating, Scored, Search, StreetIndex, Subject, vital_index,
};
use cockpit_store::{AuditActor, AuditEntry, CaseGroup, CaseMonth, Publication, Store, StoreError, StoredModel};
use serde::Deserialize;
use serde_json::json;

use super::{IndicatorsError, catalogue};

/// A model with who changed it last.
#[derive(Debug, Clone)]
pub struct Kept {
    /// The model.
    pub model: Model,
    /// Edits since it was made (1: never edited).
    pub version: i64,
    /// Who changed it last (`system` for the sample).
    pub updated_by: String,
    /// When.
    pub updated_at: DateTime<Utc>,
}

fn kept(row: StoredModel) -> Result<Kept, IndicatorsError> {
    let model = serde_json::from_value(row.model)
        .map_err(|e| StoreError::Corrupt(format!("assessment model {}: {e}", row.id)))?;
    Ok(Kept { model, version: row.version, updated_by: row.updated_by, updated_at: row.updated_at })
}

/// Every model, by id.
pub async fn models(store: &Store) -> Result<Vec<Kept>, IndicatorsError> {
    store.assessment_models().await?.into_iter().map(kept).collect()
}

/// Model `id`.
pub async fn model(store: &Store, id: &str) -> Result<Kept, IndicatorsError> {
    let row = store.assessment_model(id).await?;
    kept(row.ok_or_else(|| IndicatorsError::NotFound(format!("assessment model `{id}` does not exist")))?)
}

/// Checks `model`: its fields, and that the indicators it reads are in the catalogue.
async fn check(store: &Store, model: &Model) -> Result<(), IndicatorsError> {
    model.check()?;
    for (i, item) in model.items.iter().enumerate() {
        if let ItemMeasure::Indicator { id } = &item.measure
            && store.indicator_entry(id).await?.is_none()
        {
            return Err(IndicatorsError::field(
                format!("items[{i}].measure.id"),
                format!("indicator `{id}` is not in the catalogue"),
            ));
        }
    }
    Ok(())
}

/// Creates (`create`) or replaces model `model`, audited; `id` is the path's (a replace).
pub async fn put(store: &Store, id: Option<&str>, model: &Model, who: AuditActor) -> Result<Kept, IndicatorsError> {
    if let Some(id) = id
        && model.id != id
    {
        return Err(IndicatorsError::field("id", format!("the path names `{id}`: a model's id does not change")));
    }
    check(store, model).await?;
    let body = serde_json::to_value(model).map_err(|e| IndicatorsError::field("body", e.to_string()))?;
    let audit = AuditEntry {
        who,
        action: if id.is_none() { "assessment.create" } else { "assessment.update" }.into(),
        object: format!("assessment:{}", model.id),
        result: "ok".into(),
        detail: json!({"items": model.items.len(), "points": model.points()}),
    };
    if !store.put_assessment_model(&model.id, &body, id.is_none(), audit).await? {
        return Err(if id.is_none() {
            IndicatorsError::Taken(format!("assessment model `{}` exists", model.id))
        } else {
            IndicatorsError::NotFound(format!("assessment model `{}` does not exist", model.id))
        });
    }
    self::model(store, &model.id).await
}

#[derive(Deserialize)]
struct SampleFile {
    models: Vec<Model>,
}

/// Loads the sample models at `path` when there are none; how many it wrote.
pub async fn seed(store: &Store, path: &Path) -> anyhow::Result<u64> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let file: SampleFile = serde_json::from_str(&text).with_context(|| format!("in {}", path.display()))?;
    let mut models = Vec::with_capacity(file.models.len());
    for model in &file.models {
        model.check().with_context(|| format!("{}: model {}", path.display(), model.id))?;
        models.push((model.id.clone(), serde_json::to_value(model)?));
    }
    Ok(store.seed_assessment_models(&models).await?)
}

/// A subject of a result: its code and name.
#[derive(Debug, Clone)]
pub struct Named {
    /// The street's code or the department's id.
    pub code: String,
    /// Its name.
    pub name: String,
}

/// A model's results for a month.
#[derive(Debug, Clone)]
pub struct Results {
    /// The model.
    pub model: Model,
    /// The month's first day.
    pub month: NaiveDate,
    /// Each subject, highest total first.
    pub scored: Vec<Scored>,
    /// The subjects' names by code.
    pub names: HashMap<String, String>,
    /// Whether they are published; `None`: never decided (withheld).
    pub publication: Option<Publication>,
}

/// The first day of the month holding `date`.
pub fn month_of(date: NaiveDate) -> NaiveDate {
    NaiveDate::from_ymd_opt(chrono::Datelike::year(&date), chrono::Datelike::month(&date), 1).unwrap_or(date)
}

/// The subjects a model of `subject` assesses.
async fn subjects(store: &Store, city: &City, subject: Subject) -> Result<Vec<Named>, IndicatorsError> {
    Ok(match subject {
        Subject::Streets => {
            city.level(Level::Street).map(|s| Named { code: s.code.to_string(), name: s.name.clone() }).collect()
        }
        Subject::Departments => {
            store.departments().await?.into_iter().map(|(id, name, _)| Named { code: id, name }).collect()
        }
    })
}

/// Model `model`'s results for `month` (its first day) as of `now`.
pub async fn results(
    store: &Store,
    city: &City,
    offset: FixedOffset,
    kept: Kept,
    month: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Results, IndicatorsError> {
    let model = kept.model;
    let group = if model.subject == Subject::Streets { CaseGroup::Street } else { CaseGroup::Department };
    let (from, to) = month_bounds(month, offset)?;
    let cases: HashMap<String, CaseMonth> =
        store.case_month(group, from, to, now).await?.into_iter().map(|c| (c.subject.clone(), c)).collect();
    // Every street; the departments that had cases in the month (the others handled none).
    let mut named = subjects(store, city, model.subject).await?;
    if model.subject == Subject::Departments {
        named.retain(|n| cases.contains_key(&n.code));
    }
    let codes: Vec<String> = named.iter().map(|n| n.code.clone()).collect();
    let mut read = Vec::new();
    for id in model.indicators() {
        if let Some(row) = store.indicator_entry(id).await? {
            let entry: CatalogueEntry =
                serde_json::from_value(row.entry).map_err(|e| StoreError::Corrupt(format!("indicator {id}: {e}")))?;
            read.push((id.to_string(), entry.frequency));
        }
    }
    let indicator_values = street_values(store, read.into_iter(), month).await?;
    let mut values = HashMap::new();
    for (i, item) in model.items.iter().enumerate() {
        for code in &codes {
            let c = cases.get(code);
            let rate = |n: i64, of: i64| (of > 0).then(|| round1(100.0 * n as f64 / of as f64));
            let value = match &item.measure {
                ItemMeasure::OnTimeRate => c.and_then(|c| rate(c.on_time, c.resolved_with_deadline)),
                ItemMeasure::SatisfactionRate => c.and_then(|c| rate(c.satisfied, c.evaluated)),
                ItemMeasure::OverdueRate => c.and_then(|c| rate(c.overdue, c.due)),
                ItemMeasure::Indicator { id } => indicator_values.get(&(id.clone(), code.clone())).copied(),
            };
            if let Some(v) = value {
                values.insert((code.clone(), i), v);
            }
        }
    }
    let scored = model.score(&codes, &values);
    let publication = store.assessment_publication(&model.id, month).await?;
    let names = named.into_iter().map(|n| (n.code, n.name)).collect();
    Ok(Results { model, month, scored, names, publication })
}

/// Publishes or withholds model `id`'s results for `month`, audited.
pub async fn publish(
    store: &Store,
    id: &str,
    month: NaiveDate,
    published: bool,
    who: AuditActor,
) -> Result<Publication, IndicatorsError> {
    model(store, id).await?;
    let audit = AuditEntry {
        who,
        action: "assessment.publish".into(),
        object: format!("assessment:{id}"),
        result: "ok".into(),
        detail: json!({"month": month}),
    };
    Ok(store.publish_assessment(id, month, published, audit).await?)
}

/// Every street's vital-sign index for `month`, with the streets' names.
pub async fn vital_signs(
    store: &Store,
    city: &City,
    rating: &Rating,
    month: NaiveDate,
) -> Result<(Vec<StreetIndex>, HashMap<String, String>), IndicatorsError> {
    let entries: Vec<CatalogueEntry> = catalogue::search(store, &Search { published: Some(true), ..Search::default() })
        .await?
        .into_iter()
        .map(|l| l.entry)
        .collect();
    // The entries are read already: no second read per indicator.
    let values = street_values(store, entries.iter().map(|e| (e.id.to_string(), e.frequency)), month).await?;
    let streets: Vec<&cockpit_geo::Region> = city.level(Level::Street).collect();
    let codes: Vec<String> = streets.iter().map(|s| s.code.to_string()).collect();
    let names = streets.iter().map(|s| (s.code.to_string(), s.name.clone())).collect();
    Ok((vital_index(&entries, &codes, &values, rating), names))
}

/// The values per street of each indicator `(id, frequency)` in its period holding `month`.
async fn street_values(
    store: &Store,
    indicators: impl Iterator<Item = (String, Frequency)>,
    month: NaiveDate,
) -> Result<HashMap<(String, String), f64>, IndicatorsError> {
    let wanted: Vec<(String, NaiveDate)> = indicators.map(|(id, f)| (id, f.period_start(month))).collect();
    Ok(store.street_values(&wanted).await?.into_iter().map(|(i, s, v)| ((i, s), v)).collect())
}

/// The moments `month` (its first day) starts and ends at in the city's zone.
fn month_bounds(month: NaiveDate, offset: FixedOffset) -> Result<(DateTime<Utc>, DateTime<Utc>), IndicatorsError> {
    let next =
        month.checked_add_months(Months::new(1)).ok_or_else(|| IndicatorsError::field("month", "out of range"))?;
    let at = |d: NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .and_then(|t| t.and_local_timezone(offset).single())
            .map(|t| t.with_timezone(&Utc))
            .ok_or_else(|| IndicatorsError::field("month", "out of range"))
    };
    Ok((at(month)?, at(next)?))
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}
