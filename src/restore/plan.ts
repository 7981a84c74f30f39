/**
 * The restore plan: for every record, what to write and why, decided from the backed-up version,
 * the org's live record and describe, and the ID mappings of earlier restores. Pure: the same
 * inputs give the same plan, so a dry run shows exactly what the real run will send, and the
 * checks a dry run makes (permissions, fields, types, required values, restricted picklists,
 * owners, record types, parents) are the ones the real run is judged by.
 */
import type { FieldSummary, ObjectDescription, RecordWriteError, SObjectRecord } from '../core/org-client.ts';
import { parseSalesforceDatetime } from '../core/time.ts';
import { isRecordId } from '../core/vault.ts';
import type { LiveRecord } from './live.ts';
import type { Masker, MaskRule } from './masking.ts';
import type { RestoreItem } from './related.ts';

/** `--set Field=value`: a value, or a template with {Field} placeholders; null writes null. */
export interface FieldOverride {
  /** null: the object being restored. */
  objectName: string | null;
  field: string;
  template: string | null;
}

export interface PlanOptions {
  /** Write over records changed in the org after the restored version. */
  overwriteNewer: boolean;
  /** Clear fields the version has empty (otherwise an empty backed-up value leaves the live one). */
  writeNulls: boolean;
  overrides: readonly FieldOverride[];
  /** Records owned by an inactive (or, in another org, unknown) user: given to this user, or failed. */
  inactiveOwner: { kind: 'fail' } | { kind: 'map'; userId: string };
  /** A record type the org does not offer the API user: the object's default, another one, or fail. */
  missingRecordType: { kind: 'fail' } | { kind: 'default' } | { kind: 'map'; recordTypeId: string };
  masks: readonly MaskRule[];
}

/** What the CLI does without options: careful, writing only what the backup holds. */
export const DEFAULT_PLAN_OPTIONS: PlanOptions = { overwriteNewer: false, writeNulls: false, overrides: [], inactiveOwner: { kind: 'fail' }, missingRecordType: { kind: 'fail' }, masks: [] };

export interface PlanInput {
  /** The object the selection was made on (overrides without an object apply to it). */
  objectName: string;
  items: readonly RestoreItem[];
  /** Each object's describe in the org written to; absent when the object is not there. */
  describes: ReadonlyMap<string, ObjectDescription>;
  /** Each object's describe as backed up (record types by developer name, former field types). */
  backedUp: ReadonlyMap<string, ObjectDescription>;
  /**
   * The describe each item's version was captured under, by original ID (`versionSchemas` of
   * `./schema-drift.ts`): fields are mapped from it to the org's by name. `backedUp` where absent.
   */
  itemSchemas?: ReadonlyMap<string, ObjectDescription>;
  /** The live record each item corresponds to, by original ID, and how it was found. */
  live: ReadonlyMap<string, { record: LiveRecord; by: 'id' | 'mapping' | 'key' }>;
  /** Records referenced but not restored: by original ID, their ID in the org written to and state. */
  references: ReadonlyMap<string, { id: string; state: 'live' | 'deleted' }>;
  users: { active: ReadonlySet<string>; known: ReadonlySet<string> };
  /** Writing into an org other than the one backed up. */
  crossOrg: boolean;
  /** Records this run (before it was interrupted) already wrote: not conflicts with themselves. */
  writtenByRun: ReadonlySet<string>;
  masker: Masker | null;
  options: PlanOptions;
}

/** A reference to a record this restore creates: its new ID is known only once it exists. */
export interface PendingRef {
  field: string;
  originalId: string;
  /** Written at creation, never later: master-detail, required, or create-only lookups. */
  atCreate: boolean;
  /** A ContentDocumentId: the document of the re-created ContentVersion `originalId`. */
  document?: boolean;
}

export interface PlannedRecord {
  objectName: string;
  originalId: string;
  role: RestoreItem['role'];
  via: string | null;
  action: 'create' | 'update' | 'undelete' | 'skip' | 'fail';
  /** The record written to (update, undelete), or the record found for a skip. */
  targetId: string | null;
  /** The field values written, references already translated (pending ones are in pendingRefs). */
  values: SObjectRecord;
  pendingRefs: PendingRef[];
  /** For update and undelete: the fields that change. */
  changedFields: string[];
  /** For skip and fail: orgvault's or Salesforce's code and why. */
  reason: { statusCode: string; message: string } | null;
  /** Values not restored, and why (a field gone from the org, not writable by the API user…). */
  warnings: string[];
  /** What Salesforce is expected to refuse, found by the dry-run checks. */
  predicted: RecordWriteError[];
  /** The version's SystemModstamp, for the report. */
  versionStamp: number;
  /** What to undelete: the record, or for a file version its document. */
  undeleteId?: string;
}

export interface RestorePlan {
  records: PlannedRecord[];
  /** Objects in the order their records are written: parents before children. */
  objectOrder: string[];
}

/** The restore set, by original ID, and each backed-up document with the ContentVersion that brings it back. */
interface Index {
  items: ReadonlyMap<string, RestoreItem>;
  documents: ReadonlyMap<string, string>;
}

/**
 * Creating a ContentVersion with a FirstPublishLocationId links it to that record: the backed-up
 * link between the same document and record is not created a second time.
 */
function skipAutomaticLinks(records: PlannedRecord[], input: PlanInput, documents: ReadonlyMap<string, string>): void {
  const plans = new Map(records.map((r) => [r.originalId, r]));
  const item = new Map(input.items.map((i) => [i.originalId, i]));
  for (const link of records) {
    if (link.objectName !== 'ContentDocumentLink' || link.action !== 'create') continue;
    const fields = item.get(link.originalId)!.version.fields;
    const anchor = documents.get(String(fields.ContentDocumentId));
    if (!anchor) continue;
    // The file is re-created now, or was by an earlier restore: its first link came with it.
    const recreated = plans.get(anchor)?.action === 'create' || input.live.get(anchor)?.by === 'mapping';
    if (!recreated || fields.LinkedEntityId !== item.get(anchor)?.version.fields.FirstPublishLocationId) continue;
    link.action = 'skip';
    link.values = {};
    link.pendingRefs = [];
    link.predicted = [];
    link.reason = { statusCode: 'EXISTS', message: `Linked by re-creating its file (ContentVersion ${anchor}).` };
  }
}

/** Fields that are never written back, whatever describe says. */
const NEVER_WRITTEN = new Set(['Id', 'IsDeleted', 'SystemModstamp', 'MasterRecordId']);
const AUDIT_FIELDS = new Set(['CreatedDate', 'CreatedById', 'LastModifiedDate', 'LastModifiedById']);
const UNWRITABLE_TYPES = new Set(['id', 'base64', 'address', 'location']);
const NUMBER_TYPES = new Set(['double', 'currency', 'percent', 'int', 'long']);
const TEXT_TYPES = new Set(['string', 'textarea', 'email', 'phone', 'url', 'picklist', 'multipicklist', 'combobox', 'encryptedstring']);

/** Files: the object's body field, uploaded with the record rather than as a value. */
export const BODY_FIELDS: Readonly<Record<string, string>> = { ContentVersion: 'VersionData', Attachment: 'Body', Document: 'Body' };

export function planRestore(input: PlanInput): RestorePlan {
  const items = new Map(input.items.map((i) => [i.originalId, i]));
  // A document re-created from several versions: the oldest version makes the new document,
  // the later ones are added to it.
  const documents = new Map<string, string>();
  const versions = input.items.filter((i) => i.objectName === 'ContentVersion').sort((a, b) => String(a.version.fields.CreatedDate ?? '').localeCompare(String(b.version.fields.CreatedDate ?? '')) || (a.originalId < b.originalId ? -1 : 1));
  for (const item of versions) {
    const document = item.version.fields.ContentDocumentId;
    if (typeof document === 'string' && !documents.has(document)) documents.set(document, item.originalId);
  }
  const index: Index = { items, documents };
  const records = input.items.map((item) => refuseUnconvertible(planRecord(input, item, index)));
  skipAutomaticLinks(records, input, documents);
  const byId = new Map(records.map((r) => [r.originalId, r]));
  // A record whose parent is expected to fail cannot be created either: say so in the dry run.
  for (let changed = true; changed; ) {
    changed = false;
    for (const record of records) {
      if (record.action !== 'create' || record.predicted.some((p) => p.statusCode === 'ENTITY_IS_DELETED')) continue;
      for (const ref of record.pendingRefs) {
        const parent = byId.get(ref.originalId);
        if (ref.atCreate && parent && (parent.action === 'fail' || parent.predicted.length > 0)) {
          record.predicted.push({ statusCode: 'ENTITY_IS_DELETED', message: `Its parent ${parent.objectName} ${ref.originalId} (${ref.field}) is expected to fail, so it cannot be created.`, fields: [ref.field] });
          changed = true;
          break;
        }
      }
    }
  }
  // A record created but whose lookup to a failing record cannot be linked afterwards fails too
  // (it exists, without that link). Not spread further: such records are still created.
  const failing = new Set(records.filter((r) => r.action === 'fail' || r.predicted.length > 0).map((r) => r.originalId));
  for (const record of records) {
    if (record.action !== 'create' || failing.has(record.originalId)) continue;
    const ref = record.pendingRefs.find((r) => !r.atCreate && failing.has(r.originalId));
    if (ref) {
      const parent = byId.get(ref.originalId)!;
      record.predicted.push({ statusCode: 'ENTITY_IS_DELETED', message: `It would be created, but ${ref.field} could not point at ${parent.objectName} ${ref.originalId}, which is expected to fail.`, fields: [ref.field] });
    }
  }
  return { records, objectOrder: orderObjects(records, input) };
}

/**
 * A value that cannot take the field's type in the org now (the field changed type since the
 * backup) fails its record, named with the field, before anything is sent: the rest of the restore
 * goes on.
 */
function refuseUnconvertible(plan: PlannedRecord): PlannedRecord {
  if (plan.action !== 'create' && plan.action !== 'update' && plan.action !== 'undelete') return plan;
  const refusal = plan.predicted.find((p) => p.statusCode === 'INVALID_TYPE_ON_FIELD_IN_RECORD');
  if (!refusal) return plan;
  plan.action = 'fail';
  plan.reason = { statusCode: refusal.statusCode, message: refusal.message };
  plan.values = {};
  plan.pendingRefs = [];
  plan.changedFields = [];
  return plan;
}

/** The describe the item's version was captured under, or the object's as last backed up. */
function schemaOf(input: PlanInput, item: RestoreItem): ObjectDescription | undefined {
  return input.itemSchemas?.get(item.originalId) ?? input.backedUp.get(item.objectName);
}

function planRecord(input: PlanInput, item: RestoreItem, index: Index): PlannedRecord {
  const plan: PlannedRecord = {
    objectName: item.objectName,
    originalId: item.originalId,
    role: item.role,
    via: item.via,
    action: 'skip',
    targetId: null,
    values: {},
    pendingRefs: [],
    changedFields: [],
    reason: null,
    warnings: [],
    predicted: [],
    versionStamp: item.version.systemModstamp,
  };
  const describe = input.describes.get(item.objectName);
  if (!describe) {
    plan.action = 'fail';
    plan.reason = { statusCode: 'INVALID_TYPE', message: `${item.objectName} is not in the org, or the API user cannot see it.` };
    return plan;
  }
  const found = input.live.get(item.originalId);
  const live = found?.record;
  const desired = desiredValues(input, item, describe);

  if (live && !live.isDeleted) {
    plan.targetId = live.id;
    if (item.role === 'parent') {
      plan.reason = { statusCode: 'EXISTS', message: 'The parent is in the org; it is left as it is.' };
      return plan;
    }
    diffInto(plan, input, item, describe, desired, live, index);
    if (plan.changedFields.length === 0) {
      plan.reason = { statusCode: 'UNCHANGED', message: found.by === 'id' ? 'The record in the org already has the backed-up values.' : `Already restored as ${live.id}, with the backed-up values.` };
      return plan;
    }
    const newer = found.by === 'id' && !input.crossOrg && live.systemModstamp > item.version.systemModstamp && !input.writtenByRun.has(item.originalId);
    if (newer && !input.options.overwriteNewer) {
      plan.reason = {
        statusCode: 'NEWER_IN_ORG',
        message: `Changed in the org at ${new Date(live.systemModstamp).toISOString()}, after the version restored (${new Date(item.version.systemModstamp).toISOString()}): not overwritten. Fields that differ: ${plan.changedFields.join(', ')}. Add --overwrite-newer to restore it anyway.`,
      };
      plan.values = {};
      plan.pendingRefs = [];
      return plan;
    }
    plan.action = 'update';
    if (!describe.updateable) plan.predicted.push({ statusCode: 'INSUFFICIENT_ACCESS_OR_READONLY', message: `The API user may not edit ${item.objectName} records.`, fields: [] });
    return plan;
  }

  // Objects without a Recycle Bin (ContentDocumentLink) are created again instead.
  if (live && live.isDeleted && describe.undeletable) {
    plan.action = 'undelete';
    plan.targetId = live.id;
    // A file comes back from the Recycle Bin through its document, with every version.
    plan.undeleteId = item.objectName === 'ContentVersion' && typeof live.fields.ContentDocumentId === 'string' ? live.fields.ContentDocumentId : live.id;
    if (item.role !== 'parent') diffInto(plan, input, item, describe, desired, live, index);
    return plan;
  }

  plan.action = 'create';
  if (!describe.createable) plan.predicted.push({ statusCode: 'INSUFFICIENT_ACCESS_OR_READONLY', message: `The API user may not create ${item.objectName} records.`, fields: [] });
  for (const [name, value] of desired) {
    const field = fieldOf(describe, name);
    if (!field?.createable) continue;
    const written = translate(plan, input, item, field, value, index, true);
    if (written !== undefined && written !== null) plan.values[name] = written;
  }
  // Salesforce reports a bad picklist value before a missing required value.
  checkValues(plan, describe, item);
  checkRequired(plan, describe, item);
  noteDropped(plan, desired);
  return plan;
}

/** The values the restored record should have, by field: masked, overridden, fit to the org's types. */
function desiredValues(input: PlanInput, item: RestoreItem, describe: ObjectDescription): Map<string, unknown> {
  const desired = new Map<string, unknown>();
  const backed = schemaOf(input, item);
  const fields = item.version.fields;
  for (const [name, raw] of Object.entries(fields)) {
    if (NEVER_WRITTEN.has(name) || (raw !== null && typeof raw === 'object')) continue;
    const field = fieldOf(describe, name);
    const before = backed ? fieldOf(backed, name) : undefined;
    if (before && (before.calculated || before.autoNumber || UNWRITABLE_TYPES.has(before.type))) continue;
    if (!field) {
      if (raw !== null && raw !== undefined && before && (before.createable || before.updateable)) desired.set(`!gone:${name}`, raw);
      continue;
    }
    if (field.calculated || field.autoNumber || UNWRITABLE_TYPES.has(field.type)) continue;
    if (!field.createable && !field.updateable) {
      if (raw !== null && !AUDIT_FIELDS.has(name) && before && (before.createable || before.updateable)) desired.set(`!readonly:${name}`, raw);
      continue;
    }
    // By the org's spelling of the name: API names are case-insensitive.
    desired.set(field.name, raw ?? null);
  }
  for (const rule of input.options.masks) {
    const name = fieldOf(describe, rule.field)?.name ?? rule.field;
    if (rule.objectName === item.objectName && desired.has(name) && input.masker) desired.set(name, input.masker.mask(rule, desired.get(name)));
  }
  for (const o of input.options.overrides) {
    if ((o.objectName ?? input.objectName) !== item.objectName || !fieldOf(describe, o.field)) continue;
    desired.set(o.field, o.template === null ? null : o.template.replace(/\{(\w+)\}/g, (_m, f: string) => (f === 'originalId' ? item.originalId : String(fields[f] ?? ''))));
  }
  return desired;
}

const fieldMaps = new WeakMap<ObjectDescription, Map<string, FieldSummary>>();
function fieldOf(describe: ObjectDescription, name: string): FieldSummary | undefined {
  let map = fieldMaps.get(describe);
  if (!map) fieldMaps.set(describe, (map = new Map(describe.fields.flatMap((f) => [[f.name.toLowerCase(), f] as const, [f.name, f] as const]))));
  return map.get(name) ?? map.get(name.toLowerCase());
}

/** Sets the update values of an existing record: the writable fields whose values differ. */
function diffInto(plan: PlannedRecord, input: PlanInput, item: RestoreItem, describe: ObjectDescription, desired: Map<string, unknown>, live: LiveRecord, index: Index): void {
  for (const [name, value] of desired) {
    const field = fieldOf(describe, name);
    if (!field) continue;
    if (!field.updateable) continue;
    if ((value === null || value === undefined) && !input.options.writeNulls && !input.options.overrides.some((o) => o.field === name && o.template === null)) continue;
    const written = translate(plan, input, item, field, value, index, false);
    if (written === undefined) continue;
    const pending = plan.pendingRefs.some((r) => r.field === name);
    if (!pending && sameValue(field, written, live.fields[name])) continue;
    plan.changedFields.push(name);
    if (!pending) plan.values[name] = written;
  }
  checkValues(plan, describe, item);
  noteDropped(plan, desired);
}

/**
 * A value as written to the org: references translated to the records they now are, owners and
 * record types per the options, numbers and text fit to the field's current type. Undefined:
 * leave the field out.
 */
function translate(plan: PlannedRecord, input: PlanInput, item: RestoreItem, field: FieldSummary, value: unknown, index: Index, creating: boolean): unknown {
  if (value === null || value === undefined) return value;
  if (field.type === 'reference') {
    const id = String(value);
    if (!isRecordId(id)) return value;
    if (field.name === 'RecordTypeId') return recordType(plan, input, item, id);
    if (field.referenceTo.includes('User') && id.startsWith('005')) return user(plan, input, field, id, creating);
    if (index.items.has(id)) {
      // In the org already (or in its Recycle Bin: undeletes run before any other write).
      const target = input.live.get(id)?.record;
      if (target) return target.id;
      plan.pendingRefs.push({ field: field.name, originalId: id, atCreate: !field.nillable || field.masterDetail || !field.updateable });
      return undefined;
    }
    const ref = input.references.get(id);
    if (ref?.state === 'live') return ref.id;
    const version = field.referenceTo.includes('ContentDocument') ? index.documents.get(id) : undefined;
    if (version === item.originalId) return undefined;
    const anchor = version ? input.live.get(version)?.record : undefined;
    if (anchor && !anchor.isDeleted && typeof anchor.fields.ContentDocumentId === 'string') return anchor.fields.ContentDocumentId;
    if (version) {
      plan.pendingRefs.push({ field: field.name, originalId: version, atCreate: true, document: true });
      return undefined;
    }
    if (ref?.state === 'deleted') {
      plan.predicted.push({ statusCode: 'ENTITY_IS_DELETED', message: `${field.name} points at ${id}, which is in the Recycle Bin. Restore it too (--parents), or undelete it first.`, fields: [field.name] });
      return ref.id;
    }
    if (input.crossOrg) {
      // An owner (a queue) the other org lacks: the org gives the record to the API user.
      if ((field.nillable || field.defaultedOnCreate) && !field.masterDetail) {
        plan.warnings.push(`${field.name}: ${id} is not in the target org; ${field.defaultedOnCreate ? "left to the org's default" : 'left empty'}.`);
        return undefined;
      }
      plan.predicted.push({ statusCode: 'INVALID_CROSS_REFERENCE_KEY', message: `${field.name} points at ${id}, which is not in the target org. Restore it too (--parents).`, fields: [field.name] });
      return id;
    }
    plan.predicted.push({ statusCode: 'INVALID_CROSS_REFERENCE_KEY', message: `${field.name} points at ${id}, which is no longer in the org. Restore it too (--parents).`, fields: [field.name] });
    return id;
  }
  const backed = schemaOf(input, item);
  return fitType(plan, field, value, backed ? fieldOf(backed, field.name) : undefined, item.originalId);
}

/**
 * A user reference. Owners must be active users of the org (or are mapped with --inactive-owner);
 * audit fields keep their user when the org lets them be set; other user lookups accept inactive
 * users, and one the org does not have at all is left empty.
 */
function user(plan: PlannedRecord, input: PlanInput, field: FieldSummary, id: string, creating: boolean): unknown {
  if (input.users.active.has(id)) return id;
  const known = input.users.known.has(id);
  if (AUDIT_FIELDS.has(field.name)) return creating && known ? id : undefined;
  if (field.name !== 'OwnerId') {
    if (known) return id;
    if (field.nillable) {
      plan.warnings.push(`${field.name}: ${id} is not a user of this org; left empty.`);
      return undefined;
    }
    plan.predicted.push({ statusCode: 'INVALID_CROSS_REFERENCE_KEY', message: `${field.name} is ${id}, not a user of the org.`, fields: [field.name] });
    return id;
  }
  if (input.options.inactiveOwner.kind === 'map') {
    plan.warnings.push(`OwnerId: ${id} is ${known ? 'inactive' : 'not a user of this org'}; given to ${input.options.inactiveOwner.userId}.`);
    return input.options.inactiveOwner.userId;
  }
  if (!known && input.crossOrg) {
    plan.warnings.push(`OwnerId: ${id} is not a user of the target org; left to the org's default (the API user).`);
    return undefined;
  }
  plan.predicted.push({
    statusCode: known ? 'INACTIVE_OWNER_OR_USER' : 'INVALID_CROSS_REFERENCE_KEY',
    message: `OwnerId is ${id}, ${known ? 'an inactive user' : 'not a user of the org'}. Reactivate the user, or give the records to another with --inactive-owner USER_ID.`,
    fields: ['OwnerId'],
  });
  return id;
}

function recordType(plan: PlannedRecord, input: PlanInput, item: RestoreItem, id: string): unknown {
  const describe = input.describes.get(item.objectName)!;
  let target = describe.recordTypes.find((r) => r.id === id && r.available && r.active);
  if (!target && input.crossOrg) {
    const before = input.backedUp.get(item.objectName)?.recordTypes.find((r) => r.id === id);
    target = before ? describe.recordTypes.find((r) => r.developerName === before.developerName && r.available && r.active) : undefined;
  }
  if (target) return target.id;
  const option = input.options.missingRecordType;
  if (option.kind === 'default') {
    plan.warnings.push(`RecordTypeId: ${id} is not available to the API user; the default record type is used.`);
    return undefined;
  }
  if (option.kind === 'map') {
    plan.warnings.push(`RecordTypeId: ${id} is not available to the API user; ${option.recordTypeId} is used.`);
    return option.recordTypeId;
  }
  plan.predicted.push({ statusCode: 'INVALID_CROSS_REFERENCE_KEY', message: `Record type ${id} is not available to the API user. Assign it, or choose --record-type default or --record-type ID.`, fields: ['RecordTypeId'] });
  return id;
}

/** A value fit to the field's type in the org now (the field may have changed since the backup). */
function fitType(plan: PlannedRecord, field: FieldSummary, value: unknown, before: FieldSummary | undefined, recordId: string): unknown {
  const bad = (why: string): unknown => {
    const changed = before && before.type !== field.type ? ` ${field.name} was a ${before.type} field when the version was captured; record ${recordId} is not restored.` : '';
    plan.predicted.push({ statusCode: 'INVALID_TYPE_ON_FIELD_IN_RECORD', message: `${field.name}: ${why}${changed}`, fields: [field.name] });
    return value;
  };
  if (NUMBER_TYPES.has(field.type)) {
    if (typeof value === 'number') return value;
    if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
    return bad(`the backed-up value is not a number, and the field is a ${field.type} now.`);
  }
  if (field.type === 'boolean') {
    if (typeof value === 'boolean') return value;
    if (value === 'true' || value === 'false') return value === 'true';
    return bad('the backed-up value is not true or false, and the field is a checkbox now.');
  }
  if (field.type === 'date' || field.type === 'datetime') {
    if (typeof value === 'string' && parseSalesforceDatetime(value) !== undefined) return field.type === 'date' ? value.slice(0, 10) : value;
    return bad(`the backed-up value is not a ${field.type}.`);
  }
  if (TEXT_TYPES.has(field.type)) {
    const text = typeof value === 'string' ? value : String(value);
    if (field.length > 0 && text.length > field.length) {
      plan.predicted.push({ statusCode: 'STRING_TOO_LONG', message: `${field.name}: the value has ${text.length} characters; the field holds ${field.length} now.`, fields: [field.name] });
    }
    return text;
  }
  return value;
}

function checkValues(plan: PlannedRecord, describe: ObjectDescription, item: RestoreItem): void {
  for (const [name, value] of Object.entries(plan.values)) {
    const field = fieldOf(describe, name);
    if (!field?.restrictedPicklist || value === null) continue;
    const values = field.type === 'multipicklist' ? String(value).split(';') : [String(value)];
    const unknown = values.filter((v) => !field.picklistValues.includes(v));
    if (unknown.length) {
      plan.predicted.push({
        statusCode: 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST',
        message: `${name}: "${unknown.join('", "')}" is not a value of the restricted picklist of ${item.objectName}.${name} any more.`,
        fields: [name],
      });
    }
  }
}

function checkRequired(plan: PlannedRecord, describe: ObjectDescription, item: RestoreItem): void {
  for (const field of describe.fields) {
    if (field.nillable || !field.createable || field.defaultedOnCreate || field.type === 'boolean' || NEVER_WRITTEN.has(field.name)) continue;
    if (plan.values[field.name] !== undefined && plan.values[field.name] !== null) continue;
    if (plan.pendingRefs.some((r) => r.field === field.name)) continue;
    plan.predicted.push({ statusCode: 'REQUIRED_FIELD_MISSING', message: `Required fields are missing: [${field.name}] (the backed-up ${item.objectName} has no value).`, fields: [field.name] });
  }
}

function noteDropped(plan: PlannedRecord, desired: Map<string, unknown>): void {
  for (const key of desired.keys()) {
    if (key.startsWith('!gone:')) plan.warnings.push(`${key.slice(6)} is no longer a field of ${plan.objectName}; its backed-up value is not restored.`);
    else if (key.startsWith('!readonly:')) plan.warnings.push(`${key.slice(10)} is not writable by the API user; its backed-up value is not restored.`);
  }
}

/** Equal as Salesforce stores them: numbers by value, datetimes by instant, text as text. */
function sameValue(field: FieldSummary, a: unknown, b: unknown): boolean {
  if ((a ?? null) === null || (b ?? null) === null) return (a ?? null) === (b ?? null);
  if (NUMBER_TYPES.has(field.type)) return Number(a) === Number(b);
  if (field.type === 'datetime') return parseSalesforceDatetime(a) === parseSalesforceDatetime(b);
  if (field.type === 'reference' || field.type === 'id') return String(a).slice(0, 15) === String(b).slice(0, 15);
  return String(a) === String(b);
}

/**
 * Objects ordered so that a record's parents are written before it: a topological order of the
 * references among records being created. A cycle is broken at a reference that can wait for
 * the link pass; references written at creation (master-detail) always come first.
 */
function orderObjects(records: readonly PlannedRecord[], input: PlanInput): string[] {
  const objectOf = new Map(records.map((r) => [r.originalId, r.objectName]));
  const hard = new Map<string, Set<string>>();
  const soft = new Map<string, Set<string>>();
  const objects = [...new Set(records.map((r) => r.objectName))];
  for (const o of objects) {
    hard.set(o, new Set());
    soft.set(o, new Set());
  }
  for (const r of records) {
    for (const ref of r.pendingRefs) {
      const target = objectOf.get(ref.originalId);
      if (!target || target === r.objectName) continue;
      (ref.atCreate ? hard : soft).get(r.objectName)!.add(target);
    }
  }
  const order: string[] = [];
  const done = new Set<string>();
  const ready = (o: string, withSoft: boolean): boolean => [...hard.get(o)!].every((d) => done.has(d)) && (!withSoft || [...soft.get(o)!].every((d) => done.has(d)));
  // The selected object first among equals, then by name: a stable, explainable order.
  const rank = (o: string): string => `${o === input.objectName ? 0 : 1}${o}`;
  while (order.length < objects.length) {
    const left = objects.filter((o) => !done.has(o)).sort((a, b) => (rank(a) < rank(b) ? -1 : 1));
    const next = left.find((o) => ready(o, true)) ?? left.find((o) => ready(o, false)) ?? left[0]!;
    order.push(next);
    done.add(next);
  }
  return order;
}
