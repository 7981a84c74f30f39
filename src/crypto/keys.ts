/**
 * Vault key management, as restic does it: one random data key per vault encrypts everything; it
 * is stored only wrapped (sealed) by key-encryption keys derived from a passphrase (scrypt) or a
 * key file. Several wrappings may exist; rotating a passphrase re-wraps the data key and never
 * re-encrypts data. Purpose-specific keys are derived from the data key with HKDF, so the sealing
 * key and the content-address key are independent.
 */
import { hkdfSync, randomBytes, scrypt as scryptCallback, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { open, seal } from './seal.ts';
import { WrongKeyError } from './errors.ts';
import { IntegrityError } from './errors.ts';

const scrypt = promisify(scryptCallback) as (password: string | Buffer, salt: Buffer, keylen: number, options: { N: number; r: number; p: number; maxmem: number }) => Promise<Buffer>;

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/** Interactive-strength scrypt (about 100 ms and 32 MiB here); tests may pass cheaper ones. */
export const DEFAULT_SCRYPT: ScryptParams = { N: 2 ** 15, r: 8, p: 1 };

/** A data key sealed by one key-encryption key, as kept in the vault's key file. */
export interface KeyWrapping {
  id: string;
  kind: 'passphrase' | 'keyfile';
  createdAt: string;
  /** Base64 salt for scrypt (passphrase) or HKDF (key file). */
  salt: string;
  scrypt?: ScryptParams;
  /** Base64 of the sealed data key. */
  wrappedKey: string;
}

/** Keys derived from the vault's data key for each purpose. */
export interface Keyring {
  /** Seals record packs, file bodies and secrets. */
  sealing: Buffer;
  /** Keys the HMAC-SHA-256 content addresses, so addresses reveal nothing outside the vault. */
  addressing: Buffer;
  /** Keys the blind index of search tokens (issue: global search). */
  indexing: Buffer;
}

export function generateDataKey(): Buffer {
  return randomBytes(32);
}

export function deriveKeyring(dataKey: Buffer, vaultId: string): Keyring {
  const derive = (purpose: string): Buffer => Buffer.from(hkdfSync('sha256', dataKey, Buffer.from(vaultId), `orgvault/${purpose}`, 32));
  return { sealing: derive('seal'), addressing: derive('address'), indexing: derive('index') };
}

/** A key file: 32 random bytes, base64, for unattended use instead of a passphrase. */
export function generateKeyFileContent(): string {
  return `${randomBytes(32).toString('base64')}\n`;
}

export type Unlocker = { passphrase: string } | { keyFile: Buffer };

async function keyEncryptionKey(unlocker: Unlocker, wrapping: Pick<KeyWrapping, 'kind' | 'salt' | 'scrypt'>): Promise<Buffer> {
  const salt = Buffer.from(wrapping.salt, 'base64');
  if ('passphrase' in unlocker) {
    const params = wrapping.scrypt ?? DEFAULT_SCRYPT;
    return scrypt(unlocker.passphrase.normalize('NFKC'), salt, 32, { ...params, maxmem: 256 * params.N * params.r });
  }
  const material = Buffer.from(unlocker.keyFile.toString('utf8').trim(), 'base64');
  if (material.length !== 32) throw new WrongKeyError('The key file does not hold a 32-byte base64 key; use the file `orgvault init --key-file` or `orgvault key add --key-file` wrote.');
  return Buffer.from(hkdfSync('sha256', material, salt, 'orgvault/key-file', 32));
}

const wrapAad = (vaultId: string, wrappingId: string): string => `orgvault:wrap:${vaultId}:${wrappingId}`;

/** Wraps the data key for one passphrase or key file. */
export async function wrapDataKey(dataKey: Buffer, vaultId: string, unlocker: Unlocker, scryptParams: ScryptParams = DEFAULT_SCRYPT): Promise<KeyWrapping> {
  const id = randomBytes(8).toString('hex');
  const kind = 'passphrase' in unlocker ? 'passphrase' : 'keyfile';
  const wrapping: Omit<KeyWrapping, 'wrappedKey'> = {
    id,
    kind,
    createdAt: new Date().toISOString(),
    salt: randomBytes(16).toString('base64'),
    ...(kind === 'passphrase' ? { scrypt: scryptParams } : {}),
  };
  const kek = await keyEncryptionKey(unlocker, wrapping);
  return { ...wrapping, wrappedKey: seal(kek, dataKey, wrapAad(vaultId, id)).toString('base64') };
}

/**
 * Finds the wrapping the unlocker opens and returns the data key, checked against the vault's
 * key check value. A wrong passphrase or key file raises WrongKeyError; nothing is written.
 */
export async function unwrapDataKey(wrappings: KeyWrapping[], vaultId: string, unlocker: Unlocker, keyCheck: string): Promise<{ dataKey: Buffer; wrapping: KeyWrapping }> {
  const kind = 'passphrase' in unlocker ? 'passphrase' : 'keyfile';
  for (const wrapping of wrappings.filter((w) => w.kind === kind)) {
    const kek = await keyEncryptionKey(unlocker, wrapping);
    let dataKey: Buffer;
    try {
      dataKey = open(kek, Buffer.from(wrapping.wrappedKey, 'base64'), wrapAad(vaultId, wrapping.id), 'key wrapping');
    } catch (error) {
      if (error instanceof IntegrityError) continue;
      throw error;
    }
    if (!timingSafeEqual(Buffer.from(keyCheckValue(dataKey, vaultId)), Buffer.from(keyCheck))) {
      throw new IntegrityError('The vault key file was altered: the unwrapped key does not match its check value.');
    }
    return { dataKey, wrapping };
  }
  const what = kind === 'passphrase' ? 'passphrase' : 'key file';
  throw new WrongKeyError(`The ${what} does not unlock this vault. Check ORGVAULT_PASSPHRASE or --key-file; nothing was changed.`);
}

/** A value that identifies the data key without revealing it, to detect a wrong key early. */
export function keyCheckValue(dataKey: Buffer, vaultId: string): string {
  return Buffer.from(hkdfSync('sha256', dataKey, Buffer.from(vaultId), 'orgvault/key-check', 16)).toString('hex');
}

/**
 * The data key in a form an admin can print and keep offline for disaster recovery. It unlocks
 * the vault on its own: treat it like the vault itself.
 */
export function exportDataKey(dataKey: Buffer, vaultId: string): string {
  return `orgvault-key:v1:${vaultId}:${dataKey.toString('base64url')}:${keyCheckValue(dataKey, vaultId).slice(0, 8)}`;
}

/** Parses an exported data key, checking its vault and checksum. */
export function importDataKey(text: string, vaultId: string): Buffer {
  const m = /^orgvault-key:v1:([^:]+):([A-Za-z0-9_-]+):([0-9a-f]{8})$/.exec(text.trim());
  if (!m) throw new WrongKeyError('That is not an exported orgvault key (expected orgvault-key:v1:…).');
  if (m[1] !== vaultId) throw new WrongKeyError(`That exported key belongs to vault ${m[1]}, not to this vault (${vaultId}).`);
  const dataKey = Buffer.from(m[2]!, 'base64url');
  if (dataKey.length !== 32 || keyCheckValue(dataKey, vaultId).slice(0, 8) !== m[3]) {
    throw new WrongKeyError('The exported key is damaged: its checksum does not match.');
  }
  return dataKey;
}
