/**
 * The contract every BlobStore adapter passes (filesystem, S3). `open` must return an
 * empty store under a fresh vault key each time it is called; `corrupt`, where the adapter can
 * reach its raw bytes, damages one stored blob so that reads must fail.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, test } from 'node:test';
import { IntegrityError } from '../../src/crypto/errors.ts';
import { DEFAULT_CHUNK_BYTES } from '../../src/crypto/stream.ts';
import type { BlobStore } from '../../src/store/port.ts';

/** How to damage a stored blob: flip one byte (negative offsets count from the end) or cut bytes off its end. */
export type BlobDamage = { flipByteAt: number } | { truncateBy: number };

export interface OpenedBlobStore {
  blobs: BlobStore;
  cleanup(): Promise<void>;
  corrupt?(address: string, damage?: BlobDamage): Promise<void>;
}

const MiB = 1024 * 1024;

/** A deterministic body of `size` bytes, yielded in fresh pieces of `piece` bytes. */
export async function* body(size: number, seed = 1, piece = 64 * 1024): AsyncGenerator<Uint8Array> {
  let state = seed >>> 0 || 1;
  for (let offset = 0; offset < size; offset += piece) {
    const length = Math.min(piece, size - offset);
    const chunk = Buffer.allocUnsafe((length + 3) & ~3);
    for (let i = 0; i < chunk.length; i += 4) {
      // xorshift32: cheap, reproducible, and not a pattern a bug could hide in.
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      chunk.writeUInt32LE(state >>> 0, i);
    }
    yield chunk.subarray(0, length);
  }
}

async function* once(data: Uint8Array): AsyncGenerator<Uint8Array> {
  yield data;
}

async function sha256Of(source: AsyncIterable<Uint8Array>): Promise<{ hash: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const piece of source) {
    hash.update(piece);
    size += piece.length;
  }
  return { hash: hash.digest('hex'), size };
}

async function readAll(blobs: BlobStore, address: string): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for await (const piece of blobs.get(address)) pieces.push(piece);
  return Buffer.concat(pieces);
}

async function listAll(blobs: BlobStore): Promise<string[]> {
  const out: string[] = [];
  for await (const address of blobs.list()) out.push(address);
  return out.sort();
}

let collectGarbage: (() => void) | undefined;
function gc(): void {
  if (!collectGarbage) {
    // Measuring live memory needs a full collection; --expose-gc can be turned on at run time.
    setFlagsFromString('--expose-gc');
    collectGarbage = runInNewContext('gc') as () => void;
  }
  // Freed buffers are released in a second pass: one collection alone leaves them counted.
  collectGarbage();
  collectGarbage();
}

export function blobStoreContract(name: string, open: () => Promise<OpenedBlobStore>): void {
  describe(`BlobStore contract: ${name}`, () => {
    async function withStore(fn: (store: OpenedBlobStore) => Promise<void>): Promise<void> {
      const store = await open();
      try {
        await fn(store);
      } finally {
        await store.cleanup();
      }
    }

    const sizes: Array<[string, number]> = [
      ['an empty body', 0],
      ['a small body', 1000],
      ['a body of exactly one chunk', DEFAULT_CHUNK_BYTES],
      ['a body of one chunk and one byte', DEFAULT_CHUNK_BYTES + 1],
      ['a multi-chunk body of a few MB', 3 * MiB + 12345],
    ];
    for (const [label, size] of sizes) {
      test(`round-trips ${label}`, () =>
        withStore(async ({ blobs }) => {
          const expected = await sha256Of(body(size, size + 7));
          const put = await blobs.put(body(size, size + 7));
          assert.match(put.address, /^[0-9a-f]{64}$/);
          assert.equal(put.size, size);
          assert.equal(put.stored, true);
          assert.equal(await blobs.has(put.address), true);
          assert.deepEqual(await sha256Of(blobs.get(put.address)), expected);
        }));
    }

    test('streams a large body in and out without holding it in memory', () =>
      withStore(async ({ blobs }) => {
        const size = 48 * MiB;
        let peak = 0;
        async function* measured(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
          let bytes = 0;
          let sampledAt = 0;
          for await (const piece of source) {
            bytes += piece.length;
            if (bytes - sampledAt >= 2 * MiB) {
              sampledAt = bytes;
              gc();
              peak = Math.max(peak, process.memoryUsage().arrayBuffers);
            }
            yield piece;
          }
        }
        gc();
        const baseline = process.memoryUsage().arrayBuffers;
        const put = await blobs.put(measured(body(size, 99)));
        const read = await sha256Of(measured(blobs.get(put.address)));
        assert.equal(read.size, size);
        assert.equal(read.hash, (await sha256Of(body(size, 99))).hash);
        // A few chunks in flight at most: a leak or a buffered body would be tens of MB.
        assert.ok(peak - baseline < 12 * MiB, `live buffers grew by ${((peak - baseline) / MiB).toFixed(1)} MiB for a ${size / MiB} MiB body`);
      }));

    test('stores the same content once, under the same address', () =>
      withStore(async ({ blobs }) => {
        const first = await blobs.put(once(Buffer.from('the same bytes')));
        const second = await blobs.put(body(0));
        const third = await blobs.put(
          (async function* () {
            yield Buffer.from('the same ');
            yield Buffer.from('bytes');
          })(),
        );
        assert.equal(third.address, first.address);
        assert.equal(first.stored, true);
        assert.equal(third.stored, false);
        assert.notEqual(second.address, first.address);
        assert.deepEqual(await listAll(blobs), [first.address, second.address].sort());
        assert.equal((await readAll(blobs, first.address)).toString(), 'the same bytes');
      }));

    test('concurrent puts of the same content store it once', () =>
      withStore(async ({ blobs }) => {
        const results = await Promise.all(Array.from({ length: 6 }, () => blobs.put(body(2 * MiB + 3, 5))));
        const addresses = new Set(results.map((r) => r.address));
        assert.equal(addresses.size, 1);
        assert.ok(results.some((r) => r.stored));
        const [address] = addresses;
        assert.deepEqual(await listAll(blobs), [address]);
        assert.deepEqual(await sha256Of(blobs.get(address!)), await sha256Of(body(2 * MiB + 3, 5)));
      }));

    test('addresses depend on the vault key: the same content gets another address in another vault', async () => {
      const a = await open();
      const b = await open();
      try {
        const inA = await a.blobs.put(once(Buffer.from('invoice.pdf')));
        const inB = await b.blobs.put(once(Buffer.from('invoice.pdf')));
        assert.notEqual(inA.address, inB.address);
        assert.equal(await b.blobs.has(inA.address), false);
      } finally {
        await a.cleanup();
        await b.cleanup();
      }
    });

    test('list, has and delete', () =>
      withStore(async ({ blobs }) => {
        assert.deepEqual(await listAll(blobs), []);
        const puts = await Promise.all([1, 2, 3].map((n) => blobs.put(body(100 * n, n))));
        const addresses = puts.map((p) => p.address);
        assert.deepEqual(await listAll(blobs), [...addresses].sort());
        for (const address of addresses) assert.equal(await blobs.has(address), true);
        await blobs.delete(addresses[1]!);
        assert.equal(await blobs.has(addresses[1]!), false);
        assert.deepEqual(await listAll(blobs), [addresses[0]!, addresses[2]!].sort());
        await blobs.delete(addresses[1]!);
        await assert.rejects(readAll(blobs, addresses[1]!), IntegrityError);
        assert.equal(await blobs.has('0'.repeat(64)), false);
        assert.equal(await blobs.has('../../vault.json'), false);
        await assert.rejects(readAll(blobs, '../../vault.json'), IntegrityError);
      }));

    test('a failing source stores nothing', () =>
      withStore(async ({ blobs }) => {
        async function* failing(): AsyncGenerator<Uint8Array> {
          yield* body(DEFAULT_CHUNK_BYTES + 10);
          throw new Error('connection reset');
        }
        await assert.rejects(blobs.put(failing()), /connection reset/);
        assert.deepEqual(await listAll(blobs), []);
      }));

    test('a reader that stops early leaves the store usable', () =>
      withStore(async ({ blobs }) => {
        const { address } = await blobs.put(body(3 * MiB));
        for await (const piece of blobs.get(address)) {
          assert.ok(piece.length > 0);
          break;
        }
        await blobs.delete(address);
        assert.equal(await blobs.has(address), false);
      }));

    const damages: Array<[string, number, BlobDamage]> = [
      ['a flipped byte in the format marker', 1000, { flipByteAt: 0 }],
      ['a flipped byte in the nonce prefix', 1000, { flipByteAt: 6 }],
      ['a flipped byte in the chunk size', 1000, { flipByteAt: 12 }],
      ['a flipped high byte in the chunk size', 1000, { flipByteAt: 11 }],
      ['a flipped byte in the middle of a chunk', 2 * MiB + 5, { flipByteAt: MiB + 77 }],
      ['a flipped byte in the last chunk', 2 * MiB + 5, { flipByteAt: -20 }],
      ['a flipped byte in the trailer', 2 * MiB + 5, { flipByteAt: -1 }],
      ['a flipped byte in an empty body', 0, { flipByteAt: -17 }],
      ['one byte cut off', 2 * MiB + 5, { truncateBy: 1 }],
      ['the trailer cut off', 2 * MiB + 5, { truncateBy: 16 }],
      ['everything but the header cut off', 1000, { truncateBy: 1000 + 32 }],
    ];
    for (const [label, size, damage] of damages) {
      test(`detects ${label} on read`, async (t) => {
        const store = await open();
        try {
          if (!store.corrupt) return t.skip('the adapter cannot reach raw bytes');
          const { address } = await store.blobs.put(body(size, 3));
          await store.corrupt(address, damage);
          await assert.rejects(readAll(store.blobs, address), (error: unknown) => {
            assert.ok(error instanceof IntegrityError, `expected IntegrityError, got ${String(error)}`);
            assert.match(error.message, new RegExp(address.slice(0, 16)));
            return true;
          });
        } finally {
          await store.cleanup();
        }
      });
    }

    test('a whole-chunk truncation is detected', async (t) => {
      const store = await open();
      try {
        if (!store.corrupt) return t.skip('the adapter cannot reach raw bytes');
        // Cutting exactly one sealed chunk and the trailer leaves a well-formed-looking prefix.
        const { address } = await store.blobs.put(body(3 * DEFAULT_CHUNK_BYTES, 8));
        await store.corrupt(address, { truncateBy: DEFAULT_CHUNK_BYTES + 16 + 16 });
        await assert.rejects(readAll(store.blobs, address), IntegrityError);
      } finally {
        await store.cleanup();
      }
    });
  });
}
