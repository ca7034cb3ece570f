// The PC workbench's entry (workbench.html): language from `?lang=`, log in (with the
// second factor when the server asks for it), then the workbench.

import './workbench.css';
import { Api, ApiError, type LoginAnswer } from '../shared/api';
import { setLanguage } from '../shared/language';
import { h, fill } from './dom';
import { Workbench } from './app';
import { explain, w } from './words';

function login(root: HTMLElement, api: Api): Promise<LoginAnswer> {
  const error = h('p', { class: 'error', test: 'login-error', role: 'alert' });
  const username = h('input', { name: 'username', autocomplete: 'username', test: 'login-username', required: true });
  const password = h('input', {
    name: 'password',
    type: 'password',
    autocomplete: 'current-password',
    test: 'login-password',
    required: true,
  });
  const totp = h('input', {
    name: 'totp',
    inputmode: 'numeric',
    autocomplete: 'one-time-code',
    maxlength: 8,
    test: 'login-totp',
  });
  const totpRow = h('label', { hidden: true, test: 'login-totp-row' }, w('totp'), totp);
  const form = h(
    'form',
    { class: 'login', test: 'login' },
    h('h1', {}, w('title')),
    h('label', {}, w('username'), username),
    h('label', {}, w('password'), password),
    totpRow,
    h('button', { type: 'submit', class: 'primary', test: 'login-submit' }, w('login')),
    error,
  );
  fill(root, h('div', { class: 'login-page' }, form));
  username.focus();
  return new Promise((resolve) => {
    form.onsubmit = async (e) => {
      e.preventDefault();
      error.textContent = '';
      try {
        resolve(await api.login(username.value.trim(), password.value, totpRow.hidden ? undefined : totp.value.trim()));
      } catch (err) {
        if (err instanceof ApiError && err.problem?.field === 'totp') {
          // The account has a second factor: ask for the code and try again.
          const first = totpRow.hidden;
          totpRow.hidden = false;
          totp.focus();
          error.textContent = first ? w('totpNeeded') : `${w('loginFailed')}: ${err.detail}`;
          return;
        }
        error.textContent = `${w('loginFailed')}: ${explain(err)}`;
      }
    };
  });
}

async function main(): Promise<void> {
  const root = document.getElementById('app');
  if (!root) return;
  const asked = new URLSearchParams(location.search).get('lang');
  setLanguage(asked === 'en' ? 'en' : 'zh');
  document.title = w('title');
  const api = new Api({ key: 'cockpit.workbench.session' });
  for (;;) {
    const answer = api.signedIn ? null : await login(root, api);
    try {
      await new Workbench(root, api, answer).start();
      return;
    } catch (err) {
      // The saved session had ended: log in again.
      if (err instanceof ApiError && err.status === 401) continue;
      throw err;
    }
  }
}

void main();
