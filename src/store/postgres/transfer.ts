/**
 * The PostgreSQL catalog's tables row for row (CatalogTransfer), for moving a vault to or from
 * another engine. Writes are multi-row INSERTs of one page each; afterwards every identity column
 * is moved past the largest key copied, so new rows never reuse a copied key.
 */
import type { CatalogRow, CatalogTransfer } from '../port.ts';
import type { PgConnections } from './connection.ts';

/** PostgreSQL takes at most 65,535 parameters per statement. */
const MAX_PARAMETERS = 60_000;

const quote = (name: string): string => `"${name.replace(/"/g, '""')}"`;

export class PgTransfer implements CatalogTransfer {
  constructor(private readonly conns: PgConnections) {}

  async catalogTables(): Promise<Map<string, string[]>> {
    const rows = await this.conns.query<{ table_name: string; column_name: string }>(
      `SELECT c.table_name, c.column_name FROM information_schema.columns c
         JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
        WHERE c.table_schema = $1 AND t.table_type = 'BASE TABLE' AND c.table_name <> 'schema_migrations'
          AND NOT EXISTS (SELECT 1 FROM pg_inherits i JOIN pg_class k ON k.oid = i.inhrelid WHERE k.relname = c.table_name AND k.relnamespace = $1::regnamespace)
        ORDER BY c.table_name, c.column_name`,
      [this.conns.schema],
    );
    const out = new Map<string, string[]>();
    for (const row of rows) {
      const columns = out.get(row.table_name) ?? [];
      columns.push(row.column_name);
      out.set(row.table_name, columns);
    }
    return out;
  }

  async *readCatalogRows(table: string, pageRows: number): AsyncIterable<CatalogRow[]> {
    // A cursor in one read-only transaction: one consistent snapshot of the whole table.
    const client = await this.conns.pool.connect();
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      await client.query(`DECLARE transfer_rows NO SCROLL CURSOR FOR SELECT * FROM ${quote(table)}`);
      for (;;) {
        const { rows } = await client.query<CatalogRow>(`FETCH ${Math.max(1, Math.floor(pageRows))} FROM transfer_rows`);
        if (rows.length === 0) break;
        yield rows;
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async writeCatalogRows(table: string, rows: readonly CatalogRow[]): Promise<void> {
    if (rows.length === 0) return;
    const columns = Object.keys(rows[0]!);
    const perStatement = Math.max(1, Math.floor(MAX_PARAMETERS / columns.length));
    await this.conns.withClient(async (client) => {
      await client.query('BEGIN');
      try {
        for (let start = 0; start < rows.length; start += perStatement) {
          const chunk = rows.slice(start, start + perStatement);
          const params: unknown[] = [];
          const values = chunk.map((row) => `(${columns.map((c) => `$${params.push(row[c] ?? null)}`).join(', ')})`);
          // OVERRIDING SYSTEM VALUE: keys are copied as they are, identity columns included.
          await client.query(`INSERT INTO ${quote(table)} (${columns.map(quote).join(', ')}) OVERRIDING SYSTEM VALUE VALUES ${values.join(', ')}`, params);
        }
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    });
  }

  async finishCatalogImport(): Promise<void> {
    const identities = await this.conns.query<{ table_name: string; column_name: string }>(
      "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = $1 AND is_identity = 'YES'",
      [this.conns.schema],
    );
    for (const { table_name, column_name } of identities) {
      await this.conns.query(
        `SELECT setval(pg_get_serial_sequence($1, $2), GREATEST((SELECT max(${quote(column_name)}) FROM ${quote(table_name)}), 1), (SELECT max(${quote(column_name)}) FROM ${quote(table_name)}) IS NOT NULL)`,
        [quote(table_name), column_name],
      );
    }
  }
}
