// The month the assessment screens show (YYYY-MM, last month in the city at first, the
// month last chosen on any of them after) and how their numbers are written.

import { h } from '../dom';

let chosen: string | null = null;

/** The month before the current one in the city (Asia/Shanghai), as YYYY-MM. */
export function lastMonth(now = new Date()): string {
  const [y, m] = now.toLocaleDateString('sv-SE', { timeZone: 'Asia/Shanghai' }).split('-').map(Number);
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, '0')}`;
}

/** A month picker, at the month last chosen (last month at first); `changed` on a change. */
export function monthPicker(changed: (month: string) => void): HTMLInputElement {
  const input = h('input', { type: 'month', test: 'assessment-month', value: chosen ?? lastMonth(), max: lastMonth(new Date(Date.now() + 40 * 86_400_000)) });
  input.addEventListener('change', () => {
    if (!/^\d{4}-\d{2}$/.test(input.value)) return;
    chosen = input.value;
    changed(input.value);
  });
  return input;
}

/** A number to two decimals at most; "—" for no data (never zero). */
export function num(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return String(Math.round(value * 100) / 100);
}
