/**
 * The archive journal and the archive marks on SQLite. A step is written (durably) before its
 * deletes are sent to Salesforce, and completed in one durable transaction with its results and
 * the marks of the records it deleted. A step without completed_at is one a crash interrupted:
 * its deletes may or may not have reached the org, which only the org can say.
 *
 * What is sealed: a result's message (Salesforce's errors may quote field values, DELETE_FAILED
 * names the record), bound to its run, step and record. IDs, object names, outcomes, status codes
 * and SystemModstamps stay in clear for the report, for resuming and for the marks.
 *
 * Whether an archived record was restored since is not stored but read when asked: the vault has
 * seen it live again after the archive (a newer head that is not deleted: undeleted and backed up
 * since), or a restore re-created it under a new ID (an ID mapping made after the archive).
 */
import type { ArchiveResult, ArchiveStep, ArchivedRecord } from '../../core/vault.ts';
import type { Keyring } from '../../crypto/keys.ts';
import type { ArchiveStore } from '../port.ts';
import { archiveMarkRows, archiveResultRows, archiveStepExists, archiveStepRow, checkArchiveStepCompletable, toArchiveResult, toArchiveStep, toArchivedRecord } from '../rows/journals.ts';
import type { Connections } from './connection.ts';
import { all, builder, first, run, statement } from './connection.ts';

/** IDs per IN list: well under SQLite's bound-parameter limit. */
const IDS_PER_QUERY = 500;

/** The restored test, on an `archived_records` row aliased `a`. */
const RESTORED = `(
  EXISTS (SELECT 1 FROM objects o JOIN record_heads h ON h.object_key = o.object_key
          WHERE o.org_id = a.org_id AND o.name = a.object_name AND h.record_id = a.record_id
            AND h.is_deleted = 0 AND h.system_modstamp > a.system_modstamp)
  OR EXISTS (SELECT 1 FROM id_mappings m WHERE m.org_id = a.org_id AND m.old_id = a.record_id AND m.created_at >= a.archived_at)
)`;

interface MarkRow {
  record_id: string;
  object_name: string;
  run_id: string;
  archived_at: number;
  system_modstamp: number;
  restored: number;
}

export class SqliteArchive implements ArchiveStore {
  constructor(
    private readonly conns: Connections,
    private readonly keyring: Keyring,
  ) {}

  /** Durable: the deletes it announces go to Salesforce next, and a resumed archive must know of them. */
  async beginArchiveStep(step: ArchiveStep): Promise<void> {
    const values = archiveStepRow(step);
    await this.conns.transaction(
      (db) => {
        if (first(db, builder.selectFrom('archive_steps').select('seq').where('run_id', '=', step.runId).where('step_id', '=', step.stepId))) {
          throw archiveStepExists(step.runId, step.stepId);
        }
        run(db, builder.insertInto('archive_steps').values(values));
      },
      { durable: true },
    );
  }

  /**
   * Durable, and all or nothing: results, marks and completion commit together, so a resumed
   * archive never finds a record reported deleted without its mark, nor a step completed without
   * its results.
   */
  async completeArchiveStep(orgId: string, runId: string, stepId: string, completedAt: number, results: ArchiveResult[]): Promise<void> {
    // Sealing is done before taking the write lock, as for describes.
    const rows = archiveResultRows(this.keyring, runId, stepId, results);
    const marks = archiveMarkRows(orgId, runId, completedAt, results);
    await this.conns.transaction(
      (db) => {
        const step = first(db, builder.selectFrom('archive_steps').select(['seq', 'completed_at']).where('run_id', '=', runId).where('step_id', '=', stepId));
        checkArchiveStepCompletable(runId, stepId, step);
        for (const row of rows) run(db, builder.insertInto('archive_results').values(row));
        for (const mark of marks) {
          run(
            db,
            builder
              .insertInto('archived_records')
              .values(mark)
              .onConflict((oc) => oc.columns(['org_id', 'record_id']).doUpdateSet({ object_name: mark.object_name, run_id: mark.run_id, archived_at: mark.archived_at, system_modstamp: mark.system_modstamp })),
          );
        }
        run(db, builder.updateTable('archive_steps').set({ completed_at: completedAt }).where('seq', '=', step.seq));
      },
      { durable: true },
    );
  }

  async archiveSteps(runId: string): Promise<ArchiveStep[]> {
    return all(this.conns.read, builder.selectFrom('archive_steps').selectAll().where('run_id', '=', runId).orderBy('seq')).map(toArchiveStep);
  }

  async archiveResults(runId: string): Promise<ArchiveResult[]> {
    const rows = all(this.conns.read, builder.selectFrom('archive_results').selectAll().where('run_id', '=', runId).orderBy('seq'));
    return rows.map((row) => toArchiveResult(this.keyring, row));
  }

  async archivedRecords(orgId: string, recordIds: readonly string[]): Promise<Map<string, ArchivedRecord>> {
    const found = new Map<string, ArchivedRecord>();
    const unique = [...new Set(recordIds)];
    for (let at = 0; at < unique.length; at += IDS_PER_QUERY) {
      const ids = unique.slice(at, at + IDS_PER_QUERY);
      const sql = `SELECT a.record_id, a.object_name, a.run_id, a.archived_at, a.system_modstamp, ${RESTORED} AS restored
        FROM archived_records a WHERE a.org_id = ? AND a.record_id IN (${ids.map(() => '?').join(', ')})`;
      for (const row of statement(this.conns.read, sql).all(orgId, ...ids) as MarkRow[]) found.set(row.record_id, toArchivedRecord(row, row.restored === 1));
    }
    return found;
  }

  async countArchived(orgId: string): Promise<Map<string, number>> {
    const sql = `SELECT a.object_name AS object_name, count(*) AS n FROM archived_records a WHERE a.org_id = ? AND NOT ${RESTORED} GROUP BY a.object_name ORDER BY a.object_name`;
    const rows = statement(this.conns.read, sql).all(orgId) as { object_name: string; n: number }[];
    return new Map(rows.map((r) => [r.object_name, Number(r.n)]));
  }

  async archivedIds(orgId: string, filter: { objectName?: string; runId?: string; includeRestored?: boolean } = {}): Promise<string[]> {
    const where = ['a.org_id = ?'];
    const params: unknown[] = [orgId];
    if (filter.objectName !== undefined) {
      where.push('a.object_name = ?');
      params.push(filter.objectName);
    }
    if (filter.runId !== undefined) {
      where.push('a.run_id = ?');
      params.push(filter.runId);
    }
    if (!filter.includeRestored) where.push(`NOT ${RESTORED}`);
    const sql = `SELECT a.record_id AS record_id FROM archived_records a WHERE ${where.join(' AND ')} ORDER BY a.record_id`;
    return (statement(this.conns.read, sql).all(...params) as { record_id: string }[]).map((r) => r.record_id);
  }
}
