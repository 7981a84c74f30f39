// The change streams of a long-running process (serve, scheduler): an org with objects selected
// streams them once synced, a changed selection restarts its stream, and an org that turns
// continuous protection off stops streaming. Against the emulator over HTTP.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startEmulator } from '../../emulator/index.ts';
import type { RunningEmulator } from '../../emulator/index.ts';
import type { OrgRegistration } from '../../src/core/vault.ts';
import { generateKeyFileContent } from '../../src/crypto/keys.ts';
import { connectOrg } from '../../src/salesforce/index.ts';
import { initVault, openVault } from '../../src/store/vault.ts';
import type { Vault } from '../../src/store/vault.ts';
import { StreamFleet } from '../../src/stream/index.ts';
import { emulatedOrg } from '../e2e/fixtures/emulated-org.ts';
import type { EmulatedOrg } from '../e2e/fixtures/emulated-org.ts';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('the change streams of a long-running process', () => {
  let emulator: RunningEmulator;
  let sf: EmulatedOrg;
  let dir: string;
  let vault: Vault;
  let fleet: StreamFleet;
  const lines: string[] = [];

  const setObjects = async (objects: string[]): Promise<OrgRegistration> => {
    const org = (await vault.store.getOrg('demo'))!;
    const next = { ...org, settings: { ...org.settings, cdc: { objects } } };
    await vault.store.putOrg(next);
    return next;
  };

  before(async () => {
    emulator = await startEmulator({ profile: 'demo', seed: 11 });
    sf = emulatedOrg(emulator);
    await sf.admin('POST', '/cdc', { objects: ['Account', 'Contact'], longPollTimeoutMs: 1_500, clientTimeoutMs: 5_000 });
    dir = await mkdtemp(join(tmpdir(), 'orgvault-fleet-'));
    const keyFile = Buffer.from(generateKeyFileContent());
    await initVault(join(dir, 'vault'), { keyFile });
    vault = await openVault(join(dir, 'vault'), { keyFile });
    const { info } = emulator;
    await vault.store.putOrg({ name: 'demo', orgId: info.orgId, instanceUrl: info.instanceUrl, loginUrl: info.loginUrl, sealedAuth: new Uint8Array(1), createdAt: Date.now(), settings: {} });
    fleet = new StreamFleet({ store: vault.store, blobs: vault.blobs, connect: () => connectOrg(sf.auth), log: (line) => lines.push(line), now: () => emulator.org.clock.nowMs() });
  });

  after(async () => {
    await fleet?.stop();
    await vault?.close();
    await emulator?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('streams nothing for an org without a selection', async () => {
    await fleet.sync();
    assert.deepEqual(fleet.streamingOrgs(), []);
  });

  it('starts the stream of an org that selects objects, and its changes become versions', async () => {
    const org = await setObjects(['Account']);
    await fleet.sync();
    assert.deepEqual(fleet.streamingOrgs(), [org.orgId]);
    assert.ok(lines.some((l) => /streaming Account \(Subscribed\) of demo/.test(l)), lines.join('\n'));
    const id = String((await sf.rest('POST', '/sobjects/Account', { Name: 'Fleet Streamed Ltd' })).id);
    let found = false;
    for (let i = 0; i < 300 && !found; i++) {
      found = (await vault.store.versionsOf(org.orgId, id)).some((v) => v.changeType === 'event' && v.fields.Name === 'Fleet Streamed Ltd');
      if (!found) await sleep(50);
    }
    assert.ok(found, 'the created account was stored from its change event');
  });

  it('restarts a stream whose selection changed, and leaves an unchanged one alone', async () => {
    const before = lines.length;
    await fleet.sync();
    assert.equal(lines.length, before, 'nothing changed, nothing restarted');
    await setObjects(['Account', 'Contact']);
    await fleet.sync();
    const added = lines.slice(before).join('\n');
    assert.match(added, /stopped the change stream of org \w+ to start it with its new settings/);
    assert.match(added, /streaming Account \(Subscribed\), Contact \(Subscribed\) of demo/);
  });

  it('stops the stream of an org that turns continuous protection off', async () => {
    await setObjects([]);
    await fleet.sync();
    assert.deepEqual(fleet.streamingOrgs(), []);
    const states = await vault.store.getStreamStates((await vault.store.getOrg('demo'))!.orgId);
    assert.ok(states.length >= 1 && states.every((s) => s.status !== 'Subscribed'), JSON.stringify(states.map((s) => s.status)));
  });
});
