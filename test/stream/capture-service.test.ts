// Continuous data protection against the emulator over HTTP (jsforce's CometD client): changes
// become versions, a stopped subscriber resumes without loss, gaps and overflows are fetched or
// scanned, an expired replay ID leads to a scan, updates merge changed and nulled fields, scans
// recognise the stream's versions and count what it missed, and recovery points record coverage.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { startEmulator } from '../../emulator/index.ts';
import type { RunningEmulator } from '../../emulator/index.ts';
import { resolveSettings, runBackup } from '../../src/backup/index.ts';
import type { BackupResult } from '../../src/backup/index.ts';
import type { OrgClient } from '../../src/core/org-client.ts';
import type { OrgRegistration, RecordVersion } from '../../src/core/vault.ts';
import { generateKeyFileContent } from '../../src/crypto/keys.ts';
import { connectOrg } from '../../src/salesforce/index.ts';
import { initVault, openVault } from '../../src/store/vault.ts';
import type { Vault } from '../../src/store/vault.ts';
import { ChangeCaptureService, createRecoveryPoint, findRecoveryPoint } from '../../src/stream/index.ts';
import { emulatedOrg } from '../e2e/fixtures/emulated-org.ts';
import type { EmulatedOrg } from '../e2e/fixtures/emulated-org.ts';

const OBJECTS = ['Account', 'Contact'];
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('continuous data protection (Change Data Capture)', () => {
  let emulator: RunningEmulator;
  let sf: EmulatedOrg;
  let dir: string;
  let vault: Vault;
  let org: OrgRegistration;
  let client: OrgClient;
  const services: ChangeCaptureService[] = [];
  const logLines: string[] = [];

  const now = (): number => emulator.org.clock.nowMs();
  const connect = (): Promise<OrgClient> => connectOrg(sf.auth, { retry: { attempts: 4, baseDelayMs: 5, maxDelayMs: 20 }, log: (line) => logLines.push(line) });
  const backup = async (objects = OBJECTS): Promise<BackupResult> =>
    runBackup({ store: vault.store, blobs: vault.blobs, client: await connect(), now }, { org, settings: resolveSettings({}), objects });
  const startService = async (): Promise<ChangeCaptureService> => {
    const service = new ChangeCaptureService({ store: vault.store, blobs: vault.blobs, client, backupSettings: resolveSettings({}), now, batchDelayMs: 20, retryDelayMs: 200, log: (line) => logLines.push(line) });
    services.push(service);
    await service.start(org);
    return service;
  };
  const stopAll = async (): Promise<void> => {
    await Promise.all(services.splice(0).map((s) => s.stop()));
  };
  /** Polls until `probe` gives a value (a generous bound: no timing is asserted). */
  const eventually = async <T>(what: string, probe: () => Promise<T | undefined>): Promise<T> => {
    for (let i = 0; i < 300; i++) {
      const value = await probe();
      if (value !== undefined) return value;
      await sleep(50);
    }
    throw new Error(`${what} did not happen within 15 s`);
  };
  const live = async (objectName: string, id: string, fields: string): Promise<Record<string, unknown>> => (await sf.queryAll(`SELECT ${fields} FROM ${objectName} WHERE Id = '${id}'`))[0]!;
  const stamp = (value: unknown): number => Date.parse(String(value).replace('+0000', 'Z'));
  /** The vault's version of a record at exactly the live record's SystemModstamp, once it is there. */
  const versionAtLive = async (objectName: string, id: string): Promise<RecordVersion> => {
    const { SystemModstamp } = await live(objectName, id, 'SystemModstamp');
    return eventually(`${objectName} ${id} at ${String(SystemModstamp)}`, async () => (await vault.store.versionsOf(org.orgId, id)).find((v) => v.systemModstamp === stamp(SystemModstamp)));
  };
  const createAccount = async (name: string, extra: Record<string, unknown> = {}): Promise<string> => String((await sf.rest('POST', '/sobjects/Account', { Name: name, ...extra })).id);
  const streamState = async (objectName: string) => (await vault.store.getStreamStates(org.orgId)).find((s) => s.objectName === objectName)!;
  const objectRun = async (runId: string, objectName: string) => (await vault.store.listObjectRuns(runId)).find((o) => o.objectName === objectName)!;

  before(async () => {
    emulator = await startEmulator({ profile: 'demo', seed: 7 });
    sf = emulatedOrg(emulator);
    await sf.admin('POST', '/cdc', { objects: OBJECTS, longPollTimeoutMs: 1_500, clientTimeoutMs: 5_000 });
    dir = await mkdtemp(join(tmpdir(), 'orgvault-stream-'));
    const keyFile = Buffer.from(generateKeyFileContent());
    await initVault(join(dir, 'vault'), { keyFile });
    vault = await openVault(join(dir, 'vault'), { keyFile });
    const { info } = emulator;
    org = { name: 'demo', orgId: info.orgId, instanceUrl: info.instanceUrl, loginUrl: info.loginUrl, sealedAuth: new Uint8Array(1), createdAt: Date.now(), settings: { cdc: { objects: OBJECTS } } };
    client = await connect();
    assert.equal((await backup()).status, 'Succeeded');
  });

  afterEach(stopAll);

  after(async () => {
    await stopAll();
    await vault.close();
    await emulator.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('stores REST changes as versions the next scan recognises, merging changed and nulled fields', async () => {
    const service = await startService();
    assert.deepEqual(
      service.states().map((s) => [s.objectName, s.status]),
      [
        ['Account', 'Subscribed'],
        ['Contact', 'Subscribed'],
      ],
    );
    const id = await createAccount('Streamed Ltd', { Phone: '555-0100', Industry: 'Banking' });
    const created = await versionAtLive('Account', id);
    assert.equal(created.changeType, 'event');
    assert.equal(created.fields.Name, 'Streamed Ltd');

    const fetchedBefore = (await streamState('Account')).recordsFetched;
    await sf.rest('PATCH', `/sobjects/Account/${id}`, { Industry: 'Energy', Phone: null });
    const updated = await versionAtLive('Account', id);
    assert.equal((await streamState('Account')).recordsFetched, fetchedBefore, 'the update was merged onto the stored version, not read back');
    const org1 = await live('Account', id, 'Name, Industry, Phone');
    assert.equal(updated.fields.Industry, 'Energy');
    assert.equal(updated.fields.Phone, null);
    assert.equal(updated.fields.Name, org1.Name);

    // A contact's name is a compound: the merged update is completed by reading the record back.
    const contact = (await sf.query('SELECT Id FROM Contact LIMIT 1'))[0]!.Id as string;
    await sf.rest('PATCH', `/sobjects/Contact/${contact}`, { FirstName: 'Renamed', Title: null });
    const renamed = await versionAtLive('Contact', contact);
    const liveContact = await live('Contact', contact, 'Name, FirstName, Title');
    assert.equal(renamed.fields.FirstName, 'Renamed');
    assert.equal(renamed.fields.Name, liveContact.Name);
    assert.equal(renamed.fields.Title, null);

    await sf.rest('DELETE', `/sobjects/Account/${id}`);
    const deleted = await versionAtLive('Account', id);
    assert.equal(deleted.isDeleted, true);

    await stopAll();
    // The scan reads the same changes: recognised as stored, nothing missed, nothing stored twice.
    const scan = await backup();
    const accounts = await objectRun(scan.runId, 'Account');
    assert.equal(accounts.counters.missedByStream, 0);
    const versions = await vault.store.versionsOf(org.orgId, id);
    const stamps = versions.map((v) => v.systemModstamp);
    assert.equal(new Set(stamps).size, stamps.length, 'one version per SystemModstamp');
    // The scan reads each changed record once, as it is now: the stream had stored that state.
    assert.ok(scan.counters.records! >= 2);
    assert.equal(scan.counters.versions, 0, 'every record the scan read was already stored by the stream');
    assert.ok(versions.every((v) => v.changeType === 'event'));
    const state = await streamState('Account');
    assert.ok(state.eventsApplied >= 3 && state.replayId !== null && state.coveredFrom !== null);
    assert.equal(state.status, 'Stopped');
  });

  it('a stopped subscriber resumes from its replay ID without loss', async () => {
    await startService();
    const first = await createAccount('Before Stop');
    await versionAtLive('Account', first);
    await stopAll();
    const stored = (await streamState('Account')).replayId!;

    const whileStopped = [await createAccount('While Stopped One'), await createAccount('While Stopped Two')];
    await sf.rest('PATCH', `/sobjects/Account/${first}`, { Industry: 'Retail' });

    await startService();
    for (const id of [...whileStopped, first]) assert.equal((await versionAtLive('Account', id)).changeType, 'event');
    const state = await streamState('Account');
    assert.ok(state.replayId! > stored);
    assert.equal(state.replayExpired, 0);
  });

  it('gap events are fetched, overflow events scanned: no version is missing', async () => {
    await startService();
    const id = await createAccount('Gap Corp');
    await versionAtLive('Account', id);
    // A change Change Data Capture does not publish (the object deselected for a moment) ...
    await sf.admin('POST', '/cdc', { objects: ['Contact'] });
    await sf.rest('PATCH', `/sobjects/Account/${id}`, { Industry: 'Shipping' });
    const quiet = await createAccount('Overflowed Inc');
    await sf.admin('POST', '/cdc', { objects: OBJECTS });
    // ... then announced by a gap event: the record is read back.
    const before = await streamState('Account');
    await sf.admin('POST', '/cdc/gap', { object: 'Account', recordIds: [id], changeType: 'UPDATE' });
    const fetched = await versionAtLive('Account', id);
    assert.equal(fetched.fields.Industry, 'Shipping');
    const afterGap = await eventually('the gap counted', async () => {
      const s = await streamState('Account');
      return s.gaps > before.gaps ? s : undefined;
    });
    assert.ok(afterGap.recordsFetched > before.recordsFetched);

    // An overflow event: an incremental scan of the object stores what no event carried.
    await sf.admin('POST', '/cdc/overflow', { object: 'Account' });
    const overflowed = await versionAtLive('Account', quiet);
    assert.equal(overflowed.fields.Name, 'Overflowed Inc');
    const state = await eventually('the overflow scanned', async () => {
      const s = await streamState('Account');
      return s.overflows > 0 && s.status === 'Subscribed' ? s : undefined;
    });
    assert.match(state.message ?? '', /overflow/);
    const scans = (await vault.store.listRuns({ orgId: org.orgId, kind: 'backup', limit: 5 })).filter((r) => String(r.parameters.startedBy).startsWith('stream'));
    assert.ok(scans.length >= 1);
  });

  it('a scan counts a version the stream missed', async () => {
    await startService();
    const missed = await createAccount('Missed By Stream');
    await versionAtLive('Account', missed);
    await sf.admin('POST', '/cdc', { objects: ['Contact'] });
    await sf.rest('PATCH', `/sobjects/Account/${missed}`, { Industry: 'Mining' });
    await sf.admin('POST', '/cdc', { objects: OBJECTS });
    // A later change the stream sees: its coverage now reaches past the missed one.
    const later = await createAccount('Seen After');
    await versionAtLive('Account', later);
    await stopAll();
    const scan = await backup(['Account']);
    assert.equal((await objectRun(scan.runId, 'Account')).counters.missedByStream, 1);
    // Counted once: the next scan finds it stored.
    const again = await backup(['Account']);
    assert.equal((await objectRun(again.runId, 'Account')).counters.missedByStream ?? 0, 0);
  });

  it('recovery points record coverage, and refuse a time the vault does not cover', async () => {
    const at = now();
    await backup();
    const point = await createRecoveryPoint(vault.store, { org, objects: ['account', 'Contact'], at, name: 'before go-live', actor: 'test' }, now);
    assert.deepEqual(
      point.objects.map((o) => [o.objectName, o.complete]),
      [
        ['Account', true],
        ['Contact', true],
      ],
    );
    assert.ok(point.objects[0]!.records > 0);
    assert.equal((await findRecoveryPoint(vault.store, org, point.id.slice(0, 8))).id, point.id);
    assert.equal((await findRecoveryPoint(vault.store, org, 'before go-live')).id, point.id);
    await assert.rejects(createRecoveryPoint(vault.store, { org, objects: ['Account'], at: now() + 3_600_000, actor: 'test' }, now), /does not hold every change/);
    const incomplete = await createRecoveryPoint(vault.store, { org, objects: ['Account'], at: now() + 3_600_000, actor: 'test', allowIncomplete: true }, now);
    assert.equal(incomplete.objects[0]!.complete, false);
    await assert.rejects(createRecoveryPoint(vault.store, { org, objects: ['Lead__x'], actor: 'test' }, now), /never been backed up/);
  });

  it('a revoked session is renewed and the stream resumes after the last event delivered', async () => {
    await startService();
    const before = await createAccount('Before Revoke');
    await versionAtLive('Account', before);
    await sf.admin('POST', '/sessions/revoke');
    const after = await createAccount('After Revoke');
    assert.equal((await versionAtLive('Account', after)).changeType, 'event');
    assert.equal((await streamState('Account')).status, 'Subscribed');
    assert.ok(logLines.some((l) => /AccountChangeEvent was refused; logging in again/.test(l)), logLines.join('\n'));
  });

  it('a replay ID older than 72 hours leads to an incremental scan, then new events', async () => {
    await startService();
    const id = await createAccount('Long Ago');
    await versionAtLive('Account', id);
    await stopAll();
    const stopped = await createAccount('Changed While Away');
    await sf.admin('POST', '/clock', { advanceSeconds: 73 * 3600 });
    client = await connect();

    const service = await startService();
    const state = await eventually('the hole scanned', async () => {
      const s = await streamState('Account');
      return s.replayExpired === 1 && s.status === 'Subscribed' ? s : undefined;
    });
    assert.match(state.message ?? '', /replay ID had expired/);
    assert.equal((await versionAtLive('Account', stopped)).fields.Name, 'Changed While Away');
    const fresh = await createAccount('After The Hole');
    assert.equal((await versionAtLive('Account', fresh)).changeType, 'event');
    // Contact's hole is scanned on its own: it subscribes once its scan is done.
    await eventually('every object subscribed again', async () => (service.states().every((s) => s.status === 'Subscribed') ? true : undefined));
  });
});
