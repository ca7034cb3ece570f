//! Each channel's stream for one reader: snapshot then deltas in order, resume with no
//! gap and no duplicate, alarms, device values (coalesced), statistics, indicators and
//! deadlines, malformed messages, a slow client cut off, idle and ended sessions, and a
//! grid worker's own tasks.

use super::*;

#[tokio::test]
async fn snapshot_then_deltas_in_order_then_resume_with_no_gap_and_no_duplicate() {
    let server = Server::start().await;
    let ((lon, lat), _, _) = points(&server).await;
    let dispatcher = server.token("live-dispatcher", "dispatcher").await;
    let first = create_case(&server, &dispatcher, lon, lat, "占道经营一").await;

    let mut ws = Ws::connect(server.addr, &dispatcher).await;
    let answer = ws.subscribe("c", "cases", json!({"region": "330304001"}), None).await;
    let snapshot = &answer[0];
    assert_eq!(snapshot["type"], "snapshot", "{snapshot}");
    let epoch = snapshot["epoch"].as_u64().unwrap();
    let start = snapshot["offset"].as_u64().unwrap();
    let item = snapshot["items"].as_array().unwrap().iter().find(|c| c["id"] == first["id"]).expect("in the snapshot");
    // Exactly what GET /api/cases/{id} shows this user, without the timeline, the
    // attachments and the names of the people in them (the detail's own: a client keeps
    // the names it has learned from the REST answers); masked.
    let (_, mut shown) = server.get_with(&dispatcher, &format!("/api/cases/{}", first["id"])).await;
    for detail_only in ["timeline", "attachments", "names"] {
        shown.as_object_mut().unwrap().remove(detail_only);
    }
    assert_eq!(item, &shown);
    assert!(!snapshot.to_string().contains("13600006666"));

    // Three changes, seen in order.
    let second = create_case(&server, &dispatcher, lon, lat, "占道经营二").await;
    let third = create_case(&server, &dispatcher, lon, lat, "占道经营三").await;
    let (status, _) = server
        .post_with(
            &dispatcher,
            &format!("/api/cases/{}/actions", second["id"]),
            &json!({"action": "supervise", "note": "加快"}),
        )
        .await;
    assert_eq!(status, 200);
    let mut deltas = ws
        .until(|v| {
            v["type"] == "delta"
                && v["key"] == format!("case:{}", second["id"])
                && v["offset"].as_u64().unwrap() > start + 2
        })
        .await;
    // A change the snapshot already shows may follow it (documented: deltas are upserts).
    deltas.retain(|d| d["key"] != format!("case:{}", first["id"]));
    let seen = offsets(&deltas);
    assert_eq!(seen.len(), 3, "{deltas:?}");
    assert!(seen.windows(2).all(|w| w[0] < w[1]) && seen[0] > start, "{seen:?}");
    let keys: Vec<&str> = deltas.iter().map(|d| d["key"].as_str().unwrap()).collect();
    let k = |c: &Value| format!("case:{}", c["id"]);
    assert_eq!(keys, [k(&second), k(&third), k(&second)]);
    let last = deltas.last().unwrap();
    assert_eq!(last["epoch"].as_u64(), Some(epoch));
    assert_eq!(last["data"]["id"], second["id"]);
    let (_, mut shown) = server.get_with(&dispatcher, &format!("/api/cases/{}", second["id"])).await;
    for detail_only in ["timeline", "attachments", "names"] {
        shown.as_object_mut().unwrap().remove(detail_only);
    }
    // Except which case it duplicates: one text goes to every subscriber, so the stream
    // says only that it is one (GET names the case to whoever may see it).
    assert_eq!((&shown["duplicate"], &shown["duplicate_of"]), (&json!(true), &first["id"]), "{shown}");
    assert_eq!(last["data"]["duplicate_of"], Value::Null);
    shown["duplicate_of"] = Value::Null;
    assert_eq!(last["data"], shown, "a delta shows the case as GET does, allowed actions included");
    assert!(!last.to_string().contains("13600006666"));

    // The connection drops after the second delta; two more changes happen meanwhile.
    let resume_from = seen[1];
    drop(ws);
    let fourth = create_case(&server, &dispatcher, lon, lat, "占道经营四").await;
    let (status, _) = server
        .post_with(
            &dispatcher,
            &format!("/api/cases/{}/actions", third["id"]),
            &json!({"action": "supervise", "note": "督办"}),
        )
        .await;
    assert_eq!(status, 200);
    let mut ws = Ws::connect(server.addr, &dispatcher).await;
    let answer = ws.subscribe("c", "cases", json!({"region": "330304001"}), Some((epoch, resume_from))).await;
    assert_eq!(answer[0]["type"], "resumed", "{answer:?}");
    assert_eq!(answer[0]["from"].as_u64(), Some(resume_from));
    let missed = ws
        .until(|v| {
            v["type"] == "delta"
                && v["key"] == k(&third)
                && v["data"]["timeline"].is_null()
                && v["offset"].as_u64().unwrap() > seen[2]
        })
        .await;
    let got = offsets(&missed);
    // Every change after the resume point exactly once: the second's supervision, the
    // fourth's creation, the third's supervision.
    let expected: Vec<u64> = {
        let rows: Vec<(i64,)> =
            sqlx::query_as("SELECT seq FROM live_log WHERE channel = 'cases' AND seq > $1 ORDER BY seq")
                .bind(resume_from as i64)
                .fetch_all(server.store.pool())
                .await
                .unwrap();
        rows.into_iter().map(|r| r.0 as u64).collect()
    };
    assert_eq!(got, expected);
    assert_eq!(got.len(), 3);
    let keys: Vec<&str> = missed.iter().filter(|m| m["type"] == "delta").map(|d| d["key"].as_str().unwrap()).collect();
    assert_eq!(keys, [k(&second), k(&fourth), k(&third)]);
    assert!(ws.drain().await.is_empty(), "nothing more");
}

#[tokio::test]
async fn alarms_and_device_values_arrive_through_the_publishing_api_devices_coalesced() {
    let server = Server::start().await;
    let grid = "330304001002001";
    let commander = server.token("pub-commander", "commander").await;
    publish(&server.store, &[device("wl-before", grid, (120.64, 27.97), 1.0)]).await.unwrap();
    let mut ws = Ws::connect(server.addr, &commander).await;
    let snapshot = ws
        .subscribe("d", "devices", json!({"bbox": [120.6, 27.9, 120.7, 28.0], "layer": "water_level_river"}), None)
        .await;
    let items = snapshot[0]["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{snapshot:?}");
    assert_eq!((items[0]["key"].as_str(), items[0]["data"]["level_m"].as_f64()), (Some("wl-before"), Some(1.0)));
    let alarms = ws.subscribe("a", "alarms", json!({"region": "330304001"}), None).await;
    assert_eq!(alarms[0]["type"], "snapshot");

    // Fifty values of one gauge in one go, one outside the box, and three alarms.
    let values: Vec<Update> = (0..50).map(|n| device("wl-1", grid, (120.64, 27.97), f64::from(n))).collect();
    publish(&server.store, &values).await.unwrap();
    publish(&server.store, &[device("wl-far", grid, (121.5, 27.97), 9.0)]).await.unwrap();
    let alarm = |n: u32| Update {
        channel: Channel::Alarms,
        key: format!("alarm-{n}"),
        regions: Place::from_codes(Some("330304001".into()), None, None),
        position: None,
        layer: None,
        payload: json!({"rule": "level_high", "n": n}),
    };
    publish(&server.store, &[alarm(1), alarm(2), alarm(3)]).await.unwrap();
    let got = ws.until(|v| v["key"] == "alarm-3").await;
    let alarms: Vec<u64> =
        got.iter().filter(|v| v["channel"] == "alarms").map(|v| v["data"]["n"].as_u64().unwrap()).collect();
    assert_eq!(alarms, [1, 2, 3], "never coalesced");
    // Devices: the latest value always arrives, intermediate ones may be skipped. The
    // first gauge's own delta may follow its snapshot (at least once, by offset).
    let mut devices: Vec<Value> =
        got.into_iter().filter(|v| v["channel"] == "devices" && v["key"] != "wl-before").collect();
    while devices.last().is_none_or(|d| d["data"]["level_m"] != 49.0) {
        let v = ws.next().await;
        if v["key"] != "wl-before" {
            devices.push(v);
        }
    }
    assert!(devices.len() < 50, "coalesced: {} values sent", devices.len());
    assert!(devices.iter().all(|d| d["key"] == "wl-1"), "the far gauge is outside the box");
    let offsets: Vec<u64> = devices.iter().map(|d| d["offset"].as_u64().unwrap()).collect();
    assert!(offsets.windows(2).all(|w| w[0] < w[1]));
    // A publish to the cases channel is refused: cases log themselves.
    let mut wrong = alarm(9);
    wrong.channel = Channel::Cases;
    assert!(publish(&server.store, &[wrong]).await.is_err());
}

#[tokio::test]
async fn malformed_messages_get_error_frames_and_subscriptions_are_bounded() {
    let server = Server::start().await;
    let commander = server.token("proto-commander", "commander").await;
    let mut ws = Ws::connect(server.addr, &commander).await;
    for (text, code) in [
        ("not json", "malformed"),
        (r#"{"type": "shout"}"#, "malformed"),
        (r#"{"type": "subscribe", "id": "x", "channel": "weather"}"#, "malformed"),
        (r#"{"type": "subscribe", "id": "", "channel": "cases"}"#, "bad_id"),
        (r#"{"type": "subscribe", "id": "x", "channel": "cases", "filter": {"bbox": [0, 0, 1, 1]}}"#, "bad_filter"),
        (r#"{"type": "subscribe", "id": "x", "channel": "cases", "filter": {"region": "999999999"}}"#, "bad_filter"),
        (r#"{"type": "unsubscribe", "id": "nope"}"#, "unknown_id"),
    ] {
        ws.stream.send(Message::text(text)).await.unwrap();
        let answer = ws.next().await;
        assert_eq!((answer["type"].as_str(), answer["code"].as_str()), (Some("error"), Some(code)), "{text}: {answer}");
    }
    ws.stream.send(Message::binary(vec![0u8, 1, 2])).await.unwrap();
    assert_eq!(ws.next().await["code"], "binary");
    ws.stream.send(Message::text(format!(r#"{{"type":"ping","pad":"{}"}}"#, "x".repeat(9000)))).await.unwrap();
    assert_eq!(ws.next().await["code"], "too_large");
    for n in 0..16 {
        let answer = ws.subscribe(&format!("s{n}"), "indicators", json!({}), None).await;
        assert_eq!(answer[0]["type"], "snapshot");
        let items = answer[0]["items"].as_array().unwrap();
        assert!(items.iter().any(|i| i["level"] == "district"), "the district's indicators: {}", answer[0]);
    }
    let answer = ws.subscribe("s16", "indicators", json!({}), None).await;
    assert_eq!(answer[0]["code"], "too_many_subscriptions");
    let answer = ws.subscribe("s0", "alarms", json!({}), None).await;
    assert_eq!(answer[0]["code"], "duplicate_id");
    ws.send(json!({"type": "unsubscribe", "id": "s0"})).await;
    assert_eq!(ws.next().await, json!({"type": "unsubscribed", "id": "s0"}));
    let answer = ws.subscribe("s16", "statistics", json!({}), Some((1, 1))).await;
    assert_eq!((answer[0]["type"].as_str(), answer[0]["reason"].as_str()), (Some("not_recovered"), Some("state_only")));
    assert_eq!(answer[1]["type"], "snapshot");
    // Still up.
    ws.send(json!({"type": "ping"})).await;
    assert_eq!(ws.next().await, json!({"type": "pong"}));
}

#[tokio::test]
async fn a_slow_client_is_cut_off_with_its_queue_bounded_and_resumes_by_offset() {
    let database_url = crate::common::fresh_database().await;
    let mut config = cockpit_server::Config::for_tests(&sample_data(), &database_url);
    config.live.queue = 16;
    config.live.write_timeout_seconds = 2;
    let instance = Instance::start(config).await;
    let server = Server::start_on(&sample_data(), &database_url).await; // for users and the store
    let commander = server.token("slow-commander", "commander").await;
    let mut slow = Ws::connect(instance.addr, &commander).await;
    let snapshot = slow.subscribe("a", "alarms", json!({}), None).await;
    let epoch = snapshot[0]["epoch"].as_u64().unwrap();
    // The client stops reading; 4,000 alarms of 4 KB (16 MB) are published meanwhile.
    const TOTAL: u32 = 4000;
    let client = reqwest::Client::new();
    let status = |addr| {
        let client = client.clone();
        let token = commander.clone();
        async move {
            let r = client.get(format!("http://{addr}/api/live/status")).bearer_auth(token).send().await.unwrap();
            r.json::<Value>().await.unwrap()
        }
    };
    let mut largest = 0;
    for batch in 0..(TOTAL / 200) {
        let updates: Vec<Update> = (batch * 200..(batch + 1) * 200).map(|n| alarm(n, 4096)).collect();
        publish(&server.store, &updates).await.unwrap();
        let s = status(instance.addr).await;
        largest = largest.max(s["largest_queue"].as_u64().unwrap());
    }
    assert!(largest <= 16, "the queue stayed bounded: {largest}");
    // Reading now: what was buffered, then the close with its reason (or the cut).
    let mut received = Vec::new();
    let end = loop {
        match slow.next_or_end().await {
            Ok(v) => received.push(v),
            Err(end) => break end,
        }
    };
    assert!(matches!(&end, End::Closed(4008, reason) if reason == "behind") || end == End::Dropped, "{end:?}");
    let got: Vec<u64> =
        received.iter().filter(|v| v["type"] == "delta").map(|v| v["data"]["n"].as_u64().unwrap()).collect();
    assert!((got.len() as u32) < TOTAL, "it was cut off before the end");
    assert!(got.iter().enumerate().all(|(i, n)| *n == i as u64), "in order, no gap");
    // It resumes from the last offset it saw: everything else, once.
    let last = received.iter().rev().find(|v| v["type"] == "delta").map(|v| v["offset"].as_u64().unwrap());
    let last = last.unwrap_or(snapshot[0]["offset"].as_u64().unwrap());
    let mut ws = Ws::connect(instance.addr, &commander).await;
    let answer = ws.subscribe("a", "alarms", json!({}), Some((epoch, last))).await;
    assert_eq!(answer[0]["type"], "resumed", "{:?}", answer[0]);
    let rest = ws.until(|v| v["data"]["n"] == TOTAL - 1).await;
    let rest: Vec<u64> =
        rest.iter().filter(|v| v["type"] == "delta").map(|v| v["data"]["n"].as_u64().unwrap()).collect();
    let all: Vec<u64> = got.iter().chain(&rest).copied().collect();
    assert_eq!(all, (0..u64::from(TOTAL)).collect::<Vec<_>>(), "every alarm exactly once");
    instance.stop().await;
}

#[tokio::test]
async fn deadline_warnings_and_overdue_alarms_reach_the_alarms_and_cases_channels() {
    let server = Server::start().await;
    let ((lon, lat), _, _) = points(&server).await;
    let dispatcher = server.token("deadline-dispatcher", "dispatcher").await;
    let case = create_case(&server, &dispatcher, lon, lat, "超期测试").await;
    let due: chrono::DateTime<chrono::Utc> = case["deadline"]["due_at"].as_str().unwrap().parse().unwrap();
    let mut ws = Ws::connect(server.addr, &dispatcher).await;
    ws.subscribe("a", "alarms", json!({"region": "330304001"}), None).await;
    ws.subscribe("c", "cases", json!({}), None).await;
    // The scheduler's tick, as every instance runs it, at the deadline.
    let fired = cockpit_server::deadlines::tick(&server.store, due, chrono::TimeDelta::minutes(30)).await.unwrap();
    assert_eq!((fired.warnings, fired.overdue_alarms), (1, 1));
    // In log order: the case warned, the warning, the case overdue, the overdue alarm.
    let got = ws.until(|v| v["channel"] == "alarms" && v["data"]["kind"] == "overdue").await;
    let alarms: Vec<&Value> = got.iter().filter(|v| v["channel"] == "alarms").collect();
    assert_eq!(alarms.len(), 2, "{got:?}");
    assert_eq!(alarms[0]["key"], format!("case:{}:warning", case["id"]));
    assert_eq!(alarms[1]["data"]["case_id"], case["id"]);
    let changed: Vec<&Value> = got.iter().filter(|v| v["channel"] == "cases").collect();
    assert!(changed.last().is_some_and(|c| c["data"]["overdue"] == true && c["data"]["id"] == case["id"]), "{got:?}");
}

#[tokio::test]
async fn statistics_follow_the_cases_of_today_per_region_and_status() {
    let server = Server::start().await;
    let ((lon, lat), _, _) = points(&server).await;
    let dispatcher = server.token("stats-dispatcher", "dispatcher").await;
    let leader = server.user("stats-leader", &["leader"], "330304001", None).await;
    let mut ws = Ws::connect(server.addr, &leader).await;
    let snapshot = ws.subscribe("s", "statistics", json!({}), None).await;
    assert_eq!(snapshot[0]["type"], "snapshot");
    create_case(&server, &dispatcher, lon, lat, "统计一").await;
    create_case(&server, &dispatcher, lon, lat, "统计二").await;
    // Recomputed at most once a second: a replace that counts both, in the street.
    let total = |v: &Value| -> i64 {
        v["data"]["items"]
            .as_array()
            .map(|items| items.iter().filter(|r| r["level"] == "street").map(|r| r["count"].as_i64().unwrap()).sum())
            .unwrap_or(0)
    };
    let got = ws.until(|v| v["type"] == "delta" && total(v) == 2).await;
    let last = got.last().unwrap();
    assert_eq!((last["op"].as_str(), last["key"].as_str()), (Some("replace"), Some("statistics")));
    let items = last["data"]["items"].as_array().unwrap();
    assert!(items.iter().all(|r| r["region"].as_str().unwrap().starts_with("330304001")), "{items:?}");
    assert!(items.iter().any(|r| r["level"] == "grid"), "every level: {items:?}");
}

#[tokio::test]
async fn a_sensor_reading_over_mqtt_reaches_the_device_and_alarm_streams() {
    let server = Server::start().await;
    let commander = server.token("mqtt-commander", "commander").await;
    let (_, village) = server.get("/api/regions/330304001002").await;
    let grid = village["properties"]["children"][0].clone();
    let (lon, lat) = (grid["centre"][0].as_f64().unwrap(), grid["centre"][1].as_f64().unwrap());
    let (status, device) = server
        .post_as(
            "mqtt-admin",
            "system_administrator",
            "/api/devices",
            &json!({"id": "smk-live", "type": "smoke", "lon": lon, "lat": lat}),
        )
        .await;
    assert_eq!(status, 201, "{device}");
    let password = device["credential"]["password"].as_str().unwrap().to_string();
    let mut ws = Ws::connect(server.addr, &commander).await;
    ws.subscribe("d", "devices", json!({"region": "330304001"}), None).await;
    ws.subscribe("a", "alarms", json!({"region": "330304001"}), None).await;

    let (_, iot) = server.get_as("system_administrator", "/api/iot").await;
    let broker: std::net::SocketAddr = iot["broker"].as_str().unwrap().parse().unwrap();
    let mut options = rumqttc::MqttOptions::new("smk-live", broker.ip().to_string(), broker.port());
    options.set_credentials("smk-live", password);
    let (client, mut events) = rumqttc::AsyncClient::new(options, 10);
    let body = json!({"values": {"smoke_obscuration_pct": 18.5}}).to_string();
    client.publish("city/ouhai/devices/smk-live/telemetry", rumqttc::QoS::AtLeastOnce, false, body).await.unwrap();
    tokio::spawn(async move { while events.poll().await.is_ok() {} });

    let got =
        ws.until(|v| v["channel"] == "alarms" && v["key"] == "smk-live/smoke" && v["data"]["change"] == "raised").await;
    let alarm = got.last().unwrap();
    assert_eq!(alarm["data"]["alarm"]["severity"], "critical", "{alarm}");
    let mut devices: Vec<Value> = got.iter().filter(|v| v["channel"] == "devices").cloned().collect();
    while devices.is_empty() {
        let next = ws.next().await;
        if next["channel"] == "devices" {
            devices.push(next);
        }
    }
    assert_eq!(devices[0]["key"], "smk-live", "{:?}", devices[0]);
    assert_eq!(devices[0]["data"]["values"]["smoke_obscuration_pct"], 18.5, "{:?}", devices[0]);
}

#[tokio::test]
async fn silent_connections_close_as_idle_and_ended_sessions_as_such() {
    let database_url = crate::common::fresh_database().await;
    let mut config = cockpit_server::Config::for_tests(&sample_data(), &database_url);
    config.live.heartbeat_seconds = 1;
    config.live.idle_timeout_seconds = 3;
    let server = Server::start_configured(config).await;
    let commander = server.token("idle-commander", "commander").await;

    // A client that sends nothing is closed as idle.
    let mut silent = Ws::connect(server.addr, &commander).await;
    let end = loop {
        if let Err(end) = silent.next_or_end().await {
            break end;
        }
    };
    assert_eq!(end, End::Closed(4000, "idle".into()));

    // A client that answers keeps its connection past the idle timeout; once its session
    // ends (logout everywhere), the server closes it with that reason.
    let user = server.token("leaving-commander", "commander").await;
    let mut talking = Ws::connect(server.addr, &user).await;
    let keep_alive_until = tokio::time::Instant::now() + Duration::from_secs(5);
    let mut logged_out = false;
    let end = loop {
        match tokio::time::timeout(Duration::from_millis(500), talking.next_or_end()).await {
            Ok(Err(end)) => break end,
            Ok(Ok(_)) => {}
            Err(_) => talking.send(json!({"type": "ping"})).await,
        }
        if !logged_out && tokio::time::Instant::now() >= keep_alive_until {
            let (status, body) = server.post_with(&user, "/api/auth/logout-everywhere", &json!({})).await;
            assert!(status < 300, "{status} {body}");
            logged_out = true;
        }
    };
    assert!(logged_out, "the connection outlived the idle timeout while it talked: {end:?}");
    assert_eq!(end, End::Closed(4001, "session ended".into()));
}

#[tokio::test]
async fn assigned_to_me_streams_a_grid_workers_own_tasks_only() {
    let server = Server::start().await;
    let (_, village) = server.get("/api/regions/330304001002").await;
    let grid = village["properties"]["children"][0].clone();
    let code = grid["code"].as_str().unwrap().to_string();
    let (lon, lat) = (grid["centre"][0].as_f64().unwrap(), grid["centre"][1].as_f64().unwrap());
    let dispatcher = server.token("mine-dispatcher", "dispatcher").await;
    let worker = server.user("mine-worker", &["grid_worker"], &code, None).await;

    let mut ws = Ws::connect(server.addr, &worker).await;
    let snapshot = ws.subscribe("mine", "cases", json!({"assigned_to_me": true}), None).await;
    assert_eq!(snapshot[0]["type"], "snapshot", "{snapshot:?}");
    assert_eq!(snapshot[0]["items"], json!([]));
    let mut everything = Ws::connect(server.addr, &worker).await;
    everything.subscribe("all", "cases", json!({}), None).await;

    // In the worker's grid: street vending goes to the grid's worker; night construction to
    // the construction bureau. Only the first is theirs.
    let theirs = create_case(&server, &dispatcher, lon, lat, "占道经营").await;
    let body = json!({"description": "夜间施工扰民", "category": "0301", "location": {"lon": lon, "lat": lat}});
    let (status, bureau) = server.post_with(&dispatcher, "/api/cases", &body).await;
    assert_eq!(status, 201, "{bureau}");
    assert_eq!(bureau["assignee"]["kind"], "department", "{bureau}");

    // The unfiltered stream sees both (the worker's region); the filtered one the first.
    let all = everything.until(|v| v["type"] == "delta" && v["data"]["id"] == bureau["id"]).await;
    assert!(all.iter().any(|v| v["type"] == "delta" && v["data"]["id"] == theirs["id"]), "{all:?}");
    let mine: Vec<Value> = ws.drain().await.into_iter().filter(|v| v["type"] == "delta").collect();
    assert!(!mine.is_empty(), "the worker's own case was streamed");
    assert!(mine.iter().all(|v| v["data"]["id"] == theirs["id"]), "{mine:?}");

    // A new subscription's snapshot holds the same: the worker's case only.
    let snapshot = ws.subscribe("again", "cases", json!({"assigned_to_me": true}), None).await;
    let ids: Vec<&Value> = snapshot[0]["items"].as_array().unwrap().iter().map(|c| &c["id"]).collect();
    assert_eq!(ids, vec![&theirs["id"]], "{snapshot:?}");
}

/// Indicators: a snapshot of the regions in view, then the whole table again (`replace`)
/// when a recomputation changes it.
#[tokio::test]
async fn indicators_arrive_as_a_snapshot_then_replace_when_cases_change() {
    let server = Server::start().await;
    let (_, lon, lat) = server.grid_of_fanrong(1).await;
    let leader = server.user("ind-live-leader", &["leader"], "330304001", None).await;
    let mut ws = Ws::connect(server.addr, &leader).await;
    let snapshot = ws.subscribe("vital", "indicators", json!({}), None).await;
    assert_eq!(snapshot[0]["type"], "snapshot", "{snapshot:?}");
    let items = snapshot[0]["items"].as_array().unwrap();
    // The street and its villages; not the district, not other streets.
    assert!(items.iter().any(|i| i["code"] == "330304001" && i["level"] == "street"), "{items:?}");
    assert!(items.iter().any(|i| i["code"] == "330304001002" && i["level"] == "village"));
    assert!(items.iter().all(|i| i["code"].as_str().unwrap().starts_with("330304001")), "{items:?}");
    let today = |items: &Value| {
        items.as_array().unwrap().iter().find(|i| i["code"] == "330304001002").unwrap()["values"]["cases_today"]["value"]
            .as_f64()
            .unwrap()
    };
    let before = today(&snapshot[0]["items"]);

    let dispatcher = server.token("ind-live-dispatcher", "dispatcher").await;
    create_case(&server, &dispatcher, lon, lat, "路面塌陷").await;
    // The table's `replace`; the channel also carries single values (`value:` entries, the
    // computed indicators' among them), which have no `items`.
    let frames = ws
        .until(|v| {
            v["type"] == "delta"
                && v["channel"] == "indicators"
                && v["key"] == "indicators"
                && today(&v["data"]["items"]) > before
        })
        .await;
    let delta = frames.last().unwrap();
    assert_eq!(delta["op"], "replace", "{delta}");
    assert_eq!(today(&delta["data"]["items"]), before + 1.0);
    assert!(
        delta["data"]["items"].as_array().unwrap().iter().all(|i| i["code"].as_str().unwrap().starts_with("330304001"))
    );
}
