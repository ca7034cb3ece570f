// The tasks list and one task: details, the actions the server allows me now (accept,
// return, start, feedback, mark handled), the case on a small map with my position, and
// its timeline. Accept and start go through the outbox like every other action.

import { CaseMap } from './map';
import { countdownHtml, esc, newKey, positionText, type App } from './shell';
import type { Entry } from './outbox';
import type { Case } from './tasks';
import { actionName, statusName, urgencyName } from '../shared/casewords';
import { currentLanguage } from '../shared/language';
import { w } from './words';

/** What the lifecycle lets the assignee do in Accepted. */
const AFTER_ACCEPT = ['start', 'feedback', 'mark_handled', 'return'];

/** The cases whose accept waits in the outbox. */
function acceptsWaiting(entries: Entry[]): Set<number> {
  return new Set(
    entries
      .filter((e) => e.state === 'waiting' && e.job.kind === 'action' && e.job.body.action === 'accept')
      .map((e) => e.job.caseId as number),
  );
}

/** The case as the phone shows it. A dispatched case whose accept waits in the outbox (taken
 *  offline) is shown accepted, marked as waiting, with what may follow an accept: feedback
 *  and "handled" can be written offline too. They queue behind the accept, and the outbox
 *  sends in order. Once the accept is sent, the server's case is shown again. */
export function shown(c: Case, acceptWaiting: boolean): Case & { optimistic?: boolean } {
  if (!acceptWaiting || c.status !== 'dispatched') return c;
  return { ...c, status: 'accepted', allowed_actions: AFTER_ACCEPT, optimistic: true };
}

export function tasksScreen(app: App): () => void {
  /** Cases with something of mine waiting in the outbox. */
  let waiting = new Set<number>();
  let accepting = new Set<number>();
  /** False once another screen took the page: a late answer from the outbox draws nothing. */
  let alive = true;
  const refresh = async () => {
    const entries = await app.outbox.all();
    if (!alive) return;
    waiting = new Set(entries.filter((e) => e.state === 'waiting' && e.job.caseId !== undefined).map((e) => e.job.caseId as number));
    accepting = acceptsWaiting(entries);
    render();
  };
  const render = () => {
    const list = app.tasks.list().map((c) => shown(c, accepting.has(c.id)));
    const mine = list.filter((c) => app.tasks.isMine(c));
    const others = list.filter((c) => !app.tasks.isMine(c));
    const group = (title: string, cases: typeof list) =>
      cases.length ? `<li class="group"><h2>${title} (${cases.length})</h2></li>${cases.map((c) => taskItem(app, c, waiting.has(c.id))).join('')}` : '';
    app.main.innerHTML = `
      <h1 class="screen-title">${w('tasks')}</h1>
      <ul class="tasks" data-test="task-list" data-loaded="${app.tasks.loaded}">
        ${list.length ? group(w('mine'), mine) + group(w('inGrid'), others) : `<li class="empty" data-test="no-tasks">${w('noTasks')}</li>`}
      </ul>`;
  };
  render();
  void refresh();
  const stopTasks = app.tasks.subscribe(render);
  const stopOutbox = app.outbox.subscribe(() => void refresh());
  return () => {
    alive = false;
    stopTasks();
    stopOutbox();
  };
}

function taskItem(app: App, c: Case & { optimistic?: boolean }, pending: boolean): string {
  const mine = app.tasks.isMine(c);
  return `
    <li>
      <a class="task ${mine ? 'mine' : ''} urgency-${esc(c.urgency)}" href="#/case/${c.id}" data-test="task" data-case-id="${c.id}" data-mine="${mine}" data-status="${esc(c.status)}" data-optimistic="${!!c.optimistic}">
        <span class="task-top">
          <b class="status s-${esc(c.status)}" data-test="task-status">${esc(statusName(c.status))}</b>
          ${mine ? `<span class="badge">${w('assignedToMe')}</span>` : ''}
          ${c.urgency !== 'normal' ? `<span class="badge urgent">${esc(urgencyName(c.urgency))}</span>` : ''}
          ${pending ? `<span class="badge pending" data-test="task-pending">${w('waiting')}</span>` : ''}
          <span class="id">#${c.id}</span>
        </span>
        <span class="task-title">${esc(c.title || c.description)}</span>
        <span class="task-meta">${esc(c.category.name ?? c.category.code)} · ${esc(c.address ?? c.grid?.name ?? '')}</span>
        ${countdownHtml(c)}
      </a>
    </li>`;
}

/** One task. Each visit holds one key per button, so a double tap is one submission. */
export function caseScreen(app: App, id: number): () => void {
  const keys: Record<string, string> = {};
  const key = (action: string, status: string) => (keys[`${action}:${status}`] ??= newKey());
  app.main.innerHTML = `
    <section class="case" data-test="case-view" data-case-id="${id}">
      <a class="back" href="#/tasks" data-test="back">‹ ${w('back')}</a>
      <div class="case-info" data-test="case-info"><p>${w('loading')}</p></div>
      <p class="message" data-test="case-message" role="status"></p>
      <div class="map" data-test="case-map"></div>
      <p class="legend"><i class="dot case"></i>${w('casePlace')} <i class="dot me"></i>${w('myPosition')}</p>
      <p class="me">${w('myPosition')}: <span data-test="my-position">${w('locating')}</span></p>
      <div class="case-timeline" data-test="case-timeline"></div>
    </section>`;
  const info = app.main.querySelector<HTMLElement>('.case-info') as HTMLElement;
  const message = app.main.querySelector<HTMLElement>('[data-test=case-message]') as HTMLElement;
  const timeline = app.main.querySelector<HTMLElement>('.case-timeline') as HTMLElement;
  let map: CaseMap | null = null;
  let pending: Set<string> = new Set();
  /** An accept of this case waits in the outbox. */
  let acceptWaiting = false;
  /** False once another screen took the page: late answers (an act, the outbox) draw nothing. */
  let alive = true;

  const render = () => {
    const known = app.tasks.byId.get(id);
    if (!known || !alive) return;
    const c = shown(known, acceptWaiting);
    const allowed = c.allowed_actions ?? [];
    const button = (action: string, label: string, href?: string) =>
      allowed.includes(action)
        ? href
          ? `<a class="button" href="${href}" data-test="act-${action}">${label}</a>`
          : `<button type="button" class="button ${action === 'accept' ? 'primary' : ''}" data-act="${action}" data-test="act-${action}" ${pending.has(action) ? 'disabled' : ''}>${label}</button>`
        : '';
    info.innerHTML = `
      <h1 class="case-title">${esc(c.title || c.description)}</h1>
      <p class="case-status"><b class="status s-${esc(c.status)} ${c.optimistic ? 'optimistic' : ''}" data-test="case-status" data-status="${esc(c.status)}" data-optimistic="${!!c.optimistic}">${esc(statusName(c.status))}${c.optimistic ? ` · ${w('waiting')}` : ''}</b>
        ${countdownHtml(c)}</p>
      <dl>
        <dt>${w('category')}</dt><dd>${esc(c.category.name ?? c.category.code)}</dd>
        <dt>${w('urgency')}</dt><dd>${esc(urgencyName(c.urgency))}</dd>
        <dt>${w('address')}</dt><dd>${esc([c.street?.name, c.village?.name, c.grid?.name].filter(Boolean).join(' / '))}${c.address ? `<br>${esc(c.address)}` : ''}</dd>
        <dt>${w('createdAt')}</dt><dd>${esc(new Date(c.created_at).toLocaleString(currentLanguage() === 'zh' ? 'zh-CN' : 'en-GB'))}</dd>
        <dt>${w('description')}</dt><dd>${esc(c.description)}</dd>
      </dl>
      <div class="actions" data-test="case-actions">
        ${button('accept', w('accept'))}
        ${button('start', w('start'))}
        ${button('feedback', w('feedback'), `#/case/${id}/feedback`)}
        ${button('mark_handled', w('markHandled'), `#/case/${id}/handled`)}
        ${button('return', w('return'), `#/case/${id}/return`)}
      </div>`;
    for (const b of info.querySelectorAll<HTMLButtonElement>('button[data-act]')) {
      b.onclick = () => void act(c, b.dataset.act as string);
    }
    if (c.timeline) {
      timeline.innerHTML = `<h2>${w('timeline')}</h2><ol class="timeline">${[...c.timeline]
        .reverse()
        .map(
          (t) => `<li data-test="timeline-entry" data-action="${esc(t.action ?? 'create')}">
            <b>${esc(actionName(t.action ?? 'create'))}</b> <time>${esc(new Date(t.at).toLocaleString(currentLanguage() === 'zh' ? 'zh-CN' : 'en-GB'))}</time>
            ${t.content ? `<p>${esc(t.content)}</p>` : ''}
            ${(t.attachments ?? []).length ? `<p class="photos">${(t.attachments ?? []).map((a) => `<img data-attachment="${esc(a)}" data-test="timeline-photo" alt="" />`).join('')}</p>` : ''}
          </li>`,
        )
        .join('')}</ol>`;
      for (const img of timeline.querySelectorAll<HTMLImageElement>('img[data-attachment]')) void showPhoto(img);
    }
    if (!map && c.location) {
      map = new CaseMap(app.main.querySelector('.map') as HTMLElement, c.location);
      (window as unknown as { __mobileMap?: CaseMap }).__mobileMap = map;
      if (app.position.last) void map.setMe(app.position.last);
      if (c.grid) {
        app.api.get(`/api/regions/${c.grid.code}`).then(
          (r) => map?.outline(r),
          () => {},
        );
      }
    }
  };

  /** Attachments need the session's token: fetched once each, shown from a blob URL. */
  const photos = new Map<string, Promise<string | null>>();
  const showPhoto = async (img: HTMLImageElement) => {
    const id = img.dataset.attachment as string;
    if (!photos.has(id)) {
      photos.set(
        id,
        app.api.send(`/api/attachments/${encodeURIComponent(id)}`).then(
          async (r) => (r.ok ? URL.createObjectURL(await r.blob()) : null),
          () => null,
        ),
      );
    }
    const url = await photos.get(id);
    if (url) img.src = url;
    else photos.delete(id);
  };

  const act = async (c: Case, action: string) => {
    // An accept or start of this case still waiting in the outbox (from an earlier visit)
    // is the same submission: it keeps its key.
    const waiting = (await app.outbox.all()).find(
      (e) => e.state === 'waiting' && e.job.kind === 'action' && e.job.caseId === c.id && e.job.body.action === action,
    );
    const k = waiting?.key ?? key(action, c.status);
    pending.add(action);
    render();
    const { entry, added } = await app.outbox.add({
      key: k,
      label: `${actionName(action)} #${c.id}`,
      job: { kind: 'action', caseId: c.id, body: { action } },
      photos: [],
    });
    await app.outbox.flush();
    const now = (await app.outbox.byKey(entry.key)) ?? entry;
    pending = new Set([...pending].filter((a) => a !== action));
    const state = now.state === 'waiting' && !added ? 'duplicate' : now.state;
    message.className = `message ${state}`;
    message.dataset.state = state;
    message.textContent =
      now.state === 'done' ? `${actionName(action)}：${w('sent')}` : now.state === 'failed' ? `${w('refused')}：${now.error ?? ''}` : added ? w('queued') : w('alreadyQueued');
    render();
  };

  const stopTasks = app.tasks.subscribe(render);
  const refreshQueued = async () => {
    const was = acceptWaiting;
    acceptWaiting = acceptsWaiting(await app.outbox.all()).has(id);
    if (was !== acceptWaiting) render();
  };
  const stopOutbox = app.outbox.subscribe(() => void refreshQueued());
  void refreshQueued();
  const stopPosition = app.position.watch((fix) => {
    const el = app.main.querySelector('[data-test=my-position]');
    if (el) el.textContent = positionText(fix, app.position.error);
    if (fix) void map?.setMe(fix);
  });
  render();
  app.tasks.fetch(id).catch(() => {
    if (!app.tasks.byId.has(id)) info.innerHTML = `<p class="error">${w('notFound')}</p>`;
  });
  return () => {
    alive = false;
    stopTasks();
    stopOutbox();
    stopPosition();
    map?.remove();
    for (const url of photos.values()) void url.then((u) => u && URL.revokeObjectURL(u));
  };
}
