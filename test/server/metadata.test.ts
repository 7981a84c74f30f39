// The Metadata tab and its API in-process: types with counts and last change, the compare view
// with escaped diffs, the deployable zip for those who may export, and the role checks.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import JSZip from 'jszip';
import type { OrgRegistration } from '../../src/core/vault.ts';
import { generateKeyFileContent } from '../../src/crypto/keys.ts';
import { createServerApp } from '../../src/server/app.ts';
import type { ServerApp } from '../../src/server/app.ts';
import { initVault, openVault } from '../../src/store/vault.ts';
import type { Vault } from '../../src/store/vault.ts';
import { addUser } from '../../src/users/index.ts';

const PASSWORD = 'metadata pages password 5';
const ORG: OrgRegistration = { name: 'prod', orgId: '00D000000000001AAA', instanceUrl: 'https://x', loginUrl: 'https://x', sealedAuth: new Uint8Array(), createdAt: 0, settings: {} };
const T = Date.UTC(2026, 10, 1);
const cls = (body: string) => ({ 'classes/Greeter.cls': body, 'classes/Greeter.cls-meta.xml': '<ApexClass><status>Active</status></ApexClass>\n' });
const rule = (formula: string) => ({ 'objects/Account/validationRules/Need_Name.validationRule-meta.xml': `<ValidationRule>\n<errorConditionFormula>${formula}</errorConditionFormula>\n</ValidationRule>\n` });
const put = (type: string, fullName: string, files: Record<string, string>, lastModifiedDate = T) => ({ type, fullName, files, deleted: false, lastModifiedDate, salesforceId: null });

describe('metadata pages and API', () => {
  let dir: string;
  let vault: Vault;
  let app: ServerApp;

  const signIn = async (name: string): Promise<string> => {
    const answer = await app.request('/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ name, password: PASSWORD, next: '/' }).toString() });
    assert.equal(answer.status, 303);
    return (answer.headers.get('set-cookie') ?? '').split(';')[0]!;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'orgvault-mdpages-'));
    const keyFile = Buffer.from(generateKeyFileContent());
    await initVault(join(dir, 'vault'), { keyFile });
    vault = await openVault(join(dir, 'vault'), { keyFile });
    for (const role of ['administrator', 'viewer'] as const) await addUser({ store: vault.store, actor: 'test' }, role, role, PASSWORD);
    await vault.store.putOrg(ORG);
    const store = vault.store;
    await store.writeMetadataVersions(ORG.orgId, 'run-1', T, [put('ApexClass', 'Greeter', cls('class Greeter {}\n')), put('ValidationRule', 'Account.Need_Name', rule('ISBLANK(Name)')), put('Profile', 'Admin', { 'profiles/Admin.profile-meta.xml': '<Profile/>\n' })]);
    await store.completeMetadataRun({ orgId: ORG.orgId, runId: 'run-1', capturedAt: T, components: 3, changed: 3, deleted: 0 });
    await store.writeMetadataVersions(ORG.orgId, 'run-2', T + 60_000, [put('ValidationRule', 'Account.Need_Name', rule('ISBLANK(Name) && Amount < 5'), T + 30_000)]);
    await store.completeMetadataRun({ orgId: ORG.orgId, runId: 'run-2', capturedAt: T + 60_000, components: 3, changed: 1, deleted: 0 });
    app = createServerApp({ store: vault.store, blobs: vault.blobs, keyring: vault.keyring, connectAuth: () => Promise.reject(new Error('no org here')), maskKey: 'm', secureCookies: false, trustProxy: false });
  });
  after(async () => {
    await vault?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('the org page links to the tab; the tab lists types with counts and last change, and the backups', async () => {
    const cookie = await signIn('viewer');
    assert.match(await (await app.request('/orgs/prod', { headers: { cookie } })).text(), /href="\/orgs\/prod\/metadata"/);
    const page = await app.request('/orgs/prod/metadata', { headers: { cookie } });
    assert.equal(page.status, 200);
    const text = await page.text();
    assert.match(text, /<td>ValidationRule<\/td><td class="num">1<\/td><td class="num">0<\/td><td>2026-11-01 00:00:30<\/td><td>2026-11-01 00:01:00 <a href="\/runs\/run-2"/);
    assert.match(text, /<td>ApexClass<\/td><td class="num">1<\/td><td class="num">0<\/td><td>2026-11-01 00:00:00<\/td><td>2026-11-01 00:00:00 <a href="\/runs\/run-1"/);
    assert.match(text, /<option value="run-1" selected>/);
    // A viewer may look but not download the zip.
    assert.doesNotMatch(text, /export\.zip/);
    assert.equal((await app.request('/orgs/prod/metadata/export.zip?run=run-1', { headers: { cookie } })).status, 403);
    assert.equal((await app.request('/orgs/nope/metadata', { headers: { cookie } })).status, 404);
  });

  it('the compare view shows the changed rule with its diff escaped in <pre>', async () => {
    const cookie = await signIn('viewer');
    const page = await app.request('/orgs/prod/metadata/compare?from=run-1&to=run-2', { headers: { cookie } });
    assert.equal(page.status, 200);
    const text = await page.text();
    assert.match(text, /<b>0<\/b>added<\/div><div><b>0<\/b>removed<\/div><div><b>1<\/b>changed<\/div><div><b>2<\/b>unchanged/);
    assert.match(text, /<pre class="diff"[^>]*>[^]*<del>-&lt;errorConditionFormula&gt;ISBLANK\(Name\)&lt;\/errorConditionFormula&gt;<\/del>\n<ins>\+&lt;errorConditionFormula&gt;ISBLANK\(Name\) &amp;&amp; Amount &lt; 5&lt;\/errorConditionFormula&gt;<\/ins>/);
    const bad = await app.request('/orgs/prod/metadata/compare?from=nope', { headers: { cookie } });
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /No metadata backup of prod has run ID &quot;nope&quot;/);
    // The live org cannot be reached here: the page says why rather than failing.
    const live = await app.request('/orgs/prod/metadata/compare?from=run-2&to=live', { headers: { cookie } });
    assert.ok(live.status < 500, `status ${live.status}`);
  });

  it('an administrator downloads the deployable zip of a backup', async () => {
    const cookie = await signIn('administrator');
    assert.match(await (await app.request('/orgs/prod/metadata', { headers: { cookie } })).text(), /export\.zip\?run=run-1/);
    const answer = await app.request('/orgs/prod/metadata/export.zip?run=run-1', { headers: { cookie } });
    assert.equal(answer.status, 200);
    assert.match(answer.headers.get('content-disposition') ?? '', /attachment; filename="orgvault-prod-metadata-2026-11-01T0000Z\.zip"/);
    const zip = await JSZip.loadAsync(await answer.arrayBuffer());
    assert.match(await zip.file('package.xml')!.async('string'), /<members>Account.Need_Name<\/members>\s*<name>ValidationRule<\/name>/);
    assert.match(await zip.file('force-app/main/default/objects/Account/validationRules/Need_Name.validationRule-meta.xml')!.async('string'), /ISBLANK\(Name\)<\/errorConditionFormula>/);
  });

  it('the API: types and runs, and the compare as JSON; a viewer may look', async () => {
    const cookie = await signIn('viewer');
    const listing = await app.request('/api/orgs/prod/metadata', { headers: { cookie } });
    assert.equal(listing.status, 200);
    const body = (await listing.json()) as { types: { type: string; components: number }[]; runs: { runId: string }[] };
    assert.deepEqual(body.types.map((t) => [t.type, t.components]), [['ApexClass', 1], ['Profile', 1], ['ValidationRule', 1]]);
    assert.deepEqual(body.runs.map((r) => r.runId), ['run-2', 'run-1']);
    const compared = await app.request('/api/orgs/prod/metadata/compare', { headers: { cookie } });
    assert.equal(compared.status, 200);
    const result = (await compared.json()) as { counts: { changed: number }; changes: { fullName: string; diff: string }[] };
    assert.equal(result.counts.changed, 1);
    assert.match(result.changes[0]!.diff, /\+<errorConditionFormula>ISBLANK\(Name\) && Amount < 5/);
    assert.equal((await app.request('/api/orgs/prod/metadata/compare?from=zzz', { headers: { cookie } })).status, 400);
    assert.equal((await app.request('/api/orgs/prod/metadata')).status, 401);
  });
});
