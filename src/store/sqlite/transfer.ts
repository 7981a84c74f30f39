/**
 * The SQLite catalog's tables row for row (CatalogTransfer), for moving a vault to or from another
 * engine. Reads run on the read connection (a consistent snapshot per page); writes go through
 * the write queue in transactions of one page.
 */
import type { CatalogRow, CatalogTransfer } from '../port.ts';
import type { Connections } from './connection.ts';
import { statement } from './connection.ts';

const quote = (name: string): string => `"${name.replace(/"/g, '""')}"`;

export class SqliteTransfer implements CatalogTransfer {
  constructor(private readonly conns: Connections) {}

  async catalogTables(): Promise<Map<string, string[]>> {
    const tables = statement(this.conns.read, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations' ORDER BY name").all() as { name: string }[];
    const out = new Map<string, string[]>();
    for (const { name } of tables) {
      const columns = this.conns.read.prepare(`PRAGMA table_info(${quote(name)})`).all() as { name: string }[];
      out.set(name, columns.map((c) => c.name).sort());
    }
    return out;
  }

  async *readCatalogRows(table: string, pageRows: number): AsyncIterable<CatalogRow[]> {
    // By rowid where the table has one (every table but the WITHOUT ROWID ones), else by offset.
    const hasRowid = !(this.conns.read.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) as { sql: string }).sql.includes('WITHOUT ROWID');
    if (hasRowid) {
      let after = -Infinity;
      for (;;) {
        const rows = statement(this.conns.read, `SELECT rowid AS "__rowid", * FROM ${quote(table)} WHERE rowid > ? ORDER BY rowid LIMIT ?`).all(after === -Infinity ? Number.MIN_SAFE_INTEGER : after, pageRows) as (CatalogRow & { __rowid: number })[];
        if (rows.length === 0) return;
        after = rows[rows.length - 1]!.__rowid;
        yield rows.map(({ __rowid: _, ...row }) => row);
        if (rows.length < pageRows) return;
      }
    }
    for (let offset = 0; ; offset += pageRows) {
      const rows = statement(this.conns.read, `SELECT * FROM ${quote(table)} LIMIT ? OFFSET ?`).all(pageRows, offset) as CatalogRow[];
      if (rows.length === 0) return;
      yield rows;
      if (rows.length < pageRows) return;
    }
  }

  async writeCatalogRows(table: string, rows: readonly CatalogRow[]): Promise<void> {
    if (rows.length === 0) return;
    const columns = Object.keys(rows[0]!);
    const sql = `INSERT INTO ${quote(table)} (${columns.map(quote).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`;
    await this.conns.transaction((db) => {
      const insert = statement(db, sql);
      for (const row of rows) insert.run(...columns.map((c) => row[c] ?? null));
    });
  }

  // SQLite keeps AUTOINCREMENT's high-water mark in sqlite_sequence itself on explicit inserts.
  async finishCatalogImport(): Promise<void> {}
}
