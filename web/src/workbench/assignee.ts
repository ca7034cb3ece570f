// How an assignee reads: the department's name, the person, the street's platform, the
// grid's worker.

import type { Ctx } from './app';
import type { Assignee } from './types';
import { w } from './words';

export function assigneeText(ctx: Ctx, a: Assignee | null): string {
  if (!a) return '—';
  switch (a.kind) {
    case 'department':
      return a.department;
    case 'person':
      return `${w('person')} ${displayName(ctx, a.user)}`;
    case 'street_platform':
      return `${streetName(ctx, a.street)} ${w('streetPlatform')}`;
    case 'grid_worker':
      return `${w('gridWorker')} ${displayName(ctx, a.worker)} (${a.grid})`;
  }
}

/** A person as screens show them: the display name, the username beside it. */
export function displayName(ctx: Ctx, username: string): string {
  const name = ctx.refs.users?.find((x) => x.username === username)?.display_name ?? ctx.refs.names.get(username);
  return name ? `${name} (${username})` : username;
}

export function streetName(ctx: Ctx, code: string): string {
  const f = ctx.refs.streets.features.find((x) => x.properties?.code === code);
  return (f?.properties?.name as string | undefined) ?? code;
}
