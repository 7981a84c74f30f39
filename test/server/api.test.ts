// The HTTP API in-process (Hono's app.request, no server): signing in, sessions and their CSRF
// token, API tokens, the role matrix, validation errors, and the routes a dashboard needs, on a
// real SQLite vault backed up from the emulator.
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

type Json = Record<string, unknown>;
const PASSWORD = 'correct horse battery staple';

interface Session {
  cookie: string;
  csrf: string;
}

describe('HTTP API', () => {
  let emulator: RunningEmulator;
  let dir: string;
  let vault: Vault;
  let org: OrgRegistration;
  let app: ServerApp;
  let clock = Date.now();
  const accounts: string[] = [];

  const call = async (method: string, path: string, options: { session?: Session; token?: string; body?: unknown; csrf?: string | null } = {}): Promise<{ status: number; body: Json; headers: Headers; text: string }> => {
    const headers: Record<string, string> = {};
    if (options.session) {
      headers.cookie = options.session.cookie;
      if (options.csrf !== null) headers['x-csrf-token'] = options.csrf ?? options.session.csrf;
    }
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const response = await app.request(path, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
    const text = await response.text();
    let body: Json = {};
    try {
      body = JSON.parse(text) as Json;
    } catch {
      // CSV and other non-JSON answers keep their text.
    }
    return { status: response.status, body, headers: response.headers, text };
  };
  const signIn = async (name: string, password = PASSWORD): Promise<Session> => {
    const answer = await call('POST', '/api/session', { body: { name, password } });
    assert.equal(answer.status, 200, answer.text);
    const cookie = answer.headers.get('set-cookie') ?? '';
    assert.match(cookie, /orgvault_session=[^;]+;.*HttpOnly/i);
    assert.match(cookie, /SameSite=Strict/i);
    return { cookie: cookie.split(';')[0]!, csrf: String(answer.body.csrfToken) };
  };
  const sessions = new Map<Role, Session>();

  before(async () => {
    emulator = await startEmulator({ profile: 'empty', seed: 3 });
    const sf = emulatedOrg(emulator);
    for (let i = 0; i < 3; i++) accounts.push(String((await sf.rest('POST', '/sobjects/Account', { Name: `API Account ${i}` })).id));
    dir = await mkdtemp(join(tmpdir(), 'orgvault-api-'));
    const keyFile = Buffer.from(generateKeyFileContent());
    await initVault(join(dir, 'vault'), { keyFile });
    vault = await openVault(join(dir, 'vault'), { keyFile });
    org = (await addOrg({ catalog: vault.store, keyring: vault.keyring, connect: (a) => connectOrg(a) }, 'demo', sf.auth)).registration;
    const backup = await runBackup({ store: vault.store, blobs: vault.blobs, client: await connectOrg(sf.auth) }, { org, settings: resolveSettings() });
    assert.equal(backup.status, 'Succeeded');
    await sf.rest('DELETE', `/sobjects/Account/${accounts[0]}`);
    for (const role of ROLES) await addUser({ store: vault.store, actor: 'test', now: () => clock }, role, role, PASSWORD);
    app = createServerApp({
      store: vault.store,
      blobs: vault.blobs,
      keyring: vault.keyring,
      connectAuth: (a) => connectOrg(a),
      maskKey: 'mask-key',
      now: () => clock,
      secureCookies: true,
      trustProxy: false,
      eventIntervalMs: 20,
    });
    for (const role of ROLES) sessions.set(role, await signIn(role));
  });
  after(async () => {
    await vault?.close();
    await emulator?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('lets nobody in without a session or a token, and describes itself at /openapi.json', async () => {
    for (const [method, path] of [['GET', '/api/orgs'], ['GET', '/api/runs'], ['POST', '/api/orgs/demo/backups'], ['GET', '/api/users']] as const) {
      const answer = await call(method, path);
      assert.equal(answer.status, 401, `${method} ${path}`);
      assert.equal(answer.body.error, 'UNAUTHENTICATED');
    }
    const doc = await call('GET', '/openapi.json');
    assert.equal(doc.status, 200);
    const paths = doc.body.paths as Record<string, unknown>;
    for (const path of ['/api/session', '/api/orgs', '/api/orgs/{name}', '/api/orgs/{name}/backups', '/api/orgs/{name}/restores', '/api/runs/{id}', '/api/users', '/api/tokens']) assert.ok(paths[path], `${path} is described`);
  });

  it('signs in with a secure session cookie; a wrong password is refused, and repeated failures are throttled', async () => {
    const wrong = await call('POST', '/api/session', { body: { name: 'viewer', password: 'not it at all' } });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.error, 'INVALID_CREDENTIALS');
    assert.equal(wrong.headers.get('set-cookie'), null);
    assert.match((await signIn('viewer')).cookie, /^orgvault_session=/);
    const me = await call('GET', '/api/session', { session: sessions.get('viewer') });
    assert.equal((me.body.user as Json).name, 'viewer');
    assert.equal((me.body.user as Json).role, 'viewer');
    assert.equal('passwordHash' in (me.body.user as Json), false);
    assert.match(String(me.headers.get('set-cookie') ?? ''), /^$/);

    for (let i = 0; i < 5; i++) await call('POST', '/api/session', { body: { name: 'restore-operator', password: `guess ${i}` } });
    const throttled = await call('POST', '/api/session', { body: { name: 'restore-operator', password: PASSWORD } });
    assert.equal(throttled.status, 429);
    assert.ok(Number(throttled.headers.get('retry-after')) > 0);
    clock += 16 * 60_000;
    assert.equal((await call('POST', '/api/session', { body: { name: 'restore-operator', password: PASSWORD } })).status, 200);
  });

  it('requires the CSRF token for every change made with a session cookie', async () => {
    const admin = sessions.get('administrator')!;
    const missing = await call('PUT', '/api/orgs/demo/settings', { session: admin, body: { backup: { includeFeeds: true } }, csrf: null });
    assert.equal(missing.status, 403);
    assert.equal(missing.body.error, 'CSRF');
    const wrong = await call('PUT', '/api/orgs/demo/settings', { session: admin, body: { backup: { includeFeeds: true } }, csrf: 'forged' });
    assert.equal(wrong.status, 403);
    const right = await call('PUT', '/api/orgs/demo/settings', { session: admin, body: { backup: { includeFeeds: true } } });
    assert.equal(right.status, 200, right.text);
    assert.equal((right.body.backup as Json).includeFeeds, true);
    const audit = await vault.store.listAudit({ limit: 20 });
    assert.ok(audit.some((a) => a.action === 'settings.update' && a.actor === 'administrator' && a.target === 'demo'));
    // Reads need no token.
    assert.equal((await call('GET', '/api/orgs', { session: admin, csrf: null })).status, 200);
  });

  it('allows each role only its actions', async () => {
    const actions: { action: string; call: (s: Session) => Promise<{ status: number; text: string }>; allowed: Role[] }[] = [
      { action: 'view', call: (s) => call('GET', '/api/orgs/demo', { session: s }), allowed: ['administrator', 'backup-operator', 'restore-operator', 'viewer'] },
      { action: 'view runs', call: (s) => call('GET', '/api/runs', { session: s }), allowed: ['administrator', 'backup-operator', 'restore-operator', 'viewer'] },
      { action: 'dry-run a restore', call: (s) => call('POST', '/api/orgs/demo/restores', { session: s, body: { object: 'Account', ids: [accounts[0]], dryRun: true } }), allowed: ['administrator', 'restore-operator'] },
      { action: 'preview a restore', call: (s) => call('POST', '/api/orgs/demo/restores/preview', { session: s, body: { object: 'Account' } }), allowed: ['administrator', 'restore-operator'] },
      { action: 'change settings', call: (s) => call('PUT', '/api/orgs/demo/settings', { session: s, body: { backup: { includeFeeds: false } } }), allowed: ['administrator'] },
      { action: 'list users', call: (s) => call('GET', '/api/users', { session: s }), allowed: ['administrator'] },
      { action: 'add users', call: (s) => call('POST', '/api/users', { session: s, body: { name: `new-${Math.random().toString(36).slice(2, 8)}`, role: 'viewer', password: PASSWORD } }), allowed: ['administrator'] },
    ];
    for (const { action, call: make, allowed } of actions) {
      for (const role of ROLES) {
        const answer = await make(sessions.get(role)!);
        if (allowed.includes(role)) assert.ok(answer.status >= 200 && answer.status < 300, `${role} may ${action}: ${answer.status} ${answer.text}`);
        else {
          assert.equal(answer.status, 403, `${role} may not ${action}`);
          assert.match(answer.text, new RegExp(`The ${role} role may not`));
        }
      }
    }
  });

  it('starts a backup in the background for a backup operator, and shows its run and log', async () => {
    const viewer = await call('POST', '/api/orgs/demo/backups', { session: sessions.get('viewer')! });
    assert.equal(viewer.status, 403);
    const started = await call('POST', '/api/orgs/demo/backups', { session: sessions.get('backup-operator')! });
    assert.equal(started.status, 202, started.text);
    const runId = String(started.body.runId);
    // The run's event stream follows it to its end, without polling by the client.
    const stream = await app.request(`/api/runs/${runId}/events`, { headers: { cookie: sessions.get('viewer')!.cookie } });
    assert.equal(stream.status, 200);
    assert.match(stream.headers.get('content-type') ?? '', /text\/event-stream/);
    const events = (await stream.text()).split('\n\n').filter((e) => e.includes('event: run'));
    assert.ok(events.length >= 1);
    const final = JSON.parse(events[events.length - 1]!.split('\n').find((l) => l.startsWith('data: '))!.slice(6)) as Json;
    assert.equal(final.status, 'Succeeded', JSON.stringify(final).slice(0, 500));
    const log = (await call('GET', `/api/runs/${runId}`, { session: sessions.get('viewer')! })).body;
    assert.equal(log.status, 'Succeeded');
    assert.equal(log.kind, 'backup');
    assert.ok((log.objects as Json[]).some((o) => o.name === 'Account'));
    const runs = await call('GET', '/api/runs?org=demo&limit=5', { session: sessions.get('viewer')! });
    assert.ok((runs.body.runs as Json[]).some((r) => r.runId === runId));
    const csv = await call('GET', `/api/runs/${runId}/report.csv`, { session: sessions.get('viewer')! });
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-type') ?? '', /text\/csv/);
    assert.match(csv.text.split('\n')[0]!, /^object,status,statusCode,message,cause,fix/);
  });

  it('restores a deleted record and serves its report as JSON and CSV; history shows the record', async () => {
    const report = await call('POST', '/api/orgs/demo/restores', { session: sessions.get('restore-operator')!, body: { object: 'Account', ids: [accounts[0]] } });
    assert.equal(report.status, 200, report.text);
    const results = report.body.results as Json[];
    assert.equal(results[0]?.outcome, 'Undeleted');
    assert.equal(results[0]?.newId, accounts[0]);
    const log = await call('GET', `/api/runs/${String(report.body.runId)}`, { session: sessions.get('viewer')! });
    assert.equal(log.body.kind, 'restore');
    assert.equal(((log.body.records as Json[])[0] as Json).originalId, accounts[0]);
    const csv = await call('GET', `/api/runs/${String(report.body.runId)}/report.csv`, { session: sessions.get('viewer')! });
    assert.match(csv.text.split('\n')[0]!, /^object,originalId,newId,outcome,statusCode,message,cause,fix/);
    assert.ok(csv.text.includes(accounts[0]!));
    const history = await call('GET', `/api/orgs/demo/records/${accounts[1]}/history`, { session: sessions.get('viewer')! });
    assert.equal(history.status, 200);
    assert.equal(history.body.objectName, 'Account');
    const compared = await call('GET', `/api/orgs/demo/records/${accounts[1]}/compare`, { session: sessions.get('restore-operator')! });
    assert.equal(compared.status, 200, compared.text);
  });

  it('answers bad input with a 400 naming the field, and unknown names with a 404', async () => {
    const admin = sessions.get('administrator')!;
    const badType = await call('POST', '/api/orgs/demo/restores', { session: admin, body: { object: 5 } });
    assert.equal(badType.status, 400);
    assert.match(String(badType.body.message), /object/);
    const badFilter = await call('POST', '/api/orgs/demo/restores', { session: admin, body: { object: 'Account', where: ['Nope__c = 1'], dryRun: true } });
    assert.equal(badFilter.status, 400);
    assert.match(String(badFilter.body.message), /Nope__c/);
    const badSetting = await call('PUT', '/api/orgs/demo/settings', { session: admin, body: { backup: { colour: 'blue' } } });
    assert.equal(badSetting.status, 400);
    assert.match(String(badSetting.body.message), /colour/);
    assert.equal((await call('GET', '/api/orgs/nope', { session: admin })).status, 404);
    assert.equal((await call('GET', '/api/runs/00000000-0000-4000-8000-000000000000', { session: admin })).status, 404);
    assert.equal((await call('GET', '/api/nothing-here', { session: admin })).status, 404);
  });

  it('connects, tests and removes orgs for an administrator, never echoing a secret', async () => {
    const sandbox = await startEmulator({ profile: 'empty', seed: 4, instance: '8x' });
    try {
      const { info } = sandbox;
      const auth = { kind: 'password', loginUrl: info.loginUrl, clientId: info.clientId, clientSecret: info.clientSecret, username: info.username, password: info.password };
      const admin = sessions.get('administrator')!;
      assert.equal((await call('POST', '/api/orgs', { session: sessions.get('backup-operator')!, body: { name: 'sandbox', auth } })).status, 403);
      const badKind = await call('POST', '/api/orgs', { session: admin, body: { name: 'sandbox', auth: { kind: 'telepathy' } } });
      assert.equal(badKind.status, 400);
      assert.match(String(badKind.body.message), /auth/);
      const refused = await call('POST', '/api/orgs', { session: admin, body: { name: 'sandbox', auth: { ...auth, password: 'wrong' } } });
      assert.equal(refused.status, 502);
      assert.equal(refused.body.error, 'AUTHENTICATION');
      assert.ok(!refused.text.includes('wrong'), 'the password is not echoed');
      const added = await call('POST', '/api/orgs', { session: admin, body: { name: 'sandbox', auth } });
      assert.equal(added.status, 201, added.text);
      assert.equal((added.body.identity as Json).orgId, info.orgId);
      assert.ok(!added.text.includes(info.password) && !added.text.includes(info.clientSecret), 'no secret in the answer');
      const tested = await call('POST', '/api/orgs/sandbox/test', { session: admin });
      assert.equal(tested.status, 200, tested.text);
      assert.ok(Number((tested.body.objects as Json).visible) > 0);
      const again = await call('POST', '/api/orgs', { session: admin, body: { name: 'sandbox', auth } });
      assert.equal(again.status, 400);
      assert.equal((await call('DELETE', '/api/orgs/sandbox', { session: admin })).status, 200);
      assert.equal((await call('GET', '/api/orgs/sandbox', { session: admin })).status, 404);
      const audit = await vault.store.listAudit({ limit: 50 });
      assert.ok(audit.some((a) => a.action === 'org.add' && a.actor === 'administrator' && a.target === 'sandbox'));
      assert.ok(!JSON.stringify(audit).includes(info.password));
    } finally {
      await sandbox.close();
    }
  });

  it('gives automation API tokens: shown once, used without CSRF, listed without secrets, revocable', async () => {
    const viewer = sessions.get('viewer')!;
    const created = await call('POST', '/api/tokens', { session: viewer, body: { label: 'monitoring' } });
    assert.equal(created.status, 201, created.text);
    const token = String(created.body.token);
    assert.ok(token.length > 30);
    assert.equal((await call('GET', '/api/orgs', { token })).status, 200);
    // A token carries its user's role: a viewer's token may not restore.
    assert.equal((await call('POST', '/api/orgs/demo/restores', { token, body: { object: 'Account', dryRun: true } })).status, 403);
    const listed = await call('GET', '/api/tokens', { session: viewer });
    assert.ok(!listed.text.includes(token.split('_').pop()!), 'the secret is never listed');
    const id = String((created.body.record as Json).id);
    assert.equal((await call('DELETE', `/api/tokens/${id}`, { session: sessions.get('backup-operator')! })).status, 404, "someone else's token is not theirs to revoke");
    assert.equal((await call('DELETE', `/api/tokens/${id}`, { session: viewer })).status, 200);
    assert.equal((await call('GET', '/api/orgs', { token })).status, 401);
  });

  it("manages users: a role change takes effect at once, a removed user's session ends", async () => {
    const admin = sessions.get('administrator')!;
    assert.equal((await call('POST', '/api/users', { session: admin, body: { name: 'temp', role: 'viewer', password: PASSWORD } })).status, 201);
    const temp = await signIn('temp');
    assert.equal((await call('GET', '/api/orgs/demo/settings', { session: temp })).status, 200);
    assert.equal((await call('POST', '/api/orgs/demo/restores/preview', { session: temp, body: { object: 'Account' } })).status, 403);
    assert.equal((await call('PUT', '/api/users/temp/role', { session: admin, body: { role: 'restore-operator' } })).status, 200);
    assert.equal((await call('POST', '/api/orgs/demo/restores/preview', { session: temp, body: { object: 'Account' } })).status, 200);
    const badRole = await call('PUT', '/api/users/temp/role', { session: admin, body: { role: 'superuser' } });
    assert.equal(badRole.status, 400);
    assert.match(String(badRole.body.message), /role/);
    const listed = await call('GET', '/api/users', { session: admin });
    assert.ok((listed.body.users as Json[]).some((u) => u.name === 'temp' && u.role === 'restore-operator'));
    assert.ok(!listed.text.includes('scrypt$'), 'no password hash is listed');
    assert.equal((await call('DELETE', '/api/users/temp', { session: admin })).status, 200);
    assert.equal((await call('GET', '/api/orgs', { session: temp })).status, 401);
    assert.equal((await call('POST', '/api/session', { body: { name: 'temp', password: PASSWORD } })).status, 401);
  });

  it('ends sessions when the password changes, and signs out', async () => {
    const session = await signIn('backup-operator');
    const changed = await call('PUT', '/api/users/backup-operator/password', { session, body: { password: 'a brand new long password' } });
    assert.equal(changed.status, 200, changed.text);
    assert.equal((await call('GET', '/api/orgs', { session })).status, 401);
    const fresh = await signIn('backup-operator', 'a brand new long password');
    assert.equal((await call('DELETE', '/api/session', { session: fresh })).status, 200);
    assert.equal((await call('GET', '/api/orgs', { session: fresh })).status, 401);
    // Only an administrator changes someone else's password.
    assert.equal((await call('PUT', '/api/users/viewer/password', { session: sessions.get('restore-operator')!, body: { password: 'another long password' } })).status, 403);
  });
});
