//! Where something is, by the codes of the regions that contain it: the one shape of a
//! place's street, village and grid for cases, devices, alarms, scopes and the live
//! streams.

use geo::Coord;
use serde::{Deserialize, Serialize};

use crate::city::City;
use crate::region::{RegionCode, RegionId};

/// The street, village and grid that contain something, by code. `None` means it lies in no
/// region of that level (or was not located). Serialised as `{"street", "village",
/// "grid"}`; the server stores the three in `street_code`, `village_code` and `grid_code`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Place {
    /// The street or town.
    pub street: Option<RegionCode>,
    /// The village or community.
    pub village: Option<RegionCode>,
    /// The grid.
    pub grid: Option<RegionCode>,
}

impl Place {
    /// The place of stored codes (the columns as read).
    pub fn from_codes(street: Option<String>, village: Option<String>, grid: Option<String>) -> Place {
        Place { street: street.map(RegionCode), village: village.map(RegionCode), grid: grid.map(RegionCode) }
    }

    /// The codes that are set, most specific first (the order dispatch rules see them).
    pub fn codes(&self) -> Vec<RegionCode> {
        [&self.grid, &self.village, &self.street].into_iter().flatten().cloned().collect()
    }

    /// The street's code as text, if known.
    pub fn street_code(&self) -> Option<&str> {
        self.street.as_ref().map(RegionCode::as_str)
    }

    /// The village's code as text, if known.
    pub fn village_code(&self) -> Option<&str> {
        self.village.as_ref().map(RegionCode::as_str)
    }

    /// The grid's code as text, if known.
    pub fn grid_code(&self) -> Option<&str> {
        self.grid.as_ref().map(RegionCode::as_str)
    }
}

impl City {
    /// The place of a point: the codes of the regions [`City::locate`] finds (all `None`
    /// outside the district).
    pub fn place(&self, p: Coord) -> Place {
        let code = |id: Option<RegionId>| id.map(|id| self.region(id).code.clone());
        match self.locate(p) {
            Some(l) => Place { street: code(Some(l.street)), village: code(l.village), grid: code(l.grid) },
            None => Place::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_most_specific_first_and_serialise_by_level() {
        let place = Place::from_codes(Some("330304001".into()), None, Some("330304001001-03".into()));
        assert_eq!(place.codes(), [RegionCode::from("330304001001-03"), RegionCode::from("330304001")]);
        assert_eq!((place.street_code(), place.village_code()), (Some("330304001"), None));
        assert_eq!(
            serde_json::to_value(&place).unwrap(),
            serde_json::json!({"street": "330304001", "village": null, "grid": "330304001001-03"})
        );
    }
}
