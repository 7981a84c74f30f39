/**
 * Moving a vault between engines (`orgvault migrate`): its catalog row for row, its blobs, then a
 * proof that the copy is whole. Typical use: a laptop's SQLite vault and file-system blobs moved
 * to PostgreSQL and an S3 bucket when an org outgrows one machine.
 *
 * Ordering, so that a failure at any point loses nothing and can simply be run again: the source
 * is only read (under its vault lock, so no backup writes meanwhile); the target must be empty;
 * the catalog is copied table by table, each checked against the source by row count and an
 * order-independent digest of its rows; then the blobs, each stored under the address the source
 * had (the address is a keyed hash of the content, so an equal address proves equal bytes); then
 * the target is verified as `verify --read-data` does, every pack and blob opened and
 * authenticated. Only after all that does the caller point the vault at the target.
 */
import { createHash } from 'node:crypto';
import { OrgvaultError } from '../core/errors.ts';
import type { BlobStore, CatalogRow, VaultStore } from '../store/port.ts';
import { verifyVault } from '../verify/index.ts';
import type { VerifyReport } from '../verify/index.ts';

export interface MigrateEnd {
  store: VaultStore;
  blobs: BlobStore;
}

export interface MigratedTable {
  name: string;
  rows: number;
  /** How it reached the target: copied row for row, or rebuilt there from the copied data. */
  how: 'copied' | 'rebuilt' | 'skipped';
}

export interface MigrateReport {
  tables: MigratedTable[];
  blobs: { copied: number; alreadyThere: number; bytes: number };
  search: { versions: number };
  verify: VerifyReport;
}

export interface MigrateOptions {
  /** Who asks, for the audit log of the target. */
  actor: string;
  onProgress?: (line: string) => void;
}

/** Raised when the target is not an empty vault catalog, or a copy does not match its source. */
export class MigrationError extends OrgvaultError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('MIGRATION_FAILED', message, options);
  }
}

/** Tables copied first: others refer to their keys. */
const FIRST = ['orgs', 'objects'];
/** Transient: who holds a lock now means nothing in another catalog. */
const NOT_COPIED = new Set(['locks']);
/**
 * The search index is derived from the versions and each engine keeps it its own way (SQLite in
 * byte-packed lists, PostgreSQL in GIN-indexed arrays with a queue filled by a trigger): never
 * copied, rebuilt on the target from the copied versions.
 */
const SEARCH_TABLES = new Set(['search_postings', 'search_state', 'search_terms', 'search_pending']);
/** Tables a new catalog already has rows in (by its migrations or triggers): not a sign of another vault. */
const SEEDED = new Set(['search_state', 'search_pending']);
/** Pack rows carry sealed packs of up to ~256 KB each: fewer per page. */
const PAGE_ROWS: Record<string, number> = { packs: 32, metadata_contents: 200 };
const DEFAULT_PAGE_ROWS = 2000;

/** Copies the vault in `source` into the empty `target`, proves the copy and returns what moved. */
export async function migrateVault(source: MigrateEnd, target: MigrateEnd, options: MigrateOptions): Promise<MigrateReport> {
  const progress = options.onProgress ?? (() => undefined);
  const lock = await source.store.acquireVaultLock(`migrate (${options.actor})`);
  const heartbeat = setInterval(() => void lock.heartbeat().catch(() => undefined), 10_000);
  try {
    const sourceTables = await source.store.catalogTables();
    const targetTables = await target.store.catalogTables();
    await assertEmpty(target.store, targetTables);
    const order = [...FIRST.filter((t) => sourceTables.has(t)), ...[...sourceTables.keys()].filter((t) => !FIRST.includes(t)).sort()];
    const tables: MigratedTable[] = [];
    for (const name of order) {
      if (NOT_COPIED.has(name) || SEARCH_TABLES.has(name)) {
        tables.push({ name, rows: 0, how: NOT_COPIED.has(name) ? 'skipped' : 'rebuilt' });
        continue;
      }
      const columns = sourceTables.get(name)!;
      if (!sameColumns(columns, targetTables.get(name))) {
        throw new MigrationError(
          `The target has no table ${name} with the source's columns (${columns.join(', ')}); the two sides run different orgvault versions. Upgrade both to the same version and run migrate again.`,
        );
      }
      const pageRows = PAGE_ROWS[name] ?? DEFAULT_PAGE_ROWS;
      const copied = new RowDigest();
      for await (const page of source.store.readCatalogRows(name, pageRows)) {
        for (const row of page) copied.add(row);
        await target.store.writeCatalogRows(name, page);
      }
      const landed = new RowDigest();
      for await (const page of target.store.readCatalogRows(name, pageRows)) for (const row of page) landed.add(row);
      if (landed.rows !== copied.rows || landed.value !== copied.value) {
        throw new MigrationError(`Table ${name} did not copy faithfully: ${copied.rows} rows read, ${landed.rows} rows in the target, digests ${landed.value === copied.value ? 'equal' : 'differ'}. The source is unchanged; drop the target and run migrate again.`);
      }
      tables.push({ name, rows: copied.rows, how: 'copied' });
      progress(`catalog: ${name}, ${copied.rows} rows`);
    }
    await target.store.finishCatalogImport();

    const blobs = { copied: 0, alreadyThere: 0, bytes: 0 };
    for await (const address of source.blobs.list()) {
      if (await target.blobs.has(address)) {
        blobs.alreadyThere += 1;
        continue;
      }
      const stored = await target.blobs.put(source.blobs.get(address));
      if (stored.address !== address) {
        throw new MigrationError(`Blob ${address} read back from the source hashes to ${stored.address}: the source blob is damaged. Run \`orgvault verify --read-data\` on the source.`);
      }
      blobs.copied += 1;
      blobs.bytes += stored.size;
      if (blobs.copied % 500 === 0) progress(`blobs: ${blobs.copied} copied`);
    }
    progress(`blobs: ${blobs.copied} copied, ${blobs.alreadyThere} already there`);

    progress('search index: rebuilding from the versions');
    const searchVersions = (await target.store.catchUpSearchIndex()).versions;

    const verify = await verifyVault({ store: target.store, blobs: target.blobs }, { readData: 'all', onProgress: progress });
    if (!verify.ok) {
      throw new MigrationError(
        `The target failed verification after the copy (${verify.problems.map((p) => `${p.kind}: ${p.message}`).join('; ')}). The vault still uses the source; drop the target and run migrate again.`,
      );
    }
    await target.store.appendAudit({ at: Date.now(), actor: options.actor, action: 'vault.migrate', target: null, details: { tables: tables.length, blobs: blobs.copied + blobs.alreadyThere } });
    return { tables, blobs, search: { versions: searchVersions }, verify };
  } finally {
    clearInterval(heartbeat);
    await lock.release();
  }
}

async function assertEmpty(store: VaultStore, tables: ReadonlyMap<string, string[]>): Promise<void> {
  for (const name of tables.keys()) {
    if (SEEDED.has(name)) continue;
    for await (const page of store.readCatalogRows(name, 1)) {
      if (page.length > 0) {
        throw new MigrationError(`The target catalog is not empty (table ${name} has rows): migrate only into a new, empty store, e.g. a fresh PostgreSQL schema (?schema=NAME). Nothing was copied.`);
      }
      break;
    }
  }
}

function sameColumns(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  return a !== undefined && b !== undefined && a.length === b.length && a.every((c, i) => c === b[i]);
}

/**
 * An order-independent digest of rows: the sum, modulo 2^128, of each row's SHA-256 over its
 * values in column order, typed (so 1 and "1" differ). Engines return rows in any order.
 */
class RowDigest {
  rows = 0;
  private sum = 0n;

  add(row: CatalogRow): void {
    const hash = createHash('sha256');
    for (const column of Object.keys(row).sort()) {
      const value = row[column];
      hash.update(column);
      if (value === null || value === undefined) hash.update('\u0000z');
      else if (Buffer.isBuffer(value)) hash.update('\u0000b').update(value);
      else if (typeof value === 'number') hash.update(`\u0000n${String(value)}`);
      else hash.update(`\u0000s${String(value)}`);
    }
    this.sum = (this.sum + BigInt(`0x${hash.digest('hex').slice(0, 32)}`)) % (1n << 128n);
    this.rows += 1;
  }

  get value(): string {
    return this.sum.toString(16);
  }
}
