// The workbench's words, Chinese (the default, words.zh.ts) and English (words.en.ts), in
// the page's language (shared/language.ts; `?lang=en` switches). Status, action and urgency
// names are the case words of shared/casewords.ts.

import { ApiError } from '../shared/api';
import { currentLanguage } from '../shared/language';
import { en } from './words.en';
import { type Key, zh } from './words.zh';

export function w(key: Key): string {
  return currentLanguage() === 'zh' ? zh[key] : en[key];
}

/** A word with `{name}`-style places filled in (as text). */
export function wf(key: Key, values: Record<string, string | number>): string {
  return w(key).replace(/\{(\w+)\}/g, (all, k: string) => (k in values ? String(values[k]) : all));
}

/** What to tell the user about a failed request: the server's reason, or that it could
 *  not be reached. */
export function explain(err: unknown): string {
  if (err instanceof ApiError) return err.status === 0 ? w('unreachable') : err.detail;
  return String(err);
}
