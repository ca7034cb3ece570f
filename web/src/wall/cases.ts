// The cases the wall knows, keyed by id, and what the map draws of them. Changes are
// collected and handed to the map as one diff at most every `flushMs`, so that a thousand
// updates a second cost a few source updates, not a thousand.

import type { Case, Feature, FeatureCollection } from './types';

const OPEN = new Set(['new', 'dispatched', 'accepted', 'in_progress', 'handled']);

/** How long a new case pulses on the map. */
export const FRESH_MS = 30_000;

export function isOpen(status: string): boolean {
  return OPEN.has(status);
}

function feature(c: Case): Feature | null {
  if (!c.location) return null;
  return {
    type: 'Feature',
    id: c.id,
    geometry: { type: 'Point', coordinates: [c.location.lon, c.location.lat] },
    properties: {
      id: c.id,
      status: c.status,
      urgency: c.urgency,
      overdue: c.overdue,
      open: isOpen(c.status),
    },
  };
}

/** Whether two versions of a case look the same on the wall (the map, the feed, the
 *  panels): a stream's snapshot repeats what REST loaded, and redrawing it for nothing
 *  costs a frame, which on a software-rendered wall is a large part of a second. */
function looksSame(a: Case, b: Case): boolean {
  return (
    a.status === b.status &&
    a.urgency === b.urgency &&
    a.overdue === b.overdue &&
    a.location?.lon === b.location?.lon &&
    a.location?.lat === b.location?.lat &&
    a.title === b.title &&
    a.description === b.description &&
    a.category.code === b.category.code &&
    a.source === b.source &&
    a.street?.code === b.street?.code &&
    a.deadline?.due_at === b.deadline?.due_at &&
    a.closed_at === b.closed_at
  );
}

export interface Diff {
  add: Feature[];
  update: Feature[];
  remove: number[];
}

export class CaseStore {
  readonly byId = new Map<number, Case>();
  private readonly fresh = new Map<number, number>();
  private pending: Diff = { add: [], update: [], remove: [] };
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** Called with everything: a full replace. */
  onReplace: (all: FeatureCollection) => void = () => {};
  /** Called with a batch of changes, and the set of cases that changed. */
  onDiff: (diff: Diff, changed: Case[]) => void = () => {};
  onFresh: (fresh: FeatureCollection) => void = () => {};
  private changed: Case[] = [];

  /** Changes are handed over every `flushMs`, or every `largeFlushMs` above `large` cases
   *  (the map's worker re-indexes the whole source on each diff). */
  constructor(
    private readonly flushMs = 250,
    private readonly large = 20_000,
    private readonly largeFlushMs = 1000,
  ) {}

  /** Replaces every case (a snapshot). */
  replace(cases: Case[]): void {
    this.byId.clear();
    for (const c of cases) this.byId.set(c.id, c);
    this.pending = { add: [], update: [], remove: [] };
    this.changed = [];
    this.onReplace(this.collection());
  }

  /** A case created or changed; a case not seen before pulses unless `pulse` is false. */
  upsert(c: Case, pulse?: boolean): void {
    const before = this.byId.get(c.id);
    const known = before !== undefined;
    this.byId.set(c.id, c);
    if (known && pulse !== true && looksSame(before, c)) return;
    const f = feature(c);
    if (f) (known ? this.pending.update : this.pending.add).push(f);
    if (pulse ?? !known) this.fresh.set(c.id, Date.now());
    this.changed.push(c);
    this.schedule();
  }

  remove(id: number): void {
    if (this.byId.delete(id)) {
      this.pending.remove.push(id);
      this.schedule();
    }
  }

  collection(): FeatureCollection {
    const features: Feature[] = [];
    for (const c of this.byId.values()) {
      const f = feature(c);
      if (f) features.push(f);
    }
    return { type: 'FeatureCollection', features };
  }

  freshCollection(now = Date.now()): FeatureCollection {
    const features: Feature[] = [];
    for (const [id, at] of this.fresh) {
      if (now - at > FRESH_MS) {
        this.fresh.delete(id);
        continue;
      }
      const c = this.byId.get(id);
      const f = c && feature(c);
      if (f) features.push(f);
    }
    return { type: 'FeatureCollection', features };
  }

  /** At most one diff per interval; the first change after a quiet spell goes at once (a
   *  new case should not wait a quarter of a second for nothing). */
  private schedule(): void {
    if (this.timer) return;
    const interval = this.byId.size > this.large ? this.largeFlushMs : this.flushMs;
    this.timer = setTimeout(() => this.flush(), Math.max(0, this.lastFlush + interval - performance.now()));
  }

  private lastFlush = -Infinity;

  flush(): void {
    this.timer = null;
    this.lastFlush = performance.now();
    const diff = this.pending;
    const changed = this.changed;
    this.pending = { add: [], update: [], remove: [] };
    this.changed = [];
    if (diff.add.length + diff.update.length + diff.remove.length > 0) this.onDiff(diff, changed);
    this.onFresh(this.freshCollection());
  }
}
