// The emulator's REST resources (sObjects, query, composite, sObject Collections): in-process through
// Hono for speed, and over a real server with unmodified jsforce for wire compatibility.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import { Connection } from '@jsforce/jsforce-node';
import { Hono } from 'hono';
import { OAuthSessions } from '../../emulator/auth/sessions.ts';
import { standardCatalog } from '../../emulator/org/catalog/index.ts';
import { Org } from '../../emulator/org/org.ts';
import type { StoredRecord } from '../../emulator/org/schema.ts';
import { formatDatetime } from '../../emulator/org/values.ts';
import { registerCompositeRoutes } from '../../emulator/rest/composite.ts';
import { ApiUsage, countApiUsage } from '../../emulator/rest/limits.ts';
import { registerQueryRoutes } from '../../emulator/rest/query.ts';
import { registerSObjectRoutes } from '../../emulator/rest/sobjects.ts';
import type { AppEnv, EmulatorContext, Session } from '../../emulator/server/context.ts';
import { respondWithError } from '../../emulator/server/respond.ts';

const START = new Date('2024-05-01T12:00:00.000Z');
const V = '/services/data/v59.0';
const FIXTURES = fileURLToPath(new URL('../../../shared/fixtures/salesforce-real/interactions/', import.meta.url));

/** Response bodies are read field by field in assertions; typing every shape would only restate them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

interface Harness {
  org: Org;
  usage: ApiUsage;
  app: Hono<AppEnv>;
  session: Session;
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: Json; headers: Headers }>;
}

function makeOrg(): { org: Org; userId: string } {
  const org = new Org(standardCatalog(), { now: START });
  const stampMs = org.clock.nowMs();
  const user = org.load('User', { Username: 'api@acme.example', LastName: 'Integration', Email: 'api@acme.example', IsActive: true }, { userId: '005000000000000AAA', stampMs });
  org.apiUserId = user.Id;
  return { org, userId: user.Id };
}

function contextFor(org: Org, usage: ApiUsage): EmulatorContext {
  return {
    org,
    sessions: new OAuthSessions(org),
    usage,
    adminToken: 'admin',
    instanceUrl: () => 'http://127.0.0.1',
  };
}

/** The REST routes behind a stub session middleware, as `createEmulatorApp` mounts them. */
function harness(): Harness {
  const { org, userId } = makeOrg();
  const session: Session = { accessToken: 'token', userId, orgId: org.orgId, clientId: 'test', issuedAtMs: 0, lastUsedMs: 0 };
  const usage = new ApiUsage(org);
  const ctx = contextFor(org, usage);
  const app = new Hono<AppEnv>();
  app.onError((error, c) => respondWithError(c, error));
  const data = new Hono<AppEnv>();
  data.use('*', async (c, next) => {
    c.set('session', session);
    c.set('apiVersion', /\/services\/data\/v(\d+\.\d+)/.exec(c.req.path)?.[1] ?? '59.0');
    await next();
  });
  data.use('*', countApiUsage(ctx));
  registerSObjectRoutes(data, ctx);
  registerQueryRoutes(data, ctx);
  registerCompositeRoutes(data, ctx);
  app.route('/services/data/:version', data);
  app.notFound((c) => c.json([{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }], 404));
  const call: Harness['call'] = async (method, path, body, headers = {}) => {
    const url = path.startsWith('/services/') ? path : `${V}${path}`;
    const init: RequestInit = { method, headers: { ...headers } };
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] = 'application/json';
    }
    const res = await app.request(`http://localhost${url}`, init);
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
  };
  return { org, usage, app, session, call };
}

function seedAccounts(org: Org, userId: string, n: number, prefix = 'Acct'): StoredRecord[] {
  const out: StoredRecord[] = [];
  const stampMs = org.clock.nowMs();
  for (let i = 0; i < n; i++) out.push(org.load('Account', { Name: `${prefix} ${String(i).padStart(6, '0')}` }, { userId, stampMs }));
  return out;
}

function fixture(name: string): Json[] | undefined {
  const file = `${FIXTURES}${name}`;
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined;
}

/** The key structure of a JSON value, for comparing our payloads with recorded ones. */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.length ? [shape(value[0])] : [];
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, shape((value as Record<string, unknown>)[k])]));
  }
  return value === null ? null : typeof value;
}

// ------------------------------------------------------------------------------------ sObject rows

describe('sObject rows', () => {
  test('create, retrieve, update and delete an Account', async () => {
    const h = harness();
    const created = await h.call('POST', '/sobjects/Account/', { Name: 'Smith Corp.', Industry: 'Banking', BillingCity: 'Paris' });
    assert.equal(created.status, 201);
    assert.deepEqual(Object.keys(created.body), ['id', 'success', 'errors']);
    assert.equal(created.body.success, true);
    assert.deepEqual(created.body.errors, []);
    assert.match(created.body.id, /^001[A-Za-z0-9]{15}$/);
    assert.equal(created.headers.get('content-type'), 'application/json;charset=UTF-8');
    const id = created.body.id as string;

    const full = await h.call('GET', `/sobjects/Account/${id}`);
    assert.equal(full.status, 200);
    assert.deepEqual(full.body.attributes, { type: 'Account', url: `${V}/sobjects/Account/${id}` });
    assert.equal(full.body.Name, 'Smith Corp.');
    assert.equal(full.body.IsDeleted, false);
    assert.equal(full.body.BillingAddress.city, 'Paris');
    assert.equal(full.body.OwnerId, h.session.userId);
    assert.equal(full.body.Phone, null);

    const partial = await h.call('GET', `/sobjects/Account/${id}?fields=Name,Industry`);
    assert.deepEqual(Object.keys(partial.body), ['attributes', 'Name', 'Industry', 'Id']);

    const updated = await h.call('PATCH', `/sobjects/Account/${id}`, { Name: 'Smith & Co.' });
    assert.equal(updated.status, 204);
    assert.equal(h.org.get(id)!.Name, 'Smith & Co.');

    const deleted = await h.call('DELETE', `/sobjects/Account/${id}`);
    assert.equal(deleted.status, 204);
    const gone = await h.call('GET', `/sobjects/Account/${id}`);
    assert.equal(gone.status, 404);
    assert.deepEqual(gone.body, [{ message: 'The requested resource does not exist', errorCode: 'NOT_FOUND' }]);
    const again = await h.call('PATCH', `/sobjects/Account/${id}`, { Name: 'x' });
    assert.equal(again.status, 400);
    assert.equal(again.body[0].errorCode, 'ENTITY_IS_DELETED');
  });

  test('error shapes of the row resources', async () => {
    const h = harness();
    const unknown = await h.call('GET', '/sobjects/Foo');
    assert.equal(unknown.status, 404);
    assert.deepEqual(unknown.body, [{ message: 'The requested resource does not exist', errorCode: 'NOT_FOUND' }]);

    const notAnId = await h.call('GET', '/sobjects/Account/xyz');
    assert.equal(notAnId.status, 404);
    assert.equal(notAnId.body[0].message, 'Provided external ID field does not exist or is not accessible: xyz');

    const { id: contactId } = (await h.call('POST', '/sobjects/Contact', { LastName: 'Bluth' })).body;
    const wrongType = await h.call('PATCH', `/sobjects/Account/${contactId}`, { Name: 'x' });
    assert.equal(wrongType.status, 400);
    assert.equal(wrongType.body[0].errorCode, 'MALFORMED_ID');
    assert.deepEqual(wrongType.body[0].fields, ['Id']);

    const badField = await h.call('POST', '/sobjects/Account', { Name: 'x', Nope__c: 1 });
    assert.equal(badField.status, 400);
    assert.equal(badField.body[0].errorCode, 'INVALID_FIELD');

    const missing = await h.call('POST', '/sobjects/Account', { Industry: 'Banking' });
    assert.equal(missing.body[0].errorCode, 'REQUIRED_FIELD_MISSING');
    assert.deepEqual(missing.body[0].fields, ['Name']);

    const tooLong = await h.call('POST', '/sobjects/Account', { Name: 'x'.repeat(256) });
    assert.equal(tooLong.body[0].errorCode, 'STRING_TOO_LONG');

    const picklist = await h.call('POST', '/sobjects/Account', { Name: 'x', CleanStatus: 'Shiny' });
    assert.equal(picklist.body[0].errorCode, 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST');

    const readOnly = await h.call('POST', '/sobjects/Account', { Name: 'x', SystemModstamp: '2024-01-01T00:00:00.000Z' });
    assert.equal(readOnly.body[0].errorCode, 'INVALID_FIELD_FOR_INSERT_UPDATE');

    const ghostAccount = '001000000000000AAA';
    const crossRef = await h.call('POST', '/sobjects/Contact', { LastName: 'x', AccountId: ghostAccount });
    assert.equal(crossRef.body[0].errorCode, 'INVALID_CROSS_REFERENCE_KEY');
    assert.deepEqual(crossRef.body[0].fields, ['AccountId']);

    const dup1 = await h.call('POST', '/sobjects/Account', { Name: 'Parent' });
    await h.call('POST', '/sobjects/Invoice__c', { Account__c: dup1.body.id, Due_Date__c: '2024-06-01', External_Id__c: 'INV-1' });
    const dup = await h.call('POST', '/sobjects/Invoice__c', { Account__c: dup1.body.id, Due_Date__c: '2024-06-01', External_Id__c: 'inv-1' });
    assert.equal(dup.body[0].errorCode, 'DUPLICATE_VALUE');

    const badJson = await h.call('POST', '/sobjects/Account', '{"Name":');
    assert.equal(badJson.status, 400);
    assert.equal(badJson.body[0].errorCode, 'JSON_PARSER_ERROR');

    const badFields = await h.call('GET', `/sobjects/Contact/${contactId}?fields=Name,Bogus`);
    assert.equal(badFields.body[0].errorCode, 'INVALID_FIELD');
  });

  test('describe, describeGlobal and basic information', async () => {
    const h = harness();
    const global = await h.call('GET', '/sobjects');
    assert.equal(global.status, 200);
    assert.ok(global.body.sobjects.some((s: { name: string }) => s.name === 'Account'));
    const notModified = await h.call('GET', '/sobjects', undefined, { 'If-Modified-Since': new Date(START.getTime() + 3_600_000).toUTCString() });
    assert.equal(notModified.status, 304);
    const modified = await h.call('GET', '/sobjects', undefined, { 'If-Modified-Since': new Date(START.getTime() - 3_600_000).toUTCString() });
    assert.equal(modified.status, 200);

    const describeAccount = await h.call('GET', '/sobjects/Account/describe/');
    assert.equal(describeAccount.body.name, 'Account');

    await h.call('POST', '/sobjects/Account', { Name: 'Recent One' });
    const info = await h.call('GET', '/sobjects/Account');
    assert.equal(info.body.objectDescribe.name, 'Account');
    assert.equal(info.body.recentItems[0].Name, 'Recent One');
  });

  test('relationships and blobs under a record', async () => {
    const h = harness();
    const account = (await h.call('POST', '/sobjects/Account', { Name: 'Parent' })).body.id;
    const contact = (await h.call('POST', '/sobjects/Contact', { LastName: 'Kid', AccountId: account })).body.id;
    const children = await h.call('GET', `/sobjects/Account/${account}/Contacts`);
    assert.equal(children.body.totalSize, 1);
    assert.equal(children.body.records[0].Id, contact);
    const parent = await h.call('GET', `/sobjects/Contact/${contact}/Account?fields=Name`);
    assert.equal(parent.body.Name, 'Parent');

    const attachment = (await h.call('POST', '/sobjects/Attachment', { ParentId: account, Name: 'a.txt', Body: Buffer.from('hello').toString('base64') })).body.id;
    const record = await h.call('GET', `/sobjects/Attachment/${attachment}`);
    assert.equal(record.body.Body, `${V}/sobjects/Attachment/${attachment}/Body`);
    const blob = await h.app.request(`http://localhost${V}/sobjects/Attachment/${attachment}/Body`);
    assert.equal(Buffer.from(await blob.arrayBuffer()).toString(), 'hello');
  });
});

// ------------------------------------------------------------------------------------ external IDs

describe('rows by external ID', () => {
  test('upsert creates with 201, updates with 200 (API 46+) or 204 before', async () => {
    const h = harness();
    const account = (await h.call('POST', '/sobjects/Account', { Name: 'Parent' })).body.id;
    const first = await h.call('PATCH', '/sobjects/Invoice__c/External_Id__c/X-1', { Account__c: account, Due_Date__c: '2024-06-01' });
    assert.equal(first.status, 201);
    assert.deepEqual(Object.keys(first.body), ['id', 'success', 'errors', 'created']);
    assert.equal(first.body.created, true);
    assert.equal(h.org.get(first.body.id)!.External_Id__c, 'X-1');

    const second = await h.call('PATCH', '/sobjects/Invoice__c/External_Id__c/X-1', { Notes__c: 'updated' });
    assert.equal(second.status, 200);
    assert.deepEqual(second.body, { id: first.body.id, success: true, errors: [], created: false });

    const old = await h.call('PATCH', '/services/data/v45.0/sobjects/Invoice__c/External_Id__c/X-1', { Notes__c: 'old api' });
    assert.equal(old.status, 204);
    const oldCreate = await h.call('PATCH', '/services/data/v45.0/sobjects/Invoice__c/External_Id__c/X-2', { Account__c: account, Due_Date__c: '2024-06-01' });
    assert.deepEqual(Object.keys(oldCreate.body), ['id', 'success', 'errors']);

    const byExt = await h.call('GET', '/sobjects/Invoice__c/External_Id__c/X-1?fields=Notes__c');
    assert.equal(byExt.body.Notes__c, 'old api');

    const badField = await h.call('PATCH', '/sobjects/Invoice__c/Notes__c/abc', {});
    assert.equal(badField.status, 404);
    assert.deepEqual(badField.body, [{ message: 'Provided external ID field does not exist or is not accessible: Notes__c', errorCode: 'NOT_FOUND' }]);

    const byId = await h.call('POST', '/sobjects/Account/Id', { Name: 'Made via Id' });
    assert.equal(byId.status, 201);
    const updById = await h.call('PATCH', `/sobjects/Account/Id/${byId.body.id}`, { Name: 'Renamed' });
    assert.equal(updById.status, 200);
    assert.equal(h.org.get(byId.body.id)!.Name, 'Renamed');
  });

  test('several matches answer 300 with the records\' URLs', async () => {
    const h = harness();
    const a = (await h.call('POST', '/sobjects/Contact', { LastName: 'One', Email: 'same@example.com' })).body.id;
    const b = (await h.call('POST', '/sobjects/Contact', { LastName: 'Two', Email: 'same@example.com' })).body.id;
    const res = await h.call('PATCH', '/sobjects/Contact/Email/same@example.com', { FirstName: 'x' });
    assert.equal(res.status, 300);
    assert.deepEqual(res.body.sort(), [`${V}/sobjects/Contact/${a}`, `${V}/sobjects/Contact/${b}`].sort());
  });
});

// ------------------------------------------------------------------------------------ replication

describe('getUpdated and getDeleted', () => {
  test('updated lists records by SystemModstamp within the window', async () => {
    const h = harness();
    const start = formatDatetime(h.org.clock.nowMs() - 60_000);
    const id = (await h.call('POST', '/sobjects/Account', { Name: 'Changed' })).body.id;
    h.org.clock.advance(120);
    const end = formatDatetime(h.org.clock.nowMs());
    const res = await h.call('GET', `/sobjects/Account/updated/?start=${encodeURIComponent(start)}&end=${encodeURIComponent(end)}`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.ids, [id]);
    assert.match(res.body.latestDateCovered, /^\d{4}-\d\d-\d\dT\d\d:\d\d:00\.000\+0000$/);

    const tooOld = formatDatetime(h.org.clock.nowMs() - 31 * 86_400_000);
    const old = await h.call('GET', `/sobjects/Account/updated?start=${encodeURIComponent(tooOld)}&end=${encodeURIComponent(end)}`);
    assert.equal(old.status, 400);
    assert.equal(old.body[0].errorCode, 'INVALID_REPLICATION_DATE');
    const reversed = await h.call('GET', `/sobjects/Account/updated?start=${encodeURIComponent(end)}&end=${encodeURIComponent(start)}`);
    assert.equal(reversed.body[0].errorCode, 'INVALID_REPLICATION_DATE');
  });

  test('deleted lists deletions and refuses to reach past the Recycle Bin window', async () => {
    const h = harness();
    const start = formatDatetime(h.org.clock.nowMs() - 60_000);
    const id = (await h.call('POST', '/sobjects/Account', { Name: 'Doomed' })).body.id;
    await h.call('DELETE', `/sobjects/Account/${id}`);
    h.org.clock.advance(120);
    const end = formatDatetime(h.org.clock.nowMs());
    const res = await h.call('GET', `/sobjects/Account/deleted?start=${encodeURIComponent(start)}&end=${encodeURIComponent(end)}`);
    assert.equal(res.status, 200);
    assert.deepEqual(Object.keys(res.body), ['deletedRecords', 'earliestDateAvailable', 'latestDateCovered']);
    assert.equal(res.body.deletedRecords.length, 1);
    assert.equal(res.body.deletedRecords[0].id, id);
    assert.match(res.body.deletedRecords[0].deletedDate, /\+0000$/);

    const early = formatDatetime(h.org.clock.nowMs() - 20 * 86_400_000);
    const tooEarly = await h.call('GET', `/sobjects/Account/deleted?start=${encodeURIComponent(early)}&end=${encodeURIComponent(end)}`);
    assert.equal(tooEarly.status, 400);
    assert.equal(tooEarly.body[0].errorCode, 'INVALID_REPLICATION_DATE');
  });
});

// ------------------------------------------------------------------------------------ query

describe('query', () => {
  test('pages of 2000 with real-looking locators, queryAll continued through /query', async () => {
    const h = harness();
    const records = seedAccounts(h.org, h.session.userId, 4500);
    h.org.delete(records[0]!.Id, { userId: h.session.userId });

    const first = await h.call('GET', `/query?q=${encodeURIComponent('SELECT Id, Name FROM Account')}`);
    assert.equal(first.status, 200);
    assert.deepEqual(Object.keys(first.body), ['totalSize', 'done', 'nextRecordsUrl', 'records']);
    assert.equal(first.body.totalSize, 4499);
    assert.equal(first.body.done, false);
    assert.equal(first.body.records.length, 2000);
    assert.match(first.body.nextRecordsUrl, /^\/services\/data\/v59\.0\/query\/01g[0-9A-Za-z]{15}-2000$/);
    assert.deepEqual(first.body.records[0].attributes, { type: 'Account', url: `${V}/sobjects/Account/${records[1]!.Id}` });

    const second = await h.call('GET', first.body.nextRecordsUrl);
    assert.equal(second.body.records.length, 2000);
    assert.match(second.body.nextRecordsUrl, /-4000$/);
    const third = await h.call('GET', second.body.nextRecordsUrl);
    assert.equal(third.body.records.length, 499);
    assert.equal(third.body.done, true);
    assert.equal(third.body.nextRecordsUrl, undefined);

    const all = await h.call('GET', `/queryAll/?q=${encodeURIComponent('SELECT Id FROM Account')}`);
    assert.equal(all.body.totalSize, 4500);
    const rest = await h.call('GET', all.body.nextRecordsUrl.replace('/query/', '/queryAll/'));
    assert.equal(rest.body.records.length, 2000);
    const last = await h.call('GET', rest.body.nextRecordsUrl);
    assert.equal(last.body.records.length, 500);
  });

  test('batchSize header, count() and errors', async () => {
    const h = harness();
    seedAccounts(h.org, h.session.userId, 700);
    const small = await h.call('GET', `/query?q=${encodeURIComponent('SELECT Id FROM Account')}`, undefined, { 'Sforce-Query-Options': 'batchSize=300' });
    assert.equal(small.body.records.length, 300);
    const tiny = await h.call('GET', `/query?q=${encodeURIComponent('SELECT Id FROM Account')}`, undefined, { 'Sforce-Query-Options': 'batchSize=10' });
    assert.equal(tiny.body.records.length, 200);

    const count = await h.call('GET', `/query?q=${encodeURIComponent('SELECT count() FROM Account')}`);
    assert.deepEqual(count.body, { totalSize: 700, done: true, records: [] });

    const bad = await h.call('GET', `/query?q=${encodeURIComponent('SELECT Id FROM XYZZY')}`);
    assert.equal(bad.status, 400);
    assert.equal(bad.body[0].errorCode, 'INVALID_TYPE');

    const noLocator = await h.call('GET', '/query/01gAAAAAAAAAAAAAAA-2000');
    assert.equal(noLocator.status, 400);
    assert.deepEqual(noLocator.body, [{ message: 'invalid query locator', errorCode: 'INVALID_QUERY_LOCATOR' }]);
  });

  test('cursors last two days after the query, with no per-user limit in any API version', async () => {
    const h = harness();
    seedAccounts(h.org, h.session.userId, 2500);
    const open = async (version = '59.0'): Promise<string> =>
      (await h.call('GET', `/services/data/v${version}/query?q=${encodeURIComponent('SELECT Id FROM Account')}`)).body.nextRecordsUrl;

    // Salesforce removed cursor limits with API version 56.0, for every version: 15 cursors from
    // an old client and a new one all stay open, however long they sit idle within two days.
    const urls: string[] = [];
    for (let i = 0; i < 15; i++) urls.push(await open(i % 2 ? '55.0' : '59.0'));
    h.org.clock.advance(47 * 3600);
    const first = await h.call('GET', urls[0]!);
    assert.equal(first.status, 200);
    assert.equal(first.body.records.length, 500);
    // The last page closes the cursor.
    assert.equal((await h.call('GET', urls[0]!)).body[0].errorCode, 'INVALID_QUERY_LOCATOR');
    h.org.clock.advance(3600 + 1);
    assert.deepEqual((await h.call('GET', urls[1]!)).body, [{ message: 'invalid query locator', errorCode: 'INVALID_QUERY_LOCATOR' }]);
  });

  test('a per-user cursor limit (the pre-56.0 ten) releases the oldest cursor', async () => {
    const h = harness();
    h.org.settings.queryCursorsPerUser = 10;
    seedAccounts(h.org, h.session.userId, 2500);
    const open = async (): Promise<string> => (await h.call('GET', `/query?q=${encodeURIComponent('SELECT Id FROM Account')}`)).body.nextRecordsUrl;
    const urls: string[] = [];
    for (let i = 0; i < 11; i++) urls.push(await open());
    const evicted = await h.call('GET', urls[0]!);
    assert.equal(evicted.status, 400);
    assert.deepEqual(evicted.body, [{ message: 'invalid query locator', errorCode: 'INVALID_QUERY_LOCATOR' }]);
    assert.equal((await h.call('GET', urls[1]!)).status, 200);
    assert.equal((await h.call('GET', urls[10]!)).status, 200);
  });

  // Speed is measured by `npm run bench` (emulator-query), never asserted in tests.
  test('serves a large result as full pages to the last record', async () => {
    const h = harness();
    const total = 60_000;
    seedAccounts(h.org, h.session.userId, total);
    let url: string | undefined = `${V}/query?q=${encodeURIComponent('SELECT Id, Name, Industry, CreatedDate, SystemModstamp FROM Account')}`;
    let bytes = 0;
    let pages = 0;
    while (url) {
      const res = await h.app.request(`http://localhost${url}`);
      const text = await res.text();
      bytes += text.length;
      pages++;
      url = /"nextRecordsUrl":"([^"]+)"/.exec(text)?.[1];
    }
    assert.equal(pages, total / 2000);
    assert.ok(bytes > total * 100);
  });
});

// ------------------------------------------------------------------------------------ composite

describe('composite', () => {
  test('matches the recorded parallel-query composite', async () => {
    const h = harness();
    await h.call('POST', '/sobjects/Account/', { Name: 'Smith Corp.' });
    const recorded = fixture('TestCompositeParallelSalesforce.test_composite_parallel_salesforce.json');
    const request = recorded?.[1].request.body ?? {
      compositeRequest: [
        { referenceId: 'r0', method: 'GET', url: '/services/data/vxx.0/query?q=SELECT Id FROM Account LIMIT 1' },
        { referenceId: 'r1', method: 'GET', url: '/services/data/vxx.0/query?q=SELECT Name FROM Account LIMIT 1' },
      ],
    };
    const res = await h.call('POST', '/composite', request);
    assert.equal(res.status, 200);
    assert.equal(res.body.compositeResponse[1].body.records[0].Name, 'Smith Corp.');
    if (recorded) assert.deepEqual(shape(res.body), shape(recorded[1].response.body));
    else console.log('# salesforce-real fixtures not present; compared without them');
  });

  test('references, allOrNone rollback and dependent failures', async () => {
    const h = harness();
    const chained = await h.call('POST', '/composite', {
      compositeRequest: [
        { method: 'POST', url: `${V}/sobjects/Account`, referenceId: 'refAccount', body: { Name: 'Sample Account' } },
        { method: 'POST', url: `${V}/sobjects/Contact`, referenceId: 'refContact', body: { LastName: 'Sample', AccountId: '@{refAccount.id}' } },
        { method: 'GET', url: `${V}/query?q=SELECT Id, AccountId FROM Contact WHERE AccountId = '@{refAccount.id}'`, referenceId: 'q' },
        { method: 'PATCH', url: `${V}/sobjects/Contact/@{q.records[0].Id}`, referenceId: 'upd', body: { FirstName: 'Chained' } },
      ],
    });
    const [acc, con, q, upd] = chained.body.compositeResponse;
    assert.equal(acc.httpStatusCode, 201);
    assert.equal(acc.httpHeaders.Location, `${V}/sobjects/Account/${acc.body.id}`);
    assert.equal(h.org.get(con.body.id)!.AccountId, acc.body.id);
    assert.deepEqual(q.httpHeaders, {});
    assert.equal(q.body.totalSize, 1);
    assert.deepEqual(upd, { body: null, httpHeaders: {}, httpStatusCode: 204, referenceId: 'upd' });
    assert.equal(h.org.get(con.body.id)!.FirstName, 'Chained');

    const before = h.org.count('Account');
    const rolledBack = await h.call('POST', '/composite', {
      allOrNone: true,
      compositeRequest: [
        { method: 'POST', url: `${V}/sobjects/Account`, referenceId: 'good', body: { Name: 'Kept?' } },
        { method: 'POST', url: `${V}/sobjects/Account`, referenceId: 'bad', body: { Industry: 'Banking' } },
        { method: 'POST', url: `${V}/sobjects/Account`, referenceId: 'later', body: { Name: 'Never' } },
      ],
    });
    const [good, bad, later] = rolledBack.body.compositeResponse;
    assert.equal(bad.httpStatusCode, 400);
    assert.equal(bad.body[0].errorCode, 'REQUIRED_FIELD_MISSING');
    for (const r of [good, later]) {
      assert.equal(r.httpStatusCode, 400);
      assert.deepEqual(r.body, [{ errorCode: 'PROCESSING_HALTED', message: 'The transaction was rolled back since another operation in the same transaction failed.' }]);
    }
    assert.equal(h.org.count('Account'), before);

    const partial = await h.call('POST', '/composite', {
      compositeRequest: [
        { method: 'POST', url: `${V}/sobjects/Account`, referenceId: 'broken', body: { Industry: 'Banking' } },
        { method: 'POST', url: `${V}/sobjects/Contact`, referenceId: 'dependent', body: { LastName: 'x', AccountId: '@{broken.id}' } },
        { method: 'POST', url: `${V}/sobjects/Account`, referenceId: 'independent', body: { Name: 'Fine' } },
      ],
    });
    const [, dependent, independent] = partial.body.compositeResponse;
    assert.equal(dependent.body[0].errorCode, 'PROCESSING_HALTED');
    assert.match(dependent.body[0].message, /Invalid reference specified/);
    assert.equal(independent.httpStatusCode, 201);
  });

  test('a composite is one API call, whatever its subrequests', async () => {
    const h = harness();
    const before = h.usage.used();
    const res = await h.call('POST', '/composite', {
      compositeRequest: [
        { method: 'POST', url: `${V}/sobjects/Account`, referenceId: 'a', body: { Name: 'Counted once' } },
        { method: 'GET', url: `${V}/sobjects/Account/@{a.id}`, referenceId: 'b' },
        { method: 'GET', url: `${V}/query?q=SELECT Id FROM Account`, referenceId: 'c' },
      ],
    });
    assert.equal(res.status, 200);
    assert.equal(h.usage.used(), before + 1);
  });

  test('limits: 25 subrequests, 5 queries or collections', async () => {
    const h = harness();
    const get = (i: number): unknown => ({ method: 'GET', url: `${V}/sobjects/Account/describe`, referenceId: `d${i}` });
    const tooMany = await h.call('POST', '/composite', { compositeRequest: Array.from({ length: 26 }, (_, i) => get(i)) });
    assert.equal(tooMany.status, 400);
    const query = (i: number): unknown => ({ method: 'GET', url: `${V}/query?q=SELECT Id FROM Account`, referenceId: `q${i}` });
    const tooManyQueries = await h.call('POST', '/composite', { compositeRequest: Array.from({ length: 6 }, (_, i) => query(i)) });
    assert.equal(tooManyQueries.status, 400);
    const fine = await h.call('POST', '/composite', { compositeRequest: [...Array.from({ length: 5 }, (_, i) => query(i)), ...Array.from({ length: 20 }, (_, i) => get(i))] });
    assert.equal(fine.status, 200);
    assert.equal(fine.body.compositeResponse.length, 25);
  });
});

// ------------------------------------------------------------------------------------ collections

describe('sObject Collections', () => {
  test('create, update, retrieve and delete up to 200 records', async () => {
    const h = harness();
    const records = Array.from({ length: 200 }, (_, i) => ({ attributes: { type: 'Account' }, Name: `Bulk ${i}` }));
    const created = await h.call('POST', '/composite/sobjects', { allOrNone: false, records });
    assert.equal(created.status, 200);
    assert.equal(created.body.length, 200);
    assert.deepEqual(Object.keys(created.body[0]), ['id', 'success', 'errors']);
    const ids = created.body.map((r: { id: string }) => r.id);

    const tooMany = await h.call('POST', '/composite/sobjects', { records: [...records, records[0]] });
    assert.equal(tooMany.status, 400);
    assert.equal(tooMany.body[0].errorCode, 'EXCEEDED_ID_LIMIT');

    const updated = await h.call('PATCH', '/composite/sobjects', {
      records: [
        { attributes: { type: 'Account' }, id: ids[0], Name: 'Renamed' },
        { attributes: { type: 'Account' }, id: '003000000000000AAA', Name: 'Wrong type' },
      ],
    });
    assert.equal(updated.body[0].success, true);
    assert.deepEqual(updated.body[1], { success: false, errors: [{ statusCode: 'MALFORMED_ID', message: 'Account ID: id value of incorrect type: 003000000000000AAA', fields: ['Id'] }] });

    const retrieved = await h.call('GET', `/composite/sobjects/Account?ids=${ids[0]},${ids[1]},001000000000000AAA&fields=Name`);
    assert.equal(retrieved.body[0].Name, 'Renamed');
    assert.equal(retrieved.body[2], null);
    const posted = await h.call('POST', '/composite/sobjects/Account', { ids: [ids[2]], fields: ['Id', 'Name'] });
    assert.equal(posted.body[0].Name, 'Bulk 2');

    const deleted = await h.call('DELETE', `/composite/sobjects?ids=${ids[0]},${ids[1]}&allOrNone=false`);
    assert.deepEqual(deleted.body, [{ id: ids[0], success: true, errors: [] }, { id: ids[1], success: true, errors: [] }]);
    assert.equal(h.org.get(ids[0])!.IsDeleted, true);
  });

  test('allOrNone rolls everything back', async () => {
    const h = harness();
    const before = h.org.count('Account');
    const res = await h.call('POST', '/composite/sobjects', {
      allOrNone: true,
      records: [
        { attributes: { type: 'Account' }, Name: 'Would be fine' },
        { attributes: { type: 'Account' }, Industry: 'No name' },
      ],
    });
    assert.deepEqual(res.body[0], {
      success: false,
      errors: [{ statusCode: 'ALL_OR_NONE_OPERATION_ROLLED_BACK', message: 'Record rolled back because not all records were valid and the request was using AllOrNone header', fields: [] }],
    });
    assert.equal(res.body[1].errors[0].statusCode, 'REQUIRED_FIELD_MISSING');
    assert.equal(h.org.count('Account'), before);
  });

  test('upsert by external ID matches the recorded CumulusCI upsert', async () => {
    const h = harness();
    const recorded = fixture('TestUpsert.test_upsert__rest.json');
    const existing = (await h.call('POST', '/sobjects/Contact', { LastName: 'Bluth', Email: 'Michael.Bluth@example.com' })).body.id;
    const res = await h.call('PATCH', '/composite/sobjects/Contact/Email', {
      allOrNone: false,
      records: [
        { FirstName: 'Nichael', LastName: 'Bluth', Email: 'Michael.Bluth@example.com', attributes: { type: 'Contact' } },
        { FirstName: 'Annyong', LastName: 'Bluth', Email: 'annyong.bluth@example.com', attributes: { type: 'Contact' } },
      ],
    });
    assert.deepEqual(res.body[0], { id: existing, success: true, errors: [], created: false });
    assert.equal(res.body[1].created, true);
    const byId = await h.call('PATCH', '/composite/sobjects/Account/Id', { allOrNone: false, records: [{ Name: 'Sitwell-Bluth', AccountNumber: '420', Id: null, attributes: { type: 'Account' } }] });
    assert.equal(byId.body[0].created, true);
    if (recorded) {
      const exchange = recorded.find((x) => x.request?.method === 'PATCH' && String(x.request.uri).endsWith('/composite/sobjects/Contact/Email'));
      assert.deepEqual(shape(res.body), shape(exchange.response.body));
    }
  });
});

// ------------------------------------------------------------------------------------ jsforce

describe('jsforce over HTTP', () => {
  let h: Harness;
  let conn: Connection;
  let close: () => void;

  before(async () => {
    // The whole emulator app (OAuth sessions, version guard, API counting) around these routes,
    // while modules it imports are still being written elsewhere, the stub harness stands in.
    h = harness();
    let instanceUrl = 'http://127.0.0.1';
    const ctx = { ...contextFor(h.org, h.usage), instanceUrl: () => instanceUrl };
    const session = ctx.sessions.issue(h.session.userId, 'jsforce-test');
    let app: Hono<AppEnv> = h.app;
    try {
      const { createEmulatorApp } = await import('../../emulator/server/app.ts');
      app = createEmulatorApp(ctx);
    } catch (error) {
      if ((error as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw error;
      console.log(`# full emulator app unavailable (${(error as Error).message.split('\n')[0]}); using the stub harness`);
    }
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    const { port } = server.address() as AddressInfo;
    instanceUrl = `http://127.0.0.1:${port}`;
    close = () => server.close();
    conn = new Connection({ instanceUrl, accessToken: session.accessToken, version: '59.0' });
  });
  after(() => close());

  test('CRUD and upsert through conn.sobject', async () => {
    const account = conn.sobject('Account');
    const created = await account.create({ Name: 'Via jsforce' });
    assert.equal(created.success, true);
    const retrieved = await account.retrieve(created.id!);
    assert.equal(retrieved.Name, 'Via jsforce');
    const updated = await account.update({ Id: created.id!, Name: 'Renamed' });
    assert.equal(updated.success, true);
    const parent = await account.create({ Name: 'Parent' });
    const upserted = await conn.sobject('Invoice__c').upsert({ External_Id__c: 'J-1', Account__c: parent.id, Due_Date__c: '2024-06-01' }, 'External_Id__c');
    assert.equal(upserted.success, true);
    assert.equal((upserted as { created?: boolean }).created, true);
    const again = await conn.sobject('Invoice__c').upsert({ External_Id__c: 'J-1', Notes__c: 'second' }, 'External_Id__c');
    assert.equal((again as { created?: boolean }).created, false);
    const destroyed = await account.destroy(created.id!);
    assert.equal(destroyed.success, true);
  });

  test('collections via arrays', async () => {
    const records = Array.from({ length: 200 }, (_, i) => ({ Name: `Many ${i}` }));
    const results = await conn.sobject('Account').create(records);
    assert.equal(results.length, 200);
    assert.ok(results.every((r) => r.success));
    const ids = results.map((r) => r.id!);
    const fetched = await conn.sobject('Account').retrieve(ids.slice(0, 3), { fields: ['Name'] });
    assert.equal(fetched[0]!.Name, 'Many 0');
    const destroyed = await conn.sobject('Account').destroy(ids.slice(0, 2));
    assert.ok(destroyed.every((r) => r.success));
  });

  test('composite through requestPost', async () => {
    const res = await conn.requestPost<{ compositeResponse: { httpStatusCode: number }[] }>('/services/data/v59.0/composite', {
      compositeRequest: [
        { method: 'POST', url: '/services/data/v59.0/sobjects/Account', referenceId: 'a', body: { Name: 'Composite' } },
        { method: 'GET', url: '/services/data/v59.0/sobjects/Account/@{a.id}', referenceId: 'b' },
      ],
    });
    assert.deepEqual(res.compositeResponse.map((r) => r.httpStatusCode), [201, 200]);
  });

  test('query with autoFetch across pages, and queryAll', async () => {
    seedAccounts(h.org, h.session.userId, 5000, 'Paged');
    const result = await conn.query("SELECT Id, Name FROM Account WHERE Name LIKE 'Paged%'").run({ autoFetch: true, maxFetch: 10_000 });
    assert.equal(result.totalSize, 5000);
    assert.equal(result.records.length, 5000);
    assert.equal(new Set(result.records.map((r) => r.Id)).size, 5000);
    const capped = await conn.query("SELECT Id FROM Account WHERE Name LIKE 'Paged%'").run({ autoFetch: true, maxFetch: 4500 });
    assert.equal(capped.records.length, 4500);

    const doomed = await conn.sobject('Account').create({ Name: 'Paged doomed' });
    await conn.sobject('Account').destroy(doomed.id!);
    // jsforce 3 spells queryAll as scanAll; it continues the cursor through /query/ like Salesforce's own URLs.
    const all = await conn.query<{ Id: string; IsDeleted: boolean }>("SELECT Id, IsDeleted FROM Account WHERE Name LIKE 'Paged%'").run({ autoFetch: true, maxFetch: 10_000, scanAll: true });
    assert.equal(all.records.length, 5001);
    assert.ok(all.records.some((r) => r.IsDeleted === true));
  });

  test('updated and deleted', async () => {
    const start = new Date(h.org.clock.nowMs() - 60_000);
    const fresh = await conn.sobject('Account').create({ Name: 'Replicated' });
    const gone = await conn.sobject('Account').create({ Name: 'Replicated gone' });
    await conn.sobject('Account').destroy(gone.id!);
    h.org.clock.advance(120);
    const end = new Date(h.org.clock.nowMs());
    const updated = await conn.sobject('Account').updated(start, end);
    assert.ok(updated.ids.includes(fresh.id!));
    const deleted = await conn.sobject('Account').deleted(start, end);
    assert.ok(deleted.deletedRecords.some((d) => d.id === gone.id));
    assert.ok(!deleted.deletedRecords.some((d) => d.id === fresh.id));
  });

  test('errors carry Salesforce error codes', async () => {
    await assert.rejects(async () => conn.sobject('Account').create({ Industry: 'Banking' }), (e: { errorCode?: string }) => e.errorCode === 'REQUIRED_FIELD_MISSING');
    await assert.rejects(async () => conn.sobject('Account').retrieve('001000000000000AAA'), (e: { errorCode?: string }) => e.errorCode === 'NOT_FOUND');
    await assert.rejects(async () => conn.request('/services/data/v59.0/query/01gAAAAAAAAAAAAAAA-2000'), (e: { errorCode?: string }) => e.errorCode === 'INVALID_QUERY_LOCATOR');
    await assert.rejects(async () => conn.query('SELECT Nope__c FROM Account').run(), (e: { errorCode?: string }) => e.errorCode === 'INVALID_FIELD');
  });
});
