// A restore interrupted midway (the process dies after Salesforce created a batch of records but
// before their new IDs were journaled) is resumed with `orgvault restore --resume RUN_ID`: the
// records created before the crash are found in the org and adopted, nothing is created twice,
// and every child ends up under its parent's new ID.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startEmulator } from '../../emulator/index.ts';
import type { RunningEmulator } from '../../emulator/index.ts';
import { resolveSettings, runBackup } from '../../src/backup/index.ts';
import type { OrgAuth, OrgClient } from '../../src/core/org-client.ts';
import type { OrgRegistration } from '../../src/core/vault.ts';
import { generateKeyFileContent } from '../../src/crypto/keys.ts';
import { addOrg } from '../../src/orgs/index.ts';
import { resumeRestore, runRestore } from '../../src/restore/index.ts';
import type { RestoreReport } from '../../src/restore/index.ts';
import { connectOrg } from '../../src/salesforce/index.ts';
import { initVault, openVault } from '../../src/store/vault.ts';
import type { Vault } from '../../src/store/vault.ts';
import { jsonOf, runCli } from './fixtures/cli-runner.ts';
import { emulatedOrg, restoreRequest } from './fixtures/emulated-org.ts';
import type { EmulatedOrg, Row } from './fixtures/emulated-org.ts';

describe('resuming an interrupted restore', () => {
  let emulator: RunningEmulator;
  let dir: string;
  let keyFile: Buffer;
  let vault: Vault;
  let org: OrgRegistration;
  let auth: OrgAuth;
  const accounts: string[] = [];
  const contacts = new Map<string, string>();

  let sf: EmulatedOrg;
  const rest = (method: string, path: string, body?: unknown): Promise<Row> => sf.rest(method, path, body);
  const query = (soql: string): Promise<Row[]> => sf.query(soql);

  before(async () => {
    emulator = await startEmulator({ profile: 'empty', seed: 9 });
    sf = emulatedOrg(emulator);
    dir = await mkdtemp(join(tmpdir(), 'orgvault-restore-resume-'));
    keyFile = Buffer.from(generateKeyFileContent());
    await writeFile(join(dir, 'vault.key'), keyFile, { mode: 0o600 });
    await initVault(join(dir, 'vault'), { keyFile });
    vault = await openVault(join(dir, 'vault'), { keyFile });
    auth = sf.auth;
    org = (await addOrg({ catalog: vault.store, keyring: vault.keyring, connect: (a) => connectOrg(a) }, 'org', auth)).registration;
    // 20 accounts with 30 contacts each: the contacts go back in three sObject Collections calls.
    for (let a = 0; a < 20; a++) {
      const id = String((await rest('POST', '/sobjects/Account', { Name: `Resume Account ${a}`, Industry: 'Banking' })).id);
      accounts.push(id);
      const records = Array.from({ length: 30 }, (_v, c) => ({ attributes: { type: 'Contact' }, LastName: `Contact ${a}-${c}`, Email: `c${a}.${c}@example.com`, AccountId: id }));
      const created = (await rest('POST', '/composite/sobjects', { allOrNone: true, records })) as unknown as { id: string }[];
      created.forEach((r, c) => contacts.set(r.id, `Contact ${a}-${c}`));
    }
    const backup = async (): Promise<void> => {
      const result = await runBackup({ store: vault.store, blobs: vault.blobs, client: await connectOrg(auth), now: () => emulator.org.clock.nowMs() }, { org, settings: resolveSettings() });
      assert.equal(result.status, 'Succeeded');
    };
    await backup();
    for (let i = 0; i < accounts.length; i += 200) await rest('DELETE', `/composite/sobjects?ids=${accounts.slice(i, i + 200).join(',')}&allOrNone=true`);
    await backup();
    await sf.admin('POST', '/recycle-bin/empty');
  });
  after(async () => {
    await vault?.close();
    await emulator?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('adopts the records created before the crash and creates the rest once', async () => {
    const real = await connectOrg(auth);
    // The process "dies" right after Salesforce answered the second batch of contacts.
    let contactBatches = 0;
    const crashing: OrgClient = {
      ...real,
      usage: () => real.usage(),
      createRecords: async (objectName, records, options) => {
        const answers = await real.createRecords(objectName, records, options);
        if (objectName === 'Contact' && ++contactBatches === 2) throw new Error('simulated crash after the write reached Salesforce');
        return answers;
      },
    };
    const request = restoreRequest(org, { selection: { objectName: 'Account', recordIds: accounts }, children: 1 });
    await assert.rejects(runRestore({ store: vault.store, blobs: vault.blobs, client: crashing, now: () => emulator.org.clock.nowMs() }, request), /simulated crash/);
    const [interrupted] = await vault.store.listRuns({ kind: 'restore', limit: 1 });
    assert.ok(interrupted);
    assert.equal(interrupted.status, 'Failed');
    const steps = await vault.store.restoreSteps(interrupted.runId);
    assert.equal(steps.filter((s) => s.completedAt === null).length, 1, 'the crashed batch is journaled as begun, not completed');
    // Salesforce holds 400 restored contacts (two batches); the journal knows of 200.
    assert.equal((await rest('GET', `/query?q=${encodeURIComponent("SELECT COUNT() FROM Contact WHERE Email LIKE '%@example.com'")}`)).totalSize, 400);
    assert.equal((await vault.store.restoreResults(interrupted.runId)).filter((r) => r.objectName === 'Contact' && r.outcome === 'Created').length, 200);
    // While another process still works on the run, a resume is refused and changes nothing.
    const held = await vault.store.acquireOrgLock(`restore:${interrupted.runId}`, 'another orgvault process');
    await assert.rejects(resumeRestore({ store: vault.store, blobs: vault.blobs, client: real, now: () => emulator.org.clock.nowMs() }, interrupted.runId, { org, maskKey: null }), /running in another process \(another orgvault process/);
    assert.equal((await vault.store.getRun(interrupted.runId))?.status, 'Failed');
    await held.release();
    await vault.close();

    const resumed = await runCli(['--json', '--key-file', join(dir, 'vault.key'), 'restore', '--resume', interrupted.runId], { vault: join(dir, 'vault'), cwd: dir, passphrase: '' });
    vault = await openVault(join(dir, 'vault'), { keyFile });
    assert.equal(resumed.code, 0, resumed.stderr);
    const report = jsonOf<RestoreReport>(resumed);
    assert.equal(report.runId, interrupted.runId);
    assert.equal(report.status, 'Succeeded');
    assert.equal(report.counts.Created, accounts.length + contacts.size);
    assert.equal(report.counts.Failed, 0);
    assert.ok(report.results.some((r) => /found in the org on resume/.test(r.message ?? '')), 'some contacts were adopted from the org');

    // Exactly one copy of each contact, under its account's new ID.
    const restored = await query("SELECT Id, LastName, AccountId FROM Contact WHERE Email LIKE '%@example.com'");
    assert.equal(restored.length, contacts.size);
    assert.equal(new Set(restored.map((r) => r.LastName)).size, contacts.size);
    const newIdOf = new Map(report.results.map((r) => [r.originalId, r.newId]));
    for (const [original, name] of contacts) {
      const copy = restored.find((r) => r.Id === newIdOf.get(original));
      assert.equal(copy?.LastName, name);
      const account = accounts[Number(/Contact (\d+)-/.exec(name)![1])]!;
      assert.equal(copy?.AccountId, newIdOf.get(account));
    }
    assert.equal((await vault.store.getRun(interrupted.runId))?.status, 'Succeeded');
  });
});
