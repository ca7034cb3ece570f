// The live stream's messages, as the server's `cockpit-live` crate defines what a client
// sends (subscribe with an optional resume point, unsubscribe, ping, pong). What the server
// sends is written here from the same design (a snapshot, then numbered deltas of one
// epoch; `not_recovered` when a resume cannot be answered); if docs/live.md names the
// fields differently, this file is the one place to change.

export type Channel = 'cases' | 'alarms' | 'devices' | 'indicators' | 'statistics';

/** A stream's position: its epoch (changes when the server restarts) and last offset. */
export interface Position {
  epoch: number;
  offset: number;
}

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
  | { type: 'snapshot'; id: string; epoch: number; offset: number; data: unknown }
  | { type: 'delta'; id: string; epoch: number; offset: number; data: unknown }
  | { type: 'subscribed'; id: string; epoch: number; offset: number; recovered?: boolean }
  | { type: 'not_recovered'; id: string; epoch: number; offset: number; reason?: string }
  | { type: 'ping' }
  | { type: 'pong' }
  | { type: 'error'; id?: string; message?: string; detail?: string };

/** Parses one text frame; anything unknown is `null` (ignored, never a crash). */
export function parseServerMessage(text: string): ServerMessage | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const m = value as Record<string, unknown>;
  switch (m.type) {
    case 'snapshot':
    case 'delta':
    case 'subscribed':
    case 'not_recovered':
      if (typeof m.id !== 'string') return null;
      if (m.type !== 'not_recovered' && (typeof m.epoch !== 'number' || typeof m.offset !== 'number')) return null;
      return m as unknown as ServerMessage;
    case 'ping':
    case 'pong':
    case 'error':
      return m as unknown as ServerMessage;
    default:
      return null;
  }
}
