// "Back up now" on a vault with a work queue: the server enqueues the backup for the workers
// instead of running it, hands out the run's ID at once, and shows the run as queued (API, job
// log, run page, org page) until a worker claims the job and runs it under that same ID.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startEmulator } from '../../emulator/index.ts';
import type { RunningEmulator } from '../../emulator/index.ts';
import { BACKUP_JOB } from '../../src/backup/index.ts';
import type { OrgRegistration } from '../../src/core/vault.ts';
import { generateKeyFileContent } from '../../src/crypto/keys.ts';
import { addOrg } from '../../src/orgs/index.ts';
import { backupWorkerHandlers, QueueWorker } from '../../src/schedule/index.ts';
import { connectOrg } from '../../src/salesforce/index.ts';
import { createServerApp } from '../../src/server/app.ts';
import type { ServerApp } from '../../src/server/app.ts';
import { openPostgresJobQueue } from '../../src/store/postgres/queue.ts';
import type { JobQueue } from '../../src/store/queue.ts';
import { initVault, openVault } from '../../src/store/vault.ts';
import type { Vault } from '../../src/store/vault.ts';
import { addUser } from '../../src/users/index.ts';
import { emulatedOrg } from '../e2e/fixtures/emulated-org.ts';
import { freshStoreUrl, postgresSkip } from '../fixtures/postgres.ts';
import { callAs, signInApi } from '../fixtures/server-client.ts';
import type { Answer, Json, SignedIn } from '../fixtures/server-client.ts';

const PASSWORD = 'correct horse battery staple';

describe('Back up now with a work queue', { skip: postgresSkip() }, () => {
  let emulator: RunningEmulator;
  let dir: string;
  let vault: Vault;
  let org: OrgRegistration;
  let queue: JobQueue;
  let dropQueue: () => Promise<void>;
  let app: ServerApp;
  let session: SignedIn;

  const call = (method: string, path: string, body?: unknown): Promise<Answer> => callAs(app, session, method, path, body);

  before(async () => {
    emulator = await startEmulator({ profile: 'empty', seed: 5 });
    const sf = emulatedOrg(emulator);
    for (let i = 0; i < 3; i++) await sf.rest('POST', '/sobjects/Account', { Name: `Queued Account ${i}` });
    dir = await mkdtemp(join(tmpdir(), 'orgvault-queued-'));
    const keyFile = Buffer.from(generateKeyFileContent());
    await initVault(join(dir, 'vault'), { keyFile });
    vault = await openVault(join(dir, 'vault'), { keyFile });
    org = (await addOrg({ catalog: vault.store, keyring: vault.keyring, connect: (a) => connectOrg(a) }, 'demo', sf.auth)).registration;
    await addUser({ store: vault.store, actor: 'test' }, 'operator', 'backup-operator', PASSWORD);
    const db = freshStoreUrl('orgvault_sq');
    dropQueue = db.drop;
    queue = await openPostgresJobQueue(db.url);
    app = createServerApp({
      store: vault.store,
      blobs: vault.blobs,
      keyring: vault.keyring,
      connectAuth: (a) => connectOrg(a),
      maskKey: 'mask-key',
      secureCookies: false,
      trustProxy: false,
      eventIntervalMs: 20,
      queue,
    });
    session = await signInApi(app, 'operator', PASSWORD);
  });
  after(async () => {
    await queue?.close();
    await dropQueue?.();
    await vault?.close();
    await emulator?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('enqueues the backup, shows it queued under its run ID, and a worker runs it under that ID', async () => {
    const started = await call('POST', '/api/orgs/demo/backups', { objects: ['Account'] });
    assert.equal(started.status, 202, started.text);
    const runId = String(started.body.runId);
    assert.match(runId, /^[0-9a-f-]{36}$/);

    // Nothing ran in the server: no run yet, one backup job carrying the run ID.
    assert.equal(await vault.store.getRun(runId), undefined);
    const jobs = await queue.list({ kinds: [BACKUP_JOB] });
    assert.equal(jobs.length, 1);
    assert.equal(jobs[0]!.state, 'queued');
    assert.equal(jobs[0]!.payload.runId, runId);
    assert.deepEqual(jobs[0]!.payload.objects, ['Account']);
    assert.equal(jobs[0]!.payload.startedBy, 'operator');

    const log = await call('GET', `/api/runs/${runId}`);
    assert.equal(log.status, 200, log.text);
    assert.equal(log.body.status, 'Queued');
    assert.equal(log.body.org, 'demo');
    assert.match(String(log.body.message), /waiting for a worker/);
    const listed = await call('GET', '/api/runs');
    assert.deepEqual((listed.body.runs as Json[])[0], { runId, kind: 'backup', org: 'demo', status: 'Queued', startedAt: log.body.startedAt, endedAt: null, message: log.body.message, counters: {} });

    // One backup per org: a second "Back up now" is refused while the first waits.
    const again = await call('POST', '/api/orgs/demo/backups', {});
    assert.equal(again.status, 409);
    assert.match(String(again.body.message), /already running or queued/);
    assert.equal((await queue.list({ kinds: [BACKUP_JOB] })).length, 1);
    assert.equal((await call('GET', '/api/orgs/demo')).body.running, true);

    // The pages: the run page follows it, the org page links to it and disables the button.
    const page = await call('GET', `/runs/${runId}`);
    assert.equal(page.status, 200);
    assert.match(page.text, /badge Queued/);
    assert.match(page.text, /waiting for a worker/);
    assert.match(page.text, /new EventSource\('\/api\/runs\//);
    const orgPage = await call('GET', '/orgs/demo');
    assert.match(orgPage.text, /A backup is queued for the workers: <a href="\/runs\/[0-9a-f-]{36}">follow it<\/a>/);
    assert.match(orgPage.text, /<button type="submit" disabled>Back up now<\/button>/);

    // A worker claims the job and runs it: the run the caller was given is the run that happened.
    const connect = (o: OrgRegistration) => connectOrg(emulatedOrg(emulator).auth).then((client) => (o.orgId === org.orgId ? client : Promise.reject(new Error('unknown org'))));
    const worker = new QueueWorker({ queue, workerId: 'w1', handlers: backupWorkerHandlers({ store: vault.store, blobs: vault.blobs, queue, connect, pollMs: 50 }), concurrency: 1, pollMs: 50 });
    worker.start();
    try {
      for (let i = 0; i < 600 && (await queue.list({ kinds: [BACKUP_JOB], states: ['queued', 'running'] })).length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      await worker.stop();
    }
    const done = await call('GET', `/api/runs/${runId}`);
    assert.equal(done.body.status, 'Succeeded', done.text);
    assert.deepEqual((done.body.objects as Json[]).map((o) => o.name), ['Account']);
    assert.equal((await vault.store.countVersions(org.orgId, 'Account')).records, 3);
    assert.equal((await call('GET', '/api/orgs/demo')).body.running, false);
    const audit = (await vault.store.listAudit({ limit: 10 })).find((e) => e.action === 'backup.start');
    assert.deepEqual(audit?.details, { runId, queued: true });
  });

  it('shows a backup job that failed before its run began as Failed, with the last error', async () => {
    const { job } = await queue.enqueue({ kind: BACKUP_JOB, payload: { orgName: 'gone', orgId: '00D000000000000AAA', runId: '6a0c1c55-1111-4222-8333-944445555666' }, dedupeKey: 'backup:00D000000000000AAA', maxAttempts: 1 });
    const lease = await queue.claim('w2', [BACKUP_JOB]);
    assert.equal(lease?.job.jobId, job.jobId);
    await queue.fail(lease!, 'No org named gone in this vault.');
    const log = await call('GET', '/api/runs/6a0c1c55-1111-4222-8333-944445555666');
    assert.equal(log.body.status, 'Failed');
    assert.match(String(log.body.message), /failed on each of its 1 attempt\(s\) before its run could start\. Last error: No org named gone/);
    assert.equal((await call('GET', '/api/runs/7b0c1c55-1111-4222-8333-944445555666')).status, 404);
  });
});
