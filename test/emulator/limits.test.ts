import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { Connection } from '@jsforce/jsforce-node';
import { OAuthSessions } from '../../emulator/auth/sessions.ts';
import { registerOAuthRoutes } from '../../emulator/auth/routes.ts';
import { requireSession } from '../../emulator/auth/middleware.ts';
import { ApiUsage, countApiUsage, registerLimitsRoutes } from '../../emulator/rest/limits.ts';
import { apiVersionGuard, registerVersionRoutes } from '../../emulator/rest/versions.ts';
import { Org } from '../../emulator/org/org.ts';
import { standardCatalog } from '../../emulator/org/catalog/index.ts';
import type { AppEnv, EmulatorContext } from '../../emulator/server/context.ts';
import { createEmulator } from '../../emulator/index.ts';
import { configureBulk } from '../../emulator/bulk/routes.ts';

const DAY_SECONDS = 86_400;
const CLIENT_ID = '3MVG9limitsTestClient';

function buildFixture(dailyApiRequests = 100_000, instanceUrl: () => string = () => 'http://127.0.0.1:9') {
  const org = new Org(standardCatalog(), { now: new Date('2025-06-02T08:00:00Z'), settings: { dailyApiRequests } });
  const stampMs = org.clock.nowMs();
  const userId = org.ids.next('005');
  org.load('User', { Id: userId, Username: 'api@acme.example', IsActive: true, LastName: 'Api' }, { userId, stampMs });
  org.apiUserId = userId;
  org.credentials.set('api@acme.example', 'pw');
  org.connectedApp = { clientId: CLIENT_ID, clientSecret: 'secret', certificatePem: '', privateKeyPem: '' };
  for (let i = 0; i < 3; i++) org.load('Account', { Name: `Account ${i}` }, { userId, stampMs });
  org.load('Contact', { LastName: 'Only' }, { userId, stampMs });
  const sessions = new OAuthSessions(org);
  const usage = new ApiUsage(org);
  const ctx: EmulatorContext = { org, sessions, usage, adminToken: 'admin', instanceUrl };
  const app = new Hono<AppEnv>();
  registerOAuthRoutes(app, ctx);
  registerVersionRoutes(app, ctx);
  const data = new Hono<AppEnv>();
  data.use('*', requireSession(ctx));
  data.use('*', apiVersionGuard());
  data.use('*', countApiUsage(ctx));
  registerLimitsRoutes(data, ctx);
  data.get('/query', (c) => c.json({ totalSize: 0, done: true, records: [] }));
  app.route('/services/data/:version', data);
  const login = (): string => sessions.issue(userId, CLIENT_ID).accessToken;
  return { org, ctx, usage, app, login };
}

const bearer = (token: string, extra: Record<string, string> = {}) => ({ headers: { Authorization: `Bearer ${token}`, ...extra } });

describe('ApiUsage', () => {
  test('counts calls in a rolling 24-hour window of org time', () => {
    const { org, usage } = buildFixture();
    for (let i = 0; i < 5; i++) usage.admit();
    org.clock.advance(12 * 3600);
    for (let i = 0; i < 3; i++) usage.admit();
    assert.equal(usage.used(), 8);
    org.clock.advance(12 * 3600 - 120);
    assert.equal(usage.used(), 8, 'the first calls are 23h58m old');
    org.clock.advance(180);
    assert.equal(usage.used(), 3, 'the first calls have left the window');
    org.clock.advance(DAY_SECONDS);
    assert.equal(usage.used(), 0);
    assert.equal(usage.statistics().total, 8, 'statistics keep the all-time total');
  });

  test('refuses calls past the allocation without counting them', () => {
    const { usage } = buildFixture(3);
    assert.deepEqual([usage.admit(), usage.admit(), usage.admit(), usage.admit()], [1, 2, 3, undefined]);
    assert.equal(usage.used(), 3);
  });

  test('a million calls over many minutes are all counted in the window', () => {
    const { org, usage } = buildFixture(10_000_000);
    for (let i = 0; i < 1_000_000; i++) {
      usage.admit();
      if (i % 10_000 === 0) org.clock.advance(7);
    }
    assert.equal(usage.used(), 1_000_000);
  });

  test('reset clears the window and the statistics', () => {
    const { usage } = buildFixture();
    usage.admit();
    usage.attribute('GET /query', 'jsforce');
    usage.reset();
    assert.equal(usage.used(), 0);
    assert.deepEqual(usage.statistics(), { total: 0, byEndpoint: {}, byClient: {} });
  });
});

describe('countApiUsage', () => {
  test('every counted response carries Sforce-Limit-Info', async () => {
    const { app, login } = buildFixture(500);
    const token = login();
    for (const expected of [1, 2, 3]) {
      const res = await app.request('/services/data/v59.0/query?q=SELECT+Id+FROM+Account', bearer(token));
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('Sforce-Limit-Info'), `api-usage=${expected}/500`);
    }
    const notFound = await app.request('/services/data/v59.0/nothing-here', bearer(token));
    assert.equal(notFound.status, 404);
    assert.equal(notFound.headers.get('Sforce-Limit-Info'), 'api-usage=4/500');
  });

  test('unauthenticated calls and the versions list are not counted', async () => {
    const { app, usage } = buildFixture();
    assert.equal((await app.request('/services/data/v59.0/limits')).status, 401);
    assert.equal((await app.request('/services/data')).status, 200);
    assert.equal(usage.used(), 0);
  });

  test('past DailyApiRequests calls get 403 REQUEST_LIMIT_EXCEEDED until the window rolls', async () => {
    const { org, app, login } = buildFixture(5);
    let token = login();
    for (let i = 0; i < 5; i++) assert.equal((await app.request('/services/data/v59.0/query', bearer(token))).status, 200);
    const refused = await app.request('/services/data/v59.0/query', bearer(token));
    assert.equal(refused.status, 403);
    assert.deepEqual(await refused.json(), [{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }]);
    assert.equal(refused.headers.get('Sforce-Limit-Info'), 'api-usage=5/5');

    org.clock.advance(DAY_SECONDS);
    token = login();
    const again = await app.request('/services/data/v59.0/query', bearer(token));
    assert.equal(again.status, 200);
    assert.equal(again.headers.get('Sforce-Limit-Info'), 'api-usage=1/5');
  });

  test('statistics by endpoint template and by client', async () => {
    const { app, usage, login } = buildFixture();
    const token = login();
    await app.request('/services/data/v59.0/query?q=x', bearer(token, { 'Sforce-Call-Options': 'client=orgvault-backup, defaultNamespace=ns' }));
    await app.request('/services/data/v62.0/query', bearer(token, { 'User-Agent': 'sf-cli/2.60' }));
    await app.request('/services/data/v59.0/limits', bearer(token));
    await app.request('/services/data/v59.0/limits/recordCount?sObjects=Account', bearer(token));
    await app.request('/services/data/v59.0', bearer(token));
    const stats = usage.statistics();
    assert.equal(stats.total, 5);
    assert.deepEqual(stats.byEndpoint, { 'GET /query': 2, 'GET /limits': 1, 'GET /limits/recordCount': 1, 'GET /': 1 });
    assert.deepEqual(stats.byClient, { 'orgvault-backup': 1, 'sf-cli/2.60': 1, [CLIENT_ID]: 3 });
  });
});

describe('limits routes', () => {
  test('GET /limits reports DailyApiRequests from the ledger, in the real shape', async () => {
    const { app, login } = buildFixture(15_000);
    const token = login();
    await app.request('/services/data/v59.0/query', bearer(token));
    const res = await app.request('/services/data/v59.0/limits', bearer(token));
    assert.equal(res.status, 200);
    const limits = await res.json() as Record<string, Record<string, unknown>>;
    assert.equal(limits.DailyApiRequests!.Max, 15_000);
    assert.equal(limits.DailyApiRequests!.Remaining, 14_998, 'the /limits call itself counts');
    assert.deepEqual(limits.DailyApiRequests!['Salesforce CLI'], { Max: 0, Remaining: 0 });
    for (const name of ['DailyBulkApiBatches', 'DailyBulkV2QueryJobs', 'DailyBulkV2QueryFileStorageMB', 'DailyAsyncApexExecutions', 'DataStorageMB', 'FileStorageMB', 'DailyStreamingApiEvents', 'DailyDurableStreamingApiEvents', 'HourlyPublishedPlatformEvents', 'ConcurrentAsyncGetReportInstances', 'MonthlyPlatformEventsUsageEntitlement', 'SingleEmail', 'MassEmail']) {
      const limit = limits[name];
      assert.ok(limit, name);
      assert.equal(typeof limit.Max, 'number', name);
      assert.equal(typeof limit.Remaining, 'number', name);
    }
    assert.deepEqual(limits.PermissionSets!.CreateCustom, { Max: 1_000, Remaining: 1_000 });
    assert.equal(limits.DataStorageMB!.Remaining, 10_240 - 1, '5 records take 10 KB, shown as 1 MB');
  });

  test('GET /limits/recordCount counts the named objects, or all of them', async () => {
    const { app, login } = buildFixture();
    const token = login();
    const named = await app.request('/services/data/v59.0/limits/recordCount?sObjects=account,Contact,NoSuchThing', bearer(token));
    assert.deepEqual(await named.json(), { sObjects: [{ count: 3, name: 'Account' }, { count: 1, name: 'Contact' }] });
    const all = await (await app.request('/services/data/v59.0/limits/recordCount', bearer(token))).json() as { sObjects: { count: number; name: string }[] };
    const counts = Object.fromEntries(all.sObjects.map((s) => [s.name, s.count]));
    assert.deepEqual([counts.Account, counts.Contact, counts.User, counts.Opportunity], [3, 1, 1, 0]);
  });

  test('jsforce reads limits and api usage from an emulator server', async () => {
    let url = '';
    const { app, login } = buildFixture(2_000, () => url);
    const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
    });
    try {
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const conn = new Connection({ instanceUrl: url, accessToken: login(), version: '60.0' });
      const limits = await conn.limits();
      assert.deepEqual(limits.DailyApiRequests && { Max: limits.DailyApiRequests.Max, Remaining: limits.DailyApiRequests.Remaining }, { Max: 2_000, Remaining: 1_999 });
      assert.deepEqual(conn.limitInfo.apiUsage, { used: 1, limit: 2_000 });
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

/** A parsed API answer; tests read it field by field. */
type ApiJson = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('Bulk API allocations in /limits', () => {
  test('query jobs, query result storage and ingest batches count, roll off after 24 hours and reset', async () => {
    const emu = createEmulator({ profile: 'empty' });
    configureBulk(emu.org, { stepDelayMs: 0 });
    const admin = (path: string) => emu.app.request(`/__emulator${path}`, { method: 'POST', headers: { authorization: `Bearer ${emu.context.adminToken}` } });
    const grant = (await (await admin('/oauth/refresh-token')).json()) as { refreshToken: string; clientId: string; clientSecret: string };
    const logIn = async (): Promise<string> => {
      const tokenResponse = await emu.app.request('/services/oauth2/token', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: grant.refreshToken, client_id: grant.clientId, client_secret: grant.clientSecret }).toString(),
      });
      return ((await tokenResponse.json()) as { access_token: string }).access_token;
    };
    let token = await logIn();
    const api = async (method: string, path: string, body?: unknown): Promise<ApiJson> => {
      const response = await emu.app.request(`/services/data/v62.0${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': typeof body === 'string' ? 'text/csv' : 'application/json' },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await response.text();
      return text ? (JSON.parse(text) as ApiJson) : {};
    };
    const waitFor = async (kind: string, id: string): Promise<void> => {
      while (!['JobComplete', 'Failed', 'Aborted'].includes((await api('GET', `/jobs/${kind}/${id}`)).state)) await new Promise((resolve) => setTimeout(resolve, 2));
    };
    const bulkLimits = async () => {
      const limits = await api('GET', '/limits');
      return {
        jobs: limits.DailyBulkV2QueryJobs,
        storage: limits.DailyBulkV2QueryFileStorageMB,
        batches: { Max: limits.DailyBulkApiBatches.Max, Remaining: limits.DailyBulkApiBatches.Remaining },
      };
    };
    const fresh = { jobs: { Max: 10_000, Remaining: 10_000 }, storage: { Max: 976_562, Remaining: 976_562 }, batches: { Max: 15_000, Remaining: 15_000 } };
    assert.deepEqual(await bulkLimits(), fresh);

    for (let i = 0; i < 2; i++) {
      const job = await api('POST', '/jobs/query', { operation: 'query', query: 'SELECT Id, Name FROM User' });
      await waitFor('query', job.id);
    }
    const ingest = await api('POST', '/jobs/ingest', { object: 'Account', operation: 'insert' });
    await api('PUT', `/jobs/ingest/${ingest.id}/batches`, 'Name\nOne\nTwo\n');
    await api('PATCH', `/jobs/ingest/${ingest.id}`, { state: 'UploadComplete' });
    await waitFor('ingest', ingest.id);
    // Two jobs; a few hundred bytes of results, which count as a whole megabyte; one batch.
    assert.deepEqual(await bulkLimits(), { jobs: { Max: 10_000, Remaining: 9_998 }, storage: { Max: 976_562, Remaining: 976_561 }, batches: { Max: 15_000, Remaining: 14_999 } });

    emu.org.clock.advance(24 * 3600 + 1);
    token = await logIn();
    assert.deepEqual(await bulkLimits(), fresh);

    const again = await api('POST', '/jobs/query', { operation: 'query', query: 'SELECT Id FROM User' });
    await waitFor('query', again.id);
    assert.equal((await bulkLimits()).jobs.Remaining, 9_999);
    assert.equal((await admin('/reset')).status, 200);
    assert.deepEqual(await bulkLimits(), fresh);
  });
});
