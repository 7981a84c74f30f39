// Archive through the HTTP API and the dashboard, in-process (Hono's app.request) on a real vault
// backed up from the emulator: only administrators archive; the API dry-runs unless told not to;
// the dashboard's archive is confirmed from a dry run's page with that run's own options; reports,
// marks, the org page and a record's history show what was archived.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startEmulator } from '../../emulator/index.ts';
import type { RunningEmulator } from '../../emulator/index.ts';
import { resolveSettings, runBackup } from '../../src/backup/index.ts';
import { ROLES } from '../../src/core/users.ts';
import type { Role } from '../../src/core/users.ts';
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
import type { EmulatedOrg } from '../e2e/fixtures/emulated-org.ts';
import { callAs } from '../fixtures/server-client.ts';
import type { Answer, Json } from '../fixtures/server-client.ts';

const PASSWORD = 'correct horse battery staple';

describe('archive over HTTP and in the dashboard', () => {
  let emulator: RunningEmulator;
  let sf: EmulatedOrg;
  let dir: string;
  let vault: Vault;
  let org: OrgRegistration;
  let app: ServerApp;
  const accounts: string[] = [];
  const sessions = new Map<Role, { cookie: string; csrf: string }>();

  const api = (role: Role, method: string, path: string, body?: unknown): Promise<Answer> => callAs(app, sessions.get(role)!, method, path, body);
  const page = async (role: Role, path: string): Promise<{ status: number; text: string }> => {
    const response = await app.request(path, { headers: { cookie: sessions.get(role)!.cookie } });
    return { status: response.status, text: await response.text() };
  };
  const post = async (role: Role, path: string, fields: Record<string, string>): Promise<Response> => {
    const session = sessions.get(role)!;
    return app.request(path, { method: 'POST', headers: { cookie: session.cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ _csrf: session.csrf, ...fields }).toString() });
  };
  const isDeleted = async (id: string): Promise<boolean> => (await sf.queryAll(`SELECT IsDeleted FROM Account WHERE Id = '${id}'`))[0]?.IsDeleted === true;

  before(async () => {
    emulator = await startEmulator({ profile: 'empty', seed: 8 });
    sf = emulatedOrg(emulator);
    for (let i = 0; i < 4; i++) accounts.push(String((await sf.rest('POST', '/sobjects/Account', { Name: `HTTP Archive ${i}`, Industry: 'Mining' })).id));
    dir = await mkdtemp(join(tmpdir(), 'orgvault-archive-http-'));
    const keyFile = Buffer.from(generateKeyFileContent());
    await initVault(join(dir, 'vault'), { keyFile });
    vault = await openVault(join(dir, 'vault'), { keyFile });
    org = (await addOrg({ catalog: vault.store, keyring: vault.keyring, connect: (a) => connectOrg(a) }, 'demo', sf.auth)).registration;
    const backup = await runBackup({ store: vault.store, blobs: vault.blobs, client: await connectOrg(sf.auth) }, { org, settings: resolveSettings() });
    assert.equal(backup.status, 'Succeeded');
    for (const role of ROLES) await addUser({ store: vault.store, actor: 'test' }, role, role, PASSWORD);
    app = createServerApp({ store: vault.store, blobs: vault.blobs, keyring: vault.keyring, connectAuth: (a) => connectOrg(a), maskKey: 'mask-key', secureCookies: false, trustProxy: false });
    for (const role of ROLES) {
      const answer = await app.request('/api/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: role, password: PASSWORD }) });
      assert.equal(answer.status, 200);
      sessions.set(role, { cookie: (answer.headers.get('set-cookie') ?? '').split(';')[0]!, csrf: String(((await answer.json()) as Json).csrfToken) });
    }
  });
  after(async () => {
    await vault?.close();
    await emulator?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('the API: administrators only, a dry run unless dryRun is false, then the report and the marks', async () => {
    const body = { object: 'Account', where: `Id = '${accounts[0]}'` };
    for (const role of ['viewer', 'backup-operator', 'restore-operator'] as const) {
      const refused = await api(role, 'POST', '/api/orgs/demo/archives', body);
      assert.equal(refused.status, 403, role);
      assert.match(String(refused.body.message), /may not archive records/);
    }
    assert.equal((await api('administrator', 'POST', '/api/orgs/demo/archives', { object: 'Account' })).status, 400, 'the condition is required');
    assert.equal((await api('administrator', 'POST', '/api/orgs/nope/archives', body)).status, 404);

    const dry = await api('administrator', 'POST', '/api/orgs/demo/archives', body);
    assert.equal(dry.status, 200, dry.text);
    assert.equal(dry.body.dryRun, true);
    assert.equal((dry.body.counts as Json).Ready, 1);
    assert.equal(await isDeleted(accounts[0]!), false);

    const done = await api('administrator', 'POST', '/api/orgs/demo/archives', { ...body, dryRun: false });
    assert.equal(done.status, 200, done.text);
    assert.equal((done.body.counts as Json).Deleted, 1);
    assert.equal(await isDeleted(accounts[0]!), true);
    const runId = String(done.body.runId);
    const report = await api('viewer', 'GET', `/api/orgs/demo/archives/${runId}`);
    assert.equal(report.status, 200);
    assert.deepEqual((report.body.results as Json[]).map((r) => [r.recordId, r.outcome]), [[accounts[0], 'Deleted']]);
    assert.equal((await api('viewer', 'GET', `/api/orgs/demo/archives/${dry.body.runId}`)).body.dryRun, true);
    assert.equal((await api('viewer', 'GET', '/api/orgs/demo/archives/00000000-0000-4000-8000-000000000000')).status, 404);

    const marks = await api('viewer', 'GET', `/api/orgs/demo/archived?ids=${accounts[0]},${accounts[1]}`);
    assert.equal(marks.status, 200);
    assert.deepEqual((marks.body.archived as Json[]).map((m) => [m.recordId, m.runId, m.restored]), [[accounts[0], runId, false]]);
    assert.equal((await api('viewer', 'GET', '/api/orgs/demo/archived?ids=not-an-id-at-all!')).status, 400);
    const doc = (await api('viewer', 'GET', '/openapi.json')).body.paths as Record<string, unknown>;
    for (const path of ['/api/orgs/{name}/archives', '/api/orgs/{name}/archives/{runId}', '/api/orgs/{name}/archived']) assert.ok(doc[path], `${path} is described`);
  });

  it('the dashboard: a dry run first, then the archive confirmed from its page; the org page and the history show it', async () => {
    assert.equal((await page('restore-operator', '/orgs/demo/archive')).status, 403);
    const form = await page('administrator', '/orgs/demo/archive');
    assert.equal(form.status, 200);
    assert.match(form.text, /Dry run \(deletes nothing\)/);
    assert.match((await page('administrator', '/orgs/demo')).text, /href="\/orgs\/demo\/archive">Archive…/);
    assert.doesNotMatch((await page('restore-operator', '/orgs/demo')).text, /Archive…/);

    const where = `Id IN ('${accounts[1]}','${accounts[2]}')`;
    const dry = await post('administrator', '/orgs/demo/archive', { mode: 'dry-run', object: 'Account', where, limit: '' });
    assert.equal(dry.status, 303);
    const dryPage = dry.headers.get('location')!;
    const dryRun = dryPage.split('/').pop()!;
    const shown = await page('administrator', dryPage);
    assert.match(shown.text, /Archive 2 record\(s\)/);
    assert.match(shown.text, new RegExp(accounts[1]!));
    assert.equal(await isDeleted(accounts[1]!), false, 'a dry run deletes nothing');

    const unconfirmed = await post('administrator', '/orgs/demo/archive', { mode: 'archive', from: dryRun });
    assert.equal(unconfirmed.status, 400);
    assert.match(await unconfirmed.text(), /Tick the box/);
    const forged = await post('administrator', '/orgs/demo/archive', { mode: 'archive', from: '00000000-0000-4000-8000-000000000000', confirm: 'on' });
    assert.equal(forged.status, 400, 'an archive starts from a dry run of this org');
    assert.equal((await post('restore-operator', '/orgs/demo/archive', { mode: 'archive', from: dryRun, confirm: 'on' })).status, 403);

    const done = await post('administrator', '/orgs/demo/archive', { mode: 'archive', from: dryRun, confirm: 'on' });
    assert.equal(done.status, 303);
    const result = await page('viewer', done.headers.get('location')!);
    assert.equal(result.status, 200);
    assert.match(result.text, /2 deleted, 0 refused/);
    assert.match(result.text, /--archived/);
    assert.equal(await isDeleted(accounts[1]!), true);
    assert.equal(await isDeleted(accounts[2]!), true);
    assert.equal(await isDeleted(accounts[3]!), false);

    assert.match((await page('viewer', '/orgs/demo')).text, /<b>3<\/b>archived/);
    assert.match((await page('viewer', `/orgs/demo/records/${accounts[1]}`)).text, /Archived by <a href="\/orgs\/demo\/archive\//);
    assert.match((await page('viewer', `/runs/${dryRun}`)).text, /The archive&#39;s records|The archive's records/);
    assert.ok((await vault.store.listAudit()).some((e) => e.action === 'archive' && e.actor === 'administrator'));
  });
});
