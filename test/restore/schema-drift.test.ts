// Schema drift, pure and over a real vault: which describe each version was captured under
// (its own schema ID, else the describe that held when it was captured), the plan mapping fields
// by name in any case from that describe, and the per-object report of fields gone, no longer
// writable, of another type or with picklist values no longer active, with what the restore does.
// Also the export's union of describes, newest type winning.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { describeFromRaw } from '../../src/core/describe.ts';
import type { RawField } from '../../src/core/describe.ts';
import type { ObjectDescription } from '../../src/core/org-client.ts';
import type { RecordVersion } from '../../src/core/vault.ts';
import { generateKeyFileContent } from '../../src/crypto/keys.ts';
import { columnsOf, unionFields } from '../../src/export/columns.ts';
import { ParquetValueError } from '../../src/export/parquet.ts';
import { DEFAULT_PLAN_OPTIONS, planRestore } from '../../src/restore/plan.ts';
import type { RestoreItem } from '../../src/restore/related.ts';
import { schemaDrift, versionSchemas } from '../../src/restore/schema-drift.ts';
import type { VersionSchema } from '../../src/restore/schema-drift.ts';
import { initVault, openVault } from '../../src/store/vault.ts';
import type { Vault } from '../../src/store/vault.ts';

const USER = '005000000000001AAA';
const A = '001000000000001AAA';
const B = '001000000000002AAA';
const C = '001000000000003AAA';
const writable = { createable: true, updateable: true, nillable: true };

function account(fields: RawField[]): ObjectDescription {
  return describeFromRaw({
    name: 'Account',
    createable: true,
    updateable: true,
    undeletable: true,
    fields: [
      { name: 'Id', type: 'id', nillable: false },
      { name: 'OwnerId', type: 'reference', referenceTo: ['User'], createable: true, updateable: true, nillable: false, defaultedOnCreate: true },
      { name: 'Name', type: 'string', length: 80, createable: true, updateable: true, nillable: false },
      ...fields,
    ],
  });
}

const BEFORE = account([
  { name: 'Legacy_Code__c', type: 'string', length: 40, ...writable },
  { name: 'Tier__c', type: 'string', length: 20, ...writable },
  { name: 'Region__c', type: 'string', length: 20, ...writable },
  { name: 'Stage__c', type: 'picklist', restrictedPicklist: true, picklistValues: [{ value: 'New' }, { value: 'Old' }], ...writable },
  { name: 'Kind__c', type: 'picklist', picklistValues: [{ value: 'A' }, { value: 'Z' }], ...writable },
  { name: 'Locked__c', type: 'string', length: 10, ...writable },
]);
const NOW = account([
  { name: 'Tier__c', type: 'double', ...writable },
  // Renamed by case only: still the same field.
  { name: 'REGION__C', type: 'string', length: 20, ...writable },
  { name: 'Stage__c', type: 'picklist', restrictedPicklist: true, picklistValues: [{ value: 'New' }, { value: 'Old', active: false }], ...writable },
  { name: 'Kind__c', type: 'picklist', picklistValues: [{ value: 'A' }], ...writable },
  { name: 'Locked__c', type: 'string', length: 10, createable: false, updateable: false, nillable: true },
]);

function version(recordId: string, fields: Record<string, unknown>, schemaId: string | null = 's1', capturedAt = 1_000): RecordVersion {
  return { recordId, objectName: 'Account', systemModstamp: 900, changeType: 'updated', isDeleted: false, lastModifiedById: USER, fields: { Id: recordId, OwnerId: USER, ...fields }, seq: 1, capturedAt, runId: 'r', schemaId };
}
const item = (v: RecordVersion): RestoreItem => ({ objectName: 'Account', originalId: v.recordId, version: v, role: 'selected', via: null, viaField: null });

function planned(items: RestoreItem[], schemas: ReadonlyMap<string, VersionSchema>) {
  const describes = new Map([['Account', NOW]]);
  return planRestore({
    objectName: 'Account',
    items,
    describes,
    // The vault's latest describe is the new one: only the versions' own describes know the old fields.
    backedUp: describes,
    itemSchemas: new Map([...schemas].map(([id, s]) => [id, s.describe])),
    live: new Map(),
    references: new Map(),
    users: { active: new Set([USER]), known: new Set([USER]) },
    crossOrg: false,
    writtenByRun: new Set(),
    masker: null,
    options: DEFAULT_PLAN_OPTIONS,
  });
}

describe('schema drift', () => {
  const items = [
    item(version(A, { Name: 'Alpha', Legacy_Code__c: 'LC-1', Tier__c: '3', Region__c: 'North', Stage__c: 'Old', Kind__c: 'Z', Locked__c: 'x' })),
    item(version(B, { Name: 'Beta', Tier__c: 'Gold', Stage__c: 'New' })),
    item(version(C, { Name: 'Gamma', Tier__c: null, Kind__c: 'A' })),
  ];
  const schemas = new Map(items.map((i) => [i.originalId, { schemaId: 's1', validFrom: 100, validTo: 2_000, describe: BEFORE }]));

  it('maps fields by name in any case from the version’s describe; a value that cannot convert fails its record, named', () => {
    const plan = planned(items, schemas);
    const [a, b, c] = plan.records;
    assert.equal(a!.action, 'create');
    // Region__c lands in REGION__C; Tier__c "3" becomes 3; the gone and read-only fields are left out.
    assert.deepEqual(a!.values, { OwnerId: USER, Name: 'Alpha', Tier__c: 3, REGION__C: 'North', Stage__c: 'Old', Kind__c: 'Z' });
    assert.ok(a!.warnings.some((w) => /Legacy_Code__c is no longer a field of Account/.test(w)));
    assert.ok(a!.warnings.some((w) => /Locked__c is not writable by the API user/.test(w)));
    assert.deepEqual(
      a!.predicted.map((p) => p.statusCode),
      ['INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST'],
    );
    assert.equal(b!.action, 'fail');
    assert.equal(b!.reason?.statusCode, 'INVALID_TYPE_ON_FIELD_IN_RECORD');
    assert.match(b!.reason!.message, new RegExp(`^Tier__c: the backed-up value is not a number, and the field is a double now\\. Tier__c was a string field when the version was captured; record ${B} is not restored\\.$`));
    assert.deepEqual(b!.values, {});
    assert.equal(c!.action, 'create');
    assert.deepEqual(c!.predicted, []);
  });

  it('reports per object what changed and what the restore does about each field', () => {
    const plan = planned(items, schemas);
    const [drift] = schemaDrift(items, schemas, new Map([['Account', NOW]]), plan.records);
    assert.equal(drift!.object, 'Account');
    assert.deepEqual(drift!.schemas, [{ schemaId: 's1', validFrom: 100, validTo: 2_000, records: 3 }]);
    const summary = drift!.fields.map((f) => `${f.field}:${f.change}:${f.backedUpType}>${f.orgType ?? '-'}:${f.action}:${f.records}:${f.refused.join('|')}`);
    assert.deepEqual(summary, [
      'Kind__c:picklistValues:picklist>picklist:writtenAsIs:1:',
      'Legacy_Code__c:missing:string>-:leftOut:1:',
      'Locked__c:notWritable:string>string:leftOut:1:',
      `Stage__c:picklistValues:picklist>picklist:refused:1:${A}`,
      `Tier__c:typeChanged:string>double:refused:2:${B}`,
    ]);
    const byField = new Map(drift!.fields.map((f) => [f.field, f]));
    assert.deepEqual(byField.get('Stage__c')!.values, ['Old']);
    assert.match(byField.get('Kind__c')!.message, /"Z" no longer active in its picklist; 1 record\(s\) hold one, written as they are/);
    assert.match(byField.get('Tier__c')!.message, new RegExp(`was string in the backup and is double in the org: values converted where they fit; 1 record\\(s\\) refused .*: ${B}\\.`));
    // Region__c only changed case: not drift.
    assert.equal(byField.has('Region__c'), false);
    // Nothing to say when the describes agree.
    const same = new Map(items.map((i) => [i.originalId, { schemaId: 's2', validFrom: 2_000, validTo: null, describe: NOW }]));
    assert.deepEqual(schemaDrift(items.slice(2), same, new Map([['Account', NOW]]), planned(items.slice(2), same).records), []);
  });

  it('merges the fields of versions captured under several describes', () => {
    const newer = account([{ name: 'Legacy_Code__c', type: 'string', length: 40, ...writable }]);
    const mixed = [item(version(A, { Name: 'Alpha', Legacy_Code__c: 'LC-1' }, 's1')), item(version(B, { Name: 'Beta', Legacy_Code__c: 'LC-2' }, 's2'))];
    const under = new Map<string, VersionSchema>([
      [A, { schemaId: 's1', validFrom: 100, validTo: 2_000, describe: BEFORE }],
      [B, { schemaId: 's2', validFrom: 2_000, validTo: 3_000, describe: newer }],
    ]);
    const [drift] = schemaDrift(mixed, under, new Map([['Account', NOW]]), planned(mixed, under).records);
    const legacy = drift!.fields.find((f) => f.field === 'Legacy_Code__c')!;
    assert.deepEqual([legacy.records, legacy.schemaIds], [2, ['s1', 's2']]);
    assert.deepEqual(
      drift!.schemas.map((s) => [s.schemaId, s.records]),
      [
        ['s1', 1],
        ['s2', 1],
      ],
    );
  });

  describe('over a vault', () => {
    let dir: string;
    let vault: Vault;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'orgvault-schema-drift-'));
      const keyFile = Buffer.from(generateKeyFileContent());
      await initVault(join(dir, 'vault'), { keyFile });
      vault = await openVault(join(dir, 'vault'), { keyFile });
    });
    after(async () => {
      await vault?.close();
      await rm(dir, { recursive: true, force: true });
    });

    it('finds each version’s describe: its own schema ID, else the one that held when it was captured', async () => {
      const old = await vault.store.putSchema('00D000000000001AAA', 'Account', BEFORE.raw, 1_000);
      const current = await vault.store.putSchema('00D000000000001AAA', 'Account', NOW.raw, 5_000);
      const found = await versionSchemas(vault.store, '00D000000000001AAA', [
        item(version(A, {}, current.schemaId, 1_500)),
        // Stored before versions carried their schema: the describe valid at capture.
        item(version(B, {}, null, 2_000)),
        item(version(C, {}, null, 9_000)),
      ]);
      assert.deepEqual(
        [A, B, C].map((id) => [found.get(id)!.schemaId, found.get(id)!.validFrom, found.get(id)!.validTo]),
        [
          [current.schemaId, 5_000, null],
          [old.schemaId, 1_000, 5_000],
          [current.schemaId, 5_000, null],
        ],
      );
      assert.ok(found.get(B)!.describe.fields.some((f) => f.name === 'Legacy_Code__c'));
      // An object the vault holds no describe of: nothing to map from.
      const none = await versionSchemas(vault.store, '00D000000000001AAA', [{ ...item(version(A, {}, null)), objectName: 'Contact' }]);
      assert.equal(none.size, 0);
    });
  });
});

describe('export columns across describes', () => {
  const s1 = { schemaId: 'a'.repeat(64), validFrom: 1_000, validTo: 5_000, fields: BEFORE.raw ? (BEFORE.raw as { fields: RawField[] }).fields : [] };
  const s2 = { schemaId: 'b'.repeat(64), validFrom: 5_000, validTo: null, fields: (NOW.raw as { fields: RawField[] }).fields };

  it('unites the fields by name, newest first and newest type winning, and keeps the type history of those that changed', () => {
    const { fields, typeHistory } = unionFields([s1, s2]);
    assert.deepEqual(
      fields.map((f) => `${f.name}:${f.type}`),
      ['Id:id', 'OwnerId:reference', 'Name:string', 'Tier__c:double', 'REGION__C:string', 'Stage__c:picklist', 'Kind__c:picklist', 'Locked__c:string', 'Legacy_Code__c:string'],
    );
    assert.deepEqual([...typeHistory.keys()], ['tier__c']);
    const columns = columnsOf(fields, false, typeHistory);
    const tier = columns.find((c) => c.name === 'Tier__c')!;
    assert.deepEqual(
      tier.typeHistory!.map((h) => [h.type, h.validFrom, h.validTo]),
      [
        ['string', 1_000, 5_000],
        ['double', 5_000, null],
      ],
    );
    assert.equal(columns.find((c) => c.name === 'Name')!.typeHistory, undefined);
    const error = new ParquetValueError('Account', tier, A);
    assert.match(error.message, /describes of Account disagree on its type \(string in schema aaaaaaaaaaaa, 1970-01-01T00:00:01Z to 1970-01-01T00:00:05Z; double in schema bbbbbbbbbbbb, 1970-01-01T00:00:05Z to now\)/);
  });
});
