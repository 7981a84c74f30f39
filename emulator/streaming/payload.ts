/**
 * The body of a change event as a CometD client receives it: which fields an event carries, how
 * compound fields nest, how values print, and the channel and schema names of an object.
 */
import { createHash } from 'node:crypto';
import type { Org } from '../org/org.ts';
import type { FieldDef, ObjectSchema, StoredRecord } from '../org/schema.ts';

/**
 * Fields a change event never carries: the record's own Id (it is in `recordIds`), IsDeleted,
 * SystemModstamp, and values derived from other records rather than stored on this one.
 */
const NOT_IN_EVENTS = new Set(['Id', 'IsDeleted', 'SystemModstamp', 'LastViewedDate', 'LastReferencedDate', 'LastActivityDate', 'PhotoUrl']);

/** Where a field's value sits in the payload: a top-level key, or a component of a compound. */
interface Slot {
  field: FieldDef;
  key: string;
  component?: string;
}

const slotCache = new WeakMap<ObjectSchema, Slot[]>();

/** The fields a change event of the object can carry, in schema order. */
function slots(object: ObjectSchema): Slot[] {
  const cached = slotCache.get(object);
  if (cached) return cached;
  const result: Slot[] = [];
  for (const field of object.def.fields) {
    // Formulas are computed on read (roll-ups are stored, and are included, as in Salesforce);
    // address and location compounds are assembled from their stored components.
    if (NOT_IN_EVENTS.has(field.name) || field.formula || field.type === 'address' || field.type === 'location') continue;
    const compound = field.compoundFieldName;
    if (compound && compound !== field.name) result.push({ field, key: compound, component: componentKey(compound, field.name) });
    else result.push({ field, key: field.name });
  }
  slotCache.set(object, result);
  return result;
}

/**
 * A component's name inside its compound, as change events print it: a person name keeps the
 * field names (`Name.FirstName`), an address drops its prefix (`BillingAddress.City`), a custom
 * geolocation drops its prefix and `__s` (`Site__c.Latitude`).
 */
function componentKey(compound: string, fieldName: string): string {
  let prefix = '';
  let key = fieldName;
  if (compound.endsWith('__c')) {
    prefix = compound.slice(0, -'c'.length);
    if (key.endsWith('__s')) key = key.slice(0, -'__s'.length);
  } else if (compound.endsWith('Address')) prefix = compound.slice(0, -'Address'.length);
  else if (compound.endsWith('Location')) prefix = compound.slice(0, -'Location'.length);
  return prefix && key.startsWith(prefix) && key.length > prefix.length ? key.slice(prefix.length) : key;
}

/** The header's name of a field: `Name.FirstName` for a component, the API name otherwise. */
function headerName(slot: Slot): string {
  return slot.component ? `${slot.key}.${slot.component}` : slot.key;
}

/**
 * A value as the JSON event prints it. Datetimes are ISO 8601 in UTC with a `Z`
 * (`2024-03-17T16:21:26Z`); the emulator's stamps can carry milliseconds, which are kept.
 */
function eventValue(field: FieldDef, value: unknown): unknown {
  if (value === undefined || value === '') return null;
  if (field.type === 'datetime' && typeof value === 'string') {
    const ms = Date.parse(value.replace(/\+0000$/, 'Z'));
    if (Number.isNaN(ms)) return value;
    return new Date(ms).toISOString().replace('.000Z', 'Z');
  }
  return value;
}

/** Fields and values of one record's change, with the header lists that go with them. */
export interface ChangeBody {
  fields: Record<string, unknown>;
  changedFields: string[];
  nulledFields: string[];
}

/**
 * The fields of a change: every non-empty field (`names` undefined, for CREATE and UNDELETE), or
 * only the named ones with their new values, nulls included (UPDATE). Compound components nest
 * under their compound.
 */
export function changeBody(org: Org, object: ObjectSchema, record: StoredRecord, names?: ReadonlySet<string>): ChangeBody {
  const fields: Record<string, unknown> = {};
  const changedFields: string[] = [];
  const nulledFields: string[] = [];
  for (const slot of slots(object)) {
    if (names && !names.has(slot.field.name)) continue;
    const value = eventValue(slot.field, org.readField(object, record, slot.field.name));
    if (!names && value === null) continue;
    if (names) {
      changedFields.push(headerName(slot));
      if (value === null) nulledFields.push(headerName(slot));
    }
    if (slot.component) {
      const nested = (fields[slot.key] ??= {}) as Record<string, unknown>;
      nested[slot.component] = value;
    } else fields[slot.key] = value;
  }
  return { fields, changedFields, nulledFields };
}

/**
 * A copy of an event payload without the fields the user cannot read: change events respect
 * field-level security. Returns the payload itself when nothing is hidden.
 */
export function visiblePayload(org: Org, object: ObjectSchema, payload: Record<string, unknown>): Record<string, unknown> {
  const hidden = slots(object).filter((s) => !org.access.canReadField(object.name, s.field.name));
  if (!hidden.length) return payload;
  const copy = structuredClone(payload);
  const header = copy.ChangeEventHeader as { changedFields?: string[]; nulledFields?: string[] } | undefined;
  for (const slot of hidden) {
    if (slot.component) {
      const nested = copy[slot.key] as Record<string, unknown> | undefined;
      if (nested && typeof nested === 'object') {
        delete nested[slot.component];
        if (!Object.keys(nested).length) delete copy[slot.key];
      }
    } else delete copy[slot.key];
    const name = headerName(slot);
    if (header?.changedFields) header.changedFields = header.changedFields.filter((f) => f !== name);
    if (header?.nulledFields) header.nulledFields = header.nulledFields.filter((f) => f !== name);
  }
  return copy;
}

/**
 * The change event's name for an object: `AccountChangeEvent`, `Invoice__ChangeEvent` for
 * `Invoice__c`.
 */
export function changeEventName(objectName: string): string {
  return objectName.endsWith('__c') ? `${objectName.slice(0, -1)}ChangeEvent` : `${objectName}ChangeEvent`;
}

/** The object API name a change event name stands for, or undefined when it is not one. */
export function objectOfChangeEvent(eventName: string): string | undefined {
  const match = /^(.+?)(__)?ChangeEvent$/.exec(eventName);
  if (!match) return undefined;
  return match[2] ? `${match[1]}__c` : match[1];
}

const schemaIds = new WeakMap<ObjectSchema, string>();

/**
 * The schema ID a change event message names, stable for one shape of the object: Salesforce's are
 * 22 characters of URL-safe base64 (`Jx8Hz9ElkIUaBf-heF1ShA`) and change when the object's fields do.
 */
export function schemaIdOf(object: ObjectSchema): string {
  let id = schemaIds.get(object);
  if (!id) {
    const shape = `${changeEventName(object.name)}:${slots(object).map((s) => `${s.field.name}/${s.field.type}`).join(',')}`;
    id = createHash('sha256').update(shape).digest('base64url').slice(0, 22);
    schemaIds.set(object, id);
  }
  return id;
}
