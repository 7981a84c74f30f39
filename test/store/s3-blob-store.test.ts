// The S3 blob store: the BlobStore contract against a real S3-protocol server (s3rver, in this
// process), plus what only S3 shows: prefixes sharing a bucket, multipart bodies, server-side
// encryption on every write, the errors of a wrong bucket, wrong credentials or no service, and
// blobs that copy byte for byte between a folder and a bucket.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { OrgvaultError } from '../../src/core/errors.ts';
import { parseS3Url } from '../../src/core/s3-location.ts';
import type { S3Location } from '../../src/core/s3-location.ts';
import { deriveKeyring, generateDataKey } from '../../src/crypto/keys.ts';
import type { Keyring } from '../../src/crypto/keys.ts';
import { blobPath, openFsBlobStore } from '../../src/store/fs/blob-store.ts';
import { openS3BlobStore } from '../../src/store/s3/blob-store.ts';
import { createS3Client } from '../../src/store/s3-connection.ts';
import type { BlobStore } from '../../src/store/port.ts';
import { blobStoreContract, body } from '../contracts/blob-store.contract.ts';
import type { BlobDamage } from '../contracts/blob-store.contract.ts';
import { startS3Server } from '../fixtures/s3-server.ts';

const MiB = 1024 * 1024;
const s3 = await startS3Server();
after(() => s3.stop());
const admin = createS3Client(parseS3Url(s3.url('')), s3.credentials);

function fresh(prefix = `t-${randomUUID()}`, keyring: Keyring = deriveKeyring(generateDataKey(), randomUUID())): { location: S3Location; keyring: Keyring; blobs: BlobStore } {
  const location = parseS3Url(s3.url(prefix));
  return { location, keyring, blobs: openS3BlobStore({ location, keyring, credentials: s3.credentials }) };
}

async function rawObject(key: string): Promise<Buffer> {
  const answer = await admin.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
  return Buffer.from(await answer.Body!.transformToByteArray());
}

async function keysUnder(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await admin.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: prefix, ContinuationToken: token }));
    keys.push(...(page.Contents ?? []).map((o) => o.Key!));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys.sort();
}

async function removeUnder(prefix: string): Promise<void> {
  for (const key of await keysUnder(prefix)) await admin.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: key }));
}

async function collect<T>(source: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of source) out.push(item);
  return out;
}

const keyOf = (location: S3Location, address: string): string => `${location.prefix}${address.slice(0, 2)}/${address.slice(2, 4)}/${address}`;

blobStoreContract('S3 (s3rver)', async () => {
  const { location, blobs } = fresh();
  return {
    blobs,
    cleanup: () => removeUnder(location.prefix),
    corrupt: async (address: string, damage: BlobDamage = { flipByteAt: 20 }) => {
      const key = keyOf(location, address);
      let bytes = await rawObject(key);
      if ('truncateBy' in damage) bytes = bytes.subarray(0, Math.max(0, bytes.length - damage.truncateBy));
      else {
        const at = damage.flipByteAt < 0 ? bytes.length + damage.flipByteAt : damage.flipByteAt;
        bytes[at] = bytes[at]! ^ 0x01;
      }
      await admin.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: bytes }));
    },
  };
});

describe('S3 blob store', () => {
  test('stores under <prefix>/<aa>/<bb>/<address>, sealed, and leaves no temporary object', async () => {
    const { location, blobs } = fresh();
    const { address } = await blobs.put(body(5000));
    assert.deepEqual(await keysUnder(location.prefix), [keyOf(location, address)]);
    const raw = await rawObject(keyOf(location, address));
    assert.equal(raw.subarray(0, 4).toString(), 'OVB1');
    const plain = Buffer.concat(await collect(body(5000)));
    assert.equal(raw.includes(plain.subarray(100, 132)), false);
    assert.equal(await blobs.size(address), raw.length);
    assert.equal(await blobs.size('f'.repeat(64)), undefined);
  });

  test('two stores in one bucket under different prefixes do not see each other', async () => {
    const keyring = deriveKeyring(generateDataKey(), randomUUID());
    const base = `t-${randomUUID()}`;
    // "base" is a string prefix of "base-2": only the folder separator keeps them apart.
    const one = fresh(base, keyring);
    const two = fresh(`${base}-2`, keyring);
    const nested = fresh(`${base}/ab`, keyring);
    const shared = await one.blobs.put(body(3000, 1));
    const onlyTwo = await two.blobs.put(body(3000, 2));
    assert.equal((await two.blobs.put(body(3000, 1))).stored, true, 'the same content is stored again under the other prefix');
    await nested.blobs.put(body(100, 3));
    assert.deepEqual(await collect(one.blobs.list()), [shared.address]);
    assert.deepEqual(await collect(two.blobs.list()), [shared.address, onlyTwo.address].sort());
    assert.equal(await one.blobs.has(onlyTwo.address), false);
    await one.blobs.delete(shared.address);
    assert.equal(await two.blobs.has(shared.address), true);
    assert.equal(Buffer.concat(await collect(two.blobs.get(shared.address))).length, 3000);
  });

  test('lists past one page of ListObjectsV2 (1,000 keys), in address order, skipping foreign keys', async () => {
    const paging = await startS3Server({ paging: true });
    after(() => paging.stop());
    const location = parseS3Url(paging.url());
    const blobs = openS3BlobStore({ location, keyring: deriveKeyring(generateDataKey(), randomUUID()), credentials: paging.credentials });
    const admin = createS3Client(location, paging.credentials);
    const addresses = Array.from({ length: 1005 }, () => randomBytes(32).toString('hex')).sort();
    const keys = [...addresses.map((a) => keyOf(location, a)), `${location.prefix}README.txt`, `${location.prefix}ab/cd/not-an-address`, `${location.prefix}tmp/1-x.partial`];
    for (let i = 0; i < keys.length; i += 25) {
      await Promise.all(keys.slice(i, i + 25).map((Key) => admin.send(new PutObjectCommand({ Bucket: s3.bucket, Key, Body: Buffer.from('x') }))));
    }
    assert.deepEqual(await collect(blobs.list()), addresses);
  });

  test('a multipart-sized body goes through a temporary upload, round-trips, and is not replaced by a second put', async () => {
    const { location, blobs } = fresh();
    const size = 2 * 5 * MiB + 12345; // three parts of the default 5 MiB
    const first = await blobs.put(body(size, 77));
    assert.equal(first.stored, true);
    assert.equal(first.size, size);
    const key = keyOf(location, first.address);
    assert.deepEqual(await keysUnder(location.prefix), [key], 'the temporary object is gone');
    const raw = await rawObject(key);
    const again = await blobs.put(body(size, 77));
    assert.deepEqual(again, { ...first, stored: false });
    assert.deepEqual(await rawObject(key), raw, 'the stored object is untouched');
    assert.deepEqual(await keysUnder(location.prefix), [key]);
    const read = Buffer.concat(await collect(blobs.get(first.address)));
    assert.deepEqual(read, Buffer.concat(await collect(body(size, 77))));
  });

  test('every write carries the server-side encryption asked for', async () => {
    const cases: Array<Record<string, string>> = [{ sse: 'AES256' }, { sse: 'aws:kms', kmsKeyId: 'arn:aws:kms:us-east-1:111122223333:key/orgvault-test' }];
    for (const params of cases) {
      const location = parseS3Url(s3.url(`t-${randomUUID()}`, params));
      const client = createS3Client(location, s3.credentials);
      const writes: Array<{ method: string; query: string; headers: Record<string, string> }> = [];
      client.middlewareStack.add(
        (next) => async (args) => {
          const request = args.request as { method: string; query: Record<string, unknown>; headers: Record<string, string> };
          if (request.method === 'PUT' || request.method === 'POST') writes.push({ method: request.method, query: Object.keys(request.query).join(','), headers: request.headers });
          return next(args);
        },
        { step: 'finalizeRequest', name: 'recordWrites' },
      );
      const blobs = openS3BlobStore({ location, keyring: deriveKeyring(generateDataKey(), randomUUID()), client });
      await blobs.put(body(1000, 1)); // one PUT
      await blobs.put(body(6 * MiB, 2)); // create upload, two parts, complete, copy
      const starts = writes.filter((w) => (w.method === 'PUT' && !w.query.includes('uploadId')) || (w.method === 'POST' && w.query.includes('uploads')));
      assert.equal(starts.length, 3, `a PUT, a CreateMultipartUpload and a CopyObject: ${JSON.stringify(writes.map((w) => `${w.method} ${w.query}`))}`);
      for (const write of starts) {
        assert.equal(write.headers['x-amz-server-side-encryption'], params.sse);
        assert.equal(write.headers['x-amz-server-side-encryption-aws-kms-key-id'], params.kmsKeyId);
      }
      assert.ok(starts.every((w) => w.method === 'POST' || w.headers['if-none-match'] === '*'), 'writes to an address are conditional');
      await removeUnder(location.prefix);
    }
  });

  test('a missing bucket is an S3_NO_SUCH_BUCKET error naming the bucket and the endpoint', async () => {
    const location = { ...parseS3Url(s3.url('x')), bucket: 'no-such-orgvault-bucket' };
    const blobs = openS3BlobStore({ location, keyring: deriveKeyring(generateDataKey(), randomUUID()), credentials: s3.credentials });
    for (const attempt of [() => blobs.put(body(10)), () => blobs.has('a'.repeat(64)), () => collect(blobs.list())]) {
      await assert.rejects(attempt(), (error: unknown) => {
        assert.ok(error instanceof OrgvaultError);
        assert.equal(error.code, 'S3_NO_SUCH_BUCKET');
        assert.match(error.message, /no-such-orgvault-bucket/);
        assert.ok(error.message.includes(s3.endpoint));
        assert.match(error.message, /Create it/);
        return true;
      });
    }
  });

  test('refused credentials are an S3_ACCESS_DENIED error that never shows the secret', async () => {
    const secret = 'not-the-secret-0123456789';
    // s3rver checks a SigV4 request's access key but not its signature: a wrong secret alone passes there.
    for (const credentials of [{ accessKeyId: 'NOSUCHKEY', secretAccessKey: secret }]) {
      const blobs = openS3BlobStore({ location: parseS3Url(s3.url('x')), keyring: deriveKeyring(generateDataKey(), randomUUID()), credentials });
      await assert.rejects(blobs.put(body(10)), (error: unknown) => {
        assert.ok(error instanceof OrgvaultError);
        assert.equal(error.code, 'S3_ACCESS_DENIED');
        assert.match(error.message, /orgvault-test/);
        assert.match(error.message, /AWS_ACCESS_KEY_ID/);
        assert.equal(error.message.includes(secret), false);
        return true;
      });
    }
  });

  test('an unreachable endpoint is an S3_UNREACHABLE error naming it', async () => {
    const location = parseS3Url('s3://orgvault-test/x?endpoint=http://127.0.0.1:9&region=us-east-1');
    const blobs = openS3BlobStore({ location, keyring: deriveKeyring(generateDataKey(), randomUUID()), credentials: s3.credentials });
    await assert.rejects(blobs.has('a'.repeat(64)), (error: unknown) => {
      assert.ok(error instanceof OrgvaultError);
      assert.equal(error.code, 'S3_UNREACHABLE');
      assert.match(error.message, /http:\/\/127\.0\.0\.1:9/);
      assert.match(error.message, /ECONNREFUSED/);
      return true;
    });
  });

  test('a blob copies byte for byte between a folder and a bucket, both ways', async () => {
    const keyring = deriveKeyring(generateDataKey(), randomUUID());
    const dir = await mkdtemp(join(tmpdir(), 'orgvault-s3-copy-'));
    try {
      const folder = openFsBlobStore({ dir, keyring });
      const bucket = fresh(undefined, keyring);
      const inFolder = await folder.put(body(MiB + 9, 11));
      const inBucket = await bucket.blobs.put(body(2000, 12));
      // As `aws s3 sync` would: the same bytes under the same relative names.
      await admin.send(new PutObjectCommand({ Bucket: s3.bucket, Key: keyOf(bucket.location, inFolder.address), Body: await readFile(blobPath(dir, inFolder.address)) }));
      const target = blobPath(dir, inBucket.address);
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, await rawObject(keyOf(bucket.location, inBucket.address)));
      assert.deepEqual(Buffer.concat(await collect(bucket.blobs.get(inFolder.address))), Buffer.concat(await collect(body(MiB + 9, 11))));
      assert.deepEqual(Buffer.concat(await collect(folder.get(inBucket.address))), Buffer.concat(await collect(body(2000, 12))));
      assert.deepEqual((await collect(bucket.blobs.list())).sort(), [inFolder.address, inBucket.address].sort());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('leftovers of a crashed writer older than the limit are removed on the first write', async () => {
    const { location, keyring } = fresh();
    const stale = `${location.prefix}tmp/123-crashed.partial`;
    await admin.send(new PutObjectCommand({ Bucket: s3.bucket, Key: stale, Body: Buffer.from('half a blob') }));
    const live = openS3BlobStore({ location, keyring, credentials: s3.credentials });
    await live.put(body(10));
    assert.ok((await keysUnder(location.prefix)).includes(stale), 'a fresh temporary object may be a live writer\'s: kept');
    assert.deepEqual(await collect(live.list()), (await collect(live.list())).filter((a) => !a.includes('tmp')));
    const later = openS3BlobStore({ location, keyring, credentials: s3.credentials, staleAfterMs: -1000 });
    await later.put(body(11));
    assert.equal((await keysUnder(location.prefix)).includes(stale), false);
  });

  test('creating a client prints no SDK warning', () => {
    const script = `import { createS3Client } from './src/store/s3-connection.ts'; createS3Client({ bucket: 'b', prefix: '', endpoint: 'http://127.0.0.1:9' }); console.log('ok');`;
    const env = { ...process.env };
    delete env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
    delete env.NODE_TEST_CONTEXT;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: join(import.meta.dirname, '../..'), env, encoding: 'utf8' });
    assert.equal(run.stdout.trim(), 'ok', run.stderr);
    assert.doesNotMatch(run.stderr, /NodeVersionSupportWarning|AWS SDK/);
  });
});

describe('s3:// URLs', () => {
  test('parse every documented part', () => {
    assert.deepEqual(parseS3Url('s3://my-bucket'), { bucket: 'my-bucket', prefix: '' });
    assert.deepEqual(parseS3Url('s3://my-bucket/'), { bucket: 'my-bucket', prefix: '' });
    assert.deepEqual(parseS3Url('s3://my.bucket/backups/acme/'), { bucket: 'my.bucket', prefix: 'backups/acme/' });
    assert.deepEqual(parseS3Url('s3://b12/p?endpoint=http://minio:9000&region=eu-west-3&pathStyle=false&sse=aws:kms&kmsKeyId=alias/orgvault'), {
      bucket: 'b12',
      prefix: 'p/',
      endpoint: 'http://minio:9000',
      region: 'eu-west-3',
      forcePathStyle: false,
      sse: { type: 'aws:kms', kmsKeyId: 'alias/orgvault' },
    });
    assert.deepEqual(parseS3Url('s3://b12/a%20b?sse=AES256').sse, { type: 'AES256' });
    assert.equal(parseS3Url('s3://b12/a%20b').prefix, 'a b/');
  });

  const bad: Array<[string, RegExp]> = [
    ['/srv/blobs', /not an s3:\/\/ URL/],
    ['s3://', /names no bucket/],
    ['s3://My_Bucket/x', /not a valid bucket name/],
    ['s3://ab', /not a valid bucket name/],
    ['s3://b12/a//b', /empty, "\." or "\.\." folder/],
    ['s3://b12/../b', /empty, "\." or "\.\." folder/],
    ['s3://b12?regoin=us-east-1', /Unknown s3:\/\/ URL parameter.*"regoin".*region/],
    ['s3://b12?endpoint=minio:9000', /http:\/\/ or https:\/\//],
    ['s3://b12?endpoint=not a url', /not a URL/],
    ['s3://b12?pathStyle=yes', /pathStyle is true or false/],
    ['s3://b12?sse=KMS', /sse is AES256.*or aws:kms/],
    ['s3://b12?kmsKeyId=k', /kmsKeyId names the KMS key of sse=aws:kms/],
    ['s3://b12?region=US%20East', /not a region name/],
    ['s3://b12?region=a&region=b', /more than once/],
  ];
  for (const [url, message] of bad) {
    test(`refuses ${url}`, () => assert.throws(() => parseS3Url(url), (error: unknown) => error instanceof OrgvaultError && error.code === 'USAGE' && message.test(error.message)));
  }

  test('refuses credentials in the URL without repeating them', () => {
    for (const url of ['s3://AKIA:s3cr3t-value@bucket/p', 's3://bucket/p?endpoint=http://AKIA:s3cr3t-value@minio:9000']) {
      assert.throws(
        () => parseS3Url(url),
        (error: unknown) => error instanceof OrgvaultError && /AWS_ACCESS_KEY_ID/.test(error.message) && !error.message.includes('s3cr3t'),
      );
    }
  });
});
