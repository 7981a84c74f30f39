/**
 * The restore journal on PostgreSQL, as on SQLite (../sqlite/restore-journal.ts): a step is
 * committed before its records are sent to Salesforce, and completed in one transaction with its
 * results and the ID mappings of the records it created. A step without completed_at is one a
 * crash interrupted. Commits are durable (synchronous_commit) when they return.
 *
 * What is sealed: a result's message (Salesforce quotes field values in its errors), bound to its
 * run, step and record with SQLite's associated data, so rows copy between the engines.
 *
 * Concurrency: beginning a step is one `INSERT … ON CONFLICT DO NOTHING` (of two processes
 * beginning one step, the second is refused); completing one locks the step's row (FOR UPDATE)
 * first, so of two completions the second waits, then sees completed_at and writes nothing.
 */
import type { Selectable } from 'kysely';
import { OrgvaultError } from '../../core/errors.ts';
import type { IdMapping, RestoreOutcome, RestoreResult, RestoreStep } from '../../core/vault.ts';
import type { Keyring } from '../../crypto/keys.ts';
import { open, seal } from '../../crypto/seal.ts';
import type { RestoreJournal } from '../port.ts';
import type { RestoreResultsTable, RestoreStepsTable } from '../schema/tables.ts';
import { upsertIdMappings } from './catalog.ts';
import type { PgConnections } from './connection.ts';

// JSON rather than joining with ':': run and step IDs are the caller's and may contain one.
const messageAad = (runId: string, stepId: string, originalId: string): string => `orgvault:restore-result:${JSON.stringify([runId, stepId, originalId])}:message`;

/** Result rows per INSERT: well under PostgreSQL's bound-parameter limit. */
const ROWS_PER_INSERT = 1000;

function toStep(row: Selectable<RestoreStepsTable>): RestoreStep {
  return {
    runId: row.run_id,
    stepId: row.step_id,
    objectName: row.object_name,
    action: row.action as RestoreStep['action'],
    originalIds: JSON.parse(row.original_ids) as string[],
    startedAt: row.started_at,
    completedAt: row.completed_at,
  };
}

export class PgRestoreJournal implements RestoreJournal {
  constructor(
    private readonly conns: PgConnections,
    private readonly keyring: Keyring,
  ) {}

  /** Committed when it returns: the writes it announces go to Salesforce next, and a resumed restore must know of them. */
  async beginRestoreStep(step: RestoreStep): Promise<void> {
    if (step.completedAt !== null) {
      throw new OrgvaultError('RESTORE_STEP_COMPLETED', `Restore step ${step.stepId} of run ${step.runId} is begun uncompleted; its results complete it (completeRestoreStep).`);
    }
    const inserted = await this.conns.db
      .insertInto('restore_steps')
      .values({
        run_id: step.runId,
        step_id: step.stepId,
        object_name: step.objectName,
        action: step.action,
        original_ids: JSON.stringify(step.originalIds),
        started_at: step.startedAt,
        completed_at: null,
      })
      .onConflict((oc) => oc.columns(['run_id', 'step_id']).doNothing())
      .returning('seq')
      .executeTakeFirst();
    if (!inserted) {
      throw new OrgvaultError('RESTORE_STEP_EXISTS', `Restore step ${step.stepId} of run ${step.runId} was already begun; step IDs are unique within a run.`);
    }
  }

  /**
   * All or nothing: results, mappings and completion commit together, so a resumed restore never
   * finds records created without their mappings, nor a step completed without them.
   */
  async completeRestoreStep(runId: string, stepId: string, completedAt: number, results: RestoreResult[], mappingScope: string, mappings: IdMapping[]): Promise<void> {
    const stray = results.find((r) => r.stepId !== stepId);
    if (stray) {
      throw new OrgvaultError('RESTORE_STEP_MISMATCH', `A result of record ${stray.originalId} names step ${stray.stepId}, not step ${stepId} it was given to complete (run ${runId}).`);
    }
    // Sealed before the transaction, which holds the step's row lock.
    const rows = results.map((r) => ({
      run_id: runId,
      step_id: stepId,
      object_name: r.objectName,
      original_id: r.originalId,
      new_id: r.newId,
      outcome: r.outcome,
      status_code: r.statusCode,
      sealed_message: r.message === null ? null : seal(this.keyring.sealing, Buffer.from(r.message, 'utf8'), messageAad(runId, stepId, r.originalId)),
    }));
    await this.conns.transaction(async (trx) => {
      const step = await trx.selectFrom('restore_steps').select(['seq', 'completed_at']).where('run_id', '=', runId).where('step_id', '=', stepId).forUpdate().executeTakeFirst();
      if (!step) throw new OrgvaultError('RESTORE_STEP_NOT_FOUND', `Restore step ${stepId} of run ${runId} was never begun; a step is begun before its writes are sent.`);
      if (step.completed_at !== null) {
        throw new OrgvaultError('RESTORE_STEP_COMPLETED', `Restore step ${stepId} of run ${runId} was already completed at ${new Date(step.completed_at).toISOString()}; its results are not written twice.`);
      }
      // A multi-row VALUES takes its identity values in row order: seq keeps the results' order.
      for (let at = 0; at < rows.length; at += ROWS_PER_INSERT) await trx.insertInto('restore_results').values(rows.slice(at, at + ROWS_PER_INSERT)).execute();
      await upsertIdMappings(trx, mappingScope, mappings);
      await trx.updateTable('restore_steps').set({ completed_at: completedAt }).where('seq', '=', step.seq).execute();
    });
  }

  async restoreSteps(runId: string): Promise<RestoreStep[]> {
    return (await this.conns.db.selectFrom('restore_steps').selectAll().where('run_id', '=', runId).orderBy('seq').execute()).map(toStep);
  }

  async restoreResults(runId: string): Promise<RestoreResult[]> {
    const rows = await this.conns.db.selectFrom('restore_results').selectAll().where('run_id', '=', runId).orderBy('seq').execute();
    return rows.map((row) => this.toResult(row));
  }

  private toResult(row: Selectable<RestoreResultsTable>): RestoreResult {
    const message =
      row.sealed_message === null
        ? null
        : open(this.keyring.sealing, row.sealed_message, messageAad(row.run_id, row.step_id, row.original_id), `the restore message of ${row.original_id} in run ${row.run_id}`).toString('utf8');
    return {
      objectName: row.object_name,
      originalId: row.original_id,
      newId: row.new_id,
      outcome: row.outcome as RestoreOutcome,
      statusCode: row.status_code,
      message,
      stepId: row.step_id,
    };
  }
}
