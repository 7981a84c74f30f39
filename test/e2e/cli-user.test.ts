// `orgvault user …` as an admin or a script runs it: the real bin/orgvault.js in a child process,
// passwords from the flag (with a warning), the environment or nowhere (exit 2 without a
// terminal), --json on stdout, exit codes, a token printed once, and no password or token secret
// in any other output or in the vault's files.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { jsonOf, runCli } from './fixtures/cli-runner.ts';
import type { CliResult } from './fixtures/cli-runner.ts';

const PASSPHRASE = 'e2e user passphrase 5d21';
const ADMIN_PASSWORD = 'admin password 8c1f e2e';
const VIEWER_PASSWORD = 'viewer password 0b7a e2e';
const NEW_PASSWORD = 'changed password 77d3 e2e';
/** A token's secret: what follows its ID (`ovt_` and 16 hex digits). It may itself contain `_`. */
const secretOf = (token: string): string => token.slice(token.indexOf('_', 'ovt_'.length) + 1);

interface UserJson {
  name: string;
  role: string;
  createdAt: string;
  passwordChangedAt: string;
}

interface TokenJson {
  id: string;
  user: string;
  label: string;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  status?: string;
}

describe('orgvault user', () => {
  let scratch: string;
  let vault: string;
  /** Every output but the one that prints the token, to check no secret was ever printed. */
  const outputs: string[] = [];
  let tokenSecret = '';

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'orgvault-cli-user-'));
    vault = join(scratch, 'vault');
    const init = await run(['init']);
    assert.equal(init.code, 0, init.stderr);
  });
  after(() => rm(scratch, { recursive: true, force: true }));

  function run(args: string[], env: Record<string, string | undefined> = {}, record = true): Promise<CliResult> {
    return runCli(args, {
      vault,
      cwd: scratch,
      passphrase: PASSPHRASE,
      env: { ORGVAULT_USER_PASSWORD: undefined, ...env },
      onOutput: (stdout, stderr) => {
        if (record) outputs.push(stdout, stderr);
      },
    });
  }

  test('add: the password from the environment, or from --password with a warning', async () => {
    const admin = await run(['user', 'add', 'root', '--role', 'administrator', '--json'], { ORGVAULT_USER_PASSWORD: ADMIN_PASSWORD });
    assert.equal(admin.code, 0, admin.stderr);
    const added = jsonOf<{ user: UserJson }>(admin).user;
    assert.equal(added.name, 'root');
    assert.equal(added.role, 'administrator');
    assert.ok(!Number.isNaN(Date.parse(added.createdAt)));
    assert.doesNotMatch(admin.stderr, /shell history/);

    const viewer = await run(['user', 'add', 'ann@example.com', '--role', 'viewer', '--password', VIEWER_PASSWORD]);
    assert.equal(viewer.code, 0, viewer.stderr);
    assert.match(viewer.stdout, /Added user "ann@example.com" \(viewer\)/);
    assert.match(viewer.stderr, /--password lands in your shell history/);

    const again = await run(['user', 'add', 'root', '--role', 'viewer', '--json'], { ORGVAULT_USER_PASSWORD: ADMIN_PASSWORD });
    assert.equal(again.code, 2);
    assert.match(again.stderr, /"root" already exists/);
    assert.equal(jsonOf<{ error: { code: string } }>(again).error.code, 'USAGE');
  });

  test('list: names and roles, never a hash', async () => {
    const list = await run(['user', 'list', '--json']);
    assert.equal(list.code, 0, list.stderr);
    const { users } = jsonOf<{ users: UserJson[] }>(list);
    assert.deepEqual(
      users.map((u) => [u.name, u.role]),
      [
        ['ann@example.com', 'viewer'],
        ['root', 'administrator'],
      ],
    );
    assert.deepEqual(Object.keys(users[0]!).sort(), ['createdAt', 'name', 'passwordChangedAt', 'role']);
    const human = await run(['user', 'list']);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /^Name\s+Role\s+Added\s+Password changed$/m);
    assert.match(human.stdout, /^root\s+administrator\s/m);
    assert.doesNotMatch(human.stdout + list.stdout, /scrypt/);
  });

  test('bad input exits 2 with what to do: a wrong role, a weak password, no password, an unknown user', async () => {
    const role = await run(['user', 'add', 'bob', '--role', 'admin'], { ORGVAULT_USER_PASSWORD: ADMIN_PASSWORD });
    assert.equal(role.code, 2);
    assert.match(role.stderr, /"admin" is not a role: use one of administrator, backup-operator, restore-operator, viewer/);

    const weak = await run(['user', 'add', 'bob', '--role', 'viewer', '--json'], { ORGVAULT_USER_PASSWORD: 'short pw' });
    assert.equal(weak.code, 2);
    assert.match(weak.stderr, /too weak: use at least 12 characters/);
    assert.equal(jsonOf<{ error: { code: string } }>(weak).error.code, 'USAGE');

    const none = await run(['user', 'add', 'bob', '--role', 'viewer']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /No password for "bob": set ORGVAULT_USER_PASSWORD/);

    const name = await run(['user', 'add', 'bob smith', '--role', 'viewer'], { ORGVAULT_USER_PASSWORD: ADMIN_PASSWORD });
    assert.equal(name.code, 2);
    assert.match(name.stderr, /not a usable user name/);

    for (const args of [['user', 'passwd', 'nobody'], ['user', 'role', 'nobody', 'viewer'], ['user', 'remove', 'nobody'], ['user', 'token', 'nobody', '--label', 'x'], ['user', 'tokens', 'nobody']]) {
      const result = await run(args, { ORGVAULT_USER_PASSWORD: NEW_PASSWORD });
      assert.equal(result.code, 2, args.join(' '));
      assert.match(result.stderr, /No user named "nobody"/, args.join(' '));
    }
    const days = await run(['user', 'token', 'ann@example.com', '--label', 'x', '--expires-days', '0']);
    assert.equal(days.code, 2);
    assert.match(days.stderr, /--expires-days 0: give a whole number of days/);

    const users = jsonOf<{ users: UserJson[] }>(await run(['user', 'list', '--json'])).users;
    assert.equal(users.length, 2, 'nothing was added');
  });

  test('passwd and role', async () => {
    const before = jsonOf<{ users: UserJson[] }>(await run(['user', 'list', '--json'])).users.find((u) => u.name === 'ann@example.com')!;
    const weak = await run(['user', 'passwd', 'ann@example.com'], { ORGVAULT_USER_PASSWORD: 'tiny' });
    assert.equal(weak.code, 2);
    const passwd = await run(['user', 'passwd', 'ann@example.com', '--json'], { ORGVAULT_USER_PASSWORD: NEW_PASSWORD });
    assert.equal(passwd.code, 0, passwd.stderr);
    assert.deepEqual(jsonOf(passwd), { name: 'ann@example.com', passwordChanged: true });
    const after = jsonOf<{ users: UserJson[] }>(await run(['user', 'list', '--json'])).users.find((u) => u.name === 'ann@example.com')!;
    assert.ok(Date.parse(after.passwordChangedAt) > Date.parse(before.passwordChangedAt));

    const role = await run(['user', 'role', 'ann@example.com', 'restore-operator']);
    assert.equal(role.code, 0, role.stderr);
    assert.match(role.stdout, /"ann@example.com" is now a restore-operator/);
    const bad = await run(['user', 'role', 'ann@example.com', 'god']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /"god" is not a role/);
  });

  test('token: the secret is printed once; `user tokens` never shows it; revoke', async () => {
    const created = await run(['user', 'token', 'ann@example.com', '--label', 'nightly export', '--expires-days', '30', '--json'], {}, false);
    assert.equal(created.code, 0, created.stderr);
    const body = jsonOf<TokenJson & { token: string }>(created);
    assert.match(body.token, /^ovt_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    assert.ok(body.token.startsWith(`${body.id}_`));
    assert.equal(body.label, 'nightly export');
    assert.equal(Date.parse(body.expiresAt!) - Date.parse(body.createdAt), 30 * 86_400_000);
    assert.doesNotMatch(created.stderr, new RegExp(body.token));
    tokenSecret = body.token.slice(body.id.length + 1);

    const human = await run(['user', 'token', 'root', '--label', 'ci'], {}, false);
    assert.equal(human.code, 0, human.stderr);
    const printed = human.stdout.match(/^ovt_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/gm);
    assert.equal(printed?.length, 1, human.stdout);
    assert.match(human.stdout, /shown only this once/);
    const rootToken = printed[0];

    const listed = await run(['user', 'tokens', '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    const { tokens } = jsonOf<{ tokens: TokenJson[] }>(listed);
    assert.deepEqual(
      tokens.map((t) => [t.user, t.label, t.status]),
      [
        ['ann@example.com', 'nightly export', 'active'],
        ['root', 'ci', 'active'],
      ],
    );
    assert.deepEqual(Object.keys(tokens[0]!).sort(), ['createdAt', 'expiresAt', 'id', 'label', 'lastUsedAt', 'status', 'user']);
    const mine = await run(['user', 'tokens', 'root']);
    assert.equal(mine.code, 0, mine.stderr);
    assert.match(mine.stdout, /^ID\s+User\s+Label/m);
    assert.doesNotMatch(mine.stdout, /nightly export/);
    for (const output of [listed.stdout, mine.stdout]) {
      assert.ok(!output.includes(tokenSecret) && !output.includes(secretOf(rootToken)));
    }

    const revoked = await run(['user', 'revoke', body.id, '--json']);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.deepEqual(jsonOf(revoked), { revoked: body.id });
    const twice = await run(['user', 'revoke', body.id]);
    assert.equal(twice.code, 2);
    assert.match(twice.stderr, /No API token ovt_/);
    // A whole token given by mistake is refused without being echoed.
    const whole = await run(['user', 'revoke', rootToken], {}, false);
    assert.equal(whole.code, 2);
    assert.ok(!whole.stderr.includes(secretOf(rootToken)));
    assert.deepEqual(
      jsonOf<{ tokens: TokenJson[] }>(await run(['user', 'tokens', '--json'])).tokens.map((t) => t.user),
      ['root'],
    );

    // A new password ends the tokens made before it: they stay listed, marked.
    await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal((await run(['user', 'passwd', 'root'], { ORGVAULT_USER_PASSWORD: ADMIN_PASSWORD })).code, 0);
    assert.deepEqual(
      jsonOf<{ tokens: TokenJson[] }>(await run(['user', 'tokens', 'root', '--json'])).tokens.map((t) => t.status),
      ['password changed'],
    );
  });

  test('the last administrator is neither removed nor demoted; a removed user is gone', async () => {
    const remove = await run(['user', 'remove', 'root', '--json']);
    assert.equal(remove.code, 2);
    assert.match(remove.stderr, /"root" is the last administrator/);
    const demote = await run(['user', 'role', 'root', 'viewer']);
    assert.equal(demote.code, 2);
    assert.match(demote.stderr, /"root" is the last administrator/);

    assert.equal((await run(['user', 'role', 'ann@example.com', 'administrator'])).code, 0);
    const removed = await run(['user', 'remove', 'root', '--json']);
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal(jsonOf<{ removed: UserJson }>(removed).removed.name, 'root');
    assert.deepEqual(
      jsonOf<{ users: UserJson[] }>(await run(['user', 'list', '--json'])).users.map((u) => u.name),
      ['ann@example.com'],
    );
    assert.deepEqual(jsonOf<{ tokens: TokenJson[] }>(await run(['user', 'tokens', '--json'])).tokens, [], "root's token went with it");
  });

  test('no password or token secret in any output or in the vault’s files', () => {
    const secrets = [ADMIN_PASSWORD, VIEWER_PASSWORD, NEW_PASSWORD, PASSPHRASE, tokenSecret];
    assert.ok(tokenSecret.length > 0);
    const printed = outputs.join('\n');
    // The viewer's password was given with --password: it is on the command line, never printed.
    for (const secret of secrets) assert.ok(!printed.includes(secret), `a secret of ${secret.length} characters was printed`);
    const files = readdirSync(vault, { recursive: true, withFileTypes: true }).filter((f) => f.isFile());
    const bytes = Buffer.concat(files.map((f) => readFileSync(join(f.parentPath, f.name))));
    for (const secret of secrets) assert.equal(bytes.indexOf(Buffer.from(secret)), -1, `a secret of ${secret.length} characters is in the vault`);
  });
});
