/**
 * The change streams of every org of a vault, for a long-running process (`orgvault serve`,
 * `orgvault scheduler`): each org with objects selected for continuous protection has one
 * ChangeCaptureService; `sync` starts the missing ones, restarts those whose selection or backup
 * settings changed, and stops those of orgs that turned it off or were removed. An org that cannot
 * be reached is logged and tried again at the next sync, without holding up the others.
 */
import { resolveSettings, storedSettings } from '../backup/index.ts';
import type { OrgClient } from '../core/org-client.ts';
import type { OrgRegistration } from '../core/vault.ts';
import type { BlobStore, OrgCatalog } from '../store/port.ts';
import { ChangeCaptureService } from './capture-service.ts';
import type { StreamStore } from './capture-service.ts';
import { cdcSettings } from './settings.ts';

export interface StreamFleetDeps {
  store: StreamStore & Pick<OrgCatalog, 'listOrgs'>;
  blobs: BlobStore;
  connect: (org: OrgRegistration) => Promise<OrgClient>;
  log: (line: string) => void;
  now?: () => number;
}

interface RunningStream {
  /** What the service was started with: a change of it restarts the service. */
  key: string;
  service: ChangeCaptureService;
}

export class StreamFleet {
  private readonly running = new Map<string, RunningStream>();
  private syncing: Promise<void> | undefined;

  constructor(private readonly deps: StreamFleetDeps) {}

  /** Org IDs streaming in this process. */
  streamingOrgs(): string[] {
    return [...this.running.keys()];
  }

  /** Brings the running streams in line with the orgs' settings. Never throws; one sync at a time. */
  sync(): Promise<void> {
    this.syncing ??= this.syncOnce().finally(() => (this.syncing = undefined));
    return this.syncing;
  }

  /** Stops every stream, their last replay IDs stored. */
  async stop(): Promise<void> {
    await this.syncing;
    const streams = [...this.running.values()];
    this.running.clear();
    await Promise.all(streams.map((s) => s.service.stop().catch((error: unknown) => this.deps.log(`stream: stopping failed: ${messageOf(error)}`))));
  }

  private async syncOnce(): Promise<void> {
    let orgs: OrgRegistration[];
    try {
      orgs = await this.deps.store.listOrgs();
    } catch (error) {
      this.deps.log(`stream: could not read the orgs: ${messageOf(error)}`);
      return;
    }
    const wanted = new Map<string, { org: OrgRegistration; key: string }>();
    for (const org of orgs) {
      const objects = cdcSettings(org).objects;
      if (!objects.length) continue;
      let key: string;
      try {
        key = JSON.stringify([org.name, [...objects].sort(), resolveSettings(storedSettings(org))]);
      } catch (error) {
        this.deps.log(`stream: ${org.name} is not streamed: ${messageOf(error)}`);
        continue;
      }
      wanted.set(org.orgId, { org, key });
    }
    for (const [orgId, stream] of this.running) {
      if (wanted.get(orgId)?.key === stream.key) continue;
      this.running.delete(orgId);
      await stream.service.stop().catch((error: unknown) => this.deps.log(`stream: stopping failed: ${messageOf(error)}`));
      this.deps.log(`stream: stopped the change stream of org ${orgId}${wanted.has(orgId) ? ' to start it with its new settings' : ''}.`);
    }
    for (const [orgId, { org, key }] of wanted) {
      if (this.running.has(orgId)) continue;
      try {
        const service = new ChangeCaptureService({
          store: this.deps.store,
          blobs: this.deps.blobs,
          client: await this.deps.connect(org),
          backupSettings: resolveSettings(storedSettings(org)),
          log: this.deps.log,
          ...(this.deps.now ? { now: this.deps.now } : {}),
        });
        await service.start(org);
        this.running.set(orgId, { key, service });
        this.deps.log(`stream: streaming ${service.states().map((s) => `${s.objectName} (${s.status})`).join(', ')} of ${org.name}.`);
      } catch (error) {
        this.deps.log(`stream: could not start the change stream of ${org.name}: ${messageOf(error)}; trying again at the next check.`);
      }
    }
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
