/**
 * Schedules and the scheduler's state on PostgreSQL (migration 8), as the SQLite adapter keeps
 * them: nothing sealed (a rule, a time zone, object names, run IDs and times are not field values);
 * the rule and the object list are the same JSON text, so rows copy between engines as they are.
 *
 * Concurrency: schedulers on several machines share one vault. Every write is one statement, and
 * a slot is claimed by a single INSERT … ON CONFLICT DO UPDATE … WHERE last_slot < slot: PostgreSQL
 * locks the conflicting row and evaluates the condition on its latest committed version, so of
 * any number of schedulers claiming a slot at once (even for a schedule with no state row yet:
 * the second insert waits for the first and takes the conflict path) exactly one gets the row
 * back. Each state update writes only the columns its patch names, so two updates of different
 * fields do not undo each other.
 */
import type { ScheduleRecord, ScheduleStateRecord, ScheduleStore, ScheduledJob } from '../port.ts';
import { STATE_COLUMNS, scheduleParams, toSchedule, toScheduleState } from '../rows/schedules.ts';
import type { ScheduleStateTable, SchedulesTable } from '../schema/tables.ts';
import type { PgConnections } from './connection.ts';

export class PgSchedules implements ScheduleStore {
  constructor(private readonly conns: PgConnections) {}

  async putSchedule(schedule: ScheduleRecord): Promise<void> {
    await this.conns.query(
      `INSERT INTO schedules (org_name, job, rule, time_zone, cycle_days, objects, set_at, set_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (org_name, job) DO UPDATE SET rule = excluded.rule, time_zone = excluded.time_zone, cycle_days = excluded.cycle_days,
         objects = excluded.objects, set_at = excluded.set_at, set_by = excluded.set_by`,
      scheduleParams(schedule),
    );
  }

  async getSchedule(orgName: string, job: ScheduledJob): Promise<ScheduleRecord | undefined> {
    const [row] = await this.conns.query<SchedulesTable>('SELECT * FROM schedules WHERE org_name = $1 AND job = $2', [orgName, job]);
    return row && toSchedule(row);
  }

  async listSchedules(): Promise<ScheduleRecord[]> {
    // Byte order, as SQLite sorts, whatever the database's collation.
    return (await this.conns.query<SchedulesTable>('SELECT * FROM schedules ORDER BY org_name COLLATE "C", job COLLATE "C"')).map(toSchedule);
  }

  async removeSchedule(orgName: string, job: ScheduledJob): Promise<boolean> {
    return (await this.conns.query('DELETE FROM schedules WHERE org_name = $1 AND job = $2 RETURNING job', [orgName, job])).length > 0;
  }

  async getScheduleState(orgName: string, job: ScheduledJob): Promise<ScheduleStateRecord | undefined> {
    const [row] = await this.conns.query<ScheduleStateTable>('SELECT * FROM schedule_state WHERE org_name = $1 AND job = $2', [orgName, job]);
    return row && toScheduleState(row);
  }

  /** One atomic compare-and-set (see the module comment): true for exactly one of concurrent claimers. */
  async claimScheduleSlot(orgName: string, job: ScheduledJob, slot: number): Promise<boolean> {
    const rows = await this.conns.query(
      `INSERT INTO schedule_state AS s (org_name, job, last_slot) VALUES ($1, $2, $3)
       ON CONFLICT (org_name, job) DO UPDATE SET last_slot = excluded.last_slot
         WHERE s.last_slot IS NULL OR s.last_slot < excluded.last_slot
       RETURNING s.last_slot`,
      [orgName, job, slot],
    );
    return rows.length > 0;
  }

  async updateScheduleState(orgName: string, job: ScheduledJob, patch: Partial<Omit<ScheduleStateRecord, 'orgName' | 'job' | 'lastSlot'>>): Promise<void> {
    const keys = (Object.keys(STATE_COLUMNS) as (keyof typeof STATE_COLUMNS)[]).filter((key) => patch[key] !== undefined);
    const columns = keys.map((key) => STATE_COLUMNS[key]);
    const values = keys.map((key) => patch[key] ?? null);
    const placeholders = columns.map((_, i) => `$${i + 3}`);
    const onConflict = columns.length === 0 ? 'DO NOTHING' : `DO UPDATE SET ${columns.map((c) => `${c} = excluded.${c}`).join(', ')}`;
    await this.conns.query(
      `INSERT INTO schedule_state (org_name, job${columns.map((c) => `, ${c}`).join('')}) VALUES ($1, $2${placeholders.map((p) => `, ${p}`).join('')})
       ON CONFLICT (org_name, job) ${onConflict}`,
      [orgName, job, ...values],
    );
  }
}
