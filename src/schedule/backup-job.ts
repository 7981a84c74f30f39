/**
 * The scheduled backup: connect, decide whether this job must be a fresh full baseline (a new
 * backup cycle, or continuity that cannot be proven), and run the backup. Another process holding
 * the org's writer lock makes runBackup record the run as Skipped with the holder; objects that
 * ended in Error last time are read again, as every object not known to be quiet is.
 */
import { resolveSettings, runBackup, storedSettings } from '../backup/index.ts';
import type { BackupEvent, BackupStore } from '../backup/index.ts';
import type { Notifier } from '../core/notifications.ts';
import type { OrgClient } from '../core/org-client.ts';
import type { OrgRegistration } from '../core/vault.ts';
import type { BlobStore } from '../store/port.ts';
import { DEFAULT_CYCLE_DAYS, baselineReason } from './baseline.ts';
import type { JobRunner } from './scheduler.ts';

export interface BackupJobDeps {
  store: BackupStore;
  blobs: BlobStore;
  /** Opens a client for a registered org (the shell's `connectToOrg`). */
  connect: (org: OrgRegistration) => Promise<OrgClient>;
  now?: () => number;
  /** Told of failed jobs, objects in error and orgs falling Behind, as for any backup. */
  notifier?: Notifier;
  onEvent?: (org: OrgRegistration, event: BackupEvent) => void;
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
