// The Notifications page and API in-process (Hono's app.request), with a local webhook receiver:
// an administrator adds a channel through the form and the API, bad input is refused naming what
// is wrong, the secret URL is never shown back, a test is sent and logged, and a viewer may look
// but not change.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { OrgRegistration } from '../../src/core/vault.ts';
import { generateKeyFileContent } from '../../src/crypto/keys.ts';
import { createServerApp } from '../../src/server/app.ts';
import type { ServerApp } from '../../src/server/app.ts';
import { initVault, openVault } from '../../src/store/vault.ts';
import type { Vault } from '../../src/store/vault.ts';
import { addUser } from '../../src/users/index.ts';
import { webhookReceiver } from './sinks.ts';
import type { WebhookReceiver } from './sinks.ts';

const PASSWORD = 'notify pages password 31';

describe('notifications page and API', () => {
  let dir: string;
  let vault: Vault;
  let app: ServerApp;
  let hook: WebhookReceiver;

  const form = (fields: Record<string, string | string[]>, cookie: string): RequestInit => {
    const body = new URLSearchParams();
    for (const [k, v] of Object.entries(fields)) for (const one of Array.isArray(v) ? v : [v]) body.append(k, one);
    return { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie }, body: body.toString() };
  };
  const signIn = async (name: string): Promise<{ cookie: string; csrf: string }> => {
    const answer = await app.request('/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ name, password: PASSWORD, next: '/' }).toString() });
    const cookie = (answer.headers.get('set-cookie') ?? '').split(';')[0]!;
    const home = await (await app.request('/', { headers: { cookie } })).text();
    return { cookie, csrf: /name="_csrf" value="([^"]+)"/.exec(home)![1]! };
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'orgvault-notify-server-'));
    const keyFile = Buffer.from(generateKeyFileContent());
    await initVault(join(dir, 'vault'), { keyFile });
    vault = await openVault(join(dir, 'vault'), { keyFile });
    for (const role of ['administrator', 'viewer'] as const) await addUser({ store: vault.store, actor: 'test' }, role, role, PASSWORD);
    const org: OrgRegistration = { name: 'prod', orgId: '00D000000000009EAA', instanceUrl: 'https://x.my.salesforce.com', loginUrl: 'https://login.salesforce.com', sealedAuth: new Uint8Array(1), createdAt: 0, settings: {} };
    await vault.store.putOrg(org);
    hook = await webhookReceiver('/hooks/page-secret-77');
    app = createServerApp({ store: vault.store, blobs: vault.blobs, keyring: vault.keyring, connectAuth: () => Promise.reject(new Error('no org here')), maskKey: 'm', secureCookies: false, trustProxy: false });
  });
  after(async () => {
    await vault?.close();
    await hook.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('adds a channel through the form, shows it masked, sends a test and lists it in the log', async () => {
    const admin = await signIn('administrator');
    const empty = await (await app.request('/orgs/prod/notifications', { headers: { cookie: admin.cookie } })).text();
    assert.match(empty, /No channel yet/);

    const bad = await app.request('/orgs/prod/notifications', form({ _csrf: admin.csrf, name: 'ops', type: 'webhook', url: 'http://hooks.example.com/x', eventsShown: '1', events: ['job-failed'], enabled: 'on' }, admin.cookie));
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /--webhook: a webhook URL must start with https:\/\//);

    const saved = await app.request('/orgs/prod/notifications', form({ _csrf: admin.csrf, name: 'ops', type: 'webhook', url: hook.url, eventsShown: '1', events: ['job-failed', 'restore-finished'], enabled: 'on' }, admin.cookie));
    assert.equal(saved.status, 303, await saved.text());
    const page = await (await app.request(saved.headers.get('location')!, { headers: { cookie: admin.cookie } })).text();
    assert.match(page, /Channel ops saved/);
    assert.match(page, /Backup job failed, Restore finished/);
    assert.ok(!page.includes('page-secret-77'), 'the URL is not shown back');
    assert.match(page, /http:\/\/127\.0\.0\.1:\d+\/••••/);

    const tested = await app.request('/orgs/prod/notifications/test', form({ _csrf: admin.csrf, channel: 'ops' }, admin.cookie));
    assert.equal(tested.status, 200);
    assert.match(await tested.text(), /Test to ops: sent/);
    assert.equal(hook.received.length, 1);
    assert.equal(hook.received[0]!.body.kind, 'test');
    const after = await (await app.request('/orgs/prod/notifications', { headers: { cookie: admin.cookie } })).text();
    assert.match(after, /Test notification<\/td><td>ops <span class="muted">\(webhook\)/);
  });

  it('the API lists channels masked, refuses bad input naming it, and shows the log', async () => {
    const admin = await signIn('administrator');
    const headers = { cookie: admin.cookie, 'x-csrf-token': admin.csrf, 'content-type': 'application/json' };
    const listed = (await (await app.request('/api/orgs/prod/notifications', { headers })).json()) as { channels: { name: string; settings: { url: string } }[] };
    assert.deepEqual(listed.channels.map((c) => c.name), ['ops']);
    assert.ok(!JSON.stringify(listed).includes('page-secret-77'));

    const badEmail = await app.request('/api/orgs/prod/notifications/mail', { method: 'PUT', headers, body: JSON.stringify({ type: 'email', email: { host: 'smtp.example.com', from: 'orgvault@example.com', to: ['nobody'] } }) });
    assert.equal(badEmail.status, 400);
    assert.match(((await badEmail.json()) as { message: string }).message, /--email-to: "nobody" is not an email address/);
    const badEvent = await app.request('/api/orgs/prod/notifications/ops', { method: 'PUT', headers, body: JSON.stringify({ events: ['nightly'] }) });
    assert.equal(badEvent.status, 400);
    assert.match(((await badEvent.json()) as { message: string }).message, /"nightly" is not an event/);

    const changed = await app.request('/api/orgs/prod/notifications/ops', { method: 'PUT', headers, body: JSON.stringify({ events: ['all'] }) });
    assert.equal(changed.status, 200);
    assert.equal(((await changed.json()) as { channel: { events: string[] } }).channel.events.length, 5);

    const log = (await (await app.request('/api/orgs/prod/notifications/log', { headers })).json()) as { notifications: { event: string; outcome: string }[] };
    assert.deepEqual(log.notifications.map((n) => [n.event, n.outcome]), [['test', 'sent']]);
    assert.equal((await app.request('/api/orgs/prod/notifications/nope', { method: 'DELETE', headers })).status, 404);
  });

  it('a viewer may look but not change', async () => {
    const viewer = await signIn('viewer');
    const page = await (await app.request('/orgs/prod/notifications', { headers: { cookie: viewer.cookie } })).text();
    assert.match(page, /ops/);
    assert.doesNotMatch(page, /Add a channel|Send a test/);
    assert.equal((await app.request('/orgs/prod/notifications/test', form({ _csrf: viewer.csrf, channel: 'ops' }, viewer.cookie))).status, 403);
    assert.equal((await app.request('/api/orgs/prod/notifications/ops', { method: 'DELETE', headers: { cookie: viewer.cookie, 'x-csrf-token': viewer.csrf } })).status, 403);
  });
});
