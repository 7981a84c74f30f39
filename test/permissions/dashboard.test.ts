// The permission check in the dashboard and the API, handlers in-process against an emulated org
// over HTTP: "Check now" after an object's and a field's read permission were removed shows both
// on the permission page and flags them on the org's dashboard; the CSV and the permission set
// download; the API answers the report; roles are enforced.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startEmulator } from '../../emulator/index.ts';
import type { RunningEmulator } from '../../emulator/index.ts';
import { resolveSettings, runBackup } from '../../src/backup/index.ts';
import type { OrgRegistration } from '../../src/core/vault.ts';
import { generateKeyFileContent } from '../../src/crypto/keys.ts';
import { addOrg } from '../../src/orgs/index.ts';
import { connectOrg } from '../../src/salesforce/index.ts';
import { createServerApp } from '../../src/server/app.ts';
import type { ServerApp } from '../../src/server/app.ts';
import { initVault, openVault } from '../../src/store/vault.ts';
import type { Vault } from '../../src/store/vault.ts';
import { addUser } from '../../src/users/index.ts';
import { emulatedOrg } from '../e2e/fixtures/emulated-org.ts';

const PASSWORD = 'permissions dashboard password 41';

describe('permission check in the dashboard', () => {
  let emulator: RunningEmulator;
  let dir: string;
  let vault: Vault;
  let app: ServerApp;
  let org: OrgRegistration;

  const form = (fields: Record<string, string>, cookie: string): RequestInit => ({
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
    body: new URLSearchParams(fields).toString(),
  });
  const signIn = async (name: string): Promise<{ cookie: string; csrf: string }> => {
    const answer = await app.request('/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ name, password: PASSWORD, next: '/' }).toString() });
    assert.equal(answer.status, 303);
    const cookie = (answer.headers.get('set-cookie') ?? '').split(';')[0]!;
    const home = await (await app.request('/', { headers: { cookie } })).text();
    return { cookie, csrf: /name="_csrf" value="([^"]+)"/.exec(home)![1]! };
  };

  before(async () => {
    emulator = await startEmulator({ profile: 'demo', seed: 12 });
    const sf = emulatedOrg(emulator);
    dir = await mkdtemp(join(tmpdir(), 'orgvault-permissions-dashboard-'));
    const keyFile = Buffer.from(generateKeyFileContent());
    await initVault(join(dir, 'vault'), { keyFile });
    vault = await openVault(join(dir, 'vault'), { keyFile });
    org = (await addOrg({ catalog: vault.store, keyring: vault.keyring, connect: (a) => connectOrg(a) }, 'demo', sf.auth)).registration;
    await runBackup({ store: vault.store, blobs: vault.blobs, client: await connectOrg(sf.auth) }, { org, settings: resolveSettings({}), objects: ['Account', 'Contact', 'Opportunity'] });
    await sf.admin('POST', '/permissions', { object: 'Opportunity', read: false });
    await sf.admin('POST', '/permissions', { object: 'Contact', field: 'Title', read: false });
    for (const role of ['administrator', 'viewer'] as const) await addUser({ store: vault.store, actor: 'test' }, role, role, PASSWORD);
    app = createServerApp({ store: vault.store, blobs: vault.blobs, keyring: vault.keyring, connectAuth: (a) => connectOrg(a), maskKey: 'm', secureCookies: false, trustProxy: false });
  });
  after(async () => {
    await vault?.close();
    await emulator?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('shows an empty state until a check runs; a viewer may not run one', async () => {
    const viewer = await signIn('viewer');
    const page = await app.request('/orgs/demo/permissions', { headers: { cookie: viewer.cookie } });
    assert.equal(page.status, 200);
    const text = await page.text();
    assert.match(text, /No permission check yet/);
    assert.doesNotMatch(text, /Check now/);
    const refused = await app.request('/orgs/demo/permissions/check', form({ _csrf: viewer.csrf }, viewer.cookie));
    assert.equal(refused.status, 403);
    assert.equal((await app.request('/orgs/nope/permissions', { headers: { cookie: viewer.cookie } })).status, 404);
  });

  it('"Check now" reports the object and the field, and the org dashboard flags them', async () => {
    const admin = await signIn('administrator');
    const checked = await app.request('/orgs/demo/permissions/check', form({ _csrf: admin.csrf }, admin.cookie));
    assert.equal(checked.status, 303);
    assert.equal(checked.headers.get('location'), '/orgs/demo/permissions');
    const page = await (await app.request('/orgs/demo/permissions', { headers: { cookie: admin.cookie } })).text();
    assert.match(page, /Objects not protected \(1\)/);
    assert.match(page, /<tr><td>Opportunity<\/td><td>none<\/td>/);
    assert.match(page, /Fields the API user cannot read \(1\)/);
    assert.match(page, /<tr><td>Contact<\/td><td>Title<\/td><td>yes: later versions miss it<\/td>/);
    assert.match(page, /View All Data <code>ViewAllData<\/code><\/td><td><span class="badge Succeeded">granted<\/span>/);
    assert.match(page, /only the profile was read/);

    const dashboard = await (await app.request('/orgs/demo', { headers: { cookie: admin.cookie } })).text();
    assert.match(dashboard, /Not protected because of missing permissions/);
    assert.match(dashboard, /objects Opportunity/);
    assert.match(dashboard, /fields Contact\.Title/);
    assert.match(dashboard, /<td>Opportunity<\/td>.*not protected: missing permission/s);
    assert.match(dashboard, /title="Unreadable: Title">1 field\(s\) unreadable/);
    assert.match(dashboard, /href="\/orgs\/demo\/permissions"/);

    const csv = await app.request('/orgs/demo/permissions.csv', { headers: { cookie: admin.cookie } });
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-type') ?? '', /text\/csv/);
    assert.match(await csv.text(), /\r\nobject,Opportunity,unreadable,not protected,/);
    const set = await (await app.request('/orgs/demo/OrgvaultBackup.permissionset-meta.xml', { headers: { cookie: admin.cookie } })).text();
    assert.match(set, /<object>Opportunity<\/object>/);
    assert.match(set, /<field>Contact\.Title<\/field>/);
  });

  it('answers the report through the API and runs a check for roles that may back up', async () => {
    const admin = await signIn('administrator');
    const last = await app.request('/api/orgs/demo/permissions', { headers: { cookie: admin.cookie } });
    assert.equal(last.status, 200);
    const body = (await last.json()) as { status: string; report: { summary: { gap: boolean; objectsUnprotected: number; fieldsUnreadable: number } } };
    assert.equal(body.status, 'CompletedWithErrors');
    assert.equal(body.report.summary.objectsUnprotected, 1);
    assert.equal(body.report.summary.fieldsUnreadable, 1);
    // Read back, the field comes back: a new check no longer reports it.
    await emulatedOrg(emulator).admin('POST', '/permissions', { object: 'Contact', field: 'Title', read: true });
    const run = await app.request('/api/orgs/demo/permissions/check', { method: 'POST', headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrf } });
    assert.equal(run.status, 200, await run.clone().text());
    const fresh = (await run.json()) as { runId: string; report: { summary: { fieldsUnreadable: number } } };
    assert.equal(fresh.report.summary.fieldsUnreadable, 0);
    const viewer = await signIn('viewer');
    const refused = await app.request('/api/orgs/demo/permissions/check', { method: 'POST', headers: { cookie: viewer.cookie, 'x-csrf-token': viewer.csrf } });
    assert.equal(refused.status, 403);
    // The check is a job like any other in the job log.
    const job = await app.request(`/runs/${fresh.runId}`, { headers: { cookie: admin.cookie } });
    assert.equal(job.status, 200);
    assert.match(await job.text(), /permissions/);
    const doc = (await (await app.request('/openapi.json')).json()) as { paths: Record<string, unknown> };
    assert.ok(doc.paths['/api/orgs/{name}/permissions/check']);
  });
});
