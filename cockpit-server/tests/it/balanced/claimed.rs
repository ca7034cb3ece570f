//! Device rules across two instances that claim grids (`[mqtt] split = "claim"`, the
//! default): Mosquitto hands every message to both, each judges the grids it claims. Two
//! river gauges, one in a grid of each instance, stay over the `river-high` line (4.5 m for
//! two minutes of the gauges' own time). The owner of one is killed a minute in; the other
//! instance takes its grid over once the lease runs out, from the readings stored and the
//! ones it kept meanwhile (the first minute only from the database: it is older than what an
//! instance keeps of another's messages). Both alarms must rise at the reading two minutes in, exactly once,
//! and the taken-over one clear at its first reading under 4.3 m; every reading Mosquitto
//! acknowledged is stored before the killed instance comes back, and its return raises
//! nothing twice.

use std::time::Duration;

use cockpit_store::Store;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde_json::json;

use super::{Instance, count_until};
use crate::mqtt_peers::{Home, devices_in, mosquitto};

/// The gauges' own clock: a reading every second from `T0_AGO` before now.
const T0_AGO_MS: i64 = 600_000;
const SECOND: i64 = 1000;

/// Publishes water levels at QoS 1, one at a time, each at `t0 + second * 1 s`; returns
/// once Mosquitto acknowledged the last.
async fn publish(port: u16, device: &str, password: &str, t0: i64, levels: &[(i64, f64)]) {
    let mut options = MqttOptions::new(format!("{device}-claimed"), "127.0.0.1", port);
    options.set_credentials(device, password);
    let (client, mut events) = AsyncClient::new(options, 10);
    for &(second, level) in levels {
        let body = json!({"ts": t0 + second * SECOND, "values": {"water_level_m": level}}).to_string();
        client.publish(format!("city/ouhai/devices/{device}/telemetry"), QoS::AtLeastOnce, false, body).await.unwrap();
        loop {
            match tokio::time::timeout(Duration::from_secs(30), events.poll()).await {
                Ok(Ok(Event::Incoming(Packet::PubAck(_)))) => break,
                Ok(Ok(_)) => continue,
                other => panic!("{device}: Mosquitto did not acknowledge second {second}: {other:?}"),
            }
        }
    }
    let _ = client.disconnect().await;
}

/// The `river-high` alarms of `device`: (raised at, raised value, cleared at, cleared value).
async fn alarms(store: &Store, device: &str) -> Vec<(i64, f64, Option<i64>, Option<f64>)> {
    sqlx::query_as(
        "SELECT (extract(epoch FROM raised_at) * 1000)::bigint, raised_value,
                (extract(epoch FROM cleared_at) * 1000)::bigint, cleared_value
         FROM alarms WHERE device_id = $1 AND rule_id = 'river-high' ORDER BY id",
    )
    .bind(device)
    .fetch_all(store.pool())
    .await
    .unwrap()
}

/// Waits until `device` has `n` `river-high` alarms, the last one cleared if `cleared`.
async fn alarms_until(
    store: &Store,
    device: &str,
    n: usize,
    cleared: bool,
) -> Vec<(i64, f64, Option<i64>, Option<f64>)> {
    let mut got = Vec::new();
    for _ in 0..600 {
        got = alarms(store, device).await;
        if got.len() >= n && (!cleared || got.last().is_some_and(|a| a.2.is_some())) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn claimed_grids_keep_their_rules_across_instances_and_a_kill() {
    let database_url = crate::common::fresh_database().await;
    let store = Store::connect(&database_url, 2).await.unwrap();
    let home = Home::new("claimed");
    // A grid of each instance, as every instance splits them (rendezvous on the client ids).
    let members = vec!["cockpit-a".to_string(), "cockpit-b".to_string()];
    let grid_of = |member: &str| {
        (1..100)
            .map(|n| format!("330304001002{n:03}"))
            .find(|grid| cockpit_server::iot::owner(&members, grid) == Some(member))
            .unwrap()
    };
    let (grid_a, grid_b) = (grid_of("cockpit-a"), grid_of("cockpit-b"));
    let (ga, gb) = ("wl-ca", "wl-cb");
    let pw_a = devices_in(&store, &[(ga, "water_level_river")], &grid_a).await.remove(0).1;
    let pw_b = devices_in(&store, &[(gb, "water_level_river")], &grid_b).await.remove(0).1;
    let broker = mosquitto(&home.0, &[("cockpit", "cockpit-secret"), (ga, &pw_a), (gb, &pw_b)]);
    std::fs::write(home.0.join("cockpit.pw"), "cockpit-secret\n").unwrap();
    let (a, b) = (Instance::new(&home.0, "a", broker.port, "claim"), Instance::new(&home.0, "b", broker.port, "claim"));
    let mut running_a = a.start(&database_url).await;
    let _running_b = b.start(&database_url).await;
    super::broker_logged(&home.0, "Received SUBSCRIBE from cockpit-a").await;
    super::broker_logged(&home.0, "Received SUBSCRIBE from cockpit-b").await;
    // Both members past their grace, and a renewal more for each to see the other.
    count_until(&store, "SELECT count(*) FROM iot_members WHERE joined_at <= now() - interval '2 s'", 2).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;

    let t0 = chrono::Utc::now().timestamp_millis() - T0_AGO_MS;
    let high = |from: i64, to: i64| (from..=to).map(|s| (s, 5.0)).collect::<Vec<_>>();
    // The first minute over the line, each gauge stored by its grid's owner.
    publish(broker.port, ga, &pw_a, t0, &high(0, 60)).await;
    publish(broker.port, gb, &pw_b, t0, &high(0, 60)).await;
    let stored = "SELECT count(*) FROM readings WHERE device_id IN ('wl-ca', 'wl-cb')";
    assert_eq!(count_until(&store, stored, 122).await, 122);
    assert!(alarms(&store, ga).await.is_empty() && alarms(&store, gb).await.is_empty(), "raised before two minutes");

    // Past how long `b` keeps another instance's messages (the lease of 5 s, two renewals
    // and 5 s): the first minute of `a`'s gauge is then only in the database.
    tokio::time::sleep(Duration::from_secs(14)).await;
    // `a` dies holding the first minute of its gauge; the second minute comes to `b` alone.
    running_a.0.kill().unwrap();
    running_a.0.wait().unwrap();
    publish(broker.port, ga, &pw_a, t0, &high(61, 150)).await;
    publish(broker.port, gb, &pw_b, t0, &high(61, 150)).await;
    let raised_b = alarms_until(&store, gb, 1, false).await;
    let raised_a = alarms_until(&store, ga, 1, false).await;
    let log = || std::fs::read_to_string(home.0.join("b").join("server.log")).unwrap_or_default();
    // Two minutes over the line from second 0: raised at second 120, by `b` for both.
    assert_eq!(raised_b, vec![(t0 + 120 * SECOND, 5.0, None, None)], "{}", log());
    assert_eq!(raised_a, vec![(t0 + 120 * SECOND, 5.0, None, None)], "the grid taken over\n{}", log());

    // Back under the clear line: the alarm `b` took over clears at that reading.
    publish(broker.port, ga, &pw_a, t0, &[(151, 4.2), (152, 4.1)]).await;
    let cleared = alarms_until(&store, ga, 1, true).await;
    assert_eq!(cleared, vec![(t0 + 120 * SECOND, 5.0, Some(t0 + 151 * SECOND), Some(4.2))]);
    // Every acknowledged reading is stored, `a`'s share included, before `a` is back.
    assert_eq!(count_until(&store, stored, 153 + 151).await, 153 + 151);

    // `a` comes back on its session: it takes its grid again, raising nothing twice.
    let _restarted_a = a.start(&database_url).await;
    count_until(
        &store,
        "SELECT count(*) FROM iot_members WHERE member = 'cockpit-a'
           AND seen_at >= now() - interval '1500 ms' AND joined_at <= now() - interval '2 s'",
        1,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    publish(broker.port, ga, &pw_a, t0, &[(153, 4.0), (154, 4.0)]).await;
    publish(broker.port, gb, &pw_b, t0, &high(151, 152)).await;
    assert_eq!(count_until(&store, stored, 153 + 151 + 4).await, 153 + 151 + 4);
    assert_eq!(alarms(&store, ga).await, cleared, "the grid given back raised again");
    assert_eq!(alarms(&store, gb).await, raised_b, "the grid kept raised again");
    // The splits each saw (`a` over both of its runs): `b` alone while `a` was down.
    let splits = |name: &str| -> Vec<String> {
        let log = std::fs::read_to_string(home.0.join(name).join("server.log")).unwrap_or_default();
        log.lines()
            .filter(|l| l.contains("the IoT split changed"))
            .map(|l| l.find("[\"").map_or("", |i| &l[i..]).to_string())
            .collect()
    };
    let (seen_a, seen_b) = (splits("a"), splits("b"));
    assert!(seen_b.iter().any(|m| m.contains("[\"cockpit-b\"]")), "b never took a's grids over: {seen_b:?}");
    assert_eq!(seen_b.last().map(String::as_str), Some("[\"cockpit-a\", \"cockpit-b\"]"), "{seen_b:?}");
    assert_eq!(seen_a.last().map(String::as_str), Some("[\"cockpit-a\", \"cockpit-b\"]"), "{seen_a:?}");
    eprintln!("claimed: the splits a saw {seen_a:?}, b saw {seen_b:?}");
}
