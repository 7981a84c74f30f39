/**
 * Bulk API 2.0 ingest jobs: records written as CSV with the types of their fields, uploaded once,
 * the job closed and polled to its end, then its successful, failed and unprocessed results
 * matched back to the records, one result per record in order, and the job deleted.
 *
 * Salesforce's result files do not keep the upload's order: each row repeats the columns as
 * uploaded after `sf__Id` and `sf__Created` (or `sf__Error`), and that is what rows are matched on:
 * the Id for an update, the whole row for an insert (identical rows take their results in turn,
 * which is all one can tell of them).
 */
import { parse } from 'csv-parse/sync';
import { SalesforceApiError } from '../core/errors.ts';
import type { FieldSummary, RecordWriteError, RecordWriteResult, SObjectRecord } from '../core/org-client.ts';
import { cleanUp, waitForJob } from './bulk.ts';
import type { BulkTuning, JobInfo } from './bulk.ts';
import { normaliseDatetime } from './csv-values.ts';
import type { OrgHttp } from './http.ts';

/** Salesforce takes 150 MB of job data once base64-encoded, so at most 100 MB of CSV. */
export const MAX_INGEST_CSV_BYTES = 100 * 1024 * 1024;
/** The cell that sets a field to null; an empty cell leaves the field as it is. */
const NULL_CELL = '#N/A';

export async function ingest(
  http: OrgHttp,
  tuning: BulkTuning,
  objectName: string,
  operation: 'insert' | 'update',
  records: readonly SObjectRecord[],
  fields: readonly FieldSummary[],
): Promise<RecordWriteResult[]> {
  if (records.length === 0) return [];
  const table = toTable(records, fields);
  const csv = toCsv(table);
  const bytes = Buffer.byteLength(csv);
  if (bytes > MAX_INGEST_CSV_BYTES) throw new RangeError(`The ${records.length} ${objectName} records make ${bytes} bytes of CSV; one ingest job takes at most ${MAX_INGEST_CSV_BYTES}`);

  const job = await http.json<JobInfo>('POST', http.dataPath('/jobs/ingest'), {
    body: { object: objectName, operation, contentType: 'CSV', lineEnding: 'LF', columnDelimiter: 'COMMA' },
  });
  const path = http.dataPath(`/jobs/ingest/${job.id}`);
  const status = { terminated: false };
  try {
    // Uploaded data is processed once the job is closed: neither may be sent twice (a second
    // upload fails the job; a close that went through starts it).
    await http.send('PUT', `${path}/batches`, { rawBody: csv, headers: { 'content-type': 'text/csv' }, idempotent: false }, 'application/json', drain);
    await closeJob(http, path, job.id);
    const done = await waitForJob(http, tuning, job.id, status, 'ingest');
    const matcher = new ResultMatcher(table, operation);
    const read = (resource: string): Promise<string[][]> => http.send('GET', `${path}/${resource}`, {}, 'text/csv', async (response) => parseCsv(await response.text()));
    matcher.add(await read('successfulResults/'), 'success');
    // A job that reports every row processed and none failed has nothing to read there: two calls saved.
    if (done.numberRecordsFailed !== 0) matcher.add(await read('failedResults/'), 'failed');
    if (done.numberRecordsProcessed !== records.length) matcher.add(await read('unprocessedrecords/'), 'unprocessed');
    return matcher.results();
  } finally {
    await cleanUp(http, job.id, status.terminated, 'ingest');
  }
}

async function drain(response: Response): Promise<void> {
  await response.arrayBuffer();
}

/**
 * Closes the job (UploadComplete). When the connection failed after the request may have reached
 * Salesforce, the job's state tells whether it did: a job past Open is carried on with.
 */
async function closeJob(http: OrgHttp, path: string, id: string): Promise<void> {
  try {
    await http.json('PATCH', path, { body: { state: 'UploadComplete' }, idempotent: false });
  } catch (error) {
    if (!(error instanceof SalesforceApiError) || (error.statusCode !== 'CONNECTION_ERROR' && error.statusCode !== 'REQUEST_TIMEOUT')) throw error;
    const info = await http.json<JobInfo>('GET', path).catch(() => undefined);
    if (!info || info.state === 'Open') throw error;
    http.log(`Closing Bulk ingest job ${id} failed (${error.message}), but the job is ${info.state}; carrying on`);
  }
}

// ------------------------------------------------------------------------------------ CSV

interface Table {
  columns: string[];
  /** Each record's cells as sent, unquoted. */
  rows: string[][];
}

/** The columns present in the records (their keys, `attributes` aside, in first-seen order) and their cells. */
function toTable(records: readonly SObjectRecord[], fields: readonly FieldSummary[]): Table {
  const columns: string[] = [];
  const seen = new Set<string>();
  for (const record of records) {
    for (const key in record) {
      if (key === 'attributes' || seen.has(key)) continue;
      seen.add(key);
      columns.push(key);
    }
  }
  const byName = new Map(fields.map((f) => [f.name.toLowerCase(), f.type]));
  const formats = columns.map((c) => cellFormat(byName.get(c.toLowerCase())));
  // A column the record lacks is an empty cell, which leaves the field as it is (or to its default).
  const rows = records.map((record) => columns.map((column, i) => (record[column] === undefined ? '' : formats[i]!(record[column]))));
  return { columns, rows };
}

/**
 * How a value is written for a field type. Null (and an empty string, which REST also takes as
 * null) is `#N/A`; datetimes are `2024-01-01T00:00:00.000Z`; dates `YYYY-MM-DD`; numbers plain.
 */
function cellFormat(type: string | undefined): (value: unknown) => string {
  const format = (value: unknown): string => {
    if (typeof value === 'boolean') return value ? 'true' : 'false';
    if (typeof value === 'number') {
      if (type === 'datetime') return new Date(value).toISOString();
      if (type === 'date') return new Date(value).toISOString().slice(0, 10);
      return plainNumber(value);
    }
    if (typeof value === 'string') {
      if (type === 'datetime') return bulkDatetime(value);
      if (type === 'date' && /^\d{4}-\d\d-\d\dT/.test(value)) return value.slice(0, 10);
      return value;
    }
    return JSON.stringify(value);
  };
  return (value) => (value === null || value === '' ? NULL_CELL : format(value));
}

/** REST's `2024-03-17T16:21:26.000+0000` (or any ISO 8601 form) as Bulk's `2024-03-17T16:21:26.000Z`. */
function bulkDatetime(text: string): string {
  const rest = normaliseDatetime(text);
  return rest.endsWith('+0000') ? `${rest.slice(0, -5)}Z` : text;
}

/** A number without an exponent, which Salesforce does not read: `1e-7` is `0.0000001`. */
function plainNumber(n: number): string {
  const text = String(n);
  if (!/e/i.test(text)) return text;
  if (Number.isInteger(n)) return BigInt(n).toString();
  return n.toFixed(20).replace(/\.?0+$/, '');
}

/** A cell quoted when it must be: a delimiter, quote or line break, or edge spaces Salesforce would trim. */
function csvCell(text: string): string {
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function toCsv(table: Table): string {
  let out = `${table.columns.map(csvCell).join(',')}\n`;
  for (const row of table.rows) out += `${row.map(csvCell).join(',')}\n`;
  return out;
}

function parseCsv(text: string): string[][] {
  return parse(text, { bom: true, relax_column_count: true, skip_empty_lines: true }) as string[][];
}

// ------------------------------------------------------------------------------------ results

/** Matches result rows to the records they belong to, by the cells that were sent. */
class ResultMatcher {
  private readonly results_: (RecordWriteResult | undefined)[];
  /** Record indexes waiting for a result, by key, oldest first. */
  private readonly waiting = new Map<string, number[]>();
  /** The same, by key of trimmed cells, should Salesforce echo a value trimmed. */
  private readonly waitingTrimmed = new Map<string, number[]>();
  private readonly keyColumns: number[];

  constructor(
    private readonly table: Table,
    operation: 'insert' | 'update',
  ) {
    this.results_ = new Array<RecordWriteResult | undefined>(table.rows.length);
    const id = table.columns.findIndex((c) => c.toLowerCase() === 'id');
    this.keyColumns = operation === 'update' && id >= 0 ? [id] : table.columns.map((_, i) => i);
    table.rows.forEach((row, index) => {
      queue(this.waiting, this.key(row, false), index);
      queue(this.waitingTrimmed, this.key(row, true), index);
    });
  }

  private key(cells: readonly string[], trimmed: boolean): string {
    return this.keyColumns.map((i) => (trimmed ? (cells[i] ?? '').trim() : (cells[i] ?? ''))).join('\u0000');
  }

  /** A result file: its header row, then rows of the leading `sf__` columns and the columns as sent. */
  add(csv: string[][], kind: 'success' | 'failed' | 'unprocessed'): void {
    const [header, ...rows] = csv;
    if (!header) return;
    const position = new Map<string, number>();
    header.forEach((name, i) => {
      const key = name.trim().toLowerCase();
      if (!position.has(key)) position.set(key, i);
    });
    // Where each sent column is in this file; a missing one reads as empty.
    const at = this.table.columns.map((c) => position.get(c.toLowerCase()) ?? -1);
    const sfId = position.get('sf__id');
    const sfError = position.get('sf__error');
    for (const row of rows) {
      const cells = at.map((i) => (i >= 0 ? (row[i] ?? '') : ''));
      const index = this.take(this.waiting, this.key(cells, false)) ?? this.take(this.waitingTrimmed, this.key(cells, true));
      if (index === undefined) continue;
      this.results_[index] = this.outcome(kind, sfId === undefined ? '' : (row[sfId] ?? ''), sfError === undefined ? '' : (row[sfError] ?? ''));
    }
  }

  /** The oldest record waiting under a key; each record waits in both queues, so one matched through the other is skipped. */
  private take(map: Map<string, number[]>, key: string): number | undefined {
    const list = map.get(key);
    while (list?.length) {
      const index = list.shift()!;
      if (this.results_[index] === undefined) return index;
    }
    return undefined;
  }

  private outcome(kind: 'success' | 'failed' | 'unprocessed', id: string, error: string): RecordWriteResult {
    if (kind === 'success') return id ? { ok: true, id } : { ok: false, errors: [{ statusCode: 'UNKNOWN_EXCEPTION', message: 'Salesforce reported a success without a record ID', fields: [] }] };
    if (kind === 'failed') return { ok: false, errors: parseRowError(error) };
    return { ok: false, errors: [{ statusCode: 'UNPROCESSED', message: 'Salesforce did not process this record before the job ended', fields: [] }] };
  }

  results(): RecordWriteResult[] {
    return this.table.rows.map(
      (_, i) => this.results_[i] ?? { ok: false, errors: [{ statusCode: 'UNPROCESSED', message: 'The job reported no result for this record', fields: [] }] },
    );
  }
}

function queue(map: Map<string, number[]>, key: string, index: number): void {
  const list = map.get(key);
  if (list) list.push(index);
  else map.set(key, [index]);
}

/**
 * `sf__Error`: one error a line, each `CODE:message:fields --`, as in
 * `REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --`, where the message may hold
 * colons and the fields are separated by spaces (or `;`). Text without a code is kept whole.
 */
export function parseRowError(text: string): RecordWriteError[] {
  const parts = text.split(/\r?\n(?=[A-Z][A-Z0-9_]*:)/).filter((p) => p.trim() !== '');
  if (parts.length === 0) return [{ statusCode: 'UNKNOWN_EXCEPTION', message: 'Salesforce reported a failure without an error', fields: [] }];
  return parts.map((part) => {
    const m = /^([A-Z][A-Z0-9_]*):([\s\S]*)$/.exec(part.trim());
    if (!m) return { statusCode: 'UNKNOWN_EXCEPTION', message: part.trim(), fields: [] };
    let rest = m[2]!;
    const terminated = /\s*--\s*$/.test(rest);
    if (terminated) rest = rest.replace(/\s*--\s*$/, '');
    const colon = rest.lastIndexOf(':');
    const tail = colon >= 0 ? rest.slice(colon + 1) : '';
    // Without the `--` terminator a tail is taken as fields only when it cannot be prose.
    const isFields = colon >= 0 && (terminated ? /^[\w.;, ]*$/.test(tail) : /^\w[\w.]*(?:[;,]\w[\w.]*)*$/.test(tail));
    if (!isFields) return { statusCode: m[1]!, message: rest.trim(), fields: [] };
    return { statusCode: m[1]!, message: rest.slice(0, colon).trim(), fields: tail.split(/[\s;,]+/).filter((f) => f !== '') };
  });
}
