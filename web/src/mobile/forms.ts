// The forms that send something: feedback (text, photos, my position), mark handled
// (summary, photos), return (reason) and a new report (photo, category, position,
// description). Each filled form has one Idempotency-Key: tapping "send" again sends
// nothing new; changing the form after sending makes it a new submission with a new key.

import { icons } from './icons';
import { prepare } from './photo';
import { esc, newKey, positionText, type App, type Fix } from './shell';
import type { Entry, Job } from './outbox';
import { actionName } from '../shared/casewords';
import { w } from './words';

interface Shot {
  blob: Blob;
  url: string;
  name: string;
}

interface Field {
  name: string;
  label: string;
  kind: 'textarea' | 'select';
  required: boolean;
  options?: { value: string; label: string }[];
}

interface FormSpec {
  id: string;
  title: string;
  back: string;
  fields: Field[];
  photos: boolean;
  position: boolean;
  /** A message when the form cannot go (blank required text), or null. */
  check(values: Record<string, string>, photos: number, fix: Fix | null): string | null;
  job(values: Record<string, string>, fix: Fix | null): Job;
  label: string | ((values: Record<string, string>) => string);
  /** Where to go after the server applied it. */
  after(entry: Entry): string | null;
}

function form(app: App, spec: FormSpec): () => void {
  let key = newKey();
  let submitted = false;
  const shots: Shot[] = [];
  let fix: Fix | null = app.position.last;
  app.main.innerHTML = `
    <form class="sheet" data-test="${spec.id}-form" novalidate>
      <a class="back" href="${spec.back}" data-test="back">‹ ${w('back')}</a>
      <h1 class="screen-title">${esc(spec.title)}</h1>
      ${spec.fields
        .map(
          (f) => `<label>${esc(f.label)}${f.required ? ' *' : ''}
          ${
            f.kind === 'select'
              ? `<select name="${f.name}" data-test="${spec.id}-${f.name}"><option value="">${w('chooseCategory')}</option>${(f.options ?? [])
                  .map((o) => `<option value="${esc(o.value)}">${esc(o.label)}</option>`)
                  .join('')}</select>`
              : `<textarea name="${f.name}" rows="4" data-test="${spec.id}-${f.name}"></textarea>`
          }</label>`,
        )
        .join('')}
      ${
        spec.photos
          ? `<div class="photos-field"><span>${w('photos')}</span>
          <div class="thumbs" data-test="photo-thumbs"></div>
          <label class="button camera">${icons.camera} ${w('takePhoto')}
            <input type="file" accept="image/*" capture="environment" multiple data-test="photo-input" hidden /></label></div>`
          : ''
      }
      ${spec.position ? `<p class="me">${w('position')}: <span data-test="${spec.id}-position">${esc(positionText(fix, app.position.error))}</span></p>` : ''}
      <p class="message" data-test="form-message" role="status"></p>
      <button type="submit" class="button primary big" data-test="${spec.id}-send">${w('send')}</button>
    </form>`;
  const el = app.main.querySelector('form') as HTMLFormElement;
  const message = el.querySelector('[data-test=form-message]') as HTMLElement;
  const thumbs = el.querySelector('.thumbs') as HTMLElement | null;
  const show = (text: string, state: string) => {
    message.textContent = text;
    message.className = `message ${state}`;
    message.dataset.state = state;
  };
  /** The form changed after it was sent: what is there now is a new submission. */
  const edited = () => {
    if (submitted) {
      key = newKey();
      submitted = false;
      show('', '');
    }
  };
  const drawThumbs = () => {
    if (!thumbs) return;
    thumbs.innerHTML = shots
      .map(
        (s, i) => `<figure data-test="photo-thumb"><img src="${s.url}" alt="" />
        <button type="button" class="button small" data-remove="${i}" data-test="photo-remove">${w('removePhoto')}</button></figure>`,
      )
      .join('');
    for (const b of thumbs.querySelectorAll<HTMLButtonElement>('button[data-remove]')) {
      b.onclick = () => {
        const [gone] = shots.splice(Number(b.dataset.remove), 1);
        URL.revokeObjectURL(gone.url);
        edited();
        drawThumbs();
      };
    }
  };
  el.addEventListener('input', (e) => {
    if ((e.target as HTMLElement).dataset.test !== 'photo-input') edited();
  });
  const input = el.querySelector<HTMLInputElement>('input[type=file]');
  if (input) {
    input.onchange = async () => {
      const files = [...(input.files ?? [])];
      input.value = '';
      for (const file of files) {
        const blob = await prepare(file);
        const name = (file.name || 'photo').replace(/\.[^.]*$/, '') + (blob.type === 'image/png' ? '.png' : '.jpg');
        shots.push({ blob, url: URL.createObjectURL(blob), name });
      }
      edited();
      drawThumbs();
      el.dataset.photos = String(shots.length);
    };
  }
  const stopPosition = spec.position
    ? app.position.watch((f) => {
        fix = f;
        const p = el.querySelector(`[data-test=${spec.id}-position]`);
        if (p) p.textContent = positionText(f, app.position.error);
      })
    : () => {};
  el.onsubmit = async (e) => {
    e.preventDefault();
    const values: Record<string, string> = {};
    for (const f of spec.fields) values[f.name] = String(new FormData(el).get(f.name) ?? '').trim();
    const missing = spec.check(values, shots.length, fix);
    if (missing) return show(missing, 'invalid');
    submitted = true;
    const { entry, added } = await app.outbox.add({
      key,
      label: typeof spec.label === 'string' ? spec.label : spec.label(values),
      job: spec.job(values, fix),
      photos: shots.map((s, i) => ({ blob: s.blob, name: s.name, key: `${key}.p${i}` })),
    });
    if (!added) {
      show(`${w('alreadyQueued')}（${stateName(entry.state)}）`, 'duplicate');
      return;
    }
    show(w('queued'), 'waiting');
    await app.outbox.flush();
    const now = (await app.outbox.byKey(key)) ?? entry;
    if (now.state === 'done') {
      show(w('sent'), 'done');
      const next = spec.after(now);
      if (next) app.go(next);
    } else if (now.state === 'failed') {
      show(`${w('refused')}：${now.error ?? ''}`, 'failed');
    } else {
      show(w('queued'), 'waiting');
    }
  };
  return () => {
    stopPosition();
    for (const s of shots) URL.revokeObjectURL(s.url);
  };
}

export function stateName(state: string): string {
  return state === 'done' ? w('done') : state === 'failed' ? w('failed') : w('waiting');
}

const point = (fix: Fix | null) => (fix ? { lon: fix.lon, lat: fix.lat } : undefined);

export function feedbackScreen(app: App, id: number): () => void {
  return form(app, {
    id: 'feedback',
    title: `${w('feedback')} #${id}`,
    back: `#/case/${id}`,
    fields: [{ name: 'text', label: w('text'), kind: 'textarea', required: false }],
    photos: true,
    position: true,
    check: (v, photos) => (v.text || photos ? null : w('textOrPhoto')),
    job: (v, fix) => ({ kind: 'action', caseId: id, body: { action: 'feedback', text: v.text, position: point(fix) } }),
    label: (v) => `${actionName('feedback')} #${id}${v.text ? `：${v.text.slice(0, 40)}` : ''}`,
    after: () => null,
  });
}

export function handledScreen(app: App, id: number): () => void {
  return form(app, {
    id: 'handled',
    title: `${w('markHandled')} #${id}`,
    back: `#/case/${id}`,
    fields: [{ name: 'summary', label: w('summary'), kind: 'textarea', required: true }],
    photos: true,
    position: false,
    check: (v) => (v.summary ? null : `${w('required')}：${w('summary')}`),
    job: (v) => ({ kind: 'action', caseId: id, body: { action: 'mark_handled', summary: v.summary } }),
    label: (v) => `${actionName('mark_handled')} #${id}：${v.summary.slice(0, 40)}`,
    after: () => `#/case/${id}`,
  });
}

export function returnScreen(app: App, id: number): () => void {
  return form(app, {
    id: 'return',
    title: `${w('return')} #${id}`,
    back: `#/case/${id}`,
    fields: [{ name: 'reason', label: w('returnReason'), kind: 'textarea', required: true }],
    photos: false,
    position: false,
    check: (v) => (v.reason ? null : `${w('required')}：${w('returnReason')}`),
    job: (v) => ({ kind: 'action', caseId: id, body: { action: 'return', reason: v.reason } }),
    label: (v) => `${actionName('return')} #${id}：${v.reason.slice(0, 40)}`,
    after: () => '#/tasks',
  });
}

export interface Category {
  code: string;
  name: string;
}

export function reportScreen(app: App, categories: Category[]): () => void {
  return form(app, {
    id: 'report',
    title: w('newCase'),
    back: '#/tasks',
    fields: [
      {
        name: 'category',
        label: w('category'),
        kind: 'select',
        required: true,
        options: categories.map((c) => ({ value: c.code, label: c.name })),
      },
      { name: 'description', label: w('description'), kind: 'textarea', required: true },
    ],
    photos: true,
    position: true,
    check: (v, _photos, fix) =>
      !v.category
        ? `${w('required')}：${w('category')}`
        : !v.description
          ? `${w('required')}：${w('description')}`
          : fix
            ? null
            : w('noPosition'),
    job: (v, fix) => ({
      kind: 'create',
      body: { description: v.description, category: v.category, location: point(fix) },
    }),
    label: (v) => `${w('newCase')}：${v.description.slice(0, 40)}`,
    after: () => null,
  });
}
