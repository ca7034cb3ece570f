// The overview boards: today's figures (text, drawn at once), and the charts (ECharts, a
// chunk of its own loaded after the map's first full frame: on a wall that renders in
// software, canvases drawn at the same time would delay it): the on-time and satisfaction
// gauges, the streets by open cases, the cases by domain and by source, and the trend.

import type { Api } from '../shared/api';
import { currentLanguage } from '../shared/language';
import type { CaseStore } from './cases';
import * as data from './data';
import { $ } from './dom';
import { domainOf } from './feed';
import type { Charts } from './overview';
import type { Stats } from './types';
import { t } from './words';

export type TrendSpan = 'day' | 'week' | 'month';

/** The day of `d` in the city (Asia/Shanghai), as YYYY-MM-DD. */
function localDay(d: Date): string {
  return d.toLocaleDateString('sv-SE', { timeZone: 'Asia/Shanghai' });
}

/** The trend's buckets for `span`, oldest first: 14 days, 8 weeks or 6 months to now. */
function buckets(span: TrendSpan, now: Date): { label: string; from: Date; to: Date }[] {
  const out: { label: string; from: Date; to: Date }[] = [];
  const midnight = new Date(`${localDay(now)}T00:00:00+08:00`);
  if (span === 'day') {
    for (let i = 13; i >= 0; i--) {
      const from = new Date(midnight.getTime() - i * 86400000);
      out.push({ label: localDay(from).slice(5), from, to: new Date(from.getTime() + 86400000) });
    }
  } else if (span === 'week') {
    const weekday = (new Date(midnight.getTime() + 8 * 3600000).getUTCDay() + 6) % 7;
    const monday = new Date(midnight.getTime() - weekday * 86400000);
    for (let i = 7; i >= 0; i--) {
      const from = new Date(monday.getTime() - i * 7 * 86400000);
      out.push({ label: localDay(from).slice(5), from, to: new Date(from.getTime() + 7 * 86400000) });
    }
  } else {
    const [y, m] = localDay(now).split('-').map(Number);
    for (let i = 5; i >= 0; i--) {
      const month = new Date(Date.UTC(y, m - 1 - i, 1));
      const next = new Date(Date.UTC(y, m - i, 1));
      const label = `${month.getUTCFullYear()}-${String(month.getUTCMonth() + 1).padStart(2, '0')}`;
      out.push({
        label: label.slice(2),
        from: new Date(`${label}-01T00:00:00+08:00`),
        to: new Date(`${next.getUTCFullYear()}-${String(next.getUTCMonth() + 1).padStart(2, '0')}-01T00:00:00+08:00`),
      });
    }
  }
  return out;
}

export class Boards {
  /** Null until the charts' chunk has loaded (`draw`): until then only text is drawn. */
  private charts: Charts | null = null;
  private span: TrendSpan = 'day';

  constructor(
    private readonly api: Api,
    private readonly store: CaseStore,
    private readonly scale: number,
    /** The streets' figures the wall last loaded. */
    private readonly streetStats: () => Stats | null,
  ) {}

  /** Hooks up the trend's span buttons of a freshly laid-out page. */
  wire(root: HTMLElement): void {
    for (const b of root.querySelectorAll<HTMLButtonElement>('button[data-span]')) {
      b.classList.toggle('on', b.dataset.span === this.span);
      b.onclick = () => {
        this.span = b.dataset.span as TrendSpan;
        for (const o of root.querySelectorAll('button[data-span]')) o.classList.toggle('on', o === b);
        void this.refreshTrend();
      };
    }
  }

  /** Loads the charts' chunk and draws every board. */
  async draw(): Promise<void> {
    const { Charts } = await data.retry(() => import('./overview'));
    this.charts = new Charts(this.scale);
    this.render();
    await this.refreshTrend();
  }

  /** Redraws the boards of the figures the wall holds (not the trend, which asks anew). */
  render(): void {
    this.renderToday();
    this.renderRanking();
    this.renderBreakdowns();
  }

  renderToday(): void {
    const s = this.streetStats()?.totals;
    if (!s) return;
    const b = s.by_status;
    $('today-new').textContent = String(s.today.created);
    $('today-progress').textContent = String((b.dispatched ?? 0) + (b.accepted ?? 0) + (b.in_progress ?? 0));
    $('today-closed').textContent = String(s.today.closed);
    $('today-overdue').textContent = String(s.overdue_open);
    const today = localDay(new Date());
    let complaints = 0;
    for (const c of this.store.byId.values())
      if (c.source === 'hotline-12345' && localDay(new Date(c.created_at)) === today) complaints++;
    $('today-complaints').textContent = String(complaints);
    if (!this.charts) return;
    this.charts.gauge($('chart-ontime'), t('onTime'), s.on_time_closure.percent, '#36cfc9');
    this.charts.gauge($('chart-satisfaction'), t('satisfaction'), s.satisfaction.percent, '#ffd666');
  }

  renderRanking(): void {
    if (!this.charts) return;
    const regions = [...(this.streetStats()?.regions ?? [])].sort((a, b) => b.open - a.open);
    this.charts.bars(
      $('chart-ranking'),
      regions.map((r) => r.name),
      regions.map((r) => r.open),
      '#40a9ff',
    );
  }

  renderBreakdowns(): void {
    if (!this.charts) return;
    const byDomain = new Map<string, number>();
    const bySource = new Map<string, number>();
    for (const c of this.store.byId.values()) {
      const d = domainOf(c).name;
      byDomain.set(d, (byDomain.get(d) ?? 0) + 1);
      const s = c.source_name ?? c.source;
      bySource.set(s, (bySource.get(s) ?? 0) + 1);
    }
    this.charts.pie(
      $('chart-category'),
      [...byDomain].sort((a, b) => b[1] - a[1]).map(([name, value]) => ({ name, value })),
    );
    const sources = [...bySource].sort((a, b) => b[1] - a[1]);
    this.charts.bars(
      $('chart-source'),
      sources.map(([n]) => n),
      sources.map(([, v]) => v),
      '#36cfc9',
    );
  }

  /** The trend of created and closed cases over the chosen span, one query per bucket. */
  async refreshTrend(): Promise<void> {
    if (!this.charts) return;
    const span = this.span;
    const spans = buckets(span, new Date());
    try {
      const all = await Promise.all(
        spans.map((b) =>
          data.stats(this.api, `level=street&from=${encodeURIComponent(b.from.toISOString())}&to=${encodeURIComponent(b.to.toISOString())}`),
        ),
      );
      if (span !== this.span) return;
      const zh = currentLanguage() === 'zh';
      this.charts.trend(
        $('chart-trend'),
        spans.map((b) => b.label),
        all.map((s) => s.totals.total),
        all.map((s) => s.totals.closed),
        zh ? ['新增', '已办结'] : ['created', 'closed'],
      );
    } catch (e) {
      console.warn('trend', e);
    }
  }
}
