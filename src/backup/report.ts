/**
 * What the admin reads about backups: the org's status and objects table, one record's history,
 * and the job logs with each status code's cause and fix. Read-only views over the vault.
 */
import { UsageError } from '../core/errors.ts';
import { statusCodeHelp } from '../core/status-codes.ts';
import { isRecordId } from '../core/vault.ts';
import type { ChangeType, ObjectState, ObjectStatus, OrgRegistration, Run, RunStatus } from '../core/vault.ts';
import type { ArchiveStore, FileCatalog, ObjectStateStore, RunLog, VersionStore } from '../store/port.ts';

/** The org's status, as GRAX names them. */
export type OrgStatus = 'Backfilling' | 'Behind' | 'Running Continuously' | 'Paused' | 'Error' | 'Never backed up';

/** Decides the org's status from its objects' states and its last run. */
export function orgStatusOf(states: readonly ObjectState[], lastRun: Run | undefined): OrgStatus {
  if (!lastRun) return 'Never backed up';
  const statuses = new Set<ObjectStatus>(states.map((s) => s.status));
  if (lastRun.parameters.mode === 'paused' || (statuses.has('Paused') && ![...statuses].some((s) => s === 'Waiting' || s === 'Running'))) return 'Paused';
  // Lost access fails that object's backups until it is given back: an error, not a detail.
  if (lastRun.status === 'Failed' || statuses.has('Error') || statuses.has('Unavailable')) return 'Error';
  if (statuses.has('Backfilling')) return 'Backfilling';
  if (statuses.has('Behind')) return 'Behind';
  return 'Running Continuously';
}

export interface StatusObject {
  name: string;
  status: ObjectStatus;
  recordCount: number;
  versionCount: number;
  lastBackupAt: string | null;
  statusCode: string | null;
  reason: string | null;
  /** Records an archive deleted from Salesforce (kept in the vault) and not restored since. */
  archived: number;
}

export interface StatusReport {
  org: string;
  orgId: string;
  status: OrgStatus;
  totals: { records: number; versions: number; files: number; fileBytes: number; objects: number; objectsBackedUp: number; archived: number };
  /** From the first backup run's start to the last run's end. */
  covered: { from: string | null; to: string | null };
  lastRun: { runId: string; status: RunStatus; startedAt: string; endedAt: string | null; message: string | null } | null;
  objects: StatusObject[];
}

const iso = (ms: number | null | undefined): string | null => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

/** The status page of one org. */
export async function statusReport(store: ObjectStateStore & RunLog & VersionStore & FileCatalog & Pick<ArchiveStore, 'countArchived'>, org: OrgRegistration): Promise<StatusReport> {
  const states = await store.getObjectStates(org.orgId);
  const runs = await store.listRuns({ orgId: org.orgId, kind: 'backup' });
  const lastRun = runs.find((r) => r.status !== 'Skipped');
  const first = runs[runs.length - 1];
  const counted = await store.countVersions(org.orgId);
  const files = await store.countFiles(org.orgId);
  const archived = await store.countArchived(org.orgId);
  const running = lastRun?.status === 'Running';
  const objects = states.map((s) => ({
    name: s.objectName,
    // An object left Running by a run that is no longer running was interrupted mid-read.
    status: s.status === 'Running' && !running ? (s.backfilledAt ? 'Behind' : 'Backfilling') : s.status,
    recordCount: s.recordCount,
    versionCount: s.versionCount,
    lastBackupAt: iso(s.lastBackupAt),
    statusCode: s.statusCode,
    reason: s.reason,
    archived: archived.get(s.objectName) ?? 0,
  }));
  return {
    org: org.name,
    orgId: org.orgId,
    status: orgStatusOf(states, lastRun),
    totals: {
      records: counted.records,
      versions: counted.versions,
      files: files.files,
      fileBytes: files.bytes,
      objects: states.length,
      objectsBackedUp: states.filter((s) => s.backfilledAt !== null).length,
      archived: [...archived.values()].reduce((n, k) => n + k, 0),
    },
    covered: { from: iso(first?.startedAt), to: iso(lastRun?.endedAt) },
    lastRun: lastRun ? { runId: lastRun.runId, status: lastRun.status, startedAt: iso(lastRun.startedAt)!, endedAt: iso(lastRun.endedAt), message: lastRun.message } : null,
    objects,
  };
}

export interface HistoryEntry {
  systemModstamp: string;
  changeType: ChangeType;
  capturedAt: string;
  runId: string;
  isDeleted: boolean;
  lastModifiedById: string | null;
  /** Fields that differ from the previous (older) version; every field for the first. */
  changedFields: string[];
  fields: Record<string, unknown>;
}

/** The archive that deleted a record from Salesforce, as its history shows it. */
export interface HistoryArchive {
  runId: string;
  archivedAt: string;
  /** The version the archive confirmed in the vault before deleting. */
  systemModstamp: string;
  /** Seen live again since (undeleted and backed up, or re-created by a restore). */
  restored: boolean;
}

/** Every version of one record, newest first, each with what changed from the one before, and its archive if any. */
export async function recordHistory(
  store: VersionStore & Pick<ArchiveStore, 'archivedRecords'>,
  org: OrgRegistration,
  recordId: string,
): Promise<{ recordId: string; objectName: string | null; versions: HistoryEntry[]; archived: HistoryArchive | null }> {
  if (!isRecordId(recordId)) throw new UsageError(`"${recordId}" is not a Salesforce record ID (15 or 18 letters and digits).`);
  const versions = await store.versionsOf(org.orgId, recordId);
  const entries = versions.map((v, i) => {
    const older = versions[i + 1];
    const changedFields = older ? diffFields(older.fields, v.fields) : Object.keys(v.fields);
    return {
      systemModstamp: iso(v.systemModstamp)!,
      changeType: v.changeType,
      capturedAt: iso(v.capturedAt)!,
      runId: v.runId,
      isDeleted: v.isDeleted,
      lastModifiedById: v.lastModifiedById ?? null,
      changedFields,
      fields: v.fields,
    };
  });
  const mark = (await store.archivedRecords(org.orgId, [recordId])).get(recordId);
  const archived = mark ? { runId: mark.runId, archivedAt: iso(mark.archivedAt)!, systemModstamp: iso(mark.systemModstamp)!, restored: mark.restored } : null;
  return { recordId, objectName: versions[0]?.objectName ?? null, versions: entries, archived };
}

/** Fields whose values differ between two versions (including fields added or dropped). */
export function diffFields(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...names].filter((name) => JSON.stringify(before[name]) !== JSON.stringify(after[name])).sort();
}

export interface LogObject {
  name: string;
  status: RunStatus;
  statusCode: string | null;
  message: string | null;
  cause: string | null;
  fix: string | null;
  counters: Record<string, number>;
}

export interface RunLogView {
  runId: string;
  kind: Run['kind'];
  org: string | null;
  /** Queued: a backup enqueued for the workers that none has started yet. */
  status: RunStatus | 'Queued';
  startedAt: string;
  endedAt: string | null;
  message: string | null;
  counters: Record<string, number>;
  objects: LogObject[];
}

/** The jobs of the log, newest first. */
export async function listJobs(store: RunLog, options: { orgId?: string; limit?: number } = {}): Promise<Omit<RunLogView, 'objects'>[]> {
  const runs = await store.listRuns({ orgId: options.orgId, limit: options.limit ?? 50 });
  return runs.map((run) => viewOf(run));
}

/** One job's log: all its objects, or only those with errors, each code with its cause and fix. */
export async function jobLog(store: RunLog, runId: string, options: { errorsOnly?: boolean } = {}): Promise<RunLogView> {
  const run = await store.getRun(runId);
  if (!run) throw new UsageError(`No run with ID ${runId}. \`orgvault logs\` lists the runs.`);
  const objects = (await store.listObjectRuns(runId))
    .filter((o) => !options.errorsOnly || o.status !== 'Succeeded')
    .map((o) => {
      const help = o.statusCode ? statusCodeHelp(o.statusCode) : null;
      return { name: o.objectName, status: o.status, statusCode: o.statusCode, message: o.message, cause: help?.cause ?? null, fix: help?.fix ?? null, counters: o.counters };
    });
  return { ...viewOf(run), objects };
}

function viewOf(run: Run): Omit<RunLogView, 'objects'> {
  return {
    runId: run.runId,
    kind: run.kind,
    org: typeof run.parameters.org === 'string' ? run.parameters.org : run.orgId,
    status: run.status,
    startedAt: iso(run.startedAt)!,
    endedAt: iso(run.endedAt),
    message: run.message,
    counters: run.counters,
  };
}
