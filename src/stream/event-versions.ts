/**
 * How a change event becomes a record version, pure. A version the stream stores is shaped as the
 * scan's query returns the record (the same fields, compound components flat, datetimes as REST
 * prints them, SystemModstamp set), so that the scan reading the same change later finds the same
 * record, SystemModstamp and fields and skips it as already stored.
 *
 * SystemModstamp: events carry none. A version's SystemModstamp is the header's commitTimestamp:
 * Salesforce stamps every record of a transaction with its commit time (the emulator stamps both
 * from one clock reading), so the event and the scan name the same change by the same time.
 *
 * What an event cannot give, and is fetched instead: header-only gap events; any change of a
 * record whose previous version the vault lacks (an UPDATE or DELETE with nothing to merge onto);
 * a CREATE or UNDELETE of an object with fields events never carry (formulas, a compound's own
 * value such as Contact.Name) and no previous version to take them from; a field the event names
 * that the object's shape does not have (a field added since it was described).
 *
 * Formula fields change without an event naming them: an UPDATE keeps the previous version's
 * values, as a scan keeps a value seen until the record is read again. A scan that reads a
 * different formula value at the same SystemModstamp stores it as its own version.
 */
import type { ChangeEventMessage, FieldSummary, SObjectRecord } from '../core/org-client.ts';
import type { VersionInput } from '../core/vault.ts';

/** What the capture knows of an object's fields: the scan's field list and how events name them. */
export interface ObjectShape {
  objectName: string;
  /** The fields a scan queries, in its order. */
  fields: readonly FieldSummary[];
  /** Event key (`Name`, `BillingAddress`) → component key (`FirstName`, `City`) → field name. */
  components: Map<string, Map<string, string>>;
  /** Header names (`Name.FirstName`) → field names. */
  headerNames: Map<string, string>;
  datetimeFields: Set<string>;
  /** Fields events never carry and a version must take from somewhere else. */
  notInEvents: Set<string>;
  /** Fields that are a compound's own value, derived from components (Contact.Name). */
  compoundValues: Set<string>;
}

/** Fields an event never carries whose value a version gets from elsewhere (or leaves null). */
const SYSTEM_NOT_IN_EVENTS = new Set(['Id', 'IsDeleted', 'SystemModstamp', 'LastViewedDate', 'LastReferencedDate', 'LastActivityDate', 'PhotoUrl']);

/** The object's shape, from the fields a scan queries (compound address/location fields left out). */
export function objectShape(objectName: string, fields: readonly FieldSummary[]): ObjectShape {
  const components = new Map<string, Map<string, string>>();
  const headerNames = new Map<string, string>();
  const datetimeFields = new Set<string>();
  const notInEvents = new Set<string>();
  const compoundNames = new Set<string>();
  for (const field of fields) {
    if (field.type === 'datetime') datetimeFields.add(field.name);
    if (field.calculated) notInEvents.add(field.name);
    const compound = field.compoundFieldName;
    if (compound && compound !== field.name) {
      compoundNames.add(compound);
      const key = componentKey(compound, field.name);
      let map = components.get(compound);
      if (!map) components.set(compound, (map = new Map()));
      map.set(key, field.name);
      headerNames.set(`${compound}.${key}`, field.name);
    } else {
      headerNames.set(field.name, field.name);
    }
  }
  const compoundValues = new Set(fields.filter((f) => compoundNames.has(f.name)).map((f) => f.name));
  for (const name of compoundValues) {
    notInEvents.add(name);
    // The event's key for the compound is its components, never its value.
    headerNames.delete(name);
  }
  return { objectName, fields, components, headerNames, datetimeFields, notInEvents, compoundValues };
}

/**
 * A component's key inside its compound, as change events print it: a person name keeps the field
 * names (`Name.FirstName`), an address drops its prefix (`BillingAddress.City`), a custom
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

/** An epoch time as REST prints datetimes: `2024-03-17T16:21:26.000+0000`. */
export function restDatetime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}

/** The event's values by field name, REST-shaped; undefined when it names a field the shape lacks. */
export function eventValues(shape: ObjectShape, event: Pick<ChangeEventMessage, 'fields' | 'nulledFields'>): Map<string, unknown> | undefined {
  const values = new Map<string, unknown>();
  const put = (field: string, value: unknown): void => {
    if (shape.datetimeFields.has(field) && typeof value === 'string') {
      const ms = Date.parse(value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
      values.set(field, Number.isNaN(ms) ? value : restDatetime(ms));
    } else values.set(field, value ?? null);
  };
  for (const [key, value] of Object.entries(event.fields)) {
    const parts = shape.components.get(key);
    if (parts && value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [component, v] of Object.entries(value)) {
        const field = parts.get(component);
        if (!field) return undefined;
        put(field, v);
      }
    } else if (parts && value === null) {
      for (const field of parts.values()) put(field, null);
    } else {
      const field = shape.headerNames.get(key);
      if (!field) return undefined;
      put(field, value);
    }
  }
  for (const name of event.nulledFields) {
    const field = shape.headerNames.get(name);
    if (!field) return undefined;
    values.set(field, null);
  }
  return values;
}

/** What applying one event to one record gives: a version, or the record must be read back. */
export type EventOutcome = { version: VersionInput } | { fetch: string };

/**
 * One record's version from a record change event (CREATE, UPDATE, DELETE, UNDELETE), given the
 * record's version just before the commit (`previous`, the vault's or one made earlier in the same
 * batch). Gap and overflow events are never given here.
 */
export function versionFromEvent(shape: ObjectShape, event: ChangeEventMessage, recordId: string, previous: { fields: Record<string, unknown>; isDeleted: boolean } | undefined): EventOutcome {
  const at = event.commitTimestamp;
  const stamp = restDatetime(at);
  const finish = (fields: SObjectRecord, isDeleted: boolean): EventOutcome => {
    fields.Id = recordId;
    fields.IsDeleted = isDeleted;
    if ('SystemModstamp' in fields || shape.fields.some((f) => f.name === 'SystemModstamp')) fields.SystemModstamp = stamp;
    const ordered: SObjectRecord = {};
    for (const f of shape.fields) ordered[f.name] = f.name in fields ? fields[f.name] : null;
    const lastModifiedById = typeof ordered.LastModifiedById === 'string' ? ordered.LastModifiedById : null;
    return { version: { recordId, systemModstamp: at, changeType: 'event', isDeleted, lastModifiedById, fields: ordered } };
  };

  switch (event.changeType) {
    case 'DELETE': {
      if (!previous) return { fetch: 'no stored version to mark deleted' };
      const fields = { ...previous.fields };
      if ('LastModifiedDate' in fields) fields.LastModifiedDate = stamp;
      if ('LastModifiedById' in fields && event.commitUser) fields.LastModifiedById = event.commitUser;
      return finish(fields, true);
    }
    case 'UPDATE': {
      if (!previous) return { fetch: 'no stored version to merge the update onto' };
      const values = eventValues(shape, event);
      if (!values) return { fetch: 'the event names a field the stored describe lacks' };
      // A compound's own value (Contact.Name) follows its components, which the event changed.
      for (const [compound, parts] of shape.components) {
        if (shape.compoundValues.has(compound) && [...parts.values()].some((f) => values.has(f))) return { fetch: `${compound} is derived from the changed fields` };
      }
      const fields = { ...previous.fields };
      for (const [field, value] of values) fields[field] = value;
      return finish(fields, previous.isDeleted);
    }
    case 'CREATE':
    case 'UNDELETE': {
      const values = eventValues(shape, event);
      if (!values) return { fetch: 'the event names a field the stored describe lacks' };
      const fields: SObjectRecord = {};
      for (const field of shape.fields) {
        if (SYSTEM_NOT_IN_EVENTS.has(field.name)) fields[field.name] = previous && field.name in previous.fields ? previous.fields[field.name] : null;
        else if (shape.notInEvents.has(field.name)) {
          if (!previous) return { fetch: `${field.name} is not carried by change events` };
          fields[field.name] = previous.fields[field.name] ?? null;
        } else fields[field.name] = null;
      }
      // A create event leaves out empty fields: every field it does not carry is null.
      for (const [field, value] of values) fields[field] = value;
      return finish(fields, false);
    }
    default:
      return { fetch: `${event.changeType} carries no record` };
  }
}
