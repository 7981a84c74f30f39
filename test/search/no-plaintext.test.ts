// The vault keeps no field value in clear, the search index included: after backing up the
// seeded demo org (records, files and the index), every file of the vault (catalog.db, its WAL,
// the blobs, vault.json) is read byte by byte, and none of the distinctive values the org holds
// (account names, streets, contact names and emails, case subjects, file titles, as read through
// the REST API), nor their lower-cased or normalised forms, nor their longer words, is in it,
// while a search for each finds its record.
import assert from 'node:assert/strict';
import { readdir, readFile, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startEmulator } from '../../emulator/index.ts';
import type { RunningEmulator } from '../../emulator/index.ts';
import { resolveSettings, runBackup } from '../../src/backup/index.ts';
import { normalizeText, valueTokens } from '../../src/core/search-text.ts';
import type { OrgRegistration } from '../../src/core/vault.ts';
import { generateKeyFileContent } from '../../src/crypto/keys.ts';
import { connectOrg } from '../../src/salesforce/index.ts';
import { searchRecords } from '../../src/search/index.ts';
import { initVault, openVault } from '../../src/store/vault.ts';
import type { Vault } from '../../src/store/vault.ts';
import { emulatedOrg } from '../e2e/fixtures/emulated-org.ts';

interface Probe {
  object: string;
  id: string;
  field: string;
  value: string;
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else out.push(path);
  }
  return out;
}

describe('no plain field value on disk', () => {
  let emulator: RunningEmulator;
  let scratch: string;
  let vault: Vault;
  let org: OrgRegistration;
  const probes: Probe[] = [];
  const keyFile = Buffer.from(generateKeyFileContent());

  before(async () => {
    emulator = await startEmulator({ profile: 'demo', seed: 11 });
    const sf = emulatedOrg(emulator);
    scratch = await mkdtemp(join(tmpdir(), 'orgvault-plaintext-'));
    await initVault(join(scratch, 'vault'), { keyFile });
    vault = await openVault(join(scratch, 'vault'), { keyFile });
    const { info } = emulator;
    org = { name: 'demo', orgId: info.orgId, instanceUrl: info.instanceUrl, loginUrl: info.loginUrl, sealedAuth: new Uint8Array(1), createdAt: Date.now(), settings: {} };
    await vault.store.putOrg(org);
    const result = await runBackup({ store: vault.store, blobs: vault.blobs, client: await connectOrg(sf.auth), now: () => emulator.org.clock.nowMs() }, { org, settings: resolveSettings() });
    assert.equal(result.status, 'Succeeded', JSON.stringify(result.objects.filter((o) => o.status === 'Error')));

    const take = async (object: string, soql: string, fields: string[]): Promise<void> => {
      for (const row of await sf.query(soql)) {
        for (const field of fields) {
          const value = row[field];
          if (typeof value === 'string' && value.length >= 6) probes.push({ object, id: String(row.Id), field, value });
        }
      }
    };
    await take('Account', 'SELECT Id, Name, BillingStreet FROM Account ORDER BY Name LIMIT 8', ['Name', 'BillingStreet']);
    await take('Contact', 'SELECT Id, FirstName, LastName, Email FROM Contact ORDER BY LastName LIMIT 8', ['Email', 'LastName']);
    await take('Case', 'SELECT Id, Subject FROM Case ORDER BY CaseNumber LIMIT 5', ['Subject']);
    await take('ContentVersion', 'SELECT Id, Title, PathOnClient FROM ContentVersion ORDER BY Title LIMIT 5', ['Title', 'PathOnClient']);
    for (const object of ['Account', 'Contact', 'Case', 'ContentVersion']) assert.ok(probes.some((p) => p.object === object), `the demo org has ${object} values to look for`);
  });
  after(async () => {
    await vault?.close();
    await emulator?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  test('search finds each value: the index holds them (as keyed hashes)', async () => {
    for (const probe of probes) {
      const result = await searchRecords(vault.store, { org, text: probe.value, objects: [probe.object], limit: 1000 });
      assert.ok(result.hits.some((h) => h.recordId === probe.id), `${probe.object}.${probe.field} "${probe.value}" is found`);
    }
  });

  test('no file of the vault holds any of them, in any form, open (with its WAL) or closed', async () => {
    const needles = new Map<string, string>();
    for (const probe of probes) {
      const what = `${probe.object}.${probe.field} of ${probe.id}`;
      for (const form of [probe.value, probe.value.toLowerCase(), probe.value.toUpperCase(), normalizeText(probe.value)]) needles.set(form, what);
      // The words a naive index would store: long enough not to occur by chance in sealed bytes.
      for (const token of valueTokens(probe.value)) if (token.length >= 7) needles.set(token, `a word of ${what}`);
    }
    assert.ok(needles.size > 40, `${needles.size} needles`);
    const dir = join(scratch, 'vault');
    const scan = async (): Promise<string[]> => {
      const files = await filesUnder(dir);
      assert.ok(files.some((f) => f.endsWith('catalog.db')));
      assert.ok(files.some((f) => f.includes('blobs')), 'file bodies were backed up');
      let bytes = 0;
      const found: string[] = [];
      for (const file of files) {
        const content = await readFile(file);
        bytes += (await stat(file)).size;
        for (const [needle, what] of needles) {
          if (content.includes(Buffer.from(needle, 'utf8'))) found.push(`${file.slice(dir.length)} holds "${needle}" (${what})`);
        }
      }
      assert.ok(bytes > 100_000, `${bytes} bytes scanned`);
      // The scan does see what is in clear: record IDs are, by design.
      let ids = 0;
      for (const file of files) if ((await readFile(file)).includes(Buffer.from(probes[0]!.id))) ids++;
      assert.ok(ids > 0, 'a record ID is found in clear, so the scan reads what it should');
      return found;
    };
    const files = await filesUnder(dir);
    assert.ok(files.some((f) => f.endsWith('catalog.db-wal')), 'the WAL is scanned while the vault is open');
    assert.deepEqual(await scan(), []);
    await vault.close();
    assert.deepEqual(await scan(), []);
    vault = await openVault(dir, { keyFile });
  });
});
