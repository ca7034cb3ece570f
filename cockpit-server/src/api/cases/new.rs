//! A case created by hand: the body as a caller sends it, and the new case it makes.

use chrono::{DateTime, Utc};
use cockpit_events::{
    CategoryCode, Crs, EntryPath, EventsError, GeoPoint, NewCase, Reporter, SourceId, SourceRef, Tag, Urgency,
};
use serde::Deserialize;
use utoipa::ToSchema;

use super::super::ApiError;

/// A case to create (`POST /api/cases`). Blank text counts as absent.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct NewCaseBody {
    /// `manual` (the default) or `third_party` (a submission for approval).
    #[schema(value_type = Option<crate::api::schemas::Entry>)]
    entry: Option<Entry>,
    /// The title; the description's first 30 characters when left out.
    title: Option<String>,
    /// What happened.
    #[schema(min_length = 1, example = "井盖缺失 / a manhole cover is missing")]
    description: String,
    /// A category code (`GET /api/categories`).
    #[schema(pattern = "^[0-9]{2,8}$", example = "0402")]
    category: String,
    /// How urgent (`normal` when left out).
    #[schema(value_type = Option<cockpit_events::Urgency>)]
    urgency: Option<Urgency>,
    /// Tags.
    tags: Option<Vec<String>>,
    /// Where, in `crs`.
    location: Option<Location>,
    /// The location's coordinate system (`wgs84` when left out).
    #[schema(value_type = Option<crate::api::schemas::Crs>)]
    crs: Option<Crs>,
    /// The address.
    address: Option<String>,
    /// Who reported it (stored sealed, shown masked).
    reporter: Option<ReporterBody>,
    /// When it happened (now when left out).
    occurred_at: Option<DateTime<Utc>>,
    /// The submitter's own reference; a repeat answers the case created first.
    source_ref: Option<String>,
}

/// How a case came in.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Entry {
    Manual,
    ThirdParty,
}

/// A position.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct Location {
    /// Longitude.
    #[schema(minimum = -180.0, maximum = 180.0, example = 120.65)]
    lon: f64,
    /// Latitude.
    #[schema(minimum = -90.0, maximum = 90.0, example = 28.01)]
    lat: f64,
}

/// Who reported a case; blank fields count as absent.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = NewReporter)]
pub(crate) struct ReporterBody {
    /// Name.
    name: Option<String>,
    /// Phone number.
    phone: Option<String>,
    /// Identity card number.
    id_number: Option<String>,
    /// Address.
    address: Option<String>,
}

/// Builds a manual case from a request body; every error names its field.
pub(super) fn new_case_from(body: NewCaseBody, now: DateTime<Utc>) -> Result<(NewCase, EntryPath), ApiError> {
    let text = |t: Option<String>| t.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let path = match body.entry {
        None | Some(Entry::Manual) => EntryPath::Manual,
        Some(Entry::ThirdParty) => EntryPath::ThirdParty,
    };
    let description = text(Some(body.description)).ok_or_else(|| ApiError::bad("description", "is required"))?;
    let category = text(Some(body.category)).ok_or_else(|| ApiError::bad("category", "is required"))?;
    let location = match body.location {
        None => None,
        Some(l) => {
            Some(GeoPoint::new(l.lon, l.lat).map_err(|e: EventsError| ApiError::bad("location", e.to_string()))?)
        }
    };
    let mut tags = Vec::new();
    for t in body.tags.unwrap_or_default() {
        let tag = Tag::from(t);
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    let reporter = body.reporter.map(|r| Reporter {
        name: text(r.name),
        phone: text(r.phone),
        id_number: text(r.id_number),
        address: text(r.address),
    });
    let title = text(body.title).unwrap_or_else(|| description.chars().take(30).collect());
    let source = if path == EntryPath::ThirdParty { "third-party" } else { "manual" };
    Ok((
        NewCase {
            source: SourceId::new(source),
            source_ref: text(body.source_ref).map(SourceRef::new),
            title,
            description,
            category: CategoryCode::new(category),
            urgency: body.urgency.unwrap_or(Urgency::Normal),
            tags,
            location,
            crs: body.crs.unwrap_or(Crs::Wgs84),
            address: text(body.address),
            reporter,
            occurred_at: body.occurred_at.unwrap_or(now),
            region_hint: None,
        },
        path,
    ))
}
