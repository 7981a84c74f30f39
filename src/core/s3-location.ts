/**
 * Where in an S3-compatible object store something lives, written as one URL so that it fits a
 * flag (`--blobs s3://…`, `--data-lake s3://…`), an environment variable or a settings field:
 *
 *   s3://BUCKET[/PREFIX][?endpoint=URL&region=REGION&pathStyle=true|false&sse=AES256|aws:kms&kmsKeyId=ID]
 *
 * - BUCKET: the bucket's name (3 to 63 lowercase letters, digits, dots and hyphens).
 * - PREFIX: a folder inside the bucket (`backups/acme`); everything goes under `PREFIX/`.
 * - endpoint: an S3-compatible service (MinIO, Ceph, Wasabi, R2, …) as `http(s)://host[:port]`;
 *   absent: Amazon S3.
 * - region: the bucket's region; absent: the SDK's usual chain (AWS_REGION, the profile), and
 *   `us-east-1` for a custom endpoint when none is set.
 * - pathStyle: `true` addresses the bucket in the path (`host/bucket/key`) rather than the host
 *   name (`bucket.host/key`); default true with a custom endpoint, false for Amazon S3.
 * - sse: server-side encryption asked of the service on every write: `AES256` (SSE-S3) or
 *   `aws:kms` (SSE-KMS, with `kmsKeyId` naming the key; absent: the account's default KMS key).
 *
 * Credentials never go in the URL: they come from the AWS SDK's default chain (AWS_ACCESS_KEY_ID
 * and AWS_SECRET_ACCESS_KEY, AWS_PROFILE and ~/.aws, SSO, web identity, instance and container
 * roles), so the URL can be logged, stored in settings and shown on the dashboard.
 */
import { UsageError } from './errors.ts';

export type S3ServerSideEncryption = { type: 'AES256' } | { type: 'aws:kms'; kmsKeyId?: string };

export interface S3Location {
  bucket: string;
  /** '' or a `/`-separated folder ending in `/`: keys are `prefix + name`. */
  prefix: string;
  /** An S3-compatible service's URL; undefined for Amazon S3. */
  endpoint?: string;
  region?: string;
  forcePathStyle?: boolean;
  sse?: S3ServerSideEncryption;
}

const PARAMS = ['endpoint', 'region', 'pathStyle', 'sse', 'kmsKeyId'];
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const REGION = /^[a-z0-9][a-z0-9-]{0,62}$/;
const FORM = 's3://bucket/prefix?endpoint=https://host:port&region=…&pathStyle=true&sse=AES256|aws:kms&kmsKeyId=…';

/** Parses an `s3://` URL (the form above); a UsageError says what is wrong and how to write it. */
export function parseS3Url(url: string): S3Location {
  const text = url.trim();
  if (!/^s3:\/\//i.test(text)) throw new UsageError(`"${clip(text)}" is not an s3:// URL; write ${FORM}.`);
  const rest = text.slice('s3://'.length);
  const queryAt = rest.indexOf('?');
  const path = queryAt < 0 ? rest : rest.slice(0, queryAt);
  const query = new URLSearchParams(queryAt < 0 ? '' : rest.slice(queryAt + 1));
  const slash = path.indexOf('/');
  const bucket = slash < 0 ? path : path.slice(0, slash);
  if (bucket.includes('@')) {
    // Never echo it: what precedes the @ may be a secret key.
    throw new UsageError('An s3:// URL must not carry credentials (user:secret@bucket); set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, in the environment instead.');
  }
  if (!bucket) throw new UsageError(`"${clip(text)}" names no bucket; write ${FORM}.`);
  if (!BUCKET.test(bucket) || bucket.includes('..')) {
    throw new UsageError(`"${clip(bucket)}" is not a valid bucket name: 3 to 63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit.`);
  }
  const prefix = parsePrefix(slash < 0 ? '' : path.slice(slash + 1));

  const unknown = [...query.keys()].filter((key) => !PARAMS.includes(key));
  if (unknown.length) throw new UsageError(`Unknown s3:// URL parameter(s) ${unknown.map((k) => `"${clip(k)}"`).join(', ')}: the parameters are ${PARAMS.join(', ')}.`);
  for (const key of PARAMS) if (query.getAll(key).length > 1) throw new UsageError(`The s3:// URL gives "${key}" more than once.`);
  const location: S3Location = { bucket, prefix };

  const endpoint = query.get('endpoint');
  if (endpoint !== null) location.endpoint = parseEndpoint(endpoint);
  const region = query.get('region');
  if (region !== null) {
    if (!REGION.test(region)) throw new UsageError(`"${clip(region)}" is not a region name (such as us-east-1 or eu-west-3).`);
    location.region = region;
  }
  const pathStyle = query.get('pathStyle');
  if (pathStyle !== null) {
    if (pathStyle !== 'true' && pathStyle !== 'false') throw new UsageError(`pathStyle is true or false in an s3:// URL, not "${clip(pathStyle)}".`);
    location.forcePathStyle = pathStyle === 'true';
  }
  const sse = query.get('sse');
  const kmsKeyId = query.get('kmsKeyId');
  if (sse !== null) {
    if (sse === 'AES256') location.sse = { type: 'AES256' };
    else if (sse === 'aws:kms') location.sse = kmsKeyId ? { type: 'aws:kms', kmsKeyId } : { type: 'aws:kms' };
    else throw new UsageError(`sse is AES256 (keys managed by S3) or aws:kms (keys in AWS KMS) in an s3:// URL, not "${clip(sse)}".`);
  }
  if (kmsKeyId !== null && (location.sse?.type !== 'aws:kms' || !kmsKeyId)) {
    throw new UsageError('kmsKeyId names the KMS key of sse=aws:kms: give both (…&sse=aws:kms&kmsKeyId=arn:aws:kms:…), or neither.');
  }
  return location;
}

/** The location as an s3:// URL, for messages and settings: it holds no secret. */
export function formatS3Location(location: S3Location): string {
  const params = new URLSearchParams();
  if (location.endpoint) params.set('endpoint', location.endpoint);
  if (location.region) params.set('region', location.region);
  if (location.forcePathStyle !== undefined) params.set('pathStyle', String(location.forcePathStyle));
  if (location.sse) params.set('sse', location.sse.type);
  if (location.sse?.type === 'aws:kms' && location.sse.kmsKeyId) params.set('kmsKeyId', location.sse.kmsKeyId);
  const query = params.toString();
  return `s3://${location.bucket}/${location.prefix}${query ? `?${query}` : ''}`;
}

function parsePrefix(raw: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    throw new UsageError(`The prefix "${clip(raw)}" of the s3:// URL has a malformed %-escape.`);
  }
  const trimmed = decoded.replace(/^\/+|\/+$/g, '');
  if (!trimmed) return '';
  const segments = trimmed.split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..')) {
    throw new UsageError(`The prefix "${clip(trimmed)}" of the s3:// URL has an empty, "." or ".." folder; write it as folder/subfolder.`);
  }
  if (/[\u0000-\u001f\u007f\\]/.test(trimmed)) throw new UsageError(`The prefix "${clip(trimmed)}" of the s3:// URL has a control character or a backslash.`);
  if (Buffer.byteLength(trimmed) > 512) throw new UsageError('The prefix of the s3:// URL is longer than 512 bytes: object keys must stay under 1,024.');
  return `${trimmed}/`;
}

function parseEndpoint(raw: string): string {
  if (raw.includes('@')) {
    // Never echo it: what precedes the @ may be a secret key.
    throw new UsageError('The endpoint of an s3:// URL must not carry credentials; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, in the environment instead.');
  }
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new UsageError(`endpoint "${clip(raw)}" is not a URL; write it as http://host:port or https://host (%-encode it inside the s3:// URL if it has a query).`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new UsageError(`endpoint "${clip(raw)}" must be an http:// or https:// URL.`);
  if (parsed.search || parsed.hash) throw new UsageError(`endpoint "${clip(raw)}" must be a plain http(s)://host[:port] URL, without a query or a fragment.`);
  return raw.replace(/\/+$/, '');
}

function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}
