// The workbench's words, Chinese (the default, words.zh.ts) and English (words.en.ts), in
// the page's language (shared/language.ts; `?lang=en` switches). Status, action and urgency
// names are the case words of shared/casewords.ts.

import { ApiError } from '../shared/api';
import { vocabulary } from '../shared/language';
import { en } from './words.en';
import { type Key, zh } from './words.zh';

export const { w, wf } = vocabulary<Key>(zh, en);

/** What to tell the user about a failed request: the server's reason, or that it could
 *  not be reached. */
export function explain(err: unknown): string {
  if (err instanceof ApiError) return err.status === 0 ? w('unreachable') : err.detail;
  return String(err);
}
