import type { FieldDef, ObjectSchema, StoredRecord } from '../org/schema.ts';
import type { QuerySource } from './source.ts';
import type { CompileContext } from './context.ts';
import { messages, queryError } from './query-error.ts';

/** How values of a field compare, sort and print. */
export type ValueKind = 'text' | 'id' | 'number' | 'boolean' | 'date' | 'datetime' | 'time' | 'multipicklist' | 'compound' | 'base64';

export function kindOf(field: FieldDef): ValueKind {
  switch (field.type) {
    case 'id':
    case 'reference':
      return 'id';
    case 'int':
    case 'long':
    case 'double':
    case 'currency':
    case 'percent':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'date':
      return 'date';
    case 'datetime':
      return 'datetime';
    case 'time':
      return 'time';
    case 'multipicklist':
      return 'multipicklist';
    case 'address':
    case 'location':
      return 'compound';
    case 'base64':
      return 'base64';
    default:
      return 'text';
  }
}

/** One relationship hop of a field path (`Account` in `Account.Name`). */
export interface Step {
  /** Canonical relationship name. */
  name: string;
  /** The reference field behind it, as defined on the statically known origin object. */
  field: FieldDef;
  /** The parent object when the reference is not polymorphic. */
  target: ObjectSchema | undefined;
  /** Whether the hop starts behind a polymorphic hop, so the reference must be looked up per row. */
  dynamicOrigin: boolean;
}

/** A resolved field reference: a column of the queried object or a path through parents. */
export interface FieldRef {
  /** Canonical dotted path (`Account.Owner.Email`). */
  path: string;
  /** The final segment as the query wrote it, for messages. */
  written: string;
  steps: Step[];
  /** The terminal field (for polymorphic paths: its definition on the first possible parent). */
  field: FieldDef;
  kind: ValueKind;
  /** The object holding the terminal field; undefined behind a polymorphic hop. */
  object: ObjectSchema | undefined;
  /** The value as the user sees it (null when a hop is empty); compound fields assembled. */
  read(record: StoredRecord): unknown;
}

/** The pseudo-field `Type` of a polymorphic relationship (`What.Type`): the parent's object name. */
const TYPE_FIELD: FieldDef = {
  name: 'Type',
  label: 'Type',
  type: 'picklist',
  nillable: true,
  createable: false,
  updateable: false,
};

/** Fields of the `Name` entity, the only ones reachable through a polymorphic relationship. */
const NAME_ENTITY_FIELDS = new Map(
  [
    'Id', 'Name', 'Type', 'Alias', 'CommunityNickname', 'Email', 'FirstName', 'LastName', 'IsActive', 'Phone', 'Title',
    'Username', 'UserRoleId', 'ProfileId', 'RecordTypeId', 'NameOrAlias', 'LastReferencedDate', 'LastViewedDate',
    'SmallPhotoUrl', 'MediumPhotoUrl', 'FullPhotoUrl',
  ].map((name) => [name.toLowerCase(), name]),
);

/**
 * Resolves a field path of the queried object. Paths may start with the object's alias or name
 * (`a.Name`, `Account.Name` on Account) when that is not also a relationship name. `offset` is where
 * the path starts in the query, for the error caret.
 */
export function resolveField(ctx: CompileContext, root: ObjectSchema, written: string, offset: number): FieldRef {
  const schema = ctx.source.schema;
  let segments = written.split('.');
  if (segments.length > 1) {
    const first = segments[0].toLowerCase();
    if (ctx.alias && first === ctx.alias.toLowerCase()) segments = segments.slice(1);
    else if (first === root.name.toLowerCase() && !root.relationship(first)) segments = segments.slice(1);
  }

  const steps: Step[] = [];
  const names: string[] = [];
  // Behind a polymorphic hop the possible parents are all the referenced objects.
  let candidates: ObjectSchema[] = [root];
  let polymorphic = false;
  for (const segment of segments.slice(0, -1)) {
    let ref: FieldDef | undefined;
    for (const candidate of candidates) {
      ref = candidate.relationship(segment);
      if (ref) break;
    }
    if (!ref || ref.type !== 'reference' || !ref.referenceTo?.length) {
      throw queryError('INVALID_FIELD', messages.badRelationshipInPath(segment), ctx.soql, offset);
    }
    const targets = ref.referenceTo.map((name) => schema.object(name)).filter((o): o is ObjectSchema => o !== undefined);
    if (targets.length === 0) throw queryError('INVALID_FIELD', messages.badRelationshipInPath(segment), ctx.soql, offset);
    const isPolymorphic = Boolean(ref.polymorphicForeignKey) || ref.referenceTo.length > 1;
    steps.push({ name: ref.relationshipName!, field: ref, target: isPolymorphic ? undefined : targets[0], dynamicOrigin: polymorphic });
    names.push(ref.relationshipName!);
    polymorphic ||= isPolymorphic;
    candidates = targets;
  }

  const last = segments[segments.length - 1];
  let field: FieldDef | undefined;
  if (polymorphic) {
    // Polymorphic relationships resolve against Salesforce's `Name` pseudo-entity: only its fields
    // are selectable, `Type` is the parent's object, and fields the actual parent lacks are null.
    const canonical = NAME_ENTITY_FIELDS.get(last.toLowerCase());
    if (!canonical) throw queryError('INVALID_FIELD', messages.noSuchColumn(last, 'Name'), ctx.soql, offset);
    if (canonical === 'Type') field = TYPE_FIELD;
    for (const candidate of candidates) field ??= candidate.field(canonical);
    field ??= { ...TYPE_FIELD, name: canonical, label: canonical, type: canonical.endsWith('Id') ? 'reference' : 'string' };
  } else {
    field = candidates[0].field(last);
  }
  if (!field) throw queryError('INVALID_FIELD', messages.noSuchColumn(last, candidates[0].name), ctx.soql, offset);
  names.push(field.name);
  const object = polymorphic ? undefined : candidates[0];
  return {
    path: names.join('.'),
    written: last,
    steps,
    field,
    kind: kindOf(field),
    object,
    read: reader(ctx.source, root, steps, field, object),
  };
}

/**
 * The field's reader, shared across the query's WHERE and ORDER BY and remembering the last row's
 * value: the keyset filter `A > x OR (A = x AND Id > y) ORDER BY A, Id` reads A once per row, not
 * four times. Readers are keyed by root object and path, so subqueries never mix them up.
 */
export function sharedReader(ctx: CompileContext, root: ObjectSchema, ref: FieldRef): FieldRef {
  const key = `${root.name}\u0000${ref.path}`.toLowerCase();
  let read = ctx.readers.get(key);
  if (!read) {
    const raw = ref.read;
    let last: StoredRecord | undefined;
    let value: unknown;
    read = (r) => {
      if (r !== last) {
        value = raw(r);
        last = r;
      }
      return value;
    };
    ctx.readers.set(key, read);
  }
  return { ...ref, read };
}

/** Follows relationship hops from a record; undefined when any hop is empty or unreadable. */
export function walk(source: QuerySource, root: ObjectSchema, record: StoredRecord, steps: Step[]): [ObjectSchema, StoredRecord] | undefined {
  let found: [ObjectSchema, StoredRecord] | undefined = [root, record];
  for (const step of steps) {
    found = followStep(source, found[0], found[1], step, step.dynamicOrigin);
    if (!found) return undefined;
  }
  return found;
}

/**
 * One hop: the parent record and its object. With `dynamic` the reference field is looked up on
 * the actual object (needed behind polymorphic hops); the parent's object comes from the ID's key
 * prefix when the reference is polymorphic.
 */
export function followStep(
  source: QuerySource,
  object: ObjectSchema,
  record: StoredRecord,
  step: Step,
  dynamic: boolean,
): [ObjectSchema, StoredRecord] | undefined {
  const ref = dynamic ? object.relationship(step.name) : step.field;
  if (!ref) return undefined;
  const id = source.readField(object, record, ref.name);
  if (typeof id !== 'string' || id === '') return undefined;
  const parent = source.get(id);
  if (!parent) return undefined;
  const next = step.target ?? source.schema.objectForId(id);
  return next ? [next, parent] : undefined;
}

/** A field definition as it exists on an actual object (for fields reached through polymorphic hops). */
export function fieldOn(object: ObjectSchema, field: FieldDef): FieldDef | undefined {
  return field === TYPE_FIELD ? TYPE_FIELD : object.field(field.name);
}

/** The FROM object of a query or subquery, as Salesforce validates it. */
export function resolveObject(ctx: CompileContext, name: string | undefined, offset: number): ObjectSchema {
  const object = name ? ctx.source.schema.object(name) : undefined;
  if (!object) throw queryError('INVALID_TYPE', messages.unsupportedObject(name ?? ''), ctx.soql, offset);
  if (object.def.queryable === false) {
    throw queryError('INVALID_TYPE_FOR_OPERATION', `entity type ${object.name} does not support query`, ctx.soql, offset);
  }
  return object;
}

/** The reader of a non-compound column of a statically known object, resolved once per query. */
export function columnReader(source: QuerySource, object: ObjectSchema, field: FieldDef): (record: StoredRecord) => unknown {
  if (field === TYPE_FIELD) return () => object.name;
  return source.fieldReader(object, field);
}

const IDENTIFIER = /^[A-Za-z][A-Za-z0-9_]*$/;

/**
 * For generated row code: the property access (`r["Name"]`) that reads a column of a statically
 * known object as columnReader does, when the column is its stored value as is (no formula, no
 * mask, no pseudo-field) and its name is a plain identifier; else undefined, and the code calls
 * the reader. The caller folds columnReader's `?? null` into its own null checks. A property
 * site of its own per field keeps each read monomorphic, where one shared reader is not.
 */
export function storedPropertyCode(source: QuerySource, object: ObjectSchema, field: FieldDef): string | undefined {
  if (field === TYPE_FIELD || !IDENTIFIER.test(field.name) || !source.isStoredValue?.(object, field)) return undefined;
  return `r[${JSON.stringify(field.name)}]`;
}

/** A field's value on a known object and record, as the user sees it. */
export function readOn(source: QuerySource, object: ObjectSchema, record: StoredRecord, field: FieldDef): unknown {
  if (field === TYPE_FIELD) return object.name;
  const kind = kindOf(field);
  if (kind === 'compound') return compoundValue(source, object, record, field.name);
  return source.readField(object, record, field.name);
}

function reader(source: QuerySource, root: ObjectSchema, steps: Step[], field: FieldDef, object: ObjectSchema | undefined): (r: StoredRecord) => unknown {
  if (steps.length === 0 && kindOf(field) !== 'compound') {
    // The hot path: a plain column of the queried object.
    return source.fieldReader(root, field);
  }
  if (object) {
    return (r) => {
      const found = walk(source, root, r, steps);
      return found ? readOn(source, found[0], found[1], field) : null;
    };
  }
  return (r) => {
    const found = walk(source, root, r, steps);
    if (!found) return null;
    const actual = fieldOn(found[0], field);
    return actual ? readOn(source, found[0], found[1], actual) : null;
  };
}

interface Component {
  key: string;
  field: FieldDef;
}

const componentCache = new WeakMap<ObjectSchema, Map<string, Component[]>>();

/**
 * The components of a compound field (BillingAddress → BillingStreet ...), keyed the way REST
 * prints them (street, city, postalCode, geocodeAccuracy ...), in alphabetical order as Salesforce
 * prints them.
 */
export function compoundComponents(object: ObjectSchema, compoundName: string): Component[] {
  let perObject = componentCache.get(object);
  if (!perObject) componentCache.set(object, (perObject = new Map()));
  const cached = perObject.get(compoundName);
  if (cached) return cached;
  let prefix = compoundName;
  let suffix = '';
  if (compoundName.endsWith('__c')) {
    prefix = `${compoundName.slice(0, -3)}__`;
    suffix = '__s';
  } else if (compoundName.endsWith('Address')) prefix = compoundName.slice(0, -'Address'.length);
  else if (compoundName.endsWith('Location')) prefix = compoundName.slice(0, -'Location'.length);
  const components = object.def.fields
    .filter((f) => f.compoundFieldName === compoundName)
    .map((f) => {
      let key = f.name.startsWith(prefix) ? f.name.slice(prefix.length) : f.name;
      if (suffix && key.endsWith(suffix)) key = key.slice(0, -suffix.length);
      return { key: key.charAt(0).toLowerCase() + key.slice(1), field: f };
    })
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  perObject.set(compoundName, components);
  return components;
}

/** A compound field assembled from its components; null when every component is empty. */
export function compoundValue(source: QuerySource, object: ObjectSchema, record: StoredRecord, compoundName: string): Record<string, unknown> | null {
  const value: Record<string, unknown> = {};
  let any = false;
  for (const c of compoundComponents(object, compoundName)) {
    const v = outputValue(kindOf(c.field), source.readField(object, record, c.field.name));
    if (v !== null) any = true;
    value[c.key] = v;
  }
  return any ? value : null;
}

/** A value as REST prints it: numbers as numbers, empty text as null, undefined as null. */
export function outputValue(kind: ValueKind, value: unknown): unknown {
  if (value === undefined || value === null) return null;
  if (kind === 'number' && typeof value === 'string') return value === '' ? null : Number(value);
  if (value === '' && kind !== 'boolean') return null;
  return value;
}

/** The ordering and comparison form of a value: lower-cased text, numbers, canonical strings. */
export function normalizer(kind: ValueKind, field: FieldDef): (value: unknown) => string | number | boolean | null {
  switch (kind) {
    case 'number':
      return (v) => (v === null || v === undefined || v === '' ? null : typeof v === 'number' ? v : Number(v));
    case 'boolean':
      return (v) => (v === null || v === undefined ? null : Boolean(v));
    case 'text':
    case 'multipicklist':
      if (field.caseSensitive) return (v) => (v === null || v === undefined || v === '' ? null : String(v));
      return (v) => (v === null || v === undefined || v === '' ? null : String(v).toLowerCase());
    default:
      return (v) => (v === null || v === undefined || v === '' ? null : typeof v === 'string' ? v : String(v));
  }
}
