// Three `orgvault worker` processes share one backup of an emulated org through the PostgreSQL
// work queue; one is killed with SIGKILL while it holds a task. The run still completes, its
// objects spread over the workers, and the vault ends equal to a single-process backup's of the
// same org: the same objects, record and version counts, and latest record payloads.
//
// The vault catalog is SQLite here (several processes on one machine share it), with the queue in
// a fresh PostgreSQL schema; with a PostgreSQL vault the queue is the store's own database.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startEmulator } from '../../emulator/index.ts';
import type { RunningEmulator } from '../../emulator/index.ts';
import { BACKUP_OBJECT_JOB, enqueueBackup, waitForBackupJob } from '../../src/backup/index.ts';
import { openPostgresJobQueue } from '../../src/store/postgres/queue.ts';
import type { JobQueue } from '../../src/store/queue.ts';
import { openVault } from '../../src/store/vault.ts';
import { jsonOf, runCli } from './fixtures/cli-runner.ts';
import { freshStoreUrl, postgresSkip } from '../fixtures/postgres.ts';

const BIN = fileURLToPath(new URL('../../bin/orgvault.js', import.meta.url));
const PASSPHRASE = 'e2e workers passphrase 7f1c';

interface Worker {
  id: string;
  child: ChildProcess;
  lines: string[];
  exited: Promise<number | null>;
}

describe('orgvault worker: three workers, one killed mid-backup', { skip: postgresSkip() }, () => {
  let emu: RunningEmulator;
  let scratch: string;
  let queueDb: ReturnType<typeof freshStoreUrl>;
  let queue: JobQueue;
  const workers: Worker[] = [];

  before(async () => {
    // Enough records that a capture lasts while a worker is killed, and objects enough to share.
    emu = await startEmulator({ profile: 'bench', scale: 20_000, seed: 23 });
    scratch = await mkdtemp(join(tmpdir(), 'orgvault-workers-'));
    queueDb = freshStoreUrl('orgvault_wq');
    queue = await openPostgresJobQueue(queueDb.url);
  });
  after(async () => {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    await queue?.close();
    await queueDb?.drop();
    await emu?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  const cli = (vault: string, args: string[]) => runCli(args, { vault, cwd: scratch, passphrase: PASSPHRASE });

  async function newVaultWithOrg(name: string): Promise<string> {
    const vault = join(scratch, name);
    const init = await cli(vault, ['init']);
    assert.equal(init.code, 0, init.stderr);
    const { info } = emu;
    const added = await cli(vault, ['org', 'add', 'demo', '--login-url', info.loginUrl, '--client-id', info.clientId, '--client-secret', info.clientSecret, '--username', info.username, '--password', info.password]);
    assert.equal(added.code, 0, added.stderr);
    return vault;
  }

  function startWorker(vault: string, id: string): Worker {
    const env: NodeJS.ProcessEnv = { ...process.env, ORGVAULT_TEST_SCRYPT: 'fast', ORGVAULT_PASSPHRASE: PASSPHRASE, ORGVAULT_HOME: vault };
    for (const name of ['ORGVAULT_KEY_FILE', 'ORGVAULT_STORE', 'ORGVAULT_BLOBS', 'NODE_TEST_CONTEXT']) delete env[name];
    // A short lease: the killed worker's task is taken over a few seconds after it died.
    const child = spawn(process.execPath, [BIN, 'worker', '--id', id, '--concurrency', '2', '--lease', '3', '--queue', queueDb.url], { cwd: scratch, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    // stdout says once that it runs; stderr has a line per job.
    createInterface({ input: child.stdout! }).on('line', (line) => lines.push(line));
    createInterface({ input: child.stderr! }).on('line', (line) => lines.push(line));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const worker = { id, child, lines, exited };
    workers.push(worker);
    return worker;
  }

  async function until<T>(what: string, check: () => T | undefined | null | false | Promise<T | undefined | null | false>, limitMs = 300_000): Promise<T> {
    const deadline = Date.now() + limitMs;
    while (Date.now() < deadline) {
      const value = await check();
      if (value) return value;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return assert.fail(`gave up waiting: ${what}\n${workers.map((w) => `--- ${w.id}\n${w.lines.join('\n')}`).join('\n')}`);
  }

  test('the workers finish the run and the vault equals a single-process backup of the same org', async () => {
    // The reference: one process, as `orgvault backup` always ran.
    const single = await newVaultWithOrg('single');
    const reference = await cli(single, ['backup', '--org', 'demo', '--json']);
    assert.equal(reference.code, 0, reference.stderr);
    assert.equal(jsonOf<{ status: string }>(reference).status, 'Succeeded');

    const shared = await newVaultWithOrg('shared');
    const started = [startWorker(shared, 'w1'), startWorker(shared, 'w2'), startWorker(shared, 'w3')];
    await until('every worker is running', () => started.every((w) => w.lines.length > 0 || w.child.exitCode !== null));
    for (const w of started) assert.equal(w.child.exitCode, null, `${w.id} exited early:\n${w.lines.join('\n')}`);

    const { job } = await enqueueBackup(queue, { orgName: 'demo', orgId: emu.info.orgId, startedBy: 'test' });
    // The victim: a worker that is not the coordinator, as soon as it starts capturing a large object.
    const coordinator = await until('a worker takes the backup job', () => started.find((w) => w.lines.some((l) => l.includes('started backup of demo'))));
    const victim = await until('another worker starts a large capture', () =>
      started.find((w) => w !== coordinator && w.lines.some((l) => /started backup-object \w+ of demo \(run \w+, ~\d{4,} records\)/.test(l))),
    );
    const held = victim.lines.find((l) => /started backup-object/.test(l) && /~\d{4,} records/.test(l))!.match(/backup-object (\w+) of/)![1]!;
    victim.child.kill('SIGKILL');
    await victim.exited;

    const outcome = await waitForBackupJob(queue, job.jobId, 250);
    assert.equal(outcome.status, 'Succeeded', `${outcome.job?.lastError ?? ''}\n${coordinator.lines.join('\n')}`);

    const tasks = await queue.list({ kinds: [BACKUP_OBJECT_JOB], group: outcome.runId!, limit: 10_000 });
    assert.ok(tasks.length > 5, `objects were tasks: ${tasks.length}`);
    assert.ok(tasks.every((t) => t.state === 'done'), 'every task done');
    // The killed worker's task was taken over by another worker, its lost attempt counted.
    const takenOver = tasks.find((t) => t.name === held);
    assert.ok(takenOver, `the task of ${held}`);
    assert.ok(takenOver.attempts >= 2, `${held} was attempted again (attempts ${takenOver.attempts})`);
    assert.notEqual(takenOver.worker, victim.id);
    // The work was spread: the surviving workers both captured objects.
    const by = new Set(tasks.map((t) => t.worker));
    assert.ok(by.size >= 2, `tasks ran on ${[...by].join(', ')}`);
    assert.ok(tasks.some((t) => t.worker === victim.id) || victim.lines.some((l) => l.includes('started backup-object')), 'the victim had work');

    // Stopped with SIGTERM, the others end cleanly.
    for (const w of started.filter((w) => w !== victim)) w.child.kill('SIGTERM');
    for (const w of started.filter((w) => w !== victim)) assert.equal(await w.exited, 0, w.lines.join('\n'));

    await assertSameVault(single, shared, emu.info.orgId);
  });
});

/** Both vaults hold the same objects, with the same record and version counts and the same latest payload of every record. */
async function assertSameVault(a: string, b: string, orgId: string): Promise<void> {
  const left = await openVault(a, { passphrase: PASSPHRASE }, { readonly: true });
  const right = await openVault(b, { passphrase: PASSPHRASE }, { readonly: true });
  try {
    const names = async (v: typeof left) => (await v.store.getObjectStates(orgId)).filter((s) => s.lastBackupAt !== null).map((s) => s.objectName).sort();
    const objects = await names(left);
    assert.deepEqual(await names(right), objects);
    assert.ok(objects.length > 5);
    let records = 0;
    for (const name of objects) {
      const counts = await left.store.countVersions(orgId, name);
      assert.deepEqual(await right.store.countVersions(orgId, name), counts, `${name}: records and versions`);
      records += counts.records;
      const latest = new Map<string, unknown>();
      for await (const v of left.store.latestVersions(orgId, name, { includeDeleted: true })) latest.set(v.recordId, v.fields);
      let seen = 0;
      for await (const v of right.store.latestVersions(orgId, name, { includeDeleted: true })) {
        assert.deepEqual(v.fields, latest.get(v.recordId), `${name} ${v.recordId}`);
        seen++;
      }
      assert.equal(seen, latest.size, `${name}: every record`);
    }
    assert.ok(records >= 20_000, `${records} records compared`);
    const statuses = (await right.store.getObjectStates(orgId)).filter((s) => ['Error', 'Behind', 'Backfilling'].includes(s.status));
    assert.deepEqual(statuses.map((s) => `${s.objectName} ${s.status} ${s.reason ?? ''}`), []);
  } finally {
    await left.close();
    await right.close();
  }
}
