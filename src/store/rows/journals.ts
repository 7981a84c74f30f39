/**
 * The restore and archive journals' rows, for every engine: the checks a step passes before it is
 * written, the mappers between the journal tables and the domain's steps and results, and the
 * sealing of a result's message (Salesforce's errors may quote field values) bound to its run,
 * step and record. One copy, so that rows copy between the engines and a message sealed by one
 * opens on the other: the associated data here must never change.
 *
 * The two journals work alike (a step is written before its calls go to Salesforce, completed
 * with its results after), so their refusals share one wording, told apart by a JournalKind.
 */
import type { Selectable } from 'kysely';
import { OrgvaultError } from '../../core/errors.ts';
import type { ArchiveOutcome, ArchiveResult, ArchiveStep, ArchiveStepRecord, ArchivedRecord, RestoreOutcome, RestoreResult, RestoreStep } from '../../core/vault.ts';
import type { Keyring } from '../../crypto/keys.ts';
import { open, seal } from '../../crypto/seal.ts';
import type { ArchiveResultsTable, ArchiveStepsTable, ArchivedRecordsTable, RestoreResultsTable, RestoreStepsTable } from '../schema/tables.ts';

/** A journal's words in its errors: its name, its error codes' prefix, and what its steps send. */
interface JournalKind {
  name: 'Restore' | 'Archive';
  code: 'RESTORE' | 'ARCHIVE';
  sends: 'writes' | 'deletes';
}

const RESTORE: JournalKind = { name: 'Restore', code: 'RESTORE', sends: 'writes' };
const ARCHIVE: JournalKind = { name: 'Archive', code: 'ARCHIVE', sends: 'deletes' };

// JSON rather than joining with ':': run and step IDs are the caller's and may contain one.
const restoreMessageAad = (runId: string, stepId: string, originalId: string): string => `orgvault:restore-result:${JSON.stringify([runId, stepId, originalId])}:message`;
const archiveMessageAad = (runId: string, stepId: string, recordId: string): string => `orgvault:archive-result:${JSON.stringify([runId, stepId, recordId])}:message`;

function refuseCompletedBegin(kind: JournalKind, step: { runId: string; stepId: string; completedAt: number | null }): void {
  if (step.completedAt !== null) {
    throw new OrgvaultError(`${kind.code}_STEP_COMPLETED`, `${kind.name} step ${step.stepId} of run ${step.runId} is begun uncompleted; its results complete it (complete${kind.name}Step).`);
  }
}

function refuseStrayResults<R extends { stepId: string }>(kind: JournalKind, runId: string, stepId: string, results: readonly R[], recordOf: (r: R) => string): void {
  const stray = results.find((r) => r.stepId !== stepId);
  if (stray) {
    throw new OrgvaultError(`${kind.code}_STEP_MISMATCH`, `A result of record ${recordOf(stray)} names step ${stray.stepId}, not step ${stepId} it was given to complete (run ${runId}).`);
  }
}

function stepExistsError(kind: JournalKind, runId: string, stepId: string): OrgvaultError {
  return new OrgvaultError(`${kind.code}_STEP_EXISTS`, `${kind.name} step ${stepId} of run ${runId} was already begun; step IDs are unique within a run.`);
}

function checkCompletable<T extends { completed_at: number | null }>(kind: JournalKind, runId: string, stepId: string, step: T | undefined): asserts step is T {
  if (!step) throw new OrgvaultError(`${kind.code}_STEP_NOT_FOUND`, `${kind.name} step ${stepId} of run ${runId} was never begun; a step is begun before its ${kind.sends} are sent.`);
  if (step.completed_at !== null) {
    throw new OrgvaultError(`${kind.code}_STEP_COMPLETED`, `${kind.name} step ${stepId} of run ${runId} was already completed at ${new Date(step.completed_at).toISOString()}; its results are not written twice.`);
  }
}

// ---- restore journal --------------------------------------------------------------------------

/** The `restore_steps` row of a step being begun; refuses a step that says it is completed. */
export function restoreStepRow(step: RestoreStep): Omit<RestoreStepsTable, 'seq'> {
  refuseCompletedBegin(RESTORE, step);
  return {
    run_id: step.runId,
    step_id: step.stepId,
    object_name: step.objectName,
    action: step.action,
    original_ids: JSON.stringify(step.originalIds),
    started_at: step.startedAt,
    completed_at: null,
  };
}

/** The error for a restore step begun twice. */
export const restoreStepExists = (runId: string, stepId: string): OrgvaultError => stepExistsError(RESTORE, runId, stepId);

/** Refuses to complete a restore step never begun or already completed (given its row, if any). */
export function checkRestoreStepCompletable<T extends { completed_at: number | null }>(runId: string, stepId: string, step: T | undefined): asserts step is T {
  checkCompletable(RESTORE, runId, stepId, step);
}

/**
 * The `restore_results` rows of a step's results, their messages sealed; refuses a result of
 * another step. Sealing is done here, before the caller's transaction, to keep it short.
 */
export function restoreResultRows(keyring: Keyring, runId: string, stepId: string, results: readonly RestoreResult[]): Omit<RestoreResultsTable, 'seq'>[] {
  refuseStrayResults(RESTORE, runId, stepId, results, (r) => r.originalId);
  return results.map((r) => ({
    run_id: runId,
    step_id: stepId,
    object_name: r.objectName,
    original_id: r.originalId,
    new_id: r.newId,
    outcome: r.outcome,
    status_code: r.statusCode,
    sealed_message: sealMessage(keyring, r.message, restoreMessageAad(runId, stepId, r.originalId)),
  }));
}

/** A `restore_steps` row as a step. */
export function toRestoreStep(row: Selectable<RestoreStepsTable>): RestoreStep {
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

/** A `restore_results` row as a result, its message opened. */
export function toRestoreResult(keyring: Keyring, row: Selectable<RestoreResultsTable>): RestoreResult {
  const message = openMessage(keyring, row.sealed_message, restoreMessageAad(row.run_id, row.step_id, row.original_id), `the restore message of ${row.original_id} in run ${row.run_id}`);
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

/** A result's message sealed under its associated data (messages may quote field values), or null. */
function sealMessage(keyring: Keyring, message: string | null, aad: string): Buffer | null {
  return message === null ? null : seal(keyring.sealing, Buffer.from(message, 'utf8'), aad);
}

/** A sealed result message opened, or null; `what` names it in the error a wrong key or a flipped byte gives. */
function openMessage(keyring: Keyring, sealed: Uint8Array | null, aad: string, what: string): string | null {
  return sealed === null ? null : open(keyring.sealing, sealed, aad, what).toString('utf8');
}

// ---- archive journal and marks ----------------------------------------------------------------

/** The `archive_steps` row of a step being begun; refuses a step that says it is completed. */
export function archiveStepRow(step: ArchiveStep): Omit<ArchiveStepsTable, 'seq'> {
  refuseCompletedBegin(ARCHIVE, step);
  return {
    run_id: step.runId,
    step_id: step.stepId,
    object_name: step.objectName,
    action: step.action,
    records: JSON.stringify(step.records),
    started_at: step.startedAt,
    completed_at: null,
  };
}

/** The error for an archive step begun twice. */
export const archiveStepExists = (runId: string, stepId: string): OrgvaultError => stepExistsError(ARCHIVE, runId, stepId);

/** Refuses to complete an archive step never begun or already completed (given its row, if any). */
export function checkArchiveStepCompletable<T extends { completed_at: number | null }>(runId: string, stepId: string, step: T | undefined): asserts step is T {
  checkCompletable(ARCHIVE, runId, stepId, step);
}

/**
 * The `archive_results` rows of a step's results, their messages sealed; refuses a result of
 * another step, and a deleted record without the SystemModstamp its mark needs.
 */
export function archiveResultRows(keyring: Keyring, runId: string, stepId: string, results: readonly ArchiveResult[]): Omit<ArchiveResultsTable, 'seq'>[] {
  refuseStrayResults(ARCHIVE, runId, stepId, results, (r) => r.recordId);
  const unmarked = results.find((r) => r.outcome === 'Deleted' && r.systemModstamp === null);
  if (unmarked) {
    throw new OrgvaultError('ARCHIVE_MARK_INCOMPLETE', `Record ${unmarked.recordId} is reported deleted without the SystemModstamp of the version the vault holds (run ${runId}); a deleted record is marked with it.`);
  }
  return results.map((r) => ({
    run_id: runId,
    step_id: stepId,
    object_name: r.objectName,
    record_id: r.recordId,
    outcome: r.outcome,
    status_code: r.statusCode,
    via: r.via,
    system_modstamp: r.systemModstamp,
    sealed_message: sealMessage(keyring, r.message, archiveMessageAad(runId, stepId, r.recordId)),
  }));
}

/**
 * The `archived_records` marks of a step's deleted records, in the results' order (a record's
 * last result last). Call after archiveResultRows, which refuses a deletion without its SystemModstamp.
 */
export function archiveMarkRows(orgId: string, runId: string, completedAt: number, results: readonly ArchiveResult[]): ArchivedRecordsTable[] {
  return results
    .filter((r) => r.outcome === 'Deleted')
    .map((r) => ({ org_id: orgId, record_id: r.recordId, object_name: r.objectName, run_id: runId, archived_at: completedAt, system_modstamp: r.systemModstamp! }));
}

/** An `archive_steps` row as a step. */
export function toArchiveStep(row: Selectable<ArchiveStepsTable>): ArchiveStep {
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

/** An `archive_results` row as a result, its message opened. */
export function toArchiveResult(keyring: Keyring, row: Selectable<ArchiveResultsTable>): ArchiveResult {
  const message = openMessage(keyring, row.sealed_message, archiveMessageAad(row.run_id, row.step_id, row.record_id), `the archive message of ${row.record_id} in run ${row.run_id}`);
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

/** An archive mark with its restored test (computed by the engine's query) as an archived record. */
export function toArchivedRecord(row: Omit<ArchivedRecordsTable, 'org_id'>, restored: boolean): ArchivedRecord {
  return {
    objectName: row.object_name,
    recordId: row.record_id,
    runId: row.run_id,
    archivedAt: row.archived_at,
    systemModstamp: row.system_modstamp,
    restored,
  };
}
