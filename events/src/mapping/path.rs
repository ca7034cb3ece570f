//! Field paths into a source's JSON document: dot-separated keys with array indices,
//! `ticket.location.lng`, `items[0].name`, `data.photos[2]`, `[0].id`. Keys may be any
//! text without `.`, `[` or `]`, Chinese included (`工单.编号`).

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A parsed path. It reads from and writes to JSON as its text.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FieldPath {
    text: String,
    steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Step {
    Key(String),
    Index(usize),
}

impl FieldPath {
    /// Parses a path, refusing empty keys, unclosed or non-numeric indices.
    pub fn parse(text: &str) -> Result<FieldPath, String> {
        let mut steps = Vec::new();
        if text.is_empty() {
            return Err("empty path".into());
        }
        for (n, segment) in text.split('.').enumerate() {
            let (key, mut rest) = segment.split_at(segment.find('[').unwrap_or(segment.len()));
            if key.contains(']') {
                return Err(format!("stray `]` in `{segment}`"));
            }
            // Only the first segment may start with an index: `[0].id`.
            if key.is_empty() && (n != 0 || rest.is_empty()) {
                return Err(format!("empty key in `{text}`"));
            }
            if !key.is_empty() {
                steps.push(Step::Key(key.to_owned()));
            }
            while !rest.is_empty() {
                let close = rest.find(']').ok_or_else(|| format!("unclosed `[` in `{segment}`"))?;
                let index = rest[1..close]
                    .parse()
                    .map_err(|_| format!("`{}` is not an array index in `{segment}`", &rest[1..close]))?;
                steps.push(Step::Index(index));
                rest = &rest[close + 1..];
                if !rest.is_empty() && !rest.starts_with('[') {
                    return Err(format!("unexpected `{rest}` after an index in `{segment}`"));
                }
            }
        }
        Ok(FieldPath { text: text.to_owned(), steps })
    }

    /// The path as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The value at this path, or `None` where a key or index is absent or the document
    /// has another shape there.
    pub fn lookup<'a>(&self, document: &'a Value) -> Option<&'a Value> {
        self.steps.iter().try_fold(document, |value, step| match step {
            Step::Key(key) => value.as_object()?.get(key),
            Step::Index(index) => value.as_array()?.get(*index),
        })
    }

    /// Writes `value` at this path, the inverse of [`FieldPath::lookup`]: the objects and
    /// arrays on the way are made (an array padded with nulls up to the index), and a part
    /// of the document of another shape on the way is replaced. So a source's document can
    /// be written from its mapping (the demonstration's feeds do).
    pub fn insert(&self, document: &mut Value, value: Value) {
        let mut at = document;
        for step in &self.steps {
            at = match step {
                Step::Key(key) => {
                    if !at.is_object() {
                        *at = Value::Object(serde_json::Map::new());
                    }
                    let Value::Object(map) = at else { return };
                    map.entry(key.clone()).or_insert(Value::Null)
                }
                Step::Index(index) => {
                    if !at.is_array() {
                        *at = Value::Array(Vec::new());
                    }
                    let Value::Array(items) = at else { return };
                    if items.len() <= *index {
                        items.resize(*index + 1, Value::Null);
                    }
                    &mut items[*index]
                }
            };
        }
        *at = value;
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl TryFrom<String> for FieldPath {
    type Error = String;

    fn try_from(text: String) -> Result<FieldPath, String> {
        FieldPath::parse(&text)
    }
}

impl From<FieldPath> for String {
    fn from(path: FieldPath) -> String {
        path.text
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn paths_find_values_by_keys_and_indices() {
        let document = json!({
            "ticket": {"location": {"lng": 120.65, "lat": 28.01}},
            "items": [{"name": "a"}, {"name": "b", "tags": ["x", ["y", "z"]]}],
            "工单": {"编号": "GD-1"}
        });
        let check = |path: &str, expected: Option<Value>| {
            let path = FieldPath::parse(path).unwrap();
            assert_eq!(path.lookup(&document).cloned(), expected, "{path}");
        };
        check("ticket.location.lng", Some(json!(120.65)));
        check("items[0].name", Some(json!("a")));
        check("items[1].tags[1][0]", Some(json!("y")));
        check("工单.编号", Some(json!("GD-1")));
        check("items[2].name", None);
        check("ticket.location.alt", None);
        check("ticket[0]", None);
        check("items.name", None);
        let top = json!([{"id": 7}]);
        assert_eq!(FieldPath::parse("[0].id").unwrap().lookup(&top), Some(&json!(7)));
    }

    #[test]
    fn what_is_inserted_is_found_again() {
        let mut document = json!({"data": {"kept": 1}, "list": "not a list"});
        for (path, value) in [
            ("data.gdbh", json!("GD-1")),
            ("event.place.coordinates[0].lng", json!(120.6)),
            ("event.place.coordinates[0].lat", json!(28.0)),
            ("list[2]", json!("c")),
            ("工单.编号", json!("GD-2")),
        ] {
            let path = FieldPath::parse(path).unwrap();
            path.insert(&mut document, value.clone());
            assert_eq!(path.lookup(&document), Some(&value), "{path}");
        }
        assert_eq!(document["data"]["kept"], json!(1));
        assert_eq!(document["event"]["place"]["coordinates"][0]["lat"], json!(28.0));
        assert_eq!(document["list"], json!([null, null, "c"]));
        let mut top = Value::Null;
        FieldPath::parse("[1].id").unwrap().insert(&mut top, json!(7));
        assert_eq!(top, json!([null, {"id": 7}]));
    }

    #[test]
    fn malformed_paths_are_refused() {
        for path in ["", "a..b", ".a", "a.", "a[", "a[x]", "a[1]b", "a]", "a[-1]"] {
            assert!(FieldPath::parse(path).is_err(), "{path:?} should be refused");
        }
    }

    #[test]
    fn paths_read_and_write_as_text() {
        let path: FieldPath = serde_json::from_str(r#""data.items[3].name""#).unwrap();
        assert_eq!(path.as_str(), "data.items[3].name");
        assert_eq!(serde_json::to_string(&path).unwrap(), r#""data.items[3].name""#);
        assert!(serde_json::from_str::<FieldPath>(r#""a[b]""#).is_err());
    }
}
