/**
 * The pull loop of `orgvault worker`: a few slots, each claiming a job from the queue, running
 * its handler while a timer heartbeats the lease, then completing it, or failing it (retried
 * with backoff, dead once its attempts are spent). A worker killed anywhere loses nothing: its
 * leases expire and other workers take the jobs over; the handlers resume from what is stored.
 *
 * Stopping (`stop()`) claims nothing more and lets the running jobs end: a handler asked to stop
 * may instead give its job back (`ReleaseJob`), claimable at once by another worker.
 */
import { LeaseLostError, PermanentJobError, ReleaseJob } from '../store/queue.ts';
import type { Job, JobData, JobQueue, JobRunContext, Lease } from '../store/queue.ts';

/** A handler's context, with the worker's log. */
export interface JobContext extends JobRunContext {
  log(line: string): void;
}

export interface JobOutcomeLine {
  /** Kept on the job (`result`): names, IDs and counts, never field values. */
  result?: JobData;
  /** The worker's log line for the job's end. */
  summary: string;
}

export interface JobHandler {
  /** How the log names a job: "backup-object Account (run 1b2c…)". */
  describe(job: Job): string;
  run(context: JobContext): Promise<JobOutcomeLine>;
}

export interface WorkerOptions {
  queue: JobQueue;
  workerId: string;
  handlers: Record<string, JobHandler>;
  /** Jobs run side by side (default 2). */
  concurrency?: number;
  /** A lease lasts this long without a heartbeat; heartbeats come three times as often (default 60 s). */
  leaseMs?: number;
  /** How long an idle slot waits before asking again (default 1 s, with jitter). */
  pollMs?: number;
  log?: (line: string) => void;
}

export class QueueWorker {
  private readonly stopController = new AbortController();
  private slots: Promise<void>[] = [];
  private readonly log: (line: string) => void;
  readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly kinds: string[];

  constructor(private readonly options: WorkerOptions) {
    this.log = options.log ?? (() => undefined);
    this.leaseMs = options.leaseMs ?? 60_000;
    this.pollMs = options.pollMs ?? 1_000;
    this.kinds = Object.keys(options.handlers);
  }

  /** Starts the slots; resolves at once. */
  start(): void {
    const concurrency = Math.max(1, this.options.concurrency ?? 2);
    this.slots = Array.from({ length: concurrency }, (_, i) => this.slot(i));
  }

  /** Claims nothing more and waits for the running jobs to end (or be given back). */
  async stop(): Promise<void> {
    this.stopController.abort();
    await Promise.all(this.slots);
  }

  private get stopping(): boolean {
    return this.stopController.signal.aborted;
  }

  private async slot(index: number): Promise<void> {
    // Slots start apart, so that several workers started together do not poll in step.
    await sleep(Math.floor(Math.random() * this.pollMs * 0.5) + index * 50, this.stopController.signal);
    while (!this.stopping) {
      let lease: Lease | null = null;
      try {
        lease = await this.options.queue.claim(this.options.workerId, this.kinds, { leaseMs: this.leaseMs });
      } catch (error) {
        this.log(`worker ${this.options.workerId}: cannot reach the queue (${messageOf(error)}); trying again.`);
      }
      if (lease) await this.runLeased(lease);
      else await sleep(this.pollMs * (0.75 + Math.random() * 0.5), this.stopController.signal);
    }
  }

  /** Runs one claimed job to its end: completed, failed, given back, or lost to another worker. */
  async runLeased(lease: Lease): Promise<void> {
    const { queue, workerId } = this.options;
    const handler = this.options.handlers[lease.job.kind];
    const name = handler ? handler.describe(lease.job) : `${lease.job.kind} job ${lease.job.jobId}`;
    const attempt = `attempt ${lease.job.attempts} of ${lease.job.maxAttempts}`;
    const started = Date.now();
    const lost = new AbortController();
    const signal = AbortSignal.any([lost.signal, this.stopController.signal]);
    const beat = setInterval(() => {
      queue.heartbeat(lease).catch((error: unknown) => {
        if (error instanceof LeaseLostError) lost.abort();
        // A heartbeat that cannot reach the database is tried again at the next tick; the lease
        // is long enough for a few to fail.
      });
    }, Math.max(20, Math.floor(this.leaseMs / 3)));
    this.log(`worker ${workerId}: started ${name} (${attempt}).`);
    try {
      if (!handler) throw new PermanentJobError(`No handler for jobs of kind ${lease.job.kind} in this worker.`);
      const outcome = await handler.run({
        queue,
        lease,
        workerId,
        signal,
        stopping: () => this.stopping,
        runClaimed: (other) => this.runLeased(other),
        leaseMs: this.leaseMs,
        log: this.log,
      });
      if (lost.signal.aborted) throw new LeaseLostError(lease.job.jobId);
      await queue.complete(lease, outcome.result);
      this.log(`worker ${workerId}: finished ${name} in ${seconds(started)}: ${outcome.summary}`);
    } catch (error) {
      await this.settle(lease, name, started, error);
    } finally {
      clearInterval(beat);
    }
  }

  private async settle(lease: Lease, name: string, started: number, error: unknown): Promise<void> {
    const { queue, workerId } = this.options;
    try {
      if (error instanceof LeaseLostError) {
        this.log(`worker ${workerId}: lost ${name} after ${seconds(started)}: its lease expired and another worker took it over.`);
      } else if (error instanceof ReleaseJob) {
        await queue.release(lease, { delayMs: error.delayMs });
        this.log(`worker ${workerId}: gave back ${name} after ${seconds(started)}: ${error.reason}`);
      } else {
        const job = await queue.fail(lease, messageOf(error), { retry: !(error instanceof PermanentJobError) });
        this.log(
          job.state === 'dead'
            ? `worker ${workerId}: ${name} failed on attempt ${job.attempts} of ${job.maxAttempts} and will not be retried: ${messageOf(error)}`
            : `worker ${workerId}: ${name} failed on attempt ${job.attempts} of ${job.maxAttempts}, retried after ${Math.round((job.runAfter - Date.now()) / 1000)} s: ${messageOf(error)}`,
        );
      }
    } catch (settleError) {
      // Lost meanwhile, or the queue unreachable: the lease expires and the job is taken over.
      this.log(`worker ${workerId}: could not record the end of ${name} (${messageOf(settleError)}); its lease will expire and another worker will take it over.`);
    }
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function seconds(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
