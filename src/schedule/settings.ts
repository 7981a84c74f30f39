/**
 * Setting, showing and clearing an org's schedules: what `orgvault schedule` and the dashboard
 * call. Input is checked whole before anything is saved (a UsageError names the flag at fault and
 * what it accepts); every change is audited.
 */
import { UsageError } from '../core/errors.ts';
import type { AuditEntry, ObjectState, OrgRegistration, RunStatus } from '../core/vault.ts';
import type { ObjectStateStore, RunLog, ScheduleRecord, ScheduleRule, ScheduleStore, ScheduledJob } from '../store/port.ts';
import { DEFAULT_CYCLE_DAYS, cycleStart } from './baseline.ts';
import { LIMITS, checkCron, describeRule, nextRun } from './rule.ts';
import { checkTimeZone, instantOf, localDateOf, parseClockTime } from './zoned-time.ts';

const DAY_MS = 86_400_000;
export const SCHEDULED_JOBS: readonly ScheduledJob[] = ['backup', 'permissions'];

/** A schedule as an admin gives it (CLI flags, a dashboard form). Exactly one kind of rule. */
export interface ScheduleInput {
  job?: ScheduledJob;
  /** "HH:MM": once a day. */
  daily?: string;
  /** N jobs a day, spread evenly from `start` ("HH:MM", default 00:00). */
  perDay?: number;
  /** A scan every `every` minutes (default 60). */
  continuous?: boolean;
  /** Minutes between continuous scans. */
  every?: number;
  cron?: string;
  /** Every N days or months from `start`: the permission check's kind (monthly by default). */
  everyDays?: number;
  everyMonths?: number;
  /** "HH:MM" with --per-day; "YYYY-MM-DDTHH:MM" or "HH:MM" with --every-days/--every-months. */
  start?: string;
  /** IANA time zone; the host's when absent. */
  timeZone?: string;
  /** Backups: days of a backup cycle, after which the next job is a full baseline. */
  cycleDays?: number;
  /** Backups: only these objects. */
  objects?: string[];
}

/** The host's time zone, the default of a schedule. */
export function hostTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

function wholeIn(value: number | undefined, flag: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < min || value > max) throw new UsageError(`${flag} ${String(value)} is out of range: give a whole number from ${min} to ${max}.`);
  return value;
}

/** Spreads orgs' continuous scans over the interval: the same org always gets the same offset. */
function spreadOffset(orgName: string, everyMinutes: number): number {
  let hash = 0;
  for (const char of orgName) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return hash % everyMinutes;
}

/** The rule an input describes, checked; a UsageError says what is wrong and how to fix it. */
export function parseScheduleInput(input: ScheduleInput, orgName: string, now: number): Pick<ScheduleRecord, 'job' | 'rule' | 'timeZone' | 'cycleDays' | 'objects'> {
  const job = input.job ?? 'backup';
  if (!SCHEDULED_JOBS.includes(job)) throw new UsageError(`--job ${String(job)} is not a scheduled job: give ${SCHEDULED_JOBS.join(' or ')}.`);
  const timeZone = checkTimeZone(input.timeZone ?? hostTimeZone());
  const kinds = [
    input.daily !== undefined && '--daily',
    input.perDay !== undefined && '--per-day',
    input.continuous === true && '--continuous',
    input.cron !== undefined && '--cron',
    input.everyDays !== undefined && '--every-days',
    input.everyMonths !== undefined && '--every-months',
  ].filter((k): k is string => typeof k === 'string');
  if (kinds.length > 1) throw new UsageError(`Give one kind of schedule, not ${kinds.join(' and ')}: --daily HH:MM, --per-day N --start HH:MM, --continuous [--every MINUTES], --cron EXPR, or --every-days/--every-months N.`);
  if (kinds.length === 0 && job === 'backup') throw new UsageError('Say when backups run: --daily HH:MM, --per-day N [--start HH:MM], --continuous [--every MINUTES] or --cron "EXPR" (with --tz ZONE).');
  const kind = kinds[0] ?? '--every-months';
  if (input.every !== undefined && kind !== '--continuous') throw new UsageError('--every (minutes between scans) goes with --continuous.');
  if (input.start !== undefined && !['--per-day', '--every-days', '--every-months'].includes(kind)) throw new UsageError(`--start goes with --per-day, --every-days or --every-months, not ${kind}.`);
  if (job !== 'backup' && (input.cycleDays !== undefined || input.objects !== undefined)) throw new UsageError('--cycle-days and --object apply to backup schedules only.');

  let rule: ScheduleRule;
  switch (kind) {
    case '--daily':
      rule = { kind: 'daily', minute: parseClockTime(input.daily!, '--daily') };
      break;
    case '--per-day':
      rule = { kind: 'per-day', times: wholeIn(input.perDay, '--per-day', LIMITS.perDay.min, LIMITS.perDay.max)!, startMinute: input.start === undefined ? 0 : parseClockTime(input.start, '--start') };
      break;
    case '--continuous': {
      const { min, max } = LIMITS.continuousMinutes;
      const every = wholeIn(input.every ?? 60, '--every', min, max)!;
      rule = { kind: 'continuous', everyMinutes: every, offsetMinutes: spreadOffset(orgName, every) };
      break;
    }
    case '--cron':
      rule = { kind: 'cron', expression: checkCron(input.cron!, timeZone, now) };
      break;
    default: {
      const unit = kind === '--every-days' ? 'days' : 'months';
      const limits = unit === 'days' ? LIMITS.intervalDays : LIMITS.intervalMonths;
      const every = wholeIn(unit === 'days' ? input.everyDays : (input.everyMonths ?? 1), kind, limits.min, limits.max)!;
      rule = { kind: 'interval', start: parseStart(input.start, timeZone, now), every, unit };
    }
  }
  const cycleDays = job === 'backup' ? (wholeIn(input.cycleDays, '--cycle-days', 1, 3650) ?? null) : null;
  const objects = input.objects?.length ? [...new Set(input.objects)] : null;
  for (const name of objects ?? []) {
    if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(name)) throw new UsageError(`--object ${name} is not an object API name (letters, digits, underscores), such as Account or Invoice__c.`);
  }
  return { job, rule, timeZone, cycleDays, objects };
}

/** An interval's start: a local date and time, or a time of day (its next occurrence); now when absent. */
function parseStart(text: string | undefined, timeZone: string, now: number): number {
  if (text === undefined) return Math.ceil(now / 60_000) * 60_000;
  const match = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{1,2}:\d{2})$/.exec(text.trim());
  if (match) {
    const date = { year: Number(match[1]), month: Number(match[2]), day: Number(match[3]) };
    const check = new Date(Date.UTC(date.year, date.month - 1, date.day));
    if (check.getUTCMonth() !== date.month - 1 || check.getUTCDate() !== date.day) throw new UsageError(`--start "${text}" is not a date: give YYYY-MM-DDTHH:MM, such as 2026-12-01T09:00.`);
    return instantOf(date, parseClockTime(match[4]!, '--start'), timeZone);
  }
  const minute = parseClockTime(text, '--start');
  const today = localDateOf(now, timeZone);
  const at = instantOf(today, minute, timeZone);
  return at > now ? at : instantOf(localDateOf(now + DAY_MS, timeZone), minute, timeZone);
}

export interface ScheduleDeps {
  store: ScheduleStore;
  audit: { appendAudit(entry: AuditEntry): Promise<void> };
  actor: string;
  now?: () => number;
}

/** Saves the org's schedule of a job (replacing the one it had), audited; returns it. */
export async function setSchedule(deps: ScheduleDeps, org: OrgRegistration, input: ScheduleInput): Promise<ScheduleRecord> {
  const now = (deps.now ?? Date.now)();
  const parsed = parseScheduleInput(input, org.name, now);
  const schedule: ScheduleRecord = { orgName: org.name, ...parsed, setAt: now, setBy: deps.actor };
  await deps.store.putSchedule(schedule);
  await deps.audit.appendAudit({
    at: now,
    actor: deps.actor,
    action: 'schedule.set',
    target: org.name,
    details: { job: schedule.job, schedule: describeRule(schedule.rule, schedule.timeZone), cycleDays: schedule.cycleDays, objects: schedule.objects },
  });
  return schedule;
}

/** Removes the org's schedule of a job, audited; false when it had none. */
export async function clearSchedule(deps: ScheduleDeps, org: OrgRegistration, job: ScheduledJob = 'backup'): Promise<boolean> {
  const removed = await deps.store.removeSchedule(org.name, job);
  if (removed) await deps.audit.appendAudit({ at: (deps.now ?? Date.now)(), actor: deps.actor, action: 'schedule.clear', target: org.name, details: { job } });
  return removed;
}

/** A schedule as `schedule show --json` and the dashboard present it. */
export interface ScheduleView {
  org: string;
  job: ScheduledJob;
  description: string;
  rule: ScheduleRule;
  timeZone: string;
  /** ISO instant of the next job. */
  nextRun: string | null;
  setAt: string;
  setBy: string;
  objects: string[] | null;
  lastRun: { runId: string | null; status: RunStatus | null; startedAt: string | null; endedAt: string | null; message: string | null } | null;
  /** Backups: the cycle, when the next full baseline is due at the latest, and the last baseline's reason. */
  cycle: { days: number; startedAt: string | null; nextBaselineBy: string | null; lastBaseline: { reason: string; at: string } | null } | null;
}

const iso = (t: number | null | undefined): string | null => (t === null || t === undefined ? null : new Date(t).toISOString());

/** The org's schedules with their next run and last outcome. */
export async function scheduleViews(store: ScheduleStore & RunLog & ObjectStateStore, org: OrgRegistration, now: number): Promise<ScheduleView[]> {
  const views: ScheduleView[] = [];
  for (const job of SCHEDULED_JOBS) {
    const schedule = await store.getSchedule(org.name, job);
    if (!schedule) continue;
    const state = await store.getScheduleState(org.name, job);
    const since = Math.max(now, schedule.setAt, state?.lastSlot ?? Number.NEGATIVE_INFINITY);
    const run = state?.lastRunId ? await store.getRun(state.lastRunId) : undefined;
    let cycle: ScheduleView['cycle'] = null;
    if (job === 'backup') {
      const days = schedule.cycleDays ?? DEFAULT_CYCLE_DAYS;
      const objects: ObjectState[] = await store.getObjectStates(org.orgId);
      const start = cycleStart(state?.cycleStartedAt ?? null, objects);
      cycle = {
        days,
        startedAt: iso(start),
        nextBaselineBy: iso(start === null ? null : start + days * DAY_MS),
        lastBaseline: state?.baselineReason && state.baselineAt !== null ? { reason: state.baselineReason, at: iso(state.baselineAt)! } : null,
      };
    }
    views.push({
      org: org.name,
      job,
      description: describeRule(schedule.rule, schedule.timeZone),
      rule: schedule.rule,
      timeZone: schedule.timeZone,
      nextRun: iso(nextRun(schedule.rule, schedule.timeZone, since)),
      setAt: iso(schedule.setAt)!,
      setBy: schedule.setBy,
      objects: schedule.objects,
      lastRun: state && (state.lastRunId || state.lastStatus)
        ? { runId: state.lastRunId, status: state.lastStatus, startedAt: iso(state.lastStartedAt), endedAt: iso(state.lastEndedAt), message: run?.message ?? null }
        : null,
      cycle,
    });
  }
  return views;
}
