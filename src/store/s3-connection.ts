/**
 * What the S3 blob store (`s3/blob-store.ts`) and the data lake's S3 target
 * (`src/export/data-lake-s3.ts`) share: the client built from an `s3://` location, the bucket
 * check, the translation of the SDK's failures into orgvault errors that say what to fix, and a
 * multipart writer that never holds more than one part of a body in memory.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadBucketCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { CompletedPart, S3ClientConfig, ServerSideEncryption } from '@aws-sdk/client-s3';
import { OrgvaultError } from '../core/errors.ts';
import type { S3Location } from '../core/s3-location.ts';

/** Static credentials; without them the AWS SDK's default chain is used (environment, profile, SSO, roles). */
export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** The smallest part S3 accepts (but for the last one), and the default part size. */
export const MIN_PART_BYTES = 5 * 1024 * 1024;
/** S3's limit on the parts of one upload. */
export const MAX_PARTS = 10_000;

/**
 * An S3 client for `location`. Credentials come from the SDK's default chain unless given. Only
 * the checksums S3 requires are computed: several S3-compatible services refuse the SDK's newer
 * default ones, and the bodies orgvault stores are authenticated by their own sealing anyway.
 */
export function createS3Client(location: S3Location, credentials?: S3Credentials): S3Client {
  // The SDK warns once per process that it will drop Node 20 in 2027; on a CLI's stderr that reads
  // as orgvault's own problem. This is the SDK's documented switch, left alone if the user set it.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const config: S3ClientConfig = {
    forcePathStyle: location.forcePathStyle ?? location.endpoint !== undefined,
    followRegionRedirects: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: { connectionTimeout: 10_000, requestTimeout: 300_000 },
  };
  if (location.endpoint) config.endpoint = location.endpoint;
  // A custom endpoint with no region configured anywhere is a MinIO or the like: any name does.
  const region = location.region ?? (location.endpoint ? (process.env.AWS_REGION ?? 'us-east-1') : undefined);
  if (region) config.region = region;
  if (credentials) config.credentials = credentials;
  return new S3Client(config);
}

/** The server-side encryption parameters every write (put, create upload, copy) carries. */
export function sseParams(location: S3Location): { ServerSideEncryption?: ServerSideEncryption; SSEKMSKeyId?: string } {
  if (!location.sse) return {};
  if (location.sse.type === 'AES256') return { ServerSideEncryption: 'AES256' };
  return location.sse.kmsKeyId ? { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: location.sse.kmsKeyId } : { ServerSideEncryption: 'aws:kms' };
}

/** Where, in words, for messages: the bucket and the service, never a credential. */
export function describeLocation(location: S3Location): string {
  const service = location.endpoint ? `at ${location.endpoint}` : `on Amazon S3${location.region ? ` (${location.region})` : ''}`;
  return `bucket "${location.bucket}"${location.prefix ? ` (prefix ${location.prefix})` : ''} ${service}`;
}

interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  Code?: string;
}

function fields(error: unknown): SdkError {
  return typeof error === 'object' && error !== null ? (error as SdkError) : {};
}

/** The HTTP status of an S3 answer, or undefined when the service never answered. */
export function s3Status(error: unknown): number | undefined {
  return fields(error).$metadata?.httpStatusCode;
}

/** A 404: no such key (or, on a HEAD, no such bucket: check the bucket first). */
export function isS3NotFound(error: unknown): boolean {
  const { name } = fields(error);
  return name === 'NoSuchKey' || name === 'NotFound' || s3Status(error) === 404;
}

const NETWORK = ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ERR_INVALID_URL', 'CERT_HAS_EXPIRED', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'];
const DENIED = ['AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'Forbidden', 'ExpiredToken', 'InvalidToken', 'TokenRefreshRequired', 'AuthorizationHeaderMalformed', 'AllAccessDisabled', 'AccountProblem'];

/**
 * Turns an SDK failure into an OrgvaultError naming the bucket and the service and saying how to
 * fix it. `doing` completes "could not … ": "write blob 1f2e… to", "list". The SDK's messages
 * never hold the secret key (it is not sent, only used to sign), so they may be quoted.
 */
export function s3Failure(error: unknown, location: S3Location, doing: string): OrgvaultError {
  if (error instanceof OrgvaultError) return error;
  const where = describeLocation(location);
  const { name = '', code = '', message = String(error) } = fields(error);
  const status = s3Status(error);
  const reason = `${name && name !== 'Error' ? `${name}: ` : ''}${message}`;
  if (name === 'NoSuchBucket' || (name === 'NotFound' && doing === 'check')) {
    return new OrgvaultError('S3_NO_SUCH_BUCKET', `The ${where} does not exist. Create it (aws s3 mb s3://${location.bucket}, or in the service's console), or fix the bucket name, endpoint or region in the s3:// URL.`, { cause: error });
  }
  if (name === 'CredentialsProviderError' || /could not load credentials/i.test(message)) {
    return new OrgvaultError('S3_NO_CREDENTIALS', `No credentials for the ${where}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE, or run where an IAM role applies) for the orgvault process.`, { cause: error });
  }
  if (/region is missing/i.test(message)) {
    return new OrgvaultError('S3_NO_REGION', `No region is configured for the ${where}: add ?region=… to the s3:// URL, or set AWS_REGION.`, { cause: error });
  }
  if (DENIED.includes(name) || status === 403) {
    return new OrgvaultError('S3_ACCESS_DENIED', `The ${where} refused orgvault's credentials when asked to ${doing} (${reason}). Check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or the AWS profile or role in use) and that they allow s3:GetObject, s3:PutObject, s3:DeleteObject and s3:ListBucket on this bucket${location.sse?.type === 'aws:kms' ? ', and kms:GenerateDataKey and kms:Decrypt on its KMS key' : ''}.`, { cause: error });
  }
  const network = NETWORK.find((c) => c === code || c === name || message.includes(c));
  if (network || name === 'TimeoutError' || (status === undefined && /socket|connect|network|timed? ?out/i.test(message))) {
    return new OrgvaultError('S3_UNREACHABLE', `Cannot reach the ${where} to ${doing} (${network ?? reason}). Check the endpoint URL, that the service runs and that this machine can reach it${location.endpoint?.startsWith('https:') ? ' (and trusts its certificate)' : ''}.`, { cause: error });
  }
  return new OrgvaultError('S3_FAILED', `The ${where} failed to ${doing}: ${reason}${status ? ` (HTTP ${status})` : ''}.`, { cause: error });
}

/**
 * Checks once that the bucket exists and the credentials reach it (a HEAD on a missing bucket and
 * on a missing key both answer a bare 404, so this tells them apart), then remembers it. A failed
 * check is not remembered: the next call tries again.
 */
export function bucketCheck(client: S3Client, location: S3Location): () => Promise<void> {
  let checked: Promise<void> | undefined;
  return () => {
    checked ??= client.send(new HeadBucketCommand({ Bucket: location.bucket })).then(
      () => undefined,
      (error: unknown) => {
        checked = undefined;
        throw s3Failure(error, location, 'check');
      },
    );
    return checked;
  };
}

/**
 * Writes a body to one key in parts of `partBytes`, as a multipart upload started only once the
 * body outgrows one part: a smaller body stays in memory (`buffered()`) for a single PUT. Parts go
 * one at a time, from one reused buffer, so memory stays at one part whatever the body's size. The
 * object appears only when `complete` is called (S3 completes an upload atomically); `abort`
 * drops what was sent.
 */
export class MultipartWriter {
  private pieces: Buffer[] = [];
  private piecesBytes = 0;
  private part: Buffer | undefined;
  private filled = 0;
  private uploadId: string | undefined;
  private readonly parts: CompletedPart[] = [];
  bytes = 0;

  constructor(
    private readonly client: S3Client,
    private readonly location: S3Location,
    readonly key: string,
    private readonly partBytes = MIN_PART_BYTES,
  ) {}

  get started(): boolean {
    return this.uploadId !== undefined;
  }

  async write(data: Uint8Array): Promise<void> {
    this.bytes += data.length;
    if (!this.part) {
      // Below one part, keep the pieces: most bodies are small, and a part buffer is 5 MiB.
      if (this.piecesBytes + data.length < this.partBytes) {
        this.pieces.push(Buffer.from(data));
        this.piecesBytes += data.length;
        return;
      }
      this.part = Buffer.allocUnsafe(this.partBytes);
      for (const piece of this.pieces) this.filled += piece.copy(this.part, this.filled);
      this.pieces = [];
      this.piecesBytes = 0;
    }
    let offset = 0;
    while (offset < data.length) {
      if (this.filled === this.partBytes) await this.flush();
      const n = Math.min(data.length - offset, this.partBytes - this.filled);
      Buffer.from(data.buffer, data.byteOffset + offset, n).copy(this.part, this.filled);
      this.filled += n;
      offset += n;
    }
  }

  /** The whole body, when it never outgrew one part (`started` is false). */
  buffered(): Buffer {
    if (this.part) return this.part.subarray(0, this.filled);
    return this.pieces.length === 1 ? this.pieces[0]! : Buffer.concat(this.pieces);
  }

  /** Sends the last part and completes the upload; the object is then visible, whole. */
  async complete(condition: { IfNoneMatch?: string } = {}): Promise<void> {
    if (this.filled > 0 || !this.started) await this.flush();
    try {
      await this.client.send(
        new CompleteMultipartUploadCommand({ Bucket: this.location.bucket, Key: this.key, UploadId: this.uploadId, MultipartUpload: { Parts: this.parts }, ...condition }),
      );
    } finally {
      this.part = undefined;
    }
  }

  /** Best effort: an upload left behind is invisible, and a bucket lifecycle rule reaps it. */
  async abort(): Promise<void> {
    this.part = undefined;
    this.pieces = [];
    if (!this.uploadId) return;
    await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.location.bucket, Key: this.key, UploadId: this.uploadId })).catch(() => undefined);
  }

  private async flush(): Promise<void> {
    if (!this.uploadId) {
      const created = await this.client.send(new CreateMultipartUploadCommand({ Bucket: this.location.bucket, Key: this.key, ...sseParams(this.location) }));
      if (!created.UploadId) throw new Error('the service started a multipart upload without an upload ID');
      this.uploadId = created.UploadId;
    }
    const partNumber = this.parts.length + 1;
    if (partNumber > MAX_PARTS) {
      throw new OrgvaultError('S3_BODY_TOO_LARGE', `A body larger than ${MAX_PARTS} parts of ${this.partBytes} bytes cannot be uploaded to the ${describeLocation(this.location)}; raise the part size.`);
    }
    const body = this.part ? this.part.subarray(0, this.filled) : this.buffered();
    const answer = await this.client.send(
      new UploadPartCommand({ Bucket: this.location.bucket, Key: this.key, UploadId: this.uploadId, PartNumber: partNumber, Body: body, ContentLength: body.length }),
    );
    this.parts.push({ PartNumber: partNumber, ETag: answer.ETag });
    this.filled = 0;
  }
}

/** A single PUT of a whole (small) body, with the location's server-side encryption. */
export function putObject(client: S3Client, location: S3Location, key: string, body: Buffer, condition: { IfNoneMatch?: string } = {}): Promise<unknown> {
  return client.send(new PutObjectCommand({ Bucket: location.bucket, Key: key, Body: body, ContentLength: body.length, ...sseParams(location), ...condition }));
}
