/**
 * Where an export's files go: a folder, or one AES-256 password-protected zip (a file, or any
 * stream such as an HTTP download). Both stream: a zip entry is compressed and encrypted as it is
 * written, never held whole in memory.
 *
 * A zip's entry names (object names, record IDs, file names) are not encrypted, in any AES zip:
 * only the contents are. Files are created readable by their owner only.
 */
import { createWriteStream, mkdirSync } from 'node:fs';
import type { WriteStream } from 'node:fs';
import { mkdir, readdir, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { Readable, Transform, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { ZipWriter } from '@zip.js/zip.js';
import { OrgvaultError, UsageError } from '../core/errors.ts';
import type { ExportSink } from './format.ts';

/** An export's output: the sink formats write to, and how the export completes or gives up. */
export interface ExportTarget extends ExportSink {
  /** A folder or zip file path, or a name for a stream (a download). */
  readonly location: string;
  readonly kind: 'folder' | 'zip';
  /** Bytes written to files so far, before compression. */
  readonly bytesWritten: number;
  /** Completes the output: every file flushed and closed; the zip's directory written. */
  close(): Promise<void>;
  /** Gives up after a failure: open files closed; an incomplete zip file removed. */
  abort(reason: unknown): Promise<void>;
}

/** The shortest password a zip export accepts. */
export const MIN_ZIP_PASSWORD = 8;

/** A relative, `/`-separated path that stays inside the output; anything else is a bug in a format. */
function checkPath(path: string): void {
  const parts = path.split('/');
  if (path.startsWith('/') || path.includes('\\') || path.includes('\0') || parts.some((p) => p === '' || p === '.' || p === '..')) {
    throw new OrgvaultError('EXPORT_PATH', `Refusing to write "${path}": export paths are relative and stay inside the export.`);
  }
}

/**
 * A folder: refused when it holds anything already, unless `force` (then files of the same name
 * are replaced). Created when missing.
 */
export async function folderTarget(dir: string, options: { force?: boolean } = {}): Promise<ExportTarget> {
  const root = resolve(dir);
  const found = await stat(root).catch(() => undefined);
  if (found && !found.isDirectory()) throw new UsageError(`--out ${dir} is a file, not a folder: give a new or empty folder.`);
  if (found && !options.force && (await readdir(root)).length > 0) {
    throw new UsageError(`--out ${dir} is not empty: give a new or empty folder, or add --force to write into it (files of the same names are replaced).`);
  }
  await mkdir(root, { recursive: true, mode: 0o700 });
  return new FolderTarget(root, options.force === true);
}

class FolderTarget implements ExportTarget {
  readonly kind = 'folder';
  private bytes = 0;
  private readonly pending = new Set<Promise<void>>();
  private readonly streams = new Set<WriteStream>();
  private failure: unknown;

  constructor(
    readonly location: string,
    private readonly force: boolean,
  ) {}

  get bytesWritten(): number {
    return this.bytes;
  }

  createFile(path: string): Writable {
    checkPath(path);
    const full = join(this.location, ...path.split('/'));
    if (!full.startsWith(this.location + sep)) throw new OrgvaultError('EXPORT_PATH', `Refusing to write "${path}" outside the export folder.`);
    mkdirSync(dirname(full), { recursive: true, mode: 0o700 });
    // flush: each file is on disk when it closes, so a finished export survives a power cut.
    const stream = createWriteStream(full, { flags: this.force ? 'w' : 'wx', mode: 0o600, flush: true });
    this.streams.add(stream);
    const done = finished(stream).then(
      () => {
        this.bytes += stream.bytesWritten;
      },
      (error: unknown) => {
        this.failure ??= error;
      },
    );
    const tracked = done.finally(() => {
      this.pending.delete(tracked);
      this.streams.delete(stream);
    });
    this.pending.add(tracked);
    return stream;
  }

  async close(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
    if (this.failure) throw this.failure;
  }

  async abort(reason: unknown): Promise<void> {
    for (const stream of this.streams) stream.destroy(reason instanceof Error ? reason : undefined);
    await Promise.allSettled([...this.pending]);
  }
}

/** A zip file: refused when it exists, unless `force`. Its folder must exist. */
export async function zipFileTarget(file: string, password: string, options: { force?: boolean } = {}): Promise<ExportTarget> {
  const path = resolve(file);
  const parent = await stat(dirname(path)).catch(() => undefined);
  if (!parent?.isDirectory()) throw new UsageError(`--zip ${file}: the folder ${dirname(path)} does not exist; create it first.`);
  const found = await stat(path).catch(() => undefined);
  if (found && !options.force) throw new UsageError(`--zip ${file} already exists: give a new file name, or add --force to replace it.`);
  if (found?.isDirectory()) throw new UsageError(`--zip ${file} is a folder: give a file name such as export.zip.`);
  const output = createWriteStream(path, { flags: options.force ? 'w' : 'wx', mode: 0o600, flush: true });
  await new Promise<void>((ok, fail) => {
    output.once('open', () => ok());
    output.once('error', (error) => fail(new UsageError(`Cannot create ${file}: ${error.message}`, { cause: error })));
  });
  return new ZipTarget(Writable.toWeb(output) as WritableStream<Uint8Array>, password, path, {
    done: () => finished(output),
    discard: async () => {
      output.destroy();
      await unlink(path).catch(() => undefined);
    },
  });
}

/** A zip written to a stream (an HTTP download); `name` is what the run log shows. */
export function zipStreamTarget(output: WritableStream<Uint8Array>, password: string, name: string): ExportTarget {
  return new ZipTarget(output, password, name, { done: async () => undefined, discard: async () => undefined });
}

class ZipTarget implements ExportTarget {
  readonly kind = 'zip';
  private bytes = 0;
  private readonly writer: ZipWriter<unknown>;
  /** zip.js writes into this pipe; aborting it is how a failed export ends the output at once. */
  private readonly stop = new AbortController();
  private readonly piped: Promise<void>;
  /** The entries are added one after another: each waits for the one before. */
  private chain: Promise<unknown> = Promise.resolve();
  private open: { path: string; stream: Transform } | undefined;
  private failure: unknown;

  constructor(
    output: WritableStream<Uint8Array>,
    password: string,
    readonly location: string,
    private readonly file: { done(): Promise<void>; discard(): Promise<void> },
  ) {
    if (password.length < MIN_ZIP_PASSWORD) throw new UsageError(`The zip password is too short: use at least ${MIN_ZIP_PASSWORD} characters.`);
    const pipe = new TransformStream<Uint8Array, Uint8Array>();
    this.piped = pipe.readable.pipeTo(output, { signal: this.stop.signal });
    this.piped.catch((error: unknown) => this.fail(error));
    this.writer = new ZipWriter(pipe.writable, { password, encryptionStrength: 3, useWebWorkers: false, bufferedWrite: false, keepOrder: true });
  }

  get bytesWritten(): number {
    return this.bytes;
  }

  createFile(path: string): Writable {
    checkPath(path);
    if (this.failure) throw this.failure;
    if (this.open && !this.open.stream.writableFinished) {
      throw new OrgvaultError('EXPORT_SINK', `A zip is written one file at a time: end ${this.open.path} before creating ${path}.`);
    }
    const stream = new Transform({
      transform: (chunk: Buffer, _encoding, callback) => {
        this.bytes += chunk.length;
        callback(null, chunk);
      },
    });
    this.open = { path, stream };
    const source = Readable.toWeb(stream) as ReadableStream<Uint8Array>;
    this.chain = this.chain.then(() => this.writer.add(path, source)).catch((error: unknown) => this.fail(error));
    return stream;
  }

  /** Whoever is writing must see a failure, rather than wait for a drain that never comes. */
  private fail(error: unknown): void {
    this.failure ??= error;
    this.open?.stream.destroy(error instanceof Error ? error : new Error(String(error)));
  }

  async close(): Promise<void> {
    await this.chain;
    if (this.failure) throw this.failure;
    await this.writer.close();
    await this.piped;
    await this.file.done();
  }

  async abort(reason: unknown): Promise<void> {
    this.fail(reason);
    this.stop.abort(reason);
    await this.piped.catch(() => undefined);
    await this.file.discard();
  }
}
