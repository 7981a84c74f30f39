/**
 * `orgvault metadata compare`: the org's configuration at two points (by default the last two
 * metadata backups; a run, a time or the live org), as the components added, removed and
 * changed, each changed one with a unified diff of its files.
 */
import type { Command } from 'commander';
import { compareMetadata, liveMetadata, parseMetadataPoint } from '../../metadata/compare.ts';
import type { MetadataComparison, MetadataPoint } from '../../metadata/compare.ts';
import { profileDisplayName } from '../../metadata/profile-names.ts';
import { table } from '../format.ts';
import { globalOptions, printResult } from '../vault-options.ts';
import { connectToOrg, requireOrg, withVault } from '../vault-session.ts';

interface CompareFlags {
  org?: string;
  from?: string;
  to?: string;
  type?: string;
  diff: boolean;
}

const display = (type: string, fullName: string): string => `${type}:${type === 'Profile' ? profileDisplayName(fullName) : fullName}`;

/** The lines a person reads: the two points, the counts, a table of the differences, then each diff. */
export function comparisonLines(result: MetadataComparison, withDiffs: boolean): string[] {
  const { added, removed, changed, unchanged } = result.counts;
  const lines = [`Metadata of ${result.org}: ${result.from.label} → ${result.to.label}`, `  ${added} added, ${removed} removed, ${changed} changed, ${unchanged} unchanged`, ''];
  if (result.changes.length === 0) return [...lines, 'No component differs.'];
  lines.push(...table(['Change', 'Component', 'Files'], result.changes.map((c) => [c.change, display(c.type, c.fullName), c.files.map((f) => f.path).join(', ')])));
  if (withDiffs) {
    for (const c of result.changes.filter((ch) => ch.change === 'changed')) {
      lines.push('', `=== ${display(c.type, c.fullName)}`, c.diff.replace(/\n$/, ''));
    }
  }
  return lines;
}

export function registerMetadataCompare(metadataCommand: Command): void {
  metadataCommand
    .command('compare')
    .description('what changed in the org\'s metadata between two backups (default: the last two) or a backup and the live org')
    .option('--org <name>', 'the org (optional when the vault holds one org)')
    .option('--from <point>', 'the left side: a run ID (or its start), or an ISO-8601 time (default: the backup before --to)')
    .option('--to <point>', 'the right side: a run ID, a time, or "live" for the org as it is now (default: the latest backup)')
    .option('--type <name>', 'only components of this metadata type (CustomField, ApexClass, ValidationRule…)')
    .option('--no-diff', 'list the components only, without the diffs of the changed ones')
    .action(async (flags: CompareFlags, command: Command) => {
      const options = globalOptions(command);
      const points: { from?: MetadataPoint; to?: MetadataPoint } = {};
      if (flags.from !== undefined) points.from = parseMetadataPoint(flags.from, '--from');
      if (flags.to !== undefined) points.to = parseMetadataPoint(flags.to, '--to');
      await withVault(
        command,
        async (vault) => {
          const org = await requireOrg(vault, flags.org);
          const live = liveMetadata(() => connectToOrg(vault, org), org, flags.type);
          const result = await compareMetadata({ store: vault.store, live }, org, points, flags.type ? { type: flags.type } : {});
          printResult(options, flags.diff ? result : { ...result, changes: result.changes.map((c) => ({ ...c, diff: '' })) }, () => comparisonLines(result, flags.diff));
        },
        { readonly: true },
      );
    });
}
