//! Query parameters, parsed by hand so that every error names its field, and the checks
//! every request's text goes through: no control characters in a path parameter, a query
//! parameter or a JSON body's strings (PostgreSQL refuses a NUL in text, and no field of
//! ours wants a control character), each refusal a 400 naming the field.

use std::collections::HashMap;

use super::ApiError;

pub(crate) type Query = HashMap<String, String>;

/// A value without the blanks around it: the spaces, tabs and line ends that the
/// document's blank patterns name (`^ *$` for a query value, `^[ \t\n\r]*$` for a body
/// member). No other white space counts (U+0085, U+3000), so that what the document calls
/// blank and what the server takes as absent are the same.
pub(crate) fn trimmed(text: &str) -> &str {
    text.trim_matches([' ', '\t', '\n', '\r'])
}

/// An optional whole number in `range`, or `default` (also when blank).
pub(crate) fn count(
    q: &Query,
    field: &'static str,
    range: std::ops::RangeInclusive<usize>,
    default: usize,
) -> Result<usize, ApiError> {
    let Some(text) = q.get(field).filter(|t| !trimmed(t).is_empty()) else { return Ok(default) };
    let value: usize =
        trimmed(text).parse().map_err(|_| ApiError::bad(field, format!("`{text}` is not a whole number")))?;
    if !range.contains(&value) {
        return Err(ApiError::bad(field, format!("{value} is outside {} to {}", range.start(), range.end())));
    }
    Ok(value)
}

/// Whether `c` is a control character no field accepts (C0 and DEL); in bodies, tab, line
/// feed and carriage return are text ([`check_json`]).
fn is_control(c: char) -> bool {
    c.is_control() && (c as u32) < 0x80
}

/// Whether a raw URI component holds a control character once percent-decoded.
fn encoded_control(raw: &str) -> bool {
    let bytes = raw.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(byte) = raw.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            if byte < 0x20 || byte == 0x7f {
                return true;
            }
            i += 3;
            continue;
        }
        if bytes[i] < 0x20 || bytes[i] == 0x7f {
            return true;
        }
        i += 1;
    }
    false
}

/// Checks a request's path parameters (by the route's `template`, `/api/cases/{id}`) and
/// query parameters for control characters; the error names the parameter.
pub(crate) fn check_uri(template: &str, uri: &axum::http::Uri) -> Result<(), ApiError> {
    for (name, raw) in template.split('/').zip(uri.path().split('/')) {
        if let Some(name) = name.strip_prefix('{').and_then(|n| n.strip_suffix('}'))
            && encoded_control(raw)
        {
            return Err(ApiError::bad(name, "contains a control character"));
        }
    }
    if let Some(query) = uri.query() {
        let mut seen = std::collections::HashSet::new();
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            // One value per parameter: lists are comma-separated (`status=new,closed`), and
            // a second value would otherwise silently replace the first.
            if !seen.insert(key.clone()) {
                return Err(ApiError::bad(&key, "is given more than once; lists are comma-separated"));
            }
            if key.chars().any(is_control) {
                return Err(ApiError::bad("query", "a parameter's name contains a control character"));
            }
            if value.chars().any(is_control) {
                return Err(ApiError::bad(&key, "contains a control character"));
            }
        }
    }
    Ok(())
}

/// Checks every string (and key) of a JSON body for control characters other than tab,
/// line feed and carriage return; the error names the field's path (`reporter.name`,
/// `tags[2]`).
pub(crate) fn check_json(value: &serde_json::Value) -> Result<(), ApiError> {
    fn walk(value: &serde_json::Value, path: &mut String) -> Result<(), ApiError> {
        match value {
            serde_json::Value::String(s) if control_in_text(s) => {
                let field = if path.is_empty() { "body" } else { path.as_str() };
                Err(ApiError::bad(field, "contains a control character"))
            }
            serde_json::Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let len = path.len();
                    path.push_str(&format!("[{i}]"));
                    walk(item, path)?;
                    path.truncate(len);
                }
                Ok(())
            }
            serde_json::Value::Object(members) => {
                for (key, item) in members {
                    if control_in_text(key) {
                        let field = if path.is_empty() { "body" } else { path.as_str() };
                        return Err(ApiError::bad(field, "a member's name contains a control character"));
                    }
                    let len = path.len();
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(key);
                    walk(item, path)?;
                    path.truncate(len);
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
    walk(value, &mut String::new())
}

/// Whether a text someone typed holds a control character other than tab, line feed and
/// carriage return (JSON strings, form fields).
pub(crate) fn control_in_text(s: &str) -> bool {
    s.chars().any(|c| is_control(c) && !matches!(c, '\t' | '\n' | '\r'))
}

/// A JSON body whose strings passed [`check_json`]; its rejection is the API's problem.
pub(crate) struct JsonBody(pub serde_json::Value);

impl<S: Send + Sync> axum::extract::FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<JsonBody, ApiError> {
        let axum::Json(value) = axum::Json::<serde_json::Value>::from_request(request, state).await?;
        check_json(&value)?;
        Ok(JsonBody(value))
    }
}

/// A path parameter, as axum's `Path` reads it, whose refusal is the API's problem naming
/// the parameter (`id`: "`99999999999999999999` is not a i64") instead of axum's plain text.
pub(crate) struct Path<T>(pub T);

impl<S, T> axum::extract::FromRequestParts<S> for Path<T>
where
    T: serde::de::DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Path<T>, ApiError> {
        use axum::extract::path::ErrorKind;
        use axum::extract::rejection::PathRejection;
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(PathRejection::FailedToDeserializePathParams(e)) => {
                let (field, reason) = match e.kind() {
                    ErrorKind::ParseErrorAtKey { key, value, expected_type } => {
                        (key.clone(), format!("`{value}` is not a {expected_type}"))
                    }
                    ErrorKind::DeserializeError { key, value, message } => {
                        (key.clone(), format!("`{value}`: {message}"))
                    }
                    ErrorKind::InvalidUtf8InPathParam { key } => (key.clone(), "is not UTF-8".to_string()),
                    ErrorKind::ParseError { value, expected_type } => {
                        (only_parameter(parts), format!("`{value}` is not a {expected_type}"))
                    }
                    other => (only_parameter(parts), other.to_string()),
                };
                Err(ApiError::bad(&field, reason))
            }
            Err(other) => Err(ApiError::bad("path", other.body_text())),
        }
    }
}

/// The name of the route's one path parameter (`id` of `/api/cases/{id}`), which axum's
/// error for a single value does not name; `path` when there are several or none.
fn only_parameter(parts: &axum::http::request::Parts) -> String {
    let template = parts.extensions.get::<axum::extract::MatchedPath>().map(|m| m.as_str().to_string());
    let names: Vec<String> = template
        .iter()
        .flat_map(|t| t.split('/'))
        .filter_map(|segment| segment.strip_prefix('{').and_then(|n| n.strip_suffix('}')))
        .map(str::to_string)
        .collect();
    match names.as_slice() {
        [one] => one.clone(),
        _ => "path".to_string(),
    }
}

/// The query string as a map, as axum's `Query` reads it, whose refusal is the API's
/// problem naming the query.
pub(crate) struct QueryMap(pub Query);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for QueryMap {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<QueryMap, ApiError> {
        match axum::extract::Query::<Query>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(q)) => Ok(QueryMap(q)),
            Err(e) => Err(ApiError::bad("query", e.body_text())),
        }
    }
}

/// Reads a query map into `T`: values trimmed, a blank one absent; the error names the
/// parameter at fault.
pub(crate) fn from_query<T: serde::de::DeserializeOwned>(q: &Query) -> Result<T, ApiError> {
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in q {
        let value = trimmed(value);
        if !value.is_empty() {
            form.append_pair(key, value);
        }
    }
    let form = form.finish();
    serde_path_to_error::deserialize(serde_urlencoded::Deserializer::new(url::form_urlencoded::parse(form.as_bytes())))
        .map_err(|e| refusal(e, "query"))
}

/// Reads a JSON body into `T`; a member whose value is blank text counts as absent (as the
/// hand-written parsers did), and the error names the field's path (`location.lon`).
pub(crate) fn from_body<T: serde::de::DeserializeOwned>(mut body: serde_json::Value) -> Result<T, ApiError> {
    let serde_json::Value::Object(members) = &mut body else {
        return Err(ApiError::bad("body", "must be a JSON object"));
    };
    members.retain(|_, v| !v.as_str().is_some_and(|s| trimmed(s).is_empty()));
    serde_path_to_error::deserialize(body).map_err(|e| refusal(e, "body"))
}

/// The problem for a value serde refused: the path to it, with the name of a missing field
/// appended (serde reports it at the object that lacks it); `whole` for the input itself.
fn refusal<E: std::fmt::Display>(e: serde_path_to_error::Error<E>, whole: &str) -> ApiError {
    let path = e.path().to_string();
    let reason = e.inner().to_string();
    let missing = reason.strip_prefix("missing field `").and_then(|m| m.split('`').next());
    let field = match (path.as_str(), missing) {
        (".", Some(name)) => name.to_string(),
        (".", None) => whole.to_string(),
        (path, Some(name)) => format!("{path}.{name}"),
        (path, None) => path.to_string(),
    };
    let reason = if missing.is_some() { "is required".to_string() } else { reason };
    ApiError::bad(&field, reason)
}

/// `value`, if given, in `range` (a finite number).
pub(crate) fn within(
    value: Option<f64>,
    field: &'static str,
    range: std::ops::RangeInclusive<f64>,
) -> Result<Option<f64>, ApiError> {
    match value {
        Some(v) if !range.contains(&v) => {
            Err(ApiError::bad(field, format!("{v} is outside {} to {}", range.start(), range.end())))
        }
        other => Ok(other),
    }
}

/// `value` in `range`, or `default` when not given.
pub(crate) fn counted(
    value: Option<usize>,
    field: &'static str,
    range: std::ops::RangeInclusive<usize>,
    default: usize,
) -> Result<usize, ApiError> {
    let value = value.unwrap_or(default);
    if !range.contains(&value) {
        return Err(ApiError::bad(field, format!("{value} is outside {} to {}", range.start(), range.end())));
    }
    Ok(value)
}

/// A JSON body read into `T` once its strings passed [`check_json`]; a member of the wrong
/// type, or a missing one, is refused naming its path (`reporter.name`, `username`).
pub(crate) struct Json<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Json<T>, ApiError> {
        let JsonBody(value) = JsonBody::from_request(request, state).await?;
        from_json(value).map(Json)
    }
}

/// `value` read into `T`; the refusal names the member at fault.
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(value).map_err(|e| refusal(e, "body"))
}

/// A query string read into `T` (see [`from_query_string`]); a value that does not parse
/// is refused naming its parameter.
pub(crate) struct TypedQuery<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequestParts<S> for TypedQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<TypedQuery<T>, ApiError> {
        from_query_string(parts.uri.query().unwrap_or_default()).map(TypedQuery)
    }
}

/// A query string (`limit=5&open=true`) read into `T`: values trimmed, a blank one
/// absent (as forms send them); the refusal names the parameter.
pub(crate) fn from_query_string<T: serde::de::DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let mut given = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        let value = trimmed(&value);
        if !value.is_empty() {
            given.append_pair(&key, value);
        }
    }
    let given = given.finish();
    let deserializer = serde_urlencoded::Deserializer::new(url::form_urlencoded::parse(given.as_bytes()));
    serde_path_to_error::deserialize(deserializer).map_err(|e| refusal(e, "query"))
}

/// Refuses, naming `field`, what is not a region code: 6 digits for the district, 9 for a
/// street, 12 for a village, 15 for a grid.
pub(crate) fn region_code(field: &str, code: &str) -> Result<(), ApiError> {
    if code.bytes().all(|b| b.is_ascii_digit()) && [6, 9, 12, 15].contains(&code.len()) {
        Ok(())
    } else {
        Err(ApiError::bad(field, format!("`{code}` is not a region code (6, 9, 12 or 15 digits)")))
    }
}

/// Reads an optional query value: a blank one is absent (as forms send them), the rest
/// parses as `T` or is refused with the text that did not. Use with `#[serde(default)]`.
pub(crate) fn blank_as_none<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    use serde::Deserialize;
    let text: Option<String> = Option::deserialize(deserializer)?;
    match text.as_deref().map(trimmed) {
        None | Some("") => Ok(None),
        Some(t) => t.parse().map(Some).map_err(|e| serde::de::Error::custom(format!("`{t}`: {e}"))),
    }
}

#[cfg(test)]
mod tests;
