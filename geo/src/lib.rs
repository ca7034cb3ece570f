//! The city's geography, as pure values: the hierarchy district → street/town →
//! village/community → grid, the index that says which of them contains a point, the point
//! and polygon layers (cameras, hospitals, key areas, ...) with geodesic radius queries,
//! per-region counts, search by name or code, and WGS84 ↔ GCJ-02 conversion.
//!
//! Everything here is values in, values out: no I/O, no async, no SQL. The server reads
//! files and databases and hands their text to [`City::from_geojson`] and
//! [`PointLayer::from_geojson`]; it then asks [`City::locate`] for every reading and case.
//!
//! Coordinates are WGS84 longitude/latitude in degrees (`geo::Coord { x: lon, y: lat }`).
//! Distances are geodesic metres on the WGS84 ellipsoid.
//!
//! The rule for points on a boundary is documented on [`City::locate`].

mod city;
mod error;
mod gcj02;
mod geodesic;
pub mod geojson;
mod layers;
mod load;
mod locate;
mod pip;
mod place;
mod region;
mod search;
mod validate;

pub use city::{City, CityGeoJson, Location, RegionCounts};
pub use error::{FeatureRef, GeoError, Problem};
pub use gcj02::{gcj02_to_wgs84, in_china, wgs84_to_gcj02};
pub use geodesic::distance_m;
pub use layers::{AreaFeature, AreaLayer, Nearby, PointFeature, PointLayer};
pub use load::Tolerance;
pub use place::Place;
pub use region::{Level, Person, Region, RegionCode, RegionId};

/// Re-exported so that callers name the same coordinate types as this crate.
pub use geo::{Coord, LineString, MultiPolygon, Point, Polygon};
