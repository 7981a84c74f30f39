/**
 * `orgvault restore --org NAME --object X [filters] --list`: the records and versions a restore
 * would bring back, chosen with Salesforce Backup's filters. Writing them back to the org is not
 * in this release: without --list the command says so and changes nothing.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { Option } from 'commander';
import { UsageError } from '../../core/errors.ts';
import { parseTime } from '../../core/time.ts';
import { CHANGE_TYPES, isRecordId } from '../../core/vault.ts';
import type { ChangeType } from '../../core/vault.ts';
import { selectVersions } from '../../restore/index.ts';
import type { SelectionRequest } from '../../restore/index.ts';
import { table } from '../format.ts';
import { listOption as collect, repeatOption as repeat } from '../option-lists.ts';
import { globalOptions, printResult } from '../vault-options.ts';
import { requireOrg, withVault } from '../vault-session.ts';

interface RestoreFlags {
  org?: string;
  object: string;
  changeType?: string[];
  from?: string;
  to?: string;
  dateBy: 'activity' | 'backup';
  id?: string[];
  idsFile?: string;
  modifiedBy?: string;
  where?: string[];
  match?: string;
  asOf?: string;
  pick?: string[];
  list?: boolean;
}


export function registerRestoreCommand(program: Command): void {
  program
    .command('restore')
    .description('choose backed-up records to restore with filters; --list shows the records and versions')
    .option('--org <name>', 'the org (optional when the vault holds one org)')
    .requiredOption('--object <name>', 'the object, by API name')
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
    .option('--pick <id=time>', 'restore this record as its version at exactly this SystemModstamp (repeat)', repeat)
    .option('--list', 'show the records and versions that would be restored, and change nothing')
    .action(async (flags: RestoreFlags, command: Command) => {
      const options = globalOptions(command);
      if (!flags.list) {
        throw new UsageError('Writing restored records back to the org is not in this release of orgvault. Run the same command with --list to see what would be restored; nothing was changed.');
      }
      if (flags.asOf && flags.pick?.length) throw new UsageError('--as-of and --pick both choose the version: give one of them.');
      const recordIds = [...(flags.id ?? []), ...(flags.idsFile ? await readIds(flags.idsFile) : [])];
      for (const id of recordIds) if (!isRecordId(id)) throw new UsageError(`"${id}" is not a Salesforce record ID (15 or 18 letters and digits).`);
      const changeTypes = (flags.changeType ?? []).map((t) => {
        if (!CHANGE_TYPES.includes(t as ChangeType)) throw new UsageError(`--change-type ${t} is not one of ${CHANGE_TYPES.join(', ')}.`);
        return t as ChangeType;
      });
      const version: SelectionRequest['version'] = flags.asOf
        ? { kind: 'asOf', at: parseTime(flags.asOf, '--as-of') }
        : flags.pick?.length
          ? { kind: 'chosen', systemModstamps: new Map(flags.pick.map(parsePick)) }
          : { kind: 'latest' };
      const result = await withVault(
        command,
        async (vault) => {
          const org = await requireOrg(vault, flags.org);
          return selectVersions(vault.store, {
            orgId: org.orgId,
            objectName: flags.object,
            changeTypes: changeTypes.length ? changeTypes : undefined,
            from: flags.from === undefined ? undefined : parseTime(flags.from, '--from'),
            to: flags.to === undefined ? undefined : parseTime(flags.to, '--to'),
            dateBy: flags.dateBy,
            recordIds: recordIds.length ? recordIds : undefined,
            lastModifiedById: flags.modifiedBy,
            where: flags.where,
            match: flags.match,
            version,
          });
        },
        { readonly: true },
      );
      const iso = (ms: number): string => new Date(ms).toISOString();
      const records = result.map(({ recordId, version: v }) => ({
        recordId,
        systemModstamp: iso(v.systemModstamp),
        changeType: v.changeType,
        isDeleted: v.isDeleted,
        capturedAt: iso(v.capturedAt),
        runId: v.runId,
        name: typeof v.fields.Name === 'string' ? v.fields.Name : null,
        fields: v.fields,
      }));
      printResult(options, { object: flags.object, count: records.length, records }, () => [
        `${records.length} ${flags.object} record(s) would be restored${records.some((r) => r.isDeleted) ? ` (${records.filter((r) => r.isDeleted).length} deleted in that version)` : ''}:`,
        ...table(
          ['Record ID', 'Version (SystemModstamp)', 'Change', 'Deleted', 'Name'],
          records.map((r) => [r.recordId, r.systemModstamp, r.changeType, r.isDeleted ? 'yes' : '', r.name ?? '']),
        ),
      ]);
    });
}

function parsePick(text: string): [string, number] {
  const [id, time] = text.split('=', 2);
  if (!id || !time || !isRecordId(id)) throw new UsageError(`--pick ${text} is not ID=TIME, e.g. --pick 001000000000001AAA=2026-11-01T10:00:00.000Z.`);
  return [id, parseTime(time, '--pick')];
}

async function readIds(file: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`Cannot read --ids-file ${file}: ${(error as Error).message}`, { cause: error });
  }
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  // A CSV export: the Id column; otherwise one ID a line.
  const header = lines[0]?.split(',').map((c) => c.replace(/^"|"$/g, '').trim().toLowerCase());
  const column = header?.indexOf('id') ?? -1;
  if (column >= 0) return lines.slice(1).map((l) => l.split(',')[column]!.replace(/^"|"$/g, '').trim()).filter(Boolean);
  return lines;
}
