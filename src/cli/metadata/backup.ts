/** `orgvault metadata backup`: a metadata backup on its own, recorded in the job log as a run of kind `metadata`. */
import type { Command } from 'commander';
import { ExitCode } from '../../core/errors.ts';
import { runMetadataBackup } from '../../metadata/backup.ts';
import type { MetadataBackupResult } from '../../metadata/backup.ts';
import { globalOptions, printResult } from '../vault-options.ts';
import { connectToOrg, requireOrg, withVault } from '../vault-session.ts';

interface BackupFlags {
  org?: string;
  full?: boolean;
}

/** The lines a person reads after a metadata backup. */
export function metadataBackupLines(orgName: string, result: MetadataBackupResult): string[] {
  const o = result.outcome;
  const lines = [`Metadata backup of ${orgName}: ${result.status} (run ${result.runId}).`];
  if (o) {
    lines.push(
      `  ${o.components} component(s) in ${o.types} type(s); ${o.retrieved} retrieved, ${o.changed} new version(s) stored (${o.deleted} deletion(s)), ${o.unchanged} unchanged.`,
    );
    if (o.skippedTypes.length > 0) lines.push(`  Not backed up: ${o.skippedTypes.join(', ')}.`);
  }
  if (result.message) lines.push(`  ${result.message}`);
  lines.push(`See \`orgvault metadata list --org ${orgName}\` for the types and \`orgvault logs ${result.runId}\` for the job log.`);
  return lines;
}

export function registerMetadataBackup(metadata: Command): void {
  metadata
    .command('backup')
    .description("back up the org's metadata now: list every type, retrieve what changed since the last backup, store each component's new versions")
    .option('--org <name>', 'the org (optional when the vault holds one org)')
    .option('--full', 'retrieve every component, not only those whose last-modified date moved')
    .action(async (flags: BackupFlags, command: Command) => {
      const options = globalOptions(command);
      await withVault(command, async (vault) => {
        const org = await requireOrg(vault, flags.org);
        const client = await connectToOrg(vault, org);
        const result = await runMetadataBackup({ store: vault.store, client }, { org, startedBy: 'cli', full: flags.full === true });
        printResult(options, result, () => metadataBackupLines(org.name, result));
        if (result.status === 'Failed') process.exitCode = ExitCode.Failed;
        else if (result.status !== 'Succeeded') process.exitCode = ExitCode.CompletedWithErrors;
      });
    });
}
