// The case feed at the wall's side: the newest cases that pass its two filters (source,
// domain), redrawn at most twice a second however fast cases change, scrolling by itself
// one row every few seconds unless a pointer rests on it.

import { statusName, urgencyName } from '../shared/casewords';
import type { CaseStore } from './cases';
import { $, esc } from './dom';
import type { Case } from './types';
import { t } from './words';

/** How many cases the feed lists. */
const LENGTH = 80;

/** A case's domain: the first level of its category (code and name). */
export function domainOf(c: Case): { code: string; name: string } {
  const code = c.category.code.slice(0, 2);
  const name = (c.category.name ?? code).split(/\s*[/／>]\s*/)[0];
  return { code, name };
}

function hhmm(iso: string): string {
  return new Date(iso).toLocaleTimeString('zh-CN', { timeZone: 'Asia/Shanghai', hour: '2-digit', minute: '2-digit', hour12: false });
}

export class Feed {
  private readonly filter = { source: '', domain: '' };
  private timer: ReturnType<typeof setTimeout> | null = null;
  private last = 0;
  private pending: Case[] = [];
  private hover = false;
  private scrolling = false;

  constructor(
    private readonly store: CaseStore,
    private readonly openCase: (id: number) => void,
  ) {}

  /** Hooks up the filters and the scrolling of a freshly laid-out page. */
  wire(): void {
    const source = $('filter-source') as HTMLSelectElement;
    const domain = $('filter-domain') as HTMLSelectElement;
    source.onchange = () => {
      this.filter.source = source.value;
      this.render();
    };
    domain.onchange = () => {
      this.filter.domain = domain.value;
      this.render();
    };
    const list = $('feed');
    this.hover = false;
    list.onmouseenter = () => (this.hover = true);
    list.onmouseleave = () => (this.hover = false);
    if (this.scrolling) return;
    this.scrolling = true;
    setInterval(() => {
      const el = document.getElementById('feed');
      if (!el || this.hover) return;
      const row = el.querySelector('li')?.getBoundingClientRect().height ?? 40;
      if (el.scrollTop + el.clientHeight >= el.scrollHeight - 2) el.scrollTo({ top: 0 });
      else el.scrollBy({ top: row, behavior: 'smooth' });
    }, 3500);
  }

  /** Cases changed: the feed is redrawn with them marked, at most twice a second (the
   *  first change after a quiet spell is shown at once). */
  changed(changed: Case[]): void {
    this.pending.push(...changed);
    if (this.timer) return;
    const wait = Math.max(0, this.last + 500 - performance.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      this.last = performance.now();
      const pending = this.pending;
      this.pending = [];
      this.render(pending);
    }, wait);
  }

  render(changed: Case[] = []): void {
    const list = document.getElementById('feed');
    if (!list) return;
    const cases = this.newest(LENGTH);
    const fresh = new Set(changed.map((c) => c.id));
    list.innerHTML = cases
      .map(
        (c) => `<li data-case="${c.id}" data-test="feed-item" data-source="${esc(c.source)}" data-domain="${esc(domainOf(c).code)}" class="${fresh.has(c.id) ? 'fresh' : ''} ${c.overdue ? 'overdue' : ''}">
          <span class="time">${hhmm(c.created_at)}</span>
          <span class="urg ${esc(c.urgency)}">${esc(urgencyName(c.urgency))}</span>
          <span class="what">${esc(c.title ?? (c.category.name ?? c.category.code))}<small>${esc([c.street?.name, c.source_name ?? c.source].filter(Boolean).join(' · '))}</small></span>
          <span class="st st-${esc(c.status)}">${esc(statusName(c.status))}</span>
        </li>`,
      )
      .join('');
    for (const li of list.querySelectorAll<HTMLLIElement>('li[data-case]')) li.onclick = () => this.openCase(Number(li.dataset.case));
    if (changed.length) list.scrollTop = 0;
  }

  /** The filters' choices: the sources and domains of the cases the wall knows. */
  fillFilters(): void {
    const sources = new Map<string, string>();
    const domains = new Map<string, string>();
    for (const c of this.store.byId.values()) {
      sources.set(c.source, c.source_name ?? c.source);
      const d = domainOf(c);
      domains.set(d.code, d.name);
    }
    const fill = (id: string, all: string, entries: Map<string, string>, value: string) => {
      const el = $(id) as HTMLSelectElement;
      el.innerHTML =
        `<option value="">${all}</option>` +
        [...entries].sort().map(([k, v]) => `<option value="${esc(k)}">${esc(v)}</option>`).join('');
      el.value = value;
    };
    fill('filter-source', t('allSources'), sources, this.filter.source);
    fill('filter-domain', t('allDomains'), domains, this.filter.domain);
  }

  /** The newest `limit` cases that pass the filters: one pass, whatever the number of cases. */
  private newest(limit: number): Case[] {
    const { source, domain } = this.filter;
    const top: Case[] = [];
    for (const c of this.store.byId.values()) {
      if (top.length === limit && c.id <= top[limit - 1].id) continue;
      if ((source && c.source !== source) || (domain && domainOf(c).code !== domain)) continue;
      let i = top.length;
      while (i > 0 && top[i - 1].id < c.id) i--;
      top.splice(i, 0, c);
      if (top.length > limit) top.pop();
    }
    return top;
  }
}
