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
import type { Selectable } from 'kysely';
import { OrgvaultError } from '../../core/errors.ts';
import type { ArchiveOutcome, ArchiveResult, ArchiveStep, ArchiveStepRecord, ArchivedRecord } from '../../core/vault.ts';
import type { Keyring } from '../../crypto/keys.ts';
import { open, seal } from '../../crypto/seal.ts';
import type { ArchiveStore } from '../port.ts';
import type { Connections } from './connection.ts';
import { all, builder, first, run, statement } from './connection.ts';
import type { ArchiveResultsTable, ArchiveStepsTable } from '../schema/tables.ts';

// JSON rather than joining with ':': run and step IDs are the caller's and may contain one.
const messageAad = (runId: string, stepId: string, recordId: string): string => `orgvault:archive-result:${JSON.stringify([runId, stepId, recordId])}:message`;

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

export class SqliteArchive implements ArchiveStore {
  constructor(
    private readonly conns: Connections,
    private readonly keyring: Keyring,
  ) {}

  /** Durable: the deletes it announces go to Salesforce next, and a resumed archive must know of them. */
  async beginArchiveStep(step: ArchiveStep): Promise<void> {
    if (step.completedAt !== null) {
      throw new OrgvaultError('ARCHIVE_STEP_COMPLETED', `Archive step ${step.stepId} of run ${step.runId} is begun uncompleted; its results complete it (completeArchiveStep).`);
    }
    const values = {
      run_id: step.runId,
      step_id: step.stepId,
      object_name: step.objectName,
      action: step.action,
      records: JSON.stringify(step.records),
      started_at: step.startedAt,
      completed_at: null,
    };
    await this.conns.transaction(
      (db) => {
        if (first(db, builder.selectFrom('archive_steps').select('seq').where('run_id', '=', step.runId).where('step_id', '=', step.stepId))) {
          throw new OrgvaultError('ARCHIVE_STEP_EXISTS', `Archive step ${step.stepId} of run ${step.runId} was already begun; step IDs are unique within a run.`);
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
    const stray = results.find((r) => r.stepId !== stepId);
    if (stray) {
      throw new OrgvaultError('ARCHIVE_STEP_MISMATCH', `A result of record ${stray.recordId} names step ${stray.stepId}, not step ${stepId} it was given to complete (run ${runId}).`);
    }
    const unmarked = results.find((r) => r.outcome === 'Deleted' && r.systemModstamp === null);
    if (unmarked) {
      throw new OrgvaultError('ARCHIVE_MARK_INCOMPLETE', `Record ${unmarked.recordId} is reported deleted without the SystemModstamp of the version the vault holds (run ${runId}); a deleted record is marked with it.`);
    }
    // Sealing is done before taking the write lock, as for describes.
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
    await this.conns.transaction(
      (db) => {
        const step = first(db, builder.selectFrom('archive_steps').select(['seq', 'completed_at']).where('run_id', '=', runId).where('step_id', '=', stepId));
        if (!step) throw new OrgvaultError('ARCHIVE_STEP_NOT_FOUND', `Archive step ${stepId} of run ${runId} was never begun; a step is begun before its deletes are sent.`);
        if (step.completed_at !== null) {
          throw new OrgvaultError('ARCHIVE_STEP_COMPLETED', `Archive step ${stepId} of run ${runId} was already completed at ${new Date(step.completed_at).toISOString()}; its results are not written twice.`);
        }
        for (const row of rows) run(db, builder.insertInto('archive_results').values(row));
        for (const r of results) {
          if (r.outcome !== 'Deleted') continue;
          const mark = { org_id: orgId, record_id: r.recordId, object_name: r.objectName, run_id: runId, archived_at: completedAt, system_modstamp: r.systemModstamp! };
          run(
            db,
            builder
              .insertInto('archived_records')
              .values(mark)
              .onConflict((oc) => oc.columns(['org_id', 'record_id']).doUpdateSet({ object_name: mark.object_name, run_id: runId, archived_at: completedAt, system_modstamp: mark.system_modstamp })),
          );
        }
        run(db, builder.updateTable('archive_steps').set({ completed_at: completedAt }).where('seq', '=', step.seq));
      },
      { durable: true },
    );
  }

  async archiveSteps(runId: string): Promise<ArchiveStep[]> {
    return all(this.conns.read, builder.selectFrom('archive_steps').selectAll().where('run_id', '=', runId).orderBy('seq')).map(toStep);
  }

  async archiveResults(runId: string): Promise<ArchiveResult[]> {
    const rows = all(this.conns.read, builder.selectFrom('archive_results').selectAll().where('run_id', '=', runId).orderBy('seq'));
    return rows.map((row) => this.toResult(row));
  }

  async archivedRecords(orgId: string, recordIds: readonly string[]): Promise<Map<string, ArchivedRecord>> {
    const found = new Map<string, ArchivedRecord>();
    const unique = [...new Set(recordIds)];
    for (let at = 0; at < unique.length; at += IDS_PER_QUERY) {
      const ids = unique.slice(at, at + IDS_PER_QUERY);
      const sql = `SELECT a.record_id, a.object_name, a.run_id, a.archived_at, a.system_modstamp, ${RESTORED} AS restored
        FROM archived_records a WHERE a.org_id = ? AND a.record_id IN (${ids.map(() => '?').join(', ')})`;
      for (const row of statement(this.conns.read, sql).all(orgId, ...ids) as MarkRow[]) found.set(row.record_id, toMark(row));
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

function toMark(row: MarkRow): ArchivedRecord {
  return {
    objectName: row.object_name,
    recordId: row.record_id,
    runId: row.run_id,
    archivedAt: row.archived_at,
    systemModstamp: row.system_modstamp,
    restored: row.restored === 1,
  };
}
