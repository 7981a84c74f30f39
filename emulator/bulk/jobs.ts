import type { Org } from '../org/org.ts';
import type { Session } from '../server/context.ts';
import type { ColumnDelimiter, LineEnding } from './csv.ts';

/**
 * Bulk API 2.0 jobs of one org: the job store and the daily allocations jobs count against. Query
 * and ingest jobs share one store (one ID space, `750` like Salesforce's) but each resource only
 * sees its own kind. The state lives beside the org (a WeakMap), not in it: it is API state, not data.
 */

export type JobState = 'Open' | 'UploadComplete' | 'InProgress' | 'JobComplete' | 'Failed' | 'Aborted';

interface JobBase {
  id: string;
  object: string;
  createdById: string;
  createdMs: number;
  modstampMs: number;
  state: JobState;
  /** `59.0`: results must be fetched with the version the job was created with. */
  apiVersion: string;
  lineEnding: LineEnding;
  columnDelimiter: ColumnDelimiter;
  errorMessage?: string;
  numberRecordsProcessed: number;
  /** Real milliseconds spent processing (totalProcessingTime). */
  processingMs: number;
}

export interface QueryJob extends JobBase {
  kind: 'query';
  operation: 'query' | 'queryAll';
  query: string;
  isPkChunkingSupported: boolean;
  /** Set when the job ran: the page writer over the snapshot of matching rows. */
  result?: QueryResult;
}

/** A query job's result set as of the moment it ran. */
export interface QueryResult {
  size: number;
  header: string;
  /** UTF-8 CSV of rows [start, end), each followed by the job's line ending. */
  rows(start: number, end: number): Uint8Array;
}

export type IngestOperation = 'insert' | 'update' | 'upsert' | 'delete' | 'hardDelete';

/** One input row's outcome, in input order. */
export type RowOutcome = { ok: true; id: string; created: boolean } | { ok: false; error: string };

export interface IngestJob extends JobBase {
  kind: 'ingest';
  operation: IngestOperation;
  externalIdFieldName?: string;
  /** The session that created the job: records are written as its user. */
  session: Session;
  /** Raw uploaded CSV, kept until processing parses it. */
  upload?: string;
  /** PUTs received: Salesforce accepts several but refuses to close such a job. */
  uploads: number;
  header: string[];
  rows: string[][];
  outcomes: RowOutcome[];
  numberRecordsFailed: number;
}

export type BulkJob = QueryJob | IngestJob;

/** Emulator knobs; tests shrink pages and delays to exercise paging without big data. */
export interface BulkSettings {
  /** Records per result page when the client gives no maxRecords. */
  resultPageSize: number;
  /** Real milliseconds between state changes (UploadComplete → InProgress → run). */
  stepDelayMs: number;
  /** Records written per sObject Collections call while processing an ingest job (at most 200). */
  ingestChunkSize: number;
  /** Jobs per page of Get Information About All Jobs; Salesforce's is 1,000. */
  listPageSize: number;
}

/**
 * Salesforce documents no fixed default page size (it is "based on the service" and bounded by
 * size); 50,000 records keeps pages of wide objects to tens of megabytes.
 */
const DEFAULT_SETTINGS: BulkSettings = { resultPageSize: 50_000, stepDelayMs: 10, ingestChunkSize: 200, listPageSize: 1_000 };

const DAY_MS = 86_400_000;
/** Salesforce deletes Bulk API 2.0 jobs (and their data) seven days after creation. */
const JOB_LIFETIME_MS = 7 * DAY_MS;
const DAILY_QUERY_JOBS = 10_000;
const DAILY_BULK_BATCHES = 15_000;
/** DailyBulkV2QueryFileStorageMB: the megabytes of query results an org may produce in 24 hours. */
const DAILY_QUERY_STORAGE_MB = 976_562;
const MB = 1 << 20;
/** Get All Jobs cursors kept at once; a client that stops paging leaves one behind. */
const MAX_LIST_CURSORS = 50;
/** Salesforce splits ingest data into internal batches of this many records. */
export const RECORDS_PER_BATCH = 10_000;

/** The errorMessage of a job Salesforce gave up on after its internal retries. */
export const BULK_INTERNAL_FAILURE = 'InternalServerError : retried more than 15 times';

class BulkState {
  readonly jobs = new Map<string, BulkJob>();
  /** Org-clock creation times of query jobs, for DailyBulkV2QueryJobs. */
  readonly queryJobStarts: number[] = [];
  /** Org-clock times and batch counts of processed ingest jobs, for DailyBulkApiBatches. */
  readonly ingestBatches: { ms: number; count: number }[] = [];
  /** Org-clock times and sizes of completed query results, for DailyBulkV2QueryFileStorageMB. */
  readonly queryResultBytes: { ms: number; bytes: number }[] = [];
  /** `Get Information About All Jobs` cursors: a snapshot of job IDs by locator key. */
  readonly listCursors = new Map<string, string[]>();
  readonly settings: BulkSettings = { ...DEFAULT_SETTINGS };
}

const states = new WeakMap<Org, BulkState>();

/** The Bulk API state of an org, created on first use. */
export function bulkState(org: Org): BulkState {
  let state = states.get(org);
  if (!state) {
    state = new BulkState();
    states.set(org, state);
  }
  return state;
}

/** Overrides emulator settings for an org (tests: small result pages, short delays). */
export function configureBulk(org: Org, settings: Partial<BulkSettings>): void {
  Object.assign(bulkState(org).settings, settings);
}

/** One allocation: its size and what the rolling 24 hours have used of it. */
export interface BulkAllocation {
  max: number;
  used: number;
}

/**
 * Bulk usage over the rolling 24 hours ending at the org's current time, for `/limits`:
 * DailyBulkV2QueryJobs counts query jobs created; DailyBulkApiBatches counts the 10,000-record
 * batches Salesforce splits ingest data into; DailyBulkV2QueryFileStorageMB the megabytes of
 * query results produced (rounded up as a whole).
 */
export function bulkUsage(org: Org): { queryJobs: BulkAllocation; ingestBatches: BulkAllocation; queryStorageMB: BulkAllocation } {
  const state = bulkState(org);
  const since = org.clock.nowMs() - DAY_MS;
  let queryJobs = 0;
  for (const ms of state.queryJobStarts) if (ms > since) queryJobs++;
  let batches = 0;
  for (const b of state.ingestBatches) if (b.ms > since) batches += b.count;
  let bytes = 0;
  for (const r of state.queryResultBytes) if (r.ms > since) bytes += r.bytes;
  return {
    queryJobs: { max: DAILY_QUERY_JOBS, used: queryJobs },
    ingestBatches: { max: DAILY_BULK_BATCHES, used: batches },
    queryStorageMB: { max: DAILY_QUERY_STORAGE_MB, used: Math.ceil(bytes / MB) },
  };
}

/** Records the size of a completed query job's result against DailyBulkV2QueryFileStorageMB. */
export function countQueryResult(org: Org, bytes: number): void {
  bulkState(org).queryResultBytes.push({ ms: org.clock.nowMs(), bytes });
}

/** Forgets the Bulk allocations used (the admin API's reset): jobs stay, the counters restart. */
export function resetBulkUsage(org: Org): void {
  const state = bulkState(org);
  state.queryJobStarts.length = 0;
  state.ingestBatches.length = 0;
  state.queryResultBytes.length = 0;
}

/** A job of one kind by ID, or undefined (unknown, deleted, expired or of the other kind). */
export function findJob<K extends BulkJob['kind']>(org: Org, kind: K, id: string): Extract<BulkJob, { kind: K }> | undefined {
  const state = bulkState(org);
  expireJobs(org, state);
  const job = state.jobs.get(id) ?? (id.length === 15 ? [...state.jobs.values()].find((j) => j.id.startsWith(id)) : undefined);
  return job?.kind === kind ? (job as Extract<BulkJob, { kind: K }>) : undefined;
}

/** Drops jobs past their lifetime and allocation history older than a day. */
export function expireJobs(org: Org, state: BulkState = bulkState(org)): void {
  const cutoff = org.clock.nowMs() - JOB_LIFETIME_MS;
  for (const [id, job] of state.jobs) if (job.createdMs < cutoff) state.jobs.delete(id);
  // Allocation windows never need more than a day of history.
  const since = org.clock.nowMs() - DAY_MS;
  while (state.queryJobStarts.length && state.queryJobStarts[0]! <= since) state.queryJobStarts.shift();
  while (state.ingestBatches.length && state.ingestBatches[0]!.ms <= since) state.ingestBatches.shift();
  while (state.queryResultBytes.length && state.queryResultBytes[0]!.ms <= since) state.queryResultBytes.shift();
}

/** Adds a new job, stamped with the org's time (whole seconds, as Salesforce shows them). */
export function addJob<J extends BulkJob>(org: Org, job: Omit<J, 'id' | 'createdMs' | 'modstampMs'>): J {
  const nowMs = Math.floor(org.clock.nowMs() / 1000) * 1000;
  const full = { ...job, id: org.ids.next('750'), createdMs: nowMs, modstampMs: nowMs } as J;
  const state = bulkState(org);
  expireJobs(org, state);
  state.jobs.set(full.id, full);
  return full;
}

/** Moves a job to a state; systemModstamp follows (whole seconds). */
export function setJobState(org: Org, job: BulkJob, state: JobState, errorMessage?: string): void {
  job.state = state;
  job.modstampMs = Math.max(job.modstampMs, Math.floor(org.clock.nowMs() / 1000) * 1000);
  if (errorMessage !== undefined) job.errorMessage = errorMessage;
}

/** Deletes a job and its data; processing still scheduled for it stops. */
export function deleteJob(org: Org, job: BulkJob): void {
  bulkState(org).jobs.delete(job.id);
}

/** Whether a job is still the one stored under its ID (not deleted or expired). */
export function isLive(org: Org, job: BulkJob): boolean {
  return bulkState(org).jobs.get(job.id) === job;
}

/** Keeps a Get All Jobs cursor, dropping the oldest beyond a bound. */
export function keepListCursor(org: Org, key: string, ids: string[]): void {
  const cursors = bulkState(org).listCursors;
  cursors.set(key, ids);
  for (const oldest of cursors.keys()) {
    if (cursors.size <= MAX_LIST_CURSORS) break;
    cursors.delete(oldest);
  }
}

/** Runs `fn` after a real delay without holding the process open. */
export function later(ms: number, fn: () => void): void {
  setTimeout(fn, ms).unref();
}
