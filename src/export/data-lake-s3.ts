/**
 * The data lake in an S3 bucket (GRAX writes its lake to the customer's own bucket): the same
 * layout as a folder lake, under the `s3://` URL's prefix, for Athena, Spark or DuckDB's httpfs.
 *
 * A file is written as a multipart upload to its final key and published by completing it: S3
 * shows an object only once its upload completes, and a completed upload replaces an older object
 * of that key atomically, so a reader sees the old file or the new, never half of one (what the
 * folder lake gets from a rename). A small file is one PUT at publish, equally atomic. A discarded
 * or crashed write leaves at worst an unfinished upload, never an object; a bucket lifecycle rule
 * (AbortIncompleteMultipartUpload) reclaims those.
 */
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { formatS3Location } from '../core/s3-location.ts';
import type { S3Location } from '../core/s3-location.ts';
import { MIN_PART_BYTES, MultipartWriter, bucketCheck, createS3Client, isS3NotFound, putObject, s3Failure } from '../store/s3-connection.ts';
import type { S3Credentials } from '../store/s3-connection.ts';
import type { DataLakeStore, StagedFile } from './data-lake.ts';

export interface S3DataLakeOptions {
  /** Static credentials; absent, the AWS SDK's default chain finds them. */
  credentials?: S3Credentials;
  /** A client of your own; built from the location otherwise. */
  client?: S3Client;
  /** Multipart part size (at least 5 MiB, the default): what one file being written holds in memory. */
  partBytes?: number;
}

/** A data lake under an S3 location. Nothing is sent until it is used; its first use checks the bucket. */
export function s3DataLake(location: S3Location, options: S3DataLakeOptions = {}): DataLakeStore {
  const client = options.client ?? createS3Client(location, options.credentials);
  const checkBucket = bucketCheck(client, location);
  const key = (path: string): string => location.prefix + path;
  const fail = (error: unknown, doing: string): Error => s3Failure(error, location, doing);
  return {
    location: formatS3Location(location),
    async create(path) {
      await checkBucket();
      const writer = new MultipartWriter(client, location, key(path), options.partBytes ?? MIN_PART_BYTES);
      const stream = new Writable({
        write(chunk: Buffer, _encoding, callback) {
          writer.write(chunk).then(
            () => callback(),
            (error: unknown) => callback(fail(error, `write ${path} to`)),
          );
        },
      });
      const staged: StagedFile = {
        stream,
        async publish() {
          if (!stream.writableFinished) await finished(stream);
          try {
            if (writer.started) await writer.complete();
            else await putObject(client, location, writer.key, writer.buffered());
          } catch (error) {
            await writer.abort();
            throw fail(error, `publish ${path} to`);
          }
        },
        async discard() {
          stream.destroy();
          await writer.abort();
        },
      };
      return staged;
    },
    async read(path) {
      await checkBucket();
      try {
        const answer = await client.send(new GetObjectCommand({ Bucket: location.bucket, Key: key(path) }));
        return Buffer.from(await answer.Body!.transformToByteArray());
      } catch (error) {
        if (isS3NotFound(error)) return undefined;
        throw fail(error, `read ${path} from`);
      }
    },
    async exists(path) {
      await checkBucket();
      try {
        await client.send(new HeadObjectCommand({ Bucket: location.bucket, Key: key(path) }));
        return true;
      } catch (error) {
        if (isS3NotFound(error)) return false;
        throw fail(error, `look up ${path} in`);
      }
    },
    async remove(path) {
      await checkBucket();
      try {
        await client.send(new DeleteObjectCommand({ Bucket: location.bucket, Key: key(path) }));
      } catch (error) {
        throw fail(error, `delete ${path} from`);
      }
    },
    async list(prefix) {
      await checkBucket();
      const paths: string[] = [];
      let token: string | undefined;
      do {
        let page;
        try {
          page = await client.send(new ListObjectsV2Command({ Bucket: location.bucket, Prefix: key(prefix), ContinuationToken: token }));
        } catch (error) {
          throw fail(error, `list ${prefix || 'the files'} in`);
        }
        for (const object of page.Contents ?? []) {
          // A "folder" marker some consoles create is not a file.
          if (object.Key && !object.Key.endsWith('/')) paths.push(object.Key.slice(location.prefix.length));
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return paths.sort();
    },
  };
}
