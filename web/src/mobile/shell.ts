// What every screen of the mobile app shares: the app's parts (API, tasks, outbox,
// position), HTML escaping, the deadline countdown, and the phone's position.

import type { Api } from '../shared/api';
import type { Outbox } from './outbox';
import type { Tasks, Case } from './tasks';
import { duration, w } from './words';
import { currentLanguage } from '../shared/language';

export interface App {
  api: Api;
  tasks: Tasks;
  outbox: Outbox;
  position: Position;
  /** The screen's container (below the header, above the tab bar). */
  main: HTMLElement;
  go(hash: string): void;
}

export function esc(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A new submission key: the Idempotency-Key of one filled form. `randomUUID` exists only
 *  in secure contexts (https, localhost); a phone on a plain-http intranet address gets a
 *  v4 UUID made from `getRandomValues`, which exists everywhere. */
export function newKey(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The countdown's text and class for a case's deadline at `now`. */
export function countdown(c: Case, now = Date.now()): { text: string; cls: string } {
  if (!c.deadline) return { text: w('noDeadline'), cls: 'none' };
  const left = Date.parse(c.deadline.due_at) - now;
  if (left <= 0 || c.overdue) return { text: `${w('overdueBy')} ${duration(left)}`, cls: 'overdue' };
  const text = currentLanguage() === 'zh' ? `${w('left')} ${duration(left)}` : `${duration(left)} ${w('left')}`;
  return { text, cls: c.deadline.state === 'warning' ? 'warning' : 'ok' };
}

export function countdownHtml(c: Case): string {
  const { text, cls } = countdown(c);
  return `<span class="countdown ${cls}" data-test="countdown" data-case-id="${c.id}" data-due="${esc(c.deadline?.due_at ?? '')}">${esc(text)}</span>`;
}

/** Refreshes every countdown on screen (each minute). */
export function tickCountdowns(tasks: Tasks): void {
  for (const el of document.querySelectorAll<HTMLElement>('[data-test=countdown]')) {
    const c = tasks.byId.get(Number(el.dataset.caseId));
    if (!c) continue;
    const { text, cls } = countdown(c);
    el.textContent = text;
    el.className = `countdown ${cls}`;
  }
}

export interface Fix {
  lon: number;
  lat: number;
  accuracy: number;
}

/** The phone's position: watched while the app is open, the last fix kept. */
export class Position {
  last: Fix | null = null;
  error: string | null = null;
  private watching = false;
  private readonly listeners = new Set<(fix: Fix | null) => void>();

  start(): void {
    if (this.watching || !('geolocation' in navigator)) return;
    this.watching = true;
    navigator.geolocation.watchPosition(
      (p) => {
        this.last = { lon: p.coords.longitude, lat: p.coords.latitude, accuracy: p.coords.accuracy };
        this.error = null;
        for (const l of this.listeners) l(this.last);
      },
      (e) => {
        this.error = e.message;
        for (const l of this.listeners) l(this.last);
      },
      { enableHighAccuracy: true, maximumAge: 30_000, timeout: 20_000 },
    );
  }

  /** Calls `listener` now (when a fix is known) and with every new fix, until the returned stop. */
  watch(listener: (fix: Fix | null) => void): () => void {
    this.start();
    this.listeners.add(listener);
    if (this.last) listener(this.last);
    return () => this.listeners.delete(listener);
  }
}

export function positionText(fix: Fix | null, error: string | null): string {
  if (fix) return `${fix.lon.toFixed(5)}, ${fix.lat.toFixed(5)} (±${Math.round(fix.accuracy)} m)`;
  return error ? `${w('noPosition')}: ${error}` : w('locating');
}
