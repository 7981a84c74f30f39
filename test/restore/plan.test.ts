// The restore plan, pure: what is written for each record and why, from the version, the live
// record and the org's describe; the dry-run checks; and the order objects are written in.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeFromRaw } from '../../src/core/describe.ts';
import type { RawField } from '../../src/core/describe.ts';
import type { ObjectDescription } from '../../src/core/org-client.ts';
import type { RecordVersion } from '../../src/core/vault.ts';
import type { LiveRecord } from '../../src/restore/live.ts';
import { Masker, parseMaskRule } from '../../src/restore/masking.ts';
import { DEFAULT_PLAN_OPTIONS, planRestore } from '../../src/restore/plan.ts';
import type { PlanInput, PlanOptions } from '../../src/restore/plan.ts';
import type { RestoreItem } from '../../src/restore/related.ts';

const ACTIVE = '005000000000001AAA';
const INACTIVE = '005000000000002AAA';
const ACCOUNT_A = '001000000000001AAA';
const ACCOUNT_B = '001000000000002AAA';
const CONTACT = '003000000000001AAA';
const RT_GONE = '012000000000009AAA';
const RT_OK = '012000000000001AAA';

const writable = { createable: true, updateable: true, nillable: true };
function object(name: string, fields: RawField[], extra: Record<string, unknown> = {}): ObjectDescription {
  return describeFromRaw({
    name,
    createable: true,
    updateable: true,
    undeletable: true,
    fields: [
      { name: 'Id', type: 'id', nillable: false },
      { name: 'IsDeleted', type: 'boolean', nillable: false },
      { name: 'SystemModstamp', type: 'datetime', nillable: false },
      { name: 'OwnerId', type: 'reference', referenceTo: ['User'], createable: true, updateable: true, nillable: false, defaultedOnCreate: true },
      ...fields,
    ],
    recordTypeInfos: [{ recordTypeId: RT_OK, name: 'Main', developerName: 'Main', available: true, active: true, defaultRecordTypeMapping: true }],
    ...extra,
  });
}

const ACCOUNT = object('Account', [
  { name: 'Name', type: 'string', length: 20, createable: true, updateable: true, nillable: false },
  { name: 'Industry', type: 'picklist', restrictedPicklist: true, picklistValues: [{ value: 'Banking' }, { value: 'Retail' }], ...writable },
  { name: 'Description', type: 'textarea', length: 1000, ...writable },
  { name: 'NumberOfEmployees', type: 'int', ...writable },
  { name: 'ParentId', type: 'reference', referenceTo: ['Account'], ...writable },
  { name: 'RecordTypeId', type: 'reference', referenceTo: ['RecordType'], ...writable },
  { name: 'Score__c', type: 'double', calculated: true },
  { name: 'Tier__c', type: 'string', length: 10, createable: false, updateable: false, nillable: true },
]);
const CONTACT_OBJECT = object('Contact', [
  { name: 'LastName', type: 'string', length: 80, createable: true, updateable: true, nillable: false },
  { name: 'Email', type: 'email', length: 80, ...writable },
  { name: 'AccountId', type: 'reference', referenceTo: ['Account'], ...writable },
  { name: 'ReportsToId', type: 'reference', referenceTo: ['Contact'], ...writable },
]);
const INVOICE = object('Invoice__c', [
  { name: 'Account__c', type: 'reference', referenceTo: ['Account'], createable: true, updateable: false, nillable: false, relationshipOrder: 0 },
  { name: 'Amount__c', type: 'currency', ...writable },
]);

const OPTIONS: PlanOptions = DEFAULT_PLAN_OPTIONS;

function version(objectName: string, recordId: string, fields: Record<string, unknown>, at = 1_000, isDeleted = false): RecordVersion {
  return { recordId, objectName, systemModstamp: at, changeType: isDeleted ? 'deleted' : 'updated', isDeleted, lastModifiedById: ACTIVE, fields: { Id: recordId, OwnerId: ACTIVE, ...fields }, seq: 1, capturedAt: at, runId: 'r', schemaId: null };
}
const item = (v: RecordVersion, role: RestoreItem['role'] = 'selected', via: string | null = null): RestoreItem => ({ objectName: v.objectName, originalId: v.recordId, version: v, role, via, viaField: null });
const live = (id: string, fields: Record<string, unknown>, at = 500, isDeleted = false): { record: LiveRecord; by: 'id' } => ({ record: { id, isDeleted, systemModstamp: at, fields: { Id: id, OwnerId: ACTIVE, ...fields } }, by: 'id' });

function plan(items: RestoreItem[], over: Partial<PlanInput> = {}, options: Partial<PlanOptions> = {}) {
  const describes = new Map([
    ['Account', ACCOUNT],
    ['Contact', CONTACT_OBJECT],
    ['Invoice__c', INVOICE],
  ]);
  return planRestore({
    objectName: items[0]!.objectName,
    items,
    describes,
    backedUp: describes,
    live: new Map(),
    references: new Map(),
    users: { active: new Set([ACTIVE]), known: new Set([ACTIVE, INACTIVE]) },
    crossOrg: false,
    writtenByRun: new Set(),
    masker: null,
    ...over,
    options: { ...OPTIONS, ...options },
  });
}

describe('restore plan', () => {
  it('updates only the writable fields that differ, never formulas or read-only fields', () => {
    const v = version('Account', ACCOUNT_A, { Name: 'Acme', Industry: 'Banking', Description: 'old', NumberOfEmployees: 10, Score__c: 3, Tier__c: 'Gold' }, 1_000);
    // Tier__c was writable when backed up; the API user lost edit access to it since.
    const before = { ...ACCOUNT, fields: ACCOUNT.fields.map((f) => (f.name === 'Tier__c' ? { ...f, createable: true, updateable: true } : f)) };
    const [r] = plan([item(v)], {
      backedUp: new Map([['Account', before]]),
      live: new Map([[ACCOUNT_A, live(ACCOUNT_A, { Name: 'Acme', Industry: 'Retail', Description: 'old', NumberOfEmployees: 10.0, Score__c: 9, Tier__c: 'Silver' })]]),
    }).records;
    assert.equal(r!.action, 'update');
    assert.equal(r!.targetId, ACCOUNT_A);
    assert.deepEqual(r!.changedFields, ['Industry']);
    assert.deepEqual(r!.values, { Industry: 'Banking' });
    assert.ok(r!.warnings.some((w) => /Tier__c is not writable/.test(w)), r!.warnings.join('; '));
  });

  it('skips a record changed in the org after the version, unless told to overwrite', () => {
    const v = version('Account', ACCOUNT_A, { Name: 'Acme', Industry: 'Banking' }, 1_000);
    const input = { live: new Map([[ACCOUNT_A, live(ACCOUNT_A, { Name: 'Acme', Industry: 'Retail' }, 2_000)]]) };
    const [skipped] = plan([item(v)], input).records;
    assert.equal(skipped!.action, 'skip');
    assert.equal(skipped!.reason?.statusCode, 'NEWER_IN_ORG');
    assert.match(skipped!.reason!.message, /Industry/);
    assert.equal(plan([item(v)], input, { overwriteNewer: true }).records[0]!.action, 'update');
    // A record this very run wrote before it was interrupted is no conflict with itself.
    assert.equal(plan([item(v)], { ...input, writtenByRun: new Set([ACCOUNT_A]) }).records[0]!.action, 'update');
    const same = plan([item(v)], { live: new Map([[ACCOUNT_A, live(ACCOUNT_A, { Name: 'Acme', Industry: 'Banking' }, 2_000)]]) }).records[0]!;
    assert.equal(same.reason?.statusCode, 'UNCHANGED');
  });

  it('leaves live values where the version is empty, unless nulls are written; overrides and clears', () => {
    const v = version('Account', ACCOUNT_A, { Name: 'Acme', Description: null, NumberOfEmployees: 5 });
    const input = { live: new Map([[ACCOUNT_A, live(ACCOUNT_A, { Name: 'Acme', Description: 'kept', NumberOfEmployees: 7 })]]) };
    assert.deepEqual(plan([item(v)], input).records[0]!.values, { NumberOfEmployees: 5 });
    assert.deepEqual(plan([item(v)], input, { writeNulls: true }).records[0]!.values, { Description: null, NumberOfEmployees: 5 });
    const overridden = plan([item(v)], input, { overrides: [{ objectName: null, field: 'Description', template: 'Restored {Name} from {originalId}' }, { objectName: 'Account', field: 'NumberOfEmployees', template: null }] }).records[0]!;
    assert.deepEqual(overridden.values, { Description: `Restored Acme from ${ACCOUNT_A}`, NumberOfEmployees: null });
  });

  it('undeletes a record in the Recycle Bin and restores its differing fields; creates one that is gone', () => {
    const v = version('Account', ACCOUNT_A, { Name: 'Acme', Industry: 'Banking' }, 1_000, true);
    const undelete = plan([item(v)], { live: new Map([[ACCOUNT_A, live(ACCOUNT_A, { Name: 'Acme', Industry: 'Retail' }, 900, true)]]) }).records[0]!;
    assert.equal(undelete.action, 'undelete');
    assert.deepEqual(undelete.values, { Industry: 'Banking' });
    const create = plan([item(v)]).records[0]!;
    assert.equal(create.action, 'create');
    assert.deepEqual(create.values, { OwnerId: ACTIVE, Name: 'Acme', Industry: 'Banking' });
    assert.deepEqual(create.predicted, []);
  });

  it('predicts what Salesforce will refuse: required, restricted picklist, length, types, owners, record types, parents', () => {
    const v = version('Account', ACCOUNT_A, { Name: 'A name far longer than twenty', Industry: 'Mining', NumberOfEmployees: 'many', OwnerId: INACTIVE, RecordTypeId: RT_GONE, ParentId: ACCOUNT_B });
    const r = plan([item(v)], { references: new Map([[ACCOUNT_B, { id: ACCOUNT_B, state: 'deleted' }]]) }).records[0]!;
    const codes = r.predicted.map((p) => `${p.statusCode}:${p.fields.join()}`).sort();
    assert.deepEqual(codes, [
      'ENTITY_IS_DELETED:ParentId',
      'INACTIVE_OWNER_OR_USER:OwnerId',
      'INVALID_CROSS_REFERENCE_KEY:RecordTypeId',
      'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST:Industry',
      'INVALID_TYPE_ON_FIELD_IN_RECORD:NumberOfEmployees',
      'STRING_TOO_LONG:Name',
    ]);
    const missing = plan([item(version('Account', ACCOUNT_A, { Industry: 'Banking' }))]).records[0]!;
    assert.deepEqual(missing.predicted.map((p) => p.statusCode), ['REQUIRED_FIELD_MISSING']);
    const noCreate = plan([item(version('Account', ACCOUNT_A, { Name: 'Acme' }))], { describes: new Map([['Account', { ...ACCOUNT, createable: false }]]) }).records[0]!;
    assert.deepEqual(noCreate.predicted.map((p) => p.statusCode), ['INSUFFICIENT_ACCESS_OR_READONLY']);
  });

  it('maps inactive owners and missing record types when told to', () => {
    const v = version('Account', ACCOUNT_A, { Name: 'Acme', OwnerId: INACTIVE, RecordTypeId: RT_GONE });
    const mapped = plan([item(v)], {}, { inactiveOwner: { kind: 'map', userId: ACTIVE }, missingRecordType: { kind: 'map', recordTypeId: RT_OK } }).records[0]!;
    assert.deepEqual(mapped.predicted, []);
    assert.equal(mapped.values.OwnerId, ACTIVE);
    assert.equal(mapped.values.RecordTypeId, RT_OK);
    const byDefault = plan([item(v)], {}, { inactiveOwner: { kind: 'map', userId: ACTIVE }, missingRecordType: { kind: 'default' } }).records[0]!;
    assert.equal('RecordTypeId' in byDefault.values, false);
    assert.equal(byDefault.warnings.length, 2);
  });

  it('leaves references to records being created pending, and orders masters before details', () => {
    const parent = version('Account', ACCOUNT_A, { Name: 'Parent', ParentId: ACCOUNT_B });
    const child = version('Account', ACCOUNT_B, { Name: 'Child', ParentId: ACCOUNT_A });
    const invoice = version('Invoice__c', 'a00000000000001AAA', { Account__c: ACCOUNT_A, Amount__c: 10 });
    const contact = version('Contact', CONTACT, { LastName: 'Lee', AccountId: ACCOUNT_A, ReportsToId: CONTACT });
    const p = plan([item(invoice), item(contact), item(parent), item(child)]);
    assert.deepEqual(p.objectOrder.indexOf('Account') < p.objectOrder.indexOf('Invoice__c'), true);
    const inv = p.records.find((r) => r.objectName === 'Invoice__c')!;
    assert.deepEqual(inv.pendingRefs, [{ field: 'Account__c', originalId: ACCOUNT_A, atCreate: true }]);
    const a = p.records.find((r) => r.originalId === ACCOUNT_A)!;
    // A cycle through a nillable lookup waits for the link pass.
    assert.deepEqual(a.pendingRefs, [{ field: 'ParentId', originalId: ACCOUNT_B, atCreate: false }]);
    const c = p.records.find((r) => r.originalId === CONTACT)!;
    assert.deepEqual(c.pendingRefs.map((r) => r.field).sort(), ['AccountId', 'ReportsToId']);
  });

  it('in another org: leaves unknown lookups and owners to the org, and masks consistently', () => {
    const masker = new Masker('key');
    const masks = [parseMaskRule('Contact.Email=email'), parseMaskRule('Contact.LastName=last-name')];
    const v1 = version('Contact', CONTACT, { LastName: 'Lee', Email: 'lee@corp.example', AccountId: ACCOUNT_B, OwnerId: '005000000000009AAA' });
    const v2 = version('Contact', '003000000000002AAA', { LastName: 'Lee', Email: 'lee@corp.example' });
    const p = plan([item(v1), item(v2)], { crossOrg: true, masker, users: { active: new Set(), known: new Set() } }, { masks });
    const [a, b] = p.records;
    assert.deepEqual(a!.predicted, []);
    assert.equal('AccountId' in a!.values, false);
    assert.equal('OwnerId' in a!.values, false);
    assert.notEqual(a!.values.Email, 'lee@corp.example');
    assert.equal(a!.values.Email, b!.values.Email);
    assert.equal(a!.values.LastName, b!.values.LastName);
    assert.notEqual(new Masker('other key').mask(masks[0]!, 'lee@corp.example'), a!.values.Email);
  });

  it('fails records of objects the org does not have', () => {
    const r = plan([item(version('Gone__c', 'a01000000000001AAA', { Name: 'x' }))]).records[0]!;
    assert.equal(r.action, 'fail');
    assert.equal(r.reason?.statusCode, 'INVALID_TYPE');
  });
});
