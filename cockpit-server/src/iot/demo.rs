//! The demonstration: the sample devices registered with credentials the simulator can
//! read (`data_home/device-credentials.json`, mode 600), and the simulator publishing to
//! the embedded broker over real MQTT connections.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use chrono::Utc;
use cockpit_iot::DeviceRegistry;

use super::simulate::{self, Plan, SimDevice};
use crate::cases::CaseService;
use cockpit_store::{AuditActor, AuditEntry, Store};

/// The credentials file the demonstration writes.
pub fn credentials_path(data_home: &Path) -> std::path::PathBuf {
    data_home.join("device-credentials.json")
}

/// Registers `data_dir/iot/devices.json` (new devices, and credentials for those the file
/// does not know yet), audited as the system.
pub async fn register_devices(cases: &CaseService, data_dir: &Path, data_home: &Path) -> anyhow::Result<()> {
    let path = data_dir.join("iot/devices.json");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let mut registry = DeviceRegistry::new();
    registry.import_json(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let file = credentials_path(data_home);
    let known: HashMap<String, SimDevice> = if file.exists() {
        simulate::load_credentials(&file)?.into_iter().map(|d| (d.id.clone(), d)).collect()
    } else {
        HashMap::new()
    };
    let devices: Vec<cockpit_iot::Device> = registry.iter().cloned().collect();
    let (all, fresh) = simulate::credentials_for(&devices, &known)?;
    // Every device's digest from its credential, so that a database made afresh beside a
    // kept credentials file still lets the simulator in.
    let digests: HashMap<&str, String> =
        all.iter().map(|d| (d.id.as_str(), cockpit_access::token_digest(&d.password))).collect();
    let geography = cases.geography.get();
    let rows: Vec<_> = devices
        .iter()
        .map(|d| {
            let digest = digests.get(d.id.as_str()).cloned().unwrap_or_default();
            super::device_row(&geography.city, d, digest)
        })
        .collect();
    let mut tx = cases.store.pool().begin().await?;
    let new = Store::upsert_devices(&mut tx, &rows).await?;
    Store::set_device_credentials(&mut tx, &fresh).await?;
    if !fresh.is_empty() {
        let entry = AuditEntry {
            who: AuditActor::system(),
            action: "device.import".into(),
            object: "devices".into(),
            result: "ok".into(),
            detail: serde_json::json!({"devices": rows.len(), "new": new.len(), "demo": true}),
        };
        Store::audit(&mut tx, Utc::now(), &[entry]).await?;
    }
    tx.commit().await?;
    if !fresh.is_empty() {
        std::fs::create_dir_all(data_home)?;
        let tmp = file.with_extension("json.tmp");
        {
            use std::io::Write;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut out = options.open(&tmp).with_context(|| format!("writing {}", tmp.display()))?;
            out.write_all(serde_json::to_string_pretty(&all)?.as_bytes())?;
            out.sync_all()?;
        }
        std::fs::rename(&tmp, &file)?;
        tracing::info!(devices = all.len(), file = %file.display(), "sample devices registered; their MQTT credentials are in the file");
    }
    Ok(())
}

/// Starts the simulator against the embedded broker at `broker`, with incidents and the
/// cameras' detections; at a `rate` of 0, none (the devices and their credentials are
/// there for a simulator outside, `scripts/load/overload.sh`).
pub fn simulate(
    data_home: &Path,
    broker: SocketAddr,
    district: &str,
    rate: u32,
    detections: simulate::Detections,
) -> anyhow::Result<()> {
    if rate == 0 {
        return Ok(());
    }
    let devices = simulate::load_credentials(&credentials_path(data_home))?;
    let host = if broker.ip().is_unspecified() { "127.0.0.1".to_string() } else { broker.ip().to_string() };
    let plan = Plan {
        broker: (host, broker.port()),
        district: district.to_string(),
        rate,
        duration: None,
        incidents: true,
        qos: rumqttc::QoS::AtLeastOnce,
        detections: (detections.per_minute > 0).then_some(detections),
    };
    tokio::spawn(async move {
        if let Err(e) = simulate::run(devices, plan, Arc::new(simulate::Sent::default())).await {
            tracing::warn!(error = %e, "the simulator stopped");
        }
    });
    tracing::info!(rate, "simulated sensors publishing");
    Ok(())
}
