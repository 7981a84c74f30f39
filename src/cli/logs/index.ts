/**
 * `orgvault logs [RUN_ID] [--errors] [--csv FILE]`: the jobs, or one job's objects with each
 * status code's cause and fix; the errors as CSV for a spreadsheet.
 */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { stringify } from 'csv-stringify/sync';
import { jobsWithQueued, runLogOf } from '../../backup/index.ts';
import type { RunLogView } from '../../backup/index.ts';
import { reportCsv, restoreRecords } from '../../restore/index.ts';
import type { RestoreReportRow } from '../../restore/index.ts';
import { UsageError } from '../../core/errors.ts';
import { table } from '../format.ts';
import { openVaultQueue } from '../queue-option.ts';
import { globalOptions, printResult, warn } from '../vault-options.ts';
import type { GlobalOptions } from '../vault-options.ts';
import { requireOrg, withVault } from '../vault-session.ts';
import type { JobQueue } from '../../store/queue.ts';
import type { Vault } from '../../store/vault.ts';

export function registerLogsCommand(program: Command): void {
  program
    .command('logs')
    .description("the job log: every run, or one run's objects with status codes, causes and fixes")
    .argument('[runId]', 'one run (default: list the runs)')
    .option('--org <name>', 'only runs of this org')
    .option('--errors', "only the run's objects with errors")
    .option('--csv <file>', "write the run's objects (with --errors, only errors) as CSV")
    .option('--limit <n>', 'how many runs to list', '20')
    .action(async (runId: string | undefined, flags: { org?: string; errors?: boolean; csv?: string; limit: string }, command: Command) => {
      const options = globalOptions(command);
      const limit = Number(flags.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit ${flags.limit} is not a whole number of at least 1.`);
      if (!runId && (flags.errors || flags.csv)) {
        throw new UsageError('--errors and --csv apply to one run: give its Run ID (`orgvault logs` lists them), e.g. `orgvault logs RUN_ID --errors`.');
      }
      await withVault(
        command,
        async (vault) => {
          // Backups queued for the workers show before a worker starts their runs.
          const queue = await openVaultQueue(vault, undefined);
          try {
            await printLogs(vault, queue, runId, flags, limit, options);
          } finally {
            await queue?.close();
          }
        },
        { readonly: true },
      );
    });
}

interface LogsFlags {
  org?: string;
  errors?: boolean;
  csv?: string;
}

/** The runs (none named), or one run's log: from the vault, or from the queue while a backup waits for a worker. */
async function printLogs(vault: Vault, queue: JobQueue | null, runId: string | undefined, flags: LogsFlags, limit: number, options: GlobalOptions): Promise<void> {
  if (!runId) {
    const orgId = flags.org ? (await requireOrg(vault, flags.org)).orgId : undefined;
    const jobs = await jobsWithQueued(vault.store, queue, { orgId, limit });
    printResult(options, { runs: jobs }, () =>
      jobs.length === 0
        ? ['No runs yet.']
        : table(
            ['Run ID', 'Kind', 'Org', 'Start', 'End', 'Status'],
            jobs.map((j) => [j.runId, j.kind, j.org ?? '', j.startedAt, j.endedAt ?? (j.status === 'Queued' ? '(queued)' : '(running)'), j.status]),
          ),
    );
    return;
  }
  const log = await runLogOf(vault.store, queue, runId, { errorsOnly: flags.errors });
  if (log.kind === 'restore') return printRestoreLog(options, flags, log, await restoreRecords(vault.store, runId));
  if (flags.csv) {
    const path = resolve(flags.csv);
    const rows = log.objects.map((o) => ({ runId: log.runId, object: o.name, status: o.status, statusCode: o.statusCode ?? '', message: o.message ?? '', cause: o.cause ?? '', fix: o.fix ?? '', ...o.counters }));
    const columns = [...new Set(['runId', 'object', 'status', 'statusCode', 'message', 'cause', 'fix', ...rows.flatMap((r) => Object.keys(r))])];
    await writeFile(path, stringify(rows, { header: true, columns }));
    warn(`Wrote ${rows.length} object(s) to ${path}`);
  }
  printResult(options, log, () => [
    `Run ${log.runId} (${log.kind}${log.org ? ` of ${log.org}` : ''}): ${log.status}`,
    `  ${log.status === 'Queued' ? 'queued' : 'started'} ${log.startedAt}, ended ${log.endedAt ?? (log.status === 'Queued' ? '(waiting for a worker)' : '(running)')}`,
    ...(log.message ? [`  ${log.message}`] : []),
    `  ${Object.entries(log.counters).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    '',
    ...(log.objects.length === 0
      ? [flags.errors ? 'No object ended with an error.' : 'No objects.']
      : table(
          ['Object', 'Status', 'Status code', 'Records', 'Versions', 'API calls', 'Message'],
          log.objects.map((o) => [o.name, o.status, o.statusCode ?? '', String(o.counters.records ?? 0), String(o.counters.versions ?? 0), String(o.counters.apiCalls ?? 0), o.message ?? '']),
        )),
    ...log.objects.filter((o) => o.cause && o.status !== 'Succeeded').flatMap((o) => ['', `${o.name} ${o.statusCode}:`, `  cause: ${o.cause}`, `  fix:   ${o.fix}`]),
  ]);
}

/** A restore run: its objects' counts, and its records (with --errors, the failed ones) with cause and fix. */
async function printRestoreLog(options: GlobalOptions, flags: { errors?: boolean; csv?: string }, log: RunLogView, all: RestoreReportRow[]): Promise<void> {
  const records = flags.errors ? all.filter((r) => r.outcome === 'Failed') : all;
  if (flags.csv) {
    const path = resolve(flags.csv);
    await writeFile(path, reportCsv(records));
    warn(`Wrote ${records.length} record(s) to ${path}`);
  }
  const failed = records.filter((r) => r.outcome === 'Failed');
  const codes = new Map(failed.filter((r) => r.statusCode).map((r) => [r.statusCode!, r]));
  printResult(options, { ...log, records }, () => [
    `Run ${log.runId} (restore${log.org ? ` of ${log.org}` : ''}): ${log.status}`,
    `  ${log.status === 'Queued' ? 'queued' : 'started'} ${log.startedAt}, ended ${log.endedAt ?? (log.status === 'Queued' ? '(waiting for a worker)' : '(running)')}`,
    ...(log.message ? [`  ${log.message}`] : []),
    '',
    ...table(
      ['Object', 'Status', 'Records', 'Created', 'Updated', 'Undeleted', 'Skipped', 'Failed'],
      log.objects.map((o) => [o.name, o.status, ...['records', 'created', 'updated', 'undeleted', 'skipped', 'failed'].map((k) => String(o.counters[k] ?? 0))]),
    ),
    '',
    ...(failed.length === 0
      ? ['No record failed.']
      : [
          ...table(['Object', 'Original ID', 'New ID', 'Status code', 'Message'], failed.slice(0, 100).map((r) => [r.object, r.originalId, r.newId ?? '', r.statusCode ?? '', r.message ?? ''])),
          ...(failed.length > 100 ? [`… and ${failed.length - 100} more (--csv FILE lists them all).`] : []),
          ...[...codes].flatMap(([code, r]) => ['', `${code}:`, `  cause: ${r.cause ?? ''}`, `  fix:   ${r.fix ?? ''}`]),
        ]),
  ]);
}
