// The case filters: their state, the query string the list and the exports send
// (`GET /api/cases`, `/api/cases/export.csv|xlsx` take the same parameters), and the same
// test applied in the browser to a case that arrives over the live stream.

import { cityInput } from '../shared/citytime';
import { STATUS_CODES } from '../shared/casewords';
import type { Case } from './types';

export interface Filters {
  region?: { code: string; name: string };
  status?: string;
  category?: string;
  tag?: string;
  source?: string;
  urgency?: string;
  q?: string;
  /** datetime-local values (the viewer's clock). */
  from?: string;
  to?: string;
  overdue?: boolean;
  /** Fixed filters of the leader view. */
  leader?: 'me';
  assigned?: 'me';
}

/** The statuses the filter offers, in the case words' order. */
export const STATUSES = STATUS_CODES;

/** Open: not yet closed (the status filter's first preset). */
export const OPEN = 'submitted,new,dispatched,accepted,in_progress,handled';

export function query(f: Filters): URLSearchParams {
  const p = new URLSearchParams();
  if (f.region) p.set('region', f.region.code);
  if (f.status) p.set('status', f.status);
  if (f.category) p.set('category', f.category);
  if (f.tag) p.set('tag', f.tag);
  if (f.source) p.set('source', f.source);
  if (f.urgency) p.set('urgency', f.urgency);
  if (f.q) p.set('q', f.q);
  const from = f.from ? cityInput(f.from) : null;
  const to = f.to ? cityInput(f.to) : null;
  if (from) p.set('from', from);
  if (to) p.set('to', to);
  if (f.overdue) p.set('overdue', 'true');
  if (f.leader) p.set('leader', f.leader);
  if (f.assigned) p.set('assigned', f.assigned);
  return p;
}

/** Whether a case (from the live stream) belongs in a list with these filters. */
export function matches(c: Case, f: Filters, username: string): boolean {
  if (f.region) {
    const codes = [c.street?.code, c.village?.code, c.grid?.code];
    if (!codes.some((code) => code && code.startsWith(f.region!.code))) return false;
  }
  if (f.status && !f.status.split(',').includes(c.status)) return false;
  if (f.category && !c.category.code.startsWith(f.category)) return false;
  if (f.tag && !c.tags.includes(f.tag)) return false;
  if (f.source && c.source !== f.source) return false;
  if (f.urgency && c.urgency !== f.urgency) return false;
  if (f.q && !`${c.title}\n${c.description}`.includes(f.q)) return false;
  const created = new Date(c.created_at).getTime();
  if (f.from && created < new Date(f.from).getTime()) return false;
  if (f.to && created >= new Date(f.to).getTime()) return false;
  if (f.overdue && !c.overdue) return false;
  if (f.leader && !c.leaders.includes(username)) return false;
  return true;
}

/** The list's filters are kept for the tab's session (a reload keeps them). */
const SAVED = 'cockpit.workbench.filters';

export function savedFilters(): Filters {
  try {
    return JSON.parse(sessionStorage.getItem(SAVED) ?? '{}') as Filters;
  } catch {
    return {};
  }
}

export function saveFilters(f: Filters): void {
  sessionStorage.setItem(SAVED, JSON.stringify(f));
}
