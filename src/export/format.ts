/**
 * The contract between the export use case and its output formats (CSV, SQL, Parquet). The use
 * case reads the vault, decides the columns from each object's describe and streams records in
 * batches; a format only turns them into bytes on a sink, so memory stays flat whatever the size
 * and a new format is one file.
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
