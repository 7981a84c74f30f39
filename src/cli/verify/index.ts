/**
 * `orgvault verify [--read-data [n/m]]`: checks the vault against its catalog; exit 0 when
 * clean, 3 when it found problems, each listed.
 */
import type { Command } from 'commander';
import { ExitCode, UsageError } from '../../core/errors.ts';
import { openVault } from '../../store/vault.ts';
import { parseReadData, verifyVault } from '../../verify/index.ts';
import type { ReadData } from '../../verify/index.ts';
import { formatBytes } from '../format.ts';
import { globalOptions, printResult, resolveLocationOverrides, resolveUnlocker, resolveVaultDir, warn } from '../vault-options.ts';

export function registerVerifyCommand(program: Command): void {
  program
    .command('verify')
    .description('check that every blob and pack the catalog refers to is present (and with --read-data, intact)')
    .option('--read-data [n/m]', 'also read and authenticate the data: all of it, or the n-th of m slices (e.g. 1/7 on Mondays)')
    .action(async (local: { readData?: string | boolean }, command: Command) => {
      const options = globalOptions(command);
      const readData = readDataOption(local.readData);
      const vault = await openVault(resolveVaultDir(options), await resolveUnlocker(options), { location: resolveLocationOverrides(options) });
      let report;
      try {
        report = await verifyVault({ store: vault.store, blobs: vault.blobs }, { readData, onProgress: warn });
      } finally {
        await vault.close();
      }
      const { counters, problems } = report;
      printResult(options, { vaultId: vault.vaultId, ...report }, () => [
        `Verified vault ${vault.vaultId} (run ${report.runId}, read data: ${report.readData})`,
        `  blobs: ${counters.storedBlobs} stored, ${counters.referencedBlobs} referenced by the catalog`,
        ...(readData === undefined
          ? []
          : [`  read: ${counters.packsChecked} packs (${counters.payloadsChecked} payloads), ${counters.blobsRead} blobs (${formatBytes(counters.bytesRead)})`]),
        ...(report.ok
          ? ['No problems found.']
          : [`${problems.length} problem${problems.length === 1 ? '' : 's'}:`, ...problems.map((p) => `  ${p.kind}: ${p.message}`)]),
      ]);
      // Problems are the command's answer, not an error: the report is printed, then the exit code says so.
      if (!report.ok) process.exitCode = ExitCode.Failed;
    });
}

function readDataOption(value: string | boolean | undefined): ReadData | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return 'all';
  const parsed = parseReadData(value);
  if (!parsed) {
    throw new UsageError(`--read-data ${value} is not a slice: give n/m with 1 ≤ n ≤ m (e.g. --read-data 1/2 and --read-data 2/2 read half each), or no value to read everything.`);
  }
  return parsed;
}
