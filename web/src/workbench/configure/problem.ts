// A refusal shown next to its form: the server's `detail`, the field it names (also in
// `data-field`, for tests and styles) and every entry of `errors[]` when it lists several.

import { ApiError } from '../../shared/api';
import { explain } from '../words';
import { cw } from './words';

interface FieldError {
  field?: string;
  detail?: string;
  reason?: string;
  message?: string;
  index?: number;
}

export function showProblem(el: HTMLElement, err: unknown): void {
  delete el.dataset.field;
  if (!(err instanceof ApiError) || !err.problem) {
    el.textContent = `${cw('refused')}: ${explain(err)}`;
    return;
  }
  const p = err.problem as ApiError['problem'] & { errors?: FieldError[] };
  if (p.field) el.dataset.field = p.field;
  const lines = [`${cw('refused')}: ${err.detail}`];
  for (const e of p.errors ?? []) {
    const why = e.detail ?? e.reason ?? e.message ?? '';
    const where = [e.field, e.index !== undefined ? `#${e.index}` : ''].filter(Boolean).join(' ');
    if (why && !lines[0].includes(why)) lines.push(`· ${where ? `${where}: ` : ''}${why}`);
  }
  if (!el.dataset.field && p.errors?.[0]?.field) el.dataset.field = p.errors[0].field;
  el.textContent = lines.join('\n');
}

export function clear(...els: HTMLElement[]): void {
  for (const el of els) {
    el.textContent = '';
    delete el.dataset.field;
  }
}
