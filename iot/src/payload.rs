//! JSON plumbing for the decoder. Payloads are parsed into objects whose members stay raw
//! text, and numbers are read here rather than by serde_json, for one reason: serde_json
//! refuses a document containing `1e999` as a whole, but a sensor that overflows must be
//! counted as `not_finite` on the field it sent, not as broken JSON. Skipping a raw value
//! is iterative in serde_json, so deep nesting cannot overflow the stack either.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::ids::clip;

/// A JSON object with its members kept as raw text, in payload order, keys unique. Keys
/// are borrowed from the payload unless they hold escapes.
pub(crate) struct RawObject<'a> {
    members: Vec<(Cow<'a, str>, &'a RawValue)>,
}

/// Why text is not a [`RawObject`].
#[derive(Debug)]
pub(crate) enum ObjectError {
    /// Valid JSON, but not an object.
    NotAnObject,
    /// Not valid JSON, or an object repeating a key.
    Syntax(String),
}

/// Why a raw value is not the number (or time) wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NumberError {
    /// Not a number at all.
    WrongType,
    /// A number, or a string naming one, that is NaN or infinite.
    NotFinite,
}

/// Parses `text` as one JSON object.
pub(crate) fn parse_object(text: &str) -> Result<RawObject<'_>, ObjectError> {
    let object = match serde_json::from_str::<RawObject<'_>>(text) {
        Ok(object) => object,
        // A type error is reported before the rest is read: only valid JSON is "not an object".
        Err(error) if error.is_data() => {
            return match serde_json::from_str::<IgnoredAny>(text) {
                Ok(_) => Err(ObjectError::NotAnObject),
                Err(error) => Err(ObjectError::Syntax(error.to_string())),
            };
        }
        Err(error) => return Err(ObjectError::Syntax(error.to_string())),
    };
    let keys = &object.members;
    // A device's object has a handful of members: comparing them pairwise allocates nothing.
    let repeated = if keys.len() <= 16 {
        keys.iter().enumerate().find_map(|(i, (key, _))| keys[..i].iter().any(|(seen, _)| seen == key).then_some(key))
    } else {
        let mut seen = HashSet::with_capacity(keys.len());
        keys.iter().find_map(|(key, _)| (!seen.insert(key.as_ref())).then_some(key))
    };
    if let Some(key) = repeated {
        return Err(ObjectError::Syntax(format!("duplicate key {:?}", clip(key))));
    }
    Ok(object)
}

impl<'a> RawObject<'a> {
    /// The member named `key`, unless it is absent or `null`.
    pub(crate) fn get(&self, key: &str) -> Option<&'a RawValue> {
        self.members.iter().find(|(name, _)| name == key).map(|(_, value)| *value).filter(|value| !is_null(value))
    }

    /// Every member, in payload order.
    pub(crate) fn members(&self) -> &[(Cow<'a, str>, &'a RawValue)] {
        &self.members
    }
}

/// Reads a number: a JSON number, or for a flag `true`/`false` as 1/0. A string is never
/// a number, but one naming a non-finite value (`"NaN"`, `"-Infinity"`, `"1e999"`) is
/// reported as such, since that is what the sensor meant.
pub(crate) fn number(raw: &RawValue, flag: bool) -> Result<f64, NumberError> {
    let text = raw.get().trim();
    match text.as_bytes().first() {
        Some(b'-' | b'0'..=b'9') => {
            let value: f64 = text.parse().map_err(|_| NumberError::WrongType)?;
            if value.is_finite() { Ok(value) } else { Err(NumberError::NotFinite) }
        }
        Some(b'"') => match string(raw).map(|s| s.trim().parse::<f64>()) {
            Some(Ok(value)) if !value.is_finite() => Err(NumberError::NotFinite),
            _ => Err(NumberError::WrongType),
        },
        _ if flag => boolean(raw).map(|on| if on { 1.0 } else { 0.0 }).ok_or(NumberError::WrongType),
        _ => Err(NumberError::WrongType),
    }
}

/// Reads a time as unix milliseconds: a JSON number of ms (a fraction is dropped) or an
/// RFC 3339 string. Times beyond the `i64` range saturate, to be refused as too old or too
/// new by the caller.
pub(crate) fn timestamp(raw: &RawValue) -> Result<i64, NumberError> {
    if let Some(text) = string(raw) {
        return chrono::DateTime::parse_from_rfc3339(text.trim())
            .map(|time| time.timestamp_millis())
            .map_err(|_| NumberError::WrongType);
    }
    if let Ok(ms) = raw.get().trim().parse::<i64>() {
        return Ok(ms);
    }
    // `as` saturates at the i64 bounds, which is what we want for absurd times.
    number(raw, false).map(|ms| ms.floor() as i64)
}

/// Reads a JSON boolean.
pub(crate) fn boolean(raw: &RawValue) -> Option<bool> {
    match raw.get().trim() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// Reads a JSON string.
pub(crate) fn string(raw: &RawValue) -> Option<String> {
    if raw.get().trim_start().starts_with('"') { serde_json::from_str(raw.get()).ok() } else { None }
}

/// Whether a raw value is `null`.
fn is_null(raw: &RawValue) -> bool {
    raw.get().trim() == "null"
}

impl<'de> Deserialize<'de> for RawObject<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<RawObject<'de>, D::Error> {
        deserializer.deserialize_map(RawObjectVisitor)
    }
}

/// Collects an object's members without looking inside their values.
struct RawObjectVisitor;

impl<'de> Visitor<'de> for RawObjectVisitor {
    type Value = RawObject<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawObject<'de>, A::Error> {
        let mut members = Vec::new();
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            let value: &'de RawValue = map.next_value()?;
            members.push((key, value));
        }
        Ok(RawObject { members })
    }
}

/// A member's name, borrowed from the text when it has no escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Key<'de>, D::Error> {
        deserializer.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_borrowed_str<E: serde::de::Error>(self, key: &'de str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Borrowed(key)))
    }

    fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Owned(key.to_owned())))
    }

    fn visit_string<E: serde::de::Error>(self, key: String) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Owned(key)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_owned()).unwrap()
    }

    #[test]
    fn numbers() {
        let check = |text: &str, flag: bool, expected: Result<f64, NumberError>| {
            assert_eq!(number(&raw(text), flag), expected, "{text}");
        };
        check("3.42", false, Ok(3.42));
        check("-0.5e1", false, Ok(-5.0));
        check("1E+2", false, Ok(100.0));
        check("1e-999", false, Ok(0.0));
        check("1e999", false, Err(NumberError::NotFinite));
        check("-1e999", false, Err(NumberError::NotFinite));
        check(r#""NaN""#, false, Err(NumberError::NotFinite));
        check(r#""nan""#, false, Err(NumberError::NotFinite));
        check(r#""Infinity""#, false, Err(NumberError::NotFinite));
        check(r#""-inf""#, false, Err(NumberError::NotFinite));
        check(r#""1e999""#, false, Err(NumberError::NotFinite));
        check(r#""3.42""#, false, Err(NumberError::WrongType));
        check(r#""high""#, false, Err(NumberError::WrongType));
        check("true", false, Err(NumberError::WrongType));
        check("true", true, Ok(1.0));
        check("false", true, Ok(0.0));
        check("null", true, Err(NumberError::WrongType));
        check("[1]", false, Err(NumberError::WrongType));
        check(r#"{"v": 1}"#, false, Err(NumberError::WrongType));
    }

    #[test]
    fn timestamps() {
        let check = |text: &str, expected: Result<i64, NumberError>| {
            assert_eq!(timestamp(&raw(text)), expected, "{text}");
        };
        check("1764000000000", Ok(1_764_000_000_000));
        check("1764000000000.9", Ok(1_764_000_000_000));
        check(r#""2025-11-24T16:00:00Z""#, Ok(1_764_000_000_000));
        check(r#""2025-11-25T00:00:00.250+08:00""#, Ok(1_764_000_000_250));
        check(r#""2025-11-24 16:00""#, Err(NumberError::WrongType));
        check(r#""yesterday""#, Err(NumberError::WrongType));
        check("1e30", Ok(i64::MAX));
        check("-1e30", Ok(i64::MIN));
        check("1e999", Err(NumberError::NotFinite));
        check("true", Err(NumberError::WrongType));
    }

    #[test]
    fn objects() {
        let object = parse_object(r#" {"b": 1e999, "a": [1, {"x": null}], "n": null} "#).unwrap();
        let keys: Vec<&str> = object.members().iter().map(|(key, _)| key.as_ref()).collect();
        assert_eq!(keys, ["b", "a", "n"]);
        let escaped = parse_object(r#"{"w\u0061ter": 1}"#).unwrap();
        assert_eq!(escaped.members()[0].0, "water");
        assert!(escaped.get("water").is_some());
        assert_eq!(object.get("b").unwrap().get(), "1e999");
        assert!(object.get("n").is_none(), "null reads as absent");
        assert!(object.get("zz").is_none());

        let check = |text: &str, expected: &str| {
            let found = match parse_object(text) {
                Ok(_) => "object".to_owned(),
                Err(ObjectError::NotAnObject) => "not an object".to_owned(),
                Err(ObjectError::Syntax(detail)) => format!("syntax: {detail}"),
            };
            assert!(found.starts_with(expected), "{text:?} gave {found:?}, expected {expected:?}");
        };
        check("{}", "object");
        check("[1, 2]", "not an object");
        check("42", "not an object");
        check(r#""text""#, "not an object");
        check("[1, 2", "syntax");
        check("{", "syntax");
        check("{} {}", "syntax: trailing characters");
        check(r#"{"a": 1, "a": 2}"#, r#"syntax: duplicate key "a""#);
        // A key with an escape is the key it spells, borrowed or not.
        check(r#"{"a": 1, "\u0061": 2}"#, r#"syntax: duplicate key "a""#);
        let many: Vec<String> = (0..20).map(|i| format!(r#""k{i}": {i}"#)).collect();
        check(&format!("{{{}}}", many.join(", ")), "object");
        check(&format!(r#"{{{}, "k7": 0}}"#, many.join(", ")), r#"syntax: duplicate key "k7""#);
        check(&format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)), "not an object");
        check(&format!(r#"{{"deep": {}{}}}"#, "[".repeat(100_000), "]".repeat(100_000)), "object");
    }
}
