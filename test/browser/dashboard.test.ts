// The dashboard in a real browser (Debian's Chromium driven by playwright-core), served over HTTP
// on a vault backed up from the emulator: sign in, an org's dashboard after a backup, a job's log
// and its errors tab, a restore of a deleted record through the wizard with its report downloaded,
// and a record's history. Screenshots of each page go to test-artifacts/browser/.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { startEmulator } from '../../emulator/index.ts';
import type { RunningEmulator } from '../../emulator/index.ts';
import { resolveSettings, runBackup } from '../../src/backup/index.ts';
import type { OrgRegistration } from '../../src/core/vault.ts';
import { generateKeyFileContent } from '../../src/crypto/keys.ts';
import { addOrg } from '../../src/orgs/index.ts';
import { connectOrg } from '../../src/salesforce/index.ts';
import { createServerApp } from '../../src/server/app.ts';
import { initVault, openVault } from '../../src/store/vault.ts';
import type { Vault } from '../../src/store/vault.ts';
import { addUser } from '../../src/users/index.ts';
import { emulatedOrg } from '../e2e/fixtures/emulated-org.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/browser/', import.meta.url));
const PASSWORD = 'browser test password 3e1';
const missing = !existsSync(CHROMIUM);
// CI installs Chromium and requires these tests; elsewhere they say how to run them.
if (missing && process.env.ORGVAULT_REQUIRE_BROWSER === '1') throw new Error(`Chromium is not at ${CHROMIUM}: install it (apt-get install chromium) or set CHROMIUM_PATH.`);

describe('the dashboard in a browser', { skip: missing ? `Chromium is not at ${CHROMIUM}: install Debian's chromium package (apt-get install chromium) or set CHROMIUM_PATH to run the browser tests` : false }, () => {
  let emulator: RunningEmulator;
  let dir: string;
  let vault: Vault;
  let org: OrgRegistration;
  let server: ReturnType<typeof serve>;
  let url: string;
  let browser: Browser;
  let page: Page;
  let deleted: { id: string; name: string };

  const shot = async (name: string): Promise<void> => {
    await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  };

  before(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    emulator = await startEmulator({ profile: 'demo', seed: 21 });
    const sf = emulatedOrg(emulator);
    dir = await mkdtemp(join(tmpdir(), 'orgvault-browser-'));
    const keyFile = Buffer.from(generateKeyFileContent());
    await initVault(join(dir, 'vault'), { keyFile });
    vault = await openVault(join(dir, 'vault'), { keyFile });
    org = (await addOrg({ catalog: vault.store, keyring: vault.keyring, connect: (a) => connectOrg(a) }, 'demo', sf.auth)).registration;
    const backup = async (): Promise<void> => {
      const result = await runBackup({ store: vault.store, blobs: vault.blobs, client: await connectOrg(sf.auth) }, { org, settings: resolveSettings({ deletedCheckIntervalMs: 0 }) });
      assert.notEqual(result.status, 'Failed');
    };
    await backup();
    const [account] = await sf.query('SELECT Id, Name FROM Account WHERE Id NOT IN (SELECT AccountId FROM Contact) ORDER BY Name LIMIT 1');
    deleted = { id: String(account!.Id), name: String(account!.Name) };
    await sf.rest('DELETE', `/sobjects/Account/${deleted.id}`);
    await backup();
    await addUser({ store: vault.store, actor: 'test' }, 'admin', 'administrator', PASSWORD);
    const app = createServerApp({ store: vault.store, blobs: vault.blobs, keyring: vault.keyring, connectAuth: (a) => connectOrg(a), maskKey: 'mask', secureCookies: false, trustProxy: false });
    server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1366, height: 900 }, acceptDownloads: true });
  });
  after(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await vault?.close();
    await emulator?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('signs in and shows the organizations', async () => {
    await page.goto(url);
    assert.match(page.url(), /\/login\?next=/);
    await page.fill('#name', 'admin');
    await page.fill('#password', 'not the password');
    await page.click('button[type=submit]');
    assert.match(await page.textContent('[role=alert]') ?? '', /Wrong user name or password/);
    await shot('01-sign-in-refused');
    await page.fill('#name', 'admin');
    await page.fill('#password', PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForSelector('h1:text("Organizations")');
    assert.ok(await page.isVisible('.tile >> text=demo'));
    await shot('02-organizations');
  });

  it("shows an org's backup dashboard after a backup", async () => {
    await page.click('.tile a:text("demo")');
    await page.waitForSelector('.banner');
    assert.match((await page.textContent('.totals')) ?? '', /records/);
    assert.ok(await page.isVisible('table >> text=Account'));
    assert.ok(await page.isVisible('svg[aria-label="Versions captured per backup run"] rect'));
    await shot('03-org-dashboard');
    await page.click('button:has-text("Files: backed up")');
    await page.waitForSelector('button[aria-pressed="false"]:has-text("Files: not backed up")');
    await page.click('button:has-text("Files: not backed up")');
    await page.waitForSelector('button[aria-pressed="true"]');
    await page.click('.tabs a:has-text("Excluded")');
    await page.waitForSelector('.tabs a[aria-current="page"]:has-text("Excluded")');
    await shot('04-org-dashboard-excluded');
  });

  it("opens a job's log and its errors tab", async () => {
    await page.click('a:text("Job log")');
    await page.waitForSelector('h1:has-text("Job log")');
    await shot('05-job-log');
    await page.click('table tbody tr:first-child a');
    await page.waitForSelector('.tabs');
    assert.ok(await page.isVisible('text=All Objects'));
    await shot('06-job-all-objects');
    await page.check('input[name=changed]');
    await page.click('button:text("Filter")');
    await page.waitForSelector('input[name=changed]:checked');
    await page.click('.tabs a:has-text("Objects with Errors")');
    await page.waitForSelector('.tabs a[aria-current="page"]:has-text("Objects with Errors")');
    await shot('07-job-errors');
  });

  it("changes the org's settings", async () => {
    await page.goto(`${url}/orgs/demo/settings`);
    await page.fill('#exclude', 'Lead\nCampaignMember');
    await page.fill('#apiBudgetPercent', '30');
    await page.click('button:text("Save")');
    await page.waitForSelector('.banner.good:text("Saved.")');
    assert.equal(await page.inputValue('#apiBudgetPercent'), '30');
    assert.equal(await page.inputValue('#exclude'), 'Lead\nCampaignMember');
    await shot('12-settings');
    // The browser refuses 0 itself (min=1); past that check, the server names the setting.
    await page.fill('#concurrency', '0');
    await page.$eval('form.panel', (form) => ((form as unknown as { noValidate: boolean }).noValidate = true));
    await page.click('button:text("Save")');
    assert.match((await page.textContent('[role=alert]')) ?? '', /concurrency/);
  });

  it('restores a deleted record through the wizard, and downloads the report', async () => {
    await page.goto(`${url}/orgs/demo`);
    await page.click('a:text("Restore…")');
    await page.fill('#object', 'Account');
    await page.fill('#ids', deleted.id);
    await page.click('button:text("Find records")');
    await page.waitForSelector(`table >> text=${deleted.id}`);
    await shot('08-restore-matching-records');
    await page.click('button:has-text("Dry run")');
    await page.waitForSelector('h1:has-text("Restore")');
    assert.ok(await page.isVisible(`td:text("${deleted.id}")`));
    await shot('09-restore-dry-run');
    await page.goBack();
    // Per record, a version other than the filtered one: its version before the delete.
    const options = await page.$$eval(`select[name="pick_${deleted.id}"] option`, (list) => list.map((o) => (o as unknown as { textContent: string }).textContent));
    assert.ok(options.length >= 3, `the versions are offered: ${options.join(' | ')}`);
    await page.selectOption(`select[name="pick_${deleted.id}"]`, { index: 2 });
    await page.click('button:has-text("5. Restore")');
    await page.waitForSelector('h1:has-text("Restore")');
    assert.ok(await page.isVisible('.badge.Undeleted'));
    await shot('10-restore-report');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('a:text("Download CSV")')]);
    const csv = await readFile((await download.path())!, 'utf8');
    assert.match(csv.split('\n')[0]!, /^object,originalId,newId,outcome/);
    assert.match(csv, new RegExp(`Account,${deleted.id},${deleted.id},Undeleted`));
  });

  it("shows a record's history", async () => {
    await page.goto(`${url}/orgs/demo`);
    await page.fill('#record', deleted.id);
    await page.click('button:text("History")');
    await page.waitForSelector(`h1:has-text("${deleted.id}")`);
    assert.ok(await page.isVisible('.timeline li >> nth=1'), 'at least two versions: created and deleted');
    assert.ok(await page.isVisible('.badge.deleted'));
    await shot('11-record-history');
  });
});
