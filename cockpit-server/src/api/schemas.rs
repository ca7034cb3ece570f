//! Schemas of bodies the handlers still read and write as JSON values: what the document
//! promises of them (the fields every client relies on), until the handlers take and
//! answer these types themselves.

#![allow(dead_code)] // documentation types: read by utoipa, never built

use serde::Serialize;
use utoipa::ToSchema;

/// A GeoJSON FeatureCollection (RFC 7946).
#[derive(Serialize, ToSchema)]
pub(crate) struct FeatureCollection {
    /// Always `FeatureCollection`.
    #[serde(rename = "type")]
    #[schema(pattern = "^FeatureCollection$")]
    kind: String,
    /// The features.
    features: Vec<serde_json::Map<String, serde_json::Value>>,
}

/// How a case came in.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Entry {
    /// Created by hand.
    Manual,
    /// Submitted by a third party, for approval.
    ThirdParty,
}

/// How urgent a case is.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Urgency {
    /// Normal.
    Normal,
    /// Urgent.
    Urgent,
    /// Critical.
    Critical,
}

/// The coordinate system of a position.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Crs {
    /// WGS84 (GPS).
    Wgs84,
    /// GCJ-02 (Chinese web maps).
    Gcj02,
}

/// Whether a case is dispatched.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum DispatchStatus {
    /// Not yet.
    Undispatched,
    /// Dispatched.
    Dispatched,
}

/// A case with its timeline.
#[derive(Serialize, ToSchema)]
pub(crate) struct Case {
    /// Id.
    id: i64,
    /// Lifecycle status.
    status: String,
    /// Dispatch status.
    dispatch_status: Option<DispatchStatus>,
    /// Whether its deadline has passed.
    overdue: Option<bool>,
    /// Its deadline.
    deadline: Option<serde_json::Map<String, serde_json::Value>>,
    /// Its street.
    street: Option<serde_json::Map<String, serde_json::Value>>,
    /// Its village.
    village: Option<serde_json::Map<String, serde_json::Value>>,
    /// Its grid.
    grid: Option<serde_json::Map<String, serde_json::Value>>,
    /// What the caller may do now.
    allowed_actions: Option<Vec<String>>,
    /// Timeline.
    timeline: Option<Vec<serde_json::Map<String, serde_json::Value>>>,
}

/// An action a person takes on a case: the lifecycle's actions (`cockpit_events::Action`)
/// but `auto_dispatch`, which only the dispatch rules take.
pub(crate) struct Action;

impl utoipa::PartialSchema for Action {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::RefOr;
        use utoipa::openapi::schema::Schema;
        let mut schema = <cockpit_events::Action as utoipa::PartialSchema>::schema();
        if let RefOr::T(Schema::OneOf(one_of)) = &mut schema {
            one_of
                .items
                .retain(|variant| !serde_json::to_string(variant).is_ok_and(|t| t.contains("\"auto_dispatch\"")));
        }
        schema
    }
}

impl ToSchema for Action {
    fn schemas(schemas: &mut Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)>) {
        <cockpit_events::Action as ToSchema>::schemas(schemas);
    }
}

/// A role's snake_case name (`GET /api/roles`).
pub(crate) struct RoleName;

impl utoipa::PartialSchema for RoleName {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        names("A role", cockpit_access::Role::ALL.iter().map(|r| r.as_str()))
    }
}

impl ToSchema for RoleName {}

/// A permission's dotted name (`GET /api/permissions`).
pub(crate) struct PermissionName;

impl utoipa::PartialSchema for PermissionName {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        names("A permission", cockpit_access::Permission::ALL.iter().map(|p| p.as_str()))
    }
}

impl ToSchema for PermissionName {}

/// A string schema that is one of `values`.
fn names<'a>(
    description: &str,
    values: impl Iterator<Item = &'a str>,
) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .description(Some(description))
        .enum_values(Some(values))
        .into()
}

/// How wide an account's scope reaches.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ScopeLevelName {
    /// The whole district.
    District,
    /// One street or town.
    Street,
    /// One village or community.
    Village,
    /// One grid.
    Grid,
}
