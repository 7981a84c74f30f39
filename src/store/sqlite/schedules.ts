/**
 * Schedules and the scheduler's state on SQLite (migration 8). Nothing here is sealed: a rule, a
 * time zone, object names, run IDs and times are not field values. A slot is claimed with one
 * conditional UPDATE, so two schedulers on one vault (serve and `orgvault scheduler`) never both
 * start it.
 */
import type { ScheduleRecord, ScheduleStateRecord, ScheduleStore, ScheduledJob } from '../port.ts';
import { STATE_COLUMNS, scheduleParams, toSchedule, toScheduleState } from '../rows/schedules.ts';
import type { ScheduleStateTable, SchedulesTable } from '../schema/tables.ts';
import type { Connections } from './connection.ts';
import { statement } from './connection.ts';

export class SqliteSchedules implements ScheduleStore {
  constructor(private readonly conns: Connections) {}

  async putSchedule(schedule: ScheduleRecord): Promise<void> {
    await this.conns.transaction((db) =>
      statement(
        db,
        `INSERT INTO schedules (org_name, job, rule, time_zone, cycle_days, objects, set_at, set_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (org_name, job) DO UPDATE SET rule = excluded.rule, time_zone = excluded.time_zone, cycle_days = excluded.cycle_days,
           objects = excluded.objects, set_at = excluded.set_at, set_by = excluded.set_by`,
      ).run(...scheduleParams(schedule)),
    );
  }

  async getSchedule(orgName: string, job: ScheduledJob): Promise<ScheduleRecord | undefined> {
    const row = statement(this.conns.read, 'SELECT * FROM schedules WHERE org_name = ? AND job = ?').get(orgName, job) as SchedulesTable | undefined;
    return row && toSchedule(row);
  }

  async listSchedules(): Promise<ScheduleRecord[]> {
    return (statement(this.conns.read, 'SELECT * FROM schedules ORDER BY org_name, job').all() as SchedulesTable[]).map(toSchedule);
  }

  async removeSchedule(orgName: string, job: ScheduledJob): Promise<boolean> {
    return this.conns.transaction((db) => statement(db, 'DELETE FROM schedules WHERE org_name = ? AND job = ?').run(orgName, job).changes > 0);
  }

  async getScheduleState(orgName: string, job: ScheduledJob): Promise<ScheduleStateRecord | undefined> {
    const row = statement(this.conns.read, 'SELECT * FROM schedule_state WHERE org_name = ? AND job = ?').get(orgName, job) as ScheduleStateTable | undefined;
    return row && toScheduleState(row);
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
