/**
 * `runRestore`: select the versions, bring in related records, read the org's live state, plan,
 * then either report the plan (dry run) or carry it out, journaled, and report every record. A
 * restore is a run in the log; an interrupted one is resumed by its run ID and finishes without
 * writing anything twice.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { UsageError } from '../core/errors.ts';
import type { NotificationEvent, Notifier } from '../core/notifications.ts';
import type { ObjectDescription, OrgClient, SObjectRecord } from '../core/org-client.ts';
import { isRecordId } from '../core/vault.ts';
import type { OrgRegistration, RestoreOutcome, RestoreResult, Run } from '../core/vault.ts';
import { restoreFinishedEvent } from '../notify/events.ts';
import { LockHeldError } from '../store/port.ts';
import type { BlobStore, FileCatalog, IdMappingStore, LockManager, OrgLock, RestoreJournal, RunLog, SchemaStore, VersionStore } from '../store/port.ts';
import { executePlan } from './execute.ts';
import { readLiveMany } from './live.ts';
import type { LiveRequest } from './live.ts';
import { countOutcomes, latestResults, objectRunsOf, reportRow } from './report.ts';
import type { RestoreReport, RestoreReportRow } from './report.ts';
import type { LiveRecord } from './live.ts';
import { Masker } from './masking.ts';
import { planRestore } from './plan.ts';
import { schemaDrift, versionSchemas } from './schema-drift.ts';
import type { PlanInput, PlanOptions, PlannedRecord, RestorePlan } from './plan.ts';
import { SchemaCache, gatherRelated } from './related.ts';
import type { RestoreItem } from './related.ts';
import { selectVersions } from './select.ts';
import type { SelectionRequest } from './select.ts';

export type RestoreStore = VersionStore & SchemaStore & RunLog & IdMappingStore & RestoreJournal & FileCatalog & LockManager;

export interface RestoreDeps {
  store: RestoreStore;
  blobs: BlobStore;
  /** The org written to: the backed-up org, or another one (`target`). */
  client: OrgClient;
  now?: () => number;
  onEvent?: (event: RestoreEvent) => void;
  /** Told when a restore (not a dry run) finishes or fails, once the run is recorded. */
  notifier?: Notifier;
}

export type RestoreEvent =
  | { type: 'planned'; runId: string; counts: Record<string, number> }
  | { type: 'progress'; done: number; total: number; objectName: string };

export interface RestoreRequest {
  /** The org whose backup is restored. */
  org: OrgRegistration;
  /** Another org to restore into (a sandbox); the backed-up org when absent. */
  target?: OrgRegistration;
  selection: Omit<SelectionRequest, 'orgId'>;
  parents: number;
  children: number;
  dryRun: boolean;
  plan: PlanOptions;
  allowDuplicates: boolean;
  bulkThreshold: number;
  /** Alternate keys by object: fields whose values identify the same record (an external ID). */
  matchOn: Record<string, string[]>;
  /** The secret masking is keyed with (derived from the vault's key). */
  maskKey: string | null;
}

/** Restores, or with `dryRun` plans and checks without writing. */
export async function runRestore(deps: RestoreDeps, request: RestoreRequest): Promise<RestoreReport> {
  const now = deps.now ?? Date.now;
  const run: Run = {
    runId: randomUUID(),
    orgId: request.org.orgId,
    kind: 'restore',
    status: 'Running',
    startedAt: now(),
    endedAt: null,
    counters: {},
    message: null,
    parameters: serializeRequest(request),
  };
  const lock = await lockRun(deps, run.runId);
  await deps.store.createRun(run);
  return finish(deps, run, request, false, lock);
}

/** A lock holder that stopped heartbeating this long ago (a process that died) is taken over. */
const STALE_LOCK_MS = 60_000;

/** One process at a time works on a restore run: a resume while it still runs would write twice. */
async function lockRun(deps: RestoreDeps, runId: string): Promise<OrgLock> {
  try {
    return await deps.store.acquireOrgLock(`restore:${runId}`, `restore ${runId} (pid ${process.pid} on ${hostname()})`, { staleAfterMs: STALE_LOCK_MS });
  } catch (error) {
    if (!(error instanceof LockHeldError)) throw error;
    throw new UsageError(
      `Restore ${runId} is running in another process (${error.holder}, since ${new Date(error.since).toISOString()}). Wait for it to finish; if that process died, resume again in a minute.`,
      { cause: error },
    );
  }
}

/** Continues an interrupted restore under its own run ID: what it wrote stays written once. */
export async function resumeRestore(deps: RestoreDeps, runId: string, request: Pick<RestoreRequest, 'org' | 'target' | 'maskKey'>): Promise<RestoreReport> {
  const run = await deps.store.getRun(runId);
  if (!run || run.kind !== 'restore') throw new UsageError(`No restore run ${runId} in this vault; \`orgvault logs\` lists the runs.`);
  if (run.parameters.dryRun === true) throw new UsageError(`Run ${runId} was a dry run: there is nothing to resume. Run the restore without --dry-run.`);
  if (run.status === 'Succeeded' || run.status === 'CompletedWithErrors') throw new UsageError(`Restore ${runId} already finished (${run.status}); its report is in \`orgvault logs ${runId}\`.`);
  const full = { ...deserializeRequest(run.parameters), org: request.org, target: request.target, maskKey: request.maskKey };
  const lock = await lockRun(deps, runId);
  await deps.store.updateRun(runId, { status: 'Running', message: 'Resumed' });
  return finish(deps, run, full, true, lock);
}

async function finish(deps: RestoreDeps, run: Run, request: RestoreRequest, resuming: boolean, lock: OrgLock): Promise<RestoreReport> {
  const now = deps.now ?? Date.now;
  // Sent once the lock is released, so that a slow channel holds nothing back.
  let event: NotificationEvent | undefined;
  const about = (): { orgName: string; orgId: string; runId: string; at: number } => ({ orgName: request.org.name, orgId: request.org.orgId, runId: run.runId, at: now() });
  const targetOrgName = request.target && request.target.orgId !== request.org.orgId ? request.target.name : null;
  try {
    const report = await restore(deps, run.runId, request, resuming);
    for (const objectRun of objectRunsOf(run.runId, report.results)) await deps.store.putObjectRun(objectRun);
    const apiCalls = deps.client.usage().calls;
    await deps.store.updateRun(run.runId, {
      status: report.status,
      endedAt: now(),
      counters: { records: report.results.length, ...lowerKeys(report.counts), apiCalls },
      message: summary(report),
    });
    if (!report.dryRun) event = restoreFinishedEvent(about(), { status: report.status, counts: report.counts, targetOrgName });
    return report;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    await deps.store.updateRun(run.runId, { status: 'Failed', endedAt: now(), message }).catch(() => undefined);
    if (!request.dryRun) {
      // What it wrote before it stopped, from its journal.
      const counts = await deps.store.restoreResults(run.runId).then((rows) => countOutcomes([...latestResults(rows).values()].map((r) => reportRow(r)))).catch(() => ({}));
      event = restoreFinishedEvent(about(), { status: 'Failed', counts, targetOrgName, reason: message });
    }
    throw error;
  } finally {
    await lock.release().catch(() => undefined);
    if (event && deps.notifier) await deps.notifier.notify(event).catch(() => undefined);
  }
}

async function restore(deps: RestoreDeps, runId: string, request: RestoreRequest, resuming: boolean): Promise<RestoreReport> {
  const now = deps.now ?? Date.now;
  const sourceOrgId = request.org.orgId;
  const crossOrg = request.target !== undefined && request.target.orgId !== sourceOrgId;
  const mappingScope = crossOrg ? `${sourceOrgId}>${request.target!.orgId}` : sourceOrgId;

  const selected = await selectVersions(deps.store, { ...request.selection, orgId: sourceOrgId });
  const items = await gatherRelated(deps.store, sourceOrgId, request.selection.objectName, selected, {
    parents: request.parents,
    children: request.children,
    asOf: request.selection.version?.kind === 'asOf' ? request.selection.version.at : undefined,
  });

  // Each version is mapped onto the org through the describe it was captured under.
  const schemas = await versionSchemas(deps.store, sourceOrgId, items);
  const itemSchemas = new Map([...schemas].map(([id, s]) => [id, s.describe]));
  const steps = resuming ? await deps.store.restoreSteps(runId) : [];
  let context = await readContext(deps, request, items, mappingScope, crossOrg, sourceOrgId);
  let writtenByRun = new Set<string>();
  if (resuming) {
    const incomplete = steps.filter((s) => s.completedAt === null);
    if (incomplete.length) {
      const draft = planRestore({ ...context, itemSchemas, writtenByRun, objectName: request.selection.objectName, items, crossOrg, masker: masker(request), options: request.plan });
      await recoverSteps(deps, runId, incomplete, draft, mappingScope, now);
      context = await readContext(deps, request, items, mappingScope, crossOrg, sourceOrgId);
    }
    writtenByRun = new Set((await deps.store.restoreResults(runId)).filter((r) => r.outcome !== 'Skipped' && r.outcome !== 'Failed').map((r) => r.originalId));
  }
  const plan = planRestore({ ...context, itemSchemas, writtenByRun, objectName: request.selection.objectName, items, crossOrg, masker: masker(request), options: request.plan });
  deps.onEvent?.({ type: 'planned', runId, counts: countActions(plan) });
  const drift = schemaDrift(items, schemas, context.describes, plan.records);

  if (request.dryRun) {
    const results = plan.records.map((r) => dryRunRow(r));
    // Kept in the journal as one step that wrote nothing, for `orgvault logs RUN_ID`.
    const step = { runId, stepId: '000001', objectName: request.selection.objectName, action: 'plan' as const, originalIds: results.map((r) => r.originalId), startedAt: now(), completedAt: null };
    await deps.store.beginRestoreStep(step);
    const rows = results.map((r): RestoreResult => ({ objectName: r.object, originalId: r.originalId, newId: r.newId, outcome: r.outcome, statusCode: r.statusCode, message: r.message, stepId: step.stepId }));
    await deps.store.completeRestoreStep(runId, step.stepId, now(), rows, mappingScope, []);
    const counts = countOutcomes(results);
    return { runId, status: counts.Failed > 0 ? 'CompletedWithErrors' : 'Succeeded', dryRun: true, counts, results, schemaDrift: drift };
  }

  await executePlan(
    { client: deps.client, journal: deps.store, files: deps.store, blobs: deps.blobs, now, onProgress: (done, total, objectName) => deps.onEvent?.({ type: 'progress', done, total, objectName }) },
    plan,
    { runId, sourceOrgId, mappingScope, allowDuplicates: request.allowDuplicates, bulkThreshold: request.bulkThreshold, describes: context.describes, stepsTaken: (await deps.store.restoreSteps(runId)).length },
  );
  const last = latestResults(await deps.store.restoreResults(runId));
  const results = plan.records.flatMap((record) => {
    const r = last.get(record.originalId);
    return r ? [reportRow(r, record)] : [];
  });
  const counts = countOutcomes(results);
  return { runId, status: counts.Failed > 0 ? 'CompletedWithErrors' : 'Succeeded', dryRun: false, counts, results, schemaDrift: drift };
}

type Context = Pick<PlanInput, 'describes' | 'backedUp' | 'live' | 'references' | 'users'>;

/**
 * Everything the plan needs from the org written to, in few calls: describes 25 to a composite
 * call, and the reads of every object pooled, five queries to a call.
 */
async function readContext(deps: RestoreDeps, request: RestoreRequest, items: readonly RestoreItem[], mappingScope: string, crossOrg: boolean, sourceOrgId: string): Promise<Context> {
  const { client } = deps;
  const byObject = new Map<string, RestoreItem[]>();
  for (const item of items) byObject.set(item.objectName, [...(byObject.get(item.objectName) ?? []), item]);

  const describes = await client.describeObjects([...byObject.keys()]);
  const backedUp = new Map<string, ObjectDescription>();
  const schemas = new SchemaCache(deps.store, sourceOrgId);
  for (const objectName of byObject.keys()) {
    const before = await schemas.get(objectName);
    if (before) backedUp.set(objectName, before);
  }

  // Another org has other IDs, unless it is a sandbox copied from this one: then `--match-on X=Id`.
  const sameIds = (objectName: string): boolean => !crossOrg || (request.matchOn[objectName] ?? []).includes('Id');
  const live = new Map<string, { record: LiveRecord; by: 'id' | 'mapping' | 'key' }>();
  const mapped = await deps.store.resolveIds(mappingScope, items.map((i) => i.originalId));
  const groups = [...byObject].filter(([objectName]) => describes.has(objectName));
  const shapeOf = (objectName: string): Pick<LiveRequest, 'objectName' | 'fieldNames' | 'hasIsDeleted' | 'hasSystemModstamp'> => {
    const describe = describes.get(objectName)!;
    const has = (f: string): boolean => describe.fields.some((d) => d.name === f);
    return { objectName, fieldNames: readableFields(describe, byObject.get(objectName)!), hasIsDeleted: has('IsDeleted'), hasSystemModstamp: has('SystemModstamp') };
  };
  // ContentDocumentLink can only be queried by its document: the documents' links are read.
  const byIds = (objectName: string, wanted: readonly RestoreItem[], recordIds: readonly string[]): LiveRequest =>
    objectName === 'ContentDocumentLink'
      ? { ...shapeOf(objectName), values: wanted.map((i) => String(i.version.fields.ContentDocumentId)), filterField: 'ContentDocumentId' }
      : { ...shapeOf(objectName), values: recordIds };

  const direct = groups.filter(([objectName]) => sameIds(objectName));
  const found = await readLiveMany(client, direct.map(([objectName, group]) => byIds(objectName, group, group.map((i) => i.originalId))));
  direct.forEach(([, group], k) => {
    for (const item of group) {
      const record = found[k]!.get(item.originalId);
      if (record) live.set(item.originalId, { record, by: 'id' });
    }
  });
  // An earlier restore re-created the record: that copy is the one to compare and update.
  const remapped = groups.map(([objectName, group]) => [objectName, group.filter((i) => live.get(i.originalId)?.record.isDeleted !== false && mapped.has(i.originalId))] as const).filter(([, group]) => group.length > 0);
  const again = await readLiveMany(client, remapped.map(([objectName, group]) => byIds(objectName, group, group.map((i) => mapped.get(i.originalId)!))));
  remapped.forEach(([, group], k) => {
    for (const item of group) {
      const record = again[k]!.get(mapped.get(item.originalId)!);
      if (record && !record.isDeleted) live.set(item.originalId, { record, by: 'mapping' });
    }
  });
  for (const [objectName, group] of groups) {
    for (const keyField of request.matchOn[objectName] ?? []) {
      if (keyField === 'Id') continue;
      if (!describes.get(objectName)!.fields.some((f) => f.name === keyField)) throw new UsageError(`--match-on ${objectName}=${keyField}: ${objectName} has no field ${keyField} in the org written to.`);
      const rest = group.filter((i) => !live.has(i.originalId) && i.version.fields[keyField] !== null && i.version.fields[keyField] !== undefined);
      if (!rest.length) continue;
      const [byKey] = await readLiveMany(client, [{ ...shapeOf(objectName), values: rest.map((i) => String(i.version.fields[keyField])), keyField }]);
      for (const item of rest) {
        const record = byKey!.get(String(item.version.fields[keyField]));
        if (record && !record.isDeleted) live.set(item.originalId, { record, by: 'key' });
      }
    }
  }

  // Records referenced but not restored, and users: where they are now, through mappings of
  // earlier restores, in one pooled read.
  const inSet = new Set(items.map((i) => i.originalId));
  const referenced = new Set<string>();
  const userIds = new Set<string>();
  for (const item of items) {
    for (const field of describes.get(item.objectName)?.fields ?? []) {
      if (field.type !== 'reference') continue;
      const value = item.version.fields[field.name];
      if (typeof value !== 'string' || !isRecordId(value) || inSet.has(value)) continue;
      if (value.startsWith('005')) userIds.add(value);
      else if (field.name !== 'RecordTypeId') referenced.add(value);
    }
  }
  const references = new Map<string, { id: string; state: 'live' | 'deleted' }>();
  const lookups = new Map<string, Map<string, string>>();
  if (referenced.size) {
    const refMapped = await deps.store.resolveIds(mappingScope, [...referenced]);
    const prefixes = new Map((await client.describeGlobal()).filter((o) => o.keyPrefix).map((o) => [o.keyPrefix!, o.name]));
    for (const id of referenced) {
      const objectName = prefixes.get((refMapped.get(id) ?? id).slice(0, 3));
      if (!objectName || objectName === 'User') continue;
      const current = refMapped.get(id) ?? (sameIds(objectName) ? id : undefined);
      if (!current) continue;
      const forObject = lookups.get(objectName) ?? new Map<string, string>();
      forObject.set(current, id);
      lookups.set(objectName, forObject);
    }
  }
  // Setup objects (queues, record types) have no IsDeleted: read without it.
  const refDescribes = await client.describeObjects([...lookups.keys()].filter((o) => !describes.has(o)));
  const hasIsDeleted = (objectName: string): boolean => (describes.get(objectName) ?? refDescribes.get(objectName))?.fields.some((f) => f.name === 'IsDeleted') ?? false;
  const refObjects = [...lookups.keys()].filter((o) => describes.has(o) || refDescribes.has(o));
  const [users, ...refs] = await readLiveMany(client, [
    { objectName: 'User', values: [...userIds], fieldNames: ['IsActive'], hasIsDeleted: false },
    ...refObjects.map((objectName) => ({ objectName, values: [...lookups.get(objectName)!.keys()], fieldNames: [], hasIsDeleted: hasIsDeleted(objectName), hasSystemModstamp: false })),
  ]);
  refObjects.forEach((objectName, k) => {
    for (const [current, original] of lookups.get(objectName)!) {
      const record = refs[k]!.get(current);
      if (record) references.set(original, { id: record.id, state: record.isDeleted ? 'deleted' : 'live' });
    }
  });
  const active = new Set([...users!].filter(([, u]) => u.fields.IsActive === true).map(([id]) => id));
  return { describes, backedUp, live, references, users: { active, known: new Set(users!.keys()) } };
}

/** The fields worth reading from the org to compare: writable ones the versions carry. */
function readableFields(describe: ObjectDescription, group: readonly RestoreItem[]): string[] {
  const carried = new Set<string>();
  for (const item of group) for (const name of Object.keys(item.version.fields)) carried.add(name.toLowerCase());
  const names = describe.fields
    .filter((f) => carried.has(f.name.toLowerCase()) && (f.updateable || f.createable) && !f.calculated && f.type !== 'base64' && f.type !== 'address' && f.type !== 'location' && f.name !== 'Id')
    .map((f) => f.name);
  if (describe.name === 'ContentVersion' && describe.fields.some((f) => f.name === 'ContentDocumentId')) names.push('ContentDocumentId');
  return [...new Set(names)];
}

/**
 * A step a crash interrupted: its creates may have reached the org without their new IDs being
 * recorded. The records the API user created since the step began are matched to the step's
 * records by the values written; a match is recorded as created, so it is not created again.
 */
async function recoverSteps(deps: RestoreDeps, runId: string, incomplete: readonly { stepId: string; objectName: string; action: string; originalIds: string[]; startedAt: number }[], draft: RestorePlan, mappingScope: string, now: () => number): Promise<void> {
  const me = (await deps.client.identity()).userId;
  const planned = new Map(draft.records.map((r) => [r.originalId, r]));
  for (const step of incomplete) {
    const results: RestoreResult[] = [];
    const mappings = [];
    if (step.action === 'create' || step.action === 'file') {
      const candidates = step.originalIds.map((id) => planned.get(id)).filter((r): r is PlannedRecord => r?.action === 'create');
      const fields = [...new Set(candidates.flatMap((r) => scalarKeys(r.values)))];
      if (candidates.length) {
        const since = new Date(step.startedAt - 3600_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
        const soql = `SELECT Id${fields.length ? `, ${fields.join(', ')}` : ''} FROM ${step.objectName} WHERE CreatedById = '${me}' AND CreatedDate >= ${since} ORDER BY CreatedDate`;
        const pool = new Map<string, string[]>();
        for await (const page of deps.client.query(soql)) {
          for (const record of page) {
            const key = valueKey(record, fields);
            pool.set(key, [...(pool.get(key) ?? []), String(record.Id)]);
          }
        }
        const taken = await deps.store.resolveIds(mappingScope, candidates.map((c) => c.originalId));
        for (const record of candidates) {
          if (taken.has(record.originalId)) continue;
          const ids = pool.get(valueKey(record.values, fields));
          const id = ids?.shift();
          if (!id) continue;
          results.push({ objectName: record.objectName, originalId: record.originalId, newId: id, outcome: 'Created', statusCode: null, message: 'Created before the restore was interrupted; found in the org on resume.', stepId: step.stepId });
          mappings.push({ objectName: record.objectName, oldId: record.originalId, newId: id, runId, createdAt: now() });
        }
      }
    }
    await deps.store.completeRestoreStep(runId, step.stepId, now(), results, mappingScope, mappings);
  }
}

const scalarKeys = (values: SObjectRecord): string[] => Object.keys(values).filter((k) => typeof values[k] !== 'object' || values[k] === null).filter((k) => !(typeof values[k] === 'string' && isRecordId(String(values[k]))));
const valueKey = (record: SObjectRecord, fields: readonly string[]): string => JSON.stringify(fields.map((f) => normalize(record[f])));
const normalize = (v: unknown): unknown => (v === undefined ? null : typeof v === 'string' && /^\d{4}-\d\d-\d\dT/.test(v) ? Date.parse(v.replace(/\+0000$/, 'Z')) : v);

function masker(request: RestoreRequest): Masker | null {
  if (request.plan.masks.length === 0) return null;
  if (!request.maskKey) throw new UsageError('Masking needs the vault key; unlock the vault to restore with --mask.');
  return new Masker(request.maskKey);
}

function dryRunRow(record: PlannedRecord): RestoreReportRow {
  // A record the plan fails is reported as the real run will record it: by its reason.
  const predicted = record.action === 'fail' && record.reason ? record.reason : record.predicted[0];
  const outcome: RestoreOutcome = record.action === 'fail' || predicted ? 'Failed' : record.action === 'skip' ? 'Skipped' : record.action === 'create' ? 'Created' : record.action === 'undelete' ? 'Undeleted' : 'Updated';
  const code = predicted?.statusCode ?? record.reason?.statusCode ?? null;
  const message =
    predicted?.message ??
    record.reason?.message ??
    (record.action === 'create' ? `Would be created with ${Object.keys(record.values).length + record.pendingRefs.length} field(s).` : record.changedFields.length ? `Would restore ${record.changedFields.join(', ')}.` : 'Would be undeleted.');
  return reportRow({ objectName: record.objectName, originalId: record.originalId, outcome, newId: record.action === 'create' ? null : record.targetId, statusCode: code, message }, record);
}

function countActions(plan: RestorePlan): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of plan.records) counts[r.action] = (counts[r.action] ?? 0) + 1;
  return counts;
}

const lowerKeys = (counts: Record<string, number>): Record<string, number> => Object.fromEntries(Object.entries(counts).map(([k, v]) => [k.toLowerCase(), v]));

function summary(report: RestoreReport): string {
  const c = report.counts;
  return `${report.dryRun ? 'Dry run: ' : ''}${c.Created} created, ${c.Updated} updated, ${c.Undeleted} undeleted, ${c.Skipped} skipped, ${c.Failed} failed`;
}

/** The request as stored with the run (a resume reads it back); no secrets in it. */
function serializeRequest(request: RestoreRequest): Record<string, unknown> {
  const version = request.selection.version;
  return {
    org: request.org.name,
    target: request.target?.name ?? null,
    selection: { ...request.selection, version: version?.kind === 'chosen' ? { kind: 'chosen', systemModstamps: [...version.systemModstamps], defaultAt: version.defaultAt } : version },
    parents: request.parents,
    children: request.children,
    dryRun: request.dryRun,
    plan: request.plan,
    allowDuplicates: request.allowDuplicates,
    bulkThreshold: request.bulkThreshold,
    matchOn: request.matchOn,
  };
}

function deserializeRequest(parameters: Record<string, unknown>): Omit<RestoreRequest, 'org' | 'target' | 'maskKey'> {
  const p = parameters as unknown as Omit<RestoreRequest, 'org' | 'target' | 'maskKey'> & { selection: { version?: { kind: string; systemModstamps?: [string, number][]; defaultAt?: number } } };
  const version = p.selection.version;
  const selection = { ...p.selection, version: version?.kind === 'chosen' ? { kind: 'chosen' as const, systemModstamps: new Map(version.systemModstamps), defaultAt: version.defaultAt } : version } as RestoreRequest['selection'];
  return { ...p, selection };
}

