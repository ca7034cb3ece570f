//! The case opener: every alarm that wants a case gets exactly one, through the events
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
use crate::store::AuditActor;

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
        let text = |k: &str| wanted.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
        let place = iot.place(&device);
        let raised_at = wanted
            .get("raised_at_ms")
            .and_then(Value::as_i64)
            .and_then(|ms| Utc.timestamp_millis_opt(ms).single())
            .unwrap_or_else(Utc::now);
        let value = wanted.get("value").and_then(Value::as_f64).unwrap_or_default();
        let metric = text("metric");
        let new = NewCase {
            source: SourceId::new("alarm"),
            source_ref: Some(SourceRef::new(text("source_ref"))),
            title: format!("{}（{device}）", text("title")),
            description: format!("设备 {device} 告警：{metric} = {value}，{} 触发。", raised_at.to_rfc3339()),
            category: CategoryCode::new(text("category")),
            urgency: Urgency::parse(&text("urgency")).unwrap_or(Urgency::Urgent),
            tags: vec![Tag::Emergency],
            location: place.as_ref().and_then(|p| GeoPoint::new(p.lon, p.lat).ok()),
            crs: Crs::Wgs84,
            address: None,
            reporter: None,
            occurred_at: raised_at,
            region_hint: None,
        };
        let (created, _) =
            cases.create(new, EntryPath::Alarm, &Actor::system(), Utc::now(), AuditActor::system()).await?;
        cases.store.link_alarm_case(alarm, created.id.0).await?;
        if created.new {
            iot.counters().cases_opened.fetch_add(1, Ordering::Relaxed);
            tracing::info!(alarm, case = created.id.0, "case opened for an alarm");
        }
    }
    Ok(())
}
