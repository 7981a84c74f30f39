/**
 * `orgvault forget [--org NAME] [--object X…] [--dry-run]`: applies the retention policy of an
 * org (or of every org that has one) and removes the versions it does not keep. `--dry-run` shows
 * what would go; with `--json`, record by record. Exit 0 when done, 1 when some records changed
 * meanwhile and were left alone.
 */
import type { Command } from 'commander';
import { ExitCode, UsageError } from '../../core/errors.ts';
import type { OrgRegistration } from '../../core/vault.ts';
import { describePolicy, forget, storedPolicy } from '../../retention/index.ts';
import type { ForgetReport } from '../../retention/index.ts';
import { formatBytes, table } from '../format.ts';
import { listOption } from '../option-lists.ts';
import { globalOptions, printResult, warn } from '../vault-options.ts';
import { requireOrg, withVault } from '../vault-session.ts';

interface ForgetFlags {
  org?: string;
  object?: string[];
  dryRun?: boolean;
}

export function registerForgetCommand(program: Command): void {
  program
    .command('forget')
    .description("remove the record and metadata versions an org's retention policy does not keep (then `orgvault prune` reclaims the space)")
    .option('--org <name>', 'the org (default: every org that has a retention policy)')
    .option('--object <name>', 'only this object, metadata left as it is (repeat, or separate with commas)', listOption)
    .option('--dry-run', 'show what would be removed, and remove nothing')
    .action(async (flags: ForgetFlags, command: Command) => {
      const options = globalOptions(command);
      if (flags.object?.length && flags.org === undefined) throw new UsageError('--object needs --org: objects are chosen within one org.');
      const reports = await withVault(command, async (vault) => {
        let orgs: OrgRegistration[];
        if (flags.org !== undefined) {
          orgs = [await requireOrg(vault, flags.org)];
        } else {
          const all = await vault.store.listOrgs();
          orgs = all.filter((o) => storedPolicy(o) !== undefined);
          if (orgs.length === 0) {
            throw new UsageError(
              all.length === 0
                ? 'No org is connected to this vault yet.'
                : `No org of this vault has a retention policy, so nothing would be forgotten. Set one with \`orgvault retention set --org ${all[0]!.name} --keep-all-days 30 …\`.`,
            );
          }
          const without = all.filter((o) => !orgs.includes(o));
          if (without.length) warn(`No retention policy, every version kept: ${without.map((o) => o.name).join(', ')}.`);
        }
        const out: ForgetReport[] = [];
        for (const org of orgs) {
          out.push(await forget({ store: vault.store, actor: 'cli', onProgress: warn }, { org, dryRun: Boolean(flags.dryRun), detail: Boolean(options.json), objects: flags.object }));
        }
        return out;
      });
      printResult(options, { dryRun: Boolean(flags.dryRun), orgs: reports }, () => reports.flatMap((r) => lines(r)));
      if (reports.some((r) => r.status !== 'Succeeded')) process.exitCode = ExitCode.CompletedWithErrors;
    });
}

function lines(r: ForgetReport): string[] {
  const n = (v: number): string => v.toLocaleString('en-US');
  const t = r.totals;
  const m = r.metadata;
  const verb = r.dryRun ? 'would be removed' : 'removed';
  const touched = r.objects.filter((o) => o.versionsRemoved || o.filesRemoved);
  return [
    `${r.dryRun ? 'Dry run of forget' : 'Forget'} for ${r.org} (run ${r.runId}), ages counted from ${r.asOf}:`,
    `  ${describePolicy(r.policy)}`,
    '',
    ...(touched.length
      ? table(
          ['Object', 'Records', 'Versions', 'Removed', 'Kept', 'Deleted records removed', 'File versions removed'],
          touched.map((o) => [o.objectName, n(o.records), n(o.versions), n(o.versionsRemoved), n(o.versionsKept), n(o.recordsRemoved), `${n(o.filesRemoved)} (${formatBytes(o.fileBytesRemoved)})`]),
        )
      : ['  Nothing to remove: the policy keeps every version the vault holds.']),
    '',
    `${n(t.versionsRemoved)} of ${n(t.versions)} versions ${verb} (${n(t.recordsRemoved)} deleted record(s) whole), ${n(t.filesRemoved)} of ${n(t.files)} file versions; ${n(t.versionsKept)} versions kept across ${n(t.records - t.recordsRemoved)} records.`,
    ...(m && m.versions
      ? [
          `Metadata: ${n(m.versionsRemoved)} of ${n(m.versions)} component versions ${verb}${m.componentsRemoved ? ` (${n(m.componentsRemoved)} deleted component(s) whole)` : ''}; ${n(m.versionsKept)} kept across ${n(m.components - m.componentsRemoved)} components.`,
        ]
      : []),
    ...(t.skipped ? [`${n(t.skipped)} record(s) changed while forget ran and were left as they were: run forget again.`] : []),
    ...(m?.skipped ? [`${n(m.skipped)} metadata component(s) changed while forget ran and were left as they were: run forget again.`] : []),
    r.dryRun
      ? `Run \`orgvault forget --org ${r.org}\` to remove them, then \`orgvault prune\` to reclaim the space.`
      : t.versionsRemoved || t.filesRemoved
        ? 'Run `orgvault prune` to reclaim the space they took.'
        : '',
  ].filter((line, i, all) => !(line === '' && i === all.length - 1));
}
