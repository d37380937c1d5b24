// The same rules the backend enforces, checked as the user fills a form so
// messages appear next to the field before any round trip. The limits come
// from outpost-model's (generated into bindings.ts). Messages are locale keys.
import { LIMITS } from './bindings';

export { LIMITS };

export type Errors = Record<string, string>;

export function required(errors: Errors, field: string, value: string | null | undefined, max: number) {
  const v = (value ?? '').trim();
  if (!v) errors[field] = 'error.required';
  else if (v.length > max) errors[field] = 'error.too_long';
}

export function singleLine(errors: Errors, field: string, value: string) {
  if (!errors[field] && /[\r\n]/.test(value)) errors[field] = 'error.single_line';
}

/** A new passphrase typed twice: at least 8 characters, both the same. */
export function checkNewPassphrase(errors: Errors, field: string, value: string, again: string) {
  if ([...value].length < LIMITS.minPassphrase) errors[field] = 'first.passphrase_short';
  else if (value !== again) errors[field + '_again'] = 'first.passphrase_mismatch';
}

export function parseTags(text: string): string[] {
  return text
    .split(',')
    .map((t) => t.trim().toLowerCase().replace(/\s+/g, '-'))
    .filter((t) => t.length > 0);
}

export function checkTags(errors: Errors, field: string, text: string) {
  const tags = parseTags(text);
  if (tags.length > LIMITS.tags) errors[field] = 'error.too_many_tags';
  else if (tags.some((t) => t.length > LIMITS.tag || !/^[\p{L}\p{N}-]+$/u.test(t)))
    errors[field] = 'error.bad_tag';
}

export function isDate(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const d = new Date(value + 'T00:00:00Z');
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(value);
}

export function validateProfile(p: { name: string; profession: string; region: string; expertise: string }): Errors {
  const e: Errors = {};
  required(e, 'name', p.name, LIMITS.name);
  singleLine(e, 'name', p.name);
  if (p.profession.trim()) singleLine(e, 'profession', p.profession);
  if (p.profession.trim().length > LIMITS.short) e.profession = 'error.too_long';
  if (p.region.trim().length > LIMITS.short) e.region = 'error.too_long';
  checkTags(e, 'expertise', p.expertise);
  return e;
}

export function validateCommunity(c: { name: string; domain: string; charter: string }): Errors {
  const e: Errors = {};
  required(e, 'name', c.name, LIMITS.name);
  singleLine(e, 'name', c.name);
  required(e, 'domain', c.domain, LIMITS.domain);
  if (c.charter.trim().length > LIMITS.text) e.charter = 'error.too_long';
  return e;
}

export function validateCase(c: { title: string; presenting: string; ask: string; history: string; findings: string; tags: string }): Errors {
  const e: Errors = {};
  required(e, 'title', c.title, LIMITS.title);
  singleLine(e, 'title', c.title);
  required(e, 'presenting', c.presenting, LIMITS.text);
  required(e, 'ask', c.ask, LIMITS.text);
  if (c.history.length > LIMITS.text) e.history = 'error.too_long';
  if (c.findings.length > LIMITS.text) e.findings = 'error.too_long';
  checkTags(e, 'tags', c.tags);
  return e;
}

export function validateQuestion(q: { title: string; body: string; tags: string }): Errors {
  const e: Errors = {};
  required(e, 'title', q.title, LIMITS.title);
  singleLine(e, 'title', q.title);
  required(e, 'body', q.body, LIMITS.text);
  checkTags(e, 'tags', q.tags);
  return e;
}

export function validateProtocol(p: { title: string; body: string; review_date: string; references: string; tags: string }): Errors {
  const e: Errors = {};
  required(e, 'title', p.title, LIMITS.title);
  singleLine(e, 'title', p.title);
  required(e, 'body', p.body, LIMITS.protocolBody);
  if (p.review_date.trim() && !isDate(p.review_date.trim())) e.review_date = 'error.date';
  if (p.references.split('\n').some((r) => r.trim().length > LIMITS.reference)) e.references = 'error.too_long';
  checkTags(e, 'tags', p.tags);
  return e;
}
