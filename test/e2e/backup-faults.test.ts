// The backup engine under the emulator's fault injection: transient errors, expiring sessions,
// expiring cursors, an exhausted API limit, and kill -9 at several points. Every case ends with a
// vault equal to a clean run's: every record of the org, field by field, each exactly once.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startEmulator } from '../../emulator/index.ts';
import type { RunningEmulator } from '../../emulator/index.ts';
import { resolveSettings, runBackup } from '../../src/backup/index.ts';
import type { BackupResult, BackupSettings } from '../../src/backup/index.ts';
import type { OrgClient, SObjectRecord } from '../../src/core/org-client.ts';
import type { OrgRegistration } from '../../src/core/vault.ts';
import { generateKeyFileContent } from '../../src/crypto/keys.ts';
import { connectOrg } from '../../src/salesforce/index.ts';
import { initVault, openVault } from '../../src/store/vault.ts';
import type { Vault } from '../../src/store/vault.ts';

const CHILD = fileURLToPath(new URL('./fixtures/backup-child.ts', import.meta.url));
// Objects compared: the ones with most records and every kind of data (files included).
const COMPARED = ['Account', 'Contact', 'Opportunity', 'Case', 'Task', 'CampaignMember', 'Invoice__c', 'Invoice_Line__c', 'ContentVersion', 'Attachment'];

interface Rig {
  emulator: RunningEmulator;
  dir: string;
  keyFile: Buffer;
  vault: Vault;
  org: OrgRegistration;
  connect(): Promise<OrgClient>;
  backup(settings?: Partial<BackupSettings>): Promise<BackupResult>;
  fault(spec: unknown): Promise<void>;
  clearFaults(): Promise<void>;
  close(): Promise<void>;
}

async function rig(seed: number): Promise<Rig> {
  const emulator = await startEmulator({ profile: 'demo', seed });
  const dir = await mkdtemp(join(tmpdir(), 'orgvault-faults-'));
  const keyFile = Buffer.from(generateKeyFileContent());
  await initVault(join(dir, 'vault'), { keyFile });
  const vault = await openVault(join(dir, 'vault'), { keyFile });
  const { info } = emulator;
  const org: OrgRegistration = { name: 'demo', orgId: info.orgId, instanceUrl: info.instanceUrl, loginUrl: info.loginUrl, sealedAuth: new Uint8Array(1), createdAt: 0, settings: {} };
  const connect = (): Promise<OrgClient> =>
    connectOrg({ kind: 'password', loginUrl: info.loginUrl, clientId: info.clientId, clientSecret: info.clientSecret, username: info.username, password: info.password }, { retry: { attempts: 6, baseDelayMs: 2, maxDelayMs: 10 }, bulk: { pollInitialMs: 5, pollMaxMs: 20 } });
  const admin = async (method: string, path: string, body?: unknown): Promise<void> => {
    const response = await fetch(`${info.loginUrl}/__emulator/${path}`, { method, headers: { Authorization: `Bearer ${info.adminToken}`, 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    assert.ok(response.ok, `${path}: ${response.status} ${await response.text()}`);
  };
  return {
    emulator,
    dir,
    keyFile,
    vault,
    org,
    connect,
    backup: async (settings = {}) => runBackup({ store: vault.store, blobs: vault.blobs, client: await connect() }, { org, settings: resolveSettings(settings) }),
    fault: (spec) => admin('POST', 'faults', spec),
    clearFaults: () => admin('DELETE', 'faults'),
    async close() {
      await vault.close();
      await emulator.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The vault holds every record of the org once, equal field by field, as a clean run leaves it. */
async function assertCleanRunEquivalent(r: Rig): Promise<void> {
  const client = await r.connect();
  for (const objectName of COMPARED) {
    const description = await client.describeObject(objectName);
    const fields = description.fields.filter((f) => !['address', 'location', 'base64'].includes(f.type) && !f.calculated);
    const inOrg = new Map<string, SObjectRecord>();
    for await (const page of client.query(`SELECT ${fields.map((f) => f.name).join(', ')} FROM ${objectName}`, { includeDeleted: true })) for (const rec of page) inOrg.set(String(rec.Id), rec);
    const counted = await r.vault.store.countVersions(r.org.orgId, objectName);
    assert.deepEqual(counted, { records: inOrg.size, versions: inOrg.size }, `${objectName}: one version per record`);
    for await (const version of r.vault.store.latestVersions(r.org.orgId, objectName, { includeDeleted: true })) {
      const record = inOrg.get(version.recordId);
      assert.ok(record, `${objectName} ${version.recordId}`);
      for (const field of fields) assert.deepEqual(version.fields[field.name], record[field.name], `${objectName} ${version.recordId}.${field.name}`);
    }
    if (objectName === 'ContentVersion' || objectName === 'Attachment') {
      // Bodies of live records: a record deleted before any backup has no body left to download.
      for (const [id, rec] of inOrg) if (rec.IsDeleted !== true) assert.equal((await r.vault.store.filesOf(r.org.orgId, id)).length, 1, `${objectName} ${id} has its body once`);
    }
  }
  assert.equal((await r.vault.store.getObjectStates(r.org.orgId)).filter((s) => s.status === 'Error' || s.status === 'Backfilling' || s.status === 'Behind').length, 0);
}

describe('backup under faults', () => {
  it('retries transient errors and dropped connections, and re-authenticates when sessions expire', async () => {
    const r = await rig(11);
    try {
      await r.fault([
        { kind: 'error', match: '/services/data/**', status: 503, rate: 0.05, seed: 1, name: 'unavailable' },
        { kind: 'error', match: 'GET /services/data/*/query/**', status: 400, body: JSON.stringify([{ errorCode: 'UNABLE_TO_LOCK_ROW', message: 'unable to obtain exclusive access to this record' }]), rate: 0.1, seed: 2, name: 'lock' },
        { kind: 'drop', match: '/services/data/**', rate: 0.03, seed: 3, name: 'drop' },
        { kind: 'expireSessions', match: '/services/data/**', every: 40, name: 'expiry' },
      ]);
      const result = await r.backup({ bulkThreshold: 1000 });
      assert.equal(result.status, 'Succeeded', JSON.stringify(result.objects.filter((o) => o.status === 'Error')));
      await r.clearFaults();
      await assertCleanRunEquivalent(r);
    } finally {
      await r.close();
    }
  });

  it('falls back to REST when a Bulk API job fails, from where it stopped', async () => {
    const r = await rig(16);
    try {
      await r.fault({ kind: 'bulkJob', mode: 'fail', name: 'bulk-fails' });
      const result = await r.backup({ bulkThreshold: 1000 });
      assert.equal(result.status, 'Succeeded', JSON.stringify(result.objects.filter((o) => o.status === 'Error')));
      // Objects large enough for Bulk were read through REST after their job failed.
      assert.equal(result.objects.find((o) => o.name === 'Contact')?.api, 'rest');
      assert.ok((result.counters.bulkQueryJobs ?? 0) > 0, 'Bulk jobs were tried');
      await r.clearFaults();
      await assertCleanRunEquivalent(r);
    } finally {
      await r.close();
    }
  });

  it('restarts a query from its watermark when the cursor expires', async () => {
    const r = await rig(12);
    try {
      await r.fault({ kind: 'invalidQueryLocator', rate: 0.3, seed: 4, name: 'cursor' });
      const result = await r.backup();
      assert.equal(result.status, 'Succeeded', JSON.stringify(result.objects.filter((o) => o.status === 'Error')));
      await r.clearFaults();
      await assertCleanRunEquivalent(r);
    } finally {
      await r.close();
    }
  });

  it('ends cleanly when the daily API limit runs out, and the next run completes', async () => {
    const r = await rig(13);
    try {
      await r.fault({ kind: 'requestLimit', match: '/services/data/**', after: 25, name: 'limit' });
      const stopped = await r.backup();
      assert.equal(stopped.status, 'CompletedWithErrors');
      assert.match(stopped.message ?? '', /REQUEST_LIMIT_EXCEEDED/);
      assert.ok(stopped.objects.some((o) => o.status === 'Backfilling' && o.statusCode !== null), 'objects left to backfill');
      assert.ok(!stopped.objects.some((o) => o.status === 'Error'), JSON.stringify(stopped.objects.filter((o) => o.status === 'Error')));
      await r.clearFaults();
      const resumed = await r.backup();
      assert.equal(resumed.status, 'Succeeded');
      await assertCleanRunEquivalent(r);
    } finally {
      await r.close();
    }
  });

  it('stops starting work when its API budget is spent, leaving the rest Backfilling, and says so', async () => {
    const r = await rig(14);
    try {
      // The budget is a share of the org's limit: a tiny limit makes a small share run out fast.
      const setLimit = async (dailyApiRequests: number): Promise<void> => {
        const response = await fetch(`${r.emulator.info.loginUrl}/__emulator/limits`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${r.emulator.info.adminToken}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ dailyApiRequests }),
        });
        assert.ok(response.ok);
      };
      await setLimit(100);
      const partial = await r.backup({ apiBudgetShare: 0.3 });
      assert.equal(partial.status, 'CompletedWithErrors');
      assert.match(partial.message ?? '', /API_BUDGET_SPENT/);
      // Never more than the share: 30 of the 100 requests, the org's own use included.
      assert.ok(partial.apiCalls <= 30, `calls: ${partial.apiCalls}`);
      assert.ok(partial.objects.some((o) => o.status === 'Backfilling' && o.statusCode === 'API_BUDGET_SPENT'));
      await setLimit(100_000);
      const done = await r.backup();
      assert.equal(done.status, 'Succeeded', JSON.stringify(done.objects.filter((o) => o.status !== 'Waiting' && o.api !== null)));
      await assertCleanRunEquivalent(r);
    } finally {
      await r.close();
    }
  });

  describe('kill -9', () => {
    let r: Rig;
    before(async () => {
      r = await rig(15);
    });
    after(async () => r.close());

    it('a run killed at several points, then run again, leaves the vault a clean run leaves', async () => {
      for (const killAfter of [1, 4, 9]) {
        const outcome = await runChildUntil(r, killAfter);
        assert.equal(outcome, 'killed', `the child finished before ${killAfter} pages`);
      }
      const result = await r.backup();
      assert.equal(result.status, 'Succeeded', JSON.stringify(result.objects.filter((o) => o.status === 'Error')));
      await assertCleanRunEquivalent(r);
      const runs = await r.vault.store.listRuns({ orgId: r.org.orgId });
      assert.equal(runs.filter((run) => run.status === 'Failed' && /Interrupted/.test(run.message ?? '')).length, 3);
    });
  });
});

/** Runs a backup in a child process and kills it (SIGKILL) after it stored `pages` pages. */
async function runChildUntil(r: Rig, pages: number): Promise<'killed' | 'finished'> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, BACKUP_CHILD_ORG: JSON.stringify(r.emulator.info), BACKUP_CHILD_VAULT: join(r.dir, 'vault'), BACKUP_CHILD_KEY: r.keyFile.toString('base64') },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let seen = 0;
  let outcome: 'killed' | 'finished' = 'finished';
  for await (const line of createInterface({ input: child.stdout! })) {
    if (line.startsWith('progress') && ++seen >= pages) {
      child.kill('SIGKILL');
      outcome = 'killed';
      break;
    }
  }
  await exited;
  return outcome;
}
