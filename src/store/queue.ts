/**
 * The work queue port: jobs that `orgvault worker` processes on any number of machines pull and
 * run. A job is claimed with a lease (a deadline the holder pushes forward with heartbeats); a
 * holder that dies stops heartbeating, its lease expires and the job becomes claimable again,
 * the lost attempt counted. A job that fails is retried after an exponential backoff up to its
 * attempts, then kept as `dead` with its last error for an operator to read.
 *
 * Use cases depend on this interface only; the adapter is src/store/postgres/queue.ts (the
 * vault's PostgreSQL database). SQLite vaults have no queue: they run backups in-process.
 */
import { OrgvaultError } from '../core/errors.ts';

export type JobState = 'queued' | 'running' | 'done' | 'dead';

/** JSON a job carries: names, IDs, counts and options, never field values. */
export type JobData = Record<string, unknown>;

export interface EnqueueRequest {
  kind: string;
  payload: JobData;
  /**
   * At most one live (queued or running) job has this key: enqueueing another returns the live
   * one (`created: false`). One backup per org is `backup:<orgId>`.
   */
  dedupeKey?: string;
  /** Groups jobs (the tasks of one backup run), for `claim` and `list`. */
  group?: string;
  /**
   * Unique for ever within its kind and group: a job enqueued again under the same group and
   * name is the same job, whatever its state (a task per object of a run is enqueued once).
   */
  name?: string;
  /** Higher first; equal priorities in enqueue order. */
  priority?: number;
  /** Attempts before the job is dead (default 5). */
  maxAttempts?: number;
  /** Not claimable before this many milliseconds from now. */
  delayMs?: number;
}

export interface Job {
  jobId: number;
  kind: string;
  payload: JobData;
  dedupeKey: string | null;
  group: string | null;
  name: string | null;
  priority: number;
  state: JobState;
  /** Attempts started so far, the current one included. */
  attempts: number;
  maxAttempts: number;
  /** When it may next be claimed (queued), epoch ms of the database's clock. */
  runAfter: number;
  /** The worker holding it (running), or the last one that held it. */
  worker: string | null;
  leaseUntil: number | null;
  heartbeatAt: number | null;
  /** What the holder saved along the way, so that the next holder resumes (a coordinator's run and plan). */
  progress: JobData | null;
  result: JobData | null;
  lastError: string | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
}

/** A claimed job: what its holder heartbeats, completes, fails or releases. */
export interface Lease {
  job: Job;
  /** Proves the holder: a lease taken over by another worker no longer matches. */
  token: string;
  /** How long each heartbeat extends the lease. */
  leaseMs: number;
}

export interface ClaimOptions {
  /** Only jobs of this group. */
  group?: string;
  /** How long the lease lasts without a heartbeat (default 60 s). */
  leaseMs?: number;
}

export interface FailOptions {
  /** False: dead at once (an error retrying cannot fix). Default true. */
  retry?: boolean;
}

export interface JobQueue {
  /** Adds a job, or returns the live job with the same dedupe key, or the job with the same group and name. */
  enqueue(request: EnqueueRequest): Promise<{ job: Job; created: boolean }>;
  /**
   * Takes the next claimable job of these kinds (queued and due, highest priority first), or
   * null. Expired leases are reclaimed first. Two claimers never get the same job.
   */
  claim(worker: string, kinds: readonly string[], options?: ClaimOptions): Promise<Lease | null>;
  /**
   * Extends the lease (and saves `progress` when given). Throws LeaseLostError when the lease
   * expired and another worker took the job, or it was finished.
   */
  heartbeat(lease: Lease, progress?: JobData): Promise<void>;
  /** Done, with its result. Throws LeaseLostError as heartbeat does. */
  complete(lease: Lease, result?: JobData): Promise<void>;
  /**
   * The attempt failed: queued again after `backoff(attempts)`, or dead once its attempts are
   * spent (or `retry: false`). Returns the job as it now is. Throws LeaseLostError as heartbeat does.
   */
  fail(lease: Lease, error: string, options?: FailOptions): Promise<Job>;
  /**
   * Gives the job back unfinished without counting the attempt (a worker stopping, a lock held
   * elsewhere): claimable again after `delayMs` (default at once).
   */
  release(lease: Lease, options?: { delayMs?: number }): Promise<void>;
  /** Leases past their deadline: the job queued again (its attempt counted) or dead when spent. Returns how many. */
  reclaimExpired(): Promise<number>;
  get(jobId: number): Promise<Job | undefined>;
  /** Newest first. */
  list(filter?: { kinds?: readonly string[]; states?: readonly JobState[]; group?: string; limit?: number }): Promise<Job[]>;
  /** How many jobs of a group are in each state. */
  groupCounts(group: string): Promise<Record<JobState, number>>;
  /** Deletes finished (done, dead) jobs that ended more than `olderThanMs` ago. Returns how many. */
  prune(olderThanMs: number): Promise<number>;
  close(): Promise<void>;
}

/** Retry delays: `baseMs · 2^(attempt−1)`, at most `maxMs`. */
/** What a job's handler is given by the worker that claimed it. */
export interface JobRunContext {
  queue: JobQueue;
  lease: Lease;
  workerId: string;
  /** Aborted when the lease is lost (another worker took the job) or the worker is stopping. */
  signal: AbortSignal;
  /** True once the worker is stopping: finish soon, or throw ReleaseJob. */
  stopping(): boolean;
  /** Runs another claimed job in this slot, heartbeated and finished as any (a coordinator helping with its own tasks). */
  runClaimed(lease: Lease): Promise<void>;
  leaseMs: number;
}

export interface Backoff {
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { baseMs: 5_000, maxMs: 10 * 60_000 };

/** The delay before attempt `attempts + 1`, after `attempts` failed. */
export function backoffDelay(backoff: Backoff, attempts: number): number {
  return Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.max(0, attempts - 1));
}

/** The lease was taken over by another worker (it expired) or the job was finished: stop working on it. */
export class LeaseLostError extends OrgvaultError {
  constructor(readonly jobId: number) {
    super('LEASE_LOST', `Job ${jobId} is no longer held by this worker (its lease expired and another worker took it, or it was finished).`);
  }
}

/** Thrown by a job's handler: give the job back unfinished, without counting the attempt, claimable after `delayMs`. */
export class ReleaseJob extends Error {
  constructor(
    readonly reason: string,
    readonly delayMs = 0,
  ) {
    super(reason);
  }
}

/** Thrown by a job's handler: an error retrying cannot fix, so the job is dead at once. */
export class PermanentJobError extends Error {}
