//! One fetch of another system's HTTP JSON API and the values its JSONPaths (RFC 9535,
//! `serde_json_path`) pick from the answer. A path must find exactly one number (or a
//! string that reads as one); anything else is a reason, never a zero. A pick's period
//! path, where it has one, finds the date the value is for.

use std::time::Duration;

use chrono::{DateTime, NaiveDate};

use serde::Serialize;
use serde_json::Value;
use serde_json_path::JsonPath;
use utoipa::ToSchema;

use super::{Header, Pick, Puller, hosts};

/// The most of an answer read: a JSON document larger than this is refused.
pub const MAX_BODY: usize = 4 * 1024 * 1024;

/// What a fetch got.
#[derive(Debug)]
pub struct Fetched {
    /// The HTTP status.
    pub status: u16,
    /// The answer as JSON.
    pub document: Value,
}

/// What one pick found.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Picked {
    /// The region.
    pub region: String,
    /// Its JSONPath.
    pub path: String,
    /// The value found (none: no data, never zero).
    pub value: Option<f64>,
    /// The date its period path found (none: no period path; the fetch's period).
    pub date: Option<NaiveDate>,
    /// Why nothing was found (none: a value was).
    pub reason: Option<String>,
}

/// Fetches `url` with `headers` within `timeout`: the answer as JSON, or why not (the
/// host refused by `[indicators] pull_hosts`, the status when it was not 2xx, the timeout,
/// what would not parse).
pub async fn fetch(puller: &Puller, url: &str, headers: &[Header], timeout: Duration) -> Result<Fetched, String> {
    // Checked at every fetch, not only where it was entered: the list may have changed.
    let parsed = url::Url::parse(url).map_err(|e| format!("not an address: {e}"))?;
    puller.hosts().check(&parsed).map_err(|why| format!("refused: {why}"))?;
    let mut request = puller.client().get(parsed).timeout(timeout).header(reqwest::header::ACCEPT, "application/json");
    for h in headers {
        request = request.header(h.name.as_str(), h.value.as_deref().unwrap_or_default());
    }
    let mut response = request.send().await.map_err(|e| described(&e, timeout))?;
    let status = response.status().as_u16();
    if !response.status().is_success() {
        return Err(format!("HTTP {status} from the source"));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| described(&e, timeout))? {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(format!("the answer is larger than {} MiB", MAX_BODY / 1024 / 1024));
        }
        body.extend_from_slice(&chunk);
    }
    let document = serde_json::from_slice(&body).map_err(|e| format!("the answer is not JSON: {e}"))?;
    Ok(Fetched { status, document })
}

/// Why a request failed, in words an operator can act on (no internals beyond the
/// source's own address).
fn described(e: &reqwest::Error, timeout: Duration) -> String {
    if let Some(why) = hosts::refusal(e) {
        format!("refused: {why}")
    } else if e.is_timeout() {
        format!("no answer within {} s (timed out)", timeout.as_secs())
    } else if e.is_connect() {
        "could not connect to the source".to_string()
    } else {
        format!("the request failed: {e}")
    }
}

/// The value `path` picks from `document`, or why there is none.
pub fn pick(document: &Value, path: &str) -> Result<f64, String> {
    let path = JsonPath::parse(path).map_err(|e| format!("not a JSONPath: {e}"))?;
    let found = path.query(document);
    match found.len() {
        0 => return Err("the path finds nothing".into()),
        1 => {}
        n => return Err(format!("the path finds {n} values, not one")),
    }
    let value = found.all()[0];
    let number = match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        Value::Null => return Err("the path finds null (no data)".into()),
        _ => None,
    };
    number
        .filter(|n| n.is_finite())
        .ok_or_else(|| format!("the path finds {}, not a number", excerpt(&value.to_string(), 60)))
}

/// The date `path` finds in `document`: `2025-01-15`, `2025-01` (its first day), or a
/// moment in RFC 3339 (its date where it was written: a source writes its own zone).
pub fn pick_date(document: &Value, path: &str) -> Result<NaiveDate, String> {
    let path = JsonPath::parse(path).map_err(|e| format!("not a JSONPath: {e}"))?;
    let found = path.query(document);
    let text = match found.exactly_one() {
        Ok(Value::String(s)) => s.trim().to_string(),
        Ok(other) => return Err(format!("the period path finds {}, not a date", excerpt(&other.to_string(), 60))),
        Err(_) if found.is_empty() => return Err("the period path finds nothing".into()),
        Err(_) => return Err(format!("the period path finds {} values, not one", found.len())),
    };
    NaiveDate::parse_from_str(&text, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(&format!("{text}-01"), "%Y-%m-%d"))
        .or_else(|_| DateTime::parse_from_rfc3339(&text).map(|t| t.date_naive()))
        .map_err(|_| format!("the period path finds \"{}\", not a date", excerpt(&text, 40)))
}

/// What each of `picks` finds in `document`: a value, with its date where the pick has a
/// period path, or why not.
pub fn pick_all(document: &Value, picks: &[Pick]) -> Vec<Picked> {
    picks
        .iter()
        .map(|p| {
            let date = p.period_path.as_deref().map(|path| pick_date(document, path)).transpose();
            let (value, date, reason) = match (pick(document, &p.path), date) {
                (Ok(v), Ok(d)) => (Some(v), d, None),
                (Err(r), _) | (_, Err(r)) => (None, None, Some(r)),
            };
            Picked { region: p.region.clone(), path: p.path.clone(), value, date, reason }
        })
        .collect()
}

/// The first `chars` characters of `text`, with `…` if there was more.
pub fn excerpt(text: &str, chars: usize) -> String {
    let mut out: String = text.chars().take(chars).collect();
    if text.chars().nth(chars).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{pick, pick_date};

    #[test]
    fn a_path_picks_one_number_or_says_why_not() {
        let doc = json!({
            "data": {"rows": [{"street": "330304001", "v": 12.5}, {"street": "330304002", "v": "7"}]},
            "empty": null, "many": [1, 2], "word": "high"
        });
        let check = |path: &str, expected: Result<f64, &str>| {
            assert_eq!(pick(&doc, path), expected.map_err(str::to_string), "{path}");
        };
        check("$.data.rows[0].v", Ok(12.5));
        check("$.data.rows[?@.street == '330304002'].v", Ok(7.0));
        check("$.data.rows[5].v", Err("the path finds nothing"));
        check("$.empty", Err("the path finds null (no data)"));
        check("$.many[*]", Err("the path finds 2 values, not one"));
        check("$.word", Err("the path finds \"high\", not a number"));
        assert!(pick(&doc, "data.rows").unwrap_err().starts_with("not a JSONPath"));
    }

    #[test]
    fn a_period_path_finds_a_day_a_month_or_a_moment() {
        let doc = json!({"day": "2025-01-15", "month": "2025-02", "at": "2025-03-31T23:30:00+08:00", "n": 3});
        let date = |y, m, d| Ok(chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap());
        assert_eq!(pick_date(&doc, "$.day"), date(2025, 1, 15));
        assert_eq!(pick_date(&doc, "$.month"), date(2025, 2, 1));
        assert_eq!(pick_date(&doc, "$.at"), date(2025, 3, 31), "the source's own date");
        assert_eq!(pick_date(&doc, "$.n"), Err("the period path finds 3, not a date".to_string()));
        assert_eq!(pick_date(&doc, "$.none"), Err("the period path finds nothing".to_string()));
    }
}
