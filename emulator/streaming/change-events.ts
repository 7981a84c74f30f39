/**
 * Change Data Capture: the org's committed changes as change events on the event bus, with replay
 * IDs, 72 hours of retention on the org clock, merged events, and gap and overflow events. The
 * CometD server (bayeux.ts) only delivers what is published here.
 */
import { createHash } from 'node:crypto';
import type { Org, OrgChange } from '../org/org.ts';
import type { ObjectSchema } from '../org/schema.ts';
import { currentChangeOrigin } from './origin.ts';
import { changeBody, schemaIdOf } from './payload.ts';

/** Salesforce keeps change events for 72 hours. */
export const RETENTION_MS = 72 * 3_600_000;
/** Changes in one transaction past which Salesforce sends overflow events instead. */
export const DEFAULT_OVERFLOW_THRESHOLD = 100_000;
/** The record ID of an overflow event: the empty ID. */
export const EMPTY_RECORD_ID = '000000000000000AAA';
/**
 * Retained events the emulator keeps at most, oldest dropped first. Salesforce has no such cap;
 * this one keeps a long benchmark run from holding every change in memory.
 */
const MAX_RETAINED = 250_000;

export type GapChangeType = 'GAP_CREATE' | 'GAP_UPDATE' | 'GAP_DELETE' | 'GAP_UNDELETE' | 'GAP_OVERFLOW';
export type EventChangeType = OrgChange['changeType'] | GapChangeType;

export interface ChangeEventHeader {
  entityName: string;
  recordIds: string[];
  changeType: EventChangeType;
  changeOrigin: string;
  transactionKey: string;
  sequenceNumber: number;
  commitTimestamp: number;
  commitNumber: number;
  commitUser: string;
  nulledFields: string[];
  diffFields: string[];
  changedFields: string[];
}

/** One event on the bus: the `data` of a CometD event message, and what routing needs. */
export interface ChangeEvent {
  replayId: number;
  entityName: string;
  /** Org time of the commit, for retention. */
  commitMs: number;
  data: { schema: string; payload: Record<string, unknown> & { ChangeEventHeader: ChangeEventHeader }; event: { replayId: number } };
}

/** What replaying from a replay ID yields: the retained events after it, or that it is invalid. */
export type ReplayResult = { events: ChangeEvent[] } | { invalid: true };

/** Timeouts of the CometD server; tests shorten them. */
export interface StreamingSettings {
  overflowThreshold: number;
  /** How long a `/meta/connect` is held open when no event is waiting (Salesforce: 110 s). */
  longPollTimeoutMs: number;
  /** How long a client that stopped polling is kept (Salesforce: 40 s). */
  clientTimeoutMs: number;
}

/** One record's change in a transaction, after merging repeated changes of the record. */
interface RecordChange {
  first: OrgChange;
  last: OrgChange;
  changed: Set<string>;
}

/**
 * The Change Data Capture state of one org: the selected objects, the event bus and its
 * subscribers. Get it with `changeDataCapture(org)`.
 */
export class ChangeDataCapture {
  readonly settings: StreamingSettings = {
    overflowThreshold: DEFAULT_OVERFLOW_THRESHOLD,
    longPollTimeoutMs: 110_000,
    clientTimeoutMs: 40_000,
  };
  /** Event messages handed to CometD clients, toward DailyDeliveredPlatformEvents-style usage. */
  deliveredEvents = 0;
  private readonly selection = new Set<string>();
  private readonly events: ChangeEvent[] = [];
  private readonly listeners = new Set<(event: ChangeEvent) => void>();
  private nextReplayId = 1;
  private commitCounter = 0;

  constructor(private readonly org: Org) {
    org.onChange((changes) => {
      // The changes are committed by now: a failure here must not fail the write that made them.
      try {
        this.capture(changes);
      } catch (error) {
        console.error('[emulator] change data capture failed', error);
      }
    });
  }

  /** The objects selected for Change Data Capture, in selection order. */
  selected(): string[] {
    return [...this.selection];
  }

  isSelected(objectName: string): boolean {
    const object = this.org.schema.object(objectName);
    return object !== undefined && this.selection.has(object.name);
  }

  /**
   * Replaces the selection, as the Change Data Capture page in Setup does. Throws a message naming
   * the first object that does not exist or cannot be selected.
   */
  select(objectNames: string[]): void {
    const names: string[] = [];
    for (const name of objectNames) {
      const object = this.org.schema.object(name);
      if (!object) throw new Error(`No object "${name}" in this org.`);
      if (!object.def.cdcCapable) throw new Error(`${object.name} does not support Change Data Capture.`);
      names.push(object.name);
    }
    this.selection.clear();
    for (const name of names) this.selection.add(name);
  }

  /** Calls `listener` with every event published from now on. Returns an unsubscribe. */
  listen(listener: (event: ChangeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The retained events, oldest first. */
  retained(): readonly ChangeEvent[] {
    this.expire();
    return this.events;
  }

  /**
   * The retained events after a replay ID: -1 is none (only new events follow), -2 all of them,
   * any other ID must be that of a retained event.
   */
  replay(replayId: number): ReplayResult {
    const events = this.retained();
    if (replayId === -1) return { events: [] };
    if (replayId === -2) return { events: [...events] };
    if (!Number.isSafeInteger(replayId) || replayId < 1) return { invalid: true };
    const at = indexOfReplayId(events, replayId);
    return at < 0 ? { invalid: true } : { events: events.slice(at + 1) };
  }

  /** Publishes a gap event for records changed outside the application's transactions. */
  publishGap(objectName: string, recordIds: string[], changeType: Exclude<GapChangeType, 'GAP_OVERFLOW'>): ChangeEvent {
    return this.publishHeaderOnly(objectName, recordIds, changeType);
  }

  /** Publishes an overflow event, as for a transaction past the overflow threshold. */
  publishOverflow(objectName: string): ChangeEvent {
    return this.publishHeaderOnly(objectName, [EMPTY_RECORD_ID], 'GAP_OVERFLOW');
  }

  private publishHeaderOnly(objectName: string, recordIds: string[], changeType: GapChangeType): ChangeEvent {
    const object = this.org.schema.object(objectName);
    if (!object) throw new Error(`No object "${objectName}" in this org.`);
    const commit = this.newCommit('', this.org.clock.stampMs(), this.org.apiUserId);
    const event = this.event(object, commit, 1, recordIds, changeType, { fields: {}, changedFields: [], nulledFields: [] });
    this.publish([event]);
    return event;
  }

  // ---------------------------------------------------------------- capture

  private capture(changes: OrgChange[]): void {
    if (!this.selection.size) return;
    const byRecord = new Map<string, RecordChange>();
    for (const change of changes) {
      if (!this.selection.has(change.object)) continue;
      const seen = byRecord.get(change.recordId);
      // Several changes of one record in a transaction make one event of the first change's type,
      // carrying the record as committed.
      if (seen) {
        seen.last = change;
        for (const f of change.changedFields) seen.changed.add(f);
      } else byRecord.set(change.recordId, { first: change, last: change, changed: new Set(change.changedFields) });
    }
    if (!byRecord.size) return;
    const first = changes[0]!;
    const last = changes[changes.length - 1]!;
    const commit = this.newCommit(currentChangeOrigin(), last.stampMs, first.userId, first.transactionKey);

    // The first `overflowThreshold` changes make change events; those past it, one overflow event
    // per object. Creates, deletes and undeletes count one; an update counts each changed field.
    const threshold = this.settings.overflowThreshold;
    let counted = 0;
    const groups = new Map<string, { object: ObjectSchema; change: RecordChange; body: ReturnType<typeof changeBody>; recordIds: string[] }>();
    const overflowed: string[] = [];
    for (const change of byRecord.values()) {
      const type = change.first.changeType;
      counted += type === 'UPDATE' ? Math.max(1, change.changed.size) : 1;
      const objectName = change.first.object;
      if (counted > threshold) {
        if (!overflowed.includes(objectName)) overflowed.push(objectName);
        continue;
      }
      const object = this.org.schema.object(objectName)!;
      const body = this.bodyOf(object, change);
      if (!body) continue;
      // Salesforce merges identical changes of records of one object in one transaction (within a
      // second) into one event listing every record.
      const key = `${objectName}\n${type}\n${mergeKey(body)}`;
      const group = groups.get(key);
      if (group) group.recordIds.push(change.first.recordId);
      else groups.set(key, { object, change, body, recordIds: [change.first.recordId] });
    }
    const events: ChangeEvent[] = [];
    let sequence = 0;
    for (const group of groups.values()) {
      events.push(this.event(group.object, commit, ++sequence, group.recordIds, group.change.first.changeType, group.body));
    }
    for (const objectName of overflowed) {
      const object = this.org.schema.object(objectName)!;
      events.push(this.event(object, commit, ++sequence, [EMPTY_RECORD_ID], 'GAP_OVERFLOW', { fields: {}, changedFields: [], nulledFields: [] }));
    }
    this.publish(events);
  }

  /**
   * What an event carries for a record: nothing for a delete, every non-empty field for a create
   * or undelete, the changed fields for an update, with LastModifiedDate and LastModifiedById when
   * the update moved them (roll-ups and cleared lookups move neither).
   */
  private bodyOf(object: ObjectSchema, change: RecordChange): ReturnType<typeof changeBody> | undefined {
    const record = this.org.get(change.last.recordId) ?? change.last.record;
    switch (change.first.changeType) {
      case 'DELETE':
        return { fields: {}, changedFields: [], nulledFields: [] };
      case 'CREATE':
      case 'UNDELETE': {
        const body = changeBody(this.org, object, record);
        return { fields: body.fields, changedFields: [], nulledFields: [] };
      }
      case 'UPDATE': {
        const names = new Set(change.changed);
        // The emulator does not keep the previous LastModifiedById, so an update that moved
        // LastModifiedDate reports both audit fields: the values are right either way.
        const stamped = typeof record.LastModifiedDate === 'string' && Date.parse(record.LastModifiedDate.replace(/\+0000$/, 'Z')) >= change.first.stampMs;
        if (stamped) {
          names.add('LastModifiedDate');
          if (object.has('LastModifiedById')) names.add('LastModifiedById');
        }
        const body = changeBody(this.org, object, record, names);
        // Changes only to fields events leave out (SystemModstamp, formulas) make no event.
        return body.changedFields.length ? body : undefined;
      }
    }
  }

  private newCommit(origin: string, stampMs: number, userId: string, txKey = ''): Commit {
    const commitNumber = 1_100_000_000_000 + ++this.commitCounter;
    const hex = createHash('sha256').update(`${this.org.orgId}:${txKey}:${commitNumber}:${stampMs}`).digest('hex');
    const transactionKey = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
    return { origin, stampMs, userId, commitNumber, transactionKey };
  }

  private event(object: ObjectSchema, commit: Commit, sequenceNumber: number, recordIds: string[], changeType: EventChangeType, body: ReturnType<typeof changeBody>): ChangeEvent {
    const replayId = this.nextReplayId++;
    const header: ChangeEventHeader = {
      entityName: object.name,
      recordIds,
      changeType,
      changeOrigin: commit.origin,
      transactionKey: commit.transactionKey,
      sequenceNumber,
      commitTimestamp: commit.stampMs,
      commitNumber: commit.commitNumber,
      commitUser: commit.userId,
      nulledFields: body.nulledFields,
      diffFields: [],
      changedFields: body.changedFields,
    };
    return {
      replayId,
      entityName: object.name,
      commitMs: commit.stampMs,
      data: { schema: schemaIdOf(object), payload: { ChangeEventHeader: header, ...body.fields }, event: { replayId } },
    };
  }

  private publish(events: ChangeEvent[]): void {
    if (!events.length) return;
    this.expire();
    for (const event of events) this.events.push(event);
    if (this.events.length > MAX_RETAINED) this.events.splice(0, this.events.length - MAX_RETAINED);
    for (const event of events) for (const listener of this.listeners) listener(event);
  }

  /** Drops the events older than the retention window of the org clock. */
  private expire(): void {
    const cutoff = this.org.clock.nowMs() - RETENTION_MS;
    let drop = 0;
    while (drop < this.events.length && this.events[drop]!.commitMs < cutoff) drop++;
    if (drop) this.events.splice(0, drop);
  }
}

interface Commit {
  origin: string;
  stampMs: number;
  userId: string;
  commitNumber: number;
  transactionKey: string;
}

/** Two records' changes merge when they set the same values, datetimes compared to the second. */
function mergeKey(body: ReturnType<typeof changeBody>): string {
  return JSON.stringify([body.fields, body.changedFields, body.nulledFields], (_key, value: unknown) =>
    typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d+Z$/.test(value) ? `${value.slice(0, 19)}Z` : value,
  );
}

/** Binary search: replay IDs increase along the retained events. */
function indexOfReplayId(events: readonly ChangeEvent[], replayId: number): number {
  let lo = 0;
  let hi = events.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const id = events[mid]!.replayId;
    if (id === replayId) return mid;
    if (id < replayId) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

const states = new WeakMap<Org, ChangeDataCapture>();

/** The Change Data Capture state of an org, created (and listening to its changes) on first use. */
export function changeDataCapture(org: Org): ChangeDataCapture {
  let state = states.get(org);
  if (!state) {
    state = new ChangeDataCapture(org);
    states.set(org, state);
  }
  return state;
}

/** Objects the `demo` profile selects for Change Data Capture. */
export const DEMO_CDC_OBJECTS = ['Account', 'Contact', 'Opportunity', 'Case'];

/** Selects the demo profile's objects for Change Data Capture. Call it once the demo org is built. */
export function enableDemoChangeDataCapture(org: Org): void {
  changeDataCapture(org).select(DEMO_CDC_OBJECTS);
}

