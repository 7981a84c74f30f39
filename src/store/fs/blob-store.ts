/**
 * The blob store on a local filesystem: sealed file bodies under `<dir>/<aa>/<bb>/<address>`.
 *
 * A body is sealed while it streams in, into a temporary file under `<dir>/tmp/` (the same
 * filesystem, so the final step is a link or rename, never a copy), fsynced, and only then given
 * its address with `link`, which fails if the address exists: the blob appears whole or not at
 * all, two writers of the same content store it once, and an existing blob is never replaced.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, statSync, unlinkSync } from 'node:fs';
import type { ReadStream } from 'node:fs';
import { link, mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { IntegrityError } from '../../crypto/errors.ts';
import type { Keyring } from '../../crypto/keys.ts';
import { BlobSealer, DEFAULT_CHUNK_BYTES } from '../../crypto/stream.ts';
import type { BlobStore } from '../port.ts';
import { BLOB_ADDRESS as ADDRESS, checkBlobAddress as checkAddress, openStoredBlob } from '../sealed-blob.ts';
import { fsyncDir, isErrno } from './durable.ts';

const FANOUT = /^[0-9a-f]{2}$/;
const TEMP_DIR = 'tmp';
/** A temp file untouched this long belongs to a crashed writer: a live one writes every chunk. */
const DEFAULT_STALE_TEMP_MS = 15 * 60_000;
// Reading a whole sealed chunk at a time keeps openSealedBlob from re-concatenating small pieces.
const READ_BYTES = DEFAULT_CHUNK_BYTES + 16;

export interface FsBlobStoreOptions {
  /** The blob root, usually the vault's `blobs/` directory. Created on first write. */
  dir: string;
  keyring: Keyring;
  /** Temp files older than this are removed on open, as leftovers of a crash (default 15 min). */
  staleTempAfterMs?: number;
}

/** Opens (without creating) a filesystem blob store, removing stale temp files of crashed writers. */
export function openFsBlobStore(options: FsBlobStoreOptions): BlobStore {
  const root = options.dir;
  const tempDir = join(root, TEMP_DIR);
  const { keyring } = options;
  const { sealing, addressing } = keyring;
  removeStaleTemps(tempDir, options.staleTempAfterMs ?? DEFAULT_STALE_TEMP_MS);

  async function put(source: AsyncIterable<Uint8Array>): Promise<{ address: string; size: number; stored: boolean }> {
    await mkdir(tempDir, { recursive: true, mode: 0o700 });
    const temp = join(tempDir, `${process.pid}-${randomBytes(8).toString('hex')}.partial`);
    const handle = await open(temp, 'wx', 0o600);
    const sealer = new BlobSealer(sealing, addressing);
    try {
      for await (const piece of sealer.seal(source)) await writeAll(handle, piece);
      await handle.sync();
    } catch (error) {
      await handle.close().catch(() => undefined);
      await unlink(temp).catch(() => undefined);
      throw error;
    }
    await handle.close();
    try {
      const stored = await publish(temp, sealer.address);
      return { address: sealer.address, size: sealer.plainBytes, stored };
    } finally {
      await unlink(temp).catch(() => undefined);
    }
  }

  async function publish(temp: string, address: string): Promise<boolean> {
    const file = blobPath(root, address);
    const parent = dirname(file);
    const created = await mkdir(parent, { recursive: true, mode: 0o700 });
    if (created !== undefined) {
      // New fan-out directories are entries in their parents, which must reach the disk too.
      await fsyncDir(dirname(created));
      if (created !== parent) await fsyncDir(dirname(parent));
    }
    try {
      await link(temp, file);
    } catch (error) {
      if (isErrno(error, 'EEXIST')) return false;
      if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EMLINK'].some((code) => isErrno(error, code))) throw error;
      // Filesystems without hard links: rename is still atomic, but may race another writer of the
      // same content; both bodies are valid sealings of it, so either winning is correct.
      if (await exists(file)) return false;
      await rename(temp, file);
    }
    await fsyncDir(parent);
    return true;
  }

  async function* get(address: string): AsyncGenerator<Buffer> {
    const file = blobPath(root, checkAddress(address));
    let handle: FileHandle;
    try {
      handle = await open(file, 'r');
    } catch (error) {
      if (isErrno(error, 'ENOENT')) throw new IntegrityError(`blob ${address} is missing from the blob store (expected at ${file}).`, { cause: error });
      throw error;
    }
    let stream: ReadStream;
    let size: number;
    try {
      size = (await handle.stat()).size;
      stream = handle.createReadStream({ start: 0, highWaterMark: READ_BYTES });
    } catch (error) {
      await handle.close();
      throw error;
    }
    try {
      yield* openStoredBlob(keyring, address, size, stream, `file ${file}`);
    } finally {
      stream.destroy();
    }
  }

  async function has(address: string): Promise<boolean> {
    if (!ADDRESS.test(address)) return false;
    return exists(blobPath(root, address));
  }

  async function* list(): AsyncGenerator<string> {
    for (const a of await subdirs(root)) {
      for (const b of await subdirs(join(root, a))) {
        const names = await readdir(join(root, a, b)).catch(emptyIfMissing);
        for (const name of names.sort()) {
          if (ADDRESS.test(name) && name.startsWith(a + b)) yield name;
        }
      }
    }
  }

  async function remove(address: string): Promise<void> {
    const file = blobPath(root, checkAddress(address));
    try {
      await unlink(file);
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return;
      throw error;
    }
    await fsyncDir(dirname(file));
  }

  async function size(address: string): Promise<number | undefined> {
    if (!ADDRESS.test(address)) return undefined;
    try {
      const info = await stat(blobPath(root, address));
      return info.isFile() ? info.size : undefined;
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return undefined;
      throw error;
    }
  }

  return { put, get, has, list, delete: remove, size };
}

/** Where a blob lives under the root: two levels of fan-out keep directories small. */
export function blobPath(root: string, address: string): string {
  return join(root, address.slice(0, 2), address.slice(2, 4), address);
}

async function writeAll(handle: FileHandle, data: Buffer): Promise<void> {
  let offset = 0;
  while (offset < data.length) {
    const { bytesWritten } = await handle.write(data, offset, data.length - offset);
    offset += bytesWritten;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return false;
    throw error;
  }
}

async function subdirs(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(emptyIfMissing);
  return entries
    .filter((entry) => entry.isDirectory() && FANOUT.test(entry.name))
    .map((entry) => entry.name)
    .sort();
}

function emptyIfMissing(error: unknown): never[] {
  if (isErrno(error, 'ENOENT')) return [];
  throw error;
}

function removeStaleTemps(tempDir: string, staleAfterMs: number): void {
  let names: string[];
  try {
    names = readdirSync(tempDir);
  } catch {
    return;
  }
  const now = Date.now();
  for (const name of names) {
    const path = join(tempDir, name);
    try {
      const info = statSync(path);
      if (info.isFile() && now - info.mtimeMs >= staleAfterMs) unlinkSync(path);
    } catch {
      // Another process cleaned it first, or it is not ours to remove: neither matters here.
    }
  }
}
