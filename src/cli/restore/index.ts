/**
 * `orgvault restore --org NAME --object X [filters]`: restores backed-up records to the org (or,
 * with --target-org, into another one), with their parents and children. `--list` shows what
 * would be restored, nested under parents; `--dry-run` checks the plan against the org and writes
 * nothing; `--resume RUN_ID` finishes an interrupted restore. Exit 0 when every record is
 * restored or rightly skipped, 1 when some failed (the report says why), 2 on bad usage.
 */
import { createHmac } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { Option } from 'commander';
import { ExitCode, UsageError } from '../../core/errors.ts';
import { CHANGE_TYPES } from '../../core/vault.ts';
import { archivedIdsFor } from '../../archive/index.ts';
import { gatherRelated, reportCsv, resumeRestore, runRestore, selectVersions } from '../../restore/index.ts';
import type { RestoreEvent, RestoreReport } from '../../restore/index.ts';
import type { Vault } from '../../store/vault.ts';
import { table } from '../format.ts';
import { listOption as collect, repeatOption as repeat } from '../option-lists.ts';
import { globalOptions, printResult } from '../vault-options.ts';
import { connectToOrg, requireOrg, vaultNotifier, withVault } from '../vault-session.ts';
import { restoreFlagsAt } from '../recovery-point/flags.ts';
import { levels, restoreRequestOf, selectionOf } from '../../restore/request.ts';
import type { RestoreFlags } from '../../restore/request.ts';
import { readIdsFile } from '../ids-file.ts';

/** The command's flags: the request's, and the file of IDs this shell reads into them. */
type RestoreCommandFlags = RestoreFlags & { idsFile?: string };

export function registerRestoreCommand(program: Command): void {
  program
    .command('restore')
    .description('restore backed-up records (with parents and children) to the org or another org; --list and --dry-run change nothing')
    .option('--org <name>', 'the backed-up org (optional when the vault holds one org)')
    .option('--object <name>', 'the object, by API name')
    .option('--change-type <types>', `only versions that were ${CHANGE_TYPES.join(', ')} (repeat, or commas)`, collect)
    .option('--from <time>', 'only versions at or after this time (ISO-8601)')
    .option('--to <time>', 'only versions at or before this time (ISO-8601)')
    .addOption(new Option('--date-by <which>', 'what --from and --to apply to: the activity date (SystemModstamp) or the backup date').choices(['activity', 'backup']).default('activity'))
    .option('--id <ids>', 'only these record IDs (repeat, or commas)', collect)
    .option('--ids-file <file>', 'only the record IDs in this file (one per line, or CSV with an Id column)')
    .option('--modified-by <userId>', 'only versions last modified by this user')
    .option('--where <condition>', 'a condition on field values, e.g. "Industry = Banking" (repeat; numbered 1, 2… for --match)', repeat)
    .option('--match <logic>', 'how conditions combine: all (default), any, or logic such as "1 AND (2 OR 3)"')
    .option('--as-of <time>', 'restore each selected record as it was at this time (default: its latest matching version)')
    .option('--recovery-point <id>', 'restore as of this recovery point (`orgvault recovery-point list`): its time, and its object unless --object names one')
    .option('--pick <id=time>', 'restore this record as its version at exactly this SystemModstamp, whatever --as-of says (repeat)', repeat)
    .option('--parents <n>', 'also restore deleted parents up to N levels up', '0')
    .option('--children <m>', 'also restore children down to M levels (master-detail and lookups)', '0')
    .option('--list', 'show the records and versions that would be restored, and change nothing')
    .option('--dry-run', 'check the plan against the org (permissions, fields, types, required values, picklists, owners, parents) and write nothing')
    .option('--overwrite-newer', 'also overwrite records changed in the org after the version restored')
    .option('--write-nulls', 'clear fields the backed-up version has empty (default: leave them)')
    .option('--set <field=value>', 'write this value (or template with {Field} and {originalId}); Object.Field for related objects (repeat)', repeat)
    .option('--clear <field>', 'write null to this field (repeat)', repeat)
    .option('--inactive-owner <fail|userId>', 'records owned by inactive users: fail them, or give them to this user', 'fail')
    .option('--record-type <fail|default|id>', 'record types the org no longer offers: fail, use the default, or use this one', 'fail')
    .option('--allow-duplicates', 'save records a duplicate rule would block (Sforce-Duplicate-Rule-Header)')
    .option('--bulk-threshold <n>', 'use Bulk API 2.0 ingest from this many records of one object on (below it, sObject Collections)', '2000')
    .option('--match-on <object=field>', 'find existing records by this alternate key (an external ID) before creating (repeat)', repeat)
    .option('--target-org <name>', 'restore into this other connected org (a sandbox) instead')
    .option('--mask <object.field=kind>', 'anonymise this field consistently: first-name, last-name, name, email, phone, company, street, text, null, or a template with {hash} (repeat)', repeat)
    .option('--report <file>', 'write the per-record report to this file (.json, else CSV)')
    .option('--archived [runId]', 'only records an archive deleted (by this archive run, or by any) and not restored since')
    .option('--resume <runId>', 'finish an interrupted restore')
    .action(async (flags: RestoreCommandFlags, command: Command) => {
      const options = globalOptions(command);
      if (flags.list && flags.dryRun) throw new UsageError('--list and --dry-run are two previews: give one of them.');
      const parents = levels(flags.parents, '--parents');
      const children = levels(flags.children, '--children');
      if (flags.list) {
        const listing = await withVault(command, async (vault) => list(vault, await withArchived(vault, flags), parents, children), { readonly: true });
        printResult(options, listing, () => listLines(listing));
        return;
      }
      const report = await withVault(command, async (vault) => {
        const org = await requireOrg(vault, flags.org);
        const target = flags.targetOrg ? await requireOrg(vault, flags.targetOrg) : undefined;
        const client = await connectToOrg(vault, target ?? org);
        const maskKey = createHmac('sha256', vault.keyring.indexing).update('orgvault/restore-mask').digest('hex');
        const deps = { store: vault.store, blobs: vault.blobs, client, onEvent: progress(), notifier: vaultNotifier(vault) };
        if (flags.resume) return resumeRestore(deps, flags.resume, { org, target, maskKey });
        return runRestore(deps, await restoreRequestOf(await withArchived(vault, flags), { org, target, maskKey }));
      });
      if (flags.report) await writeReport(flags.report, report);
      printResult(options, report, () => reportLines(report, flags.report));
      process.exitCode = report.status === 'Succeeded' ? ExitCode.Success : ExitCode.CompletedWithErrors;
    });
}

/**
 * `--recovery-point ID`: its object and time become --object and --as-of. `--archived [RUN]`: the
 * IDs of the archived records become the selection's IDs. `--ids-file FILE`: its IDs join --id.
 */
async function withArchived(vault: Vault, given: RestoreCommandFlags): Promise<RestoreFlags> {
  const { idsFile, ...rest } = given;
  const flags = rest.recoveryPoint === undefined ? rest : await restoreFlagsAt(vault.store, await requireOrg(vault, rest.org), rest.recoveryPoint, rest);
  if (flags.archived === undefined) return idsFile === undefined ? flags : { ...flags, id: [...(flags.id ?? []), ...(await readIdsFile(idsFile))] };
  if (!flags.object) throw new UsageError('Name the object whose archived records to restore with --object NAME.');
  if (flags.id?.length || idsFile) throw new UsageError('--archived selects the record IDs itself: give either --archived or --id/--ids-file.');
  const org = await requireOrg(vault, flags.org);
  return { ...flags, id: await archivedIdsFor(vault.store, org.orgId, flags.object, typeof flags.archived === 'string' ? flags.archived : undefined) };
}

interface ListedRecord {
  recordId: string;
  object: string;
  role: 'selected' | 'parent' | 'child';
  via: string | null;
  viaField: string | null;
  systemModstamp: string;
  changeType: string;
  isDeleted: boolean;
  capturedAt: string;
  runId: string;
  name: string | null;
  fields: Record<string, unknown>;
}

interface Listing {
  object: string;
  count: number;
  records: ListedRecord[];
  related: ListedRecord[];
}

async function list(vault: Vault, flags: RestoreFlags, parents: number, children: number): Promise<Listing> {
  const org = await requireOrg(vault, flags.org);
  const selection = await selectionOf(flags);
  const selected = await selectVersions(vault.store, { ...selection, orgId: org.orgId });
  const items = await gatherRelated(vault.store, org.orgId, selection.objectName, selected, {
    parents,
    children,
    asOf: selection.version?.kind === 'asOf' ? selection.version.at : undefined,
  });
  const iso = (ms: number): string => new Date(ms).toISOString();
  const listed = items.map(
    (i): ListedRecord => ({
      recordId: i.originalId,
      object: i.objectName,
      role: i.role,
      via: i.via,
      viaField: i.viaField,
      systemModstamp: iso(i.version.systemModstamp),
      changeType: i.version.changeType,
      isDeleted: i.version.isDeleted,
      capturedAt: iso(i.version.capturedAt),
      runId: i.version.runId,
      name: typeof i.version.fields.Name === 'string' ? i.version.fields.Name : typeof i.version.fields.Subject === 'string' ? i.version.fields.Subject : null,
      fields: i.version.fields,
    }),
  );
  const records = listed.filter((r) => r.role === 'selected');
  return { object: selection.objectName, count: records.length, records, related: listed.filter((r) => r.role !== 'selected') };
}

/** Selected records with their parents above and children nested below them. */
function listLines(listing: Listing): string[] {
  const deleted = listing.records.filter((r) => r.isDeleted).length;
  const lines = [`${listing.count} ${listing.object} record(s) would be restored${deleted ? ` (${deleted} deleted in that version)` : ''}${listing.related.length ? `, with ${listing.related.length} related record(s)` : ''}:`];
  const under = new Map<string, ListedRecord[]>();
  for (const r of listing.related) under.set(r.via!, [...(under.get(r.via!) ?? []), r]);
  const rows: string[][] = [];
  const add = (r: ListedRecord, depth: number): void => {
    const marker = depth === 0 ? '' : `${'  '.repeat(depth - 1)}${r.role === 'parent' ? '↑ ' : '└ '}`;
    rows.push([`${marker}${r.recordId}`, r.object, r.systemModstamp, r.changeType, r.isDeleted ? 'yes' : '', r.name ?? '', r.viaField ?? '']);
    for (const next of under.get(r.recordId) ?? []) add(next, depth + 1);
  };
  for (const r of listing.records) add(r, 0);
  return [...lines, ...table(['Record ID', 'Object', 'Version (SystemModstamp)', 'Change', 'Deleted', 'Name', 'Via'], rows)];
}

function progress(): (event: RestoreEvent) => void {
  const tty = process.stderr.isTTY;
  let last = 0;
  return (event) => {
    if (event.type === 'planned') {
      const c = event.counts;
      process.stderr.write(`Restore ${event.runId}: ${['create', 'update', 'undelete', 'skip', 'fail'].map((k) => `${c[k] ?? 0} to ${k}`).join(', ')}\n`);
      return;
    }
    const now = Date.now();
    if (event.done < event.total && now - last < 1000) return;
    last = now;
    process.stderr.write(`${tty ? '\r' : ''}${event.done}/${event.total} records (${event.objectName})${tty ? '' : '\n'}`);
    if (tty && event.done === event.total) process.stderr.write('\n');
  };
}

async function writeReport(file: string, report: RestoreReport): Promise<void> {
  const body = file.toLowerCase().endsWith('.json') ? `${JSON.stringify(report, null, 2)}\n` : reportCsv(report.results);
  try {
    await writeFile(file, body, { mode: 0o600 });
  } catch (error) {
    throw new UsageError(`Cannot write the report to ${file}: ${(error as Error).message}. The restore itself is done; its report is also in \`orgvault logs ${report.runId}\`.`, { cause: error });
  }
}

function reportLines(report: RestoreReport, reportFile: string | undefined): string[] {
  const c = report.counts;
  const lines = [
    `${report.dryRun ? 'Dry run (nothing written)' : 'Restore'} ${report.runId}: ${report.status}`,
    `${c.Created} created, ${c.Updated} updated, ${c.Undeleted} undeleted, ${c.Skipped} skipped, ${c.Failed} failed${report.dryRun ? ' (predicted)' : ''}`,
  ];
  const shown = [...report.results.filter((r) => r.outcome === 'Failed'), ...report.results.filter((r) => r.outcome !== 'Failed')].slice(0, 50);
  lines.push(...table(['Object', 'Original ID', 'New ID', 'Outcome', 'Status code', 'Message'], shown.map((r) => [r.object, r.originalId, r.newId ?? '', r.outcome, r.statusCode ?? '', r.message ?? ''])));
  if (report.results.length > shown.length) lines.push(`… and ${report.results.length - shown.length} more${reportFile ? ` in ${reportFile}` : ' (--report FILE or --json for all)'}.`);
  lines.push(...driftLines(report));
  const fixes = new Map(report.results.filter((r) => r.outcome === 'Failed' && r.statusCode).map((r) => [r.statusCode!, r]));
  for (const [code, r] of fixes) lines.push(`${code}: ${r.cause ?? ''} Fix: ${r.fix ?? ''}`);
  if (reportFile) lines.push(`Report written to ${reportFile}.`);
  return lines;
}

const DRIFT_ACTIONS: Record<RestoreReport['schemaDrift'][number]['fields'][number]['action'], string> = {
  leftOut: 'left out',
  converted: 'converted',
  refused: 'refused',
  writtenAsIs: 'written as is',
};

/** Fields of the backup that no longer fit the org's schema, per object, and what the restore does. */
function driftLines(report: RestoreReport): string[] {
  const lines: string[] = [];
  for (const object of report.schemaDrift ?? []) {
    const captured = object.schemas.map((s) => (s.validFrom === null ? 'an unknown schema' : `the schema of ${new Date(s.validFrom).toISOString()}`)).join(', ');
    lines.push(`Schema changes since the backup of ${object.object} (captured under ${captured}):`);
    lines.push(
      ...table(
        ['Field', 'Change', 'Backed up as', 'In the org', 'Records', 'Action'],
        object.fields.map((f) => [f.field, f.change, f.backedUpType, f.orgType ?? '(gone)', String(f.records), DRIFT_ACTIONS[f.action]]),
      ),
    );
    for (const f of object.fields) lines.push(`  ${f.message}`);
  }
  return lines;
}
