/**
 * The contract between the export use case and its output formats (CSV, SQL, Parquet). The use
 * case reads the vault, decides the columns from each object's describe and streams records in
 * batches; a format only turns them into bytes on a sink, so memory stays flat whatever the size
 * and a new format is one file.
 *
 * Notes for format authors (helper A, who writes the use case, to helper B, who writes Parquet):
 * - `columns` are the fields of the object's describes in the export's window, united by name
 *   (Id first, then the newest describe's order; compound address/location and base64 fields
 *   left out), then, when `allVersions` is true, the version
 *   columns `VERSION_COLUMNS` of `./columns.ts`: `_version_seq` (type `long`), `_system_modstamp`
 *   and `_captured_at` (`datetime`), `_change_type` (`string`, length 16), `_is_deleted`
 *   (`boolean`), `_run_id` (`string`, length 36). `columnValue(record, column)` in `./columns.ts`
 *   gives any column's value (version columns from `record.version`; datetimes as ISO-8601 text).
 * - Values are JSON as Salesforce returned them: datetimes `2024-03-17T16:21:26.000+0000`,
 *   dates `2024-03-17`, times `10:20:30.000Z`, numbers, booleans, strings, null. `./values.ts`
 *   has the shared conversions (`datetimeMs`, `isoDatetime`, `plainNumber`).
 * - A sink may be a zip, whose entries are written one after another: end a file (and await its
 *   'finish') before creating the next. A sink refuses a second file while one is still open.
 * - Paths are relative and `/`-separated; folders are created as needed. Object files sit at the
 *   top (`Account.csv`, `Account.sql`); file bodies under `files/`; `manifest.json` is the use
 *   case's own. `allVersions` is also true for the "changed since" scopes (they export versions).
 */
import type { Writable } from 'node:stream';
import type { ChangeType } from '../core/vault.ts';

/** Where an export's files go: a folder, or entries of one (optionally encrypted) zip. */
export interface ExportSink {
  /**
   * Opens a new file at a relative, `/`-separated path (`Account/Account.csv`). The caller writes
   * and ends the stream; the file is complete once the stream has emitted 'finish'/'close'.
   */
  createFile(path: string): Writable;
}

/** A column of an exported object: a field of its describe, or one of the version columns. */
export interface ExportColumn {
  /** The field's API name (`Name`, `BillingCity`), or a version column (`_change_type`…). */
  name: string;
  /** The Salesforce field type from the describe (`string`, `boolean`, `double`, `datetime`…). */
  type: string;
  label: string;
  nillable: boolean;
  /** Characters of a text field (0 otherwise). */
  length: number;
  /** Digits of a number field (`precision`, `scale` from the describe; 0 when not numeric). */
  precision: number;
  scale: number;
  /**
   * Set when the describes the exported versions were captured under disagree on the field's type:
   * each type with the interval its describe held, oldest first (the column has the newest type).
   */
  typeHistory?: TypeSpan[];
}

/** A field's type in one stored describe, and when that describe held. */
export interface TypeSpan {
  type: string;
  schemaId: string;
  validFrom: number;
  validTo: number | null;
}

/** What the vault knows about the version a record row comes from. */
export interface ExportedVersion {
  seq: number;
  systemModstamp: number;
  changeType: ChangeType;
  isDeleted: boolean;
  capturedAt: number;
  runId: string;
}

/** One row to export: field values as Salesforce returned them (JSON values), and its version. */
export interface ExportedRecord {
  fields: Record<string, unknown>;
  version: ExportedVersion;
}

/** One object as a format sees it. */
export interface ExportedObject {
  objectName: string;
  columns: readonly ExportColumn[];
  /** Every version (with version columns), not only each record's state at one time. */
  allVersions: boolean;
}

/** Writes one object's rows; `close` flushes and returns what was written. */
export interface ObjectWriter {
  write(records: readonly ExportedRecord[]): Promise<void>;
  close(): Promise<{ rows: number; files: string[] }>;
}

export interface ExportFormat {
  readonly name: 'csv' | 'sql' | 'parquet';
  openObject(sink: ExportSink, object: ExportedObject): Promise<ObjectWriter>;
  /** After every object: files that describe the whole export (a DuckDB script, a SQL load script). */
  finish(sink: ExportSink, objects: readonly ExportedObject[]): Promise<string[]>;
}
