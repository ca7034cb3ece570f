// One case: every field, a small map (the case's point, its grid's outline), the timeline
// with photos shown and other attachments downloadable (fetched with the session's token),
// and the actions the server lists in `allowed_actions`, each with its form. The case
// follows the live stream: a change made elsewhere shows at once (an open form stays open,
// and the server answers a now-impossible action with its reason).

import type { Feature } from 'geojson';
import { actionName, statusName, urgencyName } from '../shared/casewords';
import type { Ctx, Unmount } from './app';
import { actionForm } from './actions';
import { assigneeText, displayName } from './assignee';
import { h, fill, when, saveBlob } from './dom';
import { SmallMap } from './map';
import type { Case, TimelineEntry } from './types';
import { explain, w } from './words';

export function caseDetail(ctx: Ctx, root: HTMLElement, id: number): Unmount {
  const head = h('div', { class: 'detail-head', test: 'detail-head' });
  const fields = h('dl', { class: 'fields-list', test: 'detail-fields' });
  const mapBox = h('div', { class: 'detail-map', test: 'detail-map' });
  const timeline = h('ol', { class: 'timeline', test: 'timeline' });
  const actions = h('div', { class: 'action-buttons', test: 'actions' });
  const formBox = h('div', { class: 'form-box', test: 'form-box' });
  const notice = h('p', { class: 'notice', test: 'detail-notice', role: 'status' });
  const error = h('p', { class: 'error', test: 'detail-error', role: 'alert' });
  let map: SmallMap | null = null;
  let outlineCode: string | null = null;
  let current: Case | null = null;
  let gone = false;
  const blobUrls: string[] = [];

  fill(
    root,
    h(
      'section',
      { class: 'detail-screen', test: 'case-detail', 'data-id': id },
      h('a', { href: '#/cases', class: 'back', test: 'back' }, `← ${w('back')}`),
      error,
      head,
      h(
        'div',
        { class: 'detail-body' },
        h('div', { class: 'detail-left' }, fields, h('h3', {}, w('timeline')), timeline),
        h('div', { class: 'detail-right' }, mapBox, h('h3', {}, w('actions')), actions, notice, formBox),
      ),
    ),
  );

  const show = (c: Case) => {
    current = c;
    root.querySelector('[data-test=case-detail]')?.setAttribute('data-status', c.status);
    fill(
      head,
      h('h2', {}, h('span', { class: 'num' }, `#${c.id} `), c.title),
      h('span', { class: `status s-${c.status}`, test: 'detail-status' }, statusName(c.status)),
      h('span', { class: `urgency u-${c.urgency}` }, urgencyName(c.urgency)),
      c.overdue ? h('span', { class: 'tag overdue', test: 'detail-overdue' }, w('overdue')) : null,
    );
    const region = [c.street?.name, c.village?.name, c.grid?.name].filter(Boolean).join(' / ');
    const row = (label: string, value: string | Node | null, test?: string) =>
      [h('dt', {}, label), h('dd', { test: test ?? null }, value ?? '—')];
    const evaluation = c.evaluation
      ? `${c.evaluation.verdict === 'satisfied' ? w('satisfied') : `${w('unsatisfied')}: ${verdictReason(c.evaluation.verdict)}`}${c.evaluation.remark ? ` — ${c.evaluation.remark}` : ''}`
      : null;
    fill(
      fields,
      row(w('category'), `${c.category.name ?? ''} (${c.category.code})`, 'detail-category'),
      row(w('description'), c.description, 'detail-description'),
      row(w('location'), `${region || (c.outside_district ? w('outside') : '—')}${c.location ? ` · ${c.location.lon.toFixed(5)}, ${c.location.lat.toFixed(5)}` : ''}`, 'detail-location'),
      row(w('address'), c.address),
      // A source's own reference is shown; the server's record of an idempotency key is not.
      row(w('source'), `${c.source_name ?? c.source}${c.source_ref && !c.source_ref.startsWith('key:') ? ` · ${c.source_ref}` : ''}`, 'detail-source'),
      row(w('tag'), c.tags.join('、') || null, 'detail-tags'),
      row(w('reporter'), reporter(c), 'detail-reporter'),
      row(w('occurredAt'), when(c.occurred_at)),
      row(w('createdAt'), when(c.created_at)),
      row(w('dueAt'), c.deadline ? `${when(c.deadline.due_at)}${c.deadline.state === 'warning' ? ` · ${w('warning')}` : ''}` : null, 'detail-due'),
      row(w('assignee'), assigneeText(ctx, c.assignee), 'detail-assignee'),
      row(w('dispatchRule'), c.dispatch_rule),
      row(w('leaders'), c.leaders.map((l) => displayName(ctx, l)).join('、') || null, 'detail-leaders'),
      row(w('evaluation'), evaluation, 'detail-evaluation'),
      c.duplicate_of ? row(w('duplicateOf'), h('a', { href: `#/cases/${c.duplicate_of}` }, `#${c.duplicate_of}`)) : null,
      row(w('closedAt'), when(c.closed_at)),
    );
    if (c.timeline) showTimeline(c.timeline);
    const allowed = c.allowed_actions ?? [];
    fill(
      actions,
      allowed.length === 0
        ? h('p', { class: 'muted', test: 'no-actions' }, w('noActions'))
        : allowed.map((a) =>
            h('button', { test: `action-${a}`, 'data-action': a, onclick: () => openForm(a) }, actionName(a)),
          ),
    );
    showMap(c);
  };

  /** The masked reporter; those allowed may reveal it in full (the server audits each look). */
  const reporter = (c: Case): Node | null => {
    if (!c.reporter || (!c.reporter.name && !c.reporter.phone)) return null;
    const text = h('span', { test: 'reporter-text' }, [c.reporter.name, c.reporter.phone].filter(Boolean).join(' '));
    if (!ctx.can('personal_data.unmask')) return text;
    const reveal = h(
      'button',
      {
        class: 'link',
        test: 'reporter-reveal',
        onclick: async () => {
          try {
            const clear = await ctx.api.get<{ reporter: { name?: string; phone?: string } }>(`/api/cases/${c.id}/reporter`);
            text.textContent = [clear.reporter.name, clear.reporter.phone].filter(Boolean).join(' ');
            reveal.remove();
          } catch (err) {
            error.textContent = explain(err);
          }
        },
      },
      w('reveal'),
    );
    return h('span', {}, text, ' ', reveal);
  };

  const openForm = (action: string) => {
    if (!current) return;
    notice.textContent = '';
    fill(
      formBox,
      actionForm(
        ctx,
        current,
        action,
        (after) => {
          formBox.replaceChildren();
          notice.textContent = `${actionName(action)} · ${w('done')}`;
          show(after);
          void reload();
        },
        () => formBox.replaceChildren(),
      ),
    );
    formBox.querySelector<HTMLElement>('textarea, input, select')?.focus();
  };

  const showTimeline = (entries: TimelineEntry[]) => {
    for (const u of blobUrls.splice(0)) URL.revokeObjectURL(u);
    fill(
      timeline,
      entries.map((e) =>
        h(
          'li',
          { test: 'timeline-entry', 'data-action': e.action ?? 'create' },
          h(
            'div',
            { class: 'tl-head' },
            h('b', {}, actionName(e.action ?? 'create')),
            h('span', { class: 'muted' }, `${displayName(ctx, e.actor.user)} · ${when(e.at)}`),
            h('span', { class: 'muted' }, e.from ? `${statusName(e.from)} → ${statusName(e.to)}` : statusName(e.to)),
          ),
          e.content ? h('p', {}, e.content) : null,
          e.position ? h('p', { class: 'muted' }, `${e.position.lon.toFixed(5)}, ${e.position.lat.toFixed(5)}`) : null,
          e.attachments.length ? h('div', { class: 'attachments' }, e.attachments.map(attachment)) : null,
        ),
      ),
    );
  };

  /** An attachment: photos shown (a click enlarges), recordings playable, anything else a download. */
  const attachment = (ref: string): HTMLElement => {
    const box = h('div', { class: 'attachment', test: 'attachment', 'data-ref': ref }, w('loading'));
    void ctx.api.blob(`/api/attachments/${encodeURIComponent(ref)}`).then(
      ({ blob, fileName }) => {
        if (gone) return;
        const url = URL.createObjectURL(blob);
        blobUrls.push(url);
        const name = fileName ?? ref;
        const download = h('button', { class: 'link', test: 'attachment-download', onclick: () => saveBlob(blob, name) }, w('download'));
        if (blob.type.startsWith('image/')) {
          fill(box, h('img', { src: url, alt: name, test: 'attachment-photo', onclick: () => viewer(url, name) }), download);
        } else if (blob.type.startsWith('audio/')) {
          fill(box, h('audio', { src: url, controls: true, test: 'attachment-audio' }), download);
        } else {
          fill(box, h('span', {}, name), download);
        }
        box.dataset.type = blob.type;
      },
      (err) => fill(box, explain(err)),
    );
    return box;
  };

  const showMap = (c: Case) => {
    if (!map) map = new SmallMap(mapBox, ctx.refs.streets, ctx.refs.district);
    const m = map;
    void m.ready.then(() => {
      if (c.location) m.setPoint(c.location.lon, c.location.lat);
      const code = c.grid?.code ?? c.village?.code ?? c.street?.code ?? null;
      if (code === outlineCode) return;
      outlineCode = code;
      if (!code) {
        if (c.location) m.setPoint(c.location.lon, c.location.lat, true);
        mapBox.dataset.outline = 'none';
        return;
      }
      void ctx.api.get<Feature>(`/api/regions/${code}`).then(
        (f) => {
          if (gone) return;
          m.setOutline(f, true);
          mapBox.dataset.outline = code;
        },
        () => (mapBox.dataset.outline = 'none'),
      );
    });
  };

  const reload = async () => {
    try {
      const c = await ctx.api.get<Case>(`/api/cases/${id}`);
      ctx.refs.learn(c.names);
      if (gone) return;
      error.textContent = '';
      show(c);
      root.dataset.loaded = 'true';
    } catch (err) {
      if (gone) return;
      error.textContent = explain(err);
      root.dataset.loaded = 'true';
    }
  };

  // A change elsewhere (another user's action) reloads the case with its timeline.
  const subscription = ctx.live.subscribe({
    channel: 'cases',
    onSnapshot: (_items, afterNotRecovered) => {
      if (afterNotRecovered) void reload();
    },
    onDelta: (data) => {
      if ((data as Case | null)?.id === id) void reload();
    },
  });
  void reload();
  return () => {
    gone = true;
    ctx.live.unsubscribe(subscription);
    map?.remove();
    for (const u of blobUrls.splice(0)) URL.revokeObjectURL(u);
  };
}

function verdictReason(verdict: unknown): string {
  if (typeof verdict === 'object' && verdict !== null && 'unsatisfied' in verdict) {
    const r = (verdict as { unsatisfied: unknown }).unsatisfied;
    if (typeof r === 'string') return w(r as 'other');
    if (typeof r === 'object' && r !== null && 'other' in r) return `${w('other')}: ${(r as { other: string }).other}`;
  }
  return '';
}

/** A photo enlarged over the page; a click or Escape closes it. */
function viewer(url: string, name: string): void {
  const close = () => {
    overlay.remove();
    document.removeEventListener('keydown', onKey);
  };
  const onKey = (e: KeyboardEvent) => {
    if (e.key === 'Escape') close();
  };
  const overlay = h('div', { class: 'viewer', test: 'photo-viewer', onclick: close }, h('img', { src: url, alt: name }));
  document.addEventListener('keydown', onKey);
  document.body.appendChild(overlay);
}
