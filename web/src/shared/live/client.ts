// The live stream client (docs/live.md): one WebSocket to `/api/live`, any number of
// subscriptions on it.
//
// - Authenticates with the access token as a sub-protocol (`cockpit-live`,
//   `bearer.<token>`), read afresh at each connection: the token is never in the URL.
// - Reconnects by itself with backoff after any close but `4001 session ended` (then it
//   asks its owner to renew the session first), after an error, or when nothing arrived
//   for the server's idle timeout (the server pings every `heartbeat_ms`; the client
//   answers, and pings too).
// - Keeps per subscription the last (epoch, offset) seen in a snapshot or a delta, and
//   resubscribes with `resume`. `resumed` is followed by the missed deltas; `not_recovered`
//   by a fresh snapshot, which replaces the subscription's state. Offsets increase strictly
//   but are not consecutive (one counter for every channel): a delta at or below the last
//   offset seen is a repeat and is dropped (but a `replace` at the same offset: see below).
// - `onStatus` tells the screen whether it is live, connecting or reconnecting.

import { Backoff } from './backoff';
import {
  CLOSE_SESSION_ENDED,
  SUBPROTOCOL,
  type Channel,
  type ClientMessage,
  type Position,
  parseServerMessage,
} from './protocol';

export type LiveStatus = 'connecting' | 'live' | 'reconnecting';

export interface Subscription {
  channel: Channel;
  filter?: Record<string, unknown>;
  /** The state of the subscription: at the first subscribe, and after `not_recovered`. */
  onSnapshot: (items: unknown[], afterNotRecovered: boolean) => void;
  /** One change, in order: `op` is `upsert` (by `key`) or `replace` (the whole state). */
  onDelta: (data: unknown, key: string, op: string) => void;
}

interface Entry {
  sub: Subscription;
  position: Position | null;
  notRecovered: boolean;
}

export interface LiveOptions {
  /** ws(s)://host/api/live by default. */
  url?: string;
  /** The access token, asked for at each connection (the owner refreshes it as needed). */
  token?: () => Promise<string | null> | string | null;
  /** The session ended (close 4001): renew it; resolves when the token is fresh. */
  renewSession?: () => Promise<void>;
  /** Used until the server's hello says otherwise. */
  heartbeatMs?: number;
  idleTimeoutMs?: number;
  onStatus?: (status: LiveStatus) => void;
  /** WebSocket constructor (tests pass their own). */
  socket?: new (url: string, protocols?: string | string[]) => WebSocket;
}

export class LiveClient {
  private ws: WebSocket | null = null;
  private readonly subs = new Map<string, Entry>();
  private readonly backoff = new Backoff();
  private status: LiveStatus = 'connecting';
  private timer: ReturnType<typeof setInterval> | null = null;
  private retry: ReturnType<typeof setTimeout> | null = null;
  private lastFrame = 0;
  private lastPing = 0;
  private heartbeatMs: number;
  private idleTimeoutMs: number;
  private nextId = 1;
  private stopped = false;
  private everOpen = false;

  constructor(private readonly options: LiveOptions = {}) {
    this.heartbeatMs = options.heartbeatMs ?? 15_000;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 45_000;
  }

  get state(): LiveStatus {
    return this.status;
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    if (this.timer) clearInterval(this.timer);
    const ws = this.ws;
    this.ws = null;
    ws?.close(1000, 'bye');
  }

  /** Adds a subscription (sent now if connected, else at the next connection): its id. */
  subscribe(sub: Subscription): string {
    const id = `${sub.channel}-${this.nextId++}`;
    this.subs.set(id, { sub, position: null, notRecovered: false });
    if (this.ws?.readyState === 1) this.sendSubscribe(id);
    return id;
  }

  unsubscribe(id: string): void {
    if (this.subs.delete(id) && this.ws?.readyState === 1) this.send({ type: 'unsubscribe', id });
  }

  private url(): string {
    return this.options.url ?? `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/live`;
  }

  private setStatus(status: LiveStatus): void {
    if (this.status === status) return;
    this.status = status;
    this.options.onStatus?.(status);
  }

  private connect(): void {
    if (this.stopped) return;
    Promise.resolve(this.options.token?.() ?? null).then(
      (token) => this.open(token),
      () => this.open(null),
    );
  }

  private open(token: string | null): void {
    if (this.stopped) return;
    const Socket = this.options.socket ?? WebSocket;
    let ws: WebSocket;
    try {
      ws = new Socket(this.url(), token ? [SUBPROTOCOL, `bearer.${token}`] : [SUBPROTOCOL]);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this.everOpen = true;
      this.backoff.reset();
      this.lastFrame = Date.now();
      for (const id of this.subs.keys()) this.sendSubscribe(id);
      this.setStatus('live');
      this.startTimer();
    };
    ws.onmessage = (event: MessageEvent) => {
      this.lastFrame = Date.now();
      if (typeof event.data === 'string') this.receive(event.data);
    };
    ws.onclose = (event: CloseEvent) => {
      if (this.ws !== ws) return;
      if (event?.code === CLOSE_SESSION_ENDED && this.options.renewSession) {
        this.ws = null;
        this.setStatus('reconnecting');
        this.options.renewSession().then(
          () => this.scheduleReconnect(),
          () => this.scheduleReconnect(),
        );
        return;
      }
      this.scheduleReconnect();
    };
    ws.onerror = () => {
      ws.close();
    };
  }

  private scheduleReconnect(): void {
    this.ws = null;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.stopped) return;
    this.setStatus(this.everOpen ? 'reconnecting' : 'connecting');
    if (this.retry) clearTimeout(this.retry);
    this.retry = setTimeout(() => this.connect(), this.backoff.next());
  }

  /** Pings every heartbeat; gives the connection up when nothing arrived for the idle timeout. */
  private startTimer(): void {
    if (this.timer) clearInterval(this.timer);
    const tick = Math.max(10, Math.min(this.heartbeatMs, this.idleTimeoutMs) / 4);
    this.lastPing = Date.now();
    this.timer = setInterval(() => {
      const now = Date.now();
      if (now - this.lastFrame > this.idleTimeoutMs) {
        const ws = this.ws;
        this.scheduleReconnect();
        ws?.close();
        return;
      }
      if (now - this.lastPing >= this.heartbeatMs) {
        this.lastPing = now;
        this.send({ type: 'ping' });
      }
    }, tick);
  }

  private send(message: ClientMessage): void {
    if (this.ws?.readyState === 1) this.ws.send(JSON.stringify(message));
  }

  private sendSubscribe(id: string): void {
    const entry = this.subs.get(id);
    if (!entry) return;
    const message: ClientMessage = { type: 'subscribe', id, channel: entry.sub.channel };
    if (entry.sub.filter) message.filter = entry.sub.filter;
    if (entry.position) message.resume = [entry.position.epoch, entry.position.offset];
    this.send(message);
  }

  private receive(text: string): void {
    const m = parseServerMessage(text);
    if (!m) return;
    switch (m.type) {
      case 'hello':
        if (m.heartbeat_ms) this.heartbeatMs = m.heartbeat_ms;
        if (m.idle_timeout_ms) this.idleTimeoutMs = m.idle_timeout_ms;
        this.startTimer();
        return;
      case 'ping':
        this.send({ type: 'pong' });
        return;
      case 'pong':
      case 'error':
      case 'unsubscribed':
        return;
      case 'resumed': {
        // The missed deltas follow, with offsets after the one we sent: keep ours.
        const entry = this.subs.get(m.id);
        if (entry && entry.position) entry.position.epoch = m.epoch;
        return;
      }
      case 'not_recovered': {
        // A fresh snapshot follows; it replaces the state.
        const entry = this.subs.get(m.id);
        if (entry) entry.notRecovered = true;
        return;
      }
      case 'snapshot': {
        const entry = this.subs.get(m.id);
        if (!entry) return;
        entry.position = { epoch: m.epoch, offset: m.offset };
        const after = entry.notRecovered;
        entry.notRecovered = false;
        entry.sub.onSnapshot(m.items, after);
        return;
      }
      case 'delta': {
        const entry = this.subs.get(m.id);
        if (!entry) return;
        const p = entry.position;
        // A repeat: an older offset, or the same one again. A `replace` (the whole state of
        // an aggregate channel: statistics, indicators) may come again at the same offset
        // with new figures (recomputed while no logged change moved the offset): it is taken.
        if (p && p.epoch === m.epoch && (m.offset < p.offset || (m.offset === p.offset && m.op !== 'replace'))) return;
        entry.position = { epoch: m.epoch, offset: m.offset };
        entry.sub.onDelta(m.data, m.key, m.op);
        return;
      }
    }
  }
}
