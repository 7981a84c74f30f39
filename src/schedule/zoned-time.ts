/**
 * Wall-clock time in an IANA time zone, on Node's Intl only. A schedule says "09:00 in
 * Europe/Paris"; these turn that into instants and back, across DST changes: a wall time that does
 * not exist (the spring-forward gap) is moved forward by the gap, as the clock on the wall is, and
 * a wall time that occurs twice (fall back) is taken at its first occurrence, so a daily job runs
 * once either way.
 */
import { UsageError } from '../core/errors.ts';

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

/** A calendar date in a zone. */
export interface LocalDate {
  year: number;
  month: number;
  day: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Throws a UsageError naming the zone unless it is an IANA time zone Node knows. */
export function checkTimeZone(timeZone: string): string {
  try {
    // Resolving through Intl also accepts aliases (US/Eastern) and normalises the case.
    return new Intl.DateTimeFormat('en-US', { timeZone }).resolvedOptions().timeZone;
  } catch {
    throw new UsageError(`"${timeZone}" is not a time zone: give an IANA name such as Europe/Paris, America/New_York or UTC.`);
  }
}

/** The zone's wall clock at an instant, as the epoch milliseconds a UTC clock would show. */
function wallMs(instant: number, timeZone: string): number {
  const parts: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(new Date(instant))) if (part.type !== 'literal') parts[part.type] = Number(part.value);
  return Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
}

/** The zone's offset from UTC at an instant, in milliseconds (seconds dropped: offsets are whole minutes). */
function offsetAt(instant: number, timeZone: string): number {
  const floored = Math.floor(instant / 1000) * 1000;
  return wallMs(floored, timeZone) - floored;
}

/** The local date at an instant. */
export function localDateOf(instant: number, timeZone: string): LocalDate {
  const wall = new Date(wallMs(instant, timeZone));
  return { year: wall.getUTCFullYear(), month: wall.getUTCMonth() + 1, day: wall.getUTCDate() };
}

/** Minutes since local midnight at an instant. */
export function minuteOfDayAt(instant: number, timeZone: string): number {
  return Math.floor((((wallMs(instant, timeZone) % DAY_MS) + DAY_MS) % DAY_MS) / MINUTE_MS);
}

/** The date `days` after (or before) a local date. */
export function addDays(date: LocalDate, days: number): LocalDate {
  const d = new Date(Date.UTC(date.year, date.month - 1, date.day) + days * DAY_MS);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** The date `months` after a local date, on the same day or the month's last day if it is shorter. */
export function addMonths(date: LocalDate, months: number): LocalDate {
  const index = date.year * 12 + (date.month - 1) + months;
  const year = Math.floor(index / 12);
  const month = (index % 12) + 1;
  const last = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return { year, month, day: Math.min(date.day, last) };
}

/**
 * The instant a wall time of a local date happens in a zone. In a spring-forward gap the time is
 * moved forward by the gap (02:30 becomes 03:30); a time that occurs twice is its first occurrence.
 */
export function instantOf(date: LocalDate, minuteOfDay: number, timeZone: string): number {
  const wall = Date.UTC(date.year, date.month - 1, date.day) + minuteOfDay * MINUTE_MS;
  // Offsets a day either side cover every transition near this time.
  const before = offsetAt(wall - DAY_MS, timeZone);
  const after = offsetAt(wall + DAY_MS, timeZone);
  const candidates = [wall - before, wall - after].filter((t) => wallMs(t, timeZone) === wall).sort((a, b) => a - b);
  if (candidates.length) return candidates[0]!;
  // In the gap: the offset in force before it, which the clock reads as the time plus the gap.
  return wall - before;
}

/** Minutes since local midnight of "HH:MM" (24-hour), or a UsageError naming the flag. */
export function parseClockTime(text: string, flag: string): number {
  const match = /^(\d{1,2}):(\d{2})$/.exec(text.trim());
  const hours = match ? Number(match[1]) : NaN;
  const minutes = match ? Number(match[2]) : NaN;
  if (!match || hours > 23 || minutes > 59) throw new UsageError(`${flag} "${text}" is not a time of day: give HH:MM on a 24-hour clock, such as 02:00 or 21:30.`);
  return hours * 60 + minutes;
}

/** "HH:MM" of minutes since midnight. */
export function formatClockTime(minuteOfDay: number): string {
  return `${String(Math.floor(minuteOfDay / 60)).padStart(2, '0')}:${String(minuteOfDay % 60).padStart(2, '0')}`;
}
