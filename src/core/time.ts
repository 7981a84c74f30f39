/**
 * Times, pure: the ones commands accept (compare, restore: ISO-8601 dates, `2026-11-01` at
 * midnight UTC, and date-times with a zone), and Salesforce's datetimes as the API returns them.
 */
import { UsageError } from './errors.ts';

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** Epoch milliseconds of an ISO-8601 time, or a UsageError naming the flag. */
export function parseTime(value: string, flag: string): number {
  const m = ISO.exec(value.trim());
  const help = `${flag} ${JSON.stringify(value)} is not an ISO-8601 time: give a date (2026-11-01, read as midnight UTC) or a date and time with its zone (2026-11-01T10:00:00Z, 2026-11-01T12:00+02:00).`;
  if (!m) throw new UsageError(help);
  const [, y, mo, d, h, mi, s, , zone] = m;
  if (h !== undefined && zone === undefined) throw new UsageError(`${flag} ${JSON.stringify(value)} has no time zone: add Z for UTC or an offset such as +02:00.`);
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const date = new Date(Date.UTC(year, month - 1, day));
  const valid =
    date.getUTCFullYear() === year &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day &&
    (h === undefined || Number(h) <= 23) &&
    (mi === undefined || Number(mi) <= 59) &&
    (s === undefined || Number(s) <= 59);
  if (!valid) throw new UsageError(`${flag} ${JSON.stringify(value)} is not a real date and time. ${help.slice(help.indexOf(':') + 2)}`);
  if (h === undefined) return date.getTime();
  const normalized = value.trim().replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
  const ms = Date.parse(normalized);
  if (Number.isNaN(ms)) throw new UsageError(help);
  return ms;
}

/** Epoch milliseconds as ISO-8601 in UTC. */
export const isoTime = (ms: number): string => new Date(ms).toISOString();

/** Parses Salesforce's datetime forms (`…+0000` from REST, `…Z`) to epoch ms. */
export function parseSalesforceDatetime(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  // Every record's SystemModstamp is parsed, nearly always in REST's exact form
  // (2024-03-17T16:21:26.123+0000): its digits are read directly, where Date.parse after a
  // regular expression cost several microseconds a record.
  if (value.length === 28 && value.charCodeAt(10) === 84 && value.charCodeAt(19) === 46 && value.endsWith('+0000')) {
    const month = num(value, 5, 2);
    const day = num(value, 8, 2);
    const hour = num(value, 11, 2);
    const minute = num(value, 14, 2);
    const second = num(value, 17, 2);
    // Out-of-range parts (month 13) would roll over silently in Date.UTC: left to Date.parse.
    if (month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour < 24 && minute < 60 && second < 60) {
      const ms = Date.UTC(num(value, 0, 4), month - 1, day, hour, minute, second, num(value, 20, 3));
      if (!Number.isNaN(ms)) return ms;
    }
  }
  const ms = Date.parse(value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
  return Number.isNaN(ms) ? undefined : ms;
}

/** The decimal number in `text` at [start, start + length), NaN when a character is not a digit. */
function num(text: string, start: number, length: number): number {
  let n = 0;
  for (let i = start; i < start + length; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return Number.NaN;
    n = n * 10 + digit;
  }
  return n;
}
