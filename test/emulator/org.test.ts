// The emulated org's write pipeline: the Salesforce behaviours a backup and a restore depend on.
import assert from 'node:assert/strict';
import { beforeEach, describe, test } from 'node:test';
import { RecordWriteError } from '../../emulator/org/errors.ts';
import type { Org } from '../../emulator/org/org.ts';
import { isSalesforceId, toId18 } from '../../emulator/org/ids.ts';
import { buildOrg } from '../../emulator/seed/index.ts';

const DAY = 86_400;
let org: Org;
let as: { userId: string };

function codes(work: () => unknown): string[] {
  try {
    work();
  } catch (error) {
    if (error instanceof RecordWriteError) return error.errors.map((e) => e.errorCode);
    throw error;
  }
  assert.fail('expected the write to be rejected');
}

const account = (name = 'Acme'): string => org.insert('Account', { Name: name }, as).Id;

beforeEach(() => {
  org = buildOrg({ profile: 'empty', seed: 7 });
  as = { userId: org.apiUserId };
});

describe('IDs', () => {
  test('are 18 characters with a valid checksum and the object key prefix', () => {
    const id = account();
    assert.equal(id.length, 18);
    assert.ok(isSalesforceId(id));
    assert.equal(id.slice(0, 3), '001');
    assert.equal(toId18(id.slice(0, 15)), id, 'the 15-character form maps back to the same 18-character ID');
  });
});

describe('system fields', () => {
  test('are set on create and moved on update; CreatedDate stays', () => {
    const created = org.insert('Account', { Name: 'A' }, as);
    assert.equal(created.CreatedById, org.apiUserId);
    assert.equal(created.OwnerId, org.apiUserId);
    assert.equal(created.IsDeleted, false);
    assert.match(String(created.SystemModstamp), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/);
    org.clock.advance(60);
    const updated = org.update('Account', created.Id, { Name: 'B' }, as);
    assert.equal(updated.CreatedDate, created.CreatedDate);
    assert.ok(String(updated.SystemModstamp) > String(created.SystemModstamp));
    assert.equal(updated.LastModifiedDate, updated.SystemModstamp);
  });

  test('audit fields are writable on create only when the org allows setting them', () => {
    assert.deepEqual(codes(() => org.insert('Account', { Name: 'A', CreatedDate: '2020-01-01T00:00:00Z' }, as)), ['INVALID_FIELD_FOR_INSERT_UPDATE']);
    org.access.setPermission('setAuditFields', true);
    const record = org.insert('Account', { Name: 'A', CreatedDate: '2020-01-01T00:00:00Z' }, as);
    assert.equal(record.CreatedDate, '2020-01-01T00:00:00.000+0000');
  });

  test('many records of one bulk change can share a SystemModstamp', () => {
    const ids = [account('a'), account('b'), account('c')];
    const stampMs = org.clock.stampMs() + 1000;
    for (const id of ids) org.update('Account', id, { Phone: '555' }, { ...as, stampMs });
    const stamps = new Set(ids.map((id) => org.get(id)!.SystemModstamp));
    assert.equal(stamps.size, 1);
  });
});

describe('validation', () => {
  test('reports the Salesforce status codes', () => {
    assert.deepEqual(codes(() => org.insert('Account', {}, as)), ['REQUIRED_FIELD_MISSING']);
    assert.deepEqual(codes(() => org.insert('Account', { Name: 'x'.repeat(256) }, as)), ['STRING_TOO_LONG']);
    assert.deepEqual(codes(() => org.insert('Account', { Name: 'A', Nope__c: 1 }, as)), ['INVALID_FIELD']);
    assert.deepEqual(codes(() => org.insert('Contact', { LastName: 'L', AccountId: 'not-an-id' }, as)), ['MALFORMED_ID']);
    const contact = org.insert('Contact', { LastName: 'L' }, as).Id;
    assert.deepEqual(codes(() => org.insert('Contact', { LastName: 'L', AccountId: contact }, as)), ['FIELD_INTEGRITY_EXCEPTION']);
    const acc = account();
    assert.deepEqual(
      codes(() => org.insert('Invoice__c', { Account__c: acc, Due_Date__c: '2026-01-01', Status__c: 'Lost' }, as)),
      ['INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST'],
    );
    org.insert('Invoice__c', { Account__c: acc, Due_Date__c: '2026-01-01', External_Id__c: 'X-1' }, as);
    assert.deepEqual(codes(() => org.insert('Invoice__c', { Account__c: acc, Due_Date__c: '2026-01-01', External_Id__c: 'x-1' }, as)), ['DUPLICATE_VALUE']);
  });

  test('records owned by an inactive user cannot be written with that owner', () => {
    const inactive = [...org.records('User')].find((u) => u.IsActive === false);
    assert.ok(inactive, 'the base org has an inactive user');
    assert.deepEqual(codes(() => org.insert('Account', { Name: 'A', OwnerId: inactive.Id }, as)), ['INACTIVE_OWNER_OR_USER']);
  });

  test('a parent in the Recycle Bin cannot be referenced', () => {
    const acc = account();
    org.delete(acc, as);
    assert.deepEqual(codes(() => org.insert('Contact', { LastName: 'L', AccountId: acc }, as)), ['ENTITY_IS_DELETED']);
    assert.deepEqual(codes(() => org.update('Account', acc, { Name: 'x' }, as)), ['ENTITY_IS_DELETED']);
  });
});

describe('delete, the Recycle Bin and undelete', () => {
  test("deleting an account takes its contacts, opportunities, cases and invoices, and clears other lookups", () => {
    const acc = account();
    const contact = org.insert('Contact', { LastName: 'C', AccountId: acc }, as).Id;
    const opp = org.insert('Opportunity', { Name: 'O', AccountId: acc, StageName: 'Prospecting', CloseDate: '2026-12-01' }, as).Id;
    const kase = org.insert('Case', { Subject: 'S', AccountId: acc }, as).Id;
    const invoice = org.insert('Invoice__c', { Account__c: acc, Due_Date__c: '2026-01-01' }, as).Id;
    const project = org.insert('Project__c', { Name: 'P', Account__c: acc }, as);
    org.clock.advance(5);
    org.delete(acc, as);
    for (const id of [acc, contact, opp, kase, invoice]) assert.equal(org.get(id)!.IsDeleted, true, `${id} is in the Recycle Bin`);
    const cleared = org.get(project.Id)!;
    assert.equal(cleared.IsDeleted, false);
    assert.equal(cleared.Account__c, null);
    assert.ok(String(cleared.SystemModstamp) > String(project.SystemModstamp), 'clearing a lookup moves SystemModstamp');
    assert.equal(cleared.LastModifiedDate, project.LastModifiedDate, 'but not LastModifiedDate');

    org.undelete(acc, as);
    for (const id of [acc, contact, opp, kase, invoice]) assert.equal(org.get(id)!.IsDeleted, false, `${id} came back with its parent`);
    assert.equal(org.get(project.Id)!.Account__c, acc, 'the cleared lookup is restored');
  });

  test('records leave the Recycle Bin for good after 15 days', () => {
    const acc = account();
    org.delete(acc, as);
    org.clock.advance(14 * DAY);
    assert.ok(org.isInRecycleBin(acc));
    org.clock.advance(2 * DAY);
    assert.equal(org.isInRecycleBin(acc), false);
    assert.equal(org.get(acc), undefined);
    assert.equal(org.deletions('Account', 0, org.clock.nowMs() + 1).length, 1, 'the deletion is still reported to getDeleted');
  });

  test('an expired record stays purged when the transaction that noticed the expiry fails', () => {
    const acc = account();
    org.delete(acc, as);
    org.clock.advance(16 * DAY);
    assert.throws(() => org.delete('001000000000000AAA', as));
    assert.equal(org.get(acc), undefined);
  });

  test('undelete fails on a unique value that another record took meanwhile', () => {
    const acc = account();
    const first = org.insert('Invoice__c', { Account__c: acc, Due_Date__c: '2026-01-01', External_Id__c: 'E-1' }, as).Id;
    org.delete(first, as);
    org.insert('Invoice__c', { Account__c: acc, Due_Date__c: '2026-01-01', External_Id__c: 'E-1' }, as);
    assert.deepEqual(codes(() => org.undelete(first, as)), ['DUPLICATE_VALUE']);
    assert.equal(org.get(first)!.IsDeleted, true);
  });

  test('a master-detail child cannot come back before its parent', () => {
    const acc = account();
    const invoice = org.insert('Invoice__c', { Account__c: acc, Due_Date__c: '2026-01-01' }, as).Id;
    org.delete(acc, as);
    assert.deepEqual(codes(() => org.undelete(invoice, as)), ['UNDELETE_FAILED']);
  });
});

describe('formulas and roll-ups', () => {
  test('a formula is computed on read and never stored; a roll-up moves the master', () => {
    const acc = account();
    const invoice = org.insert('Invoice__c', { Account__c: acc, Due_Date__c: '2026-01-01' }, as);
    org.clock.advance(5);
    const line = org.insert('Invoice_Line__c', { Invoice__c: invoice.Id, Quantity__c: 3, Unit_Price__c: 10 }, as);
    assert.equal(line.Amount__c, undefined, 'the formula is not stored');
    const lineSchema = org.schema.object('Invoice_Line__c')!;
    assert.equal(org.readField(lineSchema, line, 'Amount__c'), 30);
    const master = org.get(invoice.Id)!;
    assert.equal(master.Total__c, 30);
    assert.equal(master.Line_Count__c, 1);
    assert.ok(String(master.SystemModstamp) > String(invoice.SystemModstamp), 'the roll-up moved the master');
  });
});

describe('transactions', () => {
  test('roll back every write and publish nothing when the work fails', () => {
    const seen: string[] = [];
    org.onChange((changes) => seen.push(...changes.map((c) => c.changeType)));
    const before = org.count('Account');
    assert.throws(() =>
      org.transaction(() => {
        account('one');
        account('two');
        org.insert('Account', {}, as);
      }),
    );
    assert.equal(org.count('Account'), before);
    assert.deepEqual(seen, []);
    account('three');
    assert.deepEqual(seen, ['CREATE']);
  });
});

describe('permissions', () => {
  test('objects and fields the API user cannot read are absent from its view', () => {
    org.access.setObjectRead('Lead', false);
    org.access.setFieldRead('Account', 'Phone', false);
    assert.equal(org.visibleSchema.object('Lead'), undefined);
    assert.equal(org.visibleSchema.object('Account')!.field('Phone'), undefined);
    assert.ok(org.schema.object('Lead'), 'the org still has the object');
    assert.deepEqual(codes(() => org.insert('Account', { Name: 'A', Phone: '1' }, as)), ['INVALID_FIELD']);
  });

  test('encrypted fields are masked unless the user may view encrypted data', () => {
    const project = org.insert('Project__c', { Name: 'P', Secret_Code__c: 'S3CRET' }, as);
    const schema = org.schema.object('Project__c')!;
    assert.match(String(org.readField(schema, project, 'Secret_Code__c')), /^[*X]{6}$/);
    org.access.setPermission('viewEncryptedData', true);
    assert.equal(org.readField(schema, project, 'Secret_Code__c'), 'S3CRET');
  });
});
