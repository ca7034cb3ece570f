//! Applying a [`CaseMapping`] to a delivered document. Every field is read, even after
//! one fails, so the answer lists all the problems of the document.

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use serde_json::Value;

use super::{CaseMapping, FieldPath, TargetField};
use crate::case::{GeoPoint, NewCase, Reporter, Tag, Urgency};
use crate::category::CategoryTree;
use crate::error::{EventsError, FieldError, FieldProblem};
use crate::ids::{CategoryCode, RegionCode, SourceRef};

/// How many characters of the description make a title when the source sends none.
const TITLE_CHARS: usize = 30;

impl CaseMapping {
    /// Maps a source document to a new case. `received_at` stands in for the occurrence
    /// time when the source gives none. A point of exactly (0, 0), which sources send for
    /// "unknown", counts as no point.
    pub fn apply(
        &self,
        document: &Value,
        categories: &CategoryTree,
        received_at: DateTime<Utc>,
    ) -> Result<NewCase, EventsError> {
        use TargetField as F;
        let mut reader = Reader { mapping: self, document, errors: Vec::new() };
        let source_ref = reader.text(F::SourceRef, false).map(|(text, _)| SourceRef(text));
        let description = reader.text(F::Description, true).map(|(text, _)| text);
        let title = reader.text(F::Title, false).map(|(text, _)| text);
        let category = reader.text(F::Category, true).and_then(|(code, path)| {
            let code = CategoryCode(code);
            if categories.get(&code).is_some() {
                return Some(code);
            }
            reader.fail(F::Category, path, FieldProblem::UnknownValue { value: code.0 });
            None
        });
        let urgency = match reader.text(F::Urgency, false) {
            None => Urgency::Normal,
            Some((name, path)) => Urgency::parse(&name).unwrap_or_else(|| {
                reader.fail(F::Urgency, path, FieldProblem::UnknownValue { value: name });
                Urgency::Normal
            }),
        };
        let tags = reader.tags();
        let name = reader.text(F::ReporterName, false).map(|(text, _)| text);
        let phone = reader.text(F::ReporterPhone, false).map(|(text, _)| text);
        let address = reader.text(F::Address, false).map(|(text, _)| text);
        let location = reader.location().filter(|point| (point.lon, point.lat) != (0.0, 0.0));
        let occurred_at = reader.occurred_at().unwrap_or(received_at);
        let region_hint = reader.text(F::RegionHint, false).map(|(text, _)| RegionCode(text));

        match (description, category) {
            (Some(description), Some(category)) if reader.errors.is_empty() => Ok(NewCase {
                source: self.source.clone(),
                source_ref,
                title: title.unwrap_or_else(|| title_from(&description)),
                description,
                category,
                urgency,
                tags,
                location,
                crs: self.crs,
                address,
                reporter: (name.is_some() || phone.is_some()).then_some(Reporter {
                    name,
                    phone,
                    ..Reporter::default()
                }),
                occurred_at,
                region_hint,
            }),
            _ => Err(EventsError::Mapping { errors: reader.errors }),
        }
    }
}

/// Reads fields from one document, collecting what fails.
struct Reader<'a> {
    mapping: &'a CaseMapping,
    document: &'a Value,
    errors: Vec<FieldError>,
}

impl<'a> Reader<'a> {
    fn fail(&mut self, field: TargetField, path: &str, reason: FieldProblem) {
        self.errors.push(FieldError { field: field.as_str().to_owned(), path: path.to_owned(), reason });
    }

    /// The field's value (from the document, else the default) and its path; a missing
    /// value is an error when the rule requires it or the case cannot do without it.
    fn raw(&mut self, field: TargetField, needed: bool) -> Option<(Value, &'a str)> {
        let rule = self.mapping.fields.get(&field);
        let path = rule.and_then(|rule| rule.path.as_ref()).map_or("", FieldPath::as_str);
        let found = rule
            .and_then(|rule| rule.path.as_ref())
            .and_then(|path| path.lookup(self.document))
            .filter(|value| !is_absent(value))
            .cloned();
        let value = found.or_else(|| rule.and_then(|rule| rule.default.clone()));
        if value.is_none() && (needed || rule.is_some_and(|rule| rule.required)) {
            self.fail(field, path, FieldProblem::Missing);
        }
        value.map(|value| (value, path))
    }

    /// The field as text, translated through its dictionary.
    fn text(&mut self, field: TargetField, needed: bool) -> Option<(String, &'a str)> {
        let (value, path) = self.raw(field, needed)?;
        let Some(text) = scalar_text(&value) else {
            self.fail(field, path, wrong_type("text or number", &value));
            return None;
        };
        self.translate(field, text, path).map(|text| (text, path))
    }

    fn translate(&mut self, field: TargetField, text: String, path: &str) -> Option<String> {
        let rule = self.mapping.fields.get(&field)?;
        if rule.dictionary.is_empty() {
            return Some(text);
        }
        match rule.dictionary.get(&text).or(rule.otherwise.as_ref()) {
            Some(ours) => Some(ours.clone()),
            None => {
                self.fail(field, path, FieldProblem::UnknownValue { value: text });
                None
            }
        }
    }

    fn tags(&mut self) -> Vec<Tag> {
        let Some((value, path)) = self.raw(TargetField::Tags, false) else { return Vec::new() };
        let labels: Vec<String> = match &value {
            Value::Array(items) => items.iter().filter_map(scalar_text).collect(),
            Value::String(text) => text.split([',', '，', ';', '；']).map(|s| s.trim().to_owned()).collect(),
            other => {
                self.fail(TargetField::Tags, path, wrong_type("list or text", other));
                return Vec::new();
            }
        };
        let mut tags = Vec::new();
        for label in labels.into_iter().filter(|label| !label.is_empty()) {
            if let Some(tag) = self.translate(TargetField::Tags, label, path).map(Tag::from)
                && !tags.contains(&tag)
            {
                tags.push(tag);
            }
        }
        tags
    }

    fn location(&mut self) -> Option<GeoPoint> {
        if let Some((value, path)) = self.raw(TargetField::Location, false) {
            let pair = match &value {
                Value::String(text) => {
                    let parts: Vec<&str> = text.split([',', '，', ' ']).filter(|s| !s.is_empty()).collect();
                    <[&str; 2]>::try_from(parts)
                        .ok()
                        .and_then(|[lon, lat]| Some((lon.parse().ok()?, lat.parse().ok()?)))
                }
                Value::Array(items) if items.len() == 2 => number(&items[0]).zip(number(&items[1])),
                _ => None,
            };
            let Some((lon, lat)) = pair else {
                self.fail(TargetField::Location, path, wrong_type("\"lng,lat\" text or [lng, lat]", &value));
                return None;
            };
            let lon = self.in_range(TargetField::Location, path, lon, 180.0);
            let lat = self.in_range(TargetField::Location, path, lat, 90.0);
            return Some(GeoPoint { lon: lon?, lat: lat? });
        }
        let lon = self.coordinate(TargetField::Longitude, 180.0);
        let lat = self.coordinate(TargetField::Latitude, 90.0);
        match (lon, lat) {
            (Some(Some(lon)), Some(Some(lat))) => Some(GeoPoint { lon, lat }),
            (Some(_), None) => self.missing(TargetField::Latitude),
            (None, Some(_)) => self.missing(TargetField::Longitude),
            _ => None,
        }
    }

    /// `None` when absent, `Some(None)` when present but refused.
    fn coordinate(&mut self, field: TargetField, limit: f64) -> Option<Option<f64>> {
        let (value, path) = self.raw(field, false)?;
        let Some(degrees) = number(&value) else {
            self.fail(field, path, wrong_type("number", &value));
            return Some(None);
        };
        Some(self.in_range(field, path, degrees, limit))
    }

    fn in_range(&mut self, field: TargetField, path: &str, degrees: f64, limit: f64) -> Option<f64> {
        if degrees.is_finite() && degrees.abs() <= limit {
            return Some(degrees);
        }
        self.fail(field, path, FieldProblem::OutOfRange { value: degrees.to_string() });
        None
    }

    fn missing<T>(&mut self, field: TargetField) -> Option<T> {
        let path = self.mapping.fields.get(&field).and_then(|rule| rule.path.as_ref()).map_or("", FieldPath::as_str);
        self.fail(field, path, FieldProblem::Missing);
        None
    }

    fn occurred_at(&mut self) -> Option<DateTime<Utc>> {
        let field = TargetField::OccurredAt;
        let (value, path) = self.raw(field, false)?;
        let format = self.mapping.fields.get(&field).and_then(|rule| rule.format.as_deref());
        let offset = TimeDelta::minutes(i64::from(self.mapping.utc_offset_minutes));
        let text = scalar_text(&value).unwrap_or_default();
        let parsed = match format {
            None => DateTime::parse_from_rfc3339(&text).ok().map(|at| at.to_utc()),
            Some("epoch_seconds") => text.parse().ok().and_then(|s| DateTime::from_timestamp(s, 0)),
            Some("epoch_millis") => text.parse().ok().and_then(DateTime::from_timestamp_millis),
            Some(pattern) => NaiveDateTime::parse_from_str(&text, pattern)
                .ok()
                .map(|local| DateTime::from_naive_utc_and_offset(local - offset, Utc)),
        };
        if parsed.is_none() {
            let format = format.unwrap_or("RFC 3339").to_owned();
            self.fail(field, path, FieldProblem::Unparsable { value: text, format });
        }
        parsed
    }
}

fn is_absent(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(text) => text.trim().is_empty(),
        _ => false,
    }
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.trim().to_owned()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(number) => number.as_f64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

fn wrong_type(expected: &str, found: &Value) -> FieldProblem {
    let found = match found {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    };
    FieldProblem::WrongType { expected: expected.to_owned(), found: found.to_owned() }
}

fn title_from(description: &str) -> String {
    let mut title: String = description.chars().take(TITLE_CHARS).collect();
    if description.chars().count() > TITLE_CHARS {
        title.push('…');
    }
    title
}

#[cfg(test)]
mod tests;
