/**
 * The times commands accept (compare, restore): ISO-8601 dates (`2026-11-01`, midnight UTC) and
 * date-times with a zone (`2026-11-01T10:00:00Z`, `2026-11-01T12:00+02:00`). Pure.
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
