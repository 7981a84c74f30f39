// Three `orgvault worker` processes share one backup of an emulated org through the PostgreSQL
// work queue; one is killed with SIGKILL while it holds a task. The run still completes, its
// objects spread over the workers, and the vault ends equal to a single-process backup's of the
// same org: the same objects, record and version counts, and latest record payloads.
//
// Each vault's catalog is a PostgreSQL schema of its own (`init --store`), and the workers find
// the queue in the vault's store, as in production. ORGVAULT_TEST_WORKERS_STORE=sqlite keeps the
// catalog in SQLite instead (several processes on one machine share it), with the queue in a
// fresh PostgreSQL schema named with --queue.
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
const PG_VAULT = process.env.ORGVAULT_TEST_WORKERS_STORE !== 'sqlite';

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
  const stores: ReturnType<typeof freshStoreUrl>[] = [];

  before(async () => {
    // Enough records that a capture lasts while a worker is killed, and objects enough to share.
    emu = await startEmulator({ profile: 'bench', scale: 20_000, seed: 23 });
    scratch = await mkdtemp(join(tmpdir(), 'orgvault-workers-'));
    queueDb = freshStoreUrl('orgvault_wq');
    if (!PG_VAULT) queue = await openPostgresJobQueue(queueDb.url);
  });
  after(async () => {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    await queue?.close();
    await queueDb?.drop();
    for (const store of stores) await store.drop();
    await emu?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  const cli = (vault: string, args: string[]) => runCli(args, { vault, cwd: scratch, passphrase: PASSPHRASE });
  /** The queue option: a PostgreSQL vault's queue is its store's database, found without it. */
  const queueArgs = (): string[] => (PG_VAULT ? [] : ['--queue', queueDb.url]);

  async function newVaultWithOrg(name: string): Promise<string> {
    const vault = join(scratch, name);
    const store = PG_VAULT ? freshStoreUrl('orgvault_wv') : undefined;
    if (store) stores.push(store);
    const init = await cli(vault, ['init', ...(store ? ['--store', store.url] : [])]);
    assert.equal(init.code, 0, init.stderr);
    const { info } = emu;
    const added = await cli(vault, ['org', 'add', 'demo', '--login-url', info.loginUrl, '--client-id', info.clientId, '--client-secret', info.clientSecret, '--username', info.username, '--password', info.password]);
    assert.equal(added.code, 0, added.stderr);
    return vault;
  }

  function startWorker(vault: string, id: string): Worker {
    const env: NodeJS.ProcessEnv = { ...process.env, ORGVAULT_TEST_SCRYPT: 'fast', ORGVAULT_PASSPHRASE: PASSPHRASE, ORGVAULT_HOME: vault };
    for (const name of ['ORGVAULT_KEY_FILE', 'ORGVAULT_STORE', 'ORGVAULT_BLOBS', 'NODE_TEST_CONTEXT']) delete env[name];
    // A short lease, so the killed worker's task is taken over soon after it died; longer than
    // SQLite's busy timeout (10 s), during which a worker waiting for the shared catalog's write
    // lock cannot heartbeat.
    const child = spawn(process.execPath, [BIN, 'worker', '--id', id, '--concurrency', '2', '--lease', '15', ...queueArgs()], { cwd: scratch, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    // stdout says once that it runs; stderr has a line per job.
    createInterface({ input: child.stdout! }).on('line', (line) => lines.push(line));
    createInterface({ input: child.stderr! }).on('line', (line) => lines.push(line));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const worker = { id, child, lines, exited };
    workers.push(worker);
    return worker;
  }

  async function admin(method: string, path: string, body?: unknown): Promise<void> {
    const response = await fetch(`${emu.info.loginUrl}/__emulator/${path}`, { method, headers: { Authorization: `Bearer ${emu.info.adminToken}`, 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    assert.ok(response.ok, `${path}: ${response.status} ${await response.text()}`);
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

  test('the workers finish the run and the vault equals a single-process backup of the same org', async (t) => {
    // The reference: one process, as `orgvault backup` always ran.
    const single = await newVaultWithOrg('single');
    const reference = await cli(single, ['backup', '--org', 'demo', '--json']);
    assert.equal(reference.code, 0, reference.stderr);
    assert.equal(jsonOf<{ status: string }>(reference).status, 'Succeeded');

    // Queries answer slowly from now on (latency, not CPU): captures last long enough to be
    // caught holding a task, and this process, which also serves the emulator, stays responsive.
    await admin('POST', 'faults', [
      { kind: 'latency', match: 'GET /services/data/*/query', ms: 2500, name: 'slow-query' },
      { kind: 'latency', match: 'GET /services/data/*/queryAll', ms: 2500, name: 'slow-queryAll' },
    ]);
    const shared = await newVaultWithOrg('shared');
    if (PG_VAULT) queue = await openPostgresJobQueue(stores.at(-1)!.url);
    // Enqueued before any worker runs: it waits in the queue for them.
    const enqueued = await cli(shared, ['backup', '--org', 'demo', '--enqueue', ...queueArgs(), '--json']);
    assert.equal(enqueued.code, 0, enqueued.stderr);
    const job = jsonOf<{ jobId: number; runId: string; created: boolean }>(enqueued);
    assert.equal(job.created, true);
    if (PG_VAULT) {
      // The run ID is handed out at once; until a worker starts it, the job log shows it queued.
      const queued = await cli(shared, ['logs', job.runId, '--json']);
      assert.equal(queued.code, 0, queued.stderr);
      assert.equal(jsonOf<{ status: string }>(queued).status, 'Queued');
    }
    // One backup per org: a second one while the first is live is not added.
    const again = await enqueueBackup(queue, { orgName: 'demo', orgId: emu.info.orgId, startedBy: 'test' });
    assert.deepEqual([again.created, again.job.jobId], [false, job.jobId]);

    // The operator's view: the job waits, with the run it will be, and no worker holds it yet.
    const waiting = await cli(shared, ['queue', '--state', 'queued', ...queueArgs(), '--json']);
    assert.equal(waiting.code, 0, waiting.stderr);
    const listedJobs = jsonOf<{ jobs: { jobId: number; kind: string; state: string; runId: string; org: string; worker: string | null }[] }>(waiting).jobs;
    assert.deepEqual(listedJobs.map((j) => [j.jobId, j.kind, j.state, j.runId, j.org, j.worker]), [[job.jobId, 'backup', 'queued', job.runId, 'demo', null]]);

    const started = [startWorker(shared, 'w1'), startWorker(shared, 'w2'), startWorker(shared, 'w3')];
    // The victim: a worker that is not the coordinator, while it holds the task of a large object
    // (read from the queue itself: the test's own event loop also serves the emulator, so
    // reading the workers' logs could come late).
    const coordinatorId = await until('a worker takes the backup job', async () => (await queue.get(job.jobId))?.worker);
    const coordinator = started.find((w) => w.id === coordinatorId)!;
    const victimTask = await until('another worker holds a large capture', async () =>
      (await queue.list({ kinds: [BACKUP_OBJECT_JOB], states: ['running'] })).find((t) => t.worker !== coordinatorId && t.priority >= 1_000),
    );
    const victim = started.find((w) => w.id === victimTask.worker)!;
    victim.child.kill('SIGKILL');
    await victim.exited;
    const held = victimTask.name!;

    const outcome = await waitForBackupJob(queue, job.jobId, 250);
    assert.equal(outcome.status, 'Succeeded', `${outcome.job?.lastError ?? ''}\n${coordinator.lines.join('\n')}`);
    assert.equal(outcome.runId, job.runId, 'the run is the one named when it was enqueued');

    const tasks = await queue.list({ kinds: [BACKUP_OBJECT_JOB], group: outcome.runId!, limit: 10_000 });
    assert.ok(tasks.length > 5, `objects were tasks: ${tasks.length}`);
    assert.ok(tasks.every((t) => t.state === 'done'), 'every task done');
    // The killed worker's task was taken over by another worker, its lost attempt counted.
    const takenOver = tasks.find((t) => t.jobId === victimTask.jobId);
    assert.ok(takenOver, `the task of ${held}`);
    assert.ok(takenOver.attempts >= 2, `${held} was attempted again (attempts ${takenOver.attempts})`);
    assert.notEqual(takenOver.worker, victim.id);
    // The work was spread: the surviving workers both captured objects.
    const by = new Set(tasks.map((t) => t.worker));
    assert.ok(by.size >= 2, `tasks ran on ${[...by].join(', ')}`);

    // Afterwards the queue lists the run's tasks done, each with the worker that finished it.
    const finished = await cli(shared, ['queue', '--state', 'done', '--limit', '1000', ...queueArgs()]);
    assert.equal(finished.code, 0, finished.stderr);
    assert.match(finished.stdout, new RegExp(`${takenOver.jobId}\\s+done\\s+backup-object ${held} of demo \\(run ${outcome.runId!.slice(0, 8)}`));

    await admin('DELETE', 'faults');
    t.diagnostic(`${tasks.length} tasks; by worker: ${[...by].map((w) => `${w} ${tasks.filter((x) => x.worker === w).length}`).join(', ')}; ${held} taken over after ${victim.id} was killed (attempts ${takenOver.attempts})`);

    // `backup --enqueue --wait`: the next (incremental) run through the queue, its outcome printed.
    const waited = await cli(shared, ['backup', '--org', 'demo', '--enqueue', '--wait', ...queueArgs(), '--json']);
    assert.equal(waited.code, 0, waited.stderr);
    const next = jsonOf<{ runId: string; status: string; objects: unknown[] }>(waited);
    assert.equal(next.status, 'Succeeded');
    assert.notEqual(next.runId, outcome.runId);
    assert.ok(next.objects.length > 5);

    // Stopped with SIGTERM, the others end cleanly.
    for (const w of started.filter((w) => w !== victim)) w.child.kill('SIGTERM');
    for (const w of started.filter((w) => w !== victim)) assert.equal(await w.exited, 0, w.lines.join('\n'));

    await assertSameVault(single, shared, emu.info.orgId);
  });

  test('an SQLite vault without a queue has no workers: the command says what to do', async () => {
    const plain = join(scratch, 'plain');
    assert.equal((await cli(plain, ['init'])).code, 0);
    const result = await cli(plain, ['worker']);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /no work queue.*--store postgres:\/\/.*--queue postgres:\/\//s);
    const listing = await cli(plain, ['queue']);
    assert.equal(listing.code, 2, listing.stderr);
    assert.match(listing.stderr, /no work queue.*orgvault logs.*--queue postgres:\/\//s);
    const badState = await cli(plain, ['queue', '--state', 'waiting', '--queue', queueDb.url]);
    assert.equal(badState.code, 2, badState.stderr);
    assert.match(badState.stderr, /--state waiting: not a job state; give one or more of queued, running, done, dead/);
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
