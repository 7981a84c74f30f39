/**
 * Captures one object: reads every record changed since its watermark (look-back included) in
 * (SystemModstamp, Id) order, through REST or Bulk API 2.0, and stores each page as versions with
 * the watermark that page reaches, file bodies first.
 *
 * Ordering rules that make a capture crash-safe (see docs/ARCHITECTURE.md, "Backup"):
 * 1. A file body is durable in the blob store, and its catalog entry written, before the version
 *    it belongs to is stored.
 * 2. Versions and the watermark they reach commit in one transaction; the watermark never passes
 *    data not stored. A killed run therefore resumes at the last committed page.
 * 3. Re-reading what is already stored (the look-back, a restarted query) stores nothing twice:
 *    the vault skips versions it holds.
 */
import { SalesforceApiError } from '../core/errors.ts';
import type { FieldSummary, OrgClient, SObjectRecord } from '../core/org-client.ts';
import type { FileRef, VersionInput, Watermark } from '../core/vault.ts';
import type { BlobStore, FileCatalog, VersionStore } from '../store/port.ts';
import { parseSalesforceDatetime } from '../core/time.ts';
import { captureQuery, compareWatermarks, fileNameOf, statedBodySize, toVersion } from './capture-plan.ts';

/** Versions per vault write: large enough to amortise a transaction, small enough to resume cheaply. */
const BATCH = 2000;
/** Records per REST keyset chunk: bounds a cursor's life, so an expired one costs little. */
const REST_CHUNK = 50_000;
/** How many times one capture restarts its query after the cursor expired. */
const MAX_QUERY_RESTARTS = 5;
const PARALLEL_DOWNLOADS = 4;

export interface CaptureTarget {
  orgId: string;
  objectName: string;
  runId: string;
  schemaId: string | null;
  fields: FieldSummary[];
  /** base64 fields whose bodies go to the blob store. */
  bodies: FieldSummary[];
  captureBodies: boolean;
  api: 'rest' | 'bulk';
  /** Where reading starts (the watermark minus the look-back), null for a backfill. */
  start: Watermark | null;
  /** The stored watermark: the end of the look-back window. */
  watermark: Watermark | null;
  lookbackMs: number;
}

export interface CaptureDeps {
  client: OrgClient;
  versions: VersionStore;
  files: FileCatalog;
  blobs: BlobStore;
  now: () => number;
  /** Asked before every chunk: false stops the capture cleanly (budget spent, run cancelled). */
  mayContinue: () => boolean;
  onProgress: (records: number) => void;
  /** Sees each batch before it is stored: the scan confirming the change stream counts there. */
  beforeWrite?: (versions: readonly VersionInput[]) => Promise<void>;
}

export interface CaptureOutcome {
  /** Every record up to now was read. */
  complete: boolean;
  api: 'rest' | 'bulk';
  records: number;
  versions: number;
  duplicates: number;
  newRecords: number;
  /** New versions that deleted or undeleted a record (soft deletes arrive with queryAll). */
  deletes: number;
  undeletes: number;
  files: number;
  fileBytes: number;
  watermark: Watermark | null;
  /** Distinct records seen after watermark − look-back: the baseline of the next quiet check. */
  windowCount: number;
  /** Set when Bulk failed and REST took over, with the reason. */
  bulkFallback: string | null;
  queryRestarts: number;
}

export async function captureObject(deps: CaptureDeps, target: CaptureTarget): Promise<CaptureOutcome> {
  const outcome: CaptureOutcome = {
    complete: false,
    api: target.api,
    records: 0,
    versions: 0,
    duplicates: 0,
    newRecords: 0,
    deletes: 0,
    undeletes: 0,
    files: 0,
    fileBytes: 0,
    watermark: target.watermark,
    windowCount: 0,
    bulkFallback: null,
    queryRestarts: 0,
  };
  const window = new WindowCounter(target.lookbackMs);
  let position = target.start;
  const pending: SObjectRecord[] = [];

  const flush = async (): Promise<void> => {
    if (pending.length === 0) return;
    const records = pending.splice(0, pending.length);
    await storeRecords(deps, target, records, outcome);
    const last = records[records.length - 1]!;
    position = { systemModstamp: parseSalesforceDatetime(last.SystemModstamp)!, recordId: String(last.Id) };
    for (const record of records) window.see(record);
    deps.onProgress(outcome.records);
  };

  const consume = async (pages: AsyncIterable<SObjectRecord[]>): Promise<number> => {
    let read = 0;
    for await (const page of prefetched(pages)) {
      for (const record of page) {
        pending.push(record);
        read++;
        if (pending.length >= BATCH) await flush();
      }
      if (!deps.mayContinue()) break;
    }
    await flush();
    return read;
  };

  if (target.api === 'bulk') {
    try {
      await consume(deps.client.bulkQuery(captureQuery(target.objectName, target.fields, position), target.fields, { includeDeleted: true }));
      outcome.complete = deps.mayContinue();
    } catch (error) {
      if (!(error instanceof SalesforceApiError) || error.statusCode === 'REQUEST_LIMIT_EXCEEDED') throw error;
      // A failed job leaves what it stored committed; REST continues from there.
      outcome.bulkFallback = `${error.statusCode}: ${error.message}`;
      outcome.api = 'rest';
      pending.length = 0;
    }
  }
  while (!outcome.complete && outcome.api === 'rest' && deps.mayContinue()) {
    try {
      const read = await consume(deps.client.query(captureQuery(target.objectName, target.fields, position, REST_CHUNK), { includeDeleted: true }));
      // A chunk shorter than its limit reached the newest record.
      if (read < REST_CHUNK) outcome.complete = deps.mayContinue();
    } catch (error) {
      if (error instanceof SalesforceApiError && error.statusCode === 'INVALID_QUERY_LOCATOR' && outcome.queryRestarts < MAX_QUERY_RESTARTS) {
        // The cursor expired: what was stored is committed with its watermark; read on from there.
        outcome.queryRestarts++;
        pending.length = 0;
        continue;
      }
      throw error;
    }
  }
  outcome.watermark = position && (!outcome.watermark || compareWatermarks(position, outcome.watermark) > 0) ? position : outcome.watermark;
  outcome.windowCount = outcome.watermark ? window.countAfter(outcome.watermark.systemModstamp - target.lookbackMs) : 0;
  return outcome;
}

/** Stores one batch: heads looked up, change types decided, bodies first, then the versions. */
async function storeRecords(deps: CaptureDeps, target: CaptureTarget, records: SObjectRecord[], outcome: CaptureOutcome): Promise<void> {
  const heads = await deps.versions.headsOf(target.orgId, target.objectName, records.map((r) => String(r.Id)));
  const versions: VersionInput[] = [];
  const withBodies: VersionInput[] = [];
  for (const record of records) {
    const head = heads.get(String(record.Id));
    const version = toVersion(record, head);
    versions.push(version);
    if (head?.systemModstamp !== version.systemModstamp) {
      if (version.changeType === 'deleted') outcome.deletes++;
      else if (version.changeType === 'undeleted') outcome.undeletes++;
    }
    // Later versions of one record in the same batch see the earlier one as their head.
    heads.set(version.recordId, { systemModstamp: version.systemModstamp, isDeleted: version.isDeleted });
    if (target.captureBodies && target.bodies.length && !version.isDeleted && head?.systemModstamp !== version.systemModstamp) withBodies.push(version);
  }
  if (withBodies.length) await captureBodies(deps, target, withBodies, outcome);
  if (deps.beforeWrite) await deps.beforeWrite(versions);
  const last = versions[versions.length - 1]!;
  const result = await deps.versions.writeVersions({
    orgId: target.orgId,
    objectName: target.objectName,
    runId: target.runId,
    capturedAt: deps.now(),
    schemaId: target.schemaId,
    versions,
    watermark: { systemModstamp: last.systemModstamp, recordId: last.recordId },
  });
  outcome.records += records.length;
  outcome.versions += result.written;
  outcome.duplicates += result.duplicates;
  outcome.newRecords += result.newRecords;
}

type BodyTarget = Pick<CaptureTarget, 'orgId' | 'objectName' | 'bodies'>;
type BodyCounters = Pick<CaptureOutcome, 'files' | 'fileBytes'>;

async function captureBodies(deps: CaptureDeps, target: BodyTarget, versions: VersionInput[], outcome: BodyCounters): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < versions.length) {
      const version = versions[next++]!;
      for (const field of target.bodies) {
        const ref = await captureBody(deps, target, version, field.name);
        if (ref) {
          outcome.files++;
          outcome.fileBytes += ref.size;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_DOWNLOADS, versions.length) }, worker));
}

/**
 * Downloads the bodies the vault lacks for the latest live version of each record captured since
 * `from`: what a run skipped while file bodies were paused or not backed up.
 */
export async function captureMissingBodies(
  deps: CaptureDeps,
  target: BodyTarget,
  from: number,
): Promise<{ files: number; bytes: number }> {
  const latest = new Map<string, VersionInput>();
  for await (const version of deps.versions.findVersions({ orgId: target.orgId, objectName: target.objectName, from })) latest.set(version.recordId, version);
  const missing: VersionInput[] = [];
  for (const version of latest.values()) {
    if (version.isDeleted) continue;
    const stored = await deps.files.filesOf(target.orgId, version.recordId);
    if (target.bodies.some((field) => !stored.some((f) => f.field === field.name && f.systemModstamp === version.systemModstamp))) missing.push(version);
  }
  const counters: BodyCounters = { files: 0, fileBytes: 0 };
  if (missing.length) await captureBodies(deps, target, missing, counters);
  return { files: counters.files, bytes: counters.fileBytes };
}

async function captureBody(deps: CaptureDeps, target: BodyTarget, version: VersionInput, field: string): Promise<FileRef | undefined> {
  const record = version.fields;
  const stated = statedBodySize(target.objectName, record);
  const base = {
    objectName: target.objectName,
    recordId: version.recordId,
    field,
    systemModstamp: version.systemModstamp,
    fileName: fileNameOf(target.objectName, record),
    contentType: typeof record.ContentType === 'string' ? record.ContentType : null,
  };
  // A ContentVersion's body never changes (a new body is a new version record): a later version
  // of the record reuses the stored body instead of downloading it again.
  if (target.objectName === 'ContentVersion') {
    const known = (await deps.files.filesOf(target.orgId, version.recordId)).find((f) => f.field === field && (stated === undefined || f.size === stated));
    if (known) {
      const ref = { ...base, address: known.address, size: known.size };
      await deps.files.putFile(target.orgId, ref);
      return undefined;
    }
  }
  if (stated === 0) return undefined;
  let stored: { address: string; size: number };
  try {
    stored = await deps.blobs.put(deps.client.downloadBody(target.objectName, version.recordId, field));
  } catch (error) {
    // A record deleted between the query and the download has no body to give: its version is
    // still stored, and the next run sees it as deleted.
    if (error instanceof SalesforceApiError && (error.statusCode === 'ENTITY_IS_DELETED' || error.statusCode === 'NOT_FOUND')) return undefined;
    throw error;
  }
  const ref = { ...base, address: stored.address, size: stored.size };
  await deps.files.putFile(target.orgId, ref);
  return ref;
}

/**
 * Reads the next page while the current one is stored: the org's response time and the vault's
 * write time overlap instead of adding up.
 */
async function* prefetched<T>(source: AsyncIterable<T>): AsyncIterable<T> {
  const iterator = source[Symbol.asyncIterator]();
  let next = iterator.next();
  try {
    while (true) {
      const current = await next;
      if (current.done) return;
      next = iterator.next();
      // A rejected prefetch is awaited (and thrown) on the next turn; never leave it unhandled.
      next.catch(() => undefined);
      yield current.value;
    }
  } finally {
    await iterator.return?.();
  }
}

/**
 * Counts distinct records by their latest SystemModstamp, for the quiet check's baseline. Records
 * arrive in SystemModstamp order, so only those within the look-back of the newest seen can fall
 * in the final window: older ones are dropped as the capture moves on, and memory stays small
 * whatever the object's size.
 */
class WindowCounter {
  private readonly latest = new Map<string, number>();
  private newest = Number.NEGATIVE_INFINITY;
  private nextPrune = 10_000;

  constructor(private readonly lookbackMs: number) {}

  see(record: SObjectRecord): void {
    const stamp = parseSalesforceDatetime(record.SystemModstamp);
    if (stamp === undefined || stamp < this.newest - this.lookbackMs) return;
    if (stamp > this.newest) this.newest = stamp;
    this.latest.set(String(record.Id), stamp);
    if (this.latest.size >= this.nextPrune) this.prune();
  }

  countAfter(start: number): number {
    let n = 0;
    for (const stamp of this.latest.values()) if (stamp > start) n++;
    return n;
  }

  private prune(): void {
    const floor = this.newest - this.lookbackMs;
    for (const [id, stamp] of this.latest) if (stamp < floor) this.latest.delete(id);
    // Many records inside one window (a mass update) keep the map large: prune less often then.
    this.nextPrune = Math.max(10_000, this.latest.size * 2);
  }
}
