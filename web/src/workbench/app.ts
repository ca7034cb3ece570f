// The workbench shell: who is logged in, the reference data every screen uses (categories,
// sources, streets), one live-stream connection, the navigation and a hash router:
// #/cases, #/cases/<id>, #/new, #/leader, #/config, #/audit, #/indicators (the indicator
// centre), #/indicator-alarms, #/indicator-pulls, #/assessment (results, compare, models,
// vital signs).

import type { Api, LoginAnswer } from '../shared/api';
import { LiveClient, type LiveStatus } from '../shared/live/client';
import { h, fill } from './dom';
import type { Me } from './types';
import { explain, w } from './words';
import { Refs } from './refs';
import { caseList } from './list';
import { caseDetail } from './detail';
import { createCase } from './create';
import { leaderView } from './leader';
import { configScreens } from './config';
import { auditScreen } from './audit';
import { indicatorAlarmsScreen } from './indicatoralarms';
import { indicatorCentre } from './indicators/centre';
import { indicatorPullsScreen } from './indicatorpulls';
import { assessmentScreens } from './assessment/screen';
import { failureNotice } from '../shared/loginfailures';
import { currentLanguage } from '../shared/language';

/** What a screen gets: the session, the caller, reference data, the live stream. */
export interface Ctx {
  api: Api;
  me: Me;
  refs: Refs;
  live: LiveClient;
  go: (hash: string) => void;
  can: (permission: string) => boolean;
  /** Live status changes, for screens that show them. */
  onLive: (f: (s: LiveStatus) => void) => () => void;
}

/** A mounted screen: called to unmount it. */
export type Unmount = () => void;

export class Workbench {
  private main = h('main', { class: 'wb-main', test: 'main' });
  private unmount: Unmount | null = null;
  private liveListeners = new Set<(s: LiveStatus) => void>();
  private ctx!: Ctx;
  private casesAllowed = false;
  /** Where a bare address leads: the auditor to the audit trail, those who see cases to
   *  the list, the administrators to the configuration. */
  private landing = '#/config';

  /** `login`: what the login just said (null after a reload: then `me.restricted` tells). */
  constructor(
    private readonly root: HTMLElement,
    private readonly api: Api,
    private readonly login: LoginAnswer | null = null,
  ) {}

  async start(): Promise<void> {
    const me = await this.api.get<Me>('/api/auth/me');
    if (me.restricted) {
      // A first login or a reset password: nothing else until the password is changed.
      fill(this.root, restrictedScreen(this.api, this.login));
      return;
    }
    const refs = await Refs.load(this.api, me);
    const live = new LiveClient({
      token: () => this.api.freshToken(),
      renewSession: async () => {
        await this.api.refresh();
      },
      onStatus: (s) => {
        document.body.dataset.live = s;
        for (const f of this.liveListeners) f(s);
      },
    });
    const can = (p: string) => me.permissions.includes(p);
    this.casesAllowed = can('cases.view') || can('cases.view_assigned');
    const auditor = can('audit.read') && (me.roles.some((r) => r.role === 'auditor') || !this.casesAllowed);
    this.landing = auditor ? '#/audit' : this.casesAllowed ? '#/cases' : '#/config';
    this.ctx = {
      api: this.api,
      me,
      refs,
      live,
      can,
      go: (hash) => {
        if (location.hash === hash) this.route();
        else location.hash = hash;
      },
      onLive: (f) => {
        this.liveListeners.add(f);
        f(live.state);
        return () => this.liveListeners.delete(f);
      },
    };
    const nav = (hash: string, label: string, test: string) => h('a', { href: hash, test }, label);
    const leader = me.roles.some((r) => r.role === 'leader' || r.role === 'commander');
    const header = h(
      'header',
      { class: 'wb-header' },
      h('h1', {}, w('title')),
      h(
        'nav',
        { test: 'nav' },
        this.casesAllowed ? nav('#/cases', w('navCases'), 'nav-cases') : null,
        can('cases.create') ? nav('#/new', w('navNew'), 'nav-new') : null,
        leader ? nav('#/leader', w('navLeader'), 'nav-leader') : null,
        can('users.view') || can('sources.view') || can('devices.view') || can('rules.configure')
          ? nav('#/config', w('navConfig'), 'nav-config')
          : null,
        can('audit.read') ? nav('#/audit', w('navAudit'), 'nav-audit') : null,
        ['wall.view', 'statistics.view', 'indicators.manage', 'indicators.enter'].some(can)
          ? nav('#/indicators', w('navIndicators'), 'nav-indicators')
          : null,
        ['wall.view', 'statistics.view', 'indicators.manage', 'indicators.enter'].some(can)
          ? nav('#/indicator-alarms', w('navIndicatorAlarms'), 'nav-indicator-alarms')
          : null,
        can('indicators.manage') ? nav('#/indicator-pulls', w('navIndicatorPulls'), 'nav-indicator-pulls') : null,
        ['wall.view', 'statistics.view', 'indicators.manage', 'indicators.enter'].some(can) ? nav('#/assessment', w('navAssessment'), 'nav-assessment') : null,
      ),
      h(
        'div',
        { class: 'who' },
        h('span', { test: 'whoami' }, `${me.display_name} · ${me.roles.map((r) => r.title).join('、')}`),
        h(
          'button',
          {
            class: 'link',
            test: 'logout',
            onclick: async () => {
              try {
                await this.api.post('/api/auth/logout', {});
              } catch {
                // The session is gone either way.
              }
              this.api.forget();
              location.hash = '';
              location.reload();
            },
          },
          w('logout'),
        ),
      ),
    );
    // Failed logins of the caller's account from elsewhere: told once, until dismissed.
    const shell = h('div', { class: 'wb' }, header, this.main);
    const notice = failureNotice(me.login_failures, {
      lang: currentLanguage(),
      storage: sessionStorage,
      onDismiss: () => shell.classList.remove('with-notice'),
    });
    if (notice) {
      shell.classList.add('with-notice');
      header.after(notice);
    }
    fill(this.root, shell);
    document.body.classList.add('workbench');
    // The live stream is for those who see cases; the administrators have no channel.
    if (this.casesAllowed) live.start();
    else document.body.dataset.live = 'off';
    window.addEventListener('hashchange', () => this.route());
    this.route();
    (window as unknown as { __wb: unknown }).__wb = { ctx: this.ctx };
  }

  private route(): void {
    this.unmount?.();
    this.unmount = null;
    // Each screen draws into a pane of its own: one left before its answer came (the case
    // list, say) fills a pane no longer shown, never the screen opened after it.
    const pane = h('div', { class: 'wb-screen' });
    this.main.replaceChildren(pane);
    const hash = location.hash || this.landing;
    for (const a of this.root.querySelectorAll('nav a')) {
      a.classList.toggle('active', hash.startsWith(a.getAttribute('href') ?? '?'));
    }
    const detail = /^#\/cases\/(\d+)$/.exec(hash);
    if (detail) this.unmount = caseDetail(this.ctx, pane, Number(detail[1]));
    else if (hash === '#/new') this.unmount = createCase(this.ctx, pane);
    else if (hash === '#/leader') this.unmount = leaderView(this.ctx, pane);
    else if (hash.startsWith('#/config')) this.unmount = configScreens(this.ctx, pane);
    else if (hash === '#/audit') this.unmount = auditScreen(this.ctx, pane);
    else if (hash === '#/indicators' || hash.startsWith('#/indicators/')) this.unmount = indicatorCentre(this.ctx, pane, hash);
    else if (hash === '#/indicator-alarms') this.unmount = indicatorAlarmsScreen(this.ctx, pane);
    else if (hash === '#/indicator-pulls') this.unmount = indicatorPullsScreen(this.ctx, pane);
    else if (hash === '#/assessment' || hash.startsWith('#/assessment/')) this.unmount = assessmentScreens(this.ctx, pane, hash);
    else this.unmount = caseList(this.ctx, pane, {});
    document.body.dataset.screen = hash.replace(/^#\//, '').replace(/\/\d+$/, '');
  }
}

/** A restricted session must first change its password (first login, reset) or enrol the
 *  second factor its role requires; then log in again. Without the login's answer (after a
 *  reload) both are offered. */
function restrictedScreen(api: Api, login: LoginAnswer | null): HTMLElement {
  const password = !login || login.must_change_password;
  const totp = !login || login.enrolment_only;
  const done = (form: HTMLElement, message: string) => {
    api.forget();
    fill(
      form,
      h('p', { test: 'restricted-done' }, message),
      h('button', { class: 'primary', test: 'login-again', onclick: () => location.reload() }, w('login')),
    );
  };
  const box = h('div', { class: 'login restricted', test: 'restricted' }, h('h1', {}, w('title')), h('p', { class: 'muted' }, w('restricted')));
  if (password) box.append(passwordForm(api, (form) => done(form, w('passwordChanged'))));
  if (totp) box.append(totpForm(api, (form) => done(form, w('totpEnabled'))));
  return h('div', { class: 'login-page' }, box);
}

function passwordForm(api: Api, done: (form: HTMLElement) => void): HTMLElement {
  const current = h('input', { type: 'password', test: 'password-current', autocomplete: 'current-password', required: true });
  const next = h('input', { type: 'password', test: 'password-new', autocomplete: 'new-password', required: true });
  const error = h('p', { class: 'error', role: 'alert', test: 'password-error' });
  const form = h(
    'form',
    {
      class: 'restricted-part',
      test: 'password-change',
      onsubmit: async (e: Event) => {
        e.preventDefault();
        error.textContent = '';
        try {
          await api.post('/api/auth/password', { current: current.value, new: next.value });
          done(form);
        } catch (err) {
          error.textContent = explain(err);
        }
      },
    },
    h('h2', {}, w('changePassword')),
    h('label', {}, w('currentPassword'), current),
    h('label', {}, w('newPassword'), next),
    h('button', { type: 'submit', class: 'primary', test: 'password-submit' }, w('changePassword')),
    error,
  );
  return form;
}

/** Enrolment: the secret (and its otpauth URI) for the authenticator app, then a code from
 *  it to confirm. */
function totpForm(api: Api, done: (form: HTMLElement) => void): HTMLElement {
  const secret = h('code', { test: 'totp-secret' });
  const uri = h('code', { test: 'totp-uri', class: 'uri' });
  const code = h('input', { test: 'totp-code', inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: 6 });
  const error = h('p', { class: 'error', role: 'alert', test: 'totp-error' });
  const confirm = h('div', { class: 'totp-confirm', hidden: true }, h('label', {}, w('totpSecret'), secret), h('label', {}, 'otpauth', uri), h('label', {}, w('totp'), code));
  const start = h(
    'button',
    {
      type: 'button',
      test: 'totp-enrol',
      onclick: async () => {
        error.textContent = '';
        try {
          const answer = await api.post<{ secret: string; otpauth_uri: string }>('/api/auth/totp/enrol', {});
          secret.textContent = answer.secret;
          uri.textContent = answer.otpauth_uri;
          confirm.hidden = false;
          submit.hidden = false;
          start.hidden = true;
          code.focus();
        } catch (err) {
          error.textContent = explain(err);
        }
      },
    },
    w('totpEnrol'),
  );
  const submit = h('button', { type: 'submit', class: 'primary', test: 'totp-confirm', hidden: true }, w('totpConfirm'));
  const form = h(
    'form',
    {
      class: 'restricted-part',
      test: 'totp-enrolment',
      onsubmit: async (e: Event) => {
        e.preventDefault();
        error.textContent = '';
        try {
          await api.post('/api/auth/totp/confirm', { code: code.value.trim() });
          done(form);
        } catch (err) {
          error.textContent = explain(err);
        }
      },
    },
    h('h2', {}, w('totpTitle')),
    start,
    confirm,
    submit,
    error,
  );
  return form;
}
