/**
 * The blob store on any S3-compatible service (Amazon S3, MinIO, Ceph, Wasabi, R2…), through the
 * AWS SDK v3. Blobs are the filesystem store's bytes under the filesystem store's names: sealed by
 * `src/crypto/stream.ts`, at `<prefix><aa>/<bb>/<address>`, so a vault's blobs copy between a
 * folder and a bucket as they are (`aws s3 sync blobs/ s3://bucket/prefix/`).
 *
 * Crash safety and write-once. S3 has no rename, and a body's address (its keyed hash) is known
 * only once the whole body has been read, so:
 * - a body that fits one part (5 MiB sealed by default) is sealed into memory and written with one
 *   PUT to its address. S3 makes a PUT visible atomically: the object is whole or absent.
 * - a larger body streams as a multipart upload to a temporary key (`<prefix>tmp/…`), one part in
 *   memory at a time; the completed object is then copied server-side to its address (CopyObject,
 *   or a multipart copy past 5 GiB, itself completed atomically) and the temporary object deleted.
 *   An upload is invisible until completed, and a copy is visible only once whole.
 * So an object exists under an address only once complete: a crash leaves at worst an unfinished
 * upload or a temporary object, which no address names and `list` never shows; the next store to
 * write cleans up those older than a day (a bucket lifecycle rule aborting incomplete multipart
 * uploads is still recommended: some services cannot list them).
 * Every write to an address is conditional (`If-None-Match: *`): where the service supports it
 * (Amazon S3, MinIO…) a body already stored is never overwritten, and the loser of a race learns
 * it stored nothing. A service that ignores the condition may, in a race between two machines,
 * replace a blob by another sealing of the same content: equally valid, never different content.
 * Within one process, writes of one address are serialized, so it stores it once anywhere.
 */
import { randomBytes } from 'node:crypto';
import { AbortMultipartUploadCommand, CopyObjectCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, UploadPartCopyCommand } from '@aws-sdk/client-s3';
import type { CompletedPart, S3Client } from '@aws-sdk/client-s3';
import { OrgvaultError } from '../../core/errors.ts';
import { parseS3Url } from '../../core/s3-location.ts';
import type { S3Location } from '../../core/s3-location.ts';
import { IntegrityError } from '../../crypto/errors.ts';
import type { Keyring } from '../../crypto/keys.ts';
import { BlobSealer } from '../../crypto/stream.ts';
import type { BlobStore } from '../port.ts';
import { BLOB_ADDRESS, blobName, checkBlobAddress, openStoredBlob } from '../sealed-blob.ts';
import { MIN_PART_BYTES, MultipartWriter, bucketCheck, createS3Client, isS3NotFound, putObject, s3Failure, s3Status, sseParams } from '../s3-connection.ts';
import type { S3Credentials } from '../s3-connection.ts';

export { parseS3Url };
export type { S3Location, S3Credentials };

export interface S3BlobStoreOptions {
  /** The bucket, prefix, endpoint, region, path style and server-side encryption (see `parseS3Url`). */
  location: S3Location;
  keyring: Keyring;
  /** Static credentials; absent, the AWS SDK's default chain finds them. */
  credentials?: S3Credentials;
  /** A client of your own (tests add middleware to it); built from `location` otherwise. */
  client?: S3Client;
  /** Multipart part size, at least 5 MiB (the default): the memory one upload holds. */
  partBytes?: number;
  /** Temporary objects and uploads older than this are leftovers of a crash, removed on the first write (default a day). */
  staleAfterMs?: number;
}

const TEMP = 'tmp/';
const DAY_MS = 24 * 3600_000;
/** CopyObject's limit; a larger object is copied in parts of COPY_PART_BYTES. */
const MAX_COPY_BYTES = 5 * 1024 ** 3;
const COPY_PART_BYTES = 1024 ** 3;

/** Opens an S3 blob store; nothing is sent until it is used, and its first use checks the bucket. */
export function openS3BlobStore(options: S3BlobStoreOptions): BlobStore {
  const { location, keyring } = options;
  const client = options.client ?? createS3Client(location, options.credentials);
  const partBytes = options.partBytes ?? MIN_PART_BYTES;
  if (!Number.isInteger(partBytes) || partBytes < MIN_PART_BYTES) throw new RangeError(`partBytes must be an integer of at least ${MIN_PART_BYTES} (S3's smallest part).`);
  const checkBucket = bucketCheck(client, location);
  const keyOf = (address: string): string => location.prefix + blobName(address);
  const url = (key: string): string => `s3://${location.bucket}/${key}${location.endpoint ? ` at ${location.endpoint}` : ''}`;
  const fail = (error: unknown, doing: string): OrgvaultError => s3Failure(error, location, doing);
  // Writes of one address in this process, one after another.
  const publishing = new Map<string, Promise<unknown>>();
  let cleanedUp: Promise<void> | undefined;

  async function ready(): Promise<void> {
    await checkBucket();
    cleanedUp ??= removeStale(client, location, options.staleAfterMs ?? DAY_MS);
    await cleanedUp;
  }

  async function put(source: AsyncIterable<Uint8Array>): Promise<{ address: string; size: number; stored: boolean }> {
    await ready();
    const sealer = new BlobSealer(keyring.sealing, keyring.addressing);
    const temp = `${location.prefix}${TEMP}${process.pid}-${randomBytes(8).toString('hex')}.partial`;
    const writer = new MultipartWriter(client, location, temp, partBytes);
    try {
      for await (const piece of sealer.seal(source)) await writer.write(piece);
    } catch (error) {
      await writer.abort();
      throw translated(error, 'upload a file body to');
    }
    const address = sealer.address;
    const stored = await serialized(address, () => publish(address, writer));
    return { address, size: sealer.plainBytes, stored };
  }

  async function publish(address: string, writer: MultipartWriter): Promise<boolean> {
    const key = keyOf(address);
    try {
      if (await exists(key)) {
        await writer.abort();
        return false;
      }
      if (!writer.started) return await conditional(() => putObject(client, location, key, writer.buffered(), { IfNoneMatch: '*' }));
      try {
        await writer.complete();
      } catch (error) {
        await writer.abort();
        throw error;
      }
      try {
        return await conditional(() => copy(writer.key, key, writer.bytes));
      } finally {
        await client.send(new DeleteObjectCommand({ Bucket: location.bucket, Key: writer.key })).catch(() => undefined);
      }
    } catch (error) {
      throw fail(error, `store blob ${address} in`);
    }
  }

  /** Runs a write under If-None-Match: false when the address turned out to be taken already. */
  async function conditional(write: () => Promise<unknown>): Promise<boolean> {
    try {
      await write();
      return true;
    } catch (error) {
      // 412: the address exists. 409: another write of it was under way; it is there or it is not.
      if (s3Status(error) === 412) return false;
      if (s3Status(error) === 409) {
        await write().catch((again: unknown) => {
          if (s3Status(again) !== 412) throw again;
        });
        return false;
      }
      throw error;
    }
  }

  async function copy(from: string, to: string, bytes: number): Promise<void> {
    const source = `${location.bucket}/${encodeURIComponent(from).replace(/%2F/g, '/')}`;
    if (bytes <= MAX_COPY_BYTES) {
      await client.send(new CopyObjectCommand({ Bucket: location.bucket, Key: to, CopySource: source, IfNoneMatch: '*', ...sseParams(location) }));
      return;
    }
    const created = await client.send(new CreateMultipartUploadCommand({ Bucket: location.bucket, Key: to, ...sseParams(location) }));
    const parts: CompletedPart[] = [];
    try {
      for (let start = 0; start < bytes; start += COPY_PART_BYTES) {
        const end = Math.min(bytes, start + COPY_PART_BYTES) - 1;
        const part = await client.send(
          new UploadPartCopyCommand({ Bucket: location.bucket, Key: to, UploadId: created.UploadId, PartNumber: parts.length + 1, CopySource: source, CopySourceRange: `bytes=${start}-${end}` }),
        );
        parts.push({ PartNumber: parts.length + 1, ETag: part.CopyPartResult?.ETag });
      }
      await client.send(new CompleteMultipartUploadCommand({ Bucket: location.bucket, Key: to, UploadId: created.UploadId, MultipartUpload: { Parts: parts }, IfNoneMatch: '*' }));
    } catch (error) {
      await abortUpload(client, location.bucket, to, created.UploadId);
      throw error;
    }
  }

  async function serialized<T>(address: string, fn: () => Promise<T>): Promise<T> {
    const run = (publishing.get(address) ?? Promise.resolve()).catch(() => undefined).then(fn);
    publishing.set(address, run);
    try {
      return await run;
    } finally {
      if (publishing.get(address) === run) publishing.delete(address);
    }
  }

  async function head(key: string): Promise<number | undefined> {
    await checkBucket();
    try {
      const answer = await client.send(new HeadObjectCommand({ Bucket: location.bucket, Key: key }));
      return answer.ContentLength ?? 0;
    } catch (error) {
      if (isS3NotFound(error)) return undefined;
      throw error;
    }
  }

  async function exists(key: string): Promise<boolean> {
    return (await head(key)) !== undefined;
  }

  async function* get(address: string): AsyncGenerator<Buffer> {
    const key = keyOf(checkBlobAddress(address));
    await checkBucket();
    let answer;
    try {
      answer = await client.send(new GetObjectCommand({ Bucket: location.bucket, Key: key }));
    } catch (error) {
      if (isS3NotFound(error)) throw new IntegrityError(`blob ${address} is missing from the blob store (expected at ${url(key)}).`, { cause: error });
      throw fail(error, `read blob ${address} from`);
    }
    const body = answer.Body as (AsyncIterable<Uint8Array> & { destroy?: () => void }) | undefined;
    if (!body) throw fail(new Error('the service answered without a body'), `read blob ${address} from`);
    try {
      yield* openStoredBlob(keyring, address, answer.ContentLength ?? 0, body, `object ${url(key)}`);
    } catch (error) {
      throw translated(error, `read blob ${address} from`);
    } finally {
      // A reader that stops early must not leave the connection streaming.
      body.destroy?.();
    }
  }

  async function has(address: string): Promise<boolean> {
    if (!BLOB_ADDRESS.test(address)) return false;
    try {
      return await exists(keyOf(address));
    } catch (error) {
      throw fail(error, `look up blob ${address} in`);
    }
  }

  async function size(address: string): Promise<number | undefined> {
    if (!BLOB_ADDRESS.test(address)) return undefined;
    try {
      return await head(keyOf(address));
    } catch (error) {
      throw fail(error, `look up blob ${address} in`);
    }
  }

  async function* list(): AsyncGenerator<string> {
    await checkBucket();
    // Only names of the store's own layout: temporary objects and anything else under the prefix are skipped.
    const own = new RegExp(`^${escapeRegExp(location.prefix)}([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{64})$`);
    let token: string | undefined;
    do {
      let page;
      try {
        page = await client.send(new ListObjectsV2Command({ Bucket: location.bucket, Prefix: location.prefix, ContinuationToken: token }));
      } catch (error) {
        throw fail(error, 'list the blobs of');
      }
      for (const object of page.Contents ?? []) {
        const m = object.Key ? own.exec(object.Key) : null;
        if (m && m[3]!.startsWith(m[1]! + m[2]!)) yield m[3]!;
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async function remove(address: string): Promise<void> {
    const key = keyOf(checkBlobAddress(address));
    await checkBucket();
    try {
      // S3 answers a delete of a missing key with success: deleting twice is fine, as on a disk.
      await client.send(new DeleteObjectCommand({ Bucket: location.bucket, Key: key }));
    } catch (error) {
      throw fail(error, `delete blob ${address} from`);
    }
  }

  function translated(error: unknown, doing: string): unknown {
    // The source's own failure (a dropped Salesforce download) and damage reports pass as they are.
    if (error instanceof OrgvaultError || !looksLikeS3(error)) return error;
    return fail(error, doing);
  }

  return { put, get, has, list, delete: remove, size };
}

/** Opens an S3 blob store from an `s3://` URL (see `parseS3Url` for its form). */
export function openS3BlobStoreAt(url: string, keyring: Keyring, credentials?: S3Credentials): BlobStore {
  return openS3BlobStore({ location: parseS3Url(url), keyring, ...(credentials ? { credentials } : {}) });
}

/** Best effort: an upload left behind is invisible, and a lifecycle rule or the next cleanup reaps it. */
async function abortUpload(client: S3Client, bucket: string, key: string, uploadId: string | undefined): Promise<void> {
  if (!uploadId) return;
  await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId })).catch(() => undefined);
}

/**
 * Removes what crashed writers left under `<prefix>tmp/`: temporary objects and unfinished
 * uploads older than `staleAfterMs`. Best effort: some services cannot list uploads, and a
 * leftover costs only space.
 */
async function removeStale(client: S3Client, location: S3Location, staleAfterMs: number): Promise<void> {
  const prefix = location.prefix + TEMP;
  const before = Date.now() - staleAfterMs;
  try {
    const page = await client.send(new ListObjectsV2Command({ Bucket: location.bucket, Prefix: prefix }));
    for (const object of page.Contents ?? []) {
      if (object.Key && object.LastModified && object.LastModified.getTime() < before) {
        await client.send(new DeleteObjectCommand({ Bucket: location.bucket, Key: object.Key }));
      }
    }
  } catch {
    // Nothing depends on it.
  }
  try {
    const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: location.bucket, Prefix: prefix }));
    for (const upload of uploads.Uploads ?? []) {
      if (upload.Key && upload.Initiated && upload.Initiated.getTime() < before) await abortUpload(client, location.bucket, upload.Key, upload.UploadId);
    }
  } catch {
    // s3rver and some others do not list uploads: a lifecycle rule reaps them there.
  }
}

function looksLikeS3(error: unknown): boolean {
  return typeof error === 'object' && error !== null && ('$metadata' in error || '$fault' in error || (error as { name?: string }).name === 'CredentialsProviderError');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
