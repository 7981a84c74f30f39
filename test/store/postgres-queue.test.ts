// The work queue on the local PostgreSQL (a fresh schema per test): claims under contention,
// leases that expire and are taken over, retries with backoff then the dead letter, and the
// dedupe key that keeps one backup per org.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { openPostgresJobQueue } from '../../src/store/postgres/queue.ts';
import { LeaseLostError } from '../../src/store/queue.ts';
import type { JobQueue } from '../../src/store/queue.ts';
import { freshStoreUrl, postgresSkip } from '../fixtures/postgres.ts';

async function withQueues(n: number, work: (queues: JobQueue[]) => Promise<void>, backoff = { baseMs: 40, maxMs: 1_000 }): Promise<void> {
  const store = freshStoreUrl('orgvault_q');
  const queues: JobQueue[] = [];
  try {
    // One queue per simulated machine: each has its own pool of connections.
    for (let i = 0; i < n; i++) queues.push(await openPostgresJobQueue(store.url, { backoff }));
    await work(queues);
  } finally {
    for (const q of queues) await q.close();
    await store.drop();
  }
}

/** Waits until `check` holds, polling; fails after a generous limit (never a timing assertion). */
async function eventually<T>(what: string, check: () => Promise<T | null | undefined | false>): Promise<T> {
  for (let i = 0; i < 400; i++) {
    const value = await check();
    if (value) return value;
    await sleep(25);
  }
  return assert.fail(`never happened: ${what}`);
}

describe('PostgreSQL work queue', { skip: postgresSkip() }, () => {
  test('two claimers never get the same job: every job is claimed exactly once', async () => {
    await withQueues(3, async (queues) => {
      const total = 60;
      for (let i = 0; i < total; i++) await queues[0]!.enqueue({ kind: 'task', payload: { i }, group: 'run-1', name: `object-${i}` });
      const claimed: number[][] = queues.map(() => []);
      // Three "machines", four claimers each, all racing until the queue is empty.
      await Promise.all(
        queues.flatMap((q, m) =>
          Array.from({ length: 4 }, async (_, k) => {
            for (;;) {
              const lease = await q.claim(`w${m}-${k}`, ['task']);
              if (!lease) return;
              claimed[m]!.push(lease.job.jobId);
              await q.complete(lease, { by: `w${m}-${k}` });
            }
          }),
        ),
      );
      const all = claimed.flat();
      assert.equal(all.length, total);
      assert.equal(new Set(all).size, total, 'no job claimed twice');
      assert.ok(claimed.filter((c) => c.length > 0).length >= 2, 'the work was spread over the machines');
      assert.deepEqual(await queues[1]!.groupCounts('run-1'), { queued: 0, running: 0, done: total, dead: 0 });
    });
  });

  test('a task named twice in its group is one job, whatever its state', async () => {
    await withQueues(1, async ([q]) => {
      const first = await q!.enqueue({ kind: 'task', payload: { a: 1 }, group: 'run-2', name: 'Account' });
      const lease = await q!.claim('w', ['task']);
      await q!.complete(lease!, {});
      const again = await q!.enqueue({ kind: 'task', payload: { a: 2 }, group: 'run-2', name: 'Account' });
      assert.equal(again.created, false);
      assert.equal(again.job.jobId, first.job.jobId);
      assert.equal(again.job.state, 'done');
      // The same name in another run is another job.
      assert.equal((await q!.enqueue({ kind: 'task', payload: {}, group: 'run-3', name: 'Account' })).created, true);
    });
  });

  test('an expired lease is reclaimed: another worker takes the job, the attempt counted, and the old holder can no longer touch it', async () => {
    await withQueues(2, async ([a, b]) => {
      const { job } = await a!.enqueue({ kind: 'task', payload: {}, maxAttempts: 3 });
      const dead = await a!.claim('worker-a', ['task'], { leaseMs: 100 });
      assert.equal(dead?.job.attempts, 1);
      // worker-a stops heartbeating (killed). Until its lease expires nobody else gets the job.
      assert.equal(await b!.claim('worker-b', ['task'], { leaseMs: 60_000 }), null);
      const taken = await eventually('the lease expires and worker-b claims the job', () => b!.claim('worker-b', ['task'], { leaseMs: 60_000 }));
      assert.equal(taken.job.jobId, job.jobId);
      assert.equal(taken.job.attempts, 2, 'the lost attempt is counted');
      assert.equal(taken.job.worker, 'worker-b');
      assert.match(taken.job.lastError ?? '', /lease of worker worker-a expired/);
      await assert.rejects(a!.heartbeat(dead!), LeaseLostError);
      await assert.rejects(a!.complete(dead!, {}), LeaseLostError);
      await b!.heartbeat(taken, { step: 'half' });
      assert.deepEqual((await a!.get(job.jobId))?.progress, { step: 'half' });
      await b!.complete(taken, { ok: true });
      assert.deepEqual((await a!.get(job.jobId))?.result, { ok: true });
    });
  });

  test('a job whose every attempt lost its lease ends dead', async () => {
    await withQueues(1, async ([q]) => {
      const { job } = await q!.enqueue({ kind: 'task', payload: {}, maxAttempts: 2 });
      await q!.claim('w1', ['task'], { leaseMs: 50 });
      await eventually('claimed again after the lease expired', () => q!.claim('w2', ['task'], { leaseMs: 50 }));
      await eventually('dead once its attempts are spent', async () => (await q!.reclaimExpired(), (await q!.get(job.jobId))?.state === 'dead'));
      assert.equal(await q!.claim('w3', ['task']), null);
    });
  });

  test('a failed job is retried after an exponential backoff, then dead-lettered with its last error', async () => {
    await withQueues(1, async ([q]) => {
      const { job } = await q!.enqueue({ kind: 'task', payload: {}, maxAttempts: 3 });
      const delays: number[] = [];
      for (let attempt = 1; attempt <= 3; attempt++) {
        const lease = await eventually(`attempt ${attempt} claimable`, () => q!.claim('w', ['task']));
        assert.equal(lease.job.attempts, attempt);
        const after = await q!.fail(lease, `boom ${attempt}`);
        if (attempt < 3) {
          assert.equal(after.state, 'queued');
          // Not claimable before its backoff has passed: run_after is at least the delay past the claim.
          delays.push(after.runAfter - lease.job.heartbeatAt!);
        } else {
          assert.equal(after.state, 'dead');
          assert.equal(after.lastError, 'boom 3');
          assert.ok(after.finishedAt);
        }
      }
      // 40 ms then 80 ms (base 40 ms, doubling), measured from the attempt's start on the database's clock.
      assert.ok(delays[0]! >= 40 && delays[1]! >= 80, `backoff grows: ${delays.join(', ')}`);
      assert.equal(await q!.claim('w', ['task']), null, 'a dead job is never claimed');
      assert.deepEqual((await q!.list({ states: ['dead'] })).map((j) => j.jobId), [job.jobId]);
    });
  });

  test('an error retrying cannot fix is dead at once; a released job is claimable again without counting the attempt', async () => {
    await withQueues(1, async ([q]) => {
      const { job: a } = await q!.enqueue({ kind: 'task', payload: {}, priority: 2 });
      const { job: b } = await q!.enqueue({ kind: 'task', payload: {}, priority: 1 });
      const first = await q!.claim('w', ['task']);
      assert.equal(first?.job.jobId, a.jobId, 'higher priority first');
      assert.equal((await q!.fail(first!, 'bad input', { retry: false })).state, 'dead');
      const second = await q!.claim('w', ['task']);
      assert.equal(second?.job.jobId, b.jobId);
      await q!.release(second!);
      const again = await q!.claim('w2', ['task']);
      assert.equal(again?.job.jobId, b.jobId);
      assert.equal(again?.job.attempts, 1, 'a release does not count the attempt');
    });
  });

  test('the dedupe key keeps one live backup per org; once it finished, the next one is a new job', async () => {
    await withQueues(2, async ([a, b]) => {
      const results = await Promise.all([a, b, a, b].map((q) => q!.enqueue({ kind: 'backup', payload: { org: 'acme' }, dedupeKey: 'backup:00D1' })));
      assert.equal(results.filter((r) => r.created).length, 1, 'one enqueue created the job');
      assert.equal(new Set(results.map((r) => r.job.jobId)).size, 1);
      const other = await a!.enqueue({ kind: 'backup', payload: { org: 'globex' }, dedupeKey: 'backup:00D2' });
      assert.equal(other.created, true, 'another org has its own');
      const lease = await a!.claim('w', ['backup'], { group: undefined });
      assert.equal((await b!.enqueue({ kind: 'backup', payload: {}, dedupeKey: 'backup:00D1' })).created, false, 'still deduped while running');
      await a!.complete(lease!, {});
      const lease2 = await a!.claim('w', ['backup']);
      await a!.complete(lease2!, {});
      assert.equal((await b!.enqueue({ kind: 'backup', payload: {}, dedupeKey: 'backup:00D1' })).created, true, 'a new backup once the last finished');
    });
  });

  test('claims can be limited to one group', async () => {
    await withQueues(1, async ([q]) => {
      await q!.enqueue({ kind: 'task', payload: {}, group: 'run-a', name: 'x' });
      const { job } = await q!.enqueue({ kind: 'task', payload: {}, group: 'run-b', name: 'x' });
      const lease = await q!.claim('w', ['task'], { group: 'run-b' });
      assert.equal(lease?.job.jobId, job.jobId);
      assert.equal(await q!.claim('w', ['task'], { group: 'run-b' }), null);
    });
  });
});
