//! The PostgreSQL side: the generated rows copied into the cockpit's own tables (cases,
//! devices, device_status, readings, alarms; the cases' secondary indexes dropped first,
//! as the history seeding does), and the same aggregates as the formulas by
//! `GROUP BY GROUPING SETS ((), (street), (village), (grid))`.

use std::collections::HashMap;
use std::fmt::Write;

use chrono::{DateTime, TimeDelta};
use cockpit_geo::{City, Level};
use cockpit_indicators::{Grouped, NO_TIME};
use cockpit_store::Store;
use sqlx::Row;

use super::data::Generated;

fn time(t: i64) -> String {
    if t == NO_TIME {
        return "\\N".into();
    }
    DateTime::from_timestamp(t, 0).unwrap().format("%Y-%m-%d %H:%M:%S+00").to_string()
}

fn code(c: &Option<String>) -> &str {
    c.as_deref().unwrap_or("\\N")
}

/// COPYs `lines` rows of `line` into `table (columns)`, 100,000 rows a message.
async fn copy(store: &Store, table: &str, n: usize, mut line: impl FnMut(usize, &mut String)) {
    let mut conn = store.pool().acquire().await.unwrap();
    let mut copy = conn.copy_in_raw(&format!("COPY {table} FROM STDIN")).await.unwrap();
    let mut buf = String::new();
    for i in 0..n {
        line(i, &mut buf);
        if buf.len() > 8 << 20 {
            copy.send(buf.as_bytes()).await.unwrap();
            buf.clear();
        }
    }
    copy.send(buf.as_bytes()).await.unwrap();
    copy.finish().await.unwrap();
}

/// Copies the generated rows into the store's tables.
pub async fn copy_all(store: &Store, g: &Generated) {
    let pool = store.pool();
    sqlx::query("INSERT INTO sources (id, name, kind) VALUES ('hotline_12345', '12345', 'api') ON CONFLICT DO NOTHING")
        .execute(pool)
        .await
        .unwrap();
    let indexes: Vec<String> = sqlx::query_scalar(
        "SELECT i.indexname FROM pg_indexes i JOIN pg_class c ON c.relname = i.indexname
         JOIN pg_index x ON x.indexrelid = c.oid
         WHERE i.tablename = 'cases' AND NOT x.indisprimary AND NOT x.indisunique",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for name in indexes {
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP INDEX \"{name}\""))).execute(pool).await.unwrap();
    }
    let (r, d, a, c) = (&g.rows, &g.rows.devices, &g.rows.alarms, &g.rows.cases);
    copy(
        store,
        "devices (id, device_type, location, street_code, village_code, grid_code, credential_hash)",
        d.place.len(),
        |i, b| {
            let [s, v, gr] = &g.codes[d.place[i] as usize];
            let _ = writeln!(
                b,
                "d{i}\t{}\tSRID=4326;POINT(120.6 28.0)\t{}\t{}\t{}\tx",
                g.device_kind[i],
                code(s),
                code(v),
                code(gr)
            );
        },
    )
    .await;
    copy(store, "device_status (device_id, online, at)", d.place.len(), |i, b| {
        let _ = writeln!(b, "d{i}\t{}\t{}", d.online[i], time(g.now.at));
    })
    .await;
    let copy_cases = "cases (source_id, category, urgency, title, description, street_code, village_code, grid_code, \
                      status, occurred_at, created_at, due_at, closed_at, overdue, evaluation, tags)";
    copy(store, copy_cases, c.len(), |i, b| {
        let [s, v, gr] = &g.codes[c.place[i] as usize];
        let status = &c.statuses.names()[usize::from(c.status[i])];
        let category = &c.categories.names()[usize::from(c.category[i])];
        let evaluation = match c.verdict[i] {
            0 => "\\N",
            1 => "{\"verdict\": \"satisfied\"}",
            _ => "{\"verdict\": \"unsatisfied\"}",
        };
        let tags: Vec<&str> =
            (0..64).filter(|t| c.tags[i] & (1 << t) != 0).map(|t| c.tag_names.names()[t].as_str()).collect();
        let created = time(c.created[i]);
        let _ = writeln!(
            b,
            "hotline_12345\t{category}\tnormal\tt\td\t{}\t{}\t{}\t{status}\t{created}\t{created}\t{}\t{}\t{}\t{evaluation}\t{{{}}}",
            code(s),
            code(v),
            code(gr),
            time(c.due[i]),
            time(c.closed[i]),
            c.overdue[i],
            tags.join(",")
        );
    })
    .await;
    let rd = &r.readings;
    copy(store, "readings (device_id, metric, at, value)", rd.place.len(), |i, b| {
        let metric = &rd.metrics.names()[usize::from(rd.metric[i])];
        let _ = writeln!(b, "d{}\t{metric}\t{}\t{}", g.reading_device[i], time(rd.at[i]), rd.value[i]);
    })
    .await;
    let copy_alarms = "alarms (device_id, rule_id, severity, metric, state, raised_at, raised_value, peak_value, \
                       peak_at, cleared_at, street_code, village_code, grid_code)";
    copy(store, copy_alarms, a.place.len(), |i, b| {
        let [s, v, gr] = &g.codes[a.place[i] as usize];
        let state = &a.states.names()[usize::from(a.state[i])];
        let raised = time(a.raised[i]);
        let _ = writeln!(
            b,
            "d{}\tr{i}\tmajor\twater_level_m\t{state}\t{raised}\t4.8\t4.8\t{raised}\t{}\t{}\t{}\t{}",
            g.alarm_device[i],
            time(a.cleared[i]),
            code(s),
            code(v),
            code(gr)
        );
    })
    .await;
    sqlx::query("ANALYZE").execute(pool).await.unwrap();
}

const SETS: &str = "GROUP BY GROUPING SETS ((), (street_code), (village_code), (grid_code))";

/// Which region a grouping-sets row is: its level's index and the region's index.
fn region(index: &[HashMap<String, usize>; 3], grouping: i32, codes: [Option<String>; 3]) -> Option<(usize, usize)> {
    let level = match grouping {
        7 => return Some((0, 0)),
        3 => 0,
        5 => 1,
        6 => 2,
        _ => return None,
    };
    let code = codes[level].as_ref()?;
    Some((level + 1, *index[level].get(code)?))
}

/// The twelve formulas' values, in the bench's order, computed by PostgreSQL.
pub async fn aggregates(store: &Store, city: &City, g: &Generated) -> Vec<Grouped> {
    let index: [HashMap<String, usize>; 3] = [Level::Street, Level::Village, Level::Grid]
        .map(|l| city.level(l).enumerate().map(|(i, r)| (r.code.as_str().to_string(), i)).collect());
    let sizes = [1, index[0].len(), index[1].len(), index[2].len()];
    let counts = [0, 1, 2, 7, 8, 9];
    let mut out: Vec<Grouped> = (0..12)
        .map(|f| Grouped { levels: sizes.map(|n| vec![if counts.contains(&f) { Some(0.0) } else { None }; n]) })
        .collect();
    let now = DateTime::from_timestamp(g.now.at, 0).unwrap();
    // Local midnight: now is 10:00 in UTC+8.
    let day_start = now - TimeDelta::hours(10);
    let open = ["new", "dispatched", "accepted", "in_progress", "handled"];
    let resolved = ["closed", "evaluated_satisfied", "evaluated_unsatisfied"];
    let rate = |part: i64, whole: i64| (whole > 0).then(|| part as f64 * 100.0 / whole as f64);
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT GROUPING(street_code, village_code, grid_code), street_code, village_code, grid_code,
             count(*) FILTER (WHERE created_at >= $1),
             count(*) FILTER (WHERE status = ANY($3)),
             count(*) FILTER (WHERE status = ANY($3) AND (overdue OR due_at <= $2)),
             count(*) FILTER (WHERE status = ANY($4) AND due_at IS NOT NULL AND closed_at >= $5),
             count(*) FILTER (WHERE status = ANY($4) AND due_at IS NOT NULL AND closed_at >= $5 AND closed_at <= due_at),
             count(*) FILTER (WHERE status = ANY($4) AND evaluation IS NOT NULL AND closed_at >= $5),
             count(*) FILTER (WHERE status = ANY($4) AND closed_at >= $5 AND evaluation -> 'verdict' = '\"satisfied\"'),
             count(*) FILTER (WHERE created_at >= $1 AND '风险' = ANY(tags)),
             count(*) FILTER (WHERE created_at >= $1 AND '隐患' = ANY(tags))
         FROM cases {SETS}"
    )))
    .bind(day_start)
    .bind(now)
    .bind(&open[..])
    .bind(&resolved[..])
    .bind(now - TimeDelta::days(30))
    .fetch_all(store.pool())
    .await
    .unwrap();
    for row in rows {
        let Some((l, i)) = region(&index, row.get(0), [row.get(1), row.get(2), row.get(3)]) else { continue };
        let n: Vec<i64> = (4..13).map(|c| row.get(c)).collect();
        let values = [
            (0, Some(n[0] as f64)),
            (1, Some(n[1] as f64)),
            (2, Some(n[2] as f64)),
            (3, rate(n[2], n[1])),
            (4, rate(n[4], n[3])),
            (5, rate(n[6], n[5])),
            (8, Some(n[7] as f64)),
            (9, Some(n[8] as f64)),
        ];
        for (f, v) in values {
            out[f].levels[l][i] = v;
        }
    }
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT GROUPING(street_code, village_code, grid_code), street_code, village_code, grid_code,
             count(*), count(*) FILTER (WHERE s.online)
         FROM devices d JOIN device_status s ON s.device_id = d.id {SETS}"
    )))
    .fetch_all(store.pool())
    .await
    .unwrap();
    for row in rows {
        let Some((l, i)) = region(&index, row.get(0), [row.get(1), row.get(2), row.get(3)]) else { continue };
        out[6].levels[l][i] = rate(row.get(5), row.get(4));
    }
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT GROUPING(street_code, village_code, grid_code), street_code, village_code, grid_code,
             count(*) FILTER (WHERE state IN ('active', 'acknowledged'))
         FROM alarms {SETS}"
    )))
    .fetch_all(store.pool())
    .await
    .unwrap();
    for row in rows {
        let Some((l, i)) = region(&index, row.get(0), [row.get(1), row.get(2), row.get(3)]) else { continue };
        out[7].levels[l][i] = Some(row.get::<i64, _>(4) as f64);
    }
    let rows = sqlx::query(
        "SELECT GROUPING(d.street_code, d.village_code, d.grid_code), d.street_code, d.village_code, d.grid_code,
             avg(r.value) FILTER (WHERE r.metric = 'pm25' AND r.at >= $1),
             percentile_disc(0.95) WITHIN GROUP (ORDER BY r.value) FILTER (WHERE r.metric = 'water_level_m' AND r.at >= $2)
         FROM readings r JOIN devices d ON d.id = r.device_id
         GROUP BY GROUPING SETS ((), (d.street_code), (d.village_code), (d.grid_code))",
    )
    .bind(day_start)
    .bind(now - TimeDelta::days(7))
    .fetch_all(store.pool())
    .await
    .unwrap();
    for row in rows {
        let Some((l, i)) = region(&index, row.get(0), [row.get(1), row.get(2), row.get(3)]) else { continue };
        out[10].levels[l][i] = row.get(4);
        out[11].levels[l][i] = row.get(5);
    }
    out
}
