//! The configurable, multi-level category tree (GB/T 30428 style: two digits per level,
//! `01` 市容环境 ⊃ `0102` 暴露垃圾) and the time-limit templates its nodes carry per
//! urgency. A node without a template for an urgency inherits its parent's, so a city
//! can set a limit once for a whole class and override it where its standard differs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::case::Urgency;
use crate::deadline::TimeLimit;
use crate::error::EventsError;
use crate::ids::CategoryCode;

/// One node of the tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Category {
    /// Its code; a child's code extends its parent's.
    pub code: CategoryCode,
    /// Its name (`暴露垃圾`).
    pub name: String,
    /// Its parent; `None` for a major class.
    #[serde(default)]
    pub parent: Option<CategoryCode>,
    /// Time limits for cases of this category.
    #[serde(default)]
    pub time_limits: Vec<TimeLimitTemplate>,
}

/// A time limit for one urgency, or for every urgency without its own template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeLimitTemplate {
    /// The urgency it applies to; `None` for any.
    #[serde(default)]
    pub urgency: Option<Urgency>,
    /// The limit.
    pub limit: TimeLimit,
}

/// A validated category tree. It reads from and writes to JSON as a list of nodes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<Category>", into = "Vec<Category>")]
pub struct CategoryTree {
    nodes: BTreeMap<CategoryCode, Category>,
}

impl CategoryTree {
    /// Builds a tree, refusing repeated or empty codes, unknown parents, and a child
    /// whose code does not extend its parent's (which also rules out cycles).
    pub fn new(categories: Vec<Category>) -> Result<CategoryTree, EventsError> {
        let invalid = |reason: String| EventsError::InvalidConfig { what: "category tree", reason };
        let mut nodes = BTreeMap::new();
        for category in categories {
            if category.code.as_str().is_empty() {
                return Err(invalid(format!("category {:?} has an empty code", category.name)));
            }
            if let Some(previous) = nodes.insert(category.code.clone(), category) {
                return Err(invalid(format!("code {} appears twice", previous.code)));
            }
        }
        for category in nodes.values() {
            if let Some(parent) = &category.parent {
                if !nodes.contains_key(parent) {
                    return Err(invalid(format!("{} names unknown parent {parent}", category.code)));
                }
                if category.code.as_str().len() <= parent.as_str().len() || !category.code.starts_with(parent.as_str())
                {
                    return Err(invalid(format!("{} does not extend its parent's code {parent}", category.code)));
                }
            }
        }
        Ok(CategoryTree { nodes })
    }

    /// The node with this code.
    pub fn get(&self, code: &CategoryCode) -> Option<&Category> {
        self.nodes.get(code)
    }

    /// The children of `parent`, or the major classes when `parent` is `None`, by code.
    pub fn children(&self, parent: Option<&CategoryCode>) -> Vec<&Category> {
        self.nodes.values().filter(|c| c.parent.as_ref() == parent).collect()
    }

    /// The categories without children (the ones a case is filed under), depth first in
    /// the tree's order.
    pub fn leaves(&self) -> Vec<&Category> {
        let mut leaves = Vec::new();
        let mut stack: Vec<&Category> = self.children(None).into_iter().rev().collect();
        while let Some(category) = stack.pop() {
            let children = self.children(Some(&category.code));
            if children.is_empty() {
                leaves.push(category);
            } else {
                stack.extend(children.into_iter().rev());
            }
        }
        leaves
    }

    /// The node and its ancestors, the node first; empty for an unknown code.
    pub fn lineage(&self, code: &CategoryCode) -> Vec<&Category> {
        let mut lineage = Vec::new();
        let mut next = self.nodes.get(code);
        while let Some(category) = next {
            lineage.push(category);
            next = category.parent.as_ref().and_then(|parent| self.nodes.get(parent));
        }
        lineage
    }

    /// The full name, major class first (`市容环境 / 暴露垃圾`).
    pub fn full_name(&self, code: &CategoryCode) -> Option<String> {
        let lineage = self.lineage(code);
        (!lineage.is_empty()).then(|| lineage.iter().rev().map(|c| c.name.as_str()).collect::<Vec<_>>().join(" / "))
    }

    /// The time limit for a case of this category and urgency: the nearest node, from
    /// the category up, with a template for exactly this urgency or else for any urgency.
    pub fn time_limit(&self, code: &CategoryCode, urgency: Urgency) -> Option<TimeLimit> {
        self.lineage(code).into_iter().find_map(|category| {
            let exact = category.time_limits.iter().find(|t| t.urgency == Some(urgency));
            exact.or_else(|| category.time_limits.iter().find(|t| t.urgency.is_none())).map(|t| t.limit)
        })
    }
}

impl TryFrom<Vec<Category>> for CategoryTree {
    type Error = EventsError;

    fn try_from(categories: Vec<Category>) -> Result<CategoryTree, EventsError> {
        CategoryTree::new(categories)
    }
}

impl From<CategoryTree> for Vec<Category> {
    fn from(tree: CategoryTree) -> Vec<Category> {
        tree.nodes.into_values().collect()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Part of the sample city's tree, with city A's time limits from case-categories.md.
    pub(crate) const SAMPLE: &str = r#"[
        {"code": "01", "name": "市容环境", "time_limits": [{"limit": {"working_days": 1}}]},
        {"code": "0101", "name": "私搭乱建", "parent": "01",
         "time_limits": [{"limit": {"working_days": 20}}, {"urgency": "urgent", "limit": {"working_hours": 4}}]},
        {"code": "0102", "name": "暴露垃圾", "parent": "01",
         "time_limits": [{"limit": {"working_hours": 4}}, {"urgency": "critical", "limit": {"hours": 2}}]},
        {"code": "0104", "name": "道路不洁", "parent": "01"},
        {"code": "05", "name": "突发事件",
         "time_limits": [{"limit": {"hours": 2}}, {"urgency": "critical", "limit": {"minutes": 30}}]},
        {"code": "0503", "name": "道路积水", "parent": "05"},
        {"code": "06", "name": "其他事件"}
    ]"#;

    pub(crate) fn sample() -> CategoryTree {
        serde_json::from_str(SAMPLE).unwrap()
    }

    #[test]
    fn time_limits_come_from_the_nearest_template() {
        let tree = sample();
        let check = |code: &str, urgency: Urgency, expected: Option<TimeLimit>| {
            assert_eq!(tree.time_limit(&code.into(), urgency), expected, "{code} {urgency:?}");
        };
        check("0101", Urgency::Normal, Some(TimeLimit::WorkingDays(20)));
        check("0101", Urgency::Urgent, Some(TimeLimit::WorkingHours(4)));
        check("0101", Urgency::Critical, Some(TimeLimit::WorkingDays(20)));
        check("0102", Urgency::Critical, Some(TimeLimit::Hours(2)));
        check("0104", Urgency::Normal, Some(TimeLimit::WorkingDays(1)));
        check("0503", Urgency::Critical, Some(TimeLimit::Minutes(30)));
        check("0503", Urgency::Urgent, Some(TimeLimit::Hours(2)));
        check("06", Urgency::Normal, None);
        check("99", Urgency::Normal, None);
    }

    #[test]
    fn the_tree_navigates_up_and_down() {
        let tree = sample();
        let codes = |nodes: Vec<&Category>| nodes.iter().map(|c| c.code.as_str().to_owned()).collect::<Vec<_>>();
        assert_eq!(codes(tree.children(None)), ["01", "05", "06"]);
        assert_eq!(codes(tree.children(Some(&"01".into()))), ["0101", "0102", "0104"]);
        assert_eq!(codes(tree.lineage(&"0503".into())), ["0503", "05"]);
        assert_eq!(tree.full_name(&"0102".into()).as_deref(), Some("市容环境 / 暴露垃圾"));
        assert_eq!(tree.full_name(&"0199".into()), None);
        assert_eq!(tree.get(&"0104".into()).map(|c| c.name.as_str()), Some("道路不洁"));
    }

    #[test]
    fn malformed_trees_are_refused() {
        let check = |json: &str, expected: &str| {
            let error = serde_json::from_str::<CategoryTree>(json).unwrap_err().to_string();
            assert!(error.contains(expected), "{error}");
        };
        check(r#"[{"code": "01", "name": "a"}, {"code": "01", "name": "b"}]"#, "appears twice");
        check(r#"[{"code": "0101", "name": "a", "parent": "01"}]"#, "unknown parent 01");
        check(r#"[{"code": "01", "name": "a"}, {"code": "0201", "name": "b", "parent": "01"}]"#, "does not extend");
        check(r#"[{"code": "01", "name": "a", "parent": "01"}]"#, "does not extend");
        check(r#"[{"code": "", "name": "a"}]"#, "empty code");
    }

    #[test]
    fn the_tree_round_trips_through_json() {
        let tree = sample();
        let json = serde_json::to_string(&tree).unwrap();
        assert_eq!(serde_json::from_str::<CategoryTree>(&json).unwrap(), tree);
    }
}
