/** `--ids-file FILE`, as restore and purge take it. */
import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { UsageError } from '../core/errors.ts';

/** The record IDs of a file: a CSV export's Id column, otherwise the first value of each line. */
export async function readIdsFile(file: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`Cannot read --ids-file ${file}: ${(error as Error).message}`, { cause: error });
  }
  const rows = parse(text, { skip_empty_lines: true, trim: true, relax_column_count: true }) as string[][];
  const column = rows[0]?.findIndex((c) => c.toLowerCase() === 'id') ?? -1;
  return (column >= 0 ? rows.slice(1).map((r) => r[column] ?? '') : rows.map((r) => r[0] ?? '')).filter(Boolean);
}
