// The server's JSON as the workbench reads it (cockpit-server/src/cases/view.rs and the
// routes of /openapi.json).

import type { LoginFailures } from '../shared/loginfailures';

export interface RegionRef {
  code: string;
  name: string;
}

export type Assignee =
  | { kind: 'department'; department: string }
  | { kind: 'person'; user: string }
  | { kind: 'street_platform'; street: string }
  | { kind: 'grid_worker'; grid: string; worker: string };

export interface TimelineEntry {
  at: string;
  actor: { user: string; role: string };
  action: string | null;
  from: string | null;
  to: string;
  content: string;
  attachments: string[];
  position: { lon: number; lat: number } | null;
}

export interface Case {
  id: number;
  source: string;
  source_name: string | null;
  source_ref: string | null;
  category: { code: string; name: string | null };
  urgency: string;
  tags: string[];
  title: string;
  description: string;
  location: { lon: number; lat: number } | null;
  outside_district: boolean;
  street: RegionRef | null;
  village: RegionRef | null;
  grid: RegionRef | null;
  address: string | null;
  reporter: { name?: string | null; phone?: string | null } | null;
  occurred_at: string;
  created_at: string;
  status: string;
  dispatch_status: string;
  assignee: Assignee | null;
  dispatch_rule: string | null;
  leaders: string[];
  evaluation: { verdict: unknown; remark: string } | null;
  duplicate_of: number | null;
  deadline: { limit: unknown; started_at: string; warn_at: string | null; due_at: string; state: string | null } | null;
  overdue: boolean;
  closed_at: string | null;
  allowed_actions: string[] | null;
  timeline?: TimelineEntry[];
  /** With one case: the display names of the people it mentions, by username. */
  names?: Record<string, string>;
}

export interface CasePage {
  items: Case[];
  next_before: number | null;
  /** For the sorts other than newest first. */
  next_offset?: number | null;
  /** The display names of the people the cases mention, by username. */
  names?: Record<string, string>;
}

export interface Me {
  id: number;
  username: string;
  display_name: string;
  department: string | null;
  permissions: string[];
  roles: { role: string; title: string }[];
  scope: { code: string; level: string };
  /** A session that may only change its password or enrol a second factor. */
  restricted: boolean;
  /** Failed logins of this account in the last 15 minutes, from any address. */
  login_failures?: LoginFailures | null;
}

export interface SearchResult {
  code: string;
  level: string;
  name: string;
  path: string;
  centre: [number, number];
}

export interface DispatchSuggestion {
  rule: string | null;
  to: Assignee | null;
  explanation: string;
}
