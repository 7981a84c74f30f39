// The dashboard's pages in-process: sign-in through the form, redirects for visitors, the CSRF
// field on forms, the role checks, no open redirect, and useful empty states.
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

const PASSWORD = 'pages test password 77';

describe('dashboard pages', () => {
  let dir: string;
  let vault: Vault;
  let app: ServerApp;

  const form = (fields: Record<string, string>, cookie?: string): RequestInit => ({
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
    body: new URLSearchParams(fields).toString(),
  });
  const signIn = async (name: string, next = '/'): Promise<{ cookie: string; csrf: string }> => {
    const answer = await app.request('/login', form({ name, password: PASSWORD, next }));
    assert.equal(answer.status, 303);
    const cookie = (answer.headers.get('set-cookie') ?? '').split(';')[0]!;
    const home = await (await app.request('/', { headers: { cookie } })).text();
    return { cookie, csrf: /name="_csrf" value="([^"]+)"/.exec(home)![1]! };
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'orgvault-pages-'));
    const keyFile = Buffer.from(generateKeyFileContent());
    await initVault(join(dir, 'vault'), { keyFile });
    vault = await openVault(join(dir, 'vault'), { keyFile });
    for (const role of ['administrator', 'viewer'] as const) await addUser({ store: vault.store, actor: 'test' }, role, role, PASSWORD);
    app = createServerApp({ store: vault.store, blobs: vault.blobs, keyring: vault.keyring, connectAuth: () => Promise.reject(new Error('no org here')), maskKey: 'm', secureCookies: false, trustProxy: false });
  });
  after(async () => {
    await vault?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('sends visitors to the sign-in page, and back where they were going', async () => {
    const visit = await app.request('/runs?org=prod');
    assert.equal(visit.status, 303);
    assert.equal(visit.headers.get('location'), `/login?next=${encodeURIComponent('/runs?org=prod')}`);
    const login = await app.request('/login?next=%2Fruns');
    assert.match(await login.text(), /<input type="hidden" name="next" value="\/runs"/);
    const wrong = await app.request('/login', form({ name: 'viewer', password: 'nope', next: '/runs' }));
    assert.equal(wrong.status, 401);
    assert.match(await wrong.text(), /Wrong user name or password/);
    const right = await app.request('/login', form({ name: 'viewer', password: PASSWORD, next: '/runs' }));
    assert.equal(right.headers.get('location'), '/runs');
    assert.match(right.headers.get('set-cookie') ?? '', /HttpOnly; SameSite=Strict/);
    // Never an open redirect.
    const away = await app.request('/login', form({ name: 'viewer', password: PASSWORD, next: '//evil.example/' }));
    assert.equal(away.headers.get('location'), '/');
  });

  it('shows useful empty states', async () => {
    const { cookie } = await signIn('viewer');
    assert.match(await (await app.request('/', { headers: { cookie } })).text(), /No org is connected yet/);
    assert.match(await (await app.request('/runs', { headers: { cookie } })).text(), /No jobs yet/);
    assert.equal((await app.request('/orgs/nope', { headers: { cookie } })).status, 404);
    assert.equal((await app.request('/runs/00000000-0000-4000-8000-000000000000', { headers: { cookie } })).status, 404);
  });

  it('refuses a form without the CSRF field, and actions the role does not allow', async () => {
    const viewer = await signIn('viewer');
    const forged = await app.request('/orgs/prod/backup', form({}, viewer.cookie));
    assert.equal(forged.status, 403);
    assert.match(await forged.text(), /This form has expired/);
    const notAllowed = await app.request('/orgs/prod/backup', form({ _csrf: viewer.csrf }, viewer.cookie));
    assert.equal(notAllowed.status, 403);
    assert.match(await notAllowed.text(), /Your role \(viewer\) may not do this/);
    assert.equal((await app.request('/orgs/prod/restore', { headers: { cookie: viewer.cookie } })).status, 403);
    assert.equal((await app.request('/orgs/prod/settings', form({ _csrf: viewer.csrf, mode: 'paused' }, viewer.cookie))).status, 403);
    const signOut = await app.request('/logout', form({ _csrf: viewer.csrf }, viewer.cookie));
    assert.equal(signOut.headers.get('location'), '/login');
    assert.equal((await app.request('/', { headers: { cookie: viewer.cookie } })).status, 303);
  });
});
