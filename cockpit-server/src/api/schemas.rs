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

/// A GeoJSON Feature (RFC 7946).
#[derive(Serialize, ToSchema)]
pub(crate) struct Feature {
    /// Always `Feature`.
    #[serde(rename = "type")]
    #[schema(pattern = "^Feature$")]
    kind: String,
    /// Its geometry.
    geometry: Option<serde_json::Map<String, serde_json::Value>>,
    /// Its properties.
    properties: Option<serde_json::Map<String, serde_json::Value>>,
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

/// The coordinate system of a position.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Crs {
    /// WGS84 (GPS).
    Wgs84,
    /// GCJ-02 (Chinese web maps).
    Gcj02,
}

/// An action a person takes on a case: the lifecycle's actions (`cockpit_events::Action`)
/// but `auto_dispatch`, which only the dispatch rules take.
pub(crate) struct Action;

impl utoipa::PartialSchema for Action {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::RefOr;
        use utoipa::openapi::schema::Schema;
        // The variant whose tag `action` is the one value `auto_dispatch`.
        fn is_auto_dispatch(variant: &RefOr<Schema>) -> bool {
            let RefOr::T(Schema::Object(object)) = variant else { return false };
            let Some(RefOr::T(Schema::Object(tag))) = object.properties.get("action") else { return false };
            tag.enum_values.as_deref() == Some(&[serde_json::Value::from("auto_dispatch")])
        }
        let mut schema = <cockpit_events::Action as utoipa::PartialSchema>::schema();
        if let RefOr::T(Schema::OneOf(one_of)) = &mut schema {
            one_of.items.retain(|variant| !is_auto_dispatch(variant));
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
