/**
 * `runArchive`: select the records (and their children) from the org, confirm every one is in
 * the vault as it is now with its files, plan, then either report the plan (a dry run) or delete,
 * journaled, and report every record. An archive is a run in the log and an entry in the audit
 * log; an interrupted one is resumed under its run ID: its unfinished step is settled against
 * the org first, then what is left is selected and checked again.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { OrgvaultError, SalesforceApiError, UsageError } from '../core/errors.ts';
import type { OrgClient } from '../core/org-client.ts';
import type { ArchiveResult, ArchiveStep, OrgRegistration, Run } from '../core/vault.ts';
import { LockHeldError } from '../store/port.ts';
import type { ArchiveStore, AuditLog, BlobStore, FileCatalog, LockManager, OrgLock, RunLog, VersionStore } from '../store/port.ts';
import { confirmInVault } from './confirm.ts';
import { executeDeletes } from './execute.ts';
import { planArchive } from './plan.ts';
import { objectRunsOf, reportOf } from './report.ts';
import type { ArchiveReport } from './report.ts';
import { selectForArchive } from './select.ts';

export type ArchiveDepsStore = VersionStore & FileCatalog & RunLog & ArchiveStore & LockManager & AuditLog;

export interface ArchiveDeps {
  store: ArchiveDepsStore;
  blobs: BlobStore;
  client: OrgClient;
  now?: () => number;
  onEvent?: (event: ArchiveEvent) => void;
}

export type ArchiveEvent =
  | { type: 'checked'; runId: string; selected: number; records: number; refused: number; deleting: number }
  | { type: 'progress'; done: number; total: number; objectName: string };

export interface ArchiveRequest {
  org: OrgRegistration;
  objectName: string;
  /** A SOQL condition on the object's fields, as it follows WHERE. */
  where: string;
  /** At most this many records of the object. */
  limit?: number;
  /** Archive each record's children with it (those Salesforce deletes with it: master-detail, cascades). */
  children: boolean;
  /** Also the children of these objects through lookups and restricted lookups (with `children`). */
  childObjects: string[];
  dryRun: boolean;
  /** Delete the safe hierarchies when others are refused; without, a refusal holds everything back. */
  skipUnsafe: boolean;
  /** Who asked: a dashboard user, an API token's user, or `cli`. For the audit log. */
  actor: string;
}

/** Archives, or with `dryRun` selects and checks without deleting. */
export async function runArchive(deps: ArchiveDeps, request: ArchiveRequest): Promise<ArchiveReport> {
  checkRequest(request);
  const now = deps.now ?? Date.now;
  const run: Run = {
    runId: randomUUID(),
    orgId: request.org.orgId,
    kind: 'archive',
    status: 'Running',
    startedAt: now(),
    endedAt: null,
    counters: {},
    message: null,
    parameters: parametersOf(request),
  };
  const lock = await lockArchive(deps, request.org);
  try {
    await deps.store.createRun(run);
  } catch (error) {
    await lock.release().catch(() => undefined);
    throw error;
  }
  return finish(deps, run, request, lock);
}

/** The selection an archive run (or dry run) was started with, read back from its stored parameters. */
export function storedSelection(run: Run): Pick<ArchiveRequest, 'objectName' | 'where' | 'limit' | 'children' | 'childObjects'> {
  const p = run.parameters;
  return {
    objectName: String(p.object),
    where: String(p.where),
    limit: typeof p.limit === 'number' ? p.limit : undefined,
    children: p.children === true,
    childObjects: Array.isArray(p.childObjects) ? p.childObjects.map(String) : [],
  };
}

/** Continues an interrupted archive under its own run ID: what it deleted is reported once, marked once. */
export async function resumeArchive(deps: ArchiveDeps, runId: string, org: OrgRegistration, actor: string): Promise<ArchiveReport> {
  const run = await deps.store.getRun(runId);
  if (!run || run.kind !== 'archive' || run.orgId !== org.orgId) throw new UsageError(`No archive run ${runId} of org ${org.name} in this vault; \`orgvault logs\` lists the runs.`);
  if (run.parameters.dryRun === true) throw new UsageError(`Run ${runId} was a dry run: there is nothing to resume. Archive without --dry-run.`);
  if (run.status !== 'Running' && run.status !== 'Failed') throw new UsageError(`Archive ${runId} already finished (${run.status}); its report is in \`orgvault logs ${runId}\`.`);
  const request: ArchiveRequest = { ...storedSelection(run), skipUnsafe: run.parameters.skipUnsafe === true, dryRun: false, org, actor };
  const lock = await lockArchive(deps, org);
  try {
    await deps.store.updateRun(runId, { status: 'Running', endedAt: null, message: 'Resumed' });
    await settle(deps, org.orgId, runId, deps.now ?? Date.now);
  } catch (error) {
    await lock.release().catch(() => undefined);
    throw error;
  }
  return finish(deps, run, request, lock);
}

/** A lock holder that stopped heartbeating this long ago (a process that died) is taken over. */
const STALE_LOCK_MS = 60_000;

/** One archive of an org at a time: two would select, check and delete the same records. */
async function lockArchive(deps: ArchiveDeps, org: OrgRegistration): Promise<OrgLock> {
  try {
    return await deps.store.acquireOrgLock(`archive:${org.orgId}`, `archive (pid ${process.pid} on ${hostname()})`, { staleAfterMs: STALE_LOCK_MS });
  } catch (error) {
    if (!(error instanceof LockHeldError)) throw error;
    throw new UsageError(`Another archive of ${org.name} is running (${error.holder}, since ${new Date(error.since).toISOString()}). Wait for it to finish; if that process died, try again in a minute.`, { cause: error });
  }
}

function checkRequest(request: ArchiveRequest): void {
  if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(request.objectName)) throw new UsageError(`"${request.objectName}" is not an object API name (letters, digits and underscores, e.g. Case or Invoice__c).`);
  if (request.where.trim() === '') throw new UsageError('The condition is empty: give the records to archive as a SOQL condition, e.g. --where "CreatedDate < LAST_N_YEARS:3".');
  if (request.limit !== undefined && (!Number.isInteger(request.limit) || request.limit < 1)) throw new UsageError(`The limit ${request.limit} is not a positive whole number of records.`);
  for (const name of request.childObjects) if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(name)) throw new UsageError(`"${name}" is not an object API name; --children takes object names separated by commas.`);
  if (request.childObjects.length && !request.children) throw new UsageError('Child objects were named without archiving children: pass --children (with the object names) to archive them.');
}

async function finish(deps: ArchiveDeps, run: Run, request: ArchiveRequest, lock: OrgLock): Promise<ArchiveReport> {
  const now = deps.now ?? Date.now;
  try {
    const report = await archive(deps, run, request);
    for (const objectRun of objectRunsOf(report)) await deps.store.putObjectRun(objectRun);
    const c = report.counts;
    await deps.store.updateRun(run.runId, {
      status: report.status,
      endedAt: now(),
      counters: { selected: report.selected, records: report.results.length, deleted: c.Deleted, ready: c.Ready, refused: c.Refused, skipped: c.Skipped, failed: c.Failed, apiCalls: deps.client.usage().calls },
      message: report.message,
    });
    await deps.store.appendAudit({
      at: now(),
      actor: request.actor,
      action: request.dryRun ? 'archive.dry-run' : 'archive',
      target: request.org.name,
      // The condition may quote field values: it stays in the run's sealed parameters, not here.
      details: { runId: run.runId, object: report.object, counts: c },
    });
    return report;
  } catch (error) {
    // Once a delete was sent, what it did is settled by a resume; before, there is nothing to resume.
    const sent = !request.dryRun && (await deps.store.archiveSteps(run.runId).catch(() => [])).some((step) => step.action === 'delete');
    const resumable = sent ? ` Resume with \`orgvault archive --org ${request.org.name} --resume ${run.runId} --yes\`.` : '';
    await deps.store.updateRun(run.runId, { status: 'Failed', endedAt: now(), message: `${storedMessage(error)}${resumable}` }).catch(() => undefined);
    await deps.store
      .appendAudit({ at: now(), actor: request.actor, action: request.dryRun ? 'archive.dry-run' : 'archive', target: request.org.name, details: { runId: run.runId, object: request.objectName, failed: errorCode(error) } })
      .catch(() => undefined);
    throw error;
  } finally {
    await lock.release().catch(() => undefined);
  }
}

async function archive(deps: ArchiveDeps, run: Run, request: ArchiveRequest): Promise<ArchiveReport> {
  const now = deps.now ?? Date.now;
  const orgId = request.org.orgId;
  const selection = await selectForArchive(deps.client, {
    objectName: request.objectName,
    where: request.where,
    limit: request.limit,
    children: request.children,
    childObjects: request.childObjects,
  });
  const parameters = { ...run.parameters, object: selection.objectName, unchecked: selection.unchecked };
  await deps.store.updateRun(run.runId, { parameters });

  const refusals = new Map<string, { code: string; message: string }>(selection.refusals);
  for (const [id, refusal] of await confirmInVault({ store: deps.store, blobs: deps.blobs, client: deps.client }, orgId, selection.nodes, selection.describes)) {
    if (!refusals.has(id)) refusals.set(id, refusal);
  }
  const plan = planArchive(selection.nodes, refusals, { children: request.children, skipUnsafe: request.skipUnsafe });
  deps.onEvent?.({
    type: 'checked',
    runId: run.runId,
    selected: selection.nodes.filter((n) => n.via === null).length,
    records: selection.nodes.length,
    refused: plan.records.filter((r) => r.decision === 'refuse').length,
    deleting: plan.records.filter((r) => r.decision === 'delete').length,
  });

  let steps = (await deps.store.archiveSteps(run.runId)).length;
  const nextStepId = (): string => String(++steps).padStart(6, '0');
  // Decided without a delete: refusals and skips, and in a dry run what would go. Kept in the
  // journal as a step that deleted nothing, so the report is read the same way in every case.
  const undecided = plan.records.filter((r) => r.decision !== 'delete' || request.dryRun);
  if (undecided.length) {
    const stepId = nextStepId();
    await deps.store.beginArchiveStep({ runId: run.runId, stepId, objectName: selection.objectName, action: 'plan', records: [], startedAt: now(), completedAt: null });
    const rows: ArchiveResult[] = undecided.map((r) => ({
      objectName: r.node.objectName,
      recordId: r.node.recordId,
      outcome: r.decision === 'refuse' ? 'Refused' : r.decision === 'skip' ? 'Skipped' : 'Ready',
      statusCode: r.code,
      message: r.decision === 'delete' ? (r.node.cascade ? `Would be deleted with ${r.node.via} (cascade).` : 'Would be deleted.') : r.message,
      via: r.node.via,
      systemModstamp: r.node.systemModstamp,
      stepId,
    }));
    await deps.store.completeArchiveStep(orgId, run.runId, stepId, now(), rows);
  }
  if (!request.dryRun && plan.batches.length) {
    await executeDeletes(
      { client: deps.client, journal: deps.store, now, onProgress: (done, total, objectName) => deps.onEvent?.({ type: 'progress', done, total, objectName }) },
      plan,
      { orgId, runId: run.runId, nextStepId, nodes: new Map(selection.nodes.map((n) => [n.recordId, n])) },
    );
  }
  return reportOf({ ...run, parameters, status: 'Running' }, await deps.store.archiveResults(run.runId));
}

/**
 * A delete step a crash interrupted: its call may have reached Salesforce without its results
 * being recorded. The org says which of its records are gone (in the Recycle Bin, or purged);
 * those are recorded as deleted, with the records Salesforce deleted with them, and marked. The
 * others are left to be selected and checked again.
 */
async function settle(deps: ArchiveDeps, orgId: string, runId: string, now: () => number): Promise<void> {
  const steps = (await deps.store.archiveSteps(runId)).filter((s) => s.completedAt === null);
  for (const step of steps) {
    const results = step.action === 'delete' ? await settledResults(deps.client, step) : [];
    await deps.store.completeArchiveStep(orgId, runId, step.stepId, now(), results);
  }
}

async function settledResults(client: OrgClient, step: ArchiveStep): Promise<ArchiveResult[]> {
  const sent = step.records.filter((r) => r.cascadeOf === null);
  const live = new Set<string>();
  for (let at = 0; at < sent.length; at += 200) {
    const ids = sent.slice(at, at + 200).map((r) => `'${r.recordId}'`);
    for await (const page of client.query(`SELECT Id, IsDeleted FROM ${step.objectName} WHERE Id IN (${ids.join(',')})`, { includeDeleted: true })) {
      for (const record of page) if (record.IsDeleted !== true) live.add(String(record.Id));
    }
  }
  const gone = new Set(sent.filter((r) => !live.has(r.recordId)).map((r) => r.recordId));
  return step.records
    .filter((r) => gone.has(r.cascadeOf ?? r.recordId))
    .map((r) => ({
      objectName: r.objectName,
      recordId: r.recordId,
      outcome: 'Deleted' as const,
      statusCode: null,
      message: r.cascadeOf ? `Deleted with ${r.cascadeOf} (cascade) before the archive was interrupted; found on resume.` : 'Deleted before the archive was interrupted; found in the Recycle Bin on resume.',
      via: r.via,
      systemModstamp: r.systemModstamp,
      stepId: step.stepId,
    }));
}

/**
 * A failure as the run log keeps it, in clear: Salesforce's answers to a query may quote the
 * condition, and so field values, so only their status code is kept; the caller saw the whole message.
 */
function storedMessage(error: unknown): string {
  const api = error instanceof SalesforceApiError ? error : error instanceof UsageError && error.cause instanceof SalesforceApiError ? error.cause : undefined;
  if (api) return `Salesforce answered ${api.statusCode}${error instanceof UsageError ? ' to the condition' : ''}; the archive stopped.`;
  return error instanceof Error ? error.message : String(error);
}

const errorCode = (error: unknown): string => (error instanceof SalesforceApiError ? error.statusCode : error instanceof OrgvaultError ? error.code : 'UNEXPECTED');

/** The request as stored with the run (a resume reads it back). Sealed at rest: the condition may quote values. */
function parametersOf(request: ArchiveRequest): Record<string, unknown> {
  return {
    org: request.org.name,
    object: request.objectName,
    where: request.where,
    limit: request.limit ?? null,
    children: request.children,
    childObjects: request.childObjects,
    dryRun: request.dryRun,
    skipUnsafe: request.skipUnsafe,
    actor: request.actor,
  };
}
