// The continuous data lake end to end: backups of an emulated org with the `dataLake` setting also
// write their new versions as Parquet, partitioned Hive-style by org, object and capture day, and
// DuckDB reading `<root>/**/*.parquet` finds exactly the versions the vault holds, run after run.
// A lake that cannot be written leaves the backup stored, the run CompletedWithErrors and no half
// file; the next run catches up, writing nothing twice. `orgvault backup --data-lake DIR` and the
// dashboard's settings page set it.
import assert from 'node:assert/strict';
import { readdir, readFile, rm, writeFile, mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import type { DuckDBTimestampTZValue } from '@duckdb/node-api';
import { startEmulator } from '../../emulator/index.ts';
import type { RunningEmulator } from '../../emulator/index.ts';
import { resolveSettings, runBackup, storedSettings } from '../../src/backup/index.ts';
import type { BackupResult } from '../../src/backup/index.ts';
import { UsageError } from '../../src/core/errors.ts';
import type { OrgRegistration, RecordVersion } from '../../src/core/vault.ts';
import { generateKeyFileContent } from '../../src/crypto/keys.ts';
import { connectOrg } from '../../src/salesforce/index.ts';
import { createServerApp } from '../../src/server/app.ts';
import type { ServerApp } from '../../src/server/app.ts';
import { purge } from '../../src/retention/index.ts';
import { initVault, openVault } from '../../src/store/vault.ts';
import type { Vault } from '../../src/store/vault.ts';
import { addUser } from '../../src/users/index.ts';
import { jsonOf, runCli } from './fixtures/cli-runner.ts';
import { emulatedOrg } from './fixtures/emulated-org.ts';
import type { EmulatedOrg } from './fixtures/emulated-org.ts';

/** Parquet metadata holds bigints, which JSON cannot. */
const jsonSafe = (_key: string, value: unknown): unknown => (typeof value === 'bigint' ? value.toString() : value);

/** Every file under `dir`, relative and `/`-separated. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name)).split('\\').join('/')).sort();
}

interface LakeRow {
  org: string;
  object: string;
  date: string;
  seq: number;
  recordId: string;
  changeType: string;
  isDeleted: boolean;
  capturedAt: number;
  runId: string;
}

/** Every row of the lake, as DuckDB reads it with Hive partitioning. */
async function readLake(root: string): Promise<LakeRow[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(
      `SELECT org, object, date::VARCHAR AS date, _version_seq, Id, _change_type, _is_deleted, _captured_at, _run_id
       FROM read_parquet('${root.replaceAll("'", "''")}/**/*.parquet', hive_partitioning = true, union_by_name = true)`,
    );
    return reader.getRowObjects().map((r) => ({
      org: String(r.org),
      object: String(r.object),
      date: String(r.date),
      seq: Number(r._version_seq),
      recordId: String(r.Id),
      changeType: String(r._change_type),
      isDeleted: r._is_deleted as boolean,
      capturedAt: Number((r._captured_at as DuckDBTimestampTZValue).micros / 1000n),
      runId: String(r._run_id),
    }));
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

describe('continuous data lake', () => {
  let emulator: RunningEmulator;
  let sf: EmulatedOrg;
  let vault: Vault;
  let dir: string;
  let lake: string;
  let org: OrgRegistration;
  const runs: BackupResult[] = [];

  const backup = async (): Promise<BackupResult> => {
    const settings = resolveSettings({ dataLake: { folder: lake } });
    const result = await runBackup({ store: vault.store, blobs: vault.blobs, client: await connectOrg(sf.auth), now: () => emulator.org.clock.nowMs() }, { org, settings });
    runs.push(result);
    return result;
  };

  /** Every version the vault holds for the org, by seq. */
  async function vaultVersions(): Promise<Map<number, RecordVersion>> {
    const all = new Map<number, RecordVersion>();
    for (const { objectName } of await vault.store.getObjectStates(org.orgId)) {
      for await (const v of vault.store.findVersions({ orgId: org.orgId, objectName })) all.set(v.seq, v);
    }
    return all;
  }

  /** The lake holds each of the vault's versions exactly once, in the right partition. */
  async function assertLakeEqualsVault(): Promise<LakeRow[]> {
    const rows = await readLake(lake);
    const versions = await vaultVersions();
    const seen = new Set<number>();
    for (const row of rows) {
      assert.ok(!seen.has(row.seq), `version ${row.seq} is in the lake once`);
      seen.add(row.seq);
      const v = versions.get(row.seq);
      assert.ok(v, `lake version ${row.seq} (${row.object} ${row.recordId}) is in the vault`);
      assert.equal(row.org, org.orgId);
      assert.equal(row.object, v.objectName);
      assert.equal(row.recordId, v.recordId);
      assert.equal(row.changeType, v.changeType);
      assert.equal(row.isDeleted, v.isDeleted);
      assert.equal(row.capturedAt, v.capturedAt);
      assert.equal(row.runId, v.runId);
      assert.equal(row.date, new Date(v.capturedAt).toISOString().slice(0, 10));
    }
    assert.equal(seen.size, versions.size, 'every version of the vault is in the lake');
    return rows;
  }

  before(async () => {
    emulator = await startEmulator({ profile: 'demo', seed: 23 });
    sf = emulatedOrg(emulator);
    dir = await mkdtemp(join(tmpdir(), 'orgvault-lake-'));
    lake = join(dir, 'lake');
    const keyFile = Buffer.from(generateKeyFileContent());
    await initVault(join(dir, 'vault'), { keyFile });
    vault = await openVault(join(dir, 'vault'), { keyFile });
    org = { name: 'demo', orgId: emulator.info.orgId, instanceUrl: emulator.info.instanceUrl, loginUrl: emulator.info.loginUrl, sealedAuth: new Uint8Array(1), createdAt: Date.now(), settings: {} };
  });

  after(async () => {
    await vault?.close();
    await emulator?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('a full backup writes every version it captured, partitioned by org, object and day', async () => {
    const first = await backup();
    assert.equal(first.status, 'Succeeded', first.message ?? '');
    assert.ok(first.counters.versions! > 1000);
    assert.equal(first.counters.dataLakeVersions, (await vaultVersions()).size);
    const files = await filesUnder(lake);
    const parquet = files.filter((f) => f.endsWith('.parquet'));
    assert.equal(parquet.length, first.counters.dataLakeFiles);
    for (const file of parquet) assert.match(file, new RegExp(`^org=${org.orgId}/object=\\w+/date=\\d{4}-\\d{2}-\\d{2}/${first.runId}-\\d+\\.parquet$`));
    assert.deepEqual(files.filter((f) => !f.endsWith('.parquet')), [`_orgvault/${org.orgId}.json`], 'no temporary file is left');
    const rows = await assertLakeEqualsVault();
    assert.ok(new Set(rows.map((r) => r.object)).size >= 10);
  });

  it('the next run after activity adds only its new versions', async () => {
    await sf.admin('POST', '/activity', { changes: 120, seed: 'lake-1' });
    const before = (await filesUnder(lake)).filter((f) => f.endsWith('.parquet'));
    const second = await backup();
    assert.equal(second.status, 'Succeeded', second.message ?? '');
    assert.ok(second.counters.dataLakeVersions! > 0);
    const added = (await filesUnder(lake)).filter((f) => f.endsWith('.parquet') && !before.includes(f));
    assert.equal(added.length, second.counters.dataLakeFiles);
    assert.ok(added.every((f) => f.includes(`/${second.runId}-`)));
    const rows = await assertLakeEqualsVault();
    assert.equal(rows.filter((r) => r.runId === second.runId).length, second.counters.dataLakeVersions);
    // A changed record's versions sit side by side: DuckDB sees its history.
    assert.ok(rows.some((r) => r.runId === second.runId && r.changeType !== 'created'), 'updates or deletes reached the lake');
  });

  it('a lake that cannot be written leaves the backup stored and no half file; the next run catches up', async () => {
    // The next day, a file where that day's Opportunity partition folder must go: the lake write
    // fails part-way, with the files of objects before it (Account…) already written.
    await sf.admin('POST', '/clock', { advanceSeconds: 86_400 });
    const [account] = await sf.query('SELECT Id FROM Account LIMIT 1');
    await sf.rest('PATCH', `/sobjects/Account/${String(account!.Id)}`, { Description: 'changed for the data lake test' });
    const [opportunity] = await sf.query('SELECT Id FROM Opportunity LIMIT 1');
    await sf.rest('PATCH', `/sobjects/Opportunity/${String(opportunity!.Id)}`, { Description: 'changed for the data lake test' });
    await sf.admin('POST', '/activity', { changes: 60, seed: 'lake-2' });
    const day = new Date(emulator.org.clock.nowMs()).toISOString().slice(0, 10);
    const blocker = join(lake, `org=${org.orgId}`, 'object=Opportunity', `date=${day}`);
    await writeFile(blocker, 'not a folder');
    const stateBefore = await readFile(join(lake, '_orgvault', `${org.orgId}.json`), 'utf8');
    const before = await filesUnder(lake);

    const failed = await backup();
    assert.equal(failed.status, 'CompletedWithErrors');
    assert.match(failed.message ?? '', /DATA_LAKE_FAILED: the backup is stored, but its versions could not be written to the data lake/);
    assert.equal(failed.counters.dataLakeErrors, 1);
    assert.ok(failed.counters.versions! > 0);
    assert.equal((await vault.store.getRun(failed.runId))?.status, 'CompletedWithErrors');
    const captured = [];
    for await (const v of vault.store.findVersions({ orgId: org.orgId, objectName: 'Account', recordIds: [String(account!.Id)] })) captured.push(v);
    assert.ok(captured.some((v) => v.runId === failed.runId), 'the backup stored the change');
    assert.deepEqual(await filesUnder(lake), before, 'nothing was published and no temporary file was left');
    assert.equal(await readFile(join(lake, '_orgvault', `${org.orgId}.json`), 'utf8'), stateBefore);

    await rm(blocker);
    const next = await backup();
    assert.equal(next.status, 'Succeeded', next.message ?? '');
    const rows = await assertLakeEqualsVault();
    for (const object of ['Account', 'Opportunity']) assert.ok(rows.some((r) => r.runId === failed.runId && r.object === object && r.date === day), `the failed run's ${object} versions were written by the next run`);
    assert.ok(new Set(rows.map((r) => r.date)).size >= 2, 'versions of two days are in two partitions');
  });

  it('a publish a crash interrupted is undone by the next write, so nothing is in the lake twice', async () => {
    const statePath = join(lake, '_orgvault', `${org.orgId}.json`);
    const state = JSON.parse(await readFile(statePath, 'utf8')) as { through: number; throughSeq: number; pending: unknown };
    // As a crash leaves it: the state names a write's files as pending, one of which was published
    // (here a copy of a file already in the lake, whose rows would be there twice) and one not.
    const existing = (await filesUnder(lake)).find((f) => f.includes('/object=Account/') && f.endsWith('.parquet'))!;
    const published = existing.replace(/[^/]+\.parquet$/, 'crashed-1.parquet');
    await writeFile(join(lake, ...published.split('/')), await readFile(join(lake, ...existing.split('/'))));
    const pending = { through: state.through + 60_000, throughSeq: state.throughSeq + 1_000, files: [published, published.replace('-1.', '-2.')] };
    await writeFile(statePath, JSON.stringify({ ...state, pending }));
    await sf.admin('POST', '/activity', { changes: 40, seed: 'lake-3' });

    const next = await backup();
    assert.equal(next.status, 'Succeeded', next.message ?? '');
    assert.ok(!(await filesUnder(lake)).includes(published), 'the half-published write was removed');
    await assertLakeEqualsVault();
    const settled = JSON.parse(await readFile(statePath, 'utf8')) as { pending: unknown; throughSeq: number };
    assert.equal(settled.pending, null);
  });

  it('purge takes the records out of the data lake too, keeping every other row and each file\'s schema', async () => {
    const rows = await readLake(lake);
    const perRecord = new Map<string, number>();
    for (const r of rows) if (r.object === 'Account') perRecord.set(r.recordId, (perRecord.get(r.recordId) ?? 0) + 1);
    // The records with the most versions: their rows are spread over files of several runs and days.
    const chosen = [...perRecord.entries()].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([id]) => id);
    const holding = new Map<string, { schema: string; kv: string; rows: number }>();
    for (const file of (await filesUnder(lake)).filter((f) => f.includes('/object=Account/') && f.endsWith('.parquet'))) {
      const bytes = await readFile(join(lake, ...file.split('/')));
      const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
      const ids = (await parquetReadObjects({ file: buffer, columns: ['Id'] })) as { Id: string }[];
      if (!ids.some((r) => chosen.includes(r.Id))) continue;
      const metadata = parquetMetadata(buffer);
      holding.set(file, { schema: JSON.stringify(metadata.schema, jsonSafe), kv: JSON.stringify(metadata.key_value_metadata), rows: ids.length });
    }
    assert.ok(holding.size >= 2, 'the chosen records have rows in several lake files');

    const lakeOrg = { ...org, settings: { backup: { dataLake: { folder: lake } } } };
    const report = await purge({ store: vault.store, blobs: vault.blobs, actor: 'test' }, { org: lakeOrg, objectName: 'Account', recordIds: chosen, confirmed: true, vacuum: false });
    assert.equal(report.status, 'Succeeded', report.message ?? '');
    assert.equal(report.dataLakeLocation, lake);
    assert.equal(report.dataLake?.rows, chosen.reduce((n, id) => n + perRecord.get(id)!, 0));
    assert.equal(report.dataLake!.filesRewritten + report.dataLake!.filesRemoved, holding.size);

    const after = await assertLakeEqualsVault();
    assert.equal(after.length, rows.length - report.dataLake!.rows, 'only the purged rows left the lake');
    assert.ok(!after.some((r) => chosen.includes(r.recordId)), 'no row of a purged record is left');
    for (const [file, before] of holding) {
      const path = join(lake, ...file.split('/'));
      const bytes = await readFile(path).catch(() => undefined);
      if (!bytes) continue;
      const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
      const metadata = parquetMetadata(buffer);
      assert.equal(JSON.stringify(metadata.schema, jsonSafe), before.schema, `${file} keeps its columns and types`);
      assert.equal(JSON.stringify(metadata.key_value_metadata), before.kv, `${file} keeps its column metadata`);
    }
    assert.deepEqual((await filesUnder(lake)).filter((f) => f.split('/').pop()!.startsWith('.')), [], 'no temporary file is left');
  });

  it('refuses a data lake setting that is not an absolute folder', () => {
    assert.throws(() => resolveSettings({ dataLake: { folder: 'relative/lake' } }), (e: unknown) => e instanceof UsageError && /not an absolute path/.test(e.message));
    assert.throws(() => resolveSettings({ dataLake: '/srv/lake' }), (e: unknown) => e instanceof UsageError && /"dataLake" is null \(off\) or \{ "folder"/.test(e.message));
    assert.equal(resolveSettings({ dataLake: null }).dataLake, null);
    assert.deepEqual(resolveSettings({ dataLake: { folder: '/srv/lake' } }).dataLake, { folder: '/srv/lake' });
  });

  it('orgvault backup --data-lake DIR writes the run to that folder (a relative path from where it runs)', async () => {
    const passphrase = 'data lake cli passphrase';
    const cliDir = join(dir, 'cli');
    await mkdir(cliDir);
    const run = (args: string[]) => runCli(args, { vault: join(cliDir, 'vault'), cwd: cliDir, passphrase });
    assert.equal((await run(['init'])).code, 0);
    const { info } = emulator;
    const added = await run(['org', 'add', 'demo', '--login-url', info.loginUrl, '--client-id', info.clientId, '--client-secret', info.clientSecret, '--username', info.username, '--password', info.password]);
    assert.equal(added.code, 0, added.stderr);
    const result = await run(['backup', '--json', '--object', 'Account,Contact', '--data-lake', 'my-lake']);
    assert.equal(result.code, 0, result.stderr);
    const json = jsonOf<{ runId: string; counters: Record<string, number> }>(result);
    assert.ok(json.counters.dataLakeVersions! > 0);
    const files = (await filesUnder(join(cliDir, 'my-lake'))).filter((f) => f.endsWith('.parquet'));
    assert.deepEqual([...new Set(files.map((f) => f.split('/')[1]))].sort(), ['object=Account', 'object=Contact']);
    const rows = await readLake(join(cliDir, 'my-lake'));
    assert.equal(rows.length, json.counters.dataLakeVersions);
  });
});

describe('the data lake setting on the dashboard', () => {
  const PASSWORD = 'data lake pages password 31';
  let dir: string;
  let vault: Vault;
  let app: ServerApp;
  const form = (fields: Record<string, string>, cookie: string): RequestInit => ({
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
    body: new URLSearchParams(fields).toString(),
  });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'orgvault-lake-pages-'));
    const keyFile = Buffer.from(generateKeyFileContent());
    await initVault(join(dir, 'vault'), { keyFile });
    vault = await openVault(join(dir, 'vault'), { keyFile });
    await addUser({ store: vault.store, actor: 'test' }, 'admin', 'administrator', PASSWORD);
    await vault.store.putOrg({ name: 'prod', orgId: '00D000000000LAKEAA', instanceUrl: 'https://prod.example', loginUrl: 'https://login.example', sealedAuth: new Uint8Array(1), createdAt: 0, settings: {} });
    app = createServerApp({ store: vault.store, blobs: vault.blobs, keyring: vault.keyring, connectAuth: () => Promise.reject(new Error('no org here')), maskKey: 'm', secureCookies: false, trustProxy: false });
  });
  after(async () => {
    await vault?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('is shown and saved on the settings page, and a relative folder is refused', async () => {
    const login = await app.request('/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ name: 'admin', password: PASSWORD, next: '/' }).toString() });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
    const page = await (await app.request('/orgs/prod/settings', { headers: { cookie } })).text();
    assert.match(page, /<input id="dataLake" name="dataLake" type="text" value=""/);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page)![1]!;
    const fields = { _csrf: csrf, mode: 'objects-and-files', exclude: '', apiBudgetPercent: '50', concurrency: '4', bulkThreshold: '10000' };
    const saved = await app.request('/orgs/prod/settings', form({ ...fields, dataLake: '/srv/lake' }, cookie));
    assert.equal(saved.status, 303);
    const stored = await vault.store.getOrg('prod');
    assert.deepEqual(resolveSettings(storedSettings(stored!)).dataLake, { folder: '/srv/lake' });
    assert.match(await (await app.request('/orgs/prod/settings', { headers: { cookie } })).text(), /value="\/srv\/lake"/);
    const refused = await app.request('/orgs/prod/settings', form({ ...fields, dataLake: 'lake' }, cookie));
    assert.equal(refused.status, 400);
    assert.match(await refused.text(), /not an absolute path/);
    assert.deepEqual(resolveSettings(storedSettings((await vault.store.getOrg('prod'))!)).dataLake, { folder: '/srv/lake' }, 'nothing saved');
    await app.request('/orgs/prod/settings', form({ ...fields, dataLake: '' }, cookie));
    assert.equal(resolveSettings(storedSettings((await vault.store.getOrg('prod'))!)).dataLake, null);
  });
});
