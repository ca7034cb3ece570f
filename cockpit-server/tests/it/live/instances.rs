//! Streams across instances and restarts: the same offsets on every instance sharing the
//! database, a notification for every commit, and "not recovered" once a restart's
//! history no longer reaches back.

use super::*;

#[tokio::test]
async fn a_restart_resumes_while_the_history_reaches_back_and_says_not_recovered_after() {
    let database_url = crate::common::fresh_database().await;
    let mut config = cockpit_server::Config::for_tests(&sample_data(), &database_url);
    config.live.history = 5;
    let first = Instance::start(config.clone()).await;
    let server = Server::start_on(&sample_data(), &database_url).await;
    let commander = server.token("restart-commander", "commander").await;
    let mut ws = Ws::connect(first.addr, &commander).await;
    let snapshot = ws.subscribe("a", "alarms", json!({}), None).await;
    let epoch = snapshot[0]["epoch"].as_u64().unwrap();
    publish(&server.store, &[alarm(0, 0), alarm(1, 0)]).await.unwrap();
    let seen = ws.until(|v| v["data"]["n"] == 1).await;
    let last = seen.last().unwrap()["offset"].as_u64().unwrap();
    // The server stops: the client is told, then two alarms happen while it is down.
    first.stop().await;
    let end = loop {
        if let Err(end) = ws.next_or_end().await {
            break end;
        }
    };
    assert_eq!(end, End::Closed(1001, "server shutting down".into()));
    publish(&server.store, &[alarm(2, 0), alarm(3, 0)]).await.unwrap();
    let second = Instance::start(config.clone()).await;
    // Within the history (loaded from the database): resumed, nothing lost.
    let mut ws = Ws::connect(second.addr, &commander).await;
    let answer = ws.subscribe("a", "alarms", json!({}), Some((epoch, last))).await;
    assert_eq!(answer[0]["type"], "resumed", "{answer:?}");
    let got = ws.until(|v| v["data"]["n"] == 3).await;
    assert_eq!(got.iter().map(|v| v["data"]["n"].as_u64().unwrap()).collect::<Vec<_>>(), [2, 3]);
    // Another epoch (a reset log): not recovered, with a fresh snapshot.
    let answer = ws.subscribe("b", "alarms", json!({}), Some((epoch + 1, last))).await;
    assert_eq!(answer[0]["reason"], "epoch_changed");
    assert_eq!(answer[1]["type"], "snapshot");
    // Down again while more than the history holds happens: explicitly not recovered.
    drop(ws);
    second.stop().await;
    publish(&server.store, &(10..20).map(|n| alarm(n, 0)).collect::<Vec<_>>()).await.unwrap();
    let third = Instance::start(config).await;
    let mut ws = Ws::connect(third.addr, &commander).await;
    let answer = ws.subscribe("a", "alarms", json!({}), Some((epoch, last))).await;
    assert_eq!((answer[0]["type"].as_str(), answer[0]["reason"].as_str()), (Some("not_recovered"), Some("too_old")));
    let snapshot = &answer[1];
    assert_eq!(snapshot["type"], "snapshot");
    let keys: BTreeSet<&str> =
        snapshot["items"].as_array().unwrap().iter().map(|i| i["key"].as_str().unwrap()).collect();
    assert!(keys.contains("alarm-0") && keys.contains("alarm-19"), "the latest of every alarm: {keys:?}");
    third.stop().await;
}

#[tokio::test]
async fn a_change_made_through_one_instance_reaches_clients_of_another_with_the_same_offset() {
    let database_url = crate::common::fresh_database().await;
    let a = Server::start_on(&sample_data(), &database_url).await;
    let b = Server::start_on(&sample_data(), &database_url).await;
    let ((lon, lat), _, _) = points(&a).await;
    let dispatcher = a.token("cross-dispatcher", "dispatcher").await;
    let mut on_a = Ws::connect(a.addr, &dispatcher).await;
    let mut on_b = Ws::connect(b.addr, &dispatcher).await;
    let snap_b = on_b.subscribe("c", "cases", json!({}), None).await;
    on_a.subscribe("c", "cases", json!({}), None).await;
    on_b.subscribe("a", "alarms", json!({}), None).await;
    // A case created through A, an alarm published by a third party.
    let case = create_case(&a, &dispatcher, lon, lat, "跨实例").await;
    publish(&a.store, &[alarm(7, 0)]).await.unwrap();
    let via_b = on_b.until(|v| v["channel"] == "alarms" && v["type"] == "delta").await;
    let case_b = via_b.iter().find(|v| v["channel"] == "cases").expect("the case reached B");
    assert_eq!(case_b["data"]["id"], case["id"]);
    let case_a = on_a.until(|v| v["type"] == "delta").await.pop().unwrap();
    assert_eq!(
        (case_a["epoch"].clone(), case_a["offset"].clone()),
        (case_b["epoch"].clone(), case_b["offset"].clone())
    );
    // A client of A resumes on B with A's offsets.
    drop(on_a);
    let (status, _) = b
        .post_with(
            &dispatcher,
            &format!("/api/cases/{}/actions", case["id"]),
            &json!({"action": "supervise", "note": "跨实例督办"}),
        )
        .await;
    assert_eq!(status, 200);
    let mut again = Ws::connect(b.addr, &dispatcher).await;
    let epoch = snap_b[0]["epoch"].as_u64().unwrap();
    let answer = again.subscribe("c", "cases", json!({}), Some((epoch, case_a["offset"].as_u64().unwrap()))).await;
    assert_eq!(answer[0]["type"], "resumed", "{answer:?}");
    let next = again.next().await;
    assert_eq!((next["type"].as_str(), next["key"].clone()), (Some("delta"), json!(format!("case:{}", case["id"]))));
    assert!(next["offset"].as_u64() > case_a["offset"].as_u64());
}

/// Every instance follows the log by LISTEN: a create's commit must notify, with the
/// log's new last offset, or the other instances' clients wait for the next poll.
#[tokio::test]
async fn a_created_case_notifies_every_instance_with_its_offset() {
    let server = Server::start().await;
    let ((lon, lat), _, _) = points(&server).await;
    let dispatcher = server.token("notify-dispatcher", "dispatcher").await;
    let mut listener = sqlx::postgres::PgListener::connect(&server.database_url).await.unwrap();
    listener.listen("cockpit_live").await.unwrap();
    let case = create_case(&server, &dispatcher, lon, lat, "占道经营通知").await;
    let store = cockpit_store::Store::connect(&server.database_url, 1).await.unwrap();
    let (seq,): (i64,) = sqlx::query_as("SELECT seq FROM live_log WHERE key = $1")
        .bind(format!("case:{}", case["id"]))
        .fetch_one(store.pool())
        .await
        .unwrap();
    // Notifications come in commit order, each naming the last offset of its commit: the
    // first that reaches the create's entry is the create's own.
    let reached = loop {
        let notification = tokio::time::timeout(Duration::from_secs(10), listener.recv())
            .await
            .expect("a notification, not only the poll")
            .unwrap();
        let last: i64 = notification.payload().parse().unwrap();
        if last >= seq {
            break last;
        }
    };
    assert_eq!(reached, seq);
}

/// A client coming from another instance (its own killed behind a load balancer) may have
/// seen offsets this instance's follower has not read yet: it is resumed once this instance
/// has read the log that far, not refused as ahead (which sent a snapshot, and then
/// deltas it had seen before).
#[tokio::test]
async fn a_resume_from_offsets_this_instance_has_not_read_yet_is_resumed() {
    let server = Server::start().await;
    let commander = server.token("ahead-commander", "commander").await;
    let mut first = Ws::connect(server.addr, &commander).await;
    let snapshot = first.subscribe("a", "alarms", json!({}), None).await;
    let epoch = snapshot[0]["epoch"].as_u64().unwrap();
    // Logged as another instance would, but without the notification: this instance
    // would read it only at its next poll.
    let (seq,): (i64,) = sqlx::query_as(
        "WITH h AS (UPDATE live_head SET last = last + 1 RETURNING last)
         INSERT INTO live_log (seq, channel, key, regions, payload)
         SELECT last, 'alarms', 'alarm-elsewhere', '{}', '{}' FROM h RETURNING seq",
    )
    .fetch_one(server.store.pool())
    .await
    .unwrap();
    let mut moved = Ws::connect(server.addr, &commander).await;
    let answer = moved.subscribe("a", "alarms", json!({}), Some((epoch, seq as u64))).await;
    assert_eq!(answer[0]["type"], "resumed", "{answer:?}");
    // What comes next follows that offset.
    publish(&server.store, &[alarm(1, 0)]).await.unwrap();
    let next = moved.until(|v| v["type"] == "delta").await.pop().unwrap();
    assert_eq!(next["offset"].as_u64(), Some(seq as u64 + 1), "{next}");
}
