/**
 * The pack codec. A record version's fields are stored as canonical JSON (keys sorted, so equal
 * fields give equal bytes and one keyed hash); payloads are grouped into packs of up to
 * PACK_MAX_PAYLOADS payloads or PACK_MAX_BYTES bytes, compressed together and sealed once with
 * AES-256-GCM, the pack ID bound as associated data, as restic and kopia pack their blobs. Sealing
 * each record alone would cap a backup near 30,000 records/s and store twice the bytes
 * (/work/shared/notes/measured-limits.md); a pack costs one decompression per point read, which
 * the LRU below makes rare for neighbouring reads.
 *
 * Sealed plaintext: 1 byte codec | compressed body. Body: u32 count | count × u32 byte length |
 * count × (u8 length | record ID in UTF-8) | payloads, back to back. The record ID of every slot
 * is inside the seal, so a catalog row pointing at another record's payload is detected on read.
 */
import { createHmac } from 'node:crypto';
import { brotliCompressSync, brotliDecompressSync, constants as zlib } from 'node:zlib';
import { IntegrityError } from '../crypto/errors.ts';
import { open, seal } from '../crypto/seal.ts';

/**
 * At most this many payloads per pack: bounds the work of one point read. Measured on ~1.4 KB
 * records: a pack of 128 decompresses in ~0.55 ms against ~1 ms for 256, for 0.160 of raw size
 * against 0.152.
 */
export const PACK_MAX_PAYLOADS = 128;
/** At most about this many plaintext bytes per pack (a single larger payload gets a pack of its own). */
export const PACK_MAX_BYTES = 256 * 1024;

/** The codec byte of packs written with brotli; another codec would get another value. */
const CODEC_BROTLI = 2;
/**
 * Brotli at quality 1, measured on ~1.4 KB Salesforce-like records in packs of 128–256: 0.15–0.16
 * of raw JSON at ~150,000 records/s on one core, where deflate level 1 gives 0.18 at ~85,000/s,
 * and brotli quality 3 or deflate level 6 reach 0.13 at under half the speed.
 */
export const PACK_BROTLI_QUALITY = 1;

/** Compresses a pack body as packs are stored (the codec byte is added by sealPackBody). */
export function compressPackBody(body: Uint8Array): Buffer {
  return brotliCompressSync(body, { params: { [zlib.BROTLI_PARAM_QUALITY]: PACK_BROTLI_QUALITY, [zlib.BROTLI_PARAM_SIZE_HINT]: body.length } });
}

const packAad = (packId: string): string => `orgvault:pack:v1:${packId}`;

/**
 * Fields as canonical JSON: object keys in sorted order at every depth (integer-like keys, which
 * field names never are, first and in numeric order, as JavaScript keeps them), members JSON
 * cannot hold (undefined, functions) dropped as JSON.stringify drops them. Equal fields give
 * equal bytes whatever order they arrived in.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortedValue(value)) ?? 'null';
}

type Copier = (record: Record<string, unknown>, value: (v: unknown) => unknown) => Record<string, unknown>;

/**
 * Records of one object share their keys, so each key set gets a copier compiled once: an object
 * literal with the keys in sorted order, which JSON.stringify then writes in one native pass.
 * Measured on ~45-field records at ~1.05× the cost of JSON.stringify alone, where building the
 * string field by field costs ~1.25× and sorting a copy key by key ~2×.
 */
const copiers = new Map<string, Copier>();
const MAX_COPIERS = 1000;
/** The most recently used key sets, checked before building a signature (nested objects interleave). */
const recent: { keys: readonly string[]; copier: Copier }[] = [];

function compile(keys: readonly string[]): Copier {
  // Keys enter the source only as JSON string literals, which are valid JavaScript literals.
  const members = [...keys].sort().map((key) => `${JSON.stringify(key)}: v(o[${JSON.stringify(key)}])`);
  return new Function('o', 'v', `return { ${members.join(', ')} };`) as Copier;
}

function copierFor(keys: readonly string[]): Copier {
  for (const entry of recent) {
    if (entry.keys.length === keys.length && entry.keys.every((k, i) => k === keys[i])) return entry.copier;
  }
  const signature = keys.join('\u0000');
  let copier = copiers.get(signature);
  if (!copier) {
    if (copiers.size >= MAX_COPIERS) copiers.clear();
    copiers.set(signature, (copier = compile(keys)));
  }
  recent.unshift({ keys, copier });
  if (recent.length > 4) recent.pop();
  return copier;
}

function sortedValue(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const sorted = sortedValue(item);
      if (sorted !== item) (copy ??= value.slice())[i] = sorted;
    }
    return copy ?? value;
  }
  // Dates and other values with toJSON are written by JSON.stringify as they say.
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return value;
  return copierFor(Object.keys(value))(value as Record<string, unknown>, sortedValue);
}

/** The keyed hash of a payload: HMAC-SHA-256 under the addressing key, the raw 32 bytes. */
export function payloadHash(addressingKey: Buffer, payload: Uint8Array): Buffer {
  return createHmac('sha256', addressingKey).update(payload).digest();
}

/** A pack body's index: the count, each payload's byte length and each slot's record ID. */
export function packHeader(entries: readonly { recordId: string; length: number }[]): Buffer {
  let idBytes = 0;
  for (const e of entries) {
    const bytes = Buffer.byteLength(e.recordId);
    if (bytes > 255) throw new RangeError(`A record ID is too long for a pack: ${e.recordId.slice(0, 40)}…`);
    idBytes += 1 + bytes;
  }
  const head = Buffer.allocUnsafe(4 + 4 * entries.length + idBytes);
  head.writeUInt32LE(entries.length, 0);
  let at = 4;
  for (const e of entries) at = head.writeUInt32LE(e.length, at);
  for (const e of entries) {
    const bytes = head.write(e.recordId, at + 1);
    head[at] = bytes;
    at += 1 + bytes;
  }
  return head;
}

/** Seals an already compressed pack body as the pack `packId`. */
export function sealPackBody(sealingKey: Buffer, packId: string, compressed: Uint8Array): Buffer {
  const plain = Buffer.allocUnsafe(1 + compressed.length);
  plain[0] = CODEC_BROTLI;
  plain.set(compressed, 1);
  return seal(sealingKey, plain, packAad(packId));
}

/** A pack opened and decompressed: its payloads by slot. */
export interface OpenedPack {
  readonly packId: string;
  readonly count: number;
  /** The record a slot belongs to. */
  recordId(slot: number): string;
  /** A slot's payload bytes (a view into the pack). */
  payload(slot: number): Buffer;
  /** Every plaintext byte of the pack, for cache accounting. */
  readonly bytes: number;
}

/**
 * Opens a sealed pack. A wrong key, a pack moved under another ID or any changed byte raises an
 * IntegrityError naming the pack.
 */
export function openPack(sealingKey: Buffer, packId: string, sealed: Uint8Array): OpenedPack {
  const what = `pack ${packId}`;
  const plain = open(sealingKey, sealed, packAad(packId), what);
  let body: Buffer;
  try {
    if (plain[0] !== CODEC_BROTLI) throw new Error(`unknown codec ${String(plain[0])}`);
    body = brotliDecompressSync(plain.subarray(1));
  } catch (error) {
    throw new IntegrityError(`${what} does not decompress: ${(error as Error).message}.`, { cause: error });
  }
  return parseBody(what, packId, body);
}

function parseBody(what: string, packId: string, body: Buffer): OpenedPack {
  const fail = (why: string): never => {
    throw new IntegrityError(`${what} is damaged: ${why}.`);
  };
  if (body.length < 4) fail('its index is missing');
  const count = body.readUInt32LE(0);
  if (count > PACK_MAX_PAYLOADS * 64 || 4 + 4 * count > body.length) fail('its index is longer than the pack');
  const offsets = new Uint32Array(count + 1);
  const ids: string[] = new Array<string>(count);
  let at = 4 + 4 * count;
  for (let i = 0; i < count; i++) {
    const length = body[at];
    if (length === undefined || at + 1 + length > body.length) fail('its record IDs run past the pack');
    ids[i] = body.toString('utf8', at + 1, at + 1 + length!);
    at += 1 + length!;
  }
  offsets[0] = at;
  for (let i = 0; i < count; i++) offsets[i + 1] = offsets[i]! + body.readUInt32LE(4 + 4 * i);
  if (offsets[count] !== body.length) fail('its payload lengths do not add up to its size');
  return {
    packId,
    count,
    bytes: body.length,
    recordId: (slot) => ids[slot] ?? fail(`it has no slot ${slot}`),
    payload: (slot) => (slot < count ? body.subarray(offsets[slot], offsets[slot + 1]) : fail(`it has no slot ${slot}`)),
  };
}

/** Accumulates payloads (or references to them) until a pack is full. */
export class PackBuilder<R> {
  readonly entries: { recordId: string; length: number; ref: R }[] = [];
  private bytes = 0;

  /** Whether a payload of `length` bytes still fits (an empty pack takes anything). */
  fits(length: number): boolean {
    return this.entries.length === 0 || (this.entries.length < PACK_MAX_PAYLOADS && this.bytes + length <= PACK_MAX_BYTES);
  }

  /** Adds a payload and returns its slot. */
  add(recordId: string, length: number, ref: R): number {
    this.entries.push({ recordId, length, ref });
    this.bytes += length;
    return this.entries.length - 1;
  }
}

/** A small LRU of opened packs for point reads, bounded by plaintext bytes. */
export class PackCache<K> {
  private readonly packs = new Map<K, OpenedPack>();
  private bytes = 0;

  constructor(private readonly maxBytes = 32 * 1024 * 1024) {}

  get(key: K, load: () => OpenedPack): OpenedPack {
    const hit = this.packs.get(key);
    if (hit) {
      this.packs.delete(key);
      this.packs.set(key, hit);
      return hit;
    }
    const pack = load();
    this.packs.set(key, pack);
    this.bytes += pack.bytes;
    for (const [oldest, old] of this.packs) {
      if (this.bytes <= this.maxBytes || oldest === key) break;
      this.packs.delete(oldest);
      this.bytes -= old.bytes;
    }
    return pack;
  }

  clear(): void {
    this.packs.clear();
    this.bytes = 0;
  }
}
