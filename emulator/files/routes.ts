import type { Context, Hono, Next } from 'hono';
import type { AppEnv, EmulatorContext } from '../server/context.ts';
import { respondWithError } from '../server/respond.ts';
import { SalesforceError } from '../org/errors.ts';
import { toId18 } from '../org/ids.ts';
import type { WriteOptions } from '../org/org.ts';
import type { ObjectSchema } from '../org/schema.ts';
import { recordInput, sobjectUrl } from '../rest/records.ts';
import { FILE_BODIES, bodyBytes, bodyContentType, parkUpload } from './blob.ts';
import { hasFiles, installFiles } from './content-model.ts';
import { contentDocumentLinkQueryError } from './link-query.ts';
import { multipartBoundary, parseMultipart } from './multipart.ts';

/** A JSON (non-multipart) request carries at most 50 MB: 37.5 MB of bytes as base64. */
export const JSON_REQUEST_MAX_BYTES = 52_428_800;
/** Multipart uploads through the sObject resources: 2 GB for ContentVersion, 500 MB for the rest. */
export const CONTENT_VERSION_UPLOAD_MAX_BYTES = 2 * 2 ** 30;
export const BLOB_UPLOAD_MAX_BYTES = 500 * 2 ** 20;

/** Bytes per chunk of a streamed download: views into the stored body, never copies. */
const CHUNK_BYTES = 256 * 1024;
const JSON_CONTENT_TYPE = 'application/json;charset=UTF-8';

/**
 * File uploads and downloads (ContentVersion, Attachment, Document) and the ContentDocumentLink
 * query restriction, in the authenticated data sub-app; installs the files content model on the
 * org. The routes share paths with the sObject and query resources and must be registered before
 * them: each handles its own case and passes everything else on.
 */
export function registerFileRoutes(data: Hono<AppEnv>, ctx: EmulatorContext): void {
  installFiles(ctx.org);
  const on = (method: 'GET' | 'POST' | 'PATCH', path: string, handler: (c: Context<AppEnv>, next: Next) => Promise<Response | void>): void => {
    data.on(method, [path, `${path}/`], handler);
  };
  on('GET', '/sobjects/:object/:id/:field', (c, next) => download(ctx, c, next));
  on('POST', '/sobjects/:object', (c, next) => upload(ctx, c, next));
  on('PATCH', '/sobjects/:object/:id', (c, next) => upload(ctx, c, next));
  on('GET', '/query', (c, next) => linkQueryGuard(ctx, c, next));
  on('GET', '/queryAll', (c, next) => linkQueryGuard(ctx, c, next));
}

// ------------------------------------------------------------------------------------ download

/** sObject Blob Get: the body streamed, typed by the record, with its length. */
async function download(ctx: EmulatorContext, c: Context<AppEnv>, next: Next): Promise<Response | void> {
  const org = ctx.org;
  const object = org.visibleSchema.object(c.req.param('object')!);
  const field = object?.field(c.req.param('field')!);
  const id18 = toId18(c.req.param('id')!);
  // Anything but a live record's body (errors included) is the sObject resource's to answer.
  if (!object || field?.type !== 'base64' || !id18 || !id18.startsWith(object.def.keyPrefix)) return next();
  const record = org.get(id18);
  const bytes = record && !record.IsDeleted ? bodyBytes(record, field.name) : undefined;
  if (!record || !bytes) return next();
  return c.body(streamOf(bytes), 200, {
    'content-type': bodyContentType(object.name, record),
    'content-length': String(bytes.length),
  });
}

function streamOf(bytes: Buffer): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.length) {
        controller.close();
        return;
      }
      const end = Math.min(bytes.length, offset + CHUNK_BYTES);
      controller.enqueue(bytes.subarray(offset, end));
      offset = end;
    },
  });
}

// ------------------------------------------------------------------------------------ upload

/**
 * Insert or update blob data: a multipart body (JSON part `entity_content`, `entity_attachment` or
 * `entity_document`, then the binary part named after the blob field) is handled here; a JSON body
 * is size-checked and passed on to the sObject resource.
 */
async function upload(ctx: EmulatorContext, c: Context<AppEnv>, next: Next): Promise<Response | void> {
  const org = ctx.org;
  const object = org.visibleSchema.object(c.req.param('object')!);
  if (!object || !FILE_BODIES[object.name]) return next();
  try {
    const boundary = multipartBoundary(c.req.header('content-type'));
    if (!boundary) {
      // A declared length is enough to check; a chunked body is read (into Hono's cache) to count it.
      const declared = Number(c.req.header('content-length'));
      if (declared > JSON_REQUEST_MAX_BYTES) throw requestTooLarge(JSON_REQUEST_MAX_BYTES);
      if (!Number.isFinite(declared)) await readBody(c, JSON_REQUEST_MAX_BYTES);
      return await next();
    }
    const limit = object.name === 'ContentVersion' ? CONTENT_VERSION_UPLOAD_MAX_BYTES : BLOB_UPLOAD_MAX_BYTES;
    const { input, bytes } = multipartInput(object, await readBody(c, limit), boundary);
    const bodyField = FILE_BODIES[object.name]!.body;
    // Without the files model (which swaps the token for the bytes) the body goes in as base64.
    const parked = bytes && hasFiles(org) ? parkUpload(bytes) : undefined;
    if (bytes) input[bodyField] = parked ? parked.token : bytes.toString('base64');
    try {
      const options = writeOptions(c);
      const id = c.req.param('id');
      if (id !== undefined) {
        org.update(object.name, id, input, options);
        return c.body(null, 204);
      }
      const record = org.insert(object.name, input, options);
      const apiVersion = c.get('apiVersion');
      return c.body(JSON.stringify({ id: record.Id, success: true, errors: [] }), 201, {
        'content-type': JSON_CONTENT_TYPE,
        Location: sobjectUrl(apiVersion, object.name, record.Id),
      });
    } finally {
      parked?.release();
    }
  } catch (error) {
    return respondWithError(c, error);
  }
}

function multipartInput(object: ObjectSchema, body: Buffer, boundary: string): { input: Record<string, unknown>; bytes: Buffer | undefined } {
  const parts = parseMultipart(body, boundary);
  const entity = parts?.find((p) => p.name.toLowerCase().startsWith('entity_'));
  if (!parts || !entity) {
    throw new SalesforceError('INVALID_MULTIPART_REQUEST', 'A multipart request must contain a non-binary part named entity_content, entity_attachment or entity_document with the record\'s fields as JSON');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(entity.body.toString('utf8'));
  } catch (error) {
    throw new SalesforceError('JSON_PARSER_ERROR', `${error instanceof Error ? error.message : 'Unexpected character'} at [line:1, column:1]`);
  }
  const bodyField = FILE_BODIES[object.name]!.body.toLowerCase();
  return { input: recordInput(parsed, object.name), bytes: parts.find((p) => p.name.toLowerCase() === bodyField)?.body };
}

/**
 * The request body, refused past `limit` bytes with the error Salesforce gives for an oversized
 * request. A declared Content-Length over the limit is refused before anything is read.
 */
async function readBody(c: Context<AppEnv>, limit: number): Promise<Buffer> {
  const declared = Number(c.req.header('content-length'));
  if (declared > limit) throw requestTooLarge(limit);
  // Read through Hono's body cache, so that a JSON body passed on can be read again.
  const body = Buffer.from(await c.req.arrayBuffer());
  if (body.length > limit) throw requestTooLarge(limit);
  return body;
}

function requestTooLarge(limit: number): SalesforceError {
  return new SalesforceError('JSON_PARSER_ERROR', `Maximum size of request reached. Maximum size of request is ${limit} bytes.`);
}

function writeOptions(c: Context<AppEnv>): WriteOptions {
  const header = c.req.header('Sforce-Duplicate-Rule-Header') ?? '';
  return { userId: c.get('session').userId, allowDuplicates: /allowSave\s*=\s*true/i.test(header) };
}

// ------------------------------------------------------------------------------------ queries

async function linkQueryGuard(ctx: EmulatorContext, c: Context<AppEnv>, next: Next): Promise<Response | void> {
  const soql = c.req.query('q');
  const error = soql ? contentDocumentLinkQueryError(ctx.org, soql, c.get('apiVersion')) : undefined;
  if (error) return respondWithError(c, error);
  return next();
}
