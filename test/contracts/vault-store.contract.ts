/**
 * The contract every VaultStore adapter passes (SQLite now, PostgreSQL later). `open` must return
 * an empty store under a fresh keyring each time it is called. `reopen` closes the store and opens
 * the same data again, under another keyring if one is given; `tamperPack`, where the adapter can
 * reach its raw bytes, flips one byte of a stored pack; `storedBytes`, where it can, returns every
 * byte the adapter has written (so that a test can show a value is not there in clear).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import type { ApiTokenRecord, SessionRecord, UserRecord } from '../../src/core/users.ts';
import type { ArchiveResult, ArchiveStep, ChangeType, IdMapping, ObjectState, RecordVersion, RestoreResult, RestoreStep, Run, VersionInput } from '../../src/core/vault.ts';
import { queryTerms } from '../../src/core/search-text.ts';
import { IntegrityError } from '../../src/crypto/errors.ts';
import { deriveKeyring } from '../../src/crypto/keys.ts';
import type { Keyring } from '../../src/crypto/keys.ts';
import type { VaultStore, VersionBatch } from '../../src/store/port.ts';
import { LockHeldError } from '../../src/store/port.ts';

export interface OpenedVaultStore {
  store: VaultStore;
  reopen(options?: { keyring?: Keyring }): Promise<VaultStore>;
  cleanup(): Promise<void>;
  tamperPack?(packId: string): Promise<void>;
  storedBytes?(): Promise<Buffer>;
}

const ORG = '00D000000000001AAA';
const OTHER_ORG = '00D000000000002AAA';
const T = Date.UTC(2025, 0, 1);
const MINUTE = 60_000;

/** A fresh keyring, as a new vault derives one. */
export function newKeyring(): Keyring {
  return deriveKeyring(randomBytes(32), `vault-${randomBytes(4).toString('hex')}`);
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

function version(recordId: string, at: number, changeType: ChangeType, fields: Record<string, unknown>, lastModifiedById: string | null = '005000000000001AAA'): VersionInput {
  return { recordId, systemModstamp: at, changeType, isDeleted: changeType === 'deleted', lastModifiedById, fields: { Id: recordId, ...fields } };
}

function batch(versions: VersionInput[], extra: Partial<VersionBatch> = {}): VersionBatch {
  return { orgId: ORG, objectName: 'Account', runId: 'run-1', capturedAt: T + 1000 * MINUTE, schemaId: null, versions, ...extra };
}

/** Every payload the store holds, counted by opening every pack. */
async function storedPayloads(store: VaultStore): Promise<number> {
  let payloads = 0;
  for await (const packId of store.listPacks()) payloads += (await store.checkPack(packId)).payloads;
  return payloads;
}

const summary = (v: RecordVersion | undefined): unknown =>
  v && { recordId: v.recordId, at: v.systemModstamp, changeType: v.changeType, isDeleted: v.isDeleted, name: v.fields.Name };

export function vaultStoreContract(name: string, open: () => Promise<OpenedVaultStore>): void {
  const withStore = (title: string, body: (opened: OpenedVaultStore) => Promise<void>): void => {
    test(title, async () => {
      const opened = await open();
      try {
        await body(opened);
      } finally {
        await opened.cleanup();
      }
    });
  };

  describe(`VaultStore contract: ${name}`, () => {
    describe('org catalog', () => {
      withStore('registers, lists, updates and removes orgs; secrets stay as sealed bytes', async ({ store }) => {
        const sealedAuth = new Uint8Array(randomBytes(64));
        const prod = { name: 'prod', orgId: ORG, instanceUrl: 'https://prod.my.salesforce.com', loginUrl: 'https://login.salesforce.com', sealedAuth, createdAt: T, settings: { apiVersion: '62.0' } };
        await store.putOrg(prod);
        await store.putOrg({ ...prod, name: 'dev', orgId: OTHER_ORG, sealedAuth: new Uint8Array([1, 2, 3]), settings: {} });
        const got = await store.getOrg('prod');
        assert.ok(got);
        assert.deepEqual(Buffer.from(got.sealedAuth), Buffer.from(sealedAuth));
        assert.deepEqual({ ...got, sealedAuth: null }, { ...prod, sealedAuth: null });
        assert.deepEqual((await store.listOrgs()).map((o) => o.name), ['dev', 'prod']);
        await store.putOrg({ ...prod, instanceUrl: 'https://new.my.salesforce.com' });
        assert.equal((await store.getOrg('prod'))?.instanceUrl, 'https://new.my.salesforce.com');
        assert.equal(await store.removeOrg('prod'), true);
        assert.equal(await store.removeOrg('prod'), false);
        assert.equal(await store.getOrg('prod'), undefined);
        assert.deepEqual((await store.listOrgs()).map((o) => o.name), ['dev']);
      });
    });

    describe('schedules', () => {
      withStore('stores schedules, keeps their state across a clear and a reopen, and claims each slot once', async (opened) => {
        const { store } = opened;
        const daily = { orgName: 'prod', job: 'backup' as const, rule: { kind: 'daily' as const, minute: 120 }, timeZone: 'Europe/Paris', cycleDays: null, objects: ['Account'], setAt: T, setBy: 'admin' };
        await store.putSchedule(daily);
        await store.putSchedule({ ...daily, job: 'permissions', rule: { kind: 'interval', start: T, every: 1, unit: 'months' }, objects: null });
        assert.deepEqual(await store.getSchedule('prod', 'backup'), daily);
        assert.deepEqual((await store.listSchedules()).map((s) => s.job), ['backup', 'permissions']);
        const cron = { ...daily, rule: { kind: 'cron' as const, expression: '0 2 * * 1-5' }, cycleDays: 30, setAt: T + MINUTE };
        await store.putSchedule(cron);
        assert.deepEqual(await store.getSchedule('prod', 'backup'), cron);
        assert.equal(await store.getScheduleState('prod', 'backup'), undefined);

        // A slot is claimed once; an earlier one is refused after a later one was claimed.
        assert.equal(await store.claimScheduleSlot('prod', 'backup', T + 60 * MINUTE), true);
        assert.equal(await store.claimScheduleSlot('prod', 'backup', T + 60 * MINUTE), false);
        assert.equal(await store.claimScheduleSlot('prod', 'backup', T + 30 * MINUTE), false);
        const claims = await Promise.all([1, 2, 3].map(() => store.claimScheduleSlot('prod', 'backup', T + 120 * MINUTE)));
        assert.deepEqual(claims.filter(Boolean).length, 1);
        await store.updateScheduleState('prod', 'backup', { lastRunId: 'r1', lastStatus: 'Succeeded', lastStartedAt: T, lastEndedAt: T + MINUTE, lastSuccessAt: T, cycleStartedAt: T, baselineReason: 'the backup cycle is over', baselineAt: T, orgIdSeen: ORG });
        await store.updateScheduleState('prod', 'backup', { lastStatus: 'Skipped', baselineReason: null });
        const expected = { orgName: 'prod', job: 'backup', lastSlot: T + 120 * MINUTE, lastRunId: 'r1', lastStatus: 'Skipped', lastStartedAt: T, lastEndedAt: T + MINUTE, lastSuccessAt: T, cycleStartedAt: T, baselineReason: null, baselineAt: T, orgIdSeen: ORG };
        assert.deepEqual(await store.getScheduleState('prod', 'backup'), expected);
        assert.equal(await store.getScheduleState('prod', 'permissions'), undefined);

        assert.equal(await store.removeSchedule('prod', 'backup'), true);
        assert.equal(await store.removeSchedule('prod', 'backup'), false);
        assert.equal(await store.getSchedule('prod', 'backup'), undefined);
        const reopened = await opened.reopen();
        assert.deepEqual(await reopened.getScheduleState('prod', 'backup'), expected);
        assert.deepEqual((await reopened.listSchedules()).map((s) => s.job), ['permissions']);
      });
    });

    describe('record versions', () => {
      // A record created, updated, deleted, undeleted and updated again, one run each.
      const A = '001000000000001AAA';
      const B = '001000000000002AAA';
      const history = async (store: VaultStore): Promise<void> => {
        await store.writeVersions(batch([version(A, T + 1 * MINUTE, 'created', { Name: 'Acme' }), version(B, T + 1 * MINUTE, 'created', { Name: 'Globex' })], { runId: 'r1', capturedAt: T + 10 * MINUTE, schemaId: 's1' }));
        await store.writeVersions(batch([version(A, T + 20 * MINUTE, 'updated', { Name: 'Acme Corp' })], { runId: 'r2', capturedAt: T + 30 * MINUTE, schemaId: 's1' }));
        await store.writeVersions(batch([version(A, T + 40 * MINUTE, 'deleted', { Name: 'Acme Corp', IsDeleted: true }), version(B, T + 45 * MINUTE, 'deleted', { Name: 'Globex', IsDeleted: true })], { runId: 'r3', capturedAt: T + 50 * MINUTE }));
        await store.writeVersions(batch([version(A, T + 60 * MINUTE, 'undeleted', { Name: 'Acme Corp' }, '005000000000002AAA')], { runId: 'r4', capturedAt: T + 70 * MINUTE }));
        await store.writeVersions(batch([version(A, T + 80 * MINUTE, 'updated', { Name: 'Acme Inc' })], { runId: 'r5', capturedAt: T + 90 * MINUTE }));
      };

      withStore('versionAsOf answers at every instant, across a delete and an undelete', async ({ store }) => {
        await history(store);
        const at = (m: number): Promise<RecordVersion | undefined> => store.versionAsOf(ORG, 'Account', A, T + m * MINUTE);
        assert.equal(await at(0), undefined);
        assert.deepEqual(summary(await at(1)), { recordId: A, at: T + 1 * MINUTE, changeType: 'created', isDeleted: false, name: 'Acme' });
        assert.deepEqual(summary(await at(19)), { recordId: A, at: T + 1 * MINUTE, changeType: 'created', isDeleted: false, name: 'Acme' });
        assert.deepEqual(summary(await at(20)), { recordId: A, at: T + 20 * MINUTE, changeType: 'updated', isDeleted: false, name: 'Acme Corp' });
        assert.deepEqual(summary(await at(40)), { recordId: A, at: T + 40 * MINUTE, changeType: 'deleted', isDeleted: true, name: 'Acme Corp' });
        assert.deepEqual(summary(await at(59)), { recordId: A, at: T + 40 * MINUTE, changeType: 'deleted', isDeleted: true, name: 'Acme Corp' });
        assert.deepEqual(summary(await at(60)), { recordId: A, at: T + 60 * MINUTE, changeType: 'undeleted', isDeleted: false, name: 'Acme Corp' });
        assert.deepEqual(summary(await at(1000)), { recordId: A, at: T + 80 * MINUTE, changeType: 'updated', isDeleted: false, name: 'Acme Inc' });

        const created = await at(1);
        assert.ok(created);
        assert.deepEqual(created.fields, { Id: A, Name: 'Acme' });
        assert.equal(created.objectName, 'Account');
        assert.equal(created.runId, 'r1');
        assert.equal(created.capturedAt, T + 10 * MINUTE);
        assert.equal(created.schemaId, 's1');
        assert.equal(created.lastModifiedById, '005000000000001AAA');
        assert.equal((await at(60))?.lastModifiedById, '005000000000002AAA');
        assert.equal(await store.versionAsOf(ORG, 'Account', '001000000000009AAA', T + 1000 * MINUTE), undefined);
        assert.equal(await store.versionAsOf(ORG, 'Contact', A, T + 1000 * MINUTE), undefined);
        assert.equal(await store.versionAsOf(OTHER_ORG, 'Account', A, T + 1000 * MINUTE), undefined);
      });

      withStore('headsOf gives the latest stamp and deletion state of the records it holds', async ({ store }) => {
        assert.deepEqual(await store.headsOf(ORG, 'Account', [A]), new Map());
        await store.writeVersions(batch([version(A, T + 1 * MINUTE, 'created', { Name: 'Acme' }), version(B, T + 1 * MINUTE, 'created', { Name: 'Globex' })]));
        await store.writeVersions(batch([version(B, T + 5 * MINUTE, 'deleted', { Name: 'Globex', IsDeleted: true })]));
        const heads = await store.headsOf(ORG, 'Account', [A, B, '001000000000009AAA', A]);
        assert.deepEqual(heads, new Map([[A, { systemModstamp: T + 1 * MINUTE, isDeleted: false }], [B, { systemModstamp: T + 5 * MINUTE, isDeleted: true }]]));
        assert.deepEqual(await store.headsOf(ORG, 'Contact', [A]), new Map());
        assert.deepEqual(await store.headsOf(OTHER_ORG, 'Account', [A]), new Map());
        // More IDs than one statement takes.
        const many = Array.from({ length: 120 }, (_, i) => `001${String(i).padStart(15, '0')}`);
        assert.equal((await store.headsOf(ORG, 'Account', [...many, B])).size, 1);
      });

      withStore('versionsOf lists a record newest first; counts follow the data', async ({ store }) => {
        await history(store);
        const versions = await store.versionsOf(ORG, A);
        assert.deepEqual(
          versions.map((v) => [v.systemModstamp - T, v.changeType]),
          [
            [80 * MINUTE, 'updated'],
            [60 * MINUTE, 'undeleted'],
            [40 * MINUTE, 'deleted'],
            [20 * MINUTE, 'updated'],
            [1 * MINUTE, 'created'],
          ],
        );
        assert.ok(versions.every((v, i) => i === 0 || v.seq < versions[i - 1]!.seq));
        assert.deepEqual(await store.versionsOf(OTHER_ORG, A), []);
        assert.deepEqual(await store.countVersions(ORG), { records: 2, versions: 7 });
        assert.deepEqual(await store.countVersions(ORG, 'Account'), { records: 2, versions: 7 });
        assert.deepEqual(await store.countVersions(ORG, 'Contact'), { records: 0, versions: 0 });
      });

      withStore('latestVersions and stateAsOf, with and without deleted records', async ({ store }) => {
        await history(store);
        const names = (vs: RecordVersion[]): unknown[] => vs.map((v) => [v.recordId, v.fields.Name, v.isDeleted]);
        assert.deepEqual(names(await collect(store.latestVersions(ORG, 'Account'))), [[A, 'Acme Inc', false]]);
        assert.deepEqual(names(await collect(store.latestVersions(ORG, 'Account', { includeDeleted: true }))), [
          [A, 'Acme Inc', false],
          [B, 'Globex', true],
        ]);
        const state = (m: number, includeDeleted = false): Promise<RecordVersion[]> => collect(store.stateAsOf(ORG, 'Account', T + m * MINUTE, { includeDeleted }));
        assert.deepEqual(names(await state(0)), []);
        assert.deepEqual(names(await state(30)), [
          [A, 'Acme Corp', false],
          [B, 'Globex', false],
        ]);
        assert.deepEqual(names(await state(42)), [[B, 'Globex', false]]);
        assert.deepEqual(names(await state(50)), []);
        assert.deepEqual(names(await state(50, true)), [
          [A, 'Acme Corp', true],
          [B, 'Globex', true],
        ]);
        assert.deepEqual(names(await state(65)), [[A, 'Acme Corp', false]]);
        assert.deepEqual(await collect(store.latestVersions(ORG, 'Contact')), []);
      });

      withStore('findVersions by SystemModstamp range, capture time, change type, IDs and user', async ({ store }) => {
        await history(store);
        const find = async (query: Partial<Parameters<VaultStore['findVersions']>[0]>): Promise<unknown[]> =>
          (await collect(store.findVersions({ orgId: ORG, objectName: 'Account', ...query }))).map((v) => [v.recordId === A ? 'A' : 'B', (v.systemModstamp - T) / MINUTE]);
        assert.deepEqual(await find({}), [['A', 1], ['B', 1], ['A', 20], ['A', 40], ['B', 45], ['A', 60], ['A', 80]]);
        assert.deepEqual(await find({ from: T + 20 * MINUTE, to: T + 45 * MINUTE }), [['A', 20], ['A', 40], ['B', 45]]);
        assert.deepEqual(await find({ by: 'capturedAt', from: T + 50 * MINUTE, to: T + 70 * MINUTE }), [['A', 40], ['B', 45], ['A', 60]]);
        assert.deepEqual(await find({ changeTypes: ['deleted', 'undeleted'] }), [['A', 40], ['B', 45], ['A', 60]]);
        assert.deepEqual(await find({ recordIds: [B] }), [['B', 1], ['B', 45]]);
        assert.deepEqual(await find({ recordIds: [B], from: T + 2 * MINUTE }), [['B', 45]]);
        assert.deepEqual(await find({ recordIds: [A], by: 'capturedAt', from: T + 60 * MINUTE }), [['A', 60], ['A', 80]]);
        assert.deepEqual(await find({ lastModifiedById: '005000000000002AAA' }), [['A', 60]]);
        assert.deepEqual(await find({ changeTypes: [] }), []);
        assert.deepEqual(await find({ objectName: 'Contact' }), []);
      });

      withStore('identical fields are stored once; a re-read of a stored version is skipped', async ({ store }) => {
        const first = await store.writeVersions(batch([version(A, T + MINUTE, 'created', { Name: 'Acme', Phone: '1' })]));
        assert.deepEqual(first, { written: 1, duplicates: 0, deduplicated: 0, newRecords: 1 });
        const payloads = await storedPayloads(store);
        // Same fields in another key order, at a later SystemModstamp: a new version, no new payload.
        const same = await store.writeVersions(batch([{ ...version(A, T + 2 * MINUTE, 'updated', {}), fields: { Phone: '1', Name: 'Acme', Id: A } }]));
        assert.deepEqual(same, { written: 1, duplicates: 0, deduplicated: 1, newRecords: 0 });
        assert.equal(await storedPayloads(store), payloads);
        // The look-back window reads the same version again: nothing is written.
        const again = await store.writeVersions(batch([{ ...version(A, T + 2 * MINUTE, 'updated', {}), fields: { Name: 'Acme', Phone: '1', Id: A } }], { runId: 'run-2' }));
        assert.deepEqual(again, { written: 0, duplicates: 1, deduplicated: 0, newRecords: 0 });
        // An older version read again (a replayed page) is skipped too.
        const replay = await store.writeVersions(batch([version(A, T + MINUTE, 'created', { Name: 'Acme', Phone: '1' })]));
        assert.deepEqual(replay, { written: 0, duplicates: 1, deduplicated: 0, newRecords: 0 });
        assert.equal(await storedPayloads(store), payloads);
        assert.deepEqual(await store.countVersions(ORG, 'Account'), { records: 1, versions: 2 });
        assert.deepEqual((await store.versionAsOf(ORG, 'Account', A, T + 2 * MINUTE))?.fields, { Id: A, Name: 'Acme', Phone: '1' });
      });

      withStore('a version older than the head, arriving late, takes its place in the history', async ({ store }) => {
        await store.writeVersions(batch([version(A, T + 10 * MINUTE, 'created', { Name: 'v1' }), version(A, T + 30 * MINUTE, 'updated', { Name: 'v3' })]));
        const late = await store.writeVersions(batch([version(A, T + 20 * MINUTE, 'updated', { Name: 'v2' })]));
        assert.deepEqual(late, { written: 1, duplicates: 0, deduplicated: 0, newRecords: 0 });
        assert.deepEqual((await store.versionsOf(ORG, A)).map((v) => v.fields.Name), ['v3', 'v2', 'v1']);
        assert.equal((await store.versionAsOf(ORG, 'Account', A, T + 25 * MINUTE))?.fields.Name, 'v2');
        assert.equal((await collect(store.latestVersions(ORG, 'Account')))[0]?.fields.Name, 'v3');
      });

      withStore('same-millisecond SystemModstamps: of many records, and of one record (seq orders them)', async ({ store }) => {
        const at = T + 5 * MINUTE;
        const ids = Array.from({ length: 50 }, (_, i) => `001000000000${String(100 + i).padStart(3, '0')}AAA`);
        await store.writeVersions(batch(ids.map((id, i) => version(id, at, 'created', { Name: `R${i}` }))));
        const found = await collect(store.findVersions({ orgId: ORG, objectName: 'Account', from: at, to: at }));
        assert.deepEqual(found.map((v) => v.recordId), ids);
        assert.ok(found.every((v, i) => i === 0 || v.seq > found[i - 1]!.seq));
        // One record changed twice within the same millisecond: both versions kept, the later one current.
        const outcome = await store.writeVersions(batch([version(A, at, 'created', { Name: 'first' }), version(A, at, 'updated', { Name: 'second' })]));
        assert.deepEqual(outcome, { written: 2, duplicates: 0, deduplicated: 0, newRecords: 1 });
        assert.equal((await store.versionAsOf(ORG, 'Account', A, at))?.fields.Name, 'second');
        assert.deepEqual((await store.versionsOf(ORG, A)).map((v) => v.fields.Name), ['second', 'first']);
        const third = await store.writeVersions(batch([version(A, at, 'updated', { Name: 'third' })]));
        assert.equal(third.written, 1);
        assert.equal((await store.versionAsOf(ORG, 'Account', A, at))?.fields.Name, 'third');
        assert.equal((await store.writeVersions(batch([version(A, at, 'updated', { Name: 'first' })]))).duplicates, 1);
      });

      withStore('streams page through more records than fit in one page', async ({ store }) => {
        const ids = Array.from({ length: 10_500 }, (_, i) => `003${String(i).padStart(12, '0')}AAA`);
        for (let i = 0; i < ids.length; i += 3500) {
          await store.writeVersions(batch(ids.slice(i, i + 3500).map((id, k) => version(id, T + i + k, 'created', { LastName: `L${i + k}` })), { objectName: 'Contact', capturedAt: T + i }));
        }
        const latest = await collect(store.latestVersions(ORG, 'Contact'));
        assert.deepEqual(latest.map((v) => v.recordId), ids);
        assert.deepEqual((await collect(store.stateAsOf(ORG, 'Contact', T + 10_200))).map((v) => v.recordId), ids.slice(0, 10_201));
        const found = await collect(store.findVersions({ orgId: ORG, objectName: 'Contact' }));
        assert.deepEqual(found.map((v) => v.recordId), ids);
        assert.equal((await collect(store.findVersions({ orgId: ORG, objectName: 'Contact', by: 'capturedAt', from: T + 3500 }))).length, 7000);
        assert.equal((await collect(store.findVersions({ orgId: ORG, objectName: 'Contact', recordIds: ids.slice(0, 3000) }))).length, 3000);
      });
    });

    describe('watermark', () => {
      const A = '001000000000001AAA';
      const B = '001000000000002AAA';
      withStore('moves with the data it covers and never alone', async ({ store }) => {
        await store.writeVersions(batch([version(A, T + MINUTE, 'created', { Name: 'a' }), version(B, T + 2 * MINUTE, 'created', { Name: 'b' })], { watermark: { systemModstamp: T + 2 * MINUTE, recordId: B } }));
        const state = await store.getObjectState(ORG, 'Account');
        assert.deepEqual(state?.watermark, { systemModstamp: T + 2 * MINUTE, recordId: B });
        assert.deepEqual([state?.recordCount, state?.versionCount], [2, 2]);

        // Past the batch's own data: refused, and nothing of the batch is stored.
        await assert.rejects(
          store.writeVersions(batch([version(A, T + 3 * MINUTE, 'updated', { Name: 'a2' })], { watermark: { systemModstamp: T + 9 * MINUTE, recordId: A } })),
          (error: Error & { code?: string }) => error.code === 'WATERMARK_AHEAD',
        );
        assert.deepEqual(await store.countVersions(ORG, 'Account'), { records: 2, versions: 2 });
        await assert.rejects(store.writeVersions(batch([], { watermark: { systemModstamp: T + 9 * MINUTE, recordId: A } })), /past the data/);

        // A look-back re-read carries an older watermark: the stored one stays.
        await store.writeVersions(batch([version(A, T + MINUTE, 'created', { Name: 'a' })], { watermark: { systemModstamp: T + MINUTE, recordId: A } }));
        assert.deepEqual((await store.getObjectState(ORG, 'Account'))?.watermark, { systemModstamp: T + 2 * MINUTE, recordId: B });

        // Object state carries status and times; its watermark and counts are the data's.
        const put: ObjectState = {
          objectName: 'Account',
          status: 'Waiting',
          watermark: { systemModstamp: T + 99 * MINUTE, recordId: A },
          backfilledAt: T + 5 * MINUTE,
          recordCount: 999,
          versionCount: 999,
          lastRunId: 'run-1',
          lastBackupAt: T + 5 * MINUTE,
          reason: null,
          statusCode: null,
          details: { windowCount: 3, api: 'bulk', deletedCheckedAt: T },
        };
        await store.putObjectState(ORG, put);
        assert.deepEqual(await store.getObjectState(ORG, 'Account'), { ...put, watermark: { systemModstamp: T + 2 * MINUTE, recordId: B }, recordCount: 2, versionCount: 2 });

        await store.writeVersions(batch([version(A, T + 3 * MINUTE, 'updated', { Name: 'a2' })], { watermark: { systemModstamp: T + 3 * MINUTE, recordId: A } }));
        assert.deepEqual((await store.getObjectState(ORG, 'Account'))?.watermark, { systemModstamp: T + 3 * MINUTE, recordId: A });
        assert.equal((await store.getObjectState(ORG, 'Account'))?.status, 'Waiting');
      });
    });

    describe('runs, object state, ID mappings and audit', () => {
      withStore('runs and object runs round-trip; listing is newest first and filtered', async ({ store }) => {
        const run = (runId: string, startedAt: number, extra: Partial<Run> = {}): Run => ({
          runId,
          orgId: ORG,
          kind: 'backup',
          status: 'Running',
          startedAt,
          endedAt: null,
          counters: {},
          message: null,
          parameters: { objects: ['Account'], filter: "Name = 'Acme'" },
          ...extra,
        });
        await store.createRun(run('r1', T));
        await store.createRun(run('r2', T + MINUTE, { kind: 'restore' }));
        await store.createRun(run('r3', T + 2 * MINUTE, { orgId: OTHER_ORG }));
        await assert.rejects(store.createRun(run('r1', T)));
        assert.deepEqual(await store.getRun('r1'), run('r1', T));
        assert.equal(await store.getRun('nope'), undefined);
        await store.updateRun('r1', { status: 'Succeeded', endedAt: T + 5 * MINUTE, counters: { records: 10, apiCalls: 3 } });
        assert.deepEqual(await store.getRun('r1'), run('r1', T, { status: 'Succeeded', endedAt: T + 5 * MINUTE, counters: { records: 10, apiCalls: 3 } }));
        await assert.rejects(store.updateRun('nope', { status: 'Failed' }));
        assert.deepEqual((await store.listRuns()).map((r) => r.runId), ['r3', 'r2', 'r1']);
        assert.deepEqual((await store.listRuns({ orgId: ORG })).map((r) => r.runId), ['r2', 'r1']);
        assert.deepEqual((await store.listRuns({ kind: 'restore' })).map((r) => r.runId), ['r2']);
        assert.deepEqual((await store.listRuns({ limit: 1 })).map((r) => r.runId), ['r3']);

        const objectRun = { runId: 'r1', objectName: 'Account', status: 'Succeeded' as const, statusCode: null, message: null, counters: { records: 10 } };
        await store.putObjectRun(objectRun);
        await store.putObjectRun({ ...objectRun, objectName: 'Secret__c', status: 'Failed', statusCode: 'NOT_VISIBLE', message: 'no access' });
        await store.putObjectRun({ ...objectRun, counters: { records: 11 } });
        assert.deepEqual(await store.listObjectRuns('r1'), [
          { ...objectRun, counters: { records: 11 } },
          { ...objectRun, objectName: 'Secret__c', status: 'Failed', statusCode: 'NOT_VISIBLE', message: 'no access' },
        ]);
        assert.deepEqual(await store.listObjectRuns('r2'), []);
      });

      withStore('object state of every object of an org', async ({ store }) => {
        const state = (objectName: string, status: ObjectState['status']): ObjectState => ({
          objectName,
          status,
          watermark: null,
          backfilledAt: null,
          recordCount: 0,
          versionCount: 0,
          lastRunId: null,
          lastBackupAt: null,
          reason: status === 'NotVisible' ? 'The API user cannot see it' : null,
          statusCode: status === 'NotVisible' ? 'NOT_VISIBLE' : null,
          details: {},
        });
        await store.putObjectState(ORG, state('Contact', 'Backfilling'));
        await store.putObjectState(ORG, state('Secret__c', 'NotVisible'));
        await store.putObjectState(OTHER_ORG, state('Lead', 'Waiting'));
        assert.deepEqual(await store.getObjectStates(ORG), [state('Contact', 'Backfilling'), state('Secret__c', 'NotVisible')]);
        assert.deepEqual(await store.getObjectState(OTHER_ORG, 'Lead'), state('Lead', 'Waiting'));
        assert.equal(await store.getObjectState(OTHER_ORG, 'Contact'), undefined);
        await store.putObjectState(ORG, state('Contact', 'Waiting'));
        assert.equal((await store.getObjectState(ORG, 'Contact'))?.status, 'Waiting');
      });

      withStore('ID mappings resolve through chains of restores', async ({ store }) => {
        const map = (oldId: string, newId: string, runId: string): { objectName: string; oldId: string; newId: string; runId: string; createdAt: number } => ({ objectName: 'Account', oldId, newId, runId, createdAt: T });
        await store.putIdMappings(ORG, [map('001A', '001B', 'restore-1'), map('001X', '001Y', 'restore-1')]);
        await store.putIdMappings(ORG, [map('001B', '001C', 'restore-2')]);
        await store.putIdMappings(ORG, []);
        assert.equal(await store.resolveId(ORG, '001A'), '001C');
        assert.equal(await store.resolveId(ORG, '001B'), '001C');
        assert.equal(await store.resolveId(ORG, '001X'), '001Y');
        assert.equal(await store.resolveId(ORG, '001C'), undefined);
        assert.equal(await store.resolveId(OTHER_ORG, '001A'), undefined);
      });

      withStore('resolveIds follows chains for many IDs at once; unmapped IDs are absent', async ({ store }) => {
        const map = (oldId: string, newId: string, runId = 'restore-1'): IdMapping => ({ objectName: 'Account', oldId, newId, runId, createdAt: T });
        assert.deepEqual(await store.resolveIds(ORG, []), new Map());
        assert.deepEqual(await store.resolveIds(ORG, ['001A']), new Map());
        await store.putIdMappings(ORG, [map('001A', '001B'), map('001X', '001Y'), map('001P', '001Q'), map('001S', '001S')]);
        await store.putIdMappings(ORG, [map('001B', '001C', 'restore-2'), map('001Q', '001P', 'restore-2')]);
        await store.putIdMappings(ORG, [map('001C', '001D', 'restore-3')]);
        await store.putIdMappings(OTHER_ORG, [map('001A', '001Z')]);
        const asked = ['001A', '001B', '001C', '001D', '001X', '001nope', '001A', '001P', '001S'];
        const resolved = await store.resolveIds(ORG, asked);
        assert.deepEqual(
          resolved,
          new Map([
            ['001A', '001D'],
            ['001B', '001D'],
            ['001C', '001D'],
            ['001X', '001Y'],
            // A cycle (only hand edits make one) stops at the last new ID before it repeats.
            ['001P', '001Q'],
            ['001S', '001S'],
          ]),
        );
        // The same answers as resolveId, one at a time.
        for (const id of asked) assert.equal(resolved.get(id), await store.resolveId(ORG, id), id);
        assert.deepEqual(await store.resolveIds(OTHER_ORG, ['001A', '001B']), new Map([['001A', '001Z']]));

        // Thousands of IDs, chains of three, across many lookups.
        const n = 2500;
        const id = (prefix: string, i: number): string => `${prefix}${String(i).padStart(12, '0')}AAA`;
        await store.putIdMappings(ORG, Array.from({ length: n }, (_, i) => map(id('003', i), id('003', n + i))));
        await store.putIdMappings(ORG, Array.from({ length: n }, (_, i) => map(id('003', n + i), id('003', 2 * n + i), 'restore-2')));
        await store.putIdMappings(ORG, Array.from({ length: n / 2 }, (_, i) => map(id('003', 2 * n + i), id('003', 3 * n + i), 'restore-3')));
        const many = [...Array.from({ length: n }, (_, i) => id('003', i)), ...Array.from({ length: 700 }, (_, i) => id('009', i))];
        const answers = await store.resolveIds(ORG, many);
        assert.equal(answers.size, n);
        for (let i = 0; i < n; i++) assert.equal(answers.get(id('003', i)), id('003', i < n / 2 ? 3 * n + i : 2 * n + i));
      });

      withStore('the audit log lists newest first', async ({ store }) => {
        await store.appendAudit({ at: T, actor: 'admin@host', action: 'org.add', target: 'prod', details: { loginUrl: 'https://login.salesforce.com' } });
        await store.appendAudit({ at: T + MINUTE, actor: 'admin@host', action: 'restore', target: 'run-9', details: {} });
        await store.appendAudit({ at: T + MINUTE, actor: 'cron', action: 'backup', target: null, details: { objects: 3 } });
        const entries = await store.listAudit();
        assert.deepEqual(entries.map((e) => e.action), ['backup', 'restore', 'org.add']);
        assert.deepEqual(entries[2], { at: T, actor: 'admin@host', action: 'org.add', target: 'prod', details: { loginUrl: 'https://login.salesforce.com' } });
        assert.deepEqual((await store.listAudit({ limit: 1 })).map((e) => e.action), ['backup']);
      });
    });

    describe('users, sessions and API tokens', () => {
      const user = (name: string, extra: Partial<UserRecord> = {}): UserRecord => ({ name, role: 'viewer', passwordHash: `scrypt$1024$8$1$c2FsdA==$${name}`, createdAt: T, passwordChangedAt: T, ...extra });
      const session = (idHash: string, userName: string, extra: Partial<SessionRecord> = {}): SessionRecord => ({
        idHash,
        userName,
        csrfToken: `csrf-${idHash}`,
        createdAt: T,
        expiresAt: T + 60 * MINUTE,
        lastSeenAt: T,
        ...extra,
      });
      const token = (id: string, userName: string, extra: Partial<ApiTokenRecord> = {}): ApiTokenRecord => ({
        id,
        secretHash: 'ab'.repeat(32),
        userName,
        label: `label of ${id}`,
        createdAt: T,
        expiresAt: null,
        lastUsedAt: null,
        ...extra,
      });

      withStore('users are added, replaced, listed by name and removed', async ({ store }) => {
        assert.deepEqual(await store.listUsers(), []);
        await store.putUser(user('zoe', { role: 'administrator' }));
        await store.putUser(user('alice@example.com'));
        assert.deepEqual(await store.getUser('zoe'), user('zoe', { role: 'administrator' }));
        assert.equal(await store.getUser('Zoe'), undefined);
        await store.putUser(user('zoe', { role: 'restore-operator', passwordHash: 'scrypt$new', passwordChangedAt: T + MINUTE }));
        assert.deepEqual(await store.listUsers(), [user('alice@example.com'), user('zoe', { role: 'restore-operator', passwordHash: 'scrypt$new', passwordChangedAt: T + MINUTE })]);
        assert.equal(await store.removeUser('zoe'), true);
        assert.equal(await store.removeUser('zoe'), false);
        assert.equal(await store.getUser('zoe'), undefined);
        assert.deepEqual((await store.listUsers()).map((u) => u.name), ['alice@example.com']);
      });

      withStore('sessions are found by the hash of their secret and deleted one by one or per user', async ({ store }) => {
        await store.putUser(user('ann'));
        await store.putUser(user('bob'));
        await store.putSession(session('h1', 'ann'));
        await store.putSession(session('h2', 'ann'));
        await store.putSession(session('h3', 'bob'));
        assert.deepEqual(await store.getSession('h1'), session('h1', 'ann'));
        assert.equal(await store.getSession('nope'), undefined);
        assert.equal(await store.deleteSessions({ idHash: 'h1' }), 1);
        assert.equal(await store.deleteSessions({ idHash: 'h1' }), 0);
        assert.equal(await store.getSession('h1'), undefined);
        assert.equal(await store.deleteSessions({ userName: 'ann' }), 1);
        assert.equal(await store.getSession('h2'), undefined);
        assert.deepEqual(await store.getSession('h3'), session('h3', 'bob'));
      });

      withStore('a session seen again is updated, and never brought back once signed out', async ({ store }) => {
        await store.putUser(user('ann'));
        await store.putSession(session('h1', 'ann'));
        await store.putSession(session('h1', 'ann', { lastSeenAt: T + MINUTE }));
        assert.deepEqual(await store.getSession('h1'), session('h1', 'ann', { lastSeenAt: T + MINUTE }));
        // A request that read the session before the sign-out records its visit after it.
        await store.deleteSessions({ idHash: 'h1' });
        await store.putSession(session('h1', 'ann', { lastSeenAt: T + 2 * MINUTE }));
        assert.equal(await store.getSession('h1'), undefined);
      });

      withStore('API tokens are listed per user, updated when used, and never brought back once revoked', async ({ store }) => {
        await store.putUser(user('ann'));
        await store.putUser(user('bob'));
        await store.putApiToken(token('ovt_b', 'bob', { createdAt: T + MINUTE, expiresAt: T + 99 * MINUTE }));
        await store.putApiToken(token('ovt_a2', 'ann', { createdAt: T + MINUTE }));
        await store.putApiToken(token('ovt_a1', 'ann'));
        assert.deepEqual(await store.getApiToken('ovt_b'), token('ovt_b', 'bob', { createdAt: T + MINUTE, expiresAt: T + 99 * MINUTE }));
        assert.equal(await store.getApiToken('ovt_nope'), undefined);
        assert.deepEqual((await store.listApiTokens('ann')).map((t) => t.id), ['ovt_a1', 'ovt_a2']);
        assert.deepEqual((await store.listApiTokens()).map((t) => t.id), ['ovt_a1', 'ovt_a2', 'ovt_b']);
        assert.deepEqual(await store.listApiTokens('carol'), []);

        await store.putApiToken(token('ovt_a1', 'ann', { lastUsedAt: T + 5 * MINUTE }));
        assert.equal((await store.getApiToken('ovt_a1'))?.lastUsedAt, T + 5 * MINUTE);
        assert.equal(await store.removeApiToken('ovt_a1'), true);
        assert.equal(await store.removeApiToken('ovt_a1'), false);
        // A request that checked the token before it was revoked records its use after.
        await store.putApiToken(token('ovt_a1', 'ann', { lastUsedAt: T + 6 * MINUTE }));
        assert.equal(await store.getApiToken('ovt_a1'), undefined);
        assert.deepEqual((await store.listApiTokens()).map((t) => t.id), ['ovt_a2', 'ovt_b']);
      });

      withStore('sessions and tokens belong to existing users and go with them', async ({ store }) => {
        await assert.rejects(store.putSession(session('h1', 'ghost')), (e: Error & { code?: string }) => e.code === 'USER_NOT_FOUND');
        await assert.rejects(store.putApiToken(token('ovt_g', 'ghost')), (e: Error & { code?: string }) => e.code === 'USER_NOT_FOUND');
        await store.putUser(user('ann'));
        await store.putUser(user('bob'));
        await store.putSession(session('h1', 'ann'));
        await store.putSession(session('h2', 'bob'));
        await store.putApiToken(token('ovt_a', 'ann'));
        await store.putApiToken(token('ovt_b', 'bob'));
        assert.equal(await store.removeUser('ann'), true);
        assert.equal(await store.getSession('h1'), undefined);
        assert.equal(await store.getApiToken('ovt_a'), undefined);
        assert.deepEqual(await store.getSession('h2'), session('h2', 'bob'));
        assert.deepEqual((await store.listApiTokens()).map((t) => t.id), ['ovt_b']);
        // The same name added again starts with no session and no token.
        await store.putUser(user('ann', { createdAt: T + MINUTE, passwordChangedAt: T + MINUTE }));
        assert.deepEqual(await store.listApiTokens('ann'), []);
      });
    });

    describe('restore journal', () => {
      const A1 = '001000000000001AAA';
      const A2 = '001000000000002AAA';
      const C1 = '003000000000001AAA';
      const step = (runId: string, stepId: string, extra: Partial<RestoreStep> = {}): RestoreStep => ({
        runId,
        stepId,
        objectName: 'Account',
        action: 'create',
        originalIds: [A1, A2],
        startedAt: T,
        completedAt: null,
        ...extra,
      });
      const result = (stepId: string, originalId: string, extra: Partial<RestoreResult> = {}): RestoreResult => ({
        objectName: 'Account',
        originalId,
        newId: null,
        outcome: 'Created',
        statusCode: null,
        message: null,
        stepId,
        ...extra,
      });
      const mapping = (oldId: string, newId: string): IdMapping => ({ objectName: 'Account', oldId, newId, runId: 'restore-1', createdAt: T + MINUTE });

      withStore('steps are listed in begin order; unfinished ones without completedAt', async (opened) => {
        const { store } = opened;
        assert.deepEqual(await store.restoreSteps('restore-1'), []);
        await store.beginRestoreStep(step('restore-1', 's1'));
        // Same start time: begin order, not time or ID order, decides.
        await store.beginRestoreStep(step('restore-1', 's0', { objectName: 'Contact', action: 'update', originalIds: [C1] }));
        await store.beginRestoreStep(step('restore-2', 's1', { action: 'undelete', originalIds: [] }));
        await store.beginRestoreStep(step('restore-1', 's2', { action: 'link', startedAt: T + 2 * MINUTE }));
        await assert.rejects(store.beginRestoreStep(step('restore-1', 's1')), (e: Error & { code?: string }) => e.code === 'RESTORE_STEP_EXISTS');
        await store.completeRestoreStep('restore-1', 's1', T + MINUTE, [], ORG, []);
        const expected = [
          step('restore-1', 's1', { completedAt: T + MINUTE }),
          step('restore-1', 's0', { objectName: 'Contact', action: 'update', originalIds: [C1] }),
          step('restore-1', 's2', { action: 'link', startedAt: T + 2 * MINUTE }),
        ];
        assert.deepEqual(await store.restoreSteps('restore-1'), expected);
        assert.deepEqual(await store.restoreSteps('restore-2'), [step('restore-2', 's1', { action: 'undelete', originalIds: [] })]);
        // Journaled durably: there after the store is closed and opened again.
        const reopened = await opened.reopen();
        assert.deepEqual(await reopened.restoreSteps('restore-1'), expected);
      });

      withStore('results round-trip in insertion order, messages sealed', async (opened) => {
        const secret = `Duplicate value on Name: Zyxwvut Holdings ${randomBytes(6).toString('hex')}`;
        await opened.store.beginRestoreStep(step('restore-1', 's1'));
        await opened.store.beginRestoreStep(step('restore-1', 's2', { objectName: 'Contact', action: 'update', originalIds: [C1] }));
        await opened.store.beginRestoreStep(step('restore-1', 's3', { action: 'link', originalIds: [A2] }));
        const s1 = [
          result('s1', A2, { newId: '001000000000009AAA' }),
          result('s1', A1, { outcome: 'Failed', statusCode: 'DUPLICATE_VALUE', message: secret }),
        ];
        const s2 = [result('s2', C1, { objectName: 'Contact', newId: C1, outcome: 'Skipped', statusCode: 'NEWER_IN_ORG', message: '' })];
        const s3 = [result('s3', A2, { newId: '001000000000009AAA', outcome: 'Updated', message: 'Parent: ünïcödé ✓' })];
        await opened.store.completeRestoreStep('restore-1', 's2', T + MINUTE, s2, ORG, []);
        await opened.store.completeRestoreStep('restore-1', 's1', T + 2 * MINUTE, s1, ORG, [mapping(A2, '001000000000009AAA')]);
        await opened.store.completeRestoreStep('restore-1', 's3', T + 3 * MINUTE, s3, ORG, []);
        const expected = [...s2, ...s1, ...s3];
        assert.deepEqual(await opened.store.restoreResults('restore-1'), expected);
        assert.deepEqual(await opened.store.restoreResults('restore-2'), []);

        if (opened.storedBytes) {
          const bytes = await opened.storedBytes();
          assert.ok(bytes.includes('DUPLICATE_VALUE'), 'status codes are stored in clear');
          assert.equal(bytes.includes('Zyxwvut Holdings'), false, 'a restore message is stored in clear');
          assert.equal(bytes.includes(Buffer.from('ünïcödé')), false, 'a restore message is stored in clear');
        }
        assert.deepEqual(await (await opened.reopen()).restoreResults('restore-1'), expected);
        // Another vault's keyring reads no message.
        await assert.rejects((await opened.reopen({ keyring: newKeyring() })).restoreResults('restore-1'), IntegrityError);
      });

      withStore('completing a step twice, or one never begun, is refused and writes nothing', async ({ store }) => {
        await assert.rejects(store.completeRestoreStep('restore-1', 'nope', T, [result('nope', A1)], ORG, [mapping(A1, '001000000000008AAA')]), (e: Error & { code?: string }) => e.code === 'RESTORE_STEP_NOT_FOUND' && e.message.includes('nope'));
        assert.equal(await store.resolveId(ORG, A1), undefined);
        assert.deepEqual(await store.restoreResults('restore-1'), []);

        await store.beginRestoreStep(step('restore-1', 's1'));
        // A result naming another step is refused before anything is written.
        await assert.rejects(store.completeRestoreStep('restore-1', 's1', T, [result('s9', A1)], ORG, []), (e: Error & { code?: string }) => e.code === 'RESTORE_STEP_MISMATCH');
        assert.equal((await store.restoreSteps('restore-1'))[0]?.completedAt, null);

        await store.completeRestoreStep('restore-1', 's1', T + MINUTE, [result('s1', A1, { newId: '001000000000008AAA' })], ORG, [mapping(A1, '001000000000008AAA')]);
        await assert.rejects(
          store.completeRestoreStep('restore-1', 's1', T + 2 * MINUTE, [result('s1', A2, { newId: '001000000000007AAA' })], ORG, [mapping(A2, '001000000000007AAA'), mapping(A1, '001000000000007AAA')]),
          (e: Error & { code?: string }) => e.code === 'RESTORE_STEP_COMPLETED' && e.message.includes('s1'),
        );
        assert.deepEqual(await store.restoreResults('restore-1'), [result('s1', A1, { newId: '001000000000008AAA' })]);
        assert.deepEqual(await store.resolveIds(ORG, [A1, A2]), new Map([[A1, '001000000000008AAA']]));
        assert.equal((await store.restoreSteps('restore-1'))[0]?.completedAt, T + MINUTE);
        // A step is begun uncompleted: only its results complete it.
        await assert.rejects(store.beginRestoreStep(step('restore-1', 's2', { completedAt: T })), (e: Error & { code?: string }) => e.code === 'RESTORE_STEP_COMPLETED');
      });

      withStore('mappings written with a step resolve under its mapping scope, through chains', async ({ store }) => {
        await store.beginRestoreStep(step('restore-1', 's1'));
        const created = [result('s1', A1, { newId: '001000000000008AAA' }), result('s1', A2, { newId: '001000000000007AAA' })];
        await store.completeRestoreStep('restore-1', 's1', T + MINUTE, created, ORG, [mapping(A1, '001000000000008AAA'), mapping(A2, '001000000000007AAA')]);
        assert.equal(await store.resolveId(ORG, A1), '001000000000008AAA');
        assert.deepEqual(await store.resolveIds(ORG, [A1, A2, C1]), new Map([[A1, '001000000000008AAA'], [A2, '001000000000007AAA']]));
        assert.deepEqual(await store.resolveIds(OTHER_ORG, [A1, A2]), new Map());
        // A later restore re-creates one of them again: the chain leads to the newest.
        await store.beginRestoreStep(step('restore-2', 's1', { originalIds: [A1] }));
        await store.completeRestoreStep('restore-2', 's1', T + 2 * MINUTE, [result('s1', A1, { newId: '001000000000006AAA' })], ORG, [{ ...mapping('001000000000008AAA', '001000000000006AAA'), runId: 'restore-2' }]);
        assert.deepEqual(await store.resolveIds(ORG, [A1, A2]), new Map([[A1, '001000000000006AAA'], [A2, '001000000000007AAA']]));
      });
    });

    describe('archive journal and marks', () => {
      const A1 = '001000000000001AAA';
      const A2 = '001000000000002AAA';
      const C1 = '003000000000001AAA';
      const archiveStep = (runId: string, stepId: string, extra: Partial<ArchiveStep> = {}): ArchiveStep => ({
        runId,
        stepId,
        objectName: 'Account',
        action: 'delete',
        records: [
          { objectName: 'Account', recordId: A1, systemModstamp: T, via: null, cascadeOf: null },
          { objectName: 'Contact', recordId: C1, systemModstamp: T + MINUTE, via: A1, cascadeOf: A1 },
        ],
        startedAt: T,
        completedAt: null,
        ...extra,
      });
      const archived = (stepId: string, recordId: string, extra: Partial<ArchiveResult> = {}): ArchiveResult => ({
        objectName: 'Account',
        recordId,
        outcome: 'Deleted',
        statusCode: null,
        message: null,
        via: null,
        systemModstamp: T,
        stepId,
        ...extra,
      });

      withStore('steps are listed in begin order with their records; durable', async (opened) => {
        const { store } = opened;
        assert.deepEqual(await store.archiveSteps('archive-1'), []);
        await store.beginArchiveStep(archiveStep('archive-1', 's2', { action: 'plan', records: [] }));
        await store.beginArchiveStep(archiveStep('archive-1', 's1'));
        await store.beginArchiveStep(archiveStep('archive-2', 's1'));
        await assert.rejects(store.beginArchiveStep(archiveStep('archive-1', 's1')), (e: Error & { code?: string }) => e.code === 'ARCHIVE_STEP_EXISTS');
        await assert.rejects(store.beginArchiveStep(archiveStep('archive-1', 's3', { completedAt: T })), (e: Error & { code?: string }) => e.code === 'ARCHIVE_STEP_COMPLETED');
        await store.completeArchiveStep(ORG, 'archive-1', 's2', T + MINUTE, []);
        const expected = [archiveStep('archive-1', 's2', { action: 'plan', records: [], completedAt: T + MINUTE }), archiveStep('archive-1', 's1')];
        assert.deepEqual(await store.archiveSteps('archive-1'), expected);
        assert.deepEqual(await (await opened.reopen()).archiveSteps('archive-1'), expected);
      });

      withStore('results round-trip with sealed messages; deleted records are marked with their step, once', async (opened) => {
        const secret = `Your attempt to delete Quillfeather Ventures ${randomBytes(6).toString('hex')} could not be completed`;
        const { store } = opened;
        await store.beginArchiveStep(archiveStep('archive-1', 's1'));
        const results = [
          archived('s1', A1),
          archived('s1', C1, { objectName: 'Contact', via: A1, systemModstamp: T + MINUTE, message: 'Deleted with Account (cascade). ✓' }),
          archived('s1', A2, { outcome: 'Failed', statusCode: 'DELETE_FAILED', message: secret }),
        ];
        await store.completeArchiveStep(ORG, 'archive-1', 's1', T + 2 * MINUTE, results);
        assert.deepEqual(await store.archiveResults('archive-1'), results);
        const marks = await store.archivedRecords(ORG, [A1, A2, C1, A1]);
        assert.deepEqual(
          [...marks.values()].sort((a, b) => a.recordId.localeCompare(b.recordId)),
          [
            { objectName: 'Account', recordId: A1, runId: 'archive-1', archivedAt: T + 2 * MINUTE, systemModstamp: T, restored: false },
            { objectName: 'Contact', recordId: C1, runId: 'archive-1', archivedAt: T + 2 * MINUTE, systemModstamp: T + MINUTE, restored: false },
          ],
        );
        assert.deepEqual(await store.archivedRecords(OTHER_ORG, [A1]), new Map());
        assert.deepEqual(await store.countArchived(ORG), new Map([['Account', 1], ['Contact', 1]]));
        assert.deepEqual(await store.archivedIds(ORG), [A1, C1]);
        assert.deepEqual(await store.archivedIds(ORG, { objectName: 'Contact' }), [C1]);
        assert.deepEqual(await store.archivedIds(ORG, { runId: 'archive-2' }), []);

        await assert.rejects(store.completeArchiveStep(ORG, 'archive-1', 's1', T + 3 * MINUTE, []), (e: Error & { code?: string }) => e.code === 'ARCHIVE_STEP_COMPLETED');
        await assert.rejects(store.completeArchiveStep(ORG, 'archive-1', 'nope', T, []), (e: Error & { code?: string }) => e.code === 'ARCHIVE_STEP_NOT_FOUND');
        await store.beginArchiveStep(archiveStep('archive-2', 's1'));
        await assert.rejects(store.completeArchiveStep(ORG, 'archive-2', 's1', T, [archived('s9', A1)]), (e: Error & { code?: string }) => e.code === 'ARCHIVE_STEP_MISMATCH');
        await assert.rejects(store.completeArchiveStep(ORG, 'archive-2', 's1', T, [archived('s1', A2, { systemModstamp: null })]), (e: Error & { code?: string }) => e.code === 'ARCHIVE_MARK_INCOMPLETE');
        assert.deepEqual((await store.archiveSteps('archive-2'))[0]?.completedAt, null, 'a refused completion writes nothing');
        // Archived again by a later run (after a restore): the mark names the later run.
        await store.completeArchiveStep(ORG, 'archive-2', 's1', T + 9 * MINUTE, [archived('s1', A1, { systemModstamp: T + 8 * MINUTE })]);
        assert.deepEqual((await store.archivedRecords(ORG, [A1])).get(A1), { objectName: 'Account', recordId: A1, runId: 'archive-2', archivedAt: T + 9 * MINUTE, systemModstamp: T + 8 * MINUTE, restored: false });

        if (opened.storedBytes) {
          const bytes = await opened.storedBytes();
          assert.ok(bytes.includes('DELETE_FAILED'), 'status codes are stored in clear');
          assert.equal(bytes.includes('Quillfeather'), false, 'an archive message is stored in clear');
        }
        await assert.rejects((await opened.reopen({ keyring: newKeyring() })).archiveResults('archive-1'), IntegrityError);
      });

      withStore('an archived record counts as restored once seen live again, or re-created under a new ID', async ({ store }) => {
        const write = (recordId: string, at: number, changeType: ChangeType): Promise<unknown> => store.writeVersions(batch([version(recordId, at, changeType, { Name: recordId })]));
        await write(A1, T, 'created');
        await write(A2, T, 'created');
        await store.beginArchiveStep(archiveStep('archive-1', 's1'));
        await store.completeArchiveStep(ORG, 'archive-1', 's1', T + MINUTE, [archived('s1', A1), archived('s1', A2)]);
        // The next backup records the deletions: still archived.
        await write(A1, T + MINUTE, 'deleted');
        await write(A2, T + MINUTE, 'deleted');
        assert.deepEqual(await store.countArchived(ORG), new Map([['Account', 2]]));
        // A1 is undeleted and backed up again; A2 is re-created under a new ID by a restore.
        await write(A1, T + 5 * MINUTE, 'undeleted');
        await store.putIdMappings(ORG, [{ objectName: 'Account', oldId: A2, newId: '001000000000009AAA', runId: 'restore-1', createdAt: T + 6 * MINUTE }]);
        assert.deepEqual(
          [...(await store.archivedRecords(ORG, [A1, A2])).values()].map((m) => [m.recordId, m.restored]).sort(),
          [
            [A1, true],
            [A2, true],
          ],
        );
        assert.deepEqual(await store.countArchived(ORG), new Map());
        assert.deepEqual(await store.archivedIds(ORG), []);
        assert.deepEqual(await store.archivedIds(ORG, { includeRestored: true }), [A1, A2]);
      });
    });

    describe('schema store', () => {
      withStore('a describe is stored once; a new one closes the old interval', async ({ store }) => {
        const v1 = { name: 'Account', fields: [{ name: 'Id', type: 'id' }, { name: 'Name', type: 'string', length: 255 }] };
        const v2 = { ...v1, fields: [...v1.fields, { name: 'Tier__c', type: 'picklist' }] };
        const first = await store.putSchema(ORG, 'Account', v1, T);
        assert.equal(first.changed, true);
        const same = await store.putSchema(ORG, 'Account', { fields: v1.fields.map((f) => ({ ...f })), name: 'Account' }, T + MINUTE);
        assert.deepEqual(same, { schemaId: first.schemaId, changed: false });
        assert.deepEqual(await store.getSchema(ORG, first.schemaId), v1);
        const second = await store.putSchema(ORG, 'Account', v2, T + 2 * MINUTE);
        assert.equal(second.changed, true);
        assert.notEqual(second.schemaId, first.schemaId);
        const back = await store.putSchema(ORG, 'Account', v1, T + 3 * MINUTE);
        assert.deepEqual(back, { schemaId: first.schemaId, changed: true });
        assert.deepEqual(await store.schemaHistory(ORG, 'Account'), [
          { schemaId: first.schemaId, objectName: 'Account', validFrom: T, validTo: T + 2 * MINUTE },
          { schemaId: second.schemaId, objectName: 'Account', validFrom: T + 2 * MINUTE, validTo: T + 3 * MINUTE },
          { schemaId: first.schemaId, objectName: 'Account', validFrom: T + 3 * MINUTE, validTo: null },
        ]);
        assert.deepEqual(await store.schemaHistory(ORG, 'Contact'), []);
        assert.equal(await store.getSchema(ORG, 'f'.repeat(64)), undefined);
      });
    });

    describe('metadata store', () => {
      const cls = (body: string): Record<string, string> => ({ 'classes/Greeter.cls': body, 'classes/Greeter.cls-meta.xml': '<ApexClass><status>Active</status></ApexClass>' });
      const field = { 'objects/Account/fields/Tier__c.field-meta.xml': '<CustomField><fullName>Tier__c</fullName></CustomField>' };
      const input = (type: string, fullName: string, files: Record<string, string> | undefined, lastModifiedDate: number | null = T) => ({
        type,
        fullName,
        files,
        deleted: files === undefined,
        lastModifiedDate,
        salesforceId: null,
      });

      withStore('versions are stored content-addressed, unchanged ones skipped; heads as of a run or a time; history newest first', async (opened) => {
        const { store } = opened;
        const first = await store.writeMetadataVersions(ORG, 'm1', T, [input('ApexClass', 'Greeter', cls('class Greeter {}')), input('CustomField', 'Account.Tier__c', field)]);
        assert.deepEqual(first, { written: 2, unchanged: 0, newContents: 2 });
        await store.completeMetadataRun({ orgId: ORG, runId: 'm1', capturedAt: T, components: 2, changed: 2, deleted: 0 });

        // The same capture again stores nothing; a changed class stores one version; a deletion marks one.
        const again = await store.writeMetadataVersions(ORG, 'm2', T + MINUTE, [
          input('ApexClass', 'Greeter', cls('class Greeter { void hi() {} }'), T + MINUTE),
          input('CustomField', 'Account.Tier__c', { ...field }),
        ]);
        assert.deepEqual(again, { written: 1, unchanged: 1, newContents: 1 });
        assert.deepEqual(await store.writeMetadataVersions(ORG, 'm2', T + MINUTE, [input('CustomField', 'Account.Tier__c', undefined), input('Flow', 'Never_Stored', undefined)]), {
          written: 1,
          unchanged: 1,
          newContents: 0,
        });
        await store.completeMetadataRun({ orgId: ORG, runId: 'm2', capturedAt: T + MINUTE, components: 1, changed: 2, deleted: 1 });

        // Back to the first body: a new version sharing the first content.
        const back = await store.writeMetadataVersions(ORG, 'm3', T + 2 * MINUTE, [input('ApexClass', 'Greeter', cls('class Greeter {}'), T + 2 * MINUTE)]);
        assert.deepEqual(back, { written: 1, unchanged: 0, newContents: 0 });

        const now = await store.metadataHeads(ORG);
        assert.deepEqual(now.map((h) => [h.type, h.fullName, h.runId]), [['ApexClass', 'Greeter', 'm3']]);
        const withDeleted = await store.metadataHeads(ORG, { includeDeleted: true });
        assert.deepEqual(withDeleted.map((h) => [h.type, h.fullName, h.deleted, h.contentId === null]), [
          ['ApexClass', 'Greeter', false, false],
          ['CustomField', 'Account.Tier__c', true, true],
        ]);
        const asOfM1 = await store.metadataHeads(ORG, { runId: 'm1' });
        assert.deepEqual(asOfM1.map((h) => [h.type, h.fullName, h.runId]), [['ApexClass', 'Greeter', 'm1'], ['CustomField', 'Account.Tier__c', 'm1']]);
        assert.deepEqual((await store.metadataHeads(ORG, { at: T + MINUTE })).map((h) => [h.fullName, h.runId]), [['Greeter', 'm2']]);
        assert.deepEqual((await store.metadataHeads(ORG, { type: 'CustomField', runId: 'm1' })).map((h) => h.fullName), ['Account.Tier__c']);
        await assert.rejects(store.metadataHeads(ORG, { runId: 'm3' }), /No completed metadata backup/);

        const history = await store.metadataHistory(ORG, 'ApexClass', 'Greeter');
        assert.deepEqual(history.map((h) => [h.runId, h.capturedAt, h.lastModifiedDate]), [['m3', T + 2 * MINUTE, T + 2 * MINUTE], ['m2', T + MINUTE, T + MINUTE], ['m1', T, T]]);
        assert.equal(history[0]!.contentId, history[2]!.contentId);
        assert.deepEqual(await store.readMetadataFiles(ORG, history[1]!.contentId!), cls('class Greeter { void hi() {} }'));
        assert.equal(await store.readMetadataFiles(ORG, 'f'.repeat(64)), undefined);
        assert.equal(await store.readMetadataFiles(OTHER_ORG, history[0]!.contentId!), undefined);
        assert.deepEqual(await store.metadataHeads(OTHER_ORG), []);

        assert.deepEqual(await store.metadataRuns(ORG), [
          { orgId: ORG, runId: 'm2', capturedAt: T + MINUTE, components: 1, changed: 2, deleted: 1 },
          { orgId: ORG, runId: 'm1', capturedAt: T, components: 2, changed: 2, deleted: 0 },
        ]);
        assert.equal((await store.metadataRuns(ORG, { limit: 1 })).length, 1);

        const reopened = await opened.reopen();
        assert.equal((await reopened.metadataHistory(ORG, 'ApexClass', 'Greeter')).length, 3);
        if (opened.storedBytes) assert.equal((await opened.storedBytes()).includes('class Greeter'), false);
        const other = await opened.reopen({ keyring: newKeyring() });
        await assert.rejects(other.readMetadataFiles(ORG, history[0]!.contentId!), IntegrityError);
      });
      withStore('retention: chains newest first; forget removes versions and unreferenced contents, skips moved heads, keeps the head', async ({ store }) => {
        const body = (n: number): Record<string, string> => cls(`class Greeter { /* ${n} */ }`);
        for (let n = 0; n < 4; n++) {
          await store.writeMetadataVersions(ORG, `r${n}`, T + n * MINUTE, [input('ApexClass', 'Greeter', body(n % 3), T + n * MINUTE), input('CustomField', 'Account.Tier__c', n < 2 ? field : undefined)]);
        }
        await store.writeMetadataVersions(OTHER_ORG, 'o1', T, [input('ApexClass', 'Greeter', body(1))]);
        const chains = await store.metadataChains(ORG);
        assert.deepEqual(
          chains.map((c) => [c.type, c.fullName, c.versions.map((v) => [v.capturedAt, v.deleted])]),
          [
            ['ApexClass', 'Greeter', [[T + 3 * MINUTE, false], [T + 2 * MINUTE, false], [T + MINUTE, false], [T, false]]],
            ['CustomField', 'Account.Tier__c', [[T + 2 * MINUTE, true], [T, false]]],
          ],
        );
        const [greeter, tier] = chains as [(typeof chains)[0], (typeof chains)[0]];
        const seqs = (c: typeof greeter): number[] => c.versions.map((v) => v.seq);
        const history = await store.metadataHistory(ORG, 'ApexClass', 'Greeter');
        // The versions at T+1 and T+2 go, and with them bodies 1 and 2; body 0 stays (T+3 and T).
        const outcome = await store.forgetMetadataVersions(ORG, [
          { type: 'ApexClass', fullName: 'Greeter', headSeq: greeter.versions[0]!.seq, seqs: [greeter.versions[1]!.seq, greeter.versions[2]!.seq] },
          // A stale decision: the head it names is not the head.
          { type: 'CustomField', fullName: 'Account.Tier__c', headSeq: tier.versions[1]!.seq, seqs: [tier.versions[1]!.seq] },
        ]);
        assert.deepEqual(outcome, { versions: 2, contents: 2, skipped: 1 });
        assert.deepEqual((await store.metadataHistory(ORG, 'ApexClass', 'Greeter')).map((h) => h.capturedAt), [T + 3 * MINUTE, T]);
        assert.equal(await store.readMetadataFiles(ORG, history[1]!.contentId!), undefined);
        assert.equal(await store.readMetadataFiles(ORG, history[2]!.contentId!), undefined);
        assert.deepEqual(await store.readMetadataFiles(ORG, history[0]!.contentId!), body(0));
        // The other org's copy of a content is its own.
        assert.equal((await store.metadataHistory(OTHER_ORG, 'ApexClass', 'Greeter')).length, 1);
        assert.equal((await store.readMetadataFiles(OTHER_ORG, (await store.metadataHistory(OTHER_ORG, 'ApexClass', 'Greeter'))[0]!.contentId!)) !== undefined, true);

        // The head alone may not go; a whole deleted component may.
        await assert.rejects(
          store.forgetMetadataVersions(ORG, [{ type: 'ApexClass', fullName: 'Greeter', headSeq: greeter.versions[0]!.seq, seqs: [greeter.versions[0]!.seq] }]),
          (e: Error & { code?: string }) => e.code === 'INVALID_FORGET',
        );
        assert.equal((await store.metadataHistory(ORG, 'ApexClass', 'Greeter')).length, 2);
        assert.deepEqual(await store.forgetMetadataVersions(ORG, [{ type: 'CustomField', fullName: 'Account.Tier__c', headSeq: tier.versions[0]!.seq, seqs: seqs(tier) }]), { versions: 2, contents: 1, skipped: 0 });
        assert.deepEqual(await store.metadataHeads(ORG, { includeDeleted: true }).then((h) => h.map((v) => v.fullName)), ['Greeter']);
        assert.deepEqual((await store.metadataChains(ORG)).map((c) => c.versions.length), [2]);
      });
    });

    describe('file catalog', () => {
      withStore('files of a record, and every address referred to', async ({ store }) => {
        const file = {
          objectName: 'ContentVersion',
          recordId: '068000000000001AAA',
          field: 'VersionData',
          systemModstamp: T,
          address: 'b'.repeat(64),
          size: 1234,
          fileName: 'Q3 plan.pdf',
          contentType: 'application/pdf',
        };
        await store.putFile(ORG, file);
        await store.putFile(ORG, { ...file, systemModstamp: T + MINUTE, address: 'a'.repeat(64), fileName: 'Q3 plan v2.pdf' });
        await store.putFile(ORG, { ...file, recordId: '068000000000002AAA', address: 'a'.repeat(64), contentType: null, fileName: null });
        await store.putFile(ORG, { ...file, size: 1235 });
        assert.deepEqual(await store.filesOf(ORG, file.recordId), [
          { ...file, systemModstamp: T + MINUTE, address: 'a'.repeat(64), fileName: 'Q3 plan v2.pdf' },
          { ...file, size: 1235 },
        ]);
        assert.deepEqual(await store.filesOf(OTHER_ORG, file.recordId), []);
        assert.deepEqual(await collect(store.referencedAddresses()), ['a'.repeat(64), 'b'.repeat(64)]);
        assert.deepEqual(await store.countFiles(ORG), { files: 3, bytes: 1234 + 1235 + 1234 });
        assert.deepEqual(await store.countFiles(OTHER_ORG), { files: 0, bytes: 0 });
      });
    });

    describe('locks', () => {
      withStore('one writer per org: held, released, taken over when stale', async ({ store }) => {
        const first = await store.acquireOrgLock(ORG, 'backup-1');
        assert.equal(first.owner, 'backup-1');
        await assert.rejects(store.acquireOrgLock(ORG, 'backup-2'), (error: unknown) => error instanceof LockHeldError && error.orgId === ORG && error.holder.includes('backup-1'));
        const other = await store.acquireOrgLock(OTHER_ORG, 'backup-3');
        await first.heartbeat();
        await first.release();
        const second = await store.acquireOrgLock(ORG, 'backup-2');

        // A holder that stopped heartbeating is taken over; it learns so at its next heartbeat.
        await new Promise((resolve) => setTimeout(resolve, 60));
        const third = await store.acquireOrgLock(ORG, 'backup-4', { staleAfterMs: 20 });
        await assert.rejects(second.heartbeat(), LockHeldError);
        await second.release();
        await assert.rejects(store.acquireOrgLock(ORG, 'backup-5'), LockHeldError);
        await third.release();
        await other.release();
        await (await store.acquireOrgLock(ORG, 'backup-6')).release();
      });
    });

    describe('pack reader', () => {
      const write = async (store: VaultStore, n: number): Promise<string[]> => {
        const ids = Array.from({ length: n }, (_, i) => `001${String(i).padStart(12, '0')}AAA`);
        await store.writeVersions(batch(ids.map((id, i) => version(id, T + i, 'created', { Name: `Account ${i}`, Description: 'x'.repeat(i % 50) }))));
        return ids;
      };

      withStore('lists packs in deterministic slices and checks every payload', async ({ store }) => {
        await write(store, 700);
        const all = await collect(store.listPacks());
        assert.ok(all.length >= 1);
        assert.equal(await storedPayloads(store), 700);
        const slices = await Promise.all([1, 2, 3].map((n) => collect(store.listPacks({ n, m: 3 }))));
        assert.deepEqual(slices.flat().sort(), [...all].sort());
        assert.deepEqual(await Promise.all([1, 2, 3].map((n) => collect(store.listPacks({ n, m: 3 })))), slices);
        assert.equal(await store.danglingVersions(), 0);
        await assert.rejects(store.checkPack('no-such-pack'), IntegrityError);
      });

      withStore('a flipped byte in a pack is reported as an IntegrityError naming the pack', async (opened) => {
        if (!opened.tamperPack) return;
        const ids = await write(opened.store, 300);
        const packs = await collect(opened.store.listPacks());
        const victim = packs[0]!;
        await opened.tamperPack(victim);
        await assert.rejects(opened.store.checkPack(victim), (error: unknown) => error instanceof IntegrityError && error.message.includes(victim));
        for (const other of packs.slice(1)) await opened.store.checkPack(other);
        const store = await opened.reopen();
        await assert.rejects(store.versionAsOf(ORG, 'Account', ids[0]!, T + 1000), IntegrityError);
      });
    });

    describe('search index', () => {
      const ids = (found: { recordId: string }[]): string[] => found.map((c) => c.recordId);
      withStore('offers the records whose versions hold every word, latest first, with their filters; never a word in clear', async (opened) => {
        const A = '001000000000001AAA';
        const B = '001000000000002AAA';
        const C = '003000000000001AAA';
        await opened.store.writeVersions(batch([version(A, T, 'created', { Name: 'Acme Anvilworks' }), version(B, T + MINUTE, 'created', { Name: 'Roadrunner Acme' })]));
        await opened.store.writeVersions(batch([version(A, T + 5 * MINUTE, 'updated', { Name: 'Acme Rocketsleds' }), version(B, T + 6 * MINUTE, 'deleted', { Name: 'Roadrunner Acme' })], { runId: 'run-2' }));
        await opened.store.writeVersions(batch([version(C, T + 2 * MINUTE, 'created', { LastName: 'Coyote', Email: 'wile@acme.example' })], { objectName: 'Contact' }));
        await opened.store.writeVersions(batch([version(A, T, 'created', { Name: 'Acme Anvilworks' })], { orgId: OTHER_ORG }));
        // Writes leave indexing to the catch-up, which every search runs first.
        assert.deepEqual(await opened.store.searchIndexStats(), { records: 0, pendingVersions: 6 });
        const find = (text: string, extra: Record<string, unknown> = {}) => opened.store.searchCandidates({ orgId: ORG, terms: queryTerms(text), ...extra });
        assert.deepEqual(ids(await find('acme')), [B, A, C]);
        // A token of any version: the search use case verifies which version holds it.
        assert.deepEqual(ids(await find('anvilworks')), [A]);
        assert.deepEqual(ids(await find('acme roadrunner')), [B]);
        assert.deepEqual(ids(await find('acme coyote nothing')), []);
        assert.deepEqual(ids(await find('acme', { objectNames: ['Contact'] })), [C]);
        assert.deepEqual(ids(await find('acme', { deletedOnly: true })), [B]);
        assert.deepEqual(ids(await find('acme', { modifiedFrom: T + 5 * MINUTE })), [B, A]);
        const [b] = await find('roadrunner');
        assert.deepEqual(b, { objectName: 'Account', recordId: B, headModstamp: T + 6 * MINUTE, isDeleted: true });
        const opening = await opened.store.openSearchCandidates({ orgId: ORG, terms: queryTerms('acme') });
        assert.equal(opening.count, 3);
        assert.deepEqual(ids(await collect(opening.candidates)), [B, A, C]);
        // Each org's words are its own.
        assert.deepEqual(ids(await opened.store.searchCandidates({ orgId: OTHER_ORG, terms: queryTerms('acme') })), [A]);
        assert.deepEqual(await opened.store.catchUpSearchIndex(), { versions: 0 });
        assert.deepEqual(await opened.store.searchIndexStats(), { records: 4, pendingVersions: 0 });
        if (opened.storedBytes) {
          const bytes = await opened.storedBytes();
          for (const word of ['anvilworks', 'Anvilworks', 'rocketsleds', 'roadrunner', 'coyote', 'wile@acme.example']) assert.ok(!bytes.includes(Buffer.from(word)), `${word} is not stored in clear`);
        }
        const reopened = await opened.reopen();
        assert.deepEqual(ids(await reopened.searchCandidates({ orgId: ORG, terms: queryTerms('rocketsleds') })), [A]);
      });
    });

    describe('change data capture', () => {
      withStore('keeps stream states per org and object, finds stored versions, and lists recovery points', async (opened) => {
        const { store } = opened;
        const state = {
          objectName: 'Account',
          channel: '/data/AccountChangeEvent',
          replayId: 41,
          status: 'Subscribed' as const,
          subscribedSince: T,
          coveredFrom: T,
          coveredThrough: T + 5,
          lastEventAt: T + 5,
          eventsApplied: 3,
          versionsWritten: 2,
          recordsFetched: 1,
          gaps: 1,
          overflows: 0,
          replayExpired: 0,
          message: null,
          updatedAt: T + 6,
        };
        await store.putStreamState(ORG, state);
        await store.putStreamState(ORG, { ...state, replayId: 42 });
        await store.putStreamState(OTHER_ORG, { ...state, objectName: 'Contact', channel: '/data/ContactChangeEvent' });
        assert.deepEqual(await store.getStreamStates(ORG), [{ ...state, replayId: 42 }]);

        const A = '001000000000001AAA';
        await store.writeVersions(batch([version(A, T, 'event', { Name: 'Acme' }), version(A, T + 10, 'updated', { Name: 'Acme 2' })]));
        const held = await store.storedVersionKeys(ORG, 'Account', [
          { recordId: A, systemModstamp: T },
          { recordId: A, systemModstamp: T + 10 },
          { recordId: A, systemModstamp: T + 20 },
        ]);
        assert.deepEqual([...held].sort(), [`${A}@${T + 10}`, `${A}@${T}`].sort());
        assert.equal((await store.storedVersionKeys(OTHER_ORG, 'Account', [{ recordId: A, systemModstamp: T }])).size, 0);

        const point = { id: 'rp-1', orgId: ORG, name: 'month end', at: T, createdAt: T + 1, createdBy: 'cli', objects: [{ objectName: 'Account', records: 1, coveredThrough: T + 5, complete: true }] };
        await store.putRecoveryPoint(point);
        await store.putRecoveryPoint({ ...point, id: 'rp-2', name: null, createdAt: T + 2 });
        const reopened = await opened.reopen();
        assert.deepEqual(await reopened.getRecoveryPoint('rp-1'), point);
        assert.deepEqual((await reopened.listRecoveryPoints(ORG)).map((p) => p.id), ['rp-2', 'rp-1']);
        assert.deepEqual(await reopened.listRecoveryPoints(OTHER_ORG), []);
        assert.equal((await reopened.getStreamStates(ORG))[0]?.replayId, 42);
      });
    });

    describe('notifications', () => {
      withStore('keeps channels as sealed bytes per org and name, and the log newest first', async (opened) => {
        const { store } = opened;
        const sealedConfig = new Uint8Array(randomBytes(48));
        const ops = { orgId: ORG, name: 'ops', type: 'webhook' as const, events: ['job-failed' as const, 'restore-finished' as const], enabled: true, sealedConfig, updatedAt: T };
        await store.putNotificationChannel(ops);
        await store.putNotificationChannel({ ...ops, name: 'admins', type: 'email', events: ['org-behind'], enabled: false, sealedConfig: new Uint8Array([1, 2]) });
        await store.putNotificationChannel({ ...ops, orgId: OTHER_ORG });
        const got = await store.notificationChannels(ORG);
        assert.deepEqual(got.map((c) => [c.name, c.type, c.events, c.enabled]), [['admins', 'email', ['org-behind'], false], ['ops', 'webhook', ['job-failed', 'restore-finished'], true]]);
        assert.deepEqual(Buffer.from(got[1]!.sealedConfig), Buffer.from(sealedConfig));
        await store.putNotificationChannel({ ...ops, events: ['permission-gap'], updatedAt: T + MINUTE });
        assert.deepEqual((await store.notificationChannels(ORG)).find((c) => c.name === 'ops')?.events, ['permission-gap']);
        assert.equal(await store.removeNotificationChannel(ORG, 'admins'), true);
        assert.equal(await store.removeNotificationChannel(ORG, 'admins'), false);
        assert.deepEqual((await store.notificationChannels(OTHER_ORG)).map((c) => c.name), ['ops']);

        const entry = { at: T, orgId: ORG, orgName: 'prod', eventKind: 'job-failed' as const, runId: 'r1', channel: 'ops', channelType: 'webhook' as const, outcome: 'sent' as const, error: null, attempts: 1, durationMs: 12 };
        await store.appendNotificationLog(entry);
        await store.appendNotificationLog({ ...entry, at: T + 1, outcome: 'failed', error: 'the receiver answered HTTP 500 (3 attempts).', attempts: 3 });
        await store.appendNotificationLog({ ...entry, orgId: OTHER_ORG, eventKind: 'test' });
        const log = await store.listNotificationLog({ orgId: ORG });
        assert.deepEqual(log.map((e) => [e.outcome, e.attempts]), [['failed', 3], ['sent', 1]]);
        assert.deepEqual(log[1], entry);
        assert.equal((await store.listNotificationLog({ limit: 1 }))[0]?.eventKind, 'test');
        const reopened = await opened.reopen();
        assert.equal((await reopened.listNotificationLog()).length, 3);
      });
    });

    describe('keys', () => {
      withStore('another keyring cannot read versions or describes, and changes nothing', async (opened) => {
        const A = '001000000000001AAA';
        await opened.store.writeVersions(batch([version(A, T, 'created', { Name: 'Acme' })]));
        const { schemaId } = await opened.store.putSchema(ORG, 'Account', { name: 'Account' }, T);
        await opened.store.createRun({ runId: 'r1', orgId: ORG, kind: 'backup', status: 'Running', startedAt: T, endedAt: null, counters: {}, message: null, parameters: { a: 1 } });
        let store = await opened.reopen({ keyring: newKeyring() });
        await assert.rejects(store.versionAsOf(ORG, 'Account', A, T), IntegrityError);
        await assert.rejects(store.getSchema(ORG, schemaId), IntegrityError);
        await assert.rejects(store.getRun('r1'), IntegrityError);
        for await (const packId of store.listPacks()) await assert.rejects(store.checkPack(packId), IntegrityError);
        assert.deepEqual(await store.countVersions(ORG), { records: 1, versions: 1 });
        store = await opened.reopen();
        assert.equal((await store.versionAsOf(ORG, 'Account', A, T))?.fields.Name, 'Acme');
        assert.deepEqual(await store.getSchema(ORG, schemaId), { name: 'Account' });
        assert.equal((await store.getRun('r1'))?.parameters.a, 1);
      });
    });
  });
}
