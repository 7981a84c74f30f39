// The VaultStore contract on a real SQLite file, and what only SQLite can show: crash safety at
// every step of a batch write (a child process killed with SIGKILL), readers not blocked by a
// writer, read-only opens and schema versions.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { IntegrityError } from '../../src/crypto/errors.ts';
import { deriveKeyring } from '../../src/crypto/keys.ts';
import type { Keyring } from '../../src/crypto/keys.ts';
import type { VaultStore } from '../../src/store/port.ts';
import { openSqliteVaultStore } from '../../src/store/sqlite/index.ts';
import type { WriteStep } from '../../src/store/sqlite/index.ts';
import { newKeyring, vaultStoreContract } from '../contracts/vault-store.contract.ts';
import { CRASH_ORG, crashBatch } from '../fixtures/vault-writer.ts';

const WRITER = fileURLToPath(new URL('../fixtures/vault-writer.ts', import.meta.url));

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'orgvault-sqlite-'));
}

/** Flips one byte in the middle of a pack's sealed bytes, behind the store's back. */
function flipPackByte(path: string, packId: string): void {
  const db = new Database(path);
  try {
    const row = db.prepare('SELECT sealed FROM packs WHERE pack_id = ?').get(packId) as { sealed: Buffer };
    row.sealed[Math.floor(row.sealed.length / 2)]! ^= 0x01;
    db.prepare('UPDATE packs SET sealed = ? WHERE pack_id = ?').run(row.sealed, packId);
  } finally {
    db.close();
  }
}

vaultStoreContract('SQLite', async () => {
  const dir = await tempDir();
  const path = join(dir, 'catalog.db');
  const keyring = newKeyring();
  let store = await openSqliteVaultStore({ path, keyring });
  return {
    get store() {
      return store;
    },
    async reopen(options: { keyring?: Keyring } = {}) {
      await store.close();
      store = await openSqliteVaultStore({ path, keyring: options.keyring ?? keyring });
      return store;
    },
    async cleanup() {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
    async tamperPack(packId: string) {
      flipPackByte(path, packId);
    },
    // The WAL too: recent commits live there until a checkpoint copies them into the file.
    async storedBytes() {
      return Buffer.concat([path, `${path}-wal`].filter((f) => existsSync(f)).map((f) => readFileSync(f)));
    },
  };
});

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

interface Writer {
  lines: string[];
  /** Resolves with the line once the child prints it. */
  waitFor(line: string): Promise<void>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  running(): boolean;
}

function startWriter(env: Record<string, string>): Writer {
  const child = spawn(process.execPath, ['--import', 'tsx', WRITER], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  const waiters: { line: string; resolve: () => void }[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(line);
    for (const w of waiters.filter((w) => w.line === line)) w.resolve();
  });
  return {
    lines,
    waitFor: (line) => (lines.includes(line) ? Promise.resolve() : new Promise((resolve) => waiters.push({ line, resolve }))),
    exit: new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal }))),
    running: () => child.exitCode === null && child.signalCode === null,
  };
}

const BATCH_SIZE = 1200;

describe('SQLite vault store: crash safety', () => {
  const steps: { step: WriteStep; batchSurvives: boolean }[] = [
    { step: 'before-transaction', batchSurvives: false },
    { step: 'mid-inserts', batchSurvives: false },
    { step: 'before-commit', batchSurvives: false },
    { step: 'after-commit', batchSurvives: true },
  ];
  for (const { step, batchSurvives } of steps) {
    test(`killed ${step}: acknowledged batches are there, the batch in flight is all there or absent`, async () => {
      const dir = await tempDir();
      const path = join(dir, 'catalog.db');
      const dataKey = randomBytes(32);
      try {
        const crashAt = 2;
        const writer = startWriter({ VAULT_PATH: path, VAULT_KEY: dataKey.toString('hex'), VAULT_CRASH_AT: step, VAULT_CRASH_BATCH: String(crashAt), VAULT_BATCHES: '4', VAULT_BATCH_SIZE: String(BATCH_SIZE) });
        const { signal } = await writer.exit;
        assert.equal(signal, 'SIGKILL');
        assert.deepEqual(writer.lines, ['ack 0', 'ack 1']);

        const store = await openSqliteVaultStore({ path, keyring: deriveKeyring(dataKey, 'crash-test') });
        try {
          const stored = batchSurvives ? crashAt + 1 : crashAt;
          const expected = Array.from({ length: stored }, (_, b) => crashBatch(b, BATCH_SIZE)).flat();
          const found = await collect(store.findVersions({ orgId: CRASH_ORG, objectName: 'Account' }));
          assert.deepEqual(
            found.map((v) => `${v.recordId}@${v.systemModstamp}`).sort(),
            expected.map((v) => `${v.recordId}@${v.systemModstamp}`).sort(),
          );
          assert.ok(found.every((v) => v.fields.Batch === Number(v.runId.slice(4))));
          const records = new Set(expected.map((v) => v.recordId)).size;
          assert.deepEqual(await store.countVersions(CRASH_ORG, 'Account'), { records, versions: expected.length });

          // The watermark is the last acknowledged (or committed) batch's, never further.
          const last = crashBatch(stored - 1, BATCH_SIZE).at(-1)!;
          assert.deepEqual((await store.getObjectState(CRASH_ORG, 'Account'))?.watermark, { systemModstamp: last.systemModstamp, recordId: last.recordId });

          let payloads = 0;
          for await (const packId of store.listPacks()) payloads += (await store.checkPack(packId)).payloads;
          assert.equal(payloads, expected.length);
          assert.equal(await store.danglingVersions(), 0);

          // The writer's lock died with it: its pid is gone, so the lock is taken over at once.
          await (await store.acquireOrgLock(CRASH_ORG, 'next-backup')).release();

          // And the vault takes the next batch where the dead writer stopped.
          const next = crashBatch(stored, BATCH_SIZE);
          const outcome = await store.writeVersions({ orgId: CRASH_ORG, objectName: 'Account', runId: `run-${stored}`, capturedAt: Date.now(), schemaId: null, versions: next });
          assert.equal(outcome.written, next.length);
        } finally {
          await store.close();
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
});

describe('SQLite vault store: concurrency', () => {
  test('readers are not blocked while a writer holds its transaction open', async () => {
    const dir = await tempDir();
    const path = join(dir, 'catalog.db');
    const dataKey = randomBytes(32);
    const keyring = deriveKeyring(dataKey, 'crash-test');
    let reader: VaultStore | undefined;
    try {
      // Long enough to outlast the reads below on a loaded machine; the test then waits it out.
      const writer = startWriter({ VAULT_PATH: path, VAULT_KEY: dataKey.toString('hex'), VAULT_CRASH_AT: 'hold', VAULT_CRASH_BATCH: '1', VAULT_HOLD_MS: '5000', VAULT_BATCHES: '2', VAULT_BATCH_SIZE: '500' });
      await writer.waitFor('holding');
      // The writer now sits inside batch 1's transaction. Reads answer from the last commit
      // (batch 0 only) and return while the writer still holds it: they did not wait for it.
      reader = await openSqliteVaultStore({ path, keyring });
      assert.deepEqual(await reader.countVersions(CRASH_ORG), { records: 500, versions: 500 });
      assert.equal((await collect(reader.latestVersions(CRASH_ORG, 'Account'))).length, 500);
      const first = crashBatch(0, 500)[0]!;
      assert.equal((await reader.versionAsOf(CRASH_ORG, 'Account', first.recordId, first.systemModstamp))?.fields.Name, first.fields.Name);
      assert.equal(writer.running(), true);
      assert.ok(!writer.lines.includes('ack 1'));
      const { code } = await writer.exit;
      assert.equal(code, 0);
      assert.deepEqual(await reader.countVersions(CRASH_ORG), { records: 1000, versions: 1250 });
    } finally {
      await reader?.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('SQLite vault store: files and versions', () => {
  test('a read-only store reads and refuses every write', async () => {
    const dir = await tempDir();
    const path = join(dir, 'catalog.db');
    const keyring = newKeyring();
    try {
      await assert.rejects(openSqliteVaultStore({ path, keyring, readonly: true }));
      const writable = await openSqliteVaultStore({ path, keyring });
      await writable.writeVersions({ orgId: CRASH_ORG, objectName: 'Account', runId: 'r', capturedAt: 1, schemaId: null, versions: crashBatch(0, 10) });
      const readonly = await openSqliteVaultStore({ path, keyring, readonly: true });
      assert.deepEqual(await readonly.countVersions(CRASH_ORG), { records: 10, versions: 10 });
      await assert.rejects(readonly.writeVersions({ orgId: CRASH_ORG, objectName: 'Account', runId: 'r', capturedAt: 1, schemaId: null, versions: crashBatch(1, 10) }), (e: Error & { code?: string }) => e.code === 'READ_ONLY');
      await assert.rejects(readonly.appendAudit({ at: 1, actor: 'a', action: 'b', target: null, details: {} }), (e: Error & { code?: string }) => e.code === 'READ_ONLY');
      await assert.rejects(readonly.acquireOrgLock(CRASH_ORG, 'x'), (e: Error & { code?: string }) => e.code === 'READ_ONLY');
      await readonly.close();
      await writable.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a catalog written by a newer orgvault is refused; reopening does not migrate twice', async () => {
    const dir = await tempDir();
    const path = join(dir, 'catalog.db');
    const keyring = newKeyring();
    try {
      await (await openSqliteVaultStore({ path, keyring })).close();
      await (await openSqliteVaultStore({ path, keyring })).close();
      const db = new Database(path);
      assert.deepEqual(db.prepare('SELECT version FROM schema_migrations ORDER BY version').all(), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map((version) => ({ version })));
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, ?, 0)').run('from the future');
      db.close();
      await assert.rejects(openSqliteVaultStore({ path, keyring }), (e: Error & { code?: string }) => e.code === 'CATALOG_TOO_NEW');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a restore message moved to another row fails to open', async () => {
    const dir = await tempDir();
    const path = join(dir, 'catalog.db');
    const keyring = newKeyring();
    try {
      let store = await openSqliteVaultStore({ path, keyring });
      await store.beginRestoreStep({ runId: 'r', stepId: 's1', objectName: 'Account', action: 'update', originalIds: ['001A', '001B'], startedAt: 1, completedAt: null });
      const result = { objectName: 'Account', newId: null, outcome: 'Failed' as const, statusCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION', stepId: 's1' };
      await store.completeRestoreStep('r', 's1', 2, [{ ...result, originalId: '001A', message: 'Revenue 5000 too high' }, { ...result, originalId: '001B', message: 'Revenue 0 too low' }], CRASH_ORG, []);
      await store.close();
      const db = new Database(path);
      db.prepare("UPDATE restore_results SET sealed_message = (SELECT sealed_message FROM restore_results WHERE original_id = '001A') WHERE original_id = '001B'").run();
      db.close();
      store = await openSqliteVaultStore({ path, keyring });
      await assert.rejects(store.restoreResults('r'), (e: unknown) => e instanceof IntegrityError && e.message.includes('001B'));
      await store.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a version row pointed at another record’s payload is detected on read', async () => {
    const dir = await tempDir();
    const path = join(dir, 'catalog.db');
    const keyring = newKeyring();
    try {
      let store = await openSqliteVaultStore({ path, keyring });
      const versions = crashBatch(0, 5);
      await store.writeVersions({ orgId: CRASH_ORG, objectName: 'Account', runId: 'r', capturedAt: 1, schemaId: null, versions });
      await store.close();
      const db = new Database(path);
      db.prepare('UPDATE record_versions SET slot = 1 WHERE slot = 0').run();
      db.close();
      store = await openSqliteVaultStore({ path, keyring });
      await assert.rejects(store.versionAsOf(CRASH_ORG, 'Account', versions[0]!.recordId, versions[0]!.systemModstamp), IntegrityError);
      await store.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
