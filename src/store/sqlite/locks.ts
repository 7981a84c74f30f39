/**
 * One writer per org: a `locks` row naming the holder (owner, pid, host) with a heartbeat. A lock
 * is taken over when its heartbeat is older than `staleAfterMs` (the holder hung or its machine
 * died) or when its pid is gone on this host (the holder crashed: no need to wait a minute).
 * Readers never take it: with WAL they read a consistent snapshot while a backup writes.
 *
 * The vault's exclusive lock (prune, purge) is a row under a key no org ID can have: it is taken
 * only when no live org lock exists, and an org lock is refused while it is live. Both checks run
 * in the write transaction that inserts the row, so the two can never be held at once.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { LockManager, OrgLock } from '../port.ts';
import { DEFAULT_STALE_AFTER_MS, VAULT_LOCK_KEY, heldBy, holderGone, lockHandle, lockLost, orgBeingWritten, vaultHeldFor } from '../rows/locks.ts';
import type { Connections, Db } from './connection.ts';
import { all, builder, first, run } from './connection.ts';
import type { LocksTable } from '../schema/tables.ts';

export class SqliteLocks implements LockManager {
  private readonly held = new Set<OrgLock>();

  constructor(private readonly conns: Connections) {}

  async acquireOrgLock(orgId: string, owner: string, options: { staleAfterMs?: number } = {}): Promise<OrgLock> {
    return this.acquire(orgId, owner, options, (_db, live) => {
      const vault = live(VAULT_LOCK_KEY);
      if (vault) throw vaultHeldFor(orgId, vault);
      const current = live(orgId);
      if (current) throw heldBy(orgId, current);
    });
  }

  async acquireVaultLock(owner: string, options: { staleAfterMs?: number } = {}): Promise<OrgLock> {
    return this.acquire(VAULT_LOCK_KEY, owner, options, (db, live) => {
      const current = live(VAULT_LOCK_KEY);
      if (current) throw heldBy(VAULT_LOCK_KEY, current);
      for (const row of all(db, builder.selectFrom('locks').selectAll().where('org_id', '!=', VAULT_LOCK_KEY).orderBy('acquired_at'))) {
        const writer = live(row.org_id);
        if (writer) throw orgBeingWritten(writer);
      }
    });
  }

  /**
   * Inserts the lock row `key` in one write transaction after `check`, which may throw. `live`
   * returns the row of a key if its holder is alive, and deletes it if the holder is dead or stale.
   */
  private async acquire(key: string, owner: string, options: { staleAfterMs?: number }, check: (db: Db, live: (key: string) => LocksTable | undefined) => void): Promise<OrgLock> {
    const staleAfterMs = options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
    const token = randomBytes(12).toString('hex');
    const host = hostname();
    await this.conns.transaction((db) => {
      const now = Date.now();
      const live = (k: string): LocksTable | undefined => {
        const row = first(db, builder.selectFrom('locks').selectAll().where('org_id', '=', k));
        if (!row) return undefined;
        if (!holderGone(row, now, staleAfterMs, host)) return row;
        run(db, builder.deleteFrom('locks').where('org_id', '=', k).where('token', '=', row.token));
        return undefined;
      };
      check(db, live);
      run(db, builder.insertInto('locks').values({ org_id: key, owner, token, pid: process.pid, hostname: host, acquired_at: now, heartbeat_at: now }));
    });

    return lockHandle({
      owner,
      staleAfterMs,
      held: this.held,
      beat: async (stop) => {
        const changed = await this.conns.transaction((db) => run(db, builder.updateTable('locks').set({ heartbeat_at: Date.now() }).where('org_id', '=', key).where('token', '=', token)));
        if (changed === 0) {
          stop();
          const now = first(this.conns.read, builder.selectFrom('locks').selectAll().where('org_id', '=', key));
          throw lockLost(key, now);
        }
      },
      // Any failed beat ends the timer: a local database has no network hiccup to wait out.
      stopsOn: () => true,
      remove: async () => {
        await this.conns.transaction((db) => run(db, builder.deleteFrom('locks').where('org_id', '=', key).where('token', '=', token)));
      },
    });
  }

  /** Releases every lock this store still holds (on close). */
  async releaseAll(): Promise<void> {
    for (const lock of [...this.held]) await lock.release().catch(() => undefined);
  }
}
