// The leader's view: the cases they are bound to (`leader=me`) and the overdue cases of
// their regions (`overdue=true`, within their scope, which the server applies), both live.

import type { Ctx, Unmount } from './app';
import { h, fill } from './dom';
import { caseList } from './list';
import { w } from './words';

export function leaderView(ctx: Ctx, root: HTMLElement): Unmount {
  const mine = h('div', { class: 'leader-pane', test: 'leader-mine' });
  const overdue = h('div', { class: 'leader-pane', test: 'leader-overdue' });
  fill(root, h('section', { class: 'leader-screen', test: 'leader-screen' }, mine, overdue));
  const a = caseList(ctx, mine, { fixed: { leader: 'me' }, title: w('leaderMine'), test: 'leader-mine-list' });
  const b = caseList(ctx, overdue, { fixed: { overdue: true }, title: w('leaderOverdue'), test: 'leader-overdue-list' });
  return () => {
    a();
    b();
  };
}
