/**
 * Deletes a query cannot show. Soft deletes arrive with the capture itself (queryAll returns
 * records in the Recycle Bin with IsDeleted); records purged, hard-deleted or emptied from the
 * Recycle Bin before a run saw them only show in getDeleted, which reaches back about 15 days
 * (up to 30). Beyond that window only comparing every record ID with the org's tells what is
 * gone: the reconciliation, run when the window was missed and periodically.
 */
import { fieldSummary } from '../core/describe.ts';
import { SalesforceApiError } from '../core/errors.ts';
import type { OrgClient } from '../core/org-client.ts';
import type { VersionInput } from '../core/vault.ts';
import type { VersionStore } from '../store/port.ts';

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;
/**
 * getDeleted refuses a start before its earliest date available: 15 days back, counted from
 * midnight UTC (Salesforce keeps deletes that long). A day less leaves a margin for clock skew.
 */
const DELETED_WINDOW_MS = 14 * DAY_MS;
const BATCH = 2000;

export interface DeleteCheckTarget {
  orgId: string;
  objectName: string;
  runId: string;
  /** The describe a deleted version is stored under when its previous version names none. */
  schemaId: string | null;
  /** When getDeleted was last asked, null if never. */
  since: number | null;
}

export interface DeleteCheckOutcome {
  checkedAt: number;
  /** Deletes stored as new versions. */
  deleted: number;
  /** The window was missed: the caller should reconcile IDs. */
  windowMissed: boolean;
}

/**
 * Asks getDeleted what was deleted since the last check and stores a deleted version for each
 * record the vault still held live. Salesforce counts whole minutes: a check less than a minute
 * after the last one asks nothing and keeps the old mark. A last check older than getDeleted
 * reaches (or a start Salesforce refuses) is reported as a missed window.
 */
export async function checkDeletes(client: OrgClient, versions: VersionStore, target: DeleteCheckTarget, now: number): Promise<DeleteCheckOutcome> {
  const earliest = now - DELETED_WINDOW_MS;
  const since = target.since ?? earliest;
  const start = Math.floor(Math.max(since, earliest) / MINUTE_MS) * MINUTE_MS;
  const end = Math.floor(now / MINUTE_MS) * MINUTE_MS;
  const missed = since < earliest;
  if (end - start < MINUTE_MS) return { checkedAt: target.since ?? start, deleted: 0, windowMissed: missed };
  let result;
  try {
    result = await client.getDeleted(target.objectName, start, end);
  } catch (error) {
    if (error instanceof SalesforceApiError && error.statusCode === 'INVALID_REPLICATION_DATE') return { checkedAt: target.since ?? start, deleted: 0, windowMissed: true };
    throw error;
  }
  const deletedAt = new Map(result.records.map((r) => [r.id, r.deletedAt]));
  const deleted = await storeDeletions(versions, target, deletedAt, 'deleted', now);
  return { checkedAt: result.latestDateCovered || end, deleted, windowMissed: missed || since < result.earliestDateAvailable };
}

/**
 * Compares every record ID the org has (deleted ones included) with the live records of the vault;
 * those the org no longer has get a `reconciled` deleted version.
 */
export async function reconcileIds(client: OrgClient, versions: VersionStore, target: DeleteCheckTarget, now: number, useBulk: boolean): Promise<number> {
  const inOrg = new Set<string>();
  const idField = [fieldSummary({ name: 'Id', type: 'id', label: 'Record ID', nillable: false, idLookup: true })];
  const soql = `SELECT Id FROM ${target.objectName}`;
  const pages = useBulk ? client.bulkQuery(soql, idField, { includeDeleted: true }) : client.query(soql, { includeDeleted: true });
  for await (const page of pages) for (const record of page) inOrg.add(String(record.Id));
  const gone = new Map<string, number>();
  for await (const version of versions.latestVersions(target.orgId, target.objectName)) {
    if (!inOrg.has(version.recordId)) gone.set(version.recordId, now);
  }
  return storeDeletions(versions, target, gone, 'reconciled', now);
}

async function storeDeletions(versions: VersionStore, target: DeleteCheckTarget, deletedAt: ReadonlyMap<string, number>, changeType: 'deleted' | 'reconciled', now: number): Promise<number> {
  const ids = [...deletedAt.keys()];
  let stored = 0;
  for (let i = 0; i < ids.length; i += BATCH) {
    const chunk = ids.slice(i, i + BATCH);
    const heads = await versions.headsOf(target.orgId, target.objectName, chunk);
    // A deletion keeps its last known fields, so it belongs to the describe they were captured under.
    const batches = new Map<string | null, VersionInput[]>();
    for (const id of chunk) {
      const head = heads.get(id);
      // Never backed up (created and deleted between runs), or already known deleted: nothing to add.
      if (!head || head.isDeleted) continue;
      // Stored live with a later SystemModstamp than the delete: the record came back from the
      // Recycle Bin since (the capture just read it), so the delete is history, not its state.
      const at = deletedAt.get(id);
      if (at !== undefined && head.systemModstamp > at) continue;
      const previous = await versions.versionAsOf(target.orgId, target.objectName, id, head.systemModstamp);
      if (!previous) continue;
      // The last known fields, marked deleted: what a restore of this record would bring back.
      const stamp = Math.max(at ?? now, head.systemModstamp + 1);
      const schemaId = previous.schemaId ?? target.schemaId;
      const batch = batches.get(schemaId) ?? [];
      batch.push({ recordId: id, systemModstamp: stamp, changeType, isDeleted: true, lastModifiedById: previous.lastModifiedById ?? null, fields: { ...previous.fields, IsDeleted: true } });
      batches.set(schemaId, batch);
    }
    for (const [schemaId, batch] of batches) {
      batch.sort((a, b) => a.systemModstamp - b.systemModstamp || (a.recordId < b.recordId ? -1 : 1));
      const result = await versions.writeVersions({ orgId: target.orgId, objectName: target.objectName, runId: target.runId, capturedAt: now, schemaId, versions: batch });
      stored += result.written;
    }
  }
  return stored;
}
