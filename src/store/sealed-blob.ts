/**
 * What every blob store adapter shares about a stored body, so that a blob is the same bytes under
 * the same relative name in any of them (a vault's blobs copy as they are between a folder and a
 * bucket): the address format, the `<aa>/<bb>/<address>` layout, and how a stored body is opened.
 * The sealing itself is `src/crypto/stream.ts`; adapters only move its bytes.
 */
import { IntegrityError } from '../crypto/errors.ts';
import type { Keyring } from '../crypto/keys.ts';
import { DEFAULT_CHUNK_BYTES, openSealedBlob } from '../crypto/stream.ts';

/** A content address: the HMAC-SHA-256 of the body under the vault's addressing key, in hex. */
export const BLOB_ADDRESS = /^[0-9a-f]{64}$/;
// "OVB1", the 7-byte nonce prefix, then the chunk size as a u32 (src/crypto/stream.ts).
const HEADER_BYTES = 4 + 7 + 4;

/** A blob's name relative to the store's root: two levels of fan-out keep folders small. */
export function blobName(address: string): string {
  return `${address.slice(0, 2)}/${address.slice(2, 4)}/${address}`;
}

/** The address itself, or an IntegrityError: addresses come from the catalog and must never reach outside the store. */
export function checkBlobAddress(address: string): string {
  if (!BLOB_ADDRESS.test(address)) throw new IntegrityError(`${JSON.stringify(address.slice(0, 80))} is not a blob address (64 lowercase hex digits).`);
  return address;
}

/**
 * Opens a stored body of `sealedBytes` streamed from `source`, yielding its plaintext chunk by
 * chunk, each authenticated, the whole re-hashed against `address`. `where` (a file path, an
 * object URL) is added to any damage report.
 *
 * Every store seals in DEFAULT_CHUNK_BYTES chunks. The chunk size in the header is not itself
 * authenticated (a wrong one only misaligns chunks, which then fail), but a single-chunk body
 * would read fine with any value, and a huge one would make the reader buffer that much: it is
 * checked before anything else is read.
 */
export async function* openStoredBlob(keyring: Keyring, address: string, sealedBytes: number, source: AsyncIterable<Uint8Array>, where: string): AsyncGenerator<Buffer> {
  try {
    yield* openSealedBlob(keyring.sealing, keyring.addressing, address, sealedBytes, checkedHeader(source, address));
  } catch (error) {
    if (error instanceof IntegrityError) throw new IntegrityError(`${error.message} Blob ${address}, ${where}.`, { cause: error });
    throw error;
  }
}

async function* checkedHeader(source: AsyncIterable<Uint8Array>, address: string): AsyncGenerator<Uint8Array> {
  let head: Buffer | undefined = Buffer.alloc(0);
  for await (const piece of source) {
    if (!head) {
      yield piece;
      continue;
    }
    head = head.length ? Buffer.concat([head, piece]) : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    if (head.length < HEADER_BYTES) continue;
    const chunkBytes = head.readUInt32BE(HEADER_BYTES - 4);
    if (chunkBytes !== DEFAULT_CHUNK_BYTES) {
      throw new IntegrityError(`blob ${address} is damaged: its header declares ${chunkBytes}-byte chunks, and orgvault writes ${DEFAULT_CHUNK_BYTES}.`);
    }
    yield head;
    head = undefined;
  }
  // Too short for a header: openSealedBlob reports it.
  if (head?.length) yield head;
}
