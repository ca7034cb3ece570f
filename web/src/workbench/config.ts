// Configuration screens whose server APIs exist: users with their roles and region scopes,
// intake sources (switch on or off), devices (list and register).

import type { Ctx, Unmount } from './app';
import { h, fill, when } from './dom';
import { explain, w } from './words';

export function configScreens(ctx: Ctx, root: HTMLElement): Unmount {
  const body = h('div', { class: 'config-body' });
  const tabs: [string, string, (el: HTMLElement) => void][] = [];
  if (ctx.can('users.view')) tabs.push(['users', w('configUsers'), (el) => void users(ctx, el)]);
  if (ctx.can('users.view')) tabs.push(['departments', w('configDepartments'), (el) => void departments(ctx, el)]);
  if (ctx.can('sources.view')) tabs.push(['sources', w('configSources'), (el) => void sources(ctx, el)]);
  if (ctx.can('devices.view')) tabs.push(['devices', w('configDevices'), (el) => void devices(ctx, el)]);
  const open = (i: number) => {
    for (const [n, b] of buttons.entries()) b.classList.toggle('active', n === i);
    body.replaceChildren();
    tabs[i]?.[2](body);
  };
  const buttons = tabs.map(([id, label], i) => h('button', { test: `config-tab-${id}`, onclick: () => open(i) }, label));
  fill(
    root,
    h(
      'section',
      { class: 'config-screen', test: 'config-screen' },
      h('div', { class: 'tabs' }, buttons),
      h('p', { class: 'muted', test: 'config-missing' }, w('configMissing')),
      tabs.length ? body : h('p', {}, w('forbidden')),
    ),
  );
  open(0);
  return () => {};
}

interface UserRow {
  id: number;
  username: string;
  display_name: string;
  department: string | null;
  roles: string[];
  scope: { level: string; code: string } | null;
  active: boolean;
  totp_enabled: boolean;
  must_change_password?: boolean;
}

interface RoleRow {
  role: string;
  title: string;
  permissions: string[];
  require_totp: boolean;
}

interface PermissionGroup {
  group: string;
  title: string;
  permissions: { permission: string; title: string }[];
}

const LEVELS = ['district', 'street', 'village', 'grid'];

/** Users: the list; new accounts and scopes (users.manage); roles (roles.manage, never one's own). */
async function users(ctx: Ctx, el: HTMLElement): Promise<void> {
  const error = h('p', { class: 'error', role: 'alert', test: 'config-error' });
  const notice = h('p', { class: 'notice', role: 'status', test: 'config-notice' });
  let list: UserRow[];
  let roles: RoleRow[] = [];
  try {
    list = (await ctx.api.get<{ users: UserRow[] }>('/api/users')).users;
    roles = (await ctx.api.get<{ roles: RoleRow[] }>('/api/roles')).roles;
  } catch (err) {
    fill(el, h('p', { class: 'error' }, explain(err)));
    return;
  }
  const departments = ctx.refs.departments ?? [];
  const title = (role: string) => roles.find((r) => r.role === role)?.title ?? role;
  const reload = (message: string) => {
    void users(ctx, el).then(() => {
      const n = el.querySelector('[data-test=config-notice]');
      if (n) n.textContent = message;
    });
  };
  const scopeFields = (scope: { level: string; code: string } | null) => {
    const level = h('select', { test: 'user-scope-level' }, LEVELS.map((l) => h('option', { value: l }, l)));
    level.value = scope?.level ?? 'district';
    const code = h('input', { test: 'user-scope-code', value: scope?.code ?? ctx.me.scope.code, size: 16 });
    return { level, code, el: [h('label', {}, w('scope'), level), h('label', {}, w('region'), code)] };
  };

  const create = ctx.can('users.manage')
    ? (() => {
        const username = h('input', { test: 'new-user-username', required: true });
        const display = h('input', { test: 'new-user-display' });
        const password = h('input', { test: 'new-user-password', type: 'password', required: true, autocomplete: 'new-password' });
        const department = h('select', { test: 'new-user-department' }, h('option', { value: '' }, '—'), departments.map((d) => h('option', { value: d.id }, d.name)));
        const scope = scopeFields(null);
        return h(
          'form',
          {
            class: 'inline-form',
            test: 'new-user',
            onsubmit: async (e: Event) => {
              e.preventDefault();
              error.textContent = '';
              try {
                await ctx.api.post('/api/users', {
                  username: username.value.trim(),
                  display_name: display.value.trim() || username.value.trim(),
                  password: password.value,
                  department: department.value || null,
                  scope: { level: scope.level.value, code: scope.code.value.trim() },
                });
                reload(`${username.value.trim()} · ${w('done')}`);
              } catch (err) {
                error.textContent = explain(err);
              }
            },
          },
          h('label', {}, w('username'), username),
          h('label', {}, w('displayName'), display),
          h('label', {}, w('password'), password),
          h('label', {}, w('department'), department),
          scope.el,
          h('button', { type: 'submit', class: 'primary', test: 'new-user-submit' }, w('newUser')),
        );
      })()
    : null;

  const editor = h('div', { class: 'user-editor', test: 'user-editor' });
  const edit = (u: UserRow) => {
    const parts: HTMLElement[] = [h('h3', {}, `${u.display_name} (${u.username})`)];
    if (ctx.can('roles.manage')) {
      const boxes = roles.map((r) => {
        const box = h('input', { type: 'checkbox', value: r.role, test: `role-${r.role}`, checked: u.roles.includes(r.role) });
        return h('label', { class: 'check' }, box, `${r.title}${r.require_totp ? ' (TOTP)' : ''}`);
      });
      parts.push(
        h(
          'form',
          {
            class: 'inline-form',
            test: 'user-roles',
            onsubmit: async (e: Event) => {
              e.preventDefault();
              error.textContent = '';
              const chosen = boxes.map((b) => b.querySelector('input')!).filter((i) => i.checked).map((i) => i.value);
              try {
                await ctx.api.put(`/api/users/${u.id}/roles`, { roles: chosen });
                reload(`${u.username} · ${w('roles')} · ${w('done')}`);
              } catch (err) {
                notice.textContent = '';
                error.textContent = explain(err);
              }
            },
          },
          boxes,
          h('button', { type: 'submit', class: 'primary', test: 'user-roles-save' }, w('saveRoles')),
        ),
      );
    }
    if (ctx.can('users.manage')) {
      const scope = scopeFields(u.scope);
      const active = h('input', { type: 'checkbox', test: 'user-active', checked: u.active });
      parts.push(
        h(
          'form',
          {
            class: 'inline-form',
            test: 'user-scope',
            onsubmit: async (e: Event) => {
              e.preventDefault();
              error.textContent = '';
              try {
                await ctx.api.put(`/api/users/${u.id}`, {
                  scope: { level: scope.level.value, code: scope.code.value.trim() },
                  active: active.checked,
                });
                reload(`${u.username} · ${w('scope')} · ${w('done')}`);
              } catch (err) {
                error.textContent = explain(err);
              }
            },
          },
          scope.el,
          h('label', { class: 'check' }, active, w('active')),
          h('button', { type: 'submit', class: 'primary', test: 'user-scope-save' }, w('saveScope')),
        ),
      );
    }
    fill(editor, parts);
  };

  /** A role's permissions and second-factor requirement (roles.manage); the server keeps
   *  each role's bundle and the separation of the three administrators. */
  const editRole = async (r: RoleRow) => {
    if (!ctx.can('roles.manage')) return;
    let groups: PermissionGroup[];
    try {
      groups = (await ctx.api.get<{ groups: PermissionGroup[] }>('/api/permissions')).groups;
    } catch (err) {
      error.textContent = explain(err);
      return;
    }
    const boxes = groups.flatMap((g) =>
      g.permissions.map((p) => h('input', { type: 'checkbox', value: p.permission, test: `perm-${p.permission}`, checked: r.permissions.includes(p.permission) })),
    );
    const requireTotp = h('input', { type: 'checkbox', test: 'role-require-totp', checked: r.require_totp });
    let i = 0;
    fill(
      editor,
      h('h3', {}, `${r.title} (${r.role})`),
      h(
        'form',
        {
          class: 'role-form',
          test: 'role-editor',
          onsubmit: async (e: Event) => {
            e.preventDefault();
            error.textContent = '';
            try {
              await ctx.api.put(`/api/roles/${r.role}`, {
                permissions: boxes.filter((b) => b.checked).map((b) => b.value),
                require_totp: requireTotp.checked,
              });
              reload(`${r.title} · ${w('done')}`);
            } catch (err) {
              notice.textContent = '';
              error.textContent = explain(err);
            }
          },
        },
        groups.map((g) =>
          h('fieldset', {}, h('legend', {}, g.title), g.permissions.map((p) => h('label', { class: 'check' }, boxes[i++], p.title))),
        ),
        h('label', { class: 'check' }, requireTotp, w('requireTotp')),
        h('button', { type: 'submit', class: 'primary', test: 'role-save' }, w('saveRole')),
      ),
    );
  };

  fill(
    el,
    create,
    error,
    notice,
    editor,
    h(
      'table',
      { class: 'cases', test: 'config-users' },
      h('thead', {}, h('tr', {}, [w('username'), w('displayName'), w('department'), w('roles'), w('scope'), w('active'), 'TOTP'].map((t) => h('th', {}, t)))),
      h(
        'tbody',
        {},
        list.map((u) =>
          h(
            'tr',
            { test: 'config-user', 'data-username': u.username, 'data-roles': u.roles.join(' '), onclick: () => edit(u) },
            h('td', {}, u.username),
            h('td', {}, u.display_name),
            h('td', {}, departments.find((d) => d.id === u.department)?.name ?? u.department ?? '—'),
            h('td', {}, u.roles.map(title).join('、')),
            h('td', { test: 'user-scope-text' }, u.scope ? `${u.scope.level} ${u.scope.code}` : '—'),
            h('td', {}, u.active ? w('enabled') : w('disabled')),
            h('td', {}, u.totp_enabled ? '✓' : ''),
          ),
        ),
      ),
    ),
    h('h3', {}, w('roles')),
    h(
      'table',
      { class: 'cases roles', test: 'config-roles' },
      h('thead', {}, h('tr', {}, [w('roles'), 'TOTP', w('permissions')].map((t) => h('th', {}, t)))),
      h(
        'tbody',
        {},
        roles.map((r) =>
          h(
            'tr',
            { test: 'config-role', 'data-role': r.role, 'data-totp': String(r.require_totp), onclick: () => editRole(r) },
            h('td', {}, `${r.title} (${r.role})`),
            h('td', {}, r.require_totp ? '✓' : ''),
            h('td', {}, r.permissions.join(' · ')),
          ),
        ),
      ),
    ),
  );
}

async function sources(ctx: Ctx, el: HTMLElement): Promise<void> {
  try {
    const { sources: list } = await ctx.api.get<{ sources: { id: string; name: string; kind: string; enabled: boolean; cases_today: number; last_delivery_at: string | null }[] }>('/api/sources');
    const error = h('p', { class: 'error', role: 'alert', test: 'config-error' });
    fill(
      el,
      error,
      h(
        'table',
        { class: 'cases', test: 'config-sources' },
        h('thead', {}, h('tr', {}, [w('source'), w('type'), w('active'), w('casesToday'), w('lastDelivery'), ''].map((t) => h('th', {}, t)))),
        h(
          'tbody',
          {},
          list.map((s) =>
            h(
              'tr',
              { test: 'config-source', 'data-id': s.id },
              h('td', {}, `${s.name} (${s.id})`),
              h('td', {}, s.kind),
              h('td', {}, s.enabled ? w('enabled') : w('disabled')),
              h('td', { class: 'num' }, String(s.cases_today)),
              h('td', {}, when(s.last_delivery_at)),
              h(
                'td',
                {},
                ctx.can('sources.manage')
                  ? h(
                      'button',
                      {
                        test: 'source-toggle',
                        onclick: async () => {
                          try {
                            await ctx.api.put(`/api/sources/${s.id}/enabled`, { enabled: !s.enabled });
                            void sources(ctx, el);
                          } catch (err) {
                            error.textContent = explain(err);
                          }
                        },
                      },
                      s.enabled ? w('disable') : w('enable'),
                    )
                  : null,
              ),
            ),
          ),
        ),
      ),
    );
  } catch (err) {
    fill(el, h('p', { class: 'error' }, explain(err)));
  }
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
