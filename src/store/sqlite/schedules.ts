/**
 * Schedules and the scheduler's state on SQLite (migration 8). Nothing here is sealed: a rule, a
 * time zone, object names, run IDs and times are not field values. A slot is claimed with one
 * conditional UPDATE, so two schedulers on one vault (serve and `orgvault scheduler`) never both
 * start it.
 */
import type { RunStatus } from '../../core/vault.ts';
import type { ScheduleRecord, ScheduleRule, ScheduleStateRecord, ScheduleStore, ScheduledJob } from '../port.ts';
import type { Connections } from './connection.ts';
import { statement } from './connection.ts';

interface ScheduleRow {
  org_name: string;
  job: string;
  rule: string;
  time_zone: string;
  cycle_days: number | null;
  objects: string | null;
  set_at: number;
  set_by: string;
}

interface StateRow {
  org_name: string;
  job: string;
  last_slot: number | null;
  last_run_id: string | null;
  last_status: string | null;
  last_started_at: number | null;
  last_ended_at: number | null;
  last_success_at: number | null;
  cycle_started_at: number | null;
  baseline_reason: string | null;
  baseline_at: number | null;
  org_id_seen: string | null;
}

function toSchedule(row: ScheduleRow): ScheduleRecord {
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

function toState(row: StateRow): ScheduleStateRecord {
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
const STATE_COLUMNS = {
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

export class SqliteSchedules implements ScheduleStore {
  constructor(private readonly conns: Connections) {}

  async putSchedule(schedule: ScheduleRecord): Promise<void> {
    await this.conns.transaction((db) =>
      statement(
        db,
        `INSERT INTO schedules (org_name, job, rule, time_zone, cycle_days, objects, set_at, set_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (org_name, job) DO UPDATE SET rule = excluded.rule, time_zone = excluded.time_zone, cycle_days = excluded.cycle_days,
           objects = excluded.objects, set_at = excluded.set_at, set_by = excluded.set_by`,
      ).run(
        schedule.orgName,
        schedule.job,
        JSON.stringify(schedule.rule),
        schedule.timeZone,
        schedule.cycleDays,
        schedule.objects === null ? null : JSON.stringify(schedule.objects),
        schedule.setAt,
        schedule.setBy,
      ),
    );
  }

  async getSchedule(orgName: string, job: ScheduledJob): Promise<ScheduleRecord | undefined> {
    const row = statement(this.conns.read, 'SELECT * FROM schedules WHERE org_name = ? AND job = ?').get(orgName, job) as ScheduleRow | undefined;
    return row && toSchedule(row);
  }

  async listSchedules(): Promise<ScheduleRecord[]> {
    return (statement(this.conns.read, 'SELECT * FROM schedules ORDER BY org_name, job').all() as ScheduleRow[]).map(toSchedule);
  }

  async removeSchedule(orgName: string, job: ScheduledJob): Promise<boolean> {
    return this.conns.transaction((db) => statement(db, 'DELETE FROM schedules WHERE org_name = ? AND job = ?').run(orgName, job).changes > 0);
  }

  async getScheduleState(orgName: string, job: ScheduledJob): Promise<ScheduleStateRecord | undefined> {
    const row = statement(this.conns.read, 'SELECT * FROM schedule_state WHERE org_name = ? AND job = ?').get(orgName, job) as StateRow | undefined;
    return row && toState(row);
  }

  async claimScheduleSlot(orgName: string, job: ScheduledJob, slot: number): Promise<boolean> {
    // Durable: after a power cut the claim must not be forgotten while the job it started ran.
    return this.conns.transaction(
      (db) => {
        statement(db, 'INSERT INTO schedule_state (org_name, job) VALUES (?, ?) ON CONFLICT (org_name, job) DO NOTHING').run(orgName, job);
        return statement(db, 'UPDATE schedule_state SET last_slot = ? WHERE org_name = ? AND job = ? AND (last_slot IS NULL OR last_slot < ?)').run(slot, orgName, job, slot).changes > 0;
      },
      { durable: true },
    );
  }

  async updateScheduleState(orgName: string, job: ScheduledJob, patch: Partial<Omit<ScheduleStateRecord, 'orgName' | 'job' | 'lastSlot'>>): Promise<void> {
    const entries = (Object.keys(STATE_COLUMNS) as (keyof typeof STATE_COLUMNS)[]).filter((key) => patch[key] !== undefined);
    await this.conns.transaction((db) => {
      statement(db, 'INSERT INTO schedule_state (org_name, job) VALUES (?, ?) ON CONFLICT (org_name, job) DO NOTHING').run(orgName, job);
      if (entries.length === 0) return;
      const sets = entries.map((key) => `${STATE_COLUMNS[key]} = ?`).join(', ');
      statement(db, `UPDATE schedule_state SET ${sets} WHERE org_name = ? AND job = ?`).run(...entries.map((key) => patch[key] ?? null), orgName, job);
    });
  }
}
