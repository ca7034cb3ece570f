//! The deadline scheduler against real PostGIS, with the clock injected: warnings at 80 %
//! of the limit, overdue at the deadline, re-alarms every 30 minutes until acknowledged,
//! nothing for closed cases, alarms that survive a restart (they live in the database),
//! and each alarm raised exactly once when several instances tick at the same moment.
//!
//! The server under test runs its own scheduler on the real clock; the cases here fall due
//! hours after creation, so it finds nothing while these ticks run at injected times.

// A failed step of a test should stop it with the reason; helpers here are test code too.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use crate::common::Server;
use chrono::{DateTime, TimeDelta, Utc};
use cockpit_server::deadlines::{Fired, tick};
use cockpit_store::Store;
use serde_json::{Value, json};

const REALARM: TimeDelta = TimeDelta::minutes(30);

/// A new case of 0501 (管道破裂, under 05 突发事件: 2 wall-clock hours, 30 minutes when
/// critical); returns its id and the case as created.
async fn emergency(server: &Server, urgency: &str) -> (i64, Value) {
    let body = json!({"description": "路口水管爆裂，水漫路面", "category": "0501", "urgency": urgency});
    let (status, case_) = server.post_as("d1", "dispatcher", "/api/cases", &body).await;
    assert_eq!(status, 201, "{case_}");
    (case_["id"].as_i64().expect("id"), case_)
}

fn time(value: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(value.as_str().unwrap_or_else(|| panic!("not a time: {value}")))
        .expect("RFC 3339")
        .to_utc()
}

/// The case's warning point and deadline.
fn clock(case_: &Value) -> (DateTime<Utc>, DateTime<Utc>) {
    (time(&case_["deadline"]["warn_at"]), time(&case_["deadline"]["due_at"]))
}

async fn store(server: &Server) -> Store {
    Store::connect(&server.database_url, 4).await.expect("a second pool on the server's database")
}

fn fired(warnings: u64, overdue_alarms: u64) -> Fired {
    Fired { warnings, overdue_alarms }
}

/// `(kind, acknowledged)` of a case's alarms, oldest first.
async fn alarms(store: &Store, id: i64) -> Vec<(String, bool)> {
    sqlx::query_as("SELECT kind, acknowledged_at IS NOT NULL FROM case_alarms WHERE case_id = $1 ORDER BY id")
        .bind(id)
        .fetch_all(store.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn limits_follow_the_category_and_urgency() {
    let server = Server::start().await;
    for (urgency, limit, minutes) in [("normal", json!({"hours": 2}), 120), ("critical", json!({"minutes": 30}), 30)] {
        let (_, case_) = emergency(&server, urgency).await;
        let deadline = &case_["deadline"];
        assert_eq!(deadline["limit"], limit, "{urgency}");
        let started = time(&deadline["started_at"]);
        let (warn, due) = clock(&case_);
        assert_eq!(due - started, TimeDelta::minutes(minutes), "{urgency}");
        assert_eq!(warn - started, TimeDelta::minutes(minutes) * 8 / 10, "{urgency}: warning at 80 %");
        assert_eq!((deadline["state"].as_str(), case_["overdue"].as_bool()), (Some("not_due"), Some(false)));
    }
}

#[tokio::test]
async fn warning_then_overdue_then_realarms_until_acknowledged() {
    let server = Server::start().await;
    let store = store(&server).await;
    let (id, case_) = emergency(&server, "normal").await;
    let (warn, due) = clock(&case_);
    let second = TimeDelta::seconds(1);

    assert_eq!(tick(&store, warn - second, REALARM).await.unwrap(), fired(0, 0));
    assert_eq!(tick(&store, warn, REALARM).await.unwrap(), fired(1, 0));
    assert_eq!(tick(&store, warn + second, REALARM).await.unwrap(), fired(0, 0), "the warning fires once");
    assert_eq!(tick(&store, due - second, REALARM).await.unwrap(), fired(0, 0));
    let (_, before) = server.get_as("dispatcher", &format!("/api/cases/{id}")).await;
    assert_eq!(before["overdue"], false);

    assert_eq!(tick(&store, due, REALARM).await.unwrap(), fired(0, 1));
    let (_, after) = server.get_as("dispatcher", &format!("/api/cases/{id}")).await;
    assert_eq!(after["overdue"], true, "{after}");
    let (_, listed) = server.get_as("dispatcher", "/api/cases?overdue=true").await;
    assert_eq!(listed["items"][0]["id"], id);

    // Re-sent every 30 minutes after the last alarm, not before.
    assert_eq!(tick(&store, due + REALARM - second, REALARM).await.unwrap(), fired(0, 0));
    assert_eq!(tick(&store, due + REALARM, REALARM).await.unwrap(), fired(0, 1));
    assert_eq!(tick(&store, due + REALARM + second, REALARM).await.unwrap(), fired(0, 0));

    let ack = format!("/api/cases/{id}/alarms/acknowledge");
    let (status, body) = server.post_as("d1", "dispatcher", &ack, &json!({})).await;
    assert_eq!((status, &body["acknowledged"]), (200, &json!(true)), "{body}");
    for later in [2, 3, 24] {
        assert_eq!(tick(&store, due + TimeDelta::hours(later), REALARM).await.unwrap(), fired(0, 0));
    }
    let expected = [("warning", true), ("overdue", true), ("overdue", true)].map(|(k, a)| (k.to_string(), a));
    assert_eq!(alarms(&store, id).await, expected);
    // Acknowledging stops the alarms, not the fact: the case stays overdue.
    let (_, acknowledged) = server.get_as("dispatcher", &format!("/api/cases/{id}")).await;
    assert_eq!(acknowledged["overdue"], true);

    let (status, problem) =
        server.post_as("d1", "dispatcher", "/api/cases/999999/alarms/acknowledge", &json!({})).await;
    assert_eq!((status, problem["type"].as_str()), (404, Some("/problems/not-found")));
}

#[tokio::test]
async fn acknowledging_a_warning_does_not_cancel_the_deadline() {
    let server = Server::start().await;
    let store = store(&server).await;
    let (id, case_) = emergency(&server, "critical").await;
    let (warn, due) = clock(&case_);
    assert_eq!(tick(&store, warn, REALARM).await.unwrap(), fired(1, 0));
    let (status, _) =
        server.post_as("d1", "dispatcher", &format!("/api/cases/{id}/alarms/acknowledge"), &json!({})).await;
    assert_eq!(status, 200);
    // The deadline still passes and is still announced.
    assert_eq!(tick(&store, due, REALARM).await.unwrap(), fired(0, 1));
    let (_, after) = server.get_as("dispatcher", &format!("/api/cases/{id}")).await;
    assert_eq!(after["overdue"], true, "{after}");
    assert_eq!(alarms(&store, id).await, [("warning".to_string(), true), ("overdue".to_string(), false)]);
}

#[tokio::test]
async fn a_closed_case_raises_nothing() {
    let server = Server::start().await;
    let store = store(&server).await;
    let (closed, case_) = emergency(&server, "normal").await;
    let (open, _) = emergency(&server, "normal").await;
    let (warn, due) = clock(&case_);
    // The rule sent it to the emergency bureau; the bureau handles it and the centre closes.
    assert_eq!(case_["status"], "dispatched");
    let path = format!("/api/cases/{closed}/actions");
    for (user, role, action) in [
        ("h1", "department_handler", json!({"action": "accept"})),
        ("h1", "department_handler", json!({"action": "mark_handled", "summary": "阀门已关闭，管道已修复"})),
        ("d1", "dispatcher", json!({"action": "verify_and_close"})),
    ] {
        let (status, body) = server.post_as(user, role, &path, &action).await;
        assert_eq!(status, 200, "{action}: {body}");
    }
    // Only the open one, which was created a moment later, is warned and alarmed.
    let later = TimeDelta::minutes(1);
    assert_eq!(tick(&store, warn + later, REALARM).await.unwrap(), fired(1, 0));
    assert_eq!(tick(&store, due + later, REALARM).await.unwrap(), fired(0, 1));
    assert_eq!(tick(&store, due + TimeDelta::days(3), REALARM).await.unwrap(), fired(0, 1));
    assert_eq!(alarms(&store, closed).await, []);
    assert_eq!(alarms(&store, open).await.len(), 3);
    let (_, closed_case) = server.get_as("dispatcher", &format!("/api/cases/{closed}")).await;
    assert_eq!((closed_case["status"].as_str(), closed_case["overdue"].as_bool()), (Some("closed"), Some(false)));
}

#[tokio::test]
async fn alarms_fire_from_the_database_after_a_restart() {
    let server = Server::start().await;
    let (id, case_) = emergency(&server, "normal").await;
    let (warn, due) = clock(&case_);
    let before = store(&server).await;
    assert_eq!(tick(&before, warn, REALARM).await.unwrap(), fired(1, 0));
    before.pool().close().await;
    drop(before);

    // A new process: nothing in memory, only what the database holds.
    let after = store(&server).await;
    assert_eq!(tick(&after, warn + TimeDelta::minutes(5), REALARM).await.unwrap(), fired(0, 0), "warned already");
    assert_eq!(tick(&after, due + TimeDelta::minutes(5), REALARM).await.unwrap(), fired(0, 1));
    after.pool().close().await;
    drop(after);
    let again = store(&server).await;
    assert_eq!(tick(&again, due + TimeDelta::minutes(20), REALARM).await.unwrap(), fired(0, 0), "re-alarm not yet due");
    assert_eq!(tick(&again, due + TimeDelta::minutes(35), REALARM).await.unwrap(), fired(0, 1));
    assert_eq!(alarms(&again, id).await.len(), 3);
}

#[tokio::test]
async fn each_alarm_fires_once_across_instances() {
    const CASES: usize = 50;
    let server = Server::start().await;
    let (mut latest_warn, mut latest_due) = (None, None);
    for _ in 0..CASES {
        let (_, case_) = emergency(&server, "normal").await;
        let (warn, due) = clock(&case_);
        (latest_warn, latest_due) = (latest_warn.max(Some(warn)), latest_due.max(Some(due)));
    }
    let (a, b) = (store(&server).await, store(&server).await);
    // Two instances, two ticks each, at the same moment: first past every warning point
    // (the earliest deadline is still 20 minutes off), then past every deadline.
    let mut totals = Vec::new();
    for now in [latest_warn, latest_due].map(|t| t.expect("cases") + TimeDelta::seconds(1)) {
        let (a1, b1, a2, b2) = tokio::join!(
            tick(&a, now, REALARM),
            tick(&b, now, REALARM),
            tick(&a, now, REALARM),
            tick(&b, now, REALARM)
        );
        let all = [a1.unwrap(), b1.unwrap(), a2.unwrap(), b2.unwrap()];
        totals.push((all.iter().map(|f| f.warnings).sum::<u64>(), all.iter().map(|f| f.overdue_alarms).sum::<u64>()));
    }
    assert_eq!(totals, [(CASES as u64, 0), (0, CASES as u64)]);

    let rows: Vec<(i64, String, i64)> =
        sqlx::query_as("SELECT case_id, kind, count(*) FROM case_alarms GROUP BY case_id, kind ORDER BY case_id, kind")
            .fetch_all(a.pool())
            .await
            .unwrap();
    assert_eq!(rows.len(), 2 * CASES);
    assert!(rows.iter().all(|(_, _, n)| *n == 1), "{rows:?}");

    // And the next round, once more from both.
    let next = latest_due.expect("cases") + TimeDelta::seconds(1) + REALARM;
    let (a3, b3) = tokio::join!(tick(&a, next, REALARM), tick(&b, next, REALARM));
    let (a3, b3) = (a3.unwrap(), b3.unwrap());
    assert_eq!((a3.warnings + b3.warnings, a3.overdue_alarms + b3.overdue_alarms), (0, CASES as u64));
}

/// Can another transaction take the lock a reference to case `id` needs (a duplicate's
/// `duplicate_of`, a timeline entry: `FOR KEY SHARE`) right now, without waiting?
async fn referable(store: &Store, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT id FROM cases WHERE id = $1 FOR KEY SHARE NOWAIT")
        .bind(id)
        .fetch_one(store.pool())
        .await
        .map(drop)
}

/// A case whose alarm is being raised, or that is being acted on, still takes references:
/// a duplicate created at that moment holds the live log's counter and then checks its
/// `duplicate_of`, while the alarm holds the case and waits for the counter. With the
/// case locked `FOR UPDATE` that was a deadlock (the kill test behind HAProxy met it as a
/// 500 on a create); claims lock `FOR NO KEY UPDATE`, which references do not wait for.
#[tokio::test]
async fn an_alarm_being_raised_or_an_action_does_not_hold_off_references_to_the_case() {
    let server = Server::start().await;
    let (id, case_) = emergency(&server, "normal").await;
    let (_, due) = clock(&case_);
    let (a, b) = (store(&server).await, store(&server).await);
    // Something else is writing the live log: the tick claims the case, then waits.
    let mut writer = a.pool().begin().await.unwrap();
    sqlx::query("SELECT last FROM live_head FOR UPDATE").fetch_one(&mut *writer).await.unwrap();
    let ticking = tokio::spawn(async move { tick(&b, due + TimeDelta::seconds(1), REALARM).await });
    let waiting = "SELECT count(*) FROM pg_stat_activity
                   WHERE datname = current_database() AND wait_event_type = 'Lock'
                     AND query LIKE '%UPDATE live_head SET last = last + $1%'";
    for _ in 0..600 {
        if sqlx::query_scalar::<_, i64>(waiting).fetch_one(a.pool()).await.unwrap() > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        sqlx::query_scalar::<_, i64>(waiting).fetch_one(a.pool()).await.unwrap(),
        1,
        "the tick waits for the log"
    );
    let probe = store(&server).await;
    referable(&probe, id).await.expect("a duplicate may reference the case while its alarm is raised");
    writer.rollback().await.unwrap();
    assert_eq!(ticking.await.unwrap().unwrap(), fired(1, 1));

    // The same for an action's lock on its case.
    let mut acting = a.pool().begin().await.unwrap();
    let locked = Store::case_for_update(&mut acting, cockpit_events::CaseId(id)).await.unwrap();
    assert!(locked.is_some());
    referable(&probe, id).await.expect("a duplicate may reference the case while it is acted on");
    acting.rollback().await.unwrap();
}
