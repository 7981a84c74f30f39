/**
 * `orgvault migrate --to postgres://… [--blobs s3://…]`: moves the vault's catalog (and, with
 * --blobs, its file bodies) to PostgreSQL and S3-compatible storage, proves the copy, then points
 * the vault at it (storage.json). The source is only read: the old catalog.db and blobs/ stay as
 * they were until removed by hand, and a failed migration can simply be run again into a fresh
 * schema.
 */
import { hostname, userInfo } from 'node:os';
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.ts';
import { migrateVault } from '../../migrate/index.ts';
import { blobLocation, describeLocation, openBlobsAt, openStoreAt, storeLocation, writeStorageFile } from '../../store/location.ts';
import type { VaultLocation } from '../../store/location.ts';
import { openVault } from '../../store/vault.ts';
import { formatBytes } from '../format.ts';
import { globalOptions, printResult, resolveLocationOverrides, resolveUnlocker, resolveVaultDir, warn } from '../vault-options.ts';

export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description('move the vault to PostgreSQL (--to postgres://…) and its file bodies to S3-compatible storage (--blobs s3://…), verify the copy, then use it')
    .requiredOption('--to <url>', 'the PostgreSQL store to move the catalog to: postgres://user@host:5432/db?schema=NAME (an empty schema; the password may come from PGPASSWORD)')
    .addHelpText('after', '\nHere --blobs names where the file bodies go (s3://bucket/prefix?endpoint=…&region=…); without it they stay where they are.\nThe source is the vault as it is now (--vault, its storage.json, ORGVAULT_STORE/ORGVAULT_BLOBS); it is only read.')
    .action(async (local: { to: string }, command: Command) => {
      const options = globalOptions(command);
      const dir = resolveVaultDir(options);
      // --blobs is the target's here; the source's blobs are where the vault keeps them now.
      const vault = await openVault(dir, await resolveUnlocker(options), { location: resolveLocationOverrides({ ...options, blobs: undefined }) });
      let report;
      let target: VaultLocation;
      try {
        target = {
          store: storeLocation(dir, local.to),
          blobs: options.blobs ? blobLocation(dir, options.blobs) : vault.location.blobs,
        };
        if (target.store.engine !== 'postgres') throw new UsageError('--to must be a PostgreSQL URL (postgres://user@host:5432/db?schema=NAME).');
        if (vault.location.store.engine === 'postgres' && vault.location.store.url === target.store.url) {
          throw new UsageError('The vault already uses that store; give --to another PostgreSQL schema (?schema=NAME).');
        }
        const store = await openStoreAt(target.store, vault.keyring);
        try {
          const blobs = await openBlobsAt(target.blobs, vault.keyring);
          report = await migrateVault({ store: vault.store, blobs: vault.blobs }, { store, blobs }, { actor: actor(), onProgress: warn });
        } finally {
          await store.close();
        }
        await writeStorageFile(dir, vault.keyring, target);
      } finally {
        await vault.close();
      }
      const from = describeLocation(vault.location);
      const to = describeLocation(target);
      const copied = report.tables.filter((t) => t.how === 'copied');
      printResult(options, { vaultId: vault.vaultId, from, to, ...report }, () => [
        `Moved vault ${vault.vaultId}`,
        `  catalog: ${from.store} → ${to.store} (${copied.length} tables, ${copied.reduce((n, t) => n + t.rows, 0)} rows, each checked by count and digest)`,
        `  blobs:   ${from.blobs} → ${to.blobs} (${report.blobs.copied} copied, ${formatBytes(report.blobs.bytes)}; ${report.blobs.alreadyThere} already there)`,
        `  search index rebuilt on the target (${report.search.versions} versions indexed)`,
        `  verified with --read-data: ${report.verify.counters.packsChecked} packs, ${report.verify.counters.blobsRead} blobs, no problems`,
        `The vault now uses the new location (${dir}/storage.json). The old ${vault.location.store.engine === 'sqlite' ? 'catalog.db' : 'store'}${target.blobs === vault.location.blobs ? '' : ' and blobs'} were left as they were; remove them once you are satisfied.`,
      ]);
    });
}

function actor(): string {
  try {
    return `${userInfo().username}@${hostname()}`;
  } catch {
    return `pid ${process.pid}@${hostname()}`;
  }
}
