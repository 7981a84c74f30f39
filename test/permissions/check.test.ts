// The permission check against the emulator over HTTP, with a real vault: the API user's profile
// read through the Metadata API, object and field permissions removed with the emulator's admin
// API and found (and flagged against what the vault backs up), user permissions missing, a
// Metadata API refusal that still reports what describe shows, the gap notification and the
// permission set file.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { XMLParser } from 'fast-xml-parser';
import { startEmulator } from '../../emulator/index.ts';
import type { RunningEmulator } from '../../emulator/index.ts';
import { resolveSettings, runBackup } from '../../src/backup/index.ts';
import { AuthenticationError } from '../../src/core/errors.ts';
import type { NotificationEvent } from '../../src/core/notifications.ts';
import type { OrgClient } from '../../src/core/org-client.ts';
import type { OrgRegistration } from '../../src/core/vault.ts';
import { generateKeyFileContent } from '../../src/crypto/keys.ts';
import { latestPermissionReport, permissionSetProject, reportCsv, runPermissionCheck } from '../../src/permissions/index.ts';
import type { PermissionReport } from '../../src/permissions/index.ts';
import { connectOrg } from '../../src/salesforce/index.ts';
import { initVault, openVault } from '../../src/store/vault.ts';
import type { Vault } from '../../src/store/vault.ts';

describe('permission check', () => {
  let emulator: RunningEmulator;
  let vault: Vault;
  let dir: string;
  let org: OrgRegistration;
  let connect: () => Promise<OrgClient>;
  const events: NotificationEvent[] = [];

  const admin = async (path: string, body: unknown): Promise<void> => {
    const response = await fetch(`${emulator.info.loginUrl}/__emulator/${path}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${emulator.info.adminToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.ok(response.ok, `${path}: ${response.status} ${await response.text()}`);
  };
  const check = async (): Promise<{ runId: string; status: string; report: PermissionReport }> =>
    runPermissionCheck({ store: vault.store, connect, notifier: { notify: async (e) => void events.push(e) } }, org);

  before(async () => {
    emulator = await startEmulator({ profile: 'demo', seed: 9 });
    dir = await mkdtemp(join(tmpdir(), 'orgvault-permissions-'));
    const keyFile = Buffer.from(generateKeyFileContent());
    await initVault(join(dir, 'vault'), { keyFile });
    vault = await openVault(join(dir, 'vault'), { keyFile });
    const { info } = emulator;
    const auth = { kind: 'password' as const, loginUrl: info.loginUrl, clientId: info.clientId, clientSecret: info.clientSecret, username: info.username, password: info.password };
    org = { name: 'demo', orgId: info.orgId, instanceUrl: info.instanceUrl, loginUrl: info.loginUrl, sealedAuth: new Uint8Array(1), createdAt: Date.now(), settings: {} };
    connect = () => connectOrg(auth, { retry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 20 } });
    // The vault backs up Account and Contact, so their loss is a gap in protection.
    await runBackup({ store: vault.store, blobs: vault.blobs, client: await connect() }, { org, settings: resolveSettings({}), objects: ['Account', 'Contact'] });
  });
  after(async () => {
    await vault?.close();
    await emulator?.close();
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    events.length = 0;
    await admin('permissions', { object: 'Contact', read: true });
    await admin('permissions', { object: 'Account', write: true });
    await admin('permissions', { object: 'Account', field: 'Industry', read: true });
    for (const permission of ['viewAllData', 'modifyAllData']) await admin('permissions', { permission, value: true });
  });

  it('reads the API user\'s profile through the Metadata API and says what it could not read', async () => {
    const { report, status } = await check();
    assert.equal(report.user.id.slice(0, 15), emulator.org.apiUserId.slice(0, 15));
    assert.equal(report.user.profileFullName, 'Admin');
    assert.deepEqual(report.sources.find((s) => s.source === 'profile')?.status, 'read');
    // The emulator has no PermissionSetAssignment: only the profile is read, and the report says so.
    const sets = report.sources.find((s) => s.source === 'permission-sets')!;
    assert.equal(sets.status, 'not-supported');
    assert.match(sets.detail, /only the profile was read/);
    const account = report.objects.find((o) => o.object === 'Account')!;
    assert.equal(account.read, true);
    assert.equal(account.allRecords, true);
    assert.deepEqual(account.grantedBy, ['profile Admin']);
    assert.equal(account.vaultStatus, 'Waiting');
    const granted = (name: string): string => report.userPermissions.find((p) => p.name === name)!.status;
    assert.equal(granted('ApiEnabled'), 'granted');
    assert.equal(granted('ViewAllData'), 'granted');
    assert.equal(granted('ModifyAllData'), 'granted');
    // The emulator's default: "Set Audit Fields upon Record Creation" off, which describe shows.
    assert.equal(granted('CreateAuditFields'), 'missing');
    assert.equal(report.fields.filter((f) => f.objectReadable).length, 0);
    assert.equal(report.objects.filter((o) => o.unprotected).length, 0);
    for (const p of report.userPermissions) assert.ok(p.purpose && p.affects, `${p.name} says what it is for`);
    assert.ok(['Succeeded', 'CompletedWithErrors'].includes(status));
  });

  it('finds an object and a field whose read permission was removed, and flags them against the vault', async () => {
    await admin('permissions', { object: 'Contact', read: false });
    await admin('permissions', { object: 'Account', field: 'Industry', read: false });
    const { report, status, runId } = await check();
    assert.equal(status, 'CompletedWithErrors');
    const contact = report.objects.find((o) => o.object === 'Contact')!;
    assert.equal(contact.read, false);
    assert.equal(contact.unprotected, true);
    assert.equal(contact.vaultStatus, 'Waiting');
    assert.match(contact.note ?? '', /No Read permission/);
    const industry = report.fields.find((f) => f.object === 'Account' && f.field === 'Industry')!;
    assert.ok(industry, 'Account.Industry is reported');
    assert.equal(industry.objectReadable, true);
    assert.equal(industry.backedUpBefore, true);
    assert.equal(report.summary.gap, true);
    assert.equal(report.summary.objectsUnprotected, 1);
    assert.equal(report.summary.fieldsUnreadable, 1);
    // Stored with its run, sealed like every run's parameters; counters in clear.
    const latest = await latestPermissionReport(vault.store, org.orgId);
    assert.equal(latest?.run.runId, runId);
    assert.equal(latest?.run.counters.objectsUnprotected, 1);
    assert.deepEqual(latest?.report.fields, report.fields);
    // The gap is notified, naming objects and fields, never a value.
    assert.equal(events.length, 1);
    assert.equal(events[0]!.kind, 'permission-gap');
    assert.equal(events[0]!.runId, runId);
    assert.deepEqual(events[0]!.details.objectsUnprotected, ['Contact']);
    assert.deepEqual(events[0]!.details.fieldsUnreadable, ['Account.Industry']);
    // CSV: one row per permission, object and field.
    const csv = reportCsv(report);
    assert.match(csv, /^section,name,status,/);
    assert.match(csv, /\r\nobject,Contact,unreadable,not protected,/);
    assert.match(csv, /\r\nfield,Account\.Industry,unreadable,not protected,/);
  });

  it('reports a user permission removed: View All Data', async () => {
    await admin('permissions', { permission: 'viewAllData', value: false });
    const { report } = await check();
    const row = report.userPermissions.find((p) => p.name === 'ViewAllData')!;
    assert.equal(row.status, 'missing');
    assert.equal(row.need, 'required');
    assert.match(row.affects, /shared with the API user/);
    assert.ok(report.summary.requiredMissing.includes('ViewAllData'));
    // Modify All on an object still reads all of its records (Salesforce's View All implied)…
    assert.equal(report.objects.find((o) => o.object === 'Account')!.allRecords, true);
    // …but an object with neither is read only in part: its records not shared are not backed up.
    await admin('permissions', { object: 'Account', write: false });
    const again = (await check()).report.objects.find((o) => o.object === 'Account')!;
    assert.equal(again.allRecords, false);
    assert.equal(again.unprotected, true);
    assert.match(again.note ?? '', /only records shared with the API user/);
  });

  it('still reports what describe shows when the Metadata API refuses the API user', async () => {
    await admin('permissions', { permission: 'modifyAllData', value: false });
    await admin('permissions', { object: 'Contact', read: false });
    await admin('permissions', { object: 'Account', field: 'Industry', read: false });
    const { report, status } = await check();
    assert.equal(status, 'CompletedWithErrors');
    const profile = report.sources.find((s) => s.source === 'profile')!;
    assert.equal(profile.status, 'unavailable');
    assert.match(profile.detail, /INSUFFICIENT_ACCESS/);
    assert.match(profile.detail, /Modify All Data/);
    const mad = report.userPermissions.find((p) => p.name === 'ModifyAllData')!;
    assert.equal(mad.status, 'missing');
    assert.equal(report.userPermissions.find((p) => p.name === 'ViewAllData')!.status, 'unknown');
    // Describe against the vault's stored schema still finds both losses.
    assert.equal(report.objects.find((o) => o.object === 'Contact')?.unprotected, true);
    const industry = report.fields.find((f) => f.object === 'Account' && f.field === 'Industry');
    assert.equal(industry?.source, 'describe');
  });

  it('records a check that cannot connect as Failed, and raises the reason', async () => {
    const refused = new AuthenticationError('The integration user is frozen.');
    await assert.rejects(runPermissionCheck({ store: vault.store, connect: () => Promise.reject(refused) }, org), (e: unknown) => e === refused);
    const [last] = await vault.store.listRuns({ orgId: org.orgId, kind: 'permissions', limit: 1 });
    assert.equal(last?.status, 'Failed');
    assert.equal(last?.message, 'The integration user is frozen.');
    // The last report is still the last check that finished.
    assert.notEqual((await latestPermissionReport(vault.store, org.orgId))?.run.runId, last?.runId);
  });

  it('writes a permission set that grants what is missing', async () => {
    await admin('permissions', { object: 'Contact', read: false });
    await admin('permissions', { object: 'Account', field: 'Industry', read: false });
    const { report } = await check();
    const files = permissionSetProject(report, '62.0');
    assert.deepEqual(files.map((f) => f.path).sort(), ['force-app/main/default/permissionsets/OrgvaultBackup.permissionset-meta.xml', 'manifest/package.xml', 'sfdx-project.json']);
    const parser = new XMLParser({ isArray: (name) => ['objectPermissions', 'fieldPermissions', 'userPermissions', 'types'].includes(name) });
    const set = parser.parse(files.find((f) => f.path.endsWith('.permissionset-meta.xml'))!.content).PermissionSet;
    assert.deepEqual(
      set.objectPermissions.map((o: { object: string }) => o.object),
      ['Contact'],
    );
    assert.equal(set.objectPermissions[0].allowRead, true);
    assert.equal(set.objectPermissions[0].viewAllRecords, true);
    const fields = set.fieldPermissions.map((f: { field: string }) => f.field);
    assert.ok(fields.includes('Account.Industry'));
    // The hidden object's own fields come along, so that its records are read whole.
    assert.ok(fields.some((f: string) => f.startsWith('Contact.')));
    assert.ok(set.fieldPermissions.every((f: { readable: boolean; editable: boolean }) => f.readable === true && f.editable === false));
    const perms = set.userPermissions.map((p: { name: string }) => p.name);
    for (const name of ['ApiEnabled', 'ViewAllData', 'QueryAllFiles', 'ModifyAllData', 'ViewEncryptedData', 'CreateAuditFields']) assert.ok(perms.includes(name), name);
    const pkg = parser.parse(files.find((f) => f.path === 'manifest/package.xml')!.content).Package;
    assert.equal(pkg.types[0].name, 'PermissionSet');
    assert.equal(pkg.types[0].members, 'OrgvaultBackup');
    assert.equal(JSON.parse(files.find((f) => f.path === 'sfdx-project.json')!.content).packageDirectories[0].path, 'force-app');
  });
});
