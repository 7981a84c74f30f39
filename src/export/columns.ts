/**
 * An exported object's columns, from its describe as last backed up, and the value of any column
 * for a record: what every format shares, so that CSV, SQL and Parquet export the same table.
 */
import type { RawField } from '../core/describe.ts';
import type { ExportColumn, ExportedRecord, TypeSpan } from './format.ts';

/** Field types that are not columns: compound fields (their components are) and file bodies (exported as files). */
const NOT_COLUMNS = new Set(['address', 'location', 'base64']);

/** The columns every-version exports add after the fields: where each row's version comes from. */
export const VERSION_COLUMNS: readonly ExportColumn[] = [
  column('_version_seq', 'long', 'Version sequence number in the vault', { nillable: false }),
  column('_system_modstamp', 'datetime', 'SystemModstamp of the version', { nillable: false }),
  column('_change_type', 'string', 'How the version came to be (created, updated, deleted, undeleted, reconciled)', { length: 16, nillable: false }),
  column('_is_deleted', 'boolean', 'Whether the record was deleted in this version', { nillable: false }),
  column('_captured_at', 'datetime', 'When the backup captured the version', { nillable: false }),
  column('_run_id', 'string', 'The backup run that captured the version', { length: 36, nillable: false }),
];

function column(name: string, type: string, label: string, options: { length?: number; nillable?: boolean } = {}): ExportColumn {
  return { name, type, label, nillable: options.nillable ?? true, length: options.length ?? 0, precision: 0, scale: 0 };
}

/**
 * The columns of an object from its raw describe: every field except compound and base64 ones,
 * in describe order with Id first (as Data Loader exports them), then the version columns when
 * every version is exported.
 */
export function columnsOf(rawFields: readonly RawField[], allVersions: boolean, typeHistory?: ReadonlyMap<string, TypeSpan[]>): ExportColumn[] {
  const fields = rawFields.filter((f) => !NOT_COLUMNS.has(f.type));
  const id = fields.filter((f) => f.name === 'Id');
  const columns = [...id, ...fields.filter((f) => f.name !== 'Id')].map(
    (f): ExportColumn => ({
      name: f.name,
      type: f.type,
      label: f.label ?? f.name,
      nillable: f.name === 'Id' ? false : (f.nillable ?? true),
      length: f.length ?? 0,
      precision: numberOr0((f as { precision?: unknown }).precision),
      scale: numberOr0((f as { scale?: unknown }).scale),
      ...(typeHistory?.has(f.name.toLowerCase()) ? { typeHistory: typeHistory.get(f.name.toLowerCase())! } : {}),
    }),
  );
  return allVersions ? [...columns, ...VERSION_COLUMNS] : columns;
}

const numberOr0 = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) ? value : 0);

/** One stored describe of an object and when it held. */
export interface StoredDescribe {
  schemaId: string;
  validFrom: number;
  validTo: number | null;
  fields: readonly RawField[];
}

/**
 * The fields of versions captured under several describes: their union by name (any case), each
 * field as its newest describe has it (newest type wins), in the newest describe's order with
 * fields only older describes had after them. `typeHistory` names, by lower-case name, the fields
 * whose type the describes disagree on, with each type and when its describe held.
 */
export function unionFields(describes: readonly StoredDescribe[]): { fields: RawField[]; typeHistory: Map<string, TypeSpan[]> } {
  const newestFirst = [...describes].sort((a, b) => b.validFrom - a.validFrom);
  const fields = new Map<string, RawField>();
  const spans = new Map<string, TypeSpan[]>();
  for (const describe of newestFirst) {
    for (const field of describe.fields) {
      const key = field.name.toLowerCase();
      if (!fields.has(key)) fields.set(key, field);
      const list = spans.get(key) ?? [];
      list.unshift({ type: field.type, schemaId: describe.schemaId, validFrom: describe.validFrom, validTo: describe.validTo });
      spans.set(key, list);
    }
  }
  const typeHistory = new Map([...spans].filter(([, list]) => new Set(list.map((s) => s.type)).size > 1));
  return { fields: [...fields.values()], typeHistory };
}

/**
 * A column's value for a record: the field as Salesforce returned it (null when the version has
 * no such field), or the version's own data for the version columns (datetimes as ISO-8601).
 */
export function columnValue(record: ExportedRecord, column: ExportColumn): unknown {
  switch (column.name) {
    case '_version_seq':
      return record.version.seq;
    case '_system_modstamp':
      return new Date(record.version.systemModstamp).toISOString();
    case '_change_type':
      return record.version.changeType;
    case '_is_deleted':
      return record.version.isDeleted;
    case '_captured_at':
      return new Date(record.version.capturedAt).toISOString();
    case '_run_id':
      return record.version.runId;
    default:
      return fieldValue(record.fields, column.name);
  }
}

const lowerKeys = new WeakMap<Record<string, unknown>, Map<string, string>>();

/** A field by name in any case: a version captured before a field's name changed case keeps its value. */
function fieldValue(fields: Record<string, unknown>, name: string): unknown {
  const exact = fields[name];
  if (exact !== undefined) return exact;
  let keys = lowerKeys.get(fields);
  if (!keys) lowerKeys.set(fields, (keys = new Map(Object.keys(fields).map((k) => [k.toLowerCase(), k]))));
  const key = keys.get(name.toLowerCase());
  return key === undefined ? null : (fields[key] ?? null);
}
