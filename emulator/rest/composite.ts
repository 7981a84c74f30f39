import type { Hono } from 'hono';
import type { AppEnv, EmulatorContext } from '../server/context.ts';
import { SalesforceError } from '../org/errors.ts';
import { toId18 } from '../org/ids.ts';
import type { Org, WriteOptions } from '../org/org.ts';
import type { ObjectSchema, StoredRecord } from '../org/schema.ts';
import { errorsOf } from '../server/respond.ts';
import {
  errorBody,
  matchRoute,
  mountRoutes,
  notFoundResult,
  parseFieldList,
  recordInput,
  recordJson,
  runHandler,
  writeOptions,
} from './records.ts';
import { RawJson } from './records.ts';
import type { RestRequest, RestResult, RestRoute } from './records.ts';
import { queryRoutes } from './query.ts';
import { sobjectRoutes } from './sobjects.ts';

const MAX_SUBREQUESTS = 25;
/** Of the 25, at most this many may be queries or sObject Collections. */
const MAX_QUERY_OR_COLLECTION = 5;
const MAX_COLLECTION_WRITES = 200;
const MAX_COLLECTION_RETRIEVES = 2000;

/** Record-level error as sObject Collections print it: `statusCode`, where REST errors say `errorCode`. */
interface CollectionError {
  statusCode: string;
  message: string;
  fields: string[];
}

const ROLLED_BACK: CollectionError = {
  statusCode: 'ALL_OR_NONE_OPERATION_ROLLED_BACK',
  message: 'Record rolled back because not all records were valid and the request was using AllOrNone header',
  fields: [],
};
const HALTED_MESSAGE = 'The transaction was rolled back since another operation in the same transaction failed.';

/** Registers `/composite` and the sObject Collections resources (`/composite/sobjects`). */
export function registerCompositeRoutes(app: Hono<AppEnv>, ctx: EmulatorContext): void {
  const collections = collectionRoutes(ctx);
  // Subrequests run in-process against the same handlers, never over HTTP: the whole composite is
  // one authenticated, counted API call, and allOrNone can wrap every subrequest in one transaction.
  const dispatchable = [...sobjectRoutes(ctx), ...queryRoutes(ctx), ...collections];
  mountRoutes(app, [
    ...collections,
    { method: 'POST', path: '/composite', handler: (req) => runComposite(ctx.org, dispatchable, req) },
  ]);
}

// ------------------------------------------------------------------------------------ composite

interface Subrequest {
  method: string;
  url: string;
  referenceId: string;
  body?: unknown;
  httpHeaders?: Record<string, string>;
}

interface SubResponse {
  body: unknown;
  httpHeaders: Record<string, string>;
  httpStatusCode: number;
  referenceId: string;
}

/** Unwinds `Org.transaction` so that allOrNone undoes the subrequests that had succeeded. */
class RollBack extends Error {}

function runComposite(org: Org, routes: RestRoute[], req: RestRequest): RestResult {
  const input = req.body as { allOrNone?: unknown; compositeRequest?: unknown } | undefined;
  const subrequests = input?.compositeRequest;
  if (!Array.isArray(subrequests) || !subrequests.length) {
    return errorBody(400, 'JSON_PARSER_ERROR', 'The request body must contain a non-empty compositeRequest array');
  }
  if (subrequests.length > MAX_SUBREQUESTS) {
    return errorBody(400, 'LIMIT_EXCEEDED', `A composite request can contain at most ${MAX_SUBREQUESTS} subrequests; this one has ${subrequests.length}`);
  }
  const seen = new Set<string>();
  let heavy = 0;
  for (const raw of subrequests as Subrequest[]) {
    const problem = checkSubrequest(raw, seen);
    if (problem) return errorBody(400, 'JSON_PARSER_ERROR', problem);
    const target = locate(routes, raw.method.toUpperCase(), raw.url);
    if (target?.match?.route.kind) heavy++;
  }
  if (heavy > MAX_QUERY_OR_COLLECTION) {
    return errorBody(400, 'LIMIT_EXCEEDED', `A composite request can contain at most ${MAX_QUERY_OR_COLLECTION} query or sObject Collections subrequests; this one has ${heavy}`);
  }
  const allOrNone = input?.allOrNone === true || input?.allOrNone === 'true';
  const responses: SubResponse[] = [];
  const execute = (): void => {
    const done = new Map<string, SubResponse>();
    for (const sub of subrequests as Subrequest[]) {
      const response = executeSubrequest(routes, req, sub, done, allOrNone);
      responses.push(response);
      done.set(sub.referenceId, response);
      if (allOrNone && !succeeded(response)) throw new RollBack();
    }
  };
  if (!allOrNone) {
    execute();
    return { status: 200, body: { compositeResponse: responses } };
  }
  try {
    org.transaction(execute);
  } catch (error) {
    if (!(error instanceof RollBack)) throw error;
    const failed = responses[responses.length - 1]!;
    const halted = (referenceId: string): SubResponse => ({
      body: [{ errorCode: 'PROCESSING_HALTED', message: HALTED_MESSAGE }],
      httpHeaders: {},
      httpStatusCode: 400,
      referenceId,
    });
    const all = (subrequests as Subrequest[]).map((s) => (s.referenceId === failed.referenceId ? failed : halted(s.referenceId)));
    return { status: 200, body: { compositeResponse: all } };
  }
  return { status: 200, body: { compositeResponse: responses } };
}

function checkSubrequest(raw: unknown, seen: Set<string>): string | undefined {
  if (!raw || typeof raw !== 'object') return 'Each subrequest must be a JSON object';
  const sub = raw as Partial<Subrequest>;
  if (typeof sub.method !== 'string' || typeof sub.url !== 'string') return 'Each subrequest needs a method and a url';
  if (typeof sub.referenceId !== 'string' || !/^[A-Za-z0-9_]+$/.test(sub.referenceId)) {
    return `Invalid referenceId: ${String(sub.referenceId)}. A referenceId can contain only letters, numbers and underscores`;
  }
  if (seen.has(sub.referenceId)) return `Duplicate referenceId: ${sub.referenceId}`;
  seen.add(sub.referenceId);
  return undefined;
}

/** A subrequest fails when its status is an error, or, under allOrNone, when any record failed. */
function succeeded(response: SubResponse): boolean {
  if (response.httpStatusCode >= 400) return false;
  if (Array.isArray(response.body)) {
    return !response.body.some((r) => r && typeof r === 'object' && (r as { success?: unknown }).success === false);
  }
  return true;
}

function locate(routes: RestRoute[], method: string, url: string): { match: ReturnType<typeof matchRoute>; path: string; query: string; apiVersion: string | undefined } | undefined {
  const m = /^\/services\/data\/v([^/?]+)(\/[^?]*)?(?:\?(.*))?$/.exec(url.trim());
  if (!m) return undefined;
  const path = m[2] ?? '/';
  return { match: matchRoute(routes, method, path), path, query: m[3] ?? '', apiVersion: m[1] };
}

function executeSubrequest(routes: RestRoute[], outer: RestRequest, sub: Subrequest, done: Map<string, SubResponse>, allOrNone: boolean): SubResponse {
  const respond = (result: RestResult): SubResponse => ({
    // References (`@{ref.records[0].Id}`) need the value, so a pre-serialized page is parsed back.
    body: result.body === undefined ? null : result.body instanceof RawJson ? result.body.parse() : result.body,
    httpHeaders: result.headers?.Location ? { Location: result.headers.Location } : {},
    httpStatusCode: result.status,
    referenceId: sub.referenceId,
  });
  let url: string;
  let body: unknown;
  try {
    url = String(substitute(sub.url, done, true));
    body = substitute(sub.body, done, false);
  } catch (error) {
    if (error instanceof SalesforceError) return respond(errorBody(400, error.errorCode, error.message));
    throw error;
  }
  const method = sub.method.toUpperCase();
  const target = locate(routes, method, url);
  if (!target?.match) return respond(notFoundResult());
  const { route, params } = target.match;
  const query = new URLSearchParams(target.query);
  // A Composite allOrNone applies to its sObject Collections subrequests, whatever their own flag.
  if (allOrNone && route.kind === 'collection') {
    if (method === 'DELETE') query.set('allOrNone', 'true');
    else if (body && typeof body === 'object' && !Array.isArray(body)) body = { ...body, allOrNone: true };
  }
  const headers = new Map(Object.entries(sub.httpHeaders ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]));
  const result = runHandler(route, {
    method,
    params,
    query,
    header: (name) => headers.get(name.toLowerCase()),
    body,
    session: outer.session,
    apiVersion: target.apiVersion && /^\d+\.\d+$/.test(target.apiVersion) ? target.apiVersion : outer.apiVersion,
  });
  if (result.body instanceof Uint8Array) {
    return respond(errorBody(400, 'INVALID_OPERATION', 'Binary responses are not supported in a composite request'));
  }
  return respond(result);
}

const REFERENCE = /@\{([A-Za-z0-9_]+)((?:\.[A-Za-z0-9_]+|\[\d+\])+)\}/g;

/**
 * Replaces `@{ref.field}` and `@{ref.records[0].Id}` with values from earlier results. A string that
 * is exactly one reference takes the value's own type; references inside text are spliced as text.
 */
function substitute(value: unknown, done: Map<string, SubResponse>, inUrl: boolean): unknown {
  if (typeof value === 'string') {
    const whole = /^@\{[^}]+\}$/.test(value);
    if (whole && !inUrl) {
      REFERENCE.lastIndex = 0;
      const m = REFERENCE.exec(value);
      if (m && m[0] === value) return resolveReference(m[1]!, m[2]!, done);
    }
    return value.replace(REFERENCE, (_all, ref: string, path: string) => {
      const resolved = resolveReference(ref, path, done);
      return inUrl ? encodeURIComponent(String(resolved)) : String(resolved);
    });
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, done, inUrl));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, done, inUrl)]));
  }
  return value;
}

function resolveReference(ref: string, path: string, done: Map<string, SubResponse>): unknown {
  const response = done.get(ref);
  const steps = [...path.matchAll(/\.([A-Za-z0-9_]+)|\[(\d+)\]/g)].map((s) => s[1] ?? Number(s[2]));
  // A failed subrequest has no values to give: subrequests that depend on it halt.
  let current: unknown = response && response.httpStatusCode < 400 ? response.body : undefined;
  for (const step of steps) {
    if (current === null || current === undefined || typeof current !== 'object') {
      current = undefined;
      break;
    }
    current = (current as Record<string | number, unknown>)[step];
  }
  if (current === undefined || current === null) {
    const expression = `${ref}${path}`;
    throw new SalesforceError(
      'PROCESSING_HALTED',
      `Invalid reference specified. No value for ${expression} found in ${ref}. Provided referenceId ('${ref}') is not valid.`,
    );
  }
  return current;
}

// ------------------------------------------------------------------------------------ collections

/** sObject Collections: create, update, upsert, delete and retrieve up to 200 (retrieve 2000) records. */
function collectionRoutes(ctx: EmulatorContext): RestRoute[] {
  const org = ctx.org;
  return [
    { method: 'POST', path: '/composite/sobjects', kind: 'collection', handler: (req) => createMany(org, req) },
    { method: 'PATCH', path: '/composite/sobjects', kind: 'collection', handler: (req) => updateMany(org, req) },
    { method: 'DELETE', path: '/composite/sobjects', kind: 'collection', handler: (req) => deleteMany(org, req) },
    { method: 'PATCH', path: '/composite/sobjects/:object/:field', kind: 'collection', handler: (req) => upsertMany(org, req) },
    { method: 'GET', path: '/composite/sobjects/:object', kind: 'collection', handler: (req) => retrieveMany(org, req, req.query.get('ids'), req.query.get('fields')) },
    {
      method: 'POST',
      path: '/composite/sobjects/:object',
      kind: 'collection',
      handler: (req) => {
        const body = (req.body ?? {}) as { ids?: unknown; fields?: unknown };
        return retrieveMany(org, req, body.ids as string[] | undefined, body.fields as string[] | undefined);
      },
    },
  ];
}

function collectionErrors(error: unknown): CollectionError[] {
  return errorsOf(error).map((e) => ({ statusCode: e.errorCode, message: e.message, fields: e.fields ?? [] }));
}

type SaveResult = { id: string; success: true; errors: []; created?: boolean } | { success: false; errors: CollectionError[] };

interface CollectionBody {
  allOrNone: boolean;
  records: Record<string, unknown>[];
}

function collectionBody(req: RestRequest): CollectionBody {
  const body = req.body as { allOrNone?: unknown; records?: unknown } | undefined;
  if (!body || !Array.isArray(body.records)) {
    throw new SalesforceError('JSON_PARSER_ERROR', 'The request body must contain a records array');
  }
  if (body.records.length > MAX_COLLECTION_WRITES) throw tooManyRecords();
  return { allOrNone: body.allOrNone === true || body.allOrNone === 'true', records: body.records as Record<string, unknown>[] };
}

function tooManyRecords(): SalesforceError {
  return new SalesforceError('EXCEEDED_ID_LIMIT', `record limit reached. cannot submit more than ${MAX_COLLECTION_WRITES} records into this call`);
}

function recordError(statusCode: string, message: string, fields: string[] = []): CollectionError[] {
  return [{ statusCode, message, fields }];
}

/**
 * Runs one write per item. With allOrNone every item still runs (so each failure reports its own
 * error) inside one transaction, which is rolled back if anything failed; the items that had
 * succeeded then report ALL_OR_NONE_OPERATION_ROLLED_BACK.
 */
function runItems<T>(org: Org, allOrNone: boolean, items: T[], write: (item: T) => SaveResult): SaveResult[] {
  const attempt = (item: T): SaveResult => {
    try {
      return write(item);
    } catch (error) {
      return { success: false, errors: collectionErrors(error) };
    }
  };
  if (!allOrNone) return items.map(attempt);
  let results: SaveResult[] = [];
  try {
    org.transaction(() => {
      results = items.map(attempt);
      if (results.some((r) => !r.success)) throw new RollBack();
    });
  } catch (error) {
    if (!(error instanceof RollBack)) throw error;
    return results.map((r) => (r.success ? { success: false, errors: [ROLLED_BACK] } : r));
  }
  return results;
}

function recordObject(org: Org, record: Record<string, unknown>): ObjectSchema | CollectionError[] {
  const type = (record.attributes as { type?: unknown } | undefined)?.type;
  if (typeof type !== 'string' || !type) return recordError('INVALID_TYPE', 'Must send a concrete entity type.');
  const object = org.visibleSchema.object(type);
  if (!object) return recordError('INVALID_TYPE', `sObject type '${type}' is not supported.`);
  return object;
}

function createMany(org: Org, req: RestRequest): RestResult {
  const { allOrNone, records } = collectionBody(req);
  const options = writeOptions(req);
  const results = runItems(org, allOrNone, records, (record) => {
    const object = recordObject(org, record);
    if (Array.isArray(object)) return { success: false, errors: object };
    const saved = org.insert(object.name, recordInput(record, object.name), options);
    return { id: saved.Id, success: true, errors: [] };
  });
  return { status: 200, body: results };
}

function updateMany(org: Org, req: RestRequest): RestResult {
  const { allOrNone, records } = collectionBody(req);
  const options = writeOptions(req);
  const results = runItems(org, allOrNone, records, (record) => {
    const object = recordObject(org, record);
    if (Array.isArray(object)) return { success: false, errors: object };
    const { id, Id, ...rest } = recordInput(record, object.name);
    const recordId = id ?? Id;
    if (typeof recordId !== 'string' || !recordId) {
      return { success: false, errors: recordError('MISSING_ARGUMENT', 'Id not specified in an update call') };
    }
    const saved = org.update(object.name, recordId, rest, options);
    return { id: saved.Id, success: true, errors: [] };
  });
  return { status: 200, body: results };
}

function upsertMany(org: Org, req: RestRequest): RestResult {
  const target = org.visibleSchema.object(req.params.object!);
  if (!target) return notFoundResult();
  const field = target.field(req.params.field!);
  if (!field || !(field.name === 'Id' || field.externalId || field.idLookup)) {
    return errorBody(404, 'NOT_FOUND', `Provided external ID field does not exist or is not accessible: ${req.params.field!}`);
  }
  const { allOrNone, records } = collectionBody(req);
  const options = writeOptions(req);
  const results = runItems(org, allOrNone, records, (record) => {
    const object = recordObject(org, record);
    if (Array.isArray(object)) return { success: false, errors: object };
    if (object.name !== target.name) {
      return { success: false, errors: recordError('INVALID_TYPE', `sObject type '${object.name}' does not match the resource's type '${target.name}'`) };
    }
    return upsertOne(org, object, field.name, recordInput(record, object.name), options);
  });
  return { status: 200, body: results };
}

function upsertOne(org: Org, object: ObjectSchema, fieldName: string, input: Record<string, unknown>, options: WriteOptions): SaveResult {
  const key = Object.keys(input).find((k) => k.toLowerCase() === fieldName.toLowerCase());
  const value = key === undefined ? null : input[key];
  if (key !== undefined) delete input[key];
  // A blank key creates: `Id: null` is how callers upsert new and existing records together.
  if (value === null || value === undefined || value === '') {
    if (fieldName !== 'Id') {
      return { success: false, errors: recordError('MISSING_ARGUMENT', `${fieldName} not specified`, [fieldName]) };
    }
    return { id: org.insert(object.name, input, options).Id, success: true, errors: [], created: true };
  }
  const matches = org.findByField(object.name, fieldName, String(value));
  if (matches.length > 1) {
    const ids = matches.map((m) => m.Id).join(', ');
    return { success: false, errors: recordError('DUPLICATE_EXTERNAL_ID', `${fieldName}: more than one record found for external id field: [${ids}]`, [fieldName]) };
  }
  if (matches.length === 1) {
    return { id: org.update(object.name, matches[0]!.Id, input, options).Id, success: true, errors: [], created: false };
  }
  if (fieldName === 'Id') {
    const malformed = !toId18(String(value));
    return malformed
      ? { success: false, errors: recordError('MALFORMED_ID', `${object.def.label} ID: id value of incorrect type: ${String(value)}`, ['Id']) }
      : { success: false, errors: recordError('NOT_FOUND', 'The requested resource does not exist') };
  }
  return { id: org.insert(object.name, { ...input, [fieldName]: value }, options).Id, success: true, errors: [], created: true };
}

function deleteMany(org: Org, req: RestRequest): RestResult {
  const ids = (req.query.get('ids') ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (!ids.length) return errorBody(400, 'MISSING_ARGUMENT', 'Required query parameter: ids is missing');
  if (ids.length > MAX_COLLECTION_WRITES) throw tooManyRecords();
  const allOrNone = req.query.get('allOrNone') === 'true';
  const options = writeOptions(req);
  const results = runItems(org, allOrNone, ids, (id) => {
    org.delete(id, options);
    return { id: toId18(id)!, success: true, errors: [] };
  });
  return { status: 200, body: results };
}

function retrieveMany(org: Org, req: RestRequest, rawIds: string | string[] | null | undefined, rawFields: string | string[] | null | undefined): RestResult {
  const object = org.visibleSchema.object(req.params.object!);
  if (!object) return notFoundResult();
  const ids = (Array.isArray(rawIds) ? rawIds : (rawIds ?? '').split(',')).map((s) => String(s).trim()).filter((s) => s !== '');
  if (!ids.length) return errorBody(400, 'MISSING_ARGUMENT', 'Required parameter: ids is missing');
  if (ids.length > MAX_COLLECTION_RETRIEVES) {
    return errorBody(400, 'EXCEEDED_ID_LIMIT', `record limit reached. cannot submit more than ${MAX_COLLECTION_RETRIEVES} records into this call`);
  }
  const fields = parseFieldList(object, rawFields ?? undefined);
  if (!fields) return errorBody(400, 'MISSING_ARGUMENT', 'Required parameter: fields is missing');
  const records = ids.map((id) => {
    const id18 = toId18(id);
    const record: StoredRecord | undefined = id18 && id18.startsWith(object.def.keyPrefix) ? org.get(id18) : undefined;
    return record && !record.IsDeleted ? recordJson(org, object, record, req.apiVersion, fields) : null;
  });
  return { status: 200, body: records };
}
