/**
 * Continuous data protection: a capture service per org that subscribes to the change events of
 * the objects the admin selected and turns them into record versions beside the regular scans.
 *
 * Ordering rule (crash safety): an object's replay ID is stored only after the versions of every
 * event up to it are committed. A crash in between replays those events on the next start; the
 * versions they make are the same (merged onto the version before their commit), so the vault
 * skips them as already stored.
 *
 * Locking: the stream does not take the org's writer lock, which a scan holds for its whole run.
 * Each batch is one writeVersions transaction, and writes are idempotent (a version already stored
 * is skipped, a late one is spliced in under newer ones), so a scan and the stream storing the
 * same change in either order leave one version. The scans the stream starts itself (to cover an
 * expired replay ID or an overflow) go through runBackup and take the lock as any scan does.
 */
import { randomUUID } from 'node:crypto';
import { UsageError } from '../core/errors.ts';
import { ReplayIdInvalidError } from '../core/org-client.ts';
import type { ChangeEventMessage, ChangeSubscription, OrgClient, SObjectRecord } from '../core/org-client.ts';
import { parseSalesforceDatetime } from '../core/time.ts';
import type { OrgRegistration, VersionInput } from '../core/vault.ts';
import { runBackup } from '../backup/run-backup.ts';
import type { BackupStore } from '../backup/run-backup.ts';
import type { BackupSettings } from '../backup/options.ts';
import { capturedFields } from '../backup/scope.ts';
import type { BlobStore, ChangeCaptureStore, StreamObjectState } from '../store/port.ts';
import { objectShape, versionFromEvent } from './event-versions.ts';
import type { ObjectShape } from './event-versions.ts';
import { cdcSettings, unsubscribedState } from './settings.ts';

/** The vault ports the stream uses. */
export type StreamStore = BackupStore & ChangeCaptureStore;

export interface StreamDeps {
  store: StreamStore;
  blobs: BlobStore;
  client: OrgClient;
  /** The settings of the scans the stream starts (an expired replay ID, an overflow). */
  backupSettings: BackupSettings;
  now?: () => number;
  /** Notices for the operator's log (never a field value). */
  log?: (line: string) => void;
  /** Events wait this long for the ones after them, so that a burst is one write. */
  batchDelayMs?: number;
  /** Pause before a stream that failed is started again. */
  retryDelayMs?: number;
}

/** Events written in one batch at most: one transaction, a bounded pause. */
const MAX_BATCH_EVENTS = 1_000;
/** Records a fetch reads in one query (`WHERE Id IN (…)`): a URL well under Salesforce's limit. */
const FETCH_IDS = 200;
/** Versions per vault write, as a scan writes them. */
const WRITE_BATCH = 2_000;

/**
 * Streams one org's selected objects into the vault until stopped. `start` resolves once every
 * object is subscribed (or marked in error with the reason); events then flow in the background.
 */
export class ChangeCaptureService {
  private readonly streams: ObjectStream[] = [];
  private runId: string | undefined;
  private org: OrgRegistration | undefined;

  constructor(private readonly deps: StreamDeps) {}

  /** The objects' stream states as this service holds them now. */
  states(): StreamObjectState[] {
    return this.streams.map((s) => ({ ...s.state }));
  }

  async start(org: OrgRegistration): Promise<void> {
    if (this.org) throw new UsageError(`The change capture of ${this.org.name} is already running in this process.`);
    const { objects } = cdcSettings(org);
    if (!objects.length) throw new UsageError(`No objects of ${org.name} are selected for continuous protection. Choose them with \`orgvault cdc set --org ${org.name} --objects Account,Contact\`.`);
    const now = this.deps.now ?? Date.now;
    this.org = org;
    this.runId = randomUUID();
    await this.deps.store.createRun({
      runId: this.runId,
      orgId: org.orgId,
      kind: 'stream',
      status: 'Running',
      startedAt: now(),
      endedAt: null,
      counters: {},
      message: null,
      parameters: { org: org.name, objects },
    });
    const stored = new Map((await this.deps.store.getStreamStates(org.orgId)).map((s) => [s.objectName.toLowerCase(), s]));
    const describes = await this.deps.client.describeObjects(objects);
    for (const name of objects) {
      const description = [...describes.values()].find((d) => d.name.toLowerCase() === name.toLowerCase());
      const state = stored.get(name.toLowerCase()) ?? unsubscribedState(description?.name ?? name, now());
      const stream = new ObjectStream(this.deps, org, this.runId, state);
      this.streams.push(stream);
      if (!description) {
        await stream.fail(`${name} is not visible to the API user (or does not exist), so its changes cannot be streamed.`);
        continue;
      }
      const { query, bodies } = capturedFields(description.fields);
      if (bodies.length) {
        await stream.fail(`${description.name} has file bodies (${bodies.map((b) => b.name).join(', ')}), which change events do not carry; the scans protect it.`);
        continue;
      }
      const { schemaId } = await this.deps.store.putSchema(org.orgId, description.name, description.raw, now());
      await stream.start(objectShape(description.name, query), schemaId);
    }
  }

  /** Closes every subscription, writes what was received, ends the run in the log; returns the final states. */
  async stop(): Promise<StreamObjectState[]> {
    const streams = this.streams.splice(0);
    await Promise.all(streams.map((s) => s.stop()));
    if (this.runId) {
      const counters = { events: 0, versions: 0, fetched: 0, gaps: 0, overflows: 0, replayExpired: 0 };
      for (const s of streams) {
        counters.events += s.session.events;
        counters.versions += s.session.versions;
        counters.fetched += s.session.fetched;
        counters.gaps += s.session.gaps;
        counters.overflows += s.session.overflows;
        counters.replayExpired += s.session.replayExpired;
      }
      const failed = streams.filter((s) => s.state.status === 'Error');
      const now = (this.deps.now ?? Date.now)();
      await this.deps.store.updateRun(this.runId, {
        status: failed.length ? 'CompletedWithErrors' : 'Succeeded',
        endedAt: now,
        counters,
        message: failed.length ? failed.map((s) => `${s.state.objectName}: ${s.state.message ?? 'error'}`).join(' ') : null,
      });
    }
    this.runId = undefined;
    this.org = undefined;
    return streams.map((s) => ({ ...s.state }));
  }
}

/** This process's counts for one object, for the run log. */
interface SessionCounters {
  events: number;
  versions: number;
  fetched: number;
  gaps: number;
  overflows: number;
  replayExpired: number;
}

class ObjectStream {
  readonly session: SessionCounters = { events: 0, versions: 0, fetched: 0, gaps: 0, overflows: 0, replayExpired: 0 };
  private shape: ObjectShape | undefined;
  private schemaId: string | null = null;
  private subscription: ChangeSubscription | undefined;
  private readonly queue: ChangeEventMessage[] = [];
  private timer: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private stopped = false;
  /** Set by a subscription from -1: the next event starts continuous coverage. */
  private freshStart = false;

  constructor(
    private readonly deps: StreamDeps,
    private readonly org: OrgRegistration,
    private readonly runId: string,
    readonly state: StreamObjectState,
  ) {}

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }

  private log(line: string): void {
    this.deps.log?.(`${this.org.name} ${this.state.objectName}: ${line}`);
  }

  async fail(message: string): Promise<void> {
    this.state.status = 'Error';
    this.state.message = message;
    this.log(message);
    await this.save();
  }

  async start(shape: ObjectShape, schemaId: string): Promise<void> {
    this.shape = shape;
    this.schemaId = schemaId;
    await this.subscribe();
  }

  private async subscribe(): Promise<void> {
    const request = {
      channel: this.state.channel,
      onEvent: (event: ChangeEventMessage) => this.receive(event),
      onError: (error: Error) => void this.broken(error),
    };
    let expired = false;
    // A scan the stream started and a crash interrupted is run again: the hole is still open.
    const scanPending = this.state.scanPending === true || this.state.status === 'CatchingUp';
    try {
      try {
        this.freshStart = this.state.replayId === null;
        this.subscription = await this.deps.client.subscribeChanges({ ...request, replayId: this.state.replayId ?? -1 });
      } catch (error) {
        if (!(error instanceof ReplayIdInvalidError)) throw error;
        // Events since the stored replay ID are gone: subscribe for new ones first, so that
        // nothing falls between, then let a scan cover the hole.
        expired = true;
        this.log(`the stored replay ID ${this.state.replayId} is older than Salesforce's 72-hour retention; an incremental scan covers the changes since, and the stream starts again from new events`);
        this.freshStart = true;
        this.subscription = await this.deps.client.subscribeChanges({ ...request, replayId: -1 });
      }
    } catch (error) {
      await this.broken(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    this.state.status = expired || scanPending ? 'CatchingUp' : 'Subscribed';
    this.state.subscribedSince = this.now();
    this.state.message = expired ? 'The stored replay ID had expired (72-hour retention); an incremental scan is covering the hole.' : null;
    if (expired) {
      this.state.replayExpired++;
      this.session.replayExpired++;
      this.state.replayId = null;
      this.state.coveredFrom = null;
      // Saved with the expiry: a crash before the scan finishes runs it on the next start.
      this.state.scanPending = true;
    }
    await this.save();
    if (expired) this.enqueue(() => this.scan('the replay ID had expired'));
    else if (scanPending) this.enqueue(() => this.scan('a scan the stream started was interrupted'));
  }

  /** A stream that ended on its own: marked, and started again after a pause from the stored replay ID. */
  private async broken(error: Error): Promise<void> {
    if (this.stopped) return;
    const subscription = this.subscription;
    this.subscription = undefined;
    await subscription?.close().catch(() => undefined);
    await this.fail(`The stream stopped (${error.message}); it starts again from replay ID ${this.state.replayId ?? 'new events'}.`);
    clearTimeout(this.retry);
    this.retry = setTimeout(() => {
      if (this.stopped) return;
      // Received events are written first, so the stored replay ID is where the stream resumes.
      this.enqueue(() => this.subscribe());
    }, this.deps.retryDelayMs ?? 30_000);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    const subscription = this.subscription;
    this.subscription = undefined;
    await subscription?.close();
    clearTimeout(this.timer);
    this.enqueue(() => this.apply());
    await this.chain;
    if (this.state.status !== 'Error') this.state.status = 'Stopped';
    await this.save();
  }

  private receive(event: ChangeEventMessage): void {
    this.queue.push(event);
    if (this.queue.length >= MAX_BATCH_EVENTS) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.enqueue(() => this.apply());
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.enqueue(() => this.apply());
      }, this.deps.batchDelayMs ?? 200);
    }
  }

  /** Work on the object runs one step at a time, in order: batches, scans, resubscribing. */
  private enqueue(step: () => Promise<void>): void {
    this.chain = this.chain.then(step).catch((error: unknown) => this.broken(error instanceof Error ? error : new Error(String(error))));
  }

  private async save(): Promise<void> {
    this.state.updatedAt = this.now();
    await this.deps.store.putStreamState(this.org.orgId, this.state);
  }

  /** Writes the waiting events as versions, then moves the replay ID past them. */
  private async apply(): Promise<void> {
    const shape = this.shape;
    while (this.queue.length && shape) {
      const events = this.queue.splice(0, MAX_BATCH_EVENTS);
      const versions: VersionInput[] = [];
      const latest = new Map<string, { fields: Record<string, unknown>; isDeleted: boolean }>();
      const fetch = new Set<string>();
      let overflow = false;
      for (const event of events) {
        if (event.changeType === 'GAP_OVERFLOW') {
          overflow = true;
          this.state.overflows++;
          this.session.overflows++;
          continue;
        }
        if (event.changeType.startsWith('GAP_')) {
          this.state.gaps++;
          this.session.gaps++;
          for (const id of event.recordIds) fetch.add(id);
          continue;
        }
        for (const recordId of event.recordIds) {
          // Read back anyway: what Salesforce returns covers this change too.
          if (fetch.has(recordId)) continue;
          const previous = latest.get(recordId) ?? (await this.storedBefore(recordId, event.commitTimestamp));
          const outcome = versionFromEvent(shape, event, recordId, previous);
          if ('fetch' in outcome) {
            fetch.add(recordId);
            continue;
          }
          versions.push(outcome.version);
          latest.set(recordId, { fields: outcome.version.fields, isDeleted: outcome.version.isDeleted });
        }
      }
      for (let i = 0; i < versions.length; i += WRITE_BATCH) await this.write(versions.slice(i, i + WRITE_BATCH));
      if (fetch.size) await this.fetch([...fetch]);
      // Only now, with the versions committed, does the replay ID move past their events.
      const last = events[events.length - 1]!;
      const firstCommit = Math.min(...events.map((e) => e.commitTimestamp));
      const lastCommit = Math.max(...events.map((e) => e.commitTimestamp));
      this.state.replayId = last.replayId;
      this.state.lastEventAt = lastCommit;
      this.state.coveredThrough = Math.max(this.state.coveredThrough ?? lastCommit, lastCommit);
      if (this.freshStart) {
        this.state.coveredFrom = firstCommit;
        this.freshStart = false;
      }
      this.state.eventsApplied += events.length;
      this.session.events += events.length;
      await this.save();
      if (overflow) await this.scan('Salesforce sent an overflow event');
    }
  }

  /** The record's stored version just before a commit, fields included. */
  private async storedBefore(recordId: string, commitMs: number): Promise<{ fields: Record<string, unknown>; isDeleted: boolean } | undefined> {
    const version = await this.deps.store.versionAsOf(this.org.orgId, this.state.objectName, recordId, commitMs - 1);
    return version && { fields: version.fields, isDeleted: version.isDeleted };
  }

  private async write(versions: VersionInput[]): Promise<void> {
    if (!versions.length) return;
    const outcome = await this.deps.store.writeVersions({
      orgId: this.org.orgId,
      objectName: this.state.objectName,
      runId: this.runId,
      capturedAt: this.now(),
      schemaId: this.schemaId,
      versions,
    });
    this.state.versionsWritten += outcome.written;
    this.session.versions += outcome.written;
    // A few versions at a time, at the pace of the org's changes: indexed at once, so that a search
    // finds them without a catch-up of its own. A failure costs nothing stored: the next search
    // or backup indexes them.
    if (outcome.written > 0) {
      await this.deps.store.catchUpSearchIndex().catch((error: unknown) => this.deps.log?.(`${this.state.objectName}: the search index was not brought up to date (${error instanceof Error ? error.message : String(error)}); the next search does it.`));
    }
  }

  /** Reads records back by ID (deleted ones too) and stores them as Salesforce returns them. */
  private async fetch(ids: string[]): Promise<void> {
    const shape = this.shape!;
    const select = shape.fields.map((f) => f.name).join(', ');
    for (let i = 0; i < ids.length; i += FETCH_IDS) {
      const chunk = ids.slice(i, i + FETCH_IDS).filter((id) => /^[a-zA-Z0-9]{15,18}$/.test(id));
      if (!chunk.length) continue;
      const soql = `SELECT ${select} FROM ${shape.objectName} WHERE Id IN (${chunk.map((id) => `'${id}'`).join(', ')})`;
      const versions: VersionInput[] = [];
      for await (const page of this.deps.client.query(soql, { includeDeleted: true })) {
        for (const record of page) {
          const version = fetchedVersion(record);
          if (version) versions.push(version);
        }
      }
      versions.sort((a, b) => a.systemModstamp - b.systemModstamp);
      await this.write(versions);
      this.state.recordsFetched += versions.length;
      this.session.fetched += versions.length;
    }
  }

  /** An incremental scan of the object, through runBackup (and so under the org's lock). */
  private async scan(reason: string): Promise<void> {
    this.state.status = 'CatchingUp';
    this.state.scanPending = true;
    this.state.message = `${reason}: an incremental scan is covering the changes the stream could not give.`;
    await this.save();
    this.log(this.state.message);
    for (let attempt = 0; !this.stopped; attempt++) {
      const result = await runBackup(
        { store: this.deps.store, blobs: this.deps.blobs, client: this.deps.client, now: this.deps.now },
        { org: this.org, settings: this.deps.backupSettings, objects: [this.state.objectName], startedBy: `stream (${reason})`, confirmStream: false, metadata: false },
      );
      if (result.status !== 'Skipped') {
        const object = result.objects.find((o) => o.name.toLowerCase() === this.state.objectName.toLowerCase());
        this.state.status = 'Subscribed';
        this.state.scanPending = false;
        this.state.message = `${reason}: scan ${result.runId} covered the hole (${object?.versions ?? 0} version(s) stored).`;
        this.log(this.state.message);
        await this.save();
        return;
      }
      // Another scan of the org holds its lock: wait for it, then scan the object ourselves.
      await new Promise((resolve) => setTimeout(resolve, Math.min(60_000, 1_000 * 2 ** attempt)));
    }
  }
}

function fetchedVersion(record: SObjectRecord): VersionInput | undefined {
  const stamp = parseSalesforceDatetime(record.SystemModstamp);
  if (stamp === undefined) return undefined;
  return {
    recordId: String(record.Id),
    systemModstamp: stamp,
    changeType: 'event',
    isDeleted: record.IsDeleted === true,
    lastModifiedById: typeof record.LastModifiedById === 'string' ? record.LastModifiedById : null,
    fields: record,
  };
}
