// The grid worker's mobile app (mobile.html): log in (the session is kept on the phone),
// then my tasks, a task, feedback, a new report and the outbox, as hash routes under one
// page. A service worker keeps the app's files so it opens without a connection; the
// outbox keeps what the worker does until the server has it.

import './mobile.css';
import { Api, ApiError } from '../shared/api';
import type { LiveStatus } from '../shared/live/client';
import { feedbackScreen, handledScreen, reportScreen, returnScreen, type Category } from './forms';
import { icons } from './icons';
import { Outbox } from './outbox';
import { outboxScreen } from './outboxscreen';
import { caseScreen, tasksScreen } from './screens';
import { Position, tickCountdowns, type App } from './shell';
import { Tasks, type Case, type Me } from './tasks';
import { currentLanguage, setLanguage, type Language } from '../shared/language';
import { w } from './words';
import { failureNotice } from '../shared/loginfailures';

const LANGUAGE = 'cockpit.mobile.lang';
const ME = 'cockpit.mobile.me';
const CATEGORIES = 'cockpit.mobile.categories';

function chooseLanguage(): void {
  const asked = new URLSearchParams(location.search).get('lang');
  if (asked === 'en' || asked === 'zh') localStorage.setItem(LANGUAGE, asked);
  setLanguage((localStorage.getItem(LANGUAGE) as Language | null) ?? 'zh');
}

function login(root: HTMLElement, api: Api): Promise<void> {
  root.innerHTML = `
    <form class="login sheet" data-test="login-form">
      <h1>${w('title')}</h1>
      <label>${w('username')}<input name="username" autocomplete="username" autocapitalize="none" data-test="login-username" /></label>
      <label>${w('password')}<input name="password" type="password" autocomplete="current-password" data-test="login-password" /></label>
      <button type="submit" class="button primary big" data-test="login-submit">${w('login')}</button>
      <p class="error" data-test="login-error" role="alert">${sessionStorage.getItem('cockpit.mobile.notice') ?? ''}</p>
    </form>`;
  sessionStorage.removeItem('cockpit.mobile.notice');
  return new Promise((resolve) => {
    const form = root.querySelector('form') as HTMLFormElement;
    form.onsubmit = async (e) => {
      e.preventDefault();
      const fields = new FormData(form);
      const error = root.querySelector('[data-test=login-error]') as HTMLElement;
      try {
        await api.login(String(fields.get('username') ?? '').trim(), String(fields.get('password') ?? ''));
        resolve();
      } catch (err) {
        error.textContent = err instanceof ApiError && err.status === 401 ? w('loginFailed') : w('loginUnreachable');
      }
    };
  });
}

/** Who I am: from the server, or as kept from the last time when offline. */
async function whoAmI(api: Api): Promise<Me | null> {
  try {
    const me = await api.get<Me>('/api/auth/me');
    // Kept for offline starts without the failed logins: those are told when fresh only.
    localStorage.setItem(ME, JSON.stringify({ ...me, login_failures: null }));
    return me;
  } catch (e) {
    if (e instanceof ApiError && e.status === 0) {
      const kept = localStorage.getItem(ME);
      return kept ? (JSON.parse(kept) as Me) : null;
    }
    return null;
  }
}

/** The leaf categories (the Open311 service list), kept for reports made offline. */
async function categories(): Promise<Category[]> {
  try {
    const r = await fetch('/open311/v2/services.json');
    if (r.ok) {
      const list = ((await r.json()) as { service_code: string; service_name: string; group?: string }[]).map((s) => ({
        code: s.service_code,
        name: s.group ? `${s.group} · ${s.service_name}` : s.service_name,
      }));
      localStorage.setItem(CATEGORIES, JSON.stringify(list));
      return list;
    }
  } catch {
    // Offline: the list kept.
  }
  return JSON.parse(localStorage.getItem(CATEGORIES) ?? '[]') as Category[];
}

function shell(root: HTMLElement): { main: HTMLElement; net: HTMLElement; badge: HTMLElement; banner: HTMLElement; toast: HTMLElement } {
  root.innerHTML = `
    <header class="bar">
      <b>${w('title')}</b>
      <span class="net" data-test="net-status"></span>
      <button type="button" class="logout" data-test="logout">${w('logout')}</button>
    </header>
    <p class="offline-banner" data-test="offline-banner" hidden>${w('offline')}</p>
    <button type="button" class="toast" data-test="new-task-toast" hidden></button>
    <main id="screen"></main>
    <nav class="tabs">
      <a href="#/tasks" data-test="nav-tasks" data-tab="tasks">${icons.tasks}<span>${w('tasks')}</span></a>
      <a href="#/report" data-test="nav-report" data-tab="report">${icons.report}<span>${w('report')}</span></a>
      <a href="#/queue" data-test="nav-queue" data-tab="queue">${icons.outbox}<span>${w('queue')}</span><i class="badge" data-test="outbox-badge" hidden></i></a>
    </nav>`;
  return {
    main: root.querySelector('#screen') as HTMLElement,
    net: root.querySelector('[data-test=net-status]') as HTMLElement,
    badge: root.querySelector('[data-test=outbox-badge]') as HTMLElement,
    banner: root.querySelector('[data-test=offline-banner]') as HTMLElement,
    toast: root.querySelector('[data-test=new-task-toast]') as HTMLElement,
  };
}

async function main(): Promise<void> {
  chooseLanguage();
  // What waits in the outbox must survive storage pressure: ask the browser to keep it.
  void navigator.storage?.persist?.().catch(() => false);
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/mobile-sw.js', { scope: '/mobile' }).catch(() => {});
  }
  const root = document.getElementById('app') as HTMLElement;
  const api = new Api({ storage: localStorage, key: 'cockpit.mobile.session' });
  let me: Me | null = null;
  while (!me) {
    if (!api.signedIn) await login(root, api);
    me = await whoAmI(api);
    if (!me) api.forget();
  }
  const parts = shell(root);
  // Failed logins of this account from elsewhere: a small notice under the bar, until dismissed.
  const notice = failureNotice(me.login_failures, { lang: currentLanguage(), storage: localStorage });
  if (notice) parts.banner.after(notice);
  const outbox = new Outbox(api, me.username);
  const tasks = new Tasks(api, me);
  const app: App = {
    api,
    tasks,
    outbox,
    position: new Position(),
    main: parts.main,
    go: (hash) => {
      location.hash = hash;
    },
  };
  outbox.onApplied = (entry) => {
    const c = entry.result as Case | undefined;
    if (c && typeof c.id === 'number') tasks.put(c);
    const id = entry.job.caseId;
    if (id !== undefined && location.hash.startsWith(`#/case/${id}`)) void tasks.fetch(id).catch(() => {});
  };
  // The session ended (logged out everywhere, password reset, deactivated): log in again.
  // What waits in the outbox stays there and goes once the same worker is back.
  const sessionEnded = () => {
    if (api.signedIn) return;
    tasks.stop();
    sessionStorage.setItem('cockpit.mobile.notice', w('sessionEnded'));
    location.reload();
  };
  outbox.onSessionEnded = sessionEnded;
  tasks.onSessionEnded = sessionEnded;

  tasks.onNewTask = (c) => {
    parts.toast.hidden = false;
    parts.toast.dataset.caseId = String(c.id);
    parts.toast.textContent = `${w('newTask')} #${c.id}：${c.title || c.description}`;
    navigator.vibrate?.([200, 100, 200]);
  };
  parts.toast.onclick = () => {
    parts.toast.hidden = true;
    app.go(`#/case/${parts.toast.dataset.caseId}`);
  };

  let live: LiveStatus = 'connecting';
  const net = () => {
    const online = navigator.onLine;
    parts.net.dataset.state = online ? live : 'offline';
    parts.net.textContent = online ? (live === 'live' ? w('live') : w(live)) : w('offlineShort');
    parts.banner.hidden = online;
    parts.net.className = `net ${parts.net.dataset.state}`;
  };
  window.addEventListener('online', net);
  window.addEventListener('offline', net);
  const badge = async () => {
    const entries = await outbox.all();
    const open = entries.filter((e) => e.state !== 'done');
    parts.badge.hidden = open.length === 0;
    parts.badge.textContent = String(open.length);
    parts.badge.dataset.waiting = String(entries.filter((e) => e.state === 'waiting').length);
    parts.badge.dataset.failed = String(entries.filter((e) => e.state === 'failed').length);
  };
  outbox.subscribe(() => void badge());
  (root.querySelector('[data-test=logout]') as HTMLButtonElement).onclick = async () => {
    tasks.forget();
    await api.send('/api/auth/logout', { method: 'POST' }).catch(() => {});
    api.forget();
    localStorage.removeItem(ME);
    location.reload();
  };
  void badge();
  net();

  const list = categories();
  let leave: () => void = () => {};
  const route = async () => {
    leave();
    leave = () => {};
    const hash = location.hash || '#/tasks';
    const m = /^#\/case\/(\d+)(?:\/(feedback|handled|return))?$/.exec(hash);
    const tab = m ? 'tasks' : hash.slice(2);
    for (const a of root.querySelectorAll<HTMLElement>('.tabs a')) a.classList.toggle('here', a.dataset.tab === tab);
    window.scrollTo(0, 0);
    if (m) {
      const id = Number(m[1]);
      if (parts.toast.dataset.caseId === m[1]) parts.toast.hidden = true;
      leave =
        m[2] === 'feedback'
          ? feedbackScreen(app, id)
          : m[2] === 'handled'
            ? handledScreen(app, id)
            : m[2] === 'return'
              ? returnScreen(app, id)
              : caseScreen(app, id);
    } else if (hash === '#/report') {
      const cats = await list;
      leave = reportScreen(app, cats);
    } else if (hash === '#/queue') {
      leave = outboxScreen(app);
    } else {
      leave = tasksScreen(app);
    }
  };
  window.addEventListener('hashchange', () => void route());
  await route();
  tasks.load().catch(() => {});
  tasks.startLive((s) => {
    live = s;
    net();
  });
  setInterval(() => tickCountdowns(tasks), 30_000);
  // The outbox sends what an earlier visit left, and retries now and then.
  void outbox.flush();
  setInterval(() => void outbox.flush(), 60_000);
  (window as unknown as { __mobile: unknown }).__mobile = { app, ready: true };
}

void main();
