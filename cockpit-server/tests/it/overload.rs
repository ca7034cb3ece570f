//! Overload (issue 20, item 3): the history writer's bulk path stores what the single
//! statement stores, and a full create queue refuses with 503 and Retry-After while every
//! case answered 201 is stored.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DurationRound, TimeDelta, Utc};
use cockpit_store::{ReadingRow, Store};
use serde_json::{Value, json};
use sqlx::Connection;

use crate::common::{Server, fresh_store};

fn rows(device: &str, start: chrono::DateTime<Utc>, n: i64) -> Vec<ReadingRow> {
    let device: Arc<str> = device.into();
    (0..n)
        .flat_map(|i| {
            // Every 7 s for a while: several minutes and (from the start) two hours.
            let at = start + TimeDelta::seconds(7 * i);
            [
                ReadingRow { device_id: device.clone(), metric: "pm25_ugm3", at, value: 10.0 + (i % 13) as f64 },
                ReadingRow { device_id: device.clone(), metric: "noise_db", at, value: 40.5 - (i % 5) as f64 },
            ]
        })
        .collect()
}

async fn aggregates(store: &Store, device: &str) -> Vec<(String, String, String, i64, f64, f64, f64)> {
    sqlx::query_as(
        "SELECT metric, resolution, bucket::text, count, sum, min, max FROM reading_aggregates
         WHERE device_id = $1 ORDER BY 1, 2, 3",
    )
    .bind(device)
    .fetch_all(store.pool())
    .await
    .unwrap()
}

/// The same readings through `copy_readings` (device "copied") and `insert_readings`
/// ("inserted"), in two rounds that overlap (a redelivery): the same counts returned, the
/// same rows and the same aggregates.
#[tokio::test]
async fn copied_readings_are_stored_and_aggregated_as_the_statement_does_with_repeats_counted_once() {
    let store = fresh_store().await;
    let start =
        (Utc::now() - TimeDelta::hours(3)).duration_trunc(TimeDelta::hours(1)).unwrap() + TimeDelta::minutes(50);
    // Round one: 600 values; round two: the last 100 again (redelivered), 300 new, and one
    // value twice within the batch.
    let first = |d: &str| rows(d, start, 300);
    let second = |d: &str| {
        let mut r = rows(d, start + TimeDelta::seconds(7 * 250), 200);
        r.push(r[r.len() - 1].clone());
        r
    };
    for (device, bulk) in [("copied", true), ("inserted", false)] {
        let mut counts = Vec::new();
        for batch in [first(device), second(device)] {
            let mut tx = store.pool().begin().await.unwrap();
            let stored = if bulk {
                Store::copy_readings(&mut tx, &batch).await.unwrap()
            } else {
                Store::insert_readings(&mut tx, &batch).await.unwrap()
            };
            tx.commit().await.unwrap();
            counts.push(stored);
        }
        assert_eq!(counts, [600, 300], "{device}: new values only");
    }
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM readings WHERE device_id = 'copied'")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(n, 900);
    store.roll_up_readings(Utc::now()).await.unwrap();
    let (copied, inserted) = (aggregates(&store, "copied").await, aggregates(&store, "inserted").await);
    assert!(copied.iter().any(|a| a.1 == "hour") && copied.iter().filter(|a| a.1 == "minute").count() > 30);
    assert_eq!(copied, inserted);
    let hours: i64 = copied.iter().filter(|a| a.1 == "hour").map(|a| a.3).sum();
    assert_eq!(hours, 900, "each stored value counted once");
}

/// A create queue of 2 with the cases table locked (the writer stuck on its insert): at
/// most the writer's batch (64) and the queue (2) are taken; the rest get 503 at once,
/// with Retry-After and a problem naming the overload. Once the lock goes, every 201 is a
/// stored case and no refused one is.
#[tokio::test]
async fn a_full_create_queue_answers_503_with_retry_after_and_every_created_case_is_stored() {
    const SENT: usize = 80;
    let mut config =
        cockpit_server::Config::for_tests(&crate::common::sample_data(), &crate::common::fresh_database().await);
    config.cases.create_queue = 2;
    let server = Arc::new(Server::start_configured(config).await);
    let token = server.token("d1", "dispatcher").await;
    let mut lock = sqlx::PgConnection::connect(&server.database_url).await.unwrap();
    let mut tx = lock.begin().await.unwrap();
    sqlx::query("LOCK TABLE cases IN EXCLUSIVE MODE").execute(&mut *tx).await.unwrap();

    let answered = Arc::new(AtomicUsize::new(0));
    let mut requests = Vec::new();
    for i in 0..SENT {
        let (server, token, answered) = (server.clone(), token.clone(), answered.clone());
        requests.push(tokio::spawn(async move {
            let body = json!({"description": format!("压力测试 第{i}号"), "category": "0402", "source_ref": format!("overload-{i}")});
            let response =
                server.client.post(server.url("/api/cases")).bearer_auth(&token).json(&body).send().await.unwrap();
            let status = response.status().as_u16();
            let retry = response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
            let kind = response.headers().get("content-type").map(|v| v.to_str().unwrap().to_string());
            let body: Value = response.json().await.unwrap_or(Value::Null);
            answered.fetch_add(1, Ordering::SeqCst);
            (i, status, retry, kind, body)
        }));
    }
    // Those refused answer while the lock is held; the others wait for it.
    let least_refused = SENT - 64 - 2;
    crate::common::eventually_within(
        "the surplus is refused",
        std::time::Duration::from_secs(60),
        || async { json!(answered.load(Ordering::SeqCst)) },
        |n| n.as_u64().unwrap_or(0) >= least_refused as u64,
    )
    .await;
    tx.commit().await.unwrap();

    let mut created = Vec::new();
    let mut refused = 0;
    for request in requests {
        let (i, status, retry, kind, body) = request.await.unwrap();
        match status {
            201 => created.push(body["id"].as_i64().unwrap()),
            503 => {
                refused += 1;
                assert_eq!(retry.as_deref(), Some("1"), "{body}");
                assert_eq!(kind.as_deref(), Some("application/problem+json"));
                assert_eq!(body["type"], "/problems/overloaded", "{body}");
                assert_eq!(body["status"], 503);
                let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM cases WHERE source_ref = $1")
                    .bind(format!("overload-{i}"))
                    .fetch_one(server.store.pool())
                    .await
                    .unwrap();
                assert_eq!(stored, 0, "a refused case is not written");
            }
            other => panic!("request {i}: {other} {body}"),
        }
    }
    assert!(refused >= least_refused, "{refused} refused");
    assert_eq!(created.len() + refused, SENT);
    let stored: Vec<i64> = sqlx::query_scalar("SELECT id FROM cases WHERE id = ANY($1)")
        .bind(&created)
        .fetch_all(server.store.pool())
        .await
        .unwrap();
    assert_eq!(stored.len(), created.len(), "every 201 is stored");

    // The load gone, the queue takes creates again by itself.
    let (status, body) =
        server.post_with(&token, "/api/cases", &json!({"description": "恢复后", "category": "0402"})).await;
    assert_eq!(status, 201, "{body}");
}

type Point = (String, i64, f64, f64, f64);
/// A bucket counted by hand: count, sum, min, max.
type Bucket = (i64, f64, f64, f64);

async fn history(store: &Store, resolution: &str, from: chrono::DateTime<Utc>) -> Vec<Point> {
    let points = store.history("late", "pm25_ugm3", resolution, from, Utc::now(), 10_000).await.unwrap();
    points.into_iter().map(|p| (p.at.to_rfc3339(), p.count, p.avg, p.min, p.max)).collect()
}

/// The aggregates are added from each batch's partials a closed minute at a time, off the writer's
/// path: the history answers the same before the rollup (from the readings) and after (from
/// the aggregates), and as counted here by hand; a late value is added once to its minute
/// and hour; a batch not committed yet is left alone until it commits.
#[tokio::test]
async fn the_rollup_adds_each_stored_value_once_late_values_and_open_batches_included() {
    let store = fresh_store().await;
    let start =
        (Utc::now() - TimeDelta::hours(3)).duration_trunc(TimeDelta::hours(1)).unwrap() + TimeDelta::minutes(50);
    let written = rows("late", start, 300);
    let mut tx = store.pool().begin().await.unwrap();
    assert_eq!(Store::copy_readings(&mut tx, &written).await.unwrap(), 600);
    tx.commit().await.unwrap();

    // By hand: pm25 per minute and per hour.
    let mut by: std::collections::BTreeMap<(&str, chrono::DateTime<Utc>), Bucket> = Default::default();
    for r in written.iter().filter(|r| r.metric == "pm25_ugm3") {
        for (resolution, step) in [("minute", TimeDelta::minutes(1)), ("hour", TimeDelta::hours(1))] {
            let b = by.entry((resolution, r.at.duration_trunc(step).unwrap())).or_insert((0, 0.0, f64::MAX, f64::MIN));
            *b = (b.0 + 1, b.1 + r.value, b.2.min(r.value), b.3.max(r.value));
        }
    }
    let expected = |resolution: &str| -> Vec<Point> {
        by.iter()
            .filter(|((r, _), _)| *r == resolution)
            .map(|((_, at), (n, sum, min, max))| (at.to_rfc3339(), *n, sum / *n as f64, *min, *max))
            .collect()
    };
    let (minutes, hours) = (expected("minute"), expected("hour"));
    assert!(minutes.len() > 30 && hours.len() == 2, "{} minutes, {} hours", minutes.len(), hours.len());
    assert_eq!(history(&store, "minute", start).await, minutes, "from the readings, before the rollup");
    assert_eq!(history(&store, "hour", start - TimeDelta::hours(1)).await, hours);

    let rolled = store.roll_up_readings(Utc::now()).await.unwrap();
    assert_eq!(rolled as usize, minutes.len(), "each minute once");
    assert_eq!(store.oldest_pending_minute().await.unwrap(), None);
    assert_eq!(history(&store, "minute", start).await, minutes, "from the aggregates");
    assert_eq!(history(&store, "hour", start - TimeDelta::hours(1)).await, hours);
    let stored: i64 = sqlx::query_scalar(
        "SELECT sum(count)::bigint FROM reading_aggregates WHERE device_id = 'late' AND resolution = 'hour'",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(stored, 600);

    // A late value in the first minute (and one delivered again): its minute is pending and
    // the history shows it at once; rolled up, it is counted once in the minute and the hour.
    let late =
        ReadingRow { device_id: "late".into(), metric: "pm25_ugm3", at: start + TimeDelta::seconds(3), value: 99.0 };
    let mut tx = store.pool().begin().await.unwrap();
    assert_eq!(Store::insert_readings(&mut tx, &[late.clone(), written[0].clone()]).await.unwrap(), 1);
    tx.commit().await.unwrap();
    assert_eq!(store.oldest_pending_minute().await.unwrap(), Some(start));
    let (n, sum, min, _) = by[&("minute", start)];
    let with_late = (minutes[0].0.clone(), n + 1, (sum + 99.0) / (n + 1) as f64, min, 99.0);
    let before = history(&store, "minute", start).await;
    assert_eq!(before[0], with_late);
    assert_eq!(store.roll_up_readings(Utc::now()).await.unwrap(), 1);
    let after = history(&store, "minute", start).await;
    assert_eq!(after, before);
    let hour = history(&store, "hour", start - TimeDelta::hours(1)).await;
    assert_eq!(hour[0].1, hours[0].1 + 1, "the hour counts the late value once");
    assert_eq!(hour[0].4, 99.0);
    assert_eq!(hour[1], hours[1]);

    // A batch open in another transaction beside one committed, in the same minute: the
    // rollup adds the committed one and leaves the open one until it commits.
    let last = written.last().unwrap().at;
    let value = |s: i64| ReadingRow {
        device_id: "late".into(),
        metric: "pm25_ugm3",
        at: last + TimeDelta::seconds(s),
        value: 1.0,
    };
    let mut tx = store.pool().begin().await.unwrap();
    assert_eq!(Store::insert_readings(&mut tx, &[value(1)]).await.unwrap(), 1);
    tx.commit().await.unwrap();
    let mut writer = store.pool().begin().await.unwrap();
    assert_eq!(Store::insert_readings(&mut writer, &[value(2)]).await.unwrap(), 1);
    assert_eq!(store.roll_up_readings(Utc::now()).await.unwrap(), 1);
    let counted = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT sum(count)::bigint FROM reading_aggregates WHERE device_id = 'late' AND resolution = 'hour'",
        )
        .fetch_one(store.pool())
        .await
        .unwrap()
    };
    assert_eq!(counted().await, 602, "600, the late value and the committed one");
    writer.commit().await.unwrap();
    assert_eq!(store.oldest_pending_minute().await.unwrap(), Some(last.duration_trunc(TimeDelta::minutes(1)).unwrap()));
    assert_eq!(store.roll_up_readings(Utc::now()).await.unwrap(), 1);
    assert_eq!(counted().await, 603, "and the open batch's once it committed, each once");
    assert_eq!(store.oldest_pending_minute().await.unwrap(), None);
}
