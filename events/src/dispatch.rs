//! Automatic dispatch by configurable rules: category prefix × region prefix → the
//! responsible unit. Rules are tried in a fixed order (priority, then the more specific
//! prefixes, then id); the first whose target can be resolved wins, and the decision
//! names that rule, or says why the case needs a dispatcher.

use serde::{Deserialize, Serialize};

use crate::error::EventsError;
use crate::ids::{CategoryCode, DepartmentId, RuleId, UserId};
use crate::state::Assignee;
use cockpit_geo::Place;

/// One dispatch rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DispatchRule {
    /// Its id, recorded on the cases it dispatches.
    pub id: RuleId,
    /// Categories it covers, by code prefix (`01` covers `0102`; empty covers all).
    #[serde(default)]
    pub category_prefix: String,
    /// Regions it covers, by code prefix against the case's street, village or grid
    /// (empty covers all, even a case outside every region).
    #[serde(default)]
    pub region_prefix: String,
    /// Who gets the case.
    pub target: RuleTarget,
    /// Lower runs first (default 0).
    #[serde(default)]
    pub priority: i32,
    /// A disabled rule is kept but never matches.
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
}

fn enabled_by_default() -> bool {
    true
}

/// Whom a rule sends cases to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RuleTarget {
    /// A fixed department.
    Department {
        /// The department.
        department: DepartmentId,
    },
    /// The platform of the street that contains the case.
    StreetPlatform,
    /// The full-time worker of the grid that contains the case (grid-owned categories).
    GridWorker,
}

/// What the rules need to know about a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DispatchRequest<'a> {
    /// Its category.
    pub category: &'a CategoryCode,
    /// The regions containing it.
    pub regions: &'a Place,
    /// The full-time worker of its grid, as the server looked it up.
    pub grid_worker: Option<&'a UserId>,
}

/// The rules' verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum DispatchDecision {
    /// Dispatch automatically.
    Dispatch {
        /// The rule that matched.
        rule: RuleId,
        /// Who gets the case.
        to: Assignee,
    },
    /// A dispatcher must decide.
    Manual {
        /// Why no rule could.
        reason: ManualReason,
    },
}

/// Why a case needs manual dispatch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ManualReason {
    /// No enabled rule covers the category and region.
    NoRuleMatched,
    /// Rules matched, but the first of them names a target the case lacks (no street,
    /// no grid, or a grid without a worker) and no later rule resolved.
    TargetUnresolved {
        /// The first matching rule.
        rule: RuleId,
        /// What was missing.
        missing: String,
    },
}

/// A validated, ordered rule set. It reads from and writes to JSON as a list of rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<DispatchRule>", into = "Vec<DispatchRule>")]
pub struct DispatchRules {
    rules: Vec<DispatchRule>,
}

impl DispatchRules {
    /// Orders the rules, refusing repeated ids.
    pub fn new(mut rules: Vec<DispatchRule>) -> Result<DispatchRules, EventsError> {
        rules.sort_by(|a, b| {
            a.priority
                .cmp(&b.priority)
                .then(b.category_prefix.len().cmp(&a.category_prefix.len()))
                .then(b.region_prefix.len().cmp(&a.region_prefix.len()))
                .then(a.id.cmp(&b.id))
        });
        let mut ids: Vec<&RuleId> = rules.iter().map(|rule| &rule.id).collect();
        ids.sort();
        if let Some(pair) = ids.windows(2).find(|pair| pair[0] == pair[1]) {
            return Err(EventsError::InvalidConfig {
                what: "dispatch rules",
                reason: format!("rule id {} appears twice", pair[0]),
            });
        }
        Ok(DispatchRules { rules })
    }

    /// The rules in the order they are tried.
    pub fn rules(&self) -> &[DispatchRule] {
        &self.rules
    }

    /// Decides who gets a case.
    pub fn decide(&self, request: DispatchRequest<'_>) -> DispatchDecision {
        let codes = request.regions.codes();
        let mut first_unresolved = None;
        for rule in self.rules.iter().filter(|rule| rule.enabled) {
            let region_matches =
                rule.region_prefix.is_empty() || codes.iter().any(|code| code.starts_with(&rule.region_prefix));
            if !request.category.starts_with(&rule.category_prefix) || !region_matches {
                continue;
            }
            match resolve(&rule.target, request) {
                Ok(to) => return DispatchDecision::Dispatch { rule: rule.id.clone(), to },
                Err(missing) => {
                    first_unresolved.get_or_insert_with(|| (rule.id.clone(), missing.to_owned()));
                }
            }
        }
        let reason = match first_unresolved {
            Some((rule, missing)) => ManualReason::TargetUnresolved { rule, missing },
            None => ManualReason::NoRuleMatched,
        };
        DispatchDecision::Manual { reason }
    }
}

impl TryFrom<Vec<DispatchRule>> for DispatchRules {
    type Error = EventsError;

    fn try_from(rules: Vec<DispatchRule>) -> Result<DispatchRules, EventsError> {
        DispatchRules::new(rules)
    }
}

impl From<DispatchRules> for Vec<DispatchRule> {
    fn from(rules: DispatchRules) -> Vec<DispatchRule> {
        rules.rules
    }
}

/// The assignee a target names for this case, or what the case lacks.
fn resolve(target: &RuleTarget, request: DispatchRequest<'_>) -> Result<Assignee, &'static str> {
    match target {
        RuleTarget::Department { department } => Ok(Assignee::Department { department: department.clone() }),
        RuleTarget::StreetPlatform => match &request.regions.street {
            Some(street) => Ok(Assignee::StreetPlatform { street: street.clone() }),
            None => Err("the case is in no street"),
        },
        RuleTarget::GridWorker => match (&request.regions.grid, request.grid_worker) {
            (Some(grid), Some(worker)) => Ok(Assignee::GridWorker { grid: grid.clone(), worker: worker.clone() }),
            (None, _) => Err("the case is in no grid"),
            (Some(_), None) => Err("the grid has no worker"),
        },
    }
}

#[cfg(test)]
mod tests;
