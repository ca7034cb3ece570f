// A choice among known values that still takes a typed one: a select (data-test=`test`)
// whose last option, "other", shows a text input (data-test=`test`-other).

import { h } from './dom';
import { w } from './words';

export const OTHER = '__other';

export interface Choice {
  el: HTMLElement;
  select: HTMLSelectElement;
  input: HTMLInputElement;
  value(): string;
  set(v: string): void;
}

/** `options`: [value, label] pairs, or groups of them under a label. */
export function choice(test: string, options: ([string, string] | { label: string; options: [string, string][] })[]): Choice {
  const opt = ([v, l]: [string, string]) => h('option', { value: v }, l);
  const select = h(
    'select',
    { test },
    options.map((o) => (Array.isArray(o) ? opt(o) : h('optgroup', { label: o.label }, o.options.map(opt)))),
    h('option', { value: OTHER }, w('otherTyped')),
  );
  const input = h('input', { test: `${test}-other`, placeholder: w('typeIt') });
  const sync = () => (input.hidden = select.value !== OTHER);
  select.addEventListener('change', () => {
    sync();
    if (!input.hidden) input.focus();
  });
  sync();
  return {
    el: h('span', { class: 'choice' }, select, input),
    select,
    input,
    value: () => (select.value === OTHER ? input.value.trim() : select.value),
    set(v: string) {
      if ([...select.options].some((o) => o.value === v && v !== OTHER)) {
        select.value = v;
      } else {
        select.value = OTHER;
        input.value = v;
      }
      sync();
    },
  };
}
