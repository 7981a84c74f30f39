import assert from 'node:assert/strict';
import { createPrivateKey, sign, verify } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { Hono } from 'hono';
import { registerAdminRoutes } from '../../emulator/admin/routes.ts';
import type { Org } from '../../emulator/org/org.ts';
import type { AppEnv, ApiUsageLedger, EmulatorContext, SessionStore } from '../../emulator/server/context.ts';
import { buildOrg } from '../../emulator/seed/index.ts';
import { addBehaviours, listBehaviours } from '../../emulator/behaviours/registry.ts';
import { addFaults, listFaults } from '../../emulator/behaviours/faults.ts';
import { DEMO_BEHAVIOURS } from '../../emulator/behaviours/demo.ts';
import { changeDataCapture, DEMO_CDC_OBJECTS } from '../../emulator/streaming/change-events.ts';

const TOKEN = 'admin-token-for-tests';
const NOW = new Date('2026-11-01T00:00:00.000Z');

interface Harness {
  org: Org;
  app: Hono<AppEnv>;
  calls: { revokeAll: number; reset: number };
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; json: Record<string, unknown> }>;
}

function harness(org: Org): Harness {
  const calls = { revokeAll: 0, reset: 0 };
  const sessions: SessionStore = { authenticate: () => undefined, revokeAll: () => void calls.revokeAll++ };
  const usage: ApiUsageLedger = {
    used: () => 7,
    statistics: () => ({ total: 7, byEndpoint: { sobjects: 7 }, byClient: { test: 7 } }),
    reset: () => void calls.reset++,
  };
  // The admin routes use only the SessionStore and ApiUsageLedger parts of the real classes.
  const ctx: EmulatorContext = {
    org,
    sessions: sessions as EmulatorContext['sessions'],
    usage: usage as EmulatorContext['usage'],
    adminToken: TOKEN,
    instanceUrl: () => 'http://127.0.0.1:1',
  };
  const app = new Hono<AppEnv>();
  registerAdminRoutes(app, ctx);
  return {
    org,
    app,
    calls,
    async call(method, path, body, headers = { authorization: `Bearer ${TOKEN}` }) {
      const init: RequestInit = { method, headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) } };
      if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
      const response = await app.request(`/__emulator${path}`, init);
      return { status: response.status, json: (await response.json()) as Record<string, unknown> };
    },
  };
}

describe('admin routes', () => {
  let h: Harness;
  let initialAccounts: number;
  before(() => {
    h = harness(buildOrg({ profile: 'demo', seed: 11, now: NOW }));
    initialAccounts = h.org.count('Account');
  });

  it('refuses requests without the admin token', async () => {
    const attempts: Record<string, string>[] = [{}, { authorization: 'Bearer wrong' }, { authorization: TOKEN }, { authorization: `Basic ${TOKEN}` }];
    for (const headers of attempts) {
      const { status, json } = await h.call('GET', '/limits', undefined, headers);
      assert.equal(status, 401);
      assert.equal(json.error, 'UNAUTHORIZED');
    }
    const { status } = await h.call('POST', '/sessions/revoke', undefined, { authorization: 'Bearer nope' });
    assert.equal(status, 401);
    assert.equal(h.calls.revokeAll, 0);
  });

  it('rejects bad bodies with a 400 naming the field', async () => {
    const cases: [string, string, unknown, string | undefined][] = [
      ['POST', '/limits', { dailyApiRequests: -1 }, 'dailyApiRequests'],
      ['POST', '/limits', { sessionTimeoutSeconds: 'long' }, 'sessionTimeoutSeconds'],
      ['POST', '/limits', {}, 'dailyApiRequests'],
      ['POST', '/limits', { daily: 5 }, 'daily'],
      ['POST', '/clock', { advanceSeconds: -5 }, 'advanceSeconds'],
      ['POST', '/seed', { profile: 'huge' }, 'profile'],
      ['POST', '/seed', { profile: 'bench', scale: 1.5 }, 'scale'],
      ['POST', '/seed', { profile: 'bench', seed: { a: 1 } }, 'seed'],
      ['POST', '/activity', {}, 'changes'],
      ['POST', '/activity', { changes: 'ten' }, 'changes'],
      ['POST', '/permissions', { object: 'Nope__c', read: false }, 'object'],
      ['POST', '/permissions', { object: 'Account', field: 'Nope__c', read: false }, 'field'],
      ['POST', '/permissions', { object: 'Account', read: 'no' }, 'read'],
      ['POST', '/permissions', { object: 'Account', field: 'Name', write: false }, 'write'],
      ['POST', '/permissions', { permission: 'flyPlanes', value: true }, 'permission'],
      ['POST', '/permissions', { permission: 'viewEncryptedData' }, 'value'],
      ['POST', '/permissions', {}, 'object'],
    ];
    for (const [method, path, body, field] of cases) {
      const { status, json } = await h.call(method, path, body);
      assert.equal(status, 400, `${path} ${JSON.stringify(body)}`);
      assert.equal(json.field, field, `${path} ${JSON.stringify(body)}: ${String(json.message)}`);
      assert.equal(typeof json.message, 'string');
    }
    for (const body of ['{not json', '[1,2]', '"text"']) {
      const { status, json } = await h.call('POST', '/limits', body);
      assert.equal(status, 400);
      assert.equal(json.error, 'INVALID_JSON');
    }
  });

  it('reads and sets the limits', async () => {
    const before = await h.call('GET', '/limits');
    assert.deepEqual(before.json, { dailyApiRequests: { max: 100_000, used: 7, remaining: 99_993 }, sessionTimeoutSeconds: 7200, queryCursorsPerUser: null });
    const { status, json } = await h.call('POST', '/limits', { dailyApiRequests: 10, sessionTimeoutSeconds: 60 });
    assert.equal(status, 200);
    assert.deepEqual(json, { dailyApiRequests: { max: 10, used: 7, remaining: 3 }, sessionTimeoutSeconds: 60, queryCursorsPerUser: null });
    assert.equal(h.org.settings.dailyApiRequests, 10);
    const capped = await h.call('POST', '/limits', { queryCursorsPerUser: 10 });
    assert.equal(capped.json.queryCursorsPerUser, 10);
    assert.equal(h.org.settings.queryCursorsPerUser, 10);
    assert.equal((await h.call('POST', '/limits', { queryCursorsPerUser: 0 })).json.queryCursorsPerUser, null);
    assert.equal((await h.call('POST', '/limits', { queryCursorsPerUser: -1 })).json.field, 'queryCursorsPerUser');
  });

  it('moves the clock forward', async () => {
    const { json: start } = await h.call('GET', '/clock');
    const { status, json } = await h.call('POST', '/clock', { advanceSeconds: 3600 });
    assert.equal(status, 200);
    const moved = Date.parse(String(json.now)) - Date.parse(String(start.now));
    assert.ok(moved >= 3_600_000 && moved < 3_660_000, `moved ${moved}`);
  });

  it('changes object, field and user permissions', async () => {
    let { json } = await h.call('POST', '/permissions', { object: 'lead', read: false });
    assert.deepEqual(json.hiddenObjects, ['lead']);
    assert.equal(h.org.visibleSchema.object('Lead'), undefined);
    ({ json } = await h.call('POST', '/permissions', { object: 'Account', field: 'AnnualRevenue', read: false }));
    assert.deepEqual(json.hiddenFields, { account: ['annualrevenue'] });
    ({ json } = await h.call('POST', '/permissions', { object: 'Case', write: false }));
    assert.deepEqual(json.readOnlyObjects, ['case']);
    ({ json } = await h.call('POST', '/permissions', { permission: 'viewEncryptedData', value: true }));
    assert.equal((json.permissions as Record<string, boolean>).viewEncryptedData, true);
    ({ json } = await h.call('POST', '/permissions', { object: 'Lead', read: true }));
    assert.deepEqual(json.hiddenObjects, []);
  });

  it('hands out the connected app with a private key that signs for its certificate', async () => {
    const { status, json } = await h.call('GET', '/connected-app');
    assert.equal(status, 200);
    assert.match(String(json.clientId), /^3MVG9/);
    assert.equal(String(json.clientId).length, 85);
    const signature = sign('sha256', Buffer.from('jwt'), createPrivateKey(String(json.privateKeyPem)));
    assert.ok(verify('sha256', Buffer.from('jwt'), String(json.certificatePem), signature));
  });

  it('revokes sessions', async () => {
    const { status, json } = await h.call('POST', '/sessions/revoke');
    assert.equal(status, 200);
    assert.deepEqual(json, { revoked: true });
    assert.equal(h.calls.revokeAll, 1);
  });

  it('reports usage statistics and record counts', async () => {
    const { json } = await h.call('GET', '/statistics');
    assert.equal(json.total, 7);
    assert.deepEqual(json.byClient, { test: 7 });
    const records = json.records as Record<string, number>;
    assert.equal(records.Account, h.org.count('Account'));
    assert.ok(records.Contact! > 2000);
    assert.ok((json.recycleBin as Record<string, number>).Contact! > 0);
  });

  it('generates activity', async () => {
    const { status, json } = await h.call('POST', '/activity', { changes: 40, seed: 'admin' });
    assert.equal(status, 200);
    assert.equal(Number(json.created) + Number(json.updated) + Number(json.deleted) + Number(json.undeleted), 40);
  });

  it('purges one record from the Recycle Bin, then empties it', async () => {
    const deleted = [...h.org.records('Lead')].find((l) => l.IsDeleted)!;
    let { status, json } = await h.call('POST', `/records/${deleted.Id.slice(0, 15)}/purge`);
    assert.equal(status, 200);
    assert.equal(json.purged, deleted.Id);
    assert.equal(h.org.get(deleted.Id), undefined);
    ({ status, json } = await h.call('POST', `/records/${deleted.Id}/purge`));
    assert.equal(status, 404);
    ({ status, json } = await h.call('POST', '/records/not-an-id/purge'));
    assert.equal(status, 400);
    assert.equal(json.field, 'id');

    ({ status, json } = await h.call('POST', '/recycle-bin/empty'));
    assert.equal(status, 200);
    assert.ok(Number(json.purged) > 50);
    for (const object of h.org.schema.objects()) for (const record of h.org.records(object.name)) assert.notEqual(record.IsDeleted, true);
  });

  it('seeds another profile, then resets to the starting one', async () => {
    const apiUser = h.org.apiUserId;
    const clientId = h.org.connectedApp!.clientId;
    let { status, json } = await h.call('POST', '/seed', { profile: 'bench', seed: 2, scale: 3000 });
    assert.equal(status, 200);
    assert.equal(json.records, 3000);
    assert.equal(h.org.count('Contact'), 540);
    assert.equal(h.org.apiUserId, apiUser, 'sessions stay valid: same API user');
    assert.equal(h.org.connectedApp!.clientId, clientId);
    assert.equal(h.org.settings.dailyApiRequests, 10, 'limits survive a reseed');

    const clockBefore = h.org.clock.nowMs();
    ({ status, json } = await h.call('POST', '/reset'));
    assert.equal(status, 200);
    assert.equal(h.calls.reset, 1);
    assert.equal(h.org.count('Account'), initialAccounts);
    assert.ok([...h.org.records('Contact')].some((c) => c.IsDeleted), 'the Recycle Bin is back');
    assert.equal(h.org.settings.dailyApiRequests, 100_000);
    assert.equal(h.org.settings.sessionTimeoutSeconds, 7200);
    assert.equal(h.org.access.permissions.viewEncryptedData, false);
    assert.deepEqual(h.org.access.exportState().hiddenFields, {});
    assert.ok(h.org.clock.nowMs() >= clockBefore, 'time does not run backwards');

    // A second reset from a changed org gives the same state again.
    await h.call('POST', '/activity', { changes: 20, seed: 1 });
    await h.call('POST', '/reset');
    assert.equal(h.org.count('Account'), initialAccounts);
  });
});

describe('admin routes on an empty org', () => {
  it('answers 404 for a missing connected app and seeds the demo', async () => {
    const org = buildOrg({ profile: 'empty', seed: 1, now: NOW });
    org.connectedApp = undefined;
    const h = harness(org);
    const { status, json } = await h.call('GET', '/connected-app');
    assert.equal(status, 404);
    assert.equal(json.error, 'NOT_FOUND');
    const seeded = await h.call('POST', '/seed', { profile: 'demo', seed: 4 });
    assert.equal(seeded.status, 200);
    assert.ok(Number(seeded.json.records) > 9000);
    assert.ok(org.connectedApp, 'the seeded org brings its connected app when there was none');
  });
});

describe('POST /seed and the org\'s automation', () => {
  it('installs the demo behaviours and CDC selection for the demo profile, and clears them for the others', async () => {
    const org = buildOrg({ profile: 'empty', seed: 1, now: NOW });
    const h = harness(org);
    addBehaviours(org, { kind: 'approvalLock', object: 'Account', name: 'Test_Lock', recordIds: [], condition: { field: 'Rating', equals: 'Hot' } });
    addFaults(org, { kind: 'latency', match: '/services/data/**', ms: 1, name: 'Slow' });
    assert.equal((await h.call('POST', '/seed', { profile: 'demo', seed: 4 })).status, 200);
    assert.deepEqual(listBehaviours(org).map((b) => b.kind), DEMO_BEHAVIOURS.map((b) => b.kind));
    assert.ok(!listBehaviours(org).some((b) => b.name === 'Test_Lock'));
    assert.deepEqual(listFaults(org), []);
    assert.deepEqual(changeDataCapture(org).selected(), DEMO_CDC_OBJECTS);

    assert.equal((await h.call('POST', '/seed', { profile: 'empty' })).status, 200);
    assert.deepEqual(listBehaviours(org), []);
    assert.deepEqual(changeDataCapture(org).selected(), []);
  });
});
