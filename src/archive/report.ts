/**
 * The archive report: one row per record from the journal (the last row of a record wins, so a
 * resumed archive reports what finally happened), with the cause and fix of each status code, the
 * counts per object, and the read models of archived records for history, status and restore.
 */
import { stringify } from 'csv-stringify/sync';
import { UsageError } from '../core/errors.ts';
import { statusCodeHelp } from '../core/status-codes.ts';
import type { StatusCodeHelp } from '../core/status-codes.ts';
import type { ArchiveOutcome, ArchiveResult, ObjectRun, Run, RunStatus } from '../core/vault.ts';
import type { ArchiveStore, RunLog } from '../store/port.ts';

export const ARCHIVE_OUTCOMES: readonly ArchiveOutcome[] = ['Deleted', 'Ready', 'Refused', 'Skipped', 'Failed'];

export interface ArchiveReportRow {
  object: string;
  recordId: string;
  outcome: ArchiveOutcome;
  statusCode: string | null;
  message: string | null;
  /** The record it was selected through (a child's parent), null for a selected record. */
  via: string | null;
  /** The version the vault holds, ISO-8601; null when it holds none. */
  systemModstamp: string | null;
  cause: string | null;
  fix: string | null;
}

export interface ArchiveReport {
  runId: string;
  org: string;
  object: string;
  status: RunStatus;
  dryRun: boolean;
  skipUnsafe: boolean;
  /** Records of the object the condition selected (children not counted). */
  selected: number;
  counts: Record<ArchiveOutcome, number>;
  objects: { object: string; counts: Record<ArchiveOutcome, number> }[];
  /** Child objects Salesforce deletes with the records that the API user cannot query: not checked. */
  unchecked: string[];
  message: string;
  results: ArchiveReportRow[];
}

/** Where archive's words differ from restore's for the same code. */
const ARCHIVE_HELP: Readonly<Record<string, StatusCodeHelp>> = {
  ENTITY_IS_DELETED: { cause: 'The record was already in the Recycle Bin when the archive reached it.', fix: 'Nothing to do: it is gone from the org and kept in the vault.' },
  INSUFFICIENT_ACCESS_OR_READONLY: { cause: 'The API user may not delete the record (object permissions, sharing, or a record locked by an approval).', fix: 'Give the API user Delete on the object (and access to the record), then archive again.' },
  ENTITY_IS_LOCKED: { cause: 'An approval process has locked the record.', fix: 'Finish or recall the approval, then archive again.' },
  FILE_NOT_IN_VAULT: { cause: 'The vault holds the record but not its file body.', fix: 'Turn on file backup (objects and files), back up, then archive again.' },
  UNABLE_TO_LOCK_ROW: { cause: 'Another transaction held the record (sent again twice, then given up).', fix: 'Archive again later, when the automation or integration holding it has finished.' },
};

export function archiveHelp(code: string): StatusCodeHelp {
  return ARCHIVE_HELP[code] ?? statusCodeHelp(code);
}

export function emptyCounts(): Record<ArchiveOutcome, number> {
  return { Deleted: 0, Ready: 0, Refused: 0, Skipped: 0, Failed: 0 };
}

/** The last row of each record, in the order records first appeared. */
export function latestResults(results: readonly ArchiveResult[]): ArchiveResult[] {
  const last = new Map<string, ArchiveResult>();
  for (const r of results) {
    last.delete(r.recordId);
    last.set(r.recordId, r);
  }
  const firstSeen = new Map<string, number>();
  results.forEach((r, i) => {
    if (!firstSeen.has(r.recordId)) firstSeen.set(r.recordId, i);
  });
  return [...last.values()].sort((a, b) => firstSeen.get(a.recordId)! - firstSeen.get(b.recordId)!);
}

export function reportRow(r: ArchiveResult): ArchiveReportRow {
  const help = r.statusCode && r.outcome !== 'Deleted' && r.outcome !== 'Ready' ? archiveHelp(r.statusCode) : null;
  return {
    object: r.objectName,
    recordId: r.recordId,
    outcome: r.outcome,
    statusCode: r.statusCode,
    message: r.message,
    via: r.via,
    systemModstamp: r.systemModstamp === null ? null : new Date(r.systemModstamp).toISOString(),
    cause: help?.cause ?? null,
    fix: help?.fix ?? null,
  };
}

/** The report of a run from its journal and its parameters. */
export function reportOf(run: Run, results: readonly ArchiveResult[]): ArchiveReport {
  const p = run.parameters as { org?: string; object?: string; dryRun?: boolean; skipUnsafe?: boolean; unchecked?: string[] };
  const rows = latestResults(results).map(reportRow);
  const counts = emptyCounts();
  const perObject = new Map<string, Record<ArchiveOutcome, number>>();
  for (const r of rows) {
    counts[r.outcome]++;
    const c = perObject.get(r.object) ?? emptyCounts();
    c[r.outcome]++;
    perObject.set(r.object, c);
  }
  const report: Omit<ArchiveReport, 'message'> = {
    runId: run.runId,
    org: p.org ?? run.orgId ?? '',
    object: p.object ?? '',
    status: run.status === 'Running' ? statusOf(counts) : run.status,
    dryRun: p.dryRun === true,
    skipUnsafe: p.skipUnsafe === true,
    selected: rows.filter((r) => r.via === null).length,
    counts,
    objects: [...perObject].sort(([a], [b]) => a.localeCompare(b)).map(([object, c]) => ({ object, counts: c })),
    unchecked: p.unchecked ?? [],
    results: rows,
  };
  return { ...report, message: summary(report) };
}

/** Succeeded when every record went (or, in a dry run, would go); CompletedWithErrors otherwise. */
export function statusOf(counts: Record<ArchiveOutcome, number>): RunStatus {
  return counts.Refused + counts.Failed + counts.Skipped > 0 ? 'CompletedWithErrors' : 'Succeeded';
}

function summary(r: Omit<ArchiveReport, 'message'>): string {
  const c = r.counts;
  if (r.dryRun) {
    const held = c.Refused > 0 && !r.skipUnsafe ? ' Without --skip-unsafe nothing would be deleted while any record is refused.' : '';
    return `Dry run: ${c.Ready} record(s) would be deleted, ${c.Refused} refused, ${c.Skipped} skipped.${held}`;
  }
  return `${c.Deleted} deleted, ${c.Refused} refused, ${c.Skipped} skipped, ${c.Failed} failed`;
}

/** The per-object rows of the job log: what `orgvault logs RUN_ID` shows for an archive. */
export function objectRunsOf(report: ArchiveReport): ObjectRun[] {
  return report.objects.map(({ object, counts }) => {
    const rows = report.results.filter((r) => r.object === object);
    const problem = rows.find((r) => r.outcome === 'Failed') ?? rows.find((r) => r.outcome === 'Refused');
    const bad = counts.Failed + counts.Refused + counts.Skipped;
    const good = counts.Deleted + counts.Ready;
    return {
      runId: report.runId,
      objectName: object,
      status: bad === 0 ? 'Succeeded' : good > 0 ? 'CompletedWithErrors' : 'Failed',
      statusCode: problem?.statusCode ?? null,
      message: bad === 0 ? null : `${counts.Refused} refused, ${counts.Failed} failed, ${counts.Skipped} skipped`,
      counters: { records: rows.length, deleted: counts.Deleted, ready: counts.Ready, refused: counts.Refused, failed: counts.Failed, skipped: counts.Skipped },
    };
  });
}

/** An archive run's report, from the vault. */
export async function archiveReport(store: RunLog & Pick<ArchiveStore, 'archiveResults'>, runId: string): Promise<ArchiveReport> {
  const run = await store.getRun(runId);
  if (!run || run.kind !== 'archive') throw new UsageError(`No archive run ${runId} in this vault; \`orgvault logs\` lists the runs.`);
  return reportOf(run, await store.archiveResults(runId));
}

/** The report as CSV, one row per record. */
export function archiveCsv(rows: readonly ArchiveReportRow[]): string {
  return stringify(
    rows.map((r) => ({ object: r.object, recordId: r.recordId, outcome: r.outcome, statusCode: r.statusCode ?? '', message: r.message ?? '', via: r.via ?? '', systemModstamp: r.systemModstamp ?? '', cause: r.cause ?? '', fix: r.fix ?? '' })),
    { header: true, columns: ['object', 'recordId', 'outcome', 'statusCode', 'message', 'via', 'systemModstamp', 'cause', 'fix'] },
  );
}

/**
 * The IDs a restore of archived records selects: those of `objectName` archived (by `runId`, or
 * by any run) and not restored since. Refused when there are none, so that an empty list never
 * reads as "no ID filter".
 */
export async function archivedIdsFor(store: Pick<ArchiveStore, 'archivedIds'>, orgId: string, objectName: string, runId: string | undefined): Promise<string[]> {
  const ids = await store.archivedIds(orgId, { objectName, runId });
  if (!ids.length) {
    throw new UsageError(
      runId
        ? `No ${objectName} record archived by run ${runId} is left to restore (check the run ID and the object: \`orgvault logs ${runId}\`).`
        : `No ${objectName} record archived from this org is left to restore (\`orgvault status\` counts the archived records per object).`,
    );
  }
  return ids;
}
