/**
 * Applies the catalog schema (../schema/migrations.ts, shared with PostgreSQL) to an SQLite
 * catalog, each migration in its own transaction, recorded in `schema_migrations`.
 */
import type Database from 'better-sqlite3';
import { OrgvaultError } from '../../core/errors.ts';
import { MIGRATIONS, SCHEMA_VERSION, migrationSql } from '../schema/migrations.ts';

export { SCHEMA_VERSION } from '../schema/migrations.ts';

function appliedVersion(db: Database.Database): number {
  const table = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get();
  if (!table) return 0;
  const row = db.prepare('SELECT max(version) AS version FROM schema_migrations').get() as { version: number | null };
  return row.version ?? 0;
}

function checkNotNewer(version: number): void {
  if (version > SCHEMA_VERSION) {
    throw new OrgvaultError('CATALOG_TOO_NEW', `The vault catalog has schema version ${version}, newer than this orgvault understands (${SCHEMA_VERSION}); upgrade orgvault to open it.`);
  }
}

/**
 * Brings the catalog to SCHEMA_VERSION, each migration in its own durable transaction. Two
 * processes opening a new vault at once are serialized by BEGIN IMMEDIATE and the re-check inside.
 */
export function migrate(db: Database.Database): void {
  const version = appliedVersion(db);
  checkNotNewer(version);
  // Up to date: take no write lock, so opening never waits for a backup that is writing.
  if (version === SCHEMA_VERSION) return;
  for (const migration of MIGRATIONS) {
    db.transaction(() => {
      db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)');
      const current = appliedVersion(db);
      checkNotNewer(current);
      if (current >= migration.version) return;
      db.exec(migrationSql(migration, 'sqlite'));
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(migration.version, migration.name, Date.now());
    }).immediate();
  }
}

/** For a read-only open: the catalog must already be at this code's schema version. */
export function checkSchema(db: Database.Database): void {
  const version = appliedVersion(db);
  checkNotNewer(version);
  if (version < SCHEMA_VERSION) {
    throw new OrgvaultError('CATALOG_OUTDATED', `The vault catalog has schema version ${version} and needs upgrading to ${SCHEMA_VERSION}; open it once without --readonly.`);
  }
}
