/** The export formats by name: what `--format` and the dashboard offer. */
import { UsageError } from '../core/errors.ts';
import { csvFormat } from './csv.ts';
import type { ExportFormat } from './format.ts';
import { parquetFormat } from './parquet.ts';
import { SQL_DIALECTS, sqlFormat } from './sql.ts';
import type { SqlDialect } from './sql.ts';

export const FORMAT_NAMES = ['csv', 'sql', 'parquet'] as const;
export type FormatName = (typeof FORMAT_NAMES)[number];

/** The format for a name (and, for SQL, a dialect); a UsageError naming the choices otherwise. */
export function exportFormat(name: string, dialect?: string): ExportFormat {
  if (!(FORMAT_NAMES as readonly string[]).includes(name)) throw new UsageError(`--format ${name} is not an export format: choose ${FORMAT_NAMES.join(', ')}.`);
  if (dialect !== undefined && name !== 'sql') throw new UsageError(`--dialect applies to --format sql only (it was given with --format ${name}).`);
  if (name === 'csv') return csvFormat;
  if (name === 'parquet') return parquetFormat;
  const chosen = dialect ?? 'postgres';
  if (!(SQL_DIALECTS as readonly string[]).includes(chosen)) throw new UsageError(`--dialect ${chosen} is not a SQL dialect orgvault writes: choose ${SQL_DIALECTS.join(' or ')}.`);
  return sqlFormat(chosen as SqlDialect);
}
