// A region search box over `GET /api/search`: type a name or code, pick a street, village
// or grid from the results.

import type { Api } from '../shared/api';
import { h, fill } from './dom';
import type { SearchResult } from './types';

export function regionSearch(
  api: Api,
  placeholder: string,
  onPick: (r: SearchResult) => void,
  test = 'region-search',
): HTMLElement {
  const input = h('input', { type: 'search', placeholder, test, autocomplete: 'off' });
  const results = h('ul', { class: 'search-results', test: `${test}-results`, hidden: true });
  let seq = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const run = async () => {
    const q = input.value.trim();
    const mine = ++seq;
    if (!q) {
      results.hidden = true;
      return;
    }
    let found: SearchResult[] = [];
    try {
      found = (await api.get<{ results: SearchResult[] }>(`/api/search?q=${encodeURIComponent(q)}&limit=20`)).results;
    } catch {
      found = [];
    }
    if (mine !== seq) return;
    fill(
      results,
      found.map((r) =>
        h(
          'li',
          {
            test: 'region-option',
            'data-code': r.code,
            onmousedown: (e: Event) => {
              e.preventDefault();
              results.hidden = true;
              input.value = r.name;
              onPick(r);
            },
          },
          h('b', {}, r.name),
          h('small', {}, r.path),
        ),
      ),
    );
    results.hidden = found.length === 0;
  };
  input.addEventListener('input', () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(run, 200);
  });
  input.addEventListener('blur', () => setTimeout(() => (results.hidden = true), 150));
  return h('div', { class: 'region-search' }, input, results);
}
