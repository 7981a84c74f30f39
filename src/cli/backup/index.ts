/**
 * `orgvault backup --org NAME`: backs up every object the API user can see (or those named),
 * with progress on stderr and the run's outcome on stdout. Exit 0 when every object is caught up,
 * 1 when some ended in error or were left behind, 3 when the run failed.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { Option } from 'commander';
import { runBackup, resolveSettings, storedSettings, enqueueBackup, waitForBackupJob, BACKUP_MODES } from '../../backup/index.ts';
import type { BackupObjectResult, BackupResult } from '../../backup/index.ts';
import type { ObjectStatus } from '../../core/vault.ts';
import type { Vault } from '../../store/vault.ts';
import { ExitCode, UsageError } from '../../core/errors.ts';
import { dataLakeTargetOf } from '../../export/data-lake.ts';
import { listOption as collect } from '../option-lists.ts';
import { backupProgress } from '../progress.ts';
import { QUEUE_OPTION, openVaultQueue } from '../queue-option.ts';
import { globalOptions, printResult } from '../vault-options.ts';
import type { GlobalOptions } from '../vault-options.ts';
import { connectToOrg, requireOrg, vaultNotifier, withVault } from '../vault-session.ts';

interface BackupFlags {
  org?: string;
  object?: string[];
  exclude?: string[];
  mode?: string;
  includeFeeds?: boolean;
  includeShares?: boolean;
  history?: boolean;
  includeEventLogs?: boolean;
  apiBudget?: string;
  bulkThreshold?: string;
  concurrency?: string;
  reconcile?: boolean;
  baseline?: boolean;
  dataLake?: string | false;
  enqueue?: boolean;
  wait?: boolean;
  queue?: string;
}


export function registerBackupCommand(program: Command): void {
  program
    .command('backup')
    .description('back up an org: every object the API user can see, or those named')
    .option('--org <name>', 'the org to back up (optional when the vault holds one org)')
    .option('--object <name>', 'only this object (repeat, or separate with commas)', collect)
    .option('--exclude <name>', 'never this object, in addition to the org settings (repeat, or commas)', collect)
    .addOption(new Option('--mode <mode>', 'what to back up').choices([...BACKUP_MODES]))
    .option('--include-feeds', 'also back up *Feed objects')
    .option('--include-shares', 'also back up *Share objects')
    .option('--no-history', 'skip *History (field history) objects')
    .option('--include-event-logs', 'also back up event-log objects (EventLogFile…)')
    .option('--api-budget <share>', "the largest share of the org's daily API requests to use, e.g. 0.5 or 50%")
    .option('--bulk-threshold <records>', 'read objects with at least this many records through Bulk API 2.0')
    .option('--concurrency <n>', 'objects captured side by side')
    .option('--reconcile', 'also compare every record ID with the org, to catch deletes older than getDeleted reaches')
    .option('--baseline', 'a fresh full baseline: read every record again whatever the watermark, and compare every ID with the org')
    .option('--data-lake <folder|s3-url>', "also write the run's new versions to this data lake (a folder, or s3://bucket/prefix?region=…), as Parquet partitioned by org, object and day (overrides the org's setting)")
    .option('--no-data-lake', "do not write to the org's data lake this run")
    .option('--enqueue', "run on the workers (`orgvault worker`) through the vault's work queue instead of in this process")
    .option('--wait', 'with --enqueue: wait for the run to end and print its outcome')
    .option(...QUEUE_OPTION)
    .action(async (flags: BackupFlags, command: Command) => {
      const options = globalOptions(command);
      const overrides = {
        exclude: flags.exclude,
        mode: flags.mode,
        includeFeeds: flags.includeFeeds,
        includeShares: flags.includeShares,
        includeHistory: flags.history === false ? false : undefined,
        includeEventLogs: flags.includeEventLogs,
        apiBudgetShare: flags.apiBudget === undefined ? undefined : parseShare(flags.apiBudget),
        bulkThreshold: flags.bulkThreshold === undefined ? undefined : parseWhole('--bulk-threshold', flags.bulkThreshold, 0),
        concurrency: flags.concurrency === undefined ? undefined : parseWhole('--concurrency', flags.concurrency, 1),
        dataLake: typeof flags.dataLake === 'string' ? dataLakeTargetOf(flags.dataLake, (path) => resolve(path)) : flags.dataLake === false ? null : undefined,
      };
      if (flags.wait && !flags.enqueue) throw new UsageError('--wait goes with --enqueue (a backup run here always waits).');
      if (flags.enqueue) {
        const done = await withVault(command, (vault) => enqueueRun(vault, flags, overrides, options));
        if (!done) return;
        printResult(options, toJson(done), () => summaryLines(done));
        process.exitCode = exitCodeOf(done);
        return;
      }
      const result = await withVault(command, async (vault) => {
        const org = await requireOrg(vault, flags.org);
        const settings = resolveSettings(storedSettings(org), overrides);
        const client = await connectToOrg(vault, org);
        const progress = backupProgress();
        try {
          return await runBackup(
            { store: vault.store, blobs: vault.blobs, client, onEvent: (e) => progress.onEvent(e), notifier: vaultNotifier(vault) },
            { org, settings, objects: flags.object, reconcile: flags.reconcile, startedBy: 'cli', baseline: flags.baseline ? { reason: 'asked for with --baseline' } : undefined },
          );
        } finally {
          progress.close();
        }
      });
      printResult(options, toJson(result), () => summaryLines(result));
      process.exitCode = exitCodeOf(result);
    });
}

/**
 * `--enqueue`: the backup goes to the workers; one backup per org at a time, so a backup already
 * queued or running is reported (or, with --wait, waited for) rather than added.
 */
async function enqueueRun(vault: Vault, flags: BackupFlags, overrides: Record<string, unknown>, options: GlobalOptions): Promise<BackupResult | null> {
  const org = await requireOrg(vault, flags.org);
  // Bad settings are refused here, not by a worker later.
  resolveSettings(storedSettings(org), overrides);
  const queue = await openVaultQueue(vault, flags.queue);
  if (!queue) throw new UsageError('This vault has no work queue (its catalog is SQLite): run the backup here without --enqueue, or name a queue with --queue postgres://….');
  try {
    const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
    const { job, created, runId } = await enqueueBackup(queue, {
      orgName: org.name,
      orgId: org.orgId,
      objects: flags.object,
      reconcile: flags.reconcile,
      startedBy: 'cli',
      baseline: flags.baseline ? { reason: 'asked for with --baseline' } : undefined,
      overrides: defined,
    });
    const runNote = runId ? `, run ${runId}` : '';
    const said = created ? `The backup of ${org.name} is queued for the workers (job ${job.jobId}${runNote}).` : `A backup of ${org.name} is already ${job.state === 'running' ? `running on worker ${job.worker ?? '?'}` : 'queued'} (job ${job.jobId}${runNote}); no second one was added.`;
    if (!flags.wait) {
      printResult(options, { jobId: job.jobId, runId, created, state: job.state }, () => [said, `Follow it with \`orgvault logs${runId ? ` ${runId}` : ''}\` and \`orgvault status\`.`]);
      if (!created) process.exitCode = ExitCode.CompletedWithErrors;
      return null;
    }
    process.stderr.write(`${said} Waiting for it to end.\n`);
    const outcome = await waitForBackupJob(queue, job.jobId);
    if (!outcome.runId) return { runId: '', status: 'Failed', message: outcome.job?.lastError ?? 'The job left the queue before it ran.', objects: [], apiCalls: 0, counters: {} };
    const run = await vault.store.getRun(outcome.runId);
    const objects: BackupObjectResult[] = (await vault.store.listObjectRuns(outcome.runId)).map((o) => ({
      name: o.objectName,
      status: (o.status === 'Succeeded' ? 'Waiting' : o.status === 'Failed' ? 'Error' : 'Behind') as ObjectStatus,
      statusCode: o.statusCode,
      message: o.message,
      records: o.counters.records ?? 0,
      versions: o.counters.versions ?? 0,
      files: o.counters.files ?? 0,
      deletes: o.counters.deletes ?? 0,
      apiCalls: o.counters.apiCalls ?? 0,
      api: null,
    }));
    return { runId: outcome.runId, status: run?.status ?? outcome.status, message: run?.message ?? null, objects, apiCalls: run?.counters.apiCalls ?? 0, counters: run?.counters ?? {} };
  } finally {
    await queue.close();
  }
}

function toJson(result: BackupResult): unknown {
  return {
    runId: result.runId,
    status: result.status,
    message: result.message,
    apiCalls: result.apiCalls,
    counters: result.counters,
    objects: result.objects.map((o) => ({
      name: o.name,
      status: o.status,
      statusCode: o.statusCode,
      message: o.message,
      records: o.records,
      versions: o.versions,
      files: o.files,
      deletes: o.deletes,
      apiCalls: o.apiCalls,
      api: o.api,
    })),
  };
}

function summaryLines(result: BackupResult): string[] {
  const captured = result.objects.filter((o) => o.api !== null || o.status === 'Waiting');
  const skipped = result.objects.filter((o) => !captured.includes(o));
  const c = result.counters;
  return [
    `Run ${result.runId}: ${result.status}`,
    ...(result.message ? [result.message] : []),
    `  ${c.records ?? 0} records read, ${c.versions ?? 0} new versions, ${c.files ?? 0} files, ${c.deletes ?? 0} deletes found; ${result.apiCalls} API calls`,
    ...(c.dataLakeFiles !== undefined ? [`  data lake: ${c.dataLakeVersions ?? 0} versions written in ${c.dataLakeFiles} Parquet files`] : []),
    `  ${captured.length} objects checked, ${skipped.length} not backed up (${countBy(skipped.map((o) => o.status))})`,
    ...result.objects.filter((o) => o.statusCode && o.status !== 'Excluded' && o.status !== 'Unsupported').map((o) => `  ${o.name}: ${o.status} ${o.statusCode}: ${o.message ?? ''}`),
    'See `orgvault status` for the objects table and `orgvault logs ' + result.runId + '` for the full log.',
  ];
}

function countBy(values: string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].map(([k, n]) => `${n} ${k}`).join(', ') || 'none';
}

function exitCodeOf(result: BackupResult): number {
  switch (result.status) {
    case 'Succeeded':
      return ExitCode.Success;
    case 'Failed':
      return ExitCode.Failed;
    default:
      return ExitCode.CompletedWithErrors;
  }
}

function parseShare(text: string): number {
  const percent = text.trim().endsWith('%');
  const value = Number(percent ? text.trim().slice(0, -1) : text);
  const share = percent ? value / 100 : value;
  if (!Number.isFinite(share) || share <= 0 || share > 1) {
    throw new UsageError(`--api-budget ${text} is not a share of the daily API limit: give a number above 0 and at most 1 (0.5) or a percentage (50%).`);
  }
  return share;
}

function parseWhole(flag: string, text: string, min: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) throw new UsageError(`${flag} ${text} is not a whole number of at least ${min}.`);
  return value;
}
