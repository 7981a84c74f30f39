/**
 * What the vault keeps, in the words of our users (the seeds): record versions and how they
 * changed, backup runs and their per-object status codes, object backup state, ID mappings from
 * restores, and an audit log. Times are epoch milliseconds (UTC); IDs are 18-character
 * Salesforce IDs.
 */

/** Whether `text` has the shape of a Salesforce record ID: 15 or 18 letters and digits. */
export function isRecordId(text: string): boolean {
  return /^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$/.test(text);
}

/** How a record version came to be captured. */
export type ChangeType = 'created' | 'updated' | 'deleted' | 'undeleted' | 'reconciled' | 'event';

export const CHANGE_TYPES: readonly ChangeType[] = ['created', 'updated', 'deleted', 'undeleted', 'reconciled', 'event'];

/** A connected org. Authentication is sealed by the vault before it reaches the store. */
export interface OrgRegistration {
  /** The admin's name for the org (`orgvault org add NAME`). */
  name: string;
  /** Salesforce's 18-character organization ID. */
  orgId: string;
  instanceUrl: string;
  loginUrl: string;
  /** The authentication settings and secrets, sealed (never in plain text at rest). */
  sealedAuth: Uint8Array;
  createdAt: number;
  settings: Record<string, unknown>;
}

/** One captured version of a record, as written by a backup (or a change event). */
export interface VersionInput {
  recordId: string;
  /** SystemModstamp of the version, epoch ms. */
  systemModstamp: number;
  changeType: ChangeType;
  isDeleted: boolean;
  /** LastModifiedById, for the restore filter "last modified by". */
  lastModifiedById?: string | null;
  /** Every captured field, as Salesforce returned it (values JSON-compatible). */
  fields: Record<string, unknown>;
}

/** A stored version, read back. */
export interface RecordVersion extends VersionInput {
  /** The vault's own sequence number: orders versions that share a SystemModstamp. */
  seq: number;
  objectName: string;
  capturedAt: number;
  runId: string;
  /** The schema version (describe) the record was captured under, if known. */
  schemaId: string | null;
}

/** Where incremental capture resumes: the last (SystemModstamp, Id) fully stored. */
export interface Watermark {
  systemModstamp: number;
  recordId: string;
}

/**
 * Object statuses, as GRAX and Salesforce Backup name them: Waiting (caught up), Running,
 * Backfilling (never fully backed up), Paused, Excluded, Unavailable (access lost), Error,
 * NotVisible (NOT_VISIBLE: the API user cannot see it), Unsupported.
 */
export type ObjectStatus = 'Waiting' | 'Running' | 'Backfilling' | 'Paused' | 'Excluded' | 'Unavailable' | 'Error' | 'NotVisible' | 'Unsupported' | 'Behind';

export interface ObjectState {
  objectName: string;
  status: ObjectStatus;
  watermark: Watermark | null;
  /** When the backfill completed; null while backfilling. */
  backfilledAt: number | null;
  recordCount: number;
  versionCount: number;
  lastRunId: string | null;
  lastBackupAt: number | null;
  /** Why the object is excluded, unsupported or not visible, or the last error. */
  reason: string | null;
  statusCode: string | null;
  /** The capture's bookkeeping for the object (JSON-compatible); `{}` when none. */
  details?: Record<string, unknown>;
}

export type RunKind = 'backup' | 'restore' | 'export' | 'compare' | 'verify' | 'archive' | 'purge' | 'metadata' | 'forget' | 'prune' | 'stream' | 'permissions';
export type RunStatus = 'Running' | 'Succeeded' | 'CompletedWithErrors' | 'Failed' | 'Skipped' | 'Cancelled';

export interface Run {
  runId: string;
  orgId: string | null;
  kind: RunKind;
  status: RunStatus;
  startedAt: number;
  endedAt: number | null;
  /** Counters: records, versions, files, bytes, apiCalls, bulkApiCalls… */
  counters: Record<string, number>;
  message: string | null;
  /** Free-form parameters the run was started with (filters, options). */
  parameters: Record<string, unknown>;
}

/** One object within a run: the rows of the job log's "All Objects" tab. */
export interface ObjectRun {
  runId: string;
  objectName: string;
  status: RunStatus;
  /** Salesforce's status code when the object failed (INVALID_SESSION_ID, NOT_VISIBLE…). */
  statusCode: string | null;
  message: string | null;
  counters: Record<string, number>;
}

/** An old record ID and the ID a restore created for it. */
export interface IdMapping {
  objectName: string;
  oldId: string;
  newId: string;
  runId: string;
  createdAt: number;
}

/** What a restore did with one record: the rows of the restore report. */
export type RestoreOutcome = 'Created' | 'Updated' | 'Undeleted' | 'Skipped' | 'Failed';

export interface RestoreResult {
  objectName: string;
  /** The record's ID in the backup. */
  originalId: string;
  /** The record's ID in the org after the restore (the same ID unless it was re-created). */
  newId: string | null;
  outcome: RestoreOutcome;
  /** Salesforce's status code (or orgvault's, such as NEWER_IN_ORG) for failed and skipped records. */
  statusCode: string | null;
  /** Why: Salesforce's message, or orgvault's reason. May quote field values, so sealed at rest. */
  message: string | null;
  /** The step that produced this row: later steps of the same record (links) add to the first. */
  stepId: string;
}

/**
 * A batch of writes a restore is about to send, journaled before it is sent and completed with
 * its results: a step begun but never completed is one a crash interrupted, which a resumed
 * restore checks against the org before it writes anything again.
 */
export interface RestoreStep {
  runId: string;
  /** Unique within the run, in the order steps were taken. */
  stepId: string;
  objectName: string;
  /** `plan`: records decided without a write (skipped, or failed before sending). */
  action: 'plan' | 'create' | 'update' | 'undelete' | 'link' | 'file';
  /** The backup IDs of the records the step writes. */
  originalIds: string[];
  startedAt: number;
  completedAt: number | null;
}

/**
 * What an archive did with one record. `Ready`: a dry run found it safe to delete; `Refused`: not
 * safely in the vault, so never sent; `Skipped`: safe, but left in the org because a record of
 * its hierarchy was refused or failed (or, without --skip-unsafe, because any record was refused).
 */
export type ArchiveOutcome = 'Deleted' | 'Failed' | 'Refused' | 'Skipped' | 'Ready';

/** A record an archive step deletes: sent itself, or deleted by Salesforce with the one it hangs from. */
export interface ArchiveStepRecord {
  objectName: string;
  recordId: string;
  /** The live SystemModstamp the vault's latest version was confirmed to equal. */
  systemModstamp: number;
  /** The record it was selected through (a child's parent), null for a selected record. */
  via: string | null;
  /** The record whose delete takes this one with it (a cascade), null when sent itself. */
  cascadeOf: string | null;
}

/**
 * A batch of deletes an archive is about to send, journaled (durably) before it is sent and
 * completed with its results: a step left uncompleted is one a crash interrupted, settled against
 * the org on resume. `plan` steps hold records decided without a delete (refused, skipped, a dry run).
 */
export interface ArchiveStep {
  runId: string;
  /** Unique within the run, in the order steps were taken. */
  stepId: string;
  objectName: string;
  action: 'plan' | 'delete';
  records: ArchiveStepRecord[];
  startedAt: number;
  completedAt: number | null;
}

/** One record's row of an archive report. */
export interface ArchiveResult {
  objectName: string;
  recordId: string;
  outcome: ArchiveOutcome;
  /** Salesforce's status code (or orgvault's: NOT_BACKED_UP, CHANGED_SINCE_BACKUP…). */
  statusCode: string | null;
  /** Salesforce's message may quote field values, so it is sealed at rest. */
  message: string | null;
  /** The record this one was selected through (a child's parent), null for a selected record. */
  via: string | null;
  /** The SystemModstamp the vault holds it at; null when the vault has no version. */
  systemModstamp: number | null;
  stepId: string;
}

/** A record an archive deleted from Salesforce, kept in the vault. */
export interface ArchivedRecord {
  objectName: string;
  recordId: string;
  runId: string;
  archivedAt: number;
  /** The version the archive confirmed in the vault before deleting. */
  systemModstamp: number;
  /** Seen live again since: backed up undeleted, or re-created under a new ID by a restore. */
  restored: boolean;
}

export interface AuditEntry {
  at: number;
  actor: string;
  action: string;
  /** What the action touched (org name, run ID…), never secrets or field values. */
  target: string | null;
  details: Record<string, unknown>;
}

/** A file body captured with a record: ContentVersion.VersionData, Attachment.Body, Document.Body. */
export interface FileRef {
  objectName: string;
  recordId: string;
  field: string;
  /** The SystemModstamp of the record version the body belongs to. */
  systemModstamp: number;
  /** Content address of the body in the blob store. */
  address: string;
  size: number;
  fileName: string | null;
  contentType: string | null;
}

/** A describe, content-addressed, and the interval in which it held. */
export interface SchemaVersion {
  schemaId: string;
  objectName: string;
  validFrom: number;
  /** null while it is the current one. */
  validTo: number | null;
}
