/**
 * The `locks` table's rules, for every engine: the vault lock's key, when a holder counts as gone,
 * and the errors that name a holder. One copy, so that an operator reads the same refusal
 * whichever engine holds the vault, and both engines judge a lock row alike.
 */
import type { OrgLock } from '../port.ts';
import { LockHeldError } from '../port.ts';
import type { LocksTable } from '../schema/tables.ts';

/** How long a lock lives without a heartbeat before another process may take it over. */
export const DEFAULT_STALE_AFTER_MS = 60_000;

/** The `locks` key of the vault's exclusive lock: org IDs are letters and digits only. */
export const VAULT_LOCK_KEY = '*vault*';

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether a lock row's holder is gone: its heartbeat is stale at `now`, or its pid is dead on this host. */
export function holderGone(row: LocksTable, now: number, staleAfterMs: number, host: string): boolean {
  const stale = now - row.heartbeat_at > staleAfterMs;
  const dead = row.hostname === host && !pidAlive(row.pid);
  return stale || dead;
}

/** A lock row's holder, as errors name it. */
export const holderOf = (row: LocksTable): string => `${row.owner}, pid ${row.pid} on ${row.hostname}`;

/** The error for a key (an org's, or the vault's) already held by `row`. */
export function heldBy(key: string, row: LocksTable): LockHeldError {
  if (key !== VAULT_LOCK_KEY) return new LockHeldError(key, holderOf(row), row.acquired_at);
  return new LockHeldError(
    VAULT_LOCK_KEY,
    holderOf(row),
    row.acquired_at,
    `The vault is already held exclusively by ${holderOf(row)} since ${new Date(row.acquired_at).toISOString()}; try again when it finishes.`,
  );
}

/** The error for an org lock refused because `vault` holds the vault's exclusive lock. */
export function vaultHeldFor(orgId: string, vault: LocksTable): LockHeldError {
  return new LockHeldError(
    orgId,
    holderOf(vault),
    vault.acquired_at,
    `The vault is held exclusively by ${vault.owner} (pid ${vault.pid} on ${vault.hostname}) since ${new Date(vault.acquired_at).toISOString()}: no backup or restore may write while it prunes or purges. Try again when it finishes.`,
  );
}

/** The error for the vault lock refused because `writer` holds an org's lock. */
export function orgBeingWritten(writer: LocksTable): LockHeldError {
  return new LockHeldError(
    writer.org_id,
    holderOf(writer),
    writer.acquired_at,
    `Org ${writer.org_id} is being written by ${holderOf(writer)} since ${new Date(writer.acquired_at).toISOString()}; this needs the vault to itself. Try again when it finishes (or pass --wait).`,
  );
}

/** The error a heartbeat throws when its lock was taken over: `now` is the key's row, if any. */
export function lockLost(key: string, now: LocksTable | undefined): LockHeldError {
  return new LockHeldError(key, now ? holderOf(now) : 'nobody (the lock was taken over and released)', now?.acquired_at ?? Date.now());
}

/**
 * The handle of a lock just taken. It beats on its own every third of the stale window, well
 * inside it, on a timer that never keeps the process alive, until released or lost. `beat` renews
 * the row, and calls `stop` then throws when the lock was taken over; a failed timed beat ends
 * the timer when `stopsOn` says so. `remove` deletes the row; `held` is the store's set of live
 * handles, for releaseAll.
 */
export function lockHandle(options: {
  owner: string;
  staleAfterMs: number;
  held: Set<OrgLock>;
  beat: (stop: () => void) => Promise<void>;
  stopsOn: (error: unknown) => boolean;
  remove: () => Promise<void>;
}): OrgLock {
  const heartbeat = (): Promise<void> => options.beat(stop);
  const timer = setInterval(
    () =>
      heartbeat().catch((error: unknown) => {
        if (options.stopsOn(error)) stop();
      }),
    Math.max(10, Math.floor(options.staleAfterMs / 3)),
  );
  timer.unref();
  const stop = (): void => {
    clearInterval(timer);
    options.held.delete(lock);
  };
  const lock: OrgLock = {
    owner: options.owner,
    heartbeat,
    release: async () => {
      stop();
      await options.remove();
    },
  };
  options.held.add(lock);
  return lock;
}
