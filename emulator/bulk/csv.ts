import { parse } from 'csv-parse/sync';

/**
 * CSV as Bulk API 2.0 speaks it. Salesforce writes every header and value in double quotes and a
 * null as an empty, unquoted cell; it reads the job's own delimiter and line ending, and takes an
 * empty cell as "no value" and `#N/A` as null.
 */

export const COLUMN_DELIMITERS = { COMMA: ',', TAB: '\t', PIPE: '|', SEMICOLON: ';', CARET: '^', BACKQUOTE: '`' } as const;
export const LINE_ENDINGS = { LF: '\n', CRLF: '\r\n' } as const;

export type ColumnDelimiter = keyof typeof COLUMN_DELIMITERS;
export type LineEnding = keyof typeof LINE_ENDINGS;

/** A value in double quotes, embedded quotes doubled. */
export function quoted(text: string): string {
  return text.indexOf('"') === -1 ? `"${text}"` : `"${text.replace(/"/g, '""')}"`;
}

/**
 * One cell of a query result. Values arrive in REST form; the caller converts datetimes, which
 * only it can tell from text.
 */
export function resultCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return quoted(value);
  if (typeof value === 'number' || typeof value === 'boolean') return `"${value}"`;
  return quoted(JSON.stringify(value));
}

/** A header cell of an ingest result: original column names are echoed without quotes, as Salesforce does. */
export function headerCell(name: string, delimiter: string): string {
  return name.includes(delimiter) || /["\r\n]/.test(name) ? quoted(name) : name;
}

export interface ParsedCsv {
  header: string[];
  rows: string[][];
}

/** The header row of uploaded job data that was never processed, or none when it does not parse. */
export function parseHeader(text: string, delimiter: ColumnDelimiter, lineEnding: LineEnding): string[] {
  try {
    const [header = []] = parse(text, { delimiter: COLUMN_DELIMITERS[delimiter], record_delimiter: LINE_ENDINGS[lineEnding], bom: true, to_line: 1 }) as string[][];
    return header;
  } catch {
    return [];
  }
}

/** Parses uploaded job data; throws the parser's error for malformed CSV. */
export function parseJobData(text: string, delimiter: ColumnDelimiter, lineEnding: LineEnding): ParsedCsv {
  const records = parse(text, {
    delimiter: COLUMN_DELIMITERS[delimiter],
    record_delimiter: LINE_ENDINGS[lineEnding],
    bom: true,
    skip_empty_lines: true,
  }) as string[][];
  const [header = [], ...rows] = records;
  return { header, rows };
}
