// `orgvault schedule set|show|clear` and `orgvault scheduler` as an admin runs them: the real
// bin/orgvault.js in a child process against an emulated org. Bad input is refused with exit 2 and
// a message naming the flag and the fix, and saves nothing; `show --json` gives the next run.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { startEmulator } from '../../emulator/index.ts';
import type { RunningEmulator } from '../../emulator/index.ts';
import { openVault } from '../../src/store/vault.ts';
import { jsonOf, runCli } from './fixtures/cli-runner.ts';
import type { CliResult } from './fixtures/cli-runner.ts';

const PASSPHRASE = 'e2e schedule passphrase 41f0';
const BIN = fileURLToPath(new URL('../../bin/orgvault.js', import.meta.url));

interface ShowJson {
  org: string;
  job: string;
  description: string;
  timeZone: string;
  nextRun: string | null;
  lastRun: unknown;
  cycle: { days: number } | null;
  schedules: { job: string; nextRun: string }[];
}

describe('orgvault schedule', () => {
  let emu: RunningEmulator;
  let scratch: string;
  let vault: string;

  before(async () => {
    emu = await startEmulator({ profile: 'empty', seed: 3 });
    scratch = await mkdtemp(join(tmpdir(), 'orgvault-cli-schedule-'));
    vault = join(scratch, 'vault');
  });
  after(async () => {
    await emu?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  const run = (args: string[]): Promise<CliResult> => runCli(args, { vault, cwd: scratch, passphrase: PASSPHRASE });

  test('set up a vault and an org', async () => {
    assert.equal((await run(['init'])).code, 0);
    const { info } = emu;
    const added = await run(['org', 'add', 'prod', '--login-url', info.loginUrl, '--client-id', info.clientId, '--client-secret', info.clientSecret, '--username', info.username, '--password', info.password]);
    assert.equal(added.code, 0, added.stderr);
    const none = await run(['schedule', 'show', '--org', 'prod', '--json']);
    assert.equal(none.code, 0, none.stderr);
    assert.deepEqual(jsonOf<ShowJson>(none), { org: 'prod', nextRun: null, schedules: [] });
  });

  test('bad input: exit 2, a message naming what is wrong and how to fix it, nothing saved', async () => {
    const cases: [string[], RegExp][] = [
      [['--daily', '25:61', '--tz', 'UTC'], /--daily "25:61" is not a time of day: give HH:MM on a 24-hour clock/],
      [['--daily', '02:00', '--tz', 'Europe/Atlantis'], /"Europe\/Atlantis" is not a time zone: give an IANA name such as Europe\/Paris/],
      [['--cron', '0 25 * * *', '--tz', 'UTC'], /--cron "0 25 \* \* \*" is not a cron expression/],
      [['--per-day', 'four'], /--per-day four is not a whole number/],
      [['--daily', '02:00', '--continuous'], /Give one kind of schedule, not --daily and --continuous/],
    ];
    for (const [flags, message] of cases) {
      const result = await run(['schedule', 'set', '--org', 'prod', ...flags, '--json']);
      assert.equal(result.code, 2, `${flags.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message, flags.join(' '));
      assert.equal(jsonOf<{ error: { code: string } }>(result).error.code, 'USAGE');
    }
    const unknown = await run(['schedule', 'set', '--org', 'nope', '--daily', '02:00']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /No org named "nope"/);
    assert.deepEqual(jsonOf<ShowJson>(await run(['schedule', 'show', '--org', 'prod', '--json'])).schedules, []);
  });

  test('set, show (text and --json with nextRun), replace and clear; each change audited', async () => {
    const set = await run(['schedule', 'set', '--org', 'prod', '--daily', '02:30', '--tz', 'America/New_York', '--json']);
    assert.equal(set.code, 0, set.stderr);
    const saved = jsonOf<ShowJson>(set);
    assert.equal(saved.description, 'Daily at 02:30 (America/New_York)');

    const show = await run(['schedule', 'show', '--org', 'prod', '--json']);
    assert.equal(show.code, 0, show.stderr);
    const shown = jsonOf<ShowJson>(show);
    assert.equal(shown.org, 'prod');
    assert.equal(shown.job, 'backup');
    assert.equal(shown.lastRun, null);
    assert.equal(shown.cycle?.days, 365);
    const next = Date.parse(shown.nextRun!);
    assert.ok(next > Date.now() && next <= Date.now() + 25 * 3_600_000, shown.nextRun!);
    // 02:30 in New York is 06:30 or 07:30 UTC, by the season.
    assert.ok(['06:30', '07:30'].includes(shown.nextRun!.slice(11, 16)), shown.nextRun!);

    const text = await run(['schedule', 'show', '--org', 'prod']);
    assert.match(text.stdout, /prod backups: Daily at 02:30 \(America\/New_York\)/);
    assert.match(text.stdout, /next run: \d{4}-\d\d-\d\dT/);
    assert.match(text.stdout, /backup cycle: 365 days/);

    const replaced = await run(['schedule', 'set', '--org', 'prod', '--per-day', '4', '--start', '01:00', '--tz', 'UTC', '--cycle-days', '90', '--object', 'Account,Contact', '--json']);
    assert.equal(replaced.code, 0, replaced.stderr);
    const four = jsonOf<ShowJson & { objects: string[] }>(replaced);
    assert.match(four.description, /4 times a day from 01:00, at 01:00, 07:00, 13:00, 19:00 \(UTC\)/);
    assert.deepEqual(four.objects, ['Account', 'Contact']);
    assert.equal(four.cycle?.days, 90);
    assert.ok(['01', '07', '13', '19'].includes(four.nextRun!.slice(11, 13)));

    const permissions = await run(['schedule', 'set', '--org', 'prod', '--job', 'permissions', '--every-months', '1', '--start', '2099-01-31T09:00', '--tz', 'UTC', '--json']);
    assert.equal(permissions.code, 0, permissions.stderr);
    assert.equal(jsonOf<ShowJson>(permissions).nextRun, '2099-01-31T09:00:00.000Z');
    const both = jsonOf<ShowJson>(await run(['schedule', 'show', '--org', 'prod', '--json']));
    assert.deepEqual(both.schedules.map((s) => s.job), ['backup', 'permissions']);

    const cleared = await run(['schedule', 'clear', '--org', 'prod', '--json']);
    assert.deepEqual(jsonOf(cleared), { org: 'prod', job: 'backup', removed: true });
    const again = await run(['schedule', 'clear', '--org', 'prod']);
    assert.match(again.stdout, /prod had no backup schedule/);

    const opened = await openVault(vault, { passphrase: PASSPHRASE }, { readonly: true });
    try {
      const audit = (await opened.store.listAudit({ limit: 50 })).filter((a) => a.action.startsWith('schedule.'));
      assert.deepEqual(audit.map((a) => a.action).sort(), ['schedule.clear', 'schedule.set', 'schedule.set', 'schedule.set']);
    } finally {
      await opened.close();
    }
  });

  test('backup --baseline reads every record again and says why in the log', async () => {
    const first = await run(['backup', '--org', 'prod', '--object', 'Account', '--json']);
    assert.ok(first.code === 0, first.stderr);
    const baseline = jsonOf<{ runId: string; message: string }>(await run(['backup', '--org', 'prod', '--object', 'Account', '--baseline', '--json']));
    assert.match(baseline.message, /^Full baseline: asked for with --baseline\./);
  });

  test('orgvault scheduler runs until SIGTERM, then stops cleanly', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, ORGVAULT_TEST_SCRYPT: 'fast', ORGVAULT_PASSPHRASE: PASSPHRASE, ORGVAULT_HOME: vault };
    delete env.NODE_TEST_CONTEXT;
    const child = spawn(process.execPath, [BIN, 'scheduler', '--interval', '1', '--json'], { cwd: scratch, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes('\n')) resolve();
      });
      child.once('exit', () => resolve());
    });
    assert.deepEqual(JSON.parse(stdout.split('\n')[0]!), { scheduler: 'running', schedules: 1 });
    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
    assert.match(stderr, /Stopping: waiting for running jobs to finish/);
  });
});
