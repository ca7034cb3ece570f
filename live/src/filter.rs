//! What a subscription narrows its channel to: a region (a code at any level), a bounding
//! box, a layer (device type), or only what is assigned to the caller. Which keys a
//! channel takes is checked here; whether the caller may see the region is the server's
//! business (it knows the caller's scope).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::protocol::{Channel, ProtocolError};

/// A subscription's filter, parsed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    /// A region code at any level (district, street, village, grid).
    pub region: Option<String>,
    /// West, south, east, north in WGS84 degrees.
    pub bbox: Option<[f64; 4]>,
    /// A device type (the devices' layer).
    pub layer: Option<String>,
    /// Only cases assigned to the caller or their department.
    pub assigned_to_me: bool,
}

impl Filter {
    /// Parses the `filter` object of a subscribe message for `channel`.
    pub fn parse(channel: Channel, raw: &BTreeMap<String, Value>) -> Result<Filter, ProtocolError> {
        let allowed: &[&str] = match channel {
            Channel::Cases => &["region", "assigned_to_me"],
            Channel::Alarms | Channel::Statistics | Channel::Indicators => &["region"],
            Channel::Devices => &["region", "bbox", "layer"],
        };
        let bad = |key: &str, why: &str| ProtocolError::BadFilter(format!("`{key}`: {why}"));
        let mut filter = Filter::default();
        for (key, value) in raw {
            if !allowed.contains(&key.as_str()) {
                return Err(bad(key, &format!("not a filter of this channel (it takes: {})", allowed.join(", "))));
            }
            match key.as_str() {
                "region" => {
                    let code = value.as_str().ok_or_else(|| bad(key, "must be a region code"))?;
                    if code.is_empty() || code.len() > 32 || !code.bytes().all(|b| b.is_ascii_digit()) {
                        return Err(bad(key, "must be a region code (digits)"));
                    }
                    filter.region = Some(code.to_string());
                }
                "layer" => {
                    let layer = value.as_str().ok_or_else(|| bad(key, "must be a device type"))?;
                    if layer.is_empty() || layer.len() > 64 {
                        return Err(bad(key, "must be a device type"));
                    }
                    filter.layer = Some(layer.to_string());
                }
                "assigned_to_me" => {
                    filter.assigned_to_me = value.as_bool().ok_or_else(|| bad(key, "must be true or false"))?;
                }
                _ => {
                    let numbers: Vec<f64> =
                        value.as_array().map(|a| a.iter().filter_map(Value::as_f64).collect()).unwrap_or_default();
                    match numbers[..] {
                        [w, s, e, n]
                            if (-180.0..=180.0).contains(&w)
                                && (-180.0..=180.0).contains(&e)
                                && (-90.0..=90.0).contains(&s)
                                && (-90.0..=90.0).contains(&n)
                                && w <= e
                                && s <= n =>
                        {
                            filter.bbox = Some([w, s, e, n]);
                        }
                        _ => return Err(bad(key, "must be [west, south, east, north] in degrees")),
                    }
                }
            }
        }
        Ok(filter)
    }

    /// Whether a point lies in the box (no box: every point; no point: only without a box).
    pub fn contains(&self, position: Option<(f64, f64)>) -> bool {
        match (self.bbox, position) {
            (None, _) => true,
            (Some([w, s, e, n]), Some((x, y))) => x >= w && x <= e && y >= s && y <= n,
            (Some(_), None) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(channel: Channel, json: &str) -> Result<Filter, ProtocolError> {
        let raw: BTreeMap<String, Value> = serde_json::from_str(json).unwrap();
        Filter::parse(channel, &raw)
    }

    #[test]
    fn each_channel_takes_its_own_keys_and_names_the_bad_one() {
        let f = parse(Channel::Devices, r#"{"region": "330304001", "bbox": [120.6, 27.9, 120.7, 28.0], "layer": "x"}"#);
        let f = f.unwrap();
        assert_eq!(f.region.as_deref(), Some("330304001"));
        assert!(f.contains(Some((120.65, 27.95))) && !f.contains(Some((121.0, 27.95))) && !f.contains(None));
        assert!(parse(Channel::Cases, r#"{"assigned_to_me": true}"#).unwrap().assigned_to_me);
        for (channel, json, key) in [
            (Channel::Cases, r#"{"bbox": [0, 0, 1, 1]}"#, "bbox"),
            (Channel::Devices, r#"{"bbox": [1, 0, 0, 1]}"#, "bbox"),
            (Channel::Devices, r#"{"bbox": "everywhere"}"#, "bbox"),
            (Channel::Alarms, r#"{"region": "3303'; drop"}"#, "region"),
            (Channel::Alarms, r#"{"region": 330304}"#, "region"),
            (Channel::Cases, r#"{"assigned_to_me": "yes"}"#, "assigned_to_me"),
            (Channel::Indicators, r#"{"layer": "smoke"}"#, "layer"),
        ] {
            match parse(channel, json) {
                Err(ProtocolError::BadFilter(why)) => assert!(why.starts_with(&format!("`{key}`")), "{why}"),
                other => panic!("{json}: {other:?}"),
            }
        }
    }
}
