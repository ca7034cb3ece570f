// The assessment API's answers as the workbench reads them (cockpit-server's
// api/assessment.rs; /openapi.json has them whole).

import type { Domain } from '../../shared/catalogue';

export interface Names {
  zh: string;
  en: string;
}

export type Subject = 'streets' | 'departments';
export type MeasureKind = 'on_time_rate' | 'satisfaction_rate' | 'overdue_rate' | 'indicator';
export type Better = 'higher' | 'lower';
export type Rule = 'linear' | 'target' | 'relative';

export type Scoring =
  | { rule: 'linear'; best: number; worst: number }
  | { rule: 'target'; target: number; better: Better }
  | { rule: 'relative'; better: Better; floor: number };

export interface Item {
  name: Names;
  measure: { kind: MeasureKind; id?: string };
  weight: number;
  scoring: Scoring;
}

export interface Model {
  id: string;
  name: Names;
  subject: Subject;
  items: Item[];
}

export interface ModelView {
  model: Model;
  version: number;
  updated_by: string;
  updated_at: string;
}

export interface Results {
  model: string;
  name: Names;
  subject: Subject;
  month: string;
  items: Names[];
  points: number;
  published: boolean;
  decided_by: string | null;
  decided_at: string | null;
  results: {
    subject: string;
    name: string;
    items: { value: number | null; points: number }[];
    total: number;
    rank: number;
  }[];
}

export interface Comparison {
  month: string;
  models: string[];
  subjects: { subject: string; name: string; totals: number[]; ranks: number[] }[];
}

export interface VitalSigns {
  month: string;
  streets: {
    street: string;
    name: string;
    domains: { domain: Domain; score: number | null; indicators: number }[];
    city: number | null;
    governance: number | null;
    index: number | null;
    colour: string | null;
    rank: number | null;
  }[];
}
