// The distributed backup in-process, on the real parts (the emulator over HTTP, an SQLite vault,
// the work queue in PostgreSQL): workers capture a run's objects, a coordinator that dies after
// its first task is taken over and resumes the same run (tasks done stay done), and the result
// equals a single-process backup's. Also the scheduler's runner enqueueing instead of running.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startEmulator } from '../../emulator/index.ts';
import type { RunningEmulator } from '../../emulator/index.ts';
import { BACKUP_JOB, BACKUP_OBJECT_JOB, coordinateBackup, enqueueBackup, resolveSettings, runBackup, waitForBackupJob } from '../../src/backup/index.ts';
import type { DistributedBackupDeps } from '../../src/backup/index.ts';
import type { OrgClient } from '../../src/core/org-client.ts';
import type { OrgRegistration } from '../../src/core/vault.ts';
import { generateKeyFileContent } from '../../src/crypto/keys.ts';
import { connectOrg } from '../../src/salesforce/index.ts';
import { QueueWorker, backupJob, backupWorkerHandlers } from '../../src/schedule/index.ts';
import { openPostgresJobQueue } from '../../src/store/postgres/queue.ts';
import type { ScheduleRecord } from '../../src/store/port.ts';
import type { JobQueue } from '../../src/store/queue.ts';
import { initVault, openVault } from '../../src/store/vault.ts';
import type { Vault } from '../../src/store/vault.ts';
import { freshStoreUrl, postgresSkip } from '../fixtures/postgres.ts';

describe('distributed backup through the work queue', { skip: postgresSkip() }, () => {
  let emu: RunningEmulator;
  let dir: string;
  const keyFile = Buffer.from(generateKeyFileContent());
  let org: OrgRegistration;
  const connect = (): Promise<OrgClient> => {
    const { info } = emu;
    return connectOrg({ kind: 'password', loginUrl: info.loginUrl, clientId: info.clientId, clientSecret: info.clientSecret, username: info.username, password: info.password });
  };

  before(async () => {
    emu = await startEmulator({ profile: 'demo', seed: 31 });
    dir = await mkdtemp(join(tmpdir(), 'orgvault-distributed-'));
    const { info } = emu;
    org = { name: 'demo', orgId: info.orgId, instanceUrl: info.instanceUrl, loginUrl: info.loginUrl, sealedAuth: new Uint8Array(1), createdAt: 0, settings: {} };
  });
  after(async () => {
    await emu?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function vaultNamed(name: string): Promise<Vault> {
    await initVault(join(dir, name), { keyFile });
    const vault = await openVault(join(dir, name), { keyFile });
    await vault.store.putOrg(org);
    return vault;
  }

  async function withQueue(work: (queue: JobQueue) => Promise<void>): Promise<void> {
    const db = freshStoreUrl('orgvault_dq');
    const queue = await openPostgresJobQueue(db.url, { backoff: { baseMs: 50, maxMs: 200 } });
    try {
      await work(queue);
    } finally {
      await queue.close();
      await db.drop();
    }
  }

  test('a coordinator that dies after its first task is taken over: the same run resumes, done tasks stay done, and the vault equals a single-process run', async () => {
    const reference = await vaultNamed('reference');
    const shared = await vaultNamed('shared');
    try {
      const single = await runBackup({ store: reference.store, blobs: reference.blobs, client: await connect() }, { org, settings: resolveSettings({}) });
      assert.equal(single.status, 'Succeeded');
      await withQueue(async (queue) => {
        const deps: DistributedBackupDeps = { store: shared.store, blobs: shared.blobs, queue, connect, pollMs: 50, lockStaleMs: 1_000 };
        const lines: string[] = [];
        const handlers = backupWorkerHandlers(deps);
        const helper = new QueueWorker({ queue, workerId: 'first', handlers, leaseMs: 2_000, log: (l) => lines.push(l) });
        const { job } = await enqueueBackup(queue, { orgName: 'demo', orgId: org.orgId, startedBy: 'test' });

        // The first coordinator plans the run, captures one task, then dies (an error, not a heartbeat lost).
        const lease = await queue.claim('first', [BACKUP_JOB], { leaseMs: 2_000 });
        assert.equal(lease?.job.jobId, job.jobId);
        const crash = new Error('simulated crash of the coordinator');
        await assert.rejects(
          coordinateBackup(deps, {
            queue,
            lease: lease!,
            workerId: 'first',
            signal: new AbortController().signal,
            stopping: () => false,
            runClaimed: async (task) => {
              await helper.runLeased(task);
              throw crash;
            },
            leaseMs: 2_000,
          }),
          crash,
        );
        await queue.fail(lease!, crash.message);
        const progress = (await queue.get(job.jobId))!.progress as { runId: string; plan: { capture: unknown[] } };
        assert.ok(progress.runId && progress.plan.capture.length > 3, 'the run and its plan were saved on the job');
        assert.equal((await shared.store.getRun(progress.runId))?.status, 'Running');
        const doneBefore = (await queue.list({ kinds: [BACKUP_OBJECT_JOB], group: progress.runId, states: ['done'] })).map((t) => t.jobId);
        assert.equal(doneBefore.length, 1);

        // Two workers take over after the backoff.
        const workers = ['second', 'third'].map((id) => new QueueWorker({ queue, workerId: id, handlers, concurrency: 2, leaseMs: 2_000, pollMs: 50, log: (l) => lines.push(l) }));
        for (const w of workers) w.start();
        const outcome = await waitForBackupJob(queue, job.jobId, 50);
        for (const w of workers) await w.stop();
        assert.equal(outcome.status, 'Succeeded', lines.join('\n'));
        assert.equal(outcome.runId, progress.runId, 'the same run was resumed');

        const runs = await shared.store.listRuns({ orgId: org.orgId, kind: 'backup' });
        assert.deepEqual(runs.map((r) => [r.runId, r.status]), [[progress.runId, 'Succeeded']], 'one run, not an Interrupted one and a new one');
        const tasks = await queue.list({ kinds: [BACKUP_OBJECT_JOB], group: progress.runId, limit: 10_000 });
        assert.ok(tasks.every((t) => t.state === 'done'));
        for (const id of doneBefore) assert.equal(tasks.find((t) => t.jobId === id)?.attempts, 1, 'a task done before the takeover was not run again');
        assert.equal(new Set(tasks.map((t) => t.name)).size, tasks.length, 'one task per object');
        // Every object the single-process run captured is in the distributed run's log.
        const logged = (await shared.store.listObjectRuns(progress.runId)).map((o) => o.objectName).sort();
        assert.deepEqual(logged, (await reference.store.listObjectRuns(single.runId)).map((o) => o.objectName).sort());

        for (const state of await reference.store.getObjectStates(org.orgId)) {
          if (state.lastBackupAt === null) continue;
          assert.deepEqual(await shared.store.countVersions(org.orgId, state.objectName), await reference.store.countVersions(org.orgId, state.objectName), state.objectName);
        }
      });
    } finally {
      await reference.close();
      await shared.close();
    }
  });

  test('the scheduler\'s backup runner enqueues for the workers and records the outcome; a second one while the first is live is Skipped', async () => {
    const vault = await vaultNamed('scheduled');
    try {
      await withQueue(async (queue) => {
        const runner = backupJob({ store: vault.store, blobs: vault.blobs, connect, queue, pollMs: 50 });
        const schedule: ScheduleRecord = { orgName: 'demo', job: 'backup', rule: { kind: 'daily', minute: 120 }, timeZone: 'UTC', objects: ['Account', 'Contact'], cycleDays: null, setAt: 0, setBy: 'test' };
        const pending = runner({ org, schedule, state: undefined, slot: 0, startedBy: 'scheduler' });
        // While it is queued (no worker yet), another is refused as Skipped.
        await new Promise((resolve) => setTimeout(resolve, 200));
        const second = await runner({ org, schedule, state: undefined, slot: 1, startedBy: 'scheduler' });
        assert.equal(second.status, 'Skipped');
        assert.match(second.message ?? '', /already queued/);
        const worker = new QueueWorker({ queue, workerId: 'solo', handlers: backupWorkerHandlers({ store: vault.store, blobs: vault.blobs, queue, connect, pollMs: 50 }), concurrency: 1, pollMs: 50 });
        worker.start();
        const first = await pending;
        await worker.stop();
        assert.equal(first.status, 'Succeeded', first.message ?? '');
        assert.equal((await vault.store.getRun(first.runId!))?.status, 'Succeeded');
        // One worker with one slot finished it: the coordinator captured its own tasks.
        assert.deepEqual((await vault.store.listObjectRuns(first.runId!)).map((o) => o.objectName).sort(), ['Account', 'Contact']);
        assert.ok((await vault.store.countVersions(org.orgId, 'Account')).records > 0);
      });
    } finally {
      await vault.close();
    }
  });
});
