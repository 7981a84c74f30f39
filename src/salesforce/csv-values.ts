/**
 * Bulk API 2.0 result cells as the values REST returns for the same fields: Bulk writes every
 * value as text, null as an empty cell, and datetimes as `…000Z` where REST writes `…000+0000`.
 */
import type { FieldSummary, SObjectRecord } from '../core/org-client.ts';

type Cell = (text: string) => unknown;

const NUMERIC = new Set(['int', 'double', 'currency', 'percent', 'long']);

export function cellConverter(type: string | undefined): Cell {
  if (type === 'boolean') return (t) => t === 'true';
  if (type && NUMERIC.has(type)) return (t) => Number(t);
  if (type === 'datetime') return normaliseDatetime;
  if (type === 'time') return normaliseTime;
  // Compound fields come as JSON, when an API returns them at all.
  if (type === 'address' || type === 'location') return (t) => (t.startsWith('{') ? JSON.parse(t) : t);
  return (t) => t;
}

const DATETIME = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:?\d\d)$/;

/** Any ISO 8601 datetime as REST's `2024-03-17T16:21:26.000+0000` (UTC, milliseconds). */
export function normaliseDatetime(text: string): string {
  const m = DATETIME.exec(text);
  if (!m) return text;
  const [, base, fraction = '', zone] = m;
  if (zone === 'Z' || zone === '+0000' || zone === '+00:00' || zone === '-0000' || zone === '-00:00') return `${base}.${fraction.padEnd(3, '0').slice(0, 3)}+0000`;
  const ms = Date.parse(`${base}.${fraction.padEnd(3, '0').slice(0, 3)}${zone!.length === 5 ? `${zone!.slice(0, 3)}:${zone!.slice(3)}` : zone}`);
  return Number.isNaN(ms) ? text : `${new Date(ms).toISOString().slice(0, 23)}+0000`;
}

const TIME = /^(\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z?$/;

/** REST's `16:21:26.000Z`. */
export function normaliseTime(text: string): string {
  const m = TIME.exec(text);
  return m ? `${m[1]}.${(m[2] ?? '').padEnd(3, '0').slice(0, 3)}Z` : text;
}

/**
 * Builds records from rows under `header`. Columns of the queried object take their FieldSummary
 * name (REST's spelling) and type; `Parent.Field` columns become nested objects as in REST (null
 * when the parent is absent), their values left as text since the parent's types are not known.
 */
export function rowReader(header: readonly string[], fields: readonly FieldSummary[]): (row: readonly string[]) => SObjectRecord {
  const byName = new Map(fields.map((f) => [f.name.toLowerCase(), f]));
  const columns = header.map((name) => {
    const field = byName.get(name.toLowerCase());
    const path = field ? [field.name] : name.split('.');
    return { path, convert: cellConverter(field?.type) };
  });
  const nested = columns.some((c) => c.path.length > 1);
  return (row) => {
    const record: SObjectRecord = {};
    for (let i = 0; i < columns.length; i++) {
      const { path, convert } = columns[i]!;
      const text = row[i] ?? '';
      const value = text === '' ? null : convert(text);
      if (path.length === 1) {
        record[path[0]!] = value;
        continue;
      }
      let target = record;
      for (let k = 0; k < path.length - 1; k++) {
        const key = path[k]!;
        const next = target[key];
        if (next === undefined || next === null) target[key] = {};
        target = target[key] as SObjectRecord;
      }
      target[path[path.length - 1]!] = value;
    }
    return nested ? nullEmptyParents(record) : record;
  };
}

/** A parent whose every value is null is REST's `"Account": null`. */
function nullEmptyParents(record: SObjectRecord): SObjectRecord {
  for (const [key, value] of Object.entries(record)) {
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      const inner = nullEmptyParents(value as SObjectRecord);
      record[key] = Object.values(inner).every((v) => v === null) ? null : inner;
    }
  }
  return record;
}
