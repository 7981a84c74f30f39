/**
 * Turning `orgvault restore` flags into a selection and a restore request, with clear errors: the
 * CLI, the HTTP API and the dashboard's wizard all describe a restore in these flags.
 */
import { UsageError } from '../core/errors.ts';
import { parseTime } from '../core/time.ts';
import { CHANGE_TYPES, isRecordId } from '../core/vault.ts';
import type { ChangeType } from '../core/vault.ts';
import type { OrgRegistration } from '../core/vault.ts';
import { parseMaskRule } from './masking.ts';
import type { FieldOverride, PlanOptions } from './plan.ts';
import type { RestoreRequest } from './run-restore.ts';
import type { SelectionRequest } from './select.ts';

export interface RestoreFlags {
  org?: string;
  object?: string;
  /** A recovery point's ID (or name): the CLI turns it into --object and --as-of. */
  recoveryPoint?: string;
  changeType?: string[];
  from?: string;
  to?: string;
  dateBy: 'activity' | 'backup';
  /** Record IDs; the CLI reads `--ids-file` into them, as files are the shell's to read. */
  id?: string[];
  modifiedBy?: string;
  where?: string[];
  match?: string;
  asOf?: string;
  pick?: string[];
  list?: boolean;
  parents: string;
  children: string;
  dryRun?: boolean;
  overwriteNewer?: boolean;
  writeNulls?: boolean;
  set?: string[];
  clear?: string[];
  inactiveOwner: string;
  recordType: string;
  allowDuplicates?: boolean;
  bulkThreshold: string;
  matchOn?: string[];
  targetOrg?: string;
  mask?: string[];
  report?: string;
  resume?: string;
  /** `--archived [RUN]`: the records an archive (that run, or any) deleted; resolved by the shell to IDs. */
  archived?: boolean | string;
}

/**
 * The restore the flags describe, checked: the CLI, the API and the dashboard's wizard all turn
 * their input into these flags. The orgs and the masking key come from the vault.
 */
export async function restoreRequestOf(flags: RestoreFlags, vault: { org: OrgRegistration; target?: OrgRegistration; maskKey: string | null }): Promise<RestoreRequest> {
  return {
    ...vault,
    selection: await selectionOf(flags),
    parents: levels(flags.parents, '--parents'),
    children: levels(flags.children, '--children'),
    dryRun: flags.dryRun === true,
    plan: planOptionsOf(flags),
    allowDuplicates: flags.allowDuplicates === true,
    bulkThreshold: bulkThresholdOf(flags.bulkThreshold),
    matchOn: matchOnOf(flags.matchOn),
  };
}

export async function selectionOf(flags: RestoreFlags): Promise<Omit<SelectionRequest, 'orgId'>> {
  if (!flags.object) throw new UsageError('Name the object to restore with --object NAME (or resume a restore with --resume RUN_ID).');
  const recordIds = flags.id ?? [];
  for (const id of recordIds) if (!isRecordId(id)) throw new UsageError(`"${id}" is not a Salesforce record ID (15 or 18 letters and digits).`);
  const changeTypes = (flags.changeType ?? []).map((t) => {
    if (!CHANGE_TYPES.includes(t as ChangeType)) throw new UsageError(`--change-type ${t} is not one of ${CHANGE_TYPES.join(', ')}.`);
    return t as ChangeType;
  });
  // --pick chooses the version of the records it names; --as-of, or else the latest, the others'.
  const asOf = flags.asOf ? parseTime(flags.asOf, '--as-of') : undefined;
  const version: SelectionRequest['version'] = flags.pick?.length
    ? { kind: 'chosen', systemModstamps: new Map(flags.pick.map(parsePick)), defaultAt: asOf }
    : asOf !== undefined
      ? { kind: 'asOf', at: asOf }
      : { kind: 'latest' };
  return {
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
  };
}

export function levels(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 10) throw new UsageError(`${flag} ${value} is not a number of levels from 0 to 10.`);
  return n;
}

export function planOptionsOf(flags: RestoreFlags): PlanOptions {
  const overrides: FieldOverride[] = [
    ...(flags.set ?? []).map((text) => {
      const m = /^(?:([A-Za-z]\w*)\.)?([A-Za-z]\w*)=([\s\S]*)$/.exec(text);
      if (!m) throw new UsageError(`--set ${text} is not FIELD=VALUE or Object.FIELD=VALUE, e.g. --set Description="Restored from {originalId}".`);
      return { objectName: m[1] ?? null, field: m[2]!, template: m[3]! };
    }),
    ...(flags.clear ?? []).map((text) => {
      const m = /^(?:([A-Za-z]\w*)\.)?([A-Za-z]\w*)$/.exec(text);
      if (!m) throw new UsageError(`--clear ${text} is not FIELD or Object.FIELD.`);
      return { objectName: m[1] ?? null, field: m[2]!, template: null };
    }),
  ];
  const owner = flags.inactiveOwner;
  if (owner !== 'fail' && !(isRecordId(owner) && owner.startsWith('005'))) throw new UsageError(`--inactive-owner ${owner} is neither "fail" nor a user ID (005…).`);
  const recordType = flags.recordType;
  if (recordType !== 'fail' && recordType !== 'default' && !(isRecordId(recordType) && recordType.startsWith('012'))) {
    throw new UsageError(`--record-type ${recordType} is not "fail", "default" or a record type ID (012…).`);
  }
  return {
    overwriteNewer: flags.overwriteNewer === true,
    writeNulls: flags.writeNulls === true,
    overrides,
    inactiveOwner: owner === 'fail' ? { kind: 'fail' } : { kind: 'map', userId: owner },
    missingRecordType: recordType === 'fail' ? { kind: 'fail' } : recordType === 'default' ? { kind: 'default' } : { kind: 'map', recordTypeId: recordType },
    masks: (flags.mask ?? []).map(parseMaskRule),
  };
}

export function matchOnOf(values: readonly string[] | undefined): Record<string, string[]> {
  const matchOn: Record<string, string[]> = {};
  for (const text of values ?? []) {
    const m = /^([A-Za-z]\w*)=([A-Za-z]\w*(?:\s*,\s*[A-Za-z]\w*)*)$/.exec(text);
    if (!m) throw new UsageError(`--match-on ${text} is not Object=Field, e.g. --match-on Account=External_Id__c.`);
    matchOn[m[1]!] = [...(matchOn[m[1]!] ?? []), ...m[2]!.split(',').map((f) => f.trim())];
  }
  return matchOn;
}

export function bulkThresholdOf(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--bulk-threshold ${value} is not a positive whole number of records.`);
  return n;
}

function parsePick(text: string): [string, number] {
  const [id, time] = text.split('=', 2);
  if (!id || !time || !isRecordId(id)) throw new UsageError(`--pick ${text} is not ID=TIME, e.g. --pick 001000000000001AAA=2026-11-01T10:00:00.000Z.`);
  return [id, parseTime(time, '--pick')];
}
