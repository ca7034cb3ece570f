// Reference data the screens share, loaded once after login: the category tree (the
// server's Open311 service list: leaf categories with their group), the intake sources,
// the streets (names and outlines, for the filters and the maps), and, for those allowed
// to see them, departments and users (the dispatch form's pickers).

import type { Api } from '../api';
import type { FeatureCollection } from 'geojson';
import type { Me } from './types';

export interface Category {
  code: string;
  name: string;
  /** Leaves only: the group's name. */
  group: string;
  leaf: boolean;
}

export interface Source {
  id: string;
  name: string;
  kind?: string;
  enabled?: boolean;
}

export interface Department {
  id: string;
  name: string;
  parent: string | null;
}

export interface User {
  id: number;
  username: string;
  display_name: string;
  department: string | null;
  roles: string[];
  active: boolean;
  scope: { code: string; level: string } | null;
  totp_enabled?: boolean;
}

interface Service {
  service_code: string;
  service_name: string;
  group: string;
}

async function optional<T>(p: Promise<T>): Promise<T | null> {
  try {
    return await p;
  } catch {
    return null;
  }
}

export class Refs {
  categories: Category[] = [];
  sources: Source[] = [];
  streets: FeatureCollection = { type: 'FeatureCollection', features: [] };
  district: FeatureCollection = { type: 'FeatureCollection', features: [] };
  /** Null when the caller may not list them (the forms then take a typed name). */
  departments: Department[] | null = null;
  users: User[] | null = null;

  static async load(api: Api, me: Me): Promise<Refs> {
    const r = new Refs();
    const can = (p: string) => me.permissions.includes(p);
    const [services, sources, streets, district, departments, users] = await Promise.all([
      optional(fetch('/open311/v2/services.json').then((x) => (x.ok ? (x.json() as Promise<Service[]>) : []))),
      can('sources.view') ? optional(api.get<{ sources: Source[] }>('/api/sources')) : null,
      optional(api.get<FeatureCollection>('/api/regions?level=street')),
      optional(api.get<FeatureCollection>('/api/regions?level=district')),
      can('users.view') ? optional(api.get<{ departments: Department[] }>('/api/departments')) : null,
      can('users.view') ? optional(api.get<{ users: User[] }>('/api/users')) : null,
    ]);
    r.categories = categoryTree(services ?? []);
    r.sources = sources?.sources ?? [];
    if (streets) r.streets = streets;
    if (district) r.district = district;
    r.departments = departments?.departments ?? null;
    r.users = users?.users ?? null;
    return r;
  }

  categoryName(code: string): string {
    return this.categories.find((c) => c.code === code)?.name ?? code;
  }
}

/** Groups (two-digit codes, named by the services' `group`) followed by their leaves. */
function categoryTree(services: Service[]): Category[] {
  const out: Category[] = [];
  const groups = new Map<string, string>();
  for (const s of services) {
    if (s.group && s.service_code.length > 2) groups.set(s.service_code.slice(0, 2), s.group);
  }
  for (const [code, name] of groups) out.push({ code, name, group: '', leaf: false });
  for (const s of services) {
    out.push({ code: s.service_code, name: s.service_name, group: s.group, leaf: true });
  }
  return out.sort((a, b) => a.code.localeCompare(b.code));
}
