// Choosing what to restore, on a vault filled by real backups of the emulator: change types, date
// ranges on activity or backup date, IDs, conditions with custom logic, the version as of a time;
// and `orgvault restore --list` as a user runs it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startEmulator } from '../../emulator/index.ts';
import type { RunningEmulator } from '../../emulator/index.ts';
import type { OrgChange } from '../../emulator/org/org.ts';
import { resolveSettings, runBackup } from '../../src/backup/index.ts';
import type { OrgRegistration } from '../../src/core/vault.ts';
import { generateKeyFileContent } from '../../src/crypto/keys.ts';
import { addOrg } from '../../src/orgs/index.ts';
import { selectVersions } from '../../src/restore/index.ts';
import { connectOrg } from '../../src/salesforce/index.ts';
import { initVault, openVault } from '../../src/store/vault.ts';
import type { Vault } from '../../src/store/vault.ts';

const BIN = fileURLToPath(new URL('../../bin/orgvault.js', import.meta.url));
const run = promisify(execFile);

describe('choosing what to restore', () => {
  let emulator: RunningEmulator;
  let dir: string;
  let vault: Vault;
  let org: OrgRegistration;
  let keyPath: string;
  let activityAt: number;
  const changes: OrgChange[] = [];

  before(async () => {
    emulator = await startEmulator({ profile: 'demo', seed: 5 });
    dir = await mkdtemp(join(tmpdir(), 'orgvault-restore-'));
    const keyFile = Buffer.from(generateKeyFileContent());
    keyPath = join(dir, 'vault.key');
    await writeFile(keyPath, keyFile, { mode: 0o600 });
    await initVault(join(dir, 'vault'), { keyFile });
    vault = await openVault(join(dir, 'vault'), { keyFile });
    const { info } = emulator;
    const auth = { kind: 'password' as const, loginUrl: info.loginUrl, clientId: info.clientId, clientSecret: info.clientSecret, username: info.username, password: info.password };
    org = (await addOrg({ catalog: vault.store, keyring: vault.keyring, connect: (a) => connectOrg(a) }, 'demo', auth)).registration;
    const backup = async (): Promise<void> => {
      const result = await runBackup({ store: vault.store, blobs: vault.blobs, client: await connectOrg(auth), now: () => emulator.org.clock.nowMs() }, { org, settings: resolveSettings() });
      assert.equal(result.status, 'Succeeded');
    };
    await backup();
    await fetch(`${info.loginUrl}/__emulator/clock`, { method: 'POST', headers: { Authorization: `Bearer ${info.adminToken}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ advanceSeconds: 3600 }) });
    activityAt = emulator.org.clock.nowMs();
    emulator.org.onChange((batch) => changes.push(...batch));
    await fetch(`${info.loginUrl}/__emulator/activity`, { method: 'POST', headers: { Authorization: `Bearer ${info.adminToken}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ changes: 300, seed: 'restore' }) });
    await backup();
  });
  after(async () => {
    await vault.close();
    await emulator.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('selects the accounts deleted by the activity, each at its deleted version', async () => {
    const deleted = new Set(changes.filter((c) => c.object === 'Account' && c.changeType === 'DELETE').map((c) => c.recordId));
    assert.ok(deleted.size > 0);
    const selected = await selectVersions(vault.store, { orgId: org.orgId, objectName: 'Account', changeTypes: ['deleted'], from: activityAt });
    for (const id of deleted) {
      const still = emulator.org.get(id);
      if (still && !still.IsDeleted) continue; // undeleted again later in the day
      const hit = selected.find((s) => s.recordId === id);
      assert.ok(hit, `deleted account ${id} is selected`);
      assert.equal(hit.version.isDeleted, true);
    }
    for (const s of selected) assert.equal(s.matched.changeType, 'deleted');
  });

  it('gives the version as of a time before the changes, and filters on backup date', async () => {
    const updated = changes.find((c) => c.object === 'Contact' && c.changeType === 'UPDATE' && c.changedFields.includes('Title'));
    assert.ok(updated, 'a contact whose title changed');
    const [latest] = await selectVersions(vault.store, { orgId: org.orgId, objectName: 'Contact', recordIds: [updated.recordId] });
    const live = emulator.org.get(updated.recordId);
    if (live) assert.equal(latest?.version.systemModstamp, Date.parse(String(live.SystemModstamp).replace('+0000', 'Z')), 'the latest version is the org\'s');
    const [before] = await selectVersions(vault.store, { orgId: org.orgId, objectName: 'Contact', recordIds: [updated.recordId], version: { kind: 'asOf', at: activityAt - 1 } });
    assert.ok(before && before.version.systemModstamp < activityAt);
    assert.notEqual(before.version.systemModstamp, latest!.version.systemModstamp);
    // Every version captured by the second backup was captured after the first one ended.
    const second = await selectVersions(vault.store, { orgId: org.orgId, objectName: 'Contact', from: activityAt, dateBy: 'backup' });
    assert.ok(second.some((s) => s.recordId === updated.recordId));
    assert.ok(second.every((s) => s.matched.capturedAt >= activityAt));
  });

  it('applies conditions with custom logic, checked against the schema', async () => {
    const all = await selectVersions(vault.store, { orgId: org.orgId, objectName: 'Account' });
    const industries = [...new Set(all.map((s) => s.version.fields.Industry).filter((v): v is string => typeof v === 'string'))].slice(0, 2);
    assert.equal(industries.length, 2);
    const picked = await selectVersions(vault.store, {
      orgId: org.orgId,
      objectName: 'Account',
      where: [`Industry = '${industries[0]}'`, `Industry = '${industries[1]}'`, 'Name is not null'],
      match: '(1 OR 2) AND 3',
    });
    assert.ok(picked.length > 0 && picked.length < all.length);
    for (const s of picked) assert.ok(industries.includes(String(s.matched.fields.Industry)));
    await assert.rejects(selectVersions(vault.store, { orgId: org.orgId, objectName: 'Account', where: ['Industy = Banking'] }), /no field "Industy" \(did you mean Industry\?\)/);
    await assert.rejects(selectVersions(vault.store, { orgId: org.orgId, objectName: 'Nope__c' }), /No backup of Nope__c/);
  });

  it('orgvault restore --list prints the selection, with related records nested under their parents', async () => {
    const env = { ...process.env, ORGVAULT_KEY_FILE: keyPath, ORGVAULT_HOME: join(dir, 'vault') };
    const { stdout } = await run(process.execPath, [BIN, 'restore', '--org', 'demo', '--object', 'Account', '--change-type', 'deleted', '--from', new Date(activityAt).toISOString(), '--list', '--json'], { env });
    const listed = JSON.parse(stdout) as { object: string; count: number; records: { recordId: string; isDeleted: boolean; changeType: string }[] };
    const selected = await selectVersions(vault.store, { orgId: org.orgId, objectName: 'Account', changeTypes: ['deleted'], from: activityAt });
    assert.equal(listed.count, selected.length);
    assert.deepEqual(listed.records.map((r) => r.recordId), selected.map((s) => s.recordId));
    const refused = await run(process.execPath, [BIN, 'restore', '--object', 'Account', '--from', 'yesterday', '--list'], { env }).catch((e: { code: number; stderr: string }) => e);
    assert.equal((refused as { code: number }).code, 2);
    assert.match((refused as { stderr: string }).stderr, /--from "yesterday" is not an ISO-8601 time/);
    const nested = await run(process.execPath, [BIN, 'restore', '--org', 'demo', '--object', 'Account', '--change-type', 'deleted', '--from', new Date(activityAt).toISOString(), '--list', '--children', '1', '--json'], { env });
    const withChildren = JSON.parse(nested.stdout) as { records: { recordId: string }[]; related: { recordId: string; object: string; role: string; via: string; viaField: string; fields: Record<string, unknown> }[] };
    const parents = new Set(withChildren.records.map((r) => r.recordId));
    assert.ok(withChildren.related.length > 0, 'deleted accounts come with children');
    for (const child of withChildren.related) {
      assert.equal(child.role, 'child');
      assert.ok(parents.has(child.via), `${child.object} ${child.recordId} is listed under a selected account`);
      assert.equal(child.fields[child.viaField], child.via);
    }
    const human = await run(process.execPath, [BIN, 'restore', '--org', 'demo', '--object', 'Account', '--change-type', 'deleted', '--from', new Date(activityAt).toISOString(), '--list', '--children', '1'], { env });
    assert.match(human.stdout, new RegExp(`└ ${withChildren.related[0]!.recordId}`));
    // --ids-file: the IDs of a file (an export's Id column), joined with --id.
    const [one, two] = (await selectVersions(vault.store, { orgId: org.orgId, objectName: 'Account' })).map((s) => s.recordId);
    const idsFile = join(dir, 'restore-ids.csv');
    await writeFile(idsFile, `Name,Id\n"First, Inc.",${one}\n`);
    const fromFile = await run(process.execPath, [BIN, 'restore', '--org', 'demo', '--object', 'Account', '--ids-file', idsFile, '--id', two!, '--list', '--json'], { env });
    assert.deepEqual((JSON.parse(fromFile.stdout) as { records: { recordId: string }[] }).records.map((r) => r.recordId).sort(), [one, two].sort());
    const missing = await run(process.execPath, [BIN, 'restore', '--org', 'demo', '--object', 'Account', '--ids-file', join(dir, 'nope.csv'), '--list'], { env }).catch((e: { code: number; stderr: string }) => e);
    assert.equal((missing as { code: number }).code, 2);
    assert.match((missing as { stderr: string }).stderr, /Cannot read --ids-file .*nope\.csv/);
    const both = await run(process.execPath, [BIN, 'restore', '--object', 'Account', '--list', '--dry-run'], { env }).catch((e: { code: number; stderr: string }) => e);
    assert.equal((both as { code: number }).code, 2);
    assert.match((both as { stderr: string }).stderr, /--list and --dry-run/);
  });
});
