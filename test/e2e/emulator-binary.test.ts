// The `orgvault-emulator` binary as scripts and other tools use it: one JSON line on stdout,
// unmodified jsforce and the Salesforce CLI's own library working against it, a clean stop on
// SIGTERM, and an org that survives a restart through --state.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Connection } from '@jsforce/jsforce-node';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'bin/orgvault-emulator.js');

interface Info {
  instanceUrl: string;
  loginUrl: string;
  username: string;
  password: string;
  clientId: string;
  clientSecret: string;
  adminToken: string;
  orgId: string;
}

async function start(args: string[]): Promise<{ child: ChildProcess; info: Info; line: string }> {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`emulator exited with ${String(code)}`)));
  });
  return { child, info: JSON.parse(line) as Info, line };
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

async function login(info: Info): Promise<Connection> {
  const conn = new Connection({ loginUrl: info.loginUrl, version: '62.0', oauth2: { loginUrl: info.loginUrl, clientId: info.clientId, clientSecret: info.clientSecret } });
  await conn.login(info.username, info.password);
  return conn;
}

const dir = mkdtempSync(join(tmpdir(), 'orgvault-emulator-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('orgvault-emulator', () => {
  let running: Awaited<ReturnType<typeof start>>;
  const statePath = join(dir, 'org.json');

  before(async () => {
    running = await start(['--profile', 'demo', '--seed', '3', '--port', '0', '--state', statePath]);
  });
  after(async () => {
    await stop(running.child);
  });

  test('prints exactly one JSON line with the connection details', () => {
    assert.deepEqual(Object.keys(running.info).sort(), ['adminToken', 'clientId', 'clientSecret', 'instanceUrl', 'loginUrl', 'orgId', 'password', 'username']);
    assert.match(running.info.instanceUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(running.info.orgId, /^00D[a-zA-Z0-9]{15}$/);
  });

  test('unmodified jsforce logs in, queries across pages and writes', async () => {
    const conn = await login(running.info);
    const contacts = await conn.query('SELECT Id, Name, Account.Name FROM Contact').run({ autoFetch: true, maxFetch: 100_000 });
    assert.ok(contacts.totalSize > 2000, 'the demo profile has more than one page of contacts');
    assert.equal(contacts.records.length, contacts.totalSize);
    const created = await conn.sobject('Account').create({ Name: 'Survives Restart Ltd' });
    assert.ok(created.success);
  });

  test('the Salesforce CLI flow (login with an access token, data query) works as against a real org', async () => {
    const conn = await login(running.info);
    const home = mkdtempSync(join(dir, 'home-'));
    const result = spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), join(root, 'test/fixtures/sf-cli-session.ts'), running.info.instanceUrl, conn.accessToken!], {
      cwd: home,
      env: { ...process.env, HOME: home, SF_USE_GENERIC_UNIX_KEYCHAIN: 'true', SFDX_USE_GENERIC_UNIX_KEYCHAIN: 'true', SF_DISABLE_TELEMETRY: 'true', SF_AUTOUPDATE_DISABLE: 'true', SF_LOG_LEVEL: 'fatal' },
      encoding: 'utf8',
      timeout: 300_000,
    });
    assert.equal(result.status, 0, result.stderr);
    const session = JSON.parse(result.stdout.trim().split('\n').pop()!) as {
      username: string;
      orgId: string;
      accounts: string[];
      totalSize: number;
      isDevHub: boolean;
      organization: { Name: string; IsSandbox: boolean; OrganizationType: string };
      scratchOrgInfoError: { errorCode?: string; name?: string };
    };
    assert.equal(session.username, running.info.username, 'the username came from userinfo and the User record');
    assert.equal(session.orgId.slice(0, 15), running.info.orgId.slice(0, 15));
    assert.equal(session.accounts.length, 3);
    assert.equal(session.isDevHub, false, 'ScratchOrgInfo is not queryable, so the org is not a Dev Hub');
    assert.equal(session.organization.IsSandbox, false);
    assert.equal(typeof session.organization.OrganizationType, 'string');
    assert.equal(session.scratchOrgInfoError.errorCode ?? session.scratchOrgInfoError.name, 'INVALID_TYPE');
  });

  test('stops on SIGTERM, saves its state, and comes back with it', async () => {
    assert.equal(await stop(running.child), 0);
    assert.ok(existsSync(statePath));
    running = await start(['--profile', 'demo', '--seed', '3', '--port', '0', '--state', statePath]);
    const conn = await login(running.info);
    const found = await conn.query<{ Name: string }>("SELECT Name FROM Account WHERE Name = 'Survives Restart Ltd'");
    assert.equal(found.totalSize, 1);
  });

  test('rejects bad flags with a clear message and a non-zero exit', () => {
    const result = spawnSync(process.execPath, [bin, '--profile', 'huge'], { encoding: 'utf8' });
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /--profile/);
    assert.match(result.stderr, /empty, demo, bench/);
  });
});
