/**
 * A backup spread over `orgvault worker` processes through the work queue (src/store/queue.ts).
 *
 * A `backup` job per org (dedupe key `backup:<orgId>`: one live at a time) is the run's
 * coordinator: under the org's writer lock, as runBackup, it plans the run with runBackup's own
 * planning (planBackup), saves the run ID and the plan on its job, and enqueues one
 * `backup-object` task per object to capture, named by the object within the run (so enqueued
 * once). Any worker claims a task and captures the object with runBackup's own `backupObject`.
 * The coordinator waits, heartbeating its lease (the worker does) and the org lock (the lock
 * does), and meanwhile captures tasks of its own run in its slot, so one worker with one slot
 * still finishes. Once no task is left, it records tasks that died as objects in Error and does
 * what follows the objects as runBackup does (finishBackupRun: data lake, metadata, the run's
 * outcome), then notifications.
 *
 * Crash safety rests on the capture's own rules (docs/ARCHITECTURE.md, "Backup"):
 * - A worker killed mid-task stops heartbeating; its lease expires and another worker claims the
 *   task. The object's state is read again at the start of every attempt, so the capture resumes
 *   at the watermark of the last committed page, and versions read again are skipped as stored.
 * - A coordinator killed: its job's lease expires and another worker takes it over. The job's
 *   saved progress names the run and its plan, so the new coordinator resumes the same run:
 *   tasks already done stay done, and the run is not marked Interrupted. Its org lock goes stale
 *   like any dead holder's; until then the job is given back and tried again.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { NotificationEvent, Notifier } from '../core/notifications.ts';
import type { OrgClient } from '../core/org-client.ts';
import type { OrgRegistration, Run, RunStatus } from '../core/vault.ts';
import { jobFailedEvent } from '../notify/events.ts';
import { LockHeldError } from '../store/port.ts';
import type { BlobStore, OrgCatalog, RunLog } from '../store/port.ts';
import { LeaseLostError, PermanentJobError, ReleaseJob } from '../store/queue.ts';
import type { Job, JobData, JobQueue, JobRunContext } from '../store/queue.ts';
import { resolveSettings } from './options.ts';
import type { BackupSettings } from './options.ts';
import {
  BACKUP_LOCK_STALE_MS,
  Budget,
  backupEvents,
  backupObject,
  backupRunRecord,
  failInterruptedRuns,
  finishBackupRun,
  finishObject,
  orgStatusNow,
  planBackup,
  summarizeRun,
} from './run-backup.ts';
import { jobLog, listJobs } from './report.ts';
import type { RunLogView } from './report.ts';
import type { BackupDeps, BackupEvent, BackupObjectResult, BackupPlan, BackupRequest, BackupResult, BackupStore, BudgetSpec, PlannedObject } from './run-backup.ts';
import { storedSettings } from './settings.ts';

export const BACKUP_JOB = 'backup';
export const BACKUP_OBJECT_JOB = 'backup-object';

/** Attempts of a coordinator or a task before it is dead. */
const MAX_ATTEMPTS = 5;
/** Backups are claimed before the tasks of runs already going: planning starts as soon as a slot frees up. */
const BACKUP_PRIORITY = Number.MAX_SAFE_INTEGER;

/** What a `backup` job asks for: JSON, in clear in the queue (names and options, never values). */
export interface BackupJobPayload {
  orgName: string;
  orgId: string;
  objects?: string[];
  reconcile?: boolean;
  baseline?: { reason: string };
  startedBy?: string;
  /** Settings of this run over the org's stored ones (`orgvault backup --queue` flags). */
  overrides?: Record<string, unknown>;
  metadata?: boolean;
  /**
   * The run's ID, chosen when the job is enqueued so that whoever asked can follow the run (a
   * dashboard's run page, `backup --queue`) before a worker claims the job and creates it.
   */
  runId?: string;
}

/** What a `backup` job keeps as it goes, so that a coordinator taking over resumes the same run. */
interface CoordinatorProgress {
  runId: string;
  plan?: BackupPlan;
  /** Objects allowed a Bulk API 2.0 job (the org's daily allowance, shared out largest first). */
  bulk?: string[];
}

interface ObjectTaskPayload {
  runId: string;
  orgName: string;
  orgId: string;
  planned: PlannedObject;
  bulkAllowed: boolean;
  budget: BudgetSpec;
  settings: BackupSettings;
  reconcile?: boolean;
  baseline?: { reason: string };
}

/** What a task keeps on its job: the object's outcome without its message (the run log has it). */
interface ObjectTaskResult {
  object: Omit<BackupObjectResult, 'message'>;
  bulkQueryJobs: number;
  budgetStop: string | null;
}

export interface DistributedBackupDeps {
  store: BackupStore & OrgCatalog;
  blobs: BlobStore;
  queue: JobQueue;
  /** Opens a client for a registered org (the shell's `connectToOrg`). */
  connect: (org: OrgRegistration) => Promise<OrgClient>;
  notifier?: Notifier;
  now?: () => number;
  /** How often a waiting coordinator looks at its tasks (default 1 s). */
  pollMs?: number;
  /** A dead coordinator's org lock is taken over after this long (default as runBackup's). */
  lockStaleMs?: number;
  onEvent?: (org: OrgRegistration, event: BackupEvent) => void;
}

/**
 * Enqueues a backup of an org, or finds the one already queued or running (`created: false`):
 * one backup per org at a time.
 */
export async function enqueueBackup(queue: JobQueue, payload: BackupJobPayload): Promise<{ job: Job; created: boolean; runId: string | null }> {
  const enqueued = await queue.enqueue({ kind: BACKUP_JOB, payload: { ...payload, runId: payload.runId ?? randomUUID() }, dedupeKey: `backup:${payload.orgId}`, priority: BACKUP_PRIORITY, maxAttempts: MAX_ATTEMPTS });
  return { ...enqueued, runId: backupJobRunId(enqueued.job) };
}

/** A `backup` job's payload: the queue keeps JSON, and enqueueBackup is the only writer of this kind. */
function backupPayload(job: Job): BackupJobPayload {
  return job.payload as unknown as BackupJobPayload;
}

/** The run a `backup` job runs (or will run): the one a coordinator saved, else the one chosen when it was enqueued. */
export function backupJobRunId(job: Job): string | null {
  const saved = (job.progress as CoordinatorProgress | null)?.runId;
  const chosen = backupPayload(job).runId;
  return saved ?? chosen ?? null;
}

/** How many of the newest `backup` jobs a lookup by run or org reads: live and recent ones are among them. */
const RECENT_BACKUP_JOBS = 500;

/** The `backup` job of a run, among the recent ones; undefined when the queue has none (the run is older, or ran in a process). */
export async function findBackupJob(queue: JobQueue, runId: string): Promise<Job | undefined> {
  const jobs = await queue.list({ kinds: [BACKUP_JOB], limit: RECENT_BACKUP_JOBS });
  return jobs.find((job) => backupJobRunId(job) === runId);
}

/** The org's backup job queued or running, if any (one at a time per org). */
export async function liveBackupJob(queue: JobQueue, orgId: string): Promise<Job | undefined> {
  const jobs = await queue.list({ kinds: [BACKUP_JOB], states: ['queued', 'running'], limit: RECENT_BACKUP_JOBS });
  return jobs.find((job) => backupPayload(job).orgId === orgId);
}

/**
 * A run's log; with a work queue, a backup whose run does not exist yet is shown from its queued
 * job (see backupJobLog), so that a run ID handed out at enqueue time can be followed at once.
 */
export async function runLogOf(store: RunLog, queue: JobQueue | null | undefined, runId: string, options: { errorsOnly?: boolean } = {}): Promise<RunLogView> {
  if (queue && !(await store.getRun(runId))) {
    const job = await findBackupJob(queue, runId);
    if (job) return backupJobLog(job);
  }
  return jobLog(store, runId, options);
}

/**
 * The job log, newest first; with a work queue, backups waiting for a worker (their runs not
 * created yet) come first, so that a queued backup shows before it starts.
 */
export async function jobsWithQueued(store: RunLog, queue: JobQueue | null | undefined, options: { orgId?: string; limit?: number } = {}): Promise<Omit<RunLogView, 'objects'>[]> {
  const runs = await listJobs(store, options);
  if (!queue) return runs;
  const listed = new Set(runs.map((r) => r.runId));
  const waiting: Omit<RunLogView, 'objects'>[] = [];
  for (const job of await queue.list({ kinds: [BACKUP_JOB], states: ['queued', 'running'], limit: RECENT_BACKUP_JOBS })) {
    const runId = backupJobRunId(job);
    if (runId === null || listed.has(runId) || (options.orgId !== undefined && backupPayload(job).orgId !== options.orgId)) continue;
    if (await store.getRun(runId)) continue;
    const { objects: _objects, ...view } = backupJobLog(job);
    waiting.push(view);
  }
  return [...waiting, ...runs];
}

/**
 * A backup's log while its run does not exist yet: queued for a worker, claimed by one that has
 * not started the run, or dead before it could. Once the run exists its own log replaces this.
 */
export function backupJobLog(job: Job): RunLogView {
  const payload = backupPayload(job);
  const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
  const retried = job.lastError ? ` Attempt ${job.attempts} failed (${job.lastError}); it is retried from ${iso(job.runAfter)}.` : '';
  const view = (status: RunLogView['status'], message: string, endedAt: number | null = null): RunLogView => ({
    runId: backupJobRunId(job) ?? '',
    kind: 'backup',
    org: payload.orgName,
    status,
    startedAt: iso(job.createdAt)!,
    endedAt: iso(endedAt),
    message,
    counters: {},
    objects: [],
  });
  switch (job.state) {
    case 'queued':
      return view(
        'Queued',
        `Queued (job ${job.jobId}), waiting for a worker.${retried} Backups of this vault run on \`orgvault worker\` processes: if none is running, start one on a machine that reaches the vault and the org.`,
      );
    case 'running':
      return view('Running', `Claimed by worker ${job.worker ?? 'unknown'}; the run starts once it holds the org's backup lock.`);
    case 'dead':
      return view('Failed', `The backup job failed on each of its ${job.attempts} attempt(s) before its run could start. Last error: ${job.lastError ?? 'unknown'}`, job.finishedAt);
    case 'done':
      return view((job.result?.status as RunStatus | undefined) ?? 'Succeeded', 'The backup job ended without a run log in this vault.', job.finishedAt);
  }
}

/** The outcome a finished `backup` job keeps: its run and the run's status. */
export function backupJobOutcome(job: Job): { runId: string | null; status: RunStatus } | null {
  if (job.state === 'dead') return { runId: (job.progress as CoordinatorProgress | null)?.runId ?? null, status: 'Failed' };
  if (job.state !== 'done' || !job.result) return null;
  return { runId: (job.result.runId as string | undefined) ?? null, status: job.result.status as RunStatus };
}

/**
 * Waits for a `backup` job to end (the workers run it) and returns its outcome; a job no longer
 * in the queue (pruned) counts as Failed.
 */
export async function waitForBackupJob(queue: JobQueue, jobId: number, pollMs = 1_000): Promise<{ runId: string | null; status: RunStatus; job: Job | undefined }> {
  for (;;) {
    const job = await queue.get(jobId);
    if (!job) return { runId: null, status: 'Failed', job };
    const outcome = backupJobOutcome(job);
    if (outcome) return { ...outcome, job };
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/** A log line's name for a job of the distributed backup. */
export function describeBackupJob(job: Job): string {
  if (job.kind === BACKUP_JOB) return `backup of ${String(job.payload.orgName)}`;
  const task = job.payload as unknown as ObjectTaskPayload;
  const size = task.planned?.quiet ? 'quiet' : task.planned?.expected != null ? `~${task.planned.expected} records` : 'size unknown';
  return `${BACKUP_OBJECT_JOB} ${task.planned?.name} of ${task.orgName} (run ${String(task.runId).slice(0, 8)}, ${size})`;
}

/**
 * Runs a `backup` job: the run's coordinator. Resolves with the run's outcome once every object is
 * captured and the run recorded; throws ReleaseJob to give the job back (stopping, or a dead
 * coordinator's lock not yet stale).
 */
export async function coordinateBackup(deps: DistributedBackupDeps, context: JobRunContext): Promise<{ result: JobData; summary: string }> {
  const { store, queue } = deps;
  const now = deps.now ?? Date.now;
  const job = context.lease.job;
  const payload = backupPayload(job);
  const org = await requireOrg(store, payload.orgName, payload.orgId);
  const request: BackupRequest = {
    org,
    settings: resolveSettings(storedSettings(org), payload.overrides ?? {}),
    objects: payload.objects,
    reconcile: payload.reconcile,
    startedBy: payload.startedBy,
    baseline: payload.baseline,
    metadata: payload.metadata,
  };
  const emit = (event: BackupEvent): void => deps.onEvent?.(org, event);
  const saved = job.progress as CoordinatorProgress | null;
  const runId = saved?.runId ?? payload.runId ?? randomUUID();
  const lockStaleMs = deps.lockStaleMs ?? BACKUP_LOCK_STALE_MS;

  let lock;
  try {
    lock = await store.acquireOrgLock(org.orgId, `backup ${runId} (worker ${context.workerId}, pid ${process.pid} on ${hostname()})`, { staleAfterMs: lockStaleMs });
  } catch (error) {
    if (!(error instanceof LockHeldError)) throw error;
    // Taking over a run whose coordinator died: its lock goes stale soon; try again then.
    if (saved) throw new ReleaseJob(`the org lock is still held by ${error.holder}; taken over once it is stale.`, Math.ceil(lockStaleMs / 2));
    const message = `Skipped: another backup of ${org.name} is running (${error.holder}, since ${new Date(error.since).toISOString()}).`;
    await store.createRun({ ...backupRunRecord(request, runId, now()), status: 'Skipped', endedAt: now(), message });
    return { result: { runId, status: 'Skipped' }, summary: message };
  }

  const client = await deps.connect(org);
  const backupDeps: BackupDeps = { store, blobs: deps.blobs, client, now, onEvent: emit };
  const events: NotificationEvent[] = [];
  const run: Run = (saved && (await store.getRun(runId))) || backupRunRecord(request, runId, now());
  const about = { orgName: org.name, orgId: org.orgId, runId, at: run.startedAt };
  try {
    const statusBefore = deps.notifier ? await orgStatusNow(store, org.orgId) : null;
    await failInterruptedRuns(store, org.orgId, now(), runId);
    if (!(await store.getRun(runId))) await store.createRun(run);
    if (!saved) await queue.heartbeat(context.lease, { runId } satisfies CoordinatorProgress as unknown as JobData);

    let plan = saved?.plan;
    let bulk = saved?.bulk;
    let planningBudget: Budget | undefined;
    if (!plan || !bulk) {
      const planned = await planBackup(backupDeps, request, runId, emit, now);
      plan = planned.plan;
      planningBudget = planned.budget;
      bulk = shareBulkJobs(plan, request.settings);
      await queue.heartbeat(context.lease, { runId, plan, bulk } satisfies CoordinatorProgress as unknown as JobData);
    }
    // Enqueued again on a takeover: the tasks are named by object within the run, so a task
    // already enqueued (done or not) is not added twice.
    for (const planned of plan.capture) {
      const task: ObjectTaskPayload = {
        runId,
        orgName: org.name,
        orgId: org.orgId,
        planned,
        bulkAllowed: bulk.includes(planned.name),
        budget: plan.budget,
        settings: request.settings,
        reconcile: request.reconcile,
        baseline: request.baseline,
      };
      await queue.enqueue({ kind: BACKUP_OBJECT_JOB, payload: task as unknown as JobData, group: runId, name: planned.name, priority: planned.expected ?? 0, maxAttempts: MAX_ATTEMPTS });
    }

    await waitForTasks(deps, context, runId);

    const objects: BackupObjectResult[] = [...plan.skipped];
    const messages = new Map((await store.listObjectRuns(runId)).map((o) => [o.objectName, o.message]));
    let apiCalls = client.usage().calls;
    let bulkQueryJobs = client.usage().bulkQueryJobs;
    let budgetReason = planningBudget?.reason ?? null;
    const tasks = await queue.list({ kinds: [BACKUP_OBJECT_JOB], group: runId, limit: 1_000_000 });
    for (const task of tasks) {
      const planned = (task.payload as unknown as ObjectTaskPayload).planned;
      if (task.state === 'done' && task.result) {
        const done = task.result as unknown as ObjectTaskResult;
        objects.push({ ...done.object, message: messages.get(done.object.name) ?? null });
        apiCalls += done.object.apiCalls;
        bulkQueryJobs += done.bulkQueryJobs;
        budgetReason ??= done.budgetStop;
      } else {
        objects.push(await recordDeadTask(backupDeps, org, runId, planned.name, task));
      }
    }
    let result: BackupResult = summarizeRun(runId, objects, budgetReason, { apiCalls, bulkQueryJobs });
    const budget = Budget.of(client, plan.budget, request.settings.concurrency);
    result = await finishBackupRun(backupDeps, request, run, result, () => budgetReason === null && budget.mayContinue(), emit, now);
    if (statusBefore !== null) events.push(...(await backupEvents(store, { ...about, at: now() }, result, statusBefore).catch(() => [])));
    const c = result.counters;
    return {
      result: { runId, status: result.status },
      summary: `run ${runId} ${result.status}: ${c.objects ?? 0} objects, ${c.records ?? 0} records read, ${c.versions ?? 0} new versions, ${result.apiCalls} API calls.${result.message ? ` ${result.message}` : ''}`,
    };
  } catch (error) {
    // Another attempt resumes the run; only the last one records it as Failed.
    const last = job.attempts >= job.maxAttempts || error instanceof PermanentJobError;
    if (last && !(error instanceof ReleaseJob) && !context.signal.aborted) {
      const message = error instanceof Error ? error.message : String(error);
      await store.updateRun(runId, { status: 'Failed', endedAt: now(), message, counters: { apiCalls: client.usage().calls } }).catch(() => undefined);
      events.push(jobFailedEvent({ ...about, at: now() }, message));
    }
    throw error;
  } finally {
    await lock.release();
    const notifier = deps.notifier;
    if (notifier) for (const event of events) await notifier.notify(event).catch(() => undefined);
  }
}

/**
 * Waits until no task of the run is queued or running, capturing the run's own tasks meanwhile.
 * Claiming also reclaims expired leases, so a task whose worker died is taken over here too.
 */
async function waitForTasks(deps: DistributedBackupDeps, context: JobRunContext, runId: string): Promise<void> {
  const pollMs = deps.pollMs ?? 1_000;
  for (;;) {
    if (context.stopping()) throw new ReleaseJob('the worker is stopping; another worker resumes the run.');
    if (context.signal.aborted) throw new LeaseLostError(context.lease.job.jobId);
    const counts = await context.queue.groupCounts(runId);
    if (counts.queued + counts.running === 0) return;
    const task = await context.queue.claim(context.workerId, [BACKUP_OBJECT_JOB], { group: runId, leaseMs: context.leaseMs });
    if (task) await context.runClaimed(task);
    else await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/** A task that failed on every attempt: its object is recorded in Error with the last error. */
async function recordDeadTask(deps: BackupDeps, org: OrgRegistration, runId: string, name: string, task: Job): Promise<BackupObjectResult> {
  const message = `The capture failed on each of its ${task.attempts} attempt(s) on the workers; the next run resumes from its last stored page. Last error: ${task.lastError ?? 'unknown'}`;
  const state = await deps.store.getObjectState(org.orgId, name);
  await finishObject(deps, org.orgId, runId, state, name, {
    status: 'Error',
    statusCode: 'WORKER_FAILED',
    message,
    counters: {},
    details: state?.details ?? {},
    backfilledAt: state?.backfilledAt ?? null,
    lastBackupAt: state?.lastBackupAt ?? null,
  });
  return { name, status: 'Error', statusCode: 'WORKER_FAILED', message, records: 0, versions: 0, files: 0, deletes: 0, apiCalls: 0, api: null };
}

/** The org's Bulk API 2.0 query jobs left today, given to the largest objects that reach the Bulk threshold. */
function shareBulkJobs(plan: BackupPlan, settings: BackupSettings): string[] {
  let left = plan.bulkJobsLeft ?? Number.POSITIVE_INFINITY;
  const allowed: string[] = [];
  for (const planned of plan.capture) {
    if (left < 1) break;
    if (planned.quiet || planned.expected === null || planned.expected < settings.bulkThreshold) continue;
    allowed.push(planned.name);
    left--;
  }
  return allowed;
}

/**
 * Runs a `backup-object` task: captures one object of a run with runBackup's `backupObject`,
 * from the object's state as it is now (a retried task resumes at the stored watermark).
 */
export async function captureObjectTask(deps: DistributedBackupDeps, context: JobRunContext, clientFor: (org: OrgRegistration) => Promise<OrgClient>): Promise<{ result: JobData; summary: string }> {
  const now = deps.now ?? Date.now;
  const task = context.lease.job.payload as unknown as ObjectTaskPayload;
  const org = await requireOrg(deps.store, task.orgName, task.orgId);
  const run = await deps.store.getRun(task.runId);
  if (run?.status !== 'Running') {
    // The run ended without this object (its coordinator gave up): nothing to add to it.
    return { result: { abandoned: true }, summary: `skipped: run ${task.runId} is ${run?.status ?? 'gone'}.` };
  }
  const client = (await clientFor(org)).scoped();
  const request: BackupRequest = { org, settings: resolveSettings(task.settings as unknown as Record<string, unknown>), reconcile: task.reconcile, baseline: task.baseline };
  const budget = Budget.of(client, task.budget, request.settings.concurrency);
  const state = await deps.store.getObjectState(org.orgId, task.planned.name);
  const emit = (event: BackupEvent): void => deps.onEvent?.(org, event);
  const object = await backupObject({ store: deps.store, blobs: deps.blobs, client, now }, request, task.runId, task.planned, state, budget, { value: task.bulkAllowed ? 1 : 0 }, emit, now);
  const { message, ...rest } = object;
  const result: ObjectTaskResult = { object: rest, bulkQueryJobs: client.usage().bulkQueryJobs, budgetStop: budget.reason };
  return {
    result: result as unknown as JobData,
    summary: `${object.status}${object.statusCode ? ` ${object.statusCode}` : ''}, ${object.records} records read, ${object.versions} new versions, ${object.apiCalls} API calls${object.api ? ` (${object.api})` : ''}${message && object.statusCode ? `: ${message}` : ''}.`,
  };
}

async function requireOrg(store: OrgCatalog, name: string, orgId: string): Promise<OrgRegistration> {
  const org = await store.getOrg(name);
  if (!org || org.orgId !== orgId) throw new PermanentJobError(`The org ${name} (${orgId}) is no longer registered in the vault; its backup was dropped.`);
  return org;
}
