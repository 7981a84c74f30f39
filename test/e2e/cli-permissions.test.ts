// `orgvault permissions` as an admin runs it: the real bin/orgvault.js against an emulated org
// whose API user lost Read on an object and a field. The check prints them, exits 1, writes CSV
// and JSON; set-file writes a deployable project naming them; bad input exits 2.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { XMLParser } from 'fast-xml-parser';
import { startEmulator } from '../../emulator/index.ts';
import type { RunningEmulator } from '../../emulator/index.ts';
import { jsonOf, runCli } from './fixtures/cli-runner.ts';
import type { CliResult } from './fixtures/cli-runner.ts';

const PASSPHRASE = 'e2e permissions passphrase 5d2a';

interface ReportJson {
  runId: string;
  status: string;
  user: { username: string };
  userPermissions: { name: string; status: string; purpose: string }[];
  objects: { object: string; read: boolean; unprotected: boolean; vaultStatus: string | null }[];
  fields: { object: string; field: string; objectReadable: boolean }[];
  summary: { gap: boolean };
}

describe('orgvault permissions', () => {
  let emu: RunningEmulator;
  let scratch: string;
  let vault: string;

  const run = (args: string[]): Promise<CliResult> => runCli(args, { vault, cwd: scratch, passphrase: PASSPHRASE });
  const admin = async (body: unknown): Promise<void> => {
    const response = await fetch(`${emu.info.loginUrl}/__emulator/permissions`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${emu.info.adminToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.ok(response.ok, await response.text());
  };

  before(async () => {
    emu = await startEmulator({ profile: 'demo', seed: 31 });
    scratch = await mkdtemp(join(tmpdir(), 'orgvault-cli-permissions-'));
    vault = join(scratch, 'vault');
    assert.equal((await run(['init'])).code, 0);
    const { info } = emu;
    const added = await run(['org', 'add', 'demo', '--login-url', info.loginUrl, '--client-id', info.clientId, '--client-secret', info.clientSecret, '--username', info.username, '--password', info.password]);
    assert.equal(added.code, 0, added.stderr);
    const backup = await run(['backup', '--org', 'demo', '--object', 'Account,Contact']);
    assert.equal(backup.code, 0, backup.stderr);
    await admin({ object: 'Contact', read: false });
    await admin({ object: 'Account', field: 'Industry', read: false });
  });
  after(async () => {
    await emu?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  test('check prints the gaps and exits 1; --csv writes them; the run is in the job log', async () => {
    const csvFile = join(scratch, 'permissions.csv');
    const result = await run(['permissions', 'check', '--org', 'demo', '--csv', csvFile]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stdout, /User permissions/);
    assert.match(result.stdout, /View All Data\s+granted/);
    assert.match(result.stdout, /Contact\s+none\s+Waiting/);
    assert.match(result.stdout, /Account\s+Industry\s+yes/);
    assert.match(result.stdout, /only the profile was read/);
    assert.match(result.stdout, /permissions set-file --org demo --out DIR/);
    const csv = await readFile(csvFile, 'utf8');
    assert.match(csv, /^section,name,status,need,neededFor,purpose,affects,grantedBy,vaultStatus,note\r\n/);
    assert.match(csv, /\r\nuser-permission,View All Data \(ViewAllData\),granted,required,backup,/);
    assert.match(csv, /\r\nobject,Contact,unreadable,not protected,backup,,,,Waiting,/);
    assert.match(csv, /\r\nfield,Account\.Industry,unreadable,not protected,/);
    const runId = /Permission check run ([0-9a-f-]{36})/.exec(result.stdout)![1]!;
    const log = jsonOf<{ kind: string; status: string; counters: Record<string, number> }>(await run(['logs', runId, '--json']));
    assert.equal(log.kind, 'permissions');
    assert.equal(log.status, 'CompletedWithErrors');
    assert.equal(log.counters.objectsUnprotected, 1);
    assert.equal(log.counters.fieldsUnreadable, 1);

    // `status` flags the gap the last check found, and --json carries it.
    const status = await run(['status', '--org', 'demo']);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /permissions \(GAP\): checked \S+: .*1 object\(s\) not protected; 1 field\(s\) unreadable/);
    const statusJson = jsonOf<{ permissions: { runId: string; status: string } }>(await run(['status', '--org', 'demo', '--json']));
    assert.equal(statusJson.permissions.runId, runId);
    assert.equal(statusJson.permissions.status, 'CompletedWithErrors');
  });

  test('check --json is one document with the report', async () => {
    const result = await run(['permissions', 'check', '--org', 'demo', '--json']);
    assert.equal(result.code, 1, result.stderr);
    const report = jsonOf<ReportJson>(result);
    assert.equal(report.status, 'CompletedWithErrors');
    assert.equal(report.user.username, emu.info.username);
    assert.equal(report.summary.gap, true);
    assert.deepEqual(report.objects.filter((o) => o.unprotected).map((o) => o.object), ['Contact']);
    assert.ok(report.fields.some((f) => f.object === 'Account' && f.field === 'Industry' && f.objectReadable));
    assert.ok(report.userPermissions.every((p) => p.purpose.length > 0));
  });

  test('set-file writes a deployable permission set naming the object and the field', async () => {
    const out = join(scratch, 'perm-project');
    const result = await run(['permissions', 'set-file', '--org', 'demo', '--out', out, '--last']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /sf project deploy start --manifest manifest\/package\.xml/);
    assert.match(result.stdout, new RegExp(`sf org assign permset --name OrgvaultBackup --on-behalf-of ${emu.info.username.replace(/[.]/g, '\\.')}`));
    const parser = new XMLParser({ isArray: (name) => ['objectPermissions', 'fieldPermissions', 'userPermissions'].includes(name) });
    const set = parser.parse(await readFile(join(out, 'force-app/main/default/permissionsets/OrgvaultBackup.permissionset-meta.xml'), 'utf8')).PermissionSet;
    assert.deepEqual(set.objectPermissions.map((o: { object: string }) => o.object), ['Contact']);
    assert.ok(set.fieldPermissions.some((f: { field: string }) => f.field === 'Account.Industry'));
    const pkg = parser.parse(await readFile(join(out, 'manifest/package.xml'), 'utf8')).Package;
    assert.equal(pkg.types.members, 'OrgvaultBackup');
    assert.ok(JSON.parse(await readFile(join(out, 'sfdx-project.json'), 'utf8')).packageDirectories);
    // The emulator's API user lacks Set Audit Fields: the org setting that offers it is named.
    assert.match(result.stdout, /Set Audit Fields upon Record Creation/);
    assert.ok(set.userPermissions.some((p: { name: string }) => p.name === 'CreateAuditFields'));
    const without = await run(['permissions', 'set-file', '--org', 'demo', '--out', out, '--last', '--without', 'CreateAuditFields,UpdateWithInactiveOwner']);
    assert.equal(without.code, 0, without.stderr);
    assert.doesNotMatch(without.stdout, /org setting/);
    const lean = parser.parse(await readFile(join(out, 'force-app/main/default/permissionsets/OrgvaultBackup.permissionset-meta.xml'), 'utf8')).PermissionSet;
    assert.deepEqual(
      lean.userPermissions.map((p: { name: string }) => p.name),
      ['ApiEnabled', 'ModifyAllData', 'QueryAllFiles', 'ViewAllData', 'ViewEncryptedData', 'ViewSetup'],
    );
  });

  test('bad input exits 2 naming what is wrong', async () => {
    const noOut = await run(['permissions', 'set-file', '--org', 'demo']);
    assert.notEqual(noOut.code, 0);
    assert.match(noOut.stderr, /--out/);
    const unknown = await run(['permissions', 'check', '--org', 'nope']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /No org named "nope"/);
    const badWithout = await run(['permissions', 'set-file', '--org', 'demo', '--out', join(scratch, 'x'), '--without', 'ViewAll']);
    assert.equal(badWithout.code, 2);
    assert.match(badWithout.stderr, /--without ViewAll: not a user permission the set grants\. They are ApiEnabled, ViewAllData/);
    const emptyCsv = await run(['permissions', 'check', '--org', 'demo', '--csv', ' ']);
    assert.equal(emptyCsv.code, 2);
    assert.match(emptyCsv.stderr, /--csv needs a file name/);
  });
});
