// Data and schema together, against the emulator over HTTP: accounts backed up, then a custom field
// deleted and another turned from text into a number through the emulator's metadata admin API,
// backed up again. Every version knows the describe it was captured under (deletions too); a
// restore of records captured under the older schema names the missing field and the changed
// type in its dry run, leaves the missing field out and refuses only the record whose value cannot
// become a number; an export across both schemas has both columns.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startEmulator } from '../../emulator/index.ts';
import type { RunningEmulator } from '../../emulator/index.ts';
import { resolveSettings, runBackup } from '../../src/backup/index.ts';
import type { OrgRegistration, SchemaVersion } from '../../src/core/vault.ts';
import { generateKeyFileContent } from '../../src/crypto/keys.ts';
import { exportFormat, folderTarget, planExport, runExport } from '../../src/export/index.ts';
import type { ExportScope } from '../../src/export/index.ts';
import { addOrg } from '../../src/orgs/index.ts';
import { runRestore } from '../../src/restore/index.ts';
import type { RestoreReport, RestoreRequest } from '../../src/restore/index.ts';
import { connectOrg } from '../../src/salesforce/index.ts';
import { initVault, openVault } from '../../src/store/vault.ts';
import type { Vault } from '../../src/store/vault.ts';
import { freshSchema, postgresSkip } from '../export/pg-loader.ts';
import { jsonOf, runCli } from './fixtures/cli-runner.ts';
import { emulatedOrg, restoreRequest } from './fixtures/emulated-org.ts';
import type { EmulatedOrg } from './fixtures/emulated-org.ts';

describe('restoring and exporting across schema versions', () => {
  let emulator: RunningEmulator;
  let sf: EmulatedOrg;
  let dir: string;
  let vault: Vault;
  let org: OrgRegistration;
  let schemas: SchemaVersion[];
  const ids: Record<'coded' | 'gold' | 'later', string> = { coded: '', gold: '', later: '' };

  const backup = async (reconcile = false): Promise<void> => {
    const client = await connectOrg(sf.auth);
    const result = await runBackup({ store: vault.store, blobs: vault.blobs, client, now: () => emulator.org.clock.nowMs() }, { org, settings: resolveSettings(), objects: ['Account'], reconcile });
    assert.equal(result.status, 'Succeeded', JSON.stringify(result.objects));
  };
  const advance = (seconds: number): Promise<unknown> => sf.admin('POST', '/clock', { advanceSeconds: seconds });
  const metadata = (body: unknown): Promise<unknown> => sf.admin('POST', '/metadata', body);
  const restore = async (over: Partial<RestoreRequest>): Promise<RestoreReport> =>
    runRestore(
      { store: vault.store, blobs: vault.blobs, client: await connectOrg(sf.auth), now: () => emulator.org.clock.nowMs() },
      restoreRequest(org, { selection: { objectName: 'Account', recordIds: [ids.coded, ids.gold] }, ...over }),
    );
  const exportTo = async (format: 'csv' | 'sql' | 'parquet', scope: ExportScope, name: string): Promise<string> => {
    const out = join(dir, name);
    const plan = await planExport(vault.store, { org, objects: ['Account'], scope });
    await runExport({ store: vault.store, blobs: vault.blobs }, plan, exportFormat(format, format === 'sql' ? 'postgres' : undefined), await folderTarget(out));
    return out;
  };

  before(async () => {
    emulator = await startEmulator({ profile: 'empty', seed: 3 });
    sf = emulatedOrg(emulator);
    dir = await mkdtemp(join(tmpdir(), 'orgvault-restore-schema-'));
    const keyFile = Buffer.from(generateKeyFileContent());
    await initVault(join(dir, 'vault'), { keyFile });
    await writeFile(join(dir, 'vault.key'), keyFile, { mode: 0o600 });
    vault = await openVault(join(dir, 'vault'), { keyFile });
    org = (await addOrg({ catalog: vault.store, keyring: vault.keyring, connect: (a) => connectOrg(a) }, 'drift', sf.auth)).registration;

    await metadata({ op: 'addField', object: 'Account', field: { fullName: 'Legacy_Code__c', type: 'Text', length: 40, label: 'Legacy Code' } });
    await metadata({ op: 'addField', object: 'Account', field: { fullName: 'Tier__c', type: 'Text', length: 20, label: 'Tier' } });
    ids.coded = String((await sf.rest('POST', '/sobjects/Account', { Name: 'Coded Ltd', Legacy_Code__c: 'LC-1', Tier__c: '3' })).id);
    ids.gold = String((await sf.rest('POST', '/sobjects/Account', { Name: 'Gold Ltd', Tier__c: 'Gold' })).id);
    await backup();
    // A later change moves the watermark on, so the next backups' look-back no longer reads the
    // two accounts again (a re-read under the new describe would be a version of its own).
    await advance(3600);
    await sf.rest('POST', '/sobjects/Account', { Name: 'Filler Ltd' });
    await backup();

    // The administrator deletes one field and makes the other a number.
    await advance(3600);
    await metadata({ op: 'deleteField', object: 'Account', field: 'Legacy_Code__c' });
    await metadata({ op: 'addField', object: 'Account', field: { fullName: 'Tier__c', type: 'Number', precision: 4, scale: 0, label: 'Tier' } });
    ids.later = String((await sf.rest('POST', '/sobjects/Account', { Name: 'Later Ltd', Tier__c: 5 })).id);
    await backup();

    // Both old accounts are deleted for good: the next backup finds them gone.
    await advance(3600);
    for (const id of [ids.coded, ids.gold]) await sf.rest('DELETE', `/sobjects/Account/${id}`);
    await sf.admin('POST', '/recycle-bin/empty', {});
    await advance(120);
    await backup(true);
    schemas = await vault.store.schemaHistory(org.orgId, 'Account');
  });
  after(async () => {
    await vault?.close();
    await emulator?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('the deleted field is gone from describe and SOQL; every version names the describe it was captured under', async () => {
    const fields = ((await sf.rest('GET', '/sobjects/Account/describe')).fields as { name: string; type: string }[]).map((f) => `${f.name}:${f.type}`);
    assert.ok(!fields.some((f) => f.startsWith('Legacy_Code__c')), 'no Legacy_Code__c in describe');
    assert.ok(fields.includes('Tier__c:double'));
    await assert.rejects(sf.query('SELECT Legacy_Code__c FROM Account'), /INVALID_FIELD/);
    // As in Setup, a standard field cannot be deleted.
    await assert.rejects(metadata({ op: 'deleteField', object: 'Account', field: 'Name' }), /Account\.Name is a standard field/);

    assert.equal(schemas.length, 2, 'two schema versions of Account');
    const [older, newer] = schemas;
    const coded = await vault.store.versionsOf(org.orgId, ids.coded);
    assert.ok(coded[0]!.isDeleted, 'the deletion is stored');
    // The deletion keeps the last known fields, so it belongs to the describe they were read under.
    assert.deepEqual(
      coded.map((v) => v.schemaId),
      coded.map(() => older!.schemaId),
    );
    assert.equal(coded[0]!.fields.Legacy_Code__c, 'LC-1');
    const later = await vault.store.versionsOf(org.orgId, ids.later);
    assert.deepEqual(
      later.map((v) => v.schemaId),
      [newer!.schemaId],
    );
  });

  it('a dry run of records captured under the older schema names the missing field and the changed type', async () => {
    const report = await restore({ dryRun: true });
    const drift = report.schemaDrift.find((d) => d.object === 'Account');
    assert.ok(drift, JSON.stringify(report.schemaDrift));
    assert.deepEqual(
      drift.schemas.map((s) => [s.schemaId, s.records]),
      [[schemas[0]!.schemaId, 2]],
    );
    const byField = new Map(drift.fields.map((f) => [f.field, f]));
    const missing = byField.get('Legacy_Code__c');
    assert.ok(missing, JSON.stringify(drift.fields));
    assert.equal(missing.change, 'missing');
    assert.equal(missing.action, 'leftOut');
    assert.equal(missing.records, 1);
    assert.equal(missing.orgType, null);
    assert.match(missing.message, /Legacy_Code__c .*no longer a field of Account/);
    const tier = byField.get('Tier__c');
    assert.ok(tier);
    assert.deepEqual([tier.change, tier.backedUpType, tier.orgType, tier.action, tier.refused], ['typeChanged', 'string', 'double', 'refused', [ids.gold]]);
    assert.match(tier.message, new RegExp(`was string in the backup and is double in the org.*${ids.gold}`));

    const rows = new Map(report.results.map((r) => [r.originalId, r]));
    assert.equal(rows.get(ids.coded)?.outcome, 'Created');
    assert.ok(rows.get(ids.coded)?.warnings.some((w) => /Legacy_Code__c is no longer a field of Account/.test(w)));
    assert.equal(rows.get(ids.gold)?.outcome, 'Failed');
    assert.equal(rows.get(ids.gold)?.statusCode, 'INVALID_TYPE_ON_FIELD_IN_RECORD');
    assert.match(rows.get(ids.gold)!.message!, new RegExp(`Tier__c: .*not a number.*was a string field when the version was captured; record ${ids.gold} is not restored`));
    assert.equal((await sf.query(`SELECT Id FROM Account WHERE Name = 'Coded Ltd'`)).length, 0, 'a dry run writes nothing');
  });

  it('the CLI dry run prints the schema changes, and --json carries them', async () => {
    const cli = { vault: join(dir, 'vault'), cwd: dir, passphrase: '' };
    const args = ['--key-file', join(dir, 'vault.key'), 'restore', '--org', 'drift', '--object', 'Account', '--id', ids.coded, '--id', ids.gold, '--dry-run'];
    const text = await runCli(args, cli);
    // A record predicted to fail: completed with errors.
    assert.equal(text.code, 1, text.stderr);
    assert.match(text.stdout, /Schema changes since the backup of Account/);
    assert.match(text.stdout, /Legacy_Code__c\s+missing\s+string\s+\(gone\)\s+1\s+left out/);
    assert.match(text.stdout, /Tier__c\s+typeChanged\s+string\s+double\s+2\s+refused/);
    const json = jsonOf<RestoreReport>(await runCli(['--json', ...args], cli));
    assert.deepEqual(
      json.schemaDrift[0]!.fields.map((f) => `${f.field}:${f.change}:${f.action}`),
      ['Legacy_Code__c:missing:leftOut', 'Tier__c:typeChanged:refused'],
    );
  });

  it('the restore leaves the missing field out, converts what fits, and refuses only the record that does not', async () => {
    const report = await restore({});
    assert.equal(report.status, 'CompletedWithErrors');
    assert.deepEqual(report.counts, { Created: 1, Updated: 0, Undeleted: 0, Skipped: 0, Failed: 1 });
    assert.ok(report.schemaDrift.some((d) => d.fields.some((f) => f.field === 'Legacy_Code__c')), 'the real run reports the drift too');
    const created = report.results.find((r) => r.originalId === ids.coded)!;
    assert.ok(created.newId);
    const [row] = await sf.query(`SELECT Id, Name, Tier__c FROM Account WHERE Id = '${created.newId}'`);
    assert.deepEqual([row!.Name, row!.Tier__c], ['Coded Ltd', 3]);
    const refused = report.results.find((r) => r.originalId === ids.gold)!;
    assert.deepEqual([refused.outcome, refused.statusCode], ['Failed', 'INVALID_TYPE_ON_FIELD_IN_RECORD']);
    assert.equal((await sf.query(`SELECT Id FROM Account WHERE Name = 'Gold Ltd'`)).length, 0);
  });

  it('an export across both schema versions has both columns; SQL holds every value; Parquet names the describes that disagree', async () => {
    const csvDir = await exportTo('csv', { kind: 'allVersions' }, 'csv');
    const csv = await readFile(join(csvDir, 'Account.csv'), 'utf8');
    const header = csv.split(/\r?\n/)[0]!.replaceAll('"', '').split(',');
    assert.ok(header.includes('Legacy_Code__c') && header.includes('Tier__c'), header.join(','));
    assert.match(csv, /LC-1/);
    assert.match(csv, /Gold/);
    // The state as of before the change: the older describe's columns.
    const before = schemas[0]!.validTo! - 1;
    const asOf = await readFile(join(await exportTo('csv', { kind: 'asOf', at: before }, 'as-of'), 'Account.csv'), 'utf8');
    assert.ok(asOf.split(/\r?\n/)[0]!.replaceAll('"', '').split(',').includes('Legacy_Code__c'));

    const sqlDir = await exportTo('sql', { kind: 'allVersions' }, 'sql');
    const sql = await readFile(join(sqlDir, 'Account.sql'), 'utf8');
    assert.match(sql, /"Tier__c" TEXT/);
    assert.match(sql, /'Gold'/);
    if (!postgresSkip()) {
      // Every version's value loads: text then, a number now.
      const db = await freshSchema();
      try {
        await db.load(sqlDir);
        const tiers = (await db.rows('Account', '_version_seq')).filter((r) => r.Id === ids.gold || r.Id === ids.later).map((r) => r.Tier__c);
        assert.deepEqual(new Set(tiers), new Set(['Gold', '5']));
      } finally {
        await db.drop();
      }
    }

    await assert.rejects(exportTo('parquet', { kind: 'allVersions' }, 'parquet'), (error: Error) => {
      assert.match(error.message, /Account\.Tier__c of record \w+ holds a value that is not a double/);
      assert.match(error.message, new RegExp(`string in schema ${schemas[0]!.schemaId.slice(0, 12)}.*double in schema ${schemas[1]!.schemaId.slice(0, 12)}`));
      return true;
    });
  });
});
