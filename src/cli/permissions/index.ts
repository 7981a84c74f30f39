/**
 * `orgvault permissions`: the permission check (AvePoint's permission report) of an org's API
 * user, as a table, JSON (`--json`) or CSV (`--csv FILE`), recorded in the job log; and
 * `set-file`, the permission set that grants what orgvault needs, ready for `sf project deploy
 * start`. A check that finds a gap exits 1 (completed with errors), so that scripts notice.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { ExitCode, UsageError } from '../../core/errors.ts';
import type { OrgRegistration } from '../../core/vault.ts';
import { latestPermissionReport, NEEDS_ORG_SETTING, PERMISSION_SET_NAME, permissionSetProject, reportCsv, runPermissionCheck, USER_PERMISSION_REQUIREMENTS } from '../../permissions/index.ts';
import type { PermissionReport } from '../../permissions/index.ts';
import type { Vault } from '../../store/vault.ts';
import { table } from '../format.ts';
import { globalOptions, printResult } from '../vault-options.ts';
import { connectToOrg, requireOrg, withVault } from '../vault-session.ts';

interface CheckFlags {
  org?: string;
  csv?: string;
}

interface SetFileFlags {
  org?: string;
  out?: string;
  last?: boolean;
  without?: string;
}

/** `--without A,B`: user permission names the set leaves out, each one orgvault knows. */
export function parseWithout(text: string | undefined): string[] {
  if (text === undefined) return [];
  const names = text.split(',').map((n) => n.trim()).filter(Boolean);
  const known = USER_PERMISSION_REQUIREMENTS.map((p) => p.name);
  for (const name of names) {
    if (!known.some((k) => k.toLowerCase() === name.toLowerCase())) throw new UsageError(`--without ${name}: not a user permission the set grants. They are ${known.join(', ')}.`);
  }
  if (names.length === 0) throw new UsageError(`--without needs permission names, e.g. --without CreateAuditFields,UpdateWithInactiveOwner.`);
  return names;
}

export function registerPermissionsCommand(program: Command): void {
  const permissions = program.command('permissions').description("check the API user's object, field and user permissions that backup and restore need");
  permissions
    .command('check')
    .description('report which objects and fields the API user can read and which user permissions it is missing (recorded in the job log)')
    .option('--org <name>', 'the org (optional when the vault holds one org)')
    .option('--csv <file>', 'also write the report as CSV to this file')
    .action(async (flags: CheckFlags, command: Command) => {
      const options = globalOptions(command);
      if (flags.csv !== undefined && flags.csv.trim() === '') throw new UsageError('--csv needs a file name, e.g. --csv permissions.csv.');
      await withVault(command, async (vault) => {
        const org = await requireOrg(vault, flags.org);
        const result = await check(vault, org);
        if (flags.csv !== undefined) await writeFile(resolve(flags.csv), reportCsv(result.report));
        printResult(options, { runId: result.runId, status: result.status, ...result.report }, () => [
          ...reportLines(result.report),
          '',
          `Permission check run ${result.runId}: ${result.status}.${flags.csv !== undefined ? ` CSV written to ${resolve(flags.csv)}.` : ''}`,
        ]);
        if (result.status !== 'Succeeded') process.exitCode = ExitCode.CompletedWithErrors;
      });
    });
  permissions
    .command('set-file')
    .description(`write a permission set (${PERMISSION_SET_NAME}) granting what orgvault needs, as a project for \`sf project deploy start\``)
    .option('--org <name>', 'the org (optional when the vault holds one org)')
    .requiredOption('--out <dir>', 'the folder to write the project to (created; existing files of the same names are replaced)')
    .option('--last', 'use the last recorded check instead of running one')
    .option('--without <names>', 'user permissions to leave out of the set, comma-separated (e.g. CreateAuditFields,UpdateWithInactiveOwner where the org setting that offers them is off)')
    .action(async (flags: SetFileFlags, command: Command) => {
      const options = globalOptions(command);
      if (!flags.out || flags.out.trim() === '') throw new UsageError('--out needs a folder, e.g. --out orgvault-permissions.');
      const out = resolve(flags.out);
      const without = parseWithout(flags.without);
      await withVault(command, async (vault) => {
        const org = await requireOrg(vault, flags.org);
        let report: PermissionReport;
        if (flags.last) {
          const latest = await latestPermissionReport(vault.store, org.orgId);
          if (!latest) throw new UsageError(`No permission check of ${org.name} is recorded yet: run \`orgvault permissions check --org ${org.name}\`, or leave out --last.`);
          report = latest.report;
        } else {
          report = (await check(vault, org)).report;
        }
        const files = permissionSetProject(report, '62.0', { without });
        const left = new Set(without.map((n) => n.toLowerCase()));
        // Either permission granted shows the setting on; otherwise the admin may have to turn it on.
        const settingOn = report.userPermissions.some((p) => p.name in NEEDS_ORG_SETTING && p.status === 'granted');
        const settings = settingOn ? [] : [...new Set(Object.entries(NEEDS_ORG_SETTING).filter(([name]) => !left.has(name.toLowerCase())).map(([, setting]) => setting))];
        for (const file of files) {
          const path = join(out, ...file.path.split('/'));
          await mkdir(dirname(path), { recursive: true });
          await writeFile(path, file.content);
        }
        const objects = report.objects.filter((o) => !o.read && o.unprotected).length;
        printResult(options, { out, files: files.map((f) => join(out, ...f.path.split('/'))), objects, fields: report.fields.length, username: report.user.username }, () => [
          `Wrote the permission set ${PERMISSION_SET_NAME} to ${out}: every user permission orgvault uses, Read and View All on ${objects} object(s), Read on ${report.fields.length} field(s).`,
          'Deploy it and assign it to the API user:',
          `  cd ${out}`,
          '  sf project deploy start --manifest manifest/package.xml --target-org YOUR_ORG',
          `  sf org assign permset --name ${PERMISSION_SET_NAME} --on-behalf-of ${report.user.username} --target-org YOUR_ORG`,
          `Then run \`orgvault permissions check --org ${org.name}\` again.`,
          ...settings.map((setting) => `The set grants permissions Salesforce offers only with the org setting ${setting}: turn it on first, or write the set again with --without CreateAuditFields,UpdateWithInactiveOwner.`),
        ]);
      });
    });
}

function check(vault: Vault, org: OrgRegistration): ReturnType<typeof runPermissionCheck> {
  return runPermissionCheck({ store: vault.store, connect: () => connectToOrg(vault, org) }, org);
}

const MARK: Record<string, string> = { granted: 'granted', missing: 'MISSING', unknown: 'unknown' };

/** The report as text: user permissions, then the gaps, then the sources. */
export function reportLines(report: PermissionReport): string[] {
  const s = report.summary;
  const user = report.user;
  const lines = [
    `API user ${user.username} (${user.id})${user.profileName ? `, profile ${user.profileName}` : ''}${user.permissionSets.length ? `, permission sets ${user.permissionSets.join(', ')}` : ''}`,
    '',
    'User permissions',
    ...table(
      ['Permission', 'Status', 'Need', 'For', 'Without it'],
      report.userPermissions.map((p) => [p.label, MARK[p.status]!, p.need, p.neededFor, p.affects]),
    ),
    '',
    `Objects: ${s.objectsReadable} readable, ${s.objectsUnreadable} not readable, ${s.objectsUnprotected} not protected.`,
  ];
  const unprotected = report.objects.filter((o) => o.unprotected);
  if (unprotected.length) {
    lines.push(...table(['Object', 'Access', 'In the vault', 'Why'], unprotected.map((o) => [o.object, o.read ? 'shared records only' : 'none', o.vaultStatus ?? '-', o.note ?? ''])));
  }
  const fields = report.fields.filter((f) => f.objectReadable);
  lines.push('', `Fields the API user cannot read: ${fields.length}.`);
  if (fields.length) lines.push(...table(['Object', 'Field', 'Backed up before'], fields.map((f) => [f.object, f.field, f.backedUpBefore ? 'yes' : 'no'])));
  const notRead = report.sources.filter((x) => x.status !== 'read');
  if (notRead.length) lines.push('', 'Not read:', ...notRead.map((x) => `  ${x.source}: ${x.detail}`));
  if (s.gap) lines.push('', `Gaps found. \`orgvault permissions set-file --org ${report.orgName} --out DIR\` writes a permission set that grants what is missing.`);
  else lines.push('', 'No gap: the API user can read every object and field the vault backs up, with every required permission.');
  return lines;
}
