//! The region a user may see. A scope is one administrative level and one code: the whole
//! district, a street (街道), a village or community (村/社区), or a grid (网格). Street and
//! village codes are the National Bureau of Statistics (NBS) division codes
//! (统计用区划代码, 9 and 12 digits); grid codes are the city's own grid codes. Codes are
//! compared as given, byte for byte.

use cockpit_geo::Place;
use serde::{Deserialize, Serialize};

/// How wide a scope reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScopeLevel {
    /// The whole district, including places outside every street.
    District,
    /// One street (街道/镇), by its NBS code.
    Street,
    /// One village or community (村/社区), by its NBS code.
    Village,
    /// One grid (网格), by its grid code.
    Grid,
}

impl ScopeLevel {
    /// Every level, widest first.
    pub const ALL: [ScopeLevel; 4] = [ScopeLevel::District, ScopeLevel::Street, ScopeLevel::Village, ScopeLevel::Grid];

    /// The snake_case name, as stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            ScopeLevel::District => "district",
            ScopeLevel::Street => "street",
            ScopeLevel::Village => "village",
            ScopeLevel::Grid => "grid",
        }
    }

    /// The level with this name, if there is one.
    pub fn parse(s: &str) -> Option<ScopeLevel> {
        Self::ALL.into_iter().find(|l| l.as_str() == s)
    }
}

/// The region a user may see: a level and the NBS or grid code at that level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    /// How wide the scope reaches.
    pub level: ScopeLevel,
    /// The district's, street's or village's NBS code, or the grid code.
    pub code: String,
}

impl Scope {
    /// The whole district with this NBS code.
    pub fn district(code: impl Into<String>) -> Scope {
        Scope { level: ScopeLevel::District, code: code.into() }
    }

    /// One street, by its NBS code.
    pub fn street(code: impl Into<String>) -> Scope {
        Scope { level: ScopeLevel::Street, code: code.into() }
    }

    /// One village or community, by its NBS code.
    pub fn village(code: impl Into<String>) -> Scope {
        Scope { level: ScopeLevel::Village, code: code.into() }
    }

    /// One grid, by its grid code.
    pub fn grid(code: impl Into<String>) -> Scope {
        Scope { level: ScopeLevel::Grid, code: code.into() }
    }

    /// Whether a user with this scope may see something at `place`. The district covers
    /// everything, including places outside every street (the district is the whole
    /// deployment); the narrower levels cover a place only when its code at that level is
    /// known and equal, so an unlocated place is seen only district-wide.
    pub fn covers(&self, place: &Place) -> bool {
        self.level.covers(&self.code, place)
    }
}

impl ScopeLevel {
    /// Whether the region at this level with this code covers `place`: see
    /// [`Scope::covers`].
    pub fn covers(self, code: &str, place: &Place) -> bool {
        let code = Some(code);
        match self {
            ScopeLevel::District => true,
            ScopeLevel::Street => place.street_code() == code,
            ScopeLevel::Village => place.village_code() == code,
            ScopeLevel::Grid => place.grid_code() == code,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STREET: &str = "330106001";
    const VILLAGE: &str = "330106001001";
    const GRID: &str = "G-001-01";

    fn inside() -> Place {
        Place::from_codes(Some(STREET.into()), Some(VILLAGE.into()), Some(GRID.into()))
    }

    fn check(scope: Scope, place: Place, expected: bool) {
        assert_eq!(scope.covers(&place), expected, "{scope:?} covers {place:?}");
    }

    #[test]
    fn district_covers_everything_even_outside_every_street() {
        check(Scope::district("330106"), inside(), true);
        check(Scope::district("330106"), Place::default(), true);
    }

    #[test]
    fn narrower_levels_compare_their_own_code() {
        check(Scope::street(STREET), inside(), true);
        check(Scope::street("330106002"), inside(), false);
        check(Scope::village(VILLAGE), inside(), true);
        check(Scope::village("330106001002"), inside(), false);
        check(Scope::grid(GRID), inside(), true);
        check(Scope::grid("G-001-02"), inside(), false);
        // A village code is not a street code, even when it starts with it.
        check(Scope::street(STREET), Place::from_codes(None, Some(VILLAGE.into()), None), false);
    }

    #[test]
    fn unlocated_places_are_only_seen_district_wide() {
        for scope in [Scope::street(STREET), Scope::village(VILLAGE), Scope::grid(GRID)] {
            check(scope, Place::default(), false);
        }
        check(Scope::grid(""), Place::default(), false);
    }

    #[test]
    fn levels_round_trip() {
        for level in ScopeLevel::ALL {
            assert_eq!(ScopeLevel::parse(level.as_str()), Some(level));
        }
        assert_eq!(ScopeLevel::parse("province"), None);
        let json = serde_json::to_string(&Scope::village(VILLAGE)).unwrap();
        assert_eq!(json, r#"{"level":"village","code":"330106001001"}"#);
        assert_eq!(serde_json::from_str::<Scope>(&json).unwrap(), Scope::village(VILLAGE));
    }
}
