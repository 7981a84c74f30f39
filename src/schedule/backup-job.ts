/**
 * The scheduled backup: connect, decide whether this job must be a fresh full baseline (a new
 * backup cycle, or continuity that cannot be proven), and run the backup. Another process holding
 * the org's writer lock makes runBackup record the run as Skipped with the holder; objects that
 * ended in Error last time are read again, as every object not known to be quiet is.
 *
 * With a work queue (a PostgreSQL vault with `orgvault worker` processes), the job is enqueued
 * instead and the workers run it (src/backup/distributed.ts); the runner waits for its end, so
 * the schedule's state records the outcome as for a backup run here. A backup of the org already
 * queued or running makes this one Skipped, as a held org lock does.
 */
import { randomUUID } from 'node:crypto';
import { captureObjectTask, coordinateBackup, describeBackupJob, enqueueBackup, resolveSettings, runBackup, storedSettings, waitForBackupJob, BACKUP_JOB, BACKUP_OBJECT_JOB } from '../backup/index.ts';
import type { BackupEvent, BackupStore, DistributedBackupDeps } from '../backup/index.ts';
import type { Notifier } from '../core/notifications.ts';
import type { OrgClient } from '../core/org-client.ts';
import type { OrgRegistration } from '../core/vault.ts';
import type { BlobStore } from '../store/port.ts';
import type { JobQueue } from '../store/queue.ts';
import { DEFAULT_CYCLE_DAYS, baselineReason } from './baseline.ts';
import type { JobRunner } from './scheduler.ts';
import type { JobHandler } from './worker.ts';

export interface BackupJobDeps {
  store: BackupStore;
  blobs: BlobStore;
  /** Opens a client for a registered org (the shell's `connectToOrg`). */
  connect: (org: OrgRegistration) => Promise<OrgClient>;
  now?: () => number;
  /** Told of failed jobs, objects in error and orgs falling Behind, as for any backup. */
  notifier?: Notifier;
  onEvent?: (org: OrgRegistration, event: BackupEvent) => void;
  /** The vault's work queue: backups are enqueued for the workers instead of run here. */
  queue?: JobQueue;
  /** How often a queued backup's end is looked for (default 2 s). */
  pollMs?: number;
}

/** The runner of scheduled backups, for `Scheduler`'s `jobs.backup`. */
export function backupJob(deps: BackupJobDeps): JobRunner {
  const now = deps.now ?? Date.now;
  return async ({ org, schedule, state, startedBy }) => {
    const settings = resolveSettings(storedSettings(org));
    const client = await deps.connect(org);
    const identity = await client.identity();
    const reason = baselineReason({
      now: now(),
      cycleDays: schedule.cycleDays ?? DEFAULT_CYCLE_DAYS,
      cycleStartedAt: state?.cycleStartedAt ?? null,
      knownOrgId: sameOrgId(state?.orgIdSeen ?? org.orgId),
      reportedOrgId: sameOrgId(identity.orgId),
      objects: await deps.store.getObjectStates(org.orgId),
      lastSuccessAt: state?.lastSuccessAt ?? null,
    });
    if (deps.queue) {
      const baseline = reason ? { reason } : undefined;
      const { job, created } = await enqueueBackup(deps.queue, { orgName: org.name, orgId: org.orgId, objects: schedule.objects ?? undefined, startedBy, baseline });
      if (!created) {
        const message = `Skipped: a backup of ${org.name} is already ${job.state === 'running' ? `running on worker ${job.worker ?? '?'}` : 'queued for the workers'} (job ${job.jobId}, enqueued ${new Date(job.createdAt).toISOString()}).`;
        const runId = randomUUID();
        await deps.store.createRun({ runId, orgId: org.orgId, kind: 'backup', status: 'Skipped', startedAt: now(), endedAt: now(), counters: {}, message, parameters: { org: org.name, objects: schedule.objects ?? null, startedBy } });
        return { runId, status: 'Skipped', message, baseline: null, orgIdSeen: identity.orgId };
      }
      const outcome = await waitForBackupJob(deps.queue, job.jobId, deps.pollMs ?? 2_000);
      const run = outcome.runId ? await deps.store.getRun(outcome.runId) : undefined;
      const message = run?.message ?? (outcome.job?.state === 'dead' ? `The workers failed this backup on every attempt: ${outcome.job.lastError ?? 'unknown error'}` : null);
      return { runId: outcome.runId, status: outcome.status, message, baseline: outcome.status === 'Skipped' ? null : reason, orgIdSeen: identity.orgId };
    }
    const result = await runBackup(
      { store: deps.store, blobs: deps.blobs, client, now, notifier: deps.notifier, onEvent: deps.onEvent && ((event) => deps.onEvent!(org, event)) },
      { org, settings, objects: schedule.objects ?? undefined, startedBy, baseline: reason ? { reason } : undefined },
    );
    return { runId: result.runId, status: result.status, message: result.message, baseline: result.status === 'Skipped' ? null : reason, orgIdSeen: identity.orgId };
  };
}

/** Org IDs compared by their case-sensitive 15-character form (the 18-character one adds a checksum). */
function sameOrgId(id: string): string {
  return id.slice(0, 15);
}

/**
 * The handlers of `orgvault worker` for the distributed backup: `backup` (a run's coordinator)
 * and `backup-object` (one object of a run). Clients are connected once per org and shared by the
 * worker's jobs (each task counts its calls on a scoped view).
 */
export function backupWorkerHandlers(deps: DistributedBackupDeps): Record<string, JobHandler> {
  const clients = new Map<string, Promise<OrgClient>>();
  const clientFor = (org: OrgRegistration): Promise<OrgClient> => {
    let client = clients.get(org.orgId);
    if (!client) {
      client = deps.connect(org);
      // A failed login is not kept: the next task tries again.
      client.catch(() => clients.delete(org.orgId));
      clients.set(org.orgId, client);
    }
    return client;
  };
  return {
    [BACKUP_JOB]: { describe: describeBackupJob, run: (context) => coordinateBackup({ ...deps, connect: clientFor }, context) },
    [BACKUP_OBJECT_JOB]: { describe: describeBackupJob, run: (context) => captureObjectTask(deps, context, clientFor) },
  };
}
