/**
 * The DuckDB script a Parquet export ends with: one view per object over its Parquet file, so a
 * whole export is queried at once, joins included, without loading anything.
 */

/** The script's file name, at the root of the export. */
export const DUCKDB_SCRIPT = 'duckdb.sql';

export interface DuckdbView {
  /** The view's name: the object's API name. */
  view: string;
  /** The Parquet file (or glob) relative to the export's root, `/`-separated. */
  files: string;
}

/** The text of `duckdb.sql`: a header saying how to use it, then `CREATE OR REPLACE VIEW`s in name order. */
export function duckdbScript(views: readonly DuckdbView[]): string {
  const sorted = [...views].sort((a, b) => a.view.localeCompare(b.view));
  const example = sorted[0]?.view ?? 'Account';
  return [
    '-- DuckDB views over this orgvault Parquet export: one view per object.',
    '--',
    '-- The paths are relative to this folder, so start DuckDB from it (unzip the export first if it',
    '-- was zipped):',
    '--   cd <export folder> && duckdb -init duckdb.sql',
    '-- or, in a DuckDB session started there:',
    '--   .read duckdb.sql',
    '-- then query any object, and join them by their Salesforce IDs:',
    `--   SHOW TABLES; SELECT count(*) FROM ${quoteIdentifier(example)};`,
    '--',
    '-- Column types follow the describe: checkboxes are BOOLEAN, numbers DOUBLE (int INTEGER),',
    '-- dates DATE, datetimes TIMESTAMP WITH TIME ZONE (UTC), text VARCHAR. Columns starting with',
    '-- an underscore (_change_type, _captured_at…) describe the backed-up version, not Salesforce.',
    '',
    ...sorted.map((v) => `CREATE OR REPLACE VIEW ${quoteIdentifier(v.view)} AS SELECT * FROM read_parquet(${quoteString(v.files)});`),
    '',
  ].join('\n');
}

function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function quoteString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
