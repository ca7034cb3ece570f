//! The embedded MQTT 3.1.1 broker: what a district needs to connect its sensors with
//! nothing else installed, and no more (docs/mqtt.md).
//!
//! - A device logs in with its id as username and the credential it was given at
//!   registration as password (checked against the stored SHA-256, in constant time); a
//!   wrong or missing login gets CONNACK 4 and the connection closes.
//! - It may publish only to its own topics, `city/<district>/devices/<its id>/<kind>`, and
//!   subscribe only under them: anything else is refused (counted as an ACL refusal, the
//!   publish dropped and acknowledged so the device does not retry it forever; a refused
//!   subscription gets the failure return code).
//! - A QoS 1 message of a critical kind is acknowledged only once the pipeline has
//!   committed it; PUBACKs go out in the order the messages came (MQTT 3.1.1 §4.6), while
//!   the connection keeps reading. QoS 2 is taken as QoS 1 with the PUBREC/PUBCOMP
//!   handshake.
//! - Accepted messages go on to plain subscribers at QoS 0 (a slow subscriber misses
//!   messages, counted, rather than stalling publishers); retained messages are kept, the
//!   last will is published when a device drops without DISCONNECT, and a second
//!   connection of the same device with the same client id takes the session over.
//! - A device's client id is bound to it: empty, its id, or its id followed by `-` and
//!   anything (CONNACK 2 otherwise), so that no device can take over another's session.
//! - A connection has [`CONNECT_TIMEOUT`] to log in, and at most `[mqtt]
//!   max_waiting_logins` connections may be waiting to at once (a further one is closed at
//!   once), so that idle sockets cannot hold the slots that devices need.
//!
//! - A system that pushes indicator values logs in as its push source and publishes to
//!   `city/<district>/indicators/<id>` (`indicators.rs`).
//!
//! The codec is `rumqttc`'s (`mqttbytes::v4`), which never panics on bytes it reads.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::BytesMut;
use futures_util::StreamExt;
use futures_util::stream::FuturesOrdered;
use rumqttc::mqttbytes::{QoS, matches, valid_filter};
use rumqttc::{
    ConnAck, ConnectReturnCode, Packet, PubAck, PubComp, PubRec, Publish, SubAck, SubscribeReasonCode, UnsubAck,
};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc, watch};

use super::{IngestError, Iot};

mod codec;
mod indicators;
mod router;

use codec::{read_packet, write_packet};
use router::{Router, Subscription, own_filter};

/// How long a new connection has to send CONNECT.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Packets queued for one connection's socket.
const OUTBOX: usize = 1024;
/// QoS 1 messages awaiting their commit on one connection before it stops reading.
const MAX_PENDING_ACKS: usize = 1024;

/// The broker's limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Connections at once; the next waits for one to close.
    pub max_connections: usize,
    /// The largest packet, in bytes.
    pub max_packet_bytes: usize,
    /// Connections waiting to send CONNECT at once; a further one is closed at once.
    pub max_waiting_logins: usize,
}

/// Accepts connections on `listener` until `stop` turns true.
pub async fn serve(listener: TcpListener, iot: Iot, limits: Limits, mut stop: watch::Receiver<bool>) {
    if let Ok(address) = listener.local_addr() {
        iot.set_broker_address(address);
        tracing::info!(%address, "MQTT broker listening");
    }
    let router = Arc::new(Router::default());
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let handshakes = Arc::new(Semaphore::new(limits.max_waiting_logins));
    loop {
        let permit = tokio::select! {
            permit = slots.clone().acquire_owned() => match permit { Ok(p) => p, Err(_) => return },
            _ = stop.changed() => return,
        };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.changed() => return,
        };
        let (stream, peer) = match accepted {
            Ok(ok) => ok,
            Err(e) => {
                tracing::warn!(error = %e, "MQTT accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let (router, iot, stop) = (router.clone(), iot.clone(), stop.clone());
        let Ok(handshake) = handshakes.clone().try_acquire_owned() else {
            tracing::debug!(%peer, "MQTT connection closed: too many waiting to log in");
            continue;
        };
        tokio::spawn(async move {
            iot.counters().connections.fetch_add(1, Ordering::Relaxed);
            if let Err(reason) = connection(stream, &router, &iot, limits, handshake, stop).await {
                tracing::debug!(%peer, %reason, "MQTT connection closed");
            }
            iot.counters().connections.fetch_sub(1, Ordering::Relaxed);
            drop(permit);
        });
    }
}

/// Whether `client_id` may be used by `device`: empty (the broker names the session), the
/// device's id, or the id followed by `-` and anything.
fn client_id_is_own(client_id: &str, device: &str) -> bool {
    client_id.is_empty()
        || client_id == device
        || client_id.strip_prefix(device).is_some_and(|rest| rest.starts_with('-'))
}

/// The acknowledgement owed for a publish once it is handled.
enum Owed {
    None,
    PubAck(u16),
    PubRec(u16),
}

impl Owed {
    /// What a publish of this quality of service is owed once it is taken.
    fn for_publish(publish: &Publish) -> Owed {
        match publish.qos {
            QoS::AtMostOnce => Owed::None,
            QoS::AtLeastOnce => Owed::PubAck(publish.pkid),
            QoS::ExactlyOnce => Owed::PubRec(publish.pkid),
        }
    }
}

async fn connection(
    mut stream: TcpStream,
    router: &Router,
    iot: &Iot,
    limits: Limits,
    handshake: tokio::sync::OwnedSemaphorePermit,
    mut stop: watch::Receiver<bool>,
) -> Result<(), String> {
    let max = limits.max_packet_bytes;
    let mut buffer = BytesMut::with_capacity(4096);
    let first = match tokio::time::timeout(CONNECT_TIMEOUT, read_packet(&mut stream, &mut buffer, max)).await {
        Ok(Ok(Some(packet))) => packet,
        Ok(Ok(None)) => return Ok(()),
        Ok(Err(reason)) => {
            if reason.contains("protocol level") {
                let refuse = Packet::ConnAck(ConnAck::new(ConnectReturnCode::RefusedProtocolVersion, false));
                let _ = write_packet(&mut stream, &refuse, max).await;
            }
            return Err(reason);
        }
        Err(_) => return Err("no CONNECT in time".into()),
    };
    drop(handshake);
    let Packet::Connect(connect) = first else { return Err("the first packet was not CONNECT".into()) };
    // A device, or else a system that pushes indicator values (`indicators.rs`).
    let (device, source) = match &connect.login {
        Some(login) if iot.authenticate(&login.username, login.password.as_bytes()) => {
            (Some(login.username.clone()), None)
        }
        Some(login) => match indicators::login(iot, &login.username, login.password.as_bytes()).await {
            Some(s) => (Some(login.username.clone()), Some(s)),
            None => (None, None),
        },
        None => (None, None),
    };
    let device = match device {
        Some(device) => device,
        None => {
            iot.counters().auth_failures.fetch_add(1, Ordering::Relaxed);
            let refuse = Packet::ConnAck(ConnAck::new(ConnectReturnCode::BadUserNamePassword, false));
            let _ = write_packet(&mut stream, &refuse, max).await;
            return Err("login refused".into());
        }
    };
    if !client_id_is_own(&connect.client_id, &device) {
        iot.counters().auth_failures.fetch_add(1, Ordering::Relaxed);
        let refuse = Packet::ConnAck(ConnAck::new(ConnectReturnCode::BadClientId, false));
        let _ = write_packet(&mut stream, &refuse, max).await;
        return Err(format!("client id `{}` is not device {device}'s", connect.client_id));
    }
    let id = router.next_connection.fetch_add(1, Ordering::Relaxed);
    let client_id = if connect.client_id.is_empty() { format!("{device}-{id}") } else { connect.client_id.clone() };
    let session_key = (device.clone(), client_id);
    let (kill_tx, mut kill) = watch::channel(false);
    if let Ok(mut sessions) = router.sessions.lock()
        && let Some((_, previous)) = sessions.insert(session_key.clone(), (id, kill_tx))
    {
        // Session takeover: the older connection with this client id closes.
        let _ = previous.send(true);
    }
    let (out_tx, mut out_rx) = mpsc::channel::<Packet>(OUTBOX);
    let (read_half, mut write_half) = stream.into_split();
    let writer = tokio::spawn(async move {
        let mut bytes = BytesMut::with_capacity(8192);
        while let Some(packet) = out_rx.recv().await {
            bytes.clear();
            if packet.write(&mut bytes, usize::MAX).is_err() {
                continue;
            }
            // Write what else is queued in the same syscall.
            while let Ok(more) = out_rx.try_recv() {
                let _ = more.write(&mut bytes, usize::MAX);
                if bytes.len() > 64 * 1024 {
                    break;
                }
            }
            if write_half.write_all(&bytes).await.is_err() {
                return;
            }
        }
    });
    let _ = out_tx.send(Packet::ConnAck(ConnAck::new(ConnectReturnCode::Success, false))).await;
    let keep_alive = match connect.keep_alive {
        0 => Duration::from_secs(24 * 3600),
        seconds => Duration::from_millis(u64::from(seconds) * 1500),
    };
    let mut reader = read_half;
    let mut pending = FuturesOrdered::new();
    let mut clean = false;
    let outcome: Result<(), String> = loop {
        tokio::select! {
            biased;
            Some(owed) = pending.next(), if !pending.is_empty() => {
                let packet = match owed {
                    Owed::PubAck(pkid) => Packet::PubAck(PubAck::new(pkid)),
                    Owed::PubRec(pkid) => Packet::PubRec(PubRec::new(pkid)),
                    Owed::None => continue,
                };
                if out_tx.send(packet).await.is_err() {
                    break Err("socket closed".into());
                }
            }
            packet = tokio::time::timeout(keep_alive, read_packet(&mut reader, &mut buffer, max)),
                if pending.len() < MAX_PENDING_ACKS => {
                let packet = match packet {
                    Err(_) => break Err("keep-alive expired".into()),
                    Ok(Err(reason)) => break Err(reason),
                    Ok(Ok(None)) => break Err("connection closed without DISCONNECT".into()),
                    Ok(Ok(Some(packet))) => packet,
                };
                match packet {
                    Packet::Publish(publish) => match &source {
                        Some(source) => pending.push_back(indicators::handle(publish, source, iot)),
                        None => pending.push_back(handle_publish(publish, &device, router, iot).await),
                    },
                    Packet::Subscribe(subscribe) => {
                        let mut codes = Vec::with_capacity(subscribe.filters.len());
                        let mut granted = Vec::new();
                        for filter in &subscribe.filters {
                            // A push source subscribes to nothing.
                            if source.is_none() && valid_filter(&filter.path) && own_filter(&device, &filter.path) {
                                codes.push(SubscribeReasonCode::Success(QoS::AtMostOnce));
                                granted.push(filter.path.clone());
                            } else {
                                iot.counters().acl_refusals.fetch_add(1, Ordering::Relaxed);
                                codes.push(SubscribeReasonCode::Failure);
                            }
                        }
                        if let Ok(mut subs) = router.subscriptions.write() {
                            for filter in &granted {
                                subs.retain(|s| !(s.connection == id && &s.filter == filter));
                                subs.push(Subscription { connection: id, filter: filter.clone(), tx: out_tx.clone() });
                            }
                        }
                        let _ = out_tx.send(Packet::SubAck(SubAck::new(subscribe.pkid, codes))).await;
                        let retained: Vec<Publish> = router
                            .retained
                            .lock()
                            .map(|r| r.values().filter(|p| granted.iter().any(|f| matches(&p.topic, f))).cloned().collect())
                            .unwrap_or_default();
                        for mut publish in retained {
                            publish.retain = true;
                            let _ = out_tx.try_send(Packet::Publish(publish));
                        }
                    }
                    Packet::Unsubscribe(unsubscribe) => {
                        if let Ok(mut subs) = router.subscriptions.write() {
                            subs.retain(|s| !(s.connection == id && unsubscribe.topics.contains(&s.filter)));
                        }
                        let _ = out_tx.send(Packet::UnsubAck(UnsubAck::new(unsubscribe.pkid))).await;
                    }
                    Packet::PubRel(rel) => {
                        let _ = out_tx.send(Packet::PubComp(PubComp::new(rel.pkid))).await;
                    }
                    Packet::PingReq => {
                        let _ = out_tx.send(Packet::PingResp).await;
                    }
                    Packet::Disconnect => {
                        clean = true;
                        break Ok(());
                    }
                    // Acknowledgements of what we send (we send QoS 0 only) and packets a
                    // client must not send.
                    Packet::PubAck(_) | Packet::PubRec(_) | Packet::PubComp(_) => {}
                    Packet::Connect(_) => break Err("a second CONNECT".into()),
                    other => break Err(format!("unexpected packet {:?}", other.size())),
                }
            }
            _ = kill.changed() => break Err("taken over by a new connection with the same client id".into()),
            _ = stop.changed() => break Ok(()),
        }
    };
    // What was received keeps its acknowledgement if the socket still takes it.
    while let Some(owed) = pending.next().await {
        let packet = match owed {
            Owed::PubAck(pkid) => Packet::PubAck(PubAck::new(pkid)),
            Owed::PubRec(pkid) => Packet::PubRec(PubRec::new(pkid)),
            Owed::None => continue,
        };
        let _ = out_tx.try_send(packet);
    }
    if let Ok(mut subs) = router.subscriptions.write() {
        subs.retain(|s| s.connection != id);
    }
    if let Ok(mut sessions) = router.sessions.lock()
        && sessions.get(&session_key).is_some_and(|(owner, _)| *owner == id)
    {
        sessions.remove(&session_key);
    }
    if !clean && let Some(will) = &connect.last_will {
        let mut publish = Publish::from_bytes(will.topic.clone(), will.qos, will.message.clone());
        publish.retain = will.retain;
        let _ = handle_publish(publish, &device, router, iot).await.await;
    }
    drop(out_tx);
    let _ = writer.await;
    outcome
}

/// Takes in one publish: ACL, pipeline, subscribers. The future resolves to the
/// acknowledgement owed, once it may be sent.
async fn handle_publish(
    publish: Publish,
    device: &str,
    router: &Router,
    iot: &Iot,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Owed> + Send>> {
    let owed = Owed::for_publish(&publish);
    if !cockpit_iot::allowed(device, &publish.topic) {
        // Counted as a rejection too (the decoder names the reason: not_own_topic or
        // bad_topic), never forwarded.
        iot.counters().acl_refusals.fetch_add(1, Ordering::Relaxed);
        let _ = iot.ingest(&publish.topic, &publish.payload, Some(device), false).await;
        return Box::pin(async move { owed });
    }
    let qos1 = publish.qos != QoS::AtMostOnce;
    match iot.ingest(&publish.topic, &publish.payload, Some(device), qos1).await {
        Ok(committed) => {
            router.forward(&publish, iot);
            match committed {
                Some(rx) => Box::pin(async move {
                    match rx.await {
                        Ok(true) => owed,
                        // Not committed (shutting down): no acknowledgement, so the device
                        // sends it again.
                        _ => Owed::None,
                    }
                }),
                None => Box::pin(async move { owed }),
            }
        }
        // Rejected: counted, acknowledged (sending it again would not help).
        Err(IngestError::Rejected(_)) => Box::pin(async move { owed }),
        Err(IngestError::Unavailable) => Box::pin(async { Owed::None }),
    }
}
