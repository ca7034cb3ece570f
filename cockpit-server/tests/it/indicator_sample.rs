//! The demonstration's indicator values on real PostGIS: fourteen months of generated
//! values per street and for the district, labelled as generated, readable through the API
//! with year-on-year and month-on-month, never replacing a value that arrived, and written
//! once.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use chrono::{FixedOffset, TimeZone, Utc};
use cockpit_server::{Geography, HistoryConfig, indicators};
use serde_json::{Value, json};

use crate::common::{Server, sample_data};
use crate::indicator_values::monthly_with_owner;

/// 景山街道.
const STREET: &str = "330304001";

#[tokio::test]
async fn fourteen_months_per_street_labelled_generated_never_over_a_real_value_and_once() {
    let server = Server::start().await;
    let owner = monthly_with_owner(&server).await;
    let path = "/api/indicators/catalogue/test.monthly/values";
    let (status, written) =
        server.put_with(&owner, path, &json!({"region": STREET, "period": "2026-03-01", "value": 12345})).await;
    assert_eq!(status, 200, "{written}");

    let geography = Geography::load(&sample_data()).unwrap();
    let config = HistoryConfig { seed_on_start: true, days: 420, per_day: 1500, seed: 7, readings_every_minutes: 0 };
    let offset = FixedOffset::east_opt(8 * 3600).unwrap();
    let now = Utc.with_ymd_and_hms(2026, 12, 7, 4, 0, 0).unwrap();
    let n = indicators::sample::seed(&server.store, &geography.city, offset, now, &config).await.unwrap();
    // 220 indicators over the district and 13 streets: at least 14 months of the 160
    // monthly ones alone.
    assert!(n >= 160 * 14 * 14, "{n} values");

    let (status, listed) = server.get_as("leader", &format!("{path}?region={STREET}")).await;
    assert_eq!(status, 200, "{listed}");
    let values = listed["values"].as_array().unwrap();
    let periods: Vec<&str> = values.iter().map(|v| v["period"].as_str().unwrap()).collect();
    assert_eq!(periods.len(), 14, "October 2025 to November 2026: {periods:?}");
    assert_eq!((periods[0], periods[13]), ("2026-11-01", "2025-10-01"), "December is not over");
    for v in values {
        if v["period"] == "2026-03-01" {
            assert_eq!(
                (&v["source"], &v["value"]),
                (&json!("manual"), &json!(12345.0)),
                "a sample never replaces: {v}"
            );
        } else {
            assert_eq!((&v["source"], &v["source_name"]), (&json!("generated"), &json!("cockpit-sim seed 7")), "{v}");
        }
    }

    // The tender's indicators compare month-on-month and year-on-year in every street.
    let (_, catalogue) =
        server.get_as("leader", "/api/indicators/catalogue?q=%E5%88%91%E4%BA%8B%E6%A1%88%E4%BB%B6").await;
    let id = catalogue["indicators"][0]["indicator"]["id"].as_str().unwrap().to_string();
    let frequency = catalogue["indicators"][0]["indicator"]["frequency"].as_str().unwrap().to_string();
    assert_eq!(frequency, "monthly", "{catalogue}");
    let url = format!("/api/indicators/catalogue/{id}/compare?region={STREET}&period=2026-11-01&n=12");
    let (status, c) = server.get_as("leader", &url).await;
    assert_eq!(status, 200, "{c}");
    assert!(c["value"].is_number() && c["previous"]["value"].is_number() && c["last_year"]["value"].is_number(), "{c}");
    let trend: Vec<&Value> = c["trend"].as_array().unwrap().iter().map(|t| &t["value"]).collect();
    assert!(trend.iter().all(|v| v.is_number()), "{c}");

    // Written once: a second start with the same plan writes nothing.
    let again = indicators::sample::seed(&server.store, &geography.city, offset, now, &config).await.unwrap();
    assert_eq!(again, 0);
    let (_, audit) = server.get_as("auditor", "/api/audit?action=indicator.seed_values").await;
    let records: Vec<&Value> =
        audit["records"].as_array().unwrap().iter().filter(|r| r["action"] == "indicator.seed_values").collect();
    assert_eq!(records.len(), 1, "{audit}");
    assert_eq!(records[0]["detail"]["written"], json!(n), "{audit}");
}
