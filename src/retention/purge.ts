/**
 * `purge` (GDPR erasure, GRAX's "Delete Forever"): removes every trace of chosen records from the
 * vault, under the vault's exclusive lock. In this order, each step durable before the next:
 *
 * 0. When the org feeds a data lake, the records' rows are taken out of its lake files (each file
 *    rewritten whole and renamed over the old one). First, because the catalog still names the
 *    records until step 1: a purge that stops here is simply run again.
 * 1. One durable catalog transaction per chunk of records, with SQLite's secure_delete on: their
 *    versions, heads and file rows; ID mappings naming them; their search-index entries and
 *    archive marks; the messages of restore and archive results about them (which may quote
 *    values; the results keep the record IDs, which are not field values); and the packs that held
 *    their payloads, rewritten without them, so the sealed bytes are gone, not just unreferenced.
 * 2. Every other pack holding payloads nothing refers to (versions an earlier `forget` removed,
 *    which may include older versions of these records) is rewritten the same way.
 * 3. The blobs of their files that no other file row uses are deleted.
 * 4. A VACUUM rewrites the catalog, so that no free page keeps an old copy of a page, then the WAL
 *    is checkpointed and truncated.
 *
 * The run log and the audit log keep that a purge happened (who, when, which org and object, how
 * many records), never which records or what they held.
 */
import { randomUUID } from 'node:crypto';
import { resolveSettings, storedSettings } from '../backup/index.ts';
import { UsageError } from '../core/errors.ts';
import type { OrgRegistration, Run, RunStatus } from '../core/vault.ts';
import { openDataLake } from '../export/data-lake.ts';
import { purgeFromDataLake } from '../export/data-lake-purge.ts';
import type { LakePurgeOutcome } from '../export/data-lake-purge.ts';
import { matches, parseCondition, parseLogic, schemaFields } from '../restore/index.ts';
import type { BlobStore, CatalogSize, PurgeOutcome, RepackOutcome, VaultStore } from '../store/port.ts';
import { toId18 } from './record-ids.ts';
import { takeVaultLock } from './vault-lock.ts';

export type PurgeStore = Pick<
  VaultStore,
  | 'getObjectStates'
  | 'recordChains'
  | 'findVersions'
  | 'schemaHistory'
  | 'getSchema'
  | 'putSchema'
  | 'purgeRecords'
  | 'repackPacks'
  | 'syncCatalog'
  | 'compactCatalog'
  | 'acquireVaultLock'
  | 'createRun'
  | 'updateRun'
  | 'appendAudit'
>;

export interface PurgeDeps {
  store: PurgeStore;
  blobs: Pick<BlobStore, 'delete' | 'size'>;
  actor: string;
  now?: () => number;
  onProgress?: (line: string) => void;
}

export interface PurgeRequest {
  org: OrgRegistration;
  objectName: string;
  /** 15- or 18-character IDs. */
  recordIds?: readonly string[];
  /** Conditions like restore's `--where`: a record is chosen when any of its versions matches. */
  where?: readonly string[];
  /** ALL (default), ANY or custom logic over the conditions. */
  match?: string;
  /** Without it nothing is removed: the report says what would be. */
  confirmed: boolean;
  /** How long to wait for backups and restores holding an org's writer lock. */
  waitMs?: number;
  /** Rewrite the whole catalog afterwards (default true): see the module comment. */
  vacuum?: boolean;
}

export interface PurgeReport {
  /** Null when nothing was removed (not confirmed, or nothing found). */
  runId: string | null;
  org: string;
  objectName: string;
  confirmed: boolean;
  status: RunStatus | 'NotConfirmed';
  /** Records found in the vault, with what they hold. */
  records: number;
  versions: number;
  files: number;
  fileBytes: number;
  /** The records chosen, for the person at the keyboard only: never stored. */
  recordIds: string[];
  /** IDs asked for that the vault does not hold for the object. */
  notFound: string[];
  removed: Omit<PurgeOutcome, 'orphanedAddresses' | 'repack'> | null;
  repack: RepackOutcome | null;
  blobs: { deleted: number; bytes: number; failed: string[] };
  /** The folder of the org's data lake, when it has one. */
  dataLakeLocation: string | null;
  /** The records' rows taken out of the data lake's files. */
  dataLake: (LakePurgeOutcome & { location: string }) | null;
  catalog: { before: CatalogSize; after: CatalogSize; vacuumed: boolean; walPending: boolean } | null;
  message: string | null;
}

/** Records per catalog transaction. */
const CHUNK = 2000;

/**
 * Finds the records (by ID or condition), then unless `confirmed` is false removes them; a
 * confirmed purge is recorded as a run of kind `purge` and in the audit log, by counts only.
 */
export async function purge(deps: PurgeDeps, request: PurgeRequest): Promise<PurgeReport> {
  const { store } = deps;
  const { org } = request;
  const now = deps.now ?? Date.now;
  const progress = deps.onProgress ?? (() => undefined);
  const objectName = await heldObject(store, org, request.objectName);
  const chosen = await chooseRecords(store, org, objectName, request);

  const report: PurgeReport = {
    runId: null,
    org: org.name,
    objectName,
    confirmed: request.confirmed,
    status: 'NotConfirmed',
    records: 0,
    versions: 0,
    files: 0,
    fileBytes: 0,
    recordIds: [],
    notFound: [],
    removed: null,
    repack: null,
    blobs: { deleted: 0, bytes: 0, failed: [] },
    dataLakeLocation: null,
    dataLake: null,
    catalog: null,
    message: null,
  };
  const lakeTarget = resolveSettings(storedSettings(org)).dataLake;
  report.dataLakeLocation = lakeTarget ? openDataLake(lakeTarget).location : null;
  const found = new Set<string>();
  for await (const page of store.recordChains(org.orgId, objectName, { recordIds: chosen })) {
    for (const chain of page) {
      found.add(chain.recordId);
      report.versions += chain.versions.length;
      report.files += chain.files.length;
      report.fileBytes += chain.files.reduce((n, f) => n + f.size, 0);
    }
  }
  report.records = found.size;
  report.recordIds = [...found].sort();
  report.notFound = chosen.filter((id) => !found.has(id));
  if (!request.confirmed) return report;
  if (found.size === 0) {
    report.status = 'Succeeded';
    report.message = 'Nothing to purge: the vault holds none of those records.';
    return report;
  }

  const lock = await takeVaultLock(store, `orgvault purge (${deps.actor})`, request.waitMs, progress);
  try {
    const runId = randomUUID();
    report.runId = runId;
    // The run names the object and how many records, never which: the log outlives the purge.
    const run: Run = { runId, orgId: org.orgId, kind: 'purge', status: 'Running', startedAt: now(), endedAt: null, counters: {}, message: null, parameters: { objectName, records: found.size } };
    await store.createRun(run);
    try {
      const removed: Omit<PurgeOutcome, 'orphanedAddresses' | 'repack'> = { records: 0, versions: 0, files: 0, idMappings: 0, messagesErased: 0, searchEntries: 0, archiveMarks: 0 };
      const orphaned = new Set<string>();
      const ids = report.recordIds;
      if (lakeTarget) {
        const lake = openDataLake(lakeTarget);
        progress(`  taking the records out of the data lake in ${lake.location}`);
        report.dataLake = { location: lake.location, ...(await purgeFromDataLake(lake, org.orgId, objectName, new Set(ids))) };
      }
      for (let i = 0; i < ids.length; i += CHUNK) {
        const outcome = await store.purgeRecords(org.orgId, objectName, ids.slice(i, i + CHUNK));
        for (const key of Object.keys(removed) as (keyof typeof removed)[]) removed[key] += outcome[key];
        for (const address of outcome.orphanedAddresses) orphaned.add(address);
        progress(`  ${Math.min(i + CHUNK, ids.length)} of ${ids.length} records purged from the catalog`);
      }
      report.removed = removed;
      report.repack = await store.repackPacks({ secureDelete: true });
      await store.syncCatalog();
      for (const address of orphaned) {
        const size = (await deps.blobs.size(address)) ?? 0;
        try {
          await deps.blobs.delete(address);
          report.blobs.deleted++;
          report.blobs.bytes += size;
        } catch (error) {
          report.blobs.failed.push(`${address}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
      report.catalog = await store.compactCatalog({ full: request.vacuum ?? true });
      const problems = [
        ...(report.blobs.failed.length ? [`${report.blobs.failed.length} file bod(ies) could not be deleted; \`orgvault prune\` deletes them once it can`] : []),
        ...(report.repack.damagedPacks.length ? [`${report.repack.damagedPacks.length} damaged pack(s) could not be rewritten: run \`orgvault verify --read-data\``] : []),
        ...(report.catalog.walPending ? ['a reader kept the write-ahead log from being emptied; run `orgvault prune` when no one reads the vault'] : []),
      ];
      report.status = problems.length ? 'CompletedWithErrors' : 'Succeeded';
      report.message = problems.length ? problems.join('; ') : null;
    } catch (error) {
      await store.updateRun(runId, { status: 'Failed', endedAt: now(), counters: counters(report), message: error instanceof Error ? error.message : String(error) }).catch(() => undefined);
      throw error;
    }
    await store.updateRun(runId, { status: report.status, endedAt: now(), counters: counters(report), message: report.message });
    await store.appendAudit({ at: now(), actor: deps.actor, action: 'records.purge', target: org.name, details: { runId, objectName, records: report.records } });
    return report;
  } finally {
    await lock.release();
  }
}

/** The object's name as the vault holds it, or a UsageError. */
async function heldObject(store: PurgeStore, org: OrgRegistration, name: string): Promise<string> {
  const states = await store.getObjectStates(org.orgId);
  const state = states.find((s) => s.objectName.toLowerCase() === name.toLowerCase());
  if (!state) throw new UsageError(`The vault holds no ${name} for ${org.name}: check the object's API name (\`orgvault status --org ${org.name}\` lists the objects).`);
  return state.objectName;
}

/** The IDs named and the records any of whose versions meets the conditions, in 18-character form. */
async function chooseRecords(store: PurgeStore, org: OrgRegistration, objectName: string, request: PurgeRequest): Promise<string[]> {
  const ids = new Set<string>();
  for (const raw of request.recordIds ?? []) {
    const id = toId18(raw);
    if (!id) throw new UsageError(`"${raw}" is not a Salesforce record ID (15 or 18 letters and digits).`);
    ids.add(id);
  }
  const where = request.where ?? [];
  if (where.length) {
    const fields = await schemaFields(store, org.orgId, objectName);
    const conditions = where.map((text, i) => parseCondition(text, fields, i + 1));
    const logic = parseLogic(request.match, conditions.length);
    for await (const version of store.findVersions({ orgId: org.orgId, objectName })) {
      if (!ids.has(version.recordId) && matches(version.fields, conditions, logic)) ids.add(version.recordId);
    }
  } else if (request.match !== undefined) {
    throw new UsageError('--match combines --where conditions, and none was given.');
  }
  if (ids.size === 0 && !where.length) throw new UsageError('Name the records to purge: --id ID (repeat), --ids-file FILE, or --where CONDITION.');
  return [...ids];
}

function counters(report: PurgeReport): Record<string, number> {
  return {
    records: report.removed?.records ?? 0,
    versions: report.removed?.versions ?? 0,
    files: report.removed?.files ?? 0,
    idMappings: report.removed?.idMappings ?? 0,
    searchEntries: report.removed?.searchEntries ?? 0,
    packsRewritten: report.repack?.packsRewritten ?? 0,
    packsDeleted: report.repack?.packsDeleted ?? 0,
    blobsDeleted: report.blobs.deleted,
    dataLakeRows: report.dataLake?.rows ?? 0,
    dataLakeFilesRewritten: (report.dataLake?.filesRewritten ?? 0) + (report.dataLake?.filesRemoved ?? 0),
    blobBytesDeleted: report.blobs.bytes,
  };
}
