/**
 * Where a vault's catalog and blobs live. By default both are in the vault directory: the SQLite
 * catalog `catalog.db` and the file-system blob store `blobs/`. A vault may instead keep its
 * catalog in PostgreSQL and its blobs in an S3-compatible bucket; the directory then holds only
 * `vault.json` (identity and wrapped keys) and `storage.json` (where the rest is), so a worker
 * machine needs a copy of those two small files and the key.
 *
 * Precedence, for each of catalog and blobs: the command line (`--store`, `--blobs`), then the
 * environment (ORGVAULT_STORE, ORGVAULT_BLOBS), then `storage.json`, then the directory.
 *
 * `storage.json` never holds a secret in clear: a password given in the store URL is sealed with
 * the vault's key (it can only be read once the vault is unlocked, which it must be anyway), and
 * S3 credentials are never accepted in a URL: they come from the AWS SDK's usual chain
 * (environment, shared config and credentials files, instance or container roles).
 */
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { UsageError } from '../core/errors.ts';
import { redactUrl } from '../core/redact-url.ts';
import type { Keyring } from '../crypto/keys.ts';
import { IntegrityError } from '../crypto/errors.ts';
import { open, seal } from '../crypto/seal.ts';
import { openFsBlobStore } from './fs/blob-store.ts';
import { isErrno, writeFileAtomic } from './fs/durable.ts';
import type { BlobStore, VaultStore } from './port.ts';
import { openSqliteVaultStore } from './sqlite/index.ts';

export const STORAGE_FILE = 'storage.json';
const CATALOG_FILE = 'catalog.db';
const BLOBS_DIR = 'blobs';
const FORMAT = 'orgvault-storage';
const PASSWORD_AAD = 'orgvault:storage:v1:store-password';

export type StoreLocation = { engine: 'sqlite'; path: string } | { engine: 'postgres'; url: string };
export type BlobLocation = { engine: 'fs'; dir: string } | { engine: 's3'; url: string };

export interface VaultLocation {
  store: StoreLocation;
  blobs: BlobLocation;
}

/** What the command line or environment says, before it is checked: URLs, or `sqlite` / `fs` for the directory. */
export interface LocationOverrides {
  store?: string;
  blobs?: string;
}

interface StorageFile {
  format: typeof FORMAT;
  version: 1;
  /** The store URL without its password. */
  store?: string;
  blobs?: string;
  /** The store URL's password, sealed with the vault's key (base64). */
  sealedStorePassword?: string;
}

/** The overrides of the environment (ORGVAULT_STORE, ORGVAULT_BLOBS) under those of the command line. */
export function locationOverrides(flags: LocationOverrides, env: NodeJS.ProcessEnv = process.env): LocationOverrides {
  return { store: flags.store ?? (env.ORGVAULT_STORE || undefined), blobs: flags.blobs ?? (env.ORGVAULT_BLOBS || undefined) };
}

/** Where the vault in `dir` keeps its catalog and blobs, unsealing a stored password with `keyring`. */
export async function resolveLocation(dir: string, keyring: Keyring, overrides: LocationOverrides = {}): Promise<VaultLocation> {
  const file = await readStorageFile(dir);
  const storedStore = file?.store ? withPassword(file.store, file.sealedStorePassword, keyring) : undefined;
  return {
    store: storeLocation(dir, overrides.store ?? storedStore),
    blobs: blobLocation(dir, overrides.blobs ?? file?.blobs),
  };
}

/** Checks a store value: a postgres:// URL, or `sqlite` for the directory's catalog. */
export function storeLocation(dir: string, value: string | undefined): StoreLocation {
  if (value === undefined || value === 'sqlite') return { engine: 'sqlite', path: join(dir, CATALOG_FILE) };
  if (/^postgres(ql)?:\/\//.test(value)) return { engine: 'postgres', url: value };
  throw new UsageError(`The store ${JSON.stringify(redactUrl(value))} is not one orgvault knows: give postgres://user@host:5432/database?schema=orgvault, or sqlite for the vault directory's own catalog.`);
}

/** Checks a blobs value: an s3:// URL, or `fs` for the directory's blobs/. */
export function blobLocation(dir: string, value: string | undefined): BlobLocation {
  if (value === undefined || value === 'fs') return { engine: 'fs', dir: join(dir, BLOBS_DIR) };
  if (value.startsWith('s3://')) {
    if (/^s3:\/\/[^/@]*@/.test(value)) {
      throw new UsageError('The blobs URL carries credentials; orgvault never takes S3 keys in a URL. Remove them and set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE, or an instance role) instead.');
    }
    return { engine: 's3', url: value };
  }
  throw new UsageError(`The blobs location ${JSON.stringify(value)} is not one orgvault knows: give s3://bucket/prefix (with ?endpoint=…&region=… for an S3-compatible service), or fs for the vault directory's own blobs/.`);
}

/** Opens the catalog at `location`. */
export async function openStoreAt(location: StoreLocation, keyring: Keyring, options: { readonly?: boolean } = {}): Promise<VaultStore> {
  if (location.engine === 'sqlite') return openSqliteVaultStore({ path: location.path, keyring, readonly: options.readonly });
  // Loaded on use: pg is not needed by a vault that does not use it.
  const { openPostgresVaultStore } = await import('./postgres/index.ts');
  return openPostgresVaultStore({ url: location.url, keyring, readonly: options.readonly });
}

/** Opens the blob store at `location`. */
export async function openBlobsAt(location: BlobLocation, keyring: Keyring): Promise<BlobStore> {
  if (location.engine === 'fs') return openFsBlobStore({ dir: location.dir, keyring });
  // Loaded on use: the AWS SDK takes a while to load and most vaults do not need it.
  const { openS3BlobStoreAt } = await import('./s3/blob-store.ts');
  return openS3BlobStoreAt(location.url, keyring);
}

/**
 * Records in `storage.json` where the vault's catalog and blobs are, for every later command.
 * A password in the store URL is sealed; the file is written atomically.
 */
export async function writeStorageFile(dir: string, keyring: Keyring, location: VaultLocation): Promise<void> {
  const file: StorageFile = { format: FORMAT, version: 1 };
  if (location.store.engine === 'postgres') {
    const url = new URL(location.store.url);
    if (url.password) {
      file.sealedStorePassword = seal(keyring.sealing, Buffer.from(decodeURIComponent(url.password), 'utf8'), PASSWORD_AAD).toString('base64');
      url.password = '';
    }
    file.store = url.toString();
  }
  if (location.blobs.engine === 's3') file.blobs = location.blobs.url;
  await writeFileAtomic(join(dir, STORAGE_FILE), `${JSON.stringify(file, null, 2)}\n`);
}

/** The location as it may be shown: engines and URLs, never a password. */
export function describeLocation(location: VaultLocation): { store: string; blobs: string } {
  return {
    store: location.store.engine === 'sqlite' ? `sqlite ${location.store.path}` : redactUrl(location.store.url),
    blobs: location.blobs.engine === 'fs' ? `fs ${location.blobs.dir}` : location.blobs.url,
  };
}

async function readStorageFile(dir: string): Promise<StorageFile | undefined> {
  const path = join(dir, STORAGE_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return undefined;
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new IntegrityError(`${path} is not valid JSON: it was damaged or edited by hand. Fix it, or remove it and pass --store and --blobs.`, { cause: error });
  }
  const file = parsed as Partial<StorageFile> | null;
  if (!file || file.format !== FORMAT || file.version !== 1) throw new IntegrityError(`${path} is not an orgvault storage file (format ${FORMAT}, version 1).`);
  for (const key of ['store', 'blobs', 'sealedStorePassword'] as const) {
    if (file[key] !== undefined && typeof file[key] !== 'string') throw new IntegrityError(`${path}: "${key}" must be a string.`);
  }
  return file as StorageFile;
}

function withPassword(url: string, sealed: string | undefined, keyring: Keyring): string {
  if (!sealed) return url;
  const password = open(keyring.sealing, Buffer.from(sealed, 'base64'), PASSWORD_AAD, 'the store password in storage.json').toString('utf8');
  const parsed = new URL(url);
  parsed.password = encodeURIComponent(password);
  return parsed.toString();
}
