/**
 * The restore journal on PostgreSQL, as on SQLite (../sqlite/restore-journal.ts): a step is
 * committed before its records are sent to Salesforce, and completed in one transaction with its
 * results and the ID mappings of the records it created. A step without completed_at is one a
 * crash interrupted. Commits are durable (synchronous_commit) when they return.
 *
 * What is sealed: a result's message (Salesforce quotes field values in its errors), bound to its
 * run, step and record with SQLite's associated data (both use ../rows/journals.ts), so rows copy
 * between the engines.
 *
 * Concurrency: beginning a step is one `INSERT … ON CONFLICT DO NOTHING` (of two processes
 * beginning one step, the second is refused); completing one locks the step's row (FOR UPDATE)
 * first, so of two completions the second waits, then sees completed_at and writes nothing.
 */
import type { IdMapping, RestoreResult, RestoreStep } from '../../core/vault.ts';
import type { Keyring } from '../../crypto/keys.ts';
import type { RestoreJournal } from '../port.ts';
import { checkRestoreStepCompletable, restoreResultRows, restoreStepExists, restoreStepRow, toRestoreResult, toRestoreStep } from '../rows/journals.ts';
import { upsertIdMappings } from './catalog.ts';
import type { PgConnections } from './connection.ts';

/** Result rows per INSERT: well under PostgreSQL's bound-parameter limit. */
const ROWS_PER_INSERT = 1000;

export class PgRestoreJournal implements RestoreJournal {
  constructor(
    private readonly conns: PgConnections,
    private readonly keyring: Keyring,
  ) {}

  /** Committed when it returns: the writes it announces go to Salesforce next, and a resumed restore must know of them. */
  async beginRestoreStep(step: RestoreStep): Promise<void> {
    const values = restoreStepRow(step);
    const inserted = await this.conns.db
      .insertInto('restore_steps')
      .values(values)
      .onConflict((oc) => oc.columns(['run_id', 'step_id']).doNothing())
      .returning('seq')
      .executeTakeFirst();
    if (!inserted) throw restoreStepExists(step.runId, step.stepId);
  }

  /**
   * All or nothing: results, mappings and completion commit together, so a resumed restore never
   * finds records created without their mappings, nor a step completed without them.
   */
  async completeRestoreStep(runId: string, stepId: string, completedAt: number, results: RestoreResult[], mappingScope: string, mappings: IdMapping[]): Promise<void> {
    // Sealed before the transaction, which holds the step's row lock.
    const rows = restoreResultRows(this.keyring, runId, stepId, results);
    await this.conns.transaction(async (trx) => {
      const step = await trx.selectFrom('restore_steps').select(['seq', 'completed_at']).where('run_id', '=', runId).where('step_id', '=', stepId).forUpdate().executeTakeFirst();
      checkRestoreStepCompletable(runId, stepId, step);
      // A multi-row VALUES takes its identity values in row order: seq keeps the results' order.
      for (let at = 0; at < rows.length; at += ROWS_PER_INSERT) await trx.insertInto('restore_results').values(rows.slice(at, at + ROWS_PER_INSERT)).execute();
      await upsertIdMappings(trx, mappingScope, mappings);
      await trx.updateTable('restore_steps').set({ completed_at: completedAt }).where('seq', '=', step.seq).execute();
    });
  }

  async restoreSteps(runId: string): Promise<RestoreStep[]> {
    return (await this.conns.db.selectFrom('restore_steps').selectAll().where('run_id', '=', runId).orderBy('seq').execute()).map(toRestoreStep);
  }

  async restoreResults(runId: string): Promise<RestoreResult[]> {
    const rows = await this.conns.db.selectFrom('restore_results').selectAll().where('run_id', '=', runId).orderBy('seq').execute();
    return rows.map((row) => toRestoreResult(this.keyring, row));
  }
}
