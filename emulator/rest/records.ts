import type { Context, Hono } from 'hono';
import type { ContentfulStatusCode, StatusCode } from 'hono/utils/http-status';
import type { AppEnv, Session } from '../server/context.ts';
import { RecordWriteError, SalesforceError } from '../org/errors.ts';
import type { SalesforceErrorBody } from '../org/errors.ts';
import type { Org, WriteOptions } from '../org/org.ts';
import type { ObjectSchema, StoredRecord } from '../org/schema.ts';

/**
 * The REST resources are written once as synchronous handlers over this request shape, so that the
 * same handler serves an HTTP call and a Composite subrequest. Composite needs them synchronous:
 * `Org.transaction` journals synchronous work only, and allOrNone must roll back every subrequest.
 */
export interface RestRequest {
  method: string;
  /** Path parameters, decoded. */
  params: Record<string, string>;
  query: URLSearchParams;
  /** A request header, case-insensitive. */
  header(name: string): string | undefined;
  /** The parsed JSON body (undefined when there is none). */
  body: unknown;
  session: Session;
  /** `59.0`, from the URL. */
  apiVersion: string;
}

/** A body already serialized to JSON, as text or UTF-8 bytes (query pages), sent as is. */
export class RawJson {
  constructor(readonly json: string | Uint8Array) {}

  /** The value, parsed back (Composite subrequests whose references read into a page). */
  parse(): unknown {
    return JSON.parse(typeof this.json === 'string' ? this.json : Buffer.from(this.json.buffer, this.json.byteOffset, this.json.byteLength).toString('utf8'));
  }
}

export interface RestResult {
  status: number;
  /** A JSON value; a Uint8Array is sent as is (blob fields); undefined sends no body (204). */
  body?: unknown;
  headers?: Record<string, string>;
}

export interface RestRoute {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Relative to `/services/data/vXX.X`, Hono syntax (`/sobjects/:object/:id`). */
  path: string;
  /** Composite counts queries and collections against its limit of five. */
  kind?: 'query' | 'collection';
  handler(req: RestRequest): RestResult;
}

const JSON_CONTENT_TYPE = 'application/json;charset=UTF-8';

/**
 * Mounts routes on a Hono app. Salesforce accepts every resource with and without a trailing slash
 * (`/query/?q=`, `/sobjects/Account/`), so both forms are registered.
 */
export function mountRoutes(app: Hono<AppEnv>, routes: RestRoute[]): void {
  for (const route of routes) {
    app.on(route.method, [route.path, `${route.path}/`], async (c) => {
      let body: unknown;
      if (route.method === 'POST' || route.method === 'PATCH') {
        const text = await c.req.text();
        if (text.trim() !== '') {
          try {
            body = JSON.parse(text);
          } catch (error) {
            return sendResult(c, jsonParserError(error));
          }
        }
      }
      const req: RestRequest = {
        method: route.method,
        params: c.req.param() as Record<string, string>,
        query: new URL(c.req.url).searchParams,
        header: (name) => c.req.header(name),
        body,
        session: c.get('session'),
        apiVersion: c.get('apiVersion'),
      };
      return sendResult(c, runHandler(route, req));
    });
  }
}

/** Runs a handler, turning a thrown Salesforce error into its REST error response. */
export function runHandler(route: RestRoute, req: RestRequest): RestResult {
  try {
    return route.handler(req);
  } catch (error) {
    return errorResult(error);
  }
}

function sendResult(c: Context, result: RestResult): Response {
  const headers: Record<string, string> = { ...result.headers };
  if (result.body === undefined) return c.body(null, result.status as StatusCode, headers);
  if (result.body instanceof Uint8Array) {
    return c.body(result.body as Uint8Array<ArrayBuffer>, result.status as ContentfulStatusCode, headers);
  }
  headers['content-type'] = JSON_CONTENT_TYPE;
  const json = result.body instanceof RawJson ? result.body.json : JSON.stringify(result.body);
  return c.body(json as string | Uint8Array<ArrayBuffer>, result.status as ContentfulStatusCode, headers);
}

/** Matches a path (no version prefix, no query string) against routes, Hono-style, first match wins. */
export function matchRoute(routes: RestRoute[], method: string, path: string): { route: RestRoute; params: Record<string, string> } | undefined {
  const segments = splitPath(path);
  for (const route of routes) {
    if (route.method !== method) continue;
    const pattern = splitPath(route.path);
    if (pattern.length !== segments.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < pattern.length; i++) {
      const p = pattern[i]!;
      if (p.startsWith(':')) params[p.slice(1)] = safeDecode(segments[i]!);
      else if (p !== segments[i]) {
        ok = false;
        break;
      }
    }
    if (ok) return { route, params };
  }
  return undefined;
}

function splitPath(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

// ------------------------------------------------------------------------------------ errors

/** A REST error response for a thrown error, as `respondWithError` would send it. */
function errorResult(error: unknown): RestResult {
  if (error instanceof SalesforceError) return { status: error.httpStatus, body: [error.toJSON()] };
  if (error instanceof RecordWriteError) return { status: error.httpStatus, body: error.errors.map((e) => e.toJSON()) };
  console.error('[emulator] internal error', error);
  return {
    status: 500,
    body: [{ errorCode: 'UNKNOWN_EXCEPTION', message: 'An unexpected error occurred. Please include this ErrorId if you contact support: 0-0 (-1)' }],
  };
}

export function errorBody(status: number, errorCode: string, message: string): RestResult {
  return { status, body: [{ message, errorCode } satisfies SalesforceErrorBody] };
}

export const notFoundResult = (): RestResult => errorBody(404, 'NOT_FOUND', 'The requested resource does not exist');

function jsonParserError(error: unknown): RestResult {
  const detail = error instanceof Error ? error.message : 'Unexpected character';
  return errorBody(400, 'JSON_PARSER_ERROR', `${detail} at [line:1, column:1]`);
}

// ------------------------------------------------------------------------------------ records

export function sobjectUrl(apiVersion: string, type: string, id: string): string {
  return `/services/data/v${apiVersion}/sobjects/${type}/${id}`;
}

/** The write options of an API call: its user, and the duplicate rule header. */
export function writeOptions(req: RestRequest): WriteOptions {
  const header = req.header('Sforce-Duplicate-Rule-Header') ?? '';
  return { userId: req.session.userId, allowDuplicates: /allowSave\s*=\s*true/i.test(header) };
}

/**
 * A record as the sObject Rows resource prints it: attributes, then every field the user can see
 * in describe order, or the requested ones (with Id appended, as Salesforce does).
 */
export function recordJson(org: Org, object: ObjectSchema, record: StoredRecord, apiVersion: string, fields?: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = { attributes: { type: object.name, url: sobjectUrl(apiVersion, object.name, record.Id) } };
  const names = fields ?? object.def.fields.map((f) => f.name);
  for (const name of names) {
    const field = object.field(name)!;
    if (field.type === 'base64') {
      // Blob fields are not inlined: REST gives the URL the bytes are served from.
      out[field.name] = record[field.name] == null ? null : `${sobjectUrl(apiVersion, object.name, record.Id)}/${field.name}`;
    } else {
      out[field.name] = org.readField(object, record, field.name) ?? null;
    }
  }
  if (fields && !fields.some((f) => f.toLowerCase() === 'id')) out.Id = record.Id;
  return out;
}

/**
 * The `fields` parameter of a retrieve, checked against what the user can see. Unknown names fail
 * the whole call with INVALID_FIELD, as a SOQL select list would.
 */
export function parseFieldList(object: ObjectSchema, raw: string | string[] | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  const names = (Array.isArray(raw) ? raw : raw.split(',')).map((s) => String(s).trim()).filter((s) => s !== '');
  if (!names.length) return undefined;
  const out: string[] = [];
  for (const name of names) {
    const field = object.field(name);
    if (!field) {
      throw new SalesforceError(
        'INVALID_FIELD',
        `No such column '${name}' on entity '${object.name}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`,
      );
    }
    if (!out.includes(field.name)) out.push(field.name);
  }
  return out;
}

/** Request body of a record write: a JSON object, `attributes` dropped. */
export function recordInput(body: unknown, objectName: string): Record<string, unknown> {
  if (body === undefined) return {};
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    const token = Array.isArray(body) ? 'START_ARRAY' : 'VALUE_STRING';
    throw new SalesforceError('JSON_PARSER_ERROR', `Cannot deserialize instance of ${objectName} from ${token} value or request may be missing a required field at [line:1, column:1]`);
  }
  const { attributes: _attributes, ...values } = body as Record<string, unknown>;
  return values;
}
