import type { Context, Hono } from 'hono';
import type { AppEnv, EmulatorContext } from '../server/context.ts';
import { SalesforceError } from '../org/errors.ts';
import { bulkJobFault } from '../behaviours/faults.ts';
import type { Org } from '../org/org.ts';
import { respondWithError } from '../server/respond.ts';
import { executeSoql } from '../soql/execute.ts';
import type { QuerySource } from '../soql/source.ts';
import { COLUMN_DELIMITERS, LINE_ENDINGS } from './csv.ts';
import { queryResultSet } from './result-csv.ts';
import {
  bulkError,
  jobFormat,
  jobInfo,
  jobNotFound,
  jsonResponse,
  listJobs,
  readJsonBody,
  resource,
} from './http.ts';
import {
  BULK_INTERNAL_FAILURE,
  addJob,
  bulkState,
  bulkUsage,
  countQueryResult,
  deleteJob,
  findJob,
  isLive,
  later,
  setJobState,
} from './jobs.ts';
import type { QueryJob, QueryResult } from './jobs.ts';

/** Rows formatted per chunk of a streamed result page: big enough to amortise, small enough to interleave. */
const CHUNK_ROWS = 2_000;

/**
 * Bulk API 2.0 query jobs (`/jobs/query`). A job is checked when it is created (Salesforce rejects
 * bad SOQL and what Bulk cannot do with a 400 at once), then runs on a timer: UploadComplete,
 * InProgress, then JobComplete with its rows snapshotted, or Failed. Results are CSV pages
 * addressed by `Sforce-Locator`.
 */
export function registerQueryJobRoutes(app: Hono<AppEnv>, ctx: EmulatorContext): void {
  const org = ctx.org;
  resource(app, '/jobs/query', { POST: (c) => createQueryJob(c, org), GET: (c) => listJobs(c, org, 'query') });
  resource(app, '/jobs/query/:id', {
    GET: (c) => withJob(c, org, (job) => jsonResponse(c, 200, jobInfo(job, 'detail'))),
    PATCH: (c) => withJob(c, org, (job) => abortQueryJob(c, org, job)),
    DELETE: (c) => withJob(c, org, (job) => deleteQueryJob(c, org, job)),
  });
  resource(app, '/jobs/query/:id/results', { GET: (c) => withJob(c, org, (job) => serveResults(c, org, job)) });
}

function withJob(c: Context<AppEnv>, org: Org, handle: (job: QueryJob) => Response | Promise<Response>): Response | Promise<Response> {
  const job = findJob(org, 'query', c.req.param('id') ?? '');
  return job ? handle(job) : jobNotFound(c);
}

async function createQueryJob(c: Context<AppEnv>, org: Org): Promise<Response> {
  const parsed = await readJsonBody(c);
  if ('error' in parsed) return parsed.error;
  const body = parsed.body;
  const operation = body.operation;
  if (operation === undefined || operation === null) return bulkError(c, 400, 'INVALIDJOB', 'Operation is required');
  if (operation !== 'query' && operation !== 'queryAll') {
    return bulkError(c, 400, 'JSON_PARSER_ERROR', `Cannot deserialize value of type OperationEnum from String "${String(operation)}": value not one of declared Enum instance names: [query, queryAll] at [line:1, column:1]`);
  }
  const soql = body.query;
  if (typeof soql !== 'string' || soql.trim() === '') return bulkError(c, 400, 'INVALIDJOB', 'Query is required');
  const format = jobFormat(c, body);
  if ('error' in format) return format.error;

  // Compiling against a source with no rows checks everything Salesforce checks at creation
  // (grammar, names, what Bulk cannot do) without paying for the scan.
  const source = org.querySource();
  const probe: QuerySource = { ...source, scan: () => [] };
  let object: string;
  try {
    object = executeSoql(probe, soql, { includeDeleted: operation === 'queryAll', context: 'bulk' }).object;
  } catch (error) {
    return respondWithError(c, error);
  }
  const def = org.visibleSchema.object(object)?.def;
  if (def?.bulkQueryable === false) return bulkError(c, 400, 'INVALIDENTITY', `Entity '${object}' is not supported by the Bulk API.`);
  const usage = bulkUsage(org).queryJobs;
  if (usage.used >= usage.max) {
    return bulkError(c, 400, 'EXCEEDEDQUOTA', `Exceeded the maximum of ${usage.max.toLocaleString('en-US')} Bulk API 2.0 query jobs in a rolling 24-hour period`);
  }

  const job = addJob<QueryJob>(org, {
    kind: 'query',
    operation,
    object,
    query: soql,
    createdById: c.get('session').userId,
    state: 'UploadComplete',
    apiVersion: c.get('apiVersion'),
    lineEnding: format.lineEnding,
    columnDelimiter: format.columnDelimiter,
    numberRecordsProcessed: 0,
    processingMs: 0,
    isPkChunkingSupported: !def?.bigObject,
  });
  const state = bulkState(org);
  state.queryJobStarts.push(org.clock.nowMs());
  const step = state.settings.stepDelayMs;
  later(step, () => {
    if (job.state !== 'UploadComplete') return;
    setJobState(org, job, 'InProgress');
    later(step, () => runQueryJob(org, job));
  });
  return jsonResponse(c, 200, jobInfo(job, 'created'));
}

/** Rows measured to size a result: enough for a stable average, cheap for a million-row result. */
const SIZE_SAMPLE_ROWS = 1_000;

/**
 * The size of a result's CSV, for DailyBulkV2QueryFileStorageMB: measured exactly up to the sample
 * size, extrapolated from its first rows beyond (results are written page by page on demand).
 */
function resultBytes(result: QueryResult): number {
  const sampled = Math.min(result.size, SIZE_SAMPLE_ROWS);
  const header = Buffer.byteLength(result.header);
  if (!sampled) return header;
  return header + Math.round((result.rows(0, sampled).byteLength * result.size) / sampled);
}

/** Runs the query and keeps its rows: the result set is the org as it was at this moment. */
function runQueryJob(org: Org, job: QueryJob): void {
  if (job.state !== 'InProgress' || !isLive(org, job)) return;
  // An injected fault: the job fails as Salesforce's internal errors fail it, or never finishes.
  const fault = bulkJobFault(org, { object: job.object, operation: job.operation });
  if (fault === 'hang') return;
  if (fault === 'fail') {
    setJobState(org, job, 'Failed', BULK_INTERNAL_FAILURE);
    return;
  }
  const started = performance.now();
  try {
    const source = org.querySource();
    const plan = executeSoql(source, job.query, { includeDeleted: job.operation === 'queryAll', context: 'bulk' });
    job.result = queryResultSet(plan, job.query, source, COLUMN_DELIMITERS[job.columnDelimiter], LINE_ENDINGS[job.lineEnding]);
    job.numberRecordsProcessed = plan.rows.length;
    countQueryResult(org, resultBytes(job.result));
    setJobState(org, job, 'JobComplete');
  } catch (error) {
    // The schema or permissions changed since the job was accepted.
    const message = error instanceof SalesforceError ? `${error.errorCode}: ${error.message}` : 'UNKNOWN_EXCEPTION: An unexpected error occurred.';
    if (!(error instanceof SalesforceError)) console.error('[emulator] bulk query failed', error);
    setJobState(org, job, 'Failed', message);
  }
  job.processingMs = Math.round(performance.now() - started);
}

async function abortQueryJob(c: Context<AppEnv>, org: Org, job: QueryJob): Promise<Response> {
  const parsed = await readJsonBody(c);
  if ('error' in parsed) return parsed.error;
  const state = parsed.body.state;
  if (state !== 'Aborted') {
    return bulkError(c, 400, 'INVALIDJOBSTATE', `Invalid state for a query job: ${String(state)}. A query job can only be changed to Aborted`);
  }
  if (job.state !== 'UploadComplete' && job.state !== 'InProgress') {
    const word = job.state === 'JobComplete' ? 'Completed' : job.state;
    return bulkError(c, 400, 'INVALIDJOBSTATE', `Aborting already ${word} Job not allowed`);
  }
  setJobState(org, job, 'Aborted');
  return jsonResponse(c, 200, jobInfo(job, 'changed'));
}

function deleteQueryJob(c: Context<AppEnv>, org: Org, job: QueryJob): Response {
  if (job.state !== 'JobComplete' && job.state !== 'Aborted' && job.state !== 'Failed') {
    return bulkError(c, 400, 'API_ERROR', 'Error encountered when deleting the job because the job is not terminated');
  }
  deleteJob(org, job);
  return c.body(null, 204);
}

// ------------------------------------------------------------------------------------ results

/** `Sforce-Locator` values: the next page's first row, base64 like Salesforce's (`MTAwMDA` is 10000). */
function encodeLocator(offset: number): string {
  return Buffer.from(String(offset)).toString('base64url');
}

function decodeLocator(locator: string): number | undefined {
  if (!/^[A-Za-z0-9_-]+={0,2}$/.test(locator)) return undefined;
  const text = Buffer.from(locator, 'base64url').toString('latin1');
  return /^\d{1,12}$/.test(text) ? Number(text) : undefined;
}

function serveResults(c: Context<AppEnv>, org: Org, job: QueryJob): Response {
  if (c.get('apiVersion') !== job.apiVersion) {
    return bulkError(c, 409, 'INVALIDVERSION', `The job was created with API version ${job.apiVersion}; get its results with the same version`);
  }
  const result = job.result;
  if (job.state !== 'JobComplete' || !result) {
    return bulkError(c, 400, 'JOB_NOT_COMPLETE', `Job is not complete. Current state: ${job.state}`);
  }
  const locator = c.req.query('locator');
  const offset = locator === undefined || locator === '' ? 0 : decodeLocator(locator);
  if (offset === undefined || offset > result.size) return bulkError(c, 400, 'INVALIDLOCATOR', `Invalid locator: ${locator ?? ''}`);
  const rawMax = c.req.query('maxRecords');
  let pageSize = bulkState(org).settings.resultPageSize;
  if (rawMax !== undefined && rawMax !== '') {
    if (!/^\d+$/.test(rawMax) || Number(rawMax) < 1) return bulkError(c, 400, 'INVALIDMAXRECORDS', `maxRecords must be a positive whole number: ${rawMax}`);
    pageSize = Number(rawMax);
  }
  const end = Math.min(result.size, offset + pageSize);
  let at = offset;
  let headerSent = false;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (!headerSent) {
        controller.enqueue(Buffer.from(result.header));
        headerSent = true;
      }
      if (at >= end) {
        controller.close();
        return;
      }
      const to = Math.min(end, at + CHUNK_ROWS);
      controller.enqueue(result.rows(at, to));
      at = to;
    },
  });
  return c.body(body, 200, {
    'Content-Type': 'text/csv; charset=UTF-8',
    'Sforce-Locator': end < result.size ? encodeLocator(end) : 'null',
    'Sforce-NumberOfRecords': String(end - offset),
  });
}
