// Restores against the emulator, on a vault filled by real backups: a deleted account with its
// contacts, opportunities, line items, cases and files after the Recycle Bin was emptied; the same
// restore twice; a field reverted to its value as of a date; a self-referencing hierarchy with a
// cycle; and the CLI's --json report.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
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
import { runRestore } from '../../src/restore/index.ts';
import type { RestoreReport, RestoreRequest } from '../../src/restore/index.ts';
import { connectOrg } from '../../src/salesforce/index.ts';
import { initVault, openVault } from '../../src/store/vault.ts';
import type { Vault } from '../../src/store/vault.ts';
import { jsonOf, runCli } from './fixtures/cli-runner.ts';
import { emulatedOrg, restoreRequest } from './fixtures/emulated-org.ts';
import type { EmulatedOrg, Row } from './fixtures/emulated-org.ts';

describe('restoring records', () => {
  let emulator: RunningEmulator;
  let dir: string;
  let vault: Vault;
  let org: OrgRegistration;
  let auth: OrgAuth;
  let client: OrgClient;
  let account: { id: string; name: string; contacts: string[]; opportunities: string[]; lineItems: string[]; cases: string[]; files: string[]; documents: string[] };
  let hierarchy: string[];
  let cycle: string[];
  let revert: { id: string; title: unknown; at: number };
  let orphan: { contact: string; account: string };

  let sf: EmulatedOrg;
  const rest = (method: string, path: string, body?: unknown): Promise<Row> => sf.rest(method, path, body);
  const query = (soql: string): Promise<Row[]> => sf.queryAll(soql);
  const admin = (path: string, body?: unknown): Promise<Row> => sf.admin('POST', path, body ?? {});
  const ids = (rows: Row[]): string[] => rows.map((r) => String(r.Id)).sort();
  const quoted = (list: readonly string[]): string => list.map((id) => `'${id}'`).join(',');
  const backup = async (): Promise<void> => {
    const result = await runBackup({ store: vault.store, blobs: vault.blobs, client: await connectOrg(auth), now: () => emulator.org.clock.nowMs() }, { org, settings: resolveSettings() });
    assert.equal(result.status, 'Succeeded', JSON.stringify(result.objects.filter((o) => o.status === 'Error').slice(0, 3)));
  };
  const advance = (seconds: number): Promise<unknown> => admin('/clock', { advanceSeconds: seconds });
  const request = (over: Partial<RestoreRequest> & { selection: RestoreRequest['selection'] }): RestoreRequest => restoreRequest(org, over);
  const restore = (r: RestoreRequest): Promise<RestoreReport> => runRestore({ store: vault.store, blobs: vault.blobs, client, now: () => emulator.org.clock.nowMs() }, r);
  const newIdOf = (report: RestoreReport, originalId: string): string => {
    const row = report.results.find((r) => r.originalId === originalId);
    assert.ok(row?.newId, `${originalId} has a new ID: ${JSON.stringify(row)}`);
    return row.newId;
  };

  before(async () => {
    emulator = await startEmulator({ profile: 'demo', seed: 5 });
    sf = emulatedOrg(emulator);
    dir = await mkdtemp(join(tmpdir(), 'orgvault-restore-e2e-'));
    const keyFile = Buffer.from(generateKeyFileContent());
    await initVault(join(dir, 'vault'), { keyFile });
    await writeFile(join(dir, 'vault.key'), keyFile, { mode: 0o600 });
    vault = await openVault(join(dir, 'vault'), { keyFile });
    auth = sf.auth;
    org = (await addOrg({ catalog: vault.store, keyring: vault.keyring, connect: (a) => connectOrg(a) }, 'demo', auth)).registration;
    client = await connectOrg(auth);

    // An account with a bit of everything, whose records all have active owners.
    const active = new Set(ids(await query('SELECT Id FROM User WHERE IsActive = true')));
    for (const a of await query('SELECT Id, Name, OwnerId FROM Account WHERE IsDeleted = false ORDER BY Name')) {
      const id = String(a.Id);
      const contacts = await query(`SELECT Id, OwnerId FROM Contact WHERE AccountId = '${id}' AND IsDeleted = false`);
      const opportunities = await query(`SELECT Id, OwnerId FROM Opportunity WHERE AccountId = '${id}' AND IsDeleted = false`);
      const cases = await query(`SELECT Id, OwnerId FROM Case WHERE AccountId = '${id}' AND IsDeleted = false`);
      const files = await query(`SELECT Id, OwnerId, ContentDocumentId FROM ContentVersion WHERE FirstPublishLocationId = '${id}' AND IsDeleted = false ORDER BY Id`);
      if (!contacts.length || !opportunities.length || !cases.length || !files.length) continue;
      const lineItems = await query(`SELECT Id FROM OpportunityLineItem WHERE OpportunityId IN (${quoted(ids(opportunities))}) AND IsDeleted = false`);
      if (!lineItems.length) continue;
      if (![a, ...contacts, ...opportunities, ...cases, ...files].every((r) => active.has(String(r.OwnerId)))) continue;
      account = { id, name: String(a.Name), contacts: ids(contacts), opportunities: ids(opportunities), lineItems: ids(lineItems), cases: ids(cases), files: ids(files), documents: files.map((f) => String(f.ContentDocumentId)) };
      break;
    }
    assert.ok(account, 'the demo org has an account with contacts, opportunities, line items, cases and files');
    // A second file on the account, which will stay in the org when the account is deleted.
    const upload = await rest('POST', '/sobjects/ContentVersion', { Title: 'Kept file', PathOnClient: 'kept.txt', VersionData: Buffer.from('kept body').toString('base64'), FirstPublishLocationId: account.id });
    const kept = await rest('GET', `/sobjects/ContentVersion/${String(upload.id)}`);
    account.files.push(String(upload.id));
    account.documents.push(String(kept.ContentDocumentId));

    // A three-level account hierarchy, with two contacts reporting to each other.
    const top = String((await rest('POST', '/sobjects/Account', { Name: 'Hierarchy Top' })).id);
    const middle = String((await rest('POST', '/sobjects/Account', { Name: 'Hierarchy Middle', ParentId: top })).id);
    const bottom = String((await rest('POST', '/sobjects/Account', { Name: 'Hierarchy Bottom', ParentId: middle })).id);
    hierarchy = [top, middle, bottom];
    const first = String((await rest('POST', '/sobjects/Contact', { LastName: 'Cycle One', AccountId: top })).id);
    const second = String((await rest('POST', '/sobjects/Contact', { LastName: 'Cycle Two', AccountId: top, ReportsToId: first })).id);
    await rest('PATCH', `/sobjects/Contact/${first}`, { ReportsToId: second });
    cycle = [first, second];

    // A contact whose account will be deleted and purged: restored alone, it needs --parents.
    const lonely = String((await rest('POST', '/sobjects/Account', { Name: 'Lonely Parent' })).id);
    orphan = { account: lonely, contact: String((await rest('POST', '/sobjects/Contact', { LastName: 'Orphan', AccountId: lonely })).id) };
    const other = (await query(`SELECT Id, Title FROM Contact WHERE IsDeleted = false AND AccountId != '${account.id}' AND AccountId != '${top}' AND Title != null LIMIT 1`))[0]!;
    await backup();
    await advance(3600);
    revert = { id: String(other.Id), title: other.Title, at: emulator.org.clock.nowMs() };
    await advance(3600);

    await rest('PATCH', `/sobjects/Contact/${revert.id}`, { Title: 'Changed in error' });
    // One file is deleted with the account (and purged with it); the others stay, unlinked.
    await rest('DELETE', `/sobjects/ContentDocument/${account.documents[0]}`);
    await rest('DELETE', `/sobjects/Account/${account.id}`);
    for (const id of [bottom, middle, top, lonely]) await rest('DELETE', `/sobjects/Account/${id}`);
    await advance(60);
    await backup();
    await admin('/recycle-bin/empty');
  });
  after(async () => {
    await vault?.close();
    await emulator?.close();
    await rm(dir, { recursive: true, force: true });
  });

  let first: RestoreReport;
  it('restores a deleted account with its contacts, opportunities, line items, cases and files after the Recycle Bin was emptied', async () => {
    assert.equal((await query(`SELECT Id FROM Account WHERE Id = '${account.id}'`)).length, 0, 'the account is gone for good');
    first = await restore(request({ selection: { objectName: 'Account', recordIds: [account.id] }, children: 2 }));
    const failed = first.results.filter((r) => r.outcome === 'Failed').map((r) => [r.object, r.originalId, r.statusCode, r.message]);
    assert.deepEqual(failed, [], 'no record failed');
    const created = (list: string[]): void => {
      for (const id of list) assert.equal(first.results.find((r) => r.originalId === id)?.outcome, 'Created', `${id} was re-created`);
    };
    const purgedFiles = account.files.filter((_f, k) => account.documents[k] === account.documents[0]);
    created([account.id, ...account.contacts, ...account.opportunities, ...account.lineItems, ...account.cases, ...purgedFiles]);
    const newAccount = newIdOf(first, account.id);
    assert.notEqual(newAccount, account.id);
    assert.equal((await rest('GET', `/sobjects/Account/${newAccount}`)).Name, account.name);

    // Every child points at the new parent.
    assert.deepEqual(ids(await query(`SELECT Id FROM Contact WHERE AccountId = '${newAccount}'`)), account.contacts.map((id) => newIdOf(first, id)).sort());
    assert.deepEqual(ids(await query(`SELECT Id FROM Opportunity WHERE AccountId = '${newAccount}'`)), account.opportunities.map((id) => newIdOf(first, id)).sort());
    assert.deepEqual(ids(await query(`SELECT Id FROM Case WHERE AccountId = '${newAccount}'`)), account.cases.map((id) => newIdOf(first, id)).sort());
    const newOpportunities = account.opportunities.map((id) => newIdOf(first, id));
    assert.deepEqual(ids(await query(`SELECT Id FROM OpportunityLineItem WHERE OpportunityId IN (${quoted(newOpportunities)})`)), account.lineItems.map((id) => newIdOf(first, id)).sort());
    // Files: the purged one is re-created from its backed-up body, first published to the new
    // account; the ones that stayed are linked to it again.
    const recreated = await rest('GET', `/sobjects/ContentVersion/${newIdOf(first, account.files[0]!)}`);
    assert.equal(recreated.FirstPublishLocationId, newAccount);
    const stored = (await vault.store.filesOf(org.orgId, account.files[0]!)).find((f) => f.field === 'VersionData');
    assert.ok(stored);
    assert.equal(recreated.ContentSize, stored.size);
    const links = await query(`SELECT ContentDocumentId FROM ContentDocumentLink WHERE LinkedEntityId = '${newAccount}'`);
    const kept = account.documents.filter((d) => d !== account.documents[0]);
    assert.deepEqual(links.map((l) => String(l.ContentDocumentId)).sort(), [...new Set([String(recreated.ContentDocumentId), ...kept])].sort());
    // Every version of the purged file is back, in the one new document.
    for (const original of purgedFiles) assert.equal((await rest('GET', `/sobjects/ContentVersion/${newIdOf(first, original)}`)).ContentDocumentId, recreated.ContentDocumentId);
    // Polymorphic lookups: restored activities point at the new records.
    const activities = first.results.filter((r) => (r.object === 'Task' || r.object === 'Event') && r.outcome === 'Created');
    assert.ok(activities.length > 0, 'the account had activities to restore');
    for (const activity of activities) {
      const what = (await rest('GET', `/sobjects/${activity.object}/${activity.newId}`)).WhatId;
      assert.ok(first.results.some((r) => r.newId === what && r.originalId !== what), `${activity.object} ${activity.originalId} points at a restored record (${String(what)})`);
    }
    // The mappings are in the vault.
    assert.equal(await vault.store.resolveId(org.orgId, account.id), newAccount);
    const run = await vault.store.getRun(first.runId);
    assert.equal(run?.kind, 'restore');
    assert.equal(run?.status, 'Succeeded');
  });

  it('restores the same account twice without duplicating anything', async () => {
    const again = await restore(request({ selection: { objectName: 'Account', recordIds: [account.id] }, children: 2 }));
    assert.deepEqual(again.results.filter((r) => r.outcome === 'Created').map((r) => [r.object, r.originalId, r.message]), []);
    assert.equal(again.counts.Failed, 0);
    assert.equal((await query(`SELECT Id FROM Account WHERE Name = '${account.name.replace(/'/g, "\\'")}' AND IsDeleted = false`)).length, 1);
    for (const r of again.results) assert.equal(r.newId, first.results.find((f) => f.originalId === r.originalId)?.newId ?? null, `${r.originalId} is found under its first new ID`);
  });

  it('reverts a field changed in error to its value as of a date, only with --overwrite-newer', async () => {
    const asOf = { objectName: 'Contact', recordIds: [revert.id], version: { kind: 'asOf' as const, at: revert.at } };
    const refused = await restore(request({ selection: asOf }));
    assert.equal(refused.results[0]?.outcome, 'Skipped');
    assert.equal(refused.results[0]?.statusCode, 'NEWER_IN_ORG');
    assert.match(refused.results[0]?.fix ?? '', /overwrite-newer/);
    assert.equal((await rest('GET', `/sobjects/Contact/${revert.id}`)).Title, 'Changed in error');

    const reverted = await restore(request({ selection: asOf, plan: { ...request({ selection: asOf }).plan, overwriteNewer: true } }));
    assert.equal(reverted.results[0]?.outcome, 'Updated');
    assert.equal(reverted.results[0]?.newId, revert.id);
    assert.match(reverted.results[0]?.message ?? '', /Restored 1 field\(s\): Title/);
    assert.equal((await rest('GET', `/sobjects/Contact/${revert.id}`)).Title, revert.title);
  });

  it('restores a self-referencing hierarchy and a cycle by creating first and linking afterwards', async () => {
    // Three accounts: a Bulk API ingest job (the threshold is lowered), the contacts through Collections.
    const report = await restore(request({ selection: { objectName: 'Account', recordIds: hierarchy, version: { kind: 'asOf', at: revert.at } }, children: 1, bulkThreshold: 3 }));
    assert.deepEqual(report.results.filter((r) => r.outcome === 'Failed'), []);
    const [top, middle, bottom] = hierarchy.map((id) => newIdOf(report, id));
    assert.equal((await rest('GET', `/sobjects/Account/${middle}`)).ParentId, top);
    assert.equal((await rest('GET', `/sobjects/Account/${bottom}`)).ParentId, middle);
    const [one, two] = cycle.map((id) => newIdOf(report, id));
    assert.equal((await rest('GET', `/sobjects/Contact/${one}`)).ReportsToId, two);
    assert.equal((await rest('GET', `/sobjects/Contact/${two}`)).ReportsToId, one);
    assert.equal((await rest('GET', `/sobjects/Contact/${two}`)).AccountId, top);
  });

  it('brings a purged parent back with --parents, and the child under it', async () => {
    const without = await restore(request({ selection: { objectName: 'Contact', recordIds: [orphan.contact] }, dryRun: true }));
    assert.equal(without.results[0]?.outcome, 'Failed');
    assert.equal(without.results[0]?.statusCode, 'INVALID_CROSS_REFERENCE_KEY');
    const report = await restore(request({ selection: { objectName: 'Contact', recordIds: [orphan.contact] }, parents: 1 }));
    const parent = report.results.find((r) => r.originalId === orphan.account);
    assert.equal(parent?.outcome, 'Created');
    assert.equal(parent?.role, 'parent');
    assert.equal((await rest('GET', `/sobjects/Contact/${newIdOf(report, orphan.contact)}`)).AccountId, newIdOf(report, orphan.account));
  });

  it('undeletes records still in the Recycle Bin under their own IDs, children with their parent', async () => {
    const [target] = await query(`SELECT Id FROM Account WHERE IsDeleted = false AND Id IN (SELECT AccountId FROM Contact) AND Name != '${account.name.replace(/'/g, "\\'")}' LIMIT 1`);
    const id = String(target!.Id);
    const contacts = ids(await query(`SELECT Id FROM Contact WHERE AccountId = '${id}'`));
    await rest('DELETE', `/sobjects/Account/${id}`);
    await advance(60);
    await backup();
    const report = await restore(request({ selection: { objectName: 'Account', recordIds: [id] }, children: 1 }));
    assert.equal(report.counts.Failed, 0, JSON.stringify(report.results.filter((r) => r.outcome === 'Failed')));
    for (const original of [id, ...contacts]) {
      const row = report.results.find((r) => r.originalId === original);
      assert.equal(row?.outcome, 'Undeleted', `${original}: ${JSON.stringify(row)}`);
      assert.equal(row?.newId, original);
    }
    assert.equal((await rest('GET', `/sobjects/Account/${id}`)).IsDeleted, false);
  });

  it('prints the report as JSON and writes it to a file from the CLI', async () => {
    const cwd = dir;
    const keyPath = join(dir, 'vault.key');
    await vault.close();
    try {
      const reportPath = join(dir, 'report.csv');
      const result = await runCli(['--json', '--key-file', keyPath, 'restore', '--object', 'Account', '--id', account.id, '--children', '1', '--report', reportPath], {
        vault: join(dir, 'vault'),
        cwd,
        passphrase: '',
      });
      assert.equal(result.code, 0, result.stderr);
      const report = jsonOf<{ runId: string; status: string; results: { object: string; originalId: string; newId: string; outcome: string; statusCode: string | null; message: string | null }[] }>(result);
      assert.equal(report.status, 'Succeeded');
      assert.ok(report.runId);
      const row = report.results.find((r) => r.originalId === account.id);
      assert.equal(row?.object, 'Account');
      assert.equal(row?.newId, newIdOf(first, account.id));
      assert.equal(row?.outcome, 'Skipped');
      const csv = await readFile(reportPath, 'utf8');
      assert.match(csv.split('\n')[0]!, /^object,originalId,newId,outcome,statusCode,message,cause,fix$/);
      assert.ok(csv.includes(account.id));

      // The restore is a run in the job log, with its objects and records.
      const logs = await runCli(['--json', '--key-file', keyPath, 'logs', first.runId], { vault: join(dir, 'vault'), cwd, passphrase: '' });
      assert.equal(logs.code, 0, logs.stderr);
      const log = jsonOf<{ kind: string; status: string; objects: { name: string; counters: Record<string, number> }[]; records: { originalId: string; outcome: string; newId: string }[] }>(logs);
      assert.equal(log.kind, 'restore');
      assert.equal(log.objects.find((o) => o.name === 'Contact')?.counters.created, account.contacts.length);
      assert.equal(log.records.find((r) => r.originalId === account.id)?.newId, newIdOf(first, account.id));
      const human = await runCli(['--key-file', keyPath, 'logs', first.runId, '--errors'], { vault: join(dir, 'vault'), cwd, passphrase: '' });
      assert.match(human.stdout, /No record failed\./);
      // A dry run is in the log too, with what it predicted; it resumes nothing.
      const dry = await runCli(['--json', '--key-file', keyPath, 'restore', '--object', 'Contact', '--id', orphan.contact, '--dry-run'], { vault: join(dir, 'vault'), cwd, passphrase: '' });
      assert.equal(dry.code, 0, dry.stderr);
      const dryReport = jsonOf<{ runId: string; dryRun: boolean; results: { outcome: string }[] }>(dry);
      assert.equal(dryReport.dryRun, true);
      const dryLog = jsonOf<{ message: string; records: { originalId: string; outcome: string }[] }>(await runCli(['--json', '--key-file', keyPath, 'logs', dryReport.runId], { vault: join(dir, 'vault'), cwd, passphrase: '' }));
      assert.match(dryLog.message, /^Dry run: /);
      assert.deepEqual(dryLog.records.map((r) => r.originalId), [orphan.contact]);
      const resumeDry = await runCli(['--key-file', keyPath, 'restore', '--resume', dryReport.runId], { vault: join(dir, 'vault'), cwd, passphrase: '' });
      assert.equal(resumeDry.code, 2);
      assert.match(resumeDry.stderr, /was a dry run/);

      const bad = await runCli(['--key-file', keyPath, 'restore', '--object', 'Account', '--id', account.id, '--inactive-owner', 'nobody'], { vault: join(dir, 'vault'), cwd, passphrase: '' });
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--inactive-owner nobody/);
    } finally {
      vault = await openVault(join(dir, 'vault'), { keyFile: await readFile(keyPath) });
    }
  });
});
