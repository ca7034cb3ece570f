//! The case opener: every alarm (and camera detection) that wants a case gets exactly one, through the events
//! intake (source `alarm`, entry path Alarm, located at the device). The source reference
//! is the alarm's (or its storm's), so a retry after a crash finds the case it opened.

use std::sync::atomic::Ordering;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use cockpit_events::{Actor, CategoryCode, Crs, EntryPath, GeoPoint, NewCase, SourceId, SourceRef, Tag, Urgency};
use serde_json::Value;
use tokio::sync::{mpsc, watch};

use super::Iot;
use crate::cases::CaseService;
use cockpit_store::AuditActor;

pub(crate) async fn run(cases: CaseService, mut wake: mpsc::Receiver<()>, iot: Iot, mut stop: watch::Receiver<bool>) {
    let mut interval = tokio::time::interval(Duration::from_secs(30));
    loop {
        tokio::select! {
            _ = wake.recv() => {}
            _ = interval.tick() => {}
            _ = stop.changed() => return,
        }
        if let Err(e) = open_pending(&cases, &iot).await {
            tracing::warn!(error = %e, "opening cases for alarms failed; retrying");
        }
    }
}

async fn open_pending(cases: &CaseService, iot: &Iot) -> anyhow::Result<()> {
    for (alarm, device, wanted) in cases.store.alarms_wanting_cases().await? {
        let at = time(&wanted, "raised_at_ms");
        let (metric, value) =
            (text(&wanted, "metric"), wanted.get("value").and_then(Value::as_f64).unwrap_or_default());
        let description = format!("设备 {device} 告警：{metric} = {value}，{} 触发。", at.to_rfc3339());
        let case = open(cases, iot, &device, &wanted, at, description, vec![Tag::Emergency]).await?;
        cases.store.link_alarm_case(alarm, case).await?;
    }
    for (event, device, wanted) in cases.store.events_wanting_cases().await? {
        let at = time(&wanted, "at_ms");
        let confidence = wanted.get("confidence").and_then(Value::as_f64).unwrap_or_default();
        let description = format!(
            "摄像头 {device} 识别到 {}（置信度 {confidence:.2}），{}。",
            text(&wanted, "kind"),
            at.to_rfc3339()
        );
        let case = open(cases, iot, &device, &wanted, at, description, Vec::new()).await?;
        cases.store.link_event_case(event, case).await?;
    }
    Ok(())
}

fn text(wanted: &Value, key: &str) -> String {
    wanted.get(key).and_then(Value::as_str).unwrap_or_default().to_string()
}

fn time(wanted: &Value, key: &str) -> chrono::DateTime<Utc> {
    wanted
        .get(key)
        .and_then(Value::as_i64)
        .and_then(|ms| Utc.timestamp_millis_opt(ms).single())
        .unwrap_or_else(Utc::now)
}

/// Opens (or finds, by its source reference) the case `wanted` describes, at `device`.
async fn open(
    cases: &CaseService,
    iot: &Iot,
    device: &str,
    wanted: &Value,
    at: chrono::DateTime<Utc>,
    description: String,
    tags: Vec<Tag>,
) -> anyhow::Result<i64> {
    let place = iot.place(device);
    let new = NewCase {
        source: SourceId::new("alarm"),
        source_ref: Some(SourceRef::new(text(wanted, "source_ref"))),
        title: format!("{}（{device}）", text(wanted, "title")),
        description,
        category: CategoryCode::new(text(wanted, "category")),
        urgency: Urgency::parse(&text(wanted, "urgency")).unwrap_or(Urgency::Urgent),
        tags,
        location: place.as_ref().and_then(|p| GeoPoint::new(p.lon, p.lat).ok()),
        crs: Crs::Wgs84,
        address: None,
        reporter: None,
        occurred_at: at,
        region_hint: None,
    };
    let (created, _) = cases.create(new, EntryPath::Alarm, &Actor::system(), Utc::now(), AuditActor::system()).await?;
    if created.new {
        iot.counters().cases_opened.fetch_add(1, Ordering::Relaxed);
        tracing::info!(device, case = created.id.0, source_ref = %text(wanted, "source_ref"), "case opened for a device");
    }
    Ok(created.id.0)
}
