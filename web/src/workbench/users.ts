// Users and roles: the accounts with their departments, roles and region scopes; a new
// account (users.manage); roles granted (roles.manage, never to oneself); a role's
// permissions and second-factor requirement (roles.manage).

import type { Ctx } from './app';
import { h, fill } from './dom';
import { explain, w } from './words';

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
export async function users(ctx: Ctx, el: HTMLElement): Promise<void> {
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

