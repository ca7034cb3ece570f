//! One WebSocket connection of `GET /api/live`: the upgrade (authenticated by the access
//! layer like every route; browsers send the token as the sub-protocol `bearer.<token>`),
//! then one task per connection that reads client messages, answers subscriptions with a
//! snapshot or the missed deltas, drains the connection's bounded outbox, pings, and
//! closes idle, lagging or logged-out connections with a reason.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use cockpit_live::{
    ClientMessage, Epoch, Filter, MAX_CLIENT_MESSAGE, NotRecoveredReason, Offset, ProtocolError, ServerMessage,
    Subscriptions, close,
};
use tokio::time::Instant;

use super::Hub;
use super::fanout::{Client, Sub};
use super::subscribe::Step;
use crate::AppState;
use crate::auth::{Caller, Principal};

/// The sub-protocol the server speaks.
const PROTOCOL: &str = "cockpit-live";

/// `GET /api/live`: upgrades to the live WebSocket.
pub(crate) async fn upgrade(State(state): State<AppState>, caller: Caller, ws: WebSocketUpgrade) -> Response {
    let hub = state.live.clone();
    let auth = state.auth.clone();
    ws.protocols([PROTOCOL])
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_write_buffer_size(4 * 1024 * 1024)
        .max_message_size(MAX_CLIENT_MESSAGE * 2)
        .max_frame_size(MAX_CLIENT_MESSAGE * 2)
        .on_upgrade(move |socket| async move {
            let connection = Connection::new(hub, caller.principal, socket);
            connection.run(auth).await;
        })
}

/// The connection ended (closed by either side, or a write timed out).
struct Gone;

struct Connection {
    hub: Hub,
    client: Arc<Client>,
    socket: WebSocket,
    subscriptions: Subscriptions,
    subs: HashMap<String, (Arc<Sub>, u64)>,
}

impl Connection {
    fn new(hub: Hub, principal: Arc<Principal>, socket: WebSocket) -> Connection {
        let c = &hub.inner.config;
        let interval_ms = 1000 / i64::from(c.device_rate_per_second.max(1));
        let client = Arc::new(Client::new(principal, c.queue, interval_ms, c.max_pending_values));
        let subscriptions = Subscriptions::new(c.max_subscriptions);
        hub.state().connections += 1;
        Connection { hub, client, socket, subscriptions, subs: HashMap::new() }
    }

    async fn run(mut self, auth: Arc<crate::auth::Auth>) {
        let _ = self.serve(&auth).await;
        for (_, (sub, handle)) in self.subs.drain() {
            self.hub.unregister(&sub, handle);
        }
        self.hub.state().connections -= 1;
    }

    async fn serve(&mut self, auth: &crate::auth::Auth) -> Result<(), Gone> {
        let c = self.hub.inner.config.clone();
        let (epoch, offset) = {
            let s = self.hub.state();
            (s.epoch, s.current)
        };
        let hello = ServerMessage::Hello {
            epoch,
            offset,
            heartbeat_ms: c.heartbeat_seconds * 1000,
            idle_timeout_ms: c.idle_timeout_seconds * 1000,
            max_subscriptions: c.max_subscriptions,
        };
        self.send(hello.to_text()).await?;
        let beat = Duration::from_secs(c.heartbeat_seconds.max(1));
        let idle = Duration::from_secs(c.idle_timeout_seconds.max(1));
        let mut heartbeat = tokio::time::interval_at(Instant::now() + beat, beat);
        let mut beats: u64 = 0;
        // Timers made once and moved, not made again on every wake-up (there are tens of
        // thousands of connections, each woken for every delta).
        let idle_timer = tokio::time::sleep(idle);
        tokio::pin!(idle_timer);
        let release_timer = tokio::time::sleep(Duration::ZERO);
        tokio::pin!(release_timer);
        let mut stop = self.hub.inner.stop.clone();
        let started = Instant::now();
        loop {
            while let Some(text) = self.client.pop() {
                self.send(text).await?;
            }
            let now_ms = started.elapsed().as_millis() as i64;
            let (released, next) = self.client.release(now_ms);
            for text in released {
                self.send(text).await?;
            }
            if self.client.behind.load(Ordering::Relaxed) {
                return self.close(close::BEHIND).await;
            }
            self.resync_lagging().await?;
            let release_at = next.map(|ms| started + Duration::from_millis(ms.max(0) as u64));
            if let Some(at) = release_at
                && release_timer.deadline() != at
            {
                release_timer.as_mut().reset(at);
            }
            tokio::select! {
                _ = stop.changed() => return self.close(close::GOING_AWAY).await,
                message = self.socket.recv() => {
                    let Some(Ok(message)) = message else { return Err(Gone) };
                    idle_timer.as_mut().reset(Instant::now() + idle);
                    match message {
                        Message::Text(text) => self.handle(text.as_str()).await?,
                        Message::Binary(_) => self.error(&ProtocolError::Binary, None).await?,
                        Message::Close(_) => return Err(Gone),
                        Message::Ping(_) | Message::Pong(_) => {}
                    }
                }
                _ = self.client.notify.notified() => {}
                _ = &mut release_timer, if release_at.is_some() => {}
                _ = heartbeat.tick() => {
                    beats += 1;
                    self.send(ServerMessage::Ping.to_text()).await?;
                    // The session is checked every fourth beat (a minute by default).
                    if beats.is_multiple_of(4) && auth.session_principal(&self.client.principal.session).await.is_err() {
                        return self.close(close::SESSION_ENDED).await;
                    }
                }
                _ = &mut idle_timer => return self.close(close::IDLE).await,
            }
        }
    }

    async fn send(&mut self, text: String) -> Result<(), Gone> {
        let timeout = Duration::from_secs(self.hub.inner.config.write_timeout_seconds.max(1));
        match tokio::time::timeout(timeout, self.socket.send(Message::Text(text.into()))).await {
            Ok(Ok(())) => Ok(()),
            _ => Err(Gone),
        }
    }

    async fn close(&mut self, (code, reason): (u16, &str)) -> Result<(), Gone> {
        let frame = CloseFrame { code, reason: reason.into() };
        let timeout = Duration::from_secs(self.hub.inner.config.write_timeout_seconds.max(1));
        let _ = tokio::time::timeout(timeout, self.socket.send(Message::Close(Some(frame)))).await;
        Err(Gone)
    }

    async fn error(&mut self, e: &ProtocolError, id: Option<String>) -> Result<(), Gone> {
        self.send(ServerMessage::Error { code: e.code(), message: e.to_string(), id }.to_text()).await
    }

    async fn handle(&mut self, text: &str) -> Result<(), Gone> {
        let message = match ClientMessage::parse(text) {
            Ok(m) => m,
            Err(e) => return self.error(&e, None).await,
        };
        match message {
            ClientMessage::Ping => self.send(ServerMessage::Pong.to_text()).await,
            ClientMessage::Pong => Ok(()),
            ClientMessage::Unsubscribe { id } => {
                if let Err(e) = self.subscriptions.remove(&id) {
                    return self.error(&e, Some(id)).await;
                }
                if let Some((sub, handle)) = self.subs.remove(&id) {
                    self.hub.unregister(&sub, handle);
                }
                self.client.forget(&id);
                self.send(ServerMessage::Unsubscribed { id }.to_text()).await
            }
            ClientMessage::Subscribe { id, channel, filter, resume } => {
                let parsed = Filter::parse(channel, &filter)
                    .and_then(|f| self.hub.authorize(&self.client.principal, channel, &f).map(|a| (f, a)));
                let (filter, (region, inside_only, assigned)) = match parsed {
                    Ok(p) => p,
                    Err(e) => return self.error(&e, Some(id)).await,
                };
                if let Err(e) = self.subscriptions.add(&id, channel) {
                    return self.error(&e, Some(id)).await;
                }
                let sub = Arc::new(Sub {
                    client: self.client.clone(),
                    id: id.as_str().into(),
                    channel,
                    region,
                    inside_only,
                    filter,
                    assigned,
                    lagging: Default::default(),
                });
                let Some((epoch, mut after)) = resume else {
                    let (handle, epoch, offset) = self.hub.register(sub.clone());
                    self.subs.insert(id, (sub.clone(), handle));
                    return self.snapshot(&sub, None, epoch, offset).await;
                };
                // A client coming from another instance (its own killed behind a load
                // balancer) may have seen offsets that this one's follower has not read
                // yet: read the log that far first, rather than refuse it as ahead.
                if self.hub.ahead(epoch, after)
                    && let Err(e) = self.hub.catch_up().await
                {
                    tracing::warn!(error = %e, "reading the live log for a resume failed");
                }
                let register_below = (self.hub.inner.config.queue / 2).max(1);
                let mut first = true;
                loop {
                    let (now, current, step) = self.hub.resume_step(&sub, epoch, after, register_below);
                    match step {
                        Step::Refused(reason) => {
                            let (handle, epoch, offset) = self.hub.register(sub.clone());
                            self.subs.insert(id, (sub.clone(), handle));
                            return self.snapshot(&sub, Some(reason), epoch, offset).await;
                        }
                        Step::Deltas { replay, upto, handle } => {
                            if first {
                                let resumed = ServerMessage::Resumed {
                                    id: id.clone(),
                                    channel,
                                    epoch: now,
                                    from: after,
                                    offset: current,
                                };
                                self.send(resumed.to_text()).await?;
                                first = false;
                            }
                            if let Some(handle) = handle {
                                self.subs.insert(id.clone(), (sub.clone(), handle));
                            }
                            for entry in replay {
                                self.send(sub.frame(now, &entry)).await?;
                            }
                            if handle.is_some() {
                                return Ok(());
                            }
                            after = upto;
                        }
                    }
                }
            }
        }
    }

    /// Sends `not_recovered` (when refused) and the subscription's snapshot.
    async fn snapshot(
        &mut self,
        sub: &Sub,
        refused: Option<NotRecoveredReason>,
        epoch: Epoch,
        offset: Offset,
    ) -> Result<(), Gone> {
        let (id, channel) = (sub.id.to_string(), sub.channel);
        if let Some(reason) = refused {
            self.send(ServerMessage::NotRecovered { id: id.clone(), channel, reason, epoch, offset }.to_text()).await?;
        }
        match super::snapshot::items(&self.hub, sub).await {
            Ok(items) => self.send(ServerMessage::Snapshot { id, channel, epoch, offset, items }.to_text()).await,
            Err(e) => {
                tracing::warn!(error = %e, channel = channel.as_str(), "live snapshot failed");
                let message = "the snapshot could not be read; subscribe again".to_string();
                self.send(ServerMessage::Error { code: "unavailable", message, id: Some(id) }.to_text()).await
            }
        }
    }

    /// Subscriptions that had more values waiting than allowed get the latest state afresh.
    async fn resync_lagging(&mut self) -> Result<(), Gone> {
        let lagging: Vec<Arc<Sub>> = self
            .subs
            .values()
            .filter(|(sub, _)| sub.lagging.swap(false, Ordering::Relaxed))
            .map(|(sub, _)| sub.clone())
            .collect();
        for sub in lagging {
            self.client.forget(&sub.id);
            let (epoch, offset) = {
                let s = self.hub.state();
                (s.epoch, s.current)
            };
            self.snapshot(&sub, Some(NotRecoveredReason::TooOld), epoch, offset).await?;
        }
        Ok(())
    }
}
