/**
 * The metadata an org has beyond its schema: Apex, flows, permission sets, validation rules, the
 * fields each page layout was drawn with, and the version history of every component. Kept per
 * org in a WeakMap, so the Org class stays a data model and a discarded org takes its metadata
 * with it. The state starts from the seeds the first time anything asks for it.
 */
import { IdAllocator } from '../org/ids.ts';
import type { Org } from '../org/org.ts';
import type { FieldDef, ObjectDef } from '../org/schema.ts';
import { SEED_APEX_CLASSES, SEED_APEX_TRIGGERS, SEED_FLOWS, SEED_FOLDERED, SEED_FOLDERS, SEED_PERMISSION_SETS, SEED_VALIDATION_RULES } from './seed.ts';
import type { ApexSource, ApexTriggerSource, FolderedSource, FolderSource, PermissionSetSource } from './seed.ts';

/**
 * A validation rule as the Metadata API's ValidationRule describes it, plus the object it belongs
 * to. `errorConditionFormula` is Salesforce formula source: the rule rejects a write when it
 * evaluates to true. Returned by `validationRules(org)` for the write pipeline to enforce.
 */
export interface ValidationRuleMetadata {
  /** API name of the object, canonical case (`Account`, `Invoice__c`). */
  object: string;
  /** The rule's name within the object; its Metadata API fullName is `<object>.<fullName>`. */
  fullName: string;
  /** Inactive rules are kept (and retrieved) but never enforced. */
  active: boolean;
  description?: string;
  errorConditionFormula: string;
  /** The message a failed write reports, with status code FIELD_CUSTOM_VALIDATION_EXCEPTION. */
  errorMessage: string;
  /** API name of the field the error is shown against; absent puts it at the top of the page. */
  errorDisplayField?: string;
}

/** One component's history: what the Metadata API's FileProperties report. */
export interface ComponentVersion {
  id: string;
  /** 1 when first seen, +1 on every change of its content. */
  version: number;
  /** Content digest the last change was detected against. */
  hash: string;
  createdMs: number;
  createdById: string;
  lastModifiedMs: number;
  lastModifiedById: string;
}

/** An asynchronous retrieve, from `retrieve()` to the `checkRetrieveStatus()` that hands out its zip. */
export interface RetrieveJob {
  id: string;
  /** Status checks made so far: the first reports InProgress, as a real retrieve rarely finishes at once. */
  checks: number;
  zipFile: string | undefined;
  fileProperties: Record<string, unknown>[];
  messages: { fileName: string; problem: string }[];
}

export class MetadataState {
  /** Component IDs; record-backed components (profiles, record types) use their record's ID. */
  readonly ids = new IdAllocator('5g');
  readonly apexClasses = new Map<string, ApexSource>();
  readonly apexTriggers = new Map<string, ApexTriggerSource>();
  readonly flows = new Map<string, { name: string; xml: string }>();
  readonly permissionSets = new Map<string, PermissionSetSource>();
  /** Report, dashboard, document and email template folders, keyed `<contentType>:<name>`, lower case. */
  readonly folders = new Map<string, FolderSource>();
  /** Reports, dashboards, documents and email templates, keyed `<type>:<folder>/<name>`, lower case. */
  readonly foldered = new Map<string, FolderedSource>();
  /** Keyed `<object>.<rule>`, lower case. */
  readonly rules = new Map<string, ValidationRuleMetadata>();
  /** Fields each object's page layout shows: the fields the object had when first seen, as a
   * field added through the Metadata API does not join existing layouts. */
  readonly layoutFields = new Map<string, string[]>();
  /** Keyed `<type>:<fullName>`, fullName lower case. */
  readonly versions = new Map<string, ComponentVersion>();
  readonly componentIds = new Map<string, string>();
  readonly jobs = new Map<string, RetrieveJob>();
  /** Schema changes made through the admin API (`addField`, `setPicklistValues`), in order, as asked. */
  readonly schemaChanges: Record<string, unknown>[] = [];
  /** Until the first full sync, components are dated back into the org's history. */
  initialized = false;

  /** A stable ID for a component that has no record of its own. */
  idFor(key: string, prefix: string): string {
    let id = this.componentIds.get(key);
    if (!id) {
      id = this.ids.next(prefix);
      this.componentIds.set(key, id);
    }
    return id;
  }
}

const states = new WeakMap<Org, MetadataState>();

/** The metadata state of an org, seeded on first use. */
export function metadataState(org: Org): MetadataState {
  let state = states.get(org);
  if (!state) {
    state = seededState(org);
    states.set(org, state);
  }
  return state;
}

/**
 * Every validation rule of the org, active or not, ordered by object then name: those deployed
 * through the Metadata API or the metadata admin API, the seeded ones, and those added as
 * behaviours. This store is the only one; the write pipeline enforces what it holds. The objects
 * are copies: changes go through `putValidationRule` and `removeValidationRule`.
 */
export function validationRules(org: Org): ValidationRuleMetadata[] {
  return [...metadataState(org).rules.values()]
    .map((rule) => ({ ...rule }))
    .sort((a, b) => a.object.localeCompare(b.object) || a.fullName.localeCompare(b.fullName));
}

export function ruleKey(object: string, name: string): string {
  return `${object}.${name}`.toLowerCase();
}

/** A rule by object and name (case-insensitive), as stored; undefined when there is none. */
export function findValidationRule(org: Org, object: string, name: string): ValidationRuleMetadata | undefined {
  return metadataState(org).rules.get(ruleKey(object, name));
}

/**
 * Adds or replaces a validation rule. The stored object is a new one each time, so whatever was
 * compiled from the previous definition (see behaviours/validation-rules.ts) is not reused.
 * Callers check the rule (object, fields, formula) first.
 */
export function putValidationRule(org: Org, rule: ValidationRuleMetadata): ValidationRuleMetadata {
  const stored = { ...rule };
  metadataState(org).rules.set(ruleKey(rule.object, rule.fullName), stored);
  return stored;
}

/** Deletes a validation rule; false when there was none. */
export function removeValidationRule(org: Org, object: string, name: string): boolean {
  return metadataState(org).rules.delete(ruleKey(object, name));
}

export function folderKey(contentType: string, name: string): string {
  return `${contentType}:${name}`.toLowerCase();
}

export function folderedKey(type: string, folder: string, name: string): string {
  return `${type}:${folder}/${name}`.toLowerCase();
}

function seededState(org: Org): MetadataState {
  const state = new MetadataState();
  for (const c of SEED_APEX_CLASSES) state.apexClasses.set(c.name.toLowerCase(), { ...c });
  for (const t of SEED_APEX_TRIGGERS) if (org.schema.object(t.object)) state.apexTriggers.set(t.name.toLowerCase(), { ...t });
  for (const f of SEED_FLOWS) state.flows.set(f.name.toLowerCase(), { ...f });
  for (const p of SEED_PERMISSION_SETS) {
    state.permissionSets.set(p.name.toLowerCase(), { ...p, objects: p.objects.filter((o) => org.schema.object(o.object)) });
  }
  for (const f of SEED_FOLDERS) state.folders.set(folderKey(f.contentType, f.name), { ...f });
  for (const { object, ...item } of SEED_FOLDERED) {
    if (!object || org.schema.object(object)) state.foldered.set(folderedKey(item.type, item.folder, item.name), { ...item });
  }
  for (const { object, ...rule } of SEED_VALIDATION_RULES) {
    const def = org.schema.object(object);
    if (def) state.rules.set(ruleKey(def.name, rule.fullName), { object: def.name, ...rule });
  }
  return state;
}

/** The fields a generated page layout shows for an object, fixed the first time it is drawn. */
export function layoutFieldNames(state: MetadataState, def: ObjectDef): string[] {
  const key = def.name.toLowerCase();
  let names = state.layoutFields.get(key);
  if (!names) {
    names = def.fields.filter(onLayout).map((f) => f.name);
    state.layoutFields.set(key, names);
  }
  return names;
}

const OFF_LAYOUT = new Set(['Id', 'IsDeleted', 'SystemModstamp', 'LastViewedDate', 'LastReferencedDate', 'LastActivityDate', 'MasterRecordId', 'CreatedDate', 'LastModifiedDate', 'CreatedById', 'LastModifiedById']);

function onLayout(field: FieldDef): boolean {
  // Compound components are edited through their compound (BillingAddress, Name).
  return !OFF_LAYOUT.has(field.name) && !field.compoundFieldName && field.type !== 'location' && !field.deprecatedAndHidden;
}
