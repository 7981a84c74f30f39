// Two machines sharing one PostgreSQL vault: two stores on the same schema, each with its own
// connection pool, racing on what must happen once (a schedule slot claimed, a metadata version
// appended) or never (a session outliving its user). Also the recovery points and stream states
// of the change-capture store, which the contract checks only after versions are written.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { VaultStore } from '../../src/store/port.ts';
import { openPostgresVaultStore } from '../../src/store/postgres/index.ts';
import { newKeyring } from '../contracts/vault-store.contract.ts';
import { freshStoreUrl, postgresSkip } from '../fixtures/postgres.ts';

const skip = postgresSkip();
const T = Date.UTC(2025, 0, 1);
const MINUTE = 60_000;
const ORG = '00D000000000001AAA';

describe('PostgreSQL stores on two machines', { skip }, () => {
  let location: ReturnType<typeof freshStoreUrl>;
  let machineA: VaultStore;
  let machineB: VaultStore;

  before(async () => {
    location = freshStoreUrl();
    const keyring = newKeyring();
    // Two stores, two pools: as two schedulers on two machines.
    [machineA, machineB] = await Promise.all([openPostgresVaultStore({ url: location.url, keyring }), openPostgresVaultStore({ url: location.url, keyring })]);
  });

  after(async () => {
    await machineA?.close();
    await machineB?.close();
    await location?.drop();
  });

  test('two schedulers claiming the same slot at once: exactly one wins, every slot', async () => {
    for (const [orgName, job] of [['prod', 'backup'], ['prod', 'permissions'], ['sandbox', 'backup']] as const) {
      // The first slot of a schedule has no state row yet: both race to insert it.
      for (let i = 1; i <= 15; i++) {
        const slot = T + i * 60 * MINUTE;
        const claims = await Promise.all([machineA, machineB, machineA, machineB].map((store) => store.claimScheduleSlot(orgName, job, slot)));
        assert.equal(claims.filter(Boolean).length, 1, `slot ${i} of ${orgName}/${job} was claimed ${claims.filter(Boolean).length} times`);
        // Neither machine can claim it, nor an earlier one, afterwards.
        assert.equal(await machineB.claimScheduleSlot(orgName, job, slot), false);
        assert.equal(await machineA.claimScheduleSlot(orgName, job, slot - MINUTE), false);
      }
      assert.equal((await machineA.getScheduleState(orgName, job))?.lastSlot, T + 15 * 60 * MINUTE);
    }
  });

  test('a claim and a state update at once neither loses the slot nor the update', async () => {
    await Promise.all([
      machineA.claimScheduleSlot('race', 'backup', T),
      machineB.updateScheduleState('race', 'backup', { lastRunId: 'r1', lastStatus: 'Running', lastStartedAt: T }),
    ]);
    const state = await machineA.getScheduleState('race', 'backup');
    assert.deepEqual([state?.lastSlot, state?.lastRunId, state?.lastStatus, state?.lastStartedAt], [T, 'r1', 'Running', T]);
    // A patch names only its fields; the others stay.
    await machineB.updateScheduleState('race', 'backup', { lastEndedAt: T + MINUTE });
    assert.deepEqual(await machineA.getScheduleState('race', 'backup'), { ...state, lastEndedAt: T + MINUTE });
    await machineB.updateScheduleState('race', 'backup', {});
    assert.deepEqual(await machineA.getScheduleState('race', 'backup'), { ...state, lastEndedAt: T + MINUTE });
  });

  test('a user removed while another machine signs it in keeps no session or token', async () => {
    const users = Array.from({ length: 20 }, (_, i) => `user${i}`);
    for (const name of users) await machineA.putUser({ name, role: 'viewer', passwordHash: 'scrypt$x', createdAt: T, passwordChangedAt: T });
    await Promise.all(
      users.map(async (name) => {
        const signIn = Promise.allSettled([
          machineB.putSession({ idHash: `h-${name}`, userName: name, csrfToken: 'c', createdAt: T, expiresAt: T + MINUTE, lastSeenAt: T }),
          machineB.putApiToken({ id: `ovt_${name}`, secretHash: 'ab', userName: name, label: 'ci', createdAt: T, expiresAt: null, lastUsedAt: null }),
        ]);
        const [removed, outcomes] = await Promise.all([machineA.removeUser(name), signIn]);
        assert.equal(removed, true);
        for (const outcome of outcomes) if (outcome.status === 'rejected') assert.equal((outcome.reason as { code?: string }).code, 'USER_NOT_FOUND');
      }),
    );
    for (const name of users) {
      assert.equal(await machineA.getSession(`h-${name}`), undefined, `a session of removed ${name} remains`);
      assert.equal(await machineA.getApiToken(`ovt_${name}`), undefined, `a token of removed ${name} remains`);
    }
    assert.deepEqual(await machineB.listApiTokens(), []);
  });

  test('two machines storing the same metadata capture at once store each version once', async () => {
    const versions = Array.from({ length: 50 }, (_, i) => ({
      type: 'ApexClass',
      fullName: `Class${i}`,
      files: { [`classes/Class${i}.cls`]: `public class Class${i} {}` },
      deleted: false,
      lastModifiedDate: T,
      salesforceId: null,
    }));
    const [a, b] = await Promise.all([machineA.writeMetadataVersions(ORG, 'm1', T, versions), machineB.writeMetadataVersions(ORG, 'm2', T, versions)]);
    assert.equal(a.written + b.written, 50);
    assert.equal(a.unchanged + b.unchanged, 50);
    assert.equal(a.newContents + b.newContents, 50);
    await machineA.completeMetadataRun({ orgId: ORG, runId: 'm1', capturedAt: T, components: 50, changed: a.written, deleted: 0 });
    const heads = await machineB.metadataHeads(ORG, { runId: 'm1' });
    assert.equal(heads.length, 50);
    for (const head of heads) assert.equal(head.deleted, false);
    // One batch naming a component twice: the second is compared with the first, as in SQLite.
    const twice = await machineA.writeMetadataVersions(ORG, 'm3', T + MINUTE, [
      { ...versions[0]!, files: { 'classes/Class0.cls': 'changed' } },
      { ...versions[0]!, files: { 'classes/Class0.cls': 'changed' } },
      { ...versions[1]!, files: undefined, deleted: true },
      { ...versions[1]!, files: undefined, deleted: true },
    ]);
    assert.deepEqual(twice, { written: 2, unchanged: 2, newContents: 1 });
    assert.deepEqual((await machineB.metadataHistory(ORG, 'ApexClass', 'Class0')).map((v) => v.runId).slice(0, 1), ['m3']);
    assert.deepEqual(await machineB.readMetadataFiles(ORG, (await machineB.metadataHistory(ORG, 'ApexClass', 'Class0'))[0]!.contentId!), { 'classes/Class0.cls': 'changed' });
  });

  test('stream states and recovery points are shared by both machines; a recovery point ID is taken once', async () => {
    const state = {
      objectName: 'Account',
      channel: '/data/AccountChangeEvent',
      replayId: 7,
      status: 'Subscribed' as const,
      subscribedSince: T,
      coveredFrom: T,
      coveredThrough: T + 5,
      lastEventAt: T + 5,
      eventsApplied: 3,
      versionsWritten: 2,
      recordsFetched: 0,
      gaps: 0,
      overflows: 0,
      replayExpired: 0,
      scanPending: true,
      message: null,
      updatedAt: T + 6,
    };
    await machineA.putStreamState(ORG, state);
    await machineA.putStreamState(ORG, { ...state, objectName: 'Contact', channel: '/data/ContactChangeEvent' });
    await machineB.putStreamState(ORG, { ...state, replayId: 8 });
    assert.deepEqual((await machineA.getStreamStates(ORG)).map((s) => [s.objectName, s.replayId]), [['Account', 8], ['Contact', 7]]);

    const point = { id: 'rp-1', orgId: ORG, name: 'quarter end', at: T, createdAt: T + 1, createdBy: 'cli', objects: [{ objectName: 'Account', records: 3, coveredThrough: null, complete: false }] };
    const outcomes = await Promise.allSettled([machineA.putRecoveryPoint(point), machineB.putRecoveryPoint({ ...point, name: 'other' })]);
    assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 1);
    await machineB.putRecoveryPoint({ ...point, id: 'rp-2', name: null, createdAt: T + 2 });
    assert.deepEqual((await machineA.listRecoveryPoints(ORG)).map((p) => p.id), ['rp-2', 'rp-1']);
    assert.deepEqual((await machineB.getRecoveryPoint('rp-2'))?.objects, point.objects);
    assert.equal(await machineB.getRecoveryPoint('rp-9'), undefined);
  });
});
