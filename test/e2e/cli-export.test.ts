// `orgvault export` as an admin or a script runs it: the real bin/orgvault.js in a child process,
// against a vault backed up from the emulator's seeded demo org. Round trips: every object's CSV
// read back with csv-parse, and the SQL loaded into PostgreSQL, equal the vault's state; every
// version; changes since the last export after edits in the org; file bodies equal to the org's,
// in an AES-256 zip that opens with the password only. Bad flags exit 2 naming the fix, and every
// export is a run in `orgvault logs`.
import assert from 'node:assert/strict';
import { openAsBlob } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BlobReader, Uint8ArrayWriter, ZipReader } from '@zip.js/zip.js';
import type { FileEntry } from '@zip.js/zip.js';
import { parse } from 'csv-parse/sync';
import { startEmulator } from '../../emulator/index.ts';
import type { RunningEmulator } from '../../emulator/index.ts';
import type { RawField } from '../../src/core/describe.ts';
import type { RecordVersion } from '../../src/core/vault.ts';
import { columnsOf } from '../../src/export/columns.ts';
import { textOf } from '../../src/export/values.ts';
import { openVault } from '../../src/store/vault.ts';
import type { Vault } from '../../src/store/vault.ts';
import { canonical, freshSchema, postgresSkip } from '../export/pg-loader.ts';
import { emulatedOrg } from './fixtures/emulated-org.ts';
import type { EmulatedOrg } from './fixtures/emulated-org.ts';
import { jsonOf, runCli } from './fixtures/cli-runner.ts';
import type { CliResult } from './fixtures/cli-runner.ts';

const PASSPHRASE = 'e2e export passphrase 7f31';
const ZIP_PASSWORD = 'zip password for the auditors';

interface ExportJson {
  runId: string;
  status: string;
  format: string;
  scope: string;
  output: { kind: string; location: string };
  objects: { name: string; rows: number; files: number; status: string; paths: string[]; message: string | null }[];
  counters: { objects: number; rows: number; files: number; fileBytes: number; bytes: number };
}

describe('orgvault export', () => {
  let emu: RunningEmulator;
  let sf: EmulatedOrg;
  let scratch: string;
  let vault: string;
  let orgId: string;
  const exportRuns: string[] = [];

  before(async () => {
    emu = await startEmulator({ profile: 'demo', seed: 31 });
    sf = emulatedOrg(emu);
    orgId = emu.info.orgId;
    scratch = await mkdtemp(join(tmpdir(), 'orgvault-cli-export-'));
    vault = join(scratch, 'vault');
  });
  after(async () => {
    await emu?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  const run = (args: string[], env?: Record<string, string | undefined>): Promise<CliResult> => runCli(args, { vault, cwd: scratch, passphrase: PASSPHRASE, env });

  async function exportCli(args: string[], env?: Record<string, string | undefined>): Promise<ExportJson> {
    const result = await run(['export', '--org', 'demo', '--json', ...args], env);
    assert.equal(result.code, 0, result.stderr);
    const json = jsonOf<ExportJson>(result);
    exportRuns.push(json.runId);
    return json;
  }

  async function withVault<T>(work: (v: Vault) => Promise<T>): Promise<T> {
    const v = await openVault(vault, { passphrase: PASSPHRASE }, { readonly: true });
    try {
      return await work(v);
    } finally {
      await v.close();
    }
  }

  /** Each object's columns from its stored describe, and its latest versions (or every version). */
  async function vaultState(objects: readonly string[], versions = false): Promise<Map<string, { fields: RawField[]; rows: RecordVersion[] }>> {
    return withVault(async (v) => {
      const state = new Map<string, { fields: RawField[]; rows: RecordVersion[] }>();
      for (const name of objects) {
        const history = await v.store.schemaHistory(orgId, name);
        const raw = (await v.store.getSchema(orgId, history.find((s) => s.validTo === null)!.schemaId)) as { fields: RawField[] };
        const rows: RecordVersion[] = [];
        for await (const version of versions ? v.store.findVersions({ orgId, objectName: name }) : v.store.latestVersions(orgId, name)) rows.push(version);
        state.set(name, { fields: raw.fields, rows });
      }
      return state;
    });
  }

  const readCsv = async (path: string): Promise<string[][]> => parse(await readFile(path, 'utf8')) as string[][];

  test('init, org add, a backup of the whole demo org', async () => {
    assert.equal((await run(['init'])).code, 0);
    const { info } = emu;
    const added = await run(['org', 'add', 'demo', '--login-url', info.loginUrl, '--client-id', info.clientId, '--client-secret', info.clientSecret, '--username', info.username, '--password', info.password]);
    assert.equal(added.code, 0, added.stderr);
    const backup = await run(['backup', '--org', 'demo']);
    assert.equal(backup.code, 0, backup.stderr);
  });

  test('--format csv: one Data Loader CSV per object, each read back equal to the vault', async () => {
    const out = join(scratch, 'csv');
    const result = await run(['export', '--org', 'demo', '--out', out]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^Export [0-9a-f-]{36}: Succeeded$/m);
    assert.match(result.stdout, /^Account\s+[\d,]+\s+0\s+Succeeded/m);
    assert.match(result.stderr, /^ {2}Contact: [\d,]+ rows$/m, 'a progress line per object when stderr is not a terminal');
    exportRuns.push(/^Export ([0-9a-f-]{36})/m.exec(result.stdout)![1]!);

    const files = (await readdir(out)).sort();
    const objects = files.filter((f) => f.endsWith('.csv')).map((f) => f.slice(0, -4));
    for (const name of ['Account', 'Contact', 'Opportunity', 'Case', 'Attachment', 'ContentVersion', 'Project__c', 'Invoice__c']) assert.ok(objects.includes(name), `${name}.csv`);
    assert.ok(files.includes('manifest.json'));
    const state = await vaultState(objects);
    let rows = 0;
    for (const [name, { fields, rows: versions }] of state) {
      const columns = columnsOf(fields, false);
      const [header, ...body] = await readCsv(join(out, `${name}.csv`));
      assert.deepEqual(header, columns.map((c) => c.name), `${name}: header of API names`);
      assert.equal(header![0], 'Id');
      assert.ok(!columns.some((c) => ['address', 'location', 'base64'].includes(c.type)), `${name}: no compound or body column`);
      const expected = versions.map((v) => columns.map((c) => textOf(v.fields[c.name] ?? null, c.type) ?? ''));
      assert.deepEqual(body, expected, `${name} equals the vault's latest state`);
      rows += body.length;
    }
    assert.ok(rows > 5000, `${rows} rows`);
    // The live org agrees: the exported accounts are the org's accounts (none changed since the backup).
    const [accountHeader, ...accounts] = await readCsv(join(out, 'Account.csv'));
    const name = accountHeader!.indexOf('Name');
    const live = new Map([...emu.org.records('Account')].filter((r) => !r.IsDeleted).map((r) => [String(r.Id), String(r.Name)]));
    assert.deepEqual(new Map(accounts.map((r) => [r[0]!, r[name]!])), live);
    const created = accountHeader!.indexOf('CreatedDate');
    assert.match(accounts[0]![created]!, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/, 'datetimes in UTC with milliseconds');
  });

  test('--format sql: loads into PostgreSQL, every table equal to the vault', { skip: postgresSkip() }, async () => {
    const out = join(scratch, 'sql');
    const result = await exportCli(['--format', 'sql', '--out', out]);
    assert.equal(result.format, 'sql');
    const db = await freshSchema();
    try {
      const loaded = await db.load(out);
      assert.deepEqual(loaded, result.objects.map((o) => `${o.name}.sql`));
      const state = await vaultState(result.objects.map((o) => o.name));
      for (const [name, { fields, rows }] of state) {
        const columns = columnsOf(fields, false);
        const expected = rows.map((v) => columns.map((c) => canonical(v.fields[c.name], c.type)));
        const actual = (await db.rows(name, 'Id')).map((row) => columns.map((c) => canonical(row[c.name], c.type)));
        // PostgreSQL orders text by its collation, the vault by bytes.
        const byId = (a: (string | null)[], b: (string | null)[]): number => (a[0]! < b[0]! ? -1 : a[0]! > b[0]! ? 1 : 0);
        assert.deepEqual(actual.sort(byId), expected.sort(byId), `${name} in PostgreSQL equals the vault`);
      }
    } finally {
      await db.drop();
    }
  });

  test('--since-last-export after edits in the org: only the new versions; --all-versions: every version', async () => {
    const [edited, deleted] = [...emu.org.records('Account')].filter((r) => !r.IsDeleted).map((r) => String(r.Id));
    await sf.rest('PATCH', `/sobjects/Account/${edited}`, { Name: 'Exported, "then" edited\nCo' });
    await sf.rest('DELETE', `/sobjects/Account/${deleted}`);
    const backup = await run(['backup', '--org', 'demo', '--object', 'Account,Contact', '--json']);
    assert.equal(backup.code, 0, backup.stderr);
    const backupRun = jsonOf<{ runId: string }>(backup).runId;

    const out = join(scratch, 'changes');
    const changes = await exportCli(['--object', 'Account,contact', '--since-last-export', '--out', out]);
    assert.deepEqual(changes.objects.map((o) => o.name), ['Account', 'Contact'], 'object names as the vault spells them');
    // Exactly the versions that backup stored: the edit, the delete, and the contacts the delete cascaded to.
    const captured = await withVault(async (v) => {
      const seqs = new Map<string, number[]>();
      for (const name of ['Account', 'Contact']) {
        const found: number[] = [];
        for await (const version of v.store.findVersions({ orgId, objectName: name })) if (version.runId === backupRun) found.push(version.seq);
        seqs.set(name, found.sort((a, b) => a - b));
      }
      return seqs;
    });
    assert.ok(captured.get('Contact')!.length > 0, 'deleting an account deleted its contacts');
    for (const name of ['Account', 'Contact']) {
      const [header, ...rows] = await readCsv(join(out, `${name}.csv`));
      const seq = header!.indexOf('_version_seq');
      assert.deepEqual(rows.map((r) => Number(r[seq])).sort((a, b) => a - b), captured.get(name), `${name}: only the versions captured since the last export`);
    }
    const [header, ...rows] = await readCsv(join(out, 'Account.csv'));
    const at = (row: string[], column: string): string => row[header!.indexOf(column)]!;
    const byId = new Map(rows.map((r) => [at(r, 'Id'), r]));
    assert.deepEqual([at(byId.get(edited)!, '_change_type'), at(byId.get(edited)!, '_is_deleted')], ['updated', 'false']);
    assert.deepEqual([at(byId.get(deleted)!, '_change_type'), at(byId.get(deleted)!, '_is_deleted')], ['deleted', 'true']);
    assert.equal(at(byId.get(edited)!, 'Name'), 'Exported, "then" edited\nCo');
    const again = await exportCli(['--object', 'Account,Contact', '--since-last-export', '--out', join(scratch, 'changes-again')]);
    assert.deepEqual(again.objects.map((o) => o.rows), [0, 0], 'nothing new since');

    const versionsOut = join(scratch, 'versions');
    const all = await exportCli(['--object', 'Account', '--all-versions', '--out', versionsOut]);
    const state = await vaultState(['Account'], true);
    const { fields, rows: versions } = state.get('Account')!;
    const [vHeader, ...vRows] = await readCsv(join(versionsOut, 'Account.csv'));
    assert.deepEqual(vHeader, [...columnsOf(fields, true).map((c) => c.name)]);
    assert.equal(all.counters.rows, versions.length);
    assert.deepEqual(vRows.map((r) => Number(r[vHeader!.indexOf('_version_seq')])), versions.map((v) => v.seq));
    assert.equal(vRows.filter((r) => r[0] === edited).length, 2, 'both versions of the edited account');
  });

  test('--files --zip: the bodies with their names, in an AES-256 zip that opens with the password only', async () => {
    const passwordFile = join(scratch, 'zip-password');
    await writeFile(passwordFile, `${ZIP_PASSWORD}\n`, { mode: 0o600 });
    const zip = join(scratch, 'files.zip');
    const result = await exportCli(['--object', 'Attachment,Document,ContentVersion', '--files', '--zip', zip, '--password-file', passwordFile, '--format', 'sql', '--dialect', 'mysql']);
    assert.equal(result.output.kind, 'zip');
    assert.ok(result.counters.files >= 20, `${result.counters.files} files`);

    const reader = new ZipReader(new BlobReader(await openAsBlob(zip)), { useWebWorkers: false });
    const entries = (await reader.getEntries()).filter((e): e is FileEntry => !e.directory);
    const open = async (entry: FileEntry): Promise<Buffer> => Buffer.from(await entry.getData(new Uint8ArrayWriter(), { password: ZIP_PASSWORD }));
    const bodies = entries.filter((e) => e.filename.startsWith('files/'));
    assert.equal(bodies.length, result.counters.files);
    for (const entry of entries) assert.ok(entry.encrypted, entry.filename);
    await assert.rejects(bodies[0]!.getData(new Uint8ArrayWriter(), { password: 'not the password' }), /password/i);

    // Each attachment's body, with its name, equals the one the org serves.
    const attachments = await sf.query('SELECT Id, Name FROM Attachment');
    for (const attachment of attachments) {
      const entry = bodies.find((e) => e.filename.startsWith(`files/Attachment/${String(attachment.Id)}/`));
      assert.ok(entry, `${String(attachment.Id)} has its body`);
      assert.equal(entry.filename, `files/Attachment/${String(attachment.Id)}/${String(attachment.Name)}`);
      const response = await fetch(`${emu.info.instanceUrl}/services/data/v62.0/sobjects/Attachment/${String(attachment.Id)}/Body`, { headers: { Authorization: `Bearer ${await token()}` } });
      assert.deepEqual(await open(entry), Buffer.from(await response.arrayBuffer()), `${String(attachment.Name)}: the same bytes`);
    }
    const sql = (await open(entries.find((e) => e.filename === 'Attachment.sql')!)).toString('utf8');
    assert.match(sql, /^CREATE TABLE `Attachment` \(/m);
    assert.match((await open(entries.find((e) => e.filename === 'load.sql')!)).toString('utf8'), /^SOURCE Attachment\.sql;$/m);
    await reader.close();
  });

  async function token(): Promise<string> {
    const { info } = emu;
    const login = await fetch(`${info.loginUrl}/services/oauth2/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'password', client_id: info.clientId, client_secret: info.clientSecret, username: info.username, password: info.password }),
    });
    return ((await login.json()) as { access_token: string }).access_token;
  }

  test('bad flags exit 2 with a message naming the fix, and write nothing', async () => {
    const full = join(scratch, 'full');
    await mkdir(full);
    await writeFile(join(full, 'keep.txt'), 'mine');
    // Each refusal in a child process; the other flag checks are unit-tested (test/export/request.test.ts).
    const cases: [string[], RegExp, Record<string, string | undefined>?][] = [
      [['--object', 'Acount', '--out', join(scratch, 'x1')], /No backup of Acount in the vault of org demo: check the API name.*It holds Account/],
      [['--format', 'xlsx', '--out', join(scratch, 'x2')], /--format.*xlsx.*csv, sql, parquet/],
      [[], /Say where the export goes: --out DIR .* or --zip FILE/],
      [['--as-of', '2026-01-01', '--all-versions', '--out', join(scratch, 'x4')], /--as-of and --all-versions cannot be combined/],
      [['--out', full], /is not empty: give a new or empty folder, or add --force/],
      [['--zip', join(scratch, 'x6.zip')], /--zip needs a password: pass --password-file FILE, set ORGVAULT_EXPORT_PASSWORD/],
      [['--all-versions', '--include-deleted', '--out', join(scratch, 'x10')], /--include-deleted applies to the latest state or --as-of/],
    ];
    const before = await withVault((v) => v.store.listRuns({ orgId, kind: 'export' }));
    for (const [args, message, env] of cases) {
      const result = await run(['export', '--org', 'demo', ...args], { ORGVAULT_EXPORT_PASSWORD: undefined, ...env });
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message, args.join(' '));
      assert.doesNotMatch(result.stderr, /at .*\.ts:\d+/, 'no stack trace');
    }
    for (const n of [1, 2, 4, 10]) await assert.rejects(readdir(join(scratch, `x${n}`)), /ENOENT/, `x${n} was not created`);
    await assert.rejects(readFile(join(scratch, 'x6.zip')), /ENOENT/);
    assert.deepEqual(await readdir(full), ['keep.txt']);
    assert.equal((await withVault((v) => v.store.listRuns({ orgId, kind: 'export' }))).length, before.length, 'no run for a refused export');
    const json = await run(['export', '--org', 'demo', '--json', '--out', full]);
    assert.equal(json.code, 2);
    assert.equal(jsonOf<{ error: { code: string } }>(json).error.code, 'USAGE');
  });

  test('every export is a run in the log, with its counters', async () => {
    for (const runId of exportRuns) {
      const log = await run(['logs', runId, '--json']);
      assert.equal(log.code, 0, log.stderr);
      const entry = jsonOf<{ kind: string; status: string; counters: Record<string, number> }>(log);
      assert.equal(entry.kind, 'export');
      assert.equal(entry.status, 'Succeeded');
      assert.ok(entry.counters.bytes > 0 && entry.counters.objects > 0, JSON.stringify(entry.counters));
    }
    assert.ok(exportRuns.length >= 4, `${exportRuns.length} exports checked`);
  });
});
