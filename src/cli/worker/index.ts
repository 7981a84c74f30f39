/**
 * `orgvault worker [--concurrency N] [--id NAME] [--lease SECONDS]`: pulls backup jobs from the
 * vault's work queue (PostgreSQL) and runs them, until SIGINT or SIGTERM. Run it on any number of
 * machines that can open the vault: each backup's objects spread over them, one backup per org at
 * a time, and a worker that dies has its jobs taken over once its lease expires. One line per job
 * on stderr. A signal stops claiming and waits for the running jobs (a coordinator gives its run
 * back at once, for another worker to resume); a second signal stops at once, which loses nothing
 * either: the leases expire and the jobs are taken over.
 */
import { hostname } from 'node:os';
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.ts';
import { QueueWorker, backupWorkerHandlers } from '../../schedule/index.ts';
import { QUEUE_OPTION, openVaultQueue } from '../queue-option.ts';
import { globalOptions } from '../vault-options.ts';
import { connectToOrg, vaultNotifier, withVault } from '../vault-session.ts';

interface WorkerFlags {
  concurrency: string;
  id?: string;
  lease: string;
  queue?: string;
}

/** Finished jobs are kept this long for `status` and inspection, then deleted. */
const KEEP_FINISHED_MS = 14 * 24 * 3_600_000;

export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description('run backup jobs from the vault\'s work queue (a PostgreSQL vault) until stopped; start one on each machine that should share the work')
    .option('--concurrency <n>', 'jobs run side by side (objects captured at once by this worker)', '2')
    .option('--id <name>', 'how this worker is named in the queue and the logs (default: host:pid)')
    .option('--lease <seconds>', 'how long a job stays with this worker without a heartbeat: a dead worker\'s jobs are taken over this long after it died', '60')
    .option(...QUEUE_OPTION)
    .action(async (flags: WorkerFlags, command: Command) => {
      const concurrency = Number(flags.concurrency);
      if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw new UsageError(`--concurrency ${flags.concurrency} is not a whole number from 1 to 64.`);
      const leaseSeconds = Number(flags.lease);
      if (!Number.isFinite(leaseSeconds) || leaseSeconds < 1 || leaseSeconds > 3600) throw new UsageError(`--lease ${flags.lease} is not a number of seconds from 1 to 3600.`);
      if (flags.id !== undefined && !/^[\w.:@-]{1,100}$/.test(flags.id)) throw new UsageError(`--id ${JSON.stringify(flags.id)}: use up to 100 letters, digits and . : @ _ -.`);
      const workerId = flags.id ?? `${hostname()}:${process.pid}`;
      const options = globalOptions(command);
      await withVault(command, async (vault) => {
        const queue = await openVaultQueue(vault, flags.queue);
        if (!queue) {
          throw new UsageError('This vault keeps its catalog in SQLite, so it has no work queue: its backups run where they are started (`orgvault backup`, `orgvault scheduler`). Workers need a PostgreSQL vault (--store postgres://…), or a queue named with --queue postgres://….');
        }
        const log = (line: string): void => void process.stderr.write(`${new Date().toISOString()} ${line}\n`);
        const leaseMs = Math.round(leaseSeconds * 1000);
        const handlers = backupWorkerHandlers({
          store: vault.store,
          blobs: vault.blobs,
          queue,
          connect: (org) => connectToOrg(vault, org),
          notifier: vaultNotifier(vault),
        });
        const worker = new QueueWorker({ queue, workerId, handlers, concurrency, leaseMs, log });
        const stopped = new Promise<string>((resolve) => {
          for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve(signal));
        });
        const pruner = setInterval(() => void queue.prune(KEEP_FINISHED_MS).catch(() => undefined), 3_600_000);
        pruner.unref();
        try {
          worker.start();
          process.stdout.write(
            options.json ? `${JSON.stringify({ worker: workerId, concurrency, state: 'running' })}\n` : `orgvault worker ${workerId} is running ${concurrency} job(s) at a time; Ctrl-C stops it.\n`,
          );
          const signal = await stopped;
          for (const again of ['SIGINT', 'SIGTERM'] as const) process.once(again, () => process.exit(130));
          log(`worker ${workerId}: ${signal}: claiming nothing more; waiting for the running jobs (a second signal stops at once).`);
          await worker.stop();
          log(`worker ${workerId}: stopped.`);
        } finally {
          clearInterval(pruner);
          await queue.close();
        }
      });
    });
}
