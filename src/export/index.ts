/**
 * The export use case: the vault's records of an org as CSV, SQL or Parquet files, in a folder or
 * an encrypted zip, with their file bodies. Depends on the vault's ports only; shells pick the
 * format and the output.
 */
export { describeScope, exportsVersions, planExport, runExport } from './run-export.ts';
export type { ExportDeps, ExportEvent, ExportPlan, ExportRequest, ExportResult, ExportScope, ExportStore, ObjectExport } from './run-export.ts';
export { FORMAT_NAMES, exportFormat } from './formats.ts';
export type { FormatName } from './formats.ts';
export { SQL_DIALECTS } from './sql.ts';
export type { SqlDialect } from './sql.ts';
export { MIN_ZIP_PASSWORD, folderTarget, zipFileTarget, zipStreamTarget } from './sinks.ts';
export type { ExportTarget } from './sinks.ts';
export type { ExportColumn, ExportFormat, ExportSink, ExportedObject, ExportedRecord, ObjectWriter } from './format.ts';
