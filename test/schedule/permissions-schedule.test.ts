// The permission check's schedule: monthly from its start by default, run by the runner the shell
// injects; with no runner wired its slots wait (nothing is claimed), and run once it is.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { OrgRegistration } from '../../src/core/vault.ts';
import { generateKeyFileContent } from '../../src/crypto/keys.ts';
import { Scheduler, setSchedule } from '../../src/schedule/index.ts';
import type { JobContext, JobRunner } from '../../src/schedule/index.ts';
import { initVault, openVault } from '../../src/store/vault.ts';
import type { Vault } from '../../src/store/vault.ts';

const DAY_MS = 86_400_000;

describe('scheduled permission checks', () => {
  let dir: string;
  let vault: Vault;
  let clock = Date.UTC(2027, 0, 15, 12, 0);
  const org: OrgRegistration = { name: 'prod', orgId: '00D000000000001AAA', instanceUrl: 'https://prod.example', loginUrl: 'https://login.example', sealedAuth: new Uint8Array(1), createdAt: 0, settings: {} };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'orgvault-permission-schedule-'));
    const keyFile = Buffer.from(generateKeyFileContent());
    await initVault(join(dir, 'vault'), { keyFile });
    vault = await openVault(join(dir, 'vault'), { keyFile });
    await vault.store.putOrg(org);
  });
  after(async () => {
    await vault?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('runs monthly from its start, and waits while no runner is wired', async () => {
    await setSchedule({ store: vault.store, audit: vault.store, actor: 'test', now: () => clock }, org, { job: 'permissions', start: '2027-01-31T09:00', timeZone: 'Europe/Paris' });
    const lines: string[] = [];
    const unwired = new Scheduler({ store: vault.store, jobs: { backup: () => assert.fail('no backup is scheduled') }, now: () => clock, log: (l) => lines.push(l) });
    clock = Date.UTC(2027, 0, 31, 9, 0);
    assert.deepEqual((await unwired.tick()).started, []);
    assert.deepEqual((await unwired.tick()).started, []);
    assert.equal(lines.filter((l) => /permissions jobs are scheduled but this process cannot run them/.test(l)).length, 1);
    assert.equal(await vault.store.getScheduleState('prod', 'permissions'), undefined);

    const checks: JobContext[] = [];
    const runner: JobRunner = async (context) => {
      checks.push(context);
      return { runId: `check-${checks.length}`, status: 'Succeeded', message: null };
    };
    const wired = new Scheduler({ store: vault.store, jobs: { backup: () => assert.fail('no backup is scheduled'), permissions: runner }, now: () => clock });
    // Day by day until the end of April: the slots of January 31, February 28, March 31, April 30.
    for (; clock < Date.UTC(2027, 4, 1); clock += DAY_MS / 2) {
      await wired.tick();
      await wired.idle();
    }
    assert.deepEqual(checks.map((c) => new Date(c.slot).toISOString()), ['2027-01-31T08:00:00.000Z', '2027-02-28T08:00:00.000Z', '2027-03-31T07:00:00.000Z', '2027-04-30T07:00:00.000Z']);
    assert.ok(checks.every((c) => c.org.name === 'prod' && c.startedBy === 'scheduler' && c.schedule.job === 'permissions'));
    const state = await vault.store.getScheduleState('prod', 'permissions');
    assert.equal(state?.lastRunId, 'check-4');
    assert.equal(state?.lastStatus, 'Succeeded');
  });

  test('a runner that throws is recorded as Failed, and the next slot runs again', async () => {
    let calls = 0;
    const failing = new Scheduler({
      store: vault.store,
      jobs: {
        backup: () => assert.fail('no backup is scheduled'),
        permissions: async () => {
          calls++;
          throw new Error('the org could not be reached');
        },
      },
      now: () => clock,
    });
    clock = Date.UTC(2027, 4, 31, 12, 0);
    await failing.tick();
    await failing.idle();
    assert.equal(calls, 1);
    assert.equal((await vault.store.getScheduleState('prod', 'permissions'))?.lastStatus, 'Failed');
    clock = Date.UTC(2027, 5, 30, 12, 0);
    await failing.tick();
    await failing.idle();
    assert.equal(calls, 2);
  });
});
