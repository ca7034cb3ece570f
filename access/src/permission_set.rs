//! A set of permissions as a 64-bit bitset: cheap to copy into every request's context and
//! to test. It serialises as a JSON list of dotted names in catalogue order, which is how
//! role bundles are stored and sent.

use std::fmt;

use serde::de::{self, SeqAccess, Visitor};
use serde::ser::SerializeSeq;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::permission::Permission;

// The bitset has room for 64 permissions; the catalogue must stay within it.
const _: () = assert!(Permission::ALL.len() <= 64);

/// A set of [`Permission`]s. Iteration follows [`Permission::ALL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct PermissionSet {
    bits: u64,
}

impl PermissionSet {
    /// The empty set.
    pub const fn empty() -> PermissionSet {
        PermissionSet { bits: 0 }
    }

    /// The set of the given permissions (duplicates are harmless).
    pub const fn of(permissions: &[Permission]) -> PermissionSet {
        let mut bits = 0;
        let mut i = 0;
        while i < permissions.len() {
            bits |= bit(permissions[i]);
            i += 1;
        }
        PermissionSet { bits }
    }

    /// Every permission in the catalogue.
    pub const fn all() -> PermissionSet {
        PermissionSet::of(&Permission::ALL)
    }

    /// Whether the set holds `permission`.
    pub fn contains(&self, permission: Permission) -> bool {
        self.bits & bit(permission) != 0
    }

    /// Adds `permission`.
    pub fn insert(&mut self, permission: Permission) {
        self.bits |= bit(permission);
    }

    /// Removes `permission`.
    pub fn remove(&mut self, permission: Permission) {
        self.bits &= !bit(permission);
    }

    /// The permissions in either set (a user's roles combined).
    #[must_use]
    pub fn union(self, other: PermissionSet) -> PermissionSet {
        PermissionSet { bits: self.bits | other.bits }
    }

    /// The permissions in both sets.
    #[must_use]
    pub fn intersection(self, other: PermissionSet) -> PermissionSet {
        PermissionSet { bits: self.bits & other.bits }
    }

    /// The permissions in `self` but not in `other`.
    #[must_use]
    pub fn difference(self, other: PermissionSet) -> PermissionSet {
        PermissionSet { bits: self.bits & !other.bits }
    }

    /// The permissions in the set, in catalogue order. The iterator owns a copy of the set.
    pub fn iter(&self) -> impl Iterator<Item = Permission> + use<> {
        let set = *self;
        Permission::ALL.into_iter().filter(move |p| set.contains(*p))
    }

    /// How many permissions the set holds.
    pub fn len(&self) -> usize {
        self.bits.count_ones() as usize
    }

    /// Whether the set holds nothing.
    pub fn is_empty(&self) -> bool {
        self.bits == 0
    }
}

/// The bit of one permission.
const fn bit(permission: Permission) -> u64 {
    1 << permission.index()
}

impl FromIterator<Permission> for PermissionSet {
    fn from_iter<I: IntoIterator<Item = Permission>>(iter: I) -> Self {
        let mut set = PermissionSet::empty();
        set.extend(iter);
        set
    }
}

impl Extend<Permission> for PermissionSet {
    fn extend<I: IntoIterator<Item = Permission>>(&mut self, iter: I) {
        for p in iter {
            self.insert(p);
        }
    }
}

impl fmt::Display for PermissionSet {
    /// The dotted names separated by `, `.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(p.as_str())?;
        }
        Ok(())
    }
}

impl Serialize for PermissionSet {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.len()))?;
        for p in self.iter() {
            seq.serialize_element(p.as_str())?;
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for PermissionSet {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_seq(SetVisitor)
    }
}

/// Reads a list of dotted names, refusing the first unknown one by name.
struct SetVisitor;

impl<'de> Visitor<'de> for SetVisitor {
    type Value = PermissionSet;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of permission names such as \"cases.view\"")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<PermissionSet, A::Error> {
        let mut set = PermissionSet::empty();
        while let Some(name) = seq.next_element::<String>()? {
            let p =
                Permission::parse(&name).ok_or_else(|| de::Error::custom(format!("unknown permission `{name}`")))?;
            set.insert(p);
        }
        Ok(set)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Permission::*;

    #[test]
    fn insert_remove_contains() {
        let mut set = PermissionSet::empty();
        assert!(set.is_empty());
        set.insert(ReadAudit);
        set.insert(ViewWall);
        set.insert(ReadAudit);
        assert_eq!(set.len(), 2);
        assert!(set.contains(ReadAudit) && set.contains(ViewWall));
        assert!(!set.contains(ExportAudit));
        set.remove(ReadAudit);
        set.remove(ExportAudit);
        assert_eq!(set, PermissionSet::of(&[ViewWall]));
    }

    #[test]
    fn set_algebra() {
        let a = PermissionSet::of(&[ViewCases, CreateCases, DispatchCases]);
        let b = PermissionSet::of(&[DispatchCases, ManageRoles]);
        assert_eq!(a.union(b), PermissionSet::of(&[ViewCases, CreateCases, DispatchCases, ManageRoles]));
        assert_eq!(a.intersection(b), PermissionSet::of(&[DispatchCases]));
        assert_eq!(a.difference(b), PermissionSet::of(&[ViewCases, CreateCases]));
        assert_eq!(PermissionSet::all().len(), Permission::ALL.len());
        assert!(PermissionSet::all().contains(UnmaskPersonalData));
    }

    #[test]
    fn iterates_in_catalogue_order_whatever_the_insertion_order() {
        let set: PermissionSet = [UnmaskPersonalData, ViewWall, ExportCases, ViewWall].into_iter().collect();
        assert_eq!(set.iter().collect::<Vec<_>>(), [ViewWall, ExportCases, UnmaskPersonalData]);
        assert_eq!(set.to_string(), "wall.view, cases.export, personal_data.unmask");
    }

    #[test]
    fn serialises_as_a_list_of_names() {
        let set = PermissionSet::of(&[ExportAudit, ReadAudit]);
        let json = serde_json::to_string(&set).unwrap();
        assert_eq!(json, r#"["audit.read","audit.export"]"#);
        assert_eq!(serde_json::from_str::<PermissionSet>(&json).unwrap(), set);
        assert_eq!(serde_json::from_str::<PermissionSet>("[]").unwrap(), PermissionSet::empty());
    }

    #[test]
    fn unknown_names_are_refused_by_name() {
        let err = serde_json::from_str::<PermissionSet>(r#"["cases.view","cases.delete_all"]"#).unwrap_err();
        assert!(err.to_string().contains("unknown permission `cases.delete_all`"), "{err}");
        assert!(serde_json::from_str::<PermissionSet>(r#""cases.view""#).is_err());
        assert!(serde_json::from_str::<PermissionSet>("[1]").is_err());
    }
}
