/**
 * Carrying out a restore plan against the org, in the order that keeps every reference valid:
 * undeletes (parents first), creates object by object (a record's new ID replaces the old one in
 * every record written after it), updates, then the link pass for references that had to wait
 * (self-lookups and cycles). Every batch is journaled before it is sent and completed with its
 * per-record results and new ID mappings in one transaction, so an interrupted restore knows
 * what it did and never writes the same thing twice.
 */
import type { FieldSummary, ObjectDescription, OrgClient, RecordWriteError, RecordWriteResult, SObjectRecord } from '../core/org-client.ts';
import type { IdMapping, RestoreOutcome, RestoreResult, RestoreStep } from '../core/vault.ts';
import type { BlobStore, FileCatalog, RestoreJournal } from '../store/port.ts';
import { readLive } from './live.ts';
import { BODY_FIELDS } from './plan.ts';
import type { PendingRef, PlannedRecord, RestorePlan } from './plan.ts';

export interface ExecuteDeps {
  client: OrgClient;
  journal: RestoreJournal;
  files: FileCatalog;
  blobs: BlobStore;
  now: () => number;
  onProgress?: (done: number, total: number, objectName: string) => void;
}

export interface ExecuteOptions {
  runId: string;
  /** The org whose backup is restored (file bodies are found under it). */
  sourceOrgId: string;
  /** Where the ID mappings of this restore live (the org written to, or source and target). */
  mappingScope: string;
  allowDuplicates: boolean;
  /** Creates or updates of one object from this many records on go through Bulk API 2.0 ingest. */
  bulkThreshold: number;
  describes: ReadonlyMap<string, ObjectDescription>;
  /** Steps the run already took (a resumed run numbers on from them). */
  stepsTaken: number;
  /** New IDs already known: earlier steps of this run, and records found by mapping. */
  knownIds?: ReadonlyMap<string, string>;
}

/** Records per sObject Collections call, Salesforce's limit. */
const COLLECTION_SIZE = 200;
/** Records per SOAP undelete call. */
const UNDELETE_SIZE = 200;
/** Files per journaled step (each is its own upload). */
const FILES_PER_STEP = 10;
/** Per-record statuses worth sending again: the record was not written. */
const RETRYABLE = new Set(['UNABLE_TO_LOCK_ROW']);
const RECORD_RETRIES = 2;

export async function executePlan(deps: ExecuteDeps, plan: RestorePlan, options: ExecuteOptions): Promise<void> {
  const run = new Execution(deps, plan, options);
  await run.all();
}

class Execution {
  /** Original ID → the record's ID in the org, once it exists there. */
  private readonly ids = new Map<string, string>();
  /** A ContentVersion's original ID → the ID of its document in the org (re-created or undeleted). */
  private readonly documents = new Map<string, string>();
  /** Original IDs whose restore failed: their children cannot point at them. */
  private readonly failed = new Set<string>();
  private readonly deferred = new Map<string, PendingRef[]>();
  private step: number;
  private done = 0;
  private readonly total: number;

  constructor(
    private readonly deps: ExecuteDeps,
    private readonly plan: RestorePlan,
    private readonly options: ExecuteOptions,
  ) {
    this.step = options.stepsTaken;
    for (const [from, to] of options.knownIds ?? []) this.ids.set(from, to);
    for (const r of plan.records) if (r.targetId) this.ids.set(r.originalId, r.targetId);
    this.total = plan.records.length;
  }

  async all(): Promise<void> {
    await this.decided();
    for (const objectName of this.plan.objectOrder) await this.undeletes(objectName);
    for (const objectName of this.plan.objectOrder) await this.creates(objectName);
    for (const objectName of this.plan.objectOrder) await this.updates(objectName);
    for (const objectName of this.plan.objectOrder) await this.links(objectName);
  }

  private of(objectName: string, action: PlannedRecord['action']): PlannedRecord[] {
    return this.plan.records.filter((r) => r.objectName === objectName && r.action === action);
  }

  /** Skips and failures decided without a write, recorded first. */
  private async decided(): Promise<void> {
    const decided = this.plan.records.filter((r) => r.action === 'skip' || r.action === 'fail');
    if (decided.length === 0) return;
    for (const r of decided) if (r.action === 'fail') this.failed.add(r.originalId);
    await this.journaled('plan', decided[0]!.objectName, decided, async (stepId) =>
      decided.map((r) => result(r, stepId, r.action === 'skip' ? 'Skipped' : 'Failed', r.targetId, r.reason?.statusCode ?? null, r.reason?.message ?? null)),
    );
  }

  private async undeletes(objectName: string): Promise<void> {
    const records = this.of(objectName, 'undelete');
    for (let i = 0; i < records.length; i += UNDELETE_SIZE) {
      const chunk = records.slice(i, i + UNDELETE_SIZE);
      await this.journaled('undelete', objectName, chunk, async (stepId) => {
        const ids = chunk.map((r) => r.undeleteId ?? r.targetId!);
        const answers = await this.deps.client.undeleteRecords(ids);
        // A record that came back with its parent's undelete is not in the Recycle Bin any more.
        const refused = chunk.filter((_r, k) => !answers[k]!.ok);
        const back = refused.length ? await readLive(this.deps.client, objectName, refused.map((r) => r.targetId!), []) : new Map();
        const rows = chunk.map((r, k) => {
          const answer = answers[k]!;
          if (answer.ok || back.get(r.targetId!)?.isDeleted === false) return result(r, stepId, 'Undeleted', r.targetId, null, r.changedFields.length ? null : 'Undeleted from the Recycle Bin.');
          this.failed.add(r.originalId);
          return failure(r, stepId, answer.errors, r.targetId);
        });
        if (objectName === 'ContentVersion') await this.learnDocuments(rows.filter((r) => r.outcome === 'Undeleted').map((r) => [r.originalId, r.newId!]));
        return rows;
      });
    }
  }

  private async creates(objectName: string): Promise<void> {
    let left = this.of(objectName, 'create');
    // Waves: a record whose parent is created by this same object (a file's later versions after
    // the one that makes the document) waits for the wave that creates it.
    while (left.length > 0) {
      const waiting = new Set(left.map((r) => r.originalId));
      const ready: { record: PlannedRecord; values: SObjectRecord }[] = [];
      const blocked: { record: PlannedRecord; reason: string }[] = [];
      const later: PlannedRecord[] = [];
      for (const record of left) {
        const values: SObjectRecord = { ...record.values };
        let blocker: string | undefined;
        let wait = false;
        for (const ref of record.pendingRefs) {
          const id = this.resolve(ref);
          if (id) values[ref.field] = id;
          else if (!ref.atCreate) this.defer(record.originalId, ref);
          else if (waiting.has(ref.originalId) && ref.originalId !== record.originalId) wait = true;
          else blocker ??= this.failed.has(ref.originalId) ? `its parent ${ref.originalId} (${ref.field}) could not be restored` : `its parent ${ref.originalId} (${ref.field}) does not exist`;
        }
        if (blocker) blocked.push({ record, reason: blocker });
        else if (wait) later.push(record);
        else ready.push({ record, values });
      }
      if (ready.length === 0 && blocked.length === 0) {
        // Records waiting on each other at creation: a cycle through required references.
        for (const record of later) blocked.push({ record, reason: 'its required references form a cycle with records that are not created yet' });
        later.length = 0;
      }
      for (const record of later) for (const ref of record.pendingRefs) if (!ref.atCreate) this.deferred.delete(record.originalId);
      if (blocked.length) {
        for (const b of blocked) this.failed.add(b.record.originalId);
        await this.journaled('create', objectName, blocked.map((b) => b.record), async (stepId) =>
          blocked.map((b) => result(b.record, stepId, 'Failed', null, 'ENTITY_IS_DELETED', `Not created: ${b.reason}.`)),
        );
      }
      await this.send(objectName, ready);
      left = later;
    }
  }

  private async send(objectName: string, ready: { record: PlannedRecord; values: SObjectRecord }[]): Promise<void> {
    if (ready.length === 0) return;
    if (BODY_FIELDS[objectName]) return this.createFiles(objectName, ready);
    await this.writeInBatches(objectName, 'insert', ready, (record, stepId, answer) => this.created(record, stepId, answer));
  }

  /**
   * Writes records in journaled batches: sObject Collections, 200 a call, or one Bulk API 2.0
   * ingest job when the object has `bulkThreshold` records or more (never with duplicates allowed:
   * Bulk API 2.0 has no duplicate-rule header).
   */
  private async writeInBatches<T extends { record: PlannedRecord; values: SObjectRecord }>(
    objectName: string,
    operation: 'insert' | 'update',
    entries: readonly T[],
    outcome: (record: PlannedRecord, stepId: string, answer: RecordWriteResult, entry: T) => RestoreResult,
  ): Promise<void> {
    const fields = this.fieldsOf(objectName);
    const bulk = entries.length >= this.options.bulkThreshold && !this.options.allowDuplicates;
    const size = bulk ? entries.length : COLLECTION_SIZE;
    const options = { allowDuplicates: this.options.allowDuplicates };
    for (let i = 0; i < entries.length; i += size) {
      const chunk = entries.slice(i, i + size);
      await this.journaled(operation === 'insert' ? 'create' : 'update', objectName, chunk.map((c) => c.record), async (stepId) => {
        const answers = await this.withRecordRetries(chunk.map((c) => c.values), (values) =>
          bulk ? this.deps.client.ingest(objectName, operation, values, fields) : operation === 'insert' ? this.deps.client.createRecords(objectName, values, options) : this.deps.client.updateRecords(objectName, values, options),
        );
        return chunk.map((entry, k) => outcome(entry.record, stepId, answers[k]!, entry));
      });
    }
  }

  private async createFiles(objectName: string, ready: { record: PlannedRecord; values: SObjectRecord }[]): Promise<void> {
    const bodyField = BODY_FIELDS[objectName]!;
    for (let i = 0; i < ready.length; i += FILES_PER_STEP) {
      const chunk = ready.slice(i, i + FILES_PER_STEP);
      await this.journaled('file', objectName, chunk.map((c) => c.record), async (stepId) => {
        const rows: RestoreResult[] = [];
        for (const { record, values } of chunk) {
          const files = await this.deps.files.filesOf(this.options.sourceOrgId, record.originalId);
          const file = files.filter((f) => f.field === bodyField && f.systemModstamp <= record.versionStamp).sort((a, b) => b.systemModstamp - a.systemModstamp)[0] ?? files.find((f) => f.field === bodyField);
          if (!file) {
            this.failed.add(record.originalId);
            rows.push(result(record, stepId, 'Failed', null, 'FILE_NOT_IN_VAULT', `The vault holds no ${bodyField} for this ${objectName}: its body was never backed up (files toggled off, or too large).`));
            continue;
          }
          const answer = await this.deps.client.createWithBody(
            { objectName, fields: values, bodyField, body: () => this.deps.blobs.get(file.address), fileName: file.fileName ?? String(values.PathOnClient ?? values.Name ?? 'file') },
            { allowDuplicates: this.options.allowDuplicates },
          );
          rows.push(this.created(record, stepId, answer));
        }
        if (objectName === 'ContentVersion') await this.learnDocuments(rows.filter((r) => r.outcome === 'Created').map((r) => [r.originalId, r.newId!]));
        return rows;
      });
    }
  }

  /** The documents Salesforce made for new (or undeleted) ContentVersions, for the links that name them. */
  private async learnDocuments(versions: [originalId: string, id: string][]): Promise<void> {
    if (versions.length === 0) return;
    const found = await readLive(this.deps.client, 'ContentVersion', versions.map(([, id]) => id), ['ContentDocumentId']);
    for (const [originalId, id] of versions) {
      const document = found.get(id)?.fields.ContentDocumentId;
      if (typeof document === 'string') this.documents.set(originalId, document);
    }
  }

  private created(record: PlannedRecord, stepId: string, answer: RecordWriteResult): RestoreResult {
    if (!answer.ok) {
      this.failed.add(record.originalId);
      this.deferred.delete(record.originalId);
      return failure(record, stepId, answer.errors, null);
    }
    this.ids.set(record.originalId, answer.id);
    return result(record, stepId, 'Created', answer.id, null, null);
  }

  private async updates(objectName: string): Promise<void> {
    const records = [...this.of(objectName, 'update'), ...this.of(objectName, 'undelete').filter((r) => r.changedFields.length > 0 && !this.failed.has(r.originalId))];
    if (records.length === 0) return;
    const payloads = records.map((record) => {
      const values: SObjectRecord = { ...record.values, Id: record.targetId };
      const dropped: string[] = [];
      for (const ref of record.pendingRefs) {
        const id = this.resolve(ref);
        if (id) values[ref.field] = id;
        else dropped.push(ref.field);
      }
      return { record, values, dropped };
    });
    await this.writeInBatches(objectName, 'update', payloads, (record, stepId, answer, { dropped }) => {
      if (!answer.ok) {
        this.failed.add(record.originalId);
        return failure(record, stepId, answer.errors, record.targetId, record.action === 'undelete' ? 'Undeleted, but restoring its field values failed: ' : '');
      }
      const note = dropped.length ? ` Not restored: ${dropped.join(', ')} (the records they point at could not be restored).` : '';
      return result(record, stepId, record.action === 'undelete' ? 'Undeleted' : 'Updated', record.targetId, null, `Restored ${record.changedFields.length} field(s): ${record.changedFields.join(', ')}.${note}`);
    });
  }

  /** The ID a pending reference resolves to now, if its target exists. */
  private resolve(ref: PendingRef): string | undefined {
    return ref.document ? this.documents.get(ref.originalId) : this.ids.get(ref.originalId);
  }

  private defer(originalId: string, ref: PendingRef): void {
    const refs = this.deferred.get(originalId) ?? [];
    refs.push(ref);
    this.deferred.set(originalId, refs);
  }

  /** The link pass: references to records created after the record that holds them. */
  private async links(objectName: string): Promise<void> {
    const records = this.plan.records.filter((r) => r.objectName === objectName && this.deferred.has(r.originalId) && this.ids.has(r.originalId));
    if (records.length === 0) return;
    const payloads = records.map((record) => {
      const values: SObjectRecord = { Id: this.ids.get(record.originalId) };
      const missing: string[] = [];
      for (const ref of this.deferred.get(record.originalId)!) {
        const id = this.resolve(ref);
        if (id) values[ref.field] = id;
        else missing.push(ref.field);
      }
      return { record, values, missing };
    });
    for (let i = 0; i < payloads.length; i += COLLECTION_SIZE) {
      const chunk = payloads.slice(i, i + COLLECTION_SIZE);
      await this.journaled('link', objectName, chunk.map((c) => c.record), async (stepId) => {
        const writable = chunk.filter((c) => Object.keys(c.values).length > 1);
        const answers = writable.length ? await this.withRecordRetries(writable.map((c) => c.values), (values) => this.deps.client.updateRecords(objectName, values)) : [];
        return chunk.flatMap((c) => {
          const newId = this.ids.get(c.record.originalId)!;
          const k = writable.indexOf(c);
          const answer = k >= 0 ? answers[k]! : undefined;
          if (answer && !answer.ok) return [failure(c.record, stepId, answer.errors, newId, `Created as ${newId}, but linking ${Object.keys(c.values).filter((f) => f !== 'Id').join(', ')} failed: `)];
          if (c.missing.length) return [result(c.record, stepId, 'Failed', newId, 'ENTITY_IS_DELETED', `Created as ${newId}, but ${c.missing.join(', ')} could not be linked: the records they point at could not be restored.`)];
          return [];
        });
      });
    }
  }

  /** Sends records again while Salesforce refuses some of them with a passing status (row locks). */
  private async withRecordRetries(payloads: SObjectRecord[], send: (values: SObjectRecord[]) => Promise<RecordWriteResult[]>): Promise<RecordWriteResult[]> {
    const answers = await send(payloads);
    for (let attempt = 0; attempt < RECORD_RETRIES; attempt++) {
      const again = answers.flatMap((a, k) => (!a.ok && a.errors.some((e) => RETRYABLE.has(e.statusCode)) ? [k] : []));
      if (again.length === 0) break;
      const retried = await send(again.map((k) => payloads[k]!));
      again.forEach((k, j) => (answers[k] = retried[j]!));
    }
    return answers;
  }

  private fieldsOf(objectName: string): FieldSummary[] {
    return this.options.describes.get(objectName)?.fields ?? [];
  }

  /** Begins a step, runs it, and completes it with its results and the mappings of what it created. */
  private async journaled(action: RestoreStep['action'], objectName: string, records: readonly PlannedRecord[], body: (stepId: string) => Promise<RestoreResult[]>): Promise<void> {
    const stepId = String(++this.step).padStart(6, '0');
    await this.deps.journal.beginRestoreStep({ runId: this.options.runId, stepId, objectName, action, originalIds: records.map((r) => r.originalId), startedAt: this.deps.now(), completedAt: null });
    const rows = await body(stepId);
    const at = this.deps.now();
    const mappings: IdMapping[] = rows
      .filter((r) => r.outcome === 'Created' && r.newId)
      .map((r) => ({ objectName: r.objectName, oldId: r.originalId, newId: r.newId!, runId: this.options.runId, createdAt: at }));
    await this.deps.journal.completeRestoreStep(this.options.runId, stepId, at, rows, this.options.mappingScope, mappings);
    if (action !== 'link') {
      this.done += records.length;
      this.deps.onProgress?.(Math.min(this.done, this.total), this.total, objectName);
    }
  }
}

function result(record: PlannedRecord, stepId: string, outcome: RestoreOutcome, newId: string | null, statusCode: string | null, message: string | null): RestoreResult {
  return { objectName: record.objectName, originalId: record.originalId, newId, outcome, statusCode, message, stepId };
}

function failure(record: PlannedRecord, stepId: string, errors: RecordWriteError[], newId: string | null, prefix = ''): RestoreResult {
  const first = errors[0] ?? { statusCode: 'UNKNOWN_EXCEPTION', message: 'Salesforce gave no reason', fields: [] };
  const fields = first.fields.length ? ` (${first.fields.join(', ')})` : '';
  return result(record, stepId, 'Failed', newId, first.statusCode, `${prefix}${first.message}${fields}`);
}
