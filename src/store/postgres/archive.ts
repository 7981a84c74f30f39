/**
 * The archive journal and the archive marks on PostgreSQL, as on SQLite (../sqlite/archive.ts). A
 * step is committed before its deletes are sent to Salesforce, and completed in one transaction
 * with its results and the marks of the records it deleted. A step without completed_at is one a
 * crash interrupted: its deletes may or may not have reached the org, which only the org can say.
 *
 * What is sealed: a result's message (Salesforce's errors may quote field values), bound to its
 * run, step and record with SQLite's associated data, so rows copy between the engines. IDs,
 * object names, outcomes, status codes and SystemModstamps stay in clear.
 *
 * Whether an archived record was restored since is not stored but read when asked: the vault has
 * seen it live again after the archive (a newer head that is not deleted), or a restore
 * re-created it under a new ID (an ID mapping made after the archive).
 *
 * Concurrency: beginning a step is one `INSERT … ON CONFLICT DO NOTHING`; completing one locks the
 * step's row (FOR UPDATE) first, so of two completions the second sees completed_at and writes
 * nothing. Marks are upserted in one statement, in record-ID order so that two archives marking
 * overlapping records lock them in the same order; the last to commit names its run, as in SQLite.
 */
import { sql } from 'kysely';
import type { Selectable } from 'kysely';
import { OrgvaultError } from '../../core/errors.ts';
import type { ArchiveOutcome, ArchiveResult, ArchiveStep, ArchiveStepRecord, ArchivedRecord } from '../../core/vault.ts';
import type { Keyring } from '../../crypto/keys.ts';
import { open, seal } from '../../crypto/seal.ts';
import type { ArchiveStore } from '../port.ts';
import type { ArchiveResultsTable, ArchiveStepsTable } from '../schema/tables.ts';
import type { PgConnections } from './connection.ts';

// JSON rather than joining with ':': run and step IDs are the caller's and may contain one.
const messageAad = (runId: string, stepId: string, recordId: string): string => `orgvault:archive-result:${JSON.stringify([runId, stepId, recordId])}:message`;

/** Rows per INSERT: well under PostgreSQL's bound-parameter limit. */
const ROWS_PER_INSERT = 1000;

/** The restored test, on an `archived_records` row aliased `a`. */
const RESTORED = sql<boolean>`(
  EXISTS (SELECT 1 FROM objects o JOIN record_heads h ON h.object_key = o.object_key
          WHERE o.org_id = a.org_id AND o.name = a.object_name AND h.record_id = a.record_id
            AND h.is_deleted = 0 AND h.system_modstamp > a.system_modstamp)
  OR EXISTS (SELECT 1 FROM id_mappings m WHERE m.org_id = a.org_id AND m.old_id = a.record_id AND m.created_at >= a.archived_at)
)`;

function toStep(row: Selectable<ArchiveStepsTable>): ArchiveStep {
  return {
    runId: row.run_id,
    stepId: row.step_id,
    objectName: row.object_name,
    action: row.action as ArchiveStep['action'],
    records: JSON.parse(row.records) as ArchiveStepRecord[],
    startedAt: row.started_at,
    completedAt: row.completed_at,
  };
}

export class PgArchive implements ArchiveStore {
  constructor(
    private readonly conns: PgConnections,
    private readonly keyring: Keyring,
  ) {}

  /** Committed when it returns: the deletes it announces go to Salesforce next, and a resumed archive must know of them. */
  async beginArchiveStep(step: ArchiveStep): Promise<void> {
    if (step.completedAt !== null) {
      throw new OrgvaultError('ARCHIVE_STEP_COMPLETED', `Archive step ${step.stepId} of run ${step.runId} is begun uncompleted; its results complete it (completeArchiveStep).`);
    }
    const inserted = await this.conns.db
      .insertInto('archive_steps')
      .values({
        run_id: step.runId,
        step_id: step.stepId,
        object_name: step.objectName,
        action: step.action,
        records: JSON.stringify(step.records),
        started_at: step.startedAt,
        completed_at: null,
      })
      .onConflict((oc) => oc.columns(['run_id', 'step_id']).doNothing())
      .returning('seq')
      .executeTakeFirst();
    if (!inserted) {
      throw new OrgvaultError('ARCHIVE_STEP_EXISTS', `Archive step ${step.stepId} of run ${step.runId} was already begun; step IDs are unique within a run.`);
    }
  }

  /**
   * All or nothing: results, marks and completion commit together, so a resumed archive never
   * finds a record reported deleted without its mark, nor a step completed without its results.
   */
  async completeArchiveStep(orgId: string, runId: string, stepId: string, completedAt: number, results: ArchiveResult[]): Promise<void> {
    const stray = results.find((r) => r.stepId !== stepId);
    if (stray) {
      throw new OrgvaultError('ARCHIVE_STEP_MISMATCH', `A result of record ${stray.recordId} names step ${stray.stepId}, not step ${stepId} it was given to complete (run ${runId}).`);
    }
    const unmarked = results.find((r) => r.outcome === 'Deleted' && r.systemModstamp === null);
    if (unmarked) {
      throw new OrgvaultError('ARCHIVE_MARK_INCOMPLETE', `Record ${unmarked.recordId} is reported deleted without the SystemModstamp of the version the vault holds (run ${runId}); a deleted record is marked with it.`);
    }
    // Sealed before the transaction, which holds the step's row lock.
    const rows = results.map((r) => ({
      run_id: runId,
      step_id: stepId,
      object_name: r.objectName,
      record_id: r.recordId,
      outcome: r.outcome,
      status_code: r.statusCode,
      via: r.via,
      system_modstamp: r.systemModstamp,
      sealed_message: r.message === null ? null : seal(this.keyring.sealing, Buffer.from(r.message, 'utf8'), messageAad(runId, stepId, r.recordId)),
    }));
    // One mark per record (the last result of it wins, as SQLite's upserts in turn would).
    const marksById = new Map<string, { org_id: string; record_id: string; object_name: string; run_id: string; archived_at: number; system_modstamp: number }>();
    for (const r of results) {
      if (r.outcome !== 'Deleted') continue;
      marksById.set(r.recordId, { org_id: orgId, record_id: r.recordId, object_name: r.objectName, run_id: runId, archived_at: completedAt, system_modstamp: r.systemModstamp! });
    }
    const marks = [...marksById.values()].sort((a, b) => (a.record_id < b.record_id ? -1 : a.record_id > b.record_id ? 1 : 0));
    await this.conns.transaction(async (trx) => {
      const step = await trx.selectFrom('archive_steps').select(['seq', 'completed_at']).where('run_id', '=', runId).where('step_id', '=', stepId).forUpdate().executeTakeFirst();
      if (!step) throw new OrgvaultError('ARCHIVE_STEP_NOT_FOUND', `Archive step ${stepId} of run ${runId} was never begun; a step is begun before its deletes are sent.`);
      if (step.completed_at !== null) {
        throw new OrgvaultError('ARCHIVE_STEP_COMPLETED', `Archive step ${stepId} of run ${runId} was already completed at ${new Date(step.completed_at).toISOString()}; its results are not written twice.`);
      }
      // A multi-row VALUES takes its identity values in row order: seq keeps the results' order.
      for (let at = 0; at < rows.length; at += ROWS_PER_INSERT) await trx.insertInto('archive_results').values(rows.slice(at, at + ROWS_PER_INSERT)).execute();
      for (let at = 0; at < marks.length; at += ROWS_PER_INSERT) {
        await trx
          .insertInto('archived_records')
          .values(marks.slice(at, at + ROWS_PER_INSERT))
          .onConflict((oc) =>
            oc.columns(['org_id', 'record_id']).doUpdateSet((eb) => ({
              object_name: eb.ref('excluded.object_name'),
              run_id: eb.ref('excluded.run_id'),
              archived_at: eb.ref('excluded.archived_at'),
              system_modstamp: eb.ref('excluded.system_modstamp'),
            })),
          )
          .execute();
      }
      await trx.updateTable('archive_steps').set({ completed_at: completedAt }).where('seq', '=', step.seq).execute();
    });
  }

  async archiveSteps(runId: string): Promise<ArchiveStep[]> {
    return (await this.conns.db.selectFrom('archive_steps').selectAll().where('run_id', '=', runId).orderBy('seq').execute()).map(toStep);
  }

  async archiveResults(runId: string): Promise<ArchiveResult[]> {
    const rows = await this.conns.db.selectFrom('archive_results').selectAll().where('run_id', '=', runId).orderBy('seq').execute();
    return rows.map((row) => this.toResult(row));
  }

  async archivedRecords(orgId: string, recordIds: readonly string[]): Promise<Map<string, ArchivedRecord>> {
    const found = new Map<string, ArchivedRecord>();
    const unique = [...new Set(recordIds)];
    if (unique.length === 0) return found;
    const rows = await this.conns.db
      .selectFrom('archived_records as a')
      .select(['a.record_id', 'a.object_name', 'a.run_id', 'a.archived_at', 'a.system_modstamp', RESTORED.as('restored')])
      .where('a.org_id', '=', orgId)
      .where('a.record_id', '=', sql<string>`ANY(${unique}::text[])`)
      .execute();
    for (const row of rows) {
      found.set(row.record_id, {
        objectName: row.object_name,
        recordId: row.record_id,
        runId: row.run_id,
        archivedAt: row.archived_at,
        systemModstamp: row.system_modstamp,
        restored: row.restored,
      });
    }
    return found;
  }

  async countArchived(orgId: string): Promise<Map<string, number>> {
    const rows = await this.conns.db
      .selectFrom('archived_records as a')
      .select((eb) => ['a.object_name', eb.fn.countAll<number>().as('n')])
      .where('a.org_id', '=', orgId)
      .where(sql<boolean>`NOT ${RESTORED}`)
      .groupBy('a.object_name')
      .orderBy(sql`a.object_name COLLATE "C"`)
      .execute();
    return new Map(rows.map((r) => [r.object_name, Number(r.n)]));
  }

  async archivedIds(orgId: string, filter: { objectName?: string; runId?: string; includeRestored?: boolean } = {}): Promise<string[]> {
    let query = this.conns.db.selectFrom('archived_records as a').select('a.record_id').where('a.org_id', '=', orgId);
    if (filter.objectName !== undefined) query = query.where('a.object_name', '=', filter.objectName);
    if (filter.runId !== undefined) query = query.where('a.run_id', '=', filter.runId);
    if (!filter.includeRestored) query = query.where(sql<boolean>`NOT ${RESTORED}`);
    // COLLATE "C": record IDs in byte order, as SQLite sorts them, whatever the database's collation.
    return (await query.orderBy(sql`a.record_id COLLATE "C"`).execute()).map((r) => r.record_id);
  }

  private toResult(row: Selectable<ArchiveResultsTable>): ArchiveResult {
    const message =
      row.sealed_message === null
        ? null
        : open(this.keyring.sealing, row.sealed_message, messageAad(row.run_id, row.step_id, row.record_id), `the archive message of ${row.record_id} in run ${row.run_id}`).toString('utf8');
    return {
      objectName: row.object_name,
      recordId: row.record_id,
      outcome: row.outcome as ArchiveOutcome,
      statusCode: row.status_code,
      message,
      via: row.via,
      systemModstamp: row.system_modstamp,
      stepId: row.step_id,
    };
  }
}
