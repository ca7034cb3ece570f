// Intake sources (sources.view): each source with its state and today's deliveries; for
// holders of sources.manage its on/off switch and, for a gateway source (the 12345
// hotline, the grassroots platform), a new bearer token (`POST /api/sources/{id}/token`:
// answered once, the old one stops at once). Below, the Open311 keys of the citizens'
// applications (`GET /api/open311/keys`; issue and revoke with sources.manage), a key
// answered once too. Names are what operators typed: set as text.

import type { Ctx } from './app';
import { beijing } from './audit';
import { h, fill, when } from './dom';
import { secretPanel, showSecretOnce } from './secret';
import { explain, w, wf } from './words';

interface SourceRow {
  id: string;
  name: string;
  kind: string;
  enabled: boolean;
  gateway?: boolean;
  cases_today: number;
  last_delivery_at: string | null;
}

interface Open311Key {
  id: number;
  application: string;
  created_at: string;
  created_by: string;
  revoked_at: string | null;
}

export async function sourcesScreen(ctx: Ctx, el: HTMLElement): Promise<void> {
  const manage = ctx.can('sources.manage');
  const error = h('p', { class: 'error', role: 'alert', test: 'config-error' });
  const secret = secretPanel();
  const sourcesBox = h('div', { test: 'sources-box' });
  const keysBox = h('div', { test: 'open311-keys-box' });
  const keysError = h('p', { class: 'error', role: 'alert', test: 'open311-error' });

  const loadSources = async () => {
    sourcesBox.dataset.loaded = 'false';
    try {
      const { sources } = await ctx.api.get<{ sources: SourceRow[] }>('/api/sources');
      fill(sourcesBox, sourcesTable(sources));
    } catch (err) {
      fill(sourcesBox, h('p', { class: 'error' }, explain(err)));
    }
    sourcesBox.dataset.loaded = 'true';
  };

  const sourcesTable = (list: SourceRow[]) =>
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
            { test: 'config-source', 'data-id': s.id, 'data-gateway': String(!!s.gateway) },
            h('td', {}, `${s.name} (${s.id})`),
            h('td', {}, s.kind, s.gateway ? h('small', { class: 'muted' }, ` · ${w('gateway')}`) : null),
            h('td', {}, s.enabled ? w('enabled') : w('disabled')),
            h('td', { class: 'num' }, String(s.cases_today)),
            h('td', {}, when(s.last_delivery_at)),
            h(
              'td',
              { class: 'buttons' },
              manage
                ? h(
                    'button',
                    {
                      test: 'source-toggle',
                      onclick: async () => {
                        error.textContent = '';
                        try {
                          await ctx.api.put(`/api/sources/${encodeURIComponent(s.id)}/enabled`, { enabled: !s.enabled });
                          await loadSources();
                        } catch (err) {
                          error.textContent = explain(err);
                        }
                      },
                    },
                    s.enabled ? w('disable') : w('enable'),
                  )
                : null,
              manage && s.gateway ? tokenButton(s) : null,
            ),
          ),
        ),
      ),
    );

  const tokenButton = (s: SourceRow) => {
    const button = h(
      'button',
      {
        test: 'source-token',
        onclick: async () => {
          if (!confirm(wf('tokenConfirm', { name: s.name }))) return;
          error.textContent = '';
          button.disabled = true;
          try {
            const answer = await ctx.api.post<{ id: string; token: string }>(`/api/sources/${encodeURIComponent(s.id)}/token`, {});
            showSecretOnce(secret, wf('tokenIssued', { name: s.name }), answer.token, `source:${s.id}`);
            await loadSources();
          } catch (err) {
            error.textContent = explain(err);
          } finally {
            button.disabled = false;
          }
        },
      },
      w('issueToken'),
    );
    return button;
  };

  const loadKeys = async () => {
    keysBox.dataset.loaded = 'false';
    try {
      const { items } = await ctx.api.get<{ items: Open311Key[] }>('/api/open311/keys');
      fill(keysBox, items.length ? keysTable(items) : h('p', { class: 'muted', test: 'open311-empty' }, w('noKeys')));
    } catch (err) {
      fill(keysBox, h('p', { class: 'error' }, explain(err)));
    }
    keysBox.dataset.loaded = 'true';
  };

  const keysTable = (items: Open311Key[]) =>
    h(
      'table',
      { class: 'cases', test: 'open311-keys' },
      h('thead', {}, h('tr', {}, ['ID', w('application'), w('createdBy'), w('createdAt'), w('keyState'), ''].map((t) => h('th', {}, t)))),
      h(
        'tbody',
        {},
        items.map((k) =>
          h(
            'tr',
            { test: 'open311-key', 'data-id': k.id, 'data-revoked': String(k.revoked_at !== null) },
            h('td', { class: 'num' }, k.id),
            h('td', { test: 'open311-application' }, k.application),
            h('td', {}, k.created_by),
            h('td', { class: 'num' }, beijing(k.created_at)),
            h(
              'td',
              { test: 'open311-state' },
              k.revoked_at ? h('span', { class: 'result r-refused' }, `${w('revokedAt')} ${beijing(k.revoked_at)}`) : h('span', { class: 'result r-ok' }, w('inForce')),
            ),
            h('td', {}, manage && !k.revoked_at ? revokeButton(k) : null),
          ),
        ),
      ),
    );

  const revokeButton = (k: Open311Key) => {
    const button = h(
      'button',
      {
        test: 'open311-revoke',
        onclick: async () => {
          if (!confirm(wf('revokeConfirm', { name: k.application }))) return;
          keysError.textContent = '';
          button.disabled = true;
          try {
            await ctx.api.post(`/api/open311/keys/${k.id}/revoke`, {});
            await loadKeys();
          } catch (err) {
            keysError.textContent = explain(err);
            button.disabled = false;
          }
        },
      },
      w('revoke'),
    );
    return button;
  };

  const application = h('input', { test: 'open311-application-input', required: true, maxlength: 100, placeholder: '瓯海e家', autocomplete: 'off' });
  const issue = manage
    ? h(
        'form',
        {
          class: 'inline-form',
          test: 'open311-issue',
          onsubmit: async (e: Event) => {
            e.preventDefault();
            keysError.textContent = '';
            const name = application.value.trim();
            if (!name) return;
            try {
              const answer = await ctx.api.post<{ id: number; application: string; api_key: string }>('/api/open311/keys', { application: name });
              application.value = '';
              showSecretOnce(secret, wf('keyIssued', { name: answer.application }), answer.api_key, `open311:${answer.id}`);
              await loadKeys();
            } catch (err) {
              keysError.textContent = explain(err);
            }
          },
        },
        h('label', {}, w('application'), application),
        h('button', { type: 'submit', class: 'primary', test: 'open311-issue-submit' }, w('issueKey')),
      )
    : null;

  fill(
    el,
    error,
    secret,
    sourcesBox,
    h(
      'section',
      { class: 'open311-keys', test: 'open311-section' },
      h('h3', {}, w('open311Keys')),
      h('p', { class: 'muted' }, w('open311Hint')),
      issue,
      keysError,
      keysBox,
    ),
  );
  await Promise.all([loadSources(), loadKeys()]);
}
