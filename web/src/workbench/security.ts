// The security administrator's failed logins (`GET /api/auth/login-failures`, roles.manage):
// every username with failed logins in the last lock period (15 minutes), also usernames
// without an account, with the addresses that failed and those locked now. The usernames
// are whatever someone typed into a login form: every value is set as text.

import type { LoginFailures } from '../shared/loginfailures';
import type { Ctx } from './app';
import { beijing } from './audit';
import { h, fill, type Child } from './dom';
import { explain, w } from './words';

export async function loginFailuresScreen(ctx: Ctx, el: HTMLElement): Promise<void> {
  const error = h('p', { class: 'error', role: 'alert', test: 'login-failures-error' });
  const status = h('p', { class: 'muted', test: 'login-failures-status' });
  const tbody = h('tbody', { test: 'login-failures-rows' });
  const screen = h('section', { class: 'login-failures-screen', test: 'login-failures-screen' });
  const addresses = (list: string[], locked: string[]): Child[] =>
    list.flatMap((a, i) => [i > 0 ? ' ' : null, h('span', { class: locked.includes(a) ? 'address locked' : 'address', test: 'address' }, a)]);
  const row = (f: LoginFailures) =>
    h(
      'tr',
      { test: 'login-failure-row', 'data-username': f.username, 'data-failures': f.failures },
      h('td', { test: 'login-failure-username', class: 'object' }, f.username),
      h('td', { class: 'num', test: 'login-failure-count' }, f.failures),
      h('td', { test: 'login-failure-addresses' }, addresses(f.addresses, f.locked_addresses)),
      h('td', { test: 'login-failure-locked' }, f.locked_addresses.length ? addresses(f.locked_addresses, f.locked_addresses) : '—'),
      h('td', { class: 'num', test: 'login-failure-last' }, beijing(f.last_at)),
    );
  const refresh = h('button', { test: 'login-failures-refresh', onclick: () => void load() }, w('refresh'));
  async function load(): Promise<void> {
    error.textContent = '';
    screen.dataset.loaded = 'false';
    refresh.disabled = true;
    try {
      const { items } = await ctx.api.get<{ items: LoginFailures[] }>('/api/auth/login-failures');
      fill(tbody, items.map(row));
      status.textContent = items.length ? '' : w('noLoginFailures');
    } catch (err) {
      error.textContent = explain(err);
    } finally {
      refresh.disabled = false;
      screen.dataset.loaded = 'true';
    }
  }
  fill(
    screen,
    h('div', { class: 'list-head' }, h('h2', {}, w('loginFailuresTitle')), h('span', { class: 'exports' }, refresh)),
    h('p', { class: 'muted' }, w('loginFailuresHint')),
    error,
    h(
      'table',
      { class: 'cases audit', test: 'login-failures-table' },
      h('thead', {}, h('tr', {}, [w('username'), w('failures'), w('failureAddresses'), w('lockedAddresses'), w('lastFailure')].map((t) => h('th', {}, t)))),
      tbody,
    ),
    status,
  );
  fill(el, screen);
  await load();
}
