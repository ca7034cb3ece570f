//! What Open311 GeoReport v2 sends and answers, as the spec names it.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// One refusal, in the spec's error format (the answer is a list of one).
#[derive(Serialize, ToSchema)]
pub(crate) struct Failure {
    /// The HTTP status.
    pub(crate) code: u16,
    /// What is wrong, the field named first (`service_code: ...`).
    pub(crate) description: String,
}

/// A service: a leaf category.
#[derive(Serialize, ToSchema)]
pub(crate) struct Service {
    /// The category's code.
    pub(crate) service_code: String,
    /// Its name.
    pub(crate) service_name: String,
    /// Its full name, with its parents'.
    pub(crate) description: String,
    /// Always false: no attributes beyond the standard ones.
    pub(crate) metadata: bool,
    /// Always `realtime`.
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    /// Keywords (none).
    pub(crate) keywords: &'static str,
    /// The parent category's name.
    pub(crate) group: String,
}

/// A report, form-urlencoded or JSON. A location is required: `lat` and `long`, or
/// `address_string`.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)] // read by hand (`fields`), so that a byte that is not UTF-8 is refused by name
pub(crate) struct Report {
    /// The application's key, issued by the city (`POST /api/open311/keys`).
    #[schema(pattern = "\\S")]
    api_key: String,
    /// A service's code (`GET /open311/v2/services.json`).
    #[schema(pattern = "^[0-9]{2,8}$", example = "0402")]
    service_code: String,
    /// Latitude (WGS84), with `long`.
    #[schema(minimum = -90.0, maximum = 90.0, example = 28.01)]
    lat: Option<f64>,
    /// Longitude (WGS84), with `lat`.
    #[schema(minimum = -180.0, maximum = 180.0, example = 120.65)]
    long: Option<f64>,
    /// Where, in words.
    address_string: Option<String>,
    /// What is wrong (at most 4000 characters; the service's name when left out).
    #[schema(max_length = 4000)]
    description: Option<String>,
    /// The reporter's given name (stored masked, never answered).
    first_name: Option<String>,
    /// The reporter's family name.
    last_name: Option<String>,
    /// The reporter's phone (stored masked, never answered).
    phone: Option<String>,
    /// Not stored: the case model has no place for it.
    email: Option<String>,
    /// Ignored.
    media_url: Option<String>,
}

/// The receipt of a report.
#[derive(Serialize, ToSchema)]
pub(crate) struct Receipt {
    /// The request's id.
    pub(crate) service_request_id: String,
    /// What happens next.
    pub(crate) service_notice: &'static str,
    /// Always null: no accounts.
    pub(crate) account_id: Option<String>,
}

/// Which requests: by id (the other filters are then ignored), or by service, status and
/// time.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct RequestsQuery {
    /// Request ids, comma-separated (at most 1000).
    #[param(pattern = "^[0-9]{1,18}(,[0-9]{1,18})*$", example = "12,15")]
    pub(crate) service_request_id: Option<String>,
    /// Service codes, comma-separated.
    #[param(pattern = "^[0-9]{2,8}(,[0-9]{2,8})*$", example = "0402")]
    pub(crate) service_code: Option<String>,
    /// `open`, `closed`, or both, comma-separated.
    #[param(pattern = "^(open|closed)(,(open|closed))*$", example = "open")]
    pub(crate) status: Option<String>,
    /// Requested at or after (RFC 3339; default: 90 days before `end_date`).
    pub(crate) start_date: Option<chrono::DateTime<chrono::Utc>>,
    /// Requested at or before (RFC 3339).
    pub(crate) end_date: Option<chrono::DateTime<chrono::Utc>>,
}

/// A service request, as the public may read it: the reporter is never named.
#[derive(Serialize, ToSchema)]
pub(crate) struct Request {
    /// Its id.
    pub(crate) service_request_id: String,
    /// `open` or `closed`.
    #[schema(pattern = "^(open|closed)$")]
    pub(crate) status: &'static str,
    /// Where it stands, in words.
    pub(crate) status_notes: Option<&'static str>,
    /// The service's name.
    pub(crate) service_name: Option<String>,
    /// The service's code.
    pub(crate) service_code: String,
    /// What was reported, personal data masked.
    pub(crate) description: String,
    /// The unit in charge (a department or a street's platform), never a person.
    pub(crate) agency_responsible: Option<String>,
    /// Always null.
    pub(crate) service_notice: Option<String>,
    /// When it was reported (the city's time).
    pub(crate) requested_datetime: String,
    /// When it last changed.
    pub(crate) updated_datetime: String,
    /// When it is due.
    pub(crate) expected_datetime: Option<String>,
    /// Where, in words.
    pub(crate) address: Option<String>,
    /// Always null.
    pub(crate) address_id: Option<String>,
    /// Always null.
    pub(crate) zipcode: Option<String>,
    /// Latitude.
    pub(crate) lat: Option<f64>,
    /// Longitude.
    pub(crate) long: Option<f64>,
    /// Always null.
    pub(crate) media_url: Option<String>,
}
