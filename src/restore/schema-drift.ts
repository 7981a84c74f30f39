/**
 * Data and schema together: every version is restored through the describe it was captured under,
 * mapped by field name (any case) onto the org's describe now. What no longer maps is reported per
 * object, with what the restore does about it: fields the backup holds that the org no longer has
 * (deleted or renamed) or that the API user cannot write are left out; a field whose type changed
 * has its values converted, and a value that cannot be converted fails its record, named; a value
 * no longer active in a picklist is written as it is, or refused when the picklist is restricted.
 */
import { describeFromRaw } from '../core/describe.ts';
import type { FieldSummary, ObjectDescription } from '../core/org-client.ts';
import type { RecordVersion, SchemaVersion } from '../core/vault.ts';
import type { SchemaStore } from '../store/port.ts';
import type { PlannedRecord } from './plan.ts';
import type { RestoreItem } from './related.ts';

/** The describe a version was captured under. */
export interface VersionSchema {
  /** Its content address in the vault; null when the vault holds no describe of the object. */
  schemaId: string | null;
  /** From when to when it was the object's describe in the backups (null: still is). */
  validFrom: number | null;
  validTo: number | null;
  describe: ObjectDescription;
}

/** How a field the backup holds differs in the org now. */
export type DriftChange = 'missing' | 'notWritable' | 'typeChanged' | 'picklistValues';
/** What the restore does about it. */
export type DriftAction = 'leftOut' | 'converted' | 'refused' | 'writtenAsIs';

export interface FieldDrift {
  /** The field's API name as the backup holds it. */
  field: string;
  change: DriftChange;
  /** Its type in the describe the versions were captured under, and in the org (null when gone). */
  backedUpType: string;
  orgType: string | null;
  /** For `picklistValues`: the values the backup's picklist offered that the org's no longer does. */
  values?: string[];
  action: DriftAction;
  /** Records of this restore whose version holds a value in the field. */
  records: number;
  /** Records that fail over this field (the value cannot be written), by original ID. */
  refused: string[];
  /** The schema versions of the backup that hold the field so. */
  schemaIds: string[];
  message: string;
}

export interface ObjectSchemaDrift {
  object: string;
  /** The schema versions the restored versions were captured under, with their record counts. */
  schemas: { schemaId: string | null; validFrom: number | null; validTo: number | null; records: number }[];
  fields: FieldDrift[];
}

/**
 * The describe each item's version was captured under, by original ID: the version's own schema
 * ID, else (versions stored before every version carried one) the describe that held when it was
 * captured, else the object's latest. Items of objects the vault holds no describe of are absent.
 */
export async function versionSchemas(store: SchemaStore, orgId: string, items: readonly RestoreItem[]): Promise<Map<string, VersionSchema>> {
  const histories = new Map<string, SchemaVersion[]>();
  const loaded = new Map<string, ObjectDescription | null>();
  const load = async (schemaId: string): Promise<ObjectDescription | null> => {
    if (!loaded.has(schemaId)) {
      // A describe that cannot be read (or is not one) is treated as unknown, never fatal.
      const describe = await store
        .getSchema(orgId, schemaId)
        .then((raw) => describeFromRaw(raw))
        .catch(() => null);
      loaded.set(schemaId, describe);
    }
    return loaded.get(schemaId)!;
  };
  const found = new Map<string, VersionSchema>();
  for (const item of items) {
    let history = histories.get(item.objectName);
    if (!history) histories.set(item.objectName, (history = await store.schemaHistory(orgId, item.objectName)));
    const interval = pickInterval(history, item.version);
    const schemaId = item.version.schemaId ?? interval?.schemaId ?? null;
    if (!schemaId) continue;
    const describe = await load(schemaId);
    if (!describe) continue;
    const held = history.find((s) => s.schemaId === schemaId) ?? interval;
    found.set(item.originalId, { schemaId, validFrom: held?.validFrom ?? null, validTo: held?.validTo ?? null, describe });
  }
  return found;
}

/** The describe interval a version's capture falls in; the latest when none does. */
function pickInterval(history: readonly SchemaVersion[], version: Pick<RecordVersion, 'capturedAt'>): SchemaVersion | undefined {
  const at = version.capturedAt;
  return history.find((s) => s.validFrom <= at && (s.validTo === null || at < s.validTo)) ?? history.find((s) => s.validTo === null) ?? history[history.length - 1];
}

/** Fields a restore never writes, whatever describe says (as the plan). */
const NEVER_WRITTEN = new Set(['Id', 'IsDeleted', 'SystemModstamp', 'MasterRecordId']);
/** Settable only with Set Audit Fields on create: not a loss worth reporting when they are not. */
const AUDIT_FIELDS = new Set(['CreatedDate', 'CreatedById', 'LastModifiedDate', 'LastModifiedById']);
const UNWRITABLE_TYPES = new Set(['id', 'base64', 'address', 'location']);

/** A field a restore of a version captured under its describe would write. */
function restorable(field: FieldSummary): boolean {
  return (field.createable || field.updateable) && !field.calculated && !field.autoNumber && !UNWRITABLE_TYPES.has(field.type) && !NEVER_WRITTEN.has(field.name);
}

const hasValue = (value: unknown): boolean => value !== null && value !== undefined && value !== '' && typeof value !== 'object';

/** A field's value in a version, by name in any case. */
function valueOf(fields: Record<string, unknown>, name: string): unknown {
  if (name in fields) return fields[name];
  const lower = name.toLowerCase();
  const key = Object.keys(fields).find((k) => k.toLowerCase() === lower);
  return key === undefined ? undefined : fields[key];
}

/**
 * Per object, the fields of the restored versions' describes that do not map onto the org's
 * describe as they were, and what the plan does about each. `describes` is the org written to;
 * `records` the plan (to name the records refused). Objects without drift are left out.
 */
export function schemaDrift(
  items: readonly RestoreItem[],
  schemas: ReadonlyMap<string, VersionSchema>,
  describes: ReadonlyMap<string, ObjectDescription>,
  records: readonly PlannedRecord[],
): ObjectSchemaDrift[] {
  const planned = new Map(records.map((r) => [r.originalId, r]));
  const byObject = new Map<string, RestoreItem[]>();
  for (const item of items) byObject.set(item.objectName, [...(byObject.get(item.objectName) ?? []), item]);
  const report: ObjectSchemaDrift[] = [];
  for (const [objectName, group] of [...byObject].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const live = describes.get(objectName);
    // An object the org does not have fails every record on its own (INVALID_TYPE): no field to map.
    if (!live) continue;
    const liveByName = new Map(live.fields.map((f) => [f.name.toLowerCase(), f]));
    const usage = new Map<string | null, { schema: VersionSchema | undefined; items: RestoreItem[] }>();
    for (const item of group) {
      const schema = schemas.get(item.originalId);
      const key = schema?.schemaId ?? null;
      const entry = usage.get(key) ?? { schema, items: [] };
      entry.items.push(item);
      usage.set(key, entry);
    }
    const fields = new Map<string, FieldDrift>();
    const add = (drift: Omit<FieldDrift, 'message' | 'schemaIds'>, schemaId: string | null): void => {
      const key = `${drift.field.toLowerCase()}\u0000${drift.change}`;
      const previous = fields.get(key);
      if (!previous) {
        fields.set(key, { ...drift, schemaIds: schemaId ? [schemaId] : [], message: '' });
        return;
      }
      previous.records += drift.records;
      previous.refused.push(...drift.refused.filter((id) => !previous.refused.includes(id)));
      if (schemaId && !previous.schemaIds.includes(schemaId)) previous.schemaIds.push(schemaId);
      if (drift.values) previous.values = [...new Set([...(previous.values ?? []), ...drift.values])];
      if (drift.action === 'refused' || (drift.action === 'converted' && previous.action !== 'refused')) previous.action = drift.action;
    };
    for (const [schemaId, { schema, items: under }] of usage) {
      if (!schema) continue;
      for (const before of schema.describe.fields) {
        if (!restorable(before)) continue;
        const carried = under.filter((i) => hasValue(valueOf(i.version.fields, before.name)));
        const now = liveByName.get(before.name.toLowerCase());
        const base = { field: before.name, backedUpType: before.type, orgType: now?.type ?? null, records: carried.length };
        if (!now) {
          add({ ...base, change: 'missing', action: 'leftOut', refused: [] }, schemaId);
          continue;
        }
        if (now.calculated || now.autoNumber || (!now.createable && !now.updateable)) {
          if (!AUDIT_FIELDS.has(now.name)) add({ ...base, change: 'notWritable', action: 'leftOut', refused: [] }, schemaId);
          continue;
        }
        if (now.type !== before.type) {
          const refused = carried.filter((i) => failsOn(planned.get(i.originalId), now.name, 'INVALID_TYPE_ON_FIELD_IN_RECORD')).map((i) => i.originalId);
          add({ ...base, change: 'typeChanged', action: refused.length ? 'refused' : 'converted', refused }, schemaId);
          continue;
        }
        if (before.type === 'picklist' || before.type === 'multipicklist') {
          const offered = new Set(now.picklistValues);
          const gone = before.picklistValues.filter((v) => !offered.has(v));
          const holding = carried.filter((i) => String(valueOf(i.version.fields, before.name)).split(';').some((v) => gone.includes(v)));
          if (gone.length === 0 || holding.length === 0) continue;
          const refused = holding.filter((i) => failsOn(planned.get(i.originalId), now.name, 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST')).map((i) => i.originalId);
          add({ ...base, records: holding.length, change: 'picklistValues', values: gone, action: now.restrictedPicklist ? 'refused' : 'writtenAsIs', refused }, schemaId);
        }
      }
    }
    if (fields.size === 0) continue;
    const drifts = [...fields.values()].sort((a, b) => (a.field.toLowerCase() < b.field.toLowerCase() ? -1 : 1));
    for (const drift of drifts) drift.message = describeDrift(objectName, drift);
    report.push({
      object: objectName,
      schemas: [...usage].map(([schemaId, { schema, items: under }]) => ({ schemaId, validFrom: schema?.validFrom ?? null, validTo: schema?.validTo ?? null, records: under.length })),
      fields: drifts,
    });
  }
  return report;
}

/** The record fails (or is predicted to) with this code on this field. */
function failsOn(record: PlannedRecord | undefined, field: string, statusCode: string): boolean {
  if (!record) return false;
  return record.predicted.some((p) => p.statusCode === statusCode && p.fields.some((f) => f.toLowerCase() === field.toLowerCase()));
}

function describeDrift(objectName: string, d: FieldDrift): string {
  const held = `${d.records} record(s) hold a value`;
  const named = (ids: readonly string[]): string => `${ids.slice(0, 10).join(', ')}${ids.length > 10 ? ` and ${ids.length - 10} more` : ''}`;
  switch (d.change) {
    case 'missing':
      return `${objectName}.${d.field} (${d.backedUpType}) is no longer a field of ${objectName} (deleted or renamed since the backup): left out; ${held}.`;
    case 'notWritable':
      return `${objectName}.${d.field} is ${d.orgType === null ? 'gone' : 'not writable by the API user now (read-only, a formula, or no field permission)'}: left out; ${held}.`;
    case 'typeChanged':
      return d.refused.length
        ? `${objectName}.${d.field} was ${d.backedUpType} in the backup and is ${d.orgType} in the org: values converted where they fit; ${d.refused.length} record(s) refused (a value that is not a ${d.orgType}): ${named(d.refused)}.`
        : `${objectName}.${d.field} was ${d.backedUpType} in the backup and is ${d.orgType} in the org: ${d.records} value(s) converted.`;
    case 'picklistValues': {
      const values = (d.values ?? []).map((v) => `"${v}"`).join(', ');
      return d.action === 'refused'
        ? `${objectName}.${d.field}: ${values} no longer active in its restricted picklist; ${d.records} record(s) hold one and are refused: ${named(d.refused)}.`
        : `${objectName}.${d.field}: ${values} no longer active in its picklist; ${d.records} record(s) hold one, written as they are (the picklist is not restricted).`;
    }
  }
}
