//! The built-in indicators computed by their formulas over real PostGIS (issue 18,
//! "computed"): a fixture of ten cases, three alarms and three devices at a fixed moment,
//! each indicator against the value counted by hand from the fixture, and every region of
//! every level against the counts the store's `GROUP BY` gives (the path the formulas
//! replaced), so that the wall's numbers did not move.

// A failed step of a test should stop it with the reason; helpers here are test code too.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use cockpit_geo::Level;
use cockpit_indicators::{Catalogue, Counts, Indicator};
use cockpit_server::Geography;
use cockpit_server::indicators::Indicators;
use cockpit_server::indicators::computed::{self, DeviceNow};
use cockpit_store::{IndicatorQuery, Store};

use crate::common::{fresh_store, sample_data};

/// 景山街道, its village 繁荣社区, and another street.
const STREET: &str = "330304001";
const VILLAGE: &str = "330304001002";
const OFFSET: i32 = 8 * 3600;

/// 15 March 2026, 10:00 in Wenzhou.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 15, 2, 0, 0).unwrap()
}

fn ago(hours: i64) -> DateTime<Utc> {
    now() - TimeDelta::hours(hours)
}

/// A case: street, village, grid, status, created, due, closed, overdue mark, evaluation,
/// tags.
type Case<'a> = (
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    &'a str,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
    bool,
    Option<&'a str>,
    &'a [&'a str],
);

async fn fixture(store: &Store, grid: &str, other: &str) {
    let pool = store.pool();
    sqlx::query("INSERT INTO sources (id, name, kind) VALUES ('fixture', 'fixture', 'api')")
        .execute(pool)
        .await
        .unwrap();
    let (s, v, g, o) = (Some(STREET), Some(VILLAGE), Some(grid), Some(other));
    let cases: [Case; 10] = [
        (s, v, g, "new", ago(1), Some(ago(-24)), None, false, None, &["隐患"]),
        (s, v, g, "in_progress", ago(72), Some(ago(24)), None, false, None, &[]),
        (s, v, None, "handled", ago(48), None, None, true, None, &[]),
        (s, v, g, "closed", ago(240), Some(ago(120)), Some(ago(144)), false, None, &[]),
        (s, v, g, "evaluated_satisfied", ago(480), Some(ago(360)), Some(ago(336)), false, Some("satisfied"), &[]),
        (
            o,
            None,
            None,
            "evaluated_unsatisfied",
            ago(288),
            Some(ago(120)),
            Some(ago(144)),
            false,
            Some("unsatisfied"),
            &[],
        ),
        (o, None, None, "closed", ago(1200), Some(ago(1000)), Some(ago(960)), false, None, &[]),
        (None, None, None, "new", ago(2), None, None, false, None, &["风险"]),
        (s, None, None, "submitted", ago(3), None, None, false, None, &["风险"]),
        (o, None, None, "rejected", ago(20), None, None, false, None, &[]),
    ];
    for (street, village, grid, status, created, due, closed, overdue, verdict, tags) in cases {
        sqlx::query(
            "INSERT INTO cases (source_id, category, urgency, title, description, street_code, village_code,
                 grid_code, status, occurred_at, created_at, due_at, closed_at, overdue, evaluation, tags)
             VALUES ('fixture', '0501', 'normal', 't', 'd', $1, $2, $3, $4, $5, $5, $6, $7, $8,
                 CASE WHEN $9::text IS NULL THEN NULL ELSE jsonb_build_object('verdict', $9::text) END, $10)",
        )
        .bind(street)
        .bind(village)
        .bind(grid)
        .bind(status)
        .bind(created)
        .bind(due)
        .bind(closed)
        .bind(overdue)
        .bind(verdict)
        .bind(tags.iter().map(|t| t.to_string()).collect::<Vec<_>>())
        .execute(pool)
        .await
        .unwrap();
    }
    sqlx::query(
        "INSERT INTO devices (id, device_type, location, credential_hash) VALUES ('wl-1', 'water_level_river',
             ST_SetSRID(ST_MakePoint(120.6, 28.0), 4326), 'x')",
    )
    .execute(pool)
    .await
    .unwrap();
    for (rule, state, street, village, grid) in
        [("r1", "active", s, v, g), ("r2", "cleared", o, None, None), ("r3", "acknowledged", o, None, None)]
    {
        sqlx::query(
            "INSERT INTO alarms (device_id, rule_id, severity, metric, state, raised_at, raised_value, peak_value,
                 peak_at, street_code, village_code, grid_code)
             VALUES ('wl-1', $1, 'major', 'water_level_m', $2, $3, 4.8, 4.8, $3, $4, $5, $6)",
        )
        .bind(rule)
        .bind(state)
        .bind(ago(5))
        .bind(street)
        .bind(village)
        .bind(grid)
        .execute(pool)
        .await
        .unwrap();
    }
}

fn devices(grid: &str, other: &str) -> Vec<DeviceNow> {
    let at = |s: &str, v: Option<&str>, g: Option<&str>, online| DeviceNow {
        regions: [Some(s.into()), v.map(Into::into), g.map(Into::into)],
        device_type: "water_level_river".into(),
        online,
    };
    vec![
        at(STREET, Some(VILLAGE), Some(grid), true),
        at(STREET, Some(VILLAGE), Some(grid), false),
        at(other, None, None, true),
    ]
}

fn catalogue() -> Catalogue {
    Indicators::load(&sample_data().join("indicators/catalogue.json")).unwrap().catalogue().clone()
}

/// The store's counts, as the indicators were counted before formulas.
async fn counted(store: &Store, catalogue: &Catalogue, devices: &[DeviceNow]) -> cockpit_store::CountsByRegion {
    let open = ["new", "dispatched", "accepted", "in_progress", "handled"];
    let resolved = ["closed", "evaluated_satisfied", "evaluated_unsatisfied"];
    let mut counts = store
        .indicator_counts(&IndicatorQuery {
            now: now(),
            day_start: Utc.with_ymd_and_hms(2026, 3, 14, 16, 0, 0).unwrap(),
            window_start: now() - TimeDelta::days(30),
            open: &open,
            resolved: &resolved,
            risk_tag: catalogue.tag(Indicator::RisksToday),
            hazard_tag: catalogue.tag(Indicator::HazardsToday),
        })
        .await
        .unwrap();
    for d in devices {
        let keys = std::iter::once(None).chain(d.regions[..2].iter().flatten().map(|c| Some(c.clone())));
        for key in keys {
            let c: &mut Counts = counts.entry(key).or_default();
            c.devices += 1;
            c.devices_online += u64::from(d.online);
        }
    }
    counts
}

#[tokio::test]
async fn every_built_in_indicator_matches_the_hand_count_and_the_store_counts() {
    let store = fresh_store().await;
    let geography = Geography::load(&sample_data()).unwrap();
    let city = &geography.city;
    let grid = city.level(Level::Grid).map(|r| r.code.as_str()).find(|c| c.starts_with(VILLAGE)).unwrap().to_string();
    let other = city.level(Level::Street).map(|r| r.code.as_str()).find(|c| *c != STREET).unwrap().to_string();
    fixture(&store, &grid, &other).await;
    let catalogue = catalogue();
    let devices = devices(&grid, &other);
    let at = computed::now_at(now(), OFFSET);
    let rows = computed::load(&catalogue, city, &store, &devices, at).await.unwrap();
    let computed = computed::evaluate_all(&catalogue, rows, at).await;
    let value = |id: Indicator, level: Level, code: &str| {
        let index = city.level(level).position(|r| r.code.as_str() == code).unwrap();
        let at = catalogue.definitions.iter().position(|d| d.id == id).unwrap();
        computed.value(at, level, index).map(|v| (v * 10.0).round() / 10.0)
    };

    // By hand, from the fixture: (district, the street, its village, its grid, the other
    // street).
    use Indicator::*;
    let expected: [(Indicator, [Option<f64>; 5]); 10] = [
        (CasesToday, [Some(3.0), Some(2.0), Some(1.0), Some(1.0), Some(0.0)]),
        (OpenCases, [Some(4.0), Some(3.0), Some(3.0), Some(2.0), Some(0.0)]),
        (OverdueCases, [Some(2.0), Some(2.0), Some(2.0), Some(1.0), Some(0.0)]),
        (OverdueRate, [Some(50.0), Some(66.7), Some(66.7), Some(50.0), None]),
        (OnTimeRate, [Some(66.7), Some(50.0), Some(50.0), Some(50.0), Some(100.0)]),
        (SatisfactionRate, [Some(50.0), Some(100.0), Some(100.0), Some(100.0), Some(0.0)]),
        (DeviceOnlineRate, [Some(66.7), Some(50.0), Some(50.0), Some(50.0), Some(100.0)]),
        (ActiveAlarms, [Some(2.0), Some(1.0), Some(1.0), Some(1.0), Some(1.0)]),
        (RisksToday, [Some(2.0), Some(1.0), Some(0.0), Some(0.0), Some(0.0)]),
        (HazardsToday, [Some(1.0), Some(1.0), Some(1.0), Some(1.0), Some(0.0)]),
    ];
    for (id, want) in expected {
        let got = [
            value(id, Level::District, city.level(Level::District).next().unwrap().code.as_str()),
            value(id, Level::Street, STREET),
            value(id, Level::Village, VILLAGE),
            value(id, Level::Grid, &grid),
            value(id, Level::Street, &other),
        ];
        assert_eq!(got, want, "{id}: district, street, village, grid, other street");
    }

    // Every region of the levels the store counted gives the same values both ways.
    let counts = counted(&store, &catalogue, &devices).await;
    let mut compared = 0;
    for level in [Level::District, Level::Street, Level::Village] {
        for (index, region) in city.level(level).enumerate() {
            let key = (level != Level::District).then(|| region.code.as_str().to_string());
            let before = catalogue.assess(&counts.get(&key).copied().unwrap_or_default());
            let now = catalogue.assess_values(|d| {
                computed.value(catalogue.definitions.iter().position(|x| x.id == d.id).unwrap(), level, index)
            });
            assert_eq!(now, before, "{} {}", level.as_str(), region.code.as_str());
            compared += 1;
        }
    }
    assert!(compared > 200, "district, 13 streets and the villages: {compared}");
}
