import { Hono } from 'hono';
import type { Context } from 'hono';
import type { AppEnv, EmulatorContext } from '../server/context.ts';
import { bulkJobFault } from '../behaviours/faults.ts';
import { toId18 } from '../org/ids.ts';
import type { Org, OrgChange } from '../org/org.ts';
import type { FieldDef, ObjectSchema, Schema } from '../org/schema.ts';
import { registerCompositeRoutes } from '../rest/composite.ts';
import { respondWithError } from '../server/respond.ts';
import { COLUMN_DELIMITERS, LINE_ENDINGS, headerCell, parseHeader, parseJobData, quoted } from './csv.ts';
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
  RECORDS_PER_BATCH,
  addJob,
  bulkState,
  deleteJob,
  findJob,
  isLive,
  later,
  setJobState,
} from './jobs.ts';
import type { IngestJob, IngestOperation, RowOutcome } from './jobs.ts';

const OPERATIONS: IngestOperation[] = ['insert', 'delete', 'hardDelete', 'update', 'upsert'];
/** Upload Job Data accepts at most 150 MB once base64-encoded, as Salesforce stores it. */
const MAX_UPLOAD_BASE64_BYTES = 150 * 1024 * 1024;
/** `#N/A` in a cell sets the field to null; an empty cell leaves it alone. */
const NULL_CELL = '#N/A';
const MAX_COLLECTION_RECORDS = 200;

/**
 * Bulk API 2.0 ingest jobs (`/jobs/ingest`): create, upload CSV once, close, then processing on a
 * timer. Every record goes through the sObject Collections handlers the REST API serves (run
 * in-process, never over the network), so a row fails with exactly the error a REST write of the
 * same record gets, and triggers, validation rules and duplicate rules run the same way.
 */
export function registerIngestJobRoutes(app: Hono<AppEnv>, ctx: EmulatorContext): void {
  const org = ctx.org;
  const withJob = (handle: (c: Context<AppEnv>, job: IngestJob) => Response | Promise<Response>) => (c: Context<AppEnv>) => {
    const job = findJob(org, 'ingest', c.req.param('id') ?? '');
    return job ? handle(c, job) : jobNotFound(c);
  };
  resource(app, '/jobs/ingest', { POST: (c) => createIngestJob(c, ctx), GET: (c) => listJobs(c, org, 'ingest') });
  resource(app, '/jobs/ingest/:id', {
    GET: withJob((c, job) => jsonResponse(c, 200, jobInfo(job, 'detail'))),
    PATCH: withJob((c, job) => changeIngestState(c, ctx, job)),
    DELETE: withJob((c, job) => deleteIngestJob(c, org, job)),
  });
  resource(app, '/jobs/ingest/:id/batches', { PUT: withJob((c, job) => uploadJobData(c, job)) });
  resource(app, '/jobs/ingest/:id/successfulResults', { GET: withJob((c, job) => csvResponse(c, successfulResults(job))) });
  resource(app, '/jobs/ingest/:id/failedResults', { GET: withJob((c, job) => csvResponse(c, failedResults(job))) });
  resource(app, '/jobs/ingest/:id/unprocessedrecords', { GET: withJob((c, job) => csvResponse(c, unprocessedRecords(job))) });
}

// ------------------------------------------------------------------------------------ lifecycle

async function createIngestJob(c: Context<AppEnv>, ctx: EmulatorContext): Promise<Response> {
  const org = ctx.org;
  // A multipart request creates the job and uploads its data in one call, and closes it.
  let content: string | undefined;
  let body: Record<string, unknown>;
  if ((c.req.header('Content-Type') ?? '').toLowerCase().startsWith('multipart/form-data')) {
    let form: FormData;
    try {
      form = await c.req.formData();
    } catch (error) {
      return bulkError(c, 400, 'CLIENTINPUTERROR', `Malformed multipart request: ${error instanceof Error ? error.message : String(error)}`);
    }
    const part = (name: string): Promise<string | undefined> => {
      const value = form.get(name);
      return value === null ? Promise.resolve(undefined) : typeof value === 'string' ? Promise.resolve(value) : value.text();
    };
    try {
      body = JSON.parse((await part('job')) ?? '{}') as Record<string, unknown>;
    } catch (error) {
      return bulkError(c, 400, 'JSON_PARSER_ERROR', `${error instanceof Error ? error.message : 'Unexpected character'} at [line:1, column:1]`);
    }
    content = (await part('content')) ?? '';
  } else {
    const parsed = await readJsonBody(c);
    if ('error' in parsed) return parsed.error;
    body = parsed.body;
  }

  const operation = body.operation;
  if (operation === undefined || operation === null) return bulkError(c, 400, 'INVALIDJOB', 'Operation is required');
  if (!OPERATIONS.includes(operation as IngestOperation)) {
    return bulkError(c, 400, 'JSON_PARSER_ERROR', `Cannot deserialize value of type OperationEnum from String "${String(operation)}": value not one of declared Enum instance names: [${OPERATIONS.join(', ')}] at [line:1, column:1]`);
  }
  const objectName = typeof body.object === 'string' ? body.object : '';
  const object = org.visibleSchema.object(objectName);
  if (!object) return bulkError(c, 400, 'INVALIDJOB', `Unable to find object: ${objectName}`);
  let externalIdFieldName: string | undefined;
  if (operation === 'upsert') {
    const raw = typeof body.externalIdFieldName === 'string' ? body.externalIdFieldName.trim() : '';
    if (!raw) return bulkError(c, 400, 'INVALIDJOB', `External ID was blank for ${object.name}. An External ID must be specified for upsert.`);
    const field = object.field(raw);
    if (!field || !(field.name === 'Id' || field.externalId || field.idLookup)) {
      return bulkError(c, 400, 'INVALIDJOB', `Field name provided, ${raw} does not match an External ID, Salesforce Id, or indexed field for ${object.name}`);
    }
    externalIdFieldName = field.name;
  }
  const format = jobFormat(c, body);
  if ('error' in format) return format.error;

  const job = addJob<IngestJob>(org, {
    kind: 'ingest',
    operation: operation as IngestOperation,
    object: object.name,
    externalIdFieldName,
    createdById: c.get('session').userId,
    session: c.get('session'),
    state: 'Open',
    apiVersion: c.get('apiVersion'),
    lineEnding: format.lineEnding,
    columnDelimiter: format.columnDelimiter,
    numberRecordsProcessed: 0,
    numberRecordsFailed: 0,
    processingMs: 0,
    uploads: 0,
    header: [],
    rows: [],
    outcomes: [],
  });
  if (content !== undefined) {
    job.upload = content;
    job.uploads = 1;
    closeJob(ctx, job);
  }
  return jsonResponse(c, 200, jobInfo(job, 'created'));
}

async function uploadJobData(c: Context<AppEnv>, job: IngestJob): Promise<Response> {
  if (job.state !== 'Open') return bulkError(c, 400, 'INVALIDJOBSTATE', `Job is not in the Open state and cannot accept data; its state is ${job.state}`);
  const type = (c.req.header('Content-Type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'text/csv') {
    return bulkError(c, 415, 'UNSUPPORTED_MEDIA_TYPE', `Content-Type header specified in HTTP request is not supported: ${c.req.header('Content-Type') ?? ''}`);
  }
  const tooLarge = (bytes: number): boolean => Math.ceil(bytes / 3) * 4 > MAX_UPLOAD_BASE64_BYTES;
  const declared = Number(c.req.header('Content-Length'));
  const exceeded = (): Response => bulkError(c, 400, 'CLIENTINPUTERROR', 'The job data exceeds the maximum of 150 MB (base64 encoded); upload at most 100 MB of CSV per job');
  if (Number.isFinite(declared) && tooLarge(declared)) return exceeded();
  const text = await c.req.text();
  if (tooLarge(Buffer.byteLength(text))) return exceeded();
  job.uploads++;
  if (job.uploads === 1) job.upload = text;
  return c.body(null, 201);
}

async function changeIngestState(c: Context<AppEnv>, ctx: EmulatorContext, job: IngestJob): Promise<Response> {
  const parsed = await readJsonBody(c);
  if ('error' in parsed) return parsed.error;
  const state = parsed.body.state;
  if (state === 'UploadComplete') {
    if (job.state !== 'Open') return bulkError(c, 400, 'INVALIDJOBSTATE', `Job state ${job.state} cannot be changed to UploadComplete; only an Open job can be closed`);
    if (job.uploads > 1) {
      return bulkError(c, 400, 'INVALIDJOB', `Found multipe contents for job: <${job.id.slice(0, 15)}>, please 'Close' / 'Abort' / 'Delete' the current Job then create a new Job and make sure you only do 'PUT' once on a given Job.`);
    }
    closeJob(ctx, job);
    return jsonResponse(c, 200, jobInfo(job, 'changed'));
  }
  if (state === 'Aborted') {
    if (job.state !== 'Open' && job.state !== 'UploadComplete' && job.state !== 'InProgress') {
      const word = job.state === 'JobComplete' ? 'Completed' : job.state;
      return bulkError(c, 400, 'INVALIDJOBSTATE', `Aborting already ${word} Job not allowed`);
    }
    setJobState(ctx.org, job, 'Aborted');
    return jsonResponse(c, 200, jobInfo(job, 'changed'));
  }
  return bulkError(c, 400, 'INVALIDJOBSTATE', `Invalid state for an ingest job: ${String(state)}. Use UploadComplete or Aborted`);
}

function deleteIngestJob(c: Context<AppEnv>, org: Org, job: IngestJob): Response {
  if (job.state === 'Open' || job.state === 'InProgress') {
    return bulkError(c, 400, 'API_ERROR', 'Error encountered when deleting the job because the job is not terminated');
  }
  deleteJob(org, job);
  return c.body(null, 204);
}

/** UploadComplete: processing starts on a timer, as Salesforce queues it. */
function closeJob(ctx: EmulatorContext, job: IngestJob): void {
  const org = ctx.org;
  setJobState(org, job, 'UploadComplete');
  const step = bulkState(org).settings.stepDelayMs;
  later(step, () => {
    if (job.state !== 'UploadComplete' || !isLive(org, job)) return;
    setJobState(org, job, 'InProgress');
    later(step, () => {
      processJob(ctx, job).catch((error: unknown) => {
        console.error('[emulator] bulk ingest failed', error);
        setJobState(org, job, 'Failed', 'Unknown : Exception with unknown cause occurred.');
      });
    });
  });
}

// ------------------------------------------------------------------------------------ processing

async function processJob(ctx: EmulatorContext, job: IngestJob): Promise<void> {
  const org = ctx.org;
  const started = performance.now();
  const live = (): boolean => job.state === 'InProgress' && isLive(org, job);
  try {
    if (!live()) return;
    // An injected fault: the job fails as Salesforce's internal errors fail it, or never finishes.
    const fault = bulkJobFault(org, { object: job.object, operation: job.operation });
    if (fault === 'hang') return;
    if (fault === 'fail') {
      setJobState(org, job, 'Failed', BULK_INTERNAL_FAILURE);
      return;
    }
    try {
      const parsed = parseJobData(job.upload ?? '', job.columnDelimiter, job.lineEnding);
      job.header = parsed.header;
      job.rows = parsed.rows;
    } catch (error) {
      setJobState(org, job, 'Failed', `InvalidBatch : ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    job.upload = undefined;
    const object = org.visibleSchema.object(job.object);
    const columns = object ? planColumns(org.visibleSchema, object, job) : { error: `Unable to find object: ${job.object}` };
    if ('error' in columns) {
      setJobState(org, job, 'Failed', `InvalidBatch : ${columns.error}`);
      return;
    }
    bulkState(org).ingestBatches.push({ ms: org.clock.nowMs(), count: Math.ceil(job.rows.length / RECORDS_PER_BATCH) });
    const collections = collectionsApp(ctx, job);
    // sObject Collections take at most 200 records a call.
    const chunk = Math.max(1, Math.min(MAX_COLLECTION_RECORDS, bulkState(org).settings.ingestChunkSize));
    for (let at = 0; at < job.rows.length; at += chunk) {
      if (!live()) return;
      const rows = job.rows.slice(at, at + chunk);
      const outcomes = await writeRows(org, collections, job, object!, columns.plan, rows);
      for (const outcome of outcomes) {
        job.outcomes.push(outcome);
        if (!outcome.ok) job.numberRecordsFailed++;
      }
      job.numberRecordsProcessed = job.outcomes.length;
      // Let polls and other API calls in between chunks, as a real org keeps serving them.
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (live()) setJobState(org, job, 'JobComplete');
  } finally {
    job.processingMs = Math.round(performance.now() - started);
  }
}

/** How each CSV column is written: a field, a parent found by external ID, or ignored. */
type Column =
  | { kind: 'field'; name: string }
  | { kind: 'parent'; field: string; target: string; lookup: string }
  | { kind: 'skip' };

/**
 * Checks the header row. An unknown column fails the whole job, as Salesforce does
 * (`InvalidBatch : Field name not found : Foo`); a delete only reads the Id column.
 */
function planColumns(schema: Schema, object: ObjectSchema, job: IngestJob): { plan: Column[] } | { error: string } {
  const deleting = job.operation === 'delete' || job.operation === 'hardDelete';
  if (deleting && !job.header.some((h) => h.trim().toLowerCase() === 'id')) return { error: 'Field name not found : Id' };
  const plan: Column[] = [];
  for (const raw of job.header) {
    const name = raw.trim();
    if (deleting) {
      plan.push(name.toLowerCase() === 'id' ? { kind: 'field', name: 'Id' } : { kind: 'skip' });
      continue;
    }
    const field = object.field(name);
    if (field) {
      plan.push({ kind: 'field', name: field.name });
      continue;
    }
    const parent = parentColumn(schema, object, name);
    if (!parent) return { error: `Field name not found : ${name}` };
    plan.push(parent);
  }
  return { plan };
}

/** `Account.External_Id__c`, `Invoice__r.External_Id__c` or `Lead:Who.Email`: a parent by an indexed field. */
function parentColumn(schema: Schema, object: ObjectSchema, name: string): Column | undefined {
  const match = /^(?:([A-Za-z0-9_]+):)?([A-Za-z0-9_]+)\.([A-Za-z0-9_]+)$/.exec(name);
  if (!match) return undefined;
  const [, type, relationship, lookup] = match;
  const reference = object.relationship(relationship!);
  if (!reference?.referenceTo?.length) return undefined;
  const indexed = (f: FieldDef | undefined): f is FieldDef => !!f && (f.name === 'Id' || !!f.externalId || !!f.idLookup);
  const targets = type ? reference.referenceTo.filter((t) => t.toLowerCase() === type.toLowerCase()) : reference.referenceTo;
  for (const target of targets) {
    const targetObject = schema.object(target);
    const field = targetObject?.field(lookup!);
    if (targetObject && indexed(field)) return { kind: 'parent', field: reference.name, target: targetObject.name, lookup: field.name };
  }
  return undefined;
}

interface RowInput {
  values: Record<string, unknown>;
  error?: string;
}

function rowInput(org: Org, plan: Column[], row: string[]): RowInput {
  const values: Record<string, unknown> = {};
  for (let i = 0; i < plan.length; i++) {
    const column = plan[i]!;
    const cell = row[i] ?? '';
    if (column.kind === 'skip' || cell === '') continue;
    if (column.kind === 'field') {
      values[column.name] = cell === NULL_CELL ? null : cell;
      continue;
    }
    if (cell === NULL_CELL) {
      values[column.field] = null;
      continue;
    }
    const matches = org.findByField(column.target, column.lookup, cell);
    if (matches.length !== 1) {
      const problem = matches.length ? 'matched more than one record' : 'not found';
      return { values, error: `INVALID_FIELD:Foreign key external ID: ${cell} ${problem} for field ${column.lookup} in entity ${column.target}:--` };
    }
    values[column.field] = matches[0]!.Id;
  }
  return { values };
}

interface CollectionResult {
  id?: string;
  success: boolean;
  created?: boolean;
  errors?: { statusCode: string; message: string; fields?: string[] }[];
}

/** `sf__Error`: `CODE:message:fields --`, e.g. `REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --`. */
function errorText(errors: CollectionResult['errors']): string {
  return (errors ?? []).map((e) => `${e.statusCode}:${e.message}:${(e.fields ?? []).map((f) => `${f} `).join('')}--`).join('\n');
}

/** The sObject Collections resources, mounted privately and called as the job's user. */
function collectionsApp(ctx: EmulatorContext, job: IngestJob): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.onError((error, c) => respondWithError(c, error));
  app.use('*', async (c, next) => {
    c.set('session', job.session);
    c.set('apiVersion', job.apiVersion);
    await next();
  });
  registerCompositeRoutes(app, ctx);
  return app;
}

/** Writes one chunk of rows (at most 200, the Collections limit) and returns their outcomes in order. */
async function writeRows(org: Org, app: Hono<AppEnv>, job: IngestJob, object: ObjectSchema, plan: Column[], rows: string[][]): Promise<RowOutcome[]> {
  const outcomes: (RowOutcome | undefined)[] = new Array(rows.length);
  const pending: { index: number; record: Record<string, unknown> }[] = [];
  const deleting = job.operation === 'delete' || job.operation === 'hardDelete';
  rows.forEach((row, index) => {
    const input = rowInput(org, plan, row);
    if (input.error) outcomes[index] = { ok: false, error: input.error };
    else if (deleting) {
      const problem = deleteIdProblem(object, input.values.Id);
      if (problem) outcomes[index] = { ok: false, error: problem };
      else pending.push({ index, record: { Id: toId18(String(input.values.Id)) } });
    } else pending.push({ index, record: { attributes: { type: object.name }, ...input.values } });
  });
  if (pending.length) {
    const changes: OrgChange[] = [];
    const stop = job.operation === 'hardDelete' ? org.onChange((batch) => changes.push(...batch)) : undefined;
    let results: CollectionResult[];
    try {
      results = await callCollections(app, job, object, pending.map((p) => p.record));
    } finally {
      stop?.();
    }
    pending.forEach((p, i) => {
      const result = results[i] ?? { success: false, errors: [{ statusCode: 'UNKNOWN_EXCEPTION', message: 'An unexpected error occurred.' }] };
      outcomes[p.index] = result.success && result.id
        ? { ok: true, id: result.id, created: result.created ?? job.operation === 'insert' }
        : { ok: false, error: errorText(result.errors) };
    });
    if (job.operation === 'hardDelete') purgeDeleted(org, changes, outcomes);
  }
  return outcomes as RowOutcome[];
}

/** A delete row's Id problem, worded as the REST row resources word it. */
function deleteIdProblem(object: ObjectSchema, raw: unknown): string | undefined {
  if (raw === undefined || raw === null) return 'MISSING_ARGUMENT:Id not specified in a delete call:--';
  const id18 = toId18(String(raw));
  if (!id18 || id18.slice(0, 3) !== object.def.keyPrefix) return `MALFORMED_ID:${object.def.label} ID: id value of incorrect type: ${String(raw)}:Id --`;
  return undefined;
}

async function callCollections(app: Hono<AppEnv>, job: IngestJob, object: ObjectSchema, records: Record<string, unknown>[]): Promise<CollectionResult[]> {
  let response: Response;
  const json = (method: string, path: string, body: unknown): Promise<Response> =>
    Promise.resolve(app.request(path, { method, body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } }));
  switch (job.operation) {
    case 'insert':
      response = await json('POST', '/composite/sobjects', { allOrNone: false, records });
      break;
    case 'update':
      response = await json('PATCH', '/composite/sobjects', { allOrNone: false, records });
      break;
    case 'upsert':
      response = await json('PATCH', `/composite/sobjects/${object.name}/${job.externalIdFieldName!}`, { allOrNone: false, records });
      break;
    case 'delete':
    case 'hardDelete': {
      const ids = records.map((r) => String(r.Id)).join(',');
      response = await Promise.resolve(app.request(`/composite/sobjects?ids=${ids}&allOrNone=false`, { method: 'DELETE' }));
      break;
    }
  }
  const body = (await response.json()) as unknown;
  if (Array.isArray(body) && response.status === 200) return body as CollectionResult[];
  // A whole-call error (it should not happen with well-formed chunks) fails every row with it.
  const errors = (Array.isArray(body) ? body : []) as { errorCode?: string; message?: string }[];
  const failure: CollectionResult = { success: false, errors: errors.map((e) => ({ statusCode: e.errorCode ?? 'UNKNOWN_EXCEPTION', message: e.message ?? '' })) };
  return records.map(() => failure);
}

/**
 * hardDelete: the records just deleted, and the children their delete cascaded to (one
 * transaction each), leave the Recycle Bin at once.
 */
function purgeDeleted(org: Org, changes: OrgChange[], outcomes: (RowOutcome | undefined)[]): void {
  const deleted = new Set(outcomes.flatMap((o) => (o?.ok ? [o.id] : [])));
  const byTransaction = new Map<string, string[]>();
  for (const change of changes) {
    if (change.changeType !== 'DELETE') continue;
    const ids = byTransaction.get(change.transactionKey) ?? [];
    ids.push(change.recordId);
    byTransaction.set(change.transactionKey, ids);
  }
  for (const ids of byTransaction.values()) {
    if (ids.some((id) => deleted.has(id))) for (const id of ids) org.purge(id);
  }
}

// ------------------------------------------------------------------------------------ results

/** A result file: `"sf__Id"`-style leading columns, then the uploaded columns and values. */
function resultCsv(job: IngestJob, lead: string[], rows: string[][]): string {
  const delimiter = COLUMN_DELIMITERS[job.columnDelimiter];
  const eol = LINE_ENDINGS[job.lineEnding];
  // A job aborted before processing has only its raw upload; its columns are still echoed.
  const header = job.upload !== undefined ? parseHeader(job.upload, job.columnDelimiter, job.lineEnding) : job.header;
  let out = [...lead.map(quoted), ...header.map((h) => headerCell(h, delimiter))].join(delimiter) + eol;
  for (const row of rows) out += row.map(quoted).join(delimiter) + eol;
  return out;
}

function successfulResults(job: IngestJob): string {
  const rows = job.outcomes.flatMap((o, i) => (o.ok ? [[o.id, String(o.created), ...job.rows[i]!]] : []));
  return resultCsv(job, ['sf__Id', 'sf__Created'], rows);
}

function failedResults(job: IngestJob): string {
  const rows = job.outcomes.flatMap((o, i) => (o.ok ? [] : [['', o.error, ...job.rows[i]!]]));
  return resultCsv(job, ['sf__Id', 'sf__Error'], rows);
}

/** Rows never processed: everything after the last processed row of an aborted or failed job. */
function unprocessedRecords(job: IngestJob): string {
  // Data that was never parsed (aborted before processing, or not CSV at all) comes back as sent.
  if (job.upload !== undefined) return job.upload;
  const done = job.state === 'JobComplete' ? job.rows.length : job.outcomes.length;
  return resultCsv(job, [], job.rows.slice(done));
}

function csvResponse(c: Context<AppEnv>, text: string): Response {
  return c.body(text, 200, { 'Content-Type': 'text/csv; charset=UTF-8' });
}
