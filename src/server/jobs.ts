/**
 * Backups started from the dashboard or the API, one per org at a time. With a work queue they are
 * enqueued for the workers, so the server only schedules and serves; without one (an SQLite vault)
 * they run in this process, in the background. Either way the caller gets the run's ID at once.
 */
import { backupJobRunId, enqueueBackup, liveBackupJob, resolveSettings, runBackup, storedSettings } from '../backup/index.ts';
import type { BackupResult } from '../backup/index.ts';
import type { OrgRegistration } from '../core/vault.ts';
import type { ServerDeps } from './context.ts';
import { notifierOf } from './routes/notifications.ts';
import { connectTo } from './routes/shared.ts';

export interface BackupOptions {
  objects?: string[];
  reconcile?: boolean;
}

export class BackgroundBackups {
  private readonly running = new Map<string, Promise<BackupResult>>();

  constructor(private readonly deps: ServerDeps) {}

  /** The org's backup running here, or queued or running on the workers (with its run ID when known); null when none. */
  async active(org: OrgRegistration): Promise<{ queued: boolean; runId: string | null } | null> {
    if (this.running.has(org.orgId)) return { queued: false, runId: null };
    const job = this.deps.queue ? await liveBackupJob(this.deps.queue, org.orgId) : undefined;
    return job ? { queued: job.state === 'queued', runId: backupJobRunId(job) } : null;
  }

  /** Starts (or enqueues) a backup of the org and answers its run ID; undefined when one is running or queued already. */
  async start(org: OrgRegistration, startedBy: string, options: BackupOptions = {}): Promise<string | undefined> {
    const runId = this.deps.queue ? await this.enqueue(org, startedBy, options) : await this.runHere(org, startedBy, options);
    if (runId === undefined) return undefined;
    await this.deps.store.appendAudit({ at: (this.deps.now ?? Date.now)(), actor: startedBy, action: 'backup.start', target: org.name, details: this.deps.queue ? { runId, queued: true } : { runId } });
    return runId;
  }

  private async enqueue(org: OrgRegistration, startedBy: string, options: BackupOptions): Promise<string | undefined> {
    // Bad stored settings are refused now, not by a worker later.
    resolveSettings(storedSettings(org));
    const { created, runId } = await enqueueBackup(this.deps.queue!, { orgName: org.name, orgId: org.orgId, objects: options.objects, reconcile: options.reconcile, startedBy });
    return created && runId ? runId : undefined;
  }

  private async runHere(org: OrgRegistration, startedBy: string, options: BackupOptions): Promise<string | undefined> {
    if (this.running.has(org.orgId)) return undefined;
    const settings = resolveSettings(storedSettings(org));
    const client = await connectTo(this.deps, org);
    let started: (runId: string) => void = () => {};
    const runId = new Promise<string>((resolve) => (started = resolve));
    const backup = runBackup(
      { store: this.deps.store, blobs: this.deps.blobs, client, now: this.deps.now, notifier: notifierOf(this.deps), onEvent: (e) => e.type === 'run-started' && started(e.runId) },
      { org, settings, objects: options.objects, reconcile: options.reconcile, startedBy },
    ).finally(() => this.running.delete(org.orgId));
    this.running.set(org.orgId, backup);
    // A backup that ends before it starts (another process holds the org) still has a run.
    backup.then((result) => started(result.runId)).catch((error: unknown) => console.error(`Backup of ${org.name} failed:`, error));
    return runId;
  }
}
