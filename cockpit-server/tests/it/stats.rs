//! Statistics and exports over real HTTP and PostGIS: cases are created and driven through
//! their lifecycle with the action API, then counted per region × status and exported.

// A failed step of a test should stop it with the reason; helpers here are test code too.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::io::Read;

use crate::common::Server;
use serde_json::{Value, json};

/// 景山街道, whose grids take no dispatch rule for the categories used here.
const STREET_A: &str = "330304001";
/// 泽雅镇: every case there goes to the town's platform, so it is avoided.
const ZEYA: &str = "330304108";

/// The centre of the first grid under `parent`: a point inside it.
async fn grid_centre(server: &Server, parent: &str) -> (String, f64, f64) {
    let (_, grids) = server.get(&format!("/api/regions?level=grid&parent={parent}")).await;
    let code = grids["features"][0]["properties"]["code"].as_str().expect("a grid").to_string();
    let (_, grid) = server.get(&format!("/api/regions/{code}")).await;
    let centre = &grid["properties"]["centre"];
    (code, centre[0].as_f64().unwrap(), centre[1].as_f64().unwrap())
}

/// Another street than A and Zeya.
async fn street_b(server: &Server) -> String {
    let (_, streets) = server.get("/api/regions?level=street").await;
    streets["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["properties"]["code"].as_str())
        .find(|c| *c != STREET_A && *c != ZEYA)
        .expect("a third street")
        .to_string()
}

async fn create(server: &Server, body: Value) -> i64 {
    let (status, case) = server.post_as("d1", "dispatcher", "/api/cases", &body).await;
    assert_eq!(status, 201, "{case}");
    assert_eq!(case["status"], "new", "no dispatch rule applies: {case}");
    case["id"].as_i64().unwrap()
}

async fn act(server: &Server, id: i64, role: &str, action: Value) {
    let (status, body) = server.post_as(&format!("u-{role}"), role, &format!("/api/cases/{id}/actions"), &action).await;
    assert_eq!(status, 200, "{action} on {id}: {body}");
}

/// Dispatch → accept → handled → verified and closed.
async fn close(server: &Server, id: i64) {
    let to = json!({"kind": "department", "department": "区应急管理局"});
    act(server, id, "dispatcher", json!({"action": "dispatch", "to": to})).await;
    act(server, id, "department_handler", json!({"action": "accept"})).await;
    act(server, id, "department_handler", json!({"action": "mark_handled", "summary": "已处置完毕"})).await;
    act(server, id, "dispatcher", json!({"action": "verify_and_close"})).await;
}

async fn evaluate(server: &Server, id: i64, verdict: Value) {
    act(server, id, "dispatcher", json!({"action": "evaluate", "evaluation": {"verdict": verdict}})).await;
}

async fn database(server: &Server) -> sqlx::PgPool {
    sqlx::PgPool::connect(&server.database_url).await.expect("connect to the test database")
}

fn case_at(category: &str, title: &str, (lon, lat): (f64, f64)) -> Value {
    json!({"category": category, "title": title, "description": format!("{title}，请尽快处理"),
           "location": {"lon": lon, "lat": lat}})
}

fn status_count(summary: &Value, status: &str) -> i64 {
    summary["by_status"][status].as_i64().unwrap_or_else(|| panic!("{status} missing from {summary}"))
}

#[tokio::test]
async fn stats_count_every_region_by_status_with_rates_and_today() {
    let started = chrono::Utc::now();
    let server = Server::start().await;
    let (_, a_lon, a_lat) = grid_centre(&server, STREET_A).await;
    let b = street_b(&server).await;
    let (b_grid, b_lon, b_lat) = grid_centre(&server, &b).await;

    // Street A: two closed on time (one satisfied, one not), one still new. Different
    // categories, so that none is taken for a duplicate of another.
    let a1 = create(&server, case_at("0101", "违章搭建", (a_lon, a_lat))).await;
    let a2 = create(&server, case_at("0104", "道路脏乱", (a_lon, a_lat))).await;
    let _a3 = create(&server, case_at("0201", "小广告", (a_lon, a_lat))).await;
    // Street B: one closed late, one open past its due time.
    let b1 = create(&server, case_at("0101", "违章搭建", (b_lon, b_lat))).await;
    let b2 = create(&server, case_at("0104", "道路脏乱", (b_lon, b_lat))).await;
    // Nowhere: no point, so no region at any level.
    let (status, _) = server
        .post_as("d1", "dispatcher", "/api/cases", &json!({"category": "06", "description": "地址不详的问题"}))
        .await;
    assert_eq!(status, 201);

    for id in [a1, a2, b1] {
        close(&server, id).await;
    }
    evaluate(&server, a1, json!("satisfied")).await;
    evaluate(&server, a2, json!({"unsatisfied": "false_closure"})).await;
    // The clock is injected into the rows: b1's deadline was an hour before it closed (the
    // scheduler flagged it overdue then; closed, it no longer looks at it), b2's passed an
    // hour ago.
    let db = database(&server).await;
    sqlx::query("UPDATE cases SET due_at = closed_at - interval '1 hour', overdue = true WHERE id = $1")
        .bind(b1)
        .execute(&db)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE cases SET due_at = now() - interval '1 hour', warn_at = now() - interval '2 hours' WHERE id = $1",
    )
    .bind(b2)
    .execute(&db)
    .await
    .unwrap();

    let (status, stats) = server.get_as("commander", "/api/cases/stats?level=street").await;
    assert_eq!(status, 200, "{stats}");
    assert_eq!(stats["level"], "street");
    let regions = stats["regions"].as_array().unwrap();
    assert_eq!(regions.len(), 13, "every street, zeros included");
    let region = |code: &str| regions.iter().find(|r| r["code"] == code).unwrap_or_else(|| panic!("{code}")).clone();

    let a = region(STREET_A);
    assert_eq!(a["name"], "景山街道");
    assert_eq!((a["total"].as_i64(), a["open"].as_i64(), a["closed"].as_i64()), (Some(3), Some(1), Some(2)));
    assert_eq!(
        (status_count(&a, "evaluated_satisfied"), status_count(&a, "evaluated_unsatisfied"), status_count(&a, "new")),
        (1, 1, 1)
    );
    assert_eq!(status_count(&a, "dispatched"), 0);
    assert_eq!(a["overdue"], 0);
    assert_eq!(a["on_time_closure"], json!({"hits": 2, "total": 2, "percent": 100.0}));
    assert_eq!(a["satisfaction"], json!({"hits": 1, "total": 2, "percent": 50.0}));

    let bs = region(&b);
    assert_eq!((bs["total"].as_i64(), bs["open"].as_i64(), bs["closed"].as_i64()), (Some(2), Some(1), Some(1)));
    assert_eq!((status_count(&bs, "closed"), status_count(&bs, "new")), (1, 1));
    assert_eq!(bs["overdue"], 2, "b1 went overdue before it closed, b2 is open past its due time");
    assert_eq!(bs["overdue_open"], 1, "overdue now: b2 only");
    assert_eq!(bs["on_time_closure"], json!({"hits": 0, "total": 1, "percent": 0.0}));
    assert_eq!(bs["satisfaction"], json!({"hits": 0, "total": 0, "percent": null}), "no evaluation: no rate");

    let zeya = region(ZEYA);
    assert_eq!((zeya["total"].as_i64(), zeya["open"].as_i64()), (Some(0), Some(0)));
    assert!(zeya["by_status"].as_object().unwrap().values().all(|v| v == 0));

    let totals = &stats["totals"];
    assert_eq!(
        (totals["total"].as_i64(), totals["open"].as_i64(), totals["closed"].as_i64()),
        (Some(6), Some(3), Some(3))
    );
    assert_eq!((totals["overdue"].as_i64(), totals["overdue_open"].as_i64()), (Some(2), Some(1)));
    assert_eq!(
        (totals["on_time_closure"]["hits"].as_i64(), totals["on_time_closure"]["total"].as_i64()),
        (Some(2), Some(3))
    );
    let percent = totals["on_time_closure"]["percent"].as_f64().unwrap();
    assert!((percent - 200.0 / 3.0).abs() < 1e-9, "{percent}");
    assert_eq!(totals["satisfaction"], json!({"hits": 1, "total": 2, "percent": 50.0}));
    assert_eq!(stats["unlocated"], 1, "the case without a point counts only in the totals");
    // Today starts at local midnight (UTC+8); everything here was created and closed today,
    // unless the test itself ran across midnight.
    let day_start: chrono::DateTime<chrono::FixedOffset> =
        serde_json::from_value(stats["day_start"].clone()).expect("day_start is a time");
    assert_eq!(day_start.offset().local_minus_utc(), 8 * 3600);
    assert_eq!(day_start.format("%H:%M:%S").to_string(), "00:00:00");
    if day_start <= started {
        assert_eq!(totals["today"], json!({"created": 6, "closed": 3}));
        assert_eq!(a["today"], json!({"created": 3, "closed": 2}));
    }

    // Other levels; the list filters narrow the cases, `region` also the regions listed.
    let (_, grids) = server.get_as("commander", "/api/cases/stats?level=grid").await;
    assert_eq!(grids["regions"].as_array().unwrap().len(), 942);
    let g = grids["regions"].as_array().unwrap().iter().find(|r| r["code"] == b_grid.as_str()).unwrap();
    assert_eq!((g["total"].as_i64(), g["overdue"].as_i64(), g["overdue_open"].as_i64()), (Some(2), Some(2), Some(1)));
    let (_, villages) = server.get_as("commander", &format!("/api/cases/stats?level=village&region={STREET_A}")).await;
    let villages = villages["regions"].as_array().unwrap();
    assert!(!villages.is_empty() && villages.iter().all(|v| v["code"].as_str().unwrap().starts_with(STREET_A)));
    assert_eq!(villages.iter().map(|v| v["total"].as_i64().unwrap()).sum::<i64>(), 3);
    let (_, open_only) = server.get_as("commander", "/api/cases/stats?status=new").await;
    assert_eq!((open_only["totals"]["total"].as_i64(), open_only["totals"]["closed"].as_i64()), (Some(3), Some(0)));
    let (_, category) = server.get_as("commander", "/api/cases/stats?level=street&category=0101").await;
    assert_eq!(category["totals"]["total"], 2);
    let (_, future) = server.get_as("commander", "/api/cases/stats?from=2099-01-01T00:00:00%2B08:00").await;
    assert_eq!((future["totals"]["total"].as_i64(), future["regions"].as_array().map(Vec::len)), (Some(0), Some(13)));
    let (_, past) =
        server.get_as("commander", "/api/cases/stats?from=2020-01-01T00:00:00Z&to=2099-01-01T00:00:00Z").await;
    assert_eq!(past["totals"]["total"], 6);
}

/// A minimal RFC 4180 reader: the test's own, to check the server's quoting.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let (mut rows, mut row, mut field) = (Vec::new(), Vec::new(), String::new());
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    assert!(field.is_empty() && row.is_empty(), "the file ends with a line break");
    rows
}

async fn download(server: &Server, path: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let token = server.token("c1", "commander").await;
    let response = server.client.get(server.url(path)).bearer_auth(token).send().await.expect("request");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.bytes().await.expect("body").to_vec())
}

#[tokio::test]
async fn exports_carry_the_filtered_cases_as_csv_and_xlsx() {
    let server = Server::start().await;
    let (_, lon, lat) = grid_centre(&server, STREET_A).await;
    let tricky = "围挡倒塌, 占用\"人行道\"\n第二行";
    let first = create(
        &server,
        json!({"category": "0101", "title": "违章搭建阳光房", "description": tricky, "tags": ["重点", "夜间"],
               "location": {"lon": lon, "lat": lat}, "address": "景山街道某路1号",
               "reporter": {"name": "张三", "phone": "13812341234"}}),
    )
    .await;
    let second =
        create(&server, json!({"category": "0201", "title": "=HYPERLINK(\"x\")", "description": "小广告"})).await;
    close(&server, second).await;

    let (status, headers, body) = download(&server, "/api/cases/export.csv").await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
    assert!(headers["content-disposition"].to_str().unwrap().starts_with("attachment; filename=\"cases-"));
    assert_eq!(headers["x-cockpit-export-truncated"], "false");
    assert_eq!(&body[..3], b"\xEF\xBB\xBF", "a byte-order mark, for Excel");
    let text = String::from_utf8(body[3..].to_vec()).expect("UTF-8");
    assert!(!text.contains("13812341234") && !text.contains("张三"), "personal data stays masked");
    let rows = parse_csv(&text);
    assert_eq!(
        rows[0],
        [
            "id",
            "source",
            "source_ref",
            "category_code",
            "category_name",
            "urgency",
            "tags",
            "title",
            "description",
            "street",
            "village",
            "grid",
            "address",
            "reporter_phone",
            "status",
            "overdue",
            "created_at",
            "due_at",
            "closed_at"
        ]
    );
    assert_eq!(rows.len(), 3, "a header and two cases");
    let (newest, older) = (&rows[1], &rows[2]);
    assert_eq!(newest[0], second.to_string(), "newest first");
    assert_eq!(newest[7], "'=HYPERLINK(\"x\")", "a formula is defused");
    assert_eq!((newest[14].as_str(), newest[9].as_str()), ("closed", ""));
    assert!(!newest[18].is_empty(), "closed_at is filled");
    assert_eq!(older[0], first.to_string());
    assert_eq!((older[1].as_str(), older[3].as_str(), older[4].as_str()), ("manual", "0101", "市容环境 / 私搭乱建"));
    assert_eq!((older[6].as_str(), older[7].as_str(), older[8].as_str()), ("重点;夜间", "违章搭建阳光房", tricky));
    assert_eq!(
        (older[9].as_str(), older[12].as_str(), older[13].as_str()),
        ("景山街道", "景山街道某路1号", "138****1234")
    );
    assert!(!older[10].is_empty() && !older[11].is_empty(), "village and grid names");
    assert_eq!((older[14].as_str(), older[15].as_str(), older[18].as_str()), ("new", "false", ""));
    // Local time, to the second: 2026-03-10 09:00:00.
    assert_eq!(older[16].len(), 19);
    assert!(chrono::NaiveDateTime::parse_from_str(&older[16], "%Y-%m-%d %H:%M:%S").is_ok(), "{}", older[16]);

    // The list's filters apply; `limit` bounds the rows and the header says more matched.
    let (_, _, body) = download(&server, "/api/cases/export.csv?status=new").await;
    let rows = parse_csv(std::str::from_utf8(&body[3..]).unwrap());
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1][0], first.to_string());
    let (_, headers, body) = download(&server, "/api/cases/export.csv?limit=1").await;
    assert_eq!(parse_csv(std::str::from_utf8(&body[3..]).unwrap()).len(), 2);
    assert_eq!(headers["x-cockpit-export-truncated"], "true");

    // XLSX: a real workbook, one row per case, the Chinese text intact.
    let (status, headers, body) = download(&server, "/api/cases/export.xlsx").await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    assert_eq!(&body[..4], b"PK\x03\x04", "a ZIP container");
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(body)).expect("a readable ZIP");
    let mut read = |name: &str| {
        let mut text = String::new();
        archive.by_name(name).unwrap_or_else(|e| panic!("{name}: {e}")).read_to_string(&mut text).unwrap();
        text
    };
    let sheet = read("xl/worksheets/sheet1.xml");
    assert_eq!(sheet.matches("<row ").count(), 3, "a header and two cases");
    // Cell texts live in the shared-string table that the sheet's cells point into.
    let strings = read("xl/sharedStrings.xml");
    for expected in ["违章搭建阳光房", "市容环境 / 私搭乱建", "138****1234", "=HYPERLINK", "reporter_phone"]
    {
        assert!(strings.contains(&expected.replace('"', "&quot;")), "{expected} missing");
    }
    assert!(!strings.contains("13812341234"));
    assert!(read("xl/workbook.xml").contains("name=\"cases\""));
    let (_, _, body) = download(&server, "/api/cases/export.xlsx?category=0101").await;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(body)).unwrap();
    let mut sheet = String::new();
    archive.by_name("xl/worksheets/sheet1.xml").unwrap().read_to_string(&mut sheet).unwrap();
    assert_eq!(sheet.matches("<row ").count(), 2);
}

#[tokio::test]
async fn report_routes_leave_case_ids_alone_and_name_bad_fields() {
    let server = Server::start().await;
    let id = create(&server, json!({"category": "0101", "description": "违章搭建"})).await;
    // Static segments win over `/api/cases/{id}`, which still answers for ids.
    let (status, one) = server.get_as("dispatcher", &format!("/api/cases/{id}")).await;
    assert_eq!((status, one["id"].as_i64()), (200, Some(id)));
    let (status, stats) = server.get_as("dispatcher", "/api/cases/stats").await;
    assert_eq!((status, stats["level"].as_str(), stats["totals"]["total"].as_i64()), (200, Some("street"), Some(1)));
    let (status, _, body) = download(&server, "/api/cases/export.csv").await;
    assert_eq!((status, &body[..3]), (200, &b"\xEF\xBB\xBF"[..]));

    for (path, field) in [
        ("/api/cases/stats?level=planet", "level"),
        ("/api/cases/stats?level=district", "level"),
        ("/api/cases/stats?from=yesterday", "from"),
        ("/api/cases/stats?status=lost", "status"),
        ("/api/cases/export.csv?limit=0", "limit"),
        ("/api/cases/export.xlsx?limit=100001", "limit"),
        ("/api/cases/export.csv?urgency=whenever", "urgency"),
        ("/api/cases/export.xlsx?to=tomorrow", "to"),
    ] {
        let (status, problem) = server.get_as("dispatcher", path).await;
        assert_eq!((status, problem["field"].as_str()), (400, Some(field)), "{path}: {problem}");
        assert_eq!(problem["type"], "/problems/bad-parameter");
    }
    for path in ["/api/cases/stats", "/api/cases/export.csv", "/api/cases/export.xlsx"] {
        let (status, problem) = server.get_public(path).await;
        assert_eq!((status, problem["type"].as_str()), (401, Some("/problems/unauthorized")), "{path}");
    }
}
