// The outbox: every action the worker takes goes into IndexedDB first, then to the server,
// in order, so that nothing is lost when the phone has no connection and nothing is applied
// twice when it comes back.
//
// - An entry carries the Idempotency-Key made when the worker filled the form
//   (crypto.randomUUID); each of its photos has its own key derived from it, and the photos
//   are stored as blobs. Adding an entry whose key is already in the outbox adds nothing:
//   a second tap on "send" is the same submission.
// - Sending: the photos are uploaded one by one (each returned attachment id is kept on the
//   entry at once), then the action cites them; a report creates its case first, then
//   attaches its photos to it. A repeat of any step after a lost response is answered by
//   the server from the key, never applied again.
// - A network failure, a 5xx or a 429 leaves the entry waiting: the outbox stops there
//   (order is kept) and tries again on the `online` event, on a timer with backoff, and
//   when asked. A 4xx is the server's answer: the entry is marked failed with the
//   problem's detail for the worker to read, and the next entries go on.

import { ApiError, type Api } from '../shared/api';
import { currentLanguage } from '../shared/language';
import { w, type Word } from './words';

export interface Photo {
  blob: Blob;
  name: string;
  /** The upload's own Idempotency-Key. */
  key: string;
  /** Set once the server stored it. */
  attachmentId?: string;
}

export type Job =
  /** `POST /api/cases/{caseId}/actions` with `body`; uploaded photos go into `body.photos`. */
  | { kind: 'action'; caseId: number; body: Record<string, unknown> }
  /** `POST /api/cases` with `body`, then the photos attached to the new case. */
  | { kind: 'create'; body: Record<string, unknown>; caseId?: number };

export type EntryState = 'waiting' | 'failed' | 'done';

export interface Entry {
  seq?: number;
  /** Who acted: only their session sends it (a shared phone keeps others' entries apart). */
  user: string;
  /** The submission's Idempotency-Key. */
  key: string;
  /** What the worker did, in words (shown in the outbox). */
  label: string;
  createdAt: number;
  job: Job;
  photos: Photo[];
  state: EntryState;
  /** The last error: the server's problem detail, or why it could not be sent yet. */
  error?: string;
  attempts: number;
  /** The case as the server returned it after the action. */
  result?: unknown;
}

type Outcome = 'ok' | 'retry' | 'failed';

const DB = 'cockpit-mobile';
const STORE = 'outbox';
/** Entries sent stay a day, so that a late second tap is still recognised. */
const KEEP_DONE_MS = 24 * 3600_000;

function promised<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function openDb(): Promise<IDBDatabase> {
  const request = indexedDB.open(DB, 1);
  request.onupgradeneeded = () => {
    const store = request.result.createObjectStore(STORE, { keyPath: 'seq', autoIncrement: true });
    store.createIndex('key', 'key', { unique: true });
  };
  return promised(request);
}

/** What a refusal means, in the worker's language, by its HTTP status (the server's
 *  detail is in English): the case moved on, the role may not, the case is out of reach. */
const REFUSALS: Record<number, Word> = { 409: 'refusedStatus', 403: 'refusedRole', 404: 'refusedGone' };

/** The problem body's detail (and field) of a refused request, for the worker to read;
 *  a 409, 403 or 404 is explained first in the worker's language. */
export async function problemText(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  let message: string;
  try {
    const p = JSON.parse(text) as { detail?: string; title?: string; field?: string; allowed?: string[] };
    message = p.detail || p.title || `HTTP ${response.status}`;
    if (p.field && !message.includes(p.field)) message += ` (${p.field})`;
    if (p.allowed?.length) message += ` [${p.allowed.join(', ')}]`;
  } catch {
    message = text.slice(0, 200) || `HTTP ${response.status}`;
  }
  const lead = REFUSALS[response.status];
  if (!lead) return message;
  return currentLanguage() === 'zh' ? `${w(lead)}（${message}）` : `${w(lead)} (${message})`;
}

export class Outbox {
  private db: Promise<IDBDatabase> = openDb();
  private running: Promise<void> | null = null;
  private again = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private delay = 0;
  private readonly listeners = new Set<() => void>();
  /** Called with each entry the server applied, and the case it returned. */
  onApplied: (entry: Entry) => void = () => {};
  /** Called when the session ended (a 401 that a refresh could not cure). */
  onSessionEnded: () => void = () => {};

  constructor(
    private readonly api: Api,
    private readonly user: string,
  ) {
    window.addEventListener('online', () => this.flush());
  }

  /** Re-renders on every change. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }

  /** Adds a submission unless one with its key is there: the entry kept, and whether it was new. */
  async add(entry: Omit<Entry, 'state' | 'attempts' | 'createdAt' | 'user'>): Promise<{ entry: Entry; added: boolean }> {
    const db = await this.db;
    const tx = db.transaction(STORE, 'readwrite');
    const store = tx.objectStore(STORE);
    const existing = (await promised(store.index('key').get(entry.key))) as Entry | undefined;
    if (existing) return { entry: existing, added: false };
    const full: Entry = { ...entry, user: this.user, state: 'waiting', attempts: 0, createdAt: Date.now() };
    full.seq = (await promised(store.add(full))) as number;
    await new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
    });
    this.changed();
    void this.flush();
    return { entry: full, added: true };
  }

  /** Every entry of this user, oldest first (those done more than a day ago are dropped). */
  async all(): Promise<Entry[]> {
    const db = await this.db;
    const entries = (await promised(db.transaction(STORE).objectStore(STORE).getAll())) as Entry[];
    const old = entries.filter((e) => e.state === 'done' && Date.now() - e.createdAt > KEEP_DONE_MS);
    if (old.length) {
      const store = db.transaction(STORE, 'readwrite').objectStore(STORE);
      for (const e of old) store.delete(e.seq as number);
    }
    return entries.filter((e) => !old.includes(e) && e.user === this.user).sort((a, b) => (a.seq as number) - (b.seq as number));
  }

  /** The entry of a submission key, if any. */
  async byKey(key: string): Promise<Entry | undefined> {
    const db = await this.db;
    return (await promised(db.transaction(STORE).objectStore(STORE).index('key').get(key))) as Entry | undefined;
  }

  private async save(entry: Entry): Promise<void> {
    const db = await this.db;
    await promised(db.transaction(STORE, 'readwrite').objectStore(STORE).put(entry));
    this.changed();
  }

  /** Drops a failed entry (the worker read why and gave it up). */
  async discard(seq: number): Promise<void> {
    const db = await this.db;
    await promised(db.transaction(STORE, 'readwrite').objectStore(STORE).delete(seq));
    this.changed();
  }

  /** Puts a failed entry back in line (after the worker fixed what the server refused elsewhere). */
  async retry(seq: number): Promise<void> {
    const entry = (await this.all()).find((e) => e.seq === seq);
    if (!entry) return;
    entry.state = 'waiting';
    entry.error = undefined;
    await this.save(entry);
    this.delay = 0;
    await this.flush();
  }

  /** Sends what waits, in order; one run at a time (a call during a run makes one more). */
  flush(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.run();
      } while (this.again);
    })().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async run(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const waiting = (await this.all()).filter((e) => e.state === 'waiting');
    for (const entry of waiting) {
      const outcome = navigator.onLine ? await this.sendOne(entry) : 'retry';
      if (outcome === 'retry') {
        if (!navigator.onLine) entry.error = undefined;
        await this.save(entry);
        this.scheduleRetry();
        return;
      }
      this.delay = 0;
    }
  }

  /** Periodic retry with backoff (2 s doubling to 30 s); the `online` event comes sooner. */
  private scheduleRetry(): void {
    this.delay = Math.min(30_000, this.delay ? this.delay * 2 : 2_000);
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.flush(), this.delay);
  }

  private async sendOne(entry: Entry): Promise<Outcome> {
    entry.attempts += 1;
    try {
      if (entry.job.kind === 'create' && entry.job.caseId === undefined) {
        const r = await this.post('/api/cases', entry.key, JSON.stringify(entry.job.body), 'application/json');
        if (r.outcome !== 'ok') return this.settle(entry, r);
        entry.job.caseId = (r.json as { id: number }).id;
        entry.result = r.json;
        await this.save(entry);
      }
      const caseId = entry.job.caseId as number;
      for (const photo of entry.photos) {
        if (photo.attachmentId) continue;
        const path = `/api/cases/${caseId}/attachments?name=${encodeURIComponent(photo.name)}`;
        const r = await this.post(path, photo.key, photo.blob, photo.blob.type || 'image/jpeg');
        if (r.outcome !== 'ok') return this.settle(entry, r);
        photo.attachmentId = (r.json as { id: string }).id;
        await this.save(entry);
      }
      if (entry.job.kind === 'action') {
        const body = { ...entry.job.body };
        if (entry.photos.length) body.photos = entry.photos.map((p) => p.attachmentId);
        const r = await this.post(`/api/cases/${caseId}/actions`, entry.key, JSON.stringify(body), 'application/json');
        if (r.outcome !== 'ok') return this.settle(entry, r);
        entry.result = r.json;
      }
      entry.state = 'done';
      entry.error = undefined;
      await this.save(entry);
      this.onApplied(entry);
      return 'ok';
    } catch (e) {
      entry.error = e instanceof Error ? e.message : String(e);
      return 'retry';
    }
  }

  private async settle(entry: Entry, r: { outcome: Outcome; error?: string }): Promise<Outcome> {
    entry.error = r.error;
    if (r.outcome === 'failed') {
      entry.state = 'failed';
      await this.save(entry);
    }
    return r.outcome;
  }

  private async post(
    path: string,
    key: string,
    body: BodyInit,
    type: string,
  ): Promise<{ outcome: Outcome; json?: unknown; error?: string }> {
    let response: Response;
    try {
      response = await this.api.send(path, {
        method: 'POST',
        headers: { 'Content-Type': type, 'Idempotency-Key': key },
        body,
      });
    } catch (e) {
      if (e instanceof ApiError && e.status === 0) return { outcome: 'retry', error: e.message };
      throw e;
    }
    if (response.ok) return { outcome: 'ok', json: await response.json() };
    const error = await problemText(response);
    if (response.status === 401) {
      this.onSessionEnded();
      return { outcome: 'retry', error };
    }
    if (response.status >= 500 || response.status === 429 || response.status === 408) return { outcome: 'retry', error };
    return { outcome: 'failed', error };
  }
}
