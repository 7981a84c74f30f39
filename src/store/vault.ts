/**
 * The vault directory: `vault.json` (the vault's identity and its data key, wrapped once per
 * passphrase or key file), `catalog.db` (the SQLite catalog) and `blobs/` (sealed file bodies),
 * or, for a vault whose catalog is in PostgreSQL or blobs in S3, `storage.json` saying where
 * (location.ts).
 *
 * Nothing here ever writes the data key or a secret in clear. `vault.json` carries a MAC under a
 * key derived from the data key, so a wrapping added, removed or swapped by hand is detected on
 * open, and the key check value rejects a wrapping of some other key before anything is read.
 * Key operations change `vault.json` only, with one atomic write: data is never re-encrypted.
 */
import { createHmac, hkdfSync, randomUUID, timingSafeEqual } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { ExitCode, OrgvaultError, UsageError } from '../core/errors.ts';
import { IntegrityError, WrongKeyError } from '../crypto/errors.ts';
import {
  DEFAULT_SCRYPT,
  deriveKeyring,
  exportDataKey,
  generateDataKey,
  importDataKey,
  keyCheckValue,
  unwrapDataKey,
  wrapDataKey,
} from '../crypto/keys.ts';
import type { KeyWrapping, Keyring, ScryptParams, Unlocker } from '../crypto/keys.ts';
import { isErrno, writeFileAtomic } from './fs/durable.ts';
import { STORAGE_FILE, locationOverrides, openBlobsAt, openStoreAt, resolveLocation, writeStorageFile } from './location.ts';
import type { LocationOverrides, VaultLocation } from './location.ts';
import type { BlobStore, VaultStore } from './port.ts';

export const VAULT_FILE = 'vault.json';
export const CATALOG_FILE = 'catalog.db';
export const BLOBS_DIR = 'blobs';
/** Where the CLI looks when neither --vault nor ORGVAULT_HOME says otherwise. */
export const DEFAULT_VAULT_DIR = '.orgvault';

const FORMAT = 'orgvault-vault';
const FORMAT_VERSION = 1;

/** What opens a vault: a passphrase, a key file's content, or a key exported by `key export`. */
export type VaultUnlocker = Unlocker | { exportedKey: string };

/** The content of `vault.json`. */
export interface VaultFile {
  format: typeof FORMAT;
  version: typeof FORMAT_VERSION;
  vaultId: string;
  createdAt: string;
  /** keyCheckValue(dataKey): tells a wrapping of another key from the right one. */
  keyCheck: string;
  wrappings: KeyWrapping[];
  /** HMAC-SHA-256 of the fields above under a key derived from the data key. */
  mac: string;
}

/** A key wrapping as `key list` shows it: never the wrapped key or its salt. */
export interface KeyWrappingInfo {
  id: string;
  kind: KeyWrapping['kind'];
  createdAt: string;
  scrypt?: ScryptParams;
}

export interface Vault {
  dir: string;
  vaultId: string;
  /** Where the catalog and blobs are (see location.ts). */
  location: VaultLocation;
  keyring: Keyring;
  store: VaultStore;
  blobs: BlobStore;
  close(): Promise<void>;
}

export interface KeyOptions {
  /** scrypt cost for new passphrase wrappings (default DEFAULT_SCRYPT; tests pass cheaper ones). */
  scrypt?: ScryptParams;
  /** Who is acting, for the audit log (default user@host). */
  actor?: string;
  /** Where the catalog and blobs are, when not in the directory (see location.ts). */
  location?: LocationOverrides;
}

/** There is no vault in the directory. */
export class VaultNotFoundError extends OrgvaultError {
  constructor(readonly dir: string) {
    super('VAULT_NOT_FOUND', `No vault at ${dir} (no ${VAULT_FILE}). Create one with \`orgvault init --vault ${dir}\`, or point --vault or ORGVAULT_HOME at an existing vault.`, {
      exitCode: ExitCode.Usage,
    });
  }
}

/**
 * Creates a vault in `dir` (absent or empty) with a new random data key wrapped for `unlocker`.
 * Refuses a directory that holds anything, above all an existing vault.
 */
export async function initVault(dir: string, unlocker: Unlocker, options: KeyOptions = {}): Promise<{ vaultId: string; wrapping: KeyWrappingInfo }> {
  checkNewKey(unlocker);
  const existed = await assertEmptyOrAbsent(dir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const vaultId = randomUUID();
  const dataKey = generateDataKey();
  let done = false;
  try {
    const wrapping = await wrapDataKey(dataKey, vaultId, unlocker, options.scrypt ?? DEFAULT_SCRYPT);
    const keyring = deriveKeyring(dataKey, vaultId);
    const location = await resolveLocation(dir, keyring, options.location ?? locationOverrides({}));
    if (location.blobs.engine === 'fs') await mkdir(location.blobs.dir, { mode: 0o700 });
    if (location.store.engine !== 'sqlite' || location.blobs.engine !== 'fs') {
      await writeStorageFile(dir, keyring, location);
      await assertStoreEmpty(location, keyring);
    }
    await audit(dir, keyring, options, 'vault.init', vaultId, { wrapping: wrapping.id, kind: wrapping.kind });
    // vault.json last: a directory is a vault only once everything else is in place.
    if (await exists(join(dir, VAULT_FILE))) throw new UsageError(`Another process created a vault at ${dir} at the same time; nothing was overwritten.`);
    const file = withMac(dataKey, { format: FORMAT, version: FORMAT_VERSION, vaultId, createdAt: new Date().toISOString(), keyCheck: keyCheckValue(dataKey, vaultId), wrappings: [wrapping] });
    await writeFileAtomic(join(dir, VAULT_FILE), serialize(file));
    done = true;
    return { vaultId, wrapping: info(wrapping) };
  } finally {
    dataKey.fill(0);
    // A failed init leaves the directory as it found it, so that it can simply be run again.
    if (!done) await undoInit(dir, existed);
  }
}

async function undoInit(dir: string, existed: boolean): Promise<void> {
  const ours = existed ? [BLOBS_DIR, STORAGE_FILE, CATALOG_FILE, `${CATALOG_FILE}-wal`, `${CATALOG_FILE}-shm`, `${CATALOG_FILE}-journal`].map((name) => join(dir, name)) : [dir];
  for (const path of ours) await rm(path, { recursive: true, force: true }).catch(() => undefined);
}

/**
 * Unlocks and opens a vault: its catalog and blob store (where `options.location`, else the
 * environment, else storage.json says; see location.ts), under the vault's keyring. A wrong
 * passphrase, key file or exported key raises WrongKeyError before anything is opened or written.
 */
export async function openVault(dir: string, unlocker: VaultUnlocker, options: { readonly?: boolean; location?: LocationOverrides } = {}): Promise<Vault> {
  const { file } = await readVaultFile(dir);
  const { dataKey } = await unlock(file, unlocker);
  const keyring = deriveKeyring(dataKey, file.vaultId);
  dataKey.fill(0);
  const location = await resolveLocation(dir, keyring, options.location ?? locationOverrides({}));
  const store = await openStoreAt(location.store, keyring, { readonly: options.readonly });
  let blobs: BlobStore;
  try {
    blobs = await openBlobsAt(location.blobs, keyring);
  } catch (error) {
    await store.close();
    throw error;
  }
  return { dir, vaultId: file.vaultId, location, keyring, store, blobs, close: () => store.close() };
}

/** A new vault's catalog must not already hold another vault's data (a shared schema or bucket reused by mistake). */
async function assertStoreEmpty(location: VaultLocation, keyring: Keyring): Promise<void> {
  const store = await openStoreAt(location.store, keyring);
  try {
    if ((await store.listOrgs()).length > 0 || (await store.listAudit({ limit: 1 })).length > 0) {
      throw new UsageError('The store given for the new vault already holds a vault (it has orgs or an audit log); nothing was changed. Give an empty PostgreSQL schema (?schema=NAME in the URL).');
    }
  } finally {
    await store.close();
  }
}

/** The vault's key wrappings. Needs no key: they reveal nothing without one. */
export async function listKeyWrappings(dir: string): Promise<{ vaultId: string; wrappings: KeyWrappingInfo[] }> {
  const { file } = await readVaultFile(dir);
  return { vaultId: file.vaultId, wrappings: file.wrappings.map(info) };
}

/** Wraps the data key for one more passphrase or key file, unlocking with `current`. */
export async function addKeyWrapping(dir: string, current: VaultUnlocker, added: Unlocker, options: KeyOptions = {}): Promise<KeyWrappingInfo> {
  checkNewKey(added);
  return changeWrappings(dir, current, options, async ({ file, dataKey }) => {
    const wrapping = await wrapDataKey(dataKey, file.vaultId, added, options.scrypt ?? DEFAULT_SCRYPT);
    return { wrappings: [...file.wrappings, wrapping], action: 'key.add', details: { wrapping: wrapping.id, kind: wrapping.kind }, result: info(wrapping) };
  });
}

/**
 * Replaces the passphrase or key file that `current` is with `next`: the data key is wrapped for
 * `next` and the wrapping `current` opened is removed, in one write. Data is not re-encrypted.
 */
export async function rotateKey(dir: string, current: Unlocker, next: Unlocker, options: KeyOptions = {}): Promise<{ added: KeyWrappingInfo; removed: string }> {
  checkNewKey(next);
  return changeWrappings(dir, current, options, async ({ file, dataKey, usedWrapping }) => {
    const added = await wrapDataKey(dataKey, file.vaultId, next, options.scrypt ?? DEFAULT_SCRYPT);
    const removed = usedWrapping ?? '';
    return {
      wrappings: [...file.wrappings.filter((w) => w.id !== removed), added],
      action: 'key.rotate',
      details: { added: added.id, removed, kind: added.kind },
      result: { added: info(added), removed },
    };
  });
}

/** Removes one wrapping, unlocking with `current`. The last wrapping cannot be removed. */
export async function removeKeyWrapping(dir: string, current: VaultUnlocker, wrappingId: string): Promise<KeyWrappingInfo> {
  return changeWrappings(dir, current, {}, ({ file }) => {
    const removed = file.wrappings.find((w) => w.id === wrappingId);
    if (!removed) {
      throw new UsageError(`The vault has no key ${JSON.stringify(wrappingId)}; its keys are ${file.wrappings.map((w) => w.id).join(', ')} (see \`orgvault key list\`).`);
    }
    if (file.wrappings.length === 1) {
      throw new UsageError('That is the vault\'s only key: removing it would lock everyone out. Add another with `orgvault key add` first, or use `orgvault key rotate`.');
    }
    return Promise.resolve({
      wrappings: file.wrappings.filter((w) => w.id !== wrappingId),
      action: 'key.remove',
      details: { wrapping: wrappingId, kind: removed.kind },
      result: info(removed),
    });
  });
}

/**
 * The data key as a recovery key (`orgvault-key:v1:…`) that opens the vault on its own, through
 * `openVault(dir, { exportedKey })`. The export is recorded in the audit log.
 */
export async function exportVaultKey(dir: string, unlocker: VaultUnlocker, options: Pick<KeyOptions, 'actor' | 'location'> = {}): Promise<string> {
  const { file } = await readVaultFile(dir);
  const { dataKey } = await unlock(file, unlocker);
  try {
    await audit(dir, deriveKeyring(dataKey, file.vaultId), options, 'key.export', file.vaultId, {});
    return exportDataKey(dataKey, file.vaultId);
  } finally {
    dataKey.fill(0);
  }
}

/** Reads and checks the shape of `vault.json`; does not unlock it. */
export async function readVaultFile(dir: string): Promise<{ file: VaultFile; raw: Buffer }> {
  let raw: Buffer;
  try {
    raw = await readFile(join(dir, VAULT_FILE));
  } catch (error) {
    if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) throw new VaultNotFoundError(dir);
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch (error) {
    throw new IntegrityError(`${join(dir, VAULT_FILE)} is not valid JSON: it was damaged or edited by hand. Restore it from a copy of the vault.`, { cause: error });
  }
  return { file: checkShape(parsed, join(dir, VAULT_FILE)), raw };
}

async function unlock(file: VaultFile, unlocker: VaultUnlocker): Promise<{ dataKey: Buffer; usedWrapping: string | null }> {
  let dataKey: Buffer;
  let usedWrapping: string | null = null;
  if ('exportedKey' in unlocker) {
    dataKey = importDataKey(unlocker.exportedKey, file.vaultId);
    if (!safeEqual(keyCheckValue(dataKey, file.vaultId), file.keyCheck)) {
      throw new WrongKeyError('The exported key does not unlock this vault: it does not match the vault\'s key check value. Nothing was changed.');
    }
  } else {
    const opened = await unwrapDataKey(file.wrappings, file.vaultId, unlocker, file.keyCheck);
    dataKey = opened.dataKey;
    usedWrapping = opened.wrapping.id;
  }
  if (!safeEqual(vaultFileMac(dataKey, file), file.mac)) {
    dataKey.fill(0);
    throw new IntegrityError(`${VAULT_FILE} was altered outside orgvault: its MAC does not match (a key wrapping or field was added, removed or changed by hand). Restore it from a copy of the vault.`);
  }
  return { dataKey, usedWrapping };
}

type WrappingChange<T> = (opened: { file: VaultFile; dataKey: Buffer; usedWrapping: string | null }) => Promise<{
  wrappings: KeyWrapping[];
  action: string;
  details: Record<string, unknown>;
  result: T;
}>;

async function changeWrappings<T>(dir: string, current: VaultUnlocker, options: KeyOptions, change: WrappingChange<T>): Promise<T> {
  const { file, raw } = await readVaultFile(dir);
  const { dataKey, usedWrapping } = await unlock(file, current);
  try {
    const { wrappings, action, details, result } = await change({ file, dataKey, usedWrapping });
    const { mac: _old, ...rest } = file;
    const next = withMac(dataKey, { ...rest, wrappings });
    // Key changes are rare and by hand; refusing a concurrent one beats silently losing it.
    const again = await readFile(join(dir, VAULT_FILE));
    if (!again.equals(raw)) throw new OrgvaultError('VAULT_CHANGED', `${VAULT_FILE} changed while this command ran (another key command?); nothing was written. Run it again.`);
    await writeFileAtomic(join(dir, VAULT_FILE), serialize(next));
    await audit(dir, deriveKeyring(dataKey, file.vaultId), options, action, file.vaultId, details);
    return result;
  } finally {
    dataKey.fill(0);
  }
}

async function audit(dir: string, keyring: Keyring, options: Pick<KeyOptions, 'actor' | 'location'>, action: string, target: string, details: Record<string, unknown>): Promise<void> {
  const store = await openStoreAt((await resolveLocation(dir, keyring, options.location ?? locationOverrides({}))).store, keyring);
  try {
    await store.appendAudit({ at: Date.now(), actor: options.actor ?? defaultActor(), action, target, details });
  } finally {
    await store.close();
  }
}

function defaultActor(): string {
  try {
    return `${userInfo().username}@${hostname()}`;
  } catch {
    return `uid ${process.getuid?.() ?? '?'}@${hostname()}`;
  }
}

function checkNewKey(unlocker: Unlocker): void {
  if ('passphrase' in unlocker && unlocker.passphrase.trim() === '') throw new UsageError('The new passphrase is empty; choose a real one (nothing was changed).');
}

function macKey(dataKey: Buffer, vaultId: string): Buffer {
  return Buffer.from(hkdfSync('sha256', dataKey, Buffer.from(vaultId), 'orgvault/vault-file', 32));
}

function vaultFileMac(dataKey: Buffer, file: Omit<VaultFile, 'mac'>): string {
  // A fixed array, not the object: the MAC must not depend on key order or whitespace.
  const canonical = JSON.stringify([
    file.format,
    file.version,
    file.vaultId,
    file.createdAt,
    file.keyCheck,
    file.wrappings.map((w) => [w.id, w.kind, w.createdAt, w.salt, w.scrypt ? [w.scrypt.N, w.scrypt.r, w.scrypt.p] : null, w.wrappedKey]),
  ]);
  return createHmac('sha256', macKey(dataKey, file.vaultId)).update(canonical).digest('hex');
}

function withMac(dataKey: Buffer, file: Omit<VaultFile, 'mac'>): VaultFile {
  return { ...file, mac: vaultFileMac(dataKey, file) };
}

function serialize(file: VaultFile): string {
  return `${JSON.stringify(file, null, 2)}\n`;
}

function info(wrapping: KeyWrapping): KeyWrappingInfo {
  return { id: wrapping.id, kind: wrapping.kind, createdAt: wrapping.createdAt, ...(wrapping.scrypt ? { scrypt: wrapping.scrypt } : {}) };
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function checkShape(value: unknown, path: string): VaultFile {
  const bad = (why: string): never => {
    throw new IntegrityError(`${path} is not a valid vault file: ${why}.`);
  };
  if (!isObject(value)) return bad('it is not a JSON object');
  if (value.format !== FORMAT) return bad(`"format" is ${JSON.stringify(value.format)}, not "${FORMAT}"`);
  if (typeof value.version !== 'number') return bad('"version" is missing');
  if (value.version !== FORMAT_VERSION) {
    throw new OrgvaultError('VAULT_VERSION', `${path} has format version ${value.version}; this orgvault reads version ${FORMAT_VERSION}. Upgrade orgvault to open this vault.`);
  }
  for (const field of ['vaultId', 'createdAt', 'keyCheck', 'mac'] as const) {
    if (typeof value[field] !== 'string' || value[field] === '') bad(`"${field}" is missing`);
  }
  if (!Array.isArray(value.wrappings) || value.wrappings.length === 0) return bad('it has no key wrappings');
  for (const w of value.wrappings as unknown[]) {
    if (!isObject(w) || typeof w.id !== 'string' || (w.kind !== 'passphrase' && w.kind !== 'keyfile') || typeof w.salt !== 'string' || typeof w.wrappedKey !== 'string' || typeof w.createdAt !== 'string') {
      bad('a key wrapping is malformed');
    } else if (w.kind === 'passphrase' && !validScrypt(w.scrypt)) {
      // Bounded so a hand-edited file cannot make unlocking allocate gigabytes.
      bad(`key ${w.id} has scrypt parameters out of range`);
    }
  }
  return value as unknown as VaultFile;
}

function validScrypt(params: unknown): boolean {
  if (params === undefined) return true;
  if (!isObject(params)) return false;
  const { N, r, p } = params;
  return (
    typeof N === 'number' && typeof r === 'number' && typeof p === 'number' &&
    Number.isInteger(Math.log2(N)) && N >= 2 && N <= 2 ** 22 && Number.isInteger(r) && r >= 1 && r <= 32 && Number.isInteger(p) && p >= 1 && p <= 16 && 128 * N * r <= 2 ** 30
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Returns whether the (empty) directory already existed. */
async function assertEmptyOrAbsent(dir: string): Promise<boolean> {
  let entries: string[];
  try {
    if (!(await stat(dir)).isDirectory()) throw new UsageError(`${dir} exists and is not a directory; choose another --vault.`);
    entries = await readdir(dir);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return false;
    throw error;
  }
  if (entries.includes(VAULT_FILE)) {
    throw new UsageError(`There is already a vault at ${dir}; nothing was changed. Open it with the other commands, or choose another --vault to create a new one.`);
  }
  if (entries.length > 0) {
    throw new UsageError(`${dir} is not empty and is not a vault; nothing was changed. Choose an empty or new directory with --vault (or ORGVAULT_HOME).`);
  }
  return true;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return false;
    throw error;
  }
}
