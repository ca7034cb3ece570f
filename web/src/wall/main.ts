// The wall display's entry: read wall.config.json (basemap, language), log in if there is
// no session yet, then start the wall.

import './style.css';
import { Api } from '../shared/api';
import { setLanguage, type Language } from '../shared/language';
import { Wall, type WallConfig } from './wall';
import { t } from './words';

async function config(): Promise<WallConfig> {
  try {
    const response = await fetch('/wall.config.json');
    if (response.ok) return (await response.json()) as WallConfig;
  } catch {
    // No configuration: the defaults.
  }
  return { basemap: null };
}

function language(c: WallConfig): Language {
  const asked = new URLSearchParams(location.search).get('lang');
  return asked === 'en' || asked === 'zh' ? asked : (c.language ?? 'zh');
}

function login(root: HTMLElement, api: Api): Promise<void> {
  root.innerHTML = `
    <form class="login" id="login">
      <h1>${t('title')}</h1>
      <label>${t('username')}<input name="username" autocomplete="username" /></label>
      <label>${t('password')}<input name="password" type="password" autocomplete="current-password" /></label>
      <button type="submit">${t('login')}</button>
      <p class="error" id="login-error"></p>
    </form>`;
  return new Promise((resolve) => {
    const form = root.querySelector<HTMLFormElement>('#login');
    if (!form) return;
    form.onsubmit = async (e) => {
      e.preventDefault();
      const fields = new FormData(form);
      try {
        await api.login(String(fields.get('username') ?? ''), String(fields.get('password') ?? ''));
        resolve();
      } catch {
        const error = root.querySelector('#login-error');
        if (error) error.textContent = t('loginFailed');
      }
    };
  });
}

async function main(): Promise<void> {
  const root = document.getElementById('app');
  if (!root) return;
  const c = await config();
  c.language = language(c);
  setLanguage(c.language);
  const api = new Api();
  if (!api.signedIn) await login(root, api);
  await new Wall(root, api, c).start();
}

void main();
