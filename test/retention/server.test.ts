// The retention policy through the HTTP API and the dashboard's settings page, in-process: viewers
// read it and may ask what forget would remove; only administrators change it or forget; invalid
// values are refused naming the setting; the form saves what the CLI would.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { VersionInput } from '../../src/core/vault.ts';
import { generateKeyFileContent } from '../../src/crypto/keys.ts';
import { createServerApp } from '../../src/server/app.ts';
import type { ServerApp } from '../../src/server/app.ts';
import { initVault, openVault } from '../../src/store/vault.ts';
import type { Vault } from '../../src/store/vault.ts';
import { addUser } from '../../src/users/index.ts';

const PASSWORD = 'retention server password 31';
const ORG_ID = '00D000000000SRVAAA';
const DAY = 86_400_000;
const NOW = Date.UTC(2025, 8, 1);
type Json = Record<string, unknown>;

describe('retention over HTTP and in the dashboard', () => {
  let dir: string;
  let vault: Vault;
  let app: ServerApp;
  const sessions = new Map<string, { cookie: string; csrf: string }>();

  const call = async (method: string, path: string, role: string, body?: unknown): Promise<{ status: number; body: Json }> => {
    const session = sessions.get(role)!;
    const headers: Record<string, string> = { cookie: session.cookie, 'x-csrf-token': session.csrf };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await app.request(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as Json };
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'orgvault-retention-http-'));
    const keyFile = Buffer.from(generateKeyFileContent());
    await initVault(join(dir, 'vault'), { keyFile });
    vault = await openVault(join(dir, 'vault'), { keyFile });
    await vault.store.putOrg({ name: 'prod', orgId: ORG_ID, instanceUrl: 'https://prod.example', loginUrl: 'https://login.example', sealedAuth: new Uint8Array([1]), createdAt: NOW, settings: {} });
    // One account with a version a month for a year.
    for (let m = 12; m >= 0; m--) {
      const version: VersionInput = { recordId: '001000000000001AAA', systemModstamp: NOW - m * 30 * DAY, changeType: 'updated', isDeleted: false, lastModifiedById: null, fields: { Id: '001000000000001AAA', Name: `v${m}` } };
      await vault.store.writeVersions({ orgId: ORG_ID, objectName: 'Account', runId: `r${m}`, capturedAt: version.systemModstamp, schemaId: null, versions: [version] });
    }
    for (const role of ['administrator', 'viewer'] as const) await addUser({ store: vault.store, actor: 'test', now: () => NOW }, role, role, PASSWORD);
    app = createServerApp({ store: vault.store, blobs: vault.blobs, keyring: vault.keyring, connectAuth: () => Promise.reject(new Error('no org')), maskKey: 'm', now: () => NOW, secureCookies: false, trustProxy: false });
    for (const role of ['administrator', 'viewer']) {
      const answer = await app.request('/api/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: role, password: PASSWORD }) });
      const body = (await answer.json()) as Json;
      sessions.set(role, { cookie: (answer.headers.get('set-cookie') ?? '').split(';')[0]!, csrf: String(body.csrfToken) });
    }
  });
  after(async () => {
    await vault?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('reads, sets, validates and clears the policy through the API, by role', async () => {
    assert.deepEqual((await call('GET', '/api/orgs/prod/retention', 'viewer')).body, { policy: null, settings: null, description: null });
    assert.equal((await call('PUT', '/api/orgs/prod/retention', 'viewer', { keepMonthly: 3 })).status, 403);
    const bad = await call('PUT', '/api/orgs/prod/retention', 'administrator', { keepMonthly: -1 });
    assert.equal(bad.status, 400);
    const unknown = await call('PUT', '/api/orgs/prod/retention', 'administrator', { keepHourly: 3 });
    assert.equal(unknown.status, 400);
    const set = await call('PUT', '/api/orgs/prod/retention', 'administrator', { keepAllDays: 45, keepMonthly: 3, keepDeletedDays: 90 });
    assert.equal(set.status, 200);
    assert.deepEqual(set.body.settings, { keepAllDays: 45, keepMonthly: 3, keepDeletedDays: 90 });
    assert.match(String(set.body.description), /^Keep every version of the last 45 days; 3 monthly;/);
    const changed = await call('PUT', '/api/orgs/prod/retention', 'administrator', { keepDeletedDays: null });
    assert.deepEqual(changed.body.settings, { keepAllDays: 45, keepMonthly: 3 });
    assert.equal((await call('GET', '/api/orgs/nosuch/retention', 'viewer')).status, 404);
  });

  it('lets a viewer see what forget would remove, and only an administrator forget', async () => {
    const dry = await call('POST', '/api/orgs/prod/forget', 'viewer', { dryRun: true, detail: true });
    assert.equal(dry.status, 200);
    // Kept: the 2 of the last 45 days (0 and 30 days ago), which are also 2 of the 3 months, and the third month's; 13 versions in all.
    const totals = dry.body.totals as Json;
    assert.deepEqual([totals.versions, totals.versionsKept, totals.versionsRemoved], [13, 3, 10]);
    assert.equal((await call('POST', '/api/orgs/prod/forget', 'viewer', { dryRun: false })).status, 403);
    const real = await call('POST', '/api/orgs/prod/forget', 'administrator', { dryRun: false });
    assert.deepEqual([real.status, (real.body.totals as Json).versionsRemoved], [200, 10]);
    assert.equal((await vault.store.versionsOf(ORG_ID, '001000000000001AAA')).length, 3);
    // A held writer lock: 409.
    const lock = await vault.store.acquireOrgLock(ORG_ID, 'a backup');
    try {
      assert.equal((await call('POST', '/api/orgs/prod/forget', 'administrator', { dryRun: false })).status, 409);
    } finally {
      await lock.release();
    }
    assert.deepEqual((await call('DELETE', '/api/orgs/prod/retention', 'administrator')).body, { cleared: true });
  });

  it('shows and saves the policy on the settings page', async () => {
    const admin = sessions.get('administrator')!;
    const page = await (await app.request('/orgs/prod/settings', { headers: { cookie: admin.cookie } })).text();
    assert.match(page, /<h2 id="retention">Retention<\/h2>/);
    assert.match(page, /No retention policy: every version is kept\./);
    const post = (fields: Record<string, string>) =>
      app.request('/orgs/prod/settings/retention', { method: 'POST', headers: { cookie: admin.cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ _csrf: admin.csrf, ...fields }).toString() });
    const wrong = await post({ keepAllDays: 'ten' });
    assert.equal(wrong.status, 400);
    assert.match(await wrong.text(), /Keep every version for \(days\): &quot;ten&quot; is not a whole number\./);
    const saved = await post({ keepAllDays: '30', keepDaily: '7', keepWeekly: '', keepMonthly: '12', keepYearly: '3', keepDeletedDays: '90', keepFileDays: '', keepFileVersions: '5' });
    assert.equal(saved.status, 303);
    assert.deepEqual((await vault.store.getOrg('prod'))?.settings.retention, { keepAllDays: 30, keepDaily: 7, keepMonthly: 12, keepYearly: 3, keepDeletedDays: 90, keepFileVersions: 5 });
    const after = await (await app.request('/orgs/prod/settings', { headers: { cookie: admin.cookie } })).text();
    assert.match(after, /Keep every version of the last 30 days; 7 daily, 12 monthly, 3 yearly;/);
    assert.match(after, /<input id="keepDeletedDays" name="keepDeletedDays" type="number" min="0" value="90"/);
    const viewer = sessions.get('viewer')!;
    const readOnly = await (await app.request('/orgs/prod/settings', { headers: { cookie: viewer.cookie } })).text();
    assert.doesNotMatch(readOnly, /Save retention/);
    const refused = await app.request('/orgs/prod/settings/retention', { method: 'POST', headers: { cookie: viewer.cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ _csrf: viewer.csrf, clear: 'on' }).toString() });
    assert.equal(refused.status, 403);
    assert.ok((await vault.store.getOrg('prod'))?.settings.retention, 'the viewer removed nothing');
  });
});
