// Loading an SQL export into the local PostgreSQL (ORGVAULT_TEST_POSTGRES_URL), each test in a
// fresh schema dropped afterwards, and reading tables back as canonical text to compare with the
// vault. Without the variable the tests skip, saying why, unless ORGVAULT_REQUIRE_POSTGRES=1.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { datetimeMs } from '../../src/export/values.ts';
import { POSTGRES_URL } from '../fixtures/postgres.ts';

export { POSTGRES_URL, postgresSkip } from '../fixtures/postgres.ts';

export interface PgSchema {
  client: pg.Client;
  schema: string;
  /** Runs an export folder's scripts in load.sql's order. */
  load(dir: string): Promise<string[]>;
  rows(table: string, orderBy: string): Promise<Record<string, unknown>[]>;
  drop(): Promise<void>;
}

/** A connection with a fresh schema as its search path. */
export async function freshSchema(): Promise<PgSchema> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  // Dates as the text PostgreSQL holds, not a Date at local midnight.
  client.setTypeParser(1082, (text: string) => text);
  await client.connect();
  const schema = `orgvault_export_${randomBytes(6).toString('hex')}`;
  await client.query(`CREATE SCHEMA ${schema}`);
  await client.query(`SET search_path TO ${schema}`);
  return {
    client,
    schema,
    async load(dir) {
      const script = await readFile(join(dir, 'load.sql'), 'utf8');
      const files = script
        .split('\n')
        .filter((line) => line.startsWith('\\ir '))
        .map((line) => line.slice(4).trim());
      for (const file of files) await client.query(await readFile(join(dir, file), 'utf8'));
      // The scripts end their transaction; the search path must still be ours.
      assert.equal((await client.query('SHOW search_path')).rows[0].search_path, schema);
      return files;
    },
    async rows(table, orderBy) {
      return (await client.query(`SELECT * FROM "${table}" ORDER BY "${orderBy}"`)).rows as Record<string, unknown>[];
    },
    async drop() {
      try {
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}

/** A value of a Salesforce field type as comparable text, whether read from the vault or from PostgreSQL. */
export function canonical(value: unknown, type: string): string | null {
  if (value === null || value === undefined) return null;
  switch (type) {
    case 'datetime': {
      const ms = value instanceof Date ? value.getTime() : datetimeMs(value);
      return ms === undefined ? String(value) : new Date(ms).toISOString();
    }
    case 'time': {
      const [h, m, s] = String(value).replace(/Z$/, '').split(':');
      return `${h}:${m}:${Number(s).toFixed(3)}`;
    }
    case 'double':
    case 'currency':
    case 'percent':
    case 'int':
    case 'long':
      return String(Number(value));
    case 'boolean':
      return String(value === true || value === 'true');
    default:
      return String(value);
  }
}
