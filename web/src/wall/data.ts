// What the wall loads over REST at start and after a stream could not be resumed, and how
// it keeps asking while the server does not answer.

import type { Api } from '../shared/api';
import type { Case, Device, Feature, FeatureCollection, Source, Stats } from './types';

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

/** Everything the map draws, in the order `city` gives it: the streets, villages and grids,
 *  the cameras, hospitals, fire stations, shelters, key areas and blind spots, the devices,
 *  and the district's own record (null where it could not be had). */
export type CityLayers = [
  FeatureCollection,
  FeatureCollection,
  FeatureCollection,
  FeatureCollection,
  FeatureCollection,
  FeatureCollection,
  FeatureCollection,
  FeatureCollection,
  FeatureCollection,
  Device[],
  Feature | null,
];

/** Fetches everything the map draws in parallel. */
export function city(api: Api): Promise<CityLayers> {
  const streets = regions(api, 'street');
  // The district's record, asked for as soon as the streets name it (selected at start).
  const district = streets
    .then((s) => api.get<Feature>(`/api/regions/${encodeURIComponent(String(s.features[0]?.properties?.parent))}`))
    .catch(() => null);
  return Promise.all([
    streets,
    regions(api, 'village'),
    regions(api, 'grid'),
    layer(api, 'cameras'),
    layer(api, 'hospitals'),
    layer(api, 'fire_stations'),
    layer(api, 'shelters'),
    layer(api, 'key_areas'),
    layer(api, 'blind_spots'),
    devices(api).catch(() => [] as Device[]),
    district,
  ]);
}

export async function sources(api: Api): Promise<Source[]> {
  const answer: unknown = await api.get('/api/sources');
  if (Array.isArray(answer)) return answer as Source[];
  const o = answer as { items?: Source[]; sources?: Source[] };
  return o.items ?? o.sources ?? [];
}

/** `f` again and again until it answers (the server may be restarting), waiting from half a
 *  second up to five between tries. */
export async function retry<T>(f: () => Promise<T>): Promise<T> {
  for (let wait = 500; ; wait = Math.min(wait * 2, 5000)) {
    try {
      return await f();
    } catch (e) {
      console.warn('retrying', e);
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}
