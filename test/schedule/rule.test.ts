// The next-run math of schedules, across time zones and DST changes, and the checks of what an
// admin types: pure functions, no clock.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { UsageError } from '../../src/core/errors.ts';
import { dueSlot, latestSlot, nextRun, parseScheduleInput } from '../../src/schedule/index.ts';
import type { ScheduleRule } from '../../src/store/port.ts';

const at = (iso: string): number => Date.parse(iso);
const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());

/** The slots of a rule in [from, to), by walking nextRun. */
function slots(rule: ScheduleRule, tz: string, from: string, to: string): string[] {
  const out: string[] = [];
  for (let t = nextRun(rule, tz, at(from) - 1); t !== null && t < at(to); t = nextRun(rule, tz, t)) out.push(iso(t)!);
  return out;
}

describe('nextRun', () => {
  test('daily in a zone: the wall time, whichever side of a DST change', () => {
    const rule: ScheduleRule = { kind: 'daily', minute: 9 * 60 };
    // Paris moves to summer time on 2026-03-29.
    assert.deepEqual(slots(rule, 'Europe/Paris', '2026-03-27T00:00:00Z', '2026-03-31T00:00:00Z'), [
      '2026-03-27T08:00:00.000Z',
      '2026-03-28T08:00:00.000Z',
      '2026-03-29T07:00:00.000Z',
      '2026-03-30T07:00:00.000Z',
    ]);
    assert.deepEqual(slots(rule, 'Asia/Kolkata', '2026-06-01T00:00:00Z', '2026-06-03T00:00:00Z'), ['2026-06-01T03:30:00.000Z', '2026-06-02T03:30:00.000Z']);
    assert.deepEqual(slots(rule, 'UTC', '2026-06-01T09:00:00Z', '2026-06-02T09:00:00Z'), ['2026-06-01T09:00:00.000Z']);
  });

  test('a wall time in the spring-forward gap runs once, an hour later on the wall', () => {
    // New York skips 02:00–03:00 on 2026-03-08.
    assert.deepEqual(slots({ kind: 'daily', minute: 150 }, 'America/New_York', '2026-03-07T00:00:00Z', '2026-03-10T00:00:00Z'), [
      '2026-03-07T07:30:00.000Z',
      '2026-03-08T07:30:00.000Z',
      '2026-03-09T06:30:00.000Z',
    ]);
  });

  test('a wall time that happens twice when clocks fall back runs once, at its first occurrence', () => {
    // 01:30 happens at 05:30Z (EDT) and again at 06:30Z (EST) on 2026-11-01.
    assert.deepEqual(slots({ kind: 'daily', minute: 90 }, 'America/New_York', '2026-10-31T00:00:00Z', '2026-11-03T00:00:00Z'), [
      '2026-10-31T05:30:00.000Z',
      '2026-11-01T05:30:00.000Z',
      '2026-11-02T06:30:00.000Z',
    ]);
  });

  test('N a day are spread evenly from the start, N every local day across DST', () => {
    const rule: ScheduleRule = { kind: 'per-day', times: 4, startMinute: 2 * 60 };
    assert.deepEqual(slots(rule, 'UTC', '2026-05-01T00:00:00Z', '2026-05-02T00:00:00Z'), ['2026-05-01T02:00:00.000Z', '2026-05-01T08:00:00.000Z', '2026-05-01T14:00:00.000Z', '2026-05-01T20:00:00.000Z']);
    // Berlin falls back on 2026-10-25: that local day has 25 hours and still 6 jobs.
    const berlin = slots({ kind: 'per-day', times: 6, startMinute: 30 }, 'Europe/Berlin', '2026-10-24T22:00:00Z', '2026-10-25T23:00:00Z');
    assert.equal(berlin.length, 6);
    assert.equal(berlin[0], '2026-10-24T22:30:00.000Z');
    assert.equal(berlin[1], '2026-10-25T03:30:00.000Z');
    assert.equal(slots({ kind: 'per-day', times: 3, startMinute: 0 }, 'Australia/Sydney', '2026-01-01T00:00:00Z', '2026-01-11T00:00:00Z').length, 30);
  });

  test('continuous: every interval, at the org offset within it', () => {
    const rule: ScheduleRule = { kind: 'continuous', everyMinutes: 60, offsetMinutes: 7 };
    assert.equal(iso(nextRun(rule, 'UTC', at('2026-05-01T10:07:00Z'))), '2026-05-01T11:07:00.000Z');
    assert.equal(iso(nextRun(rule, 'UTC', at('2026-05-01T10:06:59Z'))), '2026-05-01T10:07:00.000Z');
    assert.equal(slots({ kind: 'continuous', everyMinutes: 15, offsetMinutes: 0 }, 'UTC', '2026-05-01T00:00:00Z', '2026-05-02T00:00:00Z').length, 96);
  });

  test('cron in a time zone', () => {
    const rule: ScheduleRule = { kind: 'cron', expression: '0 2 * * 1-5' };
    // 2026-05-01 is a Friday: the next weekday is Monday 4 May; London is on summer time.
    assert.equal(iso(nextRun(rule, 'Europe/London', at('2026-05-01T02:00:00Z'))), '2026-05-04T01:00:00.000Z');
    assert.equal(iso(latestSlot(rule, 'Europe/London', at('2026-05-03T12:00:00Z'))), '2026-05-01T01:00:00.000Z');
    assert.equal(iso(latestSlot(rule, 'Europe/London', at('2026-05-01T01:00:00Z'))), '2026-05-01T01:00:00.000Z');
  });

  test('every N months keeps the wall time and the day, clamped to short months', () => {
    const rule: ScheduleRule = { kind: 'interval', start: at('2026-01-31T08:00:00Z'), every: 1, unit: 'months' };
    assert.deepEqual(slots(rule, 'Europe/Paris', '2026-01-01T00:00:00Z', '2026-05-01T00:00:00Z'), [
      '2026-01-31T08:00:00.000Z',
      '2026-02-28T08:00:00.000Z',
      '2026-03-31T07:00:00.000Z',
      '2026-04-30T07:00:00.000Z',
    ]);
    assert.equal(iso(latestSlot(rule, 'Europe/Paris', at('2026-03-30T00:00:00Z'))), '2026-02-28T08:00:00.000Z');
    assert.equal(latestSlot(rule, 'Europe/Paris', at('2026-01-30T00:00:00Z')), null);
  });
});

describe('dueSlot', () => {
  const daily: ScheduleRule = { kind: 'daily', minute: 2 * 60 };
  test('only the latest slot is due after days without running, and none once it was handled', () => {
    const since = at('2026-05-01T02:00:00Z');
    const now = at('2026-05-04T10:00:00Z');
    assert.equal(iso(dueSlot(daily, 'UTC', since, now)), '2026-05-04T02:00:00.000Z');
    assert.equal(dueSlot(daily, 'UTC', at('2026-05-04T02:00:00Z'), now), null);
    assert.equal(dueSlot(daily, 'UTC', since, at('2026-05-02T01:59:59Z')), null);
  });
});

describe('parseScheduleInput', () => {
  const now = at('2026-05-01T12:00:00Z');
  const refused = (input: Parameters<typeof parseScheduleInput>[0], pattern: RegExp): void =>
    assert.throws(() => parseScheduleInput(input, 'prod', now), (e: unknown) => e instanceof UsageError && pattern.test(e.message));

  test('each kind', () => {
    assert.deepEqual(parseScheduleInput({ daily: '21:30', timeZone: 'Europe/Paris' }, 'prod', now).rule, { kind: 'daily', minute: 21 * 60 + 30 });
    assert.deepEqual(parseScheduleInput({ perDay: 4, start: '02:00', timeZone: 'UTC' }, 'prod', now).rule, { kind: 'per-day', times: 4, startMinute: 120 });
    const continuous = parseScheduleInput({ continuous: true, timeZone: 'UTC' }, 'prod', now).rule;
    assert.equal(continuous.kind === 'continuous' && continuous.everyMinutes, 60);
    assert.deepEqual(parseScheduleInput({ cron: '0  3 * * *', timeZone: 'UTC' }, 'prod', now).rule, { kind: 'cron', expression: '0 3 * * *' });
    // A permission check is monthly from now unless told otherwise.
    const check = parseScheduleInput({ job: 'permissions', start: '2026-06-01T09:00', timeZone: 'UTC' }, 'prod', now);
    assert.deepEqual(check.rule, { kind: 'interval', start: at('2026-06-01T09:00:00Z'), every: 1, unit: 'months' });
    assert.equal(parseScheduleInput({ daily: '01:00', timeZone: 'us/eastern' }, 'prod', now).timeZone, 'America/New_York');
  });

  test('bad input is refused, naming what is wrong and how to fix it', () => {
    refused({ daily: '25:00', timeZone: 'UTC' }, /--daily "25:00" is not a time of day: give HH:MM/);
    refused({ daily: '09:00', timeZone: 'Mars/Olympus' }, /"Mars\/Olympus" is not a time zone: give an IANA name/);
    refused({ cron: '61 * * * *', timeZone: 'UTC' }, /--cron "61 \* \* \* \*" is not a cron expression .*five fields/);
    refused({ perDay: 0, timeZone: 'UTC' }, /--per-day 0 is out of range: give a whole number from 1 to 48/);
    refused({ perDay: 49, timeZone: 'UTC' }, /from 1 to 48/);
    refused({ continuous: true, every: 90, timeZone: 'UTC' }, /--every 90 is out of range: .*from 5 to 60/);
    refused({ daily: '09:00', cron: '0 9 * * *', timeZone: 'UTC' }, /Give one kind of schedule, not --daily and --cron/);
    refused({ timeZone: 'UTC' }, /Say when backups run/);
    refused({ daily: '09:00', start: '02:00', timeZone: 'UTC' }, /--start goes with --per-day/);
    refused({ daily: '09:00', every: 10, timeZone: 'UTC' }, /--every .* goes with --continuous/);
    refused({ job: 'permissions', everyMonths: 1, cycleDays: 30, timeZone: 'UTC' }, /backup schedules only/);
    refused({ daily: '09:00', cycleDays: 0, timeZone: 'UTC' }, /--cycle-days 0 is out of range/);
  });
});
