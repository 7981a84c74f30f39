// Archives against the emulator, on a vault filled by real backups: a dry run deletes nothing;
// accounts archived with their children are gone from the org (in the Recycle Bin), marked in the
// vault, shown in history and status, recorded as deletions by the next backup, and brought back
// by a restore; records changed since the backup, not backed up, or whose files the vault lacks
// are refused and stay; Salesforce's per-record refusals are reported; an interrupted archive is
// resumed without deleting or reporting anything twice.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startEmulator } from '../../emulator/index.ts';
import type { RunningEmulator } from '../../emulator/index.ts';
import { archivedIdsFor, resumeArchive, runArchive } from '../../src/archive/index.ts';
import type { ArchiveReport, ArchiveRequest } from '../../src/archive/index.ts';
import { recordHistory, resolveSettings, runBackup, statusReport } from '../../src/backup/index.ts';
import { SalesforceApiError } from '../../src/core/errors.ts';
import type { OrgClient } from '../../src/core/org-client.ts';
import type { OrgRegistration } from '../../src/core/vault.ts';
import { generateKeyFileContent } from '../../src/crypto/keys.ts';
import { addOrg } from '../../src/orgs/index.ts';
import { runRestore } from '../../src/restore/index.ts';
import { connectOrg } from '../../src/salesforce/index.ts';
import { initVault, openVault } from '../../src/store/vault.ts';
import type { Vault } from '../../src/store/vault.ts';
import { emulatedOrg, restoreRequest } from '../e2e/fixtures/emulated-org.ts';
import type { EmulatedOrg, Row } from '../e2e/fixtures/emulated-org.ts';

describe('archiving records', () => {
  let emulator: RunningEmulator;
  let dir: string;
  let vault: Vault;
  let org: OrgRegistration;
  let client: OrgClient;
  let sf: EmulatedOrg;

  const now = (): number => emulator.org.clock.nowMs();
  const quoted = (ids: readonly string[]): string => ids.map((id) => `'${id}'`).join(',');
  const ids = (rows: Row[]): string[] => rows.map((r) => String(r.Id)).sort();
  const deletedState = async (object: string, list: readonly string[]): Promise<Map<string, boolean>> =>
    new Map((await sf.queryAll(`SELECT Id, IsDeleted FROM ${object} WHERE Id IN (${quoted(list)})`)).map((r) => [String(r.Id), r.IsDeleted === true]));
  const advance = (seconds: number): Promise<unknown> => sf.admin('POST', '/clock', { advanceSeconds: seconds });
  const backup = async (settings: Record<string, unknown> = {}): Promise<void> => {
    await advance(60);
    const result = await runBackup({ store: vault.store, blobs: vault.blobs, client: await connectOrg(sf.auth), now }, { org, settings: resolveSettings(settings) });
    assert.equal(result.status, 'Succeeded', JSON.stringify(result.objects.filter((o) => o.status === 'Error').slice(0, 3)));
  };
  const request = (over: Partial<ArchiveRequest> & Pick<ArchiveRequest, 'objectName' | 'where'>): ArchiveRequest => ({ org, children: false, childObjects: [], dryRun: false, skipUnsafe: false, actor: 'test', ...over });
  const archive = (over: Partial<ArchiveRequest> & Pick<ArchiveRequest, 'objectName' | 'where'>, withClient: OrgClient = client): Promise<ArchiveReport> =>
    runArchive({ store: vault.store, blobs: vault.blobs, client: withClient, now }, request(over));
  const rowOf = (report: ArchiveReport, recordId: string) => {
    const row = report.results.find((r) => r.recordId === recordId);
    assert.ok(row, `${recordId} is in the report`);
    return row;
  };
  const create = async (object: string, fields: Row): Promise<string> => String((await sf.rest('POST', `/sobjects/${object}`, fields)).id);

  before(async () => {
    emulator = await startEmulator({ profile: 'demo', seed: 5 });
    sf = emulatedOrg(emulator);
    // The demo org's approval locks and validation rules would make deletes fail at random here.
    await sf.admin('DELETE', '/behaviours');
    dir = await mkdtemp(join(tmpdir(), 'orgvault-archive-'));
    const keyFile = Buffer.from(generateKeyFileContent());
    await initVault(join(dir, 'vault'), { keyFile });
    vault = await openVault(join(dir, 'vault'), { keyFile });
    org = (await addOrg({ catalog: vault.store, keyring: vault.keyring, connect: (a) => connectOrg(a) }, 'demo', sf.auth)).registration;
    client = await connectOrg(sf.auth);
    await backup();
  });

  after(async () => {
    await vault?.close();
    await emulator?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('a dry run shows what would go and what would be refused, and deletes nothing', async () => {
    const where = "StageName = 'Closed Lost'";
    const before = ids(await sf.query(`SELECT Id FROM Opportunity WHERE ${where}`));
    const report = await archive({ objectName: 'Opportunity', where, children: true, dryRun: true });
    assert.equal(report.status, 'Succeeded', report.message);
    assert.equal(report.dryRun, true);
    assert.equal(report.selected, before.length);
    assert.equal(report.counts.Deleted, 0);
    assert.ok(report.counts.Ready > before.length, 'children would go too');
    assert.ok(report.objects.some((o) => o.object === 'OpportunityLineItem' && o.counts.Ready > 0), 'line items go with their opportunity');
    assert.deepEqual(ids(await sf.query(`SELECT Id FROM Opportunity WHERE ${where}`)), before, 'nothing was deleted');
    assert.deepEqual(await vault.store.archivedIds(org.orgId), [], 'nothing is marked');
    const run = (await vault.store.getRun(report.runId))!;
    assert.equal(run.kind, 'archive');
    assert.equal(run.counters.ready, report.counts.Ready);
    assert.ok((await vault.store.listAudit()).some((e) => e.action === 'archive.dry-run' && e.details.runId === report.runId));

    const without = await archive({ objectName: 'Opportunity', where, dryRun: true });
    const refused = without.results.filter((r) => r.outcome === 'Refused');
    assert.ok(refused.length > 0 && refused.every((r) => r.statusCode === 'HAS_CHILDREN'), 'without --children, records with children are refused');
    assert.match(refused[0]!.message!, /--children/);
  });

  it('archives accounts with their children: gone from the org, marked, recorded by the next backup, restored by undelete', async () => {
    // Two accounts with contacts (a cascade), opportunities with line items, and cases (a restricted lookup).
    const chosen: string[] = [];
    for (const a of await sf.query('SELECT Id FROM Account ORDER BY Name')) {
      const id = String(a.Id);
      const [contacts, opportunities, cases] = await Promise.all(['Contact', 'Opportunity', 'Case'].map((o) => sf.query(`SELECT Id FROM ${o} WHERE AccountId = '${id}'`)));
      if (contacts!.length && opportunities!.length && cases!.length) chosen.push(id);
      if (chosen.length === 2) break;
    }
    assert.equal(chosen.length, 2);
    const contacts = ids(await sf.query(`SELECT Id FROM Contact WHERE AccountId IN (${quoted(chosen)})`));
    const opportunities = ids(await sf.query(`SELECT Id FROM Opportunity WHERE AccountId IN (${quoted(chosen)})`));
    const cases = ids(await sf.query(`SELECT Id FROM Case WHERE AccountId IN (${quoted(chosen)})`));
    const where = `Id IN (${quoted(chosen)})`;

    // Cases point at their account through a restricted lookup: not taken unless named.
    const blocked = await archive({ objectName: 'Account', where, children: true, dryRun: true });
    assert.equal(rowOf(blocked, chosen[0]!).statusCode, 'DELETE_BLOCKED');
    assert.match(rowOf(blocked, chosen[0]!).message!, /--children Case/);

    const report = await archive({ objectName: 'Account', where, children: true, childObjects: ['Case'] });
    assert.equal(report.status, 'Succeeded', JSON.stringify(report.results.filter((r) => r.outcome !== 'Deleted').slice(0, 3)));
    assert.equal(report.selected, 2);
    for (const id of [...contacts, ...opportunities, ...cases]) assert.equal(rowOf(report, id).outcome, 'Deleted');
    assert.match(rowOf(report, contacts[0]!).message!, /cascade/);
    for (const [object, list] of [['Account', chosen], ['Contact', contacts], ['Opportunity', opportunities], ['Case', cases]] as const) {
      assert.deepEqual([...(await deletedState(object, list)).values()], list.map(() => true), `${object} records are in the Recycle Bin`);
    }
    const marks = await vault.store.archivedRecords(org.orgId, [...chosen, ...contacts, ...cases]);
    assert.equal(marks.size, chosen.length + contacts.length + cases.length);
    assert.ok([...marks.values()].every((m) => m.runId === report.runId && !m.restored));
    assert.ok((await vault.store.listAudit()).some((e) => e.action === 'archive' && e.details.runId === report.runId && e.actor === 'test'));
    const objectRuns = await vault.store.listObjectRuns(report.runId);
    assert.equal(objectRuns.find((o) => o.objectName === 'Account')?.counters.deleted, 2);

    // History and status say so; the next backup records the deletions as deleted versions.
    const history = await recordHistory(vault.store, org, chosen[0]!);
    assert.equal(history.archived?.runId, report.runId);
    assert.equal(history.archived?.restored, false);
    await backup();
    const versions = await vault.store.versionsOf(org.orgId, chosen[0]!);
    assert.equal(versions[0]!.changeType, 'deleted');
    assert.equal(versions[0]!.isDeleted, true);
    const status = await statusReport(vault.store, org);
    assert.equal(status.objects.find((o) => o.name === 'Account')?.archived, 2);
    assert.ok(status.totals.archived >= chosen.length + contacts.length + cases.length);

    // Restored like any deleted record: undeleted from the Recycle Bin, children with them.
    const restoreIds = await archivedIdsFor(vault.store, org.orgId, 'Account', report.runId);
    assert.deepEqual(restoreIds, [...chosen].sort());
    const restored = await runRestore({ store: vault.store, blobs: vault.blobs, client, now }, restoreRequest(org, { selection: { objectName: 'Account', recordIds: restoreIds }, children: 2 }));
    assert.equal(restored.counts.Failed, 0, JSON.stringify(restored.results.filter((r) => r.outcome === 'Failed').slice(0, 3)));
    assert.equal(restoreOutcome(restored, chosen[0]!), 'Undeleted');
    for (const [object, list] of [['Account', chosen], ['Contact', contacts], ['Opportunity', opportunities]] as const) {
      assert.deepEqual([...(await deletedState(object, list)).values()], list.map(() => false), `${object} records are live again`);
    }
    await backup();
    assert.equal((await vault.store.archivedRecords(org.orgId, chosen)).get(chosen[0]!)?.restored, true);
    assert.equal((await statusReport(vault.store, org)).objects.find((o) => o.name === 'Account')?.archived, 0);
  });

  it('refuses records changed since the backup or never backed up; holds the others back unless --skip-unsafe', async () => {
    const leads = [];
    for (let i = 0; i < 3; i++) leads.push(await create('Lead', { LastName: `Archive Lead ${i}`, Company: 'Archive Co' }));
    await backup();
    await advance(5);
    await sf.rest('PATCH', `/sobjects/Lead/${leads[1]}`, { Title: 'Changed after the backup' });
    const fresh = await create('Lead', { LastName: 'Archive Lead new', Company: 'Archive Co' });
    const where = "Company = 'Archive Co'";

    const held = await archive({ objectName: 'Lead', where });
    assert.equal(held.status, 'CompletedWithErrors');
    assert.equal(rowOf(held, leads[1]!).statusCode, 'CHANGED_SINCE_BACKUP');
    assert.match(rowOf(held, leads[1]!).message!, /run a backup first/);
    assert.equal(rowOf(held, fresh).statusCode, 'NOT_BACKED_UP');
    assert.equal(rowOf(held, leads[0]!).outcome, 'Skipped');
    assert.equal(rowOf(held, leads[0]!).statusCode, 'ARCHIVE_HELD');
    assert.deepEqual([...(await deletedState('Lead', [...leads, fresh])).values()], [false, false, false, false], 'nothing was deleted');

    const skipping = await archive({ objectName: 'Lead', where, skipUnsafe: true });
    assert.equal(skipping.counts.Deleted, 2);
    assert.equal(skipping.counts.Refused, 2);
    const state = await deletedState('Lead', [...leads, fresh]);
    assert.deepEqual([state.get(leads[0]!), state.get(leads[1]!), state.get(leads[2]!), state.get(fresh)], [true, false, true, false], 'the refused ones stay in the org');
    assert.deepEqual(await vault.store.archivedIds(org.orgId, { runId: skipping.runId }), [leads[0]!, leads[2]!].sort());
  });

  it("refuses a record whose files the vault lacks, and archives it once they are backed up; the file itself stays", async () => {
    const account = await create('Account', { Name: 'Archive Files Co' });
    const attachment = await create('Attachment', { ParentId: account, Name: 'terms.txt', Body: Buffer.from('the terms').toString('base64') });
    const version = await create('ContentVersion', { Title: 'Plan', PathOnClient: 'plan.txt', VersionData: Buffer.from('the plan').toString('base64'), FirstPublishLocationId: account });
    const [{ ContentDocumentId: document }] = (await sf.query(`SELECT ContentDocumentId FROM ContentVersion WHERE Id = '${version}'`)) as [{ ContentDocumentId: string }];
    await backup({ mode: 'objects-only' });
    const where = `Id = '${account}'`;

    const refused = await archive({ objectName: 'Account', where, children: true, dryRun: true });
    assert.equal(rowOf(refused, attachment).statusCode, 'FILE_NOT_IN_VAULT');
    const link = refused.results.find((r) => r.object === 'ContentDocumentLink');
    assert.equal(link?.statusCode, 'FILE_NOT_IN_VAULT');
    assert.match(link!.message!, new RegExp(document));
    assert.equal(rowOf(refused, account).outcome, 'Refused');

    await backup();
    const report = await archive({ objectName: 'Account', where, children: true });
    assert.equal(report.status, 'Succeeded', JSON.stringify(report.results.filter((r) => r.outcome !== 'Deleted')));
    assert.equal(rowOf(report, attachment).outcome, 'Deleted');
    assert.equal((await deletedState('Account', [account])).get(account), true);
    assert.equal((await sf.query(`SELECT Id FROM ContentDocument WHERE Id = '${document}'`)).length, 1, 'the file stays in Salesforce');
  });

  it("reports Salesforce's refusals per record; a child that fails keeps its parent in the org", async () => {
    const leads = [];
    for (let i = 0; i < 3; i++) leads.push(await create('Lead', { LastName: `Refused Lead ${i}`, Company: 'Refusing Co' }));
    const account = await create('Account', { Name: 'Archive Locked Case Co' });
    const lockedCase = await create('Case', { Subject: 'Locked by approval', AccountId: account });
    await backup();
    await sf.admin('POST', '/behaviours', [
      { kind: 'sharing', object: 'Lead', name: 'Archive_Private_Lead', recordIds: [leads[0]] },
      { kind: 'approvalLock', object: 'Case', name: 'Archive_Case_Lock', recordIds: [lockedCase] },
    ]);
    try {
      const report = await archive({ objectName: 'Lead', where: "Company = 'Refusing Co'" });
      assert.equal(report.status, 'CompletedWithErrors');
      assert.equal(rowOf(report, leads[0]!).outcome, 'Failed');
      assert.equal(rowOf(report, leads[0]!).statusCode, 'INSUFFICIENT_ACCESS_OR_READONLY');
      assert.match(rowOf(report, leads[0]!).fix!, /Delete/);
      assert.equal(rowOf(report, leads[1]!).outcome, 'Deleted');
      assert.deepEqual([...(await deletedState('Lead', leads)).values()], [false, true, true]);
      assert.equal((await vault.store.listObjectRuns(report.runId)).find((o) => o.objectName === 'Lead')?.statusCode, 'INSUFFICIENT_ACCESS_OR_READONLY');
      assert.equal((await vault.store.archivedRecords(org.orgId, [leads[0]!])).size, 0, 'a record that failed is not marked');

      const hierarchy = await archive({ objectName: 'Account', where: `Id = '${account}'`, children: true, childObjects: ['Case'] });
      assert.equal(rowOf(hierarchy, lockedCase).statusCode, 'ENTITY_IS_LOCKED');
      assert.equal(rowOf(hierarchy, account).outcome, 'Skipped');
      assert.equal(rowOf(hierarchy, account).statusCode, 'CHILD_NOT_DELETED');
      assert.equal((await deletedState('Account', [account])).get(account), false, 'the account stays with its case');
    } finally {
      await sf.admin('DELETE', '/behaviours');
    }
  });

  it('resumes an archive interrupted after Salesforce deleted a batch: settled against the org, nothing twice', async () => {
    const account = await create('Account', { Name: 'Archive Interrupted Co' });
    const cases = [await create('Case', { Subject: 'One', AccountId: account }), await create('Case', { Subject: 'Two', AccountId: account })];
    await backup();
    // The first delete call reaches Salesforce, then the connection is lost before its answer.
    let cut = false;
    const flaky: OrgClient = {
      ...client,
      deleteRecords: async (list) => {
        const answer = await client.deleteRecords(list);
        if (cut) return answer;
        cut = true;
        throw new SalesforceApiError('CONNECTION_ERROR', 'The connection was reset before Salesforce answered.');
      },
      usage: () => client.usage(),
    };
    const where = `Id = '${account}'`;
    await assert.rejects(archive({ objectName: 'Account', where, children: true, childObjects: ['Case'] }, flaky), /CONNECTION_ERROR/);
    const run = (await vault.store.listRuns({ orgId: org.orgId, kind: 'archive', limit: 1 }))[0]!;
    assert.equal(run.status, 'Failed');
    assert.match(run.message!, /--resume/);
    const open = (await vault.store.archiveSteps(run.runId)).filter((s) => s.completedAt === null);
    assert.deepEqual(open.map((s) => [s.objectName, s.records.map((r) => r.recordId).sort()]), [['Case', [...cases].sort()]], 'the step sent is journaled, not completed');
    assert.deepEqual([...(await deletedState('Case', cases)).values()], [true, true]);
    assert.equal((await deletedState('Account', [account])).get(account), false);

    const report = await resumeArchive({ store: vault.store, blobs: vault.blobs, client, now }, run.runId, org, 'test');
    assert.equal(report.runId, run.runId);
    assert.equal(report.status, 'Succeeded', JSON.stringify(report.results));
    assert.deepEqual(report.results.map((r) => [r.recordId, r.outcome]).sort(), [[account, 'Deleted'], ...cases.map((id) => [id, 'Deleted'])].sort());
    assert.match(rowOf(report, cases[0]!).message!, /on resume/);
    assert.equal((await deletedState('Account', [account])).get(account), true);
    assert.equal((await vault.store.archivedIds(org.orgId, { runId: run.runId })).length, 3);
    await assert.rejects(resumeArchive({ store: vault.store, blobs: vault.blobs, client, now }, run.runId, org, 'test'), /already finished/);
  });
});

function restoreOutcome(report: { results: { originalId: string; outcome: string }[] }, id: string): string | undefined {
  return report.results.find((r) => r.originalId === id)?.outcome;
}
