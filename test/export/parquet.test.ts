// The Parquet export format round trip: an emulated org backed up into a vault, exported to
// Parquet, and read back through DuckDB with the export's own views script equals the vault's
// state as of the same time, row for row and value for value, with the types the describe gives
// (booleans are BOOLEAN, datetimes TIMESTAMPs, numbers numbers, nulls null). hyparquet reads the
// files' schemas; every version with the version columns; a value the type cannot hold is refused.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { DuckDBDateValue, DuckDBInstance, DuckDBTimestampTZValue, DuckDBTimeValue } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { startEmulator } from '../../emulator/index.ts';
import type { RunningEmulator } from '../../emulator/index.ts';
import { resolveSettings, runBackup } from '../../src/backup/index.ts';
import type { RawField } from '../../src/core/describe.ts';
import { parseSalesforceDatetime } from '../../src/core/time.ts';
import type { OrgRegistration, RecordVersion } from '../../src/core/vault.ts';
import { generateKeyFileContent } from '../../src/crypto/keys.ts';
import { columnsOf } from '../../src/export/columns.ts';
import { DUCKDB_SCRIPT } from '../../src/export/duckdb-script.ts';
import type { ExportColumn, ExportedObject } from '../../src/export/format.ts';
import { exportFormat, folderTarget, planExport, runExport } from '../../src/export/index.ts';
import type { ExportScope } from '../../src/export/index.ts';
import { ParquetFileWriter, ParquetValueError, parquetPath } from '../../src/export/parquet.ts';
import { connectOrg } from '../../src/salesforce/index.ts';
import { initVault, openVault } from '../../src/store/vault.ts';
import type { Vault } from '../../src/store/vault.ts';
import { emulatedOrg } from '../e2e/fixtures/emulated-org.ts';
import { WIDGET_DESCRIBE, WIDGETS, allVersions, exportFixture } from './fixtures.ts';
import type { ExportFixture } from './fixtures.ts';

/** What DuckDB should give back for a vault value of a Salesforce type. */
function assertValue(actual: unknown, expected: unknown, column: ExportColumn, where: string): void {
  const message = `${where}.${column.name} (${column.type})`;
  if (expected === null || expected === undefined) return assert.equal(actual, null, message);
  switch (column.type) {
    case 'boolean':
      assert.equal(typeof actual, 'boolean', message);
      return assert.equal(actual, expected, message);
    case 'int':
    case 'double':
    case 'currency':
    case 'percent':
      assert.equal(typeof actual, 'number', message);
      return assert.equal(actual, expected, message);
    case 'long':
      return assert.equal(actual, BigInt(expected as number), message);
    case 'date':
      assert.ok(actual instanceof DuckDBDateValue, message);
      return assert.equal(actual.toString(), expected, message);
    case 'datetime': {
      assert.ok(actual instanceof DuckDBTimestampTZValue, message);
      const ms = typeof expected === 'number' ? expected : parseSalesforceDatetime(expected);
      return assert.equal(actual.micros, BigInt(ms!) * 1000n, message);
    }
    case 'time': {
      assert.ok(actual instanceof DuckDBTimeValue, message);
      const [h, m, sec] = String(expected).replace(/Z$/, '').split(':').map(Number);
      return assert.equal(actual.micros, BigInt(Math.round(((h! * 60 + m!) * 60 + sec!) * 1000)) * 1000n, message);
    }
    default:
      assert.equal(typeof actual, 'string', message);
      return assert.equal(actual, typeof expected === 'string' ? expected : JSON.stringify(expected), message);
  }
}

async function rowsOf(connection: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  return (await connection.runAndReadAll(sql)).getRowObjects() as Record<string, unknown>[];
}

describe('Parquet export', () => {
  let emulator: RunningEmulator;
  let vault: Vault;
  let dir: string;
  let org: OrgRegistration;
  /** The objects the vault holds, with their columns from the stored describe. */
  const objects: { name: string; fields: RawField[] }[] = [];

  before(async () => {
    emulator = await startEmulator({ profile: 'demo', seed: 11 });
    dir = await mkdtemp(join(tmpdir(), 'orgvault-parquet-'));
    const keyFile = Buffer.from(generateKeyFileContent());
    await initVault(join(dir, 'vault'), { keyFile });
    vault = await openVault(join(dir, 'vault'), { keyFile });
    const sf = emulatedOrg(emulator);
    org = { name: 'demo', orgId: emulator.info.orgId, instanceUrl: emulator.info.instanceUrl, loginUrl: emulator.info.loginUrl, sealedAuth: new Uint8Array(1), createdAt: Date.now(), settings: {} };
    const backup = async (): Promise<void> => {
      const result = await runBackup({ store: vault.store, blobs: vault.blobs, client: await connectOrg(sf.auth), now: () => emulator.org.clock.nowMs() }, { org, settings: resolveSettings() });
      assert.equal(result.status, 'Succeeded', result.message ?? '');
    };
    await backup();
    // Activity, then a second backup: records with several versions, deletes among them.
    await sf.admin('POST', '/activity', { changes: 150, seed: 'parquet' });
    await backup();
    for (const state of await vault.store.getObjectStates(org.orgId)) {
      const current = (await vault.store.schemaHistory(org.orgId, state.objectName)).find((s) => s.validTo === null);
      if (!current || state.versionCount === 0) continue;
      const raw = (await vault.store.getSchema(org.orgId, current.schemaId)) as { fields: RawField[] };
      objects.push({ name: state.objectName, fields: raw.fields });
    }
    assert.ok(objects.length >= 10, `objects backed up: ${objects.map((o) => o.name).join(', ')}`);
  });

  after(async () => {
    await vault?.close();
    await emulator?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Exports every object (its state as of `at`, or every version) to Parquet in a folder, through the export use case. */
  async function exportAll(out: string, options: { at?: number; allVersions: boolean }): Promise<ExportedObject[]> {
    const scope: ExportScope = options.allVersions ? { kind: 'allVersions' } : { kind: 'asOf', at: options.at! };
    const plan = await planExport(vault.store, { org, scope, includeDeleted: !options.allVersions });
    const result = await runExport({ store: vault.store, blobs: vault.blobs, batchSize: 500 }, plan, exportFormat('parquet'), await folderTarget(out));
    assert.equal(result.status, 'Succeeded', result.message);
    assert.ok(result.extraFiles.includes(DUCKDB_SCRIPT));
    for (const object of result.objects) assert.deepEqual(object.paths, [parquetPath(object.name)]);
    assert.deepEqual(result.objects.map((o) => o.name).sort(), objects.map((o) => o.name).sort());
    return objects.map((o) => ({ objectName: o.name, columns: columnsOf(o.fields, options.allVersions), allVersions: options.allVersions }));
  }

  /** A DuckDB connection with the export's views script loaded, as `duckdb -init duckdb.sql` run in the folder would. */
  async function duckdbOn(folder: string): Promise<DuckDBConnection> {
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    await connection.run(`SET file_search_path = '${folder.replaceAll("'", "''")}'`);
    await connection.run(await readFile(join(folder, DUCKDB_SCRIPT), 'utf8'));
    return connection;
  }

  it("equals the vault's state as of a time, through DuckDB and the views script, typed", async () => {
    const at = emulator.org.clock.nowMs();
    const out = join(dir, 'state');
    const exported = await exportAll(out, { at, allVersions: false });
    const db = await duckdbOn(out);
    const views = (await rowsOf(db, 'SHOW TABLES')).map((r) => r.name).sort();
    assert.deepEqual(views, objects.map((o) => o.name).sort());
    const seenTypes = new Set<string>();
    let checked = 0;
    for (const object of exported) {
      const expected = new Map<string, RecordVersion>();
      for await (const v of vault.store.stateAsOf(org.orgId, object.objectName, at, { includeDeleted: true })) expected.set(v.recordId, v);
      const rows = await rowsOf(db, `SELECT * FROM "${object.objectName}"`);
      assert.equal(rows.length, expected.size, `${object.objectName}: rows`);
      for (const row of rows) {
        const version = expected.get(row.Id as string);
        assert.ok(version, `${object.objectName} ${String(row.Id)} is not in the vault`);
        for (const column of object.columns) {
          assertValue(row[column.name], version.fields[column.name], column, `${object.objectName} ${version.recordId}`);
          if (version.fields[column.name] !== null && version.fields[column.name] !== undefined) seenTypes.add(column.type);
          checked++;
        }
        expected.delete(version.recordId);
      }
    }
    assert.ok(checked > 10_000, `values checked: ${checked}`);
    for (const type of ['boolean', 'int', 'double', 'currency', 'percent', 'date', 'datetime', 'string', 'reference', 'picklist']) assert.ok(seenTypes.has(type), `a non-null ${type} value was exported and checked`);
    // Records deleted by the activity are in the state too, with IsDeleted true.
    let deleted = 0;
    for (const object of exported.filter((o) => o.columns.some((c) => c.name === 'IsDeleted'))) deleted += Number((await rowsOf(db, `SELECT count(*) AS n FROM "${object.objectName}" WHERE IsDeleted`))[0]!.n);
    assert.ok(deleted > 0, 'deleted records were exported');
  });

  it('types the columns from the describe, as hyparquet reads the schema', async () => {
    const out = join(dir, 'state');
    const opportunity = objects.find((o) => o.name === 'Opportunity')!;
    const bytes = await readFile(join(out, parquetPath('Opportunity')));
    const metadata = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    const element = (name: string) => metadata.schema.find((e) => e.name === name)!;
    const fieldOfType = (type: string): string => opportunity.fields.find((f) => f.type === type)!.name;
    assert.equal(element('Id').type, 'BYTE_ARRAY');
    assert.equal(element('Id').converted_type, 'UTF8');
    assert.equal(element('IsDeleted').type, 'BOOLEAN');
    assert.equal(element(fieldOfType('currency')).type, 'DOUBLE');
    assert.equal(element(fieldOfType('date')).type, 'INT32');
    assert.equal(element(fieldOfType('date')).converted_type, 'DATE');
    assert.equal(element('SystemModstamp').type, 'INT64');
    assert.equal(element('SystemModstamp').converted_type, 'TIMESTAMP_MILLIS');
    assert.deepEqual(element('SystemModstamp').logical_type, { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' });
    assert.ok(metadata.schema.slice(1).every((e) => e.repetition_type === 'OPTIONAL'), 'every column is nullable');
    const kv = new Map(metadata.key_value_metadata?.map((e) => [e.key, e.value]));
    assert.equal(kv.get('orgvault.object'), 'Opportunity');
    const rows = await parquetReadObjects({ file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) });
    assert.equal(BigInt(rows.length), metadata.num_rows);
  });

  it('exports every version with the version columns', async () => {
    const out = join(dir, 'versions');
    const exported = await exportAll(out, { allVersions: true });
    const db = await duckdbOn(out);
    let multi = 0;
    for (const object of exported) {
      const expected = new Map<number, RecordVersion>();
      for await (const v of vault.store.findVersions({ orgId: org.orgId, objectName: object.objectName })) expected.set(v.seq, v);
      const rows = await rowsOf(db, `SELECT * FROM "${object.objectName}" ORDER BY _version_seq`);
      assert.equal(rows.length, expected.size, `${object.objectName}: one row per version`);
      for (const row of rows) {
        const v = expected.get(Number(row._version_seq));
        assert.ok(v, `${object.objectName}: version ${String(row._version_seq)}`);
        assert.equal(row._change_type, v.changeType);
        assert.equal(row._is_deleted, v.isDeleted);
        assert.equal(row._run_id, v.runId);
        assert.equal((row._captured_at as DuckDBTimestampTZValue).micros, BigInt(v.capturedAt) * 1000n);
        assert.equal((row._system_modstamp as DuckDBTimestampTZValue).micros, BigInt(v.systemModstamp) * 1000n);
        assert.equal(row.Id, v.recordId);
      }
      multi += Number((await rowsOf(db, `SELECT count(*) - count(DISTINCT Id) AS n FROM "${object.objectName}"`))[0]!.n);
    }
    assert.ok(multi > 0, 'some records have several versions');
  });

  it('streams large objects in several row groups, and writes an empty object as a valid file', async () => {
    const columns: ExportColumn[] = [
      { name: 'Id', type: 'id', label: 'ID', nillable: false, length: 18, precision: 0, scale: 0 },
      { name: 'Amount', type: 'currency', label: 'Amount', nillable: true, length: 0, precision: 18, scale: 2 },
      { name: 'At', type: 'time', label: 'At', nillable: true, length: 0, precision: 0, scale: 0 },
    ];
    const version = { seq: 1, systemModstamp: 0, changeType: 'created' as const, isDeleted: false, capturedAt: 0, runId: 'r' };
    const chunks: Buffer[] = [];
    const out = new PassThrough();
    out.on('data', (c: Buffer) => chunks.push(c));
    const writer = new ParquetFileWriter(out, 'Thing__c', columns, { rowGroupRows: 1000 });
    for (let b = 0; b < 5; b++) {
      await writer.write(Array.from({ length: 1000 }, (_, i) => ({ fields: { Id: `a${b * 1000 + i}`, Amount: i % 7 === 0 ? null : i / 4, At: '13:14:15.250Z' }, version })));
    }
    assert.equal(await writer.close(), 5000);
    const file = Buffer.concat(chunks);
    const metadata = parquetMetadata(file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength));
    assert.equal(metadata.row_groups.length, 5);
    assert.equal(metadata.num_rows, 5000n);
    const rows = await parquetReadObjects({ file: file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength), rowStart: 4998 });
    assert.deepEqual(rows.map((r) => r.Amount), [998 / 4, 999 / 4]);

    const empty: Buffer[] = [];
    const emptyOut = new PassThrough();
    emptyOut.on('data', (c: Buffer) => empty.push(c));
    const none = new ParquetFileWriter(emptyOut, 'Empty__c', columns);
    assert.equal(await none.close(), 0);
    const emptyFile = Buffer.concat(empty);
    const emptyMeta = parquetMetadata(emptyFile.buffer.slice(emptyFile.byteOffset, emptyFile.byteOffset + emptyFile.byteLength));
    assert.equal(emptyMeta.num_rows, 0n);
    assert.equal(emptyMeta.schema.length, 4);
  });

  it('refuses a value its column cannot hold, naming the field and record but not the value', async () => {
    const columns: ExportColumn[] = [
      { name: 'Id', type: 'id', label: 'ID', nillable: false, length: 18, precision: 0, scale: 0 },
      { name: 'Score__c', type: 'double', label: 'Score', nillable: true, length: 0, precision: 18, scale: 2 },
    ];
    const version = { seq: 1, systemModstamp: 0, changeType: 'created' as const, isDeleted: false, capturedAt: 0, runId: 'r' };
    const writer = new ParquetFileWriter(new PassThrough().resume(), 'Thing__c', columns);
    await assert.rejects(writer.write([{ fields: { Id: '001000000000001AAA', Score__c: 'very secret text' }, version }]), (error: unknown) => {
      assert.ok(error instanceof ParquetValueError);
      assert.match(error.message, /Thing__c\.Score__c of record 001000000000001AAA/);
      assert.doesNotMatch(error.message, /very secret/);
      return true;
    });
  });
});

describe('Parquet export of values exports get wrong', () => {
  let fixture: ExportFixture;
  before(async () => {
    fixture = await exportFixture();
  });
  after(async () => fixture?.close());

  it('keeps quotes, line breaks, Unicode, tiny and large numbers, dates, times and datetimes, and an empty object', async () => {
    const { vault, org } = fixture;
    const out = join(fixture.dir, 'tricky');
    const plan = await planExport(vault.store, { org, objects: ['Widget__c', 'Attachment', 'Empty__c'], scope: { kind: 'latest' }, includeDeleted: true });
    const result = await runExport({ store: vault.store, blobs: vault.blobs }, plan, exportFormat('parquet'), await folderTarget(out));
    assert.equal(result.status, 'Succeeded', result.message);
    const instance = await DuckDBInstance.create(':memory:');
    const db = await instance.connect();
    await db.run(`SET file_search_path = '${out.replaceAll("'", "''")}'`);
    await db.run(await readFile(join(out, DUCKDB_SCRIPT), 'utf8'));
    assert.deepEqual(await rowsOf(db, 'SELECT count(*)::INTEGER AS n FROM "Empty__c"'), [{ n: 0 }]);
    const types = new Map((await rowsOf(db, 'DESCRIBE "Widget__c"')).map((r) => [r.column_name, r.column_type]));
    assert.deepEqual(
      ['Name', 'Price__c', 'NumberOfEmployees', 'Active__c', 'Day__c', 'When__c', 'At__c'].map((c) => types.get(c)),
      ['VARCHAR', 'DOUBLE', 'INTEGER', 'BOOLEAN', 'DATE', 'TIMESTAMP WITH TIME ZONE', 'TIME'],
    );
    const columns = columnsOf(WIDGET_DESCRIBE.fields as unknown as RawField[], false);
    const latest = new Map((await allVersions(vault, org, 'Widget__c')).map((v) => [v.recordId, v]));
    const rows = await rowsOf(db, 'SELECT * FROM "Widget__c"');
    assert.equal(rows.length, WIDGETS);
    for (const row of rows) {
      const version = latest.get(row.Id as string)!;
      for (const column of columns) assertValue(row[column.name], version.fields[column.name], column, `Widget__c ${version.recordId}`);
    }
  });
});

