//! Regions: the four levels, their ids and codes, and the persons in charge of each.

use std::fmt;

use geo::{Coord, MultiPolygon, Rect};
use serde::{Deserialize, Serialize};

/// The four levels of the hierarchy, from the top.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// The district (区), the whole city this cockpit runs.
    District,
    /// A street (街道) or town (镇).
    Street,
    /// A village (村) or community (社区).
    Village,
    /// A grid (网格), the smallest unit with a worker of its own.
    Grid,
}

impl Level {
    /// All levels, from the top.
    pub const ALL: [Level; 4] = [Level::District, Level::Street, Level::Village, Level::Grid];

    /// The name used in files and URLs: `district`, `street`, `village`, `grid`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::District => "district",
            Level::Street => "street",
            Level::Village => "village",
            Level::Grid => "grid",
        }
    }

    /// Parses [`Level::as_str`]'s names.
    pub fn parse(s: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|level| level.as_str() == s)
    }

    /// The level above, if any.
    pub fn parent(self) -> Option<Level> {
        match self {
            Level::District => None,
            Level::Street => Some(Level::District),
            Level::Village => Some(Level::Street),
            Level::Grid => Some(Level::Village),
        }
    }

    /// The roles in charge of a region at this level when the data names none: for a grid,
    /// the grid instructor (网格指导员), the grid leader (网格长) and the full-time grid
    /// worker (专职网格员).
    pub fn default_roles(self) -> &'static [&'static str] {
        match self {
            Level::District => &["区委书记", "区长"],
            Level::Street => &["街道（镇）党工委书记", "街道（镇）主任"],
            Level::Village => &["村（社区）党组织书记"],
            Level::Grid => &[Person::GRID_INSTRUCTOR, Person::GRID_LEADER, Person::GRID_WORKER],
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A region's position in its [`City`](crate::City): dense, stable for one loaded city, not
/// across loads. Use [`RegionCode`] to name a region outside the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RegionId(pub(crate) u32);

impl RegionId {
    /// The index of this region in [`City::regions`](crate::City::regions).
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A region's code: the NBS statistical division code where one exists (9 digits for a
/// street, 12 for a village), otherwise the code the city gave it (grids).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RegionCode(pub String);

impl RegionCode {
    /// Wraps a code.
    pub fn new(code: impl Into<String>) -> RegionCode {
        RegionCode(code.into())
    }

    /// The code as text, as stored in the database.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this region lies inside the region whose code is `prefix`, by the nesting
    /// of administrative codes (`330304` ⊃ `330304001` ⊃ `330304001001`; the empty prefix
    /// matches every region). The dispatch rules rely on it.
    pub fn starts_with(&self, prefix: &str) -> bool {
        self.0.starts_with(prefix)
    }
}

impl From<&str> for RegionCode {
    fn from(code: &str) -> RegionCode {
        RegionCode(code.to_owned())
    }
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A person in charge of a region: a role, and the name of whoever holds it (none while the
/// post is vacant or unknown).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    /// The role, e.g. [`Person::GRID_WORKER`].
    pub role: String,
    /// Who holds it.
    #[serde(default)]
    pub name: Option<String>,
}

impl Person {
    /// Grid instructor (网格指导员).
    pub const GRID_INSTRUCTOR: &'static str = "网格指导员";
    /// Grid leader (网格长).
    pub const GRID_LEADER: &'static str = "网格长";
    /// Full-time grid worker (专职网格员): the one who takes the grid's cases.
    pub const GRID_WORKER: &'static str = "专职网格员";
}

/// One region of the hierarchy.
#[derive(Debug, Clone)]
pub struct Region {
    /// Its place in the city.
    pub id: RegionId,
    /// Its level.
    pub level: Level,
    /// Its code.
    pub code: RegionCode,
    /// Its name, e.g. 景山街道.
    pub name: String,
    /// The region above it (none for the district).
    pub parent: Option<RegionId>,
    /// The regions below it, in load order.
    pub children: Vec<RegionId>,
    /// Its boundary, WGS84.
    pub boundary: MultiPolygon<f64>,
    /// Where to put its label and to centre the map: given in the data, else a point
    /// inside the boundary.
    pub centre: Coord,
    /// Its bounding box.
    pub bbox: Rect<f64>,
    /// Its area in square kilometres (spherical).
    pub area_km2: f64,
    /// The persons in charge.
    pub persons: Vec<Person>,
    /// True when the boundary was generated rather than surveyed.
    pub generated: bool,
}
