// A secret the server answers once (a source's bearer token, an Open311 key): shown in a
// read-only field with a copy button and a plain warning that it will not be shown again.
// Closing the panel forgets it.

import { h, fill } from './dom';
import { w } from './words';

/** Shows `secret` under `title` in `panel` (emptied and hidden when closed). */
export function showSecretOnce(panel: HTMLElement, title: string, secret: string, what: string): void {
  const field = h('input', { readonly: true, test: 'secret-value', class: 'secret-value', value: secret, spellcheck: 'false', autocomplete: 'off', 'aria-label': title });
  field.value = secret;
  const copied = h('span', { class: 'notice', role: 'status', test: 'secret-copied' });
  const copy = h(
    'button',
    {
      type: 'button',
      test: 'secret-copy',
      onclick: async () => {
        field.focus();
        field.select();
        let ok = false;
        try {
          // Only in a secure context (https, localhost); a desk on a plain-http intranet
          // address falls back to the selection's copy.
          await navigator.clipboard.writeText(secret);
          ok = true;
        } catch {
          ok = document.execCommand?.('copy') ?? false;
        }
        copied.textContent = ok ? w('copied') : '';
      },
    },
    w('copy'),
  );
  const close = h(
    'button',
    {
      type: 'button',
      test: 'secret-close',
      onclick: () => {
        fill(panel);
        panel.hidden = true;
        delete panel.dataset.what;
      },
    },
    w('secretDone'),
  );
  panel.hidden = false;
  panel.dataset.what = what;
  fill(
    panel,
    h('h3', {}, title),
    h('p', { class: 'secret-warning', test: 'secret-warning' }, `⚠ ${w('secretWarning')}`),
    h('div', { class: 'secret-row' }, field, copy, copied),
    close,
  );
  field.focus();
  field.select();
}

/** An empty, hidden panel for `showSecretOnce`. */
export function secretPanel(): HTMLElement {
  return h('div', { class: 'secret-once', role: 'alert', test: 'secret-once', hidden: true });
}
