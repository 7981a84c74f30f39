// `orgvault migrate --to postgres://… --blobs s3://…` as an admin runs it: a vault with history,
// files and ID mappings moved from SQLite and the file system to the local PostgreSQL and a real
// S3-protocol server, then verified with `verify --read-data`, read back the same, and backed up
// into again. Bad input is refused with the source untouched.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startEmulator } from '../../emulator/index.ts';
import type { RunningEmulator } from '../../emulator/index.ts';
import { openVault } from '../../src/store/vault.ts';
import type { Vault } from '../../src/store/vault.ts';
import { jsonOf, runCli } from './fixtures/cli-runner.ts';
import type { CliResult } from './fixtures/cli-runner.ts';
import { freshStoreUrl, postgresSkip } from '../fixtures/postgres.ts';
import { startS3Server } from '../fixtures/s3-server.ts';
import type { TestS3Server } from '../fixtures/s3-server.ts';

const PASSPHRASE = 'e2e migrate passphrase 81c4';
const skip = postgresSkip();

interface StatusJson {
  objects: { name: string; status: string; recordCount: number; versionCount: number }[];
}

/** What a vault holds, read through the library: equal before and after a faithful move. */
async function snapshot(vault: Vault, orgId: string): Promise<unknown> {
  const runs = await vault.store.listRuns({ orgId, limit: 1000 });
  const objects = (await vault.store.getObjectStates(orgId)).map((s) => [s.objectName, s.status]).sort();
  const accounts: string[] = [];
  for await (const v of vault.store.latestVersions(orgId, 'Account', { includeDeleted: true })) accounts.push(`${v.recordId}@${v.systemModstamp}:${JSON.stringify(v.fields)}`);
  const history = accounts.length ? (await vault.store.versionsOf(orgId, accounts[0]!.slice(0, 18))).map((v) => [v.systemModstamp, v.changeType, v.runId]) : [];
  return {
    counts: await vault.store.countVersions(orgId),
    files: await vault.store.countFiles(orgId),
    runs: runs.map((r) => [r.runId, r.kind, r.status]).sort(),
    objects,
    accounts: accounts.sort(),
    history,
    mappings: [...(await vault.store.resolveIds(orgId, ['001000000000OLDAAA', '001000000000OLDBAA'])).entries()].sort(),
    audit: (await vault.store.listAudit({ limit: 1000 })).filter((a) => a.action !== 'vault.migrate').length,
  };
}

describe('orgvault migrate', { skip }, () => {
  let emu: RunningEmulator;
  let s3: TestS3Server;
  let scratch: string;
  let vaultDir: string;
  const schemas: { drop(): Promise<void> }[] = [];
  const outputs: string[] = [];
  /** The schema the first test moved the vault to. */
  let firstTarget = '';

  before(async () => {
    emu = await startEmulator({ profile: 'demo', seed: 23 });
    s3 = await startS3Server();
    scratch = await mkdtemp(join(tmpdir(), 'orgvault-cli-migrate-'));
    vaultDir = join(scratch, 'vault');
  });
  after(async () => {
    await emu?.close();
    await s3?.stop();
    for (const schema of schemas) await schema.drop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  function run(args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
    return runCli(args, {
      vault: vaultDir,
      cwd: scratch,
      passphrase: PASSPHRASE,
      env: { AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey, ...env },
      onOutput: (stdout, stderr) => outputs.push(stdout, stderr),
    });
  }

  function newSchema(): string {
    const location = freshStoreUrl('orgvault_migrate');
    schemas.push(location);
    return location.url;
  }

  async function withVault<T>(fn: (vault: Vault) => Promise<T>): Promise<T> {
    const vault = await openVault(vaultDir, { passphrase: PASSPHRASE });
    try {
      return await fn(vault);
    } finally {
      await vault.close();
    }
  }

  test('moves a vault with history, files and ID mappings; verify --read-data passes on the target; the vault works on', async () => {
    assert.equal((await run(['init'])).code, 0);
    const { info } = emu;
    const added = await run(['org', 'add', 'demo', '--login-url', info.loginUrl, '--client-id', info.clientId, '--client-secret', info.clientSecret, '--username', info.username, '--password', info.password]);
    assert.equal(added.code, 0, added.stderr);
    const first = await run(['backup', '--org', 'demo']);
    assert.equal(first.code, 0, first.stderr);
    // History: records change, then a second backup stores their new versions.
    await fetch(`${info.loginUrl}/__emulator/clock`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${info.adminToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ advanceSeconds: 600 }),
    });
    const activity = await fetch(`${info.loginUrl}/__emulator/activity`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${info.adminToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ changes: 60, seed: 5 }),
    });
    assert.ok(activity.ok, `the emulator generated activity: ${await activity.text()}`);
    const second = await run(['backup', '--org', 'demo']);
    assert.equal(second.code, 0, second.stderr);
    await withVault(async (vault) => {
      const org = (await vault.store.listOrgs())[0]!;
      await vault.store.putIdMappings(org.orgId, [
        { oldId: '001000000000OLDAAA', newId: '001000000000NEWAAA', objectName: 'Account', runId: 'restore-1', createdAt: Date.now() },
        { oldId: '001000000000OLDBAA', newId: '001000000000NEWBAA', objectName: 'Account', runId: 'restore-1', createdAt: Date.now() },
      ]);
    });
    const before = await withVault(async (vault) => {
      const files = await vault.store.countFiles(info.orgId);
      assert.ok(files.files > 0, 'the demo org has files to move');
      const counts = await vault.store.countVersions(info.orgId);
      assert.ok(counts.versions > counts.records, 'the vault holds history: more versions than records');
      return snapshot(vault, info.orgId);
    });
    const statusBefore = jsonOf<StatusJson>(await run(['status', '--org', 'demo', '--json']));

    const storeUrl = newSchema();
    firstTarget = storeUrl;
    const blobsUrl = s3.url('vault');
    const moved = await run(['migrate', '--to', storeUrl, '--blobs', blobsUrl, '--json']);
    assert.equal(moved.code, 0, moved.stderr);
    const report = jsonOf<{ tables: { name: string; rows: number; how: string }[]; blobs: { copied: number }; verify: { ok: boolean } }>(moved);
    assert.ok(report.verify.ok);
    assert.ok(report.blobs.copied > 0);
    assert.ok(report.tables.find((t) => t.name === 'record_versions' && t.how === 'copied' && t.rows > 0));
    assert.ok(report.tables.find((t) => t.name === 'id_mappings' && t.rows === 2));

    // The vault now points at PostgreSQL and S3; the password never lands in storage.json in clear.
    const storage = JSON.parse(readFileSync(join(vaultDir, 'storage.json'), 'utf8')) as { store: string; blobs: string; sealedStorePassword?: string };
    assert.match(storage.store, /^postgres:\/\//);
    assert.equal(storage.blobs, blobsUrl);
    assert.doesNotMatch(readFileSync(join(vaultDir, 'storage.json'), 'utf8'), /:orgvault@/);
    assert.ok(storage.sealedStorePassword, 'the store password is sealed');

    const verify = await run(['verify', '--read-data', '--json']);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    const verified = jsonOf<{ ok: boolean; counters: Record<string, number> }>(verify);
    assert.ok(verified.ok);
    assert.ok(verified.counters.blobsRead > 0 && verified.counters.packsChecked > 0);

    const after = await withVault(async (vault) => {
      assert.equal(vault.location.store.engine, 'postgres');
      assert.equal(vault.location.blobs.engine, 's3');
      return snapshot(vault, info.orgId);
    });
    const { runs: runsAfter, ...restAfter } = after as { runs: unknown[] };
    const { runs: runsBefore, ...restBefore } = before as { runs: unknown[] };
    assert.deepEqual(restAfter, restBefore);
    // The target has the verify runs on top of every run the source had.
    for (const run of runsBefore) assert.ok(runsAfter.some((r) => JSON.stringify(r) === JSON.stringify(run)));
    assert.deepEqual(jsonOf<StatusJson>(await run(['status', '--org', 'demo', '--json'])).objects, statusBefore.objects);

    // The migrated vault takes the next backup: new keys continue after the copied ones.
    const third = await run(['backup', '--org', 'demo', '--json']);
    assert.equal(third.code, 0, third.stderr);
    assert.equal(jsonOf<{ status: string }>(third).status, 'Succeeded');
    assert.ok(existsSync(join(vaultDir, 'catalog.db')), 'the source catalog is left as it was');
    for (const text of outputs) assert.doesNotMatch(text, /orgvault:orgvault@|S3RVER/);
  });

  test('bad input is refused with a clear message; nothing changes', async () => {
    const before = readFileSync(join(vaultDir, 'storage.json'), 'utf8');
    const notUrl = await run(['migrate', '--to', 'mysql://x/y']);
    assert.equal(notUrl.code, 2);
    assert.match(notUrl.stderr, /postgres:\/\//);
    const creds = await run(['migrate', '--to', newSchema(), '--blobs', 's3://AKIAEXAMPLE:wJalrXUtnFEMIexample@bucket/x']);
    assert.equal(creds.code, 2);
    assert.match(creds.stderr, /AWS_ACCESS_KEY_ID/);
    assert.doesNotMatch(creds.stderr, /wJalrXUtnFEMIexample/);
    assert.equal(readFileSync(join(vaultDir, 'storage.json'), 'utf8'), before);
    // From PostgreSQL to another schema (the blobs stay in S3), then back into the first one,
    // which still holds the vault: refused, and the vault stays where it was.
    const onward = await run(['migrate', '--to', newSchema(), '--json']);
    assert.equal(onward.code, 0, onward.stderr);
    const moved = readFileSync(join(vaultDir, 'storage.json'), 'utf8');
    const back = await run(['migrate', '--to', firstTarget]);
    assert.notEqual(back.code, 0);
    assert.match(back.stderr, /not empty/);
    assert.equal(readFileSync(join(vaultDir, 'storage.json'), 'utf8'), moved);
  });

  test('init --store --blobs: a new vault whose catalog is in PostgreSQL and blobs in S3; the directory holds no data', async () => {
    const dir = join(scratch, 'scale-out');
    const storeUrl = newSchema();
    const init = await runCli(['init', '--vault', dir, '--store', storeUrl, '--blobs', s3.url('fresh'), '--json'], {
      cwd: scratch,
      passphrase: PASSPHRASE,
      env: { AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey },
    });
    assert.equal(init.code, 0, init.stderr);
    assert.ok(existsSync(join(dir, 'storage.json')));
    assert.ok(!existsSync(join(dir, 'catalog.db')) && !existsSync(join(dir, 'blobs')), 'no local catalog or blobs');
    const vault = await openVault(dir, { passphrase: PASSPHRASE });
    try {
      assert.equal(vault.location.store.engine, 'postgres');
      assert.equal(vault.location.blobs.engine, 's3');
      assert.deepEqual((await vault.store.listAudit({ limit: 5 })).map((a) => a.action), ['vault.init']);
    } finally {
      await vault.close();
    }
    // A second vault cannot be created in the same schema.
    const again = await runCli(['init', '--vault', join(scratch, 'scale-out-2'), '--store', storeUrl, '--blobs', 'fs'], { cwd: scratch, passphrase: PASSPHRASE });
    assert.equal(again.code, 2);
    assert.match(again.stderr, /already holds a vault/);
    assert.ok(!existsSync(join(scratch, 'scale-out-2', 'vault.json')));
  });
});
