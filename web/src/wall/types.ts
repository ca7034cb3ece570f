// The shapes the wall reads from the REST API (only the fields it uses).

import type { Feature, FeatureCollection, Geometry, MultiPolygon, Point } from 'geojson';

export type { Feature, FeatureCollection, Geometry, MultiPolygon, Point };

export type Level = 'district' | 'street' | 'village' | 'grid';

export interface RegionRef {
  code: string;
  name: string;
  level: Level;
}

export interface Person {
  name: string | null;
  role: string;
  phone?: string;
}

export interface RegionProps {
  code: string;
  name: string;
  level: Level;
  parent: string | null;
  centre: [number, number];
  persons: Person[];
  children_count: number;
  ancestors?: RegionRef[];
  children?: (RegionRef & { centre: [number, number] })[];
}

export interface Case {
  id: number;
  source: string;
  source_name: string | null;
  category: { code: string; name: string | null };
  urgency: string;
  title: string | null;
  description: string;
  location: { lon: number; lat: number } | null;
  street: { code: string; name: string } | null;
  village: { code: string; name: string } | null;
  grid: { code: string; name: string } | null;
  address: string | null;
  created_at: string;
  status: string;
  deadline: { due_at: string; warn_at: string | null; state: string | null } | null;
  overdue: boolean;
  closed_at: string | null;
  timeline?: TimelineEntry[];
}

export interface TimelineEntry {
  at: string;
  actor: { user: string | null; role: string | null };
  action: string;
  from: string | null;
  to: string | null;
  content: string | null;
}

export interface Rate {
  hits: number;
  total: number;
  percent: number | null;
}

export interface Summary {
  total: number;
  open: number;
  closed: number;
  /** Overdue, open or since closed. */
  overdue: number;
  /** Of those, the open ones: what is overdue now (what the wall shows). */
  overdue_open: number;
  by_status: Record<string, number>;
  on_time_closure: Rate;
  satisfaction: Rate;
  today: { created: number; closed: number };
}

export interface Stats {
  level: string;
  regions: (Summary & { code: string; name: string })[];
  totals: Summary;
}

export interface Device {
  id: string;
  type: string;
  location: { lon: number; lat: number };
  metadata: Record<string, unknown> | null;
}

export interface Source {
  id: string;
  name: string;
}

/** What the wall has loaded of the city, read by its panels and the drill-down. */
export interface City {
  /** The district's code (the streets' parent). */
  districtCode: string;
  /** Every street, village and grid, by the code of its parent (their shapes, for clicks). */
  regionsByParent: Map<string, Feature[]>;
  cameras: FeatureCollection;
  /** Hospitals, fire stations and shelters. */
  resources: FeatureCollection;
  devices: Device[];
  /** The streets' figures, refreshed as cases change. */
  streetStats: Stats | null;
}
