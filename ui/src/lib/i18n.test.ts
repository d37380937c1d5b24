import { describe, expect, it } from 'vitest';
import { formatDate } from './i18n.svelte';
import en from '../locales/en.json';
import es from '../locales/es.json';

// Every t('key') literal in the sources, and every key built from a prefix.
const sources = import.meta.glob(['../**/*.svelte', '../**/*.ts', '!../**/*.test.ts'], {
  query: '?raw',
  import: 'default',
  eager: true,
}) as Record<string, string>;

describe('locales', () => {
  it('English and Spanish have the same keys', () => {
    expect(Object.keys(es).sort()).toEqual(Object.keys(en).sort());
  });

  it('no Spanish string is left empty or in English by mistake', () => {
    const same = Object.keys(en).filter(
      (k) => (en as Record<string, string>)[k] === (es as Record<string, string>)[k] && !k.startsWith('lang.'),
    );
    expect(same).toEqual([]);
  });

  it('every key the code uses exists', () => {
    const used = new Set<string>();
    for (const text of Object.values(sources)) {
      for (const m of text.matchAll(/\bt\('([a-z_]+\.[a-z0-9_-]+)'/g)) used.add(m[1]);
    }
    expect(used.size).toBeGreaterThan(100);
    const missing = [...used].filter((k) => !(k in en));
    expect(missing).toEqual([]);
  });

  it('placeholders match between languages', () => {
    const vars = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const k of Object.keys(en)) {
      expect(vars((es as Record<string, string>)[k]), k).toEqual(vars((en as Record<string, string>)[k]));
    }
  });
});

describe('formatDate', () => {
  it('renders any time a peer may have written', () => {
    expect(formatDate(0)).toMatch(/1970/);
    expect(formatDate(569_000_000_000_000)).toMatch(/\b2000\d\b/);
    for (const ms of [9.3e18, -9.3e18, Number.NaN]) expect(formatDate(ms)).toBe('invalid date');
  });
});
