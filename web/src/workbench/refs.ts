// Reference data the screens share, loaded once after login: the category tree in force
// (`GET /api/categories`), the intake sources, the streets (names and outlines, for the
// filters and the maps), whom a case may be dispatched to (`GET /api/dispatch/targets`,
// for dispatchers) and, for those allowed to see them, departments and users.

import type { Api } from '../shared/api';
import type { FeatureCollection } from 'geojson';
import type { Me } from './types';

export interface Category {
  code: string;
  name: string;
  parent: string | null;
  /** 0 for a major class. */
  depth: number;
  /** Without children. */
  leaf: boolean;
}

/** One category as the server sends it (the categories document's form). */
export interface CategoryDoc {
  code: string;
  name: string;
  parent?: string | null;
  time_limits?: TimeLimitDoc[];
}

export interface TimeLimitDoc {
  urgency?: string | null;
  /** One of working_hours, working_days, hours, minutes, with its count. */
  limit: Record<string, number>;
}

/** `GET /api/dispatch/targets`. */
export interface Targets {
  departments: { id: string; name: string }[];
  people: { username: string; display_name: string; department: string | null; roles: string[]; scope: { level: string; code: string } }[];
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
  /** Display names by username, as case answers give them (for those who may not list
   * the users). */
  names = new Map<string, string>();
  /** Null for those who may not dispatch (the dispatch form then takes typed names). */
  targets: Targets | null = null;

  /** Keeps the display names an answer gives. */
  learn(names: Record<string, string> | undefined): void {
    for (const [username, name] of Object.entries(names ?? {})) this.names.set(username, name);
  }

  static async load(api: Api, me: Me): Promise<Refs> {
    const r = new Refs();
    const can = (p: string) => me.permissions.includes(p);
    const [categories, sources, streets, district, departments, users, targets] = await Promise.all([
      can('cases.view') || can('cases.view_assigned') || can('cases.create')
        ? optional(api.get<{ items: CategoryDoc[] }>('/api/categories'))
        : null,
      can('sources.view') ? optional(api.get<{ sources: Source[] }>('/api/sources')) : null,
      optional(api.get<FeatureCollection>('/api/regions?level=street')),
      optional(api.get<FeatureCollection>('/api/regions?level=district')),
      can('users.view') ? optional(api.get<{ departments: Department[] }>('/api/departments')) : null,
      can('users.view') ? optional(api.get<{ users: User[] }>('/api/users')) : null,
      can('cases.dispatch') ? optional(api.get<Targets>('/api/dispatch/targets')) : null,
    ]);
    r.categories = categoryTree(categories?.items ?? []);
    r.targets = targets;
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

/** The tree depth first: each category followed by its children, by code. */
export function categoryTree(items: CategoryDoc[]): Category[] {
  const out: Category[] = [];
  const known = new Set(items.map((c) => c.code));
  const children = (parent: string | null) =>
    items.filter((c) => (c.parent && known.has(c.parent) ? c.parent : null) === parent).sort((a, b) => a.code.localeCompare(b.code));
  const walk = (parent: string | null, depth: number) => {
    for (const c of children(parent)) {
      const kids = children(c.code);
      out.push({ code: c.code, name: c.name, parent: c.parent ?? null, depth, leaf: kids.length === 0 });
      walk(c.code, depth + 1);
    }
  };
  walk(null, 0);
  return out;
}
