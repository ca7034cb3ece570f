// The live stream's messages, as docs/live.md of the live-updates work defines them
// (`cockpit-live`: live/src/protocol.rs for what the client sends, live/src/server.rs for
// what the server sends). This file is the one place that knows their shapes.

export type Channel = 'cases' | 'alarms' | 'devices' | 'indicators' | 'statistics';

/** A stream's position: its epoch (changes when the log is reset) and an offset. */
export interface Position {
  epoch: number;
  offset: number;
}

/** The WebSocket sub-protocol the server selects; the token rides as a second one. */
export const SUBPROTOCOL = 'cockpit-live';

/** Close code: the session ended (logout, deactivation): log in again, do not resume. */
export const CLOSE_SESSION_ENDED = 4001;

export type ClientMessage =
  | {
      type: 'subscribe';
      id: string;
      channel: Channel;
      filter?: Record<string, unknown>;
      resume?: [number, number];
    }
  | { type: 'unsubscribe'; id: string }
  | { type: 'ping' }
  | { type: 'pong' };

export type ServerMessage =
  | { type: 'hello'; epoch: number; offset: number; heartbeat_ms?: number; idle_timeout_ms?: number }
  | { type: 'snapshot'; id: string; channel: Channel; epoch: number; offset: number; items: unknown[] }
  | {
      type: 'delta';
      id: string;
      channel: Channel;
      epoch: number;
      offset: number;
      key: string;
      op: 'upsert' | 'replace' | string;
      data: unknown;
    }
  | { type: 'resumed'; id: string; channel: Channel; epoch: number; from: number; offset: number }
  | { type: 'not_recovered'; id: string; channel: Channel; reason: string; epoch: number; offset: number }
  | { type: 'unsubscribed'; id: string }
  | { type: 'error'; code: string; message?: string; id?: string | null }
  | { type: 'ping' }
  | { type: 'pong' };

const WITH_POSITION = new Set(['snapshot', 'delta', 'resumed', 'not_recovered']);
const KNOWN = new Set([...WITH_POSITION, 'hello', 'unsubscribed', 'error', 'ping', 'pong']);

/** Parses one text frame; anything unknown or malformed is `null` (ignored, never a crash). */
export function parseServerMessage(text: string): ServerMessage | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const m = value as Record<string, unknown>;
  if (typeof m.type !== 'string' || !KNOWN.has(m.type)) return null;
  if (WITH_POSITION.has(m.type)) {
    if (typeof m.id !== 'string' || typeof m.epoch !== 'number' || typeof m.offset !== 'number') return null;
    if (m.type === 'snapshot' && !Array.isArray(m.items)) return null;
  }
  return m as unknown as ServerMessage;
}
