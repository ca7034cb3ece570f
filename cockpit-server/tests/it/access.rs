//! The access matrix, written by hand from `docs/security.md` ("Routes by role") and the
//! tender, not from the server's declarations or role bundles: every route, called as
//! every shipped role and without a login, with data both inside and outside the caller's
//! region, by a user of a street (a grid worker: of a grid) and by one of the whole
//! district. An allowed cell must answer; a refused one must answer 403 (401 without a
//! login); a region-bound one must answer 404 for one object outside the caller's scope and
//! leave such objects out of a list, an export or a count, which is checked in the content.
//! No answer may carry a reporter's name or phone in the clear, except the unmasking route.
//!
//! The table is the reviewer's copy of the rules: a route that exists without a row fails
//! [`every_route_has_a_row_and_every_row_a_route`], so a new route needs a decision here.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::io::Read;
use std::net::SocketAddr;
use std::time::Duration;

use crate::common::Server;
use cockpit_server::route_table;
use reqwest::Method;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde_json::{Value, json};

/// A file that passes for a PNG photo.
const PHOTO: &[u8] = b"\x89PNG\r\n\x1a\n0000";

/// The accounts and roles a row's target names: a leader's (the default), and each
/// administrator role's.
const TARGETS: [(&str, &str); 4] = [
    ("", "leader"),
    ("auditor", "auditor"),
    ("sysadmin", "system_administrator"),
    ("secadmin", "security_administrator"),
];

/// The table's columns, in order, then the anonymous caller.
const ROLES: [&str; 8] = [
    "commander",
    "leader",
    "dispatcher",
    "department_handler",
    "grid_worker",
    "auditor",
    "system_administrator",
    "security_administrator",
];

/// One row per route (and a few more for the accounts an administrator must not touch):
/// `(route, target, cells)`. The cells are, in the order of [`ROLES`] and then the caller
/// without a login:
/// - `y` allowed (for a public route: the same answer as without a login),
/// - `r` allowed within the caller's scope: one object outside it is 404, a list, export
///   or count leaves it out,
/// - `n` refused: 403 (401 without a login),
/// - `u` not for users at all: 401 (a source system's own token only).
///
/// Columns: C commander, L leader, D dispatcher, H department handler, G grid worker,
/// A auditor, S system administrator, X security administrator, `-` without a login.
///
/// The target names what a row acts on where it is not the default (a leader's account,
/// the leader's role): `auditor`, `sysadmin`, `secadmin` (an account of that role, or for
/// `/api/roles/{role}` the security administrator's own role), `self` (the caller's own
/// account).
#[rustfmt::skip]
const TABLE: &[(&str, &str, &str)] = &[
    //                                                           C L D H G A S X -
    // Public: health, the API description, logging in, Open311 for citizens.
    ("GET /healthz",                                "",         "y y y y y y y y y"),
    ("GET /openapi.json",                           "",         "y y y y y y y y y"),
    ("GET /api/docs",                               "",         "y y y y y y y y y"),
    ("GET /api/docs/{file}",                        "",         "y y y y y y y y y"),
    ("POST /api/auth/login",                        "",         "y y y y y y y y y"),
    ("POST /api/auth/refresh",                      "",         "y y y y y y y y y"),
    ("GET /open311/v2/services.json",               "",         "y y y y y y y y y"),
    ("GET /open311/v2/requests.json",               "",         "y y y y y y y y y"),
    ("POST /open311/v2/requests.json",              "",         "y y y y y y y y y"),
    ("GET /open311/v2/requests/{file}",             "",         "y y y y y y y y y"),
    // One's own session, password and second factor; the permission catalogue.
    ("GET /api/auth/me",                            "",         "y y y y y y y y n"),
    // Failed logins of every username: the security administrator is told.
    ("GET /api/auth/login-failures",                "",         "n n n n n n n y n"),
    ("POST /api/auth/password",                     "",         "y y y y y y y y n"),
    ("POST /api/auth/totp/enrol",                   "",         "y y y y y y y y n"),
    ("POST /api/auth/totp/confirm",                 "",         "y y y y y y y y n"),
    ("GET /api/permissions",                        "",         "y y y y y y y y n"),
    // The map: everyone with work on it reads it; the system administrator keeps it.
    ("GET /api/regions",                            "",         "y y y y y n y n n"),
    ("GET /api/regions/{code}",                     "",         "y y y y y n y n n"),
    ("GET /api/locate",                             "",         "y y y y y n y n n"),
    ("GET /api/search",                             "",         "y y y y y n y n n"),
    ("GET /api/layers",                             "",         "y y y y y n y n n"),
    ("GET /api/layers/{name}",                      "",         "y y y y y n y n n"),
    ("GET /api/nearby",                             "",         "y y y y y n y n n"),
    ("PUT /api/layers/{name}",                      "",         "n n n n n n y n n"),
    ("PUT /api/regions/{code}/boundary",            "",         "n n n n n n y n n"),
    ("PUT /api/regions/{code}/persons",             "",         "n n n n n n y n n"),
    // Cases: read in scope (a handler: their department's; a grid worker: their grid's);
    // a department handler's report waits for approval (提报).
    ("GET /api/cases",                              "",         "r r r r r n n n n"),
    ("POST /api/cases",                             "",         "y n y y y n n n n"),
    ("GET /api/cases/{id}",                         "",         "r r r r r n n n n"),
    ("GET /api/categories",                         "",         "y y y y y n n n n"),
    ("GET /api/cases/{id}/dispatch-suggestion",     "",         "r n r n n n n n n"),
    ("GET /api/dispatch/targets",                   "",         "r n r n n n n n n"),
    ("GET /api/cases/{id}/reporter",                "",         "r n r n n n n n n"),
    // A supervision note: the commander, the leader, the dispatcher.
    ("POST /api/cases/{id}/actions",                "",         "r r r n n n n n n"),
    ("POST /api/cases/{id}/alarms/acknowledge",     "",         "r n r n n n n n n"),
    ("POST /api/cases/{id}/attachments",            "",         "r n r r r n n n n"),
    ("GET /api/attachments/{id}",                   "",         "r r r r r n n n n"),
    // Statistics and indicators: the wall's readers; exports: the centre's staff who see
    // every case of their region.
    ("GET /api/cases/stats",                        "",         "r r r r n n n n n"),
    ("GET /api/indicators",                         "",         "r r r n n n n n n"),
    ("GET /api/cases/export.csv",                   "",         "r r r n n n n n n"),
    ("GET /api/cases/export.xlsx",                  "",         "r r r n n n n n n"),
    // The indicator catalogue and its values: read by the wall's and the statistics'
    // readers and by those who keep or enter indicators; kept by the commander and the
    // system administrator; values entered by the centre and the departments that own
    // them; pushed by other systems with their own tokens.
    ("GET /api/indicators/catalogue",               "",         "y y y y n n y n n"),
    ("GET /api/indicators/catalogue/export.csv",    "",         "y y y y n n y n n"),
    ("GET /api/indicators/catalogue/{id}",          "",         "y y y y n n y n n"),
    ("GET /api/indicators/catalogue/{id}/values",   "",         "y y y y n n y n n"),
    ("GET /api/indicators/catalogue/{id}/compare",  "",         "y y y y n n y n n"),
    ("POST /api/indicators/catalogue",              "",         "y n n n n n y n n"),
    ("PUT /api/indicators/catalogue/{id}",          "",         "y n n n n n y n n"),
    ("PUT /api/indicators/catalogue/{id}/published", "",        "y n n n n n y n n"),
    ("PUT /api/indicators/catalogue/{id}/values",   "",         "y n y y n n n n n"),
    ("GET /api/indicators/sources",                 "",         "y n n n n n y n n"),
    ("POST /api/indicators/sources",                "",         "y n n n n n y n n"),
    ("POST /api/indicators/push/{source}",          "",         "u u u u u u u u u"),
    ("DELETE /api/indicators/catalogue/{id}",       "",         "y n n n n n y n n"),
    // Pulled sources: kept as the push sources are (their headers hold other systems' tokens).
    ("GET /api/indicators/pulls",                   "",         "y n n n n n y n n"),
    ("GET /api/indicators/pulls/{id}",              "",         "y n n n n n y n n"),
    ("PUT /api/indicators/pulls/{id}",              "",         "y n n n n n y n n"),
    ("POST /api/indicators/pulls/test-fetch",       "",         "y n n n n n y n n"),
    ("DELETE /api/indicators/pulls/{id}",           "",         "y n n n n n y n n"),
    // Thresholds: read as the catalogue is, kept as it is; indicator alarms read as the
    // catalogue is (cut to the caller's scope), acknowledged by those who acknowledge alarms.
    ("GET /api/indicators/catalogue/{id}/threshold", "",        "y y y y n n y n n"),
    ("PUT /api/indicators/catalogue/{id}/threshold", "",        "y n n n n n y n n"),
    ("GET /api/indicators/alarms",                  "",         "r r r r n n r n n"),
    ("POST /api/indicators/alarms/{id}/acknowledge", "",        "r n r n n n n n n"),
    // Assessment and the vital-sign index: read as the catalogue is (results published,
    // or any to those who keep models); models kept and results published as the
    // catalogue is kept.
    ("GET /api/assessment/models",                  "",         "y y y y n n y n n"),
    ("GET /api/assessment/models/{id}",             "",         "y y y y n n y n n"),
    ("GET /api/assessment/results",                 "",         "y y y y n n y n n"),
    ("GET /api/assessment/compare",                 "",         "y y y y n n y n n"),
    ("GET /api/indicators/vital-signs",             "",         "y y y y n n y n n"),
    ("POST /api/assessment/models",                 "",         "y n n n n n y n n"),
    ("PUT /api/assessment/models/{id}",             "",         "y n n n n n y n n"),
    ("PUT /api/assessment/results/published",       "",         "y n n n n n y n n"),
    // Sources: a source system's token only, then the list and its switch; the case rules.
    ("POST /api/intake/{source}",                   "",         "u u u u u u u u u"),
    ("GET /api/sources",                            "",         "y n y n n n y n n"),
    ("PUT /api/sources/{id}/enabled",               "",         "y n y n n n y n n"),
    ("POST /api/sources/{id}/token",                "",         "y n y n n n y n n"),
    // Open311 keys, one per citizens' application: issued and revoked with the sources.
    ("GET /api/open311/keys",                       "",         "y n y n n n y n n"),
    ("POST /api/open311/keys",                      "",         "y n y n n n y n n"),
    ("POST /api/open311/keys/{id}/revoke",          "",         "y n y n n n y n n"),
    ("GET /api/config/rules",                       "",         "n n n n n n y n n"),
    ("PUT /api/config/rules/{name}",                "",         "n n n n n n y n n"),
    // Sensors: read in scope by every role with field or centre work, acknowledged by the
    // centre; the system administrator keeps the registry.
    ("GET /api/devices",                            "",         "r r r r r n r n n"),
    ("POST /api/devices",                           "",         "n n n n n n y n n"),
    ("POST /api/devices/import",                    "",         "n n n n n n y n n"),
    ("GET /api/devices/health",                     "",         "r r r r r n r n n"),
    ("GET /api/devices/{id}",                       "",         "r r r r r n r n n"),
    ("GET /api/devices/{id}/history",               "",         "r r r r r n r n n"),
    ("GET /api/iot",                                "",         "r r r r r n r n n"),
    ("GET /api/iot/metrics",                        "",         "r r r r r n r n n"),
    ("GET /api/alarms",                             "",         "r r r r r n r n n"),
    ("GET /api/alarms/{id}",                        "",         "r r r r r n r n n"),
    ("POST /api/alarms/{id}/acknowledge",           "",         "r n r n n n n n n"),
    // Live streams: whoever may subscribe to some channel; the hub's status is the wall's.
    ("GET /api/live",                               "",         "y y y y y n y n n"),
    ("GET /api/live/status",                        "",         "y y y n n n n n n"),
    // Backups and the archive's lag: the system administrator, who keeps the system.
    ("GET /api/backup/status",                      "",         "n n n n n n y n n"),
    // Accounts and departments: the system administrator; roles: the security
    // administrator; neither acts on another administrator's account or on their own role.
    ("GET /api/users",                              "",         "n n n n n n y y n"),
    ("POST /api/users",                             "",         "n n n n n n y n n"),
    ("PUT /api/users/{id}",                         "",         "n n n n n n y n n"),
    ("PUT /api/users/{id}",                         "auditor",  "n n n n n n n n n"),
    ("PUT /api/users/{id}",                         "secadmin", "n n n n n n n n n"),
    ("POST /api/users/{id}/password",               "",         "n n n n n n y n n"),
    ("POST /api/users/{id}/password",               "auditor",  "n n n n n n n n n"),
    ("POST /api/users/{id}/password",               "secadmin", "n n n n n n n n n"),
    ("PUT /api/users/{id}/roles",                   "",         "n n n n n n n y n"),
    ("PUT /api/users/{id}/roles",                   "auditor",  "n n n n n n n n n"),
    ("PUT /api/users/{id}/roles",                   "sysadmin", "n n n n n n n n n"),
    ("PUT /api/users/{id}/roles",                   "self",     "n n n n n n n n n"),
    ("GET /api/roles",                              "",         "n n n n n n y y n"),
    ("PUT /api/roles/{role}",                       "",         "n n n n n n n y n"),
    ("PUT /api/roles/{role}",                       "secadmin", "n n n n n n n n n"),
    ("GET /api/departments",                        "",         "n n n n n n y y n"),
    ("POST /api/departments",                       "",         "n n n n n n y n n"),
    // The audit trail: the auditor alone (after the rows above, so it holds their records).
    ("GET /api/audit",                              "",         "n n n n n y n n n"),
    ("GET /api/audit/verify",                       "",         "n n n n n y n n n"),
    ("GET /api/audit/export.csv",                   "",         "n n n n n y n n n"),
    // Last: these end the caller's sessions.
    ("POST /api/auth/logout",                       "",         "y y y y y y y y n"),
    ("POST /api/auth/logout-everywhere",            "",         "y y y y y y y y n"),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cell {
    Allowed,
    InScope,
    Refused,
    NotAUser,
}

impl Cell {
    fn parse(c: &str) -> Cell {
        match c {
            "y" => Cell::Allowed,
            "r" => Cell::InScope,
            "n" => Cell::Refused,
            "u" => Cell::NotAUser,
            other => panic!("`{other}` is not a cell (y, r, n, u)"),
        }
    }

    fn letter(self) -> char {
        match self {
            Cell::Allowed => 'y',
            Cell::InScope => 'r',
            Cell::Refused => 'n',
            Cell::NotAUser => 'u',
        }
    }
}

/// A row, parsed.
struct Row {
    method: Method,
    path: &'static str,
    target: &'static str,
    cells: Vec<Cell>,
}

fn rows() -> Vec<Row> {
    TABLE
        .iter()
        .map(|(route, target, cells)| {
            let (method, path) = route.split_once(' ').unwrap_or_else(|| panic!("`{route}`: METHOD /path"));
            let cells: Vec<Cell> = cells.split_whitespace().map(Cell::parse).collect();
            assert_eq!(cells.len(), ROLES.len() + 1, "{route} {target}: a cell per role and one without a login");
            Row { method: method.parse().unwrap(), path, target, cells }
        })
        .collect()
}

/// What kind of object a route's path names, where that object lies somewhere.
fn object_of(path: &str) -> Option<Kind> {
    if path.starts_with("/api/cases/{id}") {
        Some(Kind::Case)
    } else if path == "/api/attachments/{id}" {
        Some(Kind::Attachment)
    } else if path.starts_with("/api/devices/{id}") {
        Some(Kind::Device)
    } else if path.starts_with("/api/alarms/{id}") {
        Some(Kind::Alarm)
    } else if path.starts_with("/api/indicators/alarms/{id}") {
        Some(Kind::IndicatorAlarm)
    } else {
        None
    }
}

/// What a route lists, counts or exports, where that lies somewhere.
fn listing_of(method: &Method, path: &str) -> &'static [Kind] {
    if method != Method::GET {
        return &[];
    }
    match path {
        "/api/cases" | "/api/cases/export.csv" | "/api/cases/export.xlsx" => &[Kind::Case],
        "/api/cases/stats" | "/api/indicators" | "/api/devices/health" => &[Kind::Street],
        "/api/devices" => &[Kind::Device],
        "/api/alarms" => &[Kind::Alarm],
        "/api/indicators/alarms" => &[Kind::IndicatorAlarm],
        "/api/iot" => &[Kind::Device, Kind::Rejection],
        "/api/iot/metrics" => &[Kind::Rejection],
        "/api/dispatch/targets" => &[Kind::Person],
        _ => &[],
    }
}

/// Each route exists exactly when it has a row: a new route needs a decision in the table
/// (and in docs/security.md), and a row for a removed route goes.
#[test]
fn every_route_has_a_row_and_every_row_a_route() {
    let declared: BTreeSet<String> = route_table().iter().map(|r| format!("{} {}", r.method, r.path)).collect();
    let rows = rows();
    let written: BTreeSet<String> = rows.iter().map(|r| format!("{} {}", r.method, r.path)).collect();
    let missing: Vec<&String> = declared.difference(&written).collect();
    let stale: Vec<&String> = written.difference(&declared).collect();
    assert!(missing.is_empty(), "routes without a row in the access table: {missing:?}");
    assert!(stale.is_empty(), "rows for routes that do not exist: {stale:?}");
    let defaults: Vec<String> =
        rows.iter().filter(|r| r.target.is_empty()).map(|r| format!("{} {}", r.method, r.path)).collect();
    assert_eq!(defaults.len(), declared.len(), "one row per route without a target: {defaults:?}");
    for row in &rows {
        let known = row.target == "self" || TARGETS.iter().any(|(t, _)| *t == row.target);
        assert!(known, "{} {}: no target `{}`", row.method, row.path, row.target);
        // A region-bound cell needs something that lies somewhere; without a login, only
        // public routes answer.
        let bound = object_of(row.path).is_some() || !listing_of(&row.method, row.path).is_empty();
        assert!(
            bound || !row.cells.contains(&Cell::InScope),
            "{} {}: `r` on a route of no region",
            row.method,
            row.path
        );
        assert!(!matches!(row.cells[ROLES.len()], Cell::InScope), "{} {}: `r` without a login", row.method, row.path);
        let public = row.cells[ROLES.len()] == Cell::Allowed;
        assert!(!public || row.cells.iter().all(|c| *c == Cell::Allowed), "{}: public for some only", row.path);
    }
}

/// What an object is; streets, rejections and people only appear in lists and counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Case,
    Attachment,
    Device,
    Alarm,
    IndicatorAlarm,
    Street,
    Rejection,
    Person,
}

/// Where something lies: its street and grid, and for a case the department it is
/// assigned to.
#[derive(Clone, Debug)]
struct Place {
    street: String,
    grid: String,
    department: Option<&'static str>,
}

/// Something of the fixture, and how to recognise it in an answer.
struct Object {
    kind: Kind,
    label: &'static str,
    /// Its id in a URL.
    id: String,
    /// A text only its appearance in an answer produces.
    marker: Marker,
    place: Place,
    /// A case's reporter: name and phone, never to be seen in the clear but when unmasked.
    reporter: Option<(&'static str, &'static str)>,
}

enum Marker {
    /// The text appears.
    Text(String),
    /// A region of this code is counted: an object with this `code` (and, where it counts
    /// cases by status, some above zero) or a key of this code. A region listed with
    /// nothing counted shows nothing of it.
    Region(String),
    /// A counter of this name is above zero (`"name": 2` in JSON, `name"} 2` in Prometheus).
    Counter(&'static str),
}

impl Marker {
    /// Some text around where the marker shows, for a failure's message.
    fn context(&self, text: &str) -> String {
        let name = match self {
            Marker::Text(t) | Marker::Region(t) => t.as_str(),
            Marker::Counter(name) => name,
        };
        let at = text.find(name).unwrap_or(0);
        let start = text.floor_char_boundary(at.saturating_sub(60));
        let end = text.ceil_char_boundary((at + name.len() + 60).min(text.len()));
        text[start..end].replace('\n', " ")
    }

    fn shown_in(&self, text: &str) -> bool {
        match self {
            Marker::Text(t) => text.contains(t.as_str()),
            Marker::Region(code) => serde_json::from_str(text).is_ok_and(|v| counts(&v, code)),
            Marker::Counter(name) => text.match_indices(name).any(|(at, _)| {
                let rest = text[at + name.len()..].trim_start_matches(['"', '}', ':', ' ']);
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                digits.parse::<u64>().is_ok_and(|n| n > 0)
            }),
        }
    }
}

/// Whether `value` counts something in the region `code` (see [`Marker::Region`]).
fn counts(value: &Value, code: &str) -> bool {
    match value {
        Value::Object(map) if map.get("code").and_then(Value::as_str) == Some(code) => match map.get("by_status") {
            Some(Value::Object(by_status)) => by_status.values().any(|n| n.as_u64().is_some_and(|n| n > 0)),
            _ => true,
        },
        Value::Object(map) => map.contains_key(code) || map.values().any(|v| counts(v, code)),
        Value::Array(items) => items.iter().any(|v| counts(v, code)),
        _ => false,
    }
}

/// A caller of the matrix: a role, over a street (a grid worker: a grid) or the district.
struct Caller {
    column: usize,
    role: &'static str,
    district: bool,
    username: String,
    token: String,
    id: i64,
}

impl Caller {
    /// Whether `place` is in this caller's scope.
    fn sees(&self, place: &Place, world: &World) -> bool {
        let region = self.district
            || if self.role == "grid_worker" { place.grid == world.grid } else { place.street == world.street };
        let department = self.role != "department_handler" || place.department.is_none_or(|d| d == "emergency");
        region && department
    }

    fn describe(&self, world: &World) -> String {
        let scope = if self.district {
            "district".to_string()
        } else if self.role == "grid_worker" {
            format!("grid {}", world.grid)
        } else {
            format!("street {}", world.street)
        };
        let department = if self.role == "department_handler" { ", emergency bureau" } else { "" };
        format!("{} ({scope}{department})", self.role)
    }
}

/// The fixture: cases, attachments, devices, alarms and indicator alarms inside the street
/// (and grid) of the street callers and in another street, and the accounts the user
/// routes act on.
struct World {
    street: String,
    grid: String,
    objects: Vec<Object>,
    /// Account ids by target name (`""` is a leader's account).
    accounts: Vec<(&'static str, i64)>,
}

impl World {
    fn of(&self, kind: Kind) -> impl Iterator<Item = &Object> {
        self.objects.iter().filter(move |o| o.kind == kind)
    }
}

async fn build_world(server: &Server) -> World {
    let street = "330304001".to_string();
    let other_street = server.street_other_than(&street).await;
    // Case A lies in the first grid of 繁荣社区 (景山街道), case A2 in its second grid, case B
    // in the first grid of another street. Burst pipes (05) go to the emergency bureau,
    // building-site noise (03) to the housing bureau.
    let (grid, lon, lat) = server.grid_of_fanrong(0).await;
    let (grid2, lon2, lat2) = server.grid_of_fanrong(1).await;
    let (_, street_b) = server.get(&format!("/api/regions/{other_street}")).await;
    let village_b = street_b["properties"]["children"][0]["code"].as_str().unwrap().to_string();
    let (_, village_b) = server.get(&format!("/api/regions/{village_b}")).await;
    let grid_b_json = &village_b["properties"]["children"][0];
    let grid_b = grid_b_json["code"].as_str().unwrap().to_string();
    let (lon_b, lat_b) = (grid_b_json["centre"][0].as_f64().unwrap(), grid_b_json["centre"][1].as_f64().unwrap());

    let at = |street: &str, grid: &str, department| Place { street: street.into(), grid: grid.into(), department };
    let reporters = [("测试丙", "13700007777"), ("测试戊", "13700005555"), ("测试丁", "13700008888")];
    let mut objects = Vec::new();
    let mut case_ids = Vec::new();
    #[rustfmt::skip]
    let cases = [
        ("case A", "矩阵甲案：管道破裂漏水", "0501", (lon, lat), at(&street, &grid, Some("emergency")), "区应急管理局"),
        ("case A2", "矩阵戊案：夜间施工扰民", "0301", (lon2, lat2), at(&street, &grid2, Some("housing")), "区住房和城乡建设局"),
        ("case B", "矩阵乙案：管道破裂漏水", "0501", (lon_b, lat_b), at(&other_street, &grid_b, Some("emergency")), "区应急管理局"),
    ];
    for ((label, description, category, (lon, lat), place, department), (name, phone)) in
        cases.into_iter().zip(reporters)
    {
        let (status, case) = server
            .post_as(
                "setup-dispatcher",
                "dispatcher",
                "/api/cases",
                &json!({"description": description, "category": category, "location": {"lon": lon, "lat": lat},
                        "reporter": {"name": name, "phone": phone}}),
            )
            .await;
        assert_eq!(status, 201, "{case}");
        assert_eq!(case["assignee"]["department"], department, "{label}: {case}");
        assert_eq!(case["grid"]["code"], place.grid.as_str(), "{label}: {case}");
        let id = case["id"].as_i64().unwrap();
        case_ids.push((label, id, place.clone()));
        objects.push(Object {
            kind: Kind::Case,
            label,
            id: id.to_string(),
            marker: Marker::Text(description.to_string()),
            place,
            reporter: Some((name, phone)),
        });
    }

    // A photo on each case, by a handler of the department it is assigned to.
    let mut handlers = std::collections::HashMap::new();
    for department in ["emergency", "housing"] {
        let handler = format!("setup-handler-{department}");
        handlers.insert(department, server.user(&handler, &["department_handler"], "330304", Some(department)).await);
    }
    for (label, id, place) in &case_ids {
        let token = &handlers[place.department.unwrap()];
        let upload = server
            .client
            .post(server.url(&format!("/api/cases/{id}/attachments")))
            .bearer_auth(token)
            .header("content-type", "image/png")
            .body(PHOTO.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(upload.status().as_u16(), 201, "attachment of {label}");
        let attachment = upload.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
        objects.push(Object {
            kind: Kind::Attachment,
            label: if *label == "case A" {
                "attachment of A"
            } else if *label == "case B" {
                "attachment of B"
            } else {
                "attachment of A2"
            },
            id: attachment.clone(),
            marker: Marker::Text(attachment),
            place: place.clone(),
            reporter: None,
        });
    }

    // A river gauge beside cases A and B, each with an alarm as the rules would raise it, and
    // each with a message the pipeline rejected (for A bad JSON, for B a wrong type).
    let admin = server.token("setup-sysadmin", "system_administrator").await;
    let (_, iot) = server.get_with(&admin, "/api/iot").await;
    let broker: SocketAddr = iot["broker"].as_str().expect("the embedded broker's address").parse().unwrap();
    for (label, device, place, lon, lat, payload, reason) in [
        ("device A", "WL-MX-IN", at(&street, &grid, None), lon, lat, "{not json", "bad_json"),
        ("device B", "WL-MX-OUT", at(&other_street, &grid_b, None), lon_b, lat_b, "[1, 2]", "wrong_type"),
    ] {
        let (status, answer) = server
            .post_with(
                &admin,
                "/api/devices",
                &json!({"id": device, "type": "water_level_river", "lon": lon, "lat": lat}),
            )
            .await;
        assert_eq!(status, 201, "{answer}");
        assert_eq!(answer["grid"]["code"], place.grid.as_str(), "{answer}");
        let password = answer["credential"]["password"].as_str().unwrap();
        publish_rejected(broker, device, password, payload).await;
        let alarm: i64 = sqlx::query_scalar(
            "INSERT INTO alarms (device_id, rule_id, severity, metric, state, raised_at, raised_value, peak_value,
                 peak_at, street_code, village_code, grid_code)
             SELECT id, 'river-high', 'major', 'water_level_m', 'active', now(), 4.8, 4.8, now(),
                 street_code, village_code, grid_code FROM devices WHERE id = $1 RETURNING id",
        )
        .bind(device)
        .fetch_one(server.store.pool())
        .await
        .unwrap();
        let marker = || Marker::Text(format!("\"{device}\""));
        objects.push(Object {
            kind: Kind::Device,
            label,
            id: device.to_string(),
            marker: marker(),
            place: place.clone(),
            reporter: None,
        });
        // An alarm names its device: in a list, the device's id shows the alarm.
        let alarm_label = if label == "device A" { "alarm of A" } else { "alarm of B" };
        objects.push(Object {
            kind: Kind::Alarm,
            label: alarm_label,
            id: alarm.to_string(),
            marker: marker(),
            place: place.clone(),
            reporter: None,
        });
        let rejection = if label == "device A" { "rejection of A" } else { "rejection of B" };
        objects.push(Object {
            kind: Kind::Rejection,
            label: rejection,
            id: String::new(),
            marker: Marker::Counter(reason),
            place,
            reporter: None,
        });
    }

    // An indicator alarm in each street, told apart by their values.
    for (label, code, grid, value) in
        [("indicator alarm of A", &street, &grid, "1111.5"), ("indicator alarm of B", &other_street, &grid_b, "2222.5")]
    {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO indicator_alarms (indicator, region, level, peak, value, measure, opened_at, changed_at)
             VALUES ('economy.001', $1, 'red', 'red', $2::float8, 1, now(), now()) RETURNING id",
        )
        .bind(code)
        .bind(value.parse::<f64>().unwrap())
        .fetch_one(server.store.pool())
        .await
        .unwrap();
        objects.push(Object {
            kind: Kind::IndicatorAlarm,
            label,
            id: id.to_string(),
            marker: Marker::Text(value.to_string()),
            place: at(code, grid, None),
            reporter: None,
        });
    }

    // A pulled source, switched off (the routes' URLs name it).
    sqlx::query(
        "INSERT INTO indicator_pulls (id, name, indicator, url, picks, timeout_seconds, enabled, next_due, updated_by,
             updated_at)
         VALUES ('matrix', '矩阵测试拉取', 'economy.001', 'http://127.0.0.1:9/', '[]', 5, false, now(), 'test', now())",
    )
    .execute(server.store.pool())
    .await
    .unwrap();

    // Two sample models' results for November 2026, published.
    sqlx::query(
        "INSERT INTO assessment_publications (model, month, published, decided_by, decided_at)
         SELECT id, DATE '2026-11-01', true, 'matrix', now() FROM assessment_models",
    )
    .execute(server.store.pool())
    .await
    .unwrap();

    // The two streets, as counts and indicators name them.
    for (label, code, grid) in [("street A", &street, &grid), ("street B", &other_street, &grid_b)] {
        objects.push(Object {
            kind: Kind::Street,
            label,
            id: code.clone(),
            marker: Marker::Region(code.clone()),
            place: at(code, grid, None),
            reporter: None,
        });
    }

    // A grid worker of the other street: a dispatch target only for those who see it (the
    // matrix's own grid worker is the one inside).
    server.user("grid_worker.other", &["grid_worker"], &grid_b, None).await;
    for (label, username, place) in [
        ("grid worker of A", "grid_worker.street", at(&street, &grid, None)),
        ("grid worker of B", "grid_worker.other", at(&other_street, &grid_b, None)),
    ] {
        let marker = Marker::Text(format!("\"{username}\""));
        objects.push(Object { kind: Kind::Person, label, id: username.to_string(), marker, place, reporter: None });
    }

    // The accounts the user routes act on: a leader's, and administrators' of each kind.
    let mut accounts = Vec::new();
    for (target, role) in TARGETS {
        let username = format!("target.{role}");
        server.user(&username, &[role], "330304", None).await;
        accounts.push((target, user_id(server, &username).await));
    }
    World { street, grid, objects, accounts }
}

async fn user_id(server: &Server, username: &str) -> i64 {
    sqlx::query_scalar("SELECT id FROM users WHERE username = $1")
        .bind(username)
        .fetch_one(server.store.pool())
        .await
        .unwrap()
}

/// Publishes `payload` as `device` at QoS 1 and waits for the broker's acknowledgement, by
/// which the pipeline has counted the rejection.
async fn publish_rejected(broker: SocketAddr, device: &str, password: &str, payload: &str) {
    let mut options = MqttOptions::new(device, broker.ip().to_string(), broker.port());
    options.set_credentials(device, password);
    let (client, mut events) = AsyncClient::new(options, 10);
    let topic = format!("city/ouhai/devices/{device}/telemetry");
    client.publish(topic, QoS::AtLeastOnce, false, payload.to_string()).await.unwrap();
    loop {
        // A guard against a hang, not a measure: the broker answers at once.
        let event = tokio::time::timeout(Duration::from_secs(30), events.poll()).await.expect("the broker answers");
        if let Event::Incoming(Packet::PubAck(_)) = event.expect("connected to the broker") {
            break;
        }
    }
    client.disconnect().await.ok();
}

/// The URL and body of a call of `row` as `caller` on `object`.
fn request_for(row: &Row, caller: Option<&Caller>, object: Option<&Object>, world: &World) -> (String, Payload) {
    let case_a = world.of(Kind::Case).next().unwrap();
    let account = match row.target {
        "self" => caller.map_or(0, |c| c.id),
        target => world.accounts.iter().find(|(t, _)| *t == target).map_or(0, |(_, id)| *id),
    };
    // The role a row acts on: in the path, or granted again as the account already has it.
    let target_role = match row.target {
        // Only the security administrator grants roles: "self" is one.
        "self" => "security_administrator",
        target => TARGETS.iter().find(|(t, _)| *t == target).map_or("leader", |(_, role)| role),
    };
    let id = object.map_or(String::new(), |o| o.id.clone());
    // Two of the sample's indicators: one read and edited, one deleted (twice: a delete of
    // what is gone is done).
    let indicator = if row.method == Method::DELETE { "economy.002" } else { "economy.001" };
    let url = row
        .path
        .replace("/api/indicators/catalogue/{id}", &format!("/api/indicators/catalogue/{indicator}"))
        .replace("/api/indicators/push/{source}", "/api/indicators/push/matrix")
        .replace("/api/assessment/models/{id}", "/api/assessment/models/street.case-handling")
        // The fixture's pull (deleted last: a delete of what is gone is done).
        .replace("/api/indicators/pulls/{id}", "/api/indicators/pulls/matrix")
        .replace("/api/users/{id}", &format!("/api/users/{account}"))
        .replace("/api/sources/{id}", "/api/sources/hotline-12345")
        // The first key issued (by the row before it); revoking it again is still an answer.
        .replace("/api/open311/keys/{id}", "/api/open311/keys/1")
        // An empty calendar document is the default calendar: valid, and harmless here.
        .replace("/api/config/rules/{name}", "/api/config/rules/calendar")
        .replace("/api/docs/{file}", "/api/docs/index.html")
        .replace("{id}", &id)
        .replace("{source}", "hotline-12345")
        .replace("{code}", "330304001002")
        .replace("{name}", "cameras")
        .replace("{role}", target_role)
        .replace("{file}", &format!("{}.json", case_a.id));
    let query = match row.path {
        "/api/locate" => "?lon=120.64&lat=28.0",
        "/api/search" => "?q=%E6%B3%BD%E9%9B%85",
        "/api/nearby" => "?lon=120.64&lat=28.0&radius=500&layer=cameras",
        "/api/cases/stats" | "/api/indicators" => "?level=street",
        "/api/devices/{id}/history" => "?metric=water_level_m",
        // Published in the fixture: everyone who reads them sees them.
        "/api/assessment/results" => "?model=street.case-handling&month=2026-11",
        "/api/assessment/compare" => "?models=street.case-handling,street.safety-governance&month=2026-11",
        _ => "",
    };
    // Bodies that reach the handler and change nothing that matters: a role's bundle as it
    // is, an account's roles as they are, a reset to a password that passes the policy.
    let body = match (row.method.as_str(), row.path) {
        ("POST", "/api/cases/{id}/attachments") => return (url, Payload::Photo),
        ("POST", "/api/cases/{id}/actions") => json!({"action": "supervise", "note": "矩阵测试督办"}),
        ("PUT", "/api/sources/{id}/enabled") => json!({"enabled": true}),
        ("POST", "/api/open311/keys") => json!({"application": "矩阵测试应用"}),
        ("POST", "/api/cases") => json!({"description": "矩阵测试", "category": "0402"}),
        ("PUT", "/api/users/{id}/roles") => json!({"roles": [target_role]}),
        ("PUT", "/api/assessment/results/published") => {
            json!({"model": "street.case-handling", "month": "2026-11", "published": true})
        }
        ("POST", "/api/users/{id}/password") => json!({"password": "Matrix-reset-phrase-4kQ"}),
        _ => json!({}),
    };
    (format!("{url}{query}"), Payload::Json(body))
}

/// What a call sends: JSON, or a small photo (attachments take the file as the body).
enum Payload {
    Json(Value),
    Photo,
}

/// One call: the status and the answer as text (an XLSX workbook: the XML inside it).
async fn call(server: &Server, method: &Method, url: &str, token: Option<&str>, body: &Payload) -> (u16, String) {
    let mut request = server.client.request(method.clone(), server.url(url));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request = match body {
        Payload::Photo => request.header("content-type", "image/png").body(PHOTO.to_vec()),
        Payload::Json(_) if method == Method::GET => request,
        Payload::Json(json) => request.json(json),
    };
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let bytes = response.bytes().await.unwrap_or_default();
    let text = if bytes.starts_with(b"PK") { xlsx_text(&bytes) } else { String::from_utf8_lossy(&bytes).into_owned() };
    (status, text)
}

/// Every XML part of a workbook, one after another: cell texts live in the shared strings.
fn xlsx_text(bytes: &[u8]) -> String {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a readable ZIP");
    let mut all = String::new();
    for i in 0..archive.len() {
        let mut part = archive.by_index(i).unwrap();
        if part.name().unwrap().ends_with(".xml") {
            part.read_to_string(&mut all).unwrap();
        }
    }
    all
}

fn allowed(status: u16) -> bool {
    ![401, 403, 404].contains(&status) && status < 500
}

fn excerpt(text: &str) -> String {
    text.chars().take(160).collect()
}

#[tokio::test]
async fn every_route_as_every_role_in_and_out_of_scope_leaks_nothing() {
    let server = Server::start().await;
    let world = build_world(&server).await;

    // A caller per role over the street of cases A and A2 (a grid worker: case A's grid),
    // and one over the whole district; a department handler works for the emergency bureau.
    let mut callers = Vec::new();
    for (column, role) in ROLES.iter().enumerate() {
        for district in [false, true] {
            if district && *role == "grid_worker" {
                continue; // A grid worker's scope is their grid.
            }
            let scope = match (district, *role) {
                (true, _) => "330304",
                (false, "grid_worker") => world.grid.as_str(),
                (false, _) => world.street.as_str(),
            };
            let department = (*role == "department_handler").then_some("emergency");
            let username = format!("{role}.{}", if district { "district" } else { "street" });
            let token = server.user(&username, &[role], scope, department).await;
            let id = user_id(&server, &username).await;
            callers.push(Caller { column, role, district, username, token, id });
        }
    }

    let mut cells = 0;
    let mut failures = Vec::new();
    for row in rows() {
        let route = format!(
            "{} {}{}",
            row.method,
            row.path,
            if row.target.is_empty() { String::new() } else { format!(" [{}]", row.target) }
        );
        let kind = object_of(row.path);
        let first = kind.map(|k| world.of(k).next().unwrap());
        let public = row.cells[ROLES.len()] == Cell::Allowed;

        // Without a login.
        let (url, body) = request_for(&row, None, first, &world);
        let (anonymous, text) = call(&server, &row.method, &url, None, &body).await;
        if public && anonymous >= 500 || !public && anonymous != 401 {
            failures.push(format!(
                "{route}: without a login {anonymous}, expected {}",
                if public { "an answer" } else { "401" }
            ));
        }
        check_clear(&world, &format!("{route} without a login"), &text, None, &mut failures);

        for caller in &callers {
            let cell = row.cells[caller.column];
            let who = caller.describe(&world);
            // Logging out ends a session: each logout cell logs in afresh.
            let token = if row.path.contains("logout") {
                server.login(&caller.username, crate::common::PASSWORD).await
            } else {
                caller.token.clone()
            };
            // A refused cell is refused on the object in scope; the others are tried on
            // every object, in scope and out.
            let objects: Vec<Option<&Object>> = match kind {
                None => vec![None],
                Some(_) if cell == Cell::Refused || public => vec![first],
                Some(k) => world.of(k).map(Some).collect(),
            };
            for object in objects {
                cells += 1;
                let (url, body) = request_for(&row, Some(caller), object, &world);
                let (status, text) = call(&server, &row.method, &url, Some(&token), &body).await;
                let on = object.map_or(String::new(), |o| format!(" on {}", o.label));
                let visible = object.is_none_or(|o| caller.sees(&o.place, &world));
                let (ok, expected) = match cell {
                    _ if public => (status == anonymous, format!("{anonymous}, as without a login")),
                    Cell::NotAUser => (status == 401, "401".to_string()),
                    Cell::Refused => (status == 403, "403".to_string()),
                    Cell::Allowed => (allowed(status), "an answer".to_string()),
                    Cell::InScope if visible => (allowed(status), "an answer".to_string()),
                    Cell::InScope => (status == 404, "404 (outside the caller's scope)".to_string()),
                };
                if !ok {
                    failures.push(format!(
                        "{route} as {who}{on}: {status}, expected {expected} (cell `{}`): {}",
                        cell.letter(),
                        excerpt(&text)
                    ));
                    continue;
                }
                // Unmasking shows exactly the reporter of the case asked for; nothing else
                // shows one in the clear.
                let unmasked = if row.path == "/api/cases/{id}/reporter" && (200..300).contains(&status) {
                    object.and_then(|o| o.reporter)
                } else {
                    None
                };
                if let Some((name, phone)) = unmasked
                    && !(text.contains(name) && text.contains(phone))
                {
                    failures.push(format!("{route} as {who}{on}: the reporter is not unmasked: {}", excerpt(&text)));
                }
                check_clear(&world, &format!("{route} as {who}{on}"), &text, unmasked, &mut failures);
                if cell == Cell::InScope && kind.is_none() {
                    check_listing(&row, &format!("{route} as {who}"), caller, status, &text, &world, &mut failures);
                }
            }
        }
    }
    assert!(cells > 1000, "only {cells} cells");
    assert!(failures.is_empty(), "{} of {cells} cells wrong:\n{}", failures.len(), failures.join("\n"));
}

/// No reporter's name or phone in the clear, but for `except` (the one unmasked).
fn check_clear(world: &World, what: &str, text: &str, except: Option<(&str, &str)>, failures: &mut Vec<String>) {
    for (name, phone) in world.objects.iter().filter_map(|o| o.reporter) {
        if except != Some((name, phone)) && (text.contains(name) || text.contains(phone)) {
            failures.push(format!("{what}: a reporter in the clear ({name} or {phone})"));
        }
    }
}

/// A list, count or export holds exactly what lies in the caller's scope.
fn check_listing(
    row: &Row,
    what: &str,
    caller: &Caller,
    status: u16,
    text: &str,
    world: &World,
    failures: &mut Vec<String>,
) {
    if status != 200 {
        failures.push(format!("{what}: {status}, expected 200 for a list: {}", excerpt(text)));
        return;
    }
    for kind in listing_of(&row.method, row.path) {
        for object in world.of(*kind) {
            let (shown, sees) = (object.marker.shown_in(text), caller.sees(&object.place, world));
            if shown && !sees {
                failures.push(format!(
                    "{what}: shows {}, outside the caller's scope: …{}…",
                    object.label,
                    object.marker.context(text)
                ));
            } else if sees && !shown {
                failures.push(format!("{what}: misses {}, inside the caller's scope: {}", object.label, excerpt(text)));
            }
        }
    }
}
