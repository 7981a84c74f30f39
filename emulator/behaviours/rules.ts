/**
 * Org behaviours that reject a write with the status code a real org gives: validation rules,
 * lookup filters, approval locks, sharing, user references, record types, changed field types,
 * row-lock contention, internal errors, and a generic rule for any other status code. Each spec
 * kind has a reader here that checks the spec against the schema and returns a `Rule`.
 */
import { SalesforceError } from '../org/errors.ts';
import { toId18 } from '../org/ids.ts';
import type { Org, WriteContext } from '../org/org.ts';
import type { FieldDef, ObjectSchema, StoredRecord } from '../org/schema.ts';
import { Random } from '../seed/random.ts';
import { scopeEnv, writeEnv } from './env.ts';
import { compileCondition, holds, renderFormula } from './formula.ts';
import type { Expr } from './formula.ts';
import {
  SpecError,
  checkKeys,
  fieldOf,
  objectOf,
  oneOf,
  operationsOf,
  optionalBoolean,
  optionalNumber,
  optionalObject,
  optionalString,
  optionalStringList,
  recordIdList,
  requiredString,
  seedOf,
} from './spec.ts';
import type { Spec, WriteOperation } from './spec.ts';

/**
 * When a rule runs, in Salesforce's order of execution: row locks are taken first, approval locks
 * checked, then before triggers, system validation (lookups, sharing, record types, types), custom
 * validation rules and duplicate rules; after triggers run once the record is saved. The first
 * phase that finds errors stops the write; within a phase every error is reported.
 */
export type Phase = 'contention' | 'lock' | 'system' | 'validation' | 'duplicates';

export interface Rule {
  readonly name: string;
  readonly kind: string;
  readonly phase: Phase;
  /** The spec as the admin API lists it: defaults filled in, object names canonical. */
  readonly spec: Spec;
  check(ctx: WriteContext): SalesforceError[] | undefined;
}

/** A validation rule as the Metadata API describes it. */
export interface ValidationRuleInfo {
  object: string;
  fullName: string;
  active: boolean;
  errorConditionFormula: string;
  errorMessage: string;
  errorDisplayField?: string;
}

export interface ValidationRule extends Rule {
  readonly info: ValidationRuleInfo;
  /** The compiled condition, handed to the rule store so it is not parsed again. */
  readonly expr: Expr;
  readonly description?: string;
}

const API_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;
const AUDIT_USER_FIELDS = new Set(['CreatedById', 'LastModifiedById']);

const id15 = (id: string): string => id.slice(0, 15);

function ruleName(spec: Spec, fallback: string): string {
  const name = optionalString(spec, 'name') ?? fallback;
  if (name.includes('/')) throw new SpecError('name', '"name" cannot contain "/".');
  return name;
}

/** The fields a write sets: every stored value on create, the caller's fields on update. */
function writtenFields(ctx: WriteContext): string[] {
  return ctx.operation === 'create' ? Object.keys(ctx.record) : ctx.operation === 'update' ? Object.keys(ctx.input) : [];
}

function appliesTo(object: ObjectSchema | undefined, operations: readonly WriteOperation[], ctx: WriteContext): boolean {
  return (!object || object.name === ctx.object.name) && operations.includes(ctx.operation);
}

// ------------------------------------------------------------------------------------ validation rules

export function validationRule(org: Org, spec: Spec): ValidationRule {
  checkKeys(spec, ['kind', 'name', 'object', 'condition', 'formula', 'message', 'errorField', 'active', 'description']);
  const object = objectOf(org, spec);
  const name = requiredString(spec, 'name');
  if (!API_NAME.test(name)) throw new SpecError('name', '"name" must be an API name: letters, digits and underscores, starting with a letter.');
  const expr = compileCondition(spec, object, org.schema, { required: true })!;
  const message = requiredString(spec, 'message');
  const errorField = spec.errorField === undefined || spec.errorField === null ? undefined : fieldOf(object, spec, 'errorField').name;
  const active = optionalBoolean(spec, 'active', true);
  const info: ValidationRuleInfo = {
    object: object.name,
    fullName: `${object.name}.${name}`,
    active,
    errorConditionFormula: renderFormula(expr),
    errorMessage: message,
  };
  if (errorField) info.errorDisplayField = errorField;
  const description = optionalString(spec, 'description');
  return {
    name,
    kind: 'validationRule',
    phase: 'validation',
    info,
    expr,
    ...(description !== undefined ? { description } : {}),
    spec: { ...spec, object: object.name, active, ...(errorField ? { errorField } : {}) },
    check(ctx) {
      // Validation rules run on insert and update (upsert included), never on delete or undelete.
      if (!active || !appliesTo(object, ['create', 'update'], ctx) || !holds(expr, writeEnv(ctx))) return undefined;
      return [new SalesforceError('FIELD_CUSTOM_VALIDATION_EXCEPTION', message, { fields: errorField ? [errorField] : [] })];
    },
  };
}

// ------------------------------------------------------------------------------------ lookup filters

const LOOKUP_FILTER_MESSAGE = 'Value does not exist or does not match filter criteria.';

/**
 * A required lookup filter: the record a lookup points at must satisfy the condition, whose field
 * paths start at that target record; `$Source.Field` reads the record being saved.
 */
export function lookupFilter(org: Org, spec: Spec): Rule {
  checkKeys(spec, ['kind', 'name', 'object', 'field', 'condition', 'formula', 'message', 'active']);
  const object = objectOf(org, spec);
  const field = fieldOf(object, spec);
  if (field.type !== 'reference' || !field.referenceTo?.length) throw new SpecError('field', `${object.name}.${field.name} is not a lookup.`);
  if (field.referenceTo.length !== 1) throw new SpecError('field', `${object.name}.${field.name} is polymorphic; lookup filters apply to single-object lookups.`);
  const target = org.schema.object(field.referenceTo[0]!);
  if (!target) throw new SpecError('field', `${field.referenceTo[0]!} is not in this org.`);
  const expr = compileCondition(spec, target, org.schema, { required: true, source: object })!;
  const message = optionalString(spec, 'message') ?? LOOKUP_FILTER_MESSAGE;
  const active = optionalBoolean(spec, 'active', true);
  const name = ruleName(spec, `${object.name}.${field.name}.lookupFilter`);
  return {
    name,
    kind: 'lookupFilter',
    phase: 'system',
    spec: { ...spec, name, object: object.name, field: field.name, message, active },
    check(ctx) {
      if (!active || !appliesTo(object, ['create', 'update'], ctx)) return undefined;
      // Enforced on every save while the lookup is set, so existing records that no longer match
      // fail when anything on them is edited, as restores find out.
      const value = ctx.record[field.name];
      const parent = typeof value === 'string' ? org.get(value) : undefined;
      if (!parent || parent.IsDeleted) return undefined;
      const scope = { object: target, record: parent };
      const env = scopeEnv(org, scope, scope, { userId: ctx.options.userId, source: { object: ctx.object, record: ctx.record } });
      if (holds(expr, env)) return undefined;
      return [new SalesforceError('FIELD_FILTER_VALIDATION_EXCEPTION', message, { fields: [field.name] })];
    },
  };
}

// ------------------------------------------------------------------------------------ record selections

/** Records a rule is about: listed IDs and/or those matching a condition. */
interface Selection {
  ids: Set<string>;
  expr: Expr | undefined;
}

function selection(org: Org, spec: Spec, object: ObjectSchema): Selection {
  const ids = recordIdList(spec, 'recordIds', toId18);
  const expr = compileCondition(spec, object, org.schema, { required: false });
  if (!ids && !expr) throw new SpecError('recordIds', 'Give "recordIds", a "condition" or a "formula".');
  for (const id of ids ?? []) {
    if (!id.startsWith(object.def.keyPrefix)) throw new SpecError('recordIds', `${id} is not a ${object.name} ID.`);
  }
  return { ids: new Set(ids ?? []), expr };
}

function selects(org: Org, sel: Selection, object: ObjectSchema, record: StoredRecord, userId: string): boolean {
  if (sel.ids.has(record.Id)) return true;
  if (!sel.expr) return false;
  const scope = { object, record };
  return holds(sel.expr, scopeEnv(org, scope, scope, { userId }));
}

// ------------------------------------------------------------------------------------ approval locks

/**
 * Records locked by an approval process: edits and deletes fail while the stored record is
 * selected (pending approval), whoever makes them.
 */
export function approvalLock(org: Org, spec: Spec): Rule {
  checkKeys(spec, ['kind', 'name', 'object', 'recordIds', 'condition', 'formula', 'operations', 'active', 'processName']);
  const object = objectOf(org, spec);
  const sel = selection(org, spec, object);
  const operations = operationsOf(spec, ['update', 'delete']);
  const active = optionalBoolean(spec, 'active', true);
  const name = ruleName(spec, optionalString(spec, 'processName') ?? `${object.name}.approvalLock`);
  return {
    name,
    kind: 'approvalLock',
    phase: 'lock',
    spec: { ...spec, name, object: object.name, operations, active },
    check(ctx) {
      if (!active || !appliesTo(object, operations, ctx) || !ctx.previous) return undefined;
      if (!selects(org, sel, object, ctx.previous, ctx.options.userId)) return undefined;
      return [new SalesforceError('ENTITY_IS_LOCKED', 'the entity is locked for editing', { fields: [] })];
    },
  };
}

// ------------------------------------------------------------------------------------ sharing

/**
 * Records the API user has no sharing access to. Pointing a lookup at one fails with
 * INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY; editing or deleting one fails with
 * INSUFFICIENT_ACCESS_OR_READONLY.
 */
export function sharing(org: Org, spec: Spec): Rule {
  checkKeys(spec, ['kind', 'name', 'object', 'recordIds', 'condition', 'formula', 'active']);
  const object = objectOf(org, spec);
  const sel = selection(org, spec, object);
  const active = optionalBoolean(spec, 'active', true);
  const name = ruleName(spec, `${object.name}.sharing`);
  const hidden = (id: unknown, userId: string): boolean => {
    if (typeof id !== 'string' || !id.startsWith(object.def.keyPrefix)) return false;
    const record = org.get(id);
    return Boolean(record && selects(org, sel, object, record, userId));
  };
  return {
    name,
    kind: 'sharing',
    phase: 'system',
    spec: { ...spec, name, object: object.name, active },
    check(ctx) {
      if (!active) return undefined;
      const userId = ctx.options.userId;
      if ((ctx.operation === 'update' || ctx.operation === 'delete') && ctx.object.name === object.name && hidden(ctx.record.Id, userId)) {
        return [new SalesforceError('INSUFFICIENT_ACCESS_OR_READONLY', 'insufficient access rights on object id', { fields: [] })];
      }
      for (const name of writtenFields(ctx)) {
        const field = ctx.object.field(name);
        if (field?.type !== 'reference' || field.name === 'Id') continue;
        const value = ctx.record[field.name];
        if (hidden(value, userId)) {
          return [new SalesforceError('INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY', `insufficient access rights on cross-reference id: ${id15(String(value))}`, { fields: [] })];
        }
      }
      return undefined;
    },
  };
}

// ------------------------------------------------------------------------------------ user references

function isUserLookup(field: FieldDef): boolean {
  return field.type === 'reference' && Boolean(field.referenceTo?.includes('User'));
}

/**
 * The user lookups a rule watches: `fields` as `Field` (with `object`) or `Object.Field`, or by
 * default every user lookup of `object` (of every object without one), minus what `exclude` says.
 */
function userLookups(org: Org, spec: Spec, exclude: (field: FieldDef) => boolean): (object: ObjectSchema, field: FieldDef) => boolean {
  const object = optionalObject(org, spec);
  const fields = optionalStringList(spec, 'fields');
  if (!fields) return (o, f) => (!object || o.name === object.name) && isUserLookup(f) && !exclude(f);
  const chosen = new Set<string>();
  for (const entry of fields) {
    const [objectName, fieldName] = entry.includes('.') ? entry.split('.', 2) : [object?.name, entry];
    const target = objectName ? org.schema.object(objectName) : undefined;
    if (!target) throw new SpecError('fields', `"${entry}": name the object ("Object.Field") or give "object".`);
    const field = target.field(fieldName!);
    if (!field || !isUserLookup(field)) throw new SpecError('fields', `"${entry}" is not a user lookup.`);
    chosen.add(`${target.name}.${field.name}`);
  }
  return (o, f) => chosen.has(`${o.name}.${f.name}`);
}

function userRefErrors(ctx: WriteContext, watched: (object: ObjectSchema, field: FieldDef) => boolean, bad: (user: StoredRecord) => SalesforceError | undefined): SalesforceError[] | undefined {
  if (ctx.operation !== 'create' && ctx.operation !== 'update') return undefined;
  for (const name of writtenFields(ctx)) {
    const field = ctx.object.field(name);
    if (!field || !watched(ctx.object, field)) continue;
    const value = ctx.record[field.name];
    if (typeof value !== 'string' || !value.startsWith('005')) continue;
    const user = ctx.org.get(value);
    const error = user ? bad(user) : undefined;
    if (error) return [error];
  }
  return undefined;
}

/**
 * Inactive users in user lookups other than the owner (which the org itself checks). Salesforce
 * raises it where a lookup needs an active user: Event and Task assignees, delegated approvers,
 * custom lookups with such a rule; which lookups is configured.
 */
export function inactiveUserLookup(org: Org, spec: Spec): Rule {
  checkKeys(spec, ['kind', 'name', 'object', 'fields', 'active']);
  const watched = userLookups(org, spec, (f) => f.name === 'OwnerId' || AUDIT_USER_FIELDS.has(f.name));
  const active = optionalBoolean(spec, 'active', true);
  const name = ruleName(spec, `${optionalString(spec, 'object') ?? 'all'}.inactiveUserLookup`);
  return {
    name,
    kind: 'inactiveUserLookup',
    phase: 'system',
    spec: { ...spec, name, active },
    check(ctx) {
      if (!active) return undefined;
      return userRefErrors(ctx, watched, (user) =>
        user.IsActive === false
          ? new SalesforceError('INACTIVE_OWNER_OR_USER', `operation performed with inactive user [${id15(user.Id)}] as owner of ${ctx.object.name.toLowerCase()}`, { fields: [] })
          : undefined,
      );
    },
  };
}

/**
 * User references to users who are not members of the org: listed user IDs (users of another org
 * carried over in a backup, portal or automated users) or users matching a condition.
 */
export function invalidUser(org: Org, spec: Spec): Rule {
  checkKeys(spec, ['kind', 'name', 'object', 'fields', 'userIds', 'condition', 'formula', 'active']);
  const watched = userLookups(org, spec, () => false);
  const userObject = org.schema.object('User')!;
  const sel = selection(org, { ...spec, recordIds: spec.userIds }, userObject);
  const active = optionalBoolean(spec, 'active', true);
  const name = ruleName(spec, `${optionalString(spec, 'object') ?? 'all'}.invalidUser`);
  return {
    name,
    kind: 'invalidUser',
    phase: 'system',
    spec: { ...spec, name, active },
    check(ctx) {
      if (!active) return undefined;
      return userRefErrors(ctx, watched, (user) =>
        selects(org, sel, userObject, user, ctx.options.userId) ? new SalesforceError('INVALID_USERID', `invalid user id: ${id15(user.Id)}`, { fields: [] }) : undefined,
      );
    },
  };
}

/** Writes of User records that the org refuses as a whole (licences, user types, restored users). */
export function invalidUserObject(org: Org, spec: Spec): Rule {
  checkKeys(spec, ['kind', 'name', 'condition', 'formula', 'operations', 'active']);
  const userObject = org.schema.object('User')!;
  const expr = compileCondition(spec, userObject, org.schema, { required: false });
  const operations = operationsOf(spec, ['create', 'update']);
  const active = optionalBoolean(spec, 'active', true);
  const name = ruleName(spec, 'User.invalidUserObject');
  return {
    name,
    kind: 'invalidUserObject',
    phase: 'system',
    spec: { ...spec, name, operations, active },
    check(ctx) {
      if (!active || !appliesTo(userObject, operations, ctx) || (expr && !holds(expr, writeEnv(ctx)))) return undefined;
      return [new SalesforceError('INVALID_USER_OBJECT', 'invalid user object', { fields: [] })];
    },
  };
}

// ------------------------------------------------------------------------------------ record types

/**
 * Record type availability for the API user's profile. A record type that is inactive or not
 * assigned is refused (INVALID_CROSS_REFERENCE_KEY, as Salesforce words it); a new record without
 * one takes the profile's default, and when there is none to take (no default, or the default is
 * inactive or unassigned) the write fails with UNAVAILABLE_RECORDTYPE_EXCEPTION.
 */
export function recordTypes(org: Org, spec: Spec): Rule {
  checkKeys(spec, ['kind', 'name', 'object', 'available', 'default', 'active']);
  const object = objectOf(org, spec);
  if (!object.field('RecordTypeId')) throw new SpecError('object', `${object.name} has no record types.`);
  const defined = [...org.records('RecordType')].filter((r) => r.SobjectType === object.name);
  const known = (key: string, names: string[]): void => {
    for (const n of names) if (!defined.some((r) => r.DeveloperName === n)) throw new SpecError(key, `${object.name} has no record type "${n}".`);
  };
  const available = optionalStringList(spec, 'available');
  known('available', available ?? []);
  // The profile's default: as given, else the first available one, else the org-wide default.
  const defaultName =
    spec.default === null
      ? null
      : (optionalString(spec, 'default') ?? available?.[0] ?? object.def.recordTypes?.find((t) => t.defaultRecordTypeMapping && !t.master)?.developerName ?? null);
  known('default', defaultName ? [defaultName] : []);
  const active = optionalBoolean(spec, 'active', true);
  const name = ruleName(spec, `${object.name}.recordTypes`);
  const usable = (rt: StoredRecord | undefined): boolean =>
    Boolean(rt && rt.SobjectType === object.name && rt.IsActive !== false && (!available || available.includes(String(rt.DeveloperName))));
  return {
    name,
    kind: 'recordTypes',
    phase: 'system',
    spec: { ...spec, name, object: object.name, default: defaultName, active },
    check(ctx) {
      if (!active || !appliesTo(object, ['create', 'update'], ctx)) return undefined;
      const given = ctx.record.RecordTypeId;
      if (typeof given === 'string') {
        // An update that leaves the record type as it is does not re-check it.
        if (ctx.operation === 'update' && ctx.previous?.RecordTypeId === given) return undefined;
        if (usable(org.get(given))) return undefined;
        return [new SalesforceError('INVALID_CROSS_REFERENCE_KEY', `Record Type ID: this ID value isn't valid for the user: ${given}`, { fields: ['RecordTypeId'] })];
      }
      // Objects with only the master record type never need a default.
      if (ctx.operation !== 'create' || !defined.length) return undefined;
      const fallback = defaultName ? defined.find((r) => r.DeveloperName === defaultName) : undefined;
      if (usable(fallback)) return undefined;
      return [new SalesforceError('UNAVAILABLE_RECORDTYPE_EXCEPTION', 'Unable to find default record type', { fields: [] })];
    },
  };
}

// ------------------------------------------------------------------------------------ changed field types

const TYPE_TESTS: Record<string, (value: unknown) => boolean> = {
  double: (v) => typeof v === 'number' || (typeof v === 'string' && /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(v.trim())),
  int: (v) => (typeof v === 'number' && Number.isInteger(v)) || (typeof v === 'string' && /^[+-]?\d+$/.test(v.trim())),
  boolean: (v) => typeof v === 'boolean' || v === 'true' || v === 'false',
  date: (v) => typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v) && !Number.isNaN(Date.parse(`${v}T00:00:00Z`)),
  datetime: (v) => typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:?\d{2})?$/.test(v),
  email: (v) => typeof v === 'string' && /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(v),
  url: (v) => typeof v === 'string' && !/\s/.test(v),
  id: (v) => typeof v === 'string' && toId18(v) !== undefined,
};
TYPE_TESTS.currency = TYPE_TESTS.double!;
TYPE_TESTS.percent = TYPE_TESTS.double!;
TYPE_TESTS.reference = TYPE_TESTS.id!;

/**
 * A field whose type changed in the org since a backup was taken (text to number, say): values
 * that no longer fit the new type are refused with INVALID_TYPE_ON_FIELD_IN_RECORD. The describe
 * keeps the old type: this stands for the data not matching, not for a metadata change.
 */
export function fieldTypeChange(org: Org, spec: Spec): Rule {
  checkKeys(spec, ['kind', 'name', 'object', 'field', 'newType', 'active']);
  const object = objectOf(org, spec);
  const field = fieldOf(object, spec);
  const newType = oneOf(spec, 'newType', Object.keys(TYPE_TESTS));
  const fits = TYPE_TESTS[newType]!;
  const active = optionalBoolean(spec, 'active', true);
  const name = ruleName(spec, `${object.name}.${field.name}.fieldTypeChange`);
  return {
    name,
    kind: 'fieldTypeChange',
    phase: 'system',
    spec: { ...spec, name, object: object.name, field: field.name, newType, active },
    check(ctx) {
      if (!active || !appliesTo(object, ['create', 'update'], ctx)) return undefined;
      if (!(field.name in ctx.input)) return undefined;
      const value = ctx.input[field.name];
      if (value === null || value === undefined || value === '' || fits(value)) return undefined;
      return [new SalesforceError('INVALID_TYPE_ON_FIELD_IN_RECORD', `${field.label}: value not of required type: ${String(value)}`, { fields: [field.name] })];
    },
  };
}

// ------------------------------------------------------------------------------------ contention and internal errors

/**
 * A deterministic draw for the n-th write a rule sees: the same seed fails the same writes, and a
 * draw does not depend on the others, so a retry is a new draw.
 */
export function draw(seed: string | number, name: string, n: number): number {
  return new Random(`${String(seed)}\u0000${name}\u0000${n}`).next();
}

/** The parent a new record would lock: its first lookup, as Salesforce locks parents on insert. */
function lockedId(ctx: WriteContext): string | undefined {
  if (ctx.operation !== 'create') return ctx.record.Id;
  for (const field of ctx.object.def.fields) {
    if (field.type !== 'reference' || field.name === 'Id' || isUserLookup(field)) continue;
    const value = ctx.record[field.name];
    if (typeof value === 'string') return value;
  }
  return undefined;
}

function rateRule(
  org: Org,
  spec: Spec,
  kind: 'rowLock' | 'unknownException',
  target: (ctx: WriteContext) => string | undefined,
  error: (ctx: WriteContext, n: number) => SalesforceError,
): Rule {
  checkKeys(spec, ['kind', 'name', 'object', 'operations', 'rate', 'recordIds', 'seed', 'active']);
  const object = optionalObject(org, spec);
  const operations = operationsOf(spec, ['create', 'update', 'delete', 'undelete']);
  const rate = optionalNumber(spec, 'rate', 0, 1) ?? 0;
  const ids = new Set(recordIdList(spec, 'recordIds', toId18) ?? []);
  if (!rate && !ids.size) throw new SpecError('rate', 'Give a "rate" (0 to 1) and/or "recordIds".');
  const seed = seedOf(spec);
  const active = optionalBoolean(spec, 'active', true);
  const name = ruleName(spec, `${object?.name ?? 'all'}.${kind}`);
  let seen = 0;
  return {
    name,
    kind,
    phase: 'contention',
    spec: { ...spec, name, ...(object ? { object: object.name } : {}), operations, rate, seed, active },
    check(ctx) {
      if (!active || !appliesTo(object, operations, ctx)) return undefined;
      const n = seen++;
      const id = target(ctx);
      const hit = (id !== undefined && ids.has(id)) || (rate > 0 && draw(seed, name, n) < rate);
      return hit ? [error(ctx, n)] : undefined;
    },
  };
}

/**
 * UNABLE_TO_LOCK_ROW at a rate, or always for `recordIds`: another transaction holds the record
 * (for an insert, the parent it locks).
 */
export function rowLock(org: Org, spec: Spec): Rule {
  return rateRule(org, spec, 'rowLock', lockedId, (ctx) => {
    const id = lockedId(ctx);
    const message = id ? `unable to obtain exclusive access to this record or 1 records: ${id}` : 'unable to obtain exclusive access to this record';
    return new SalesforceError('UNABLE_TO_LOCK_ROW', message, { fields: [] });
  });
}

/** UNKNOWN_EXCEPTION at a rate, with an ErrorId derived from the seed as support would be given. */
export function unknownException(org: Org, spec: Spec): Rule {
  const seed = seedOf(spec);
  return rateRule(org, spec, 'unknownException', (ctx) => ctx.record.Id, (_ctx, n) => {
    const r = new Random(`${String(seed)}\u0000errorId\u0000${n}`);
    const errorId = `${1_000_000_000 + r.int(1_000_000_000)}-${10_000 + r.int(90_000)} (${-(100_000_000 + r.int(1_000_000_000))})`;
    return new SalesforceError('UNKNOWN_EXCEPTION', `An unexpected error occurred. Please include this ErrorId if you contact support: ${errorId}`, { status: 500 });
  });
}

// ------------------------------------------------------------------------------------ any other status code

/** A rule that fails matching writes with a given status code and message: the escape hatch. */
export function recordError(org: Org, spec: Spec): Rule {
  checkKeys(spec, ['kind', 'name', 'object', 'operations', 'condition', 'formula', 'errorCode', 'message', 'fields', 'status', 'active']);
  const object = optionalObject(org, spec);
  if (!object && (spec.condition !== undefined || spec.formula !== undefined)) throw new SpecError('object', 'A condition needs an "object".');
  const expr = object ? compileCondition(spec, object, org.schema, { required: false }) : undefined;
  const errorCode = requiredString(spec, 'errorCode');
  if (!/^[A-Z][A-Z0-9_]*$/.test(errorCode)) throw new SpecError('errorCode', '"errorCode" must be a status code such as INVALID_USER_OBJECT.');
  const message = requiredString(spec, 'message');
  const fields = optionalStringList(spec, 'fields') ?? [];
  const status = optionalNumber(spec, 'status', 400, 599) ?? 400;
  const operations = operationsOf(spec, ['create', 'update', 'delete', 'undelete']);
  const active = optionalBoolean(spec, 'active', true);
  const name = ruleName(spec, `${object?.name ?? 'all'}.${errorCode}`);
  return {
    name,
    kind: 'recordError',
    phase: 'system',
    spec: { ...spec, name, ...(object ? { object: object.name } : {}), operations, status, active },
    check(ctx) {
      if (!active || !appliesTo(object, operations, ctx) || (expr && !holds(expr, writeEnv(ctx)))) return undefined;
      return [new SalesforceError(errorCode, message, { status, fields })];
    },
  };
}
