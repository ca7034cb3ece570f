//! A big answer built once (`crate::geography::EncodedAnswer`) as an HTTP response: the
//! encoding the client prefers among brotli, gzip and none, sent as stored (the
//! compression layer leaves an answer that has an encoding alone); a strong ETag per
//! encoding; `304 Not Modified` when `If-None-Match` names the answer's JSON; and
//! `Cache-Control: private, no-cache`, so a browser keeps it and asks again each time,
//! while no shared cache keeps what needs a session.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::geography::EncodedAnswer;

/// What a browser may do with a stored answer: keep it for this user, check it every time.
const CACHE_CONTROL: &str = "private, no-cache";

/// An encoding of a stored answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Br,
    Gzip,
    Identity,
}

impl Encoding {
    /// The best encoding `accept` (an `Accept-Encoding` value) allows: brotli over gzip
    /// over none, each unless refused with `q=0`; `*` stands for any not named.
    fn chosen(accept: Option<&str>) -> Encoding {
        let Some(accept) = accept else { return Encoding::Identity };
        let mut named = Vec::new();
        for item in accept.split(',') {
            let mut parts = item.split(';');
            let token = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q=").and_then(|q| q.trim().parse::<f32>().ok()))
                .next()
                .unwrap_or(1.0);
            named.push((token, q > 0.0));
        }
        let allows = |name: &str| {
            named
                .iter()
                .find(|(t, _)| t == name)
                .or_else(|| named.iter().find(|(t, _)| t == "*"))
                .is_some_and(|(_, ok)| *ok)
        };
        if allows("br") {
            Encoding::Br
        } else if allows("gzip") || allows("x-gzip") {
            Encoding::Gzip
        } else {
            Encoding::Identity
        }
    }

    fn suffix(self) -> &'static str {
        match self {
            Encoding::Br => "-br",
            Encoding::Gzip => "-gz",
            Encoding::Identity => "",
        }
    }
}

/// `answer` for the request with `headers`: 304 when its `If-None-Match` names this
/// answer's JSON (in any encoding, as the weak comparison the header calls for), else
/// 200 with the body in the best encoding the client accepts.
pub(crate) fn respond(answer: &EncodedAnswer, headers: &HeaderMap) -> Response {
    let accept = headers.get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok());
    let encoding = Encoding::chosen(accept);
    let etag = format!("\"{}{}\"", answer.tag, encoding.suffix());
    let mut response = if matches(headers, &answer.tag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let body = match encoding {
            Encoding::Br => answer.br.clone(),
            Encoding::Gzip => answer.gzip.clone(),
            Encoding::Identity => answer.json.clone(),
        };
        let mut response = Response::new(Body::from(body));
        let h = response.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        match encoding {
            Encoding::Br => h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("br")),
            Encoding::Gzip => h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip")),
            Encoding::Identity => None,
        };
        response
    };
    let h = response.headers_mut();
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, etag);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(CACHE_CONTROL));
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    response
}

/// Whether `If-None-Match` names the answer tagged `tag` (or is `*`).
fn matches(headers: &HeaderMap, tag: &str) -> bool {
    headers.get_all(header::IF_NONE_MATCH).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(
        |candidate| {
            let candidate = candidate.trim();
            if candidate == "*" {
                return true;
            }
            let opaque = candidate.strip_prefix("W/").unwrap_or(candidate).trim_matches('"');
            let opaque = opaque.strip_suffix("-br").or_else(|| opaque.strip_suffix("-gz")).unwrap_or(opaque);
            opaque == tag
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_encoding_follows_accept_encoding() {
        let check =
            |accept: Option<&str>, expected: Encoding| assert_eq!(Encoding::chosen(accept), expected, "{accept:?}");
        check(None, Encoding::Identity);
        check(Some("gzip, deflate, br, zstd"), Encoding::Br);
        check(Some("gzip"), Encoding::Gzip);
        check(Some("br;q=0, gzip;q=0.5"), Encoding::Gzip);
        check(Some("deflate"), Encoding::Identity);
        check(Some("*"), Encoding::Br);
        check(Some("br;q=0, *;q=0.1"), Encoding::Gzip);
        check(Some("identity"), Encoding::Identity);
    }

    #[test]
    fn if_none_match_names_the_json_in_any_encoding() {
        let check = |value: &str, expected: bool| {
            let mut headers = HeaderMap::new();
            headers.insert(header::IF_NONE_MATCH, HeaderValue::from_str(value).unwrap());
            assert_eq!(matches(&headers, "abc"), expected, "{value}");
        };
        check("\"abc\"", true);
        check("\"abc-br\"", true);
        check("W/\"abc-gz\"", true);
        check("\"old\", \"abc\"", true);
        check("*", true);
        check("\"abcd\"", false);
        check("\"ab\"", false);
        assert!(!matches(&HeaderMap::new(), "abc"));
    }
}
