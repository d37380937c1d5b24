// Every user-facing string lives in src/locales/*.json; `t` looks a key up
// in the current language (falling back to English) and fills {name}
// placeholders. A test checks both files have the same keys and that every
// key the code uses exists.
import en from '../locales/en.json';
import es from '../locales/es.json';

export type Lang = 'en' | 'es';
export const LANGS: Lang[] = ['en', 'es'];
const dicts: Record<Lang, Record<string, string>> = { en, es };
const STORAGE_KEY = 'outpost.lang';

function initial(): Lang {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (saved === 'en' || saved === 'es') return saved;
  } catch {
    // storage unavailable: fall through to the browser's language
  }
  return typeof navigator !== 'undefined' && navigator.language?.startsWith('es') ? 'es' : 'en';
}

let current = $state<Lang>(initial());

export const i18n = {
  get lang(): Lang {
    return current;
  },
  set lang(value: Lang) {
    current = value;
    try {
      localStorage.setItem(STORAGE_KEY, value);
    } catch {
      // not persisted; still switched for this session
    }
    if (typeof document !== 'undefined') document.documentElement.lang = value;
  },
};

export function t(key: string, vars: Record<string, string | number> = {}): string {
  const text = dicts[current][key] ?? dicts.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
}

// One formatter per language: building an Intl formatter per call costs
// more than a list row.
const formatters = new Map<Lang, Intl.DateTimeFormat>();

/** Dates and times in the user's language. */
export function formatDate(ms: number): string {
  let f = formatters.get(current);
  if (!f) {
    f = new Intl.DateTimeFormat(current === 'es' ? 'es-ES' : 'en-GB', { dateStyle: 'medium', timeStyle: 'short' });
    formatters.set(current, f);
  }
  // A time from a peer's document may be anything: one no calendar holds
  // (a year past 275760, a NaN) shows as such instead of throwing.
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? t('date.invalid') : f.format(d);
}

export function translations(lang: Lang): Record<string, string> {
  return dicts[lang];
}
