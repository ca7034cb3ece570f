//! Indicator values pulled from other systems' HTTP JSON APIs (issue 18): a pull is one
//! indicator's address, the headers it sends (a token among them: stored, sent, never
//! answered in full), a JSONPath per region and its schedule (an interval, or one from the
//! indicator's frequency). The scheduler (`schedule.rs`) fetches each due pull on its own
//! task; `fetch.rs` fetches and picks. A pull's status (`status.rs`) answers its last
//! attempt, last success, last error and staleness; a pull that never succeeded has no
//! data, never zero.

pub mod fetch;
mod hosts;
pub mod schedule;
mod status;

pub use hosts::{PullHosts, Puller};
pub use status::{MaskedHeader, PullStatus, every, status};

use std::time::Duration;

use chrono::TimeDelta;
use cockpit_geo::City;
use cockpit_indicators::{CatalogueEntry, Frequency};
use cockpit_store::{AuditActor, PullDefinition, PullRow, Store};
use serde::{Deserialize, Serialize};
use serde_json_path::JsonPath;
use utoipa::ToSchema;

use super::IndicatorsError;
use fetch::Picked;

/// A pull as an operator writes it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Definition {
    /// Its name: 1–100 characters.
    #[schema(example = "区统计局 GDP 接口")]
    pub name: String,
    /// The indicator whose values it pulls.
    #[schema(example = "economy.001")]
    pub indicator: String,
    /// The address fetched (http or https), answering JSON.
    #[schema(example = "https://stats.example.gov.cn/api/gdp")]
    pub url: String,
    /// Headers sent with every request (at most 20). On a replace, a header without a
    /// value keeps the value stored under its name.
    #[serde(default)]
    pub headers: Vec<Header>,
    /// The value of each region, picked by a JSONPath (RFC 9535): 1–500, one per region.
    pub picks: Vec<Pick>,
    /// Seconds between fetches (1 s – 31 days); absent: from the indicator's frequency
    /// (real-time every minute, daily every hour, others every six hours).
    #[serde(default)]
    pub interval_seconds: Option<u32>,
    /// Seconds an attempt may take (1–120, default 10).
    #[serde(default = "default_timeout")]
    pub timeout_seconds: u32,
    /// Whether it is fetched (default true).
    #[serde(default = "enabled")]
    pub enabled: bool,
}

/// A header sent with each request.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// Its name.
    #[schema(example = "Authorization")]
    pub name: String,
    /// Its value (absent on a replace: the stored one).
    #[serde(default)]
    pub value: Option<String>,
}

/// One region's value and the JSONPath that picks it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Pick {
    /// The region's code (one the indicator is kept for).
    #[schema(pattern = "^[0-9]{6}([0-9]{3}){0,3}$", example = "330304001")]
    pub region: String,
    /// A JSONPath (RFC 9535) that finds one number (or a string that reads as one).
    #[schema(example = "$.data[?@.code == '330304001'].value")]
    pub path: String,
    /// A JSONPath that finds the date the value is for (`2025-01-15`, `2025-01`, or a
    /// moment in RFC 3339), placed in its period; absent: the period of the fetch (a
    /// monthly figure published in the next month wants one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "$.data[?@.code == '330304001'].month")]
    pub period_path: Option<String>,
}

/// What a test fetch found, nothing stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct TestFetched {
    /// The HTTP status (none: no answer).
    pub status: Option<u16>,
    /// Why the fetch failed (none: it answered JSON).
    pub error: Option<String>,
    /// What each pick found.
    pub picks: Vec<Picked>,
    /// The answer's first 2000 characters, to write paths against.
    pub excerpt: Option<String>,
}

/// The most headers a pull sends.
const MAX_HEADERS: usize = 20;
/// The most picks a pull has.
const MAX_PICKS: usize = 500;
/// The longest interval: a month and a bit.
const MAX_INTERVAL: u32 = 31 * 86_400;

fn default_timeout() -> u32 {
    10
}

fn enabled() -> bool {
    true
}

/// Seconds between fetches of a pull of an indicator kept at `frequency`, unless set:
/// a real-time value every minute, a daily one every hour, the others every six hours
/// (a monthly figure is published some day in its month: pulled often enough to see it
/// that day).
pub fn default_interval(frequency: Frequency) -> u32 {
    match frequency {
        Frequency::RealTime => 60,
        Frequency::Daily => 3600,
        Frequency::Monthly | Frequency::Quarterly | Frequency::HalfYearly | Frequency::Yearly => 6 * 3600,
    }
}

/// The wait after the `failures`-th failure in a row: 1 s, 2 s, 4 s, … doubling, never
/// longer than the interval or an hour.
pub fn backoff(failures: u32, every: u32) -> TimeDelta {
    let seconds = 1u64.checked_shl(failures.saturating_sub(1).min(20)).unwrap_or(u64::MAX);
    TimeDelta::seconds(seconds.min(u64::from(every)).min(3600) as i64)
}

/// Checks `d` against the catalogue, `city` and the hosts pulls may fetch; its indicator and
/// its headers with their values (a header without one takes `kept`'s of its name).
pub async fn check(
    store: &Store,
    city: &City,
    hosts: &PullHosts,
    d: &Definition,
    kept: &[Header],
) -> Result<(CatalogueEntry, Vec<Header>), IndicatorsError> {
    if d.name.trim().is_empty() || d.name.chars().count() > 100 {
        return Err(IndicatorsError::field("name", "1–100 characters"));
    }
    let Some(row) = store.indicator_entry(&d.indicator).await? else {
        return Err(IndicatorsError::field("indicator", format!("indicator `{}` does not exist", d.indicator)));
    };
    let entry: CatalogueEntry = serde_json::from_value(row.entry)
        .map_err(|e| cockpit_store::StoreError::Corrupt(format!("indicator {}: {e}", d.indicator)))?;
    match url::Url::parse(&d.url) {
        // The address is answered in full: a password in it would be too.
        Ok(u) if !u.username().is_empty() || u.password().is_some() => {
            return Err(IndicatorsError::field("url", "no credentials in the address: send them as a header"));
        }
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {
            hosts.check(&u).map_err(|why| IndicatorsError::field("url", why))?;
        }
        _ => return Err(IndicatorsError::field("url", "an http or https address")),
    }
    if d.headers.len() > MAX_HEADERS {
        return Err(IndicatorsError::field("headers", format!("at most {MAX_HEADERS}")));
    }
    let mut headers = Vec::with_capacity(d.headers.len());
    for (i, h) in d.headers.iter().enumerate() {
        if reqwest::header::HeaderName::from_bytes(h.name.as_bytes()).is_err() {
            return Err(IndicatorsError::field(format!("headers[{i}].name"), "a header name (letters, digits, -)"));
        }
        let value = match &h.value {
            Some(v) => v.clone(),
            None => match kept.iter().find(|k| k.name.eq_ignore_ascii_case(&h.name)).and_then(|k| k.value.clone()) {
                Some(v) => v,
                None => {
                    return Err(IndicatorsError::field(
                        format!("headers[{i}].value"),
                        "a value (none is stored under this name)",
                    ));
                }
            },
        };
        if reqwest::header::HeaderValue::from_str(&value).is_err() {
            return Err(IndicatorsError::field(format!("headers[{i}].value"), "visible ASCII characters"));
        }
        headers.push(Header { name: h.name.clone(), value: Some(value) });
    }
    if d.picks.is_empty() || d.picks.len() > MAX_PICKS {
        return Err(IndicatorsError::field("picks", format!("1–{MAX_PICKS} picks")));
    }
    for (i, p) in d.picks.iter().enumerate() {
        if city.by_code(&p.region).is_none() {
            return Err(IndicatorsError::field(
                format!("picks[{i}].region"),
                format!("region `{}` does not exist", p.region),
            ));
        }
        if !entry.covers(&p.region) {
            let kept_for = entry.regions.join(", ");
            return Err(IndicatorsError::field(
                format!("picks[{i}].region"),
                format!("the indicator is kept for {kept_for} only"),
            ));
        }
        if d.picks[..i].iter().any(|q| q.region == p.region) {
            return Err(IndicatorsError::field(format!("picks[{i}].region"), "one pick per region"));
        }
        for (name, path) in [("path", Some(&p.path)), ("period_path", p.period_path.as_ref())] {
            if let Some(Err(e)) = path.map(|p| JsonPath::parse(p)) {
                let reason = format!("not a JSONPath (RFC 9535): {e}");
                return Err(IndicatorsError::field(format!("picks[{i}].{name}"), reason));
            }
        }
    }
    if d.interval_seconds.is_some_and(|s| s == 0 || s > MAX_INTERVAL) {
        return Err(IndicatorsError::field("interval_seconds", format!("1–{MAX_INTERVAL} seconds")));
    }
    if d.timeout_seconds == 0 || d.timeout_seconds > 120 {
        return Err(IndicatorsError::field("timeout_seconds", "1–120 seconds"));
    }
    Ok((entry, headers))
}

/// The headers stored with `row`.
pub fn stored_headers(row: &PullRow) -> Vec<Header> {
    serde_json::from_value(row.headers.clone()).unwrap_or_default()
}

/// The picks stored with `row`.
pub fn stored_picks(row: &PullRow) -> Vec<Pick> {
    serde_json::from_value(row.picks.clone()).unwrap_or_default()
}

/// Creates pull `id` or replaces its definition (fetched at once); whether it was new.
pub async fn put(
    store: &Store,
    city: &City,
    hosts: &PullHosts,
    id: &str,
    d: &Definition,
    who: AuditActor,
) -> Result<bool, IndicatorsError> {
    if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
        return Err(IndicatorsError::field("id", "1–64 of letters, digits, _ and -"));
    }
    let kept = store.indicator_pull(id).await?.map(|r| stored_headers(&r)).unwrap_or_default();
    let (_, headers) = check(store, city, hosts, d, &kept).await?;
    let stored = PullDefinition {
        name: d.name.trim().to_string(),
        indicator: d.indicator.clone(),
        url: d.url.clone(),
        headers: serde_json::to_value(&headers).unwrap_or_default(),
        picks: serde_json::to_value(&d.picks).unwrap_or_default(),
        interval_seconds: d.interval_seconds.map(|s| s as i32),
        timeout_seconds: d.timeout_seconds as i32,
        enabled: d.enabled,
    };
    Ok(store.put_indicator_pull(id, &stored, who).await?)
}

/// Fetches `d` now and answers what its picks find, storing nothing (the workbench's
/// preview). `kept`: the stored pull whose header values fill those left out.
pub async fn test_fetch(
    store: &Store,
    city: &City,
    puller: &Puller,
    d: &Definition,
    kept: Option<&PullRow>,
) -> Result<TestFetched, IndicatorsError> {
    let kept = kept.map(stored_headers).unwrap_or_default();
    let (_, headers) = check(store, city, puller.hosts(), d, &kept).await?;
    let timeout = Duration::from_secs(u64::from(d.timeout_seconds));
    Ok(match fetch::fetch(puller, &d.url, &headers, timeout).await {
        Ok(fetched) => TestFetched {
            status: Some(fetched.status),
            error: None,
            picks: fetch::pick_all(&fetched.document, &d.picks),
            excerpt: Some(fetch::excerpt(&fetched.document.to_string(), 2000)),
        },
        Err(error) => TestFetched {
            status: None,
            error: Some(error.clone()),
            picks: d
                .picks
                .iter()
                .map(|p| Picked {
                    region: p.region.clone(),
                    path: p.path.clone(),
                    value: None,
                    date: None,
                    reason: Some(error.clone()),
                })
                .collect(),
            excerpt: None,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_interval_and_an_hour() {
        let waits: Vec<i64> = (1..=6).map(|n| backoff(n, 20).num_seconds()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 20]);
        assert_eq!(backoff(40, 86_400).num_seconds(), 3600);
        assert_eq!(backoff(0, 60).num_seconds(), 1);
    }
}
