// The indicator catalogue as the workbench's centre and the wall read it
// (`/api/indicators/catalogue`): the entry, its stored values and its comparison over
// time; the tender's four systems, sixteen domains and six frequencies with their names;
// periods as the server places them (the 1st of the month for a monthly indicator, ...);
// and a value written with its unit ("no data" for none, never zero).

import { currentLanguage } from './language';

export type System = 'smart_governance' | 'healthy_economy' | 'livable_city' | 'safe_society';
export type Domain =
  | 'economy'
  | 'culture_sports'
  | 'health'
  | 'education'
  | 'transport'
  | 'environment'
  | 'livelihood'
  | 'construction'
  | 'disputes'
  | 'litigation'
  | 'petitions'
  | 'fire_safety'
  | 'food_drugs'
  | 'public_security'
  | 'finance'
  | 'wage_arrears';
export type Frequency = 'real_time' | 'daily' | 'monthly' | 'quarterly' | 'half_yearly' | 'yearly';

/** One indicator of the catalogue (the server's `Indicator` schema). */
export interface CatalogueEntry {
  id: string;
  name: { zh: string; en: string };
  definition: string;
  system: System;
  domain: Domain;
  unit: string;
  better: 'higher' | 'lower';
  owner: { department: string; person: string };
  leader: string;
  frequency: Frequency;
  target: number | null;
  regions: string[];
  public: boolean;
  keywords: string[];
  published: boolean;
  source?: string | null;
}

/** `IndicatorAnswer`: the entry with who changed it last. */
export interface IndicatorAnswer {
  indicator: CatalogueEntry;
  updated_by: string;
  updated_at: string;
}

/** A stored value (`StoredValue`). */
export interface StoredValue {
  region: string;
  period: string;
  value: number;
  source: 'computed' | 'pushed' | 'pulled' | 'manual' | string;
  source_name: string;
  recorded_at: string;
}

interface Change {
  period: string;
  value: number;
  change: number;
  percent: number | null;
}

/** `GET …/compare`: a period's value against its history; null is no data. */
export interface Comparison {
  period: string;
  value: number | null;
  previous: Change | null;
  last_year: Change | null;
  target: number | null;
  gap: number | null;
  met: boolean | null;
  trend: { period: string; value: number | null }[];
  peak: { period: string; value: number } | null;
  low: { period: string; value: number } | null;
  mean: number | null;
  periods: number;
}

type Named<T extends string> = Record<T, [zh: string, en: string]>;

const SYSTEM_NAMES: Named<System> = {
  smart_governance: ['党政更智治', 'Smarter governance'],
  healthy_economy: ['经济更健康', 'Healthier economy'],
  livable_city: ['城市更宜居', 'More livable city'],
  safe_society: ['社会更安全', 'Safer society'],
};

const DOMAIN_NAMES: Named<Domain> = {
  economy: ['经济运行', 'Economy'],
  culture_sports: ['文化体育', 'Culture and sports'],
  health: ['医疗健康', 'Health'],
  education: ['智慧教育', 'Education'],
  transport: ['交通畅行', 'Transport'],
  environment: ['生态环境', 'Environment'],
  livelihood: ['民生保障', 'Livelihood'],
  construction: ['城市建设', 'Construction'],
  disputes: ['矛盾纠纷', 'Disputes'],
  litigation: ['诉讼调解', 'Litigation and mediation'],
  petitions: ['信访维稳', 'Petitions'],
  fire_safety: ['消防安全', 'Fire safety'],
  food_drugs: ['食品药品', 'Food and drugs'],
  public_security: ['社会治安', 'Public security'],
  finance: ['经济金融', 'Finance'],
  wage_arrears: ['劳动欠薪', 'Wage arrears'],
};

const FREQUENCY_NAMES: Named<Frequency> = {
  real_time: ['实时', 'real-time'],
  daily: ['每日', 'daily'],
  monthly: ['每月', 'monthly'],
  quarterly: ['每季度', 'quarterly'],
  half_yearly: ['每半年', 'half-yearly'],
  yearly: ['每年', 'yearly'],
};

/** The four systems, the sixteen domains and the frequencies, in the tender's order. */
export const SYSTEMS = Object.keys(SYSTEM_NAMES) as System[];
export const DOMAINS = Object.keys(DOMAIN_NAMES) as Domain[];
export const FREQUENCIES = Object.keys(FREQUENCY_NAMES) as Frequency[];

function named<T extends string>(names: Named<T>, key: T): string {
  const pair = names[key];
  if (!pair) return key;
  return currentLanguage() === 'zh' ? pair[0] : pair[1];
}

export const systemName = (s: System): string => named(SYSTEM_NAMES, s);
export const domainName = (d: Domain): string => named(DOMAIN_NAMES, d);
export const frequencyName = (f: Frequency): string => named(FREQUENCY_NAMES, f);

/** An indicator's name in the page's language (the Chinese one where there is no English). */
export function indicatorName(e: Pick<CatalogueEntry, 'name'>): string {
  return currentLanguage() === 'en' && e.name.en ? e.name.en : e.name.zh;
}

/** The start of the period `day` (YYYY-MM-DD) lies in, as the server places it. */
export function periodStart(frequency: Frequency, day: string): string {
  const [y, m] = day.split('-').map(Number);
  const first = (month: number) => `${y}-${String(month).padStart(2, '0')}-01`;
  switch (frequency) {
    case 'real_time':
    case 'daily':
      return day;
    case 'monthly':
      return first(m);
    case 'quarterly':
      return first(Math.floor((m - 1) / 3) * 3 + 1);
    case 'half_yearly':
      return first(m <= 6 ? 1 : 7);
    case 'yearly':
      return first(1);
  }
}

/** How many recent periods the period list offers, by frequency. */
const RECENT: Partial<Record<Frequency, [months: number, count: number]>> = {
  monthly: [1, 36],
  quarterly: [3, 12],
  half_yearly: [6, 8],
  yearly: [12, 6],
};

/** The recent periods of `frequency`, newest first (starts, as the server wants them). */
export function recentPeriods(frequency: Frequency, today: string): string[] {
  const recent = RECENT[frequency];
  if (!recent) return [];
  const [step, count] = recent;
  const [y, m] = periodStart(frequency, today).split('-').map(Number);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const months = y * 12 + (m - 1) - i * step;
    out.push(`${Math.floor(months / 12)}-${String((months % 12) + 1).padStart(2, '0')}-01`);
  }
  return out;
}

/** A period as people name it: `2025-03` for a month, `2025 Q1`, `2025 H2`, `2025`, or the day. */
export function periodLabel(frequency: Frequency, period: string): string {
  const [y, m] = period.split('-').map(Number);
  const zh = currentLanguage() === 'zh';
  switch (frequency) {
    case 'monthly':
      return period.slice(0, 7);
    case 'quarterly':
      return zh ? `${y}年第${Math.floor((m - 1) / 3) + 1}季度` : `${y} Q${Math.floor((m - 1) / 3) + 1}`;
    case 'half_yearly':
      return zh ? `${y}年${m <= 6 ? '上' : '下'}半年` : `${y} H${m <= 6 ? 1 : 2}`;
    case 'yearly':
      return zh ? `${y}年` : String(y);
    default:
      return period;
  }
}

/** Today in the city (Asia/Shanghai), as YYYY-MM-DD. */
export function cityToday(now = new Date()): string {
  return now.toLocaleDateString('sv-SE', { timeZone: 'Asia/Shanghai' });
}

/** A number as shown: up to two decimals, grouped; "—" for no data (never zero). */
export function formatNumber(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return value.toLocaleString(currentLanguage() === 'zh' ? 'zh-CN' : 'en-GB', { maximumFractionDigits: 2 });
}
