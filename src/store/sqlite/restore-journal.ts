/**
 * The restore journal on SQLite: a step is written (durably) before its records are sent to
 * Salesforce, and completed in one durable transaction with its results and the ID mappings of the
 * records it created. A step without completed_at is one a crash interrupted: its writes may or
 * may not have reached the org, which only the org can say.
 *
 * What is sealed: a result's message (Salesforce quotes field values in its errors), bound to its
 * run, step and record, so a message moved to another row fails to open. IDs, object names,
 * actions, outcomes and status codes stay in clear for the report and for resuming.
 */
import type { IdMapping, RestoreResult, RestoreStep } from '../../core/vault.ts';
import type { Keyring } from '../../crypto/keys.ts';
import type { RestoreJournal } from '../port.ts';
import { checkRestoreStepCompletable, restoreResultRows, restoreStepExists, restoreStepRow, toRestoreResult, toRestoreStep } from '../rows/journals.ts';
import { upsertIdMappings } from './catalog.ts';
import type { Connections } from './connection.ts';
import { all, builder, first, run } from './connection.ts';

export class SqliteRestoreJournal implements RestoreJournal {
  constructor(
    private readonly conns: Connections,
    private readonly keyring: Keyring,
  ) {}

  /** Durable: the writes it announces go to Salesforce next, and a resumed restore must know of them. */
  async beginRestoreStep(step: RestoreStep): Promise<void> {
    const values = restoreStepRow(step);
    await this.conns.transaction(
      (db) => {
        if (first(db, builder.selectFrom('restore_steps').select('seq').where('run_id', '=', step.runId).where('step_id', '=', step.stepId))) {
          throw restoreStepExists(step.runId, step.stepId);
        }
        run(db, builder.insertInto('restore_steps').values(values));
      },
      { durable: true },
    );
  }

  /**
   * Durable, and all or nothing: results, mappings and completion commit together, so a resumed
   * restore never finds records created without their mappings, nor a step completed without them.
   */
  async completeRestoreStep(runId: string, stepId: string, completedAt: number, results: RestoreResult[], mappingScope: string, mappings: IdMapping[]): Promise<void> {
    // Sealing is done before taking the write lock, as for describes.
    const rows = restoreResultRows(this.keyring, runId, stepId, results);
    await this.conns.transaction(
      (db) => {
        const step = first(db, builder.selectFrom('restore_steps').select(['seq', 'completed_at']).where('run_id', '=', runId).where('step_id', '=', stepId));
        checkRestoreStepCompletable(runId, stepId, step);
        for (const row of rows) run(db, builder.insertInto('restore_results').values(row));
        upsertIdMappings(db, mappingScope, mappings);
        run(db, builder.updateTable('restore_steps').set({ completed_at: completedAt }).where('seq', '=', step.seq));
      },
      { durable: true },
    );
  }

  async restoreSteps(runId: string): Promise<RestoreStep[]> {
    return all(this.conns.read, builder.selectFrom('restore_steps').selectAll().where('run_id', '=', runId).orderBy('seq')).map(toRestoreStep);
  }

  async restoreResults(runId: string): Promise<RestoreResult[]> {
    const rows = all(this.conns.read, builder.selectFrom('restore_results').selectAll().where('run_id', '=', runId).orderBy('seq'));
    return rows.map((row) => toRestoreResult(this.keyring, row));
  }
}
