/** Backups the server runs in the background, one per org at a time, followed by their run IDs. */
import { resolveSettings, runBackup, storedSettings } from '../backup/index.ts';
import type { BackupResult } from '../backup/index.ts';
import type { OrgRegistration } from '../core/vault.ts';
import type { ServerDeps } from './context.ts';
import { notifierOf } from './routes/notifications.ts';
import { connectTo } from './routes/shared.ts';

export class BackgroundBackups {
  private readonly running = new Map<string, Promise<BackupResult>>();

  constructor(private readonly deps: ServerDeps) {}

  isRunning(org: OrgRegistration): boolean {
    return this.running.has(org.orgId);
  }

  /** Starts a backup of the org and answers its run ID once the run exists; undefined when one is running here already. */
  async start(org: OrgRegistration, startedBy: string, options: { objects?: string[]; reconcile?: boolean } = {}): Promise<string | undefined> {
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
    await this.deps.store.appendAudit({ at: (this.deps.now ?? Date.now)(), actor: startedBy, action: 'backup.start', target: org.name, details: {} });
    return runId;
  }
}
