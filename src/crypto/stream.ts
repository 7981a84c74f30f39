/**
 * Streaming encryption of file bodies, which may be far larger than memory. The body is cut into
 * 1 MiB chunks, each sealed with AES-256-GCM under a nonce made of a random prefix, the chunk's
 * index and a last-chunk flag (the STREAM construction), so chunks cannot be reordered, dropped or
 * the body truncated without detection. The content address is known only once the whole body has
 * been read, so a final empty sealed trailer binds the address and the chunk count.
 *
 * Layout: "OVB1" | 7-byte nonce prefix | u32 chunk size | chunks (ciphertext + 16-byte tag)… | 16-byte trailer tag
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { addressHasher } from './address.ts';
import { IntegrityError } from './errors.ts';

const MAGIC = Buffer.from('OVB1');
const PREFIX_BYTES = 7;
const HEADER_BYTES = MAGIC.length + PREFIX_BYTES + 4;
const TAG_BYTES = 16;
export const DEFAULT_CHUNK_BYTES = 1024 * 1024;

function nonce(prefix: Buffer, index: number, flag: number): Buffer {
  const n = Buffer.alloc(12);
  prefix.copy(n, 0);
  n.writeUInt32BE(index, PREFIX_BYTES);
  n[11] = flag;
  return n;
}

function sealChunk(key: Buffer, prefix: Buffer, index: number, last: boolean, plaintext: Buffer): Buffer {
  const cipher = createCipheriv('aes-256-gcm', key, nonce(prefix, index, last ? 1 : 0));
  return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

const trailerAad = (address: string, chunks: number): Buffer => Buffer.from(`orgvault:blob:${address}:${chunks}`);

function trailer(key: Buffer, prefix: Buffer, address: string, chunks: number): Buffer {
  const cipher = createCipheriv('aes-256-gcm', key, nonce(prefix, 0xffffffff, 2));
  cipher.setAAD(trailerAad(address, chunks));
  cipher.final();
  return cipher.getAuthTag();
}

/** The size of the sealed form of a body of `plainBytes`. */
export function sealedSize(plainBytes: number, chunkBytes = DEFAULT_CHUNK_BYTES): number {
  const chunks = Math.max(1, Math.ceil(plainBytes / chunkBytes));
  return HEADER_BYTES + plainBytes + chunks * TAG_BYTES + TAG_BYTES;
}

/** Seals a stream. After iteration ends, `address` and `plainBytes` describe the body. */
export class BlobSealer {
  address = '';
  plainBytes = 0;

  constructor(
    private readonly sealingKey: Buffer,
    private readonly addressingKey: Buffer,
    private readonly chunkBytes = DEFAULT_CHUNK_BYTES,
  ) {}

  async *seal(source: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
    const prefix = randomBytes(PREFIX_BYTES);
    const header = Buffer.alloc(HEADER_BYTES);
    MAGIC.copy(header, 0);
    prefix.copy(header, MAGIC.length);
    header.writeUInt32BE(this.chunkBytes, MAGIC.length + PREFIX_BYTES);
    yield header;
    const hasher = addressHasher(this.addressingKey);
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let index = 0;
    for await (const piece of source) {
      const chunk = Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
      hasher.update(chunk);
      this.plainBytes += chunk.length;
      pending.push(chunk);
      pendingBytes += chunk.length;
      // A full chunk is sealed only once more data follows it: the last chunk carries a flag.
      while (pendingBytes > this.chunkBytes) {
        const all = Buffer.concat(pending);
        yield sealChunk(this.sealingKey, prefix, index++, false, all.subarray(0, this.chunkBytes));
        pending = [all.subarray(this.chunkBytes)];
        pendingBytes = all.length - this.chunkBytes;
      }
    }
    yield sealChunk(this.sealingKey, prefix, index++, true, Buffer.concat(pending));
    this.address = hasher.digest();
    yield trailer(this.sealingKey, prefix, this.address, index);
  }
}

/**
 * Opens a sealed body of known total size, yielding plaintext chunk by chunk. Every chunk is
 * authenticated before it is yielded; the content is re-hashed and must equal `address`.
 */
export async function* openSealedBlob(
  sealingKey: Buffer,
  addressingKey: Buffer,
  address: string,
  sealedBytes: number,
  source: AsyncIterable<Uint8Array>,
): AsyncGenerator<Buffer> {
  const what = `blob ${address.slice(0, 16)}…`;
  let buffer = Buffer.alloc(0);
  let headerRead = false;
  let prefix = Buffer.alloc(0);
  let chunkBytes = 0;
  let chunks = 0;
  let index = 0;
  const hasher = addressHasher(addressingKey);
  const fail = (why: string, cause?: unknown): never => {
    throw new IntegrityError(`${what} is damaged: ${why}.`, { cause });
  };
  for await (const piece of source) {
    buffer = buffer.length ? Buffer.concat([buffer, piece]) : Buffer.from(piece);
    if (!headerRead) {
      if (buffer.length < HEADER_BYTES) continue;
      if (!buffer.subarray(0, MAGIC.length).equals(MAGIC)) fail('it does not start with the blob format marker');
      prefix = Buffer.from(buffer.subarray(MAGIC.length, MAGIC.length + PREFIX_BYTES));
      chunkBytes = buffer.readUInt32BE(MAGIC.length + PREFIX_BYTES);
      const body = sealedBytes - HEADER_BYTES - TAG_BYTES;
      chunks = Math.max(1, Math.ceil(body / (chunkBytes + TAG_BYTES)));
      buffer = buffer.subarray(HEADER_BYTES);
      headerRead = true;
    }
    while (index < chunks - 1 && buffer.length >= chunkBytes + TAG_BYTES) {
      yield openChunk(buffer.subarray(0, chunkBytes + TAG_BYTES), false);
      buffer = buffer.subarray(chunkBytes + TAG_BYTES);
    }
  }
  if (!headerRead || index !== chunks - 1 || buffer.length < 2 * TAG_BYTES) fail('it is shorter than its recorded size');
  yield openChunk(buffer.subarray(0, buffer.length - TAG_BYTES), true);
  const tag = buffer.subarray(buffer.length - TAG_BYTES);
  if (hasher.digest() !== address) fail('its content does not hash to its address');
  const decipher = createDecipheriv('aes-256-gcm', sealingKey, nonce(prefix, 0xffffffff, 2));
  decipher.setAAD(trailerAad(address, chunks));
  decipher.setAuthTag(tag);
  try {
    decipher.final();
  } catch (error) {
    fail('its trailer does not bind it to this address', error);
  }

  function openChunk(sealed: Buffer, last: boolean): Buffer {
    const decipher = createDecipheriv('aes-256-gcm', sealingKey, nonce(prefix, index, last ? 1 : 0));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES)), decipher.final()]);
    } catch (error) {
      return fail(`chunk ${index} failed authentication`, error);
    }
    index++;
    hasher.update(plain);
    return plain;
  }
}
