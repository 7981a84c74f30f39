// Schedules on the dashboard and the API, in-process: the org page and its tile show the schedule
// and the next run; administrators change it through a form or PUT, viewers only read it; bad
// values are refused with the reason; "Back up now" refuses a wrong object name.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateKeyFileContent } from '../../src/crypto/keys.ts';
import { createServerApp } from '../../src/server/app.ts';
import type { ServerApp } from '../../src/server/app.ts';
import { initVault, openVault } from '../../src/store/vault.ts';
import type { Vault } from '../../src/store/vault.ts';
import { addUser } from '../../src/users/index.ts';

const PASSWORD = 'schedule pages password 31';
// After the users were added (a session made before a password change is not live).
const NOW = Date.UTC(2027, 0, 10, 12, 0);

describe('schedules on the dashboard and the API', () => {
  let dir: string;
  let vault: Vault;
  let app: ServerApp;

  const form = (fields: Record<string, string>, cookie?: string): RequestInit => ({
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
    body: new URLSearchParams(fields).toString(),
  });
  const signIn = async (name: string): Promise<{ cookie: string; csrf: string }> => {
    const answer = await app.request('/login', form({ name, password: PASSWORD, next: '/' }));
    const cookie = (answer.headers.get('set-cookie') ?? '').split(';')[0]!;
    const home = await (await app.request('/', { headers: { cookie } })).text();
    return { cookie, csrf: /name="_csrf" value="([^"]+)"/.exec(home)![1]! };
  };
  const page = async (path: string, cookie: string): Promise<string> => (await app.request(path, { headers: { cookie } })).text();
  const api = (method: string, path: string, who: { cookie: string; csrf: string }, body?: unknown): Promise<Response> =>
    Promise.resolve(app.request(path, { method, headers: { cookie: who.cookie, 'x-csrf-token': who.csrf, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) }));

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'orgvault-schedule-pages-'));
    const keyFile = Buffer.from(generateKeyFileContent());
    await initVault(join(dir, 'vault'), { keyFile });
    vault = await openVault(join(dir, 'vault'), { keyFile });
    for (const role of ['administrator', 'viewer'] as const) await addUser({ store: vault.store, actor: 'test' }, role, role, PASSWORD);
    await vault.store.putOrg({ name: 'prod', orgId: '00D000000000001AAA', instanceUrl: 'https://prod.example', loginUrl: 'https://login.example', sealedAuth: new Uint8Array(1), createdAt: NOW, settings: {} });
    app = createServerApp({ store: vault.store, blobs: vault.blobs, keyring: vault.keyring, connectAuth: () => Promise.reject(new Error('no org here')), maskKey: 'm', secureCookies: false, trustProxy: false, now: () => NOW });
  });
  after(async () => {
    await vault?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('shows no schedule, then the one an administrator sets with the form, with its next run', async () => {
    const admin = await signIn('administrator');
    assert.match(await page('/orgs/prod', admin.cookie), /Schedule: none, backups run only when started/);
    assert.match(await page('/', admin.cookie), /Next: not scheduled/);
    const saved = await app.request('/orgs/prod/schedule', form({ _csrf: admin.csrf, kind: 'daily', time: '02:00', timeZone: 'Europe/Paris', cycleDays: '365', objects: '' }, admin.cookie));
    assert.equal(saved.status, 303);
    assert.equal(saved.headers.get('location'), '/orgs/prod/schedule?saved=1');
    const org = await page('/orgs/prod', admin.cookie);
    assert.match(org, /Daily at 02:00 \(Europe\/Paris\)/);
    // 02:00 in Paris in January is 01:00 UTC.
    assert.match(org, /Next run:<\/b> 2027-01-11 01:00:00 UTC/);
    assert.match(await page('/', admin.cookie), /Next: 2027-01-11 01:00:00 UTC/);
    const audit = await vault.store.listAudit({ limit: 10 });
    assert.ok(audit.some((a) => a.action === 'schedule.set' && a.actor === 'administrator'));
  });

  it('refuses bad values with the reason, and viewers', async () => {
    const admin = await signIn('administrator');
    const bad = await app.request('/orgs/prod/schedule', form({ _csrf: admin.csrf, kind: 'cron', cron: '0 2 * *', timeZone: 'UTC' }, admin.cookie));
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /is not a cron expression/);
    const zone = await app.request('/orgs/prod/schedule', form({ _csrf: admin.csrf, kind: 'daily', time: '02:00', timeZone: 'Nowhere/Land' }, admin.cookie));
    assert.equal(zone.status, 400);
    assert.match(await zone.text(), /is not a time zone/);
    const viewer = await signIn('viewer');
    assert.match(await page('/orgs/prod/schedule', viewer.cookie), /Only administrators change the schedule/);
    assert.equal((await app.request('/orgs/prod/schedule', form({ _csrf: viewer.csrf, kind: 'none' }, viewer.cookie))).status, 403);
    assert.equal((await api('PUT', '/api/orgs/prod/schedules/backup', viewer, { continuous: true })).status, 403);
    // The schedule stayed as it was.
    assert.match(await page('/orgs/prod', viewer.cookie), /Daily at 02:00 \(Europe\/Paris\)/);
  });

  it('reads, sets and clears schedules through the API', async () => {
    const admin = await signIn('administrator');
    const set = await api('PUT', '/api/orgs/prod/schedules/backup', admin, { perDay: 4, start: '00:00', timeZone: 'UTC' });
    assert.equal(set.status, 200);
    assert.equal(((await set.json()) as { nextRun: string }).nextRun, '2027-01-10T18:00:00.000Z');
    const refused = await api('PUT', '/api/orgs/prod/schedules/backup', admin, { perDay: 4, daily: '01:00' });
    assert.equal(refused.status, 400);
    assert.match(((await refused.json()) as { message: string }).message, /Give one kind of schedule/);
    const listed = (await (await api('GET', '/api/orgs/prod/schedules', admin)).json()) as { schedules: { job: string; nextRun: string; description: string }[] };
    assert.deepEqual(listed.schedules.map((s) => [s.job, s.nextRun]), [['backup', '2027-01-10T18:00:00.000Z']]);
    assert.deepEqual(await (await api('DELETE', '/api/orgs/prod/schedules/backup', admin)).json(), { cleared: true });
    assert.equal((await api('GET', '/api/orgs/nope/schedules', admin)).status, 404);
  });

  it('"Back up now" refuses an object name that is not one', async () => {
    const admin = await signIn('administrator');
    const answer = await app.request('/orgs/prod/backup', form({ _csrf: admin.csrf, objects: 'Account, Bad-Name' }, admin.cookie));
    assert.equal(answer.status, 400);
    assert.match(await answer.text(), /"Bad-Name" is not an object API name/);
    assert.match(await page('/orgs/prod', admin.cookie), /name="objects" aria-label="Only these objects"/);
  });
});
