//! Indicator values over MQTT: a push source (`POST /api/indicators/sources`) logs in with
//! its id as username and its token as password, and publishes to
//! `city/<district>/indicators/<indicator id>` one value or a list of them, each
//! `{"region", "period" | "at", "value"}`. They are taken as an HTTP push is
//! (`crate::indicators::push::ingest`: all or none, idempotent on indicator, region and
//! period), and a QoS 1 message is acknowledged only after the values committed. A message
//! that can never be taken (bad topic, district, payload or value, an indicator the source
//! may not push) is counted as a rejection, logged and acknowledged, so that it is not sent
//! forever; a database failure leaves it unacknowledged, so that it comes again.

use std::sync::atomic::Ordering;

use chrono::{DateTime, NaiveDate, Utc};
use cockpit_store::{AuditActor, IndicatorSourceRow};
use rumqttc::Publish;
use serde::Deserialize;

use super::Owed;
use crate::indicators::IndicatorsError;
use crate::indicators::push;
use crate::indicators::values::Arriving;
use crate::iot::Iot;

/// One value of a message.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Value {
    region: String,
    #[serde(default)]
    period: Option<NaiveDate>,
    #[serde(default)]
    at: Option<DateTime<Utc>>,
    value: f64,
}

/// A message: one value or several.
#[derive(Deserialize)]
#[serde(untagged)]
enum Message {
    One(Value),
    Many(Vec<Value>),
}

/// The push source `username` logs in as, if `password` is its token.
pub(super) async fn login(iot: &Iot, username: &str, password: &[u8]) -> Option<IndicatorSourceRow> {
    let password = std::str::from_utf8(password).ok()?;
    push::authenticate(&iot.cases().store, username, password).await.ok()
}

/// Takes one publish of `source`; the future resolves to the acknowledgement owed, once it
/// may be sent.
pub(super) fn handle(
    publish: Publish,
    source: &IndicatorSourceRow,
    iot: &Iot,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Owed> + Send>> {
    let owed = Owed::for_publish(&publish);
    let (iot, source) = (iot.clone(), source.clone());
    Box::pin(async move {
        match take(&publish, &source, &iot).await {
            Ok(changed) => {
                tracing::debug!(source = %source.id, topic = %publish.topic, changed, "indicator values pushed over MQTT");
                owed
            }
            Err(IndicatorsError::Store(error)) => {
                tracing::warn!(source = %source.id, %error, "indicator values not stored; the source sends them again");
                Owed::None
            }
            Err(reason) => {
                iot.counters().acl_refusals.fetch_add(1, Ordering::Relaxed);
                tracing::info!(source = %source.id, topic = %publish.topic, %reason, "indicator values refused");
                owed
            }
        }
    })
}

async fn take(publish: &Publish, source: &IndicatorSourceRow, iot: &Iot) -> Result<usize, IndicatorsError> {
    let Some((district, indicator)) = cockpit_iot::indicator_topic(&publish.topic) else {
        return Err(IndicatorsError::field("topic", "not city/<district>/indicators/<id>"));
    };
    if district != iot.district() {
        return Err(IndicatorsError::field("topic", format!("district `{district}` is not this one")));
    }
    let message: Message =
        serde_json::from_slice(&publish.payload).map_err(|e| IndicatorsError::field("payload", e.to_string()))?;
    let values = match message {
        Message::One(v) => vec![v],
        Message::Many(vs) if (1..=10_000).contains(&vs.len()) => vs,
        Message::Many(_) => return Err(IndicatorsError::field("payload", "1–10000 values")),
    };
    let arriving: Vec<Arriving> = values
        .into_iter()
        .map(|v| Arriving {
            indicator: indicator.to_string(),
            region: v.region,
            period: v.period,
            at: v.at,
            value: v.value,
        })
        .collect();
    let cases = iot.cases();
    let (now, offset) = (Utc::now(), cases.rules.get().calendar.offset());
    let who = AuditActor { actor: source.id.clone(), role: "source".into(), address: "mqtt".into() };
    push::ingest(&cases.store, &cases.geography.get().city, offset, now, source, &arriving, who).await
}
