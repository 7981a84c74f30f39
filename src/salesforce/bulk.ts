/**
 * Bulk API 2.0 query jobs: create, poll with a growing interval, read the result pages with fetch
 * (`results?locator=&maxRecords=`) and parse their CSV as it streams in, then delete the job.
 * jsforce's bulk2.query is not used: in 3.10.16 it returns the header rows of pages 2+ as records.
 */
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { pipeline } from 'node:stream/promises';
import { parse } from 'csv-parse';
import { SalesforceApiError } from '../core/errors.ts';
import type { FieldSummary, QueryOptions, SObjectRecord } from '../core/org-client.ts';
import { isNetworkError, networkError } from './api-errors.ts';
import { rowReader } from './csv-values.ts';
import type { OrgHttp } from './http.ts';
import { backoffDelay, sleep } from './retry.ts';

export interface BulkTuning {
  /** First pause between job status checks; each next one is 1.5 times longer, up to pollMaxMs. */
  pollInitialMs: number;
  pollMaxMs: number;
  /** How long a job may take to finish before it is aborted. */
  jobTimeoutMs: number;
  /** Rows per result page (`maxRecords`). */
  pageSize: number;
  /** Records per yielded batch, so a large page is never held whole. */
  batchSize: number;
}

export const DEFAULT_BULK: BulkTuning = { pollInitialMs: 500, pollMaxMs: 10_000, jobTimeoutMs: 2 * 3600_000, pageSize: 50_000, batchSize: 2_000 };

/** The two kinds of Bulk API 2.0 job, by their resource (`/jobs/query`, `/jobs/ingest`). */
export type JobKind = 'query' | 'ingest';

export interface JobInfo {
  id: string;
  state: 'UploadComplete' | 'InProgress' | 'JobComplete' | 'Failed' | 'Aborted' | string;
  errorMessage?: string;
  /** Ingest jobs: rows processed, and of those, rows that failed. */
  numberRecordsProcessed?: number;
  numberRecordsFailed?: number;
}

export async function* bulkQuery(http: OrgHttp, tuning: BulkTuning, soql: string, fields: readonly FieldSummary[], options: QueryOptions = {}): AsyncIterable<SObjectRecord[]> {
  const job = await http.json<JobInfo>('POST', http.dataPath('/jobs/query'), {
    body: { operation: options.includeDeleted ? 'queryAll' : 'query', query: soql, contentType: 'CSV', columnDelimiter: 'COMMA', lineEnding: 'LF' },
  });
  http.countBulkJob();
  const status = { terminated: false };
  try {
    await waitForJob(http, tuning, job.id, status);
    let locator: string | undefined = '';
    while (locator !== undefined) {
      const page: { records: AsyncIterable<SObjectRecord[]>; next: () => string | undefined } = readPage(http, tuning, job.id, locator, fields);
      yield* page.records;
      locator = page.next();
    }
  } finally {
    await cleanUp(http, job.id, status.terminated);
  }
}

/**
 * Polls a job, each pause 1.5 times the last, until it completes; a job that fails, is aborted or
 * outlives `jobTimeoutMs` raises SalesforceApiError. `status.terminated` says whether it still
 * needs aborting.
 */
/** Waits for the job to complete; its final state. */
export async function waitForJob(http: OrgHttp, tuning: BulkTuning, id: string, status: { terminated: boolean }, kind: JobKind = 'query'): Promise<JobInfo> {
  const deadline = Date.now() + tuning.jobTimeoutMs;
  let pause = tuning.pollInitialMs;
  for (;;) {
    const info = await http.json<JobInfo>('GET', http.dataPath(`/jobs/${kind}/${id}`));
    status.terminated = info.state === 'JobComplete' || info.state === 'Failed' || info.state === 'Aborted';
    if (info.state === 'JobComplete') return info;
    if (info.state === 'Failed') throw jobFailure(id, info.errorMessage, kind);
    if (info.state === 'Aborted') throw new SalesforceApiError('BULK_JOB_ABORTED', `Bulk ${kind} job ${id} was aborted`);
    if (Date.now() + pause > deadline) throw new SalesforceApiError('BULK_JOB_TIMEOUT', `Bulk ${kind} job ${id} did not finish within ${Math.round(tuning.jobTimeoutMs / 1000)} s (still ${info.state}); it was aborted`);
    await sleep(pause);
    pause = Math.min(tuning.pollMaxMs, Math.ceil(pause * 1.5));
  }
}

/** The job's errorMessage, which usually starts with Salesforce's code (`INVALID_FIELD: …`). */
function jobFailure(id: string, errorMessage: string | undefined, kind: JobKind): SalesforceApiError {
  const message = errorMessage ?? 'no error message';
  const m = /^([A-Z][A-Z_]+)\s*:\s*([\s\S]*)$/.exec(message);
  return new SalesforceApiError(m ? m[1]! : 'BULK_JOB_FAILED', `Bulk ${kind} job ${id} failed: ${m ? m[2]! : message}`);
}

/**
 * One result page, parsed as it streams. A connection cut mid-page fetches the same page again and
 * skips the rows already yielded (a locator always gives the same rows).
 */
function readPage(http: OrgHttp, tuning: BulkTuning, id: string, locator: string, fields: readonly FieldSummary[]): { records: AsyncIterable<SObjectRecord[]>; next: () => string | undefined } {
  let next: string | undefined;
  const path = http.dataPath(`/jobs/query/${id}/results?maxRecords=${tuning.pageSize}${locator ? `&locator=${encodeURIComponent(locator)}` : ''}`);
  async function* records(): AsyncIterable<SObjectRecord[]> {
    let delivered = 0;
    for (let attempt = 1; ; attempt++) {
      try {
        const response = await http.open('GET', path, 'text/csv');
        const header = response.headers.get('sforce-locator');
        next = header && header !== 'null' ? header : undefined;
        let row = 0;
        let batch: SObjectRecord[] = [];
        let read: ((r: readonly string[]) => SObjectRecord) | undefined;
        for await (const cells of csvRows(response)) {
          if (!read) {
            read = rowReader(cells, fields);
            continue;
          }
          if (row++ < delivered) continue;
          batch.push(read(cells));
          if (batch.length >= tuning.batchSize) {
            delivered += batch.length;
            yield batch;
            batch = [];
          }
        }
        if (batch.length > 0) {
          delivered += batch.length;
          yield batch;
        }
        return;
      } catch (error) {
        if (!isNetworkError(error)) throw error;
        if (attempt >= http.retry.attempts) throw networkError(error, `GET results of Bulk job ${id}`);
        const delay = backoffDelay(http.retry, attempt - 1);
        http.log(`Reading results of Bulk job ${id} failed (${(error as Error).message}); attempt ${attempt + 1} of ${http.retry.attempts} in ${delay} ms`);
        await sleep(delay);
      }
    }
  }
  return { records: records(), next: () => next };
}

/** CSV rows as string arrays, parsed while the body streams in. */
function csvRows(response: Response): AsyncIterable<string[]> {
  const parser = parse({ bom: true, relax_quotes: false });
  const body = response.body ? Readable.fromWeb(response.body as WebReadableStream<Uint8Array>) : Readable.from([]);
  // pipeline destroys the parser with the body's error, which the reader then sees.
  pipeline(body, parser).catch(() => {});
  return parser as AsyncIterable<string[]>;
}

/** Aborts an unfinished job, then deletes it; a failure here is logged, never raised over the real outcome. */
export async function cleanUp(http: OrgHttp, id: string, terminated: boolean, kind: JobKind = 'query'): Promise<void> {
  try {
    if (!terminated) {
      await http.json('PATCH', http.dataPath(`/jobs/${kind}/${id}`), { body: { state: 'Aborted' } }).catch(() => undefined);
    }
    await http.json('DELETE', http.dataPath(`/jobs/${kind}/${id}`));
  } catch (error) {
    http.log(`Could not delete Bulk ${kind} job ${id}: ${(error as Error).message}`);
  }
}
