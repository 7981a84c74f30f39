// `orgvault cdc`, `orgvault stream` and `orgvault recovery-point` as an admin runs them: the real
// bin/orgvault.js in child processes against the emulator. The stream runs until SIGTERM and its
// versions are in the vault; cdc show reports it; a recovery point is listed and selects what
// export and restore read.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { startEmulator } from '../../emulator/index.ts';
import type { RunningEmulator } from '../../emulator/index.ts';
import { openVault } from '../../src/store/vault.ts';
import { emulatedOrg } from './fixtures/emulated-org.ts';
import type { EmulatedOrg } from './fixtures/emulated-org.ts';
import { jsonOf, runCli } from './fixtures/cli-runner.ts';
import type { CliResult } from './fixtures/cli-runner.ts';

const PASSPHRASE = 'e2e stream passphrase 41c9';
const BIN = fileURLToPath(new URL('../../bin/orgvault.js', import.meta.url));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface StreamJson {
  objectName: string;
  status: string;
  replayId: number | null;
  eventsApplied: number;
  versionsWritten: number;
}
interface PointJson {
  id: string;
  at: number;
  name: string | null;
  objects: { objectName: string; records: number; complete: boolean }[];
}

describe('orgvault stream, cdc and recovery-point', () => {
  let emu: RunningEmulator;
  let sf: EmulatedOrg;
  let scratch: string;
  let vault: string;

  before(async () => {
    emu = await startEmulator({ profile: 'demo', seed: 43 });
    sf = emulatedOrg(emu);
    await sf.admin('POST', '/cdc', { objects: ['Account', 'Contact'], longPollTimeoutMs: 1_500 });
    scratch = await mkdtemp(join(tmpdir(), 'orgvault-cli-stream-'));
    vault = join(scratch, 'vault');
  });
  after(async () => {
    await emu?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  const run = (args: string[]): Promise<CliResult> => runCli(args, { vault, cwd: scratch, passphrase: PASSPHRASE });

  test('init, org add, a backup of Account and Contact', async () => {
    assert.equal((await run(['init'])).code, 0);
    const { info } = emu;
    const added = await run(['org', 'add', 'demo', '--login-url', info.loginUrl, '--client-id', info.clientId, '--client-secret', info.clientSecret, '--username', info.username, '--password', info.password]);
    assert.equal(added.code, 0, added.stderr);
    const backup = await run(['backup', '--org', 'demo', '--object', 'Account,Contact']);
    assert.equal(backup.code, 0, backup.stderr);
  });

  test('cdc set chooses the objects, refuses names that are not objects, and cdc show reports them', async () => {
    const bad = await run(['cdc', 'set', '--org', 'demo', '--objects', 'Account,Not An Object']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /"Not An Object" is not an object API name/);
    const set = await run(['cdc', 'set', '--org', 'demo', '--objects', 'Account,Contact', '--json']);
    assert.equal(set.code, 0, set.stderr);
    assert.deepEqual(jsonOf<{ objects: string[] }>(set).objects, ['Account', 'Contact']);
    const show = jsonOf<{ streams: StreamJson[] }>(await run(['cdc', 'show', '--org', 'demo', '--json']));
    assert.deepEqual(
      show.streams.map((s) => [s.objectName, s.status, s.replayId]),
      [
        ['Account', 'Stopped', null],
        ['Contact', 'Stopped', null],
      ],
    );
  });

  test('orgvault stream stores changes until SIGTERM, and cdc show says what it did', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, ORGVAULT_TEST_SCRYPT: 'fast', ORGVAULT_PASSPHRASE: PASSPHRASE, ORGVAULT_HOME: vault };
    delete env.NODE_TEST_CONTEXT;
    delete env.ORGVAULT_KEY_FILE;
    const child = spawn(process.execPath, [BIN, 'stream', '--org', 'demo', '--json'], { cwd: scratch, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      for (let i = 0; i < 300 && !/Streaming /.test(stderr); i++) await sleep(50);
      assert.match(stderr, /Streaming Account \(Subscribed\), Contact \(Subscribed\) of demo/);

      const id = String((await sf.rest('POST', '/sobjects/Account', { Name: 'Streamed From CLI', Industry: 'Media' })).id);
      await sf.rest('PATCH', `/sobjects/Account/${id}`, { Industry: 'Retail' });
      const { SystemModstamp } = (await sf.query(`SELECT SystemModstamp FROM Account WHERE Id = '${id}'`))[0]!;
      const stamp = Date.parse(String(SystemModstamp).replace('+0000', 'Z'));
      let found = false;
      for (let i = 0; i < 300 && !found; i++) {
        const v = await openVault(vault, { passphrase: PASSPHRASE }, { readonly: true });
        try {
          found = (await v.store.versionsOf(emu.info.orgId, id)).some((version) => version.systemModstamp === stamp && version.fields.Industry === 'Retail');
        } finally {
          await v.close();
        }
        if (!found) await sleep(50);
      }
      assert.ok(found, 'the streamed update is in the vault');
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, stderr);
    const stopped = JSON.parse(stdout) as { objects: StreamJson[] };
    assert.deepEqual(
      stopped.objects.map((s) => [s.objectName, s.status]),
      [
        ['Account', 'Stopped'],
        ['Contact', 'Stopped'],
      ],
    );
    const show = jsonOf<{ streams: StreamJson[] }>(await run(['cdc', 'show', '--org', 'demo', '--json']));
    const account = show.streams.find((s) => s.objectName === 'Account')!;
    assert.ok(account.replayId !== null && account.eventsApplied >= 2 && account.versionsWritten >= 1);
    const logs = await run(['logs', '--org', 'demo', '--json']);
    assert.equal(logs.code, 0, logs.stderr);
    assert.match(logs.stdout, /"stream"/, 'the stream session is a run in the log');
  });

  test('a recovery point is listed and selects what export and restore read', async () => {
    const created = await run(['recovery-point', 'create', '--org', 'demo', '--objects', 'Account', '--name', 'month end', '--json']);
    assert.equal(created.code, 0, created.stderr);
    const point = jsonOf<PointJson>(created);
    assert.equal(point.name, 'month end');
    assert.equal(point.objects[0]!.objectName, 'Account');
    assert.ok(point.objects[0]!.complete && point.objects[0]!.records > 0);

    // Changes after the point are not in it.
    await sf.rest('POST', '/sobjects/Account', { Name: 'After The Point' });
    assert.equal((await run(['backup', '--org', 'demo', '--object', 'Account'])).code, 0);

    const list = jsonOf<{ recoveryPoints: PointJson[] }>(await run(['recovery-point', 'list', '--org', 'demo', '--json']));
    assert.deepEqual(list.recoveryPoints.map((p) => p.id), [point.id]);

    const out = join(scratch, 'export');
    const exported = await run(['export', '--org', 'demo', '--recovery-point', point.id.slice(0, 8), '--out', out]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.deepEqual((await readdir(out)).filter((f) => f.endsWith('.csv')), ['Account.csv']);
    const [header, ...rows] = parse(await readFile(join(out, 'Account.csv'), 'utf8')) as string[][];
    assert.equal(rows.length, point.objects[0]!.records);
    const name = header!.indexOf('Name');
    assert.ok(!rows.some((r) => r[name] === 'After The Point'), 'the export is the state at the point');
    assert.ok(rows.some((r) => r[name] === 'Streamed From CLI'));

    const conflict = await run(['export', '--org', 'demo', '--recovery-point', point.id, '--as-of', '2026-01-01', '--out', join(scratch, 'x')]);
    assert.equal(conflict.code, 2);
    assert.match(conflict.stderr, /--recovery-point sets the point in time itself/);
    const unknown = await run(['restore', '--org', 'demo', '--recovery-point', 'nope', '--list']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /No recovery point "nope"/);

    const listed = await run(['restore', '--org', 'demo', '--recovery-point', 'month end', '--list', '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.ok(!listed.stdout.includes('After The Point'));
  });
});
