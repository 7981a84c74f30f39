/**
 * Schedule rows to domain records, shared by both engines: the rule and the object list are the
 * same JSON text on SQLite and PostgreSQL, so one mapping keeps rows copying between them as they are.
 */
import type { RunStatus } from '../../core/vault.ts';
import type { ScheduleRecord, ScheduleRule, ScheduleStateRecord, ScheduledJob } from '../port.ts';
import type { ScheduleStateTable, SchedulesTable } from '../schema/tables.ts';

/** A `schedules` row as a schedule record. */
export function toSchedule(row: SchedulesTable): ScheduleRecord {
  return {
    orgName: row.org_name,
    job: row.job as ScheduledJob,
    rule: JSON.parse(row.rule) as ScheduleRule,
    timeZone: row.time_zone,
    cycleDays: row.cycle_days,
    objects: row.objects === null ? null : (JSON.parse(row.objects) as string[]),
    setAt: row.set_at,
    setBy: row.set_by,
  };
}

/** A `schedule_state` row as the scheduler's state of one job. */
export function toScheduleState(row: ScheduleStateTable): ScheduleStateRecord {
  return {
    orgName: row.org_name,
    job: row.job as ScheduledJob,
    lastSlot: row.last_slot,
    lastRunId: row.last_run_id,
    lastStatus: row.last_status as RunStatus | null,
    lastStartedAt: row.last_started_at,
    lastEndedAt: row.last_ended_at,
    lastSuccessAt: row.last_success_at,
    cycleStartedAt: row.cycle_started_at,
    baselineReason: row.baseline_reason,
    baselineAt: row.baseline_at,
    orgIdSeen: row.org_id_seen,
  };
}

/** State fields by their column; `lastSlot` moves only through claimScheduleSlot. */
export const STATE_COLUMNS = {
  lastRunId: 'last_run_id',
  lastStatus: 'last_status',
  lastStartedAt: 'last_started_at',
  lastEndedAt: 'last_ended_at',
  lastSuccessAt: 'last_success_at',
  cycleStartedAt: 'cycle_started_at',
  baselineReason: 'baseline_reason',
  baselineAt: 'baseline_at',
  orgIdSeen: 'org_id_seen',
} as const;

/** A schedule's column values in the order (org_name, job, rule, time_zone, cycle_days, objects, set_at, set_by). */
export function scheduleParams(schedule: ScheduleRecord): [string, string, string, string, number | null, string | null, number, string] {
  return [
    schedule.orgName,
    schedule.job,
    JSON.stringify(schedule.rule),
    schedule.timeZone,
    schedule.cycleDays,
    schedule.objects === null ? null : JSON.stringify(schedule.objects),
    schedule.setAt,
    schedule.setBy,
  ];
}
