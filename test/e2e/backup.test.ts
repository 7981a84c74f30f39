// The backup engine end to end against the emulator over HTTP: a backfill and increments leave a
// vault equal to the org, object by object and field by field, with deletes, undeletes, hard
// deletes and files; exclusions hold; unsupported objects say why; a quiet run costs few calls.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startEmulator } from '../../emulator/index.ts';
import type { RunningEmulator } from '../../emulator/index.ts';
import type { OrgChange } from '../../emulator/org/org.ts';
import { resolveSettings, runBackup, statusReport } from '../../src/backup/index.ts';
import type { BackupResult, BackupSettings } from '../../src/backup/index.ts';
import type { OrgClient, SObjectRecord } from '../../src/core/org-client.ts';
import type { OrgRegistration } from '../../src/core/vault.ts';
import type { RecordHead } from '../../src/store/port.ts';
import { generateKeyFileContent } from '../../src/crypto/keys.ts';
import { connectOrg } from '../../src/salesforce/index.ts';
import { initVault, openVault } from '../../src/store/vault.ts';
import type { Vault } from '../../src/store/vault.ts';

interface Setup {
  emulator: RunningEmulator;
  vault: Vault;
  dir: string;
  org: OrgRegistration;
  connect(): Promise<OrgClient>;
  backup(settings?: Partial<BackupSettings>, extra?: { objects?: string[]; reconcile?: boolean }): Promise<BackupResult>;
  admin(path: string, body?: unknown): Promise<unknown>;
  close(): Promise<void>;
}

async function setUp(seed: number): Promise<Setup> {
  const emulator = await startEmulator({ profile: 'demo', seed });
  const dir = await mkdtemp(join(tmpdir(), 'orgvault-backup-'));
  const keyFile = Buffer.from(generateKeyFileContent());
  await initVault(join(dir, 'vault'), { keyFile });
  const vault = await openVault(join(dir, 'vault'), { keyFile });
  const { info } = emulator;
  const auth = { kind: 'password' as const, loginUrl: info.loginUrl, clientId: info.clientId, clientSecret: info.clientSecret, username: info.username, password: info.password };
  const org: OrgRegistration = { name: 'demo', orgId: info.orgId, instanceUrl: info.instanceUrl, loginUrl: info.loginUrl, sealedAuth: new Uint8Array(1), createdAt: Date.now(), settings: {} };
  const connect = (): Promise<OrgClient> => connectOrg(auth, { retry: { attempts: 4, baseDelayMs: 5, maxDelayMs: 20 } });
  return {
    emulator,
    vault,
    dir,
    org,
    connect,
    async backup(settings = {}, extra = {}) {
      // The org's clock, which tests move: getDeleted windows are read against it.
      return runBackup({ store: vault.store, blobs: vault.blobs, client: await connect(), now: () => emulator.org.clock.nowMs() }, { org, settings: resolveSettings(settings), ...extra });
    },
    async admin(path, body) {
      const response = await fetch(`${info.loginUrl}/__emulator/${path}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${info.adminToken}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(body ?? {}),
      });
      assert.ok(response.ok, `${path}: ${response.status} ${await response.clone().text()}`);
      return response.json();
    },
    async close() {
      await vault.close();
      await emulator.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Field types a capture stores as seen but that may change without SystemModstamp moving. */
const SKIPPED_TYPES = new Set(['address', 'location', 'base64']);
const SYSTEM_FIELDS = new Set(['Id', 'IsDeleted', 'CreatedDate', 'CreatedById', 'LastModifiedDate', 'LastModifiedById', 'SystemModstamp']);

/**
 * Asserts that the vault's latest version of every record of `objectName` equals the org's record
 * (queried with queryAll), field by field, and that every live record in the vault is in the org.
 */
async function assertVaultEqualsOrg(client: OrgClient, vault: Vault, orgId: string, objectName: string): Promise<number> {
  const description = await client.describeObject(objectName);
  // Formulas and fields Salesforce derives from other records (CampaignMember.Title from the
  // contact) change without SystemModstamp moving: a capture stores them as seen, so they may lag.
  const fields = description.fields.filter((f) => !SKIPPED_TYPES.has(f.type) && !f.calculated && (f.createable || f.updateable || SYSTEM_FIELDS.has(f.name)));
  const inOrg = new Map<string, SObjectRecord>();
  for await (const page of client.query(`SELECT ${fields.map((f) => f.name).join(', ')} FROM ${objectName}`, { includeDeleted: true })) {
    for (const record of page) inOrg.set(String(record.Id), record);
  }
  const inVault = new Map<string, SObjectRecord>();
  for await (const version of vault.store.latestVersions(orgId, objectName, { includeDeleted: true })) inVault.set(version.recordId, version.fields);
  for (const [id, record] of inOrg) {
    const stored = inVault.get(id);
    assert.ok(stored, `${objectName} ${id} is in the org but not in the vault`);
    for (const field of fields) assert.deepEqual(stored[field.name], record[field.name], `${objectName} ${id}.${field.name}`);
  }
  for (const [id, stored] of inVault) {
    if (stored.IsDeleted === true) continue;
    assert.ok(inOrg.has(id), `${objectName} ${id} is live in the vault but gone from the org`);
  }
  return inOrg.size;
}

describe('backup end to end', () => {
  let s: Setup;
  let full: BackupResult;
  const captured = (result: BackupResult): string[] => result.objects.filter((o) => o.api !== null).map((o) => o.name);

  before(async () => {
    s = await setUp(7);
    full = await s.backup();
  });
  after(async () => s.close());

  it('backfills every visible object and says why the others were not backed up', async () => {
    assert.equal(full.status, 'Succeeded', JSON.stringify(full.objects.filter((o) => o.status === 'Error')));
    const byName = new Map(full.objects.map((o) => [o.name, o]));
    for (const name of ['Account', 'Contact', 'Opportunity', 'Case', 'Task', 'Invoice__c', 'Invoice_Line__c', 'ContentVersion', 'Attachment', 'Document']) {
      assert.equal(byName.get(name)?.status, 'Waiting', name);
      assert.ok((byName.get(name)?.versions ?? 0) > 0, `${name} has versions`);
    }
    assert.equal(byName.get('Customer_Interaction__b')?.status, 'Unsupported');
    assert.match(byName.get('Customer_Interaction__b')?.message ?? '', /big object/);
    assert.equal(byName.get('LoginHistory')?.status, 'Unsupported');
    assert.match(byName.get('LoginHistory')?.message ?? '', /SystemModstamp/);
    assert.ok(full.apiCalls > 0 && full.apiCalls === full.counters.apiCalls);
    const perObject = full.objects.reduce((n, o) => n + o.apiCalls, 0);
    assert.ok(perObject <= full.apiCalls, `objects ${perObject} ≤ run ${full.apiCalls}`);

    const client = await s.connect();
    for (const name of captured(full)) await assertVaultEqualsOrg(client, s.vault, s.org.orgId, name);
    // The run ends with every version it stored in the search index.
    const index = await s.vault.store.searchIndexStats();
    assert.equal(index.pendingVersions, 0);
    assert.ok(index.records > 0);
  });

  it('stores file bodies once, streamed, equal to the org', async () => {
    const client = await s.connect();
    let checked = 0;
    for (const [objectName, field] of [['ContentVersion', 'VersionData'], ['Attachment', 'Body'], ['Document', 'Body']] as const) {
      for await (const page of client.query(`SELECT Id FROM ${objectName}`)) {
        for (const record of page) {
          const files = await s.vault.store.filesOf(s.org.orgId, String(record.Id));
          const file = files.find((f) => f.field === field);
          assert.ok(file, `${objectName} ${String(record.Id)} has its body`);
          const fromOrg: Buffer[] = [];
          for await (const chunk of client.downloadBody(objectName, String(record.Id), field)) fromOrg.push(Buffer.from(chunk));
          const fromVault: Buffer[] = [];
          for await (const chunk of s.vault.blobs.get(file.address)) fromVault.push(chunk);
          assert.ok(Buffer.concat(fromVault).equals(Buffer.concat(fromOrg)), `${objectName} ${String(record.Id)} body`);
          checked++;
        }
      }
    }
    assert.ok(checked > 20);
  });

  it('captures a day of activity: edits, same-millisecond bulk updates, deletes, undeletes, hard deletes', async () => {
    const changes: OrgChange[] = [];
    s.emulator.org.onChange((batch) => changes.push(...batch));
    await s.admin('activity', { changes: 300, seed: 'day-1' });
    // A hard delete the Recycle Bin never shows to queryAll: only getDeleted tells.
    const client = await s.connect();
    const [contact] = (await firstPage(client, "SELECT Id FROM Contact WHERE IsDeleted = false ORDER BY Id LIMIT 1"));
    await deleteRecord(s.emulator, 'Contact', String(contact!.Id));
    await s.admin(`records/${String(contact!.Id)}/purge`);
    // What the vault held of each changed record before this run decides how its change reads.
    const before = new Map<string, RecordHead>();
    const idsByObject = new Map<string, string[]>();
    for (const change of changes) idsByObject.set(change.object, [...(idsByObject.get(change.object) ?? []), change.recordId]);
    for (const [objectName, ids] of idsByObject) for (const [id, head] of await s.vault.store.headsOf(s.org.orgId, objectName, ids)) before.set(id, head);
    // getDeleted counts whole minutes: the deletes are reported once their minute is over.
    await s.admin('clock', { advanceSeconds: 120 });
    const run = await s.backup({ deletedCheckIntervalMs: 0 });
    assert.equal(run.status, 'Succeeded', JSON.stringify(run.objects.filter((o) => o.status !== 'Waiting' && o.api !== null)));
    for (const name of captured(full)) await assertVaultEqualsOrg(client, s.vault, s.org.orgId, name);

    const latest = async (id: string) => (await s.vault.store.versionsOf(s.org.orgId, id))[0];
    const purged = await latest(String(contact!.Id));
    assert.equal(purged?.isDeleted, true);
    assert.equal(purged?.changeType, 'deleted');

    // Each kind of change is stored as its kind, at its SystemModstamp.
    const lastChange = new Map<string, OrgChange>();
    for (const change of changes) lastChange.set(change.recordId, change);
    const seen = new Set<string>();
    // A record created during the day is first seen in its latest state: stored as created when
    // it was never edited since, as updated otherwise.
    const createdToday = new Set(changes.filter((c) => c.changeType === 'CREATE').map((c) => c.recordId));
    for (const change of lastChange.values()) {
      if (change.recordId === contact!.Id) continue;
      const state = await s.vault.store.getObjectState(s.org.orgId, change.object);
      if (!state || state.status !== 'Waiting') continue;
      const version = await latest(change.recordId);
      assert.ok(version, `${change.object} ${change.recordId} (${change.changeType}) is in the vault`);
      assert.equal(version.systemModstamp, change.stampMs, `${change.recordId} stamp`);
      if (!createdToday.has(change.recordId)) {
        const wasDeleted = before.get(change.recordId)?.isDeleted === true;
        const expected = change.record.IsDeleted === true ? (wasDeleted ? 'updated' : 'deleted') : wasDeleted ? 'undeleted' : 'updated';
        assert.equal(version.changeType, expected, `${change.object} ${change.recordId}: ${change.changeType}, deleted before: ${wasDeleted}`);
      }
      seen.add(change.changeType);
    }
    assert.deepEqual([...seen].sort(), ['CREATE', 'DELETE', 'UNDELETE', 'UPDATE']);
    // A bulk update: several records share one SystemModstamp, and each has its version.
    const byStamp = new Map<number, number>();
    for (const change of lastChange.values()) if (change.changeType === 'UPDATE') byStamp.set(change.stampMs, (byStamp.get(change.stampMs) ?? 0) + 1);
    assert.ok([...byStamp.values()].some((n) => n >= 3), 'a burst of updates shares a stamp');
  });

  it('keeps a record live that was deleted and undeleted between two runs', async () => {
    const client = await s.connect();
    const [lead] = await firstPage(client, 'SELECT Id, LastModifiedById FROM Lead WHERE IsDeleted = false ORDER BY Id LIMIT 1');
    const id = String(lead!.Id);
    const options = { userId: String(lead!.LastModifiedById), system: true };
    s.emulator.org.delete(id, options);
    await s.admin('clock', { advanceSeconds: 5 });
    s.emulator.org.undelete(id, options);
    // The delete's minute is over, so getDeleted reports it; the record is back all the same.
    await s.admin('clock', { advanceSeconds: 120 });
    const run = await s.backup({ deletedCheckIntervalMs: 0 });
    assert.equal(run.status, 'Succeeded');
    const [latest] = await s.vault.store.versionsOf(s.org.orgId, id);
    assert.equal(latest?.isDeleted, false);
    assert.equal(latest?.fields.IsDeleted, false);
    await assertVaultEqualsOrg(client, s.vault, s.org.orgId, 'Lead');
  });

  it('a run with nothing new costs at most one API call per five objects, plus one', async () => {
    const statistics = async (): Promise<Record<string, number>> => {
      const response = await fetch(`${s.emulator.info.loginUrl}/__emulator/statistics`, { headers: { Authorization: `Bearer ${s.emulator.info.adminToken}` } });
      return ((await response.json()) as { byEndpoint: Record<string, number> }).byEndpoint;
    };
    const before = await statistics();
    const run = await s.backup();
    const afterwards = await statistics();
    const calls = Object.fromEntries(Object.entries(afterwards).map(([k, v]) => [k, v - (before[k] ?? 0)]).filter(([, v]) => Number(v) > 0));
    const checked = run.objects.filter((o) => o.status === 'Waiting').length;
    assert.ok(checked >= 20, `objects checked: ${checked}`);
    assert.equal(run.counters.versions, 0);
    assert.ok(run.apiCalls <= Math.ceil(checked / 5) + 1, `${run.apiCalls} calls for ${checked} objects: ${JSON.stringify(calls)}`);
    // Counted as Salesforce counts them.
    assert.equal(Object.values(calls).reduce((a: number, b) => a + Number(b), 0), run.apiCalls);
  });

  it('reports the org as caught up, with totals', async () => {
    const report = await statusReport(s.vault.store, s.org);
    assert.equal(report.status, 'Running Continuously');
    assert.ok(report.totals.records > 9000 && report.totals.versions > report.totals.records);
    assert.ok(report.totals.files > 20 && report.totals.fileBytes > 1_000_000);
    assert.equal(report.objects.find((o) => o.name === 'Account')?.status, 'Waiting');
  });
});

describe('backup scope', () => {
  let s: Setup;
  before(async () => {
    s = await setUp(3);
  });
  after(async () => s.close());

  it('a search index that cannot catch up costs the backup nothing: the run succeeds, says so, and the index is left for the next catch-up', async () => {
    const notices: string[] = [];
    const store = { ...s.vault.store, catchUpSearchIndex: () => Promise.reject(new Error('disk full')) };
    const run = await runBackup(
      { store, blobs: s.vault.blobs, client: await s.connect(), now: () => s.emulator.org.clock.nowMs(), onEvent: (e) => e.type === 'notice' && notices.push(e.message) },
      { org: s.org, settings: resolveSettings({ includeHistory: false }), objects: ['Account', 'Contact'] },
    );
    assert.equal(run.status, 'Succeeded');
    assert.ok(run.counters.versions! > 0);
    assert.ok(notices.some((n) => /search index was not brought up to date \(disk full\)/.test(n)), notices.join('\n'));
    assert.equal((await s.vault.store.searchIndexStats()).pendingVersions, run.counters.versions);
    assert.deepEqual(await s.vault.store.catchUpSearchIndex(), { versions: run.counters.versions });
  });

  it('holds exclusions and toggles, and skips file bodies in objects-only mode', async () => {
    const run = await s.backup({ exclude: ['Lead', 'Task'], includeHistory: false, mode: 'objects-only' });
    const byName = new Map(run.objects.map((o) => [o.name, o]));
    assert.equal(byName.get('Lead')?.status, 'Excluded');
    assert.equal(byName.get('Task')?.status, 'Excluded');
    assert.deepEqual(await s.vault.store.countVersions(s.org.orgId, 'Lead'), { records: 0, versions: 0 });
    for (const o of run.objects) if (o.name.endsWith('Share') || o.name.endsWith('Feed') || o.name.endsWith('History')) assert.equal(o.status, 'Excluded', o.name);
    assert.equal(byName.get('ContentVersion')?.status, 'Waiting');
    assert.deepEqual(await s.vault.store.countFiles(s.org.orgId), { files: 0, bytes: 0 });
    // Files wanted again: the bodies skipped meanwhile are fetched, with nothing new in the org.
    const resumed = await s.backup({ exclude: ['Lead', 'Task'], includeHistory: false });
    assert.equal(resumed.status, 'Succeeded');
    const client = await s.connect();
    let live = 0;
    for (const objectName of ['ContentVersion', 'Attachment', 'Document']) for await (const page of client.query(`SELECT Id FROM ${objectName}`)) live += page.length;
    assert.equal((await s.vault.store.countFiles(s.org.orgId)).files, live);
    const again = await s.backup({ exclude: ['Lead', 'Task'], includeHistory: false });
    assert.equal(again.counters.files, 0);
  });

  it('backs up only the objects named, and reports a name the org does not show as NOT_VISIBLE', async () => {
    const run = await s.backup({}, { objects: ['Account', 'Nope__c'] });
    assert.deepEqual(run.objects.map((o) => [o.name, o.status, o.statusCode]), [['Account', 'Waiting', null], ['Nope__c', 'NotVisible', 'NOT_VISIBLE']]);
    assert.equal(run.status, 'CompletedWithErrors');
  });

  it('marks an object the API user lost access to as Unavailable, keeping its data', async () => {
    await s.backup({}, { objects: ['Campaign'] });
    const before = await s.vault.store.countVersions(s.org.orgId, 'Campaign');
    assert.ok(before.versions > 0);
    await s.admin('permissions', { object: 'Campaign', read: false });
    const run = await s.backup({}, { objects: ['Campaign'] });
    assert.equal(run.objects[0]?.status, 'Unavailable');
    assert.equal(run.objects[0]?.statusCode, 'NOT_VISIBLE');
    assert.deepEqual(await s.vault.store.countVersions(s.org.orgId, 'Campaign'), before);
    await s.admin('permissions', { object: 'Campaign', read: true });
  });
});

/** Deletes a record through the REST API, as a user would. */
async function deleteRecord(emulator: RunningEmulator, objectName: string, id: string): Promise<void> {
  const { info } = emulator;
  const login = await fetch(`${info.loginUrl}/services/oauth2/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'password', client_id: info.clientId, client_secret: info.clientSecret, username: info.username, password: info.password }),
  });
  const { access_token: token } = (await login.json()) as { access_token: string };
  const response = await fetch(`${info.instanceUrl}/services/data/v62.0/sobjects/${objectName}/${id}`, { method: 'DELETE', headers: { Authorization: `Bearer ${token}` } });
  assert.equal(response.status, 204, await response.text());
}

async function firstPage(client: OrgClient, soql: string): Promise<SObjectRecord[]> {
  for await (const page of client.query(soql)) return page;
  return [];
}
