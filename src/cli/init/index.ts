/**
 * `orgvault init`: creates a vault, its data key wrapped for a passphrase or a key file.
 */
import type { Command } from 'commander';
import { initVault } from '../../store/vault.ts';
import { globalOptions, keyOptions, printResult, resolveInitKey, resolveVaultDir } from '../vault-options.ts';

export function registerInitCommand(program: Command): void {
  program
    .command('init')
    .description('create a vault (in --vault DIR, ORGVAULT_HOME or ./.orgvault), locked by a passphrase (ORGVAULT_PASSPHRASE or a prompt) or --key-file FILE (created if absent)')
    .action(async (_options: unknown, command: Command) => {
      const options = globalOptions(command);
      const dir = resolveVaultDir(options);
      const settings = keyOptions(process.env, options);
      const key = await resolveInitKey(options);
      let created;
      try {
        created = await initVault(dir, key.unlocker, settings);
      } catch (error) {
        await key.discard?.();
        throw error;
      }
      const { vaultId, wrapping } = created;
      printResult(options, { vaultId, dir, key: wrapping, ...(key.keyFile ? { keyFile: key.keyFile } : {}) }, () => [
        `Created vault ${vaultId} in ${dir}`,
        key.keyFile
          ? `Locked by the key file ${key.keyFile.path}${key.keyFile.created ? ' (new, mode 600)' : ''} (key ${wrapping.id}). Keep a copy of it somewhere safe: without it the vault cannot be opened.`
          : `Locked by a passphrase (key ${wrapping.id}). Without it the vault cannot be opened.`,
        'Consider `orgvault key export --yes` to print a recovery key and keep it offline.',
      ]);
    });
}
