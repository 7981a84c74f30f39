// The users use case against a real SQLite vault: users and roles, the last administrator,
// passwords, sessions, API tokens, the audit log, no secret in the vault's files, and the
// sign-in throttle.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, readdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { UsageError } from '../../src/core/errors.ts';
import type { Role } from '../../src/core/users.ts';
import { initVault, openVault } from '../../src/store/vault.ts';
import type { Vault } from '../../src/store/vault.ts';
import {
  SignInThrottle,
  addUser,
  createApiToken,
  hashPassword,
  listUsers,
  removeUser,
  revokeApiToken,
  sessionUser,
  setPassword,
  setRole,
  signIn,
  signOut,
  tokenUser,
  verifyPassword,
} from '../../src/users/index.ts';
import type { UsersDeps } from '../../src/users/index.ts';

// Cheap hashes, as the CLI tests get them; the test of the real cost unsets it.
process.env.ORGVAULT_TEST_SCRYPT = 'fast';

const PASSPHRASE = 'users test passphrase';
const PASSWORD = 'correct horse battery';
const T = Date.UTC(2026, 0, 1);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

let scratch: string;
let counter = 0;
before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'orgvault-users-'));
});
after(() => rm(scratch, { recursive: true, force: true }));

interface Fixture {
  vault: Vault;
  deps: UsersDeps;
  clock: { now: number };
}

/** A fresh vault and deps on a clock the test moves. */
async function withVault(body: (f: Fixture) => Promise<void>): Promise<void> {
  const dir = join(scratch, `vault-${++counter}`);
  await initVault(dir, { passphrase: PASSPHRASE }, { scrypt: { N: 2 ** 10, r: 8, p: 1 } });
  const vault = await openVault(dir, { passphrase: PASSPHRASE });
  const clock = { now: T };
  try {
    await body({ vault, clock, deps: { store: vault.store, now: () => clock.now, actor: 'test' } });
  } finally {
    await vault.close();
  }
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');
const usage = (pattern: RegExp) => (error: unknown) => error instanceof UsageError && pattern.test(error.message);

async function withEnv<T>(name: string, value: string | undefined, body: () => Promise<T>): Promise<T> {
  const saved = process.env[name];
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
  try {
    return await body();
  } finally {
    if (saved === undefined) delete process.env[name];
    else process.env[name] = saved;
  }
}

describe('passwords', () => {
  test('scrypt hashes in the self-describing form, N=2^15 unless the test setting says fast', async () => {
    const real = await withEnv('ORGVAULT_TEST_SCRYPT', undefined, () => hashPassword(PASSWORD));
    assert.match(real, /^scrypt\$32768\$8\$1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/);
    const fast = await hashPassword(PASSWORD);
    assert.match(fast, /^scrypt\$1024\$8\$1\$/);
    assert.notEqual(await hashPassword(PASSWORD), fast, 'a fresh salt each time');
    for (const hash of [real, fast]) {
      assert.equal(await verifyPassword(PASSWORD, hash), true);
      assert.equal(await verifyPassword(`${PASSWORD}!`, hash), false);
      assert.equal(await verifyPassword('', hash), false);
    }
    await assert.rejects(
      withEnv('ORGVAULT_TEST_SCRYPT', 'slow', () => hashPassword(PASSWORD)),
      usage(/ORGVAULT_TEST_SCRYPT=slow is not known/),
    );
  });

  test('the same password in another Unicode form verifies; malformed or absurd hashes match nothing', async () => {
    const hash = await hashPassword('café au lait, s’il vous plaît');
    assert.equal(await verifyPassword('cafe\u0301 au lait, s’il vous plaît', hash), true);
    const [, , r, p, salt, digest] = hash.split('$');
    for (const bad of ['', 'plain', `scrypt$1000$${r}$${p}$${salt}$${digest}`, `scrypt$${2 ** 30}$${r}$${p}$${salt}$${digest}`, `scrypt$1024$${r}$${p}$${salt}$`, `bcrypt$1024$${r}$${p}$${salt}$${digest}`]) {
      assert.equal(await verifyPassword('café au lait, s’il vous plaît', bad), false, bad);
    }
  });
});

describe('users', () => {
  test('add and list: summaries without the hash, names checked, duplicates and weak passwords refused', async () => {
    await withVault(async ({ deps, vault, clock }) => {
      const added = await addUser(deps, 'alice@example.com', 'administrator', PASSWORD);
      assert.deepEqual(added, { name: 'alice@example.com', role: 'administrator', createdAt: T, passwordChangedAt: T });
      clock.now += MINUTE;
      await addUser(deps, 'ops.backup_1-a', 'backup-operator', PASSWORD);
      assert.deepEqual(await listUsers(vault.store), [added, { name: 'ops.backup_1-a', role: 'backup-operator', createdAt: T + MINUTE, passwordChangedAt: T + MINUTE }]);
      assert.equal(await verifyPassword(PASSWORD, (await vault.store.getUser('alice@example.com'))!.passwordHash), true);

      await assert.rejects(addUser(deps, 'alice@example.com', 'viewer', PASSWORD), usage(/already exists/));
      await assert.rejects(addUser(deps, 'Alice@Example.com', 'viewer', PASSWORD), usage(/"alice@example.com" already exists/));
      for (const name of ['', 'a b', 'x/y', 'émile', 'a'.repeat(65), 'semi;colon']) {
        await assert.rejects(addUser(deps, name, 'viewer', PASSWORD), usage(/not a usable user name/), name);
      }
      assert.equal((await addUser(deps, 'a'.repeat(64), 'viewer', PASSWORD)).name.length, 64);
      await assert.rejects(addUser(deps, 'bob', 'viewer', 'short pw 11'), usage(/at least 12 characters/));
      await assert.rejects(addUser(deps, 'bob', 'root' as Role, PASSWORD), usage(/"root" is not a role: use one of administrator, backup-operator, restore-operator, viewer/));
      assert.equal((await listUsers(vault.store)).length, 3);
    });
  });

  test('remove: unknown names refused, the last administrator kept, sessions and tokens go with the user', async () => {
    await withVault(async ({ deps, vault }) => {
      await addUser(deps, 'root', 'administrator', PASSWORD);
      await addUser(deps, 'ann', 'viewer', PASSWORD);
      await assert.rejects(removeUser(deps, 'nobody'), usage(/No user named "nobody"/));
      await assert.rejects(removeUser(deps, 'root'), usage(/"root" is the last administrator/));

      const signedIn = (await signIn(deps, 'ann', PASSWORD))!;
      const { token } = await createApiToken(deps, 'ann', 'cron');
      assert.deepEqual(await removeUser(deps, 'ann'), { name: 'ann', role: 'viewer', createdAt: T, passwordChangedAt: T });
      assert.equal(await sessionUser(deps, signedIn.cookie), undefined);
      assert.equal(await tokenUser(deps, token), undefined);
      assert.deepEqual(await vault.store.listApiTokens(), []);

      // Two administrators removed at once: one of them must stay.
      await addUser(deps, 'root2', 'administrator', PASSWORD);
      const outcomes = await Promise.allSettled([removeUser(deps, 'root'), removeUser(deps, 'root2')]);
      assert.deepEqual(outcomes.map((o) => o.status).sort(), ['fulfilled', 'rejected']);
      assert.deepEqual((await listUsers(vault.store)).map((u) => u.role), ['administrator']);
    });
  });

  test('roles: unknown roles refused, the last administrator is not demoted', async () => {
    await withVault(async ({ deps, vault }) => {
      await addUser(deps, 'root', 'administrator', PASSWORD);
      await addUser(deps, 'ann', 'viewer', PASSWORD);
      await assert.rejects(setRole(deps, 'root', 'viewer'), usage(/Cannot make "root" a viewer: "root" is the last administrator/));
      await assert.rejects(setRole(deps, 'ann', 'superuser' as Role), usage(/not a role/));
      await assert.rejects(setRole(deps, 'nobody', 'viewer'), usage(/No user named "nobody"/));
      await setRole(deps, 'ann', 'administrator');
      await setRole(deps, 'root', 'restore-operator');
      assert.deepEqual(
        (await listUsers(vault.store)).map((u) => [u.name, u.role]),
        [
          ['ann', 'administrator'],
          ['root', 'restore-operator'],
        ],
      );
      await setRole(deps, 'root', 'restore-operator');
      const roleChanges = (await vault.store.listAudit()).filter((e) => e.action === 'user.role');
      assert.deepEqual(
        roleChanges.map((e) => [e.target, e.details]),
        [
          ['root', { from: 'administrator', to: 'restore-operator' }],
          ['ann', { from: 'viewer', to: 'administrator' }],
        ],
      );
    });
  });

  test('a new password ends the sessions and tokens made before it', async () => {
    await withVault(async ({ deps, vault, clock }) => {
      await addUser(deps, 'ann', 'restore-operator', PASSWORD);
      const session = (await signIn(deps, 'ann', PASSWORD))!;
      const { token } = await createApiToken(deps, 'ann', 'old');
      clock.now += MINUTE;
      await assert.rejects(setPassword(deps, 'ann', 'too short'), usage(/too weak/));
      await assert.rejects(setPassword(deps, 'nobody', 'a new long password'), usage(/No user named/));
      await setPassword(deps, 'ann', 'a new long password');
      assert.equal((await vault.store.getUser('ann'))?.passwordChangedAt, T + MINUTE);
      assert.equal(await sessionUser(deps, session.cookie), undefined);
      assert.equal(await tokenUser(deps, token), undefined);
      assert.equal(await signIn(deps, 'ann', PASSWORD), undefined);
      const again = await signIn(deps, 'ann', 'a new long password');
      assert.ok(again);
      assert.equal((await sessionUser(deps, again.cookie))?.user.name, 'ann');
      const { token: fresh } = await createApiToken(deps, 'ann', 'new');
      assert.equal((await tokenUser(deps, fresh))?.user.name, 'ann');
      // The old token stays listed (its owner sees what to renew) but opens nothing.
      assert.deepEqual((await vault.store.listApiTokens('ann')).map((t) => t.label), ['old', 'new']);
    });
  });
});

describe('sessions', () => {
  test('sign-in: a random cookie stored only as its hash, a CSRF token, 12 hours by default', async () => {
    await withVault(async ({ deps, vault }) => {
      await addUser(deps, 'ann', 'viewer', PASSWORD);
      const signedIn = await signIn(deps, 'ann', PASSWORD);
      assert.ok(signedIn);
      assert.match(signedIn.cookie, /^[A-Za-z0-9_-]{43}$/);
      assert.match(signedIn.session.csrfToken, /^[A-Za-z0-9_-]{43}$/);
      assert.notEqual(signedIn.session.csrfToken, signedIn.cookie);
      assert.deepEqual(signedIn.user, { name: 'ann', role: 'viewer', createdAt: T, passwordChangedAt: T });
      assert.deepEqual(signedIn.session, { idHash: sha256(signedIn.cookie), userName: 'ann', csrfToken: signedIn.session.csrfToken, createdAt: T, expiresAt: T + 12 * HOUR, lastSeenAt: T });
      assert.deepEqual(await vault.store.getSession(sha256(signedIn.cookie)), signedIn.session);
      assert.equal(await vault.store.getSession(signedIn.cookie), undefined);
      const short = (await signIn(deps, 'ann', PASSWORD, { ttlMs: 5 * MINUTE }))!;
      assert.equal(short.session.expiresAt, T + 5 * MINUTE);
      assert.notEqual(short.cookie, signedIn.cookie);
      await assert.rejects(signIn(deps, 'ann', PASSWORD, { ttlMs: 0 }), UsageError);
    });
  });

  test('a wrong name or password signs nobody in; every attempt is audited, never a password or an unknown name', async () => {
    await withVault(async ({ deps, vault }) => {
      await addUser(deps, 'ann', 'viewer', PASSWORD);
      assert.equal(await signIn(deps, 'ann', 'wrong password here'), undefined);
      assert.equal(await signIn(deps, 'ann', ''), undefined);
      assert.equal(await signIn(deps, 'Ann', PASSWORD), undefined);
      assert.equal(await signIn(deps, PASSWORD, PASSWORD), undefined);
      assert.ok(await signIn(deps, 'ann', PASSWORD));
      const entries = (await vault.store.listAudit()).filter((e) => e.action.startsWith('user.')).reverse();
      assert.deepEqual(
        entries.map((e) => [e.action, e.target, e.details.reason]),
        [
          ['user.add', 'ann', undefined],
          ['user.sign-in.failed', 'ann', 'wrong password'],
          ['user.sign-in.failed', 'ann', 'wrong password'],
          ['user.sign-in.failed', null, 'unknown user'],
          ['user.sign-in.failed', null, 'unknown user'],
          ['user.sign-in', 'ann', undefined],
        ],
      );
      assert.ok(entries.every((e) => e.actor === 'test'));
      assert.ok(!JSON.stringify(entries).includes(PASSWORD));
    });
  });

  test('a session lives until it expires or is signed out; lastSeenAt slides once a minute', async () => {
    await withVault(async ({ deps, vault, clock }) => {
      await addUser(deps, 'ann', 'backup-operator', PASSWORD);
      const { cookie, session } = (await signIn(deps, 'ann', PASSWORD, { ttlMs: HOUR }))!;
      assert.deepEqual(await sessionUser(deps, cookie), { user: { name: 'ann', role: 'backup-operator', createdAt: T, passwordChangedAt: T }, session });
      clock.now += 30_000;
      assert.equal((await sessionUser(deps, cookie))?.session.lastSeenAt, T);
      clock.now += 30_000;
      assert.equal((await sessionUser(deps, cookie))?.session.lastSeenAt, T + MINUTE);
      assert.equal((await vault.store.getSession(session.idHash))?.lastSeenAt, T + MINUTE);
      // The role is read each time: a change applies to live sessions at once.
      await addUser(deps, 'root', 'administrator', PASSWORD);
      await setRole(deps, 'ann', 'viewer');
      assert.equal((await sessionUser(deps, cookie))?.user.role, 'viewer');

      for (const bad of ['', 'x', `${cookie}x`, cookie.slice(1), sha256(cookie)]) assert.equal(await sessionUser(deps, bad), undefined, bad);

      clock.now = T + HOUR;
      assert.equal(await sessionUser(deps, cookie), undefined);
      assert.equal(await vault.store.getSession(session.idHash), undefined, 'an expired session is deleted when presented');

      const other = (await signIn(deps, 'ann', PASSWORD))!;
      await signOut(deps, other.cookie);
      await signOut(deps, other.cookie);
      await signOut(deps, 'garbage');
      assert.equal(await sessionUser(deps, other.cookie), undefined);
      const signOuts = (await vault.store.listAudit()).filter((e) => e.action === 'user.sign-out');
      assert.deepEqual(
        signOuts.map((e) => [e.target, e.at]),
        [['ann', T + HOUR]],
      );
    });
  });
});

describe('API tokens', () => {
  test('the secret is returned once; the record keeps its hash; a token is checked, expires, and records its use', async () => {
    await withVault(async ({ deps, vault, clock }) => {
      await addUser(deps, 'ann', 'backup-operator', PASSWORD);
      const { token, record } = await createApiToken(deps, 'ann', '  nightly export  ', { expiresInMs: 2 * HOUR });
      const match = /^(ovt_[0-9a-f]{16})_([A-Za-z0-9_-]{43})$/.exec(token);
      assert.ok(match, token);
      assert.deepEqual(record, { id: match[1], secretHash: sha256(match[2]!), userName: 'ann', label: 'nightly export', createdAt: T, expiresAt: T + 2 * HOUR, lastUsedAt: null });
      assert.deepEqual(await vault.store.getApiToken(record.id), record);

      clock.now += MINUTE;
      const used = await tokenUser(deps, token);
      assert.deepEqual(used, { user: { name: 'ann', role: 'backup-operator', createdAt: T, passwordChangedAt: T }, token: { ...record, lastUsedAt: T + MINUTE } });
      assert.equal((await vault.store.getApiToken(record.id))?.lastUsedAt, T + MINUTE);

      const wrongSecret = `${record.id}_${'A'.repeat(43)}`;
      for (const bad of ['', 'ovt_', record.id, wrongSecret, `${token}x`, `Bearer ${token}`, token.toUpperCase()]) assert.equal(await tokenUser(deps, bad), undefined, bad);

      clock.now = T + 2 * HOUR;
      assert.equal(await tokenUser(deps, token), undefined, 'expired');

      const forever = await createApiToken(deps, 'ann', 'ci');
      assert.equal(forever.record.expiresAt, null);
      assert.equal((await tokenUser(deps, forever.token))?.token.id, forever.record.id);
      assert.equal(await revokeApiToken(deps, forever.record.id), true);
      assert.equal(await revokeApiToken(deps, forever.record.id), false);
      assert.equal(await tokenUser(deps, forever.token), undefined);

      const audit = (await vault.store.listAudit()).filter((e) => e.action.startsWith('user.token')).reverse();
      assert.deepEqual(
        audit.map((e) => [e.action, e.target, e.details.tokenId]),
        [
          ['user.token.create', 'ann', record.id],
          ['user.token.create', 'ann', forever.record.id],
          ['user.token.revoke', 'ann', forever.record.id],
        ],
      );
      assert.ok(!JSON.stringify(audit).includes(match[2]!));
    });
  });

  test('tokens for unknown users, with bad labels or lifetimes are refused', async () => {
    await withVault(async ({ deps }) => {
      await addUser(deps, 'ann', 'viewer', PASSWORD);
      await assert.rejects(createApiToken(deps, 'nobody', 'x'), usage(/No user named "nobody"/));
      for (const label of ['', '   ', 'a'.repeat(101), 'line\nbreak']) await assert.rejects(createApiToken(deps, 'ann', label), usage(/token label/), JSON.stringify(label));
      await assert.rejects(createApiToken(deps, 'ann', 'x', { expiresInMs: -1 }), UsageError);
      await assert.rejects(createApiToken(deps, 'ann', 'x', { expiresInMs: Number.NaN }), UsageError);
    });
  });
});

test('no password, cookie or token secret is anywhere in the vault’s files', async () => {
  const secrets: string[] = [PASSWORD, 'the second password'];
  let dir = '';
  await withVault(async ({ deps, vault }) => {
    dir = vault.dir;
    await addUser(deps, 'ann', 'administrator', PASSWORD);
    await setPassword(deps, 'ann', 'the second password');
    const signedIn = (await signIn(deps, 'ann', 'the second password'))!;
    const { token } = await createApiToken(deps, 'ann', 'cron');
    await tokenUser(deps, token);
    await sessionUser(deps, signedIn.cookie);
    // The secret follows the ID (`ovt_` and 16 hex digits); it may itself contain `_`.
    secrets.push(signedIn.cookie, token, token.slice(token.indexOf('_', 'ovt_'.length) + 1));
  });
  const files = await readdir(dir, { recursive: true, withFileTypes: true });
  const bytes = Buffer.concat(await Promise.all(files.filter((f) => f.isFile()).map((f) => readFile(join(f.parentPath, f.name)))));
  assert.ok(bytes.length > 0);
  for (const secret of secrets) {
    assert.equal(bytes.indexOf(Buffer.from(secret)), -1, `a secret of ${secret.length} characters is in the vault in clear`);
  }
});

describe('SignInThrottle', () => {
  test('after max failures in the window a key is refused until the window has passed', () => {
    let now = 0;
    const throttle = new SignInThrottle({ max: 3, windowMs: 10_000, now: () => now });
    assert.equal(throttle.blocked('ann'), 0);
    throttle.failed('ann');
    now = 1000;
    throttle.failed('ann');
    now = 2000;
    assert.equal(throttle.blocked('ann'), 0);
    throttle.failed('ann');
    assert.equal(throttle.blocked('ann'), 8000);
    assert.equal(throttle.blocked('10.0.0.1'), 0, 'keys are counted apart');
    now = 9999;
    assert.equal(throttle.blocked('ann'), 1);
    now = 10_000;
    assert.equal(throttle.blocked('ann'), 0, 'the first failure left the window');
    throttle.failed('ann');
    assert.equal(throttle.blocked('ann'), 1000);
    throttle.succeeded('ann');
    assert.equal(throttle.blocked('ann'), 0, 'a success clears the count');
  });

  test('defaults: 5 failures in 15 minutes; a flood of keys is forgotten as it ages', () => {
    let now = 0;
    const throttle = new SignInThrottle({ now: () => now });
    for (let i = 0; i < 4; i++) throttle.failed('ann');
    assert.equal(throttle.blocked('ann'), 0);
    throttle.failed('ann');
    assert.equal(throttle.blocked('ann'), 15 * MINUTE);
    now = 15 * MINUTE;
    assert.equal(throttle.blocked('ann'), 0);
    // Made-up names by the thousand: memory stays bounded and counting still works.
    for (let i = 0; i < 20_000; i++) throttle.failed(`guess-${i}`);
    assert.equal(throttle.blocked('guess-19999'), 0, 'one failure each');
    for (let i = 0; i < 5; i++) throttle.failed('bob');
    assert.equal(throttle.blocked('bob'), 15 * MINUTE);
  });
});
