/**
 * Where the vault's work queue is, for `worker`, `serve`, `scheduler` and `backup --queue`: the
 * `--queue postgres://…` option, else ORGVAULT_QUEUE, else the vault's own PostgreSQL store (a
 * PostgreSQL vault always has its queue). An SQLite vault has none unless one is named: its
 * backups run in the process that starts them.
 */
import type { Command } from 'commander';
import { UsageError } from '../core/errors.ts';
import type { JobQueue } from '../store/queue.ts';
import type { Vault } from '../store/vault.ts';

export const QUEUE_OPTION = ['--queue <url>', "the work queue's PostgreSQL database: postgres://user@host:5432/db?schema=NAME (default: ORGVAULT_QUEUE, else the vault's PostgreSQL store)"] as const;

/** The queue URL the options, the environment or the vault's store give, or undefined. */
export function queueUrl(vault: Vault, flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const url = flag ?? (env.ORGVAULT_QUEUE || undefined);
  if (url !== undefined) {
    if (!/^postgres(ql)?:\/\//.test(url)) throw new UsageError('The work queue lives in PostgreSQL: give --queue (or ORGVAULT_QUEUE) as postgres://user@host:5432/database?schema=NAME.');
    return url;
  }
  return vault.location.store.engine === 'postgres' ? vault.location.store.url : undefined;
}

/** Opens the vault's work queue, or returns null when it has none. */
export async function openVaultQueue(vault: Vault, flag: string | undefined): Promise<JobQueue | null> {
  const url = queueUrl(vault, flag);
  if (url === undefined) return null;
  // Loaded on use: pg is not needed by an SQLite vault.
  const { openPostgresJobQueue } = await import('../store/postgres/queue.ts');
  return openPostgresJobQueue(url);
}

/** The `--queue` flag of a command (commander keeps it on the command's own options). */
export function queueFlag(command: Command): string | undefined {
  return (command.opts() as { queue?: string }).queue;
}
