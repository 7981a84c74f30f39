/**
 * Field values as export formats write them, pure: Salesforce's JSON values (datetimes with a
 * `+0000` offset, numbers, booleans) turned into the text Data Loader writes, and helpers the SQL
 * and Parquet formats share.
 */
import { parseSalesforceDatetime } from '../core/time.ts';

/**
 * A number without an exponent, as Data Loader and SQL want it (`0.0000001`, not `1e-7`). The
 * digits are JavaScript's shortest round-trip form, so nothing is invented or lost.
 */
export function plainNumber(n: number): string {
  if (!Number.isFinite(n)) throw new RangeError(`${n} is not a finite number.`);
  const text = String(n);
  const e = text.indexOf('e');
  if (e < 0) return text;
  const negative = text.startsWith('-');
  const mantissa = text.slice(negative ? 1 : 0, e);
  const exponent = Number(text.slice(e + 1));
  const dot = mantissa.indexOf('.');
  const digits = dot < 0 ? mantissa : mantissa.slice(0, dot) + mantissa.slice(dot + 1);
  const point = (dot < 0 ? mantissa.length : dot) + exponent;
  let plain: string;
  if (point <= 0) plain = `0.${'0'.repeat(-point)}${digits}`;
  else if (point >= digits.length) plain = digits + '0'.repeat(point - digits.length);
  else plain = `${digits.slice(0, point)}.${digits.slice(point)}`;
  return negative ? `-${plain}` : plain;
}

/** Epoch ms of a datetime value (Salesforce's text or epoch ms), undefined when it is not one. */
export function datetimeMs(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  return parseSalesforceDatetime(value);
}

/** A datetime as Data Loader writes it: ISO-8601 in UTC with milliseconds (`2024-01-15T10:20:30.000Z`). */
export function isoDatetime(value: unknown): string | undefined {
  const ms = datetimeMs(value);
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

/** A time of day without its `Z` (Salesforce times are UTC): `10:20:30.000`. */
export function timeOfDay(value: string): string {
  return value.endsWith('Z') ? value.slice(0, -1) : value;
}

/**
 * A value as text, the way Data Loader writes it: datetimes in UTC with milliseconds, dates and
 * times as Salesforce gives them, `true`/`false`, plain numbers, structured values as JSON, and
 * null as null (an empty field).
 */
export function textOf(value: unknown, type: string): string | null {
  if (value === null || value === undefined) return null;
  if (type === 'datetime') {
    const iso = isoDatetime(value);
    if (iso !== undefined) return iso;
  }
  switch (typeof value) {
    case 'string':
      return value;
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      return Number.isFinite(value) ? plainNumber(value) : null;
    case 'bigint':
      return value.toString();
    default:
      return JSON.stringify(value);
  }
}
