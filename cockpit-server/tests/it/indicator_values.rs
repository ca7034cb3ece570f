//! Indicator values over real HTTP and PostGIS: entered by hand by the indicator's owner
//! (refused with the field named when invalid, audited, a repeat changing nothing), pushed
//! over HTTP with a source's own token (a retry changes nothing), streamed on the live
//! `indicators` channel, and compared: month-on-month and year-on-year across a year
//! boundary, with a missing month as no data, never zero.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::Duration;

use crate::common::Server;
use crate::indicator_catalogue::indicator;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// 景山街道, and a street elsewhere.
const STREET: &str = "330304001";

async fn audited(server: &Server, action: &str) -> Vec<Value> {
    let (_, audit) = server.get_as("auditor", &format!("/api/audit?action={action}")).await;
    audit["records"].as_array().unwrap().iter().filter(|r| r["action"] == action).cloned().collect()
}

/// A monthly indicator `test.monthly` owned by `owner.li`: the owner's token.
pub async fn monthly_with_owner(server: &Server) -> String {
    let admin = server.token("test-admin", "system_administrator").await;
    let (status, created) =
        server.post_with(&admin, "/api/indicators/catalogue", &indicator("test.monthly", "monthly", "owner.li")).await;
    assert_eq!(status, 201, "{created}");
    server.user("owner.li", &["department_handler"], "330304", None).await
}

#[tokio::test]
async fn yoy_and_mom_across_a_year_boundary_and_a_missing_month() {
    let server = Server::start().await;
    let owner = monthly_with_owner(&server).await;
    let path = "/api/indicators/catalogue/test.monthly/values";
    // February 2025 has no value.
    for (period, value) in [("2024-01-01", 80.0), ("2024-12-01", 50.0), ("2025-01-01", 60.0), ("2025-03-01", 0.0)] {
        let (status, written) =
            server.put_with(&owner, path, &json!({"region": STREET, "period": period, "value": value})).await;
        assert_eq!((status, &written["changed"]), (200, &json!(1)), "{period}: {written}");
    }
    // The same value again changes nothing and is not audited again.
    let (status, again) =
        server.put_with(&owner, path, &json!({"region": STREET, "period": "2025-01-01", "value": 60.0})).await;
    assert_eq!((status, &again["changed"]), (200, &json!(0)), "{again}");
    assert_eq!(audited(&server, "indicator.enter").await.len(), 4);

    let compare = |period: &str| {
        let url = format!("/api/indicators/catalogue/test.monthly/compare?region={STREET}&period={period}&n=3");
        let server = &server;
        async move {
            let (status, c) = server.get_as("leader", &url).await;
            assert_eq!(status, 200, "{c}");
            c
        }
    };
    let january = compare("2025-01-20").await;
    assert_eq!(january["period"], "2025-01-01");
    assert_eq!(january["value"], 60.0);
    assert_eq!((&january["previous"]["period"], &january["previous"]["value"]), (&json!("2024-12-01"), &json!(50.0)));
    assert_eq!(january["previous"]["change"], 10.0);
    assert_eq!(january["previous"]["percent"], 20.0);
    assert_eq!(
        (&january["last_year"]["period"], &january["last_year"]["change"]),
        (&json!("2024-01-01"), &json!(-20.0))
    );
    assert_eq!(january["last_year"]["percent"], -25.0);
    assert_eq!((&january["target"], &january["gap"], &january["met"]), (&json!(70.0), &json!(-10.0), &json!(false)));
    let trend: Vec<&Value> = january["trend"].as_array().unwrap().iter().map(|t| &t["value"]).collect();
    assert_eq!(trend, [&Value::Null, &json!(50.0), &json!(60.0)], "November 2024 has no data: {january}");
    assert_eq!((&january["peak"]["value"], &january["low"]["value"]), (&json!(80.0), &json!(50.0)));

    let march = compare("2025-03-01").await;
    assert_eq!(march["value"], 0.0, "a stored zero is a value");
    assert_eq!(march["previous"], Value::Null, "February has no data, so no month-on-month: {march}");
    assert_eq!(march["last_year"], Value::Null);
    let february = compare("2025-02-01").await;
    assert_eq!((&february["value"], &february["gap"]), (&Value::Null, &Value::Null), "no data, not zero: {february}");
    assert_eq!(february["mean"], json!((80.0 + 50.0 + 60.0) / 3.0));

    let (_, listed) = server.get_as("leader", path).await;
    let values = listed["values"].as_array().unwrap();
    assert_eq!(values.len(), 4, "{listed}");
    assert!(values.iter().all(|v| v["source"] == "manual" && v["source_name"] == "owner.li"));
    assert_eq!(values[0]["period"], "2025-03-01", "newest first");
}

#[tokio::test]
async fn manual_entry_is_the_owners_and_refused_with_the_field_named() {
    let server = Server::start().await;
    let admin = server.token("test-admin", "system_administrator").await;
    server.post_with(&admin, "/api/indicators/catalogue", &indicator("test.manual", "monthly", "owner.wu")).await;
    let owner = server.user("owner.wu", &["department_handler"], STREET, None).await;
    let other = server.user("someone.else", &["department_handler"], "330304", None).await;
    let leader = server.token("test-leader", "leader").await;
    let path = "/api/indicators/catalogue/test.manual/values";
    let good = json!({"region": STREET, "period": "2025-01-01", "value": 3});

    assert_eq!(server.put_with(&leader, path, &good).await.0, 403, "no indicators.enter");
    assert_eq!(server.put_with(&other, path, &good).await.0, 403, "not the owner");
    let (status, _) = server.put_with(&owner, "/api/indicators/catalogue/nothing.here/values", &good).await;
    assert_eq!(status, 404);
    for (body, field) in [
        (json!({"region": STREET, "period": "2025-01-15", "value": 3}), "period"),
        (json!({"region": STREET, "period": "2999-01-01", "value": 3}), "period"),
        (json!({"region": STREET, "period": "January", "value": 3}), "period"),
        (json!({"region": "330304001999", "period": "2025-01-01", "value": 3}), "region"),
        (json!({"region": STREET, "period": "2025-01-01", "value": "three"}), "value"),
        (json!({"region": STREET, "period": "2025-01-01"}), "value"),
    ] {
        let (status, problem) = server.put_with(&owner, path, &body).await;
        assert_eq!((status, problem["field"].as_str()), (400, Some(field)), "{body}: {problem}");
    }
    // Outside the owner's street: as unknown as a region that does not exist.
    let elsewhere = server.street_other_than(STREET).await;
    let (status, _) =
        server.put_with(&owner, path, &json!({"region": elsewhere, "period": "2025-01-01", "value": 3})).await;
    assert_eq!(status, 404);
    assert!(audited(&server, "indicator.enter").await.is_empty(), "nothing refused is stored");
    let (status, written) = server.put_with(&owner, path, &good).await;
    assert_eq!((status, &written["changed"]), (200, &json!(1)), "{written}");
    let records = audited(&server, "indicator.enter").await;
    assert_eq!(records.len(), 1);
    assert_eq!((&records[0]["actor"], &records[0]["object"]), (&json!("owner.wu"), &json!("indicator:test.manual")));
}

/// The live socket as a browser opens it, subscribed to the indicators channel.
async fn live_indicators(server: &Server, token: &str) -> impl StreamExt<Item = Value> + Unpin {
    let mut request = format!("ws://{}/api/live", server.addr).into_client_request().unwrap();
    request.headers_mut().insert("sec-websocket-protocol", format!("cockpit-live, bearer.{token}").parse().unwrap());
    let (mut stream, _) = tokio_tungstenite::connect_async(request).await.expect("upgrade");
    let subscribe = json!({"type": "subscribe", "id": "i", "channel": "indicators"});
    stream.send(Message::text(subscribe.to_string())).await.unwrap();
    Box::pin(stream.filter_map(|m| async move {
        match m {
            Ok(Message::Text(t)) => serde_json::from_str::<Value>(t.as_str()).ok(),
            _ => None,
        }
    }))
}

#[tokio::test]
async fn http_push_with_the_sources_token_is_idempotent_and_streamed() {
    let server = Server::start().await;
    let admin = server.token("test-admin", "system_administrator").await;
    for id in ["test.daily", "test.forbidden"] {
        let (status, e) = server.post_with(&admin, "/api/indicators/catalogue", &indicator(id, "daily", "")).await;
        assert_eq!(status, 201, "{e}");
    }
    let (status, source) = server
        .post_with(
            &admin,
            "/api/indicators/sources",
            &json!({"id": "stats", "name": "区统计局", "indicators": ["test.daily"]}),
        )
        .await;
    assert_eq!(status, 201, "{source}");
    let token = source["token"].as_str().unwrap().to_string();
    let commander = server.token("test-commander", "commander").await;
    let mut live = live_indicators(&server, &commander).await;

    let push = |token: String, body: Value| {
        let request = server.client.post(server.url("/api/indicators/push/stats")).bearer_auth(token).json(&body);
        async move {
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let one = json!({"values": [{"indicator": "test.daily", "region": STREET, "period": "2025-06-01", "value": 12.5}]});
    let (status, written) = push(token.clone(), one.clone()).await;
    assert_eq!((status, &written["received"], &written["changed"]), (200, &json!(1), &json!(1)), "{written}");
    let (status, retried) = push(token.clone(), one.clone()).await;
    assert_eq!((status, &retried["changed"]), (200, &json!(0)), "a retry changes nothing: {retried}");

    let key = format!("value:test.daily:{STREET}");
    let delta = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let m = live.next().await.expect("the stream stays open");
            if m["type"] == "delta" && m["key"] == key.as_str() {
                return m;
            }
        }
    })
    .await
    .expect("the value reaches the live channel");
    assert_eq!((&delta["data"]["value"], &delta["data"]["source"]), (&json!(12.5), &json!("pushed")), "{delta}");
    let logged: i64 = sqlx::query_scalar("SELECT count(*) FROM live_log WHERE key = $1")
        .bind(&key)
        .fetch_one(server.store.pool())
        .await
        .unwrap();
    assert_eq!(logged, 1, "the retry streamed nothing");
    assert_eq!(audited(&server, "indicator.push").await.len(), 1, "the retry is not audited");

    // A changed value is a change.
    let mut corrected = one.clone();
    corrected["values"][0]["value"] = json!(13);
    assert_eq!(push(token.clone(), corrected).await.1["changed"], 1);

    // Refusals: no token, a user's token, an unknown source, an indicator not the source's,
    // a bad value among good ones (nothing of that push is written).
    let anonymous = server.client.post(server.url("/api/indicators/push/stats")).json(&one).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    assert_eq!(push(commander.clone(), one.clone()).await.0, 401);
    let elsewhere = server.client.post(server.url("/api/indicators/push/nobody")).bearer_auth(&token).json(&one);
    assert_eq!(elsewhere.send().await.unwrap().status(), 401);
    let foreign = json!({"values": [{"indicator": "test.forbidden", "region": STREET, "value": 1}]});
    assert_eq!(push(token.clone(), foreign).await.0, 403);
    let mixed = json!({"values": [
        {"indicator": "test.daily", "region": STREET, "period": "2025-06-02", "value": 1},
        {"indicator": "test.daily", "region": "330304999", "period": "2025-06-02", "value": 1},
    ]});
    let (status, problem) = push(token.clone(), mixed).await;
    assert_eq!((status, problem["field"].as_str()), (400, Some("values[1].region")), "{problem}");
    let (_, listed) = server.get_as("leader", "/api/indicators/catalogue/test.daily/values").await;
    let periods: Vec<&str> =
        listed["values"].as_array().unwrap().iter().map(|v| v["period"].as_str().unwrap()).collect();
    assert_eq!(periods, ["2025-06-01"], "{listed}");
    assert_eq!(listed["values"][0]["value"], 13.0);
    assert_eq!(listed["values"][0]["source_name"], "stats");

    // Leaks: a reader scoped to the street sees its street's value, never another's, and
    // asking for the other street by name is refused.
    let other = server.street_other_than(STREET).await;
    let theirs = json!({"values": [{"indicator": "test.daily", "region": other, "period": "2025-06-01", "value": 99}]});
    assert_eq!(push(token.clone(), theirs).await.0, 200);
    let (_, district) = server.get_as("leader", "/api/indicators/catalogue/test.daily/values").await;
    assert_eq!(district["values"].as_array().unwrap().len(), 2, "the district sees both: {district}");
    let local = server.user("street-reader", &["leader"], STREET, None).await;
    let (status, mine) = server.get_with(&local, "/api/indicators/catalogue/test.daily/values").await;
    assert_eq!(status, 200, "{mine}");
    let regions: Vec<&str> = mine["values"].as_array().unwrap().iter().map(|v| v["region"].as_str().unwrap()).collect();
    assert_eq!(regions, [STREET], "{mine}");
    let asked = format!("/api/indicators/catalogue/test.daily/values?region={other}");
    let (status, refused) = server.get_with(&local, &asked).await;
    assert!(matches!(status, 403 | 404), "{status}: {refused}");
    assert!(!refused.to_string().contains("99"), "{refused}");
    let compare = format!("/api/indicators/catalogue/test.daily/compare?region={other}&period=2025-06-01");
    let (status, refused) = server.get_with(&local, &compare).await;
    assert!(matches!(status, 403 | 404), "{status}: {refused}");

    // History pushed at once: every period stored, one live entry for the region, its newest
    // period (a screen keeps the newest it has seen).
    let history = json!({"values": [
        {"indicator": "test.daily", "region": other, "period": "2025-05-30", "value": 1},
        {"indicator": "test.daily", "region": other, "period": "2025-05-31", "value": 2},
        {"indicator": "test.daily", "region": other, "period": "2025-05-29", "value": 3},
    ]});
    assert_eq!(push(token.clone(), history).await.1["changed"], 3);
    let streamed: Vec<Value> = sqlx::query_scalar("SELECT payload FROM live_log WHERE key = $1 ORDER BY seq")
        .bind(format!("value:test.daily:{other}"))
        .fetch_all(server.store.pool())
        .await
        .unwrap();
    let periods: Vec<&str> = streamed.iter().map(|p| p["period"].as_str().unwrap()).collect();
    assert_eq!(periods, ["2025-06-01", "2025-05-31"], "the first push's, then the history's newest: {streamed:?}");
}

/// Publishes each payload to `topic` at QoS 1 as push source `id`, waiting for each
/// acknowledgement (sent only after the values committed).
async fn publish_as_source(broker: std::net::SocketAddr, id: &str, token: &str, topic: &str, payloads: &[Value]) {
    use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
    let mut options = MqttOptions::new(id, broker.ip().to_string(), broker.port());
    options.set_credentials(id, token);
    let (client, mut events) = AsyncClient::new(options, 10);
    for payload in payloads {
        client.publish(topic, QoS::AtLeastOnce, false, payload.to_string()).await.unwrap();
        loop {
            // A guard against a hang, not a measure: the broker answers once committed.
            let event = tokio::time::timeout(Duration::from_secs(30), events.poll()).await.expect("the broker answers");
            if let Event::Incoming(Packet::PubAck(_)) = event.expect("logged in to the broker") {
                break;
            }
        }
    }
    client.disconnect().await.ok();
}

#[tokio::test]
async fn mqtt_push_on_the_indicator_topic_is_idempotent() {
    let server = Server::start().await;
    let admin = server.token("test-admin", "system_administrator").await;
    let (status, _) = server.post_with(&admin, "/api/indicators/catalogue", &indicator("test.mqtt", "daily", "")).await;
    assert_eq!(status, 201);
    let (_, source) = server
        .post_with(
            &admin,
            "/api/indicators/sources",
            &json!({"id": "river-bureau", "name": "水利局", "indicators": ["test.mqtt"]}),
        )
        .await;
    let token = source["token"].as_str().unwrap().to_string();
    let (_, iot) = server.get_as("commander", "/api/iot").await;
    let broker: std::net::SocketAddr = iot["broker"].as_str().expect("the embedded broker").parse().unwrap();

    let value = json!({"region": STREET, "period": "2025-06-01", "value": 7.25});
    let topic = "city/ouhai/indicators/test.mqtt";
    // The value, its retry, and messages that can never be taken (acknowledged, not stored):
    // a bad value, a region that does not exist, another district.
    let bad = [json!({"region": STREET, "value": "high"}), json!({"region": "330304999", "value": 1})];
    publish_as_source(
        broker,
        "river-bureau",
        &token,
        topic,
        &[value.clone(), value.clone(), bad[0].clone(), bad[1].clone()],
    )
    .await;
    publish_as_source(
        broker,
        "river-bureau",
        &token,
        "city/lucheng/indicators/test.mqtt",
        &[json!({"region": STREET, "value": 9})],
    )
    .await;

    let (_, listed) = server.get_as("leader", "/api/indicators/catalogue/test.mqtt/values").await;
    let values = listed["values"].as_array().unwrap();
    assert_eq!(values.len(), 1, "{listed}");
    assert_eq!((&values[0]["value"], &values[0]["source"]), (&json!(7.25), &json!("pushed")));
    assert_eq!((&values[0]["period"], &values[0]["source_name"]), (&json!("2025-06-01"), &json!("river-bureau")));
    assert_eq!(audited(&server, "indicator.push").await.len(), 1, "the retry changed nothing");
    let logged: i64 = sqlx::query_scalar("SELECT count(*) FROM live_log WHERE key = $1")
        .bind(format!("value:test.mqtt:{STREET}"))
        .fetch_one(server.store.pool())
        .await
        .unwrap();
    assert_eq!(logged, 1);

    // A wrong token is no login.
    use rumqttc::{AsyncClient, ConnectReturnCode, Event, MqttOptions, Packet};
    let mut options = MqttOptions::new("river-bureau", broker.ip().to_string(), broker.port());
    options.set_credentials("river-bureau", "not-the-token");
    let (_client, mut events) = AsyncClient::new(options, 10);
    let refused = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            match events.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(ack))) => return Some(ack.code),
                Ok(_) => continue,
                Err(rumqttc::ConnectionError::ConnectionRefused(code)) => return Some(code),
                Err(e) => panic!("{e}"),
            }
        }
    })
    .await
    .expect("the broker answers");
    assert_eq!(refused, Some(ConnectReturnCode::BadUserNamePassword));
}
