//! The external-broker mode: the server is a client of the city's broker (Mosquitto,
//! EMQX). It subscribes with QoS 1 to `city/<district>/devices/+/+` on a persistent
//! session (clean session off, a fixed client id per instance), and the instances split
//! the grids among them (`claims`); or, with `split = "share"`, to
//! `$share/<group>/city/<district>/devices/+/+`, so that the broker splits the messages. A
//! message not yet acknowledged stays with the broker while an instance is down. Acknowledgements are manual: a critical QoS 1
//! message is acknowledged only once committed, in the order received.
//!
//! Devices' logins and topic ACLs are the broker's (docs/mqtt.md shows a Mosquitto
//! configuration); the decoder still checks each topic's grammar and device.

use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::FuturesOrdered;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, Publish, QoS};
use tokio::sync::{mpsc, watch};

use super::{IngestError, Iot};
use crate::config::{MqttConfig, MqttSplit};

/// Splits `mqtt://host:port` (port 1883 when absent).
fn address(url: &str) -> anyhow::Result<(String, u16)> {
    let rest = url
        .strip_prefix("mqtt://")
        .or_else(|| url.strip_prefix("tcp://"))
        .ok_or_else(|| anyhow::anyhow!("[mqtt] url `{url}`: expected mqtt://host:port"))?;
    let rest = rest.trim_end_matches('/');
    match rest.rsplit_once(':') {
        Some((host, port)) => {
            Ok((host.to_string(), port.parse().map_err(|_| anyhow::anyhow!("[mqtt] url port `{port}`"))?))
        }
        None => Ok((rest.to_string(), 1883)),
    }
}

/// The subscription, every device of the district and every kind: plain when instances
/// claim grids, shared by the group otherwise.
pub fn filter(config: &MqttConfig) -> String {
    match config.split {
        MqttSplit::Claim => format!("city/{}/devices/+/+", config.district),
        MqttSplit::Share => format!("$share/{}/city/{}/devices/+/+", config.share_group, config.district),
    }
}

/// Connects and takes messages in until `stop` turns true; reconnects by itself.
pub async fn run(iot: Iot, config: MqttConfig, mut stop: watch::Receiver<bool>) -> anyhow::Result<()> {
    let (host, port) = address(&config.url)?;
    let mut options = MqttOptions::new(config.client_id.clone(), host, port);
    options.set_clean_session(false);
    options.set_manual_acks(true);
    options.set_keep_alive(Duration::from_secs(30));
    options.set_inflight(1000);
    options.set_max_packet_size(config.max_packet_bytes, config.max_packet_bytes);
    if !config.username.is_empty() {
        let password = if config.password_file.as_os_str().is_empty() {
            String::new()
        } else {
            std::fs::read_to_string(&config.password_file)
                .map_err(|e| anyhow::anyhow!("reading {}: {e}", config.password_file.display()))?
                .trim()
                .to_string()
        };
        options.set_credentials(config.username.clone(), password);
    }
    let (client, mut events) = AsyncClient::new(options, 4096);
    let (tx, rx) = mpsc::channel::<Publish>(4096);
    tokio::spawn(take_in(iot.clone(), client.clone(), rx));
    let subscription = filter(&config);
    loop {
        let event = tokio::select! {
            event = events.poll() => event,
            _ = stop.changed() => {
                let _ = client.disconnect().await;
                return Ok(());
            }
        };
        match event {
            Ok(Event::Incoming(Packet::ConnAck(ack))) => {
                tracing::info!(session_present = ack.session_present, "connected to the MQTT broker");
                // Subscribing again on a present session is harmless and covers a broker
                // that lost its state.
                if let Err(e) = client.subscribe(subscription.clone(), QoS::AtLeastOnce).await {
                    tracing::warn!(error = %e, "subscribing failed");
                }
            }
            Ok(Event::Incoming(Packet::Publish(publish))) => {
                if tx.send(publish).await.is_err() {
                    return Ok(());
                }
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "MQTT broker connection lost; reconnecting");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// Ingests messages in order and acknowledges each once it may be.
async fn take_in(iot: Iot, client: AsyncClient, mut rx: mpsc::Receiver<Publish>) {
    let mut pending = FuturesOrdered::new();
    loop {
        tokio::select! {
            biased;
            Some(done) = pending.next(), if !pending.is_empty() => {
                let done: Option<Publish> = done;
                if let Some(publish) = done
                    && let Err(e) = client.ack(&publish).await
                {
                    tracing::warn!(error = %e, "acknowledging to the broker failed");
                }
            }
            publish = rx.recv(), if pending.len() < 1000 => {
                let Some(publish) = publish else { return };
                let qos1 = publish.qos != QoS::AtMostOnce;
                let outcome = iot.ingest(&publish.topic, &publish.payload, None, qos1).await;
                let wait: std::pin::Pin<Box<dyn std::future::Future<Output = Option<Publish>> + Send>> = match outcome {
                    Ok(Some(committed)) => Box::pin(async move { committed.await.ok().filter(|ok| *ok).map(|_| publish) }),
                    Ok(None) | Err(IngestError::Rejected(_)) => Box::pin(async move { Some(publish) }),
                    // Not taken in: left unacknowledged, the broker delivers it again.
                    Err(IngestError::Unavailable) => Box::pin(async { None }),
                };
                pending.push_back(wait);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::address;

    #[test]
    fn broker_urls() {
        assert_eq!(address("mqtt://127.0.0.1:1884").ok(), Some(("127.0.0.1".to_string(), 1884)));
        assert_eq!(address("mqtt://broker.city").ok(), Some(("broker.city".to_string(), 1883)));
        assert!(address("http://x").is_err());
        assert!(address("mqtt://x:port").is_err());
    }
}
