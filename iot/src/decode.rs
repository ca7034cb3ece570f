//! Decoding: one MQTT message (topic, payload bytes, sending client) in, a [`Decoded`]
//! message or a [`Rejection`] out. Never panics, whatever the bytes.
//!
//! Payloads are JSON objects. `ts` is optional everywhere: unix milliseconds or an RFC 3339
//! string; without it the message is stamped `now_ms` (devices without a clock, and the
//! broker's last-will message, which must carry no time as it is written at connect time).
//!
//! ```text
//! telemetry  {"ts": 1764000000000, "values": {"water_level_m": 3.42, "battery_pct": 88},
//!             "position": {"lon": 120.64, "lat": 27.97}}          position optional
//! status     {"online": false}
//! events     {"ts": "2025-11-24T16:00:00Z", "kind": "illegal_parking", "confidence": 0.91,
//!             "detail": {"plate": "浙C12345"}}                     detail optional
//! ```
//!
//! Checks run in this order, and the first failure is the rejection: topic, sender,
//! registration, size, JSON, `ts`, then the kind's fields in the order above. Unknown
//! top-level fields are ignored, so devices can add fields before the server knows them.

use serde_json::value::RawValue;

use crate::device::{Device, EventKind};
use crate::ids::{DeviceId, clip};
use crate::metric::Metric;
use crate::payload::{NumberError, ObjectError, RawObject, boolean, number, parse_object, string, timestamp};
use crate::reading::{DecodeLimits, Decoded, DeviceEvent, Position, Reading, Status};
use crate::registry::DeviceRegistry;
use crate::rejection::Rejection;
use crate::topic::{TopicKind, levels};

/// Decodes one message. `sender` is the MQTT client id when the transport knows it; a
/// sender publishing under another device's id is refused as `not_own_topic`.
pub fn decode(
    topic: &str,
    payload: &[u8],
    sender: Option<&str>,
    registry: &DeviceRegistry,
    now_ms: i64,
    limits: &DecodeLimits,
) -> Result<Decoded, Rejection> {
    let (_, named, kind) = levels(topic)?;
    // Only a refusal copies the id: an accepted message names its device by the registry's.
    let named_id = || DeviceId::new(named).map_err(|_| Rejection::BadTopic { topic: clip(topic) });
    if let Some(sender) = sender
        && sender != named
    {
        return Err(Rejection::NotOwnTopic { device: named_id()?, sender: clip(sender) });
    }
    let Some(device) = registry.get(named) else {
        return Err(Rejection::UnknownDevice { device: named_id()? });
    };
    let message = Message { device, now_ms };
    if payload.len() > limits.max_payload_bytes {
        let (size, limit) = (payload.len(), limits.max_payload_bytes);
        return Err(Rejection::OversizedPayload { device: message.id(), size, limit });
    }
    let text = std::str::from_utf8(payload).map_err(|_| message.bad_json("not UTF-8".to_owned()))?;
    let object = match parse_object(text) {
        Ok(object) => object,
        Err(ObjectError::NotAnObject) => return Err(message.wrong_type("payload")),
        Err(ObjectError::Syntax(detail)) => return Err(message.bad_json(detail)),
    };
    let at_ms = message.time(&object, limits)?;
    match kind {
        TopicKind::Telemetry => message.reading(&object, at_ms).map(Decoded::Reading),
        TopicKind::Status => message.status(&object, at_ms).map(Decoded::Status),
        TopicKind::Events => message.event(&object, at_ms).map(Decoded::Event),
    }
}

/// The registered sender of the message being decoded.
struct Message<'a> {
    device: &'a Device,
    now_ms: i64,
}

impl Message<'_> {
    fn id(&self) -> DeviceId {
        self.device.id.clone()
    }

    fn time(&self, object: &RawObject<'_>, limits: &DecodeLimits) -> Result<i64, Rejection> {
        let Some(raw) = object.get("ts") else {
            return Ok(self.now_ms);
        };
        let at_ms = timestamp(raw).map_err(|error| self.number_error(error, "ts"))?;
        let (device, now_ms) = (self.id(), self.now_ms);
        if at_ms > now_ms.saturating_add(limits.max_future_ms) {
            Err(Rejection::FutureTimestamp { device, at_ms, now_ms })
        } else if at_ms < now_ms.saturating_sub(limits.max_age_ms) {
            Err(Rejection::StaleTimestamp { device, at_ms, now_ms })
        } else {
            Ok(at_ms)
        }
    }

    fn reading(&self, object: &RawObject<'_>, at_ms: i64) -> Result<Reading, Rejection> {
        let raw = object.get("values").ok_or_else(|| self.missing("values"))?;
        let values_object = parse_object(raw.get()).map_err(|error| match error {
            ObjectError::NotAnObject => self.wrong_type("values"),
            ObjectError::Syntax(detail) => self.bad_json(detail),
        })?;
        if values_object.members().is_empty() {
            return Err(self.missing("values"));
        }
        let device_type = self.device.device_type;
        let mut values = Vec::with_capacity(values_object.members().len());
        for (name, raw) in values_object.members() {
            let metric = Metric::from_name(name)
                .filter(|metric| device_type.reports(*metric))
                .ok_or_else(|| Rejection::UnknownMetric { device: self.id(), metric: clip(name) })?;
            let field = || format!("values.{}", metric.name());
            let value = number(raw, metric.is_flag()).map_err(|error| self.number_error(error, &field()))?;
            if !metric.accepts(value) {
                return Err(Rejection::OutOfRange { device: self.id(), field: field(), value });
            }
            values.push((metric, value));
        }
        let position = object.get("position").map(|raw| self.position(raw)).transpose()?;
        Ok(Reading { device: self.id(), device_type, at_ms, values, position })
    }

    fn position(&self, raw: &RawValue) -> Result<Position, Rejection> {
        let bad = |detail: &str| Rejection::BadPosition { device: self.id(), detail: detail.to_owned() };
        let object = parse_object(raw.get()).map_err(|_| bad("not an object"))?;
        let coordinate = |name: &str| match object.get(name).map(|raw| number(raw, false)) {
            None => Err(bad(&format!("missing {name}"))),
            Some(Err(_)) => Err(bad(&format!("{name} is not a finite number"))),
            Some(Ok(value)) => Ok(value),
        };
        let (lon, lat) = (coordinate("lon")?, coordinate("lat")?);
        if (-180.0..=180.0).contains(&lon) && (-90.0..=90.0).contains(&lat) {
            Ok(Position { lon, lat })
        } else {
            Err(bad("off the globe"))
        }
    }

    fn status(&self, object: &RawObject<'_>, at_ms: i64) -> Result<Status, Rejection> {
        let raw = object.get("online").ok_or_else(|| self.missing("online"))?;
        let online = boolean(raw).ok_or_else(|| self.wrong_type("online"))?;
        Ok(Status { device: self.id(), online, at_ms })
    }

    fn event(&self, object: &RawObject<'_>, at_ms: i64) -> Result<DeviceEvent, Rejection> {
        let raw = object.get("kind").ok_or_else(|| self.missing("kind"))?;
        let name = string(raw).ok_or_else(|| self.wrong_type("kind"))?;
        let kind = EventKind::from_name(&name)
            .filter(|kind| self.device.device_type.event_kinds().contains(kind))
            .ok_or_else(|| Rejection::UnknownEventKind { device: self.id(), kind: clip(&name) })?;
        let raw = object.get("confidence").ok_or_else(|| self.missing("confidence"))?;
        let confidence = number(raw, false).map_err(|error| self.number_error(error, "confidence"))?;
        if !(0.0..=1.0).contains(&confidence) {
            return Err(Rejection::OutOfRange { device: self.id(), field: "confidence".to_owned(), value: confidence });
        }
        let detail = match object.get("detail") {
            None => serde_json::Map::new(),
            Some(raw) => serde_json::from_str(raw.get()).map_err(|error| {
                if error.is_data() {
                    self.wrong_type("detail")
                } else if error.to_string().starts_with("number out of range") {
                    Rejection::NotFinite { device: self.id(), field: "detail".to_owned() }
                } else {
                    self.bad_json(error.to_string())
                }
            })?,
        };
        Ok(DeviceEvent { device: self.id(), at_ms, kind, confidence, detail })
    }

    fn number_error(&self, error: NumberError, field: &str) -> Rejection {
        let field = field.to_owned();
        match error {
            NumberError::WrongType => Rejection::WrongType { device: self.id(), field },
            NumberError::NotFinite => Rejection::NotFinite { device: self.id(), field },
        }
    }

    fn bad_json(&self, detail: String) -> Rejection {
        Rejection::BadJson { device: self.id(), detail }
    }

    fn wrong_type(&self, field: &str) -> Rejection {
        Rejection::WrongType { device: self.id(), field: field.to_owned() }
    }

    fn missing(&self, field: &str) -> Rejection {
        Rejection::MissingField { device: self.id(), field: field.to_owned() }
    }
}

/// Checks that decoded values keep the promises the rest of the crate relies on.
#[cfg(test)]
fn assert_sound(decoded: &Decoded, now_ms: i64, limits: &DecodeLimits) {
    let at_ms = decoded.at_ms();
    assert!(at_ms <= now_ms.saturating_add(limits.max_future_ms));
    assert!(at_ms >= now_ms.saturating_sub(limits.max_age_ms));
    match decoded {
        Decoded::Reading(reading) => {
            assert!(!reading.values.is_empty());
            for (metric, value) in &reading.values {
                assert!(reading.device_type.reports(*metric) && metric.accepts(*value), "{metric} {value}");
            }
            if let Some(Position { lon, lat }) = reading.position {
                assert!(lon.abs() <= 180.0 && lat.abs() <= 90.0);
            }
        }
        Decoded::Status(_) => {}
        Decoded::Event(event) => assert!((0.0..=1.0).contains(&event.confidence)),
    }
}

#[cfg(test)]
mod fuzz;
#[cfg(test)]
mod tests;
