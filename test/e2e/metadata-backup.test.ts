// Metadata backup against the emulator over HTTP: a backup job stores every component's files in
// source format; after a field, a picklist, a validation rule and an Apex class change through the
// emulator's admin API, the next backup stores new versions of those only (the rest deduplicated,
// as the counts show); history lists both versions; exclusions by type hold; a metadata failure
// leaves the data backup stored; and the CLI's `metadata backup`, `list` and `history`.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startEmulator } from '../../emulator/index.ts';
import type { RunningEmulator } from '../../emulator/index.ts';
import { resolveSettings, runBackup } from '../../src/backup/index.ts';
import type { BackupResult } from '../../src/backup/index.ts';
import { componentKey } from '../../src/core/metadata.ts';
import type { OrgClient } from '../../src/core/org-client.ts';
import type { OrgRegistration } from '../../src/core/vault.ts';
import { generateKeyFileContent } from '../../src/crypto/keys.ts';
import { readLiveMetadata, runMetadataBackup } from '../../src/metadata/backup.ts';
import { componentHistory, metadataInventory } from '../../src/metadata/read-model.ts';
import { metadataSettings, updateMetadataSettings } from '../../src/metadata/settings.ts';
import { connectOrg } from '../../src/salesforce/index.ts';
import { initVault, openVault } from '../../src/store/vault.ts';
import type { Vault } from '../../src/store/vault.ts';
import { jsonOf, runCli } from './fixtures/cli-runner.ts';
import { emulatedOrg } from './fixtures/emulated-org.ts';

const NEW_CLASS_BODY = 'public with sharing class InvoiceService {\n    public static Integer version() { return 2; }\n}\n';

describe('metadata backup', () => {
  let emulator: RunningEmulator;
  let dir: string;
  let vault: Vault;
  let org: OrgRegistration;
  let connect: () => Promise<OrgClient>;
  let first: BackupResult;
  let second: BackupResult;

  const backup = async (over: Partial<OrgRegistration> = {}): Promise<BackupResult> =>
    runBackup({ store: vault.store, blobs: vault.blobs, client: await connect(), now: () => emulator.org.clock.nowMs() }, { org: { ...org, ...over }, settings: resolveSettings({}), objects: ['Account'] });
  const admin = (body: unknown): Promise<unknown> => emulatedOrg(emulator).admin('POST', '/metadata', body);

  before(async () => {
    emulator = await startEmulator({ profile: 'demo', seed: 41 });
    dir = await mkdtemp(join(tmpdir(), 'orgvault-metadata-'));
    const keyFile = Buffer.from(generateKeyFileContent());
    await initVault(join(dir, 'vault'), { keyFile });
    vault = await openVault(join(dir, 'vault'), { keyFile });
    const { info } = emulator;
    // Every job captures metadata here; the hourly default is tested on its own.
    org = { name: 'demo', orgId: info.orgId, instanceUrl: info.instanceUrl, loginUrl: info.loginUrl, sealedAuth: new Uint8Array(1), createdAt: Date.now(), settings: { metadata: { minIntervalMinutes: 0 } } };
    await vault.store.putOrg(org);
    const auth = emulatedOrg(emulator).auth;
    connect = () => connectOrg(auth, { retry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 20 } });
  });
  after(async () => {
    await vault?.close();
    await emulator?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('a backup job stores the metadata of every type, each component in source format', async () => {
    first = await backup();
    assert.equal(first.status, 'Succeeded', first.message ?? '');
    const { metadataComponents, metadataChanged, metadataDeleted } = first.counters;
    assert.ok(metadataComponents! > 50, `components: ${metadataComponents}`);
    // A first backup stores every component listed.
    assert.equal(metadataChanged, metadataComponents);
    assert.equal(metadataDeleted, 0);
    const heads = await vault.store.metadataHeads(org.orgId);
    assert.equal(heads.length, metadataComponents);
    assert.ok(heads.every((h) => h.runId === first.runId && h.contentId !== null));
    const types = new Set(heads.map((h) => h.type));
    for (const type of ['CustomObject', 'CustomField', 'ValidationRule', 'RecordType', 'Layout', 'Profile', 'ApexClass', 'ApexTrigger']) assert.ok(types.has(type), `${type} is backed up`);
    // Types kept in folders too, with their folders (metadata-folders.test.ts has the rest).
    for (const type of ['Report', 'ReportFolder', 'Dashboard', 'DashboardFolder', 'Document', 'DocumentFolder', 'EmailTemplate', 'EmailFolder']) assert.ok(types.has(type), `${type} is backed up`);

    const files = async (type: string, fullName: string): Promise<Record<string, string>> => {
      const head = heads.find((h) => h.type === type && h.fullName === fullName);
      assert.ok(head, `${type}:${fullName} is stored`);
      return (await vault.store.readMetadataFiles(org.orgId, head.contentId!))!;
    };
    const apex = await files('ApexClass', 'InvoiceService');
    assert.deepEqual(Object.keys(apex).sort(), ['classes/InvoiceService.cls', 'classes/InvoiceService.cls-meta.xml']);
    assert.match(apex['classes/InvoiceService.cls']!, /class InvoiceService/);
    const rule = await files('ValidationRule', 'Account.Phone_Required_For_Customers');
    assert.deepEqual(Object.keys(rule), ['objects/Account/validationRules/Phone_Required_For_Customers.validationRule-meta.xml']);
    assert.match(Object.values(rule)[0]!, /^<\?xml[^\n]*\n<ValidationRule xmlns="http:\/\/soap.sforce.com\/2006\/04\/metadata">\n {4}<fullName>Phone_Required_For_Customers<\/fullName>/);
    // The object keeps what is not a component of its own (standard fields), not its custom fields or rules.
    const account = await files('CustomObject', 'Account');
    assert.ok(account['objects/Account/Account.object-meta.xml']!.includes('<sharingModel>'));
    assert.doesNotMatch(account['objects/Account/Account.object-meta.xml']!, /<fields>|<validationRules>/);
    assert.ok(Object.keys(account).some((p) => p.startsWith('objects/Account/fields/') && !p.includes('__c')));
    assert.ok(!Object.keys(account).some((p) => p.endsWith('__c.field-meta.xml')));
    const profile = heads.find((h) => h.type === 'Profile' && h.fullName === 'Admin');
    assert.ok(profile);
    assert.match(JSON.stringify(await vault.store.readMetadataFiles(org.orgId, profile.contentId!)), /fieldPermissions/);

    assert.equal((await vault.store.metadataRuns(org.orgId))[0]?.runId, first.runId);
    const run = await vault.store.getRun(first.runId);
    assert.equal(run?.counters.metadataComponents, metadataComponents);
    // The Metadata API's calls are the run's calls too.
    assert.ok(first.counters.metadataApiCalls! > 0 && first.apiCalls === first.counters.apiCalls);
    assert.ok(first.objects.reduce((n, o) => n + o.apiCalls, 0) + first.counters.metadataApiCalls! <= first.apiCalls);
  });

  it('a backup job captures metadata again only when the last capture is older than the interval (an hour by default)', async () => {
    const hourly = { settings: {} };
    const soon = await backup(hourly);
    assert.equal(soon.status, 'Succeeded');
    assert.equal(soon.counters.metadataComponents, undefined);
    assert.equal((await vault.store.metadataRuns(org.orgId)).length, 1);
    await emulatedOrg(emulator).admin('POST', '/clock', { advanceSeconds: 61 * 60 });
    const later = await backup(hourly);
    assert.equal(later.counters.metadataComponents, first.counters.metadataComponents);
    assert.equal(later.counters.metadataChanged, 0);
    assert.equal((await vault.store.metadataRuns(org.orgId))[0]?.runId, later.runId);
  });

  it('a second backup stores new versions only of the field, picklist, validation rule and class that changed', async () => {
    await admin({ op: 'addField', object: 'Account', field: { fullName: 'Backup_Tier__c', type: 'Text', length: 40, label: 'Backup Tier' } });
    await admin({ op: 'setPicklistValues', object: 'Invoice__c', field: 'Status__c', values: ['Draft', 'Sent', 'Paid', 'Written_Off'] });
    await admin({
      op: 'upsertValidationRule',
      object: 'Account',
      rule: { fullName: 'Phone_Required_For_Customers', active: false, errorConditionFormula: 'AND(BEGINS(TEXT(Type), "Customer"), ISBLANK(Phone))', errorMessage: 'Customer accounts need a phone number.', errorDisplayField: 'Phone' },
    });
    await admin({ op: 'upsertApexClass', name: 'InvoiceService', body: NEW_CLASS_BODY });

    second = await backup();
    assert.equal(second.status, 'Succeeded', second.message ?? '');
    const stored = (await vault.store.metadataHeads(org.orgId, { includeDeleted: true })).filter((h) => h.runId === second.runId).map(componentKey).sort();
    const expected = ['ApexClass:InvoiceService', 'CustomField:Account.Backup_Tier__c', 'CustomField:Invoice__c.Status__c', 'ValidationRule:Account.Phone_Required_For_Customers'];
    // A new field shows in the profiles that grant access to it: those versions are real changes too.
    assert.deepEqual(stored.filter((k) => !k.startsWith('Profile:')), expected);
    const profiles = stored.filter((k) => k.startsWith('Profile:'));
    for (const key of profiles) {
      const [now, before] = await vault.store.metadataHistory(org.orgId, 'Profile', key.slice('Profile:'.length));
      const [a, b] = [await vault.store.readMetadataFiles(org.orgId, now!.contentId!), await vault.store.readMetadataFiles(org.orgId, before!.contentId!)];
      assert.match(JSON.stringify(a), /Backup_Tier__c/);
      assert.doesNotMatch(JSON.stringify(b), /Backup_Tier__c/);
    }
    assert.equal(second.counters.metadataChanged, expected.length + profiles.length);
    assert.equal(second.counters.metadataComponents, first.counters.metadataComponents! + 1);
    // Only what the listing said may have changed was retrieved; the rest was not fetched again.
    assert.ok(second.counters.metadataRetrieved! < first.counters.metadataComponents! / 2, `retrieved ${second.counters.metadataRetrieved}`);

    const picklist = (await vault.store.metadataHeads(org.orgId, { type: 'CustomField' })).find((h) => h.fullName === 'Invoice__c.Status__c')!;
    assert.match(JSON.stringify(await vault.store.readMetadataFiles(org.orgId, picklist.contentId!)), /Written_Off/);

    // A third backup with nothing changed stores nothing.
    const third = await backup();
    assert.equal(third.counters.metadataChanged, 0);
    assert.equal(third.counters.metadataComponents, second.counters.metadataComponents);
  });

  it('history shows both versions of a changed component, each with its run', async () => {
    const history = await componentHistory(vault.store, org.orgId, 'ApexClass:invoiceservice');
    assert.equal(history.fullName, 'InvoiceService');
    assert.deepEqual(history.versions.map((v) => v.runId), [second.runId, first.runId]);
    const [newer, older] = history.versions;
    assert.equal((await vault.store.readMetadataFiles(org.orgId, newer!.contentId!))!['classes/InvoiceService.cls'], NEW_CLASS_BODY);
    assert.doesNotMatch((await vault.store.readMetadataFiles(org.orgId, older!.contentId!))!['classes/InvoiceService.cls']!, /version\(\)/);
    assert.ok(newer!.lastModifiedDate! > older!.lastModifiedDate!);
    await assert.rejects(componentHistory(vault.store, org.orgId, 'ApexClass:Nope'), /holds no ApexClass named Nope/);
    await assert.rejects(componentHistory(vault.store, org.orgId, 'InvoiceService'), /TYPE:NAME/);

    // The live org read the way a backup reads it equals the backup, profiles too (whatever the types asked for).
    const live = await readLiveMetadata(await connect(), { ...metadataSettings(org), types: ['Profile', 'ApexClass'] });
    const stored = await vault.store.metadataHeads(org.orgId);
    const storedOf = stored.filter((h) => h.type === 'Profile' || h.type === 'ApexClass');
    assert.equal(live.size, storedOf.length);
    for (const head of storedOf) assert.deepEqual(live.get(componentKey(head))?.files, await vault.store.readMetadataFiles(org.orgId, head.contentId!), componentKey(head));

    const inventory = await metadataInventory(vault.store, org.orgId);
    const apex = inventory.types.find((t) => t.type === 'ApexClass')!;
    assert.equal(apex.lastChangeRunId, second.runId);
    assert.equal(inventory.lastRun?.components, second.counters.metadataComponents);
  });

  it('honours exclusions by metadata type, and marks deleted what the org no longer lists', async () => {
    const audit: unknown[] = [];
    const settings = await updateMetadataSettings({ catalog: vault.store, audit: { appendAudit: async (e) => void audit.push(e) }, actor: 'test' }, org, { excludedTypes: ['ApexClass', 'Profile'] });
    assert.deepEqual(settings.excludedTypes, ['ApexClass', 'Profile']);
    assert.equal(audit.length, 1);
    org = (await vault.store.getOrg('demo'))!;
    assert.deepEqual(metadataSettings(org).excludedTypes, ['ApexClass', 'Profile']);

    await admin({ op: 'upsertApexClass', name: 'InvoiceService', body: `${NEW_CLASS_BODY}// changed again\n` });
    await admin({ op: 'deleteValidationRule', object: 'Account', name: 'Phone_Required_For_Customers' });
    const result = await runMetadataBackup({ store: vault.store, client: await connect(), now: () => emulator.org.clock.nowMs() }, { org });
    assert.equal(result.status, 'Succeeded', result.message ?? '');
    assert.ok(result.outcome!.skippedTypes.includes('ApexClass'));
    // The excluded class is neither captured nor marked deleted; the deleted rule is marked.
    assert.equal((await vault.store.metadataHistory(org.orgId, 'ApexClass', 'InvoiceService')).length, 2);
    assert.equal((await vault.store.metadataHeads(org.orgId, { type: 'ApexClass' })).length > 0, true);
    const rule = await vault.store.metadataHistory(org.orgId, 'ValidationRule', 'Account.Phone_Required_For_Customers');
    assert.deepEqual(rule.map((v) => [v.runId, v.deleted]), [[result.runId, true], [second.runId, false], [first.runId, false]]);
    assert.equal(result.counters.metadataDeleted, 1);
    assert.equal(result.counters.metadataChanged, 1);
    assert.equal((await vault.store.getRun(result.runId))?.kind, 'metadata');
    await assert.rejects(updateMetadataSettings({ catalog: vault.store, audit: vault.store, actor: 'test' }, org, { types: ['ApexClass'] }), /both backed up and excluded/);
    org = (await updateMetadataSettings({ catalog: vault.store, audit: vault.store, actor: 'test' }, org, { excludedTypes: [] }), (await vault.store.getOrg('demo'))!);
  });

  it('a metadata failure leaves the data backup stored and the run CompletedWithErrors', async () => {
    const modified = { Name: 'Metadata failure probe' };
    const [account] = await emulatedOrg(emulator).query('SELECT Id FROM Account LIMIT 1');
    await emulatedOrg(emulator).rest('PATCH', `/sobjects/Account/${String(account!.Id)}`, modified);
    // Without Modify All Data the Metadata API refuses the user; the data API still answers.
    await emulatedOrg(emulator).admin('POST', '/permissions', { permission: 'modifyAllData', value: false });
    try {
      const result = await backup();
      assert.equal(result.status, 'CompletedWithErrors');
      assert.match(result.message ?? '', /METADATA_FAILED: the data backup is stored.*INSUFFICIENT_ACCESS/);
      assert.equal(result.counters.metadataErrors, 1);
      assert.ok(result.objects.some((o) => o.name === 'Account' && o.status !== 'Error' && o.versions > 0));
      const version = await vault.store.versionAsOf(org.orgId, 'Account', String(account!.Id), Number.MAX_SAFE_INTEGER);
      assert.equal(version?.fields.Name, modified.Name);
      assert.equal((await vault.store.getRun(result.runId))?.status, 'CompletedWithErrors');
    } finally {
      await emulatedOrg(emulator).admin('POST', '/permissions', { permission: 'modifyAllData', value: true });
    }
  });
});

describe('orgvault metadata (CLI)', () => {
  const PASSPHRASE = 'metadata cli passphrase 5e1';
  let emulator: RunningEmulator;
  let scratch: string;
  const run = (args: string[]) => runCli(args, { vault: join(scratch, 'vault'), cwd: scratch, passphrase: PASSPHRASE });

  before(async () => {
    emulator = await startEmulator({ profile: 'demo', seed: 43 });
    scratch = await mkdtemp(join(tmpdir(), 'orgvault-cli-metadata-'));
    const { info } = emulator;
    assert.equal((await run(['init'])).code, 0);
    const added = await run(['org', 'add', 'demo', '--login-url', info.loginUrl, '--client-id', info.clientId, '--client-secret', info.clientSecret, '--username', info.username, '--password', info.password]);
    assert.equal(added.code, 0, added.stderr);
  });
  after(async () => {
    await emulator?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('backs up, lists the types and shows a component\'s history', async () => {
    const excluded = await run(['metadata', 'settings', '--org', 'demo', '--exclude', 'Layout', '--json']);
    assert.equal(excluded.code, 0, excluded.stderr);
    assert.deepEqual(jsonOf<{ excludedTypes: string[] }>(excluded).excludedTypes, ['Layout']);
    const firstRun = await run(['metadata', 'backup', '--org', 'demo', '--json']);
    assert.equal(firstRun.code, 0, firstRun.stderr);
    const first = jsonOf<{ runId: string; status: string; counters: Record<string, number> }>(firstRun);
    assert.equal(first.status, 'Succeeded');

    await emulatedOrg(emulator).admin('POST', '/metadata', { op: 'upsertApexClass', name: 'InvoiceService', body: NEW_CLASS_BODY });
    const secondRun = await run(['metadata', 'backup', '--org', 'demo']);
    assert.equal(secondRun.code, 0, secondRun.stderr);
    assert.match(secondRun.stdout, /1 new version\(s\) stored/);

    const listed = await run(['metadata', 'list', '--org', 'demo', '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    const inventory = jsonOf<{ types: { type: string; components: number }[] }>(listed);
    assert.ok(inventory.types.find((t) => t.type === 'ApexClass')!.components >= 3);
    assert.equal(inventory.types.some((t) => t.type === 'Layout'), false);
    const table = await run(['metadata', 'list', '--org', 'demo', '--type', 'ApexClass']);
    assert.match(table.stdout, /ApexClass\s+\d+\s+0/);

    const history = await run(['metadata', 'history', 'ApexClass:InvoiceService', '--org', 'demo', '--json']);
    assert.equal(history.code, 0, history.stderr);
    const versions = jsonOf<{ versions: { runId: string }[] }>(history).versions;
    assert.equal(versions.length, 2);
    assert.equal(versions[1]!.runId, first.runId);
    const human = await run(['metadata', 'history', 'ApexClass:InvoiceService', '--org', 'demo']);
    assert.match(human.stdout, /2 version\(s\)[\s\S]*changed[\s\S]*first backup/);

    const bad = await run(['metadata', 'history', 'InvoiceService', '--org', 'demo']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /TYPE:NAME/);
    const log = await run(['logs', first.runId, '--json']);
    assert.equal(jsonOf<{ kind: string }>(log).kind, 'metadata');
  });
});
