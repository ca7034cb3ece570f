// The leader's view: the cases they are bound to (`leader=me`), the cases they have
// instructed, and the overdue cases of their regions (`overdue=true`, within their scope,
// which the server applies); the first and the last live.
//
// "My instructions" are the cases the server lists with `instructed=me`; the pane reads
// each one's timeline for the leader's latest instruction.

import { statusName } from '../shared/casewords';
import type { Ctx, Unmount } from './app';
import { h, fill, when } from './dom';
import { caseList } from './list';
import type { Case, CasePage } from './types';
import { explain, w } from './words';

/** How many instructed cases the pane shows, newest first. */
const SHOWN = 100;

export function leaderView(ctx: Ctx, root: HTMLElement): Unmount {
  const mine = h('div', { class: 'leader-pane', test: 'leader-mine' });
  const instructions = h('div', { class: 'leader-pane', test: 'leader-instructions' });
  const overdue = h('div', { class: 'leader-pane', test: 'leader-overdue' });
  fill(root, h('section', { class: 'leader-screen', test: 'leader-screen' }, mine, instructions, overdue));
  const a = caseList(ctx, mine, { fixed: { leader: 'me' }, title: w('leaderMine'), test: 'leader-mine-list' });
  let gone = false;
  void myInstructions(ctx, instructions, () => gone);
  const b = caseList(ctx, overdue, { fixed: { overdue: true }, title: w('leaderOverdue'), test: 'leader-overdue-list' });
  return () => {
    gone = true;
    a();
    b();
  };
}

async function myInstructions(ctx: Ctx, el: HTMLElement, gone: () => boolean): Promise<void> {
  const status = h('p', { class: 'list-status', test: 'leader-instructions-status' }, w('loading'));
  const tbody = h('tbody', {});
  const refresh = h('button', { test: 'leader-instructions-refresh', onclick: () => void myInstructions(ctx, el, gone) }, w('refresh'));
  fill(
    el,
    h('div', { class: 'list-head' }, h('h2', {}, w('leaderInstructions')), h('span', { class: 'muted' }, w('instructionsScope')), h('div', { class: 'exports' }, refresh)),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'cases', test: 'leader-instructions-table' },
        h('thead', {}, h('tr', {}, [w('id'), w('titleCol'), w('status'), w('myInstruction'), w('instructedAt')].map((t) => h('th', {}, t)))),
        tbody,
      ),
    ),
    status,
  );
  try {
    const page = await ctx.api.get<CasePage>(`/api/cases?instructed=me&limit=${SHOWN}`);
    ctx.refs.learn(page.names);
    const ids = page.items.map((c) => c.id);
    const found: { c: Case; at: string; text: string }[] = [];
    // A few at a time, not to flood the server.
    for (let i = 0; i < ids.length && !gone(); i += 4) {
      const cases = await Promise.all(ids.slice(i, i + 4).map((id) => ctx.api.get<Case>(`/api/cases/${id}`).catch(() => null)));
      for (const c of cases) {
        const mine = (c?.timeline ?? []).filter((t) => t.action === 'instruct' && t.actor.user === ctx.me.username);
        const last = mine.at(-1);
        if (c && last) found.push({ c, at: last.at, text: last.content });
      }
    }
    if (gone()) return;
    found.sort((x, y) => (x.at < y.at ? 1 : -1));
    fill(
      tbody,
      found.map(({ c, at, text }) =>
        h(
          'tr',
          { test: 'instruction-row', 'data-id': c.id, 'data-status': c.status, onclick: () => ctx.go(`#/cases/${c.id}`) },
          h('td', { class: 'num' }, String(c.id)),
          h('td', {}, c.title || c.description.slice(0, 40)),
          h('td', {}, statusName(c.status)),
          h('td', { test: 'instruction-text' }, text),
          h('td', { class: 'num' }, when(at)),
        ),
      ),
    );
    status.textContent = found.length ? '' : w('noInstructions');
    el.dataset.loaded = 'true';
  } catch (err) {
    status.textContent = explain(err);
    el.dataset.loaded = 'true';
  }
}
