/**
 * The scheduler wired to an open vault, for `orgvault scheduler` and `orgvault serve`: scheduled
 * backups and permission checks connect through the org's stored credentials, and tell the org's
 * notification channels what went wrong; beside them, the change streams of the orgs with objects
 * selected for continuous protection, checked against the orgs' settings every minute.
 */
import { runPermissionCheck } from '../../permissions/index.ts';
import { Scheduler, backupJob } from '../../schedule/index.ts';
import { StreamFleet } from '../../stream/index.ts';
import type { JobRunner } from '../../schedule/index.ts';
import type { JobQueue } from '../../store/queue.ts';
import type { Vault } from '../../store/vault.ts';
import { connectToOrg, vaultNotifier } from '../vault-session.ts';

export interface SchedulerShellOptions {
  /** Seconds between ticks (a job starts at most this late). */
  intervalSeconds?: number;
  /** Where the scheduler's lines go (stderr by default). */
  log?: (line: string) => void;
  /** Another permission check runner (tests); the default runs `runPermissionCheck`. */
  permissions?: JobRunner;
  /** Seconds between checks of which orgs stream change events (default 60); 0: no streams. */
  streamCheckSeconds?: number;
  /** The vault's work queue: scheduled backups are enqueued for `orgvault worker` processes instead of run here. */
  queue?: JobQueue | null;
}

/** Starts ticking; the returned function stops the ticks and waits for the running jobs. */
export function startVaultScheduler(vault: Vault, options: SchedulerShellOptions = {}): { scheduler: Scheduler; stop: () => Promise<void> } {
  const log = options.log ?? ((line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`));
  const notifier = vaultNotifier(vault);
  const permissions: JobRunner = async ({ org }) => {
    const result = await runPermissionCheck({ store: vault.store, connect: () => connectToOrg(vault, org), notifier }, org);
    return { runId: result.runId, status: result.status, message: null };
  };
  const scheduler = new Scheduler({
    store: vault.store,
    jobs: {
      backup: backupJob({ store: vault.store, blobs: vault.blobs, connect: (org) => connectToOrg(vault, org), notifier, queue: options.queue ?? undefined }),
      permissions: options.permissions ?? permissions,
    },
    log,
  });
  const stopScheduler = scheduler.start((options.intervalSeconds ?? 30) * 1000);
  const streamCheckMs = (options.streamCheckSeconds ?? 60) * 1000;
  if (streamCheckMs <= 0) return { scheduler, stop: stopScheduler };
  const fleet = new StreamFleet({ store: vault.store, blobs: vault.blobs, connect: (org) => connectToOrg(vault, org), log });
  void fleet.sync();
  const timer = setInterval(() => void fleet.sync(), streamCheckMs);
  timer.unref();
  const stop = async (): Promise<void> => {
    clearInterval(timer);
    await Promise.all([stopScheduler(), fleet.stop()]);
  };
  return { scheduler, stop };
}
