/**
 * The Parquet export format: one file per object (`Account.parquet`) with a column per
 * field, typed from the describe, written a row group at a time through hyparquet-writer, so an
 * object of any size streams through a bounded buffer; and a DuckDB script of views over them
 * (`duckdb-script.ts`). `ParquetFileWriter` is also what the continuous data lake writes with.
 *
 * Types: checkbox → BOOLEAN; int → INT32; long → INT64; double, currency, percent → DOUBLE;
 * date → DATE; datetime → TIMESTAMP (milliseconds, UTC); time → TIME (milliseconds); everything
 * else → STRING (UTF-8). Numbers are DOUBLE rather than DECIMAL because Salesforce's API hands
 * them out as JSON numbers (IEEE doubles): DOUBLE keeps exactly the value the vault holds, where
 * DECIMAL(p, s) would round a value with more decimals than the field's current scale. Every
 * column is nullable: old versions lack fields added since, and deleted records carry few fields.
 */
import type { Writable } from 'node:stream';
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import type { ColumnSource, KeyValue, SchemaElement } from 'hyparquet-writer';
import { OrgvaultError } from '../core/errors.ts';
import { parseSalesforceDatetime } from '../core/time.ts';
import { DUCKDB_SCRIPT, duckdbScript } from './duckdb-script.ts';
import { columnValue } from './columns.ts';
import type { ExportColumn, ExportedRecord, ExportFormat, ExportSink, ObjectWriter } from './format.ts';

/** The relative path of an object's Parquet file in an export. */
export function parquetPath(objectName: string): string {
  return `${objectName}.parquet`;
}

export const parquetFormat: ExportFormat = {
  name: 'parquet',
  async openObject(sink: ExportSink, object): Promise<ObjectWriter> {
    const path = parquetPath(object.objectName);
    const file = new ParquetFileWriter(sink.createFile(path), object.objectName, object.columns);
    return {
      write: (records) => file.write(records),
      async close() {
        return { rows: await file.close(), files: [path] };
      },
    };
  },
  async finish(sink: ExportSink, objects): Promise<string[]> {
    await writeText(sink.createFile(DUCKDB_SCRIPT), duckdbScript(objects.map((o) => ({ view: o.objectName, files: parquetPath(o.objectName) }))));
    return [DUCKDB_SCRIPT];
  },
};

/** A value that the column's type cannot hold: the field's type changed since the version was captured. */
export class ParquetValueError extends OrgvaultError {
  constructor(objectName: string, column: ExportColumn, recordId: unknown) {
    // Never the value itself: it is a field value, and may be personal data.
    const record = typeof recordId === 'string' ? recordId : '(no Id)';
    const history = column.typeHistory;
    super(
      'EXPORT_VALUE_TYPE',
      history?.length
        ? `${objectName}.${column.name} of record ${record} holds a value that is not a ${column.type}, the field's type in the newest describe: the vault's describes of ${objectName} disagree on its type ` +
            `(${history.map((h) => `${h.type} in schema ${h.schemaId.slice(0, 12)}, ${isoDay(h.validFrom)} to ${h.validTo === null ? 'now' : isoDay(h.validTo)}`).join('; ')}). ` +
            `Export ${objectName} as CSV, or export the state as of a time after the change.`
        : `${objectName}.${column.name} of record ${record} holds a value that is not a ${column.type}, the field's type in the describe ` +
            `(was the field's type changed after that version was captured?). Export ${objectName} as CSV, or export the state as of a time after the change.`,
    );
  }
}

const isoDay = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Rows per row group at most: large enough for good compression and fast scans. */
const ROW_GROUP_ROWS = 100_000;
/**
 * And at most this many values: encoding a row group holds about 160 bytes per value at its peak
 * (each string encoded, dictionaries, pages), so a wide object gets shorter row groups and memory
 * stays near 160 MiB above the process's own, whatever the object.
 */
const ROW_GROUP_CELLS = 1_000_000;
const MIN_ROW_GROUP_ROWS = 1_000;
/** And about this many bytes of buffered text (long text areas). */
const ROW_GROUP_BYTES = 32 * 2 ** 20;
/** Encoded bytes handed to the stream in chunks of about this size. */
const CHUNK_BYTES = 2 ** 20;

type Converter = (value: unknown) => unknown;

interface ColumnPlan {
  column: ExportColumn;
  element: SchemaElement;
  get: (record: ExportedRecord) => unknown;
  /** Min/max statistics, for readers to skip row groups. */
  statistics: boolean;
  convert: Converter;
  values: unknown[];
}

/**
 * Streams records into one Parquet file on `out`: values are converted to the columns' types as
 * they arrive and buffered column by column; a row group is encoded and handed to the stream when
 * it is full, and the stream's backpressure is awaited before more is taken.
 */
export class ParquetFileWriter {
  private readonly bytes: StreamByteWriter;
  private readonly writer: ParquetWriter;
  private readonly plans: ColumnPlan[];
  private readonly rowGroupRows: number;
  private buffered = 0;
  private bufferedBytes = 0;
  private rows = 0;

  constructor(
    out: Writable,
    private readonly objectName: string,
    columns: readonly ExportColumn[],
    options: { metadata?: Record<string, string>; rowGroupRows?: number } = {},
  ) {
    this.rowGroupRows = options.rowGroupRows ?? Math.max(MIN_ROW_GROUP_ROWS, Math.min(ROW_GROUP_ROWS, Math.floor(ROW_GROUP_CELLS / Math.max(1, columns.length))));
    this.plans = columns.map((column) => planColumn(column));
    const schema: SchemaElement[] = [{ name: 'schema', num_children: columns.length }, ...this.plans.map((p) => p.element)];
    // Readers (Spark, Athena) see what each column was in Salesforce, not only its Parquet type.
    const kvMetadata: KeyValue[] = [
      { key: 'orgvault.object', value: objectName },
      { key: 'orgvault.columns', value: JSON.stringify(columns.map((c) => ({ name: c.name, type: c.type, label: c.label }))) },
      ...Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
    ];
    this.bytes = new StreamByteWriter(out);
    this.writer = new ParquetWriter({ writer: this.bytes, schema, codec: 'SNAPPY', kvMetadata, createdBy: 'orgvault' });
  }

  async write(records: readonly ExportedRecord[]): Promise<void> {
    for (const record of records) {
      for (const plan of this.plans) {
        const value = plan.get(record);
        let converted: unknown;
        try {
          converted = plan.convert(value);
        } catch (error) {
          if (error instanceof Mismatch) throw new ParquetValueError(this.objectName, plan.column, record.fields.Id);
          throw error;
        }
        plan.values.push(converted);
        this.bufferedBytes += typeof converted === 'string' ? converted.length + 8 : 8;
      }
      this.buffered++;
      if (this.buffered >= this.rowGroupRows || this.bufferedBytes >= ROW_GROUP_BYTES) await this.flushGroup();
    }
  }

  /** Writes what is buffered and the footer, ends the stream once it is flushed; returns the rows written. */
  async close(): Promise<number> {
    await this.flushGroup();
    await this.writer.finish();
    return this.rows;
  }

  private async flushGroup(): Promise<void> {
    if (this.buffered === 0) return;
    const columnData: ColumnSource[] = this.plans.map((p) => ({ name: p.element.name, data: p.values, statistics: p.statistics }));
    const rows = this.buffered;
    for (const plan of this.plans) plan.values = [];
    this.buffered = 0;
    this.bufferedBytes = 0;
    await this.writer.write({ columnData, rowGroupSize: rows });
    this.rows += rows;
  }
}

/** hyparquet-writer's byte buffer, emptied into a Node stream in chunks instead of growing whole. */
class StreamByteWriter extends ByteWriter {
  private failure: Error | undefined;
  constructor(private readonly out: Writable) {
    super(CHUNK_BYTES + 64 * 1024);
    out.on('error', (error: Error) => (this.failure ??= error));
  }

  override ensure(size: number): void {
    if (this.index >= CHUNK_BYTES) this.push();
    super.ensure(size);
  }

  /** After each row group: wait until the stream has taken what it was given. */
  flush(): Promise<void> {
    this.push();
    if (this.failure) return Promise.reject(this.failure);
    if (!this.out.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (error?: Error): void => {
        this.out.off('drain', done);
        this.out.off('error', done);
        this.out.off('close', closed);
        if (error) reject(error);
        else resolve();
      };
      const closed = (): void => done(this.failure ?? new Error('The output closed before the Parquet file was written.'));
      this.out.once('drain', done);
      this.out.once('error', done);
      this.out.once('close', closed);
    });
  }

  override finish(): Promise<void> {
    this.push();
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.out.once('error', reject);
      this.out.end(() => (this.failure ? reject(this.failure) : resolve()));
    });
  }

  private push(): void {
    if (this.index === 0) return;
    // A copy: the buffer is reused for the next bytes while the stream may still hold this chunk.
    this.out.write(Buffer.from(this.buffer.slice(0, this.index)));
    this.index = 0;
  }
}

/** A value of the wrong type for its column. */
class Mismatch extends Error {}
const mismatch = (): never => {
  throw new Mismatch();
};

const DAY_MS = 86_400_000;

function planColumn(column: ExportColumn): ColumnPlan {
  const { element, convert } = parquetType(column);
  const name = column.name;
  return {
    column,
    element: { name, repetition_type: 'OPTIONAL', ...element },
    // Fields straight from the record; the version columns (`_…`, never a Salesforce API name) as columnValue gives them.
    get: name.startsWith('_') ? (record) => columnValue(record, column) : (record) => record.fields[name] ?? null,
    // Min/max of unsorted text lets a reader skip nothing, and costs a third of the encoding:
    // kept for Id (rows come in ID order, so a lookup by ID reads one row group) and non-text columns.
    statistics: name === 'Id' || element.type !== 'BYTE_ARRAY',
    convert,
    values: [],
  };
}

/** The Parquet type of a Salesforce field type, and how a JSON value becomes a value of it. */
function parquetType(column: ExportColumn): { element: Omit<SchemaElement, 'name'>; convert: Converter } {
  switch (column.type) {
    case 'boolean':
      return { element: { type: 'BOOLEAN' }, convert: toBoolean };
    case 'int':
      return { element: { type: 'INT32' }, convert: toInt32 };
    case 'long':
      return { element: { type: 'INT64' }, convert: toInt64 };
    case 'double':
    case 'currency':
    case 'percent':
      return { element: { type: 'DOUBLE' }, convert: toDouble };
    case 'date':
      return { element: { type: 'INT32', converted_type: 'DATE', logical_type: { type: 'DATE' } }, convert: toDays };
    case 'datetime':
      // An instant (adjusted to UTC): DuckDB reads it as TIMESTAMP WITH TIME ZONE, Spark as TimestampType.
      return {
        element: { type: 'INT64', converted_type: 'TIMESTAMP_MILLIS', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' } },
        convert: toEpochMs,
      };
    case 'time':
      // A time of day with no date, which Salesforce writes with a Z but does not shift: plain TIME.
      return { element: { type: 'INT32', converted_type: 'TIME_MILLIS', logical_type: { type: 'TIME', isAdjustedToUTC: false, unit: 'MILLIS' } }, convert: toMillisOfDay };
    default:
      return { element: { type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } }, convert: toText };
  }
}

const absent = (value: unknown): boolean => value === null || value === undefined || value === '';

function toBoolean(value: unknown): boolean | null {
  if (typeof value === 'boolean') return value;
  if (absent(value)) return null;
  if (value === 'true') return true;
  if (value === 'false') return false;
  return mismatch();
}

function toNumber(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : mismatch();
  if (absent(value)) return null;
  if (typeof value === 'string') {
    const n = Number(value);
    return Number.isFinite(n) ? n : mismatch();
  }
  return mismatch();
}

function toDouble(value: unknown): number | null {
  return toNumber(value);
}

function toInt32(value: unknown): number | null {
  const n = toNumber(value);
  if (n === null) return null;
  return Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 ? n : mismatch();
}

function toInt64(value: unknown): bigint | null {
  if (typeof value === 'bigint') return value;
  const n = toNumber(value);
  if (n === null) return null;
  return Number.isInteger(n) ? BigInt(n) : mismatch();
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Days since 1970-01-01, from Salesforce's `YYYY-MM-DD` (or epoch milliseconds). */
function toDays(value: unknown): number | null {
  if (absent(value)) return null;
  if (typeof value === 'number' && Number.isFinite(value)) return Math.floor(value / DAY_MS);
  const m = typeof value === 'string' ? DATE.exec(value) : null;
  if (!m) return mismatch();
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return Number.isNaN(ms) ? mismatch() : ms / DAY_MS;
}

/** Epoch milliseconds, from Salesforce's datetime forms (or epoch milliseconds: version columns). */
function toEpochMs(value: unknown): number | null {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (absent(value)) return null;
  // Version columns come as ISO-8601 in UTC, which Date.parse reads directly.
  if (typeof value === 'string' && value.endsWith('Z')) {
    const ms = Date.parse(value);
    if (!Number.isNaN(ms)) return ms;
  }
  return parseSalesforceDatetime(value) ?? mismatch();
}

const TIME = /^(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?Z?$/;

/** Milliseconds since midnight, from Salesforce's `HH:MM:SS.sssZ`. */
function toMillisOfDay(value: unknown): number | null {
  if (absent(value)) return null;
  const m = typeof value === 'string' ? TIME.exec(value) : null;
  if (!m) return mismatch();
  const [h, mi, s] = [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
  if (h > 23 || mi > 59 || s > 59) return mismatch();
  return ((h * 60 + mi) * 60 + s) * 1000 + Number((m[4] ?? '0').padEnd(3, '0'));
}

function toText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  // Compound values (an address, a location) as their JSON.
  return JSON.stringify(value);
}

async function writeText(out: Writable, text: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    out.once('error', reject);
    out.end(text, () => resolve());
  });
}
