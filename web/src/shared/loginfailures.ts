// The owner's notice of failed logins of their own account, shared by the workbench and
// the mobile app: `GET /api/auth/me` carries `login_failures` (the failures of the last
// lock period, `window_minutes`, from every address) and the screen tells the owner in plain
// words, with the addresses and which of them are locked. Dismissed, it stays away for
// the same failures; a new failure shows it again. Addresses are what the server saw:
// set as text, never parsed as HTML.

/** `me.login_failures` and each item of `GET /api/auth/login-failures`. */
export interface LoginFailures {
  username: string;
  failures: number;
  addresses: string[];
  locked_addresses: string[];
  last_at: string;
  /** The period counted, in minutes (the configured lock period; 15 by default). */
  window_minutes?: number;
}

export type Lang = 'zh' | 'en';

const BEIJING = 8 * 3600_000;

/** HH:MM in Beijing time (UTC+8 all year). */
export function beijingClock(iso: string): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const d = new Date(t + BEIJING);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}`;
}

/** The notice's sentence. */
export function failureSummary(f: LoginFailures, lang: Lang): string {
  const n = f.failures;
  const m = f.addresses.length;
  const at = beijingClock(f.last_at);
  const w = f.window_minutes ?? 15;
  if (lang === 'zh') {
    return `您的账号在最近${w}分钟内有 ${n} 次登录失败（来自 ${m} 个地址，最近一次 ${at}）。如非本人操作，请修改密码并联系安全管理员。`;
  }
  return (
    `Your account had ${n} failed login${n === 1 ? '' : 's'} in the last ${w} minutes ` +
    `(from ${m} address${m === 1 ? '' : 'es'}, the last at ${at} Beijing time). ` +
    'If this was not you, change your password and tell the security administrator.'
  );
}

/** The addresses, each with whether it is locked now. */
export function failureAddresses(f: LoginFailures): { address: string; locked: boolean }[] {
  return f.addresses.map((address) => ({ address, locked: f.locked_addresses.includes(address) }));
}

const SEEN = 'cockpit.login-failures.seen';

/** What a dismissal remembers: the same failures stay dismissed, a new one shows again. */
export function failureKey(f: LoginFailures): string {
  return `${f.username}|${f.failures}|${f.last_at}`;
}

/** The notice for `f`, or null when there is none or it was dismissed. `storage` keeps
 *  the dismissal (the workbench: the tab; the phone: across restarts). */
export function failureNotice(
  f: LoginFailures | null | undefined,
  { lang, storage, onDismiss }: { lang: Lang; storage: Storage; onDismiss?: () => void },
): HTMLElement | null {
  if (!f || f.failures <= 0) return null;
  const key = failureKey(f);
  if (storage.getItem(SEEN) === key) return null;
  const el = (tag: string, attrs: Record<string, string>, ...children: (Node | string)[]) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    e.append(...children);
    return e;
  };
  const zh = lang === 'zh';
  const addresses: (Node | string)[] = [];
  for (const [i, a] of failureAddresses(f).entries()) {
    if (i > 0) addresses.push(zh ? '、' : ', ');
    addresses.push(
      el(
        'span',
        { class: a.locked ? 'address locked' : 'address', 'data-test': 'login-failure-address', 'data-locked': String(a.locked) },
        a.address,
        ...(a.locked ? [el('b', {}, zh ? '（已锁定）' : ' (locked)')] : []),
      ),
    );
  }
  const box = el(
    'div',
    { class: 'login-failures', role: 'alert', 'data-test': 'login-failures', 'data-failures': String(f.failures) },
    el('p', { 'data-test': 'login-failures-text' }, failureSummary(f, lang)),
    el('p', { class: 'addresses' }, zh ? '地址：' : 'Addresses: ', ...addresses),
  );
  const dismiss = el('button', { type: 'button', class: 'dismiss', 'data-test': 'login-failures-dismiss', title: zh ? '关闭' : 'Dismiss' }, zh ? '知道了' : 'Dismiss');
  dismiss.addEventListener('click', () => {
    storage.setItem(SEEN, key);
    box.remove();
    onDismiss?.();
  });
  box.append(dismiss);
  return box;
}
