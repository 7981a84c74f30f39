/**
 * A backup run of one org, end to end: take the org's writer lock, read the API budget, discover
 * objects, skip the quiet ones with one composite call per 25, capture the others side by side,
 * check deletes, and record every object's outcome in the run log and its state.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { OrgvaultError, SalesforceApiError } from '../core/errors.ts';
import { describeFromRaw } from '../core/describe.ts';
import { parseSalesforceDatetime } from '../core/time.ts';
import type { NotificationEvent, Notifier } from '../core/notifications.ts';
import type { BatchedQueryResult, ObjectDescription, OrgClient } from '../core/org-client.ts';
import type { ObjectRun, ObjectState, ObjectStatus, OrgRegistration, Run, RunStatus, VersionInput } from '../core/vault.ts';
import { feedDataLake } from '../export/data-lake.ts';
import { metadataBackupStep } from '../metadata/backup.ts';
import { jobFailedEvent, objectsInErrorEvent, orgBehindEvent } from '../notify/events.ts';
import { LockHeldError } from '../store/port.ts';
import type { BlobStore, ChangeCaptureStore, FileCatalog, LockManager, MetadataStore, ObjectStateStore, RunLog, SchemaStore, SearchIndex, VersionStore } from '../store/port.ts';
import { captureMissingBodies, captureObject } from './capture-object.ts';
import type { CaptureOutcome } from './capture-object.ts';
import { quietCheckQuery, resumePoint } from './capture-plan.ts';
import { checkDeletes, reconcileIds } from './deletes.ts';
import { orgStatusOf } from './report.ts';
import type { BackupSettings } from './options.ts';
import { capturedFields, decideScope, unsupportedByDescribe } from './scope.ts';
import type { ScopeDecision } from './scope.ts';

/** The vault ports a backup uses. */
export type BackupStore = VersionStore & SchemaStore & FileCatalog & RunLog & ObjectStateStore & LockManager & Pick<ChangeCaptureStore, 'getStreamStates' | 'storedVersionKeys'> & MetadataStore & Pick<SearchIndex, 'catchUpSearchIndex' | 'searchIndexStats'>;

export interface BackupDeps {
  store: BackupStore;
  blobs: BlobStore;
  client: OrgClient;
  now?: () => number;
  /** Progress events, for bars on a terminal or lines in a log. */
  onEvent?: (event: BackupEvent) => void;
  /** Told of a failed job, objects in error and the org falling Behind, once the run is recorded. */
  notifier?: Notifier;
}

export interface BackupRequest {
  org: OrgRegistration;
  settings: BackupSettings;
  /** Only these objects (API names); all when absent. */
  objects?: string[];
  /** Compare every record ID with the org's this run, whatever the schedule. */
  reconcile?: boolean;
  /** Who started the run, for the log. */
  startedBy?: string;
  /**
   * Count the versions this scan finds that the change stream should have stored and did not
   * (`missedByStream`). True unless given; false for the scans the stream starts to cover a hole.
   */
  confirmStream?: boolean;
  /**
   * A fresh full baseline: every record read again whatever the watermark, and every ID compared
   * with the org's. The reason (a new backup cycle, a sandbox refresh…) goes in the run's log.
   */
  baseline?: { reason: string };
  /** Capture the org's metadata after the objects (as its settings say, `org.settings.metadata`); false to leave it out of this run. */
  metadata?: boolean;
}

export type BackupEvent =
  | { type: 'run-started'; runId: string; objects: number }
  | { type: 'object-started'; name: string; api: 'rest' | 'bulk'; expected: number | null; backfill: boolean }
  | { type: 'object-progress'; name: string; records: number; expected: number | null }
  | { type: 'object-finished'; name: string; status: ObjectStatus; records: number; versions: number; message: string | null }
  | { type: 'notice'; message: string };

export interface BackupObjectResult {
  name: string;
  status: ObjectStatus;
  statusCode: string | null;
  message: string | null;
  records: number;
  versions: number;
  files: number;
  deletes: number;
  apiCalls: number;
  api: 'rest' | 'bulk' | null;
}

export interface BackupResult {
  runId: string;
  status: RunStatus;
  message: string | null;
  objects: BackupObjectResult[];
  apiCalls: number;
  counters: Record<string, number>;
}

/** A run of a given org whose holder died is taken over after this long without a heartbeat. */
export const BACKUP_LOCK_STALE_MS = 60_000;
/** Queries per composite call: Salesforce takes at most five query subrequests in one. */
const COMPOSITE_QUERIES = 5;

/**
 * Backs up one org. Never throws for an object's failure: that object ends in Error with
 * Salesforce's status code and the others go on. Throws only when the run itself cannot proceed
 * (the org cannot be reached at all).
 */
export async function runBackup(deps: BackupDeps, request: BackupRequest): Promise<BackupResult> {
  const now = deps.now ?? Date.now;
  const emit = deps.onEvent ?? (() => undefined);
  const { org } = request;
  const runId = randomUUID();
  const run = backupRunRecord(request, runId, now());

  let lock;
  try {
    lock = await deps.store.acquireOrgLock(org.orgId, `backup ${runId} (pid ${process.pid} on ${hostname()})`, { staleAfterMs: BACKUP_LOCK_STALE_MS });
  } catch (error) {
    if (!(error instanceof LockHeldError)) throw error;
    const message = `Skipped: another backup of ${org.name} is running (${error.holder}, since ${new Date(error.since).toISOString()}).`;
    await deps.store.createRun({ ...run, status: 'Skipped', endedAt: now(), message });
    return { runId, status: 'Skipped', message, objects: [], apiCalls: 0, counters: {} };
  }
  // Sent once the lock is released: a slow channel never holds the org's next job back.
  const events: NotificationEvent[] = [];
  const about = { orgName: org.name, orgId: org.orgId, runId, at: run.startedAt };
  try {
    const statusBefore = deps.notifier ? await orgStatusNow(deps.store, org.orgId) : null;
    await failInterruptedRuns(deps.store, org.orgId, now());
    await deps.store.createRun(run);
    const spent: { budget?: Budget } = {};
    let result = await backupWithLock(deps, request, run, emit, now, spent);
    result = await finishBackupRun(deps, request, run, result, () => spent.budget?.mayContinue() ?? true, emit, now);
    if (statusBefore !== null) events.push(...(await backupEvents(deps.store, { ...about, at: now() }, result, statusBefore).catch(() => [])));
    return result;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    await deps.store.updateRun(runId, { status: 'Failed', endedAt: now(), message, counters: { apiCalls: deps.client.usage().calls } }).catch(() => undefined);
    events.push(jobFailedEvent({ ...about, at: now() }, message));
    throw error;
  } finally {
    // The lock heartbeats on its own while held; a crash leaves it to be taken over.
    await lock.release();
    const notifier = deps.notifier;
    if (notifier) for (const event of events) await notifier.notify(event).catch(() => undefined);
  }
}

/** The run log's row of a backup run about to start. */
export function backupRunRecord(request: BackupRequest, runId: string, startedAt: number): Run {
  const { org, settings } = request;
  return {
    runId,
    orgId: org.orgId,
    kind: 'backup',
    status: 'Running',
    startedAt,
    endedAt: null,
    counters: {},
    message: null,
    parameters: { org: org.name, objects: request.objects ?? null, mode: settings.mode, startedBy: request.startedBy ?? null, ...(request.baseline ? { baseline: request.baseline } : {}) },
  };
}

/**
 * What follows the objects, under the same lock: the baseline's note, the data lake, the
 * metadata, the search index brought up to date, then the run recorded with its outcome.
 * `mayStart` says whether the run's API budget allows more work. Shared by runBackup and the
 * distributed backup (distributed.ts).
 */
export async function finishBackupRun(deps: BackupDeps, request: BackupRequest, run: Run, objectsResult: BackupResult, mayStart: () => boolean, emit: (e: BackupEvent) => void, now: () => number): Promise<BackupResult> {
  const { org, settings } = request;
  let result = objectsResult;
  if (request.baseline) result = { ...result, message: [`Full baseline: ${request.baseline.reason.replace(/\.$/, '')}.`, result.message].filter(Boolean).join(' ') };
  // Once the objects are stored: a data lake that cannot be written never costs the backup.
  if (settings.dataLake) result = await feedDataLake(deps.store, settings.dataLake, { orgId: org.orgId, runId: run.runId, startedAt: run.startedAt, now: now() }, result, (message) => emit({ type: 'notice', message }));
  // Metadata after the data, under the same lock: a failure there never costs the data backup.
  // It spends the same API budget: it starts only while the budget allows more work.
  if (request.metadata !== false && result.status !== 'Skipped') {
    result = await metadataBackupStep({ store: deps.store, client: deps.client, now, mayStart }, org, run.runId, result, (message) => emit({ type: 'notice', message }));
  }
  if (result.status !== 'Skipped') await indexForSearch(deps.store, (message) => emit({ type: 'notice', message }));
  await deps.store.updateRun(run.runId, { status: result.status, endedAt: now(), counters: result.counters, message: result.message });
  return result;
}

/**
 * Indexes the run's new versions (and any a crash left behind) for search. Last, once the data
 * and metadata are stored: writes are not indexed as they happen, because indexing costs more
 * than the writes themselves, and a failure here never costs the backup (the next search catches
 * the index up before it answers). Indexing alongside the capture instead was measured slower
 * (the bench profile at 1,000,000 records: 172 s against 162 s) and heavier (602 MiB against 506
 * MiB at peak): the two share this thread and the payload worker.
 */
async function indexForSearch(store: Pick<SearchIndex, 'catchUpSearchIndex' | 'searchIndexStats'>, notice: (message: string) => void): Promise<void> {
  try {
    const pending = (await store.searchIndexStats()).pendingVersions;
    if (pending === 0) return;
    notice(`Indexing ${pending.toLocaleString('en-US')} new version(s) for search…`);
    await store.catchUpSearchIndex();
  } catch (error) {
    notice(`The search index was not brought up to date (${error instanceof Error ? error.message : String(error)}); the next search does it before it answers.`);
  }
}

/** The org's status as `status` shows it, before a run, to tell when it falls Behind. */
export async function orgStatusNow(store: RunLog & ObjectStateStore, orgId: string): Promise<string> {
  const lastRun = (await store.listRuns({ orgId, kind: 'backup', limit: 20 })).find((r) => r.status !== 'Skipped');
  return orgStatusOf(await store.getObjectStates(orgId), lastRun);
}

/** What a finished run tells the admin: objects in error, and the org falling Behind (on the change only, not every run). */
export async function backupEvents(store: RunLog & ObjectStateStore, about: { orgName: string; orgId: string; runId: string; at: number }, result: BackupResult, statusBefore: string): Promise<NotificationEvent[]> {
  const events: NotificationEvent[] = [];
  const inError = result.objects.filter((o) => isObjectError(o.status));
  if (inError.length) events.push(objectsInErrorEvent(about, inError));
  if (statusBefore !== 'Behind' && (await orgStatusNow(store, about.orgId)) === 'Behind') {
    events.push(orgBehindEvent(about, statusBefore, result.objects.filter((o) => o.status === 'Behind' || o.status === 'Backfilling'), result.message));
  }
  return events;
}

/** Runs still marked Running for an org whose lock we now hold died with their process (but `resuming`, which a new holder carries on). */
export async function failInterruptedRuns(store: RunLog, orgId: string, at: number, resuming?: string): Promise<void> {
  for (const stale of await store.listRuns({ orgId, kind: 'backup', limit: 20 })) {
    if (stale.status !== 'Running' || stale.runId === resuming) continue;
    await store.updateRun(stale.runId, {
      status: 'Failed',
      endedAt: at,
      message: 'Interrupted: the process stopped before the run finished. The next run resumed from the last stored page; nothing stored was lost.',
    });
  }
}

/** What a run's API budget was when it was planned, for the workers that capture its objects. */
export interface BudgetSpec {
  max: number;
  share: number;
  startUsed: number;
}

/** The run's API budget: work stops starting once the org's usage nears its share of the daily limit. */
export class Budget {
  private readonly limit: number;
  private stopped: string | null = null;
  /**
   * Objects captured side by side each have a request in flight when the budget runs out: work
   * stops that many requests (twice, for Bulk polling) before the share, so it never exceeds it.
   */
  private readonly margin: number;
  constructor(
    private readonly client: OrgClient,
    max: number,
    share: number,
    private readonly startUsed: number,
    concurrency: number,
  ) {
    this.limit = Math.floor(max * share);
    this.margin = 2 * concurrency;
  }
  /** The org's usage as last reported, or our own estimate when no response said. */
  used(): number {
    const usage = this.client.usage();
    return usage.orgUsed ?? this.startUsed + usage.calls;
  }
  mayContinue(): boolean {
    if (this.stopped) return false;
    if (this.used() + this.margin >= this.limit) this.stopped = `API_BUDGET_SPENT: the org has used ${this.used()} of its daily API requests; orgvault stops starting work at ${this.limit} (its share of the daily limit).`;
    return this.stopped === null;
  }
  stop(reason: string): void {
    this.stopped ??= reason;
  }
  get reason(): string | null {
    return this.stopped;
  }
  get allowed(): number {
    return this.limit;
  }
  /** The same budget for another client (a worker capturing one object of the run). */
  static of(client: OrgClient, spec: BudgetSpec, concurrency: number): Budget {
    return new Budget(client, spec.max, spec.share, spec.startUsed, concurrency);
  }
}

/** An object a run captures, as planned: JSON, so that a worker on another machine can capture it. */
export interface PlannedObject {
  name: string;
  /** Nothing changed since its watermark (the quiet check): no query, only the deletes check when due. */
  quiet: boolean;
  /** About how many records it will read, when known (decides REST or Bulk). */
  expected: number | null;
  /** Whether getDeleted can be asked about it. */
  replicateable: boolean;
}

/** What a run does, decided before any object is read. */
export interface BackupPlan {
  /** The objects reported without reading them (already recorded in the run log and their state). */
  skipped: BackupObjectResult[];
  /** The objects to capture, largest first. */
  capture: PlannedObject[];
  budget: BudgetSpec;
  /** Bulk API 2.0 query jobs the org still allows today; null when it did not say. */
  bulkJobsLeft: number | null;
}

/**
 * Plans a run: lists the objects (the listing's header also gives the org's API usage), decides
 * scope, records the objects skipped, finds the quiet ones and the sizes of the others, and asks
 * the Bulk API allowance when there is work. Shared by runBackup and the distributed backup.
 */
export async function planBackup(deps: BackupDeps, request: BackupRequest, runId: string, emit: (e: BackupEvent) => void, now: () => number): Promise<{ plan: BackupPlan; budget: Budget; states: Map<string, ObjectState> }> {
  const { client, store } = deps;
  const { org, settings } = request;
  const skipped: BackupObjectResult[] = [];
  const previous = await store.getObjectStates(org.orgId);
  const stateOf = new Map(previous.map((s) => [s.objectName.toLowerCase(), s]));

  // The first call lists the objects; its Sforce-Limit-Info header says how much of the daily API
  // limit the org has used, so a quiet run needs no separate /limits call.
  const listed = await client.describeGlobal();
  let { orgUsed, orgMax } = client.usage();
  if (orgUsed === null || orgMax === null) {
    const limits = await client.limits();
    orgMax = limits.dailyApiRequests.max;
    orgUsed = orgMax - limits.dailyApiRequests.remaining;
  }
  const budget = new Budget(client, orgMax, settings.apiBudgetShare, orgUsed, settings.concurrency);
  if (!budget.mayContinue()) {
    budget.stop(`API_BUDGET_SPENT: the org has already used ${orgUsed} of its ${orgMax} daily API requests, over orgvault's share (${budget.allowed}). Nothing was started.`);
  }
  const summaries = new Map(listed.map((o) => [o.name, o]));
  const decisions = (budget.reason ? previous.map((s) => skipAsBehind(s)) : decideScope(listed, previous, settings, request.objects)).map((d) =>
    d.action === 'capture' ? stillUnsupported(d, stateOf.get(d.name.toLowerCase()), now()) : d,
  );
  emit({ type: 'run-started', runId, objects: decisions.filter((d) => d.action === 'capture').length });

  // Objects reported without reading them.
  for (const decision of decisions.filter((d) => d.action === 'skip')) {
    const state = stateOf.get(decision.name.toLowerCase());
    await finishObject(deps, org.orgId, runId, state, decision.name, {
      status: decision.status,
      statusCode: decision.statusCode,
      message: decision.reason,
      counters: {},
      details: state?.details ?? {},
      backfilledAt: state?.backfilledAt ?? null,
      lastBackupAt: state?.lastBackupAt ?? null,
    });
    skipped.push({ name: decision.name, status: decision.status, statusCode: decision.statusCode, message: decision.reason, records: 0, versions: 0, files: 0, deletes: 0, apiCalls: 0, api: null });
  }

  const toCapture = decisions.filter((d) => d.action === 'capture');
  let bulkJobsLeft: number | null = null;
  // A baseline reads every object again: none is taken as quiet.
  const { quiet, changed } = request.baseline ? { quiet: new Set<string>(), changed: new Map<string, number>() } : await quietObjects(client, toCapture, stateOf, settings, budget);
  const busy = toCapture.filter((d) => !quiet.has(d.name));
  // Changed objects already told how much changed; the others (new, backfilling) need their size.
  const counts = await recordCounts(client, busy.filter((d) => !changed.has(d.name)), budget);
  for (const [name, n] of changed) counts.set(name, n);
  // With work to do, /limits once: the Bulk API job allowance decides whether Bulk may be used.
  if (busy.length && budget.mayContinue()) {
    const limits = await client.limits();
    bulkJobsLeft = limits.dailyBulkV2QueryJobs?.remaining ?? null;
  }

  const capture: PlannedObject[] = toCapture.map((d) => ({ name: d.name, quiet: quiet.has(d.name), expected: counts.get(d.name) ?? null, replicateable: summaries.get(d.name)?.replicateable ?? true }));
  // Largest first: they set the run's length, and small objects fill in around them.
  capture.sort((a, b) => (b.expected ?? 0) - (a.expected ?? 0));
  return { plan: { skipped, capture, budget: { max: orgMax, share: settings.apiBudgetShare, startUsed: orgUsed }, bulkJobsLeft }, budget, states: stateOf };
}

/** `out.budget` is the run's API budget, for the steps after the objects. */
async function backupWithLock(deps: BackupDeps, request: BackupRequest, run: Run, emit: (e: BackupEvent) => void, now: () => number, out: { budget?: Budget }): Promise<BackupResult> {
  const { plan, budget, states } = await planBackup(deps, request, run.runId, emit, now);
  out.budget = budget;
  const results: BackupObjectResult[] = [...plan.skipped];
  const bulkJobsLeft = { value: plan.bulkJobsLeft ?? Number.POSITIVE_INFINITY };
  const queue = [...plan.capture];
  const workers = Array.from({ length: Math.min(request.settings.concurrency, queue.length) }, async () => {
    for (let planned = queue.shift(); planned; planned = queue.shift()) {
      results.push(await backupObject(deps, request, run.runId, planned, states.get(planned.name.toLowerCase()), budget, bulkJobsLeft, emit, now));
    }
  });
  await Promise.all(workers);
  const usage = deps.client.usage();
  return summarizeRun(run.runId, results, budget.reason, { apiCalls: usage.calls, bulkQueryJobs: usage.bulkQueryJobs });
}

/** The run's outcome from its objects' results: counters, status and message. */
export function summarizeRun(runId: string, objectResults: readonly BackupObjectResult[], budgetReason: string | null, usage: { apiCalls: number; bulkQueryJobs: number }): BackupResult {
  const results = [...objectResults].sort((a, b) => a.name.localeCompare(b.name));
  const totals = (key: 'records' | 'versions' | 'files' | 'deletes'): number => results.reduce((n, r) => n + r[key], 0);
  const errors = results.filter((r) => isObjectError(r.status));
  const behind = results.filter((r) => r.status === 'Behind' || (r.status === 'Backfilling' && budgetReason));
  const counters = {
    objects: results.filter((r) => r.api !== null).length,
    records: totals('records'),
    versions: totals('versions'),
    files: totals('files'),
    deletes: totals('deletes'),
    errors: errors.length,
    behind: behind.length,
    apiCalls: usage.apiCalls,
    bulkQueryJobs: usage.bulkQueryJobs,
  };
  const status: RunStatus = errors.length || budgetReason ? 'CompletedWithErrors' : 'Succeeded';
  const message = budgetReason
    ? `${budgetReason} ${behind.length} object(s) left Behind; the next run continues where this one stopped.`
    : errors.length
      ? `${errors.length} object(s) ended in error: ${errors.map((e) => `${e.name} (${e.statusCode ?? 'error'})`).join(', ')}.`
      : null;
  return { runId, status, message, objects: results, apiCalls: counters.apiCalls, counters };
}

/**
 * The object's current schema from the vault, when it was described recently enough: a changed
 * object then costs its queries only, not a describe each run. Null when a describe is due.
 */
async function cachedSchema(
  store: SchemaStore,
  orgId: string,
  objectName: string,
  details: Record<string, unknown>,
  at: number,
  maxAgeMs: number,
): Promise<{ schemaId: string; description: ObjectDescription } | null> {
  const describedAt = details.describedAt;
  if (typeof describedAt !== 'number' || at - describedAt >= maxAgeMs) return null;
  const current = (await store.schemaHistory(orgId, objectName)).find((s) => s.validTo === null);
  if (!current) return null;
  try {
    return { schemaId: current.schemaId, description: describeFromRaw(await store.getSchema(orgId, current.schemaId)) };
  } catch {
    return null;
  }
}

/** An object its describe ruled out: asked again once a day (describes change rarely), not every run. */
function stillUnsupported(decision: ScopeDecision, state: ObjectState | undefined, at: number): ScopeDecision {
  const since = state?.details?.unsupportedSince;
  if (state?.status !== 'Unsupported' || typeof since !== 'number' || at - since >= UNSUPPORTED_RECHECK_MS) return decision;
  return { ...decision, action: 'skip', status: 'Unsupported', statusCode: 'UNSUPPORTED', reason: state.reason };
}

function skipAsBehind(state: ObjectState): ScopeDecision {
  return { name: state.objectName, label: state.objectName, action: 'skip', status: state.backfilledAt ? 'Behind' : 'Backfilling', statusCode: 'API_BUDGET_SPENT', reason: 'Not started: the API budget was spent.' };
}

/**
 * Objects with nothing new since their watermark, found with one aggregate query each, five to a
 * composite call (which counts as one): a quiet org costs one call per five objects.
 */
async function quietObjects(client: OrgClient, decisions: readonly ScopeDecision[], stateOf: ReadonlyMap<string, ObjectState>, settings: BackupSettings, budget: Budget): Promise<QuietCheck> {
  const quiet = new Set<string>();
  const changed = new Map<string, number>();
  // An object backed up empty has no watermark: its whole content is its window.
  const windowStart = (state: ObjectState): number | null => (state.watermark ? state.watermark.systemModstamp - settings.lookbackMs : null);
  const candidates = decisions
    .map((d) => ({ decision: d, state: stateOf.get(d.name.toLowerCase()) }))
    .filter(({ state }) => state?.backfilledAt && state.status === 'Waiting' && typeof state.details?.windowCount === 'number')
    // Bodies waiting since files were paused make an object busy, changed or not.
    .filter(({ state }) => !(settings.mode === 'objects-and-files' && typeof state!.details!.bodiesPendingFrom === 'number'));
  for (let i = 0; i < candidates.length && budget.mayContinue(); i += COMPOSITE_QUERIES) {
    const chunk = candidates.slice(i, i + COMPOSITE_QUERIES);
    let answers: BatchedQueryResult[];
    try {
      answers = await client.queryBatch(chunk.map(({ decision, state }) => ({ soql: quietCheckQuery(decision.name, windowStart(state!)), includeDeleted: true })));
    } catch (error) {
      if (error instanceof SalesforceApiError && error.statusCode !== 'REQUEST_LIMIT_EXCEEDED') continue;
      throw error;
    }
    chunk.forEach(({ decision, state }, k) => {
      const answer = answers[k];
      if (!answer?.ok) return;
      const row = answer.records[0] ?? {};
      const count = Number(row.n ?? 0);
      const newest = parseSalesforceDatetime(row.m);
      const watermark = state!.watermark?.systemModstamp ?? Number.NEGATIVE_INFINITY;
      if (count === state!.details!.windowCount && (newest === undefined || newest <= watermark)) quiet.add(decision.name);
      // Records in the window: about what the capture will read, which decides REST or Bulk.
      else changed.set(decision.name, count);
    });
  }
  return { quiet, changed };
}

interface QuietCheck {
  quiet: Set<string>;
  /** Objects with news, and how many records their window holds. */
  changed: Map<string, number>;
}

async function recordCounts(client: OrgClient, decisions: readonly ScopeDecision[], budget: Budget): Promise<Map<string, number>> {
  if (decisions.length === 0 || !budget.mayContinue()) return new Map();
  try {
    return await client.recordCounts(decisions.map((d) => d.name));
  } catch (error) {
    if (error instanceof SalesforceApiError && error.statusCode !== 'REQUEST_LIMIT_EXCEEDED') return new Map();
    throw error;
  }
}

export interface ObjectFinish {
  status: ObjectStatus;
  statusCode: string | null;
  message: string | null;
  counters: Record<string, number>;
  details: Record<string, unknown>;
  backfilledAt: number | null;
  lastBackupAt: number | null;
}

export async function finishObject(deps: BackupDeps, orgId: string, runId: string, state: ObjectState | undefined, name: string, finish: ObjectFinish): Promise<void> {
  const runStatus: RunStatus = isObjectError(finish.status) ? 'Failed' : finish.status === 'Behind' || finish.status === 'Backfilling' ? 'CompletedWithErrors' : 'Succeeded';
  const objectRun: ObjectRun = { runId, objectName: name, status: runStatus, statusCode: finish.statusCode, message: finish.message, counters: finish.counters };
  await deps.store.putObjectRun(objectRun);
  await deps.store.putObjectState(orgId, {
    objectName: name,
    status: finish.status,
    watermark: state?.watermark ?? null,
    backfilledAt: finish.backfilledAt,
    recordCount: state?.recordCount ?? 0,
    versionCount: state?.versionCount ?? 0,
    lastRunId: runId,
    lastBackupAt: finish.lastBackupAt,
    reason: finish.message,
    statusCode: finish.statusCode,
    details: finish.details,
  });
}

/**
 * Captures one planned object and records its outcome (the run log's object row and its state).
 * `state` is the object's state as the capture starts: a capture taken over after a crash reads
 * it again and resumes from the watermark stored with the last committed page. Never throws for
 * the object's own failure (it ends in Error with the status code); throws only when the vault fails.
 */
export async function backupObject(
  deps: BackupDeps,
  request: BackupRequest,
  runId: string,
  planned: PlannedObject,
  state: ObjectState | undefined,
  budget: Budget,
  bulkJobsLeft: { value: number },
  emit: (e: BackupEvent) => void,
  now: () => number,
): Promise<BackupObjectResult> {
  const { org, settings } = request;
  const client = deps.client.scoped();
  const name = planned.name;
  const isQuiet = planned.quiet;
  const expected = planned.expected;
  const details: Record<string, unknown> = { ...(state?.details ?? {}) };
  const backfill = !state?.backfilledAt;
  const result: BackupObjectResult = { name, status: 'Waiting', statusCode: null, message: null, records: 0, versions: 0, files: 0, deletes: 0, apiCalls: 0, api: null };
  let backfilledAt = state?.backfilledAt ?? null;
  let lastBackupAt = state?.lastBackupAt ?? null;
  let outcome: CaptureOutcome | undefined;
  let confirmation: StreamConfirmation | undefined;
  // Deleted versions the getDeleted check and the reconciliation stored: versions like any other.
  let deletionVersions = 0;
  try {
    if (!isQuiet) {
      if (!budget.mayContinue()) throw new BudgetStop(budget.reason!);
      const capture = async (schema: { schemaId: string; description: ObjectDescription }): Promise<CaptureOutcome> => {
        const unsupported = unsupportedByDescribe(name, schema.description.fields);
        if (unsupported) {
          details.unsupportedSince = now();
          throw new Unsupported(unsupported);
        }
        delete details.unsupportedSince;
        const { query, bodies } = capturedFields(schema.description.fields);
        const api = chooseApi(expected, settings, details, bulkJobsLeft.value);
        if (api === 'bulk') bulkJobsLeft.value--;
        result.api = api;
        emit({ type: 'object-started', name, api, expected, backfill });
        // `status` shows it Running while this run reads it; the outcome replaces this at the end.
        await deps.store.putObjectState(org.orgId, { ...(state ?? emptyState(name)), status: 'Running', lastRunId: runId, details });
        confirmation = request.confirmStream === false ? undefined : await streamConfirmation(deps.store, org.orgId, name);
        const captureDeps = {
          client,
          versions: deps.store,
          files: deps.store,
          blobs: deps.blobs,
          now,
          mayContinue: () => budget.mayContinue(),
          onProgress: (records: number) => emit({ type: 'object-progress', name, records, expected }),
          beforeWrite: confirmation?.check,
        };
        const captured = await captureObject(captureDeps, {
            orgId: org.orgId,
            objectName: name,
            runId,
            schemaId: schema.schemaId,
            fields: query,
            bodies,
            captureBodies: settings.mode === 'objects-and-files',
            api,
            start: request.baseline ? null : resumePoint(state?.watermark ?? null, settings.lookbackMs),
            watermark: state?.watermark ?? null,
            lookbackMs: settings.lookbackMs,
        });
        if (bodies.length) {
          // Bodies skipped while files were paused (or not backed up) are fetched once they are
          // wanted again: for the latest version of each record captured since the pause.
          if (settings.mode !== 'objects-and-files') {
            if (captured.versions > 0 && typeof details.bodiesPendingFrom !== 'number') details.bodiesPendingFrom = state?.watermark?.systemModstamp ?? 0;
          } else if (typeof details.bodiesPendingFrom === 'number') {
            const caught = await captureMissingBodies(captureDeps, { orgId: org.orgId, objectName: name, bodies }, details.bodiesPendingFrom);
            captured.files += caught.files;
            captured.fileBytes += caught.bytes;
            delete details.bodiesPendingFrom;
          }
        }
        return captured;
      };
      const describe = async (): Promise<{ schemaId: string; description: ObjectDescription }> => {
        const description = await client.describeObject(name);
        const { schemaId } = await deps.store.putSchema(org.orgId, name, description.raw, now());
        details.describedAt = now();
        return { schemaId, description };
      };
      const cached = await cachedSchema(deps.store, org.orgId, name, details, now(), settings.describeMaxAgeMs);
      try {
        outcome = await capture(cached ?? (await describe()));
      } catch (error) {
        // A field dropped since the stored describe: describe again and capture with what exists.
        if (!cached || !(error instanceof SalesforceApiError) || error.statusCode !== 'INVALID_FIELD') throw error;
        outcome = await capture(await describe());
      }
      result.api = outcome.api;
      result.records = outcome.records;
      result.versions = outcome.versions;
      result.files = outcome.files;
      result.deletes += outcome.deletes;
      details.api = outcome.api;
      if (outcome.bulkFallback) details.bulkFallback = outcome.bulkFallback;
      else delete details.bulkFallback;
      if (outcome.queryRestarts) emit({ type: 'notice', message: `${name}: the query cursor expired ${outcome.queryRestarts} time(s); the capture restarted from its watermark each time.` });
      if (!outcome.complete) throw new BudgetStop(budget.reason ?? 'The run was stopped before the object was read to the end.');
      details.windowCount = outcome.windowCount;
      lastBackupAt = now();
      backfilledAt ??= lastBackupAt;
    } else {
      lastBackupAt = now();
    }
    // Deletes that queries cannot show, on their own schedule.
    const lastCheck = typeof details.deletedCheckedAt === 'number' ? details.deletedCheckedAt : null;
    const replicateable = planned.replicateable;
    const reconcileNow = request.reconcile === true || request.baseline !== undefined;
    if (replicateable && state?.backfilledAt && (lastCheck === null || now() - lastCheck >= settings.deletedCheckIntervalMs || reconcileNow) && budget.mayContinue()) {
      const check = await checkDeletes(client, deps.store, { orgId: org.orgId, objectName: name, runId, schemaId: null, since: lastCheck ?? state.backfilledAt }, now());
      details.deletedCheckedAt = check.checkedAt;
      deletionVersions += check.deleted;
      const lastReconcile = typeof details.reconciledAt === 'number' ? details.reconciledAt : state.backfilledAt;
      if (check.windowMissed || reconcileNow || now() - lastReconcile >= settings.reconcileIntervalMs) {
        deletionVersions += await reconcileIds(client, deps.store, { orgId: org.orgId, objectName: name, runId, schemaId: null, since: lastCheck }, now(), (expected ?? 0) >= settings.bulkThreshold);
        details.reconciledAt = now();
      }
    } else if (!replicateable && reconcileNow) {
      deletionVersions += await reconcileIds(client, deps.store, { orgId: org.orgId, objectName: name, runId, schemaId: null, since: null }, now(), false);
      details.reconciledAt = now();
    }
    result.status = 'Waiting';
  } catch (error) {
    if (error instanceof Unsupported) {
      result.status = 'Unsupported';
      result.statusCode = 'UNSUPPORTED';
      result.message = error.message;
    } else if (error instanceof BudgetStop) {
      result.status = backfilledAt ? 'Behind' : 'Backfilling';
      result.statusCode = 'API_BUDGET_SPENT';
      result.message = error.message;
    } else if (error instanceof SalesforceApiError) {
      if (error.statusCode === 'REQUEST_LIMIT_EXCEEDED') budget.stop(`REQUEST_LIMIT_EXCEEDED: Salesforce refused further requests today (${error.message}).`);
      result.status = error.statusCode === 'REQUEST_LIMIT_EXCEEDED' ? (backfilledAt ? 'Behind' : 'Backfilling') : 'Error';
      result.statusCode = error.statusCode;
      result.message = error.message;
    } else if (error instanceof OrgvaultError) {
      result.status = 'Error';
      result.statusCode = error.code;
      result.message = error.message;
    } else {
      throw error;
    }
  } finally {
    result.apiCalls = client.usage().calls;
  }
  if (outcome) {
    result.records = outcome.records;
    result.versions = outcome.versions;
    result.files = outcome.files;
  }
  result.versions += deletionVersions;
  result.deletes += deletionVersions;
  await finishObject(deps, org.orgId, runId, state, name, {
    status: result.status,
    statusCode: result.statusCode,
    message: result.message,
    counters: {
      records: result.records,
      versions: result.versions,
      files: result.files,
      deletes: result.deletes,
      apiCalls: result.apiCalls,
      ...(outcome ? { duplicates: outcome.duplicates, newRecords: outcome.newRecords, undeletes: outcome.undeletes, fileBytes: outcome.fileBytes } : {}),
      ...(confirmation ? { missedByStream: confirmation.missed } : {}),
    },
    details,
    backfilledAt,
    lastBackupAt,
  });
  if (confirmation?.missed) {
    emit({ type: 'notice', message: `${name}: this scan found ${confirmation.missed} version(s) the change stream had not stored (such as ${confirmation.examples.join(', ')}); they are stored now.` });
  }
  emit({ type: 'object-finished', name, status: result.status, records: result.records, versions: result.versions, message: result.message });
  return result;
}

/** A scan's check of the change stream of one object: versions it finds that the stream missed. */
interface StreamConfirmation {
  missed: number;
  /** A few of them (record ID and SystemModstamp), for the log. */
  examples: string[];
  check: (versions: readonly VersionInput[]) => Promise<void>;
}

/**
 * The confirmation of an object the stream covers, or undefined when it does not. A version is
 * missed when its change lies in the stream's coverage (from the first event after it subscribed
 * afresh, to the commit of the last event whose versions it committed) and the vault held no
 * version of that record at that SystemModstamp before this scan stored it. A version the vault
 * held already (stored by the stream, or counted by an earlier scan) is never counted.
 */
async function streamConfirmation(store: BackupStore, orgId: string, objectName: string): Promise<StreamConfirmation | undefined> {
  const stream = (await store.getStreamStates(orgId)).find((s) => s.objectName.toLowerCase() === objectName.toLowerCase());
  if (!stream || stream.coveredFrom === null || stream.coveredThrough === null) return undefined;
  const from = stream.coveredFrom;
  const through = stream.coveredThrough;
  const confirmation: StreamConfirmation = {
    missed: 0,
    examples: [],
    check: async (versions) => {
      const inCoverage = versions.filter((v) => v.systemModstamp >= from && v.systemModstamp <= through);
      if (!inCoverage.length) return;
      const held = await store.storedVersionKeys(orgId, objectName, inCoverage);
      for (const v of inCoverage) {
        const key = `${v.recordId}@${v.systemModstamp}`;
        if (held.has(key)) continue;
        // Counted once even when a batch holds the version twice.
        held.add(key);
        confirmation.missed++;
        if (confirmation.examples.length < 5) confirmation.examples.push(`${v.recordId} at ${new Date(v.systemModstamp).toISOString()}`);
      }
    },
  };
  return confirmation;
}

function emptyState(objectName: string): ObjectState {
  return { objectName, status: 'Backfilling', watermark: null, backfilledAt: null, recordCount: 0, versionCount: 0, lastRunId: null, lastBackupAt: null, reason: null, statusCode: null, details: {} };
}

/** Statuses the log's "Objects with Errors" tab lists: failures and lost access. */
function isObjectError(status: ObjectStatus): boolean {
  return status === 'Error' || status === 'NotVisible' || status === 'Unavailable';
}

/** The object was left because the run must stop starting work. */
class BudgetStop extends Error {}

/** The object's describe rules out capture. */
class Unsupported extends Error {}

const UNSUPPORTED_RECHECK_MS = 24 * 3_600_000;

/**
 * Bulk API 2.0 for large objects (one job instead of a call per 2,000 records), REST for the rest
 * and for objects Bulk failed on last time.
 */
function chooseApi(expected: number | null, settings: BackupSettings, details: Record<string, unknown>, bulkJobsLeft: number): 'rest' | 'bulk' {
  if (details.bulkFallback || bulkJobsLeft < 1) return 'rest';
  return expected !== null && expected >= settings.bulkThreshold ? 'bulk' : 'rest';
}

