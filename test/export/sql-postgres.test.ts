// SQL exports loaded into a real PostgreSQL server: every table created from the describe, every
// row equal to the vault's state (the latest, and every version), with quotes, backslashes, line
// breaks, emoji, tiny and large numbers, datetimes and times intact; and load.sql runs in psql.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { columnsOf } from '../../src/export/columns.ts';
import { exportFormat, folderTarget, planExport, runExport } from '../../src/export/index.ts';
import type { ExportScope } from '../../src/export/index.ts';
import type { RawField } from '../../src/core/describe.ts';
import { ATTACHMENT_DESCRIBE, WIDGETS, WIDGET_DESCRIBE, allVersions, collect, exportFixture } from './fixtures.ts';
import type { ExportFixture } from './fixtures.ts';
import { POSTGRES_URL, canonical, freshSchema, postgresSkip } from './pg-loader.ts';
import type { PgSchema } from './pg-loader.ts';

const skip = postgresSkip();

describe('SQL export into PostgreSQL', { skip }, () => {
  let fx: ExportFixture;
  let db: PgSchema | undefined;

  before(async () => {
    fx = await exportFixture();
  });
  after(async () => {
    await db?.drop();
    await fx?.close();
  });

  async function exportSql(name: string, scope: ExportScope): Promise<string> {
    const dir = join(fx.dir, name);
    const plan = await planExport(fx.vault.store, { org: fx.org, scope });
    await runExport({ store: fx.vault.store, blobs: fx.vault.blobs, batchSize: 7 }, plan, exportFormat('sql', 'postgres'), await folderTarget(dir));
    return dir;
  }

  it('loads the latest state: tables typed from the describe, rows equal to the vault', async () => {
    const dir = await exportSql('latest', { kind: 'latest' });
    db = await freshSchema();
    assert.deepEqual(await db.load(dir), ['Attachment.sql', 'Widget__c.sql']);

    const types = await db.client.query(`SELECT column_name, data_type, character_maximum_length, numeric_precision, numeric_scale FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'Widget__c' ORDER BY ordinal_position`, [db.schema]);
    const byName = new Map(types.rows.map((r: Record<string, unknown>) => [r.column_name, r]));
    assert.equal(types.rows[0].column_name, 'Id');
    assert.deepEqual([byName.get('Id')?.data_type, byName.get('Id')?.character_maximum_length], ['character varying', 18]);
    assert.deepEqual([byName.get('Name')?.data_type, byName.get('Name')?.character_maximum_length], ['character varying', 80]);
    assert.equal(byName.get('Notes__c')?.data_type, 'text');
    assert.deepEqual([byName.get('Price__c')?.data_type, byName.get('Price__c')?.numeric_precision, byName.get('Price__c')?.numeric_scale], ['numeric', 16, 2]);
    assert.equal(byName.get('NumberOfEmployees')?.data_type, 'integer');
    assert.equal(byName.get('Active__c')?.data_type, 'boolean');
    assert.equal(byName.get('Day__c')?.data_type, 'date');
    assert.equal(byName.get('When__c')?.data_type, 'timestamp with time zone');
    assert.equal(byName.get('At__c')?.data_type, 'time without time zone');
    assert.equal(byName.has('BillingAddress'), false, 'no compound field');
    const key = await db.client.query(`SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) WHERE i.indrelid = '"Widget__c"'::regclass AND i.indisprimary`);
    assert.deepEqual(key.rows.map((r: Record<string, unknown>) => r.attname), ['Id']);

    for (const [objectName, describe] of [['Widget__c', WIDGET_DESCRIBE], ['Attachment', ATTACHMENT_DESCRIBE]] as const) {
      const columns = columnsOf(describe.fields as unknown as RawField[], false);
      const expected = (await collect(fx.vault.store.latestVersions(fx.org.orgId, objectName))).map((v) => Object.fromEntries(columns.map((c) => [c.name, canonical(v.fields[c.name], c.type)])));
      const loaded: Record<string, string | null>[] = (await db.rows(objectName, 'Id')).map((row) => Object.fromEntries(columns.map((c) => [c.name, canonical(row[c.name], c.type)])));
      assert.equal(loaded.length, objectName === 'Widget__c' ? WIDGETS : 5);
      assert.deepEqual(loaded, expected, `${objectName} equals the vault's latest state`);
    }
    const tricky = (await db.client.query(`SELECT "Name", "Notes__c" FROM "Widget__c" ORDER BY "Id"`)).rows as { Name: string; Notes__c: string | null }[];
    assert.ok(tricky.some((r) => r.Name === 'C:\\temp\\new\\table'), 'backslashes kept');
    assert.ok(tricky.some((r) => r.Name === 'Zoë 日本 🚀 Ünïcødé'));
    assert.ok(tricky.some((r) => r.Notes__c === 'line one\nline "two", with comma\r\nline three\\n literal'));
    await db.drop();
    db = undefined;
  });

  it('loads every version, keyed by _version_seq, equal to the vault', async () => {
    const dir = await exportSql('versions', { kind: 'allVersions' });
    db = await freshSchema();
    await db.load(dir);
    const columns = columnsOf(WIDGET_DESCRIBE.fields as unknown as RawField[], true);
    const versions = await allVersions(fx.vault, fx.org, 'Widget__c');
    const expected = versions.map((v) => ({
      ...Object.fromEntries(columns.filter((c) => !c.name.startsWith('_')).map((c) => [c.name, canonical(v.fields[c.name], c.type)])),
      _version_seq: String(v.seq),
      _system_modstamp: new Date(v.systemModstamp).toISOString(),
      _change_type: v.changeType,
      _is_deleted: String(v.isDeleted),
      _captured_at: new Date(v.capturedAt).toISOString(),
      _run_id: v.runId,
    }));
    const loaded = (await db.rows('Widget__c', '_version_seq')).map((row) => Object.fromEntries(columns.map((c) => [c.name, canonical(row[c.name], c.type)])));
    assert.deepEqual(loaded, expected);
    const index = await db.client.query(`SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = 'Widget__c' ORDER BY indexname`, [db.schema]);
    assert.deepEqual(index.rows.map((r: Record<string, unknown>) => r.indexname), ['Widget__c_Id_idx', 'Widget__c_pkey']);
    await db.drop();
    db = undefined;
  });

  it('runs load.sql with psql, where psql is installed', async (t) => {
    const psql = await promisify(execFile)('psql', ['--version']).catch(() => undefined);
    if (!psql) return t.skip('psql is not installed: the scripts were loaded through the pg driver above');
    const dir = await exportSql('psql', { kind: 'latest' });
    db = await freshSchema();
    const run = await promisify(execFile)('psql', [POSTGRES_URL!, '-v', 'ON_ERROR_STOP=1', '-q', '-f', 'load.sql'], { cwd: dir, env: { ...process.env, PGOPTIONS: `-c search_path=${db.schema}` } });
    assert.doesNotMatch(run.stderr, /ERROR/);
    const counts = await db.client.query(`SELECT (SELECT count(*) FROM "Widget__c")::int AS widgets, (SELECT count(*) FROM "Attachment")::int AS attachments`);
    assert.deepEqual(counts.rows[0], { widgets: WIDGETS, attachments: 5 });
    await db.drop();
    db = undefined;
  });
});
