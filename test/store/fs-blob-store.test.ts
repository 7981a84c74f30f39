// The filesystem blob store: the BlobStore contract on a real temp directory, plus what only a
// filesystem can show: crash safety with a writer killed mid-put, temp-file cleanup, file modes.
// Run directly with ORGVAULT_BLOB_CHILD set, this file is the writer the crash tests kill.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { deriveKeyring, generateDataKey } from '../../src/crypto/keys.ts';
import type { Keyring } from '../../src/crypto/keys.ts';
import { addressHasher } from '../../src/crypto/address.ts';
import { blobPath, openFsBlobStore } from '../../src/store/fs/blob-store.ts';
import type { BlobStore } from '../../src/store/port.ts';
import { blobStoreContract, body } from '../contracts/blob-store.contract.ts';
import type { BlobDamage } from '../contracts/blob-store.contract.ts';

const MiB = 1024 * 1024;
const child = process.env.ORGVAULT_BLOB_CHILD;

if (child) {
  await runChild(child);
} else {
  const scratch = await mkdtemp(join(tmpdir(), 'orgvault-blobs-'));
  after(() => rm(scratch, { recursive: true, force: true }));

  blobStoreContract('filesystem', async () => {
    const dir = join(scratch, randomUUID());
    const blobs = openFsBlobStore({ dir, keyring: deriveKeyring(generateDataKey(), randomUUID()) });
    return {
      blobs,
      cleanup: () => rm(dir, { recursive: true, force: true }),
      corrupt: (address, damage) => damageFile(blobPath(dir, address), damage),
    };
  });

  describe('filesystem blob store', () => {
    const fresh = (): { dir: string; keyring: Keyring; blobs: BlobStore } => {
      const dir = join(scratch, randomUUID());
      const keyring = deriveKeyring(generateDataKey(), randomUUID());
      return { dir, keyring, blobs: openFsBlobStore({ dir, keyring }) };
    };

    test('lays blobs out as <aa>/<bb>/<address>, readable by the owner only, and leaves no temp files', async () => {
      const { dir, blobs } = fresh();
      const { address } = await blobs.put(body(5000));
      const file = join(dir, address.slice(0, 2), address.slice(2, 4), address);
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.deepEqual(readdirSync(join(dir, 'tmp')), []);
      const raw = await readFile(file);
      assert.equal(raw.subarray(0, 4).toString(), 'OVB1');
      // Sealed: no run of the plaintext survives in the file.
      const plain = Buffer.concat(await collect(body(5000)));
      assert.equal(raw.includes(plain.subarray(100, 132)), false);
    });

    test('of concurrent writers of the same content exactly one stores it', async () => {
      const { dir, blobs } = fresh();
      const results = await Promise.all(Array.from({ length: 8 }, () => blobs.put(body(MiB + 1, 4))));
      assert.equal(results.filter((r) => r.stored).length, 1);
      assert.deepEqual(readdirSync(join(dir, 'tmp')), []);
    });

    test('a second writer of existing content does not touch the stored file', async () => {
      const { dir, blobs } = fresh();
      const { address } = await blobs.put(body(1000, 9));
      const before = await readFile(blobPath(dir, address));
      const again = await blobs.put(body(1000, 9));
      assert.equal(again.stored, false);
      assert.deepEqual(await readFile(blobPath(dir, address)), before);
    });

    test('removes stale temp files on open and keeps fresh ones', () => {
      const { dir, keyring } = fresh();
      mkdirSync(join(dir, 'tmp'), { recursive: true });
      const stale = join(dir, 'tmp', '1-stale.partial');
      const live = join(dir, 'tmp', '2-live.partial');
      writeFileSync(stale, 'half a blob');
      writeFileSync(live, 'a blob being written');
      const hourAgo = new Date(Date.now() - 3600_000);
      utimesSync(stale, hourAgo, hourAgo);
      openFsBlobStore({ dir, keyring });
      assert.equal(existsSync(stale), false);
      assert.equal(existsSync(live), true);
    });

    test('a writer killed mid-put leaves nothing under the address, and its temp file is cleaned later', async () => {
      const { dir, keyring } = fresh();
      const dataKey = generateDataKey();
      const vaultId = randomUUID();
      const killed = await startChild('stall', dir, dataKey, vaultId);
      await killed.waitFor('streaming');
      killed.kill();
      await killed.exited;

      const childKeyring = deriveKeyring(dataKey, vaultId);
      const hasher = addressHasher(childKeyring.addressing);
      for await (const piece of body(5 * MiB, 42)) hasher.update(piece);
      const intended = hasher.digest();
      const childStore = openFsBlobStore({ dir, keyring: childKeyring });
      assert.equal(await childStore.has(intended), false);
      assert.equal(existsSync(blobPath(dir, intended)), false);
      assert.deepEqual(await collect(childStore.list()), []);
      const temps = readdirSync(join(dir, 'tmp'));
      assert.equal(temps.length, 1, 'the killed writer left its temp file');
      assert.ok(statSync(join(dir, 'tmp', temps[0]!)).size > MiB);

      openFsBlobStore({ dir, keyring, staleTempAfterMs: 0 });
      assert.deepEqual(readdirSync(join(dir, 'tmp')), []);
    });

    test('writers killed at random moments never leave a partial blob visible', async () => {
      const { dir } = fresh();
      const dataKey = generateDataKey();
      const vaultId = randomUUID();
      const keyring = deriveKeyring(dataKey, vaultId);
      const acknowledged: Array<{ seed: number; size: number; address: string }> = [];
      for (const [round, delay] of [200, 450, 700].entries()) {
        const writer = await startChild('loop', dir, dataKey, vaultId, String(round));
        await writer.waitFor('ready');
        await new Promise((resolve) => setTimeout(resolve, delay));
        writer.kill();
        await writer.exited;
        for (const line of writer.lines) {
          const [seed, size, address] = line.split(' ');
          if (address) acknowledged.push({ seed: Number(seed), size: Number(size), address });
        }
      }
      assert.ok(acknowledged.length > 0, 'the writers stored something before being killed');
      const store = openFsBlobStore({ dir, keyring });
      const listed = await collect(store.list());
      for (const { address } of acknowledged) assert.ok(listed.includes(address), `acknowledged blob ${address} is listed`);
      for (const address of listed) {
        // Every visible blob is whole: it authenticates and hashes to its address.
        let size = 0;
        for await (const piece of store.get(address)) size += piece.length;
        const known = acknowledged.find((a) => a.address === address);
        if (known) assert.equal(size, known.size);
      }
    });
  });
}

async function collect<T>(source: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of source) out.push(item);
  return out;
}

async function damageFile(file: string, damage: BlobDamage = { flipByteAt: 20 }): Promise<void> {
  const bytes = await readFile(file);
  if ('truncateBy' in damage) {
    await truncate(file, Math.max(0, bytes.length - damage.truncateBy));
    return;
  }
  const at = damage.flipByteAt < 0 ? bytes.length + damage.flipByteAt : damage.flipByteAt;
  bytes[at] = bytes[at]! ^ 0x01;
  await writeFile(file, bytes);
}

interface Child {
  lines: string[];
  waitFor(line: string): Promise<void>;
  kill(): void;
  exited: Promise<void>;
}

async function startChild(mode: string, dir: string, dataKey: Buffer, vaultId: string, round = '0'): Promise<Child> {
  const env: NodeJS.ProcessEnv = { ...process.env, ORGVAULT_BLOB_CHILD: mode, BLOB_DIR: dir, BLOB_KEY: dataKey.toString('hex'), BLOB_VAULT: vaultId, BLOB_ROUND: round };
  delete env.NODE_TEST_CONTEXT;
  const proc = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  const waiters = new Map<string, () => void>();
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    lines.push(line);
    waiters.get(line)?.();
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  return {
    lines,
    waitFor: (line) =>
      new Promise<void>((resolve, reject) => {
        if (lines.includes(line)) return resolve();
        waiters.set(line, resolve);
        void exited.then(() => reject(new Error(`the writer exited before printing "${line}"`)));
      }),
    kill: () => proc.kill('SIGKILL'),
    exited,
  };
}

async function runChild(mode: string): Promise<void> {
  const keyring = deriveKeyring(Buffer.from(process.env.BLOB_KEY!, 'hex'), process.env.BLOB_VAULT!);
  const blobs = openFsBlobStore({ dir: process.env.BLOB_DIR!, keyring });
  if (mode === 'stall') {
    // Streams 3 of 5 MiB, then hangs as a slow source would until it is killed.
    async function* stalled(): AsyncGenerator<Uint8Array> {
      let sent = 0;
      for await (const piece of body(5 * MiB, 42)) {
        if (sent >= 3 * MiB) {
          process.stdout.write('streaming\n');
          await new Promise((resolve) => setTimeout(resolve, 3600_000));
        }
        sent += piece.length;
        yield piece;
      }
    }
    await blobs.put(stalled());
    return;
  }
  process.stdout.write('ready\n');
  for (let i = 0; ; i++) {
    const seed = Number(process.env.BLOB_ROUND) * 100_000 + i + 1;
    const size = (seed * 7919) % (3 * MiB);
    const { address } = await blobs.put(body(size, seed));
    process.stdout.write(`${seed} ${size} ${address}\n`);
  }
}
