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
import { LockHeldError } from '../port.ts';
import type { Connections, Db } from './connection.ts';
import { all, builder, first, run } from './connection.ts';
import type { LocksTable } from '../schema/tables.ts';

const DEFAULT_STALE_AFTER_MS = 60_000;
/** The `locks` key of the vault's exclusive lock: org IDs are letters and digits only. */
const VAULT_LOCK_KEY = '*vault*';

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const holderOf = (row: LocksTable): string => `${row.owner}, pid ${row.pid} on ${row.hostname}`;

export class SqliteLocks implements LockManager {
  private readonly held = new Set<OrgLock>();

  constructor(private readonly conns: Connections) {}

  async acquireOrgLock(orgId: string, owner: string, options: { staleAfterMs?: number } = {}): Promise<OrgLock> {
    return this.acquire(orgId, owner, options, (_db, live) => {
      const vault = live(VAULT_LOCK_KEY);
      if (vault) {
        throw new LockHeldError(
          orgId,
          holderOf(vault),
          vault.acquired_at,
          `The vault is held exclusively by ${vault.owner} (pid ${vault.pid} on ${vault.hostname}) since ${new Date(vault.acquired_at).toISOString()}: no backup or restore may write while it prunes or purges. Try again when it finishes.`,
        );
      }
      const current = live(orgId);
      if (current) throw new LockHeldError(orgId, holderOf(current), current.acquired_at);
    });
  }

  async acquireVaultLock(owner: string, options: { staleAfterMs?: number } = {}): Promise<OrgLock> {
    return this.acquire(VAULT_LOCK_KEY, owner, options, (db, live) => {
      const current = live(VAULT_LOCK_KEY);
      if (current) {
        throw new LockHeldError(
          VAULT_LOCK_KEY,
          holderOf(current),
          current.acquired_at,
          `The vault is already held exclusively by ${holderOf(current)} since ${new Date(current.acquired_at).toISOString()}; try again when it finishes.`,
        );
      }
      for (const row of all(db, builder.selectFrom('locks').selectAll().where('org_id', '!=', VAULT_LOCK_KEY).orderBy('acquired_at'))) {
        const writer = live(row.org_id);
        if (writer) {
          throw new LockHeldError(
            row.org_id,
            holderOf(writer),
            writer.acquired_at,
            `Org ${row.org_id} is being written by ${holderOf(writer)} since ${new Date(writer.acquired_at).toISOString()}; this needs the vault to itself. Try again when it finishes (or pass --wait).`,
          );
        }
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
        const stale = now - row.heartbeat_at > staleAfterMs;
        const dead = row.hostname === host && !pidAlive(row.pid);
        if (!stale && !dead) return row;
        run(db, builder.deleteFrom('locks').where('org_id', '=', k).where('token', '=', row.token));
        return undefined;
      };
      check(db, live);
      run(db, builder.insertInto('locks').values({ org_id: key, owner, token, pid: process.pid, hostname: host, acquired_at: now, heartbeat_at: now }));
    });

    const heartbeat = async (): Promise<void> => {
      const changed = await this.conns.transaction((db) => run(db, builder.updateTable('locks').set({ heartbeat_at: Date.now() }).where('org_id', '=', key).where('token', '=', token)));
      if (changed === 0) {
        stop();
        const now = first(this.conns.read, builder.selectFrom('locks').selectAll().where('org_id', '=', key));
        throw new LockHeldError(key, now ? holderOf(now) : 'nobody (the lock was taken over and released)', now?.acquired_at ?? Date.now());
      }
    };
    // Beat on our own well inside the stale window; the timer never keeps the process alive.
    const timer = setInterval(() => heartbeat().catch(() => stop()), Math.max(10, Math.floor(staleAfterMs / 3)));
    timer.unref();
    const stop = (): void => {
      clearInterval(timer);
      this.held.delete(lock);
    };
    const lock: OrgLock = {
      owner,
      heartbeat,
      release: async () => {
        stop();
        await this.conns.transaction((db) => run(db, builder.deleteFrom('locks').where('org_id', '=', key).where('token', '=', token)));
      },
    };
    this.held.add(lock);
    return lock;
  }

  /** Releases every lock this store still holds (on close). */
  async releaseAll(): Promise<void> {
    for (const lock of [...this.held]) await lock.release().catch(() => undefined);
  }
}
