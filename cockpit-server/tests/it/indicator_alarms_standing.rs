//! Indicator alarms on the value that stands, with no new value, over real HTTP and PostGIS:
//! raised and cleared when a minimum duration has passed (the alarm timer), and at a
//! threshold edit. A red line lowered under the value that stands raises the alarm and its
//! case at the edit; moved back, the alarm clears; switched off, it clears and says so; an
//! edit stored through one instance is acted on by another's timer, counting the minimum
//! duration from the value's time; however many instances check, each episode opens one case.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};

use cockpit_store::{AuditActor, AuditEntry};

use crate::common::Server;
use crate::indicator_alarms::{
    ID, STREET, alarm_cases, alarmed_indicator, alarmed_indicator_every, alarms, bands, cases_opened, push,
    set_threshold, start,
};

/// A plain red line at `red` for "lower is better", with the minimum durations given.
fn line(red: f64, raise_after: u32, clear_after: u32) -> Value {
    json!({
        "enabled": true, "measure": {"kind": "value"}, "red": {"raise": red},
        "raise_after_seconds": raise_after, "clear_after_seconds": clear_after
    })
}

/// The month this is, in the city's time (UTC+8 in the sample), as its first day.
fn this_month() -> String {
    let today = Utc::now().with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap()).date_naive();
    today.format("%Y-%m-01").to_string()
}

/// Makes the stored values of `ID` as if they had arrived `ago` before now.
async fn arrived_ago(server: &Server, ago: TimeDelta) {
    sqlx::query("UPDATE indicator_values SET recorded_at = now() - $2 WHERE indicator = $1")
        .bind(ID)
        .bind(ago)
        .execute(server.store.pool())
        .await
        .unwrap();
}

/// When the value of `ID` in `STREET` was stored.
async fn recorded_at(server: &Server) -> DateTime<Utc> {
    sqlx::query_scalar("SELECT recorded_at FROM indicator_values WHERE indicator = $1 AND region = $2")
        .bind(ID)
        .bind(STREET)
        .fetch_one(server.store.pool())
        .await
        .unwrap()
}

/// Polls the alarms with `query` until `done` holds of them (a minute at most).
async fn until(server: &Server, query: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    for _ in 0..300 {
        let list = alarms(server, query).await;
        if done(&list) {
            return list;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    alarms(server, query).await
}

#[tokio::test]
async fn a_line_lowered_under_the_value_that_stands_raises_at_once_and_moved_back_or_switched_off_clears() {
    // No timer: what happens, happens at the edit.
    let server = start(None, 0).await;
    let token = alarmed_indicator_every(&server, "monthly").await;
    let body = json!({"values": [{"indicator": ID, "region": STREET, "period": this_month(), "value": 85.0}]});
    let response = server
        .client
        .post(server.url("/api/indicators/push/stats"))
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    // This month's 85, in for ten days under a line at 100 (ten minutes worse to raise):
    // green.
    assert_eq!(set_threshold(&server, &line(100.0, 600, 600)).await.0, 200);
    arrived_ago(&server, TimeDelta::days(10)).await;
    assert!(alarms(&server, "").await.is_empty());

    // The line lowered to 80: 85 has been over it for ten days, longer than ten minutes, so
    // red now, with no new value, and its case opened once.
    let edited = Utc::now();
    assert_eq!(set_threshold(&server, &line(80.0, 600, 600)).await.0, 200);
    let open = alarms(&server, "status=open").await;
    assert_eq!(open.len(), 1, "raised at the edit: {open:?}");
    assert_eq!(
        (&open[0]["level"], &open[0]["value"], &open[0]["cleared_by"]),
        (&json!("red"), &json!(85.0), &Value::Null)
    );
    let opened: DateTime<Utc> = open[0]["opened_at"].as_str().unwrap().parse().unwrap();
    assert!(opened >= edited, "at the edit's moment: {open:?}");
    let red = cases_opened(&server).await;
    let cases = alarm_cases(&server).await;
    assert_eq!((red.len(), cases.len()), (1, 1), "{cases:?}");
    assert!(cases[0].2.contains("当前值 85 件，超过红线 80 件"), "{}", cases[0].2);
    // The same line again (another version) reads the same: nothing changes.
    assert_eq!(set_threshold(&server, &line(80.0, 600, 600)).await.0, 200);
    assert_eq!(alarms(&server, "").await.len(), 1);

    // Moved back over the value, which has been under it for ten days: cleared at once.
    assert_eq!(set_threshold(&server, &line(100.0, 600, 600)).await.0, 200);
    let cleared = alarms(&server, "status=cleared").await;
    assert_eq!(cleared.len(), 1, "{cleared:?}");
    assert_eq!((&cleared[0]["cleared_by"], &cleared[0]["peak"]), (&json!("edit"), &json!("red")));
    assert!(alarms(&server, "status=open").await.is_empty());

    // Lowered again: a second episode, its own one case; then switched off: cleared, and
    // its record says why.
    assert_eq!(set_threshold(&server, &line(80.0, 600, 600)).await.0, 200);
    assert_eq!(alarms(&server, "status=open").await.len(), 1);
    let red = cases_opened(&server).await;
    assert_eq!((red.len(), alarm_cases(&server).await.len()), (2, 2), "one case per episode");
    let mut off = line(80.0, 600, 600);
    off["enabled"] = json!(false);
    assert_eq!(set_threshold(&server, &off).await.0, 200);
    assert!(alarms(&server, "status=open").await.is_empty(), "switched off: nothing open");
    let all = alarms(&server, "").await;
    assert_eq!((all.len(), &all[0]["cleared_by"]), (2, &json!("disabled")), "{all:?}");
    assert_eq!(alarm_cases(&server).await.len(), 2, "no case for clearing");
}

#[tokio::test]
async fn an_edit_stored_through_one_instance_is_acted_on_by_another_once() {
    // A reads values at its edits only (no timer); B checks every second.
    let a = start(None, 0).await;
    let _b = start(Some(&a.database_url), 1).await;
    let token = alarmed_indicator(&a).await;
    assert_eq!(set_threshold(&a, &line(100.0, 2, 2)).await.0, 200);
    push(&a, &token, Utc::now(), 85.0).await;
    let arrived = recorded_at(&a).await;

    // The line lowered to 80 is stored as if by an instance that stopped before reading the
    // values: B sees the new version, and 85 is red once its two seconds from the value's
    // arrival have passed.
    let audit = AuditEntry {
        who: AuditActor::system(),
        action: "indicator.threshold".into(),
        object: format!("indicator:{ID}"),
        result: "ok".into(),
        detail: json!({}),
    };
    a.store.put_indicator_threshold(ID, &line(80.0, 2, 2), "test-admin", audit).await.unwrap();
    let open = until(&a, "status=open", |l| !l.is_empty()).await;
    assert_eq!(open.len(), 1, "B acted on the edit: {open:?}");
    assert_eq!((&open[0]["level"], &open[0]["value"]), (&json!("red"), &json!(85.0)));
    let opened: DateTime<Utc> = open[0]["opened_at"].as_str().unwrap().parse().unwrap();
    assert!(opened - arrived >= TimeDelta::seconds(2), "not before two seconds from the value: {open:?}");
    assert_eq!((cases_opened(&a).await.len(), alarm_cases(&a).await.len()), (1, 1));

    // Through A's API: moved back, cleared at the edit (A has no timer), and lowered again,
    // a second episode at the edit; B reads both versions too and changes nothing more.
    assert_eq!(set_threshold(&a, &line(100.0, 2, 2)).await.0, 200);
    let cleared = alarms(&a, "status=cleared").await;
    assert_eq!((cleared.len(), &cleared[0]["cleared_by"]), (1, &json!("edit")), "{cleared:?}");
    assert_eq!(set_threshold(&a, &line(80.0, 2, 2)).await.0, 200);
    assert_eq!(alarms(&a, "status=open").await.len(), 1, "raised at the edit");
    let red = cases_opened(&a).await;
    // B's checks go on every second; give it three.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let all = alarms(&a, "").await;
    assert_eq!((red.len(), all.len(), alarm_cases(&a).await.len()), (2, 2, 2), "one case per episode: {all:?}");
}

#[tokio::test]
async fn a_level_held_for_its_duration_is_raised_and_cleared_with_no_new_value_once_across_instances() {
    // Two instances checking waits every second.
    let a = start(None, 1).await;
    let b = start(Some(&a.database_url), 1).await;
    let token = alarmed_indicator(&a).await;
    let mut threshold = bands();
    threshold["raise_after_seconds"] = json!(2);
    threshold["clear_after_seconds"] = json!(2);
    let (status, stored) = set_threshold(&a, &threshold).await;
    assert_eq!(status, 200, "{stored}");

    // One red value, and nothing after it: red is raised once its two seconds have passed.
    let pushed = Utc::now();
    push(&a, &token, pushed, 120.0).await;
    let open = loop {
        let open = alarms(&a, "status=open").await;
        if !open.is_empty() || Utc::now() - pushed > TimeDelta::seconds(60) {
            break open;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(open.len(), 1, "raised by the wait's end, not by a value: {open:?}");
    assert_eq!((&open[0]["level"], &open[0]["value"]), (&json!("red"), &json!(120.0)));
    let opened: DateTime<Utc> = open[0]["opened_at"].as_str().unwrap().parse().unwrap();
    assert!(opened - pushed >= TimeDelta::seconds(2), "not before the wait: {open:?}");
    let red = cases_opened(&a).await;
    assert_eq!((red.len(), alarm_cases(&a).await.len()), (1, 1), "one episode, one case, two instances checking");

    // One green value: cleared when its two seconds have passed, with nothing after it.
    push(&b, &token, Utc::now(), 10.0).await;
    let cleared = loop {
        let cleared = alarms(&a, "status=cleared").await;
        if !cleared.is_empty() || Utc::now() - pushed > TimeDelta::seconds(120) {
            break cleared;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(cleared.len(), 1, "{cleared:?}");
    assert!(alarms(&a, "status=open").await.is_empty());
    assert_eq!(alarm_cases(&a).await.len(), 1, "no second case");
}
