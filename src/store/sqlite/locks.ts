/**
 * One writer per org: a `locks` row naming the holder (owner, pid, host) with a heartbeat. A lock
 * is taken over when its heartbeat is older than `staleAfterMs` (the holder hung or its machine
 * died) or when its pid is gone on this host (the holder crashed: no need to wait a minute).
 * Readers never take it: with WAL they read a consistent snapshot while a backup writes.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { LockManager, OrgLock } from '../port.ts';
import { LockHeldError } from '../port.ts';
import type { Connections } from './connection.ts';
import { builder, first, run } from './connection.ts';

const DEFAULT_STALE_AFTER_MS = 60_000;

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class SqliteLocks implements LockManager {
  private readonly held = new Set<OrgLock>();

  constructor(private readonly conns: Connections) {}

  async acquireOrgLock(orgId: string, owner: string, options: { staleAfterMs?: number } = {}): Promise<OrgLock> {
    const staleAfterMs = options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
    const token = randomBytes(12).toString('hex');
    const host = hostname();
    await this.conns.transaction((db) => {
      const now = Date.now();
      const current = first(db, builder.selectFrom('locks').selectAll().where('org_id', '=', orgId));
      if (current) {
        const stale = now - current.heartbeat_at > staleAfterMs;
        const dead = current.hostname === host && !pidAlive(current.pid);
        if (!stale && !dead) throw new LockHeldError(orgId, `${current.owner}, pid ${current.pid} on ${current.hostname}`, current.acquired_at);
        run(db, builder.deleteFrom('locks').where('org_id', '=', orgId));
      }
      run(db, builder.insertInto('locks').values({ org_id: orgId, owner, token, pid: process.pid, hostname: host, acquired_at: now, heartbeat_at: now }));
    });

    const heartbeat = async (): Promise<void> => {
      const changed = await this.conns.transaction((db) => run(db, builder.updateTable('locks').set({ heartbeat_at: Date.now() }).where('org_id', '=', orgId).where('token', '=', token)));
      if (changed === 0) {
        stop();
        const now = first(this.conns.read, builder.selectFrom('locks').selectAll().where('org_id', '=', orgId));
        throw new LockHeldError(orgId, now ? `${now.owner}, pid ${now.pid} on ${now.hostname}` : 'nobody (the lock was taken over and released)', now?.acquired_at ?? Date.now());
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
        await this.conns.transaction((db) => run(db, builder.deleteFrom('locks').where('org_id', '=', orgId).where('token', '=', token)));
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
