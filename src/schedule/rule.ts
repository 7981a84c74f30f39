/**
 * When scheduled jobs run: pure functions of a rule, a time zone and an instant, so that the
 * scheduler's decisions are testable without a clock. A rule's slots are the instants its jobs are
 * due; `nextRun` is the first slot after an instant, `latestSlot` the last one at or before it.
 */
import { Cron } from 'croner';
import { UsageError } from '../core/errors.ts';
import type { ScheduleRule } from '../store/port.ts';
import { addDays, addMonths, formatClockTime, instantOf, localDateOf, minuteOfDayAt } from './zoned-time.ts';
import type { LocalDate } from './zoned-time.ts';

const MINUTE_MS = 60_000;
const DAY_MINUTES = 1440;

/** Limits an admin is told about when a value is out of range. */
export const LIMITS = {
  perDay: { min: 1, max: 48 },
  continuousMinutes: { min: 5, max: 60 },
  intervalDays: { min: 1, max: 366 },
  intervalMonths: { min: 1, max: 24 },
} as const;

/** The wall times (minutes since midnight) of a day's jobs, spread evenly from the start. */
export function perDayMinutes(times: number, startMinute: number): number[] {
  const minutes = new Set<number>();
  for (let k = 0; k < times; k++) minutes.add((startMinute + Math.round((k * DAY_MINUTES) / times)) % DAY_MINUTES);
  return [...minutes].sort((a, b) => a - b);
}

function cronOf(expression: string, timeZone: string): Cron {
  return new Cron(expression, { timezone: timeZone, mode: '5-or-6-parts' });
}

/** The slots of one local date, for rules defined on wall-clock days. */
function slotsOfDay(minutes: readonly number[], date: LocalDate, timeZone: string): number[] {
  return minutes.map((m) => instantOf(date, m, timeZone));
}

function dayMinutes(rule: Extract<ScheduleRule, { kind: 'daily' | 'per-day' }>): number[] {
  return rule.kind === 'daily' ? [rule.minute] : perDayMinutes(rule.times, rule.startMinute);
}

/** The k-th slot of an interval rule: its start's wall time, k intervals later on the calendar. */
function intervalSlot(rule: Extract<ScheduleRule, { kind: 'interval' }>, k: number, timeZone: string): number {
  const startDate = localDateOf(rule.start, timeZone);
  const date = rule.unit === 'months' ? addMonths(startDate, k * rule.every) : addDays(startDate, k * rule.every);
  return instantOf(date, minuteOfDayAt(rule.start, timeZone), timeZone);
}

/** An estimate of the index of the interval slot at `t` (exact within one). */
function intervalIndex(rule: Extract<ScheduleRule, { kind: 'interval' }>, t: number): number {
  const unitMs = rule.unit === 'months' ? 30.436875 * DAY_MINUTES * MINUTE_MS : DAY_MINUTES * MINUTE_MS;
  return Math.floor((t - rule.start) / (unitMs * rule.every));
}

/** The first slot strictly after `after`, or null when the rule has none (a cron date in the past). */
export function nextRun(rule: ScheduleRule, timeZone: string, after: number): number | null {
  switch (rule.kind) {
    case 'daily':
    case 'per-day': {
      const today = localDateOf(after, timeZone);
      for (let d = -1; d <= 2; d++) {
        const next = slotsOfDay(dayMinutes(rule), addDays(today, d), timeZone).find((t) => t > after);
        if (next !== undefined) return next;
      }
      return null;
    }
    case 'continuous': {
      const every = rule.everyMinutes * MINUTE_MS;
      const offset = rule.offsetMinutes * MINUTE_MS;
      return Math.floor((after - offset) / every) * every + offset + every;
    }
    case 'cron': {
      const next = cronOf(rule.expression, timeZone).nextRun(new Date(after));
      return next ? next.getTime() : null;
    }
    case 'interval': {
      if (after < rule.start) return rule.start;
      for (let k = Math.max(0, intervalIndex(rule, after) - 1); ; k++) {
        const slot = intervalSlot(rule, k, timeZone);
        if (slot > after) return slot;
      }
    }
  }
}

/** The last slot at or before `at`, or null when there is none. */
export function latestSlot(rule: ScheduleRule, timeZone: string, at: number): number | null {
  switch (rule.kind) {
    case 'daily':
    case 'per-day': {
      const today = localDateOf(at, timeZone);
      for (let d = 1; d >= -2; d--) {
        const slots = slotsOfDay(dayMinutes(rule), addDays(today, d), timeZone).filter((t) => t <= at);
        if (slots.length) return slots[slots.length - 1]!;
      }
      return null;
    }
    case 'continuous': {
      const every = rule.everyMinutes * MINUTE_MS;
      const offset = rule.offsetMinutes * MINUTE_MS;
      return Math.floor((at - offset) / every) * every + offset;
    }
    case 'cron': {
      const [previous] = cronOf(rule.expression, timeZone).previousRuns(1, new Date(at + 1));
      return previous ? previous.getTime() : null;
    }
    case 'interval': {
      if (at < rule.start) return null;
      let k = Math.max(0, intervalIndex(rule, at) + 1);
      while (k > 0 && intervalSlot(rule, k, timeZone) > at) k--;
      return intervalSlot(rule, k, timeZone);
    }
  }
}

/**
 * The slot a job is due for at `now`, if any: the latest slot at or before `now` that comes after
 * `since` (the last slot handled, or when the schedule was set). However many slots passed while
 * nothing ran, only the latest is due: a job missed while the process was down runs once.
 */
export function dueSlot(rule: ScheduleRule, timeZone: string, since: number, now: number): number | null {
  const slot = latestSlot(rule, timeZone, now);
  return slot !== null && slot > since ? slot : null;
}

/** Checks a cron expression; a UsageError says what is wrong and what is accepted. */
export function checkCron(expression: string, timeZone: string, now: number): string {
  const text = expression.trim().replace(/\s+/g, ' ');
  let cron: Cron;
  try {
    cron = cronOf(text, timeZone);
  } catch (error) {
    throw new UsageError(`--cron "${expression}" is not a cron expression (${(error as Error).message}): give five fields, minute hour day-of-month month day-of-week, such as "0 2 * * *" (02:00 daily) or "30 */4 * * 1-5".`);
  }
  if (!cron.nextRun(new Date(now))) throw new UsageError(`--cron "${expression}" never runs again: check its day, month and year fields.`);
  return text;
}

/** The rule in an admin's words, for `schedule show` and the dashboard. */
export function describeRule(rule: ScheduleRule, timeZone: string): string {
  switch (rule.kind) {
    case 'daily':
      return `Daily at ${formatClockTime(rule.minute)} (${timeZone})`;
    case 'per-day':
      return `${rule.times} times a day from ${formatClockTime(rule.startMinute)}, at ${perDayMinutes(rule.times, rule.startMinute).map(formatClockTime).join(', ')} (${timeZone})`;
    case 'continuous':
      return `Continuous: a scan every ${rule.everyMinutes} minutes, at ${rule.offsetMinutes} past each interval`;
    case 'cron':
      return `Cron "${rule.expression}" (${timeZone})`;
    case 'interval':
      return `Every ${rule.every} ${rule.every === 1 ? rule.unit.slice(0, -1) : rule.unit} from ${new Date(rule.start).toISOString()} (${timeZone})`;
  }
}
