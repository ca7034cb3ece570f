// Creating a case by hand: description, category (the server's category tree), urgency,
// tags, the location clicked on the map or found by region search (the point is placed at
// the region's centre and can be refined by a click), address and reporter. Sent once
// with an Idempotency-Key; the new case opens.

import type { Feature } from 'geojson';
import { URGENCY_CODES, urgencyName } from '../shared/casewords';
import type { Ctx, Unmount } from './app';
import { h, fill, idempotencyKey } from './dom';
import { SmallMap } from './map';
import { regionSearch } from './search';
import type { Case } from './types';
import { explain, w } from './words';

interface Located {
  inside: boolean;
  street: { code: string; name: string } | null;
  village: { code: string; name: string } | null;
  grid: { code: string; name: string } | null;
}

export function createCase(ctx: Ctx, root: HTMLElement): Unmount {
  const key = idempotencyKey();
  let point: { lon: number; lat: number } | null = null;
  let outlined: string | null = null;
  let gone = false;

  const description = h('textarea', { test: 'create-description', rows: 4, required: true });
  const title = h('input', { test: 'create-title' });
  // Each major class with its children as a group (any node of the tree may be chosen).
  const cats = ctx.refs.categories;
  const option = (c: (typeof cats)[number]) => h('option', { value: c.code }, `${'　'.repeat(Math.max(0, c.depth - 1))}${c.name} (${c.code})`);
  const category = h(
    'select',
    { test: 'create-category', required: true },
    h('option', { value: '' }, '—'),
    cats
      .filter((c) => c.depth === 0)
      .map((top) => {
        const members = cats.filter((c) => c.code !== top.code && c.code.startsWith(top.code) && c.depth > 0);
        return members.length ? h('optgroup', { label: top.name }, option(top), members.map(option)) : option(top);
      }),
  );
  const urgency = h('select', { test: 'create-urgency' }, URGENCY_CODES.map((u) => h('option', { value: u }, urgencyName(u))));
  const tags = h('input', { test: 'create-tags' });
  const address = h('input', { test: 'create-address' });
  const name = h('input', { test: 'create-reporter-name', autocomplete: 'off' });
  const phone = h('input', { test: 'create-reporter-phone', autocomplete: 'off', inputmode: 'tel' });
  const picked = h('p', { class: 'picked', test: 'create-picked' }, w('pickOnMap'));
  const error = h('p', { class: 'error', test: 'create-error', role: 'alert' });
  const mapBox = h('div', { class: 'create-map', test: 'create-map' });
  const submit = h('button', { type: 'submit', class: 'primary', test: 'create-submit' }, w('create'));

  const pick = async (lon: number, lat: number, zoom: boolean) => {
    point = { lon, lat };
    map.setPoint(lon, lat, zoom);
    picked.textContent = `${w('picked')}: ${lon.toFixed(6)}, ${lat.toFixed(6)}`;
    picked.dataset.lon = String(lon);
    picked.dataset.lat = String(lat);
    try {
      const at = await ctx.api.get<Located>(`/api/locate?lon=${lon}&lat=${lat}`);
      if (gone || point.lon !== lon || point.lat !== lat) return;
      const where = at.inside ? [at.street?.name, at.village?.name, at.grid?.name].filter(Boolean).join(' / ') : w('outside');
      picked.textContent = `${w('picked')}: ${where} (${lon.toFixed(6)}, ${lat.toFixed(6)})`;
      picked.dataset.located = 'true';
      // The grid that will own the case, outlined.
      if (at.grid && at.grid.code !== outlined) {
        outlined = at.grid.code;
        const f = await ctx.api.get<Feature>(`/api/regions/${at.grid.code}`);
        if (!gone && outlined === at.grid.code) map.setOutline(f, false);
      } else if (!at.grid) {
        outlined = null;
        map.setOutline(null, false);
      }
    } catch {
      // The point stands; the server tags it on create.
    }
  };

  const form = h(
    'form',
    {
      class: 'create-form',
      test: 'create-form',
      onsubmit: async (e: Event) => {
        e.preventDefault();
        error.textContent = '';
        const body: Record<string, unknown> = {
          description: description.value.trim(),
          category: category.value,
          urgency: urgency.value,
          tags: tags.value.split(/[,，、\s]+/).map((t) => t.trim()).filter(Boolean),
        };
        if (title.value.trim()) body.title = title.value.trim();
        if (point) body.location = point;
        if (address.value.trim()) body.address = address.value.trim();
        if (name.value.trim() || phone.value.trim()) {
          body.reporter = { name: name.value.trim() || undefined, phone: phone.value.trim() || undefined };
        }
        submit.disabled = true;
        try {
          const c = await ctx.api.post<Case>('/api/cases', body, { 'Idempotency-Key': key });
          ctx.go(`#/cases/${c.id}`);
        } catch (err) {
          error.textContent = explain(err);
        } finally {
          submit.disabled = false;
        }
      },
    },
    h('h2', {}, w('createTitle')),
    h('label', {}, `${w('description')} (${w('required')})`, description),
    h('label', {}, w('titleCol'), title),
    h('div', { class: 'row' }, h('label', {}, `${w('category')} (${w('required')})`, category), h('label', {}, w('urgency'), urgency)),
    h('label', {}, w('tags'), tags),
    h('label', {}, w('address'), address),
    h('div', { class: 'row' }, h('label', {}, w('reporterName'), name), h('label', {}, w('reporterPhone'), phone)),
    error,
    h('div', { class: 'buttons' }, submit),
  );
  const search = regionSearch(ctx.api, w('regionSearch'), (r) => {
    void pick(r.centre[0], r.centre[1], true);
    if (!address.value) address.value = r.path;
  }, 'create-search');

  fill(
    root,
    h(
      'section',
      { class: 'create-screen', test: 'create-screen' },
      form,
      h('div', { class: 'create-right' }, search, picked, mapBox),
    ),
  );
  const map = new SmallMap(mapBox, ctx.refs.streets, ctx.refs.district);
  map.map.getCanvas().style.cursor = 'crosshair';
  map.map.on('click', (e) => void pick(e.lngLat.lng, e.lngLat.lat, false));
  (window as unknown as { __wbCreateMap?: SmallMap }).__wbCreateMap = map;
  return () => {
    gone = true;
    map.remove();
  };
}
