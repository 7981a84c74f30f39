/**
 * AES-256-GCM sealing of small payloads (record packs, secrets, wrapped keys). A random 96-bit
 * nonce per message; the caller's associated data (an address, an org and field name) is bound to
 * the ciphertext, so a sealed value moved to another place fails to open.
 *
 * Format: 1 byte version (1) | 12 bytes nonce | ciphertext | 16 bytes tag.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { IntegrityError } from './errors.ts';

const VERSION = 1;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
export const SEAL_OVERHEAD = 1 + NONCE_BYTES + TAG_BYTES;

/** Encrypts and authenticates `plaintext` under a 32-byte key, binding `associatedData`. */
export function seal(key: Buffer, plaintext: Uint8Array, associatedData: string | Uint8Array): Buffer {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(typeof associatedData === 'string' ? Buffer.from(associatedData) : associatedData);
  const body = cipher.update(plaintext);
  const final = cipher.final();
  const out = Buffer.allocUnsafe(1 + NONCE_BYTES + body.length + final.length + TAG_BYTES);
  out[0] = VERSION;
  nonce.copy(out, 1);
  body.copy(out, 1 + NONCE_BYTES);
  final.copy(out, 1 + NONCE_BYTES + body.length);
  cipher.getAuthTag().copy(out, out.length - TAG_BYTES);
  return out;
}

/**
 * Opens a sealed value. A wrong key, other associated data or any changed byte raises an
 * IntegrityError naming `what`, never returns altered plaintext.
 */
export function open(key: Buffer, sealed: Uint8Array, associatedData: string | Uint8Array, what: string): Buffer {
  if (sealed.length < SEAL_OVERHEAD || sealed[0] !== VERSION) {
    throw new IntegrityError(`${what} is not a sealed value of a known format (version byte ${String(sealed[0])}).`);
  }
  const buf = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  const decipher = createDecipheriv('aes-256-gcm', key, buf.subarray(1, 1 + NONCE_BYTES));
  decipher.setAAD(typeof associatedData === 'string' ? Buffer.from(associatedData) : associatedData);
  decipher.setAuthTag(buf.subarray(buf.length - TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(buf.subarray(1 + NONCE_BYTES, buf.length - TAG_BYTES)), decipher.final()]);
  } catch (error) {
    throw new IntegrityError(`${what} failed authentication: it was altered, or it belongs to another vault or place.`, { cause: error });
  }
}
