//! The MQTT transport: the embedded broker, or the client of a city's broker.

use anyhow::Context;

use super::{Iot, broker, demo, external};

/// Starts the configured MQTT transport: the embedded broker on `[mqtt] listen`, or the
/// client of the external broker; and, for a demonstration, the simulator.
pub async fn start_transport(
    iot: &Iot,
    config: &crate::Config,
    stop: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<Option<tokio::task::JoinHandle<()>>> {
    use crate::config::MqttMode;
    let mqtt = &config.mqtt;
    let handle = match mqtt.mode {
        MqttMode::Off => return Ok(None),
        MqttMode::Embedded => {
            let listener = tokio::net::TcpListener::bind(mqtt.listen).await.with_context(|| {
                format!("MQTT: listening on {} (another broker running? set [mqtt] listen)", mqtt.listen)
            })?;
            let address = listener.local_addr()?;
            let limits = broker::Limits {
                max_connections: mqtt.max_connections,
                max_packet_bytes: mqtt.max_packet_bytes,
                max_waiting_logins: mqtt.max_waiting_logins.max(1),
            };
            let handle = tokio::spawn(broker::serve(listener, iot.clone(), limits, stop.clone()));
            if config.iot.simulate {
                let detections = super::simulate::Detections {
                    per_minute: config.iot.simulate_detections_per_minute,
                    seed: config.demo.seed,
                };
                demo::simulate(&config.data_home, address, &mqtt.district, config.iot.simulate_rate, detections)?;
            }
            handle
        }
        MqttMode::External => {
            let (iot, mqtt, stop) = (iot.clone(), mqtt.clone(), stop.clone());
            tokio::spawn(async move {
                if let Err(e) = external::run(iot, mqtt, stop).await {
                    tracing::error!(error = %e, "the external MQTT client stopped");
                }
            })
        }
    };
    Ok(Some(handle))
}
