// `orgvault org add|list|test|remove` as an admin or a script runs them: the real bin/orgvault.js
// in a child process against an emulated org, secrets from the environment, --json on stdout,
// exit codes from the error classes, and no secret in any output or in the vault's files.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './fixtures/cli-runner.ts';
import type { CliResult } from './fixtures/cli-runner.ts';
import { after, before, describe, test } from 'node:test';
import { startEmulator } from '../../emulator/index.ts';
import type { RunningEmulator } from '../../emulator/index.ts';

const PASSPHRASE = 'e2e org passphrase 41c9';

type Result = CliResult;

describe('orgvault org', () => {
  let emu: RunningEmulator;
  let scratch: string;
  let vault: string;
  let privateKeyPem: string;
  const outputs: string[] = [];

  before(async () => {
    emu = await startEmulator({ profile: 'demo', seed: 2 });
    scratch = await mkdtemp(join(tmpdir(), 'orgvault-cli-org-'));
    vault = join(scratch, 'vault');
    const app = await fetch(`${emu.info.instanceUrl}/__emulator/connected-app`, { headers: { authorization: `Bearer ${emu.info.adminToken}` } });
    privateKeyPem = ((await app.json()) as { privateKeyPem: string }).privateKeyPem;
    writeFileSync(join(scratch, 'server.key'), privateKeyPem, { mode: 0o600 });
    assert.equal((await run(['init'])).code, 0);
  });
  after(async () => {
    await emu.close();
    await rm(scratch, { recursive: true, force: true });
  });

  function run(args: string[], env: Record<string, string | undefined> = {}): Promise<Result> {
    return runCli(args, { vault, cwd: scratch, passphrase: PASSPHRASE, env, onOutput: (stdout, stderr) => outputs.push(stdout, stderr) });
  }

  const secrets = (): string[] => [emu.info.password, emu.info.clientSecret, PASSPHRASE];

  test('add with username-password, secrets from the environment', async () => {
    const { info } = emu;
    const result = await run(['org', 'add', 'prod', '--json', '--login-url', info.loginUrl, '--client-id', info.clientId, '--username', info.username], {
      ORGVAULT_CLIENT_SECRET: info.clientSecret,
      ORGVAULT_SF_PASSWORD: info.password,
    });
    assert.equal(result.code, 0, result.stderr);
    const added = JSON.parse(result.stdout) as Record<string, string>;
    assert.equal(added.name, 'prod');
    assert.equal(added.orgId, info.orgId);
    assert.equal(added.username, info.username);
    assert.equal(added.authKind, 'password');
  });

  test('add with JWT; a second name for the same org is refused', async () => {
    const { info } = emu;
    const args = ['org', 'add', 'prod-jwt', '--login-url', info.loginUrl, '--client-id', info.clientId, '--username', info.username, '--private-key-file', join(scratch, 'server.key')];
    const refused = await run(args);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /already registered as "prod".*org remove prod/);
    const duplicate = await run(['org', 'add', 'prod', '--sf-alias', 'x']);
    assert.equal(duplicate.code, 2);
    assert.match(duplicate.stderr, /"prod" is already registered/);
    assert.equal((await run(['org', 'remove', 'prod'])).code, 0);
    const jwt = await run(args);
    assert.equal(jwt.code, 0, jwt.stderr);
    assert.match(jwt.stdout, /Added org "prod-jwt"/);
    assert.match(jwt.stdout, /JWT bearer/);
  });

  test('list and test', async () => {
    const list = await run(['org', 'list', '--json']);
    assert.equal(list.code, 0, list.stderr);
    const { orgs } = JSON.parse(list.stdout) as { orgs: { name: string; orgId: string; authKind: string }[] };
    assert.deepEqual(orgs.map((o) => [o.name, o.orgId, o.authKind]), [['prod-jwt', emu.info.orgId, 'jwt']]);
    const human = await run(['org', 'list']);
    assert.match(human.stdout, /prod-jwt\s+00D/);

    const tested = await run(['org', 'test', 'prod-jwt', '--json']);
    assert.equal(tested.code, 0, tested.stderr);
    const report = JSON.parse(tested.stdout) as { identity: { orgId: string; username: string }; apiUsage: { used: number; max: number }; objects: { visible: number; queryable: number }; callsMade: number; warning: null };
    assert.equal(report.identity.orgId, emu.info.orgId);
    assert.ok(report.apiUsage.max > 0 && report.apiUsage.used > 0);
    assert.ok(report.objects.queryable > 10 && report.objects.visible >= report.objects.queryable);
    assert.equal(report.callsMade, 2);
    assert.equal(report.warning, null);
    const text = await run(['org', 'test', 'prod-jwt']);
    assert.match(text.stdout, /API usage: [\d,]+ of [\d,]+ daily requests/);
  });

  test('a bad password exits 3 naming the fix, without the password', async () => {
    const { info } = emu;
    const result = await run(['org', 'add', 'bad', '--login-url', info.loginUrl, '--client-id', info.clientId, '--username', info.username], {
      ORGVAULT_CLIENT_SECRET: info.clientSecret,
      ORGVAULT_SF_PASSWORD: 'Not-The-Password-93',
    });
    assert.equal(result.code, 3);
    assert.match(result.stderr, /authentication failure.*password/i);
    assert.equal(`${result.stdout}${result.stderr}`.includes('Not-The-Password-93'), false);
  });

  test('bad flags: no flow, mixed flows, incomplete flows, unknown names', async () => {
    const cases: [string[], RegExp][] = [
      [['org', 'add', 'x'], /how to log in.*JWT bearer.*--private-key-file/s],
      [['org', 'add', 'x', '--sf-alias', 'a', '--client-id', 'c'], /--client-id cannot be combined with the Salesforce CLI flow/],
      [['org', 'add', 'x', '--private-key-file', 'k', '--password', 'p'], /--password cannot be combined with the JWT bearer flow/],
      [['org', 'add', 'x', '--client-id', 'c', '--username', 'u'], /username-password flow also needs --client-secret.*--password/],
      [['org', 'add', 'x', '--instance-url', 'https://x.my.salesforce.com'], /access-token flow also needs --access-token \(or ORGVAULT_ACCESS_TOKEN\)/],
      [['org', 'add', 'x', '--client-id', 'c', '--client-secret', 's'], /client credentials flow also needs --login-url/],
      [['org', 'add', 'x', '--login-url', 'not a url', '--sf-alias', 'a'], /cannot be combined|not a URL/],
      [['org', 'add', 'bad name!', '--sf-alias', 'a'], /not a usable org name/],
      [['org', 'add', 'x', '--client-id', 'c', '--username', 'u', '--private-key-file', join(scratch, 'missing.key')], /Cannot read --private-key-file/],
      [['org', 'remove', 'nope'], /No org named "nope".*prod-jwt/],
      [['org', 'test', 'nope'], /No org named "nope"/],
    ];
    for (const [args, pattern] of cases) {
      const result = await run(args);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, pattern, args.join(' '));
    }
    const asJson = await run(['org', 'remove', 'nope', '--json']);
    assert.equal((JSON.parse(asJson.stdout) as { error: { code: string } }).error.code, 'USAGE');
  });

  test('access token: added, then refused once revoked with the fix', async () => {
    const token = emu.context.sessions.issue(emu.org.apiUserId, emu.info.clientId).accessToken;
    const added = await run(['org', 'add', 'adhoc', '--instance-url', emu.info.instanceUrl], { ORGVAULT_ACCESS_TOKEN: token });
    assert.equal(added.code, 2, 'the same org is already registered as prod-jwt');
    assert.equal((await run(['org', 'remove', 'prod-jwt', '--json'])).code, 0);
    const again = await run(['org', 'add', 'adhoc', '--instance-url', emu.info.instanceUrl], { ORGVAULT_ACCESS_TOKEN: token });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /cannot be renewed/);
    await fetch(`${emu.info.instanceUrl}/__emulator/sessions/revoke`, { method: 'POST', headers: { authorization: `Bearer ${emu.info.adminToken}` } });
    const tested = await run(['org', 'test', 'adhoc']);
    assert.equal(tested.code, 3);
    assert.match(tested.stderr, /supply a new one/);
    assert.equal(`${tested.stdout}${tested.stderr}`.includes(token), false);
    for (const file of filesUnder(vault)) assert.equal(readFileSync(file).includes(token), false, `${file} holds the access token in clear`);
  });

  test('no secret in any output or in the vault files in clear', () => {
    const keyBody = privateKeyPem.split('\n').find((line) => line.length > 40)!;
    const printed = outputs.join('\n');
    for (const secret of [...secrets(), keyBody]) {
      assert.equal(printed.includes(secret), false, 'a secret was printed');
      for (const file of filesUnder(vault)) assert.equal(readFileSync(file).includes(secret), false, `${file} holds a secret in clear`);
    }
  });
});

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}
