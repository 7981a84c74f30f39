import type { Hono } from 'hono';
import type { AppEnv, EmulatorContext } from '../server/context.ts';
import { SalesforceError } from '../org/errors.ts';
import { toId18 } from '../org/ids.ts';
import { recordTypeAccess } from '../behaviours/registry.ts';
import { describeGlobal, describeSObject } from '../org/describe.ts';
import type { Org } from '../org/org.ts';
import type { FieldDef, ObjectSchema, Schema, StoredRecord } from '../org/schema.ts';
import { formatDatetime, parseDatetime } from '../org/values.ts';
import { bodyBytes, bodyContentType } from '../files/blob.ts';
import {
  errorBody,
  mountRoutes,
  notFoundResult,
  parseFieldList,
  recordInput,
  recordJson,
  sobjectUrl,
  writeOptions,
} from './records.ts';
import type { RestRequest, RestResult, RestRoute } from './records.ts';

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
/** getUpdated looks back at most this far (Salesforce: "no more than 30 days previous"). */
const UPDATED_WINDOW_DAYS = 30;
/** getDeleted reaches back as far as the Recycle Bin keeps records. */
const DELETED_WINDOW_DAYS = 15;
/** getUpdated/getDeleted fail with EXCEEDED_ID_LIMIT past this many IDs. */
const REPLICATION_ID_LIMIT = 600_000;
const RECENT_ITEMS = 25;

/** Registers the sObject resources: describes, rows, rows by external ID, getUpdated, getDeleted. */
export function registerSObjectRoutes(app: Hono<AppEnv>, ctx: EmulatorContext): void {
  mountRoutes(app, sobjectRoutes(ctx));
}

/**
 * The sObject resources as synchronous routes, shared with Composite. Order matters: fixed path
 * words (describe, updated, deleted) come before the `:id` catch-alls, as in Salesforce.
 */
export function sobjectRoutes(ctx: EmulatorContext): RestRoute[] {
  const org = ctx.org;
  return [
    { method: 'GET', path: '/sobjects', handler: (req) => describeGlobalResource(org, req) },
    { method: 'GET', path: '/sobjects/:object', handler: (req) => basicInfo(org, req) },
    { method: 'POST', path: '/sobjects/:object', handler: (req) => createRecord(org, req) },
    { method: 'GET', path: '/sobjects/:object/describe', handler: (req) => describeResource(ctx, req) },
    { method: 'GET', path: '/sobjects/:object/updated', handler: (req) => getUpdated(org, req) },
    { method: 'GET', path: '/sobjects/:object/deleted', handler: (req) => getDeleted(org, req) },
    { method: 'GET', path: '/sobjects/:object/:id', handler: (req) => getRecord(org, req) },
    { method: 'PATCH', path: '/sobjects/:object/:id', handler: (req) => updateRecord(org, req) },
    { method: 'DELETE', path: '/sobjects/:object/:id', handler: (req) => deleteRecord(org, req) },
    // `/sobjects/Account/Id` with POST creates: Id as the external ID with a null value (API 37.0+).
    { method: 'POST', path: '/sobjects/:object/:field', handler: (req) => createById(org, req) },
    { method: 'GET', path: '/sobjects/:object/:a/:b', handler: (req) => getByExternalIdOrRelated(org, req) },
    { method: 'PATCH', path: '/sobjects/:object/:field/:value', handler: (req) => upsertRecord(org, req) },
    { method: 'DELETE', path: '/sobjects/:object/:field/:value', handler: (req) => deleteByExternalId(org, req) },
  ];
}

// ------------------------------------------------------------------------------------ describe

function visibleObject(org: Org, name: string): ObjectSchema {
  const object = org.visibleSchema.object(name);
  if (!object) throw new SalesforceError('NOT_FOUND', 'The requested resource does not exist', { status: 404 });
  return object;
}

/** When the emulator first saw each schema view: the Last-Modified of describes built from it. */
const schemaSeenMs = new WeakMap<Schema, number>();

function notModified(org: Org, req: RestRequest): boolean {
  const schema = org.visibleSchema;
  let seen = schemaSeenMs.get(schema);
  if (seen === undefined) {
    // Whole seconds: HTTP dates carry no milliseconds, so a client echoing one back must match.
    seen = Math.floor(org.clock.nowMs() / 1000) * 1000;
    schemaSeenMs.set(schema, seen);
  }
  const since = req.header('If-Modified-Since');
  if (!since) return false;
  const sinceMs = Date.parse(since);
  return Number.isFinite(sinceMs) && sinceMs >= seen;
}

function describeGlobalResource(org: Org, req: RestRequest): RestResult {
  if (notModified(org, req)) return { status: 304 };
  return { status: 200, body: describeGlobal(org.visibleSchema, req.apiVersion) };
}

function describeResource(ctx: EmulatorContext, req: RestRequest): RestResult {
  const org = ctx.org;
  const object = visibleObject(org, req.params.object!);
  if (notModified(org, req)) return { status: 304 };
  return { status: 200, body: describeSObject(org.visibleSchema, object.name, req.apiVersion, { instanceUrl: ctx.instanceUrl(), recordTypeAccess: recordTypeAccess(org, object.name) }) };
}

function basicInfo(org: Org, req: RestRequest): RestResult {
  const object = visibleObject(org, req.params.object!);
  const global = describeGlobal(org.visibleSchema, req.apiVersion) as { sobjects: { name: string }[] };
  const objectDescribe = global.sobjects.find((s) => s.name === object.name);
  return { status: 200, body: { objectDescribe, recentItems: recentItems(org, object, req.apiVersion) } };
}

/**
 * Stand-in for the user's recently viewed records: the API user views nothing, so the most recently
 * modified live records take their place, with the Id and Name the real list carries.
 */
function recentItems(org: Org, object: ObjectSchema, apiVersion: string): Record<string, unknown>[] {
  const stampField = object.has('SystemModstamp') ? 'SystemModstamp' : object.has('LastModifiedDate') ? 'LastModifiedDate' : undefined;
  const top: StoredRecord[] = [];
  const stamp = (r: StoredRecord): string => (stampField ? String(r[stampField] ?? '') : '');
  for (const record of org.records(object.name)) {
    if (record.IsDeleted) continue;
    if (top.length === RECENT_ITEMS && stamp(record) <= stamp(top[top.length - 1]!)) continue;
    let i = top.length;
    while (i > 0 && stamp(top[i - 1]!) < stamp(record)) i--;
    top.splice(i, 0, record);
    if (top.length > RECENT_ITEMS) top.pop();
  }
  const nameField = object.def.fields.find((f) => f.nameField);
  return top.map((record) => {
    const item: Record<string, unknown> = { attributes: { type: object.name, url: sobjectUrl(apiVersion, object.name, record.Id) }, Id: record.Id };
    if (nameField) item[nameField.name] = org.readField(object, record, nameField.name) ?? null;
    return item;
  });
}

// ------------------------------------------------------------------------------------ rows

/**
 * An ID in a row URL. A segment that is no ID at all is taken for an external ID field name, which
 * is why Salesforce answers it with NOT_FOUND; an ID of another object is MALFORMED_ID.
 */
function resolveId(object: ObjectSchema, raw: string): string {
  const id18 = toId18(raw);
  if (!id18) {
    throw new SalesforceError('NOT_FOUND', `Provided external ID field does not exist or is not accessible: ${raw}`, { status: 404 });
  }
  if (id18.slice(0, 3) !== object.def.keyPrefix) {
    throw new SalesforceError('MALFORMED_ID', `${object.def.label} ID: id value of incorrect type: ${raw}`, { fields: ['Id'] });
  }
  return id18;
}

/** A live record; records in the Recycle Bin are NOT_FOUND to the row resources. */
function liveRecord(org: Org, object: ObjectSchema, id18: string): StoredRecord | undefined {
  const record = org.get(id18);
  return record && !record.IsDeleted && record.Id.startsWith(object.def.keyPrefix) ? record : undefined;
}

function getRecord(org: Org, req: RestRequest): RestResult {
  const object = visibleObject(org, req.params.object!);
  const id18 = resolveId(object, req.params.id!);
  const fields = parseFieldList(object, req.query.get('fields') ?? undefined);
  const record = liveRecord(org, object, id18);
  if (!record) return notFoundResult();
  return { status: 200, body: recordJson(org, object, record, req.apiVersion, fields) };
}

function createRecord(org: Org, req: RestRequest): RestResult {
  const object = visibleObject(org, req.params.object!);
  const record = org.insert(object.name, recordInput(req.body, object.name), writeOptions(req));
  return created(req, object, record.Id, false);
}

function created(req: RestRequest, object: ObjectSchema, id: string, upsert: boolean): RestResult {
  const body: Record<string, unknown> = { id, success: true, errors: [] };
  if (upsert && apiAtLeast(req.apiVersion, 46)) body.created = true;
  return { status: 201, body, headers: { Location: sobjectUrl(req.apiVersion, object.name, id) } };
}

function updateRecord(org: Org, req: RestRequest): RestResult {
  const object = visibleObject(org, req.params.object!);
  const id18 = resolveId(object, req.params.id!);
  org.update(object.name, id18, recordInput(req.body, object.name), writeOptions(req));
  return { status: 204 };
}

function deleteRecord(org: Org, req: RestRequest): RestResult {
  const object = visibleObject(org, req.params.object!);
  const id18 = resolveId(object, req.params.id!);
  org.delete(id18, writeOptions(req));
  return { status: 204 };
}

// ------------------------------------------------------------------------------------ external IDs

/**
 * The field of an external-ID resource: Id, a custom External ID field, or a standard idLookup
 * field (Contact.Email), the fields Salesforce lets upsert match on.
 */
function externalIdField(object: ObjectSchema, name: string): FieldDef {
  const field = object.field(name);
  if (!field || !(field.name === 'Id' || field.externalId || field.idLookup)) {
    throw new SalesforceError('NOT_FOUND', `Provided external ID field does not exist or is not accessible: ${name}`, { status: 404 });
  }
  return field;
}

/** The 300 Multiple Choices answer when an external ID matches more than one record. */
function multipleChoices(req: RestRequest, object: ObjectSchema, matches: StoredRecord[]): RestResult {
  return { status: 300, body: matches.map((r) => sobjectUrl(req.apiVersion, object.name, r.Id)) };
}

function createById(org: Org, req: RestRequest): RestResult {
  const object = visibleObject(org, req.params.object!);
  if (req.params.field!.toLowerCase() !== 'id') return notFoundResult();
  const record = org.insert(object.name, recordInput(req.body, object.name), writeOptions(req));
  return created(req, object, record.Id, false);
}

function getByExternalIdOrRelated(org: Org, req: RestRequest): RestResult {
  const object = visibleObject(org, req.params.object!);
  // A field name in the second place makes it a lookup by external ID; otherwise an ID followed by
  // a relationship or blob field (`/sobjects/Account/001.../Contacts`, `/Attachment/00P.../Body`).
  if (object.field(req.params.a!)) return getByExternalId(org, req, object);
  return getRelated(org, req, object);
}

function getByExternalId(org: Org, req: RestRequest, object: ObjectSchema): RestResult {
  const field = externalIdField(object, req.params.a!);
  const fields = parseFieldList(object, req.query.get('fields') ?? undefined);
  const matches = org.findByField(object.name, field.name, req.params.b!);
  if (!matches.length) return notFoundResult();
  if (matches.length > 1) return multipleChoices(req, object, matches);
  return { status: 200, body: recordJson(org, object, matches[0]!, req.apiVersion, fields) };
}

function upsertRecord(org: Org, req: RestRequest): RestResult {
  const object = visibleObject(org, req.params.object!);
  const field = externalIdField(object, req.params.field!);
  const value = req.params.value!;
  const input = recordInput(req.body, object.name);
  for (const key of Object.keys(input)) if (key.toLowerCase() === field.name.toLowerCase()) delete input[key];
  const matches = org.findByField(object.name, field.name, value);
  if (matches.length > 1) return multipleChoices(req, object, matches);
  const options = writeOptions(req);
  if (matches.length === 1) {
    const id = matches[0]!.Id;
    org.update(object.name, id, input, options);
    // API 46.0 added a body (and 200) to the update case; earlier versions answer 204.
    if (!apiAtLeast(req.apiVersion, 46)) return { status: 204 };
    return { status: 200, body: { id, success: true, errors: [], created: false } };
  }
  if (field.name === 'Id') return notFoundResult();
  const record = org.insert(object.name, { ...input, [field.name]: value }, options);
  return created(req, object, record.Id, true);
}

function deleteByExternalId(org: Org, req: RestRequest): RestResult {
  const object = visibleObject(org, req.params.object!);
  const field = externalIdField(object, req.params.field!);
  const matches = org.findByField(object.name, field.name, req.params.value!);
  if (!matches.length) return notFoundResult();
  if (matches.length > 1) return multipleChoices(req, object, matches);
  org.delete(matches[0]!.Id, writeOptions(req));
  return { status: 204 };
}

/** Blob bytes, a parent record, or the child records of one relationship. */
function getRelated(org: Org, req: RestRequest, object: ObjectSchema): RestResult {
  const id18 = resolveId(object, req.params.a!);
  const record = liveRecord(org, object, id18);
  if (!record) return notFoundResult();
  const name = req.params.b!;
  const blob = object.field(name);
  if (blob?.type === 'base64') {
    // Over HTTP the files routes stream bodies before this runs; Composite, which refuses binary
    // responses, still lands here.
    const bytes = bodyBytes(record, blob.name);
    if (!bytes) return notFoundResult();
    return { status: 200, body: bytes, headers: { 'content-type': bodyContentType(object.name, record) } };
  }
  const lookup = object.relationship(name);
  if (lookup) {
    const parentId = record[lookup.name];
    const parent = typeof parentId === 'string' ? org.get(parentId) : undefined;
    const parentObject = parent ? org.visibleSchema.objectForId(parent.Id) : undefined;
    if (!parent || parent.IsDeleted || !parentObject) return notFoundResult();
    return { status: 200, body: recordJson(org, parentObject, parent, req.apiVersion, parseFieldList(parentObject, req.query.get('fields') ?? undefined)) };
  }
  const child = org.visibleSchema.childRelationships(object.name).find((r) => r.relationshipName?.toLowerCase() === name.toLowerCase());
  const childObject = child ? org.visibleSchema.object(child.childSObject) : undefined;
  if (!child || !childObject || !childObject.has(child.field)) return notFoundResult();
  const fields = parseFieldList(childObject, req.query.get('fields') ?? undefined);
  const records: Record<string, unknown>[] = [];
  for (const r of org.records(childObject.name)) {
    if (!r.IsDeleted && r[child.field] === record.Id) records.push(recordJson(org, childObject, r, req.apiVersion, fields));
  }
  return { status: 200, body: { totalSize: records.length, done: true, records } };
}

// ------------------------------------------------------------------------------------ replication

function replicationError(message: string): SalesforceError {
  return new SalesforceError('INVALID_REPLICATION_DATE', message);
}

/**
 * The window of getUpdated/getDeleted. Salesforce ignores seconds, requires start before end, and
 * covers no later than the present; the returned end is `latestDateCovered`.
 */
function replicationWindow(org: Org, req: RestRequest, object: ObjectSchema): { startMs: number; endMs: number; nowMs: number } {
  if (!object.def.replicateable) {
    throw new SalesforceError('INVALID_TYPE', `sObject type ${object.name} is not replicable`);
  }
  const parse = (name: 'start' | 'end'): number => {
    const raw = req.query.get(name);
    if (!raw) throw replicationError(`Missing required parameter: ${name}`);
    const ms = parseDatetime(raw.trim().replace(' ', '+'));
    if (Number.isNaN(ms)) throw replicationError(`${name} is not a valid dateTime in ISO 8601 format: ${raw}`);
    return Math.floor(ms / MINUTE_MS) * MINUTE_MS;
  };
  const startMs = parse('start');
  const endMs = parse('end');
  if (startMs >= endMs) throw replicationError('startDate must chronologically precede endDate by more than one minute');
  const nowMs = org.clock.nowMs();
  // Nothing after the current minute is covered yet; a window wholly in the future covers nothing.
  return { startMs, endMs: Math.max(startMs, Math.min(endMs, Math.floor(nowMs / MINUTE_MS) * MINUTE_MS)), nowMs };
}

/** Midnight UTC `days` before the day of `nowMs`: replication limits count whole days. */
function daysBefore(nowMs: number, days: number): number {
  return Math.floor((nowMs - days * DAY_MS) / DAY_MS) * DAY_MS;
}

function getUpdated(org: Org, req: RestRequest): RestResult {
  const object = visibleObject(org, req.params.object!);
  const { startMs, endMs, nowMs } = replicationWindow(org, req, object);
  if (startMs < daysBefore(nowMs, UPDATED_WINDOW_DAYS)) {
    throw replicationError(`startDate cannot be more than ${UPDATED_WINDOW_DAYS} days ago`);
  }
  const stampField = object.has('SystemModstamp') ? 'SystemModstamp' : 'LastModifiedDate';
  // Canonical datetimes sort as strings, so the window is compared without parsing every record.
  const from = formatDatetime(startMs);
  const to = formatDatetime(endMs);
  const ids: string[] = [];
  for (const record of org.records(object.name)) {
    if (record.IsDeleted) continue;
    const stamp = record[stampField];
    if (typeof stamp !== 'string' || stamp < from || stamp >= to) continue;
    ids.push(record.Id);
    if (ids.length > REPLICATION_ID_LIMIT) return exceededIdLimit();
  }
  return { status: 200, body: { ids, latestDateCovered: to } };
}

function getDeleted(org: Org, req: RestRequest): RestResult {
  const object = visibleObject(org, req.params.object!);
  const { startMs, endMs, nowMs } = replicationWindow(org, req, object);
  // "No more than 15 days previous to the day the call is executed".
  const earliestMs = daysBefore(nowMs, DELETED_WINDOW_DAYS);
  if (startMs < earliestMs) {
    throw replicationError(`startDate is before the earliest date available for replication: ${formatDatetime(earliestMs)}`);
  }
  const deletions = org.deletions(object.name, startMs, endMs);
  if (deletions.length > REPLICATION_ID_LIMIT) return exceededIdLimit();
  return {
    status: 200,
    body: {
      deletedRecords: deletions.map((d) => ({ id: d.id, deletedDate: d.deletedDate })),
      earliestDateAvailable: formatDatetime(earliestMs),
      latestDateCovered: formatDatetime(endMs),
    },
  };
}

function exceededIdLimit(): RestResult {
  return errorBody(400, 'EXCEEDED_ID_LIMIT', `too many ids, limit is ${REPLICATION_ID_LIMIT}; choose start and end dates that are closer together`);
}

/** Whether a `59.0`-style version is at least `major`. */
function apiAtLeast(apiVersion: string, major: number): boolean {
  return Number.parseFloat(apiVersion) >= major;
}
