/**
 * One writer per org on PostgreSQL, as on SQLite (../sqlite/locks.ts): a `locks` row naming the
 * holder (owner, pid, host) with a heartbeat. A lock is taken over when its heartbeat is older
 * than `staleAfterMs` (the holder hung or its machine died) or when its pid is gone on this host
 * (the holder crashed). Host names are taken to be unique among the machines sharing a database,
 * as they are for containers and VMs unless set by hand. Readers never take a lock.
 *
 * Times are the database server's clock (acquired_at, heartbeat_at, and "now" when judging a
 * heartbeat stale), so machines whose clocks disagree never see a live lock as stale.
 *
 * Concurrency, with many processes on many machines:
 * - Two takers of one key: each reads the row with FOR UPDATE in its transaction, so the second
 *   waits for the first to commit and then reads the row the first left (a fresh heartbeat: held).
 *   When there was no row, both insert with ON CONFLICT DO NOTHING: the second's insert waits for
 *   the first's commit and inserts nothing, and it reports the winner. Exactly one wins.
 * - The vault's exclusive lock (prune, purge) against org locks: every acquisition holds the
 *   transaction-scoped advisory lock LOCKS_KEY, shared for an org lock and exclusive for the vault
 *   lock, so the vault lock's check of every org lock and its insert run while no org lock is
 *   being taken, and an org lock's check of the vault lock sees a committed vault lock.
 * - A heartbeat or release names the row by its token: one taken over changes nothing, and the
 *   holder learns it at its next heartbeat.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { sql } from 'kysely';
import type { Selectable } from 'kysely';
import { OrgvaultError } from '../../core/errors.ts';
import type { LockManager, OrgLock } from '../port.ts';
import { LockHeldError } from '../port.ts';
import { DEFAULT_STALE_AFTER_MS, VAULT_LOCK_KEY, heldBy, holderGone, lockHandle, lockLost, orgBeingWritten, vaultHeldFor } from '../rows/locks.ts';
import type { LocksTable } from '../schema/tables.ts';
import type { PgConnections, PgTx } from './connection.ts';

type LockRow = Selectable<LocksTable>;

/** The advisory lock every acquisition holds (shared: an org lock; exclusive: the vault lock). */
const LOCKS_KEY = sql`hashtextextended('orgvault:locks', 0)`;
/** The server's clock in epoch milliseconds. */
const SERVER_NOW = sql<number>`floor(extract(epoch from clock_timestamp()) * 1000)::bigint`;

/** Whether a failed heartbeat means the lock is lost for good (as opposed to a network hiccup). */
const isFinal = (error: unknown): boolean => error instanceof LockHeldError || (error instanceof OrgvaultError && error.code === 'STORE_CLOSED');

export class PgLocks implements LockManager {
  private readonly held = new Set<OrgLock>();

  constructor(private readonly conns: PgConnections) {}

  async acquireOrgLock(orgId: string, owner: string, options: { staleAfterMs?: number } = {}): Promise<OrgLock> {
    return this.acquire(orgId, owner, options, async (_trx, live) => {
      const vault = await live(VAULT_LOCK_KEY);
      if (vault) throw vaultHeldFor(orgId, vault);
      const current = await live(orgId);
      if (current) throw heldBy(orgId, current);
    });
  }

  async acquireVaultLock(owner: string, options: { staleAfterMs?: number } = {}): Promise<OrgLock> {
    return this.acquire(VAULT_LOCK_KEY, owner, options, async (trx, live) => {
      const current = await live(VAULT_LOCK_KEY);
      if (current) throw heldBy(VAULT_LOCK_KEY, current);
      const writers = await trx.selectFrom('locks').select('org_id').where('org_id', '!=', VAULT_LOCK_KEY).orderBy('acquired_at').execute();
      for (const { org_id } of writers) {
        const writer = await live(org_id);
        if (writer) throw orgBeingWritten(writer);
      }
    });
  }

  /**
   * Inserts the lock row `key` in one transaction after `check`, which may throw (rolling back
   * whatever `live` deleted). `live` row-locks a key's row and returns it if its holder is alive,
   * and deletes it if the holder is dead or stale.
   */
  private async acquire(key: string, owner: string, options: { staleAfterMs?: number }, check: (trx: PgTx, live: (key: string) => Promise<LockRow | undefined>) => Promise<void>): Promise<OrgLock> {
    const staleAfterMs = options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
    const token = randomBytes(12).toString('hex');
    const host = hostname();
    await this.conns.transaction(async (trx) => {
      if (key === VAULT_LOCK_KEY) await sql`SELECT pg_advisory_xact_lock(${LOCKS_KEY})`.execute(trx);
      else await sql`SELECT pg_advisory_xact_lock_shared(${LOCKS_KEY})`.execute(trx);
      const live = async (k: string): Promise<LockRow | undefined> => {
        const row = await trx
          .selectFrom('locks')
          .selectAll()
          .select(SERVER_NOW.as('now'))
          .where('org_id', '=', k)
          .forUpdate()
          .executeTakeFirst();
        if (!row) return undefined;
        const { now, ...lock } = row;
        if (!holderGone(lock, now, staleAfterMs, host)) return lock;
        await trx.deleteFrom('locks').where('org_id', '=', k).where('token', '=', lock.token).execute();
        return undefined;
      };
      await check(trx, live);
      const inserted = await trx
        .insertInto('locks')
        .values({ org_id: key, owner, token, pid: process.pid, hostname: host, acquired_at: SERVER_NOW, heartbeat_at: SERVER_NOW })
        .onConflict((oc) => oc.column('org_id').doNothing())
        .returning('token')
        .executeTakeFirst();
      if (!inserted) {
        // Another taker inserted the row after `check` found none, and committed first.
        const winner = await trx.selectFrom('locks').selectAll().where('org_id', '=', key).executeTakeFirst();
        if (winner) throw heldBy(key, winner);
        throw new LockHeldError(key, 'another orgvault process', Date.now());
      }
    });

    return lockHandle({
      owner,
      staleAfterMs,
      held: this.held,
      beat: async (stop) => {
        const result = await this.conns.db.updateTable('locks').set({ heartbeat_at: SERVER_NOW }).where('org_id', '=', key).where('token', '=', token).executeTakeFirst();
        if (result.numUpdatedRows === 0n) {
          stop();
          const now = await this.conns.db.selectFrom('locks').selectAll().where('org_id', '=', key).executeTakeFirst();
          throw lockLost(key, now);
        }
      },
      // A beat that fails on the network is tried again at the next tick; a lost lock stops them.
      stopsOn: isFinal,
      remove: async () => {
        await this.conns.db.deleteFrom('locks').where('org_id', '=', key).where('token', '=', token).execute();
      },
    });
  }

  /** Releases every lock this store still holds (on close). */
  async releaseAll(): Promise<void> {
    for (const lock of [...this.held]) await lock.release().catch(() => undefined);
  }
}
