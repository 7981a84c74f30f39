/**
 * The restore report: one row per record from the journal, with the cause and fix of each status
 * code, and the per-object summary `orgvault logs` shows for a restore run.
 */
import { stringify } from 'csv-stringify/sync';
import { statusCodeHelp } from '../core/status-codes.ts';
import type { ObjectRun, RestoreOutcome, RestoreResult, RunStatus } from '../core/vault.ts';
import type { RestoreJournal } from '../store/port.ts';
import type { RestoreItem } from './related.ts';
import type { ObjectSchemaDrift } from './schema-drift.ts';

/** One record of the restore report. */
export interface RestoreReportRow {
  object: string;
  originalId: string;
  newId: string | null;
  outcome: RestoreOutcome;
  statusCode: string | null;
  message: string | null;
  /** For failures and skips: the cause and the fix, from the status-code table. */
  cause: string | null;
  fix: string | null;
  /** The record this one came with (`--parents`, `--children`), if any. */
  via: string | null;
  role: RestoreItem['role'];
  /** Values not restored and why (fields gone, not writable, lookups left empty). */
  warnings: string[];
}

export interface RestoreReport {
  runId: string;
  status: RunStatus;
  dryRun: boolean;
  counts: Record<RestoreOutcome, number>;
  results: RestoreReportRow[];
  /**
   * Per object, the fields of the backup that no longer map onto the org as they were (gone, not
   * writable, changed type, picklist values no longer active) and what the restore did about each.
   */
  schemaDrift: ObjectSchemaDrift[];
}

const SUCCESS: ReadonlySet<RestoreOutcome> = new Set(['Created', 'Updated', 'Undeleted']);

/** A report row from a journal row, with the record's place in the restore when known. */
export function reportRow(
  r: Pick<RestoreResult, 'objectName' | 'originalId' | 'outcome' | 'newId' | 'statusCode' | 'message'>,
  record?: { role: RestoreItem['role']; via: string | null; warnings: string[] },
): RestoreReportRow {
  const help = r.statusCode && !SUCCESS.has(r.outcome) ? statusCodeHelp(r.statusCode) : null;
  return {
    object: r.objectName,
    originalId: r.originalId,
    newId: r.newId,
    outcome: r.outcome,
    statusCode: r.statusCode,
    message: r.message,
    cause: help?.cause ?? null,
    fix: help?.fix ?? null,
    via: record?.via ?? null,
    role: record?.role ?? 'selected',
    warnings: record?.warnings ?? [],
  };
}

/**
 * Each record's outcome from the journal: the last row that did something (created, updated,
 * undeleted, failed) wins over later skips, so a resumed run reports what its first part did.
 */
export function latestResults(journal: readonly RestoreResult[]): Map<string, RestoreResult> {
  const last = new Map<string, RestoreResult>();
  for (const r of journal) {
    const previous = last.get(r.originalId);
    if (previous && previous.outcome !== 'Skipped' && r.outcome === 'Skipped') continue;
    // A link that failed after a creation keeps the creation's new ID.
    last.set(r.originalId, r.newId === null && previous?.newId ? { ...r, newId: previous.newId } : r);
  }
  return last;
}

/** The records of a restore run as its report lists them, for `orgvault logs RUN_ID`. */
export async function restoreRecords(journal: RestoreJournal, runId: string): Promise<RestoreReportRow[]> {
  return [...latestResults(await journal.restoreResults(runId)).values()].map((r) => reportRow(r));
}

export function countOutcomes(rows: readonly RestoreReportRow[]): Record<RestoreOutcome, number> {
  const counts: Record<RestoreOutcome, number> = { Created: 0, Updated: 0, Undeleted: 0, Skipped: 0, Failed: 0 };
  for (const r of rows) counts[r.outcome]++;
  return counts;
}

/** Per object: counts by outcome, and the most frequent failure's code, for the job log. */
export function objectRunsOf(runId: string, rows: readonly RestoreReportRow[]): ObjectRun[] {
  const byObject = new Map<string, RestoreReportRow[]>();
  for (const r of rows) byObject.set(r.object, [...(byObject.get(r.object) ?? []), r]);
  return [...byObject].map(([objectName, list]) => {
    const counts = countOutcomes(list);
    const failed = list.filter((r) => r.outcome === 'Failed');
    const codes = new Map<string, number>();
    for (const r of failed) codes.set(r.statusCode ?? 'UNKNOWN_EXCEPTION', (codes.get(r.statusCode ?? 'UNKNOWN_EXCEPTION') ?? 0) + 1);
    const top = [...codes].sort((a, b) => b[1] - a[1])[0];
    const status: RunStatus = failed.length === 0 ? 'Succeeded' : failed.length === list.length ? 'Failed' : 'CompletedWithErrors';
    return {
      runId,
      objectName,
      status,
      statusCode: top?.[0] ?? null,
      message: failed.length ? `${failed.length} of ${list.length} record(s) failed: ${[...codes].map(([c, n]) => `${c} (${n})`).join(', ')}` : null,
      counters: { records: list.length, created: counts.Created, updated: counts.Updated, undeleted: counts.Undeleted, skipped: counts.Skipped, failed: counts.Failed },
    };
  });
}

const REPORT_COLUMNS = ['object', 'originalId', 'newId', 'outcome', 'statusCode', 'message', 'cause', 'fix'] as const;

/** The report as CSV with a header row, for a spreadsheet; `warnings` adds the values not restored. */
export function reportCsv(rows: readonly RestoreReportRow[], options: { warnings?: boolean } = {}): string {
  const columns: string[] = [...REPORT_COLUMNS, ...(options.warnings ? ['warnings'] : [])];
  return stringify(rows.map((r) => ({ ...r, warnings: r.warnings.join(' | ') })), { header: true, columns });
}
