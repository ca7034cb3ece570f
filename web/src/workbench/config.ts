// Configuration screens: users with their roles and region scopes
// (users.ts), departments, failed logins (security.ts, the security administrator's),
// intake sources with their tokens and the Open311 keys (sources.ts), devices (list and
// register), and the case rules (rules.ts: categories and time limits, dispatch rules,
// calendar).

import type { Ctx, Unmount } from './app';
import { h, fill } from './dom';
import { users } from './users';
import { loginFailuresScreen } from './security';
import { sourcesScreen } from './sources';
import { rulesScreen } from './rules';
import { configureTabs, unmountConfigure } from './configure';
import { explain, w } from './words';

export function configScreens(ctx: Ctx, root: HTMLElement): Unmount {
  const body = h('div', { class: 'config-body' });
  const tabs: [string, string, (el: HTMLElement) => void][] = [];
  if (ctx.can('users.view')) tabs.push(['users', w('configUsers'), (el) => void users(ctx, el)]);
  if (ctx.can('users.view')) tabs.push(['departments', w('configDepartments'), (el) => void departments(ctx, el)]);
  // The security administrator's failed logins, beside the users and roles.
  if (ctx.can('roles.manage')) tabs.push(['login-failures', w('configLoginFailures'), (el) => void loginFailuresScreen(ctx, el)]);
  if (ctx.can('sources.view')) tabs.push(['sources', w('configSources'), (el) => void sourcesScreen(ctx, el)]);
  if (ctx.can('devices.view')) tabs.push(['devices', w('configDevices'), (el) => void devices(ctx, el)]);
  if (ctx.can('rules.configure')) {
    tabs.push(['categories', w('configCategories'), (el) => void rulesScreen(ctx, el, 'categories')]);
    tabs.push(['dispatch-rules', w('configDispatchRules'), (el) => void rulesScreen(ctx, el, 'dispatch-rules')]);
    tabs.push(['calendar', w('configCalendar'), (el) => void rulesScreen(ctx, el, 'calendar')]);
  }
  tabs.push(...configureTabs(ctx));
  const open = (i: number) => {
    for (const [n, b] of buttons.entries()) b.classList.toggle('active', n === i);
    // The tab is in the address (#/config/<tab>), without reloading the screen.
    if (tabs[i]) history.replaceState(null, '', `#/config/${tabs[i][0]}`);
    // Each opening draws into a pane of its own: a tab left before its answer came (the
    // users' list, say) fills a pane no longer shown, never the tab opened after it.
    const pane = h('div', { class: 'config-pane' });
    body.replaceChildren(pane);
    unmountConfigure();
    tabs[i]?.[2](pane);
  };
  const buttons = tabs.map(([id, label], i) => h('button', { test: `config-tab-${id}`, onclick: () => open(i) }, label));
  fill(
    root,
    h(
      'section',
      { class: 'config-screen', test: 'config-screen' },
      h('div', { class: 'tabs' }, buttons),
      tabs.length ? body : h('p', {}, w('forbidden')),
    ),
  );
  const asked = /^#\/config\/([\w-]+)/.exec(location.hash)?.[1];
  open(Math.max(0, tabs.findIndex(([id]) => id === asked)));
  return unmountConfigure;
}

async function devices(ctx: Ctx, el: HTMLElement): Promise<void> {
  try {
    const page = await ctx.api.get<{ items?: Record<string, unknown>[]; devices?: Record<string, unknown>[] }>('/api/devices?limit=200');
    const list = page.items ?? page.devices ?? [];
    const error = h('p', { class: 'error', role: 'alert', test: 'config-error' });
    const id = h('input', { test: 'device-id' });
    const type = h('input', { test: 'device-type' });
    const lon = h('input', { test: 'device-lon', inputmode: 'decimal' });
    const lat = h('input', { test: 'device-lat', inputmode: 'decimal' });
    const credential = h('pre', { test: 'device-credential' });
    const register = ctx.can('devices.manage')
      ? h(
          'form',
          {
            class: 'inline-form',
            onsubmit: async (e: Event) => {
              e.preventDefault();
              error.textContent = '';
              try {
                const made = await ctx.api.post<Record<string, unknown>>('/api/devices', {
                  id: id.value.trim(),
                  type: type.value.trim(),
                  lon: Number(lon.value),
                  lat: Number(lat.value),
                  metadata: {},
                });
                credential.textContent = `${w('credential')}: ${JSON.stringify(made.credential ?? made, null, 1)}`;
              } catch (err) {
                error.textContent = explain(err);
              }
            },
          },
          h('label', {}, 'ID', id),
          h('label', {}, w('type'), type),
          h('label', {}, w('lon'), lon),
          h('label', {}, w('lat'), lat),
          h('button', { type: 'submit', class: 'primary', test: 'device-register' }, w('register')),
        )
      : null;
    const cols = ['id', 'type', 'street', 'health', 'last_seen_at'];
    fill(
      el,
      register,
      credential,
      error,
      h(
        'table',
        { class: 'cases', test: 'config-devices' },
        h('thead', {}, h('tr', {}, cols.map((c) => h('th', {}, c)))),
        h(
          'tbody',
          {},
          list.map((d) =>
            h(
              'tr',
              { test: 'config-device' },
              cols.map((c) => {
                const v = d[c];
                return h('td', {}, typeof v === 'object' && v !== null ? String((v as { name?: string }).name ?? JSON.stringify(v)) : String(v ?? '—'));
              }),
            ),
          ),
        ),
      ),
    );
  } catch (err) {
    fill(el, h('p', { class: 'error' }, explain(err)));
  }
}

/** The department tree (users.view) and a new department under a parent (departments.manage). */
async function departments(ctx: Ctx, el: HTMLElement): Promise<void> {
  type Dept = { id: string; name: string; parent: string | null };
  let list: Dept[];
  try {
    list = (await ctx.api.get<{ departments: Dept[] }>('/api/departments')).departments;
  } catch (err) {
    fill(el, h('p', { class: 'error' }, explain(err)));
    return;
  }
  const error = h('p', { class: 'error', role: 'alert', test: 'config-error' });
  const id = h('input', { test: 'department-id', required: true });
  const name = h('input', { test: 'department-name', required: true });
  const parent = h('select', { test: 'department-parent' }, list.map((d) => h('option', { value: d.id }, d.name)));
  const root = list.find((d) => d.parent === null);
  if (root) parent.value = root.id;
  const form = ctx.can('departments.manage')
    ? h(
        'form',
        {
          class: 'inline-form',
          test: 'new-department',
          onsubmit: async (e: Event) => {
            e.preventDefault();
            error.textContent = '';
            try {
              await ctx.api.post('/api/departments', { id: id.value.trim(), name: name.value.trim(), parent: parent.value });
              void departments(ctx, el);
            } catch (err) {
              error.textContent = explain(err);
            }
          },
        },
        h('label', {}, 'ID', id),
        h('label', {}, w('department'), name),
        h('label', {}, w('parent'), parent),
        h('button', { type: 'submit', class: 'primary', test: 'department-submit' }, w('newDepartment')),
      )
    : null;
  // Depth-first, children under their parent, indented.
  const rows: HTMLElement[] = [];
  const walk = (parentId: string | null, depth: number) => {
    for (const d of list.filter((x) => x.parent === parentId).sort((a, b) => a.id.localeCompare(b.id))) {
      rows.push(
        h('tr', { test: 'config-department', 'data-id': d.id }, h('td', { style: `padding-left: ${8 + depth * 20}px` }, d.name), h('td', {}, d.id)),
      );
      walk(d.id, depth + 1);
    }
  };
  walk(null, 0);
  fill(
    el,
    form,
    error,
    h('table', { class: 'cases', test: 'config-departments' }, h('thead', {}, h('tr', {}, h('th', {}, w('department')), h('th', {}, 'ID'))), h('tbody', {}, rows)),
  );
}
