import { randomBytes } from 'node:crypto';
import type { Context, Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Org } from '../org/org.ts';
import { formatDatetime } from '../org/values.ts';
import type { AppEnv } from '../server/context.ts';
import { errorResponse } from '../server/respond.ts';
import type { ColumnDelimiter, LineEnding } from './csv.ts';
import { bulkState, expireJobs, keepListCursor } from './jobs.ts';
import type { BulkJob } from './jobs.ts';

/**
 * The HTTP side shared by both job resources: job descriptions in Salesforce's JSON shapes, its
 * error bodies, request parsing, and Get All Jobs.
 */

/**
 * A job description, fields in Salesforce's order. `detail` adds what Get Job Info shows beyond
 * the create, close and abort answers; `listed` is the shape of Get All Jobs records.
 */
export function jobInfo(job: BulkJob, shape: 'created' | 'changed' | 'detail' | 'listed'): Record<string, unknown> {
  const info: Record<string, unknown> = {
    id: job.id,
    operation: job.operation,
    object: job.object,
    createdById: job.createdById,
    createdDate: formatDatetime(job.createdMs),
    systemModstamp: formatDatetime(job.modstampMs),
    state: job.state,
  };
  if (job.kind === 'ingest' && job.externalIdFieldName) info.externalIdFieldName = job.externalIdFieldName;
  info.concurrencyMode = 'Parallel';
  info.contentType = 'CSV';
  info.apiVersion = job.apiVersion;
  if (shape === 'changed') return info;
  if (shape !== 'created') info.jobType = job.kind === 'query' ? 'V2Query' : 'V2Ingest';
  if (job.kind === 'ingest' && job.state === 'Open') info.contentUrl = `services/data/v${job.apiVersion}/jobs/ingest/${job.id}/batches`;
  info.lineEnding = job.lineEnding;
  info.columnDelimiter = job.columnDelimiter;
  if (shape !== 'detail') return info;
  if (job.kind === 'query') {
    info.numberRecordsProcessed = job.numberRecordsProcessed;
    info.retries = 0;
    info.totalProcessingTime = job.processingMs;
    info.isPkChunkingSupported = job.isPkChunkingSupported;
  } else {
    if (job.state !== 'Open') {
      info.numberRecordsProcessed = job.numberRecordsProcessed;
      info.numberRecordsFailed = job.numberRecordsFailed;
    }
    info.retries = 0;
    info.totalProcessingTime = job.processingMs;
    info.apiActiveProcessingTime = job.processingMs;
    info.apexProcessingTime = 0;
  }
  if (job.errorMessage !== undefined && job.state === 'Failed') info.errorMessage = job.errorMessage;
  return info;
}

/** A JSON answer whose `apiVersion` is printed as Salesforce prints it: a number with one decimal (`59.0`). */
export function jsonResponse(c: Context<AppEnv>, status: number, body: unknown): Response {
  const text = JSON.stringify(body).replace(/"apiVersion":"(\d+\.\d+)"/g, '"apiVersion":$1');
  return c.body(text, status as ContentfulStatusCode, { 'Content-Type': 'application/json;charset=UTF-8' });
}

/** Salesforce's error body with a single error. */
export function bulkError(c: Context<AppEnv>, status: number, errorCode: string, message: string): Response {
  return errorResponse(c, status, [{ errorCode, message }]);
}

export const jobNotFound = (c: Context<AppEnv>): Response => bulkError(c, 404, 'NOT_FOUND', 'The requested resource does not exist');

type Handler = (c: Context<AppEnv>) => Response | Promise<Response>;

/**
 * Registers a resource's handlers, with and without a trailing slash as Salesforce accepts both,
 * and answers any other method with 405 METHOD_NOT_ALLOWED naming the allowed ones.
 */
export function resource(app: Hono<AppEnv>, path: string, handlers: Partial<Record<'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', Handler>>): void {
  const paths = [path, `${path}/`];
  const allowed = Object.keys(handlers);
  for (const [method, handler] of Object.entries(handlers)) app.on(method, paths, handler);
  app.on(['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].filter((m) => !allowed.includes(m)), paths, (c) =>
    bulkError(c, 405, 'METHOD_NOT_ALLOWED', `HTTP Method '${c.req.method}' not allowed. Allowed are ${allowed.join(',')}`),
  );
}

/** The request body as JSON, or the JSON_PARSER_ERROR answer REST gives for a malformed one. */
export async function readJsonBody(c: Context<AppEnv>): Promise<{ body: Record<string, unknown> } | { error: Response }> {
  const text = await c.req.text();
  let body: unknown;
  try {
    body = text.trim() === '' ? {} : JSON.parse(text);
  } catch (error) {
    const detail = error instanceof Error ? error.message : 'Unexpected character';
    return { error: bulkError(c, 400, 'JSON_PARSER_ERROR', `${detail} at [line:1, column:1]`) };
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    const token = Array.isArray(body) ? 'START_ARRAY' : 'VALUE_STRING';
    return { error: bulkError(c, 400, 'JSON_PARSER_ERROR', `Cannot deserialize instance of JobInfo from ${token} value at [line:1, column:1]`) };
  }
  return { body: body as Record<string, unknown> };
}

/**
 * The job options both kinds share. An enum value Salesforce does not know is a deserialization
 * error, as its REST framework reports one; the message names the value.
 */
export function jobFormat(c: Context<AppEnv>, body: Record<string, unknown>): { lineEnding: LineEnding; columnDelimiter: ColumnDelimiter } | { error: Response } {
  const pick = <T extends string>(key: string, allowed: readonly T[], fallback: T, enumName: string): T | Response => {
    const raw = body[key];
    if (raw === undefined || raw === null) return fallback;
    const value = allowed.find((a) => a === raw);
    return value ?? bulkError(c, 400, 'JSON_PARSER_ERROR', `Cannot deserialize value of type ${enumName} from String "${String(raw)}": value not one of declared Enum instance names: [${allowed.join(', ')}] at [line:1, column:1]`);
  };
  const columnDelimiter = pick<ColumnDelimiter>('columnDelimiter', ['BACKQUOTE', 'CARET', 'COMMA', 'PIPE', 'SEMICOLON', 'TAB'], 'COMMA', 'ColumnDelimiterEnum');
  if (columnDelimiter instanceof Response) return { error: columnDelimiter };
  const lineEnding = pick<LineEnding>('lineEnding', ['LF', 'CRLF'], 'LF', 'LineEndingEnum');
  if (lineEnding instanceof Response) return { error: lineEnding };
  const contentType = pick('contentType', ['CSV'], 'CSV', 'ContentType');
  if (contentType instanceof Response) return { error: contentType };
  return { lineEnding, columnDelimiter };
}

// ------------------------------------------------------------------------------------ listing

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * Get Information About All Query (or Ingest) Jobs: 1,000 jobs a page, with a `queryLocator`
 * continuation. Salesforce's own examples point both resources' `nextRecordsUrl` at
 * `/jobs/ingest`, so a locator here works on either resource.
 */
export function listJobs(c: Context<AppEnv>, org: Org, kind: BulkJob['kind']): Response {
  const state = bulkState(org);
  expireJobs(org, state);
  const locator = c.req.query('queryLocator');
  let ids: string[];
  let offset = 0;
  let key: string;
  if (locator) {
    const match = /^(01g[0-9A-Za-z]{15})-(\d+)$/.exec(locator);
    const cursor = match ? state.listCursors.get(match[1]!) : undefined;
    if (!match || !cursor || Number(match[2]) > cursor.length) return bulkError(c, 400, 'INVALID_QUERY_LOCATOR', 'invalid query locator');
    key = match[1]!;
    ids = cursor;
    offset = Number(match[2]);
  } else {
    ids = [...state.jobs.values()].filter((job) => matchesFilters(c, job, kind)).map((job) => job.id);
    key = '01g';
    for (const b of randomBytes(15)) key += BASE62[b % 62];
    if (ids.length > state.settings.listPageSize) keepListCursor(org, key, ids);
  }
  const end = Math.min(ids.length, offset + state.settings.listPageSize);
  const records = ids.slice(offset, end).flatMap((id) => {
    const job = state.jobs.get(id);
    return job ? [jobInfo(job, 'listed')] : [];
  });
  const done = end >= ids.length;
  if (done) state.listCursors.delete(key);
  const nextRecordsUrl = done ? null : `/services/data/v${c.get('apiVersion')}/jobs/ingest?queryLocator=${key}-${end}`;
  return jsonResponse(c, 200, { done, records, nextRecordsUrl });
}

function matchesFilters(c: Context<AppEnv>, job: BulkJob, kind: BulkJob['kind']): boolean {
  if (job.kind !== kind) return false;
  // PK chunking and job types other than Bulk API 2.0's apply to Bulk API 1.0 jobs only.
  if (c.req.query('isPkChunkingEnabled') === 'true') return false;
  const jobType = c.req.query('jobType');
  if (jobType && jobType !== (kind === 'query' ? 'V2Query' : 'V2Ingest')) return false;
  const mode = c.req.query('concurrencyMode');
  return !mode || mode.toLowerCase() === 'parallel';
}
