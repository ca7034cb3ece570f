//! Dispatch rules against a sample rule set for Ouhai: grid-owned categories to the grid's
//! worker, one street's city-appearance cases to its own platform, the rest of the class
//! to the law-enforcement bureau, waterlogging to the water bureau.

use super::*;
use crate::ids::RegionCode;

const RULES: &str = r#"[
    {"id": "r-city-01", "category_prefix": "01", "priority": 30,
     "target": {"kind": "department", "department": "zhifaju"}},
    {"id": "r-grid-0102", "category_prefix": "0102", "priority": 10, "target": {"kind": "grid_worker"}},
    {"id": "r-grid-0401", "category_prefix": "0401", "priority": 10, "target": {"kind": "grid_worker"}},
    {"id": "r-street-01", "category_prefix": "01", "region_prefix": "330304001", "priority": 20,
     "target": {"kind": "street_platform"}},
    {"id": "r-water", "category_prefix": "0503", "priority": 5,
     "target": {"kind": "department", "department": "shuiliju"}},
    {"id": "r-ads", "category_prefix": "02", "priority": 40,
     "target": {"kind": "department", "department": "chengguan"}},
    {"id": "r-ads-flyers", "category_prefix": "0201", "priority": 40,
     "target": {"kind": "department", "department": "gonganju"}},
    {"id": "r-catch-all", "priority": 0, "enabled": false,
     "target": {"kind": "department", "department": "nobody"}}
]"#;

fn rules() -> DispatchRules {
    serde_json::from_str(RULES).unwrap()
}

fn regions(grid: &str) -> Place {
    let code = |len: usize| (grid.len() >= len).then(|| RegionCode::from(&grid[..len]));
    Place { street: code(9), village: code(12), grid: code(15) }
}

fn department(id: &str) -> Assignee {
    Assignee::Department { department: DepartmentId::from(id) }
}

fn dispatch(rule: &str, to: Assignee) -> DispatchDecision {
    DispatchDecision::Dispatch { rule: RuleId::from(rule), to }
}

#[test]
fn the_first_resolvable_rule_in_order_wins() {
    let rules = rules();
    let worker = UserId::from("wgy-0417");
    let check = |category: &str, region: &str, worker: Option<&UserId>, expected: DispatchDecision| {
        let regions = regions(region);
        let request = DispatchRequest { category: &category.into(), regions: &regions, grid_worker: worker };
        assert_eq!(rules.decide(request), expected, "{category} in {region:?}");
    };
    let grid = "330304001001003";
    let in_grid = Assignee::GridWorker { grid: RegionCode::from(grid), worker: worker.clone() };
    let street_1 = Assignee::StreetPlatform { street: RegionCode::from("330304001") };

    check("0102", grid, Some(&worker), dispatch("r-grid-0102", in_grid));
    check("0102", grid, None, dispatch("r-street-01", street_1.clone()));
    check("0102", "330304002001007", None, dispatch("r-city-01", department("zhifaju")));
    check("0101", grid, Some(&worker), dispatch("r-street-01", street_1));
    check("0101", "330304002", None, dispatch("r-city-01", department("zhifaju")));
    check("0101", "", None, dispatch("r-city-01", department("zhifaju")));
    check("0503", grid, Some(&worker), dispatch("r-water", department("shuiliju")));
    check("0201", grid, None, dispatch("r-ads-flyers", department("gonganju")));
    check("0203", grid, None, dispatch("r-ads", department("chengguan")));
    check("06", grid, Some(&worker), DispatchDecision::Manual { reason: ManualReason::NoRuleMatched });
    check(
        "0401",
        grid,
        None,
        DispatchDecision::Manual {
            reason: ManualReason::TargetUnresolved {
                rule: RuleId::from("r-grid-0401"),
                missing: "the grid has no worker".into(),
            },
        },
    );
    check(
        "0401",
        "330304001",
        Some(&worker),
        DispatchDecision::Manual {
            reason: ManualReason::TargetUnresolved {
                rule: RuleId::from("r-grid-0401"),
                missing: "the case is in no grid".into(),
            },
        },
    );
}

#[test]
fn rules_are_ordered_by_priority_then_specificity_then_id() {
    let rules = rules();
    let order: Vec<&str> = rules.rules().iter().map(|rule| rule.id.as_str()).collect();
    assert_eq!(
        order,
        ["r-catch-all", "r-water", "r-grid-0102", "r-grid-0401", "r-street-01", "r-city-01", "r-ads-flyers", "r-ads"]
    );
}

#[test]
fn repeated_rule_ids_are_refused() {
    let rule = |priority| DispatchRule {
        id: RuleId::from("r-1"),
        category_prefix: String::new(),
        region_prefix: String::new(),
        target: RuleTarget::StreetPlatform,
        priority,
        enabled: true,
    };
    let result = DispatchRules::new(vec![rule(1), rule(9)]);
    assert!(matches!(&result, Err(EventsError::InvalidConfig { reason, .. }) if reason.contains("r-1")), "{result:?}");
    assert!(DispatchRules::new(vec![rule(1)]).is_ok());
}

#[test]
fn decisions_serialise_for_the_timeline_and_api() {
    let json = serde_json::to_value(dispatch("r-water", department("shuiliju"))).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"decision": "dispatch", "rule": "r-water",
                           "to": {"kind": "department", "department": "shuiliju"}})
    );
}
