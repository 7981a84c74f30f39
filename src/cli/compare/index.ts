/**
 * `orgvault compare`: a backed-up record against the live one (what a restore would change), two
 * versions of a record, or an object's state at two points (times, or runs: a run stands for the
 * moment it ended). Every compare is recorded in the run log (`orgvault logs`).
 */
import type { Command } from 'commander';
import { compareObject, compareVersions, compareWithLive, parseTime } from '../../compare/index.ts';
import type { ComparePoint, ObjectComparison, RecordComparison } from '../../compare/index.ts';
import { UsageError } from '../../core/errors.ts';
import { table } from '../format.ts';
import { globalOptions, printResult } from '../vault-options.ts';
import { connectToOrg, requireOrg, withVault } from '../vault-session.ts';

interface CompareFlags {
  org?: string;
  record?: string;
  object?: string;
  at?: string;
  from?: string;
  to?: string;
  runA?: string;
  runB?: string;
  limit?: string;
}

const COMBINATIONS = [
  'orgvault compare --record ID [--at TIME]              the backed-up version (latest, or as of TIME) against the live record',
  'orgvault compare --record ID --from TIME --to TIME     two versions of a record',
  'orgvault compare --object NAME --from TIME --to TIME   an object at two times',
  'orgvault compare --object NAME --run-a RUN --run-b RUN an object at the ends of two runs',
].map((line) => `  ${line}`);

const combinationsHelp = (problem: string): string => `${problem} The combinations are:\n${COMBINATIONS.join('\n')}`;

/** What to compare, from the flags; a UsageError naming the flag or listing the combinations. */
export type ComparePlan =
  | { kind: 'live'; record: string; at?: number }
  | { kind: 'versions'; record: string; from: ComparePoint; to: ComparePoint }
  | { kind: 'object'; object: string; from: ComparePoint; to: ComparePoint; limit: number };

export function planCompare(flags: CompareFlags): ComparePlan {
  if (flags.record !== undefined && flags.object !== undefined) throw new UsageError(combinationsHelp('--record and --object cannot be combined: compare one record or one object.'));
  if (flags.record === undefined && flags.object === undefined) throw new UsageError(combinationsHelp('Say what to compare with --record ID or --object NAME.'));
  const times = flags.from !== undefined || flags.to !== undefined;
  const runs = flags.runA !== undefined || flags.runB !== undefined;
  if (times && runs) throw new UsageError(combinationsHelp('--from/--to and --run-a/--run-b cannot be mixed: compare two times or two runs.'));
  if (flags.limit !== undefined && flags.object === undefined) throw new UsageError(combinationsHelp('--limit applies to --object compares only.'));
  const points = (): { from: ComparePoint; to: ComparePoint } => {
    if (times) {
      if (flags.from === undefined || flags.to === undefined) throw new UsageError(combinationsHelp(`${flags.from === undefined ? '--from' : '--to'} is missing: --from and --to go together.`));
      return { from: { at: parseTime(flags.from, '--from') }, to: { at: parseTime(flags.to, '--to') } };
    }
    if (flags.runA === undefined || flags.runB === undefined) throw new UsageError(combinationsHelp(`${flags.runA === undefined ? '--run-a' : '--run-b'} is missing: --run-a and --run-b go together.`));
    return { from: { runId: flags.runA }, to: { runId: flags.runB } };
  };
  if (flags.record !== undefined) {
    if (flags.at !== undefined && (times || runs)) throw new UsageError(combinationsHelp('--at compares with the live record; it cannot be combined with --from/--to or --run-a/--run-b.'));
    if (times || runs) return { kind: 'versions', record: flags.record, ...points() };
    return flags.at === undefined ? { kind: 'live', record: flags.record } : { kind: 'live', record: flags.record, at: parseTime(flags.at, '--at') };
  }
  if (flags.at !== undefined) throw new UsageError(combinationsHelp('--at applies to --record only: an object is compared between two points.'));
  if (!times && !runs) throw new UsageError(combinationsHelp(`--object ${flags.object} needs two points: --from and --to, or --run-a and --run-b.`));
  let limit = 100;
  if (flags.limit !== undefined) {
    limit = Number(flags.limit);
    if (!/^\d+$/.test(flags.limit.trim()) || !Number.isSafeInteger(limit) || limit < 0) throw new UsageError(`--limit ${flags.limit} is not a whole number of 0 or more.`);
  }
  return { kind: 'object', object: flags.object!, ...points(), limit };
}

const MAX_CELL = 60;
function cell(value: unknown): string {
  const text = value === null || value === undefined ? '(empty)' : typeof value === 'string' ? value : JSON.stringify(value);
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > MAX_CELL ? `${flat.slice(0, MAX_CELL - 1)}…` : flat;
}

function recordLines(c: RecordComparison, live: boolean): string[] {
  const side = (s: RecordComparison['left']): string => `${s.label}: ${s.state}${s.systemModstamp ? `, SystemModstamp ${s.systemModstamp}` : ''}${s.runId ? ` (captured by run ${s.runId})` : ''}`;
  const header = [`${c.objectName} ${c.record}`, `  left   ${side(c.left)}`, `  right  ${side(c.right)}`, ''];
  if (c.changes.length === 0) {
    return [...header, live ? `No difference: a restore would change none of the ${c.comparedFields} field(s) it writes.` : `No difference in ${c.comparedFields} field(s).`];
  }
  return [
    ...header,
    ...table(['Field', live ? 'Backed up' : 'Left', live ? 'Live' : 'Right'], c.changes.map((ch) => [ch.field, cell(ch.left), cell(ch.right)])),
    '',
    live
      ? `${c.changes.length} of ${c.comparedFields} field(s) a restore writes would change${c.right.state === 'live' ? '' : ` (the live record is ${c.right.state}: a restore would ${c.right.state === 'deleted' ? 'undelete it' : 'create it again'})`}.`
      : `${c.changes.length} field(s) differ.`,
    `Compare run ${c.runId}.`,
  ];
}

function objectLines(c: ObjectComparison): string[] {
  const point = (p: ObjectComparison['from']): string => (p.runId ? `run ${p.runId} (ended ${p.at})` : p.at);
  const listed = c.records.length;
  const differing = c.counts.added + c.counts.changed + c.counts.removed;
  return [
    `${c.object}: ${point(c.from)} → ${point(c.to)}`,
    `  ${c.counts.added} added, ${c.counts.changed} changed, ${c.counts.removed} removed, ${c.counts.unchanged} unchanged`,
    '',
    ...(listed === 0
      ? [differing === 0 ? 'No record differs.' : `${differing} record(s) differ (--limit 0: none listed).`]
      : table(
          ['Record ID', 'Change', 'Fields'],
          c.records.map((r) => [r.id, r.change === 'removed' ? `removed (${r.removedAs})` : r.change, r.change === 'changed' ? r.changedFields.join(', ') : '']),
        )),
    ...(c.truncated ? ['', `${listed} of ${differing} record(s) listed; --limit N lists more.`] : []),
    `Compare run ${c.runId}.`,
  ];
}

export function registerCompareCommand(program: Command): void {
  program
    .command('compare')
    .description('compare a backed-up record with the live one, two versions of a record, or an object at two points')
    .option('--org <name>', 'the org (optional when the vault holds one org)')
    .option('--record <id>', 'a record: against the live one, or between --from and --to')
    .option('--object <name>', 'an object: its state between --from and --to, or --run-a and --run-b')
    .option('--at <time>', 'with --record alone: the backed-up version as of this time (default: the latest)')
    .option('--from <time>', 'the left point: an ISO-8601 date (midnight UTC) or date-time with its zone')
    .option('--to <time>', 'the right point')
    .option('--run-a <runId>', 'the left point: the moment this run ended')
    .option('--run-b <runId>', 'the right point: the moment this run ended')
    .option('--limit <n>', 'with --object: how many differing records to list (default 100; the counts are exact)')
    .action(async (flags: CompareFlags, command: Command) => {
      const options = globalOptions(command);
      const plan = planCompare(flags);
      await withVault(command, async (vault) => {
        const org = await requireOrg(vault, flags.org);
        const deps = { store: vault.store, connect: () => connectToOrg(vault, org) };
        if (plan.kind === 'object') {
          const result = await compareObject(deps, org, plan.object, plan.from, plan.to, { limit: plan.limit });
          printResult(options, result, () => objectLines(result));
        } else {
          const result = plan.kind === 'live' ? await compareWithLive(deps, org, plan.record, { at: plan.at }) : await compareVersions(deps, org, plan.record, plan.from, plan.to);
          printResult(options, result, () => recordLines(result, plan.kind === 'live'));
        }
      });
    });
}
