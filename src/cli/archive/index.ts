/**
 * `orgvault archive --org NAME --object X --where "CONDITION"`: frees Salesforce storage by
 * deleting records (with their children, `--children`) that are safely in the vault: each must be
 * backed up as it is now, with its files. `--dry-run` shows what would go and what would be
 * refused and deletes nothing; deleting needs `--yes`. A refused record holds the whole archive
 * back unless `--skip-unsafe`. Exit 0 when every record went, 1 when some were refused, skipped or
 * failed (the report says why), 2 on bad usage.
 */
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { MAX_CHILD_LEVELS, archiveCsv, resumeArchive, runArchive } from '../../archive/index.ts';
import type { ArchiveEvent, ArchiveReport } from '../../archive/index.ts';
import { ExitCode, UsageError } from '../../core/errors.ts';
import { table } from '../format.ts';
import { globalOptions, printResult } from '../vault-options.ts';
import { connectToOrg, requireOrg, withVault } from '../vault-session.ts';

interface ArchiveFlags {
  org?: string;
  object?: string;
  where?: string;
  limit?: string;
  children?: boolean | string;
  dryRun?: boolean;
  yes?: boolean;
  skipUnsafe?: boolean;
  report?: string;
  resume?: string;
}

export function registerArchiveCommand(program: Command): void {
  program
    .command('archive')
    .description('free Salesforce storage: delete records (and their children) that are safely in the vault; they stay restorable. --dry-run deletes nothing')
    .option('--org <name>', 'the org (optional when the vault holds one org)')
    .option('--object <name>', 'the object, by API name (e.g. Case)')
    .option('--where <condition>', 'which records, as a SOQL condition, e.g. "ClosedDate < LAST_N_YEARS:2 AND IsClosed = true"')
    .option('--limit <n>', 'archive at most this many records of the object (oldest IDs first)')
    .option('--children [objects]', "archive each record's children with it: those Salesforce deletes with it (master-detail, cascades); name objects (commas) to also archive their lookup children, e.g. --children Case,Task")
    .option('--dry-run', 'show what would be deleted and what would be refused, and delete nothing')
    .option('--yes', 'delete: required, as records leave Salesforce (they stay in the vault and its Recycle Bin for 15 days)')
    .option('--skip-unsafe', 'delete the records that are safe even when others are refused (by default a refusal holds the whole archive back)')
    .option('--report <file>', 'write the per-record report to this file (.json, else CSV)')
    .option('--resume <runId>', 'finish an interrupted archive (with --yes)')
    .action(async (flags: ArchiveFlags, command: Command) => {
      const options = globalOptions(command);
      const { children, childObjects } = childrenOf(flags.children);
      if (flags.resume) {
        if (flags.object || flags.where || flags.limit || flags.children !== undefined || flags.skipUnsafe || flags.dryRun) {
          throw new UsageError('--resume continues an archive with the options it was started with: give only --org, --resume RUN_ID and --yes.');
        }
      } else {
        if (!flags.object) throw new UsageError('Name the object to archive with --object NAME (or resume an archive with --resume RUN_ID).');
        if (flags.where === undefined || flags.where.trim() === '') {
          throw new UsageError('Give the records to archive as a SOQL condition with --where, e.g. --where "CreatedDate < LAST_N_YEARS:3". To archive every record, say so: --where "Id != null".');
        }
      }
      const limit = flags.limit === undefined ? undefined : limitOf(flags.limit);
      if (!flags.dryRun && !flags.yes) {
        throw new UsageError('archive deletes records from Salesforce: preview with --dry-run first, then run again with --yes to delete them.');
      }
      const report = await withVault(command, async (vault) => {
        const org = await requireOrg(vault, flags.org);
        const client = await connectToOrg(vault, org);
        const deps = { store: vault.store, blobs: vault.blobs, client, onEvent: progress() };
        if (flags.resume) return resumeArchive(deps, flags.resume, org, 'cli');
        return runArchive(deps, {
          org,
          objectName: flags.object!,
          where: flags.where!,
          limit,
          children,
          childObjects,
          dryRun: flags.dryRun === true,
          skipUnsafe: flags.skipUnsafe === true,
          actor: 'cli',
        });
      });
      if (flags.report) await writeReport(flags.report, report);
      printResult(options, report, () => reportLines(report, flags.report));
      process.exitCode = report.status === 'Succeeded' ? ExitCode.Success : ExitCode.CompletedWithErrors;
    });
}

function childrenOf(value: boolean | string | undefined): { children: boolean; childObjects: string[] } {
  if (value === undefined || value === false) return { children: false, childObjects: [] };
  if (value === true) return { children: true, childObjects: [] };
  const childObjects = value.split(',').map((v) => v.trim()).filter(Boolean);
  for (const name of childObjects) if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(name)) throw new UsageError(`--children ${value}: "${name}" is not an object API name; give object names separated by commas, e.g. --children Task,Invoice__c.`);
  return { children: true, childObjects };
}

function limitOf(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isInteger(n) || n < 1) throw new UsageError(`--limit ${value} is not a positive whole number of records.`);
  return n;
}

function progress(): (event: ArchiveEvent) => void {
  const tty = process.stderr.isTTY;
  let last = 0;
  return (event) => {
    if (event.type === 'checked') {
      process.stderr.write(`Archive ${event.runId}: ${event.selected} record(s) selected, ${event.records} with their children; ${event.refused} refused, ${event.deleting} to delete\n`);
      return;
    }
    const now = Date.now();
    if (event.done < event.total && now - last < 1000) return;
    last = now;
    process.stderr.write(`${tty ? '\r' : ''}${event.done}/${event.total} records deleted or settled (${event.objectName})${tty ? '' : '\n'}`);
    if (tty && event.done === event.total) process.stderr.write('\n');
  };
}

async function writeReport(file: string, report: ArchiveReport): Promise<void> {
  const body = file.toLowerCase().endsWith('.json') ? `${JSON.stringify(report, null, 2)}\n` : archiveCsv(report.results);
  try {
    await writeFile(file, body, { mode: 0o600 });
  } catch (error) {
    throw new UsageError(`Cannot write the report to ${file}: ${(error as Error).message}. The archive itself is done; its report is also in \`orgvault logs ${report.runId}\`.`, { cause: error });
  }
}

function reportLines(report: ArchiveReport, reportFile: string | undefined): string[] {
  const lines = [`${report.dryRun ? 'Dry run (nothing deleted)' : 'Archive'} ${report.runId} of ${report.object}: ${report.status}`, report.message];
  if (report.results.length === 0) return [...lines, `No ${report.object} record matches the condition: nothing to archive.`];
  lines.push(...table(['Object', 'Deleted', 'Ready', 'Refused', 'Skipped', 'Failed'], report.objects.map((o) => [o.object, ...(['Deleted', 'Ready', 'Refused', 'Skipped', 'Failed'] as const).map((k) => String(o.counts[k]))])));
  const problems = report.results.filter((r) => r.outcome === 'Refused' || r.outcome === 'Failed');
  const shown = problems.slice(0, 50);
  if (shown.length) {
    lines.push('', ...table(['Object', 'Record ID', 'Outcome', 'Status code', 'Why'], shown.map((r) => [r.object, r.recordId, r.outcome, r.statusCode ?? '', r.message ?? ''])));
    if (problems.length > shown.length) lines.push(`… and ${problems.length - shown.length} more${reportFile ? ` in ${reportFile}` : ' (--report FILE or --json for all)'}.`);
    const fixes = new Map(shown.filter((r) => r.statusCode).map((r) => [r.statusCode!, r]));
    for (const [code, r] of fixes) lines.push(`${code}: ${r.cause ?? ''} Fix: ${r.fix ?? ''}`);
  }
  if (report.unchecked.length) lines.push('', `Not checked (the API user cannot query them; Salesforce deletes their records with their parents): ${report.unchecked.join(', ')}.`);
  if (report.dryRun) lines.push('', report.counts.Ready > 0 ? 'Run again with --yes instead of --dry-run to delete them.' : 'Nothing would be deleted.');
  else if (report.counts.Deleted > 0) {
    lines.push(
      '',
      `The deleted records are marked archived in the vault and stay in Salesforce's Recycle Bin for 15 days. The next backup records their deletion.`,
      `To bring them back: orgvault restore --org ${report.org} --object ${report.object} --archived ${report.runId} --children ${MAX_CHILD_LEVELS}`,
    );
  }
  if (reportFile) lines.push(`Report written to ${reportFile}.`);
  return lines;
}
