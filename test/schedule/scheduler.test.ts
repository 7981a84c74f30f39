// The scheduler against an emulated org, its clock driven by the test: a daily schedule runs once
// a day, N a day N times; a job still running makes the next slot a Skipped run, as another
// process holding the org's lock does; a restart runs a missed job once; objects that ended in
// Error are read again by the next job; a backup cycle's end, a long gap and a refreshed org each
// make the next job a full baseline, with the reason in the log. Ticks are called directly.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startEmulator } from '../../emulator/index.ts';
import type { RunningEmulator } from '../../emulator/index.ts';
import type { OrgClient } from '../../src/core/org-client.ts';
import type { OrgRegistration, Run } from '../../src/core/vault.ts';
import { generateKeyFileContent } from '../../src/crypto/keys.ts';
import { Scheduler, backupJob, clearSchedule, scheduleViews, setSchedule } from '../../src/schedule/index.ts';
import type { JobRunner, ScheduleInput } from '../../src/schedule/index.ts';
import { connectOrg } from '../../src/salesforce/index.ts';
import { initVault, openVault } from '../../src/store/vault.ts';
import type { Vault } from '../../src/store/vault.ts';
import { emulatedOrg } from '../e2e/fixtures/emulated-org.ts';
import type { EmulatedOrg } from '../e2e/fixtures/emulated-org.ts';

const HOUR = 3600;
const DAY = 24 * HOUR;
const OBJECTS = ['Account', 'Contact'];

describe('the scheduler on an emulated org', () => {
  let emulator: RunningEmulator;
  let api: EmulatedOrg;
  let dir: string;
  let keyFile: Buffer;
  let vault: Vault;
  let org: OrgRegistration;
  const lines: string[] = [];

  const now = (): number => emulator.org.clock.nowMs();
  const connect = (): Promise<OrgClient> => connectOrg(api.auth, { retry: { attempts: 3, baseDelayMs: 2, maxDelayMs: 10 } });
  const realBackup = (): JobRunner => backupJob({ store: vault.store, blobs: vault.blobs, connect, now });
  const scheduler = (jobs: { backup: JobRunner } = { backup: realBackup() }): Scheduler => new Scheduler({ store: vault.store, jobs, now, log: (line) => lines.push(line) });
  const schedule = (input: ScheduleInput): Promise<unknown> => setSchedule({ store: vault.store, audit: vault.store, actor: 'test', now }, org, { timeZone: 'UTC', objects: OBJECTS, ...input });
  const scheduledRuns = async (): Promise<Run[]> => (await vault.store.listRuns({ orgId: org.orgId, kind: 'backup', limit: 10_000 })).filter((r) => r.parameters.startedBy === 'scheduler');
  /** Moves the org's clock by `seconds` in steps, ticking (and letting each job finish) after each. */
  const drive = async (s: Scheduler, seconds: number, step: number): Promise<void> => {
    for (let moved = 0; moved < seconds; moved += step) {
      emulator.org.clock.advance(step);
      await s.tick();
      await s.idle();
    }
  };
  /** Moves the clock to the next `minuteOfDay` UTC (strictly later). */
  const moveTo = (minuteOfDay: number): void => {
    const t = now();
    const dayStart = Math.floor(t / 86_400_000) * 86_400_000;
    let target = dayStart + minuteOfDay * 60_000;
    if (target <= t) target += 86_400_000;
    emulator.org.clock.advance((target - t) / 1000);
  };

  before(async () => {
    emulator = await startEmulator({ profile: 'empty', seed: 5 });
    api = emulatedOrg(emulator);
    for (let i = 0; i < 12; i++) {
      const account = await api.rest('POST', '/sobjects/Account', { Name: `Scheduled ${i}` });
      await api.rest('POST', '/sobjects/Contact', { LastName: `Contact ${i}`, AccountId: account.id });
    }
    dir = await mkdtemp(join(tmpdir(), 'orgvault-scheduler-'));
    keyFile = Buffer.from(generateKeyFileContent());
    await initVault(join(dir, 'vault'), { keyFile });
    vault = await openVault(join(dir, 'vault'), { keyFile });
    const { info } = emulator;
    org = { name: 'prod', orgId: info.orgId, instanceUrl: info.instanceUrl, loginUrl: info.loginUrl, sealedAuth: new Uint8Array(1), createdAt: now(), settings: {} };
    await vault.store.putOrg(org);
  });

  after(async () => {
    await vault?.close();
    await emulator?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('a daily schedule runs once a day, whatever the ticks', async () => {
    moveTo(60);
    await schedule({ daily: '02:00' });
    const s = scheduler();
    const before = (await scheduledRuns()).length;
    // Three days in steps of 20 minutes: 216 ticks, three 02:00s.
    await drive(s, 3 * DAY, 20 * 60);
    const runs = (await scheduledRuns()).slice(0, (await scheduledRuns()).length - before);
    assert.equal(runs.length, 3, lines.join('\n'));
    assert.ok(runs.every((r) => r.status === 'Succeeded'), JSON.stringify(runs.map((r) => [r.status, r.message])));
    for (const run of runs) assert.equal(new Date(run.startedAt).getUTCHours(), 2);
    const [view] = await scheduleViews(vault.store, org, now());
    assert.equal(view!.lastRun?.status, 'Succeeded');
    assert.equal(view!.lastRun?.runId, runs[0]!.runId);
    assert.equal(new Date(view!.nextRun!).getUTCHours(), 2);
    assert.ok(Date.parse(view!.nextRun!) > now());
  });

  test('N a day runs N times a day', async () => {
    moveTo(0);
    await schedule({ perDay: 4, start: '03:00' });
    const s = scheduler();
    const before = (await scheduledRuns()).length;
    await drive(s, 2 * DAY, 30 * 60);
    const runs = (await scheduledRuns()).slice(0, (await scheduledRuns()).length - before);
    assert.equal(runs.length, 8, lines.join('\n'));
    assert.deepEqual([...new Set(runs.map((r) => new Date(r.startedAt).getUTCHours()))].sort((a, b) => a - b), [3, 9, 15, 21]);
  });

  test('a job still running when the next slot comes makes that slot a Skipped run, with the reason', async () => {
    moveTo(0);
    await schedule({ continuous: true, every: 60 });
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const real = realBackup();
    const s = scheduler({ backup: async (context) => (await gate, real(context)) });
    const before = (await scheduledRuns()).length;
    emulator.org.clock.advance(HOUR);
    const first = await s.tick();
    assert.equal(first.started.length, 1);
    // The first job holds on past the next slot.
    emulator.org.clock.advance(HOUR);
    const second = await s.tick();
    assert.equal(second.started.length, 0);
    assert.equal(second.skipped.length, 1);
    release();
    await s.idle();
    const runs = (await scheduledRuns()).slice(0, (await scheduledRuns()).length - before);
    assert.deepEqual(runs.map((r) => r.status).sort(), ['Skipped', 'Succeeded']);
    const skipped = runs.find((r) => r.status === 'Skipped')!;
    assert.match(skipped.message ?? '', /did not start because the job due .* is still running/);
  });

  test('another process holding the org lock makes the scheduled backup a Skipped run naming it', async () => {
    const s = scheduler();
    const lock = await vault.store.acquireOrgLock(org.orgId, 'backup by another process (pid 4242)');
    try {
      emulator.org.clock.advance(HOUR);
      assert.equal((await s.tick()).started.length, 1);
      await s.idle();
    } finally {
      await lock.release();
    }
    const [latest] = await scheduledRuns();
    assert.equal(latest!.status, 'Skipped');
    assert.match(latest!.message ?? '', /another backup of prod is running \(backup by another process \(pid 4242\)/);
    const [view] = await scheduleViews(vault.store, org, now());
    assert.equal(view!.lastRun?.status, 'Skipped');
  });

  test('after a restart, a job missed while nothing ran runs once, not once per missed slot', async () => {
    moveTo(60);
    await schedule({ daily: '02:00' });
    const first = scheduler();
    await drive(first, 2 * HOUR, HOUR);
    const before = (await scheduledRuns()).length;
    // The process stops; three days pass; a new one starts on the same vault.
    emulator.org.clock.advance(3 * DAY);
    const restarted = scheduler();
    await restarted.tick();
    await restarted.idle();
    await restarted.tick();
    await restarted.idle();
    const afterRestart = (await scheduledRuns()).length;
    assert.equal(afterRestart - before, 1);
    // Nor does a second scheduler on the same vault run the slot again.
    const beside = scheduler();
    assert.equal((await beside.tick()).started.length, 0);
  });

  test('objects that ended in error are read again by the next job', async () => {
    moveTo(60);
    await schedule({ daily: '02:00' });
    const s = scheduler();
    await api.admin('POST', '/faults', { kind: 'error', match: 'GET /services/data/*/sobjects/Contact/describe', status: 400, body: JSON.stringify([{ errorCode: 'INVALID_TYPE', message: 'sObject type Contact is not supported.' }]), name: 'contact-down' });
    // A change in Contact, so that the next job has something to read there.
    const [contact] = await api.query('SELECT Id FROM Contact LIMIT 1');
    await api.rest('PATCH', `/sobjects/Contact/${String(contact!.Id)}`, { Title: 'Changed while failing' });
    try {
      await drive(s, 2 * HOUR, HOUR);
    } finally {
      await api.admin('DELETE', '/faults');
    }
    const [failed] = await scheduledRuns();
    assert.equal(failed!.status, 'CompletedWithErrors', failed!.message ?? '');
    assert.equal((await vault.store.getObjectState(org.orgId, 'Contact'))?.status, 'Error');
    await drive(s, DAY, 4 * HOUR);
    const [retried] = await scheduledRuns();
    assert.equal(retried!.status, 'Succeeded', retried!.message ?? '');
    const contactRun = (await vault.store.listObjectRuns(retried!.runId)).find((o) => o.objectName === 'Contact');
    assert.ok((contactRun?.counters.versions ?? 0) >= 1, JSON.stringify(contactRun));
    assert.equal((await vault.store.getObjectState(org.orgId, 'Contact'))?.status, 'Waiting');
  });

  test('the end of a yearly backup cycle makes the next job a full baseline, with the reason logged', async () => {
    moveTo(60);
    await schedule({ daily: '02:00' });
    const s = scheduler();
    // A quiet increment first: nothing changed, nothing read.
    await drive(s, 2 * HOUR, HOUR);
    const [quiet] = await scheduledRuns();
    assert.equal(quiet!.counters.records, 0);
    assert.equal(quiet!.parameters.baseline, undefined);
    // The cycle began a year and a day ago (the vault's state as a year of daily jobs leaves it).
    await vault.store.updateScheduleState(org.name, 'backup', { cycleStartedAt: now() - 366 * DAY * 1000 });
    await drive(s, DAY, 4 * HOUR);
    const [baseline] = await scheduledRuns();
    assert.equal(baseline!.status, 'Succeeded', baseline!.message ?? '');
    assert.match(String((baseline!.parameters.baseline as { reason: string }).reason), /backup cycle of 365 days .* is over/);
    assert.match(baseline!.message ?? '', /^Full baseline: the backup cycle of 365 days/);
    // Every record was read again, and every ID compared.
    assert.equal(baseline!.counters.records, 24);
    for (const name of OBJECTS) assert.ok(Number((await vault.store.getObjectState(org.orgId, name))!.details!.reconciledAt) >= baseline!.startedAt, `${name} reconciled`);
    const state = await vault.store.getScheduleState(org.name, 'backup');
    // A new cycle began with the job that ran the baseline.
    assert.ok(state!.cycleStartedAt! <= baseline!.startedAt && state!.cycleStartedAt! > baseline!.startedAt - DAY * 1000);
    assert.equal(state!.baselineAt, state!.cycleStartedAt);
    const [view] = await scheduleViews(vault.store, org, now());
    assert.match(view!.cycle!.lastBaseline!.reason, /backup cycle of 365 days/);
    assert.equal(Date.parse(view!.cycle!.nextBaselineBy!), state!.cycleStartedAt! + 365 * DAY * 1000);
    // The next job is an increment again.
    await drive(s, DAY, 4 * HOUR);
    const [next] = await scheduledRuns();
    assert.equal(next!.parameters.baseline, undefined);
  });

  test('a gap longer than the delete-tracking window, and a refreshed org, each make a baseline', async () => {
    const s = scheduler();
    emulator.org.clock.advance(16 * DAY);
    await s.tick();
    await s.idle();
    const [gap] = await scheduledRuns();
    assert.match(String((gap!.parameters.baseline as { reason: string }).reason), /last completed backup was 16 days ago/);
    // The vault last saw another org ID: the sandbox was refreshed.
    await vault.store.updateScheduleState(org.name, 'backup', { orgIdSeen: '00D000000000001' });
    await drive(s, DAY, 6 * HOUR);
    const [refresh] = await scheduledRuns();
    assert.match(String((refresh!.parameters.baseline as { reason: string }).reason), /now reports organization ID .*not 00D000000000001/);
    assert.equal((await vault.store.getScheduleState(org.name, 'backup'))!.orgIdSeen, emulator.info.orgId);
  });

  test('cleared schedules run nothing, and every change is audited', async () => {
    await clearSchedule({ store: vault.store, audit: vault.store, actor: 'test', now }, org);
    const s = scheduler();
    const before = (await scheduledRuns()).length;
    await drive(s, 2 * DAY, 6 * HOUR);
    assert.equal((await scheduledRuns()).length, before);
    const audit = await vault.store.listAudit({ limit: 100 });
    assert.ok(audit.some((a) => a.action === 'schedule.set' && a.target === 'prod' && a.details.job === 'backup'));
    assert.ok(audit.some((a) => a.action === 'schedule.clear' && a.target === 'prod'));
  });
});
