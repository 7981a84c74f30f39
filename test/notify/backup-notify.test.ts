// Notifications raised by real backups and restores of an emulated org, delivered to a local SMTP
// sink and a local webhook receiver: a failed job (the emulator's fault injection fails the
// objects list), objects in error (named, with Salesforce's status code and the fix), the org
// falling Behind (once, on the change), and a finished restore with its counts. Then every channel
// fails (an SMTP server that refuses, a webhook answering 500, one that never answers): backups
// and restores end exactly as they would without notifications, and the log shows each failure.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startEmulator } from '../../emulator/index.ts';
import type { RunningEmulator } from '../../emulator/index.ts';
import { resolveSettings, runBackup } from '../../src/backup/index.ts';
import type { BackupResult, BackupSettings } from '../../src/backup/index.ts';
import type { OrgRegistration } from '../../src/core/vault.ts';
import { generateKeyFileContent } from '../../src/crypto/keys.ts';
import { createNotifier, removeChannel, setChannel } from '../../src/notify/index.ts';
import type { VaultNotifier } from '../../src/notify/index.ts';
import { addOrg } from '../../src/orgs/index.ts';
import { runRestore } from '../../src/restore/index.ts';
import { connectOrg } from '../../src/salesforce/index.ts';
import { initVault, openVault } from '../../src/store/vault.ts';
import type { Vault } from '../../src/store/vault.ts';
import { emulatedOrg, restoreRequest } from '../e2e/fixtures/emulated-org.ts';
import type { EmulatedOrg } from '../e2e/fixtures/emulated-org.ts';
import { smtpSink, webhookReceiver } from './sinks.ts';
import type { SmtpSink, WebhookReceiver } from './sinks.ts';

const OBJECTS = ['Account', 'Contact'];

describe('notifications from backups and restores', () => {
  let emulator: RunningEmulator;
  let sf: EmulatedOrg;
  let dir: string;
  let vault: Vault;
  let org: OrgRegistration;
  let sink: SmtpSink;
  let hook: WebhookReceiver;
  let notifier: VaultNotifier;
  const problems: string[] = [];

  const connect = () => connectOrg(sf.auth, { retry: { attempts: 2, baseDelayMs: 2, maxDelayMs: 10 } });
  const backup = async (settings: Partial<BackupSettings> = {}): Promise<BackupResult> =>
    runBackup({ store: vault.store, blobs: vault.blobs, client: await connect(), notifier }, { org, settings: resolveSettings(settings), objects: OBJECTS });
  const fault = (spec: unknown) => sf.admin('POST', '/faults', spec);
  const clearFaults = () => sf.admin('DELETE', '/faults');
  const kinds = () => hook.received.map((r) => r.body.kind);
  const settingsDeps = () => ({ store: vault.store, keyring: vault.keyring, audit: vault.store, actor: 'test' });

  before(async () => {
    emulator = await startEmulator({ profile: 'demo', seed: 7 });
    sf = emulatedOrg(emulator);
    dir = await mkdtemp(join(tmpdir(), 'orgvault-notify-e2e-'));
    const keyFile = Buffer.from(generateKeyFileContent());
    await initVault(join(dir, 'vault'), { keyFile });
    vault = await openVault(join(dir, 'vault'), { keyFile });
    org = (await addOrg({ catalog: vault.store, keyring: vault.keyring, connect: (a) => connectOrg(a) }, 'demo', sf.auth)).registration;
    sink = await smtpSink();
    hook = await webhookReceiver();
    notifier = createNotifier({ store: vault.store, keyring: vault.keyring, channelTimeoutMs: 3_000, attemptTimeoutMs: 500, retries: 1, backoffMs: 20, onProblem: (m) => problems.push(m) });
    await setChannel(settingsDeps(), org, { name: 'admins', type: 'email', email: { to: ['admin@example.com'], from: 'orgvault@example.com', host: '127.0.0.1', port: sink.port, security: 'none' } });
    await setChannel(settingsDeps(), org, { name: 'ops', type: 'webhook', url: hook.url, events: ['job-failed', 'objects-in-error', 'org-behind', 'restore-finished'] });
  });

  after(async () => {
    await vault.close();
    await emulator.close();
    await Promise.all([sink.close(), hook.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  it('a failed job sends an email and a webhook', async () => {
    await fault({ kind: 'error', match: 'GET /services/data/*/sobjects$', status: 500, name: 'objects-list' });
    try {
      await assert.rejects(backup());
    } finally {
      await clearFaults();
    }
    const [run] = await vault.store.listRuns({ orgId: org.orgId, kind: 'backup' });
    assert.equal(run!.status, 'Failed');
    const [mail] = await sink.waitFor(1);
    assert.equal(mail!.subject, '[orgvault] Backup job of demo failed');
    assert.match(mail!.text ?? '', new RegExp(`backup job ${run!.runId} of demo failed`));
    assert.deepEqual(kinds(), ['job-failed']);
    assert.equal(hook.received[0]!.body.runId, run!.runId);
    assert.equal((hook.received[0]!.body.details as { status: string }).status, 'Failed');
  });

  it('objects in error are named with their status code and fix', async () => {
    await fault({ kind: 'error', match: 'GET /services/data/*/sobjects/Account/describe', status: 400, name: 'account-describe' });
    let result: BackupResult;
    try {
      result = await backup();
    } finally {
      await clearFaults();
    }
    assert.equal(result.status, 'CompletedWithErrors');
    const mails = await sink.waitFor(2);
    assert.equal(mails[1]!.subject, '[orgvault] 1 object(s) of demo in error');
    assert.match(mails[1]!.text ?? '', /• Account: Error INVALID_REQUEST/);
    assert.doesNotMatch(mails[1]!.text ?? '', /Contact/);
    assert.deepEqual(kinds(), ['job-failed', 'objects-in-error']);
    const details = hook.received[1]!.body.details as { objects: { name: string; statusCode: string; fix: string | null }[] };
    assert.deepEqual(details.objects.map((o) => [o.name, o.statusCode]), [['Account', 'INVALID_REQUEST']]);
    assert.ok(details.objects[0]!.fix);
  });

  it('a clean job sends nothing; the org falling Behind is told once, not on every job', async () => {
    assert.equal((await backup()).status, 'Succeeded');
    assert.deepEqual(kinds(), ['job-failed', 'objects-in-error']);

    const starved = await backup({ apiBudgetShare: 0.0001 });
    assert.equal(starved.status, 'CompletedWithErrors');
    assert.deepEqual(kinds(), ['job-failed', 'objects-in-error', 'org-behind']);
    const behind = hook.received[2]!.body;
    assert.equal(behind.title, 'demo is Behind');
    assert.deepEqual((behind.details as { objects: string[]; previous: string }).objects, OBJECTS);
    assert.equal((behind.details as { previous: string }).previous, 'Running Continuously');
    const mails = await sink.waitFor(3);
    assert.match(mails[2]!.text ?? '', /now Behind \(it was Running Continuously\)/);

    await backup({ apiBudgetShare: 0.0001 });
    assert.deepEqual(kinds(), ['job-failed', 'objects-in-error', 'org-behind'], 'still Behind: no second notification');
    assert.equal((await backup()).status, 'Succeeded');
  });

  it('a finished restore notifies with its counts', async () => {
    const [contact] = await sf.query('SELECT Id FROM Contact WHERE IsDeleted = false ORDER BY Id LIMIT 1');
    const id = String(contact!.Id);
    await sf.rest('DELETE', `/sobjects/Contact/${id}`);
    const report = await runRestore({ store: vault.store, blobs: vault.blobs, client: await connect(), notifier }, restoreRequest(org, { selection: { objectName: 'Contact', recordIds: [id] } }));
    assert.equal(report.status, 'Succeeded');
    const last = hook.received.at(-1)!.body;
    assert.equal(last.kind, 'restore-finished');
    assert.equal(last.runId, report.runId);
    const d = last.details as Record<string, number | string>;
    assert.equal(d.status, 'Succeeded');
    assert.equal(Number(d.created) + Number(d.undeleted), 1, JSON.stringify(d));
    assert.equal(d.failed, 0);
    const mails = await sink.waitFor(4);
    assert.match(mails[3]!.subject ?? '', /Restore of demo finished/);

    // A dry run is not a finished restore.
    const before = hook.received.length;
    await runRestore({ store: vault.store, blobs: vault.blobs, client: await connect(), notifier }, restoreRequest(org, { selection: { objectName: 'Contact', recordIds: [id] }, dryRun: true }));
    assert.equal(hook.received.length, before);
  });

  it('failing channels leave backups and restores as they would be, and the log shows each failure', async () => {
    const refusing = await smtpSink({ refuse: true });
    const failing = await webhookReceiver('/fail/secret-1');
    const hanging = await webhookReceiver('/hang/secret-2');
    failing.answer = 500;
    hanging.answer = 'hang';
    try {
      for (const name of ['admins', 'ops']) await removeChannel(settingsDeps(), org, name);
      await setChannel(settingsDeps(), org, { name: 'refusing', type: 'email', email: { to: ['admin@example.com'], from: 'orgvault@example.com', host: '127.0.0.1', port: refusing.port, security: 'none' } });
      await setChannel(settingsDeps(), org, { name: 'five-hundred', type: 'webhook', url: failing.url });
      await setChannel(settingsDeps(), org, { name: 'hanging', type: 'slack', url: hanging.url });
      problems.length = 0;

      // The API user loses read access to Account: it ends Unavailable (NOT_VISIBLE), an object in error.
      await sf.admin('POST', '/permissions', { object: 'Account', read: false });
      let result: BackupResult;
      try {
        result = await backup();
      } finally {
        await sf.admin('POST', '/permissions', { object: 'Account', read: true });
      }
      assert.equal(result.status, 'CompletedWithErrors', 'the objects error, not the channels, decides the status');
      assert.deepEqual(result.objects.filter((o) => o.status !== 'Waiting').map((o) => [o.name, o.status, o.statusCode]), [['Account', 'Unavailable', 'NOT_VISIBLE']]);
      const [run] = await vault.store.listRuns({ orgId: org.orgId, kind: 'backup' });
      assert.equal(run!.runId, result.runId);
      assert.equal(run!.status, 'CompletedWithErrors');

      const [contact] = await sf.query('SELECT Id FROM Contact WHERE IsDeleted = false ORDER BY Id DESC LIMIT 1');
      await sf.rest('DELETE', `/sobjects/Contact/${String(contact!.Id)}`);
      const report = await runRestore({ store: vault.store, blobs: vault.blobs, client: await connect(), notifier }, restoreRequest(org, { selection: { objectName: 'Contact', recordIds: [String(contact!.Id)] } }));
      assert.equal(report.status, 'Succeeded', 'a restore whose every channel fails still succeeds');
      assert.equal((await vault.store.getRun(report.runId))!.status, 'Succeeded');

      const log = (await vault.store.listNotificationLog({ orgId: org.orgId, limit: 6 })).reverse();
      assert.deepEqual(
        log.map((e) => `${e.eventKind}>${e.channel}:${e.outcome}`).sort(),
        ['objects-in-error>five-hundred:failed', 'objects-in-error>hanging:failed', 'objects-in-error>refusing:failed', 'restore-finished>five-hundred:failed', 'restore-finished>hanging:failed', 'restore-finished>refusing:failed'],
      );
      assert.ok(log.every((e) => e.error && !e.error.includes('secret-')), JSON.stringify(log.map((e) => e.error)));
      assert.equal(problems.length, 6);
    } finally {
      await Promise.all([refusing.close(), failing.close(), hanging.close()]);
    }
  });
});
