/**
 * The pure parts of capturing an object: the queries a capture sends, how a returned record
 * becomes a version, and where the next run resumes. No I/O here, so every rule is testable alone.
 */
import type { FieldSummary, SObjectRecord } from '../core/org-client.ts';
import type { ChangeType, VersionInput, Watermark } from '../core/vault.ts';
import { parseSalesforceDatetime } from '../core/time.ts';
import type { RecordHead } from '../store/port.ts';

/** SOQL datetime literal: ISO-8601 in UTC, unquoted. */
export function soqlDatetime(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * The keyset query of one chunk: every record after `after` in (SystemModstamp, Id) order. Keyset
 * paging (never OFFSET) keeps each query cheap and lets a capture restart exactly where its data
 * stopped, after an expired cursor or a crash.
 */
export function captureQuery(objectName: string, fields: readonly FieldSummary[], after: Watermark | null, limit?: number): string {
  const select = fields.map((f) => f.name).join(', ');
  let where = '';
  if (after) {
    const at = soqlDatetime(after.systemModstamp);
    where = after.recordId ? ` WHERE SystemModstamp > ${at} OR (SystemModstamp = ${at} AND Id > '${after.recordId}')` : ` WHERE SystemModstamp >= ${at}`;
  }
  return `SELECT ${select} FROM ${objectName}${where} ORDER BY SystemModstamp, Id${limit ? ` LIMIT ${limit}` : ''}`;
}

/** Where a run starts reading: a look-back before the watermark, for transactions that commit late. */
export function resumePoint(watermark: Watermark | null, lookbackMs: number): Watermark | null {
  return watermark ? { systemModstamp: watermark.systemModstamp - lookbackMs, recordId: '' } : null;
}

/** The one cheap query telling whether anything changed in an object's look-back window. */
export function quietCheckQuery(objectName: string, windowStart: number | null): string {
  return `SELECT COUNT(Id) n, MAX(SystemModstamp) m FROM ${objectName}${windowStart === null ? '' : ` WHERE SystemModstamp > ${soqlDatetime(windowStart)}`}`;
}

/**
 * How a record came to look as returned, given what the vault holds of it: a delete or an undelete
 * is a change of IsDeleted from the latest stored version; a record first seen is `created` when
 * it was never edited, else `updated` (the change at its SystemModstamp was an edit).
 */
export function classifyChange(record: SObjectRecord, head: RecordHead | undefined): ChangeType {
  const deleted = record.IsDeleted === true;
  // A record already deleted that changes again (a lookup cleared in the Recycle Bin) is an update.
  if (deleted) return head?.isDeleted ? 'updated' : 'deleted';
  if (head?.isDeleted) return 'undeleted';
  if (head) return 'updated';
  const created = record.CreatedDate;
  const modified = record.LastModifiedDate;
  return created === undefined || modified === undefined || created === modified ? 'created' : 'updated';
}

/** A returned record as a version to store. */
export function toVersion(record: SObjectRecord, head: RecordHead | undefined): VersionInput {
  const stamp = parseSalesforceDatetime(record.SystemModstamp);
  if (stamp === undefined) throw new TypeError(`Record ${String(record.Id)} has no readable SystemModstamp (${JSON.stringify(record.SystemModstamp)}).`);
  return {
    recordId: String(record.Id),
    systemModstamp: stamp,
    changeType: classifyChange(record, head),
    isDeleted: record.IsDeleted === true,
    lastModifiedById: typeof record.LastModifiedById === 'string' ? record.LastModifiedById : null,
    fields: record,
  };
}

/** Orders two watermarks as a capture reads records: by SystemModstamp, then Id. */
export function compareWatermarks(a: Watermark, b: Watermark): number {
  return a.systemModstamp - b.systemModstamp || (a.recordId < b.recordId ? -1 : a.recordId > b.recordId ? 1 : 0);
}

/** The name a file body is shown and exported with. */
export function fileNameOf(objectName: string, record: SObjectRecord): string | null {
  const text = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
  if (objectName === 'ContentVersion') return text(record.PathOnClient) ?? text(record.Title);
  if (objectName === 'Document') {
    const name = text(record.Name);
    const type = text(record.Type);
    return name && type && !name.toLowerCase().endsWith(`.${type.toLowerCase()}`) ? `${name}.${type}` : name;
  }
  return text(record.Name);
}

/** The body's size as the record states it, when it does: lets an unchanged body be reused. */
export function statedBodySize(objectName: string, record: SObjectRecord): number | undefined {
  const value = objectName === 'ContentVersion' ? record.ContentSize : record.BodyLength;
  return typeof value === 'number' ? value : undefined;
}
