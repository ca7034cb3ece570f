//! Indicator thresholds and alarms over real HTTP and PostGIS: bands crossed with hysteresis
//! and a minimum duration open exactly one case per episode, whichever instance takes the
//! values and after a new instance takes over from the stored state; alarms listed, filtered
//! and acknowledged; a do-not-disturb window records the alarm but holds its case; a bad
//! threshold refused with the field named. Alarms with no new value (a wait's clock, a threshold
//! edit) are in `indicator_alarms_standing`.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::Duration;

use chrono::{DateTime, Datelike, TimeDelta, Utc};
use serde_json::{Value, json};

use cockpit_server::Config;

use crate::common::{Server, fresh_database, sample_data};
use crate::indicator_catalogue::indicator;

/// 景山街道.
pub(crate) const STREET: &str = "330304001";
pub(crate) const ID: &str = "test.alarmed";

/// Bands for "lower is better": yellow from 80 (clears below 70), red from 100 (clears
/// below 90); ten minutes worse to raise, five better to step down.
pub(crate) fn bands() -> Value {
    json!({
        "enabled": true, "measure": {"kind": "value"},
        "yellow": {"raise": 80, "clear": 70}, "red": {"raise": 100, "clear": 90},
        "raise_after_seconds": 600, "clear_after_seconds": 300
    })
}

/// An indicator `ID` kept in real time, lower better, with a push source `stats` for it:
/// the source's token.
pub(crate) async fn alarmed_indicator(server: &Server) -> String {
    alarmed_indicator_every(server, "real_time").await
}

/// An indicator `ID` updated at `frequency`, lower better, with a push source `stats` for
/// it: the source's token.
pub(crate) async fn alarmed_indicator_every(server: &Server, frequency: &str) -> String {
    let admin = server.token("test-admin", "system_administrator").await;
    let mut entry = indicator(ID, frequency, "");
    entry["better"] = json!("lower");
    let (status, e) = server.post_with(&admin, "/api/indicators/catalogue", &entry).await;
    assert_eq!(status, 201, "{e}");
    let source = json!({"id": "stats", "name": "区统计局", "indicators": [ID]});
    let (status, source) = server.post_with(&admin, "/api/indicators/sources", &source).await;
    assert_eq!(status, 201, "{source}");
    source["token"].as_str().unwrap().to_string()
}

pub(crate) async fn set_threshold(server: &Server, threshold: &Value) -> (u16, Value) {
    let admin = server.token("test-admin", "system_administrator").await;
    server.put_with(&admin, &format!("/api/indicators/catalogue/{ID}/threshold"), threshold).await
}

/// Pushes `value` observed at `at` to `server`.
pub(crate) async fn push(server: &Server, token: &str, at: DateTime<Utc>, value: f64) {
    let body = json!({"values": [{"indicator": ID, "region": STREET, "at": at.to_rfc3339(), "value": value}]});
    let response = server
        .client
        .post(server.url("/api/indicators/push/stats"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    assert_eq!(status, 200, "{at} {value}: {}", response.text().await.unwrap_or_default());
}

/// The alarms `GET /api/indicators/alarms?<query>` lists for the commander.
pub(crate) async fn alarms(server: &Server, query: &str) -> Vec<Value> {
    let (status, list) = server.get_as("commander", &format!("/api/indicators/alarms?{query}")).await;
    assert_eq!(status, 200, "{list}");
    list["alarms"].as_array().unwrap().clone()
}

/// The cases opened for indicator alarms: (id, title, description, street).
pub(crate) async fn alarm_cases(server: &Server) -> Vec<(i64, String, String, Option<String>)> {
    sqlx::query_as(
        "SELECT id, title, description, street_code FROM cases
         WHERE source_id = 'alarm' AND source_ref LIKE 'indicator-alarm:%' ORDER BY id",
    )
    .fetch_all(server.store.pool())
    .await
    .unwrap()
}

/// Waits until every red alarm has its case (each instance's opener looks every second).
pub(crate) async fn cases_opened(server: &Server) -> Vec<Value> {
    for _ in 0..600 {
        let red = alarms(server, "").await;
        let red: Vec<Value> = red.into_iter().filter(|a| a["peak"] == "red").collect();
        if red.iter().all(|a| a["case_id"].is_i64()) {
            return red;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("red alarms without their case: {:?}", alarms(server, "").await);
}

/// A server on `database_url` (a fresh database: `None`) whose alarms step only as values
/// arrive and at its own threshold edits: these tests feed values observed in the past,
/// minutes apart, as a clock would have, which a check of waits against the wall clock
/// would overtake. `wait_check`: seconds between checks of waits and of thresholds edited
/// elsewhere (0: none).
pub(crate) async fn start(database_url: Option<&str>, wait_check: u64) -> Server {
    let url = match database_url {
        Some(url) => url.to_string(),
        None => fresh_database().await,
    };
    let mut config = Config::for_tests(&sample_data(), &url);
    config.indicators.wait_check_seconds = wait_check;
    Server::start_configured(config).await
}

fn minutes(base: DateTime<Utc>, m: i64) -> DateTime<Utc> {
    base + TimeDelta::minutes(m)
}

#[tokio::test]
async fn bands_with_hysteresis_and_duration_open_one_case_per_episode_across_instances() {
    let a = start(None, 0).await;
    let token = alarmed_indicator(&a).await;
    let (status, stored) = set_threshold(&a, &bands()).await;
    assert_eq!((status, &stored["version"]), (200, &json!(1)), "{stored}");
    let t0 = Utc::now() - TimeDelta::minutes(90);

    // Yellow at 0, red at 5: nothing until ten minutes after leaving green.
    push(&a, &token, minutes(t0, 0), 85.0).await;
    push(&a, &token, minutes(t0, 5), 120.0).await;
    assert!(alarms(&a, "").await.is_empty(), "held less than the duration");

    // Another instance on the same database (as after a restart) goes on from the stored
    // state: ten minutes after leaving green, red is raised.
    let b = start(Some(&a.database_url), 0).await;
    push(&b, &token, minutes(t0, 10), 120.0).await;
    let open = alarms(&a, "status=open").await;
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!((&open[0]["level"], &open[0]["peak"], &open[0]["value"]), (&json!("red"), &json!("red"), &json!(120.0)));

    // The same values pushed to both instances at once, and more red: the same episode.
    for m in [11, 12] {
        tokio::join!(push(&a, &token, minutes(t0, m), 130.0), push(&b, &token, minutes(t0, m), 130.0));
    }
    // Down to 95: above red's clear (90), so still red; 85 for four minutes is not long
    // enough to step down; back up to 125.
    for (m, v) in [(13, 95.0), (14, 85.0), (18, 85.0), (19, 125.0)] {
        push(if m % 2 == 0 { &a } else { &b }, &token, minutes(t0, m), v).await;
    }
    let red = cases_opened(&a).await;
    assert_eq!(red.len(), 1, "one episode: {red:?}");
    let cases = alarm_cases(&a).await;
    assert_eq!(cases.len(), 1, "one case for the episode: {cases:?}");
    let (case, title, description, street) = &cases[0];
    assert_eq!(red[0]["case_id"], json!(case));
    assert_eq!(title, "指标告警：测试指标 景山街道");
    assert!(description.contains("当前值 120 件，超过红线 100 件"), "{description}");
    assert!(description.contains(STREET) && description.contains("Indicator alarm"), "{description}");
    assert_eq!(street.as_deref(), Some(STREET), "the case lies in the alarm's street");

    // Better for five minutes: down to yellow (below 90, above yellow's clear 70), then
    // green for five minutes: cleared, and the episode over.
    for (m, v) in [(20, 85.0), (25, 85.0), (26, 60.0), (31, 60.0)] {
        push(&b, &token, minutes(t0, m), v).await;
    }
    let cleared = alarms(&a, "status=cleared").await;
    assert_eq!(cleared.len(), 1, "{cleared:?}");
    assert_eq!((&cleared[0]["level"], &cleared[0]["peak"]), (&json!("yellow"), &json!("red")));
    assert!(alarms(&a, "status=open").await.is_empty());

    // A second episode, raised on both instances at once: its own one case.
    for m in [40, 50] {
        tokio::join!(push(&a, &token, minutes(t0, m), 150.0), push(&b, &token, minutes(t0, m), 150.0));
    }
    let red = cases_opened(&a).await;
    assert_eq!(red.len(), 2, "two episodes: {red:?}");
    assert_ne!(red[0]["case_id"], red[1]["case_id"]);
    assert_eq!(alarm_cases(&a).await.len(), 2, "one case per episode");
    // An observation older than the last taken changes nothing.
    push(&a, &token, minutes(t0, 45), 10.0).await;
    assert_eq!(alarms(&a, "status=open").await.len(), 1);
}

#[tokio::test]
async fn alarms_are_listed_filtered_acknowledged_and_thresholds_checked() {
    let server = start(None, 0).await;
    let token = alarmed_indicator(&server).await;
    let path = format!("/api/indicators/catalogue/{ID}/threshold");
    let (status, none) = server.get_as("leader", &path).await;
    assert_eq!((status, &none["threshold"], &none["version"]), (200, &Value::Null, &json!(0)), "{none}");

    // Bad thresholds: 400 problems naming the field.
    let bad = |edit: fn(&mut Value), field: &'static str| {
        let server = &server;
        async move {
            let mut th = bands();
            edit(&mut th);
            let (status, problem) = set_threshold(server, &th).await;
            assert_eq!((status, problem["field"].as_str()), (400, Some(field)), "{problem}");
        }
    };
    bad(|th| th["red"]["clear"] = json!(110), "red.clear").await;
    bad(|th| th["red"] = json!({"raise": 50}), "red.raise").await;
    bad(|th| th["quiet"] = json!({"from": "22:00", "to": "22:00"}), "quiet.to").await;
    bad(|th| th["measure"] = json!({"kind": "change_from_baseline", "periods": 0}), "measure.periods").await;
    bad(|th| th["case_category"] = json!("9999"), "case_category").await;
    bad(|th| th["red"]["raise"] = json!("high"), "red.raise").await;
    bad(|th| th["raise_after_seconds"] = json!(-1), "raise_after_seconds").await;
    let (_, none) = server.get_as("leader", &path).await;
    assert_eq!(none["version"], 0, "nothing stored by a refusal: {none}");
    // Only `indicators.manage` sets it.
    let leader = server.token("test-leader", "leader").await;
    let (status, _) = server.put_with(&leader, &path, &bands()).await;
    assert_eq!(status, 403);

    // A plain line at once; then switched to a yellow band too (version 2, audited).
    let line = json!({"enabled": true, "measure": {"kind": "value"}, "red": {"raise": 100}});
    assert_eq!(set_threshold(&server, &line).await.0, 200);
    let now = Utc::now() - TimeDelta::minutes(30);
    push(&server, &token, minutes(now, 0), 100.0).await;
    let mut with_yellow = line.clone();
    with_yellow["yellow"] = json!({"raise": 50});
    let (status, stored) = set_threshold(&server, &with_yellow).await;
    assert_eq!((status, &stored["version"]), (200, &json!(2)), "{stored}");
    // Read again at the edit, the 100 that stands is still red: the same episode.
    let open = alarms(&server, "status=open").await;
    assert_eq!((open.len(), &open[0]["level"]), (1, &json!("red")), "{open:?}");
    let (_, read) = server.get_as("leader", &path).await;
    assert_eq!(read["threshold"]["yellow"]["raise"], 50.0, "{read}");
    let (_, audit) = server.get_as("auditor", "/api/audit?action=indicator.threshold").await;
    let records: Vec<&Value> =
        audit["records"].as_array().unwrap().iter().filter(|r| r["action"] == "indicator.threshold").collect();
    assert_eq!(records.len(), 2, "{audit}");
    push(&server, &token, minutes(now, 1), 60.0).await; // red -> yellow
    push(&server, &token, minutes(now, 2), 10.0).await; // cleared
    push(&server, &token, minutes(now, 3), 70.0).await; // a yellow episode

    let all = alarms(&server, "").await;
    assert_eq!(all.len(), 2, "{all:?}");
    let ids = |list: Vec<Value>| list.iter().map(|a| a["id"].as_i64().unwrap()).collect::<Vec<_>>();
    let (newer, older) = (all[0]["id"].as_i64().unwrap(), all[1]["id"].as_i64().unwrap());
    assert_eq!(ids(alarms(&server, "status=open").await), [newer]);
    assert_eq!(ids(alarms(&server, "status=cleared&severity=yellow").await), [older]);
    assert_eq!(ids(alarms(&server, "severity=red").await), Vec::<i64>::new());
    assert_eq!(ids(alarms(&server, &format!("indicator={ID}&region=330304")).await), [newer, older]);
    assert_eq!(ids(alarms(&server, "region=330304002").await), Vec::<i64>::new());
    assert_eq!(ids(alarms(&server, "limit=1&offset=1").await), [older]);
    let (status, problem) = server.get_as("commander", "/api/indicators/alarms?severity=purple").await;
    assert_eq!((status, problem["field"].as_str()), (400, Some("severity")), "{problem}");
    let (status, problem) = server.get_as("commander", "/api/indicators/alarms?indicator=%C2%84").await;
    assert_eq!((status, problem["field"].as_str()), (400, Some("indicator")), "{problem}");

    // Acknowledged once (audited); again changes nothing; a leader may not.
    let ack = format!("/api/indicators/alarms/{older}/acknowledge");
    let (status, _) = server.post_as("test-leader", "leader", &ack, &json!({})).await;
    assert_eq!(status, 403);
    let (status, acked) = server.post_as("test-commander", "commander", &ack, &json!({})).await;
    assert_eq!((status, &acked["acknowledged_by"]), (200, &json!("test-commander")), "{acked}");
    let (status, again) = server.post_as("test-commander", "commander", &ack, &json!({})).await;
    assert_eq!((status, &again["acknowledged_at"]), (200, &acked["acknowledged_at"]));
    assert_eq!(ids(alarms(&server, "acknowledged=true").await), [older]);
    assert_eq!(ids(alarms(&server, "acknowledged=false").await), [newer]);
    let (status, _) =
        server.post_as("test-commander", "commander", "/api/indicators/alarms/999999/acknowledge", &json!({})).await;
    assert_eq!(status, 404);
    // A street's reader sees its street's alarms only.
    let elsewhere = server.user("reader.elsewhere", &["commander"], "330304002", None).await;
    let (_, theirs) = server.get_with(&elsewhere, "/api/indicators/alarms").await;
    assert_eq!(theirs["total"], 0, "{theirs}");
    let (status, _) = server
        .client
        .post(server.url(&ack))
        .bearer_auth(&elsewhere)
        .send()
        .await
        .map(|r| (r.status().as_u16(), ()))
        .unwrap();
    assert_eq!(status, 404);
}

#[tokio::test]
async fn inside_the_quiet_window_an_alarm_is_recorded_but_its_case_waits() {
    let server = start(None, 0).await;
    let token = alarmed_indicator(&server).await;
    // A window of the two hours around now, in the city's time (UTC+8 in the sample).
    let local = Utc::now().with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap());
    let clock = |t: chrono::DateTime<chrono::FixedOffset>| t.format("%H:%M").to_string();
    let quiet = json!({"from": clock(local - TimeDelta::hours(1)), "to": clock(local + TimeDelta::hours(1))});
    let line = json!({"enabled": true, "measure": {"kind": "value"}, "red": {"raise": 100}, "quiet": quiet});
    let (status, stored) = set_threshold(&server, &line).await;
    assert_eq!(status, 200, "{stored}");
    push(&server, &token, Utc::now() - TimeDelta::minutes(1), 300.0).await;
    let open = alarms(&server, "status=open&severity=red").await;
    assert_eq!(open.len(), 1, "recorded: {open:?}");
    let after: DateTime<Utc> = open[0]["case_after"].as_str().unwrap().parse().unwrap();
    assert!(after > Utc::now() + TimeDelta::minutes(30), "the case waits for the window's end: {after}");
    // The opener takes what is due now, and this is not; an hour on, it is.
    assert!(server.store.indicator_alarms_wanting_cases(Utc::now()).await.unwrap().is_empty());
    let later = server.store.indicator_alarms_wanting_cases(Utc::now() + TimeDelta::hours(1)).await.unwrap();
    assert_eq!(later.len(), 1);
    assert!(alarm_cases(&server).await.is_empty());
    assert_eq!(open[0]["case_id"], Value::Null);
}

#[tokio::test]
async fn a_change_against_last_year_and_a_rolling_baseline_alarms_from_the_stored_series() {
    let server = start(None, 0).await;
    let token = alarmed_indicator_every(&server, "monthly").await;
    let month = |back: u32| {
        let today = Utc::now().with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap()).date_naive();
        let first = today.with_day0(0).unwrap();
        first.checked_sub_months(chrono::Months::new(back)).unwrap().to_string()
    };
    let push_period = |period: String, value: f64| {
        let body = json!({"values": [{"indicator": ID, "region": STREET, "period": period, "value": value}]});
        let request = server.client.post(server.url("/api/indicators/push/stats")).bearer_auth(&token).json(&body);
        async move { assert_eq!(request.send().await.unwrap().status().as_u16(), 200) }
    };
    // Last year's month, and the three months before this one (history: kept, not alarmed).
    push_period(month(12), 100.0).await;
    for (back, value) in [(3, 100.0), (2, 80.0), (1, 120.0)] {
        push_period(month(back), value).await;
    }
    // Red from 30% worse than last year: 125 is not, 150 is (+50%).
    let th = json!({"enabled": true, "measure": {"kind": "change_from_last_year"}, "red": {"raise": 30}});
    assert_eq!(set_threshold(&server, &th).await.0, 200);
    push_period(month(0), 125.0).await;
    assert!(alarms(&server, "").await.is_empty());
    push_period(month(0), 150.0).await;
    let open = alarms(&server, "status=open").await;
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!((&open[0]["value"], &open[0]["measure"]), (&json!(150.0), &json!(50.0)));
    let red = cases_opened(&server).await;
    let (_, _, description, _) = &alarm_cases(&server).await[0];
    assert_eq!(red.len(), 1);
    assert!(description.contains("较去年同期变化 50.0%，超过红线 30%"), "{description}");

    // Against the mean of the three months before (100): 110 is +10%, under a red of 20%:
    // the alarm clears.
    let th = json!({"enabled": true, "measure": {"kind": "change_from_baseline", "periods": 3}, "red": {"raise": 20}});
    assert_eq!(set_threshold(&server, &th).await.0, 200);
    push_period(month(0), 110.0).await;
    let cleared = alarms(&server, "status=cleared").await;
    assert_eq!((cleared.len(), &cleared[0]["measure"]), (1, &json!(10.0)), "{cleared:?}");
}

#[tokio::test]
async fn a_red_alarm_that_clears_before_its_case_is_opened_still_gets_it() {
    let server = start(None, 0).await;
    let token = alarmed_indicator(&server).await;
    let line = json!({"enabled": true, "measure": {"kind": "value"}, "red": {"raise": 100}});
    assert_eq!(set_threshold(&server, &line).await.0, 200);
    let t0 = Utc::now() - TimeDelta::minutes(10);
    push(&server, &token, t0, 300.0).await;
    push(&server, &token, minutes(t0, 1), 10.0).await;
    let cleared = alarms(&server, "status=cleared").await;
    assert_eq!(cleared.len(), 1, "{cleared:?}");
    let red = cases_opened(&server).await;
    assert_eq!((red.len(), alarm_cases(&server).await.len()), (1, 1));
}
