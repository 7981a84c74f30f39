import { AccessControl } from './access.ts';
import { OrgClock } from './clock.ts';
import { coerceFieldValue, isLengthBounded } from './coerce.ts';
import { RecordWriteError, SalesforceError } from './errors.ts';
import { IdAllocator, orgIdOn, toId18 } from './ids.ts';
import { Schema } from './schema.ts';
import type { FieldDef, ObjectDef, ObjectSchema, StoredRecord } from './schema.ts';
import type { QuerySource } from '../soql/source.ts';
import { formatDatetime } from './values.ts';

/** Days a deleted record stays in the Recycle Bin before Salesforce purges it. */
export const RECYCLE_BIN_DAYS = 15;
const DAY_MS = 86_400_000;

export type ChangeType = 'CREATE' | 'UPDATE' | 'DELETE' | 'UNDELETE';

/** One committed change, as Change Data Capture and getUpdated/getDeleted see it. */
export interface OrgChange {
  object: string;
  changeType: ChangeType;
  recordId: string;
  /** Fields whose value changed (for UPDATE); every set field for CREATE. */
  changedFields: string[];
  /** The record after the change (before it, for DELETE). */
  record: StoredRecord;
  stampMs: number;
  userId: string;
  transactionKey: string;
}

export interface WriteOptions {
  /** The user the write runs as (CreatedById, LastModifiedById, the CDC commit user). */
  userId: string;
  /** Seeding and activity bypass the API user's permissions, as Apex in system mode would. */
  system?: boolean;
  /** Several records of a bulk change share one SystemModstamp, as they do in Salesforce. */
  stampMs?: number;
  /** `Sforce-Duplicate-Rule-Header: allowSave=true`. */
  allowDuplicates?: boolean;
}

/** What a behaviour sees of a write. `record` is the record as it will be (or was, for delete). */
export interface WriteContext {
  org: Org;
  object: ObjectSchema;
  operation: 'create' | 'update' | 'delete' | 'undelete';
  record: StoredRecord;
  previous: StoredRecord | undefined;
  /** The fields the caller set, after type coercion. */
  input: Record<string, unknown>;
  options: WriteOptions;
}

/** An org behaviour hooked into the write pipeline (see `Org.behaviours`). */
export interface WriteBehaviour {
  name: string;
  /** Errors that reject the write, reported with Salesforce's status codes. */
  validate?(ctx: WriteContext): SalesforceError[] | undefined;
  /** Runs once the record is stored, inside the transaction: triggers, related records. Throwing rolls back. */
  afterSave?(ctx: WriteContext): void;
}

/** A deleted record's place in the Recycle Bin; children deleted with it come back with it. */
export interface RecycleEntry {
  id: string;
  object: string;
  deletedMs: number;
  /** The top record of a cascade; children share it and are undeleted with it. */
  rootId: string;
  /** Lookups cleared by this delete, restored on undelete. */
  clearedLookups: { childId: string; field: string }[];
}

/** A deletion kept for getDeleted, which reports deletes within its window even after purge. */
export interface DeletionLogEntry {
  id: string;
  object: string;
  deletedDate: string;
  deletedMs: number;
}

export interface ConnectedApp {
  clientId: string;
  clientSecret: string;
  /** PEM of the certificate's public key, against which JWT bearer assertions are checked. */
  certificatePem: string;
  /** Kept so tests and the demo can sign assertions; a real org never has it. */
  privateKeyPem: string;
  /** Callback URLs of the web-server flow; absent means the emulator's defaults (see auth/web-server-flow.ts). */
  callbackUrls?: string[];
}

export interface OrgState {
  version: number;
  orgId: string;
  orgName: string;
  apiUserId: string;
  nowMs: number;
  ids: Record<string, number>;
  autoNumbers: Record<string, number>;
  credentials: Record<string, string>;
  connectedApp: ConnectedApp | undefined;
  settings: OrgSettings;
  permissions: ReturnType<AccessControl['exportState']>;
  tables: Record<string, StoredRecord[]>;
  recycleBin: RecycleEntry[];
  deletionLog: DeletionLogEntry[];
}

export interface OrgSettings {
  sessionTimeoutSeconds: number;
  dailyApiRequests: number;
  /**
   * Open query cursors per user, opening one more releasing the oldest. Absent (the default) is
   * no limit, as in Salesforce since API version 56.0; 10 is the limit orgs had before.
   */
  queryCursorsPerUser?: number;
}

/**
 * The emulated org: schema, records, Recycle Bin and the write pipeline every API goes through.
 * Records are immutable objects replaced on every write, so query cursors keep a consistent
 * snapshot and transactions roll back by putting the old objects back.
 */
export class Org {
  readonly clock: OrgClock;
  readonly access = new AccessControl();
  readonly ids: IdAllocator;
  readonly settings: OrgSettings;
  readonly credentials = new Map<string, string>();
  orgId: string;
  orgName = 'Acme Emulated Org';
  apiUserId = '';
  connectedApp: ConnectedApp | undefined;

  private full: Schema;
  private schemaVersion = 0;
  private readonly tables = new Map<string, Map<string, StoredRecord>>();
  private readonly recycleBin = new Map<string, RecycleEntry>();
  /** The earliest deletion time in the Recycle Bin, so expiry checks cost nothing most of the time. */
  private oldestRecycleMs = Infinity;
  private readonly deletionLog: DeletionLogEntry[] = [];
  /** parent ID → child ID → reference fields of the child that point at the parent. */
  private readonly referrers = new Map<string, Map<string, string[]>>();
  private readonly uniqueIndexes = new Map<string, Map<string, string>>();
  private rollupsByChild = new Map<string, { master: string; field: FieldDef }[]>();
  private readonly listeners = new Set<(changes: OrgChange[]) => void>();
  private journal: (() => void)[] | undefined;
  private pending: OrgChange[] | undefined;
  private transactionCounter = 0;
  private revision = 0;

  constructor(defs: ObjectDef[], options: { now?: Date; settings?: Partial<OrgSettings>; instance?: string } = {}) {
    this.clock = new OrgClock(options.now);
    this.full = new Schema(defs);
    this.ids = new IdAllocator(options.instance);
    this.orgId = orgIdOn(this.ids.instancePart);
    this.settings = { sessionTimeoutSeconds: 7200, dailyApiRequests: 100_000, ...options.settings };
    this.indexSchema();
  }

  /** The instance part of every ID of this org (`5g` unless the emulator was started with another). */
  get instance(): string {
    return this.ids.instancePart;
  }

  // ---------------------------------------------------------------- schema

  /** Every object, visible or not. Admin operations and seeding use this. */
  get schema(): Schema {
    return this.full;
  }

  /** The schema as the API user sees it. */
  get visibleSchema(): Schema {
    return this.access.view(this.full, this.schemaVersion);
  }

  /** Adds or replaces an object definition (metadata changes). */
  defineObject(def: ObjectDef): void {
    this.full = new Schema([...this.full.objects().filter((o) => o.name.toLowerCase() !== def.name.toLowerCase()).map((o) => o.def), def]);
    this.schemaVersion++;
    this.indexSchema();
  }

  private indexSchema(): void {
    this.rollupsByChild = new Map();
    for (const object of this.full.objects()) {
      if (!this.tables.has(object.name)) this.tables.set(object.name, new Map());
      for (const field of object.def.fields) {
        if (!field.rollup) continue;
        const list = this.rollupsByChild.get(field.rollup.childObject) ?? [];
        list.push({ master: object.name, field });
        this.rollupsByChild.set(field.rollup.childObject, list);
      }
    }
  }

  private objectOrThrow(name: string, visibleOnly: boolean): ObjectSchema {
    const object = (visibleOnly ? this.visibleSchema : this.full).object(name);
    if (!object) {
      throw new SalesforceError('NOT_FOUND', 'The requested resource does not exist', { status: 404 });
    }
    return object;
  }

  // ---------------------------------------------------------------- reads

  /**
   * A number that changes whenever what the API user reads may: any stored record (writes,
   * deletes, purges, roll-ups, undo, loading a state) or the user's permissions. Work derived from
   * reads, such as a query page printed ahead of its request, is valid while it has not changed.
   */
  get readRevision(): number {
    // Both counters only grow, so their sum changes whenever either does.
    return this.revision + this.access.revision;
  }

  /** A stored record by ID (15 or 18 characters), deleted ones included. */
  get(id: string): StoredRecord | undefined {
    // An ID as stored (formulas and paths look up reference values) needs no normalising: only a
    // canonical 18-character ID can be a table's key.
    if (id.length === 18) {
      const object = this.full.objectForId(id);
      const found = object && this.tables.get(object.name)?.get(id);
      if (found) return found;
    }
    const id18 = toId18(id);
    if (!id18) return undefined;
    const object = this.full.objectForId(id18);
    return object ? this.tables.get(object.name)?.get(id18) : undefined;
  }

  /** All records of an object in insertion order, deleted ones included. */
  records(objectName: string): IterableIterator<StoredRecord> {
    const object = this.full.object(objectName);
    return (object ? this.tables.get(object.name) : undefined)?.values() ?? new Map<string, StoredRecord>().values();
  }

  count(objectName: string, includeDeleted = false): number {
    const object = this.full.object(objectName);
    const table = object ? this.tables.get(object.name) : undefined;
    if (!table) return 0;
    if (includeDeleted) return table.size;
    let n = 0;
    for (const r of table.values()) if (!r.IsDeleted) n++;
    return n;
  }

  isInRecycleBin(id: string): boolean {
    this.purgeExpired();
    return this.recycleBin.has(id);
  }

  /** Deletions in [startMs, endMs), for getDeleted, and the earliest date still known. */
  deletions(objectName: string, startMs: number, endMs: number): DeletionLogEntry[] {
    this.purgeExpired();
    const key = objectName.toLowerCase();
    return this.deletionLog.filter((d) => d.object.toLowerCase() === key && d.deletedMs >= startMs && d.deletedMs < endMs);
  }

  /** A field value as a user sees it: formulas computed on read, encrypted text masked. */
  readField(object: ObjectSchema, record: StoredRecord, fieldName: string): unknown {
    const field = object.field(fieldName);
    if (!field) return undefined;
    if (field.formula) {
      return field.formula({ record, lookup: (id) => this.get(id) });
    }
    const value = record[field.name];
    if (field.encrypted && typeof value === 'string' && !this.access.permissions.viewEncryptedData) {
      return (field.maskChar ?? '*').repeat(value.length);
    }
    return value ?? null;
  }

  /** `readField` for one field, resolved once for many records. */
  fieldReader(_object: ObjectSchema, field: FieldDef): (record: StoredRecord) => unknown {
    const name = field.name;
    if (this.isStoredValue(field)) return (record) => record[name] ?? null;
    if (field.formula) {
      const formula = field.formula;
      const lookup = (id: string): StoredRecord | undefined => this.get(id);
      return (record) => formula({ record, lookup });
    }
    // Not stored as is and not a formula: masked.
    const mask = field.maskChar ?? '*';
    return (record) => {
      const value = record[name];
      return typeof value === 'string' ? mask.repeat(value.length) : (value ?? null);
    };
  }

  /** Whether a field reads as its stored value as is (no formula, no mask): fieldReader's plain case. */
  isStoredValue(field: FieldDef): boolean {
    return !field.formula && !(field.encrypted && !this.access.permissions.viewEncryptedData);
  }

  /** The API user's view of the data for the SOQL engine. */
  querySource(): QuerySource {
    this.purgeExpired();
    return {
      schema: this.visibleSchema,
      scan: (objectName, includeDeleted) => this.scan(objectName, includeDeleted),
      get: (id) => this.get(id),
      readField: (object, record, field) => this.readField(object, record, field),
      fieldReader: (object, field) => this.fieldReader(object, field),
      isStoredValue: (_object, field) => this.isStoredValue(field),
      nowMs: () => this.clock.nowMs(),
    };
  }

  private *scan(objectName: string, includeDeleted: boolean): Iterable<StoredRecord> {
    for (const record of this.records(objectName)) {
      if (includeDeleted || !record.IsDeleted) yield record;
    }
  }

  // ---------------------------------------------------------------- behaviours

  /**
   * Org behaviour beyond the platform's own rules: validation rules, lookup filters, approval
   * locks, duplicate rules, triggers, the files content model. Each runs on every write through
   * the API (not on seeding, which writes in system mode), inside the write's transaction.
   */
  readonly behaviours: WriteBehaviour[] = [];

  /** Adds a behaviour, replacing one of the same name. */
  addBehaviour(behaviour: WriteBehaviour): void {
    const at = this.behaviours.findIndex((b) => b.name === behaviour.name);
    if (at >= 0) this.behaviours[at] = behaviour;
    else this.behaviours.push(behaviour);
  }

  removeBehaviour(name: string): void {
    const at = this.behaviours.findIndex((b) => b.name === name);
    if (at >= 0) this.behaviours.splice(at, 1);
  }

  private runValidations(ctx: WriteContext): void {
    if (ctx.options.system || !this.behaviours.length) return;
    const errors: SalesforceError[] = [];
    for (const behaviour of this.behaviours) {
      const found = behaviour.validate?.(ctx);
      if (found?.length) errors.push(...found);
    }
    if (errors.length) throw new RecordWriteError(errors);
  }

  private runAfterSave(ctx: WriteContext): void {
    if (ctx.options.system) return;
    for (const behaviour of this.behaviours) behaviour.afterSave?.(ctx);
  }

  // ---------------------------------------------------------------- change feed

  /** Listens to committed changes (Change Data Capture, statistics). Returns an unsubscribe. */
  onChange(listener: (changes: OrgChange[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Runs writes atomically: if `work` throws, every record, index and Recycle Bin entry it touched
   * is put back and no change event is published (composite allOrNone, collections).
   */
  transaction<T>(work: () => T): T {
    if (this.journal) return work();
    this.journal = [];
    this.pending = [];
    const txKey = `tx-${(++this.transactionCounter).toString(36)}`;
    try {
      const result = work();
      const changes = this.pending.map((c) => ({ ...c, transactionKey: txKey }));
      this.journal = undefined;
      this.pending = undefined;
      if (changes.length) for (const l of this.listeners) l(changes);
      return result;
    } catch (error) {
      const undo = this.journal ?? [];
      this.journal = undefined;
      this.pending = undefined;
      for (let i = undo.length - 1; i >= 0; i--) undo[i]!();
      throw error;
    }
  }

  private emit(change: Omit<OrgChange, 'transactionKey'>): void {
    if (this.pending) this.pending.push({ ...change, transactionKey: '' });
  }

  private onUndo(fn: () => void): void {
    this.journal?.push(fn);
  }

  // ---------------------------------------------------------------- writes

  /** Creates a record through the full validation pipeline. Returns the stored record. */
  insert(objectName: string, input: Record<string, unknown>, options: WriteOptions): StoredRecord {
    return this.transaction(() => {
      const object = this.objectOrThrow(objectName, !options.system);
      if (!options.system && !object.def.createable) {
        throw new RecordWriteError([new SalesforceError('INSUFFICIENT_ACCESS_OR_READONLY', 'insufficient access rights on object id')]);
      }
      const stampMs = options.stampMs ?? this.clock.stampMs();
      const stamp = formatDatetime(stampMs);
      const values = this.validateInput(object, input, 'create', options);
      const fullObject = this.full.object(object.name)!;
      const record: StoredRecord = { Id: this.ids.next(object.def.keyPrefix) };
      for (const field of fullObject.def.fields) {
        if (field.formula || field.type === 'address' || field.type === 'location' || field.name === 'Id') continue;
        if (field.name in values) record[field.name] = values[field.name];
        else if (field.defaultValue !== undefined) record[field.name] = field.defaultValue;
        else if (field.type === 'boolean') record[field.name] = false;
        else if (field.picklistValues && field.type === 'picklist') {
          record[field.name] = field.picklistValues.find((p) => p.defaultValue)?.value ?? null;
        } else record[field.name] = null;
      }
      this.applySystemFieldsOnCreate(fullObject, record, stamp, options, values);
      this.applyAutoNumbers(fullObject, record);
      this.applyRollupDefaults(fullObject, record);
      this.checkRequired(fullObject, record, values, 'create');
      this.checkUnique(fullObject, record, undefined);
      this.runValidations({ org: this, object: fullObject, operation: 'create', record, previous: undefined, input: values, options });
      this.put(fullObject.name, record);
      this.emit({ object: fullObject.name, changeType: 'CREATE', recordId: record.Id, changedFields: Object.keys(record), record, stampMs, userId: options.userId });
      this.recomputeRollups(fullObject.name, [record], stampMs);
      this.runAfterSave({ org: this, object: fullObject, operation: 'create', record, previous: undefined, input: values, options });
      return this.tables.get(fullObject.name)!.get(record.Id)!;
    });
  }

  /** Updates fields of an existing record. Only fields that differ move anything. */
  update(objectName: string, id: string, input: Record<string, unknown>, options: WriteOptions): StoredRecord {
    return this.transaction(() => {
      const object = this.objectOrThrow(objectName, !options.system);
      const current = this.requireLive(object, id);
      if (!options.system && !object.def.updateable) {
        throw new RecordWriteError([new SalesforceError('INSUFFICIENT_ACCESS_OR_READONLY', 'insufficient access rights on object id')]);
      }
      const values = this.validateInput(object, input, 'update', options);
      const fullObject = this.full.object(object.name)!;
      const next: StoredRecord = { ...current, ...values, Id: current.Id };
      this.checkRequired(fullObject, next, values, 'update');
      this.checkUnique(fullObject, next, current.Id);
      this.runValidations({ org: this, object: fullObject, operation: 'update', record: next, previous: current, input: values, options });
      const changed = Object.keys(values).filter((k) => current[k] !== values[k]);
      const stampMs = options.stampMs ?? this.clock.stampMs();
      const stamp = formatDatetime(stampMs);
      // Salesforce moves LastModifiedDate and SystemModstamp on every successful update call, even
      // when no value changed.
      if (fullObject.has('LastModifiedDate')) next.LastModifiedDate = stamp;
      if (fullObject.has('LastModifiedById')) next.LastModifiedById = options.userId;
      if (fullObject.has('SystemModstamp')) next.SystemModstamp = stamp;
      this.put(fullObject.name, next, current);
      this.emit({ object: fullObject.name, changeType: 'UPDATE', recordId: next.Id, changedFields: changed, record: next, stampMs, userId: options.userId });
      this.recomputeRollups(fullObject.name, [current, next], stampMs);
      this.runAfterSave({ org: this, object: fullObject, operation: 'update', record: next, previous: current, input: values, options });
      return this.tables.get(fullObject.name)!.get(next.Id)!;
    });
  }

  /** Changes fields without moving LastModifiedDate (roll-ups, cleared lookups): SystemModstamp only. */
  private touchSystem(objectName: string, id: string, values: Record<string, unknown>, stampMs: number, userId: string): void {
    const current = this.tables.get(objectName)?.get(id);
    if (!current) return;
    const next: StoredRecord = { ...current, ...values };
    if ('SystemModstamp' in current) next.SystemModstamp = formatDatetime(stampMs);
    this.put(objectName, next, current);
    this.emit({ object: objectName, changeType: 'UPDATE', recordId: id, changedFields: Object.keys(values), record: next, stampMs, userId });
  }

  /**
   * Deletes a record into the Recycle Bin, cascading to master-detail children and the standard
   * cascades (an Account's contacts, opportunities and cases), and clearing other lookups to it.
   */
  delete(id: string, options: WriteOptions): void {
    this.transaction(() => {
      this.purgeExpired();
      const id18 = toId18(id);
      const object = id18 ? this.full.objectForId(id18) : undefined;
      if (!id18 || !object) throw new RecordWriteError([new SalesforceError('MALFORMED_ID', `malformed id ${id}`)]);
      if (!options.system && !this.visibleSchema.object(object.name)) {
        throw new RecordWriteError([new SalesforceError('INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id')]);
      }
      const record = this.requireLive(object, id18);
      if (!object.def.deletable && !options.system) {
        throw new RecordWriteError([new SalesforceError('INSUFFICIENT_ACCESS_OR_READONLY', 'insufficient access rights on object id')]);
      }
      const stampMs = options.stampMs ?? this.clock.stampMs();
      this.checkRestrictedDelete(object, record);
      this.runValidations({ org: this, object, operation: 'delete', record, previous: record, input: {}, options });
      this.deleteCascade(object, record, record.Id, stampMs, options.userId);
      this.runAfterSave({ org: this, object, operation: 'delete', record: this.tables.get(object.name)?.get(record.Id) ?? record, previous: record, input: {}, options });
    });
  }

  private deleteCascade(object: ObjectSchema, record: StoredRecord, rootId: string, stampMs: number, userId: string): void {
    const cleared: { childId: string; field: string }[] = [];
    const children = [...(this.referrers.get(record.Id)?.entries() ?? [])];
    for (const [childId, fields] of children) {
      const childObject = this.full.objectForId(childId);
      const child = childObject && this.tables.get(childObject.name)?.get(childId);
      if (!childObject || !child || child.IsDeleted) continue;
      const cascades = fields.some((f) => childObject.field(f)?.cascadeDelete);
      if (cascades) {
        this.deleteCascade(childObject, child, rootId, stampMs, userId);
      } else {
        const values: Record<string, unknown> = {};
        for (const f of fields) {
          if (childObject.field(f)?.polymorphicForeignKey && f === 'ParentId') continue;
          values[f] = null;
          cleared.push({ childId, field: f });
        }
        if (Object.keys(values).length) this.touchSystem(childObject.name, childId, values, stampMs, userId);
      }
    }
    const stamp = formatDatetime(stampMs);
    const deleted: StoredRecord = { ...record, IsDeleted: true };
    if (object.has('SystemModstamp')) deleted.SystemModstamp = stamp;
    if (object.has('LastModifiedDate')) deleted.LastModifiedDate = stamp;
    if (object.has('LastModifiedById')) deleted.LastModifiedById = userId;
    const keepsInBin = object.def.recycleBin !== false && object.def.undeletable;
    if (keepsInBin) this.put(object.name, deleted, record);
    else this.remove(object.name, record);
    const entry: RecycleEntry = { id: record.Id, object: object.name, deletedMs: stampMs, rootId, clearedLookups: cleared };
    if (keepsInBin) this.setRecycle(entry);
    this.logDeletion({ id: record.Id, object: object.name, deletedDate: stamp, deletedMs: stampMs });
    this.emit({ object: object.name, changeType: 'DELETE', recordId: record.Id, changedFields: [], record: deleted, stampMs, userId });
    this.recomputeRollups(object.name, [record], stampMs);
  }

  /** Brings a record and the children deleted with it back from the Recycle Bin. */
  undelete(id: string, options: WriteOptions): StoredRecord {
    return this.transaction(() => {
      this.purgeExpired();
      const id18 = toId18(id);
      const object = id18 ? this.full.objectForId(id18) : undefined;
      const record = object && id18 ? this.tables.get(object.name)?.get(id18) : undefined;
      if (!id18 || !object) throw new RecordWriteError([new SalesforceError('MALFORMED_ID', `malformed id ${id}`)]);
      if (!record) throw new RecordWriteError([new SalesforceError('INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id')]);
      if (!record.IsDeleted) throw new RecordWriteError([new SalesforceError('UNDELETE_FAILED', 'Entity is not in the recycle bin')]);
      if (!object.def.undeletable) throw new RecordWriteError([new SalesforceError('UNDELETE_FAILED', `${object.def.label} cannot be undeleted`)]);
      for (const field of object.def.fields) {
        if (!field.cascadeDelete || field.relationshipOrder === undefined) continue;
        const parent = record[field.name] ? this.get(String(record[field.name])) : undefined;
        if (parent?.IsDeleted) {
          throw new RecordWriteError([new SalesforceError('UNDELETE_FAILED', `Undelete failed. First undelete ${this.full.objectForId(parent.Id)?.def.label ?? 'parent'} ${parent.Id}.`)]);
        }
      }
      const stampMs = options.stampMs ?? this.clock.stampMs();
      this.runValidations({ org: this, object, operation: 'undelete', record, previous: record, input: {}, options });
      const group = [...this.recycleBin.values()].filter((e) => e.rootId === id18 || e.id === id18);
      for (const entry of group) this.restoreOne(entry, stampMs, options.userId);
      const restored = this.tables.get(object.name)!.get(id18)!;
      this.runAfterSave({ org: this, object, operation: 'undelete', record: restored, previous: record, input: {}, options });
      return this.tables.get(object.name)!.get(id18)!;
    });
  }

  private restoreOne(entry: RecycleEntry, stampMs: number, userId: string): void {
    const table = this.tables.get(entry.object)!;
    const current = table.get(entry.id);
    if (!current) return;
    const object = this.full.object(entry.object)!;
    const stamp = formatDatetime(stampMs);
    const restored: StoredRecord = { ...current, IsDeleted: false };
    if (object.has('SystemModstamp')) restored.SystemModstamp = stamp;
    if (object.has('LastModifiedDate')) restored.LastModifiedDate = stamp;
    if (object.has('LastModifiedById')) restored.LastModifiedById = userId;
    // A unique value taken by another record while this one sat in the Recycle Bin blocks it.
    this.checkUnique(object, restored, restored.Id);
    this.put(entry.object, restored, current);
    this.deleteRecycle(entry);
    this.emit({ object: entry.object, changeType: 'UNDELETE', recordId: entry.id, changedFields: [], record: restored, stampMs, userId });
    for (const { childId, field } of entry.clearedLookups) {
      const childObject = this.full.objectForId(childId);
      const child = childObject && this.tables.get(childObject.name)?.get(childId);
      if (childObject && child && child[field] === null) this.touchSystem(childObject.name, childId, { [field]: entry.id }, stampMs, userId);
    }
    this.recomputeRollups(entry.object, [restored], stampMs);
  }

  /** Removes records from the Recycle Bin for good (emptyRecycleBin, hardDelete). */
  purge(id: string): void {
    this.transaction(() => {
      const id18 = toId18(id);
      const entry = id18 ? this.recycleBin.get(id18) : undefined;
      if (!entry) return;
      const record = this.tables.get(entry.object)?.get(entry.id);
      this.deleteRecycle(entry);
      if (record) this.remove(entry.object, record);
    });
  }

  /** Records whose 15 days in the Recycle Bin are over are gone, as in Salesforce. */
  purgeExpired(): void {
    // Expiry is a fact of time, not part of the caller's work: it is never journaled, so a rolled
    // back transaction cannot bring an expired record back without its Recycle Bin entry.
    const now = this.clock.nowMs();
    const logCutoff = now - 30 * DAY_MS;
    if (this.deletionLog.length && this.deletionLog[0]!.deletedMs < logCutoff) {
      const keep = this.deletionLog.filter((d) => d.deletedMs >= logCutoff);
      this.deletionLog.length = 0;
      for (const d of keep) this.deletionLog.push(d);
    }
    const cutoff = now - RECYCLE_BIN_DAYS * DAY_MS;
    // Called before most reads and writes: nothing to do unless the oldest entry has expired.
    if (this.oldestRecycleMs >= cutoff) return;
    this.oldestRecycleMs = Infinity;
    for (const entry of this.recycleBin.values()) {
      if (entry.deletedMs >= cutoff) {
        this.oldestRecycleMs = Math.min(this.oldestRecycleMs, entry.deletedMs);
        continue;
      }
      if (entry.deletedMs >= cutoff) continue;
      const table = this.tables.get(entry.object);
      const record = table?.get(entry.id);
      this.recycleBin.delete(entry.id);
      if (table && record) {
        table.delete(record.Id);
        this.reindex(entry.object, record, undefined);
      }
    }
  }

  /**
   * Loads a record without validation, for seeding large profiles quickly. System fields the
   * caller leaves out are filled in; indexes are kept.
   */
  load(objectName: string, values: Record<string, unknown>, options: { userId: string; stampMs: number; createdMs?: number }): StoredRecord {
    const object = this.full.object(objectName);
    if (!object) throw new Error(`load: unknown object ${objectName}`);
    const record = { ...values, Id: (values.Id as string | null | undefined) ?? this.ids.next(object.def.keyPrefix) } as StoredRecord;
    for (const field of object.def.fields) {
      if (record[field.name] !== undefined || field.formula || field.type === 'address' || field.type === 'location') continue;
      switch (field.name) {
        case 'IsDeleted': record.IsDeleted = false; break;
        case 'CreatedDate': record.CreatedDate = formatDatetime(options.createdMs ?? options.stampMs); break;
        case 'LastModifiedDate': case 'SystemModstamp': record[field.name] = formatDatetime(options.stampMs); break;
        case 'CreatedById': case 'LastModifiedById': case 'OwnerId': record[field.name] = options.userId; break;
        default: record[field.name] = field.type === 'boolean' ? false : (field.defaultValue ?? null);
      }
    }
    this.applyAutoNumbers(object, record);
    this.put(object.name, record);
    return record;
  }

  /** Recomputes every roll-up field, after seeding with `load`. */
  recomputeAllRollups(): void {
    for (const [childObject, rollups] of this.rollupsByChild) {
      const totals = new Map<string, Map<string, number[]>>();
      for (const child of this.records(childObject)) {
        if (child.IsDeleted) continue;
        for (const { field } of rollups) {
          const parentId = child[field.rollup!.childField] as string | null;
          if (!parentId) continue;
          const perField = totals.get(field.name) ?? new Map<string, number[]>();
          const list = perField.get(parentId) ?? [];
          list.push(this.rollupInput(childObject, child, field));
          perField.set(parentId, list);
          totals.set(field.name, perField);
        }
      }
      for (const { master, field } of rollups) {
        const table = this.tables.get(master)!;
        for (const [id, record] of table) {
          const value = summarize(field, totals.get(field.name)?.get(id) ?? []);
          if (record[field.name] === value) continue;
          table.set(id, { ...record, [field.name]: value });
          this.revision++;
        }
      }
    }
  }

  // ---------------------------------------------------------------- persistence

  /** Everything needed to bring the org back in another process (`--state FILE`). */
  exportState(): OrgState {
    return {
      version: 1,
      orgId: this.orgId,
      orgName: this.orgName,
      apiUserId: this.apiUserId,
      nowMs: this.clock.nowMs(),
      ids: this.ids.snapshot(),
      autoNumbers: Object.fromEntries(this.autoNumbers),
      credentials: Object.fromEntries(this.credentials),
      connectedApp: this.connectedApp,
      settings: { ...this.settings },
      permissions: this.access.exportState(),
      tables: Object.fromEntries([...this.tables].filter(([, t]) => t.size).map(([name, t]) => [name, [...t.values()]])),
      recycleBin: [...this.recycleBin.values()],
      deletionLog: this.deletionLog.map((d) => ({ ...d })),
    };
  }

  /** Replaces this org's data with a saved state. The schema stays the one it was built with. */
  importState(state: OrgState): void {
    if (state.version !== 1) throw new Error(`unsupported emulator state version ${String(state.version)}`);
    this.orgId = state.orgId;
    this.orgName = state.orgName;
    this.apiUserId = state.apiUserId;
    this.clock.set(state.nowMs);
    this.ids.restore(state.ids);
    this.autoNumbers.clear();
    for (const [k, v] of Object.entries(state.autoNumbers)) this.autoNumbers.set(k, v);
    this.credentials.clear();
    for (const [k, v] of Object.entries(state.credentials)) this.credentials.set(k, v);
    this.connectedApp = state.connectedApp;
    Object.assign(this.settings, state.settings);
    this.access.importState(state.permissions);
    for (const table of this.tables.values()) table.clear();
    this.revision++;
    this.referrers.clear();
    this.uniqueIndexes.clear();
    for (const [name, records] of Object.entries(state.tables)) {
      if (!this.full.object(name)) continue;
      for (const record of records) this.put(name, record);
    }
    this.recycleBin.clear();
    for (const entry of state.recycleBin) this.recycleBin.set(entry.id, entry);
    const log = state.deletionLog.slice().sort((a, b) => a.deletedMs - b.deletedMs);
    this.deletionLog.length = 0;
    for (const entry of log) this.deletionLog.push(entry);
    this.oldestRecycleMs = Infinity;
    for (const entry of this.recycleBin.values()) this.oldestRecycleMs = Math.min(this.oldestRecycleMs, entry.deletedMs);
  }

  // ---------------------------------------------------------------- pipeline steps

  private requireLive(object: ObjectSchema, id: string): StoredRecord {
    const id18 = toId18(id);
    if (!id18 || id18.slice(0, 3) !== object.def.keyPrefix) {
      throw new RecordWriteError([new SalesforceError('MALFORMED_ID', `${object.def.label} ID: id value of incorrect type: ${id}`, { fields: ['Id'] })]);
    }
    const record = this.tables.get(object.name)?.get(id18);
    if (!record) throw new RecordWriteError([new SalesforceError('NOT_FOUND', 'The requested resource does not exist', { status: 404 })]);
    if (record.IsDeleted) throw new RecordWriteError([new SalesforceError('ENTITY_IS_DELETED', 'entity is deleted', { fields: [] })]);
    return record;
  }

  /**
   * Field-level checks for a create or update: existence, permission, type, length, picklists,
   * references. Collects every problem, as Salesforce reports them together.
   */
  private validateInput(object: ObjectSchema, input: Record<string, unknown>, mode: 'create' | 'update', options: WriteOptions): Record<string, unknown> {
    const errors: SalesforceError[] = [];
    const values: Record<string, unknown> = {};
    const notWritable: string[] = [];
    for (const [key, raw] of Object.entries(input)) {
      if (key === 'attributes') continue;
      const field = object.field(key);
      if (!field) {
        throw new RecordWriteError([new SalesforceError('INVALID_FIELD', `No such column '${key}' on sobject of type ${object.name}`)]);
      }
      if (field.name === 'Id' && mode === 'update') continue;
      const writable = options.system
        ? !field.formula && field.name !== 'Id'
        : mode === 'create' ? field.createable : field.updateable;
      if (!writable) {
        notWritable.push(field.name);
        continue;
      }
      let value: unknown;
      try {
        value = coerceFieldValue(field, raw);
      } catch (error) {
        if (error instanceof SalesforceError) throw new RecordWriteError([error]);
        throw error;
      }
      const problem = this.checkValue(object, field, value, options);
      if (problem) errors.push(problem);
      else values[field.name] = value;
    }
    if (notWritable.length) {
      errors.unshift(new SalesforceError('INVALID_FIELD_FOR_INSERT_UPDATE', `Unable to create/update fields: ${notWritable.join(', ')}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.`, { fields: notWritable }));
    }
    if (errors.length) throw new RecordWriteError(errors);
    return values;
  }

  private checkValue(object: ObjectSchema, field: FieldDef, value: unknown, options: WriteOptions): SalesforceError | undefined {
    if (value === null) return undefined;
    if (isLengthBounded(field) && field.length && typeof value === 'string' && value.length > field.length) {
      const shown = value.length > 40 ? `${value.slice(0, 40)}...` : value;
      return new SalesforceError('STRING_TOO_LONG', `${field.label}: data value too large: ${shown} (max length=${field.length})`, { fields: [field.name] });
    }
    if (field.type === 'picklist' && field.restrictedPicklist) {
      if (!field.picklistValues?.some((p) => p.active && p.value === value)) {
        return new SalesforceError('INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', `${field.label}: bad value for restricted picklist field: ${String(value)}`, { fields: [field.name] });
      }
    }
    if (field.type === 'multipicklist' && field.restrictedPicklist) {
      const bad = String(value).split(';').find((v) => !field.picklistValues?.some((p) => p.active && p.value === v));
      if (bad !== undefined) {
        return new SalesforceError('INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', `${field.label}: bad value for restricted picklist field: ${bad}`, { fields: [field.name] });
      }
    }
    if (field.type === 'reference' && field.referenceTo?.length) {
      return this.checkReference(object, field, String(value), options);
    }
    return undefined;
  }

  private checkReference(object: ObjectSchema, field: FieldDef, value: string, options: WriteOptions): SalesforceError | undefined {
    const id18 = toId18(value);
    if (!id18) return new SalesforceError('MALFORMED_ID', `${field.label}: id value of incorrect type: ${value}`, { fields: [field.name] });
    const target = this.full.objectForId(id18);
    if (!target || !field.referenceTo!.some((t) => t.toLowerCase() === target.name.toLowerCase())) {
      return new SalesforceError('FIELD_INTEGRITY_EXCEPTION', `${field.label}: id value of incorrect type: ${value}`, { fields: [field.name] });
    }
    const parent = this.tables.get(target.name)?.get(id18);
    if (!parent) return new SalesforceError('INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id', { fields: [field.name] });
    if (parent.IsDeleted) return new SalesforceError('ENTITY_IS_DELETED', 'entity is deleted', { fields: [field.name] });
    if (target.name === 'User' && parent.IsActive === false && !options.system) {
      if (field.name === 'OwnerId') {
        return new SalesforceError('INACTIVE_OWNER_OR_USER', `operation performed with inactive user [${id18.slice(0, 15)}] as owner of ${object.name.toLowerCase()}`, { fields: [] });
      }
    }
    return undefined;
  }

  private applySystemFieldsOnCreate(object: ObjectSchema, record: StoredRecord, stamp: string, options: WriteOptions, values: Record<string, unknown>): void {
    const set = (name: string, value: unknown): void => {
      if (object.has(name) && values[name] === undefined) record[name] = value;
    };
    set('IsDeleted', false);
    set('CreatedDate', stamp);
    set('CreatedById', options.userId);
    set('LastModifiedDate', values.CreatedDate ?? stamp);
    set('LastModifiedById', values.CreatedById ?? options.userId);
    if (object.has('SystemModstamp')) record.SystemModstamp = stamp;
    set('OwnerId', options.userId);
    if (object.has('IsDeleted')) record.IsDeleted = false;
  }

  private applyAutoNumbers(object: ObjectSchema, record: StoredRecord): void {
    for (const field of object.def.fields) {
      if (!field.autoNumber || record[field.name]) continue;
      const counter = (this.autoNumbers.get(`${object.name}.${field.name}`) ?? 0) + 1;
      this.autoNumbers.set(`${object.name}.${field.name}`, counter);
      const format = field.autoNumberFormat ?? '{0}';
      record[field.name] = format.replace(/\{(0+)\}/, (_m, zeros: string) => String(counter).padStart(zeros.length, '0'));
    }
  }

  private readonly autoNumbers = new Map<string, number>();

  private applyRollupDefaults(object: ObjectSchema, record: StoredRecord): void {
    for (const field of object.def.fields) if (field.rollup) record[field.name] = summarize(field, []);
  }

  private checkRequired(object: ObjectSchema, record: StoredRecord, values: Record<string, unknown>, mode: 'create' | 'update'): void {
    const missing = object.def.fields.filter((f) =>
      !f.nillable && (f.createable || f.updateable) && !f.defaultedOnCreate && !f.autoNumber && !f.formula && f.type !== 'boolean' &&
      (record[f.name] === null || record[f.name] === undefined || record[f.name] === '') &&
      // An update only fails on a required field the caller blanked.
      (mode === 'create' || values[f.name] !== undefined),
    );
    if (missing.length) {
      const names = missing.map((f) => f.name);
      throw new RecordWriteError([new SalesforceError('REQUIRED_FIELD_MISSING', `Required fields are missing: [${names.join(', ')}]`, { fields: names })]);
    }
  }

  private checkUnique(object: ObjectSchema, record: StoredRecord, selfId: string | undefined): void {
    for (const field of object.def.fields) {
      if (!field.unique) continue;
      const value = record[field.name];
      if (value === null || value === undefined) continue;
      const key = field.caseSensitive ? String(value) : String(value).toLowerCase();
      const other = this.uniqueIndexes.get(`${object.name}.${field.name}`)?.get(key);
      if (other && other !== selfId) {
        throw new RecordWriteError([new SalesforceError('DUPLICATE_VALUE', `duplicate value found: ${field.name} duplicates value on record with id: ${other}`, { fields: [] })]);
      }
    }
  }

  /** Records whose unique or external ID field equals a value (upsert's match). */
  findByField(objectName: string, fieldName: string, value: string): StoredRecord[] {
    const object = this.full.object(objectName);
    const field = object?.field(fieldName);
    if (!object || !field) return [];
    if (field.unique) {
      const key = field.caseSensitive ? value : value.toLowerCase();
      const id = this.uniqueIndexes.get(`${object.name}.${field.name}`)?.get(key);
      const record = id ? this.tables.get(object.name)?.get(id) : undefined;
      return record && !record.IsDeleted ? [record] : [];
    }
    if (field.name === 'Id') {
      const record = this.get(value);
      return record && !record.IsDeleted && record.Id.startsWith(object.def.keyPrefix) ? [record] : [];
    }
    const out: StoredRecord[] = [];
    const lower = value.toLowerCase();
    for (const record of this.records(object.name)) {
      if (!record.IsDeleted && record[field.name] !== null && String(record[field.name]).toLowerCase() === lower) out.push(record);
    }
    return out;
  }

  private checkRestrictedDelete(object: ObjectSchema, record: StoredRecord): void {
    for (const [childId, fields] of this.referrers.get(record.Id) ?? []) {
      const childObject = this.full.objectForId(childId);
      const child = childObject ? this.tables.get(childObject.name)?.get(childId) : undefined;
      if (!child || child.IsDeleted || !childObject) continue;
      if (fields.some((f) => childObject.field(f)?.restrictedDelete)) {
        throw new RecordWriteError([new SalesforceError('DELETE_FAILED', `Your attempt to delete ${String(record.Name ?? record.Id)} could not be completed because it is associated with the following ${childObject.def.labelPlural.toLowerCase()}.: ${String(child.Name ?? child.Id)}`)]);
      }
    }
    void object;
  }

  private recomputeRollups(childObject: string, touched: StoredRecord[], stampMs: number): void {
    const rollups = this.rollupsByChild.get(childObject);
    if (!rollups) return;
    for (const { master, field } of rollups) {
      const parentIds = new Set(touched.map((r) => r[field.rollup!.childField]).filter((v): v is string => typeof v === 'string'));
      for (const parentId of parentIds) {
        const parent = this.tables.get(master)?.get(parentId);
        if (!parent || parent.IsDeleted) continue;
        const inputs: number[] = [];
        for (const [childId, fields] of this.referrers.get(parentId) ?? []) {
          if (!fields.includes(field.rollup!.childField)) continue;
          const child = this.tables.get(childObject)?.get(childId);
          if (child && !child.IsDeleted) inputs.push(this.rollupInput(childObject, child, field));
        }
        const value = summarize(field, inputs);
        if (parent[field.name] !== value) this.touchSystem(master, parentId, { [field.name]: value }, stampMs, parent.LastModifiedById as string);
      }
    }
  }

  private rollupInput(childObject: string, child: StoredRecord, field: FieldDef): number {
    if (field.rollup!.op === 'count') return 1;
    const object = this.full.object(childObject)!;
    return Number(this.readField(object, child, field.rollup!.summarizedField!) ?? 0);
  }

  // ---------------------------------------------------------------- storage and indexes

  private put(objectName: string, record: StoredRecord, previous?: StoredRecord): void {
    const table = this.tables.get(objectName)!;
    const before = previous ?? table.get(record.Id);
    table.set(record.Id, record);
    this.reindex(objectName, before, record);
    this.onUndo(() => {
      if (before) table.set(record.Id, before);
      else table.delete(record.Id);
      this.reindex(objectName, record, before);
    });
  }

  private remove(objectName: string, record: StoredRecord): void {
    const table = this.tables.get(objectName)!;
    table.delete(record.Id);
    this.reindex(objectName, record, undefined);
    this.onUndo(() => {
      table.set(record.Id, record);
      this.reindex(objectName, undefined, record);
    });
  }

  private setRecycle(entry: RecycleEntry): void {
    this.recycleBin.set(entry.id, entry);
    this.oldestRecycleMs = Math.min(this.oldestRecycleMs, entry.deletedMs);
    this.onUndo(() => this.recycleBin.delete(entry.id));
  }

  private deleteRecycle(entry: RecycleEntry): void {
    this.recycleBin.delete(entry.id);
    this.onUndo(() => this.recycleBin.set(entry.id, entry));
  }

  private logDeletion(entry: DeletionLogEntry): void {
    // Kept in time order (purge trimming relies on it); a delete stamped in the past is rare.
    let at = this.deletionLog.length;
    while (at > 0 && this.deletionLog[at - 1]!.deletedMs > entry.deletedMs) at--;
    this.deletionLog.splice(at, 0, entry);
    this.onUndo(() => {
      const i = this.deletionLog.lastIndexOf(entry);
      if (i >= 0) this.deletionLog.splice(i, 1);
    });
  }

  /** Keeps the referrer and unique indexes in step with a record replacing another. */
  private reindex(objectName: string, before: StoredRecord | undefined, after: StoredRecord | undefined): void {
    this.revision++;
    const object = this.full.object(objectName)!;
    for (const field of object.def.fields) {
      if (field.type === 'reference' && field.name !== 'Id' && !isUserReference(field)) {
        const was = before?.[field.name];
        const now = after?.[field.name];
        if (was === now) continue;
        if (typeof was === 'string') this.unlinkReferrer(was, (before ?? after)!.Id, field.name);
        if (typeof now === 'string') this.linkReferrer(now, after!.Id, field.name);
      } else if (field.unique) {
        const key = `${object.name}.${field.name}`;
        const index = this.uniqueIndexes.get(key) ?? new Map<string, string>();
        this.uniqueIndexes.set(key, index);
        const norm = (v: unknown): string | undefined => (v === null || v === undefined ? undefined : field.caseSensitive ? String(v) : String(v).toLowerCase());
        const was = norm(before?.[field.name]);
        const now = norm(after?.[field.name]);
        if (was === now && !(after?.IsDeleted && !before?.IsDeleted) && !(before?.IsDeleted && !after?.IsDeleted)) continue;
        if (was !== undefined && index.get(was) === before!.Id) index.delete(was);
        if (now !== undefined && !after!.IsDeleted) index.set(now, after!.Id);
      }
    }
  }

  private linkReferrer(parentId: string, childId: string, field: string): void {
    const children = this.referrers.get(parentId) ?? new Map<string, string[]>();
    this.referrers.set(parentId, children);
    const fields = children.get(childId) ?? [];
    if (!fields.includes(field)) fields.push(field);
    children.set(childId, fields);
  }

  private unlinkReferrer(parentId: string, childId: string, field: string): void {
    const children = this.referrers.get(parentId);
    const fields = children?.get(childId);
    if (!children || !fields) return;
    const rest = fields.filter((f) => f !== field);
    if (rest.length) children.set(childId, rest);
    else children.delete(childId);
    if (!children.size) this.referrers.delete(parentId);
  }
}

/** User lookups are not indexed: users cannot be deleted, and every record has several. */
function isUserReference(field: FieldDef): boolean {
  return field.referenceTo?.length === 1 && field.referenceTo[0] === 'User';
}

function summarize(field: FieldDef, inputs: number[]): number | null {
  switch (field.rollup!.op) {
    case 'count':
      return inputs.length;
    case 'sum':
      return inputs.reduce((a, b) => a + b, 0);
    case 'min':
      return inputs.length ? Math.min(...inputs) : null;
    case 'max':
      return inputs.length ? Math.max(...inputs) : null;
  }
}
