// The data lake in an S3 bucket, against a real S3-protocol server (s3rver, in this process): a
// lake write from a vault lands in the bucket as the same files a folder lake gets, byte for byte;
// the next write adds only what is new; purge takes records out of the bucket's files; a file is
// invisible until published; a missing bucket fails the lake write, not the backup. Credentials
// reach the lake as they would in production: from the AWS SDK's default chain (the environment).
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parquetReadObjects } from 'hyparquet';
import { resolveSettings, storedSettings } from '../../src/backup/index.ts';
import { UsageError } from '../../src/core/errors.ts';
import { parseS3Url } from '../../src/core/s3-location.ts';
import { dataLakeTargetOf, dataLakeTargetText, feedDataLake, folderDataLake, openDataLake, parseDataLakeTarget, writeToDataLake } from '../../src/export/data-lake.ts';
import type { DataLakeStore } from '../../src/export/data-lake.ts';
import { s3DataLake } from '../../src/export/data-lake-s3.ts';
import { purge } from '../../src/retention/index.ts';
import { createServerApp } from '../../src/server/app.ts';
import { addUser } from '../../src/users/index.ts';
import { MIN_PART_BYTES } from '../../src/store/s3-connection.ts';
import { startS3Server } from '../fixtures/s3-server.ts';
import type { TestS3Server } from '../fixtures/s3-server.ts';
import { T0, allVersions, backupBatch, exportFixture, widgetFields, widgetId } from './fixtures.ts';
import type { ExportFixture } from './fixtures.ts';

const HOUR = 3_600_000;

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name)).split('\\').join('/')).sort();
}

/** Every row's Id and version seq in the lake's Parquet files. */
async function lakeRows(lake: DataLakeStore): Promise<Array<{ Id: string; _version_seq: number }>> {
  const rows: Array<{ Id: string; _version_seq: number }> = [];
  for (const path of (await lake.list('')).filter((p) => p.endsWith('.parquet'))) {
    const bytes = (await lake.read(path))!;
    const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    for (const row of (await parquetReadObjects({ file, columns: ['Id', '_version_seq'] })) as Array<{ Id: string; _version_seq: bigint | number }>) {
      rows.push({ Id: row.Id, _version_seq: Number(row._version_seq) });
    }
  }
  return rows.sort((a, b) => a._version_seq - b._version_seq);
}

describe('data lake in an S3 bucket', () => {
  let s3: TestS3Server;
  let fixture: ExportFixture;
  let scratch: string;
  const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };

  before(async () => {
    s3 = await startS3Server();
    process.env.AWS_ACCESS_KEY_ID = s3.credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = s3.credentials.secretAccessKey;
    fixture = await exportFixture();
    scratch = await mkdtemp(join(tmpdir(), 'orgvault-lake-s3-'));
  });
  after(async () => {
    process.env.AWS_ACCESS_KEY_ID = saved.id;
    process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
    if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
    if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
    await fixture?.close();
    await s3?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  const allSeqs = async (): Promise<number[]> =>
    [...(await allVersions(fixture.vault, fixture.org, 'Widget__c')), ...(await allVersions(fixture.vault, fixture.org, 'Attachment'))].map((v) => v.seq).sort((a, b) => a - b);

  test('a backup run writes the same files to a bucket as to a folder, and the next run only what is new', async () => {
    const url = s3.url('lake');
    const { org, vault } = fixture;
    const folder = join(scratch, 'folder-lake');
    const write = { orgId: org.orgId, runId: 'lake-run-1', startedAt: T0, now: T0 + 4 * HOUR };
    const ok = { status: 'Succeeded' as const, message: null, counters: {} as Record<string, number> };
    const notices: string[] = [];
    const result = await feedDataLake(vault.store, { url }, write, ok, (m) => notices.push(m));
    assert.equal(result.status, 'Succeeded', result.message ?? '');
    assert.equal(result.counters.dataLakeVersions, (await allSeqs()).length);
    assert.match(notices.join('\n'), /Parquet file\(s\) in s3:\/\/orgvault-test\/lake\//);
    await writeToDataLake(vault.store, folderDataLake(folder), write);

    const bucket = openDataLake({ url });
    const paths = await bucket.list('');
    assert.deepEqual(paths, await filesUnder(folder));
    assert.ok(paths.some((p) => p === `org=${org.orgId}/object=Widget__c/date=2025-03-01/lake-run-1-1.parquet`), paths.join(', '));
    for (const path of paths.filter((p) => p.endsWith('.parquet'))) {
      assert.deepEqual(await bucket.read(path), await readFile(join(folder, ...path.split('/'))), `${path} is the same bytes in both lakes`);
    }
    assert.deepEqual((await lakeRows(bucket)).map((r) => r._version_seq), await allSeqs());

    // A fourth backup: only its version goes to the lake, in a file of its own.
    const at = T0 + 5 * HOUR;
    await backupBatch(vault, org, 'run-4-backup', at, 'Widget__c', [{ recordId: widgetId(5), systemModstamp: at - 10, changeType: 'updated', isDeleted: false, lastModifiedById: null, fields: widgetFields(5, at - 10, { Name: 'five again' }) }]);
    const next = await feedDataLake(vault.store, { url }, { ...write, runId: 'lake-run-2', now: at + HOUR }, ok);
    assert.equal(next.counters.dataLakeVersions, 1);
    assert.deepEqual((await bucket.list('')).filter((p) => !paths.includes(p)), [`org=${org.orgId}/object=Widget__c/date=2025-03-01/lake-run-2-1.parquet`]);
    assert.deepEqual((await lakeRows(bucket)).map((r) => r._version_seq), await allSeqs(), 'every version once');
  });

  test('purge takes the records out of the files in the bucket', async () => {
    const url = s3.url('lake');
    const lake = openDataLake({ url });
    const before = await lakeRows(lake);
    const chosen = [widgetId(1), widgetId(3)];
    assert.ok(before.filter((r) => chosen.includes(r.Id)).length >= 4, 'the chosen records have several versions in the lake');
    const org = { ...fixture.org, settings: { backup: { dataLake: { url } } } };
    const report = await purge({ store: fixture.vault.store, blobs: fixture.vault.blobs, actor: 'test' }, { org, objectName: 'Widget__c', recordIds: chosen, confirmed: true, vacuum: false });
    assert.equal(report.status, 'Succeeded', report.message ?? '');
    assert.equal(report.dataLakeLocation, lake.location);
    assert.equal(report.dataLake?.rows, before.filter((r) => chosen.includes(r.Id)).length);
    assert.ok(report.dataLake!.filesRewritten >= 1);
    const after = await lakeRows(lake);
    assert.deepEqual(after, before.filter((r) => !chosen.includes(r.Id)), 'only the purged rows left the lake');
  });

  test('a file is invisible until published, multipart or not, and a discarded one leaves nothing', async () => {
    const lake = s3DataLake(parseS3Url(s3.url()), { credentials: s3.credentials });
    const big = Buffer.alloc(2 * MIN_PART_BYTES + 1234, 7);
    const staged = await lake.create('a/big.bin');
    await new Promise<void>((resolve, reject) => {
      staged.stream.once('error', reject);
      for (let i = 0; i < big.length; i += 1024 * 1024) staged.stream.write(big.subarray(i, i + 1024 * 1024));
      staged.stream.end(() => resolve());
    });
    assert.equal(await lake.exists('a/big.bin'), false, 'not visible before publish');
    assert.deepEqual(await lake.list('a/'), []);
    await staged.publish();
    assert.deepEqual(await lake.read('a/big.bin'), big);

    const replaced = await lake.create('a/big.bin');
    replaced.stream.end(Buffer.from('smaller now'));
    const dropped = await lake.create('a/dropped.bin');
    dropped.stream.write(big);
    await dropped.discard();
    await replaced.publish();
    assert.deepEqual(await lake.read('a/big.bin'), Buffer.from('smaller now'), 'publishing replaces the file whole');
    assert.deepEqual(await lake.list('a/'), ['a/big.bin']);
    await lake.remove('a/big.bin');
    assert.equal(await lake.read('a/big.bin'), undefined);
    assert.deepEqual(await lake.list(''), []);
  });

  test('a missing bucket fails the lake write, not the backup, and says how to fix it', async () => {
    const url = s3.url('lake').replace('s3://orgvault-test/', 's3://no-such-lake-bucket/');
    const ok = { status: 'Succeeded' as const, message: null, counters: {} as Record<string, number> };
    const result = await feedDataLake(fixture.vault.store, { url }, { orgId: fixture.org.orgId, runId: 'lake-run-x', startedAt: T0, now: T0 + 9 * HOUR }, ok);
    assert.equal(result.status, 'CompletedWithErrors');
    assert.equal(result.counters.dataLakeErrors, 1);
    assert.match(result.message ?? '', /DATA_LAKE_FAILED.*bucket "no-such-lake-bucket".*does not exist\. Create it/);
    assert.ok((result.message ?? '').includes(s3.endpoint));
  });

  test('the dashboard\'s settings page saves and shows an s3:// data lake, and refuses a bad one', async () => {
    const { vault, org } = fixture;
    const password = 'lake s3 pages password 7';
    await addUser({ store: vault.store, actor: 'test' }, 'lakeadmin', 'administrator', password);
    const app = createServerApp({ store: vault.store, blobs: vault.blobs, keyring: vault.keyring, connectAuth: () => Promise.reject(new Error('no org here')), maskKey: 'm', secureCookies: false, trustProxy: false });
    const urlencoded = { 'content-type': 'application/x-www-form-urlencoded' };
    const login = await app.request('/login', { method: 'POST', headers: urlencoded, body: new URLSearchParams({ name: 'lakeadmin', password, next: '/' }).toString() });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
    const page = await (await app.request(`/orgs/${org.name}/settings`, { headers: { cookie } })).text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page)![1]!;
    const post = (dataLake: string) =>
      app.request(`/orgs/${org.name}/settings`, {
        method: 'POST',
        headers: { ...urlencoded, cookie },
        body: new URLSearchParams({ _csrf: csrf, mode: 'objects-and-files', exclude: '', apiBudgetPercent: '50', concurrency: '4', bulkThreshold: '10000', dataLake }).toString(),
      });
    const url = 's3://lake-bucket/orgvault?region=eu-west-3&sse=AES256';
    assert.equal((await post(url)).status, 303);
    assert.deepEqual(resolveSettings(storedSettings((await vault.store.getOrg(org.name))!)).dataLake, { url });
    assert.ok((await (await app.request(`/orgs/${org.name}/settings`, { headers: { cookie } })).text()).includes(`value="${url.replace(/&/g, '&amp;')}"`));
    const refused = await post('s3://Lake_Bucket/x');
    assert.equal(refused.status, 400);
    assert.match(await refused.text(), /not a valid bucket name/);
    assert.equal((await post('')).status, 303);
  });

  test('the setting takes an s3:// URL, checked like the blob store\'s', () => {
    const url = 's3://lake-bucket/orgvault?region=eu-west-3&sse=aws:kms';
    assert.deepEqual(resolveSettings({ dataLake: { url } }).dataLake, { url });
    assert.deepEqual(dataLakeTargetOf(` ${url} `), { url });
    assert.deepEqual(dataLakeTargetOf('lake', (p) => `/srv/${p}`), { folder: '/srv/lake' });
    assert.equal(dataLakeTargetOf(''), null);
    assert.equal(dataLakeTargetText({ url }), url);
    assert.throws(() => parseDataLakeTarget({ url: 's3://Bad_Bucket/x' }), (e: unknown) => e instanceof UsageError && /not a valid bucket name/.test(e.message));
    assert.throws(() => parseDataLakeTarget({ url: 's3://b12?regoin=x' }), (e: unknown) => e instanceof UsageError && /Unknown s3:\/\/ URL parameter/.test(e.message));
    assert.throws(() => parseDataLakeTarget({ folder: 's3://b12/x' }), (e: unknown) => e instanceof UsageError && /goes in "url"/.test(e.message));
    assert.throws(() => parseDataLakeTarget({ url, folder: '/srv' }), (e: unknown) => e instanceof UsageError && /"dataLake" is null \(off\) or \{ "folder"/.test(e.message));
  });
});
