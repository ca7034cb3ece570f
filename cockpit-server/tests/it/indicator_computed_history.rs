//! The computed indicators over time on real PostGIS (issue 18, "values over time"): each
//! recomputation stores the values per region and local day (only what changed), the
//! detail API compares them with the day before and the same day last year, a recompute
//! with nothing changed writes nothing, and a seeded history back-fills the past days with
//! what the formulas give at each day's end (counted here again in SQL).

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, NaiveDate, TimeDelta, TimeZone, Utc};
use cockpit_events::{DeadlinePolicy, DuplicatePolicy};
use cockpit_indicators::Catalogue;
use cockpit_server::indicators::Indicators;
use cockpit_server::indicators::computed::{self, Computed};
use cockpit_server::indicators::computed_values::{self, LastWritten};
use cockpit_server::{CaseRules, Geography, HistoryConfig, history};
use cockpit_store::Store;
use serde_json::json;

use crate::common::{Server, fresh_store, sample_data};

/// 景山街道 and its village 繁荣社区.
const STREET: &str = "330304001";
const VILLAGE: &str = "330304001002";
const DISTRICT: &str = "330304";
const OFFSET: i32 = 8 * 3600;

fn offset() -> FixedOffset {
    FixedOffset::east_opt(OFFSET).unwrap()
}

fn catalogue() -> Catalogue {
    Indicators::load(&sample_data().join("indicators/catalogue.json")).unwrap().catalogue().clone()
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// `hour` o'clock local on `date`.
fn local(date: NaiveDate, hour: u32) -> DateTime<Utc> {
    offset().from_local_datetime(&date.and_hms_opt(hour, 0, 0).unwrap()).unwrap().with_timezone(&Utc)
}

/// `n` new cases in the village, created at 09:00 on `date`.
async fn cases_on(store: &Store, date: NaiveDate, n: usize) {
    for _ in 0..n {
        sqlx::query(
            "INSERT INTO cases (source_id, category, urgency, title, description, street_code, village_code,
                 status, occurred_at, created_at)
             VALUES ('fixture', '0501', 'normal', 't', 'd', $1, $2, 'new', $3, $3)",
        )
        .bind(STREET)
        .bind(VILLAGE)
        .bind(local(date, 9))
        .execute(store.pool())
        .await
        .unwrap();
    }
}

/// Every formula at 22:00 on `date`.
async fn compute(store: &Store, catalogue: &Catalogue, geography: &Geography, date: NaiveDate) -> Computed {
    let at = computed::now_at(local(date, 22), OFFSET);
    let rows = computed::load(catalogue, &geography.city, store, &[], at).await.unwrap();
    computed::evaluate_all(catalogue, rows, at).await
}

/// The stored (period, value, source) of `indicator` in `region`, newest first, in 2025–2026 March.
async fn stored(store: &Store, indicator: &str, region: &str) -> Vec<(NaiveDate, f64, String)> {
    let rows = store.indicator_values(indicator, Some(region), None, Some(day(2026, 3, 31)), 100).await.unwrap();
    rows.into_iter().map(|r| (r.period, r.value, r.source)).collect()
}

async fn logged(store: &Store, key: &str, period: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM live_log WHERE key = $1 AND payload ->> 'period' = $2")
        .bind(key)
        .bind(period)
        .fetch_one(store.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn each_day_is_stored_once_compared_with_the_day_before_and_last_year_and_an_unchanged_run_writes_nothing() {
    let server = Server::start().await;
    let store = &server.store;
    let geography = Geography::load(&sample_data()).unwrap();
    let catalogue = catalogue();
    // The start registered them: the catalogue has the computed ones, not published.
    assert_eq!(computed_values::register(store, &catalogue, &geography.city).await.unwrap(), 0);
    let (status, entry) = server.get_as("leader", "/api/indicators/catalogue/cases_today").await;
    assert_eq!(status, 200, "{entry}");
    assert_eq!(entry["indicator"]["frequency"], "daily", "{entry}");
    assert_eq!(entry["indicator"]["owner"]["department"], "区社会治理中心", "{entry}");
    assert_eq!(entry["indicator"]["published"], false, "{entry}");
    sqlx::query("INSERT INTO sources (id, name, kind) VALUES ('fixture', 'fixture', 'api')")
        .execute(store.pool())
        .await
        .unwrap();

    // A year before, then three days running: each day's cases arrive, then it is computed.
    let last = LastWritten::default();
    let days = [(day(2025, 3, 15), 4), (day(2026, 3, 13), 2), (day(2026, 3, 14), 3), (day(2026, 3, 15), 1)];
    for (date, n) in days {
        cases_on(store, date, n).await;
        let computed = compute(store, &catalogue, &geography, date).await;
        let changed =
            computed_values::store_changed(store, &catalogue, &geography.city, &computed, date, &last).await.unwrap();
        assert!(!changed.is_empty(), "{date}");
    }
    let counted = |v: &[(NaiveDate, f64)]| v.iter().map(|(d, n)| (*d, *n, "computed".to_string())).collect::<Vec<_>>();
    let today = [(day(2026, 3, 15), 1.0), (day(2026, 3, 14), 3.0), (day(2026, 3, 13), 2.0), (day(2025, 3, 15), 4.0)];
    for region in [STREET, VILLAGE, DISTRICT] {
        assert_eq!(stored(store, "cases_today", region).await, counted(&today), "{region}");
    }
    // Open at each day's computing: every case so far (all new).
    let open = [(day(2026, 3, 15), 10.0), (day(2026, 3, 14), 9.0), (day(2026, 3, 13), 6.0), (day(2025, 3, 15), 4.0)];
    assert_eq!(stored(store, "open_cases", STREET).await, counted(&open));

    // The detail: the day before (MoM) and the same day last year (YoY), the trend.
    let url = format!("/api/indicators/catalogue/cases_today/compare?region={STREET}&period=2026-03-15&n=3");
    let (status, c) = server.get_as("leader", &url).await;
    assert_eq!(status, 200, "{c}");
    assert_eq!(c["value"], json!(1.0), "{c}");
    assert_eq!((&c["previous"]["period"], &c["previous"]["value"]), (&json!("2026-03-14"), &json!(3.0)), "{c}");
    assert_eq!(c["previous"]["change"], json!(-2.0), "{c}");
    assert_eq!((&c["last_year"]["period"], &c["last_year"]["value"]), (&json!("2025-03-15"), &json!(4.0)), "{c}");
    assert_eq!(c["last_year"]["percent"], json!(-75.0), "{c}");
    let trend: Vec<_> = c["trend"].as_array().unwrap().iter().map(|p| p["value"].clone()).collect();
    assert_eq!(trend, [json!(2.0), json!(3.0), json!(1.0)], "{c}");
    assert_eq!((&c["peak"]["value"], &c["low"]["value"]), (&json!(4.0), &json!(1.0)), "{c}");

    // Nothing changed: nothing is sent by this instance, nothing written by another.
    let key = format!("value:cases_today:{STREET}");
    let before = logged(store, &key, "2026-03-15").await;
    let written = store.indicator_values("cases_today", Some(STREET), None, None, 1).await.unwrap();
    let computed = compute(store, &catalogue, &geography, day(2026, 3, 15)).await;
    let city = &geography.city;
    let again = computed_values::store_changed(store, &catalogue, city, &computed, day(2026, 3, 15), &last).await;
    assert!(again.unwrap().is_empty());
    let other = LastWritten::default();
    let again = computed_values::store_changed(store, &catalogue, city, &computed, day(2026, 3, 15), &other).await;
    assert!(again.unwrap().is_empty(), "another instance finds every value there");
    assert_eq!(logged(store, &key, "2026-03-15").await, before, "no live entry");
    assert_eq!(store.indicator_values("cases_today", Some(STREET), None, None, 1).await.unwrap(), written);

    // One more case that day: the day's value is updated in place, and only what it changes
    // is written (today's and open cases, in the village, its street and the district).
    cases_on(store, day(2026, 3, 15), 1).await;
    let computed = compute(store, &catalogue, &geography, day(2026, 3, 15)).await;
    let changed =
        computed_values::store_changed(store, &catalogue, city, &computed, day(2026, 3, 15), &last).await.unwrap();
    let keys: BTreeSet<(String, String)> = changed.iter().map(|r| (r.indicator.clone(), r.region.clone())).collect();
    let expected: BTreeSet<(String, String)> = ["cases_today", "open_cases"]
        .into_iter()
        .flat_map(|i| [DISTRICT, STREET, VILLAGE].map(|r| (i.to_string(), r.to_string())))
        .collect();
    assert_eq!(keys, expected);
    assert_eq!(stored(store, "cases_today", STREET).await[0], (day(2026, 3, 15), 2.0, "computed".into()));
    assert_eq!(logged(store, &key, "2026-03-15").await, before + 1, "one live entry for the change");
}

fn rules() -> CaseRules {
    CaseRules::load(&sample_data(), DeadlinePolicy::default(), DuplicatePolicy::default()).unwrap()
}

async fn count(store: &Store, sql: &str, street: Option<&str>, start: DateTime<Utc>, end: DateTime<Utc>) -> f64 {
    let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
        .bind(street)
        .bind(start)
        .bind(end)
        .fetch_one(store.pool())
        .await
        .unwrap();
    n as f64
}

const OPEN: &str = "'new', 'dispatched', 'accepted', 'in_progress', 'handled'";
const RESOLVED: &str = "'closed', 'evaluated_satisfied', 'evaluated_unsatisfied'";

#[tokio::test]
async fn the_back_fill_of_a_seeded_history_is_what_the_formulas_counted_at_each_days_end() {
    let geography = Arc::new(Geography::load(&sample_data()).unwrap());
    let rules = Arc::new(rules());
    let store = fresh_store().await;
    store.sync_sources(&rules.source_records()).await.unwrap();
    let config = HistoryConfig { seed_on_start: false, days: 6, per_day: 200, seed: 11, readings_every_minutes: 0 };
    let now = Utc.with_ymd_and_hms(2026, 3, 15, 4, 0, 0).unwrap();
    history::seed(&store, geography.clone(), rules, &config, now).await.unwrap();
    let catalogue = catalogue();
    let written = computed_values::backfill(&store, &catalogue, &geography.city, offset(), 6, now).await.unwrap();
    assert!(written > 0);

    let today = now.with_timezone(&offset()).date_naive();
    let scope = "($1::text IS NULL OR street_code = $1)";
    let created = format!("SELECT count(*) FROM cases WHERE {scope} AND created_at >= $2 AND created_at < $3");
    // Open at the day's end: not closed by then, and open now if never closed.
    let open = format!(
        "SELECT count(*) FROM cases WHERE {scope} AND created_at < $3
             AND ((closed_at IS NULL AND status IN ({OPEN})) OR closed_at >= $3)"
    );
    // Resolved with a deadline in the 30 days to the day's end ($2), and on time of those.
    let resolved = format!(
        "SELECT count(*) FROM cases WHERE {scope} AND status IN ({RESOLVED}) AND due_at IS NOT NULL
             AND closed_at >= $2 AND closed_at < $3"
    );
    let on_time = format!("{resolved} AND closed_at <= due_at");
    let mut checked = 0;
    for back in 1..=6 {
        let date = today - TimeDelta::days(back);
        let (start, end) = (local(date, 0), local(date + TimeDelta::days(1), 0));
        let window = end - TimeDelta::seconds(1) - TimeDelta::days(30);
        for region in [DISTRICT, "330304001", "330304002", "330304005"] {
            let street = (region != DISTRICT).then_some(region);
            let value = |id: &'static str| {
                let store = store.clone();
                async move {
                    let rows = store.indicator_values(id, Some(region), Some(date), Some(date), 1).await.unwrap();
                    assert!(rows.iter().all(|r| r.source == "computed"));
                    rows.first().map(|r| r.value)
                }
            };
            let expected = count(&store, &created, street, start, end).await;
            assert_eq!(value("cases_today").await, Some(expected), "{date} {region}");
            let expected = count(&store, &open, street, start, end).await;
            assert_eq!(value("open_cases").await, Some(expected), "{date} {region} open");
            let all = count(&store, &resolved, street, window, end).await;
            let kept = count(&store, &on_time, street, window, end).await;
            let expected = (all > 0.0).then(|| kept * 100.0 / all);
            let got = value("on_time_rate").await;
            assert!(
                match (got, expected) {
                    (Some(g), Some(e)) => (g - e).abs() < 1e-9,
                    (g, e) => g == e,
                },
                "{date} {region}: on time {got:?}, counted {expected:?}"
            );
            checked += usize::from(expected.is_some());
        }
    }
    assert!(checked > 0, "some day had cases resolved with a deadline");
    // Today is the recomputation's; no device health in the past.
    assert!(store.indicator_values("cases_today", None, Some(today), None, 1).await.unwrap().is_empty());
    assert!(store.indicator_values("device_online_rate", None, None, None, 1).await.unwrap().is_empty());
    // Written once: again, nothing.
    assert_eq!(computed_values::backfill(&store, &catalogue, &geography.city, offset(), 6, now).await.unwrap(), 0);
}
