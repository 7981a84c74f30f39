/**
 * The catalog on PostgreSQL: a pool of connections, a Kysely instance over it, and the schema
 * migrations (../schema/migrations.ts, shared with SQLite) applied on open.
 *
 * A store lives in one PostgreSQL schema (`?schema=NAME` in the URL, default `orgvault`), so
 * several vaults, or a test per schema, can share a database. Every connection of the pool sets
 * its search_path to that schema, so queries name bare tables as the SQLite adapter's do.
 *
 * BIGINT columns (epoch milliseconds, sequence numbers) are read as JavaScript numbers rather
 * than pg's default strings: every value the vault stores there is below 2^53.
 *
 * Concurrency: writers in many processes and machines share the database. Each migration runs in
 * its own transaction under a transaction-scoped advisory lock, so two processes opening a new
 * store at once apply each migration once.
 */
import pg from 'pg';
import type { PoolClient } from 'pg';
import { Kysely, PostgresDialect } from 'kysely';
import type { Transaction } from 'kysely';
import { OrgvaultError, UsageError } from '../../core/errors.ts';
import { redactUrl } from '../../core/redact-url.ts';
import { MIGRATIONS, SCHEMA_VERSION, migrationSql } from '../schema/migrations.ts';
import type { CatalogTables } from '../schema/tables.ts';

export type PgDb = Kysely<CatalogTables>;
export type PgTx = Transaction<CatalogTables>;

const INT8_OID = 20;
const DEFAULT_SCHEMA = 'orgvault';
/** The advisory lock key migrations take (any fixed value: "orgv" in ASCII). */
const MIGRATION_LOCK = 1869768566;

/** Where a PostgreSQL store lives, parsed from a `postgres://` URL. */
export interface PgLocation {
  /** The connection string without orgvault's own parameters. */
  connectionString: string;
  schema: string;
}

/**
 * Parses `postgres://user:password@host:port/database?schema=NAME` (also `postgresql://`).
 * The password may instead come from PGPASSWORD or ~/.pgpass, as for psql.
 */
export function parsePgUrl(url: string): PgLocation {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw new UsageError(`The store URL is not a valid URL; expected postgres://user@host:5432/database?schema=orgvault.`, { cause: error });
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new UsageError(`The store URL must start with postgres:// (got ${parsed.protocol}//…).`);
  }
  const schema = parsed.searchParams.get('schema') ?? DEFAULT_SCHEMA;
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new UsageError(`The store URL's schema ${JSON.stringify(schema)} is not a plain PostgreSQL name; use lower-case letters, digits and underscores.`);
  }
  parsed.searchParams.delete('schema');
  if (!parsed.pathname || parsed.pathname === '/') throw new UsageError('The store URL names no database; add it after the host: postgres://user@host:5432/DATABASE.');
  return { connectionString: parsed.toString(), schema };
}

export interface PgConnectionOptions {
  /** Open for reading only: writes are refused by the server (a read-only session). */
  readonly?: boolean;
  /** Pool size (default 8). */
  maxConnections?: number;
}

export class PgConnections {
  readonly pool: pg.Pool;
  readonly db: PgDb;
  readonly schema: string;
  readonly readonly: boolean;
  private closed = false;

  private constructor(location: PgLocation, options: PgConnectionOptions) {
    this.schema = location.schema;
    this.readonly = options.readonly ?? false;
    const options_ = `-c search_path=${location.schema}${this.readonly ? ' -c default_transaction_read_only=on' : ''}`;
    this.pool = new pg.Pool({
      connectionString: location.connectionString,
      max: options.maxConnections ?? 8,
      options: options_,
      types: {
        getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
          oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
      },
    });
    // An idle client losing its connection must not crash the process; the next query reconnects.
    this.pool.on('error', () => undefined);
    this.db = new Kysely<CatalogTables>({ dialect: new PostgresDialect({ pool: this.pool }) });
  }

  /** Connects, creates the schema if needed and brings it to SCHEMA_VERSION (or checks it, read-only). */
  static async open(url: string, options: PgConnectionOptions = {}): Promise<PgConnections> {
    const conns = new PgConnections(parsePgUrl(url), options);
    try {
      if (conns.readonly) await conns.checkSchema();
      else await conns.migrate();
      return conns;
    } catch (error) {
      await conns.pool.end().catch(() => undefined);
      throw wrapConnectError(error, url);
    }
  }

  /** Runs `fn` in one transaction (READ COMMITTED), committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (trx: PgTx) => Promise<T>): Promise<T> {
    this.checkOpen();
    return this.db.transaction().execute(fn);
  }

  /** Runs `fn` with one client of the pool to itself (raw SQL, COPY, session-level locks). */
  async withClient<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
    this.checkOpen();
    const client = await this.pool.connect();
    try {
      return await fn(client);
    } finally {
      client.release();
    }
  }

  /** Raw SQL with positional parameters ($1, $2…), for what the query builder cannot say well. */
  async query<R>(sql: string, params: readonly unknown[] = []): Promise<R[]> {
    this.checkOpen();
    return (await this.pool.query(sql, params as unknown[])).rows as R[];
  }

  private checkOpen(): void {
    if (this.closed) throw new OrgvaultError('STORE_CLOSED', 'The vault catalog is closed.');
  }

  private async appliedVersion(client: PoolClient): Promise<number> {
    const table = await client.query<{ present: boolean }>("SELECT to_regclass('schema_migrations') IS NOT NULL AS present");
    if (!table.rows[0]?.present) return 0;
    const row = await client.query<{ version: number | null }>('SELECT max(version) AS version FROM schema_migrations');
    return row.rows[0]?.version ?? 0;
  }

  private async migrate(): Promise<void> {
    await this.withClient(async (client) => {
      const version = await this.appliedVersion(client);
      checkNotNewer(version);
      if (version === SCHEMA_VERSION) return;
      for (const migration of MIGRATIONS) {
        await client.query('BEGIN');
        try {
          await client.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`);
          await client.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
          await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)');
          const current = await this.appliedVersion(client);
          checkNotNewer(current);
          if (current < migration.version) {
            // Several statements in one simple query: no parameters, so pg sends it as it is.
            await client.query(migrationSql(migration, 'postgres'));
            await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [migration.version, migration.name, Date.now()]);
          }
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw error;
        }
      }
    });
  }

  private async checkSchema(): Promise<void> {
    await this.withClient(async (client) => {
      const version = await this.appliedVersion(client);
      checkNotNewer(version);
      if (version < SCHEMA_VERSION) {
        throw new OrgvaultError('CATALOG_OUTDATED', `The vault catalog in schema ${this.schema} has schema version ${version} and needs upgrading to ${SCHEMA_VERSION}; open it once without --readonly.`);
      }
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.db.destroy();
  }
}

function checkNotNewer(version: number): void {
  if (version > SCHEMA_VERSION) {
    throw new OrgvaultError('CATALOG_TOO_NEW', `The vault catalog has schema version ${version}, newer than this orgvault understands (${SCHEMA_VERSION}); upgrade orgvault to open it.`);
  }
}

/** Connection failures name the server (never the password) and what to check. */
function wrapConnectError(error: unknown, url: string): unknown {
  if (error instanceof OrgvaultError) return error;
  const code = (error as { code?: string }).code;
  const where = redactUrl(url);
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new OrgvaultError('STORE_UNREACHABLE', `Cannot reach PostgreSQL at ${where} (${code}); check the host and port in --store, and that the server is running.`, { cause: error });
  }
  if (code === '28P01' || code === '28000') {
    return new OrgvaultError('STORE_AUTH', `PostgreSQL at ${where} refused the user or password; check --store, PGPASSWORD or ~/.pgpass.`, { cause: error });
  }
  if (code === '3D000') {
    return new OrgvaultError('STORE_NO_DATABASE', `PostgreSQL at ${where} has no such database; create it (createdb) or fix the database name in --store.`, { cause: error });
  }
  return error;
}
