// Seeding a sandbox: records of one org's backup, with their children, restored into another
// connected org; an existing record matched by an alternate key instead of duplicated; personal
// fields masked, the same way every time; and a second run that finds everything already there.
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
import { parseMaskRule, runRestore } from '../../src/restore/index.ts';
import type { RestoreReport, RestoreRequest } from '../../src/restore/index.ts';
import { connectOrg } from '../../src/salesforce/index.ts';
import { initVault, openVault } from '../../src/store/vault.ts';
import type { Vault } from '../../src/store/vault.ts';
import { emulatedOrg, restoreRequest } from './fixtures/emulated-org.ts';
import type { EmulatedOrg, Row } from './fixtures/emulated-org.ts';

interface Org extends EmulatedOrg {
  emulator: RunningEmulator;
}

describe('restoring into another org', () => {
  let source: Org;
  let target: Org;
  let dir: string;
  let vault: Vault;
  let prod: OrgRegistration;
  let sandbox: OrgRegistration;
  let chosen: { id: string; name: string; contacts: Row[] }[];
  let existing: string;

  const open = async (profile: 'demo' | 'empty', seed: number, instance?: string): Promise<Org> => {
    const emulator = await startEmulator({ profile, seed, instance });
    return { emulator, ...emulatedOrg(emulator) };
  };
  const query = (org: Org, soql: string): Promise<Row[]> => org.query(soql);
  const escape = (text: string): string => text.replace(/\\/g, '\\\\').replace(/'/g, "\\'");

  const request = (): RestoreRequest => {
    const base = restoreRequest(prod, { target: sandbox, selection: { objectName: 'Account', recordIds: chosen.map((a) => a.id) }, children: 1, matchOn: { Account: ['Name'] }, maskKey: 'a-secret-derived-from-the-vault-key' });
    const masks = ['Contact.FirstName=first-name', 'Contact.LastName=last-name', 'Contact.Email=email', 'Contact.Phone=phone', 'Contact.MobilePhone=phone'].map(parseMaskRule);
    return { ...base, plan: { ...base.plan, missingRecordType: { kind: 'default' }, masks } };
  };
  const restore = async (): Promise<RestoreReport> => runRestore({ store: vault.store, blobs: vault.blobs, client: await connectOrg(target.auth), now: () => source.emulator.org.clock.nowMs() }, request());

  before(async () => {
    source = await open('demo', 5);
    // The sandbox is another org, on another instance: its IDs never match production's.
    target = await open('empty', 11, '8x');
    dir = await mkdtemp(join(tmpdir(), 'orgvault-restore-cross-'));
    const keyFile = Buffer.from(generateKeyFileContent());
    await initVault(join(dir, 'vault'), { keyFile });
    vault = await openVault(join(dir, 'vault'), { keyFile });
    const add = async (name: string, org: Org): Promise<OrgRegistration> => (await addOrg({ catalog: vault.store, keyring: vault.keyring, connect: (a) => connectOrg(a) }, name, org.auth)).registration;
    prod = await add('prod', source);
    sandbox = await add('sandbox', target);
    assert.notEqual(prod.orgId, sandbox.orgId);

    chosen = [];
    for (const a of await query(source, 'SELECT Id, Name FROM Account ORDER BY Name LIMIT 40')) {
      const contacts = await query(source, `SELECT Id, FirstName, LastName, Email, Phone, AccountId FROM Contact WHERE AccountId = '${String(a.Id)}'`);
      if (contacts.filter((c) => c.Email).length >= 2) chosen.push({ id: String(a.Id), name: String(a.Name), contacts });
      if (chosen.length === 3) break;
    }
    assert.equal(chosen.length, 3);
    // The sandbox already has the second account, under its own ID.
    existing = String((await target.rest('POST', '/sobjects/Account', { Name: chosen[1]!.name })).id);

    const result = await runBackup({ store: vault.store, blobs: vault.blobs, client: await connectOrg(source.auth), now: () => source.emulator.org.clock.nowMs() }, { org: prod, settings: resolveSettings() });
    assert.equal(result.status, 'Succeeded');
  });
  after(async () => {
    await vault?.close();
    await source?.emulator.close();
    await target?.emulator.close();
    await rm(dir, { recursive: true, force: true });
  });

  let first: RestoreReport;
  it('creates the records with their children in the other org, masked, matching an existing one by its key', async () => {
    const sourceAccounts = (await source.rest('GET', `/query?q=${encodeURIComponent('SELECT COUNT() FROM Account')}`)).totalSize;
    first = await restore();
    assert.deepEqual(first.results.filter((r) => r.outcome === 'Failed').map((r) => [r.object, r.statusCode, r.message]), []);
    const newIdOf = new Map(first.results.map((r) => [r.originalId, r.newId]));

    // Matched by name: the existing account is reused, not duplicated.
    assert.equal(newIdOf.get(chosen[1]!.id), existing);
    assert.equal((await query(target, `SELECT Id FROM Account WHERE Name = '${escape(chosen[1]!.name)}'`)).length, 1);
    for (const account of [chosen[0]!, chosen[2]!]) {
      assert.equal(first.results.find((r) => r.originalId === account.id)?.outcome, 'Created');
      assert.equal((await target.rest('GET', `/sobjects/Account/${newIdOf.get(account.id)}`)).Name, account.name);
    }

    const masked: Row[] = [];
    for (const account of chosen) {
      const inTarget = await query(target, `SELECT Id, FirstName, LastName, Email, Phone FROM Contact WHERE AccountId = '${newIdOf.get(account.id)}'`);
      assert.deepEqual(inTarget.map((c) => c.Id).sort(), account.contacts.map((c) => newIdOf.get(String(c.Id))).sort());
      for (const original of account.contacts) {
        const copy = inTarget.find((c) => c.Id === newIdOf.get(String(original.Id)))!;
        assert.notEqual(copy.LastName, original.LastName);
        if (original.Phone) assert.match(String(copy.Phone), /^\+1 555 /);
        if (!original.Email) continue;
        assert.notEqual(copy.Email, original.Email);
        assert.match(String(copy.Email), /@example\.invalid$/);
        masked.push({ original, copy });
      }
    }
    // Consistent: equal originals give equal masks, different ones (almost surely) differ.
    const byEmail = new Map<unknown, unknown>();
    for (const { original, copy } of masked as { original: Row; copy: Row }[]) {
      if (byEmail.has(original.Email)) assert.equal(byEmail.get(original.Email), copy.Email);
      byEmail.set(original.Email, copy.Email);
    }
    assert.equal(new Set(masked.map((m) => (m.copy as Row).Email)).size, new Set(masked.map((m) => (m.original as Row).Email)).size);

    // Nothing was written to the backed-up org.
    assert.equal((await source.rest('GET', `/query?q=${encodeURIComponent('SELECT COUNT() FROM Account')}`)).totalSize, sourceAccounts);
    // Mappings are kept per pair of orgs.
    assert.equal(await vault.store.resolveId(`${prod.orgId}>${sandbox.orgId}`, chosen[0]!.id), newIdOf.get(chosen[0]!.id));
    assert.equal(await vault.store.resolveId(prod.orgId, chosen[0]!.id), undefined);
  });

  it('finds everything in place the second time: masks are the same, nothing is created', async () => {
    const again = await restore();
    assert.equal(again.counts.Created, 0);
    assert.equal(again.counts.Failed, 0);
    for (const r of again.results) {
      assert.equal(r.outcome, 'Skipped', `${r.object} ${r.originalId}: ${r.message}`);
      assert.equal(r.newId, first.results.find((f) => f.originalId === r.originalId)?.newId);
    }
  });
});
