/**
 * SQL, one script per object (`CREATE TABLE` from the describe, then multi-row `INSERT`s in one
 * transaction) and a `load.sql` that runs them all, for PostgreSQL or MySQL. Types come from the
 * describe: IDs and references `VARCHAR(18)`, text `VARCHAR(length)` or `TEXT`, numbers
 * `NUMERIC(precision, scale)`, datetimes with milliseconds in UTC. The primary key is `Id`, or
 * `_version_seq` when every version is exported (with an index on `Id`).
 *
 * Escaping follows each server's rules for the session the script itself sets up: PostgreSQL with
 * `standard_conforming_strings` on (only `'` is doubled; a NUL, which PostgreSQL text cannot hold,
 * is dropped), MySQL as `mysqldump` does (backslash escapes, with an SQL mode that keeps them on).
 */
import { VERSION_COLUMNS, columnValue } from './columns.ts';
import type { ExportColumn, ExportFormat, ExportedObject, ExportedRecord, ExportSink, ObjectWriter } from './format.ts';
import { endStream, writeChunk } from './streams.ts';
import { datetimeMs, plainNumber, textOf, timeOfDay } from './values.ts';

export type SqlDialect = 'postgres' | 'mysql';
export const SQL_DIALECTS: readonly SqlDialect[] = ['postgres', 'mysql'];

/** Rows per INSERT, and the size at which a statement ends early (long text fields). */
const ROWS_PER_INSERT = 500;
const MAX_STATEMENT_CHARS = 1024 * 1024;
/** MySQL's limit on a row's declared size, less a margin: past it, text columns become TEXT. */
const MYSQL_ROW_BUDGET = 60_000;

const VERSION_COLUMN_NAMES = new Set(VERSION_COLUMNS.map((c) => c.name));
const TEXT_TYPES = new Set(['string', 'picklist', 'multipicklist', 'combobox', 'email', 'phone', 'url', 'encryptedstring']);
const NUMBER_TYPES = new Set(['double', 'currency', 'percent']);
const INTEGER_TYPES = new Set(['int', 'long']);

/** An identifier, quoted for the dialect: `"Name"` (case kept) or `` `Name` ``. */
export function quoteIdentifier(name: string, dialect: SqlDialect): string {
  return dialect === 'postgres' ? `"${name.replaceAll('"', '""')}"` : `\`${name.replaceAll('`', '``')}\``;
}

const MYSQL_ESCAPES: Record<string, string> = { '\0': '\\0', '\n': '\\n', '\r': '\\r', '\\': '\\\\', "'": "\\'", '"': '\\"', '\x1a': '\\Z' };

/** A string literal, escaped for the dialect. */
export function quoteString(text: string, dialect: SqlDialect): string {
  if (dialect === 'postgres') return `'${text.replaceAll('\0', '').replaceAll("'", "''")}'`;
  return `'${text.replace(/[\0\n\r\\'"\x1a]/g, (ch) => MYSQL_ESCAPES[ch]!)}'`;
}

function numericType(c: ExportColumn, dialect: SqlDialect): string {
  if (c.precision > 0 && c.scale >= 0 && c.scale <= c.precision) return `${dialect === 'postgres' ? 'NUMERIC' : 'DECIMAL'}(${c.precision}, ${c.scale})`;
  return dialect === 'postgres' ? 'DOUBLE PRECISION' : 'DOUBLE';
}

/** MySQL's text types by the characters they must hold (utf8mb4: up to 4 bytes a character). */
const mysqlText = (length: number): string => (length > 0 && length * 4 <= 65_535 ? 'TEXT' : 'MEDIUMTEXT');

/** A column's type; for MySQL, `varcharAllowed` says whether a VARCHAR still fits the row. */
export function columnType(c: ExportColumn, dialect: SqlDialect, varcharAllowed = true): string {
  const pg = dialect === 'postgres';
  // Versions captured under describes that disagree on the type hold values of each: text holds them all.
  if (c.typeHistory?.length) return pg ? 'TEXT' : 'MEDIUMTEXT';
  if (c.type === 'id' || c.type === 'reference') return 'VARCHAR(18)';
  if (c.type === 'boolean') return 'BOOLEAN';
  if (c.type === 'int') return pg ? 'INTEGER' : 'INT';
  if (c.type === 'long') return 'BIGINT';
  if (NUMBER_TYPES.has(c.type)) return numericType(c, dialect);
  if (c.type === 'date') return 'DATE';
  if (c.type === 'datetime') return pg ? 'TIMESTAMP(3) WITH TIME ZONE' : 'DATETIME(3)';
  if (c.type === 'time') return 'TIME(3)';
  if (TEXT_TYPES.has(c.type) && c.length > 0) {
    if (pg) return `VARCHAR(${c.length})`;
    if (c.length <= 255 && varcharAllowed) return `VARCHAR(${c.length})`;
    return mysqlText(c.length);
  }
  if (c.type === 'textarea') return pg ? 'TEXT' : mysqlText(c.length);
  return pg ? 'TEXT' : 'MEDIUMTEXT';
}

/** Bytes a MySQL column takes in a row's declared size (TEXT columns only a pointer). */
function mysqlRowBytes(type: string): number {
  const varchar = /^VARCHAR\((\d+)\)$/.exec(type);
  if (varchar) return Number(varchar[1]) * 4 + 2;
  const decimal = /^DECIMAL\((\d+),/.exec(type);
  if (decimal) return Math.ceil(Number(decimal[1]) / 9) * 4 + 4;
  return /TEXT$/.test(type) ? 12 : 8;
}

/** The `CREATE TABLE` of an object. */
export function createTableSql(object: ExportedObject, dialect: SqlDialect): string {
  const q = (name: string): string => quoteIdentifier(name, dialect);
  const key = object.allVersions ? '_version_seq' : 'Id';
  let budget = MYSQL_ROW_BUDGET;
  const lines = object.columns.map((c) => {
    const type = columnType(c, dialect, dialect === 'mysql' ? budget - mysqlRowBytes(columnType(c, dialect)) >= 0 : true);
    if (dialect === 'mysql') budget -= mysqlRowBytes(type);
    // Only the key and the version columns: an older version may lack a field required today.
    const notNull = c.name === key || VERSION_COLUMN_NAMES.has(c.name) ? ' NOT NULL' : '';
    return `  ${q(c.name)} ${type}${notNull}`;
  });
  const hasKey = object.columns.some((c) => c.name === key);
  if (hasKey) lines.push(`  PRIMARY KEY (${q(key)})`);
  const indexId = object.allVersions && object.columns.some((c) => c.name === 'Id');
  if (dialect === 'mysql') {
    if (indexId) lines.push(`  KEY ${q('Id')} (${q('Id')})`);
    return `CREATE TABLE ${q(object.objectName)} (\n${lines.join(',\n')}\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;\n`;
  }
  const index = indexId ? `CREATE INDEX ${q(`${object.objectName}_Id_idx`.slice(0, 63))} ON ${q(object.objectName)} (${q('Id')});\n` : '';
  return `CREATE TABLE ${q(object.objectName)} (\n${lines.join(',\n')}\n);\n${index}`;
}

/** A value as an SQL literal of its column's type. */
export function sqlLiteral(value: unknown, c: ExportColumn, dialect: SqlDialect): string {
  if (value === null || value === undefined) return 'NULL';
  if (c.typeHistory?.length) return quoteString(textOf(value, c.type) ?? '', dialect);
  if (c.type === 'boolean') {
    if (value === true || value === 'true') return 'TRUE';
    if (value === false || value === 'false') return 'FALSE';
  } else if (NUMBER_TYPES.has(c.type) || INTEGER_TYPES.has(c.type)) {
    if (typeof value === 'number' && Number.isFinite(value)) return plainNumber(value);
    if (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value)) return value;
  } else if (c.type === 'datetime') {
    const ms = datetimeMs(value);
    if (ms !== undefined) {
      const iso = new Date(ms).toISOString();
      return quoteString(dialect === 'postgres' ? iso : iso.replace('T', ' ').replace('Z', ''), dialect);
    }
  } else if (c.type === 'time' && typeof value === 'string') {
    return quoteString(timeOfDay(value), dialect);
  }
  return quoteString(textOf(value, c.type) ?? '', dialect);
}

/** Multi-row INSERT statements for records: at most 500 rows, and about 1 MiB, each. */
export function insertStatements(object: ExportedObject, records: readonly ExportedRecord[], dialect: SqlDialect): string[] {
  const head = `INSERT INTO ${quoteIdentifier(object.objectName, dialect)} (${object.columns.map((c) => quoteIdentifier(c.name, dialect)).join(', ')}) VALUES\n`;
  const statements: string[] = [];
  let rows: string[] = [];
  let size = 0;
  const flush = (): void => {
    if (rows.length) statements.push(`${head}${rows.join(',\n')};\n`);
    rows = [];
    size = 0;
  };
  for (const record of records) {
    const row = `(${object.columns.map((c) => sqlLiteral(columnValue(record, c), c, dialect)).join(', ')})`;
    if (rows.length > 0 && (rows.length >= ROWS_PER_INSERT || size + row.length > MAX_STATEMENT_CHARS)) flush();
    rows.push(row);
    size += row.length + 2;
  }
  flush();
  return statements;
}

function preamble(object: ExportedObject, dialect: SqlDialect): string {
  if (dialect === 'postgres') {
    return [
      `-- ${object.objectName}, exported by orgvault for PostgreSQL${object.allVersions ? ' (every version, one row each)' : ''}.`,
      '-- Load the whole export with: psql -v ON_ERROR_STOP=1 -f load.sql',
      "SET client_encoding = 'UTF8';",
      'SET standard_conforming_strings = on;',
      'BEGIN;',
      '',
    ].join('\n');
  }
  return [
    `-- ${object.objectName}, exported by orgvault for MySQL${object.allVersions ? ' (every version, one row each)' : ''}. Datetimes are UTC.`,
    '-- Load the whole export from this folder with: mysql --default-character-set=utf8mb4 DATABASE < load.sql',
    'SET NAMES utf8mb4;',
    // A known SQL mode: strict, and without NO_BACKSLASH_ESCAPES, which would misread the escapes below.
    "SET @ORGVAULT_OLD_SQL_MODE = @@SESSION.sql_mode, SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION';",
    '',
  ].join('\n');
}

function epilogue(dialect: SqlDialect): string {
  return dialect === 'postgres' ? 'COMMIT;\n' : 'COMMIT;\nSET SESSION sql_mode = @ORGVAULT_OLD_SQL_MODE;\n';
}

/** The SQL format for a dialect. */
export function sqlFormat(dialect: SqlDialect): ExportFormat {
  return {
    name: 'sql',
    async openObject(sink: ExportSink, object: ExportedObject): Promise<ObjectWriter> {
      const path = `${object.objectName}.sql`;
      const stream = sink.createFile(path);
      // MySQL commits DDL on its own, so its transaction starts after the CREATE TABLE.
      const create = createTableSql(object, dialect);
      await writeChunk(stream, dialect === 'postgres' ? `${preamble(object, dialect)}${create}` : `${preamble(object, dialect)}${create}START TRANSACTION;\n`);
      let rows = 0;
      return {
        async write(records) {
          for (const statement of insertStatements(object, records, dialect)) await writeChunk(stream, statement);
          rows += records.length;
        },
        async close() {
          await writeChunk(stream, epilogue(dialect));
          await endStream(stream);
          return { rows, files: [path] };
        },
      };
    },
    async finish(sink: ExportSink, objects: readonly ExportedObject[]): Promise<string[]> {
      const path = 'load.sql';
      const stream = sink.createFile(path);
      const lines =
        dialect === 'postgres'
          ? ['-- Loads every table of this orgvault export into PostgreSQL: psql -v ON_ERROR_STOP=1 -f load.sql', ...objects.map((o) => `\\ir ${o.objectName}.sql`)]
          : ['-- Loads every table of this orgvault export into MySQL. SOURCE reads paths from the current folder: run it from this folder,', '-- mysql --default-character-set=utf8mb4 DATABASE < load.sql', ...objects.map((o) => `SOURCE ${o.objectName}.sql;`)];
      await writeChunk(stream, `${lines.join('\n')}\n`);
      await endStream(stream);
      return [path];
    },
  };
}
