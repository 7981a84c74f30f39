/**
 * The continuous data lake (GRAX's Data Lake): after each backup run, the versions captured since
 * the lake was last written go out as Parquet files, partitioned Hive-style by org, object and
 * capture day, ready for DuckDB, Athena or Spark:
 *
 *   <root>/org=<orgId>/object=<Object>/date=YYYY-MM-DD/<runId>-<n>.parquet
 *
 * Each row is one version, with the columns of a Parquet export of every version (`columns.ts`):
 * the object's fields, typed from the describe, then `_version_seq`, `_system_modstamp`,
 * `_change_type`, `_is_deleted`, `_captured_at` and `_run_id`. Files are written under a hidden temporary name and published whole, so a reader never
 * sees half a file.
 *
 * The lake remembers what it holds in `<root>/_orgvault/<orgId>.json` (the capture time and the
 * highest version `seq` written), beside the data rather than in the vault: a run whose lake write
 * failed, or a lake pointed at a new folder, is caught up by the next run, and nothing is written
 * twice. Before the files of a write are published the state names them as pending; a crash in
 * between is settled by the next write (all published: done; otherwise the published ones are
 * removed and written again).
 *
 * The destination is a `DataLakeStore`: a folder (`folderDataLake`) or an S3 bucket
 * (`s3DataLake` in `data-lake-s3.ts`: a multipart upload completed on publish).
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import type { Writable } from 'node:stream';
import { describeFromRaw } from '../core/describe.ts';
import type { RawField } from '../core/describe.ts';
import { UsageError } from '../core/errors.ts';
import { parseS3Url } from '../core/s3-location.ts';
import type { RecordVersion, RunStatus } from '../core/vault.ts';
import type { ObjectStateStore, SchemaStore, VersionStore } from '../store/port.ts';
import type { ExportColumn, ExportedRecord } from './format.ts';
import { columnsOf, unionFields } from './columns.ts';
import type { StoredDescribe } from './columns.ts';
import { s3DataLake } from './data-lake-s3.ts';
import { ParquetFileWriter } from './parquet.ts';

/**
 * Where an org's data lake goes, as stored in its backup settings (`dataLake`): an absolute folder
 * path, or an `s3://bucket/prefix?…` URL (see `src/core/s3-location.ts`; credentials come from the
 * AWS SDK's usual chain, never from the settings).
 */
export type DataLakeTarget = { folder: string } | { url: string };

/**
 * Checks a `dataLake` setting: null (off), `{ folder: "/absolute/path" }` or
 * `{ url: "s3://bucket/prefix" }`. A UsageError names what is wrong.
 */
export function parseDataLakeTarget(value: unknown): DataLakeTarget | null {
  if (value === null || value === false) return null;
  const entry = typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  const keys = Object.keys(entry);
  const form = `"dataLake" is null (off) or { "folder": "/absolute/path" } or { "url": "s3://bucket/prefix" }, where the data lake's Parquet files go`;
  if (keys.length !== 1 || (keys[0] !== 'folder' && keys[0] !== 'url') || typeof entry[keys[0]] !== 'string' || (entry[keys[0]] as string).trim() === '') {
    throw new UsageError(`${form}; got ${JSON.stringify(value)}.`);
  }
  if (keys[0] === 'url') {
    const url = (entry.url as string).trim();
    parseS3Url(url);
    return { url };
  }
  const folder = entry.folder as string;
  if (/^s3:\/\//i.test(folder)) throw new UsageError(`${form}: an s3:// URL goes in "url", not "folder".`);
  if (!isAbsolute(folder)) throw new UsageError(`The data lake folder "${folder}" is not an absolute path: give the full path (runs may start from another working directory).`);
  return { folder };
}

/**
 * A target from what a user typed (a flag, a form field): an `s3://` URL, or a folder made
 * absolute by `resolveFolder`; empty is off. Checked as a stored setting is.
 */
export function dataLakeTargetOf(text: string, resolveFolder: (path: string) => string = (path) => path): DataLakeTarget | null {
  const trimmed = text.trim();
  if (!trimmed) return null;
  return parseDataLakeTarget(/^s3:\/\//i.test(trimmed) ? { url: trimmed } : { folder: resolveFolder(trimmed) });
}

/** The target as a user types it: the folder path or the s3:// URL. */
export function dataLakeTargetText(target: DataLakeTarget): string {
  return 'url' in target ? target.url : target.folder;
}

/** A file being written to the lake: invisible until published. */
export interface StagedFile {
  /** Write the file's bytes here and end it; then publish or discard. */
  readonly stream: Writable;
  /** Makes the finished file visible at its path, durably. */
  publish(): Promise<void>;
  /** Drops what was written. */
  discard(): Promise<void>;
}

/** A data lake's storage: a folder (`folderDataLake`) or an S3 bucket (`s3DataLake`). Paths are relative and `/`-separated. */
export interface DataLakeStore {
  /** For messages: the folder path, or `s3://bucket/prefix`. */
  readonly location: string;
  create(path: string): Promise<StagedFile>;
  read(path: string): Promise<Buffer | undefined>;
  exists(path: string): Promise<boolean>;
  remove(path: string): Promise<void>;
  /** Every published file under a folder (`…/`), recursively, as paths relative to the root. */
  list(prefix: string): Promise<string[]>;
}

/** The data lake store a target names. */
export function openDataLake(target: DataLakeTarget): DataLakeStore {
  return 'url' in target ? s3DataLake(parseS3Url(target.url)) : folderDataLake(target.folder);
}

/** A data lake in a local (or mounted) folder: temporary dot-files renamed into place, fsynced. */
export function folderDataLake(root: string): DataLakeStore {
  const full = (path: string): string => join(root, ...path.split('/'));
  return {
    location: root,
    async create(path) {
      const target = full(path);
      await mkdir(dirname(target), { recursive: true });
      // A dot-name that does not end in .parquet: globs and Spark's listing skip it.
      const temp = join(dirname(target), `.${target.slice(dirname(target).length + 1)}.${randomBytes(6).toString('hex')}.tmp`);
      const stream = createWriteStream(temp, { flags: 'wx', mode: 0o644 });
      return {
        stream,
        async publish() {
          const handle = await open(temp, 'r');
          try {
            await handle.sync();
          } finally {
            await handle.close();
          }
          await rename(temp, target);
          await syncDir(dirname(target));
        },
        async discard() {
          stream.destroy();
          await rm(temp, { force: true });
        },
      };
    },
    async read(path) {
      try {
        return await readFile(full(path));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
    },
    async exists(path) {
      try {
        await stat(full(path));
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
        throw error;
      }
    },
    async remove(path) {
      await rm(full(path), { force: true });
    },
    async list(prefix) {
      let entries;
      try {
        entries = await readdir(full(prefix), { recursive: true, withFileTypes: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw error;
      }
      // Temporary files are dot-names: not published, so not listed.
      return entries
        .filter((e) => e.isFile() && !e.name.startsWith('.'))
        .map((e) => relative(root, join(e.parentPath, e.name)).split(sep).join('/'))
        .sort();
    },
  };
}

async function syncDir(dir: string): Promise<void> {
  // Windows cannot open a directory: there the rename is as durable as it gets.
  if (sep === '\\') return;
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** The vault ports a lake write reads. */
export type DataLakeSource = Pick<VersionStore, 'findVersions'> & Pick<SchemaStore, 'schemaHistory' | 'getSchema'> & Pick<ObjectStateStore, 'getObjectStates'>;

export interface DataLakeWrite {
  orgId: string;
  /** The run writing: it names the files. */
  runId: string;
  /** When the lake has no state for the org yet (first write, or a new folder), it starts here. */
  startedAt: number;
  /** Versions captured up to this time are written. */
  now: number;
}

export interface DataLakeOutcome {
  versions: number;
  /** The published files' paths, relative to the lake's root. */
  files: string[];
  /** The capture-time window written, [from, through] in epoch ms. */
  from: number;
  through: number;
}

/** What a run reports: the lake's write adds to its counters, and its failure to its status. */
interface RunOutcome {
  status: RunStatus;
  message: string | null;
  counters: Record<string, number>;
}

/**
 * A backup run's step: writes to the org's data lake and returns the run's outcome with the
 * lake's counters (`dataLakeVersions`, `dataLakeFiles`). A lake that cannot be written makes the
 * run CompletedWithErrors, naming the cause; the backup itself is already stored, and the next run
 * writes what this one could not.
 */
export async function feedDataLake<R extends RunOutcome>(source: DataLakeSource, target: DataLakeTarget, write: DataLakeWrite, result: R, notice: (message: string) => void = () => undefined): Promise<R> {
  const lake = openDataLake(target);
  try {
    const outcome = await writeToDataLake(source, lake, write);
    if (outcome.versions) notice(`Data lake: ${outcome.versions} version(s) written to ${outcome.files.length} Parquet file(s) in ${lake.location}.`);
    return { ...result, counters: { ...result.counters, dataLakeVersions: outcome.versions, dataLakeFiles: outcome.files.length } };
  } catch (error) {
    const cause = error instanceof Error ? error.message : String(error);
    const message = `DATA_LAKE_FAILED: the backup is stored, but its versions could not be written to the data lake in ${lake.location} (${cause}); the next run writes them once the lake is writable again.`;
    notice(message);
    return {
      ...result,
      status: result.status === 'Succeeded' ? 'CompletedWithErrors' : result.status,
      message: result.message ? `${result.message} ${message}` : message,
      counters: { ...result.counters, dataLakeErrors: 1 },
    };
  }
}

/** Rows per lake file at most; a larger capture goes to several parts. */
const ROWS_PER_FILE = 500_000;
/** Versions handed to a file writer at once. */
const BATCH = 1_000;

interface LakeState {
  orgId: string;
  /** Versions captured at or before this time, with seq ≤ throughSeq, are in the lake. */
  through: number;
  throughSeq: number;
  /** A write whose files were being published; settled by the next write. */
  pending: { through: number; throughSeq: number; files: string[] } | null;
}

/**
 * Writes every version of the org captured since the lake's last write (or since `startedAt` when
 * the lake holds nothing of the org) to the lake, all or nothing. Throws when it cannot; the lake
 * is then as before and the next write catches up.
 */
export async function writeToDataLake(source: DataLakeSource, lake: DataLakeStore, write: DataLakeWrite): Promise<DataLakeOutcome> {
  const statePath = `_orgvault/${write.orgId}.json`;
  const state = await settle(lake, statePath, await readState(lake, statePath, write.orgId));
  const from = state?.through ?? write.startedAt;
  const afterSeq = state?.throughSeq ?? 0;
  const staged: { path: string; file: StagedFile }[] = [];
  let versions = 0;
  let maxSeq = afterSeq;
  try {
    const objects = (await source.getObjectStates(write.orgId)).map((s) => s.objectName).sort((a, b) => a.localeCompare(b));
    for (const objectName of objects) {
      // Read the describes only for objects with something to write.
      let columns: ExportColumn[] | undefined;
      const parts = new Map<string, LakePart>();
      for await (const version of source.findVersions({ orgId: write.orgId, objectName, by: 'capturedAt', from, to: write.now })) {
        // The window starts at the last write's time, inclusive: what that write held is skipped by seq.
        if (version.seq <= afterSeq) continue;
        const day = new Date(version.capturedAt).toISOString().slice(0, 10);
        let part = parts.get(day);
        if (!part || part.rows >= ROWS_PER_FILE) {
          if (part) await part.close();
          const n = (part?.n ?? 0) + 1;
          const path = `org=${write.orgId}/object=${objectName}/date=${day}/${write.runId}-${n}.parquet`;
          const file = await lake.create(path);
          staged.push({ path, file });
          columns ??= await lakeColumns(source, write.orgId, objectName, from);
          part = new LakePart(file.stream, objectName, columns, n);
          parts.set(day, part);
        }
        await part.add(version);
        versions++;
        if (version.seq > maxSeq) maxSeq = version.seq;
      }
      for (const part of parts.values()) await part.close();
    }
  } catch (error) {
    await Promise.all(staged.map(({ file }) => file.discard().catch(() => undefined)));
    throw error;
  }
  const files = staged.map((s) => s.path);
  const next: LakeState = { orgId: write.orgId, through: write.now, throughSeq: maxSeq, pending: null };
  if (files.length) await writeState(lake, statePath, { ...(state ?? next), pending: { through: next.through, throughSeq: next.throughSeq, files } });
  for (const { file } of staged) await file.publish();
  await writeState(lake, statePath, next);
  return { versions, files, from, through: write.now };
}

/** One lake file being written: versions buffered into batches for the Parquet writer. */
class LakePart {
  rows = 0;
  private batch: ExportedRecord[] = [];
  private readonly writer: ParquetFileWriter;
  constructor(
    out: Writable,
    objectName: string,
    columns: readonly ExportColumn[],
    readonly n: number,
  ) {
    this.writer = new ParquetFileWriter(out, objectName, columns);
  }
  async add(version: RecordVersion): Promise<void> {
    this.batch.push({
      fields: version.fields,
      version: { seq: version.seq, systemModstamp: version.systemModstamp, changeType: version.changeType, isDeleted: version.isDeleted, capturedAt: version.capturedAt, runId: version.runId },
    });
    this.rows++;
    if (this.batch.length >= BATCH) await this.flush();
  }
  async close(): Promise<void> {
    await this.flush();
    await this.writer.close();
  }
  private async flush(): Promise<void> {
    const batch = this.batch;
    this.batch = [];
    await this.writer.write(batch);
  }
}

/**
 * The object's columns as a Parquet export of every version has them: its fields in every
 * describe that held during the window (the newest describe's entry winning, so versions captured
 * before a field was dropped keep it), then the version columns.
 */
async function lakeColumns(source: DataLakeSource, orgId: string, objectName: string, from: number): Promise<ExportColumn[]> {
  const schemas = (await source.schemaHistory(orgId, objectName)).filter((s) => s.validTo === null || s.validTo >= from).sort((a, b) => a.validFrom - b.validFrom);
  const fields = new Map<string, RawField>();
  const held: StoredDescribe[] = [];
  for (const schema of schemas) {
    const raw = await source.getSchema(orgId, schema.schemaId);
    describeFromRaw(raw); // a TypeError if the stored document is not a describe
    held.push({ schemaId: schema.schemaId, validFrom: schema.validFrom, validTo: schema.validTo, fields: (raw as { fields: RawField[] }).fields });
    for (const field of (raw as { fields: RawField[] }).fields) {
      const key = field.name.toLowerCase();
      fields.delete(key);
      fields.set(key, field);
    }
  }
  if (!fields.has('id')) fields.set('id', { name: 'Id', type: 'id', label: 'Record ID' });
  // A value whose type changed then names the describes that disagree (ParquetValueError).
  return columnsOf([...fields.values()], true, unionFields(held).typeHistory);
}

async function readState(lake: DataLakeStore, path: string, orgId: string): Promise<LakeState | null> {
  const bytes = await lake.read(path);
  if (!bytes) return null;
  let state: LakeState;
  try {
    state = JSON.parse(bytes.toString('utf8')) as LakeState;
  } catch {
    state = {} as LakeState;
  }
  if (state.orgId !== orgId || typeof state.through !== 'number' || typeof state.throughSeq !== 'number') {
    throw new Error(`The data lake's state file ${path} in ${lake.location} is not one orgvault wrote for org ${orgId}; move it away to start the lake afresh.`);
  }
  return state;
}

/** A previous write interrupted while publishing: done if every file made it, else undone. */
async function settle(lake: DataLakeStore, path: string, state: LakeState | null): Promise<LakeState | null> {
  if (!state?.pending) return state;
  const present = await Promise.all(state.pending.files.map((f) => lake.exists(f)));
  const settled: LakeState = present.every(Boolean)
    ? { orgId: state.orgId, through: state.pending.through, throughSeq: state.pending.throughSeq, pending: null }
    : { ...state, pending: null };
  if (!present.every(Boolean)) for (const [i, file] of state.pending.files.entries()) if (present[i]) await lake.remove(file);
  await writeState(lake, path, settled);
  return settled;
}

async function writeState(lake: DataLakeStore, path: string, state: LakeState): Promise<void> {
  const file = await lake.create(path);
  try {
    await new Promise<void>((resolve, reject) => {
      file.stream.once('error', reject);
      file.stream.end(`${JSON.stringify(state, null, 2)}\n`, () => resolve());
    });
  } catch (error) {
    await file.discard();
    throw error;
  }
  await file.publish();
}
