//! The opener of indicator alarm cases: every red episode's case, through the events
//! intake (source `alarm`, entry path Alarm, at the region's centre), with the source
//! reference `indicator-alarm:<id>`. The intake is idempotent on (source, source
//! reference) by a unique constraint, so an opener on every instance, a retry after a
//! crash or two openers at once open each episode's case exactly once.

use std::time::Duration;

use chrono::Utc;
use cockpit_events::{Actor, CategoryCode, Crs, EntryPath, GeoPoint, NewCase, SourceId, SourceRef, Urgency};
use cockpit_store::{AuditActor, IndicatorAlarmRow};
use serde_json::Value;
use tokio::sync::watch;

use crate::cases::CaseService;

/// How often each instance looks for cases to open: a red alarm's case opens within it.
pub const INTERVAL: Duration = Duration::from_secs(1);

/// Opens the wanted cases every [`INTERVAL`] until `stop` turns true.
pub async fn run(cases: CaseService, mut stop: watch::Receiver<bool>) {
    let mut interval = tokio::time::interval(INTERVAL);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            _ = stop.changed() => return,
        }
        if let Err(e) = open_due(&cases).await {
            tracing::warn!(error = %e, "opening cases for indicator alarms failed; retrying");
        }
    }
}

/// Opens the cases due now; how many were new.
pub async fn open_due(cases: &CaseService) -> anyhow::Result<usize> {
    let mut opened = 0;
    for alarm in cases.store.indicator_alarms_wanting_cases(Utc::now()).await? {
        let (id, new) = open(cases, &alarm).await?;
        cases.store.link_indicator_alarm_case(alarm.id, id).await?;
        opened += usize::from(new);
    }
    Ok(opened)
}

async fn open(cases: &CaseService, alarm: &IndicatorAlarmRow) -> anyhow::Result<(i64, bool)> {
    let words = alarm.case_wanted.clone().unwrap_or_default();
    let text = |key: &str| words.get(key).and_then(Value::as_str).unwrap_or_default().to_string();
    let number = |key: &str| words.get(key).and_then(Value::as_f64);
    let location = number("lon").zip(number("lat")).and_then(|(lon, lat)| GeoPoint::new(lon, lat).ok());
    let source_ref = format!("indicator-alarm:{}", alarm.id);
    let new = NewCase {
        source: SourceId::new("alarm"),
        source_ref: Some(SourceRef::new(source_ref.clone())),
        title: text("title"),
        description: text("description"),
        category: CategoryCode::new(text("category")),
        urgency: Urgency::Urgent,
        tags: Vec::new(),
        location,
        crs: Crs::Wgs84,
        address: None,
        reporter: None,
        occurred_at: alarm.opened_at,
        region_hint: None,
    };
    let (created, _) = cases.create(new, EntryPath::Alarm, &Actor::system(), Utc::now(), AuditActor::system()).await?;
    if created.new {
        tracing::info!(alarm = alarm.id, case = created.id.0, %source_ref, "case opened for an indicator alarm");
    }
    Ok((created.id.0, created.new))
}
