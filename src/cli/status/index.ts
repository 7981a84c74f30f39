/**
 * `orgvault status [--org NAME]`: the org's status (Backfilling, Behind, Running Continuously,
 * Paused, Error), its totals and the objects table.
 */
import type { Command } from 'commander';
import { statusReport } from '../../backup/index.ts';
import type { StatusReport } from '../../backup/index.ts';
import { isoTime } from '../../core/time.ts';
import { latestPermissionReport } from '../../permissions/index.ts';
import { formatBytes, table } from '../format.ts';
import { globalOptions, printResult } from '../vault-options.ts';
import { requireOrg, withVault } from '../vault-session.ts';

export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description("an org's backup status, totals and objects")
    .option('--org <name>', 'the org (optional when the vault holds one org)')
    .option('--all', 'list excluded and unsupported objects too')
    .action(async (flags: { org?: string; all?: boolean }, command: Command) => {
      const options = globalOptions(command);
      const report = await withVault(
        command,
        async (vault) => {
          const org = await requireOrg(vault, flags.org);
          const check = await latestPermissionReport(vault.store, org.orgId);
          const permissions: PermissionStatus | null = check ? { runId: check.run.runId, checkedAt: isoTime(check.run.endedAt ?? check.run.startedAt), status: check.run.status, summary: check.run.message } : null;
          return { ...(await statusReport(vault.store, org)), permissions };
        },
        { readonly: true },
      );
      printResult(options, report, () => lines(report, Boolean(flags.all)));
    });
}

/** The last permission check, as `status` shows it: a gap means objects or fields are not protected. */
interface PermissionStatus {
  runId: string;
  checkedAt: string;
  status: string;
  summary: string | null;
}

function permissionLine(p: PermissionStatus | null, org: string): string {
  if (!p) return `  permissions: never checked; run \`orgvault permissions check --org ${org}\``;
  const gap = p.status !== 'Succeeded';
  return `  permissions${gap ? ' (GAP)' : ''}: checked ${p.checkedAt}: ${p.summary ?? p.status}${gap ? ` (details: \`orgvault permissions check --org ${org}\`)` : ''}`;
}

function lines(report: StatusReport & { permissions: PermissionStatus | null }, all: boolean): string[] {
  const t = report.totals;
  const shown = all ? report.objects : report.objects.filter((o) => o.status !== 'Excluded' && o.status !== 'Unsupported');
  const hidden = report.objects.length - shown.length;
  return [
    `Org ${report.org} (${report.orgId}): ${report.status}`,
    `  ${t.records.toLocaleString('en-US')} records, ${t.versions.toLocaleString('en-US')} versions, ${t.files.toLocaleString('en-US')} files (${formatBytes(t.fileBytes)}) in ${t.objectsBackedUp} objects`,
    `  covered: ${report.covered.from ?? '—'} to ${report.covered.to ?? '—'}`,
    permissionLine(report.permissions, report.org),
    ...(t.archived ? [`  ${t.archived.toLocaleString('en-US')} records archived (deleted from Salesforce, kept in the vault)`] : []),
    report.lastRun ? `  last run: ${report.lastRun.runId} ${report.lastRun.status} at ${report.lastRun.endedAt ?? report.lastRun.startedAt}${report.lastRun.message ? ` (${report.lastRun.message})` : ''}` : '  no backup yet: run `orgvault backup`',
    '',
    // The Archived column shows once anything was archived.
    ...table(
      ['Object', 'Status', 'Records', 'Versions', ...(t.archived ? ['Archived'] : []), 'Last backup', 'Reason'],
      shown.map((o) => [
        o.name,
        o.status,
        o.recordCount.toLocaleString('en-US'),
        o.versionCount.toLocaleString('en-US'),
        ...(t.archived ? [o.archived ? o.archived.toLocaleString('en-US') : ''] : []),
        o.lastBackupAt ?? '—',
        o.statusCode ? `${o.statusCode}${o.reason ? `: ${o.reason}` : ''}` : '',
      ]),
    ),
    ...(hidden ? ['', `${hidden} excluded or unsupported objects not shown; --all lists them with their reasons.`] : []),
  ];
}
