//! Identifier newtypes. A case id is an `i64` so that it maps onto a `BIGSERIAL` column;
//! every other id is a code string chosen by whoever configures the city (a source's slug,
//! a category code such as `0102`, a department's code, a user's login, a region's
//! administrative or grid code).

use std::fmt;

use serde::{Deserialize, Serialize};

/// The id of a case, as the database assigns it (`BIGSERIAL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CaseId(pub i64);

impl fmt::Display for CaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Declares a string newtype with the conversions every code id needs.
macro_rules! string_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            /// Wraps a code.
            pub fn new(code: impl Into<String>) -> Self {
                Self(code.into())
            }

            /// The code as text, as stored in the database.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(code: &str) -> Self {
                Self(code.to_owned())
            }
        }
    };
}

string_id!(
    /// A registered source of cases: `hotline-12345`, `grassroots-platform`, `manual`, ...
    SourceId
);
string_id!(
    /// The case's id in its source system (a hotline ticket number, say). Together with
    /// [`SourceId`] it makes intake idempotent: a retried delivery finds the existing case.
    SourceRef
);
string_id!(
    /// A category code in the configured [`CategoryTree`](crate::CategoryTree): two digits
    /// per level, so `01` is a major class and `0102` one of its minor categories.
    CategoryCode
);
string_id!(
    /// A department (a bureau, a street's office, an external platform's unit).
    DepartmentId
);
string_id!(
    /// A person who logs in: a dispatcher, a handler, a grid worker, a leader.
    UserId
);
/// A region's code (street/town, village/community or grid): the geography's own.
pub use cockpit_geo::RegionCode;
string_id!(
    /// The id of a configured dispatch rule, recorded on each automatic dispatch.
    RuleId
);
string_id!(
    /// A reference to a stored attachment (photo, audio, file) as the server's attachment
    /// store names it; the bytes never enter this crate.
    AttachmentRef
);

impl CategoryCode {
    /// Whether this code lies in the subtree rooted at `prefix` (the empty prefix matches
    /// every code).
    pub fn starts_with(&self, prefix: &str) -> bool {
        self.0.starts_with(prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_serialise_as_bare_values() {
        let json = serde_json::to_string(&(CaseId(42), CategoryCode::new("0102"))).unwrap();
        assert_eq!(json, r#"[42,"0102"]"#);
        let back: (CaseId, CategoryCode) = serde_json::from_str(&json).unwrap();
        assert_eq!(back, (CaseId(42), CategoryCode::from("0102")));
    }

    #[test]
    fn prefixes_follow_code_nesting() {
        let check = |code: &str, prefix: &str, expected: bool| {
            assert_eq!(RegionCode::from(code).starts_with(prefix), expected, "{code} in {prefix}");
            assert_eq!(CategoryCode::from(code).starts_with(prefix), expected);
        };
        check("330304001001", "330304001", true);
        check("330304001001", "", true);
        check("330304002001", "330304001", false);
        check("0102", "01", true);
        check("0201", "01", false);
    }
}
