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
