/**
 * The archive journal and the archive marks on PostgreSQL, as on SQLite (../sqlite/archive.ts). A
 * step is committed before its deletes are sent to Salesforce, and completed in one transaction
 * with its results and the marks of the records it deleted. A step without completed_at is one a
 * crash interrupted: its deletes may or may not have reached the org, which only the org can say.
 *
 * What is sealed: a result's message (Salesforce's errors may quote field values), bound to its
 * run, step and record with SQLite's associated data (both use ../rows/journals.ts), so rows copy
 * between the engines. IDs, object names, outcomes, status codes and SystemModstamps stay in clear.
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
import type { ArchiveResult, ArchiveStep, ArchivedRecord } from '../../core/vault.ts';
import type { Keyring } from '../../crypto/keys.ts';
import type { ArchiveStore } from '../port.ts';
import { archiveMarkRows, archiveResultRows, archiveStepExists, archiveStepRow, checkArchiveStepCompletable, toArchiveResult, toArchiveStep, toArchivedRecord } from '../rows/journals.ts';
import type { ArchivedRecordsTable } from '../schema/tables.ts';
import type { PgConnections } from './connection.ts';

/** Rows per INSERT: well under PostgreSQL's bound-parameter limit. */
const ROWS_PER_INSERT = 1000;

/** The restored test, on an `archived_records` row aliased `a`. */
const RESTORED = sql<boolean>`(
  EXISTS (SELECT 1 FROM objects o JOIN record_heads h ON h.object_key = o.object_key
          WHERE o.org_id = a.org_id AND o.name = a.object_name AND h.record_id = a.record_id
            AND h.is_deleted = 0 AND h.system_modstamp > a.system_modstamp)
  OR EXISTS (SELECT 1 FROM id_mappings m WHERE m.org_id = a.org_id AND m.old_id = a.record_id AND m.created_at >= a.archived_at)
)`;

export class PgArchive implements ArchiveStore {
  constructor(
    private readonly conns: PgConnections,
    private readonly keyring: Keyring,
  ) {}

  /** Committed when it returns: the deletes it announces go to Salesforce next, and a resumed archive must know of them. */
  async beginArchiveStep(step: ArchiveStep): Promise<void> {
    const values = archiveStepRow(step);
    const inserted = await this.conns.db
      .insertInto('archive_steps')
      .values(values)
      .onConflict((oc) => oc.columns(['run_id', 'step_id']).doNothing())
      .returning('seq')
      .executeTakeFirst();
    if (!inserted) throw archiveStepExists(step.runId, step.stepId);
  }

  /**
   * All or nothing: results, marks and completion commit together, so a resumed archive never
   * finds a record reported deleted without its mark, nor a step completed without its results.
   */
  async completeArchiveStep(orgId: string, runId: string, stepId: string, completedAt: number, results: ArchiveResult[]): Promise<void> {
    // Sealed before the transaction, which holds the step's row lock.
    const rows = archiveResultRows(this.keyring, runId, stepId, results);
    // One mark per record (the last result of it wins, as SQLite's upserts in turn would).
    const marksById = new Map<string, ArchivedRecordsTable>();
    for (const mark of archiveMarkRows(orgId, runId, completedAt, results)) marksById.set(mark.record_id, mark);
    const marks = [...marksById.values()].sort((a, b) => (a.record_id < b.record_id ? -1 : a.record_id > b.record_id ? 1 : 0));
    await this.conns.transaction(async (trx) => {
      const step = await trx.selectFrom('archive_steps').select(['seq', 'completed_at']).where('run_id', '=', runId).where('step_id', '=', stepId).forUpdate().executeTakeFirst();
      checkArchiveStepCompletable(runId, stepId, step);
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
    return (await this.conns.db.selectFrom('archive_steps').selectAll().where('run_id', '=', runId).orderBy('seq').execute()).map(toArchiveStep);
  }

  async archiveResults(runId: string): Promise<ArchiveResult[]> {
    const rows = await this.conns.db.selectFrom('archive_results').selectAll().where('run_id', '=', runId).orderBy('seq').execute();
    return rows.map((row) => toArchiveResult(this.keyring, row));
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
    for (const row of rows) found.set(row.record_id, toArchivedRecord(row, row.restored));
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
}
