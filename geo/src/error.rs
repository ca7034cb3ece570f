//! The one error type of this crate, and the problems a GeoJSON import can have.

use std::fmt;

use geo::Coord;

/// Everything that can go wrong in this crate.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GeoError {
    /// The text is not a GeoJSON FeatureCollection.
    #[error("{what} is not a GeoJSON FeatureCollection: {reason}")]
    NotGeoJson {
        /// Which input (a level or a layer name).
        what: String,
        /// What the parser said.
        reason: String,
    },
    /// The GeoJSON parsed, but features in it are invalid. Every problem found is listed.
    #[error("{} invalid feature(s); first: {}", problems.len(), problems.first().map(ToString::to_string).unwrap_or_default())]
    Invalid {
        /// Each problem names its feature and the reason.
        problems: Vec<Problem>,
    },
}

/// Which feature a problem is about: the input it came from, its position there, and its
/// code or id when it has one.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureRef {
    /// The level (`street`, `village`, ...) or the layer name.
    pub input: String,
    /// Index of the feature in its FeatureCollection, from 0.
    pub index: usize,
    /// The feature's `code` (regions) or `id` (layers), when it has one.
    pub code: Option<String>,
}

impl fmt::Display for FeatureRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.code {
            Some(code) => write!(f, "{} feature #{} ({code})", self.input, self.index),
            None => write!(f, "{} feature #{}", self.input, self.index),
        }
    }
}

/// One thing wrong with one feature.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Problem {
    /// A required property is missing or has the wrong type.
    #[error("{feature}: property `{property}` {reason}")]
    Property {
        /// The feature.
        feature: FeatureRef,
        /// The property's name.
        property: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The geometry is not of a type this input accepts.
    #[error("{feature}: geometry must be {expected}, found {found}")]
    GeometryType {
        /// The feature.
        feature: FeatureRef,
        /// What the input accepts.
        expected: &'static str,
        /// What was there.
        found: String,
    },
    /// The GeoJSON reader refused the feature: it is no Feature, its properties are no
    /// object, its geometry has an unknown type or coordinates that are not positions.
    #[error("{feature}: not a readable GeoJSON Feature: {reason}")]
    Malformed {
        /// The feature.
        feature: FeatureRef,
        /// What the reader said.
        reason: String,
    },
    /// A ring's last position is not its first.
    #[error("{feature}: ring {ring} is not closed (first and last positions differ)")]
    UnclosedRing {
        /// The feature.
        feature: FeatureRef,
        /// Ring number, counting every ring of the geometry from 0.
        ring: usize,
    },
    /// A ring has fewer than four positions (three distinct corners and the closing one).
    #[error("{feature}: ring {ring} has {positions} positions, fewer than 4")]
    RingTooShort {
        /// The feature.
        feature: FeatureRef,
        /// Ring number.
        ring: usize,
        /// How many it has.
        positions: usize,
    },
    /// Two edges of one ring cross or touch where they should not.
    #[error("{feature}: ring {ring} intersects itself near ({}, {})", at.x, at.y)]
    SelfIntersection {
        /// The feature.
        feature: FeatureRef,
        /// Ring number.
        ring: usize,
        /// Where (a point on one of the two edges).
        at: Coord,
    },
    /// A position is not a finite longitude in [-180, 180] and latitude in [-90, 90].
    #[error("{feature}: coordinate ({lon}, {lat}) is out of range")]
    CoordinateOutOfRange {
        /// The feature.
        feature: FeatureRef,
        /// Longitude as given.
        lon: f64,
        /// Latitude as given.
        lat: f64,
    },
    /// Two features share a code or id.
    #[error("{feature}: duplicate id `{code}` (first used by {first})")]
    DuplicateId {
        /// The second feature with that code.
        feature: FeatureRef,
        /// The code.
        code: String,
        /// The first feature with it.
        first: String,
    },
    /// A region names a parent that does not exist at the level above.
    #[error("{feature}: parent `{parent}` does not exist")]
    MissingParent {
        /// The feature.
        feature: FeatureRef,
        /// The parent code it names.
        parent: String,
    },
    /// A region lies partly outside its parent by more than the tolerance.
    #[error("{feature}: {outside_m2:.0} m² lies outside its parent `{parent}` (tolerance {tolerance_m2:.0} m²)")]
    OutsideParent {
        /// The feature.
        feature: FeatureRef,
        /// The parent's code.
        parent: String,
        /// Area outside the parent.
        outside_m2: f64,
        /// The tolerance it exceeded.
        tolerance_m2: f64,
    },
    /// Two regions with the same parent overlap by more than the tolerance.
    #[error("{feature}: overlaps sibling `{sibling}` by {overlap_m2:.0} m² (tolerance {tolerance_m2:.0} m²)")]
    OverlapsSibling {
        /// The feature.
        feature: FeatureRef,
        /// The sibling's code.
        sibling: String,
        /// Overlapping area.
        overlap_m2: f64,
        /// The tolerance it exceeded.
        tolerance_m2: f64,
    },
}

impl Problem {
    /// The feature this problem is about.
    pub fn feature(&self) -> &FeatureRef {
        match self {
            Problem::Property { feature, .. }
            | Problem::GeometryType { feature, .. }
            | Problem::Malformed { feature, .. }
            | Problem::UnclosedRing { feature, .. }
            | Problem::RingTooShort { feature, .. }
            | Problem::SelfIntersection { feature, .. }
            | Problem::CoordinateOutOfRange { feature, .. }
            | Problem::DuplicateId { feature, .. }
            | Problem::MissingParent { feature, .. }
            | Problem::OutsideParent { feature, .. }
            | Problem::OverlapsSibling { feature, .. } => feature,
        }
    }
}
