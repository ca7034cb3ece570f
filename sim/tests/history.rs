//! The generator against the sample city and its rules: people, and a history whose every
//! timeline obeys the lifecycle table, whose counts, shares and seasons are as planned,
//! whose cases lie in their grids, whose overdue flags agree with the deadlines, and which
//! one seed makes the same every time.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::{BTreeMap, BTreeSet};
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::OnceLock;

use chrono::{DateTime, TimeZone, Utc};
use cockpit_events::{
    ActorRole, Assignee, Category, CategoryTree, DeadlinePolicy, DispatchRule, DispatchRules, Status, WorkingCalendar,
    rule,
};
use cockpit_geo::{City, CityGeoJson, Level, Tolerance};
use cockpit_sim::{Channel, Demo, Department, History, HistoryCase, People, Plan, Rules};

struct Sample {
    city: City,
    categories: CategoryTree,
    dispatch: DispatchRules,
    calendar: WorkingCalendar,
    departments: Vec<Department>,
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
        let rules: Vec<DispatchRule> = serde_json::from_str(&read("cases/dispatch-rules.json")).unwrap();
        let calendar = WorkingCalendar::new(&serde_json::from_str(&read("cases/calendar.json")).unwrap()).unwrap();
        let file: serde_json::Value = serde_json::from_str(&read("departments.json")).unwrap();
        let departments = file["departments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| Department {
                id: d["id"].as_str().unwrap().into(),
                name: d["name"].as_str().unwrap().into(),
                parent: d["parent"].as_str().map(Into::into),
            })
            .collect();
        Sample {
            city,
            categories: CategoryTree::new(categories).unwrap(),
            dispatch: DispatchRules::new(rules).unwrap(),
            calendar,
            departments,
        }
    })
}

fn demo(s: &Sample) -> Demo {
    let grid = s.city.level(Level::Grid).next().unwrap().code.as_str().to_string();
    Demo { grid, grid_worker: "gridworker".into(), leader: "leader".into() }
}

fn rules(s: &Sample) -> Rules<'_> {
    Rules {
        categories: &s.categories,
        dispatch: &s.dispatch,
        calendar: &s.calendar,
        deadlines: DeadlinePolicy::default(),
    }
}

/// A history of `days` days ending at `now`, every case with its refusals counted.
fn generate(days: u32, per_day: u32, seed: u64, now: DateTime<Utc>) -> (Vec<HistoryCase>, Vec<u32>, u32) {
    let s = sample();
    let people = People::generate(&s.city, &s.departments, Some(&demo(s)), seed);
    let plan = Plan { days, per_day, seed, now };
    let history = History::new(&s.city, rules(s), &people, plan, Some(demo(s))).unwrap();
    let mut cases = Vec::new();
    let mut counts = Vec::new();
    let mut refused = 0;
    for i in 0..history.days() {
        let day = history.day(i).unwrap();
        assert_eq!(day.cases.len() as u32, history.day_count(i), "day {i}");
        counts.push(history.day_count(i));
        refused += day.refused;
        cases.extend(day.cases);
    }
    assert_eq!(cases.len() as u64, history.total());
    (cases, counts, refused)
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 18, 7, 30, 0).unwrap() // 15:30 in the city
}

fn digest(cases: &[HistoryCase]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    format!("{cases:?}").hash(&mut h);
    h.finish()
}

#[test]
fn people_fill_every_post() {
    let s = sample();
    let people = People::generate(&s.city, &s.departments, Some(&demo(s)), 7);
    let grids = s.city.level(Level::Grid).count();
    let workers = people.persons.iter().filter(|p| p.role == cockpit_access::Role::GridWorker).count();
    assert_eq!(grids, 942);
    assert_eq!(workers, grids - 1, "one generated worker per grid, the demonstration's grid keeps its own");
    assert_eq!(people.grid_worker(&demo(s).grid), Some("gridworker"));
    let usernames: BTreeSet<_> = people.persons.iter().map(|p| p.username.as_str()).collect();
    assert_eq!(usernames.len(), people.persons.len(), "usernames are unique");
    for p in &people.persons {
        assert!(p.username.starts_with("sim-") && p.username.len() <= 64, "{}", p.username);
        assert!(p.username.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c)), "{}", p.username);
        assert!(p.display_name.contains('（'), "{} says its post", p.display_name);
    }
    for name in [
        "区应急管理局",
        "区住房和城乡建设局",
        "区综合行政执法局",
        "市生态环境局瓯海分局",
        "区交通运输局",
        "区水利局",
        "瓯海公安分局",
    ] {
        assert!(!people.handlers(name).is_empty(), "{name} has handlers");
    }
    assert_eq!(people.departments.len(), s.city.level(Level::Street).count(), "a platform per street");
    for street in s.city.level(Level::Street) {
        assert_eq!(people.street_staff(street.code.as_str()).len(), 3);
    }
    assert_eq!(people.dispatchers().len(), 8);
    // The same seed, the same people.
    assert_eq!(people.persons, People::generate(&s.city, &s.departments, Some(&demo(s)), 7).persons);
}

#[test]
fn the_same_seed_gives_the_same_history() {
    let (a, _, _) = generate(4, 300, 11, now());
    let (b, _, _) = generate(4, 300, 11, now());
    let (c, _, _) = generate(4, 300, 12, now());
    assert_eq!(digest(&a), digest(&b));
    assert_ne!(digest(&a), digest(&c));
}

#[test]
fn every_timeline_obeys_the_lifecycle_and_every_case_lies_in_its_grid() {
    let (cases, _, refused) = generate(21, 400, 5, now());
    assert_eq!(refused, 0, "the lifecycle refused steps of the script");
    let s = sample();
    for case in &cases {
        let timeline = &case.lived.timeline;
        let first = &timeline[0];
        assert_eq!((first.action, first.from, first.to), (None, None, Status::New), "case {}", case.n);
        assert_eq!(first.at, case.created_at);
        let mut status = first.to;
        for pair in timeline.windows(2) {
            let entry = &pair[1];
            assert!(entry.at >= pair[0].at, "case {}: time runs forward", case.n);
            let kind = entry.action.unwrap();
            assert_eq!(entry.from, Some(status), "case {}: {kind} from the status before", case.n);
            let allowed = rule(kind);
            assert!(allowed.from.contains(&status), "case {}: {kind} from {status:?}", case.n);
            assert!(allowed.roles.contains(&entry.actor.role), "case {}: {kind} by {:?}", case.n, entry.actor.role);
            status = entry.to;
        }
        assert_eq!(case.lived.state.status, status, "case {}", case.n);
        assert!(timeline.last().unwrap().at <= now());
        assert!(case.occurred_at <= case.created_at);
        assert_eq!(s.city.place(case.point).grid_code(), case.place.grid_code(), "case {} in its grid", case.n);
        // The flags the scheduler would have set.
        match (&case.lived.deadline, case.lived.closed_at) {
            (Some(d), Some(closed)) => assert_eq!(case.lived.overdue, d.due_at < closed, "case {}", case.n),
            (Some(d), None) => assert_eq!(case.lived.overdue, d.due_at <= now(), "case {}", case.n),
            (None, _) => assert!(!case.lived.overdue),
        }
        assert_eq!(case.lived.closed_at.is_none(), status.is_open(), "case {}", case.n);
        if let Some(of) = case.duplicate_of {
            assert!(of < case.n);
            assert!(case.lived.deadline.is_none(), "a duplicate waits with its original");
        }
    }
    // Realistic shares: most old cases are done, some went late, some came back.
    let old: Vec<_> = cases.iter().filter(|c| now() - c.created_at > chrono::TimeDelta::days(16)).collect();
    let done = old.iter().filter(|c| !c.lived.state.status.is_open()).count();
    assert!(done * 100 >= old.len() * 97, "{done} of {} old cases closed", old.len());
    let share = |f: &dyn Fn(&HistoryCase) -> bool| cases.iter().filter(|c| f(c)).count() as f64 / cases.len() as f64;
    let has =
        |c: &HistoryCase, kind: cockpit_events::ActionKind| c.lived.timeline.iter().any(|e| e.action == Some(kind));
    use cockpit_events::ActionKind as A;
    let overdue = share(&|c| c.lived.overdue);
    assert!((0.04..0.25).contains(&overdue), "overdue {overdue}");
    for (kind, low, high) in [
        (A::Return, 0.01, 0.08),
        (A::SendBack, 0.01, 0.08),
        (A::Reopen, 0.003, 0.06),
        (A::Supervise, 0.01, 0.12),
        (A::Instruct, 0.005, 0.08),
        (A::Evaluate, 0.6, 0.95),
    ] {
        let s = share(&|c| has(c, kind));
        assert!((low..high).contains(&s), "{kind}: {s}");
    }
    let duplicates = share(&|c| c.duplicate_of.is_some());
    assert!((0.005..0.05).contains(&duplicates), "duplicates {duplicates}");
    let evaluated: Vec<_> = cases.iter().filter_map(|c| c.lived.state.evaluation.as_ref()).collect();
    let satisfied = evaluated.iter().filter(|e| e.is_satisfied()).count() as f64 / evaluated.len() as f64;
    assert!((0.82..0.97).contains(&satisfied), "satisfied {satisfied}");
    let reasons: BTreeSet<_> = evaluated
        .iter()
        .filter_map(|e| match &e.verdict {
            cockpit_events::Verdict::Unsatisfied(r) => Some(r.code()),
            _ => None,
        })
        .collect();
    assert_eq!(reasons.len(), 4, "all four reasons: {reasons:?}");
    // Every actor of a person role is one of the generated or demonstration accounts.
    let people = People::generate(&s.city, &s.departments, Some(&demo(s)), 5);
    let known: BTreeSet<&str> =
        people.persons.iter().map(|p| p.username.as_str()).chain(["gridworker", "leader"]).collect();
    for case in &cases {
        for e in &case.lived.timeline {
            if matches!(e.actor.role, ActorRole::Person(_)) {
                assert!(known.contains(e.actor.user.as_str()), "unknown actor {}", e.actor.user);
            }
        }
    }
}

#[test]
fn counts_shares_and_seasons_are_as_planned() {
    let (cases, counts, _) = generate(28, 1500, 3, now());
    let s = sample();
    let offset = s.calendar.offset();
    // Whole working days bring the plan's volume, ±15 %; days off fewer.
    let mut per_date: BTreeMap<chrono::NaiveDate, u32> = BTreeMap::new();
    for c in &cases {
        *per_date.entry(c.created_at.with_timezone(&offset).date_naive()).or_default() += 1;
    }
    assert_eq!(per_date.values().copied().collect::<Vec<_>>(), counts, "each day holds what it was asked for");
    let whole: Vec<_> = per_date.iter().take(counts.len() - 1).collect();
    let working: Vec<u32> = whole.iter().filter(|(d, _)| s.calendar.is_working_day(**d)).map(|(_, n)| **n).collect();
    let off: Vec<u32> = whole.iter().filter(|(d, _)| !s.calendar.is_working_day(**d)).map(|(_, n)| **n).collect();
    let mean = |v: &[u32]| v.iter().sum::<u32>() as f64 / v.len() as f64;
    assert!((1275.0..1725.0).contains(&mean(&working)), "working day {}", mean(&working));
    assert!(mean(&off) < mean(&working) * 0.85, "days off {} against {}", mean(&off), mean(&working));
    // Each channel's share of working days' cases within 3 points of its plan.
    let on_working: Vec<_> =
        cases.iter().filter(|c| s.calendar.is_working_day(c.created_at.with_timezone(&offset).date_naive())).collect();
    for channel in Channel::ALL {
        let n = on_working.iter().filter(|c| c.channel == channel).count() as f64;
        let share = n / on_working.len() as f64 * 1000.0;
        assert!((share - f64::from(channel.share())).abs() < 30.0, "{channel:?}: {share} ‰");
    }
    // Patrols keep office hours; the hotline rings in the evening too.
    let hour = |c: &HistoryCase| chrono::Timelike::hour(&c.created_at.with_timezone(&offset));
    let night_patrols = cases.iter().filter(|c| c.channel == Channel::Patrol && !(6..22).contains(&hour(c))).count();
    assert_eq!(night_patrols, 0);
    // Flooding in the plum rains against November.
    let flooding = |cases: &[HistoryCase]| {
        cases.iter().filter(|c| matches!(c.category.as_str(), "05" | "0501" | "0503")).count() as f64
            / cases.len() as f64
    };
    let (july, _, _) = generate(7, 400, 3, Utc.with_ymd_and_hms(2026, 7, 8, 4, 0, 0).unwrap());
    let november = &cases[cases.len() - 2000..];
    assert!(flooding(&july) > 2.5 * flooding(november), "{} against {}", flooding(&july), flooding(november));
}

#[test]
fn the_demonstration_accounts_have_work() {
    let (cases, _, _) = generate(3, 300, 9, now());
    let d = demo(sample());
    let open_tasks = cases
        .iter()
        .filter(|c| c.lived.state.status.is_open())
        .filter(|c| matches!(&c.lived.state.assignee, Some(Assignee::GridWorker { worker, .. }) if worker.as_str() == "gridworker"))
        .count();
    assert!(open_tasks >= 3, "the demonstration grid worker has {open_tasks} open tasks");
    assert!(cases.iter().all(|c| match &c.lived.state.assignee {
        Some(Assignee::GridWorker { grid, worker }) => (grid.as_str() == d.grid) == (worker.as_str() == "gridworker"),
        _ => true,
    }));
}
