/**
 * `orgvault queue [--state S,…] [--limit N]`: the work queue as the workers see it: backups and
 * their object captures queued, running (on which worker, heartbeat), finished and dead (every
 * attempt failed, with the last error), newest first. For the operator of `orgvault worker`
 * processes: is anything waiting with no worker to take it, which worker holds what, what failed.
 */
import type { Command } from 'commander';
import { BACKUP_JOB, backupJobRunId, describeBackupJob } from '../../backup/index.ts';
import { UsageError } from '../../core/errors.ts';
import type { Job, JobState } from '../../store/queue.ts';
import { table } from '../format.ts';
import { listOption } from '../option-lists.ts';
import { QUEUE_OPTION, openVaultQueue } from '../queue-option.ts';
import { globalOptions, printResult } from '../vault-options.ts';
import { withVault } from '../vault-session.ts';

const STATES: readonly JobState[] = ['queued', 'running', 'done', 'dead'];

interface QueueFlags {
  state?: string[];
  limit: string;
  queue?: string;
}

export function registerQueueCommand(program: Command): void {
  program
    .command('queue')
    .description("the work queue's jobs (a PostgreSQL vault, or --queue): backups and object captures queued, running, done and dead, with workers, attempts and last errors")
    .option('--state <states>', `only jobs in these states (${STATES.join(', ')}), comma-separated or repeated`, listOption)
    .option('--limit <n>', 'how many jobs, newest first', '50')
    .option(...QUEUE_OPTION)
    .action(async (flags: QueueFlags, command: Command) => {
      const limit = Number(flags.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new UsageError(`--limit ${flags.limit} is not a whole number from 1 to 10000.`);
      const states = flags.state;
      const wrong = states?.find((s) => !(STATES as readonly string[]).includes(s));
      if (wrong !== undefined || states?.length === 0) throw new UsageError(`--state ${wrong ?? ''}: not a job state; give one or more of ${STATES.join(', ')}, comma-separated.`);
      const options = globalOptions(command);
      await withVault(
        command,
        async (vault) => {
          const queue = await openVaultQueue(vault, flags.queue);
          if (!queue) {
            throw new UsageError('This vault keeps its catalog in SQLite and has no work queue: its backups run where they are started, and `orgvault logs` lists them. Name a queue with --queue postgres://… (or ORGVAULT_QUEUE).');
          }
          try {
            const jobs = await queue.list({ states: states as JobState[] | undefined, limit });
            const now = Date.now();
            printResult(options, { jobs: jobs.map(jobView) }, () =>
              jobs.length === 0
                ? [states ? `No ${states.join(' or ')} jobs.` : 'The queue is empty: no backup was enqueued yet, or finished jobs were pruned (after 14 days).']
                : [
                    ...table(
                      ['Job', 'State', 'What', 'Attempts', 'Worker', 'Enqueued', 'Last error'],
                      jobs.map((job) => [String(job.jobId), stateLine(job, now), describeBackupJob(job), `${job.attempts}/${job.maxAttempts}`, job.worker ?? '', new Date(job.createdAt).toISOString(), job.lastError ?? '']),
                    ),
                    ...hints(jobs, now),
                  ],
            );
          } finally {
            await queue.close();
          }
        },
        { readonly: true },
      );
    });
}

/** What `--json` prints of a job: its state and bookkeeping, and the run it belongs to; never its full payload. */
function jobView(job: Job) {
  return {
    jobId: job.jobId,
    kind: job.kind,
    state: job.state,
    description: describeBackupJob(job),
    runId: job.kind === BACKUP_JOB ? backupJobRunId(job) : job.group,
    org: typeof job.payload.orgName === 'string' ? job.payload.orgName : null,
    attempts: job.attempts,
    maxAttempts: job.maxAttempts,
    worker: job.worker,
    createdAt: new Date(job.createdAt).toISOString(),
    startedAt: job.startedAt === null ? null : new Date(job.startedAt).toISOString(),
    finishedAt: job.finishedAt === null ? null : new Date(job.finishedAt).toISOString(),
    runAfter: new Date(job.runAfter).toISOString(),
    heartbeatAt: job.heartbeatAt === null ? null : new Date(job.heartbeatAt).toISOString(),
    lastError: job.lastError,
  };
}

/** The state, with what an operator needs beside it: when a retry is due, how fresh a heartbeat is. */
function stateLine(job: Job, now: number): string {
  if (job.state === 'queued' && job.runAfter > now) return `queued (retry in ${Math.ceil((job.runAfter - now) / 1000)} s)`;
  if (job.state === 'running' && job.heartbeatAt !== null) return `running (heartbeat ${Math.max(0, Math.round((now - job.heartbeatAt) / 1000))} s ago)`;
  return job.state;
}

/** Queued work that nobody has claimed for a while usually means no worker runs: say so. */
function hints(jobs: readonly Job[], now: number): string[] {
  const waiting = jobs.filter((job) => job.state === 'queued' && job.runAfter <= now - 60_000);
  const dead = jobs.filter((job) => job.state === 'dead');
  return [
    ...(waiting.length > 0 ? ['', `${waiting.length} job(s) have waited over a minute: is an \`orgvault worker\` running on a machine that reaches the vault?`] : []),
    ...(dead.length > 0 ? ['', `${dead.length} job(s) failed on every attempt; a failed backup's objects resume from their last stored page on the next run (\`orgvault logs\` has each run's errors).`] : []),
  ];
}
