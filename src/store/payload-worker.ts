/**
 * The CPU work of a batch write besides SQL: each version's fields as canonical JSON, its keyed
 * hash, and the compression of packs. Canonical JSON is made on the calling thread, where the
 * fields objects live; hashing and compression run on a worker thread for large batches,
 * overlapping with canonicalizing the next chunk and with the SQL inserts on this one. Small
 * batches are not worth a message round trip and stay inline.
 *
 * The worker also cuts stored payloads into search tokens and hashes them (search-hashing.ts) for
 * the search index's catch-up (tokenHashes): the larger part of indexing, off this thread and
 * overlapping the index's SQL. Token jobs yield to compression requests between jobs, so that
 * indexing never holds up a write transaction waiting for its packs.
 *
 * The worker is plain JavaScript evaluated from a string; for the tokens it loads
 * search-hashing.ts through tsx (as orgvault runs), and if that fails the index cuts the tokens
 * itself. It only ever sees payload bytes, the addressing key and the search index key, which
 * live in this process anyway; sealing stays on this thread.
 */
import { Worker } from 'node:worker_threads';
import { OrgvaultError } from '../core/errors.ts';
import { PACK_BROTLI_QUALITY, canonicalJson, compressPackBody, payloadHash } from './packs.ts';

/** Where the worker loads the token hashing from (a TypeScript module, through tsx, when it resolves). */
const TSX_API = ((): string | undefined => {
  try {
    return import.meta.resolve('tsx/esm/api');
  } catch {
    return undefined;
  }
})();
const HASHING_MODULE = new URL('./search-hashing.ts', import.meta.url).href;

/** Payloads per message to the worker: small enough to pipeline, large enough to amortize. */
const CHUNK = 256;
/** Batches smaller than this are encoded, hashed and compressed inline. */
const WORKER_MIN_PAYLOADS = 512;
const HASH_BYTES = 32;

/** A batch's payloads, encoded and hashed, ready to be packed. */
export interface PreparedPayloads {
  readonly count: number;
  /** The keyed hash of payload `i` (32 bytes). */
  hash(i: number): Buffer;
  /** The byte length of payload `i`. */
  length(i: number): number;
  /** Compressed pack bodies, each its header followed by the listed payloads. */
  compress(packs: readonly { header: Buffer; payloads: readonly number[] }[]): Promise<Buffer[]>;
  /** Frees the payload bytes (also where the batch failed before compressing). */
  release(): void;
}

interface Chunk {
  offsets: Uint32Array;
  hashes: Buffer;
  /** The payload bytes, while they are on this thread (inline mode). */
  bytes?: Buffer;
  /** The worker's name for the chunk, once its bytes were handed over. */
  id?: number;
}

function encodeChunk(fields: readonly Record<string, unknown>[]): { bytes: Buffer; offsets: Uint32Array } {
  const strings = fields.map((f) => canonicalJson(f));
  const offsets = new Uint32Array(strings.length + 1);
  for (let i = 0; i < strings.length; i++) offsets[i + 1] = offsets[i]! + Buffer.byteLength(strings[i]!);
  // A buffer of its own (not from the shared pool), so that it can be transferred, not copied.
  const bytes = Buffer.allocUnsafeSlow(offsets[strings.length]!);
  for (let i = 0; i < strings.length; i++) bytes.write(strings[i]!, offsets[i]!);
  return { bytes, offsets };
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHmac } = require('node:crypto');
const { brotliCompressSync, constants } = require('node:zlib');
const key = Buffer.from(workerData.addressingKey);
const chunks = new Map();
let tokenizer;
// The token hashing, loaded once: undefined (the index then cuts the tokens itself) if it cannot be.
function loadTokenizer() {
  tokenizer ??= (async () => {
    const { register } = await import(workerData.tsxApi);
    register();
    const m = await import(workerData.hashingModule);
    const hashers = new m.OrgTokenHashers(Buffer.from(workerData.indexingKey));
    return (orgId, bytes, offsets) => m.payloadTokenHashes(hashers.of(orgId), bytes, offsets);
  })().catch(() => undefined);
  return tokenizer;
}
// Token jobs run one per turn of the event loop, so that a compression request (which a write
// transaction waits for) is taken between two jobs, not after all of them.
const tokenQueue = [];
function tokens(m) {
  tokenQueue.push(m);
  if (tokenQueue.length === 1) loadTokenizer().then((cut) => setImmediate(() => nextTokens(cut)));
}
function nextTokens(cut) {
  const m = tokenQueue[0];
  try {
    if (!cut) parentPort.postMessage({ id: m.id, tokens: null });
    else {
      const { hashes, ends } = cut(m.orgId, Buffer.from(m.buffer), m.offsets);
      parentPort.postMessage({ id: m.id, tokens: hashes.buffer, ends }, [hashes.buffer, ends.buffer]);
    }
  } catch (error) {
    parentPort.postMessage({ id: m.id, error: String(error && error.stack || error) });
  }
  tokenQueue.shift();
  if (tokenQueue.length > 0) setImmediate(() => nextTokens(cut));
}
parentPort.on('message', (m) => {
  try {
    if (m.kind === 'hash') {
      const bytes = Buffer.from(m.buffer);
      const n = m.offsets.length - 1;
      const hashes = Buffer.allocUnsafeSlow(${HASH_BYTES} * n);
      for (let i = 0; i < n; i++) createHmac('sha256', key).update(bytes.subarray(m.offsets[i], m.offsets[i + 1])).digest().copy(hashes, ${HASH_BYTES} * i);
      chunks.set(m.chunk, { bytes, offsets: m.offsets });
      parentPort.postMessage({ id: m.id, hashes: hashes.buffer }, [hashes.buffer]);
    } else if (m.kind === 'compress') {
      const bodies = m.packs.map((p) => {
        const parts = [Buffer.from(p.header)];
        for (let i = 0; i < p.refs.length; i += 2) {
          const c = chunks.get(p.refs[i]);
          const j = p.refs[i + 1];
          parts.push(c.bytes.subarray(c.offsets[j], c.offsets[j + 1]));
        }
        const body = Buffer.concat(parts);
        const out = brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: workerData.quality, [constants.BROTLI_PARAM_SIZE_HINT]: body.length } });
        return out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength);
      });
      parentPort.postMessage({ id: m.id, bodies }, bodies);
    } else if (m.kind === 'release') {
      for (const id of m.chunks) chunks.delete(id);
    } else if (m.kind === 'tokens') {
      tokens(m);
    }
  } catch (error) {
    parentPort.postMessage({ id: m.id, error: String(error && error.stack || error) });
  }
});
`;

interface Reply {
  id: number;
  error?: string;
  hashes?: ArrayBuffer;
  bodies?: ArrayBuffer[];
  /** null: the worker cannot cut tokens. */
  tokens?: ArrayBuffer | null;
  ends?: Uint32Array;
}

export class PayloadPipeline {
  private worker: Worker | undefined;
  private broken = false;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(reply: Reply): void; reject(error: Error): void }>();

  /** Without `indexingKey`, no token hashes are made. */
  constructor(
    private readonly addressingKey: Buffer,
    private readonly indexingKey?: Buffer,
  ) {}

  /** Encodes and hashes the fields of a batch's versions, in order. */
  async prepare(fields: readonly Record<string, unknown>[]): Promise<PreparedPayloads> {
    const chunks: Chunk[] = [];
    const worker = fields.length >= WORKER_MIN_PAYLOADS ? this.ensureWorker() : undefined;
    const hashed: Promise<void>[] = [];
    for (let start = 0; start < fields.length; start += CHUNK) {
      const { bytes, offsets } = encodeChunk(fields.slice(start, start + CHUNK));
      const chunk: Chunk = { offsets, hashes: Buffer.alloc(0) };
      chunks.push(chunk);
      if (!worker) {
        chunk.bytes = bytes;
        const hashes = Buffer.allocUnsafe(HASH_BYTES * (offsets.length - 1));
        for (let i = 0; i + 1 < offsets.length; i++) payloadHash(this.addressingKey, bytes.subarray(offsets[i], offsets[i + 1])).copy(hashes, HASH_BYTES * i);
        chunk.hashes = hashes;
        continue;
      }
      chunk.id = this.nextId++;
      const buffer = bytes.buffer as ArrayBuffer;
      hashed.push(
        this.request(worker, { kind: 'hash', chunk: chunk.id, buffer, offsets }, [buffer]).then((reply) => {
          chunk.hashes = Buffer.from(reply.hashes!);
        }),
      );
    }
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      const ids = chunks.map((c) => c.id).filter((id): id is number => id !== undefined);
      if (ids.length > 0 && this.worker === worker && worker) worker.postMessage({ kind: 'release', chunks: ids });
      for (const c of chunks) c.bytes = undefined;
    };
    try {
      await Promise.all(hashed);
    } catch (error) {
      release();
      throw error;
    }
    const at = (i: number): [Chunk, number] => [chunks[Math.floor(i / CHUNK)]!, i % CHUNK];
    return {
      count: fields.length,
      hash: (i) => {
        const [c, j] = at(i);
        return c.hashes.subarray(j * HASH_BYTES, (j + 1) * HASH_BYTES);
      },
      length: (i) => {
        const [c, j] = at(i);
        return c.offsets[j + 1]! - c.offsets[j]!;
      },
      compress: async (packs) => {
        if (!worker) {
          return packs.map((p) =>
            compressPackBody(
              Buffer.concat([
                p.header,
                ...p.payloads.map((i) => {
                  const [c, j] = at(i);
                  return c.bytes!.subarray(c.offsets[j], c.offsets[j + 1]);
                }),
              ]),
            ),
          );
        }
        const message = {
          kind: 'compress',
          packs: packs.map((p) => {
            const refs = new Uint32Array(p.payloads.length * 2);
            p.payloads.forEach((i, k) => {
              const [c, j] = at(i);
              refs[2 * k] = c.id!;
              refs[2 * k + 1] = j;
            });
            return { header: p.header, refs };
          }),
        };
        const reply = await this.request(worker, message, []);
        return reply.bodies!.map((b) => Buffer.from(b));
      },
      release,
    };
  }

  /**
   * The distinct search-token hashes of each payload (back to back, latin1, search-hashing.ts's
   * HASH_BYTES each) under `orgId`'s index key, cut on the worker thread: `bytes` holds the
   * payloads back to back, payload i from offsets[i] to offsets[i + 1], and is handed over to the
   * worker. Undefined when the worker cannot cut tokens (no index key, or the hashing module
   * would not load): the caller then cuts them itself.
   */
  async tokenHashes(orgId: string, bytes: Buffer, offsets: Uint32Array): Promise<string[] | undefined> {
    const worker = this.indexingKey && TSX_API ? this.ensureWorker() : undefined;
    if (!worker) return undefined;
    // A buffer of its own, so that it can be transferred without copying a pool's neighbours.
    const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : Buffer.from(bytes);
    const buffer = own.buffer as ArrayBuffer;
    const reply = await this.request(worker, { kind: 'tokens', orgId, buffer, offsets }, [buffer]);
    if (!reply.tokens) return undefined;
    const all = Buffer.from(reply.tokens);
    const ends = reply.ends!;
    return Array.from(ends, (end, i) => all.toString('latin1', i === 0 ? 0 : ends[i - 1], end));
  }

  private ensureWorker(): Worker | undefined {
    if (this.worker || this.broken) return this.worker;
    try {
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        execArgv: [],
        workerData: {
          addressingKey: new Uint8Array(this.addressingKey),
          indexingKey: this.indexingKey && new Uint8Array(this.indexingKey),
          quality: PACK_BROTLI_QUALITY,
          tsxApi: TSX_API,
          hashingModule: HASHING_MODULE,
        },
      });
      worker.unref();
      worker.on('message', (reply: Reply) => {
        const waiter = this.pending.get(reply.id);
        if (!waiter) return;
        this.pending.delete(reply.id);
        if (this.pending.size === 0) worker.unref();
        if (reply.error) waiter.reject(new OrgvaultError('PAYLOAD_WORKER', `The payload worker failed: ${reply.error}`));
        else waiter.resolve(reply);
      });
      const fail = (error: Error): void => {
        // Later batches run inline; the ones in flight fail and roll back.
        this.broken = true;
        this.worker = undefined;
        for (const waiter of this.pending.values()) waiter.reject(new OrgvaultError('PAYLOAD_WORKER', `The payload worker stopped: ${error.message}`, { cause: error }));
        this.pending.clear();
      };
      worker.on('error', fail);
      worker.on('exit', (code) => {
        if (this.worker === worker) fail(new Error(`exit code ${code}`));
      });
      this.worker = worker;
    } catch {
      this.broken = true;
    }
    return this.worker;
  }

  private request(worker: Worker, message: object, transfer: ArrayBuffer[]): Promise<Reply> {
    const id = this.nextId++;
    const reply = new Promise<Reply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // Keep the process alive while the worker owes an answer; not a moment longer.
      worker.ref();
    });
    worker.postMessage({ ...message, id }, transfer);
    return reply;
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.broken = true;
    if (worker) await worker.terminate();
  }
}
