//! Who sees what on the live streams: every channel as every role in and out of a region,
//! each channel delivering its own data and nothing of the other side, and the resumes
//! and fresh snapshots of users of one street or grid.

use super::*;

#[tokio::test]
async fn each_channel_is_authorised_like_the_http_api() {
    let server = Server::start().await;
    let ((lon, lat), (olon, olat), other_street) = points(&server).await;
    let dispatcher = server.token("auth-dispatcher", "dispatcher").await;
    let inside = create_case(&server, &dispatcher, lon, lat, "辖区内").await;

    // No login: refused at the upgrade.
    let request = format!("ws://{}/api/live", server.addr).into_client_request().unwrap();
    match tokio_tungstenite::connect_async(request).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => assert_eq!(response.status().as_u16(), 401),
        other => panic!("{:?}", other.map(|_| ())),
    }
    let mut bad = format!("ws://{}/api/live", server.addr).into_client_request().unwrap();
    bad.headers_mut().insert("sec-websocket-protocol", "cockpit-live, bearer.v1.forged".parse().unwrap());
    assert!(tokio_tungstenite::connect_async(bad).await.is_err());

    // A leader of another street: the region is refused, their own scope shows nothing of it.
    let outsider = server.user("auth-leader-out", &["leader"], &other_street, None).await;
    let mut ws = Ws::connect(server.addr, &outsider).await;
    let refused = ws.subscribe("c", "cases", json!({"region": "330304001"}), None).await;
    assert_eq!((refused[0]["type"].as_str(), refused[0]["code"].as_str()), (Some("error"), Some("forbidden")));
    assert_eq!(refused[0]["id"], "c");
    let own = ws.subscribe("c", "cases", json!({}), None).await;
    assert_eq!(own[0]["type"], "snapshot");
    assert!(own[0]["items"].as_array().unwrap().iter().all(|c| c["id"] != inside["id"]));
    let stats = ws.subscribe("s", "statistics", json!({}), None).await;
    assert_eq!(stats[0]["type"], "snapshot", "{stats:?}");
    assert!(
        stats[0]["items"].as_array().unwrap().iter().all(|r| r["region"].as_str().unwrap().starts_with(&other_street))
    );
    // A change in 景山 then one in their street: only the second reaches them.
    create_case(&server, &dispatcher, lon, lat, "辖区外的变化").await;
    let theirs = create_case(&server, &dispatcher, olon, olat, "本街道的变化").await;
    let got = ws.until(|v| v["type"] == "delta" && v["channel"] == "cases").await;
    let deltas: Vec<&Value> = got.iter().filter(|v| v["channel"] == "cases").collect();
    assert_eq!(deltas.len(), 1, "{got:?}");
    assert_eq!(deltas[0]["data"]["id"], theirs["id"]);
    assert!(!deltas[0].to_string().contains("13600006666"), "masked");
    assert_eq!(deltas[0]["data"]["reporter"]["phone"], "136****6666");

    // A grid worker sees only what is assigned to them, and has no statistics or devices.
    let grid = server.get("/api/regions/330304001002").await.1["properties"]["children"][0]["code"]
        .as_str()
        .unwrap()
        .to_string();
    let worker = server.user("auth-grid", &["grid_worker"], &grid, None).await;
    let mut ws = Ws::connect(server.addr, &worker).await;
    let answer = ws.subscribe("s", "statistics", json!({}), None).await;
    assert_eq!(answer[0]["code"], "forbidden", "{answer:?}");
    let answer = ws.subscribe("a", "alarms", json!({}), None).await;
    assert_eq!(answer[0]["type"], "snapshot", "{answer:?}");
    // The auditor may use no channel at all: refused at the upgrade.
    let auditor = server.token("auth-auditor", "auditor").await;
    let mut request = format!("ws://{}/api/live", server.addr).into_client_request().unwrap();
    request.headers_mut().insert("sec-websocket-protocol", format!("cockpit-live, bearer.{auditor}").parse().unwrap());
    match tokio_tungstenite::connect_async(request).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => assert_eq!(response.status().as_u16(), 403),
        other => panic!("{:?}", other.map(|_| ())),
    }
}

/// The permissions each channel needs (any of them), as docs/live.md lists them.
fn channel_needs(channel: &str) -> &'static [cockpit_access::Permission] {
    use cockpit_access::Permission as P;
    match channel {
        "cases" => &[P::ViewCases, P::ViewAssignedCases],
        "alarms" => &[P::ViewWall, P::ViewDevices, P::AcknowledgeAlarms],
        "devices" => &[P::ViewDevices],
        "statistics" => &[P::ViewStatistics],
        "indicators" => &[P::ViewWall, P::ViewStatistics],
        other => panic!("no channel {other}"),
    }
}

/// Which side of the matrix a message shows: `Some(true)` inside the fixture's region
/// (street `inside_code`), `Some(false)` inside `outside_code`, `None` when it names
/// neither (a statistics row names its region; cases and device values carry a marker).
fn side_of(channel: &str, data: &Value, inside_code: &str, outside_code: &str) -> Option<bool> {
    match channel {
        "cases" => match data["description"].as_str() {
            Some("矩阵辖区内") => Some(true),
            Some("矩阵辖区外") => Some(false),
            _ => None,
        },
        "alarms" | "devices" => data["side"].as_str().map(|s| s == "in"),
        "statistics" | "indicators" => {
            let region = data["region"].as_str().or(data["code"].as_str()).unwrap_or_default();
            if region.starts_with(inside_code) {
                Some(true)
            } else if region.starts_with(outside_code) {
                Some(false)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// Every channel subscribed as every shipped role, by a user inside the fixture's region
/// and one outside it: each cell allowed or refused as the role's permissions say, a
/// region filter outside the user's scope refused, and no snapshot or delta from the
/// other side — zero leaks. Not vacuous: each subscription that may see its own side's
/// data gets that channel's own kind of it (the case, the alarm, the device's last value,
/// counts of the cases, the street's indicators), so no channel passes by staying silent.
#[tokio::test]
async fn every_channel_as_every_role_in_and_out_of_region_leaks_nothing() {
    use cockpit_access::Role;
    let server = Server::start().await;
    let (_, village) = server.get("/api/regions/330304001002").await;
    let grid = village["properties"]["children"][0].clone();
    let in_grid = grid["code"].as_str().unwrap().to_string();
    let in_at = (grid["centre"][0].as_f64().unwrap(), grid["centre"][1].as_f64().unwrap());
    let out_street = server.street_other_than("330304001").await;
    let (_, grids) = server.get(&format!("/api/regions?level=grid&parent={out_street}")).await;
    let out_grid = grids["features"][0]["properties"]["code"].as_str().unwrap().to_string();
    let (_, out_region) = server.get(&format!("/api/regions/{out_grid}")).await;
    let c = &out_region["properties"]["centre"];
    let out_at = (c[0].as_f64().unwrap(), c[1].as_f64().unwrap());
    let dispatcher = server.token("matrix-dispatcher", "dispatcher").await;
    // One case on each side before anyone subscribes (for the snapshots); the ids of each
    // side's cases, for what the other side must not see.
    let mut cases_of: BTreeMap<bool, Vec<Value>> = BTreeMap::new();
    for (inside, at, description) in [(true, in_at, "矩阵辖区内"), (false, out_at, "矩阵辖区外")] {
        let case = create_case(&server, &dispatcher, at.0, at.1, description).await;
        cases_of.entry(inside).or_default().push(case["id"].clone());
    }
    // What a user of one side must not see of the other: its cases, alarms and gauges, its
    // regions (the grid, and the street it lies in), the reporter in the clear.
    let unseen = |inside: bool, other: &str, cases_of: &BTreeMap<bool, Vec<Value>>| {
        let side = if inside { "out" } else { "in" };
        Unseen {
            cases: cases_of[&!inside].iter().map(|id| id.as_i64().unwrap()).collect(),
            keys: vec![format!("matrix-alarm-{side}-"), format!("matrix-gauge-{side}")],
            regions: vec![other.to_string(), other[..9].to_string()],
            texts: REPORTER.iter().map(|t| t.to_string()).collect(),
        }
    };
    let updates = |n: u32| -> Vec<Update> {
        let mut out = Vec::new();
        for (side, grid, at) in [("in", &in_grid, in_at), ("out", &out_grid, out_at)] {
            let regions = regions_of(grid);
            out.push(Update {
                channel: Channel::Alarms,
                key: format!("matrix-alarm-{side}-{n}"),
                regions: regions.clone(),
                position: Some(at),
                layer: None,
                payload: json!({"side": side, "n": n}),
            });
            out.push(Update {
                channel: Channel::Devices,
                key: format!("matrix-gauge-{side}"),
                regions,
                position: Some(at),
                layer: Some("water_level_river".into()),
                payload: json!({"side": side, "n": n}),
            });
        }
        out
    };
    publish(&server.store, &updates(0)).await.unwrap();

    let channels = ["cases", "alarms", "devices", "statistics", "indicators"];
    let mut cells = 0;
    let mut failures: Vec<String> = Vec::new();
    /// One open connection of the matrix.
    struct Seat {
        name: String,
        inside: bool,
        /// The region refused to them (the other side's).
        other: String,
        ws: Ws,
        allowed: Vec<&'static str>,
        /// Sees every case of the region (not only those assigned).
        views_cases: bool,
    }
    let mut open: Vec<Seat> = Vec::new();
    for role in Role::ALL {
        let granted = role.default_permissions();
        for inside in [true, false] {
            let (scope, other) = match (role, inside) {
                (Role::GridWorker, true) => (in_grid.clone(), out_grid.clone()),
                (Role::GridWorker, false) => (out_grid.clone(), in_grid.clone()),
                (_, true) => ("330304001".to_string(), out_street.clone()),
                (_, false) => (out_street.clone(), "330304001".to_string()),
            };
            let name = format!("m-{}-{}", role.as_str().replace('_', "-"), if inside { "in" } else { "out" });
            let token = server.user(&name, &[role.as_str()], &scope, None).await;
            // Statistics and indicators are counts per region: those who see cases only by
            // assignment (no `cases.view`) get none, as docs/live.md says.
            let allowed: Vec<&str> = channels
                .iter()
                .copied()
                .filter(|ch| channel_needs(ch).iter().any(|p| granted.contains(*p)))
                .filter(|ch| {
                    !matches!(*ch, "statistics" | "indicators")
                        || granted.contains(cockpit_access::Permission::ViewCases)
                })
                .collect();
            if allowed.is_empty() {
                // No channel at all: refused at the upgrade.
                cells += channels.len();
                let mut request = format!("ws://{}/api/live", server.addr).into_client_request().unwrap();
                request
                    .headers_mut()
                    .insert("sec-websocket-protocol", format!("cockpit-live, bearer.{token}").parse().unwrap());
                match tokio_tungstenite::connect_async(request).await {
                    Err(tokio_tungstenite::tungstenite::Error::Http(r)) if r.status().as_u16() == 403 => {}
                    other => failures.push(format!("{name}: upgrade {:?}, expected 403", other.map(|_| ()))),
                }
                continue;
            }
            let mut ws = Ws::connect(server.addr, &token).await;
            for channel in channels {
                cells += 1;
                let answer = ws.subscribe(channel, channel, json!({}), None).await;
                let first = &answer[0];
                if !allowed.contains(&channel) {
                    if first["code"] != "forbidden" {
                        failures.push(format!("{name} {channel}: {first}, expected forbidden"));
                    }
                    continue;
                }
                if first["type"] != "snapshot" {
                    failures.push(format!("{name} {channel}: {first}, expected a snapshot"));
                    continue;
                }
                for item in first["items"].as_array().unwrap() {
                    let data = if item.get("data").is_some() { &item["data"] } else { item };
                    if side_of(channel, data, "330304001", &out_street) == Some(!inside) {
                        failures.push(format!("{name} {channel}: snapshot leaks {item}"));
                    }
                }
                unseen(inside, &other, &cases_of).check(&format!("{name} {channel} snapshot"), &answer, &mut failures);
                // Not vacuous: the snapshot of a channel of regions shows the user's own.
                if matches!(channel, "indicators")
                    && !first["items"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|i| side_of(channel, i, "330304001", &out_street) == Some(inside))
                {
                    failures.push(format!("{name} {channel}: no region of their own in {first}"));
                }
                // A region outside the user's scope is refused.
                let refused = ws.subscribe("x", channel, json!({"region": other}), None).await;
                if refused[0]["code"] != "forbidden" {
                    failures.push(format!("{name} {channel} region {other}: {}, expected forbidden", refused[0]));
                }
            }
            let views_cases = granted.contains(cockpit_access::Permission::ViewCases);
            open.push(Seat { name, inside, other, ws, allowed, views_cases });
        }
    }
    assert!(failures.is_empty(), "{cells} cells, {} failures:\n{}", failures.len(), failures.join("\n"));

    // Changes on both sides after everyone subscribed. Each subscription waits for its own
    // side's data of its own channel: the new case, the last alarm, the gauge's last value
    // (a device's latest value is never coalesced away), today's counts of its grid with
    // the new case (statistics are recomputed when cases change), its street's indicators
    // with the new case (recomputed every second in tests). Only those who see cases by
    // assignment wait for no case: none of the fixture's is assigned to them.
    for (inside, at, description) in [(true, in_at, "矩阵辖区内"), (false, out_at, "矩阵辖区外")] {
        let case = create_case(&server, &dispatcher, at.0, at.1, description).await;
        cases_of.entry(inside).or_default().push(case["id"].clone());
    }
    publish(&server.store, &updates(1)).await.unwrap();
    publish(&server.store, &updates(2)).await.unwrap();
    let mut waits = Vec::new();
    for seat in &mut open {
        let (own, own_grid, own_street) = if seat.inside {
            ("in", in_grid.clone(), "330304001".to_string())
        } else {
            ("out", out_grid.clone(), out_street.clone())
        };
        let new_case = cases_of[&seat.inside].last().unwrap().clone();
        let delta = |channel: &'static str| move |m: &Value| m["type"] == "delta" && m["channel"] == channel;
        let mut wanted: Vec<Wanted> = Vec::new();
        for channel in seat.allowed.iter().copied() {
            let is = delta(channel);
            let met: Box<dyn Fn(&Value) -> bool> = match channel {
                "cases" if !seat.views_cases => continue,
                "cases" => {
                    let case = new_case.clone();
                    Box::new(move |m| is(m) && m["data"]["id"] == case)
                }
                "alarms" => {
                    let key = format!("matrix-alarm-{own}-2");
                    Box::new(move |m| is(m) && m["key"] == key.as_str())
                }
                "devices" => {
                    let key = format!("matrix-gauge-{own}");
                    Box::new(move |m| is(m) && m["key"] == key.as_str() && m["data"]["n"] == 2)
                }
                "statistics" => {
                    let grid = own_grid.clone();
                    Box::new(move |m| {
                        let rows = m["data"]["items"].as_array().map(Vec::as_slice).unwrap_or_default();
                        let today: i64 = rows
                            .iter()
                            .filter(|r| r["region"] == grid.as_str())
                            .filter_map(|r| r["count"].as_i64())
                            .sum();
                        is(m) && m["key"] == "statistics" && today >= 2
                    })
                }
                _ => {
                    let street = own_street.clone();
                    Box::new(move |m| {
                        let items = m["data"]["items"].as_array().map(Vec::as_slice).unwrap_or_default();
                        let today = items
                            .iter()
                            .find(|i| i["code"] == street.as_str())
                            .and_then(|i| i["values"]["cases_today"]["value"].as_f64());
                        is(m) && m["key"] == "indicators" && today >= Some(2.0)
                    })
                }
            };
            wanted.push((channel.to_string(), met));
        }
        // Every connection waits at once and is drained at once: one left unread while
        // another waits would be closed as idle.
        waits.push(async move {
            let (mut messages, missing) = seat.ws.until_all(wanted).await;
            messages.extend(seat.ws.drain().await);
            (&*seat, messages, missing)
        });
    }
    let mut delivered: BTreeMap<&str, usize> = BTreeMap::new();
    for (seat, messages, missing) in futures_util::future::join_all(waits).await {
        for channel in seat.allowed.iter().copied() {
            if missing.iter().any(|m| m == channel) {
                failures.push(format!("{}: nothing of its own side on {channel}", seat.name));
            } else if channel != "cases" || seat.views_cases {
                *delivered.entry(channel).or_default() += 1;
            }
        }
        for m in messages.iter().filter(|m| m["type"] == "delta") {
            let channel = m["channel"].as_str().unwrap();
            let rows: Vec<&Value> = match m["data"]["items"].as_array() {
                Some(items) => items.iter().collect(),
                None => vec![&m["data"]],
            };
            for data in rows {
                if side_of(channel, data, "330304001", &out_street) == Some(!seat.inside) {
                    failures.push(format!("{} {channel}: delta leaks {m}", seat.name));
                }
            }
        }
        unseen(seat.inside, &seat.other, &cases_of).check(&seat.name, &messages, &mut failures);
    }
    // Every channel delivered its own kind of data to someone.
    for channel in channels {
        if !delivered.contains_key(channel) {
            failures.push(format!("no subscriber got anything of its own side on {channel}"));
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

/// A place of the resume fixture: a grid, a point in it, and the code whose prefix marks
/// what lies there for a reader who may not see it.
struct Place {
    name: &'static str,
    grid: String,
    at: (f64, f64),
    marker: String,
}

/// A case of the resume fixture.
struct Made {
    id: i64,
    place: &'static str,
    description: &'static str,
    /// Dispatched to the grid worker of the first grid: what their `assigned_to_me` shows.
    mine: bool,
    due: Option<chrono::DateTime<chrono::Utc>>,
}

/// One subscription of a viewer: its id, channel and filter, the region it covers (the
/// filter's, else the viewer's scope), and whether it shows only the worker's own cases.
struct Watch {
    id: &'static str,
    channel: &'static str,
    filter: Value,
    region: String,
    mine_only: bool,
}

/// A region-scoped user of the resume fixture and the places in their region.
struct Viewer {
    name: &'static str,
    token: String,
    sees: &'static [&'static str],
    watches: Vec<Watch>,
}

/// Whether an aggregate's rows (statistics by `region`, indicators by `code`) include the
/// row of `own`: the region's own content, not only the absence of others'.
fn aggregate_shows(items: &[Value], own: &str) -> bool {
    items.iter().any(|i| i["region"] == own || i["code"] == own)
}

/// The offsets of `channel` after `after` that the log tags with `region`, with their
/// keys, in order: what a resume of a subscription of that region must replay. On the
/// devices channel only the latest of each key is replayed.
async fn logged_since(server: &Server, channel: &str, after: u64, region: &str) -> Vec<(String, u64)> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT key, seq FROM live_log WHERE channel = $1 AND seq > $2 AND $3 = ANY(regions) ORDER BY seq",
    )
    .bind(channel)
    .bind(after as i64)
    .bind(region)
    .fetch_all(server.store.pool())
    .await
    .unwrap();
    let mut rows: Vec<(String, u64)> = rows.into_iter().map(|(key, seq)| (key, seq as u64)).collect();
    if channel == "devices" {
        let mut seen = BTreeSet::new();
        rows.reverse();
        rows.retain(|(key, _)| seen.insert(key.clone()));
        rows.reverse();
    }
    rows
}

/// Resuming filters in other code than live delivery (the channel history, the hub's
/// replay), so it is checked on its own: users of a street and of one grid watch every
/// channel they may use, with and without filters, record their offsets and drop; cases
/// are created and acted on, alarms raised and devices report in their region, next to it
/// and in another street; they resume. Each subscription gets from the history exactly the
/// log's entries of its region (by offset) and none of the others (by content), with the
/// reporter masked. A resume that cannot be served (another epoch, an offset ahead, the
/// aggregates) gets a fresh snapshot, checked the same way.
#[tokio::test]
async fn a_region_scoped_user_resumes_every_change_of_their_region_and_nothing_else() {
    let server = Server::start().await;
    let (street, village) = ("330304001", "330304001002");
    let (g0, g0_lon, g0_lat) = server.grid_of_fanrong(0).await;
    let (g1, g1_lon, g1_lat) = server.grid_of_fanrong(1).await;
    let other_street = server.street_other_than(street).await;
    let (_, grids) = server.get(&format!("/api/regions?level=grid&parent={other_street}")).await;
    let out_grid = grids["features"][0]["properties"]["code"].as_str().unwrap().to_string();
    let (_, out_region) = server.get(&format!("/api/regions/{out_grid}")).await;
    let c = &out_region["properties"]["centre"];
    let out_at = (c[0].as_f64().unwrap(), c[1].as_f64().unwrap());
    let places = [
        Place { name: "g0", grid: g0.clone(), at: (g0_lon, g0_lat), marker: g0.clone() },
        Place { name: "g1", grid: g1.clone(), at: (g1_lon, g1_lat), marker: g1.clone() },
        Place { name: "out", grid: out_grid.clone(), at: out_at, marker: other_street.clone() },
    ];
    let place = |name: &str| places.iter().find(|p| p.name == name).unwrap();
    let alarms = |n: u32| -> Vec<Update> {
        let alarm = |p: &Place| Update {
            channel: Channel::Alarms,
            key: format!("resume-alarm-{}-{n}", p.name),
            regions: regions_of(&p.grid),
            position: Some(p.at),
            layer: None,
            payload: json!({"rule": "level_high", "place": p.name, "n": n}),
        };
        places.iter().map(alarm).collect()
    };
    let gauges = |n: u32| -> Vec<Update> {
        let gauge = |p: &Place| Update {
            channel: Channel::Devices,
            key: format!("resume-gauge-{}", p.name),
            regions: regions_of(&p.grid),
            position: Some(p.at),
            layer: Some("water_level_river".into()),
            payload: json!({"place": p.name, "n": n, "level_m": f64::from(n)}),
        };
        places.iter().map(gauge).collect()
    };
    let centre = server.token("resume-centre", "dispatcher").await;
    let scoped = |id: &'static str, channel: &'static str, filter: Value, scope: &str| {
        let region = filter["region"].as_str().unwrap_or(scope).to_string();
        let mine_only = filter["assigned_to_me"] == true;
        Watch { id, channel, filter, region, mine_only }
    };
    // Every channel each may use, unfiltered and with each kind of filter they may give.
    let viewers = [
        Viewer {
            name: "resume-leader",
            token: server.user("resume-leader", &["leader"], street, None).await,
            sees: &["g0", "g1"],
            watches: vec![
                scoped("cases", "cases", json!({}), street),
                scoped("village", "cases", json!({"region": village}), street),
                scoped("alarms", "alarms", json!({}), street),
                scoped("devices", "devices", json!({}), street),
                scoped("statistics", "statistics", json!({}), street),
                scoped("indicators", "indicators", json!({}), street),
            ],
        },
        Viewer {
            name: "resume-dispatcher",
            token: server.user("resume-dispatcher", &["dispatcher"], street, None).await,
            sees: &["g0", "g1"],
            watches: vec![
                scoped("cases", "cases", json!({"region": street}), street),
                scoped("alarms", "alarms", json!({"region": street}), street),
                scoped("devices", "devices", json!({"layer": "water_level_river"}), street),
                scoped("statistics", "statistics", json!({"region": village}), street),
                scoped("indicators", "indicators", json!({"region": street}), street),
            ],
        },
        Viewer {
            name: "resume-grid-worker",
            token: server.user("resume-grid-worker", &["grid_worker"], &g0, None).await,
            sees: &["g0"],
            watches: vec![
                scoped("cases", "cases", json!({}), &g0),
                scoped("mine", "cases", json!({"assigned_to_me": true}), &g0),
                scoped("grid", "cases", json!({"region": g0}), &g0),
                scoped("alarms", "alarms", json!({}), &g0),
                scoped("devices", "devices", json!({"region": g0}), &g0),
            ],
        },
    ];
    let mut made: Vec<Made> = Vec::new();
    // Distinct categories at one spot, so that no case is linked to another as a duplicate
    // (a duplicate is neither dispatched nor given a deadline). Exposed rubbish and street
    // vending go to the grid's worker, night construction to the construction bureau.
    let cases = [("g0", "0102", "续传前网格内"), ("g1", "0102", "续传前邻网格"), ("out", "0102", "续传前街道外")];
    for (name, category, description) in cases {
        let case = create_case_of(&server, &centre, category, place(name).at, description).await;
        made.push(Made {
            id: case["id"].as_i64().unwrap(),
            place: name,
            description,
            mine: name == "g0" && case["assignee"]["kind"] == "grid_worker",
            due: case["deadline"]["due_at"].as_str().map(|d| d.parse().unwrap()),
        });
    }
    publish(&server.store, &[alarms(0), gauges(0)].concat()).await.unwrap();
    let unseen = |viewer: &Viewer, made: &[Made]| Unseen {
        cases: made.iter().filter(|m| !viewer.sees.contains(&m.place)).map(|m| m.id).collect(),
        keys: places
            .iter()
            .filter(|p| !viewer.sees.contains(&p.name))
            .flat_map(|p| [format!("resume-alarm-{}-", p.name), format!("resume-gauge-{}", p.name)])
            .collect(),
        regions: places.iter().filter(|p| !viewer.sees.contains(&p.name)).map(|p| p.marker.clone()).collect(),
        texts: REPORTER
            .iter()
            .map(|t| t.to_string())
            .chain(made.iter().filter(|m| !viewer.sees.contains(&m.place)).map(|m| m.description.to_string()))
            .collect(),
    };

    // They watch, see one more alarm and device value of each place, and drop.
    let mut failures: Vec<String> = Vec::new();
    let mut epoch = 0;
    let mut points: Vec<HashMap<&str, u64>> = Vec::new();
    let mut connections = Vec::new();
    for viewer in &viewers {
        let mut ws = Ws::connect(server.addr, &viewer.token).await;
        let mut last = HashMap::new();
        for w in &viewer.watches {
            let answer = ws.subscribe(w.id, w.channel, w.filter.clone(), None).await;
            assert_eq!(answer[0]["type"], "snapshot", "{} {}: {answer:?}", viewer.name, w.id);
            epoch = answer[0]["epoch"].as_u64().unwrap();
            last.insert(w.id, answer[0]["offset"].as_u64().unwrap());
            unseen(viewer, &made).check(&format!("{} {} snapshot", viewer.name, w.id), &answer, &mut failures);
        }
        connections.push((ws, last));
    }
    publish(&server.store, &[alarms(1), gauges(1)].concat()).await.unwrap();
    for (viewer, (mut ws, mut last)) in viewers.iter().zip(connections) {
        let mut got = ws.until(|m| m["id"] == "alarms" && m["key"] == "resume-alarm-g0-1").await;
        got.extend(ws.drain().await);
        unseen(viewer, &made).check(&format!("{} live", viewer.name), &got, &mut failures);
        for m in got.iter().filter(|m| m["type"] == "delta") {
            if let Some(seen) = last.get_mut(m["id"].as_str().unwrap()) {
                *seen = (*seen).max(m["offset"].as_u64().unwrap());
            }
        }
        points.push(last);
    }

    // While they are away: cases created in every place, every case acted on (supervised,
    // then warned and overdue by the deadline scheduler, which also raises alarms about
    // them), alarms raised and devices reporting twice in every place.
    let cases = [
        ("g0", "0402", "续传后网格内占道"),
        ("g0", "0301", "续传后网格内施工"),
        ("g1", "0402", "续传后邻网格"),
        ("out", "0402", "续传后街道外"),
    ];
    for (name, category, description) in cases {
        let case = create_case_of(&server, &centre, category, place(name).at, description).await;
        made.push(Made {
            id: case["id"].as_i64().unwrap(),
            place: name,
            description,
            mine: name == "g0" && case["assignee"]["kind"] == "grid_worker",
            due: case["deadline"]["due_at"].as_str().map(|d| d.parse().unwrap()),
        });
    }
    let mine: Vec<&str> = made.iter().filter(|m| m.mine).map(|m| m.description).collect();
    assert_eq!(mine, ["续传前网格内", "续传后网格内占道"], "the worker's own cases, not the bureau's");
    for case in &made {
        let path = format!("/api/cases/{}/actions", case.id);
        let (status, body) =
            server.post_with(&centre, &path, &json!({"action": "supervise", "note": "续传督办"})).await;
        assert_eq!(status, 200, "{body}");
    }
    publish(&server.store, &[alarms(2), gauges(2)].concat()).await.unwrap();
    publish(&server.store, &gauges(3)).await.unwrap();
    let due = made.iter().filter_map(|m| m.due).max().expect("cases with deadlines");
    let fired = cockpit_server::deadlines::tick(&server.store, due, chrono::TimeDelta::minutes(30)).await.unwrap();
    assert!(fired.warnings > 0 && fired.overdue_alarms > 0, "{fired:?}");
    // The hub has read all of it before they come back: what they missed is replayed from
    // its history, the code under test, not delivered live.
    let (head,): (i64,) = sqlx::query_as("SELECT last FROM live_head").fetch_one(server.store.pool()).await.unwrap();
    crate::common::eventually_within(
        "the hub read the whole log",
        HANG,
        || async { server.get_with(&centre, "/api/live/status").await.1 },
        |s| s["offset"].as_i64() >= Some(head),
    )
    .await;
    let head = head as u64;

    for (viewer, point) in viewers.iter().zip(&points) {
        let unseen = unseen(viewer, &made);
        let seen_cases = |mine_only: bool| -> BTreeSet<i64> {
            made.iter().filter(|m| viewer.sees.contains(&m.place) && (m.mine || !mine_only)).map(|m| m.id).collect()
        };
        let mut ws = Ws::connect(server.addr, &viewer.token).await;
        let mut all = Vec::new();
        let mut wanted: Vec<Wanted> = Vec::new();
        let mut expected: BTreeMap<&str, Vec<(String, u64)>> = BTreeMap::new();
        for w in &viewer.watches {
            let answer = ws.subscribe(w.id, w.channel, w.filter.clone(), Some((epoch, point[w.id]))).await;
            all.extend(answer.iter().cloned());
            if matches!(w.channel, "statistics" | "indicators") {
                // Aggregates: always a fresh snapshot, checked below with the others.
                assert_eq!(answer[0]["reason"], "state_only", "{} {}: {answer:?}", viewer.name, w.id);
                continue;
            }
            assert_eq!(answer[0]["type"], "resumed", "{} {}: {answer:?}", viewer.name, w.id);
            assert!(answer[0]["offset"].as_u64() >= Some(head), "the hub had read everything: {}", answer[0]);
            let mut rows = logged_since(&server, w.channel, point[w.id], &w.region).await;
            if w.mine_only {
                let keys: Vec<String> = seen_cases(true).iter().map(|id| format!("case:{id}")).collect();
                rows.retain(|(key, _)| keys.contains(key));
            }
            for (key, offset) in &rows {
                let (id, key, offset) = (w.id, key.clone(), *offset);
                wanted.push((
                    format!("{} {}: {key} at {offset}", viewer.name, w.id),
                    Box::new(move |m| {
                        m["type"] == "delta" && m["id"] == id && m["key"] == key && m["offset"] == offset
                    }),
                ));
            }
            expected.insert(w.id, rows);
        }
        let (got, missing) = ws.until_all(wanted).await;
        all.extend(got);
        all.extend(ws.drain().await);
        for m in missing {
            failures.push(format!("not replayed: {m}"));
        }

        // Exactly the log's entries of each subscription's region, once, in order.
        for w in viewer.watches.iter().filter(|w| expected.contains_key(w.id)) {
            let deltas: Vec<&Value> = all.iter().filter(|m| m["type"] == "delta" && m["id"] == w.id).collect();
            let replayed: Vec<(String, u64)> = deltas
                .iter()
                .map(|m| (m["key"].as_str().unwrap().to_string(), m["offset"].as_u64().unwrap()))
                .collect();
            if replayed != expected[w.id] {
                failures
                    .push(format!("{} {}: replayed {replayed:?}, the log has {:?}", viewer.name, w.id, expected[w.id]));
            }
            // And by content: every case of the region (each was acted on), every alarm and
            // device of it, the deadline alarms of its cases.
            match w.channel {
                "cases" => {
                    let ids: BTreeSet<i64> = deltas.iter().filter_map(|m| m["data"]["id"].as_i64()).collect();
                    if ids != seen_cases(w.mine_only) {
                        failures.push(format!(
                            "{} {}: cases {ids:?}, expected {:?}",
                            viewer.name,
                            w.id,
                            seen_cases(w.mine_only)
                        ));
                    }
                }
                "alarms" => {
                    let keys: BTreeSet<&str> = deltas.iter().map(|m| m["key"].as_str().unwrap()).collect();
                    let raised = viewer.sees.iter().map(|p| format!("resume-alarm-{p}-2"));
                    let overdue = made
                        .iter()
                        .filter(|m| viewer.sees.contains(&m.place) && m.due.is_some())
                        .map(|m| format!("case:{}:overdue", m.id));
                    for key in raised.chain(overdue) {
                        if !keys.contains(key.as_str()) {
                            failures.push(format!("{} {}: no {key} in {keys:?}", viewer.name, w.id));
                        }
                    }
                }
                _ => {
                    let latest: BTreeMap<String, u64> = deltas
                        .iter()
                        .map(|m| (m["key"].as_str().unwrap().to_string(), m["data"]["n"].as_u64().unwrap()))
                        .collect();
                    let wanted: BTreeMap<String, u64> =
                        viewer.sees.iter().map(|p| (format!("resume-gauge-{p}"), 3)).collect();
                    if latest != wanted {
                        failures
                            .push(format!("{} {}: device values {latest:?}, expected {wanted:?}", viewer.name, w.id));
                    }
                }
            }
        }

        // A resume that cannot be served: another epoch, or an offset the stream has not
        // reached, or an aggregate; a fresh snapshot of the region follows.
        let mut later: Vec<Wanted> = Vec::new();
        for (n, w) in viewer.watches.iter().enumerate() {
            let (resume, reason) = match w.channel {
                "statistics" | "indicators" => ((epoch, point[w.id]), "state_only"),
                _ if n == 0 => ((epoch, head + 1000), "ahead"),
                _ => ((epoch + 1, point[w.id]), "epoch_changed"),
            };
            let id = format!("{}-again", w.id);
            let answer = ws.subscribe(&id, w.channel, w.filter.clone(), Some(resume)).await;
            let who = format!("{} {id}", viewer.name);
            assert_eq!(
                (answer[0]["type"].as_str(), answer[0]["reason"].as_str()),
                (Some("not_recovered"), Some(reason)),
                "{who}: {answer:?}"
            );
            assert_eq!(answer[1]["type"], "snapshot", "{who}: {answer:?}");
            all.extend(answer.iter().cloned());
            let items = answer[1]["items"].as_array().unwrap();
            let key = |i: &Value| i["key"].as_str().unwrap_or_default().to_string();
            let present = match w.channel {
                "cases" => {
                    let ids: BTreeSet<i64> = items.iter().filter_map(|c| c["id"].as_i64()).collect();
                    ids == seen_cases(w.mine_only)
                }
                "alarms" => {
                    let keys: BTreeSet<String> = items.iter().map(key).collect();
                    viewer.sees.iter().all(|p| (0..3).all(|n| keys.contains(&format!("resume-alarm-{p}-{n}"))))
                }
                "devices" => {
                    let mut values: Vec<(String, u64)> =
                        items.iter().map(|i| (key(i), i["data"]["n"].as_u64().unwrap())).collect();
                    values.sort();
                    values == viewer.sees.iter().map(|p| (format!("resume-gauge-{p}"), 3)).collect::<Vec<_>>()
                }
                // Aggregates: every row inside the region at once, and the region's own (today's
                // cases of the first grid, the region's indicators) in the snapshot or, where
                // the table the server holds predates the last changes, in the replace that
                // follows within a recomputation (docs/live.md).
                _ => {
                    if !items
                        .iter()
                        .all(|i| i["region"].as_str().or(i["code"].as_str()).unwrap().starts_with(&w.region))
                    {
                        failures.push(format!("{who}: rows outside {}: {}", w.region, answer[1]));
                    }
                    let own = if w.channel == "statistics" { g0.clone() } else { w.region.clone() };
                    if !aggregate_shows(items, &own) {
                        let id = id.clone();
                        later.push((
                            format!("{who}: {own} in the snapshot or a replace"),
                            Box::new(move |m| {
                                m["id"] == id.as_str()
                                    && m["op"] == "replace"
                                    && aggregate_shows(m["data"]["items"].as_array().unwrap(), &own)
                            }),
                        ));
                    }
                    true
                }
            };
            if !present {
                failures.push(format!("{who}: the snapshot lacks the region's own: {}", answer[1]));
            }
        }
        let (got, missing) = ws.until_all(later).await;
        all.extend(got);
        failures.extend(missing.into_iter().map(|m| format!("never shown: {m}")));
        all.extend(ws.drain().await);
        unseen.check(&format!("{} resumed", viewer.name), &all, &mut failures);
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}
