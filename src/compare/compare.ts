/**
 * The compare use case, as AvePoint's compare job and Salesforce Backup's compare: a backed-up
 * record against the live one (what a restore would change), two versions of a record, and two
 * states of an object. Every compare is recorded in the run log (kind `compare`) with its counts.
 * Depends on the vault's ports and the org port only.
 */
import { randomUUID } from 'node:crypto';
import { OrgvaultError, UsageError } from '../core/errors.ts';
import type { FieldSummary, OrgClient } from '../core/org-client.ts';
import { isRecordId } from '../core/vault.ts';
import type { OrgRegistration, RecordVersion, Run } from '../core/vault.ts';
import type { ObjectStateStore, RunLog, SchemaStore, VersionStore } from '../store/port.ts';
import { fieldChanges, mergeById, recordDelta, restorableFields } from './diff.ts';
import type { FieldChange, RecordDelta } from './diff.ts';
import { isoTime, parseSalesforceDatetime } from '../core/time.ts';

export type CompareStore = VersionStore & ObjectStateStore & RunLog & SchemaStore;

export interface CompareDeps {
  store: CompareStore;
  /** Connects to the org; called only by the compare against the live record, after the vault is read. */
  connect?: () => Promise<OrgClient>;
  now?: () => number;
}

/** A point in time: a time (epoch ms), or a run, which stands for the moment it ended. */
export type ComparePoint = { at: number } | { runId: string };

/** One side of a record compare. */
export interface RecordSide {
  label: string;
  /** SystemModstamp of the version (or of the live record), ISO-8601; null when there is none. */
  systemModstamp: string | null;
  /** `live`, `deleted` (soft-deleted, in the Recycle Bin), `gone` (not in the org, or not in the vault at that point). */
  state: 'live' | 'deleted' | 'gone';
  capturedAt?: string;
  runId?: string;
  changeType?: string;
}

export interface RecordComparison {
  /** The compare's own run in the run log. */
  runId: string;
  record: string;
  objectName: string;
  left: RecordSide;
  right: RecordSide;
  /** Fields compared (for the live compare: those a restore would write). */
  comparedFields: number;
  changes: FieldChange[];
}

export interface ObjectComparison {
  runId: string;
  object: string;
  from: { at: string; runId?: string };
  to: { at: string; runId?: string };
  counts: { added: number; changed: number; removed: number; unchanged: number };
  /** Added, changed and removed records in record-ID order, at most `limit` of them. */
  records: Exclude<RecordDelta, { change: 'unchanged' }>[];
  /** True when more records differ than are listed. */
  truncated: boolean;
}


function checkRecordId(recordId: string): void {
  if (!isRecordId(recordId)) throw new UsageError(`"${recordId}" is not a Salesforce record ID (15 or 18 letters and digits).`);
}

/** The newest version of a record the vault holds, to find its object; a UsageError when there is none. */
async function objectOfRecord(store: VersionStore, org: OrgRegistration, recordId: string): Promise<string> {
  checkRecordId(recordId);
  const versions = await store.versionsOf(org.orgId, recordId);
  const newest = versions[0];
  if (!newest) throw new UsageError(`No version of ${recordId} in the vault of org ${org.name}. Check the ID and the org, or back the object up first.`);
  return newest.objectName;
}

/** The time a point stands for, and the run it names. */
async function resolvePoint(store: RunLog, org: OrgRegistration, point: ComparePoint, flag: string): Promise<{ at: number; runId?: string }> {
  if ('at' in point) return { at: point.at };
  const run = await store.getRun(point.runId);
  if (!run) throw new UsageError(`${flag}: no run with ID ${point.runId}. \`orgvault logs --org ${org.name}\` lists the runs.`);
  if (run.orgId !== org.orgId) throw new UsageError(`${flag}: run ${point.runId} is not a run of org ${org.name}.`);
  if (run.endedAt === null) throw new UsageError(`${flag}: run ${point.runId} has not ended; a run stands for the moment it ended.`);
  return { at: run.endedAt, runId: run.runId };
}

function sideOf(version: RecordVersion | undefined, label: string): RecordSide {
  if (!version) return { label, systemModstamp: null, state: 'gone' };
  return {
    label,
    systemModstamp: isoTime(version.systemModstamp),
    state: version.isDeleted ? (version.changeType === 'reconciled' ? 'gone' : 'deleted') : 'live',
    capturedAt: isoTime(version.capturedAt),
    runId: version.runId,
    changeType: version.changeType,
  };
}

/** Records the compare as a run: Running, then Succeeded with its counts, or Failed with why. */
async function recorded<T extends { runId: string }>(
  deps: CompareDeps,
  org: OrgRegistration,
  parameters: Record<string, unknown>,
  work: (runId: string) => Promise<{ result: T; counters: Record<string, number>; message: string }>,
): Promise<T> {
  const now = deps.now ?? Date.now;
  const run: Run = { runId: randomUUID(), orgId: org.orgId, kind: 'compare', status: 'Running', startedAt: now(), endedAt: null, counters: {}, message: null, parameters: { org: org.name, ...parameters } };
  await deps.store.createRun(run);
  try {
    const { result, counters, message } = await work(run.runId);
    await deps.store.updateRun(run.runId, { status: 'Succeeded', endedAt: now(), counters, message });
    return result;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    await deps.store.updateRun(run.runId, { status: 'Failed', endedAt: now(), message }).catch(() => undefined);
    throw error;
  }
}

/**
 * The backed-up version of a record (the latest, or the one current at `at`) against the live
 * record: the fields a restore would change, each with its backed-up and live value. Calculated
 * and system fields are left out (a restore never writes them), as the org's describe says.
 */
export async function compareWithLive(deps: CompareDeps, org: OrgRegistration, recordId: string, options: { at?: number } = {}): Promise<RecordComparison> {
  const objectName = await objectOfRecord(deps.store, org, recordId);
  const at = options.at ?? Number.MAX_SAFE_INTEGER;
  const version = await deps.store.versionAsOf(org.orgId, objectName, recordId, at);
  if (!version) throw new UsageError(`No version of ${objectName} ${recordId} as of ${isoTime(at)} in the vault: its first backed-up version is newer.`);
  if (!deps.connect) throw new OrgvaultError('NO_CLIENT', 'Comparing with the live record needs a connection to the org.');
  const connect = deps.connect;
  const label = options.at === undefined ? 'backup (latest)' : `backup as of ${isoTime(at)}`;
  return recorded(deps, org, { mode: 'live', record: recordId, objectName, at: options.at === undefined ? null : isoTime(options.at) }, async (runId) => {
    const client = await connect();
    const describe = await client.describeObject(objectName);
    const writable = new Map<string, FieldSummary>(restorableFields(describe.fields, false).concat(restorableFields(describe.fields, true)).map((f) => [f.name, f]));
    const has = new Set(describe.fields.map((f) => f.name));
    const select = ['Id', ...['IsDeleted', 'SystemModstamp'].filter((f) => has.has(f)), ...[...writable.keys()].filter((f) => f !== 'IsDeleted' && f !== 'SystemModstamp')];
    let live: Record<string, unknown> | undefined;
    for await (const page of client.query(`SELECT ${select.join(', ')} FROM ${objectName} WHERE Id = '${recordId}'`, { includeDeleted: has.has('IsDeleted') })) {
      live ??= page[0];
    }
    const exists = live !== undefined;
    const fields = restorableFields(describe.fields, exists)
      .map((f) => f.name)
      .filter((name) => name in version.fields);
    const changes = fieldChanges(version.fields, live ?? {}, fields);
    const stamp = live && typeof live.SystemModstamp === 'string' ? live.SystemModstamp : null;
    const right: RecordSide = {
      label: 'live',
      systemModstamp: stamp === null ? null : normalizeStamp(stamp),
      state: !live ? 'gone' : live.IsDeleted === true ? 'deleted' : 'live',
    };
    const result: RecordComparison = { runId, record: recordId, objectName, left: sideOf(version, label), right, comparedFields: fields.length, changes };
    return {
      result,
      counters: { changes: changes.length, comparedFields: fields.length, apiCalls: client.usage().calls },
      message: `${objectName} ${recordId}: ${changes.length} field(s) a restore would change; the live record is ${right.state}.`,
    };
  });
}

/** Salesforce datetimes (`2026-11-01T10:00:00.000+0000`) as ISO-8601 in UTC. */
function normalizeStamp(value: string): string {
  const ms = parseSalesforceDatetime(value);
  return ms === undefined ? value : isoTime(ms);
}

/** Two versions of a record, each the one current at its point: every field that differs, with both values. */
export async function compareVersions(deps: CompareDeps, org: OrgRegistration, recordId: string, from: ComparePoint, to: ComparePoint): Promise<RecordComparison> {
  const objectName = await objectOfRecord(deps.store, org, recordId);
  const a = await resolvePoint(deps.store, org, from, 'runId' in from ? '--run-a' : '--from');
  const b = await resolvePoint(deps.store, org, to, 'runId' in to ? '--run-b' : '--to');
  const left = await deps.store.versionAsOf(org.orgId, objectName, recordId, a.at);
  const right = await deps.store.versionAsOf(org.orgId, objectName, recordId, b.at);
  if (!left && !right) throw new UsageError(`No version of ${objectName} ${recordId} in the vault as of ${isoTime(a.at)} or ${isoTime(b.at)}: its first backed-up version is newer.`);
  const labelOf = (p: { at: number; runId?: string }): string => (p.runId ? `run ${p.runId} (ended ${isoTime(p.at)})` : `as of ${isoTime(p.at)}`);
  return recorded(deps, org, { mode: 'versions', record: recordId, objectName, from: isoTime(a.at), to: isoTime(b.at), runA: a.runId ?? null, runB: b.runId ?? null }, async (runId) => {
    const changes = fieldChanges(left?.fields ?? {}, right?.fields ?? {});
    const compared = new Set([...Object.keys(left?.fields ?? {}), ...Object.keys(right?.fields ?? {})]).size;
    const result: RecordComparison = { runId, record: recordId, objectName, left: sideOf(left, labelOf(a)), right: sideOf(right, labelOf(b)), comparedFields: compared, changes };
    return { result, counters: { changes: changes.length, comparedFields: compared }, message: `${objectName} ${recordId}: ${changes.length} field(s) differ.` };
  });
}

/**
 * An object's state at two points, merge-joined by record ID as the vault streams them: counts
 * of added, changed, removed and unchanged records (exact), and the first `limit` records that
 * differ. Memory does not grow with the object.
 */
export async function compareObject(deps: CompareDeps, org: OrgRegistration, objectName: string, from: ComparePoint, to: ComparePoint, options: { limit?: number } = {}): Promise<ObjectComparison> {
  const state = await deps.store.getObjectState(org.orgId, objectName);
  if (!state) {
    const names = (await deps.store.getObjectStates(org.orgId)).map((s) => s.objectName);
    const near = names.find((n) => n.toLowerCase() === objectName.toLowerCase());
    throw new UsageError(`No object ${objectName} in the vault of org ${org.name}${near ? ` (did you mean ${near}?)` : ''}. \`orgvault status --org ${org.name}\` lists the objects.`);
  }
  const a = await resolvePoint(deps.store, org, from, 'runId' in from ? '--run-a' : '--from');
  const b = await resolvePoint(deps.store, org, to, 'runId' in to ? '--run-b' : '--to');
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  const point = (p: { at: number; runId?: string }): { at: string; runId?: string } => (p.runId ? { at: isoTime(p.at), runId: p.runId } : { at: isoTime(p.at) });
  return recorded(deps, org, { mode: 'object', object: objectName, from: isoTime(a.at), to: isoTime(b.at), runA: a.runId ?? null, runB: b.runId ?? null }, async (runId) => {
    const counts = { added: 0, changed: 0, removed: 0, unchanged: 0 };
    const records: ObjectComparison['records'] = [];
    let truncated = false;
    const left = deps.store.stateAsOf(org.orgId, objectName, a.at, { includeDeleted: true });
    const right = deps.store.stateAsOf(org.orgId, objectName, b.at, { includeDeleted: true });
    for await (const pair of mergeById(left, right)) {
      const delta = recordDelta(pair.id, pair.left, pair.right);
      if (!delta) continue;
      counts[delta.change]++;
      if (delta.change === 'unchanged') continue;
      if (records.length < limit) records.push(delta);
      else truncated = true;
    }
    const result: ObjectComparison = { runId, object: objectName, from: point(a), to: point(b), counts, records, truncated };
    return { result, counters: { ...counts }, message: `${objectName}: ${counts.added} added, ${counts.changed} changed, ${counts.removed} removed, ${counts.unchanged} unchanged.` };
  });
}
