/**
 * `orgvault key list|add|remove|rotate|export`: the passphrases and key files that open the
 * vault. Each wraps the same data key, so adding, removing or rotating one never re-encrypts data.
 */
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.ts';
import type { Unlocker } from '../../crypto/keys.ts';
import { addKeyWrapping, exportVaultKey, listKeyWrappings, removeKeyWrapping, rotateKey } from '../../store/vault.ts';
import type { KeyWrappingInfo } from '../../store/vault.ts';
import { globalOptions, keyOptions, printResult, resolveNewKey, resolveUnlocker, resolveVaultDir, warn } from '../vault-options.ts';
import type { NewKey } from '../vault-options.ts';

export function registerKeyCommand(program: Command): void {
  const key = program.command('key').description('list, add, remove, rotate or export the keys that open the vault');

  key
    .command('list')
    .description('list the passphrases and key files that open the vault (needs no key)')
    .action(async (_options: unknown, command: Command) => {
      const options = globalOptions(command);
      const { vaultId, wrappings } = await listKeyWrappings(resolveVaultDir(options));
      printResult(options, { vaultId, keys: wrappings }, () => [
        `Vault ${vaultId}: ${wrappings.length} key${wrappings.length === 1 ? '' : 's'}`,
        ...wrappings.map(describe),
      ]);
    });

  key
    .command('add')
    .description('add a passphrase (ORGVAULT_NEW_PASSPHRASE or a prompt) or --new-key-file FILE that opens the vault')
    .option('--new-key-file <file>', 'the key file to add; created with a new random key if it does not exist')
    .action(async (local: { newKeyFile?: string }, command: Command) => {
      const options = globalOptions(command);
      const dir = resolveVaultDir(options);
      const settings = keyOptions(process.env, options);
      const current = await resolveUnlocker(options);
      const added = await withNewKey(await resolveNewKey(local.newKeyFile), (next) => addKeyWrapping(dir, current, next, settings));
      printResult(options, { added: added.info, ...(added.keyFile ? { keyFile: added.keyFile } : {}) }, () => [`Added ${describe(added.info).trim()}`]);
    });

  key
    .command('remove <id>')
    .description('remove a key (see `orgvault key list`); the last one cannot be removed')
    .action(async (id: string, _local: unknown, command: Command) => {
      const options = globalOptions(command);
      const removed = await removeKeyWrapping(resolveVaultDir(options), await resolveUnlocker(options), id);
      printResult(options, { removed }, () => [`Removed ${describe(removed).trim()}`]);
    });

  key
    .command('rotate')
    .description('replace the passphrase or key file you opened the vault with by a new one (ORGVAULT_NEW_PASSPHRASE, a prompt, or --new-key-file FILE)')
    .option('--new-key-file <file>', 'the new key file; created with a new random key if it does not exist')
    .action(async (local: { newKeyFile?: string }, command: Command) => {
      const options = globalOptions(command);
      const dir = resolveVaultDir(options);
      const settings = keyOptions(process.env, options);
      const current = await resolveUnlocker(options);
      if ('exportedKey' in current) {
        throw new UsageError('`key rotate` replaces the passphrase or key file you open the vault with; a recovery key is not one. Use `orgvault key add` to add a new passphrase or key file.');
      }
      const rotated = await withNewKey(await resolveNewKey(local.newKeyFile), (next) => rotateKey(dir, current, next, settings));
      printResult(options, { added: rotated.info.added, removed: rotated.info.removed, ...(rotated.keyFile ? { keyFile: rotated.keyFile } : {}) }, () => [
        `Added ${describe(rotated.info.added).trim()}`,
        `Removed key ${rotated.info.removed}: the old ${'passphrase' in current ? 'passphrase' : 'key file'} no longer opens the vault.`,
      ]);
    });

  key
    .command('export')
    .description('print a recovery key that opens the vault on its own (needs --yes); keep it offline')
    .option('--yes', 'print the recovery key')
    .action(async (local: { yes?: boolean }, command: Command) => {
      const options = globalOptions(command);
      if (!local.yes) {
        throw new UsageError('`key export` prints a recovery key that opens the whole vault on its own. Run it again with --yes to print it, then store it offline (a password manager or a safe).');
      }
      const dir = resolveVaultDir(options);
      const recoveryKey = await exportVaultKey(dir, await resolveUnlocker(options));
      warn('Warning: this recovery key opens the vault on its own. Store it offline, never in the vault\'s own backups or in chat. Use it with ORGVAULT_RECOVERY_KEY.');
      printResult(options, { recoveryKey }, () => [recoveryKey]);
    });
}

async function withNewKey<T>(key: NewKey, change: (next: Unlocker) => Promise<T>): Promise<{ info: T; keyFile?: NewKey['keyFile'] }> {
  try {
    return { info: await change(key.unlocker), ...(key.keyFile ? { keyFile: key.keyFile } : {}) };
  } catch (error) {
    await key.discard?.();
    throw error;
  }
}

function describe(wrapping: KeyWrappingInfo): string {
  const cost = wrapping.scrypt ? ` (scrypt N=${wrapping.scrypt.N}, r=${wrapping.scrypt.r}, p=${wrapping.scrypt.p})` : '';
  return `  ${wrapping.id}  ${wrapping.kind === 'passphrase' ? 'passphrase' : 'key file  '}  added ${wrapping.createdAt}${cost}`;
}
