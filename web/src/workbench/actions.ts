// The form of each lifecycle action (events/src/action.rs: `{"action": "<name>", ...}`),
// sent to `POST /api/cases/{id}/actions` with an Idempotency-Key so that a double submit
// is applied once. A refusal shows the server's reason (the problem's `detail`).

import { ApiError } from '../shared/api';
import { actionName } from '../shared/casewords';
import type { Ctx } from './app';
import { h, idempotencyKey } from './dom';
import { displayName, streetName } from './assignee';
import { choice } from './choice';
import type { Assignee, Case, DispatchSuggestion } from './types';
import { explain, w } from './words';

type Body = Record<string, unknown>;

/** Opens the form of `action` on case `c`; `done` gets the case after the action. */
export function actionForm(ctx: Ctx, c: Case, action: string, done: (after: Case) => void, cancel: () => void): HTMLElement {
  const error = h('p', { class: 'error', test: 'action-error', role: 'alert' });
  const fields = h('div', { class: 'fields' });
  const key = idempotencyKey();
  let collect: () => Body | null | Promise<Body | null> = () => ({});

  const textField = (name: string, label: string, required: boolean, multiline = true) => {
    const input = multiline
      ? h('textarea', { name, rows: 3, test: `action-${name}`, required })
      : h('input', { name, test: `action-${name}`, required });
    fields.append(h('label', {}, `${label}${required ? ` (${w('required')})` : ''}`, input));
    return input;
  };

  switch (action) {
    case 'dispatch':
      collect = dispatchFields(ctx, c, fields);
      break;
    case 'reject':
    case 'return':
    case 'recall':
    case 'send_back':
    case 'close_directly':
    case 'reopen': {
      const reason = textField('reason', w('reason'), true);
      collect = () => ({ reason: reason.value });
      break;
    }
    case 'approve':
    case 'verify_and_close':
    case 'supervise': {
      const note = textField('note', w('note'), action === 'supervise');
      collect = () => ({ note: note.value });
      break;
    }
    case 'instruct': {
      const text = textField('text', w('text'), true);
      collect = () => ({ text: text.value });
      break;
    }
    case 'feedback':
    case 'mark_handled':
      collect = handlingFields(ctx, c, action, fields);
      break;
    case 'bind_leader': {
      const leaders = ctx.refs.users?.filter((u) => u.roles.includes('leader')) ?? null;
      const input = leaders
        ? h('select', { test: 'action-leader' }, leaders.map((u) => h('option', { value: u.username }, `${u.display_name} (${u.username})`)))
        : h('input', { test: 'action-leader', required: true, placeholder: 'leader' });
      fields.append(h('label', {}, w('leader'), input));
      collect = () => ({ leader: input.value.trim() });
      break;
    }
    case 'evaluate':
      collect = evaluationFields(fields);
      break;
    default:
      // accept, start: nothing to say.
      break;
  }

  const submit = h('button', { type: 'submit', class: 'primary', test: 'action-submit' }, `${actionName(action)} · ${w('submit')}`);
  const form = h(
    'form',
    {
      class: 'action-form',
      test: 'action-form',
      'data-action': action,
      onsubmit: async (e: Event) => {
        e.preventDefault();
        error.textContent = '';
        submit.disabled = true;
        try {
          const extra = await Promise.resolve(collect());
          if (extra === null) return;
          const after = await ctx.api.post<Case & { visible?: boolean }>(
            `/api/cases/${c.id}/actions`,
            { action, ...extra },
            { 'Idempotency-Key': key },
          );
          if (after.visible === false) {
            // Applied, and the case left this user's view with it (a handler's return).
            error.textContent = w('goneFromView');
            error.dataset.gone = 'true';
            return;
          }
          done(after);
        } catch (err) {
          if (err instanceof ApiError && err.status === 404) {
            // The case is no longer visible to this user: the action may have taken it out
            // of their view (a handler's return), or it left before. Either way, say so.
            error.textContent = w('goneFromView');
            error.dataset.gone = 'true';
            return;
          }
          error.textContent = `${w('refused')}: ${explain(err)}`;
        } finally {
          submit.disabled = false;
        }
      },
    },
    h('h3', {}, actionName(action)),
    fields,
    error,
    h('div', { class: 'buttons' }, submit, h('button', { type: 'button', test: 'action-cancel', onclick: cancel }, w('cancel'))),
  );
  return form;
}

/** The dispatch target: kind, then department / person / street / grid and worker,
 *  pre-filled with the dispatch rule's suggestion for this case. */
function dispatchFields(ctx: Ctx, c: Case, fields: HTMLElement): () => Body | null {
  const kinds: [Assignee['kind'], string][] = [
    ['department', w('department')],
    ['person', w('person')],
    ['street_platform', w('streetPlatform')],
    ['grid_worker', w('gridWorker')],
  ];
  const kind = h('select', { test: 'dispatch-kind' }, kinds.map(([k, l]) => h('option', { value: k }, l)));
  const suggestion = h('p', { class: 'suggestion', test: 'dispatch-suggestion' }, w('loading'));

  // Departments by name and the people who handle cases, from GET /api/dispatch/targets
  // (else from the department and user lists, for those who may see them); a name not in
  // the lists can still be typed.
  const known = ctx.refs.targets;
  const departmentNames = known
    ? known.departments.map((d) => d.name)
    : (ctx.refs.departments?.filter((d) => d.parent !== null).map((d) => d.name) ?? []);
  const department = choice('dispatch-department', departmentNames.map((n): [string, string] => [n, n]));
  const deptName = (id: string | null) => known?.departments.find((d) => d.id === id)?.name ?? id ?? '—';
  const people = known
    ? known.people
    : (ctx.refs.users?.filter((u) => u.active).map((u) => ({ username: u.username, display_name: u.display_name, department: u.department, roles: u.roles, scope: u.scope ?? { level: '', code: '' } })) ?? []);
  const byDept = new Map<string, [string, string][]>();
  for (const p of people) {
    const g = deptName(p.department);
    byDept.set(g, [...(byDept.get(g) ?? []), [p.username, `${p.display_name} (${p.username})`]]);
  }
  const person = choice('dispatch-person', [...byDept].map(([label, options]) => ({ label, options })));
  const street = h(
    'select',
    { test: 'dispatch-street' },
    ctx.refs.streets.features.map((f) => h('option', { value: String(f.properties?.code) }, String(f.properties?.name))),
  );
  if (c.street) street.value = c.street.code;
  const grid = h('input', { test: 'dispatch-grid', value: c.grid?.code ?? '' });
  // The server names a grid's full-time worker `grid-worker-<grid>` (cases/service.rs):
  // the first choice; or one of the grid workers (their grid fills in), or a typed account.
  const gridWorkers = people.filter((p) => p.roles.includes('grid_worker'));
  const worker = choice('dispatch-worker', [
    ['', w('gridsOwnWorker')],
    ...gridWorkers.map((p): [string, string] => [p.username, `${p.display_name} (${p.username}) · ${p.scope.code}`]),
  ]);
  worker.select.addEventListener('change', () => {
    const p = gridWorkers.find((x) => x.username === worker.select.value);
    if (p && p.scope.level === 'grid') grid.value = p.scope.code;
  });
  const note = h('textarea', { test: 'action-note', rows: 2 });

  const rows: Record<Assignee['kind'], HTMLElement[]> = {
    department: [h('label', {}, w('department'), department.el)],
    person: [h('label', {}, w('user'), person.el)],
    street_platform: [h('label', {}, w('street'), street)],
    grid_worker: [h('label', {}, w('grid'), grid), h('label', {}, w('worker'), worker.el)],
  };
  const targets = h('div', { class: 'targets' });
  const show = () => targets.replaceChildren(...rows[kind.value as Assignee['kind']]);
  kind.onchange = show;
  show();
  fields.append(suggestion, h('label', {}, w('target'), kind), targets, h('label', {}, w('note'), note));

  const prefill = (to: Assignee) => {
    kind.value = to.kind;
    switch (to.kind) {
      case 'department':
        department.set(to.department);
        break;
      case 'person':
        person.set(to.user);
        break;
      case 'street_platform':
        street.value = to.street;
        break;
      case 'grid_worker':
        grid.value = to.grid;
        worker.set(to.worker === `grid-worker-${to.grid}` ? '' : to.worker);
        break;
    }
    show();
  };
  void ctx.api.get<DispatchSuggestion>(`/api/cases/${c.id}/dispatch-suggestion`).then(
    (s) => {
      suggestion.textContent = `${w('suggestion')}: ${s.to ? describe(ctx, s.to) : w('noSuggestion')}${s.rule ? ` [${s.rule}]` : ''} — ${s.explanation}`;
      suggestion.dataset.rule = s.rule ?? '';
      if (s.to) prefill(s.to);
      suggestion.dataset.ready = 'true';
    },
    (err) => {
      suggestion.textContent = `${w('suggestion')}: ${explain(err)}`;
      suggestion.dataset.ready = 'true';
    },
  );

  return () => {
    let to: Assignee;
    switch (kind.value as Assignee['kind']) {
      case 'department':
        to = { kind: 'department', department: department.value() };
        break;
      case 'person':
        to = { kind: 'person', user: person.value() };
        break;
      case 'street_platform':
        to = { kind: 'street_platform', street: street.value };
        break;
      case 'grid_worker':
        to = { kind: 'grid_worker', grid: grid.value.trim(), worker: worker.value() || `grid-worker-${grid.value.trim()}` };
        break;
    }
    return { to, note: note.value };
  };
}

function describe(ctx: Ctx, a: Assignee): string {
  switch (a.kind) {
    case 'department':
      return `${w('department')} ${a.department}`;
    case 'person':
      return `${w('person')} ${displayName(ctx, a.user)}`;
    case 'street_platform':
      return `${w('streetPlatform')} ${streetName(ctx, a.street)}`;
    case 'grid_worker':
      return `${w('gridWorker')} ${displayName(ctx, a.worker)} · ${a.grid}`;
  }
}

/** Feedback and "handled": text and photos (uploaded first, then named in the action). */
function handlingFields(ctx: Ctx, c: Case, action: string, fields: HTMLElement): () => Promise<Body | null> {
  const name = action === 'feedback' ? 'text' : 'summary';
  const text = h('textarea', { test: `action-${name}`, rows: 3 });
  const photos = h('input', { type: 'file', accept: 'image/jpeg,image/png,image/webp', multiple: true, test: 'action-photos' });
  fields.append(
    h('label', {}, action === 'feedback' ? w('text') : `${w('summary')} (${w('required')})`, text),
    h('label', {}, w('photos'), photos),
  );
  return async () => {
    const refs: string[] = [];
    for (const file of photos.files ?? []) {
      const att = await ctx.api.upload<{ id: string }>(
        `/api/cases/${c.id}/attachments?name=${encodeURIComponent(file.name)}`,
        file,
        file.type || 'application/octet-stream',
      );
      refs.push(att.id);
    }
    return { [name]: text.value, photos: refs };
  };
}

/** Satisfied, or unsatisfied with one of the tender's reasons (other: with a text). */
function evaluationFields(fields: HTMLElement): () => Body | null {
  const verdict = h(
    'select',
    { test: 'evaluate-verdict' },
    h('option', { value: 'satisfied' }, w('satisfied')),
    h('option', { value: 'unsatisfied' }, w('unsatisfied')),
  );
  const reason = h(
    'select',
    { test: 'evaluate-reason' },
    (['false_closure', 'procedural_closure', 'descriptive_closure', 'other'] as const).map((r) => h('option', { value: r }, w(r))),
  );
  const other = h('input', { test: 'evaluate-other' });
  const remark = h('textarea', { test: 'evaluate-remark', rows: 2 });
  const reasonRow = h('div', { class: 'reason-row' }, h('label', {}, w('unsatisfiedReason'), reason), h('label', {}, w('other'), other));
  const sync = () => {
    reasonRow.hidden = verdict.value !== 'unsatisfied';
    other.parentElement!.hidden = reason.value !== 'other';
  };
  verdict.onchange = sync;
  reason.onchange = sync;
  fields.append(h('label', {}, w('verdict'), verdict), reasonRow, h('label', {}, w('remark'), remark));
  sync();
  return () => {
    const v =
      verdict.value === 'satisfied'
        ? 'satisfied'
        : { unsatisfied: reason.value === 'other' ? { other: other.value } : reason.value };
    return { evaluation: { verdict: v, remark: remark.value } };
  };
}
