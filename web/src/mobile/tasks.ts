// My tasks: the cases assigned to me or open in my grid, kept current. The first state
// comes from the REST API (`assigned=me`, and the grid my scope gives the server); the
// live stream's `cases` channel then pushes every change (one subscription on my region,
// one on what is assigned to me). The last list is kept on the phone so the app opens
// with it offline.

import type { Api } from '../shared/api';
import { LiveClient, type LiveStatus } from '../shared/live/client';
import type { LoginFailures } from '../shared/loginfailures';

export interface Region {
  code: string;
  name: string;
}

export interface Case {
  id: number;
  status: string;
  title?: string | null;
  description: string;
  category: { code: string; name?: string | null };
  urgency: string;
  location: { lon: number; lat: number } | null;
  street: Region | null;
  village: Region | null;
  grid: Region | null;
  address?: string | null;
  created_at: string;
  assignee: { kind: string; user?: string; worker?: string; grid?: string; department?: string } | null;
  deadline: { due_at: string; state: string | null } | null;
  overdue: boolean;
  allowed_actions: string[] | null;
  timeline?: TimelineEntry[];
}

export interface TimelineEntry {
  at: string;
  actor: { user: string | null; role: string | null };
  /** null on the entry of the case's creation. */
  action: string | null;
  from: string | null;
  to: string | null;
  content: string | null;
  attachments: string[] | null;
  position: { lon: number; lat: number } | null;
}

export interface Me {
  id: string;
  username: string;
  display_name: string;
  scope: { level: string; code: string };
  /** Failed logins of this account in the last 15 minutes, from any address. */
  login_failures?: LoginFailures | null;
}

/** The statuses in which a case is work for the grid. */
export const OPEN = ['new', 'dispatched', 'accepted', 'in_progress', 'handled'];
const SAVED = 'cockpit.mobile.tasks';

export class Tasks {
  readonly byId = new Map<number, Case>();
  private readonly listeners = new Set<() => void>();
  private live: LiveClient | null = null;
  /** How many times a case was put, and when (in that count) each case last was: a load
   *  keeps what arrived while its requests were on their way, which is newer than it. */
  private changes = 0;
  private readonly touched = new Map<number, number>();
  private forgotten = false;
  /** A case newly assigned to me arrived on the live stream (not in a snapshot). */
  onNewTask: (c: Case) => void = () => {};
  /** The session ended (the live stream was closed with 4001 and no refresh cured it). */
  onSessionEnded: () => void = () => {};
  liveStatus: LiveStatus = 'connecting';
  /** Whether the list was loaded from the server since the app opened (else it is the one
   *  kept on the phone, or what the stream brought). */
  loaded = false;

  constructor(
    private readonly api: Api,
    readonly me: Me,
  ) {
    try {
      const saved = JSON.parse(localStorage.getItem(SAVED) ?? '[]') as Case[];
      for (const c of saved) this.byId.set(c.id, c);
    } catch {
      // Nothing kept yet.
    }
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    // After logging out nothing is kept, whatever answer or live message still arrives.
    if (this.forgotten) return;
    localStorage.setItem(SAVED, JSON.stringify([...this.byId.values()].map(({ timeline: _t, ...c }) => c)));
    for (const l of this.listeners) l();
  }

  /** Whether the case is assigned to me: as a person, or to my grid's worker (a rule's
   *  automatic dispatch names the grid's worker by the grid). */
  isMine(c: Case): boolean {
    const a = c.assignee;
    if (!a) return false;
    if (a.user === this.me.username || a.worker === this.me.username) return true;
    return a.kind === 'grid_worker' && this.me.scope.level === 'grid' && a.grid === this.me.scope.code;
  }

  /** The open cases, mine first, then by deadline (soonest first), then newest. */
  list(): Case[] {
    const due = (c: Case) => (c.deadline ? Date.parse(c.deadline.due_at) : Infinity);
    return [...this.byId.values()]
      .filter((c) => OPEN.includes(c.status))
      .sort((a, b) => Number(this.isMine(b)) - Number(this.isMine(a)) || due(a) - due(b) || b.id - a.id);
  }

  /** Replaces or adds one case (from the stream, an action's answer or a detail fetch). */
  put(c: Case): void {
    const old = this.byId.get(c.id);
    this.byId.set(c.id, old?.timeline && !c.timeline ? { ...c, timeline: old.timeline } : c);
    this.touched.set(c.id, ++this.changes);
    this.changed();
  }

  async load(): Promise<void> {
    const started = this.changes;
    const status = OPEN.join(',');
    const [grid, mine] = await Promise.all([
      this.api.get<{ items: Case[] }>(`/api/cases?status=${status}&limit=200`),
      // A server without `assigned=me` refuses nothing (unknown keys are ignored), but an
      // error here must not hide the grid's list.
      this.api.get<{ items: Case[] }>(`/api/cases?assigned=me&status=${status}&limit=200`).catch(() => ({ items: [] as Case[] })),
    ]);
    const fresh = new Map<number, Case>();
    for (const c of [...grid.items, ...mine.items]) fresh.set(c.id, c);
    for (const [id, c] of this.byId) {
      if ((this.touched.get(id) ?? 0) > started) fresh.set(id, c);
    }
    this.byId.clear();
    for (const [id, c] of fresh) this.byId.set(id, c);
    this.loaded = true;
    this.changed();
  }

  /** One case with its timeline, fresh from the server. */
  async fetch(id: number): Promise<Case> {
    const c = await this.api.get<Case>(`/api/cases/${id}`);
    this.put(c);
    return c;
  }

  startLive(onStatus: (s: LiveStatus) => void): void {
    const live = new LiveClient({
      token: () => this.api.freshToken(),
      renewSession: async () => {
        const renewed = await this.api.refresh().catch(() => true);
        if (!renewed) this.onSessionEnded();
      },
      onStatus: (s) => {
        this.liveStatus = s;
        onStatus(s);
      },
    });
    const apply = (data: unknown) => {
      const c = data as Case;
      if (typeof c?.id !== 'number') return;
      const before = this.byId.get(c.id);
      const wasMine = !!before && this.isMine(before) && OPEN.includes(before.status);
      this.put(c);
      if (!wasMine && this.isMine(c) && (c.status === 'dispatched' || c.status === 'new')) this.onNewTask(c);
    };
    const snapshot = (items: unknown[]) => {
      for (const item of items) {
        const c = item as Case;
        if (typeof c?.id !== 'number') continue;
        this.byId.set(c.id, { ...this.byId.get(c.id), ...c });
        this.touched.set(c.id, ++this.changes);
      }
      this.changed();
    };
    const region = this.me.scope.level === 'district' ? null : this.me.scope.code;
    if (region) live.subscribe({ channel: 'cases', filter: { region }, onSnapshot: snapshot, onDelta: apply });
    live.subscribe({ channel: 'cases', filter: { assigned_to_me: true }, onSnapshot: snapshot, onDelta: apply });
    live.start();
    this.live = live;
  }

  stop(): void {
    this.live?.stop();
  }

  /** Logging out: the stream stops and the list kept on the phone is gone for good. */
  forget(): void {
    this.forgotten = true;
    this.stop();
    localStorage.removeItem(SAVED);
  }
}
