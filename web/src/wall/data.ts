// What the wall loads over REST at start and after a stream could not be resumed.

import type { Api } from '../shared/api';
import type { Case, Device, FeatureCollection, Source, Stats } from './types';

/** The most cases the wall loads at start (newest first, in pages of 500). */
export const MAX_CASES = 20_000;

export async function loadCases(api: Api, max = MAX_CASES): Promise<Case[]> {
  const all: Case[] = [];
  let before: number | null = null;
  while (all.length < max) {
    const page: { items: Case[]; next_before: number | null } = await api.get(
      `/api/cases?limit=500${before ? `&before=${before}` : ''}`,
    );
    all.push(...page.items);
    if (!page.next_before) break;
    before = page.next_before;
  }
  return all;
}

export const regions = (api: Api, level: string): Promise<FeatureCollection> =>
  api.get(`/api/regions?level=${level}`);

export const layer = (api: Api, name: string): Promise<FeatureCollection> =>
  api.get(`/api/layers/${encodeURIComponent(name)}`);

export const stats = (api: Api, query: string): Promise<Stats> => api.get(`/api/cases/stats?${query}`);

export async function devices(api: Api, region?: string): Promise<Device[]> {
  const all: Device[] = [];
  let after: string | null = null;
  for (;;) {
    const q = [`limit=5000`, region ? `region=${region}` : '', after ? `after=${encodeURIComponent(after)}` : '']
      .filter(Boolean)
      .join('&');
    const page: { items: Device[]; next_after: string | null } = await api.get(`/api/devices?${q}`);
    all.push(...page.items);
    if (!page.next_after) return all;
    after = page.next_after;
  }
}

export async function sources(api: Api): Promise<Source[]> {
  const answer: unknown = await api.get('/api/sources');
  if (Array.isArray(answer)) return answer as Source[];
  const o = answer as { items?: Source[]; sources?: Source[] };
  return o.items ?? o.sources ?? [];
}
