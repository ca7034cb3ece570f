//! Query parameters, parsed by hand so that every error names its field.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use cockpit_geo::{Coord, gcj02_to_wgs84};

use super::ApiError;

pub(crate) type Query = HashMap<String, String>;

/// A required number in `range`.
pub(crate) fn number(q: &Query, field: &'static str, range: std::ops::RangeInclusive<f64>) -> Result<f64, ApiError> {
    let text = q.get(field).ok_or_else(|| ApiError::bad(field, "is required"))?;
    let value: f64 = text.trim().parse().map_err(|_| ApiError::bad(field, format!("`{text}` is not a number")))?;
    if !value.is_finite() || !range.contains(&value) {
        return Err(ApiError::bad(field, format!("{value} is outside {} to {}", range.start(), range.end())));
    }
    Ok(value)
}

/// An optional whole number in `range`, or `default`.
pub(crate) fn count(
    q: &Query,
    field: &'static str,
    range: std::ops::RangeInclusive<usize>,
    default: usize,
) -> Result<usize, ApiError> {
    let Some(text) = q.get(field) else { return Ok(default) };
    let value: usize =
        text.trim().parse().map_err(|_| ApiError::bad(field, format!("`{text}` is not a whole number")))?;
    if !range.contains(&value) {
        return Err(ApiError::bad(field, format!("{value} is outside {} to {}", range.start(), range.end())));
    }
    Ok(value)
}

/// An optional RFC 3339 time.
pub(crate) fn time(q: &Query, field: &'static str) -> Result<Option<DateTime<Utc>>, ApiError> {
    q.get(field)
        .map(|t| t.trim())
        .filter(|t| !t.is_empty())
        .map(|t| {
            DateTime::parse_from_rfc3339(t)
                .map(|d| d.with_timezone(&Utc))
                .map_err(|_| ApiError::bad(field, format!("`{t}` is not an RFC 3339 time")))
        })
        .transpose()
}

/// `lon` and `lat` (WGS84 unless `crs=gcj02`), as a WGS84 coordinate.
pub(crate) fn position(q: &Query) -> Result<Coord, ApiError> {
    let p = Coord { x: number(q, "lon", -180.0..=180.0)?, y: number(q, "lat", -90.0..=90.0)? };
    match q.get("crs").map(String::as_str) {
        None | Some("wgs84") => Ok(p),
        Some("gcj02") => Ok(gcj02_to_wgs84(p)),
        Some(other) => Err(ApiError::bad("crs", format!("`{other}` is not one of wgs84, gcj02"))),
    }
}
