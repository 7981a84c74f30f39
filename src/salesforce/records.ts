/** REST records as the port hands them out: plain field values, without `attributes`. */
import type { SObjectRecord } from '../core/org-client.ts';
import { parseSalesforceDatetime } from '../core/time.ts';

/**
 * Drops `attributes` from a record and from the parent records and child subquery results inside
 * it; a subquery result keeps its `{ totalSize, done, records }` shape.
 */
export function stripAttributes(record: Record<string, unknown>): SObjectRecord {
  // for…in and a fresh object built key by key: every record of a page shares one shape, which
  // V8 keeps fast; Object.entries allocated an array per field (measured ~3× slower).
  const out: SObjectRecord = {};
  for (const key in record) {
    if (key === 'attributes') continue;
    const value = record[key];
    out[key] = value !== null && typeof value === 'object' ? strip(value) : value;
  }
  return out;
}

function strip(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const o = value as Record<string, unknown>;
  if (Array.isArray(o.records) && 'totalSize' in o) {
    return { ...o, records: (o.records as Record<string, unknown>[]).map(stripAttributes) };
  }
  // Compound values (addresses, locations) carry no attributes and are returned as they are.
  return 'attributes' in o ? stripAttributes(o) : o;
}

/** Salesforce's `2024-03-17T16:21:26.000+0000` (and ISO forms) as epoch milliseconds. */
export function parseSalesforceTime(text: string): number {
  const ms = parseSalesforceDatetime(text);
  if (ms === undefined) throw new Error(`Not a Salesforce datetime: ${text}`);
  return ms;
}

/** Epoch milliseconds in the form getDeleted and getUpdated accept (`2024-03-17T16:21:26+00:00`). */
export function formatIsoSeconds(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}+00:00`;
}
