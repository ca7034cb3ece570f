// The language all three front ends show, Chinese by default and English on asking: one
// setting per page, read by each app's own words and by the case words they share.

export type Language = 'zh' | 'en';

let current: Language = 'zh';

/** Switches the page's language (and `<html lang>`, for fonts and screen readers). */
export function setLanguage(language: Language): void {
  current = language;
  document.documentElement.lang = language === 'zh' ? 'zh-CN' : 'en';
}

export function currentLanguage(): Language {
  return current;
}

/** A screen's words in the page's language: `w(key)`, and `wf(key, values)` with its
 *  `{name}` places filled in (as text). */
export function vocabulary<K extends string>(
  zh: Record<K, string>,
  en: Record<K, string>,
): { w: (key: K) => string; wf: (key: K, values: Record<string, string | number>) => string } {
  const w = (key: K): string => (current === 'zh' ? zh[key] : en[key]);
  const wf = (key: K, values: Record<string, string | number>): string =>
    w(key).replace(/\{(\w+)\}/g, (all, k: string) => (k in values ? String(values[k]) : all));
  return { w, wf };
}
