/**
 * How record fields and search text become search tokens, pure. The vault's blind index
 * (src/store) and the search use case (src/search) must tokenise alike, so the rules live here,
 * in the layer both may use.
 *
 * A token is a run of letters and digits after Unicode NFKC, lower-casing and folding diacritics
 * (`Müller` → `muller`, `ＡＣＭＥ` → `acme`), at least two characters long (a single Han, Hiragana
 * or Katakana character is a token of its own: those scripts do not separate words). Emails are
 * also tokens whole (`jane.doe@acme.com`), and so are phone numbers, as their digits and, when
 * longer than ten digits, their last ten (so `+1 (415) 555-0123` is found by `4155550123`).
 *
 * What is searched: every string value of a record, nested ones (compound fields) included,
 * except dates and date-times (`2024-03-17`, `…T16:21:26.000+0000`: they would make every record
 * unique without being words anyone types) and record IDs in `…Id` fields (IDs are in clear in the
 * vault anyway: `orgvault history ID` finds a record by its ID). Numbers and booleans are not
 * text and are not searched.
 */
import { isRecordId } from './vault.ts';

/** Tokens longer than this are not words (hashes, encoded data): not indexed. */
const MAX_TOKEN = 64;
/** Phone numbers have 7 to 15 digits (E.164). */
const MIN_PHONE_DIGITS = 7;
const MAX_PHONE_DIGITS = 15;
/** The national part of a phone number: what `+1 415 555 0123` and `(415) 555-0123` share. */
const NATIONAL_DIGITS = 10;

/** Text in plain ASCII needs no Unicode normalisation: the fast path of nearly every value. */
const PLAIN_ASCII = /^[\t\n\r\x20-\x7e]*$/;
const WORD = /[\p{L}\p{N}]+/gu;
/** Words of the original text, combining marks included, for snippets. */
const RAW_WORD = /[\p{L}\p{N}\p{M}]+/gu;
const MARKS = /\p{M}+/gu;
const UNSPACED_SCRIPT = /[\p{sc=Han}\p{sc=Hiragana}\p{sc=Katakana}]/u;
const UNSPACED_CHAR = /[\p{sc=Han}\p{sc=Hiragana}\p{sc=Katakana}]|[^\p{sc=Han}\p{sc=Hiragana}\p{sc=Katakana}]+/gu;
const EMAIL = /[\p{L}\p{N}._%+'-]+@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)*\.\p{L}{2,}/gu;
const PHONE = /^\+?[\d\s().\-/]+$/;
const DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;
/** Letters NFD does not decompose into a base letter and a mark, folded as a reader would. */
const FOLDS: Readonly<Record<string, string>> = { ß: 'ss', æ: 'ae', œ: 'oe', ø: 'o', ł: 'l', đ: 'd', ð: 'd', þ: 'th', ı: 'i', ŧ: 't', ħ: 'h' };
const FOLDABLE = /[ßæœøłđðþıŧħ]/;
const FOLDABLE_ALL = /[ßæœøłđðþıŧħ]/g;

/** A field's text, as search sees it: the field's API name (nested: `BillingAddress.city`) and its value. */
export interface SearchableValue {
  field: string;
  value: string;
}

/** Lower-cased, NFKC-normalised text with diacritics folded: the form tokens are cut from. */
export function normalizeText(text: string): string {
  return PLAIN_ASCII.test(text) ? text.toLowerCase() : foldUnicode(text);
}

function foldUnicode(text: string): string {
  let out = text.normalize('NFKC').toLowerCase().normalize('NFD').replace(MARKS, '');
  if (FOLDABLE.test(out)) out = out.replace(FOLDABLE_ALL, (c) => FOLDS[c] ?? c);
  return out.normalize('NFC');
}

function addWord(word: string, out: Set<string>): void {
  if (word.length > MAX_TOKEN) return;
  if (!UNSPACED_SCRIPT.test(word)) {
    if (word.length >= 2) out.add(word);
    return;
  }
  for (const piece of word.match(UNSPACED_CHAR) ?? []) {
    if (piece.length >= 2 || UNSPACED_SCRIPT.test(piece)) out.add(piece);
  }
}

function phoneDigits(text: string): string | undefined {
  if (!PHONE.test(text)) return undefined;
  const digits = text.replace(/\D/g, '');
  return digits.length >= MIN_PHONE_DIGITS && digits.length <= MAX_PHONE_DIGITS ? digits : undefined;
}

/** Adds the tokens of one value (words, whole emails, a whole phone number) to `out`. */
export function addValueTokens(value: string, out: Set<string>): void {
  let text: string;
  if (PLAIN_ASCII.test(value)) {
    text = value.toLowerCase();
    addAsciiWords(text, out);
  } else {
    text = foldUnicode(value);
    for (const m of text.matchAll(WORD)) addWord(m[0], out);
  }
  if (text.includes('@')) for (const m of text.matchAll(EMAIL)) if (m[0].length <= MAX_TOKEN * 2) out.add(m[0]);
  const first = text.charCodeAt(0);
  if (first === 43 || first === 40 || (first >= 48 && first <= 57)) {
    const digits = phoneDigits(text.trim());
    if (digits) {
      out.add(digits);
      if (digits.length > NATIONAL_DIGITS) out.add(digits.slice(-NATIONAL_DIGITS));
    }
  }
}

/** Words of lower-cased ASCII text: a character loop, measured at twice the speed of a regular expression. */
function addAsciiWords(text: string, out: Set<string>): void {
  let start = -1;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 32;
    if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57)) {
      if (start < 0) start = i;
    } else if (start >= 0) {
      const length = i - start;
      if (length >= 2 && length <= MAX_TOKEN) out.add(text.slice(start, i));
      start = -1;
    }
  }
}

/** The tokens of one value. */
export function valueTokens(value: string): Set<string> {
  const out = new Set<string>();
  addValueTokens(value, out);
  return out;
}

function isSkipped(field: string, value: string): boolean {
  if (value.length < 2) return true;
  const c = value.charCodeAt(0);
  if (c >= 48 && c <= 57 && value.length >= 10 && DATE.test(value)) return true;
  return (field === 'Id' || field.endsWith('Id')) && isRecordId(value);
}

function visit(field: string, value: unknown, fn: (field: string, value: string) => void): void {
  if (typeof value === 'string') {
    if (!isSkipped(field, value)) fn(field, value);
  } else if (Array.isArray(value)) {
    for (const item of value) visit(field, item, fn);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, nested] of Object.entries(value)) if (key !== 'attributes') visit(`${field}.${key}`, nested, fn);
  }
}

/** Calls `fn` with each value of a record's fields that search looks at, in field order. */
export function eachSearchableValue(fields: Record<string, unknown>, fn: (field: string, value: string) => void): void {
  for (const key in fields) if (key !== 'attributes') visit(key, fields[key], fn);
}

/** The values of a record's fields that search looks at, in field order. */
export function searchableValues(fields: Record<string, unknown>): SearchableValue[] {
  const out: SearchableValue[] = [];
  eachSearchableValue(fields, (field, value) => out.push({ field, value }));
  return out;
}

/** Every token of a record version's fields. */
export function recordTokens(fields: Record<string, unknown>, out: Set<string> = new Set()): Set<string> {
  eachSearchableValue(fields, (_field, value) => addValueTokens(value, out));
  return out;
}

/**
 * One word of a search: the tokens any of which satisfies it. A long digit run is also its last
 * ten digits, as phone numbers are indexed (`14155550123` finds `(415) 555-0123`).
 */
export type SearchTerm = readonly string[];

/**
 * The terms of search text: every word must match (AND). Words are cut as values are, so that
 * `jane.doe@acme.com` asks for `jane`, `doe`, `acme`, `com` and the email whole, and `Müller`
 * finds `MULLER`. Returns no term for text without a word of two letters or digits.
 */
export function queryTerms(text: string): SearchTerm[] {
  const words = new Set<string>();
  const normalized = normalizeText(text);
  for (const m of normalized.matchAll(WORD)) addWord(m[0], words);
  if (normalized.includes('@')) for (const m of normalized.matchAll(EMAIL)) words.add(m[0]);
  return [...words].map((word) => (/^\d+$/.test(word) && word.length > NATIONAL_DIGITS && word.length <= MAX_PHONE_DIGITS ? [word, word.slice(-NATIONAL_DIGITS)] : [word]));
}

/** Whether a set of tokens satisfies every term. */
export function matchesAll(tokens: ReadonlySet<string>, terms: readonly SearchTerm[]): boolean {
  return terms.every((term) => term.some((token) => tokens.has(token)));
}

/**
 * Where a value matches any of the terms: [start, end) ranges of its words (and emails, and the
 * whole value for a phone number) in the original text, for snippets.
 */
export function matchRanges(value: string, terms: readonly SearchTerm[]): [number, number][] {
  const wanted = new Set(terms.flat());
  const ranges: [number, number][] = [];
  for (const m of value.matchAll(RAW_WORD)) {
    const tokens = new Set<string>();
    for (const w of normalizeText(m[0]).matchAll(WORD)) addWord(w[0], tokens);
    if ([...tokens].some((t) => wanted.has(t))) ranges.push([m.index, m.index + m[0].length]);
  }
  if (value.includes('@')) {
    for (const m of value.matchAll(EMAIL)) if (wanted.has(normalizeText(m[0]))) ranges.push([m.index, m.index + m[0].length]);
  }
  if (ranges.length === 0) {
    const digits = phoneDigits(normalizeText(value).trim());
    if (digits && (wanted.has(digits) || wanted.has(digits.slice(-NATIONAL_DIGITS)))) ranges.push([0, value.length]);
  }
  return ranges.sort((a, b) => a[0] - b[0]);
}
