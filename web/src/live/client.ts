// The live stream client: one WebSocket to `/api/live`, any number of subscriptions on it.
//
// - Reconnects by itself with backoff after a close, an error or a silent connection (no
//   frame for `heartbeatMs * 2`: the client pings every `heartbeatMs`).
// - On reconnect each subscription resumes from its last (epoch, offset): the server sends
//   what was missed, or `not_recovered`, on which the subscription's `onReset` runs (the
//   owner refetches its snapshot) before deltas continue.
// - A delta whose offset is not the next one is a gap: treated as `not_recovered`.
// - `onStatus` tells the screen whether it is live, connecting or reconnecting.

import { Backoff } from './backoff';
import { type Channel, type ClientMessage, type Position, parseServerMessage } from './protocol';

export type LiveStatus = 'connecting' | 'live' | 'reconnecting';

export interface Subscription {
  channel: Channel;
  filter?: Record<string, unknown>;
  /** A snapshot (first subscribe, or after not_recovered when the server sends one). */
  onSnapshot?: (data: unknown) => void;
  /** One change, in order. */
  onDelta: (data: unknown) => void;
  /** The stream could not be resumed: refetch the state by other means (REST). */
  onReset: () => void;
}

interface Entry {
  sub: Subscription;
  position: Position | null;
}

export interface LiveOptions {
  /** ws(s)://host/api/live by default. */
  url?: string;
  /** The access token, read at each connection (it is refreshed meanwhile). */
  token?: () => string | null;
  heartbeatMs?: number;
  onStatus?: (status: LiveStatus) => void;
  /** WebSocket constructor (tests pass their own). */
  socket?: new (url: string) => WebSocket;
}

export class LiveClient {
  private ws: WebSocket | null = null;
  private readonly subs = new Map<string, Entry>();
  private readonly backoff = new Backoff();
  private status: LiveStatus = 'connecting';
  private heartbeat: ReturnType<typeof setInterval> | null = null;
  private retry: ReturnType<typeof setTimeout> | null = null;
  private lastFrame = 0;
  private nextId = 1;
  private stopped = false;
  private everOpen = false;

  constructor(private readonly options: LiveOptions = {}) {}

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
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.ws?.close();
    this.ws = null;
  }

  /** Adds a subscription (sent now if connected, else at the next connection): its id. */
  subscribe(sub: Subscription): string {
    const id = `s${this.nextId++}`;
    this.subs.set(id, { sub, position: null });
    if (this.ws?.readyState === 1) this.sendSubscribe(id);
    return id;
  }

  unsubscribe(id: string): void {
    if (this.subs.delete(id) && this.ws?.readyState === 1) this.send({ type: 'unsubscribe', id });
  }

  private url(): string {
    const base = this.options.url ?? `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/live`;
    const token = this.options.token?.();
    return token ? `${base}${base.includes('?') ? '&' : '?'}access_token=${encodeURIComponent(token)}` : base;
  }

  private setStatus(status: LiveStatus): void {
    if (this.status === status) return;
    this.status = status;
    this.options.onStatus?.(status);
  }

  private connect(): void {
    if (this.stopped) return;
    const Socket = this.options.socket ?? WebSocket;
    let ws: WebSocket;
    try {
      ws = new Socket(this.url());
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
      this.startHeartbeat();
    };
    ws.onmessage = (event: MessageEvent) => {
      this.lastFrame = Date.now();
      if (typeof event.data === 'string') this.receive(event.data);
    };
    ws.onclose = () => {
      if (this.ws === ws) this.scheduleReconnect();
    };
    ws.onerror = () => {
      ws.close();
    };
  }

  private scheduleReconnect(): void {
    this.ws = null;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
    if (this.stopped) return;
    this.setStatus(this.everOpen ? 'reconnecting' : 'connecting');
    if (this.retry) clearTimeout(this.retry);
    this.retry = setTimeout(() => this.connect(), this.backoff.next());
  }

  private startHeartbeat(): void {
    const every = this.options.heartbeatMs ?? 10_000;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = setInterval(() => {
      if (Date.now() - this.lastFrame > every * 2) {
        // Silent for two beats: the connection is gone even if the socket has not said so.
        const ws = this.ws;
        this.scheduleReconnect();
        ws?.close();
        return;
      }
      this.send({ type: 'ping' });
    }, every);
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
      case 'ping':
        this.send({ type: 'pong' });
        return;
      case 'pong':
      case 'error':
        return;
      case 'subscribed': {
        const entry = this.subs.get(m.id);
        if (entry) entry.position = { epoch: m.epoch, offset: m.offset };
        return;
      }
      case 'snapshot': {
        const entry = this.subs.get(m.id);
        if (!entry) return;
        entry.position = { epoch: m.epoch, offset: m.offset };
        if (entry.sub.onSnapshot) entry.sub.onSnapshot(m.data);
        else entry.sub.onReset();
        return;
      }
      case 'not_recovered': {
        const entry = this.subs.get(m.id);
        if (!entry) return;
        entry.position = { epoch: m.epoch, offset: m.offset };
        entry.sub.onReset();
        return;
      }
      case 'delta': {
        const entry = this.subs.get(m.id);
        if (!entry) return;
        const p = entry.position;
        if (p && p.epoch === m.epoch && m.offset <= p.offset) return; // seen already
        if (p && (p.epoch !== m.epoch || m.offset !== p.offset + 1)) {
          // A gap or another life of the stream: never apply deltas over a hole.
          entry.position = { epoch: m.epoch, offset: m.offset };
          entry.sub.onReset();
          return;
        }
        entry.position = { epoch: m.epoch, offset: m.offset };
        entry.sub.onDelta(m.data);
        return;
      }
    }
  }
}
