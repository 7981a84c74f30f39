// Search in the HTTP API and the dashboard, in-process (Hono's app.request): every signed-in role
// may search (as every role may read record history), nobody else; bad requests are 400s naming
// the parameter; hits link to the record's history; the dashboard's search box and results page.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROLES } from '../../src/core/users.ts';
import type { OrgRegistration } from '../../src/core/vault.ts';
import { generateKeyFileContent } from '../../src/crypto/keys.ts';
import { createServerApp } from '../../src/server/app.ts';
import type { ServerApp } from '../../src/server/app.ts';
import { initVault, openVault } from '../../src/store/vault.ts';
import type { Vault } from '../../src/store/vault.ts';
import { addUser } from '../../src/users/index.ts';

type Json = Record<string, unknown>;
const PASSWORD = 'search server test password';
const ORG_ID = '00D0000000000SRVAA';
const ACME = '001000000000001AAA';
const INITECH = '001000000000002AAA';
const T = Date.UTC(2026, 1, 1);

describe('search over HTTP', () => {
  let dir: string;
  let vault: Vault;
  let app: ServerApp;
  const cookies = new Map<string, string>();

  const api = async (path: string, cookie?: string): Promise<{ status: number; body: Json }> => {
    const answer = await app.request(path, { headers: cookie ? { cookie } : {} });
    return { status: answer.status, body: (await answer.json()) as Json };
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'orgvault-search-server-'));
    const keyFile = Buffer.from(generateKeyFileContent());
    await initVault(join(dir, 'vault'), { keyFile });
    vault = await openVault(join(dir, 'vault'), { keyFile });
    const org: OrgRegistration = { name: 'prod', orgId: ORG_ID, instanceUrl: 'https://prod.example', loginUrl: 'https://login.example', sealedAuth: new Uint8Array(1), createdAt: 0, settings: {} };
    await vault.store.putOrg(org);
    const v = (id: string, days: number, fields: Record<string, unknown>, deleted = false) => ({
      recordId: id,
      systemModstamp: T + days * 86_400_000,
      changeType: deleted ? ('deleted' as const) : ('updated' as const),
      isDeleted: deleted,
      fields: { Id: id, ...fields },
    });
    await vault.store.writeVersions({ orgId: ORG_ID, objectName: 'Account', runId: 'r1', capturedAt: T, schemaId: null, versions: [v(ACME, 1, { Name: 'Acme <Anvils> & Co', Description: 'Sells anvils to coyotes' }), v(INITECH, 0, { Name: 'Initech', Description: 'TPS reports and anvils' })] });
    await vault.store.writeVersions({ orgId: ORG_ID, objectName: 'Account', runId: 'r2', capturedAt: T + 5 * 86_400_000, schemaId: null, versions: [v(INITECH, 5, { Name: 'Initech', Description: 'TPS reports' }, true)] });
    for (const role of ROLES) await addUser({ store: vault.store, actor: 'test' }, role, role, PASSWORD);
    app = createServerApp({ store: vault.store, blobs: vault.blobs, keyring: vault.keyring, connectAuth: () => Promise.reject(new Error('no org here')), maskKey: 'm', secureCookies: false, trustProxy: false });
    for (const role of ROLES) {
      const answer = await app.request('/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ name: role, password: PASSWORD, next: '/' }).toString() });
      assert.equal(answer.status, 303);
      cookies.set(role, (answer.headers.get('set-cookie') ?? '').split(';')[0]!);
    }
  });
  after(async () => {
    await vault?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('GET /api/orgs/{name}/search: every role may search; hits carry their history links', async () => {
    assert.equal((await api('/api/orgs/prod/search?q=anvils')).status, 401);
    for (const role of ROLES) {
      const answer = await api('/api/orgs/prod/search?q=anvils', cookies.get(role));
      assert.equal(answer.status, 200, role);
      const hits = answer.body.hits as Json[];
      // Initech's anvils are only in its history (its latest version, a delete, dropped them).
      assert.deepEqual(
        hits.map((h) => [h.recordId, h.matchedIn, h.isDeleted]),
        [
          [ACME, 'latest', false],
          [INITECH, 'history', true],
        ],
      );
      assert.deepEqual(hits[0]!.history, { api: `/api/orgs/prod/records/${ACME}/history`, page: `/orgs/prod/records/${ACME}` });
    }
    const viewer = cookies.get('viewer');
    const filtered = await api('/api/orgs/prod/search?q=anvils&deletedOnly=true&limit=5', viewer);
    assert.deepEqual((filtered.body.hits as Json[]).map((h) => h.recordId), [INITECH]);
    assert.deepEqual(((await api('/api/orgs/prod/search?q=anvils&latestOnly=true', viewer)).body.hits as Json[]).map((h) => h.recordId), [ACME]);
    // Up to the end of the first day: Acme's version of day 1 is out, Initech's of day 0 in.
    assert.deepEqual(((await api(`/api/orgs/prod/search?q=anvils&to=${new Date(T).toISOString().slice(0, 10)}&object=account`, viewer)).body.hits as Json[]).map((h) => h.recordId), [INITECH]);
    const doc = await api('/openapi.json');
    assert.ok((doc.body.paths as Json)['/api/orgs/{name}/search'], 'described in /openapi.json');
  });

  it('refuses bad requests with a 400 naming what is wrong, and unknown orgs with a 404', async () => {
    const viewer = cookies.get('viewer');
    const cases: [string, RegExp][] = [
      ['/api/orgs/prod/search?q=', /text to search for/],
      ['/api/orgs/prod/search?q=%21%21', /no word to search for/],
      ['/api/orgs/prod/search?q=anvils&from=last%20week', /from "last week" is not an ISO-8601 time/],
      ['/api/orgs/prod/search?q=anvils&from=2026-03-01&to=2026-02-01', /is after/],
      ['/api/orgs/prod/search?q=anvils&object=Acount', /no object "Acount".*Account/],
      ['/api/orgs/prod/search?q=anvils&limit=0', /limit/],
      ['/api/orgs/prod/search', /q/],
    ];
    for (const [path, message] of cases) {
      const answer = await api(path, viewer);
      assert.equal(answer.status, 400, path);
      assert.match(String(answer.body.message), message, path);
    }
    assert.equal((await api('/api/orgs/nope/search?q=anvils', viewer)).status, 404);
  });

  it('the dashboard: a search box on every page, results with marked words and links to the history', async () => {
    const viewer = cookies.get('viewer')!;
    const home = await (await app.request('/', { headers: { cookie: viewer } })).text();
    assert.match(home, /<form method="get" action="\/search" role="search"><input name="q" aria-label="Search backups"/);
    const page = await app.request('/search?q=anvils', { headers: { cookie: viewer } });
    assert.equal(page.status, 200);
    const text = await page.text();
    assert.match(text, new RegExp(`<a href="/orgs/prod/records/${ACME}">Acme &lt;Anvils&gt; &amp; Co</a>`));
    assert.match(text, /Acme &lt;<mark>Anvils<\/mark>&gt; &amp; Co/);
    assert.match(text, new RegExp(`<a href="/orgs/prod/records/${INITECH}">Initech</a>`));
    assert.match(text, /an older version/);
    assert.match(text, /badge deleted/);
    const bad = await app.request('/search?q=anvils&from=someday', { headers: { cookie: viewer } });
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /from &quot;someday&quot; is not an ISO-8601 time/);
    const none = await (await app.request('/search?q=zeppelin', { headers: { cookie: viewer } })).text();
    assert.match(none, /No record matches/);
    assert.equal((await app.request('/search?q=anvils')).status, 303, 'visitors sign in first');
  });
});
