// The export use case on a real vault: CSV read back with csv-parse equals the vault's state (the
// latest, as of a time, with deleted records), every version with its version columns, changes
// since the last export and since a run, file bodies under safe, distinct names with their bytes,
// an AES-256 zip that opens with the password only, the run log, and bad requests refused.
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BlobReader, Uint8ArrayWriter, ZipReader } from '@zip.js/zip.js';
import type { FileEntry } from '@zip.js/zip.js';
import { openAsBlob } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { UsageError } from '../../src/core/errors.ts';
import type { RecordVersion } from '../../src/core/vault.ts';
import { exportFormat, folderTarget, planExport, runExport, zipFileTarget } from '../../src/export/index.ts';
import type { ExportEvent, ExportRequest, ExportResult, ExportScope } from '../../src/export/index.ts';
import { textOf } from '../../src/export/values.ts';
import { T0, WIDGETS, WIDGET_DESCRIBE, allVersions, collect, exportFixture, widgetFields, widgetId } from './fixtures.ts';
import type { ExportFixture } from './fixtures.ts';

const WIDGET_COLUMNS = ['Id', 'Name', 'Notes__c', 'Price__c', 'Ratio__c', 'Tiny__c', 'Big__c', 'NumberOfEmployees', 'Active__c', 'Day__c', 'When__c', 'At__c', 'Site__c', 'Email__c', 'Tags__c', 'BillingCity', 'Account__c', 'IsDeleted', 'LastModifiedById', 'SystemModstamp'];
const VERSION_COLUMNS = ['_version_seq', '_system_modstamp', '_change_type', '_is_deleted', '_captured_at', '_run_id'];

describe('export use case', () => {
  let fx: ExportFixture;
  let n = 0;
  /** The exports' clock: after every backup of the fixture, moving a second at each reading. */
  let clock = T0 + 24 * 3_600_000;
  const now = (): number => (clock += 1000);
  const outDir = (): string => join(fx.dir, `out-${++n}`);

  before(async () => {
    fx = await exportFixture();
  });
  after(async () => {
    await fx?.close();
  });

  async function exportTo(dir: string, request: Omit<ExportRequest, 'org'>, format = 'csv', events?: ExportEvent[]): Promise<ExportResult> {
    const plan = await planExport(fx.vault.store, { org: fx.org, ...request });
    const target = await folderTarget(dir);
    return runExport({ store: fx.vault.store, blobs: fx.vault.blobs, now, batchSize: 5, onEvent: events ? (e) => events.push(e) : undefined }, plan, exportFormat(format), target);
  }

  async function readCsv(path: string): Promise<{ header: string[]; rows: Record<string, string>[] }> {
    const text = await readFile(path, 'utf8');
    const records = parse(text, { relax_column_count: false }) as string[][];
    const header = records[0]!;
    return { header, rows: records.slice(1).map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]!]))) };
  }

  /** The CSV row Data Loader would write for a version: each field's text, '' for null. */
  const expectedRow = (v: RecordVersion): Record<string, string> => {
    const types = new Map(WIDGET_DESCRIBE.fields.map((f) => [f.name as string, f.type as string]));
    return Object.fromEntries(WIDGET_COLUMNS.map((c) => [c, textOf(v.fields[c] ?? null, types.get(c)!) ?? '']));
  };

  it('exports the latest state as Data Loader CSV that reads back equal to the vault, Id first, without compound or body fields', async () => {
    const dir = outDir();
    const events: ExportEvent[] = [];
    const result = await exportTo(dir, { objects: ['widget__c'], scope: { kind: 'latest' } }, 'csv', events);
    assert.equal(result.status, 'Succeeded');
    const { header, rows } = await readCsv(join(dir, 'Widget__c.csv'));
    assert.deepEqual(header, WIDGET_COLUMNS, 'Id first, then describe order; BillingAddress (compound) left out, BillingCity kept');
    const latest = await collect(fx.vault.store.latestVersions(fx.org.orgId, 'Widget__c'));
    assert.equal(latest.length, WIDGETS, 'widget 3 was undeleted: every widget is live');
    assert.deepEqual(rows, latest.map(expectedRow));
    const w1 = rows.find((r) => r.Id === widgetId(1))!;
    assert.equal(w1.Name, 'Renamed "one"');
    assert.equal(w1.Price__c, '99.99');
    const w0 = rows.find((r) => r.Id === widgetId(0))!;
    assert.equal(w0.Tiny__c, '0.0000001', 'no exponent');
    assert.equal(w0.Big__c, '100000000000000000');
    assert.equal(w0.When__c, '2024-01-15T10:20:30.000Z', 'UTC with milliseconds');
    assert.equal(w0.Day__c, '2024-02-29');
    assert.equal(w0.Active__c, 'true');
    assert.equal(w0.Notes__c, '', 'null is an empty field');
    assert.equal(rows.find((r) => r.Id === widgetId(2))!.Notes__c, 'edited\nnotes', 'multi-line text survives');
    assert.equal(rows.find((r) => r.Id === widgetId(1))!.Notes__c, 'line one\nline "two", with comma\r\nline three\\n literal');
    const raw = await readFile(join(dir, 'Widget__c.csv'), 'utf8');
    assert.ok(raw.startsWith('"Id","Name","Notes__c"'), 'every value quoted, as Data Loader writes');
    assert.match(raw, /"Zoë 日本 🚀 Ünïcødé"/, 'UTF-8');

    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(manifest.runId, result.runId);
    assert.deepEqual((manifest.objects as { name: string; rows: number }[]).map((o) => [o.name, o.rows]), [['Widget__c', WIDGETS]]);
    assert.ok(!JSON.stringify(manifest).includes('Brien'), 'the manifest holds no field value');

    const run = await fx.vault.store.getRun(result.runId);
    assert.equal(run?.kind, 'export');
    assert.equal(run?.status, 'Succeeded');
    assert.equal(run?.counters.rows, WIDGETS);
    assert.equal(run?.counters.objects, 1);
    assert.ok((run?.counters.bytes ?? 0) > 1000);
    assert.equal(run?.parameters.format, 'csv');
    assert.equal(run?.parameters.scope, 'latest');
    assert.deepEqual((await fx.vault.store.listObjectRuns(result.runId)).map((o) => [o.objectName, o.status, o.counters.rows]), [['Widget__c', 'Succeeded', WIDGETS]]);
    assert.ok(events.some((e) => e.type === 'object-progress' && e.rows === 5), 'progress in batches');
    assert.deepEqual(events.at(-1), { type: 'object-finished', name: 'Widget__c', rows: WIDGETS, files: 0, status: 'Succeeded', message: null });
  });

  it('exports the state as of a time, leaving out records deleted by then unless asked', async () => {
    const at = fx.runs[1]!.at + 1;
    const without = outDir();
    await exportTo(without, { objects: ['Widget__c'], scope: { kind: 'asOf', at } });
    const state = await collect(fx.vault.store.stateAsOf(fx.org.orgId, 'Widget__c', at));
    const { rows } = await readCsv(join(without, 'Widget__c.csv'));
    assert.equal(rows.length, WIDGETS - 1);
    assert.ok(!rows.some((r) => r.Id === widgetId(3)), 'widget 3 was deleted then');
    assert.deepEqual(rows, state.map(expectedRow));

    const withDeleted = outDir();
    await exportTo(withDeleted, { objects: ['Widget__c'], scope: { kind: 'asOf', at }, includeDeleted: true });
    const all = await readCsv(join(withDeleted, 'Widget__c.csv'));
    assert.equal(all.rows.length, WIDGETS);
    assert.equal(all.rows.find((r) => r.Id === widgetId(3))?.IsDeleted, 'true');
    const stateWithDeleted = await collect(fx.vault.store.stateAsOf(fx.org.orgId, 'Widget__c', at, { includeDeleted: true }));
    assert.deepEqual(all.rows, stateWithDeleted.map(expectedRow));

    const before = outDir();
    await exportTo(before, { objects: ['Widget__c'], scope: { kind: 'asOf', at: T0 } });
    assert.equal((await readCsv(join(before, 'Widget__c.csv'))).rows.length, 0, 'nothing existed yet: the header alone');
  });

  it('exports every version with the version columns', async () => {
    const dir = outDir();
    await exportTo(dir, { objects: ['Widget__c'], scope: { kind: 'allVersions' } });
    const { header, rows } = await readCsv(join(dir, 'Widget__c.csv'));
    assert.deepEqual(header, [...WIDGET_COLUMNS, ...VERSION_COLUMNS]);
    const versions = await allVersions(fx.vault, fx.org, 'Widget__c');
    assert.equal(rows.length, WIDGETS + 5);
    assert.deepEqual(
      rows.map((r) => [r._version_seq, r.Id, r._change_type, r._is_deleted, r._run_id, r._system_modstamp, r._captured_at]),
      versions.map((v) => [String(v.seq), v.recordId, v.changeType, String(v.isDeleted), v.runId, new Date(v.systemModstamp).toISOString(), new Date(v.capturedAt).toISOString()]),
    );
    assert.deepEqual(
      rows.map((r) => Object.fromEntries(WIDGET_COLUMNS.map((c) => [c, r[c]]))),
      versions.map(expectedRow),
    );
    assert.deepEqual(rows.filter((r) => r.Id === widgetId(3)).map((r) => r._change_type), ['created', 'deleted', 'undeleted']);
  });

  it('exports what changed since the last export: everything the first time, then only the new versions', async () => {
    const store = fx.vault.store;
    // Attachments were never exported: every version.
    const first = outDir();
    const r1 = await exportTo(first, { objects: ['Attachment'], scope: { kind: 'sinceLastExport' } });
    assert.equal((await readCsv(join(first, 'Attachment.csv'))).rows.length, 6, 'no export with a cutoff yet: every version');
    assert.match(r1.objects[0]!.message ?? '', /First export/);
    const again = outDir();
    const r2 = await exportTo(again, { objects: ['Attachment'], scope: { kind: 'sinceLastExport' } });
    assert.equal((await readCsv(join(again, 'Attachment.csv'))).rows.length, 0, 'nothing was captured since');
    assert.match(r2.objects[0]!.message ?? '', new RegExp(`export ${r1.runId}`));

    // Widgets were exported whole by the tests above (latest, every version): nothing new since.
    const lastWhole = (await store.listRuns({ orgId: fx.org.orgId, kind: 'export' })).find((r) => r.parameters.scope === 'allVersions')!;
    const nothing = outDir();
    const r3 = await exportTo(nothing, { objects: ['Widget__c'], scope: { kind: 'sinceLastExport' } });
    assert.equal((await readCsv(join(nothing, 'Widget__c.csv'))).rows.length, 0);
    assert.match(r3.objects[0]!.message ?? '', new RegExp(`export (${lastWhole.runId}|${r3.runId})`));

    // An as-of export does not move the cutoff; a new backup adds two versions.
    await exportTo(outDir(), { objects: ['Widget__c'], scope: { kind: 'asOf', at: T0 } });
    const runId = 'run-4-backup';
    const at = now();
    await store.createRun({ runId, orgId: fx.org.orgId, kind: 'backup', status: 'Running', startedAt: at, endedAt: null, counters: {}, message: null, parameters: {} });
    await store.writeVersions({
      orgId: fx.org.orgId,
      objectName: 'Widget__c',
      runId,
      capturedAt: at,
      schemaId: null,
      versions: [5, 6].map((i) => ({ recordId: widgetId(i), systemModstamp: at - 10 + i, changeType: 'updated' as const, isDeleted: false, lastModifiedById: null, fields: widgetFields(i, at - 10 + i, { Name: `Changed ${i}` }) })),
    });
    await store.updateRun(runId, { status: 'Succeeded', endedAt: at + 10 });
    const changed = outDir();
    await exportTo(changed, { objects: ['Widget__c'], scope: { kind: 'sinceLastExport' } });
    const { header, rows } = await readCsv(join(changed, 'Widget__c.csv'));
    assert.deepEqual(header, [...WIDGET_COLUMNS, ...VERSION_COLUMNS], 'changes are versions, with their columns');
    assert.deepEqual(rows.map((r) => [r.Id, r.Name, r._run_id, r._change_type]), [[widgetId(5), 'Changed 5', runId, 'updated'], [widgetId(6), 'Changed 6', runId, 'updated']]);
    const after = outDir();
    await exportTo(after, { objects: ['Widget__c'], scope: { kind: 'sinceLastExport' } });
    assert.equal((await readCsv(join(after, 'Widget__c.csv'))).rows.length, 0);
  });

  it('takes the start of a running backup as the cutoff, so that none of its versions is missed', async () => {
    const store = fx.vault.store;
    const runId = 'run-5-backup';
    const startedAt = now();
    await store.createRun({ runId, orgId: fx.org.orgId, kind: 'backup', status: 'Running', startedAt, endedAt: null, counters: {}, message: null, parameters: {} });
    const during = await exportTo(outDir(), { objects: ['Widget__c'], scope: { kind: 'latest' } });
    const run = await store.getRun(during.runId);
    assert.deepEqual(run?.parameters.marks, { Widget__c: startedAt });
    // The running backup stores a version it had read before the export started.
    await store.writeVersions({
      orgId: fx.org.orgId,
      objectName: 'Widget__c',
      runId,
      capturedAt: startedAt + 1,
      schemaId: null,
      versions: [{ recordId: widgetId(7), systemModstamp: startedAt, changeType: 'updated', isDeleted: false, lastModifiedById: null, fields: widgetFields(7, startedAt, { Name: 'Late commit' }) }],
    });
    await store.updateRun(runId, { status: 'Succeeded', endedAt: now() });
    const next = outDir();
    await exportTo(next, { objects: ['Widget__c'], scope: { kind: 'sinceLastExport' } });
    assert.deepEqual((await readCsv(join(next, 'Widget__c.csv'))).rows.map((r) => [r.Id, r.Name]), [[widgetId(7), 'Late commit']]);
  });

  it('exports the versions one backup run captured', async () => {
    const dir = outDir();
    await exportTo(dir, { scope: { kind: 'sinceRun', runId: fx.runs[1]!.id } });
    assert.deepEqual((await readdir(dir)).sort(), ['Attachment.csv', 'Widget__c.csv', 'manifest.json'], 'every object holding records; Empty__c holds none');
    const widgets = await readCsv(join(dir, 'Widget__c.csv'));
    assert.deepEqual(widgets.rows.map((r) => [r.Id, r._change_type]), [[widgetId(1), 'updated'], [widgetId(2), 'updated'], [widgetId(3), 'deleted']]);
    assert.ok(widgets.rows.every((r) => r._run_id === fx.runs[1]!.id));
    assert.equal((await readCsv(join(dir, 'Attachment.csv'))).rows.length, 1);
  });

  it('writes file bodies under files/<Object>/<RecordId>/ with safe, distinct names and their exact bytes', async () => {
    const dir = outDir();
    const result = await exportTo(dir, { objects: ['Attachment'], scope: { kind: 'latest' }, files: true });
    assert.equal(result.status, 'Succeeded');
    assert.equal(result.counters.files, 5);
    const folder = (i: number): string => join(dir, 'files', 'Attachment', `00P000000000${String(i).padStart(3, '0')}AAA`);
    assert.deepEqual(await readdir(folder(0)), ['___.._etc_passwd'], 'no path traversal: one segment, no leading dot');
    assert.deepEqual(await readdir(folder(3)), ['_CON'], 'no reserved Windows name');
    assert.deepEqual(await readdir(folder(4)), ['_hidden']);
    for (const [id, body] of fx.bodies) {
      const names = await readdir(join(dir, 'files', 'Attachment', id));
      assert.equal(names.length, 1, id);
      assert.deepEqual(await readFile(join(dir, 'files', 'Attachment', id, names[0]!)), body, `${id}: the latest body`);
    }
    assert.deepEqual((await readdir(join(dir, 'files', 'Attachment'))).length, 5);

    // Every version: attachment 1 had two bodies of the same name.
    const versions = outDir();
    const all = await exportTo(versions, { objects: ['Attachment'], scope: { kind: 'allVersions' }, files: true });
    assert.equal(all.counters.files, 6);
    const one = join(versions, 'files', 'Attachment', '00P000000000001AAA');
    assert.deepEqual((await readdir(one)).sort(), ['report (2).pdf', 'report.pdf']);
    assert.match(await readFile(join(one, 'report.pdf'), 'utf8'), /^body of attachment 1/);
    assert.equal(await readFile(join(one, 'report (2).pdf'), 'utf8'), 'the second body of attachment 1');
  });

  it('packs the export into an AES-256 zip that opens with the password only', async () => {
    const file = join(fx.dir, 'export.zip');
    const plan = await planExport(fx.vault.store, { org: fx.org, objects: ['Widget__c', 'Attachment'], scope: { kind: 'latest' }, files: true });
    const result = await runExport({ store: fx.vault.store, blobs: fx.vault.blobs }, plan, exportFormat('sql', 'postgres'), await zipFileTarget(file, 'correct horse battery'));
    assert.equal(result.output.kind, 'zip');
    const reader = new ZipReader(new BlobReader(await openAsBlob(file)), { useWebWorkers: false });
    const entries = (await reader.getEntries()).filter((e): e is FileEntry => !e.directory);
    const names = entries.map((e) => e.filename).sort();
    assert.deepEqual(names.filter((n) => !n.startsWith('files/')), ['Attachment.sql', 'Widget__c.sql', 'load.sql', 'manifest.json']);
    assert.equal(names.filter((n) => n.startsWith('files/')).length, 5);
    for (const entry of entries) {
      assert.ok(entry.encrypted, `${entry.filename} is encrypted`);
      await assert.rejects(entry.getData(new Uint8ArrayWriter(), { password: 'wrong password' }), /password/i, 'a wrong password opens nothing');
      await assert.rejects(entry.getData(new Uint8ArrayWriter()), /encrypted/i);
    }
    const body = entries.find((e) => e.filename === 'files/Attachment/00P000000000002AAA/report.pdf')!;
    assert.deepEqual(Buffer.from(await body.getData(new Uint8ArrayWriter(), { password: 'correct horse battery' })), fx.bodies.get('00P000000000002AAA'));
    const sql = Buffer.from(await entries.find((e) => e.filename === 'Widget__c.sql')!.getData(new Uint8ArrayWriter(), { password: 'correct horse battery' })).toString('utf8');
    assert.match(sql, /^CREATE TABLE "Widget__c" \(/m);
    assert.match(sql, /O''Brien "Ltd", Dublin/);
    // The AES extra field (0x9901) with strength 3: AES-256.
    const bytes = await readFile(file);
    const aes = bytes.indexOf(Buffer.from([0x01, 0x99, 0x07, 0x00]));
    assert.ok(aes > 0, 'an AES extra field');
    assert.equal(bytes[aes + 8], 3, 'AES-256');
    assert.ok(!bytes.includes(Buffer.from('Brien')), 'no field value in clear');
    await reader.close();

    await assert.rejects(zipFileTarget(file, 'correct horse battery'), UsageError, 'an existing zip is never replaced silently');
    await assert.rejects(zipFileTarget(join(fx.dir, 'short.zip'), 'short'), /at least 8/);
  });

  it('counts bodies the vault cannot give, and completes with errors', async () => {
    const dir = outDir();
    const plan = await planExport(fx.vault.store, { org: fx.org, objects: ['Attachment'], scope: { kind: 'latest' }, files: true });
    const missing = new Set([...(await fx.vault.store.filesOf(fx.org.orgId, '00P000000000004AAA'))].map((f) => f.address));
    const blobs = {
      get: (address: string): AsyncIterable<Buffer> =>
        missing.has(address)
          ? (async function* () {
              throw new Error(`blob ${address} is missing`);
            })()
          : fx.vault.blobs.get(address),
    };
    const result = await runExport({ store: fx.vault.store, blobs }, plan, exportFormat('csv'), await folderTarget(dir));
    assert.equal(result.status, 'CompletedWithErrors');
    assert.equal(result.counters.files, 4);
    assert.match(result.objects[0]!.message ?? '', /1 file body could not be read.*Attachment 00P000000000004AAA Body/);
    assert.equal((await fx.vault.store.getRun(result.runId))?.status, 'CompletedWithErrors');
  });

  it('refuses bad requests before anything is written or logged', async () => {
    const runsBefore = (await fx.vault.store.listRuns({ kind: 'export' })).length;
    const refuse = async (request: Omit<ExportRequest, 'org'>, pattern: RegExp): Promise<void> => {
      await assert.rejects(planExport(fx.vault.store, { org: fx.org, ...request }), (error: unknown) => error instanceof UsageError && pattern.test(error.message));
    };
    await refuse({ objects: ['Widgit__c'], scope: { kind: 'latest' } }, /No backup of Widgit__c.*It holds Attachment, Empty__c, Widget__c/);
    await refuse({ scope: { kind: 'allVersions' }, includeDeleted: true }, /--include-deleted applies to the latest state or --as-of/);
    await refuse({ scope: { kind: 'sinceRun', runId: 'nope' } }, /no run of org acme has that ID/);
    const exportRun = (await fx.vault.store.listRuns({ kind: 'export', limit: 1 }))[0]!;
    await refuse({ scope: { kind: 'sinceRun', runId: exportRun.runId } } as { scope: ExportScope }, /is a export run: give a backup run/);
    assert.throws(() => exportFormat('xlsx'), /choose csv, sql, parquet/);
    assert.throws(() => exportFormat('sql', 'oracle'), /choose postgres or mysql/);
    assert.throws(() => exportFormat('csv', 'mysql'), /--dialect applies to --format sql only/);
    const full = join(fx.dir, 'not-empty');
    await mkdir(full);
    await writeFile(join(full, 'keep.txt'), 'mine');
    await assert.rejects(folderTarget(full), /not empty.*--force/);
    assert.equal((await fx.vault.store.listRuns({ kind: 'export' })).length, runsBefore);
  });

  it('records a failed export as Failed with the reason, and removes an incomplete zip', async () => {
    const file = join(fx.dir, 'broken.zip');
    const plan = await planExport(fx.vault.store, { org: fx.org, objects: ['Widget__c'], scope: { kind: 'latest' } });
    const failing = { ...exportFormat('csv'), openObject: async () => Promise.reject(new Error('disk full')) };
    await assert.rejects(runExport({ store: fx.vault.store, blobs: fx.vault.blobs }, plan, failing, await zipFileTarget(file, 'correct horse battery')), /Export failed at Widget__c: disk full/);
    await assert.rejects(readFile(file), /ENOENT/);
    const run = (await fx.vault.store.listRuns({ kind: 'export', limit: 1 }))[0]!;
    assert.equal(run.status, 'Failed');
    assert.match(run.message ?? '', /disk full.*incomplete zip was removed/);
    assert.equal((await fx.vault.store.listObjectRuns(run.runId))[0]?.status, 'Failed');
  });
});
