//! The present against the sample city, its mappings and its rules: one seed gives one
//! sequence of feed items; each item's document reads back through the source's real
//! mapping as the case meant; the handlers' every move is a transition of the lifecycle
//! table made by someone the assignee includes, and they never move a person's case.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use chrono::{TimeZone, Utc};
use cockpit_events::{
    Assignee, CaseMapping, CaseState, Category, CategoryCode, CategoryTree, Crs, Handler, RegionCode, Status, Urgency,
    UserId, check_assignee, transition,
};
use cockpit_geo::{City, CityGeoJson, Level, Tolerance, gcj02_to_wgs84};
use cockpit_sim::{Department, Feed, Feeds, Handlers, Next, People, Seen, person_involved};

struct Sample {
    city: City,
    categories: CategoryTree,
    hotline: CaseMapping,
    grassroots: CaseMapping,
    people: People,
}

fn sample() -> &'static Sample {
    static SAMPLE: OnceLock<Sample> = OnceLock::new();
    SAMPLE.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data/ouhai");
        let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
        let (district, streets, villages, grids) =
            (read("district.geojson"), read("streets.geojson"), read("villages.geojson"), read("grids.geojson"));
        let city = City::from_geojson(
            CityGeoJson { district: &district, streets: &streets, villages: Some(&villages), grids: Some(&grids) },
            Tolerance::default(),
        )
        .unwrap();
        let categories: Vec<Category> = serde_json::from_str(&read("cases/categories.json")).unwrap();
        let categories = CategoryTree::new(categories).unwrap();
        let hotline = CaseMapping::from_json(&read("cases/mappings/hotline-12345.json"), &categories).unwrap();
        let grassroots = CaseMapping::from_json(&read("cases/mappings/grassroots-platform.json"), &categories).unwrap();
        let file: serde_json::Value = serde_json::from_str(&read("departments.json")).unwrap();
        let departments: Vec<Department> = file["departments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| Department {
                id: d["id"].as_str().unwrap().into(),
                name: d["name"].as_str().unwrap().into(),
                parent: d["parent"].as_str().map(Into::into),
            })
            .collect();
        let people = People::generate(&city, &departments, None, 42);
        Sample { city, categories, hotline, grassroots, people }
    })
}

fn feeds(seed: u64, run: u64) -> Feeds<'static> {
    let s = sample();
    Feeds::new(&s.city, &s.categories, Some(&s.hotline), Some(&s.grassroots), seed, run).unwrap()
}

#[test]
fn one_seed_gives_one_sequence_of_feed_items() {
    let now = Utc.with_ymd_and_hms(2026, 5, 12, 2, 30, 0).unwrap();
    let (a, b) = (feeds(7, 1), feeds(7, 1));
    let first: Vec<_> = (0..200).map(|n| a.item(n, now)).collect();
    let again: Vec<_> = (0..200).map(|n| b.item(n, now)).collect();
    assert_eq!(first, again);
    // Item n stands alone: asked out of order, it is the same.
    assert_eq!(a.item(150, now), first[150]);
    let other: Vec<_> = (0..200).map(|n| feeds(8, 1).item(n, now)).collect();
    assert!(other.iter().zip(&first).filter(|(x, y)| x.description == y.description).count() < 20);
    // Another run: other references and other cases.
    let next_run = feeds(7, 2).item(0, now);
    assert_ne!(next_run, first[0]);
    let refs: Vec<_> = first.iter().filter_map(|i| i.source_ref.clone()).collect();
    assert!(next_run.source_ref.is_none_or(|r| !refs.contains(&r)));
    let mut by_feed = BTreeMap::new();
    for item in &first {
        *by_feed.entry(item.feed).or_insert(0) += 1;
    }
    for feed in Feed::ALL {
        assert!(by_feed.get(&feed).copied().unwrap_or(0) >= 15, "{feed:?}: {by_feed:?}");
    }
}

#[test]
fn each_document_reads_back_through_its_sources_mapping_as_meant() {
    let s = sample();
    let now = Utc.with_ymd_and_hms(2026, 7, 1, 6, 0, 0).unwrap();
    let f = feeds(11, 3);
    for n in 0..300 {
        let item = f.item(n, now);
        let grid = s.city.place(item.point).grid_code().map(str::to_string);
        assert_eq!(grid.as_deref(), Some(item.grid.as_str()), "item {n} lies in its grid");
        let mapping = match item.feed {
            Feed::Hotline => &s.hotline,
            Feed::Grassroots => &s.grassroots,
            Feed::Open311 => {
                let code = item.document["service_code"].as_str().unwrap();
                let category = s.categories.get(&CategoryCode::new(code)).unwrap();
                assert!(s.categories.children(Some(&category.code)).is_empty(), "{code} is a service (a leaf)");
                assert!(item.document.get("api_key").is_none());
                assert_eq!(item.document["lat"].as_f64().unwrap(), (item.point.y * 1e6).round() / 1e6);
                continue;
            }
        };
        let case = mapping.apply(&item.document, &s.categories, now).unwrap_or_else(|e| panic!("{n}: {e}"));
        assert_eq!(case.category, item.category, "{}", item.document);
        assert_eq!(case.urgency, item.urgency);
        assert_eq!(case.source_ref.map(|r| r.0), item.source_ref);
        assert_eq!(case.description, item.description);
        assert_eq!(case.occurred_at.timestamp(), item.occurred_at.timestamp());
        assert!(case.occurred_at <= now);
        let p = case.location.unwrap();
        let back = match case.crs {
            Crs::Wgs84 => cockpit_geo::Coord { x: p.lon, y: p.lat },
            Crs::Gcj02 => gcj02_to_wgs84(cockpit_geo::Coord { x: p.lon, y: p.lat }),
        };
        assert!((back.x - item.point.x).abs() < 2e-5 && (back.y - item.point.y).abs() < 2e-5, "{n}: {back:?}");
        assert!(case.reporter.is_some());
    }
}

/// Drives a case from `New` with the handlers, every move checked against the lifecycle
/// table and the assignee; its last status.
fn drive(handlers: &Handlers<'_>, id: i64, source: &str, category: &str, street: &str) -> (Status, u32) {
    let mut state = CaseState::new(Status::New);
    let category = CategoryCode::new(category);
    let mut at = Utc.with_ymd_and_hms(2026, 5, 12, 2, 0, 0).unwrap();
    for step in 0..40 {
        let seen = Seen {
            id,
            state: &state,
            source,
            category: &category,
            urgency: Urgency::Normal,
            street: Some(street),
            step,
        };
        let m = match handlers.next(&seen) {
            Next::Leave => return (state.status, step),
            Next::Act(m) => m,
        };
        assert!(m.after >= chrono::TimeDelta::seconds(1) && m.after <= chrono::TimeDelta::minutes(20), "{m:?}");
        at += m.after;
        let kind = m.action.kind();
        let handler = Handler {
            user: m.by.actor.user.as_str(),
            department: m.by.department.as_deref(),
            region: m.by.region.as_deref(),
        };
        check_assignee(&state, &m.by.actor, kind, &handler).unwrap_or_else(|e| panic!("case {id}: {m:?}: {e}"));
        state = transition(&state, &m.by.actor, m.action, at).unwrap_or_else(|e| panic!("case {id}: {e}")).state;
    }
    panic!("case {id} never left");
}

#[test]
fn the_handlers_move_cases_by_the_lifecycle_and_leave_some_to_go_overdue() {
    let s = sample();
    let handlers = Handlers::new(&s.people, 5, 60);
    let street = s.city.level(Level::Street).next().unwrap().code.as_str().to_string();
    let mut ends = BTreeMap::new();
    for id in 1..=300 {
        let source = ["hotline-12345", "grassroots-platform", "open311"][id as usize % 3];
        let category = ["0102", "0701", "0301", "06"][id as usize % 4];
        let (status, _) = drive(&handlers, id, source, category, &street);
        *ends.entry(status).or_insert(0) += 1;
    }
    let count = |s: Status| ends.get(&s).copied().unwrap_or(0);
    let evaluated = count(Status::EvaluatedSatisfied) + count(Status::EvaluatedUnsatisfied);
    assert!(evaluated > 150, "{ends:?}");
    let left_open = count(Status::Accepted) + count(Status::InProgress);
    assert!((10..=60).contains(&left_open), "about one in ten left to go overdue: {ends:?}");
    // The same seed, the same story.
    let again = Handlers::new(&s.people, 5, 60);
    assert_eq!(drive(&handlers, 17, "open311", "0102", &street), drive(&again, 17, "open311", "0102", &street));
}

#[test]
fn a_persons_case_is_theirs() {
    let mut state = CaseState::new(Status::Dispatched);
    assert!(!person_involved(&state, [("hotline-12345", "source"), ("system", "system")]));
    assert!(!person_involved(&state, [("sim-dispatcher-01", "dispatcher")]));
    assert!(person_involved(&state, [("dispatcher", "dispatcher")]), "the demo's dispatcher acted");
    state.assignee =
        Some(Assignee::GridWorker { grid: RegionCode::new("330304001001"), worker: UserId("gridworker".into()) });
    assert!(person_involved(&state, []), "assigned to the demo's grid worker");
    state.assignee = Some(Assignee::Person { user: UserId("sim-leader-01".into()) });
    state.leaders = vec![UserId("leader".into())];
    assert!(person_involved(&state, []), "the demo's leader is bound");
    // And the handlers do not take it up: nobody of theirs is the demo grid worker.
    let s = sample();
    let handlers = Handlers::new(&s.people, 5, 60);
    let held = CaseState {
        assignee: Some(Assignee::GridWorker {
            grid: RegionCode::new("330304001001"),
            worker: UserId("gridworker".into()),
        }),
        ..CaseState::new(Status::Dispatched)
    };
    let category = CategoryCode::new("0102");
    let seen = Seen {
        id: 1,
        state: &held,
        source: "open311",
        category: &category,
        urgency: Urgency::Normal,
        street: None,
        step: 0,
    };
    assert_eq!(handlers.next(&seen), Next::Leave);
}
