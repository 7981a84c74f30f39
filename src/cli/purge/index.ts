/**
 * `orgvault purge --org NAME --object X (--id ID… | --ids-file FILE | --where COND…) --yes`:
 * removes every version of those records, their files, ID mappings and search entries from the
 * vault for good (GDPR erasure). Without --yes it says what would be removed, removes nothing and
 * exits 2. The logs keep that a purge happened and how many records, never which.
 */
import type { Command } from 'commander';
import { ExitCode, UsageError } from '../../core/errors.ts';
import { purge } from '../../retention/index.ts';
import type { PurgeReport } from '../../retention/index.ts';
import { formatBytes } from '../format.ts';
import { readIdsFile } from '../ids-file.ts';
import { listOption, repeatOption } from '../option-lists.ts';
import { waitSeconds } from '../prune/index.ts';
import { globalOptions, printResult, warn } from '../vault-options.ts';
import { requireOrg, withVault } from '../vault-session.ts';

interface PurgeFlags {
  org: string;
  object: string;
  id?: string[];
  idsFile?: string;
  where?: string[];
  match?: string;
  yes?: boolean;
  wait?: string;
  vacuum?: boolean;
}

export function registerPurgeCommand(program: Command): void {
  program
    .command('purge')
    .description('delete records from the vault forever: every version, file, ID mapping and search entry (GDPR erasure)')
    .requiredOption('--org <name>', 'the org the records were backed up from')
    .requiredOption('--object <name>', 'the object of the records (API name)')
    .option('--id <id>', 'a record ID, 15 or 18 characters (repeat, or separate with commas)', listOption)
    .option('--ids-file <file>', 'a file of record IDs: one a line, or a CSV with an Id column')
    .option('--where <condition>', 'records any of whose backed-up versions meets this condition, e.g. "Email = jane@example.com" (repeat)', repeatOption)
    .option('--match <logic>', 'how --where conditions combine: ALL (default), ANY, or e.g. "1 AND (2 OR 3)"')
    .option('--yes', 'really delete them: without it, purge only says what it would delete')
    .option('--wait <seconds>', 'wait up to this long for running backups and restores to finish (default: refuse at once)')
    .option('--no-vacuum', 'skip rewriting the whole catalog afterwards (the pages the purge freed are overwritten either way)')
    .action(async (flags: PurgeFlags, command: Command) => {
      const options = globalOptions(command);
      const waitMs = flags.wait === undefined ? 0 : waitSeconds(flags.wait) * 1000;
      const recordIds = [...(flags.id ?? []), ...(flags.idsFile ? await readIdsFile(flags.idsFile) : [])];
      if (recordIds.length === 0 && !flags.where?.length) throw new UsageError('Name the records to purge: --id ID (repeat), --ids-file FILE, or --where CONDITION.');
      const report = await withVault(command, async (vault) => {
        const org = await requireOrg(vault, flags.org);
        return purge(
          { store: vault.store, blobs: vault.blobs, actor: 'cli', onProgress: warn },
          { org, objectName: flags.object, recordIds, where: flags.where, match: flags.match, confirmed: Boolean(flags.yes), waitMs, vacuum: flags.vacuum !== false },
        );
      });
      if (!report.confirmed) throw new UsageError(refusal(report, flags));
      printResult(options, { ...report, recordIds: undefined }, () => lines(report));
      if (report.status !== 'Succeeded') process.exitCode = ExitCode.CompletedWithErrors;
    });
}

function refusal(r: PurgeReport, flags: PurgeFlags): string {
  const missing = r.notFound.length ? ` ${r.notFound.length} ID(s) asked for are not in the vault for ${r.objectName}: ${r.notFound.slice(0, 10).join(', ')}${r.notFound.length > 10 ? '…' : ''}.` : '';
  if (r.records === 0) return `Nothing to purge: the vault holds no ${r.objectName} record of ${r.org} that matches.${missing}`;
  return (
    `purge would delete ${r.records} ${r.objectName} record(s) of ${r.org} from the vault forever: ${r.versions} version(s) and ${r.files} file version(s) (${formatBytes(r.fileBytes)}), ` +
    `with their ID mappings and search entries${dataLakeNote(r)}. Nothing was deleted.${missing} To delete them, run the same command with --yes` +
    `${flags.where?.length ? ' (the records are chosen again then: check the count)' : ''}.`
  );
}

function dataLakeNote(r: PurgeReport): string {
  return r.dataLakeLocation === null ? '' : `, and their rows in the org's data lake (${r.dataLakeLocation})`;
}

function lines(r: PurgeReport): string[] {
  const d = r.removed;
  return [
    `Purged ${r.records} ${r.objectName} record(s) of ${r.org} from the vault (run ${r.runId ?? '—'}): ${r.status}`,
    ...(d
      ? [
          `  ${d.versions} version(s), ${d.files} file version(s) (${r.blobs.deleted} body file(s) deleted, ${formatBytes(r.blobs.bytes)}), ${d.idMappings} ID mapping(s), ${d.searchEntries} search entr(ies), ${d.archiveMarks} archive mark(s)`,
          `  ${d.messagesErased} restore or archive message(s) that could quote their values erased; the restore journal keeps their IDs, which hold no field values`,
        ]
      : []),
    ...(r.dataLake ? [`  data lake ${r.dataLake.location}: ${r.dataLake.rows} row(s) taken out, ${r.dataLake.filesRewritten} file(s) rewritten, ${r.dataLake.filesRemoved} removed (of ${r.dataLake.filesChecked} checked)`] : []),
    ...(r.repack ? [`  packs rewritten so that their sealed bytes are gone: ${r.repack.packsRewritten + r.repack.packsDeleted}`] : []),
    ...(r.catalog ? [`  catalog ${r.catalog.vacuumed ? 'rewritten' : 'compacted'}: ${formatBytes(r.catalog.before.bytes)} → ${formatBytes(r.catalog.after.bytes)}`] : []),
    ...(r.notFound.length ? [`  ${r.notFound.length} ID(s) asked for were not in the vault: ${r.notFound.slice(0, 10).join(', ')}${r.notFound.length > 10 ? '…' : ''}`] : []),
    ...(r.message ? [r.message] : []),
    'The audit log records that this purge happened and how many records it removed, not which.',
  ];
}
