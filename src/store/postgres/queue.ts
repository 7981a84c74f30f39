/**
 * The work queue (../queue.ts) in the vault's PostgreSQL database, table `work_queue`
 * (migration 12). Any number of workers on any number of machines share it.
 *
 * Concurrency, statement by statement:
 * - claim is one `UPDATE … WHERE job_id = (SELECT … FOR UPDATE SKIP LOCKED LIMIT 1) RETURNING`:
 *   the inner select locks the row it picks and skips rows other claimers hold, so two claimers
 *   never get the same job and never wait on each other; the row lock lasts until the update
 *   commits, and the update is the same statement, so nothing can change the row in between.
 * - Every change a holder makes (heartbeat, complete, fail, release) matches on the lease's
 *   random token and `state = 'running'`: a worker whose lease was reclaimed and given to another
 *   changes nothing and learns so (LeaseLostError), even if it wakes up much later.
 * - reclaimExpired picks expired leases with `FOR UPDATE SKIP LOCKED`, and READ COMMITTED
 *   re-checks `lease_until < now` on the row's newest version once locked: a heartbeat that
 *   committed first keeps its job.
 * - enqueue is `INSERT … ON CONFLICT DO NOTHING` against the two partial unique indexes (a live
 *   dedupe key; a group's name for ever), then reads the job that won.
 * Times are the database's clock (`clock_timestamp()`), so machines with skewed clocks agree on
 * when a lease expires.
 */
import { randomUUID } from 'node:crypto';
import { DEFAULT_BACKOFF, LeaseLostError, backoffDelay } from '../queue.ts';
import type { Backoff, ClaimOptions, EnqueueRequest, FailOptions, Job, JobData, JobQueue, JobState, Lease } from '../queue.ts';
import { PgConnections } from './connection.ts';

const NOW = `(extract(epoch from clock_timestamp()) * 1000)::bigint`;
const DEFAULT_LEASE_MS = 60_000;
const DEFAULT_MAX_ATTEMPTS = 5;
/** An error message kept on a job is cut here: it is for an operator to read, not a log. */
const MAX_ERROR_CHARS = 2000;

interface JobRow {
  job_id: number;
  kind: string;
  payload: JobData;
  dedupe_key: string | null;
  group_key: string | null;
  unique_name: string | null;
  priority: number;
  state: JobState;
  attempts: number;
  max_attempts: number;
  run_after: number;
  worker: string | null;
  lease_token: string | null;
  lease_until: number | null;
  heartbeat_at: number | null;
  progress: JobData | null;
  result: JobData | null;
  last_error: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
}

export interface PostgresJobQueueOptions {
  /** Delays between failed attempts (default 5 s doubling to 10 min). */
  backoff?: Backoff;
}

/** The queue on an open PostgreSQL catalog; `close` leaves the connections to their owner. */
export function createPostgresJobQueue(conns: PgConnections, options: PostgresJobQueueOptions = {}): JobQueue {
  return new PostgresJobQueue(conns, options.backoff ?? DEFAULT_BACKOFF, false);
}

/**
 * Opens the queue in the database and schema of a `postgres://` URL (the vault's store URL),
 * creating or migrating the catalog schema there as any opening of the store does.
 */
export async function openPostgresJobQueue(url: string, options: PostgresJobQueueOptions = {}): Promise<JobQueue> {
  const conns = await PgConnections.open(url, { maxConnections: 4 });
  return new PostgresJobQueue(conns, options.backoff ?? DEFAULT_BACKOFF, true);
}

class PostgresJobQueue implements JobQueue {
  constructor(
    private readonly conns: PgConnections,
    private readonly backoff: Backoff,
    private readonly owned: boolean,
  ) {}

  async enqueue(request: EnqueueRequest): Promise<{ job: Job; created: boolean }> {
    // A conflicting live job may finish between the insert and the read: then insert again.
    for (let attempt = 0; attempt < 5; attempt++) {
      const inserted = await this.conns.query<JobRow>(
        `INSERT INTO work_queue (kind, payload, dedupe_key, group_key, unique_name, priority, state, max_attempts, run_after, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'queued', $7, ${NOW} + $8, ${NOW})
         ON CONFLICT DO NOTHING RETURNING *`,
        [request.kind, JSON.stringify(request.payload), request.dedupeKey ?? null, request.group ?? null, request.name ?? null, request.priority ?? 0, request.maxAttempts ?? DEFAULT_MAX_ATTEMPTS, Math.max(0, request.delayMs ?? 0)],
      );
      if (inserted[0]) return { job: toJob(inserted[0]), created: true };
      const existing = await this.conns.query<JobRow>(
        `SELECT * FROM work_queue
         WHERE ($1::text IS NOT NULL AND dedupe_key = $1 AND state IN ('queued', 'running'))
            OR ($2::text IS NOT NULL AND kind = $3 AND coalesce(group_key, '') = coalesce($4, '') AND unique_name = $2)
         ORDER BY job_id DESC LIMIT 1`,
        [request.dedupeKey ?? null, request.name ?? null, request.kind, request.group ?? null],
      );
      if (existing[0]) return { job: toJob(existing[0]), created: false };
    }
    throw new Error(`Could not enqueue the ${request.kind} job: its dedupe key kept conflicting with jobs that finished at once.`);
  }

  async claim(worker: string, kinds: readonly string[], options: ClaimOptions = {}): Promise<Lease | null> {
    await this.reclaimExpired();
    const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    const token = randomUUID();
    const rows = await this.conns.query<JobRow>(
      `UPDATE work_queue q
       SET state = 'running', worker = $1, lease_token = $2, attempts = q.attempts + 1,
           lease_until = ${NOW} + $3, heartbeat_at = ${NOW}, started_at = coalesce(q.started_at, ${NOW})
       WHERE q.job_id = (
         SELECT job_id FROM work_queue
         WHERE state = 'queued' AND kind = ANY($4::text[]) AND run_after <= ${NOW} AND ($5::text IS NULL OR group_key = $5)
         ORDER BY priority DESC, job_id
         FOR UPDATE SKIP LOCKED
         LIMIT 1)
       RETURNING q.*`,
      [worker, token, leaseMs, [...kinds], options.group ?? null],
    );
    return rows[0] ? { job: toJob(rows[0]), token, leaseMs } : null;
  }

  async heartbeat(lease: Lease, progress?: JobData): Promise<void> {
    const rows = await this.conns.query<JobRow>(
      `UPDATE work_queue SET lease_until = ${NOW} + $3, heartbeat_at = ${NOW}, progress = coalesce($4::jsonb, progress)
       WHERE job_id = $1 AND lease_token = $2 AND state = 'running' RETURNING *`,
      [lease.job.jobId, lease.token, lease.leaseMs, progress === undefined ? null : JSON.stringify(progress)],
    );
    if (!rows[0]) throw new LeaseLostError(lease.job.jobId);
    lease.job = toJob(rows[0]);
  }

  async complete(lease: Lease, result?: JobData): Promise<void> {
    const rows = await this.conns.query<JobRow>(
      `UPDATE work_queue SET state = 'done', result = $3, finished_at = ${NOW}, lease_token = NULL, lease_until = NULL, last_error = NULL
       WHERE job_id = $1 AND lease_token = $2 AND state = 'running' RETURNING job_id`,
      [lease.job.jobId, lease.token, result === undefined ? null : JSON.stringify(result)],
    );
    if (!rows[0]) throw new LeaseLostError(lease.job.jobId);
  }

  async fail(lease: Lease, error: string, options: FailOptions = {}): Promise<Job> {
    const retry = options.retry ?? true;
    const rows = await this.conns.query<JobRow>(
      `UPDATE work_queue
       SET state = CASE WHEN $3 AND attempts < max_attempts THEN 'queued' ELSE 'dead' END,
           run_after = ${NOW} + $4,
           finished_at = CASE WHEN $3 AND attempts < max_attempts THEN NULL ELSE ${NOW} END,
           last_error = $5, lease_token = NULL, lease_until = NULL
       WHERE job_id = $1 AND lease_token = $2 AND state = 'running' RETURNING *`,
      [lease.job.jobId, lease.token, retry, backoffDelay(this.backoff, lease.job.attempts), error.slice(0, MAX_ERROR_CHARS)],
    );
    if (!rows[0]) throw new LeaseLostError(lease.job.jobId);
    return toJob(rows[0]);
  }

  async release(lease: Lease, options: { delayMs?: number } = {}): Promise<void> {
    const rows = await this.conns.query<JobRow>(
      `UPDATE work_queue SET state = 'queued', attempts = greatest(attempts - 1, 0), run_after = ${NOW} + $3, lease_token = NULL, lease_until = NULL
       WHERE job_id = $1 AND lease_token = $2 AND state = 'running' RETURNING job_id`,
      [lease.job.jobId, lease.token, Math.max(0, options.delayMs ?? 0)],
    );
    if (!rows[0]) throw new LeaseLostError(lease.job.jobId);
  }

  async reclaimExpired(): Promise<number> {
    const rows = await this.conns.query<{ job_id: number }>(
      `UPDATE work_queue
       SET state = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'queued' END,
           finished_at = CASE WHEN attempts >= max_attempts THEN ${NOW} ELSE NULL END,
           last_error = 'The lease of worker ' || coalesce(worker, '?') || ' expired during attempt ' || attempts || ' (it stopped heartbeating: killed, hung or cut off).',
           run_after = ${NOW}, lease_token = NULL, lease_until = NULL
       WHERE job_id IN (SELECT job_id FROM work_queue WHERE state = 'running' AND lease_until < ${NOW} FOR UPDATE SKIP LOCKED)
       RETURNING job_id`,
    );
    return rows.length;
  }

  async get(jobId: number): Promise<Job | undefined> {
    const rows = await this.conns.query<JobRow>('SELECT * FROM work_queue WHERE job_id = $1', [jobId]);
    return rows[0] ? toJob(rows[0]) : undefined;
  }

  async list(filter: { kinds?: readonly string[]; states?: readonly JobState[]; group?: string; limit?: number } = {}): Promise<Job[]> {
    const rows = await this.conns.query<JobRow>(
      `SELECT * FROM work_queue
       WHERE ($1::text[] IS NULL OR kind = ANY($1)) AND ($2::text[] IS NULL OR state = ANY($2)) AND ($3::text IS NULL OR group_key = $3)
       ORDER BY job_id DESC LIMIT $4`,
      [filter.kinds ? [...filter.kinds] : null, filter.states ? [...filter.states] : null, filter.group ?? null, filter.limit ?? 1000],
    );
    return rows.map(toJob);
  }

  async groupCounts(group: string): Promise<Record<JobState, number>> {
    const rows = await this.conns.query<{ state: JobState; n: number }>('SELECT state, count(*)::bigint AS n FROM work_queue WHERE group_key = $1 GROUP BY state', [group]);
    const counts: Record<JobState, number> = { queued: 0, running: 0, done: 0, dead: 0 };
    for (const row of rows) counts[row.state] = row.n;
    return counts;
  }

  async prune(olderThanMs: number): Promise<number> {
    const rows = await this.conns.query<{ job_id: number }>(`DELETE FROM work_queue WHERE state IN ('done', 'dead') AND finished_at < ${NOW} - $1 RETURNING job_id`, [olderThanMs]);
    return rows.length;
  }

  async close(): Promise<void> {
    if (this.owned) await this.conns.close();
  }
}

function toJob(row: JobRow): Job {
  return {
    jobId: row.job_id,
    kind: row.kind,
    payload: row.payload,
    dedupeKey: row.dedupe_key,
    group: row.group_key,
    name: row.unique_name,
    priority: row.priority,
    state: row.state,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    runAfter: row.run_after,
    worker: row.worker,
    leaseUntil: row.lease_until,
    heartbeatAt: row.heartbeat_at,
    progress: row.progress,
    result: row.result,
    lastError: row.last_error,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}
