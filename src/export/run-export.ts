/**
 * The export use case, as AvePoint's and GRAX's exports: the backed-up records of chosen objects
 * (or all of an org's), as they were at a point in time (the latest state by default), every
 * version, or what changed since the last export or since a given backup run, written by a
 * format (CSV, SQL, Parquet) to a folder or an encrypted zip, optionally with the file bodies.
 *
 * Everything streams: records are read from the vault and handed to the format in batches, file
 * bodies go from the blob store to the output chunk by chunk, so memory stays flat whatever the
 * size. Every export is a run in the log (kind `export`) with its parameters, per-object results
 * and counters. It depends on the vault's ports only.
 *
 * "Changed since the last export": each export that covers everything stored (the latest state,
 * every version, or changes since the last export) records, per object, a cutoff: the time it
 * started, or the start of a backup then running. Every version captured before the cutoff was
 * stored before the export read the object, so the next export takes the versions captured from
 * the cutoff on. A backup running beside an export may make the next export repeat some of its
 * versions (`_version_seq` tells them apart); none is ever skipped.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Writable } from 'node:stream';
import type { RawField } from '../core/describe.ts';
import { OrgvaultError, UsageError } from '../core/errors.ts';
import { isoTime } from '../core/time.ts';
import type { FileRef, OrgRegistration, RecordVersion, Run, RunStatus } from '../core/vault.ts';
import type { BlobStore, FileCatalog, ObjectStateStore, RunLog, SchemaStore, VersionStore } from '../store/port.ts';
import { columnsOf, unionFields } from './columns.ts';
import type { StoredDescribe } from './columns.ts';
import { FolderNames, safeFileName, safeSegment } from './file-names.ts';
import type { ExportColumn, ExportFormat, ExportedObject, ExportedRecord, TypeSpan } from './format.ts';
import type { ExportTarget } from './sinks.ts';
import { endStream, writeChunk } from './streams.ts';

export type ExportStore = VersionStore & SchemaStore & FileCatalog & RunLog & ObjectStateStore;

/** Which versions an export takes. */
export type ExportScope =
  /** Each record's latest version (the default: the state as of now). */
  | { kind: 'latest' }
  /** Each record as it was at `at` (its latest version with SystemModstamp ≤ at). */
  | { kind: 'asOf'; at: number }
  | { kind: 'allVersions' }
  /** Versions captured since the last export of each object (every version for a first export). */
  | { kind: 'sinceLastExport' }
  /** The versions one backup run captured. */
  | { kind: 'sinceRun'; runId: string };

export interface ExportRequest {
  org: OrgRegistration;
  /** API names (any case); none: every object of the org that the vault holds records of. */
  objects?: readonly string[];
  scope: ExportScope;
  /** With the latest state or as of a time: also records deleted by then (their last version). */
  includeDeleted?: boolean;
  /** Also the file bodies (ContentVersion, Attachment, Document) of the records exported. */
  files?: boolean;
}

export interface ExportDeps {
  store: ExportStore;
  blobs: Pick<BlobStore, 'get'>;
  now?: () => number;
  onEvent?: (event: ExportEvent) => void;
  /** Rows read from the vault and handed to the format at a time (default 2,000). */
  batchSize?: number;
  /** Where the list of file bodies to write waits for its object's data file to close (default the OS's). */
  tempDir?: string;
}

export type ExportEvent =
  | { type: 'run-started'; runId: string; objects: number }
  | { type: 'object-started'; name: string; expected: number | null }
  | { type: 'object-progress'; name: string; rows: number; files: number }
  | { type: 'object-finished'; name: string; rows: number; files: number; status: RunStatus; message: string | null };

/** An export checked against the vault and ready to run: nothing is written yet. */
export interface ExportPlan {
  request: ExportRequest;
  objects: PlannedObject[];
  /** The backup run whose versions are exported (`sinceRun`). */
  sinceRun?: Run;
}

interface PlannedObject {
  name: string;
  fields: RawField[];
  /** Fields whose type the describes of the exported versions disagree on (by lower-case name). */
  typeHistory: Map<string, TypeSpan[]>;
  /** base64 fields, whose bodies are the object's files. */
  bodies: string[];
  /** `sinceLastExport`: versions captured from this time on; undefined for a first export. */
  since?: { at: number; runId: string };
}

export interface ObjectExport {
  name: string;
  status: RunStatus;
  rows: number;
  files: number;
  fileBytes: number;
  /** The data files written for the object (`Account.csv`). */
  paths: string[];
  message: string | null;
}

export interface ExportResult {
  runId: string;
  status: 'Succeeded' | 'CompletedWithErrors';
  org: string;
  format: string;
  /** The scope in words: "latest", "as of 2026-01-01T00:00:00.000Z", "every version"… */
  scope: string;
  includeDeleted: boolean;
  output: { kind: 'folder' | 'zip'; location: string };
  objects: ObjectExport[];
  counters: { objects: number; rows: number; files: number; fileBytes: number; bytes: number };
  /** Files written besides the objects' own (`load.sql`, `manifest.json`). */
  extraFiles: string[];
  startedAt: string;
  endedAt: string;
  message: string;
}

const DEFAULT_BATCH = 2000;
/** Scopes after which every version stored before the export's cutoff has been exported. */
const COVERING: ReadonlySet<ExportScope['kind']> = new Set(['latest', 'allVersions', 'sinceLastExport']);

/** Whether a scope exports versions (with the version columns) rather than one state per record. */
export function exportsVersions(scope: ExportScope): boolean {
  return scope.kind === 'allVersions' || scope.kind === 'sinceLastExport' || scope.kind === 'sinceRun';
}

export function describeScope(scope: ExportScope): string {
  switch (scope.kind) {
    case 'latest':
      return 'latest';
    case 'asOf':
      return `as of ${isoTime(scope.at)}`;
    case 'allVersions':
      return 'every version';
    case 'sinceLastExport':
      return 'changed since the last export';
    case 'sinceRun':
      return `captured by run ${scope.runId}`;
  }
}

/**
 * Checks an export against the vault before anything is written: the objects (by API name, any
 * case), the run a `sinceRun` export names, and where each object's last export ended. Bad input
 * is a UsageError naming what to fix.
 */
export async function planExport(store: ExportStore, request: ExportRequest): Promise<ExportPlan> {
  const { org, scope } = request;
  if (request.includeDeleted && exportsVersions(scope)) {
    throw new UsageError(`--include-deleted applies to the latest state or --as-of: an export of versions (${describeScope(scope)}) already includes deletions, as versions with _is_deleted true.`);
  }
  let sinceRun: Run | undefined;
  if (scope.kind === 'sinceRun') {
    sinceRun = await store.getRun(scope.runId);
    if (!sinceRun || sinceRun.orgId !== org.orgId) throw new UsageError(`--since-run ${scope.runId}: no run of org ${org.name} has that ID. \`orgvault logs --org ${org.name}\` lists the runs.`);
    if (sinceRun.kind !== 'backup') throw new UsageError(`--since-run ${scope.runId} is a ${sinceRun.kind} run: give a backup run, whose captured versions are exported.`);
    if (sinceRun.endedAt === null) throw new UsageError(`--since-run ${scope.runId} is still running: export its versions once it has ended.`);
  }
  const names = await objectNames(store, org, request.objects);
  const marks = scope.kind === 'sinceLastExport' ? await lastMarks(store, org.orgId) : new Map<string, { at: number; runId: string }>();
  const objects: PlannedObject[] = [];
  for (const name of names) {
    const since = marks.get(name);
    const union = await exportedFields(store, org.orgId, name, windowOf(scope, since, sinceRun));
    if (!union) continue;
    const { fields, typeHistory } = union;
    objects.push({ name, fields, typeHistory, bodies: fields.filter((f) => f.type === 'base64').map((f) => f.name), since });
  }
  return { request, objects, sinceRun };
}

/** The objects asked for, by their names in the vault; or every object holding versions. */
async function objectNames(store: ExportStore, org: OrgRegistration, asked: readonly string[] | undefined): Promise<string[]> {
  const states = await store.getObjectStates(org.orgId);
  const known = new Map<string, string>();
  for (const state of states) {
    if ((await store.schemaHistory(org.orgId, state.objectName)).length > 0) known.set(state.objectName.toLowerCase(), state.objectName);
  }
  if (asked && asked.length > 0) {
    const unknown = asked.filter((name) => !known.has(name.toLowerCase()));
    if (unknown.length) {
      const some = [...known.values()].sort();
      const listed = some.length ? ` It holds ${some.slice(0, 25).join(', ')}${some.length > 25 ? `… (${some.length} objects; \`orgvault status --org ${org.name}\` lists them)` : ''}.` : ' It holds no backed-up object yet: run `orgvault backup` first.';
      throw new UsageError(`No backup of ${unknown.join(', ')} in the vault of org ${org.name}: check the API name (such as Account or Invoice__c).${listed}`);
    }
    return [...new Set(asked.map((name) => known.get(name.toLowerCase())!))];
  }
  const names: string[] = [];
  for (const name of [...known.values()].sort()) {
    if ((await store.countVersions(org.orgId, name)).versions > 0) names.push(name);
  }
  if (names.length === 0) throw new UsageError(`The vault holds no records of org ${org.name} yet: run \`orgvault backup --org ${org.name}\` first.`);
  return names;
}

/** When the exported versions were captured or current: the describes that held then give the columns. */
function windowOf(scope: ExportScope, since: { at: number } | undefined, run: Run | undefined): { from?: number; to?: number } {
  if (scope.kind === 'asOf') return { to: scope.at };
  if (scope.kind === 'sinceLastExport') return since ? { from: since.at } : {};
  if (scope.kind === 'sinceRun' && run) return { from: run.startedAt, to: run.endedAt ?? undefined };
  // The latest state, or every version: a record's latest version may be years old.
  return {};
}

/**
 * The object's columns: every describe that held in the window, united by name with the newest
 * winning, so versions captured before a field was deleted keep their values (the object's latest
 * describe alone when none held in the window).
 */
async function exportedFields(store: SchemaStore, orgId: string, objectName: string, window: { from?: number; to?: number }): Promise<{ fields: RawField[]; typeHistory: Map<string, TypeSpan[]> } | undefined> {
  const history = await store.schemaHistory(orgId, objectName);
  const current = history.find((s) => s.validTo === null) ?? history[history.length - 1];
  if (!current) return undefined;
  const held = history.filter((s) => (window.from === undefined || s.validTo === null || s.validTo >= window.from) && (window.to === undefined || s.validFrom <= window.to));
  const describes: StoredDescribe[] = [];
  for (const schema of held.length ? held : [current]) {
    const raw = (await store.getSchema(orgId, schema.schemaId)) as { fields?: unknown } | undefined;
    if (!raw || !Array.isArray(raw.fields)) throw new OrgvaultError('BAD_SCHEMA', `The stored describe of ${objectName} has no fields; back the object up again.`);
    const fields = raw.fields.filter((f): f is RawField => typeof (f as RawField)?.name === 'string' && typeof (f as RawField).type === 'string');
    describes.push({ schemaId: schema.schemaId, validFrom: schema.validFrom, validTo: schema.validTo, fields });
  }
  return unionFields(describes);
}

/** Where each object's last export ended: the newest completed export run that recorded a cutoff for it. */
async function lastMarks(store: RunLog, orgId: string): Promise<Map<string, { at: number; runId: string }>> {
  const marks = new Map<string, { at: number; runId: string }>();
  for (const run of await store.listRuns({ orgId, kind: 'export' })) {
    if (run.status !== 'Succeeded' && run.status !== 'CompletedWithErrors') continue;
    const recorded = run.parameters.marks;
    if (!recorded || typeof recorded !== 'object') continue;
    for (const [name, at] of Object.entries(recorded as Record<string, unknown>)) {
      if (typeof at === 'number' && !marks.has(name)) marks.set(name, { at, runId: run.runId });
    }
  }
  return marks;
}

/**
 * The cutoff of an export starting at `startedAt`: that time, or the start of a backup of the org
 * still running then, whose versions may not all be stored yet.
 */
async function changeCutoff(store: RunLog, orgId: string, startedAt: number): Promise<number> {
  const backups = await store.listRuns({ orgId, kind: 'backup', limit: 50 });
  return Math.min(startedAt, ...backups.filter((r) => r.status === 'Running').map((r) => r.startedAt));
}

/**
 * Runs a planned export into `target`, recorded as a run (`runId` lets a caller name the output
 * after the run before it starts). Resolves with what was written when it
 * succeeded (possibly with errors: file bodies the vault could not give); a failure is recorded
 * on the run, the output given up (an incomplete zip removed), and thrown.
 */
export async function runExport(
  deps: ExportDeps,
  plan: ExportPlan,
  format: ExportFormat,
  target: ExportTarget,
  options: { startedBy?: string; parameters?: Record<string, unknown>; runId?: string } = {},
): Promise<ExportResult> {
  const { store } = deps;
  const { org, scope } = plan.request;
  const now = deps.now ?? Date.now;
  const emit = deps.onEvent ?? (() => undefined);
  const startedAt = now();
  const cutoff = await changeCutoff(store, org.orgId, startedAt);
  const includeDeleted = plan.request.includeDeleted === true;
  const parameters: Record<string, unknown> = {
    org: org.name,
    objects: plan.objects.map((o) => o.name),
    format: format.name,
    ...options.parameters,
    scope: scope.kind,
    ...(scope.kind === 'asOf' ? { asOf: isoTime(scope.at) } : {}),
    ...(scope.kind === 'sinceRun' ? { sinceRun: scope.runId } : {}),
    includeDeleted,
    files: plan.request.files === true,
    output: { kind: target.kind, location: target.location },
    ...(options.startedBy ? { startedBy: options.startedBy } : {}),
  };
  const run: Run = { runId: options.runId ?? randomUUID(), orgId: org.orgId, kind: 'export', status: 'Running', startedAt, endedAt: null, counters: {}, message: null, parameters };
  try {
    await store.createRun(run);
  } catch (error) {
    await target.abort(error);
    throw error;
  }
  emit({ type: 'run-started', runId: run.runId, objects: plan.objects.length });

  const results: ObjectExport[] = [];
  const exported: ExportedObject[] = [];
  let current: string | undefined;
  let tempRoot: string | undefined;
  try {
    tempRoot = await mkdtemp(join(deps.tempDir ?? tmpdir(), 'orgvault-export-'));
    const spool = join(tempRoot, 'bodies.tsv');
    for (const object of plan.objects) {
      current = object.name;
      await store.putObjectRun({ runId: run.runId, objectName: object.name, status: 'Running', statusCode: null, message: null, counters: {} });
      const outcome = await exportObject(deps, plan, object, format, target, spool);
      exported.push(outcome.exported);
      results.push(outcome.result);
      const r = outcome.result;
      await store.putObjectRun({ runId: run.runId, objectName: object.name, status: r.status, statusCode: r.status === 'Succeeded' ? null : 'FILE_UNREADABLE', message: r.message, counters: { rows: r.rows, files: r.files, fileBytes: r.fileBytes } });
      emit({ type: 'object-finished', name: object.name, rows: r.rows, files: r.files, status: r.status, message: r.message });
    }
    current = undefined;
    const extraFiles = [...(await format.finish(target, exported))];
    const endedAt = now();
    const counters = {
      objects: results.length,
      rows: sum(results, (r) => r.rows),
      files: sum(results, (r) => r.files),
      fileBytes: sum(results, (r) => r.fileBytes),
      bytes: 0,
    };
    const status = results.every((r) => r.status === 'Succeeded') ? 'Succeeded' : 'CompletedWithErrors';
    await writeManifest(target, { runId: run.runId, org, format: format.name, parameters, startedAt, endedAt, results, extraFiles, status });
    extraFiles.push('manifest.json');
    await target.close();
    counters.bytes = target.bytesWritten;
    const errors = results.filter((r) => r.status !== 'Succeeded');
    const message = `Exported ${count(counters.objects)} object(s): ${count(counters.rows)} row(s)${plan.request.files ? ` and ${count(counters.files)} file(s)` : ''} (${describeScope(scope)}) to ${target.location}.${errors.length ? ` ${errors.length} object(s) with errors: ${errors.map((e) => e.name).join(', ')}.` : ''}`;
    const marks = COVERING.has(scope.kind) ? Object.fromEntries(results.filter((r) => r.status === 'Succeeded').map((r) => [r.name, cutoff])) : undefined;
    await store.updateRun(run.runId, { status, endedAt, counters, message, ...(marks ? { parameters: { ...parameters, marks } } : {}) });
    return {
      runId: run.runId,
      status,
      org: org.name,
      format: format.name,
      scope: describeScope(scope),
      includeDeleted,
      output: { kind: target.kind, location: target.location },
      objects: results,
      counters,
      extraFiles,
      startedAt: isoTime(startedAt),
      endedAt: isoTime(endedAt),
      message,
    };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    await target.abort(error);
    if (current) await store.putObjectRun({ runId: run.runId, objectName: current, status: 'Failed', statusCode: null, message: reason, counters: {} }).catch(() => undefined);
    const message = `Export failed${current ? ` at ${current}` : ''}: ${reason}${target.kind === 'zip' ? ' The incomplete zip was removed.' : ` The files written so far are in ${target.location}, without manifest.json.`}`;
    await store
      .updateRun(run.runId, { status: 'Failed', endedAt: now(), message, counters: { objects: results.length, rows: sum(results, (r) => r.rows), files: sum(results, (r) => r.files), bytes: target.bytesWritten } })
      .catch(() => undefined);
    throw new OrgvaultError('EXPORT_FAILED', `${message} (run ${run.runId})`, { cause: error });
  } finally {
    if (tempRoot) await rm(tempRoot, { recursive: true, force: true });
  }
}

const sum = <T>(items: readonly T[], of: (item: T) => number): number => items.reduce((total, item) => total + of(item), 0);
const count = (n: number): string => n.toLocaleString('en-US');

/** The versions an object's export takes, in the order the store gives them. */
function versionsOf(store: ExportStore, plan: ExportPlan, object: PlannedObject): AsyncIterable<RecordVersion> {
  const { org, scope } = plan.request;
  const includeDeleted = plan.request.includeDeleted === true;
  switch (scope.kind) {
    case 'latest':
      return store.latestVersions(org.orgId, object.name, { includeDeleted });
    case 'asOf':
      return store.stateAsOf(org.orgId, object.name, scope.at, { includeDeleted });
    case 'allVersions':
      return store.findVersions({ orgId: org.orgId, objectName: object.name });
    case 'sinceLastExport':
      return object.since ? store.findVersions({ orgId: org.orgId, objectName: object.name, by: 'capturedAt', from: object.since.at }) : store.findVersions({ orgId: org.orgId, objectName: object.name });
    case 'sinceRun': {
      const run = plan.sinceRun!;
      return onlyRun(store.findVersions({ orgId: org.orgId, objectName: object.name, by: 'capturedAt', from: run.startedAt, to: run.endedAt ?? undefined }), run.runId);
    }
  }
}

async function* onlyRun(versions: AsyncIterable<RecordVersion>, runId: string): AsyncIterable<RecordVersion> {
  for await (const version of versions) if (version.runId === runId) yield version;
}

function toRecord(version: RecordVersion): ExportedRecord {
  return {
    fields: version.fields,
    version: { seq: version.seq, systemModstamp: version.systemModstamp, changeType: version.changeType, isDeleted: version.isDeleted, capturedAt: version.capturedAt, runId: version.runId },
  };
}

/** One object: its rows through the format, then (with files) its bodies. */
async function exportObject(
  deps: ExportDeps,
  plan: ExportPlan,
  object: PlannedObject,
  format: ExportFormat,
  target: ExportTarget,
  spoolPath: string,
): Promise<{ exported: ExportedObject; result: ObjectExport }> {
  const { store } = deps;
  const emit = deps.onEvent ?? (() => undefined);
  const versions = exportsVersions(plan.request.scope);
  const counts = await store.countVersions(plan.request.org.orgId, object.name);
  const kind = plan.request.scope.kind;
  // What a progress bar can aim at: the vault's counts, when the export takes them all.
  const expected = kind === 'allVersions' ? counts.versions : kind === 'latest' || kind === 'asOf' ? counts.records : null;
  emit({ type: 'object-started', name: object.name, expected });
  const columns: ExportColumn[] = columnsOf(object.fields, versions, object.typeHistory);
  const exported: ExportedObject = { objectName: object.name, columns, allVersions: versions };
  const withBodies = plan.request.files === true && object.bodies.length > 0;
  // The bodies wait in a spool (record IDs and timestamps only) until the data file is closed:
  // a zip takes one file at a time.
  const spool = withBodies ? createWriteStream(spoolPath, { mode: 0o600 }) : undefined;
  const writer = await format.openObject(target, exported);
  const size = deps.batchSize ?? DEFAULT_BATCH;
  let batch: ExportedRecord[] = [];
  let rows = 0;
  const flush = async (): Promise<void> => {
    await writer.write(batch);
    rows += batch.length;
    batch = [];
    emit({ type: 'object-progress', name: object.name, rows, files: 0 });
  };
  try {
    for await (const version of versionsOf(store, plan, object)) {
      batch.push(toRecord(version));
      if (spool) await writeChunk(spool, `${version.recordId}\t${version.systemModstamp}\n`);
      if (batch.length >= size) await flush();
    }
    if (batch.length) await flush();
    if (spool) await endStream(spool);
  } catch (error) {
    spool?.destroy();
    throw error;
  }
  const written = await writer.close();
  const result: ObjectExport = { name: object.name, status: 'Succeeded', rows: written.rows, files: 0, fileBytes: 0, paths: written.files, message: null };
  if (object.since) result.message = `Versions captured since ${isoTime(object.since.at)} (export ${object.since.runId}).`;
  else if (plan.request.scope.kind === 'sinceLastExport') result.message = 'First export of this object: every version.';
  if (withBodies) {
    const bodies = await exportBodies(deps, plan, object, target, spoolPath, result.rows);
    result.files = bodies.files;
    result.fileBytes = bodies.bytes;
    if (bodies.unreadable.length) {
      result.status = 'CompletedWithErrors';
      const first = bodies.unreadable[0]!;
      result.message = `${bodies.unreadable.length} file bod${bodies.unreadable.length === 1 ? 'y' : 'ies'} could not be read from the vault (first: ${first}). Run \`orgvault verify --read-data\` to check the vault.`;
    }
  }
  return { exported, result };
}

/** The body refs of one exported version: the body it had (as-of), or the bodies captured with it (versions). */
function bodiesOfVersion(refs: readonly FileRef[], fields: readonly string[], systemModstamp: number, versions: boolean): FileRef[] {
  const chosen: FileRef[] = [];
  for (const field of fields) {
    const ofField = refs.filter((r) => r.field === field);
    if (versions) {
      chosen.push(...ofField.filter((r) => r.systemModstamp === systemModstamp));
    } else {
      const current = ofField.filter((r) => r.systemModstamp <= systemModstamp).sort((a, b) => b.systemModstamp - a.systemModstamp)[0];
      if (current) chosen.push(current);
    }
  }
  return chosen;
}

/**
 * Writes the bodies listed in the spool as `files/<Object>/<RecordId>/<name>`, each once per
 * record. A body the blob store cannot give is listed as unreadable and the export goes on; one
 * that fails half-way fails the export (its file would be truncated).
 */
async function exportBodies(
  deps: ExportDeps,
  plan: ExportPlan,
  object: PlannedObject,
  target: ExportTarget,
  spoolPath: string,
  rows: number,
): Promise<{ files: number; bytes: number; unreadable: string[] }> {
  const { store } = deps;
  const emit = deps.onEvent ?? (() => undefined);
  const versions = exportsVersions(plan.request.scope);
  const orgId = plan.request.org.orgId;
  // Per record: the bodies written and the names taken in its folder. One record's rows are
  // adjacent in a state export (one row each); versions come in time order, so kept for all.
  const folders = new Map<string, { addresses: Set<string>; names: FolderNames }>();
  const unreadable: string[] = [];
  let files = 0;
  let bytes = 0;
  const lines = createInterface({ input: createReadStream(spoolPath, { encoding: 'utf8' }), crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line) continue;
    const [recordId, stamp] = line.split('\t') as [string, string];
    const refs = bodiesOfVersion(await store.filesOf(orgId, recordId), object.bodies, Number(stamp), versions);
    if (refs.length === 0) continue;
    if (!versions && !folders.has(recordId)) folders.clear();
    let folder = folders.get(recordId);
    if (!folder) folders.set(recordId, (folder = { addresses: new Set(), names: new FolderNames() }));
    for (const ref of refs) {
      if (folder.addresses.has(ref.address)) continue;
      folder.addresses.add(ref.address);
      const name = folder.names.claim(safeFileName(ref.fileName, `${ref.field}-${recordId}`));
      const path = `files/${safeSegment(object.name)}/${safeSegment(recordId)}/${name}`;
      const written = await copyBody(deps, ref, path, target);
      if (written === undefined) {
        unreadable.push(`${object.name} ${recordId} ${ref.field}`);
        continue;
      }
      files++;
      bytes += written;
      emit({ type: 'object-progress', name: object.name, rows, files });
    }
  }
  return { files, bytes, unreadable };
}

/** Streams one body into the output; undefined when the blob store cannot give its first chunk. */
async function copyBody(deps: ExportDeps, ref: FileRef, path: string, target: ExportTarget): Promise<number | undefined> {
  const chunks = deps.blobs.get(ref.address)[Symbol.asyncIterator]();
  let next: IteratorResult<Buffer>;
  try {
    next = await chunks.next();
  } catch {
    return undefined;
  }
  let stream: Writable | undefined;
  let size = 0;
  try {
    stream = target.createFile(path);
    for (; !next.done; next = await chunks.next()) {
      size += next.value.length;
      await writeChunk(stream, next.value);
    }
    await endStream(stream);
    return size;
  } catch (error) {
    stream?.destroy();
    throw new OrgvaultError('EXPORT_FILE', `The body of ${ref.objectName} ${ref.recordId} (${ref.field}) failed while being written: ${error instanceof Error ? error.message : String(error)}. Run \`orgvault verify --read-data\` to check the vault.`, { cause: error });
  }
}

/** `manifest.json`, written last: what the export holds (names, counts, scope; no field values). */
async function writeManifest(
  target: ExportTarget,
  m: { runId: string; org: OrgRegistration; format: string; parameters: Record<string, unknown>; startedAt: number; endedAt: number; results: ObjectExport[]; extraFiles: string[]; status: string },
): Promise<void> {
  const { output: _output, org: _org, ...parameters } = m.parameters;
  const manifest = {
    orgvault: 'export',
    runId: m.runId,
    status: m.status,
    org: m.org.name,
    orgId: m.org.orgId,
    instanceUrl: m.org.instanceUrl,
    ...parameters,
    startedAt: isoTime(m.startedAt),
    endedAt: isoTime(m.endedAt),
    objects: m.results.map((r) => ({ name: r.name, status: r.status, rows: r.rows, files: r.files, fileBytes: r.fileBytes, paths: r.paths, message: r.message })),
    extraFiles: m.extraFiles,
  };
  const stream = target.createFile('manifest.json');
  await writeChunk(stream, `${JSON.stringify(manifest, null, 2)}\n`);
  await endStream(stream);
}
