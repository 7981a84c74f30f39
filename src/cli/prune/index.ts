/**
 * `orgvault prune [--dry-run] [--wait SECONDS]`: rewrites the packs that hold payloads nothing
 * refers to, deletes the blobs nothing refers to and gives the catalog's free pages back, under
 * the vault's exclusive lock (no backup or restore writes meanwhile; readers go on). Exit 0 when
 * done, 1 when damaged packs or undeletable blobs were left, 3 when it failed.
 */
import type { Command } from 'commander';
import { ExitCode, UsageError } from '../../core/errors.ts';
import { prune } from '../../retention/index.ts';
import type { PruneReport } from '../../retention/index.ts';
import { formatBytes } from '../format.ts';
import { globalOptions, printResult, warn } from '../vault-options.ts';
import { withVault } from '../vault-session.ts';

export function registerPruneCommand(program: Command): void {
  program
    .command('prune')
    .description('delete what nothing refers to any more (after forget or purge): rewrite packs, delete blobs, shrink the catalog')
    .option('--dry-run', 'show what would be reclaimed, and change nothing')
    .option('--wait <seconds>', 'wait up to this long for running backups and restores to finish (default: refuse at once)')
    .action(async (flags: { dryRun?: boolean; wait?: string }, command: Command) => {
      const options = globalOptions(command);
      const waitMs = flags.wait === undefined ? 0 : waitSeconds(flags.wait) * 1000;
      const report = await withVault(command, (vault) => prune({ store: vault.store, blobs: vault.blobs, actor: 'cli', onProgress: warn }, { dryRun: Boolean(flags.dryRun), waitMs }));
      printResult(options, report, () => lines(report));
      if (report.status !== 'Succeeded') process.exitCode = ExitCode.CompletedWithErrors;
    });
}

/** `--wait` of purge and prune: whole seconds, at most a day. */
export function waitSeconds(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || value > 86_400) throw new UsageError(`--wait ${text} is not a number of seconds from 0 to 86400 (a day).`);
  return value;
}

function lines(r: PruneReport): string[] {
  const n = (v: number): string => v.toLocaleString('en-US');
  const p = r.packs;
  if (r.dryRun) {
    return [
      `Dry run of prune (run ${r.runId}):`,
      `  packs: ${n(p.packs)}, of which ${n(p.emptyPacks)} hold nothing used and ${n(p.partialPacks)} hold ${n(p.unusedPayloads)} unused payload(s) of ${n(p.payloads)}: about ${formatBytes(p.reclaimableBytes)} to reclaim`,
      `  blobs: ${n(r.blobs.orphans)} of ${n(r.blobs.stored)} referred to by nothing (${formatBytes(r.blobs.orphanBytes)})`,
      `  catalog: ${formatBytes(r.catalog.before.bytes)}, of which ${formatBytes(r.catalog.before.freeBytes)} free pages`,
      `About ${formatBytes(r.reclaimedBytes)} would be reclaimed. Run \`orgvault prune\` to reclaim it.`,
    ];
  }
  const x = r.repack!;
  return [
    `Pruned the vault (run ${r.runId}): ${r.status}`,
    `  packs: ${n(x.packsBefore)} → ${n(x.packsAfter)} (${n(x.packsRewritten)} rewritten into ${n(x.packsWritten)}, ${n(x.packsDeleted)} deleted; ${n(x.payloadsMoved)} payloads moved, ${n(x.payloadsDropped)} dropped), sealed bytes ${formatBytes(x.sealedBytesBefore)} → ${formatBytes(x.sealedBytesAfter)}`,
    `  blobs: ${n(r.blobs.deleted)} deleted (${formatBytes(r.blobs.bytesDeleted)}), ${n(r.blobs.stored - r.blobs.deleted)} kept`,
    `  catalog: ${formatBytes(r.catalog.before.bytes)} → ${formatBytes(r.catalog.after.bytes)}${r.catalog.vacuumed ? ' (vacuumed: freed pages are given back by each prune from now on)' : ''}`,
    `Reclaimed ${formatBytes(r.reclaimedBytes)}.`,
    ...(r.catalog.walPending ? ['A reader kept the write-ahead log from being emptied; it shrinks once nobody reads the vault.'] : []),
    ...(r.message ? [r.message] : []),
  ];
}
