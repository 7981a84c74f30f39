// The SQLite catalog's checkpoint thread: once a writer's WAL shows bulk writing, checkpoints run on
// a connection of their own (the writer no longer waits for the copy and its syncs), and nothing
// written is lost or hidden from readers while they do.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { BackgroundCheckpointer } from '../../src/store/sqlite/checkpointer.ts';
import { Connections } from '../../src/store/sqlite/connection.ts';

const MIB = 1024 * 1024;

/** Runs `fn` in a new temporary folder, removed afterwards. */
async function inTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'orgvault-checkpointer-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const autocheckpoint = (conns: Connections): unknown => conns.write.pragma('wal_autocheckpoint', { simple: true });

test('a bulk writer’s WAL is checkpointed by a thread of its own, and closing leaves every row in the database file', () =>
  inTempDir(async (dir) => {
    const path = join(dir, 'catalog.db');
    const conns = new Connections(path, false);
    await conns.exclusive((db) => db.exec('CREATE TABLE filler (n INTEGER PRIMARY KEY, body BLOB NOT NULL)'));
    const baseline = statSync(path).size;
    const write = (n: number): Promise<unknown> => conns.exclusive((db) => db.prepare('INSERT INTO filler (n, body) VALUES (?, ?)').run(n, randomBytes(MIB)));
    // Random bytes do not shrink: 24 MiB of WAL, past the 16 MiB that starts the thread but
    // under the 40 MiB at which the writer would have checkpointed for itself.
    for (let n = 0; n < 24; n++) await write(n);
    // The writer's own checkpoint is now only the backstop.
    assert.equal(autocheckpoint(conns), 40_000);
    const checkpointed = conns.checkpointed();
    await write(24);
    await checkpointed;
    assert.ok(statSync(path).size - baseline >= 20 * MIB, `the database file grew by ${statSync(path).size - baseline} bytes: the WAL was not checkpointed into it`);
    // Readers see every committed row, checkpointed or not.
    assert.equal((conns.read.prepare('SELECT count(*) AS n FROM filler').get() as { n: number }).n, 25);
    // A checkpoint of the writer's own (prune's sync, purge's truncation) holds the thread off
    // rather than finding the checkpoint lock taken, and the thread goes on afterwards.
    await write(25);
    const [own] = (await conns.checkpoint((db) => db.pragma('wal_checkpoint(TRUNCATE)'))) as { busy: number; log: number; checkpointed: number }[];
    assert.deepEqual(own, { busy: 0, log: 0, checkpointed: 0 });
    assert.equal(statSync(`${path}-wal`).size, 0);
    const again = conns.checkpointed();
    await write(26);
    await again;
    // Closing with a checkpoint still to come (the last write's) waits for the thread to end.
    await write(27);
    await conns.close();
    assert.equal(existsSync(`${path}-wal`), false, 'the last connection to close removes the WAL');
    const reopened = new Database(path, { readonly: true });
    try {
      assert.equal((reopened.prepare('SELECT count(*) AS n FROM filler').get() as { n: number }).n, 28);
      assert.deepEqual(reopened.pragma('integrity_check'), [{ integrity_check: 'ok' }]);
    } finally {
      reopened.close();
    }
  }));

test('a vault written a little at a time starts no checkpoint thread', () =>
  inTempDir(async (dir) => {
    const path = join(dir, 'catalog.db');
    const conns = new Connections(path, false);
    await conns.exclusive((db) => db.exec('CREATE TABLE filler (n INTEGER PRIMARY KEY, body BLOB NOT NULL)'));
    for (let n = 0; n < 10; n++) await conns.exclusive((db) => db.prepare('INSERT INTO filler (n, body) VALUES (?, ?)').run(n, randomBytes(1024)));
    assert.ok(statSync(`${path}-wal`).size < 16 * MIB);
    // The writer still checkpoints for itself, as it did before the thread existed.
    assert.equal(autocheckpoint(conns), 10_000);
    await conns.close();
  }));

test('a checkpoint thread that cannot run says so once, and nobody is left waiting on it', () =>
  inTempDir(async (dir) => {
    let failures = 0;
    let stopped!: () => void;
    const failed = new Promise<void>((resolve) => (stopped = resolve));
    // The catalog does not exist: the thread's connection cannot open it.
    const thread = new BackgroundCheckpointer(join(dir, 'missing.db'), () => {
      failures++;
      stopped();
    });
    thread.written();
    const waited = thread.nextCheckpoint();
    await failed;
    // Would never settle (and the runner cancel the test) if the failure left it pending.
    await waited;
    await thread.close();
    assert.equal(failures, 1);
  }));
