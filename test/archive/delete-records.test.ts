// The org port's deleteRecords against the emulator over HTTP: sObject Collections DELETE, 200
// IDs a call with allOrNone=false, one result per ID in order with Salesforce's status codes,
// cascades to master-detail children, a repeated delete refused per record (ENTITY_IS_DELETED),
// a dropped connection sent again without harm, and every call counted as the org counts it.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { OrgClient, RecordWriteResult } from '../../src/core/org-client.ts';
import { connectOrg } from '../../src/salesforce/index.ts';
import { FAST, collect, startHarness } from '../salesforce/harness.ts';
import type { Harness } from '../salesforce/harness.ts';

interface Statistics {
  byClient?: Record<string, number>;
}

function okId(result: RecordWriteResult | undefined): string {
  assert.ok(result?.ok, `expected success, got ${JSON.stringify(result)}`);
  return result.id;
}

function failure(result: RecordWriteResult | undefined): { statusCode: string; message: string } {
  assert.ok(result && !result.ok, `expected failure, got ${JSON.stringify(result)}`);
  return result.errors[0]!;
}

describe('deleteRecords', () => {
  let h: Harness;
  let org: OrgClient;
  let run = 0;
  before(async () => {
    h = await startHarness('demo');
    org = await connectOrg(h.passwordAuth, FAST);
  });
  after(() => h.close());
  beforeEach(async () => {
    await h.clearFaults();
    await h.admin('DELETE', '/behaviours');
    run++;
  });

  const stats = async (): Promise<number> => (await h.admin<Statistics>('GET', '/statistics')).byClient?.orgvault ?? 0;
  const deletedState = async (object: string, ids: readonly string[]): Promise<Map<string, unknown>> =>
    new Map((await collect(org.query(`SELECT Id, IsDeleted FROM ${object} WHERE Id IN ('${ids.join("','")}')`, { includeDeleted: true }))).map((r) => [String(r.Id), r.IsDeleted]));

  test('deletes 250 records in two calls, in order, into the Recycle Bin; a second delete is refused per record', async () => {
    const leads = (await org.createRecords('Lead', Array.from({ length: 250 }, (_, i) => ({ LastName: `Delete ${run} Lead ${i}`, Company: 'Delete Co' })))).map(okId);
    const calls = org.usage().calls;
    const before = await stats();
    const results = await org.deleteRecords(leads);
    assert.deepEqual(results.map(okId), leads);
    assert.equal(org.usage().calls - calls, 2, 'two sObject Collections calls');
    assert.equal((await stats()) - before, 2, 'as the org counted them');
    assert.ok([...(await deletedState('Lead', leads)).values()].every((d) => d === true), 'every lead is in the Recycle Bin (queryAll)');

    const again = await org.deleteRecords(leads.slice(0, 3));
    assert.deepEqual(again.map((r) => failure(r).statusCode), ['ENTITY_IS_DELETED', 'ENTITY_IS_DELETED', 'ENTITY_IS_DELETED']);
    assert.deepEqual(await org.deleteRecords([]), []);
  });

  test("Salesforce's per-record refusals come back in order, beside the deletes that went through", async () => {
    const [shared, hidden, plain] = (await org.createRecords('Account', [{ Name: `Delete ${run} Shared` }, { Name: `Delete ${run} Hidden` }, { Name: `Delete ${run} Plain` }])).map(okId);
    // A product on an invoice line (a restricted lookup) cannot be deleted.
    const [line] = await collect(org.query('SELECT Id, Product__c FROM Invoice_Line__c WHERE Product__c != null LIMIT 1'));
    const product = String(line!.Product__c);
    const contacts = (await org.createRecords('Contact', [{ LastName: `Delete ${run} A`, AccountId: shared }, { LastName: `Delete ${run} B`, AccountId: shared }])).map(okId);
    await h.admin('POST', '/behaviours', { kind: 'sharing', object: 'Account', name: `Private_${run}`, recordIds: [hidden] });

    const results = await org.deleteRecords([shared!, hidden!, product!, plain!]);
    assert.equal(okId(results[0]), shared);
    assert.equal(failure(results[1]).statusCode, 'INSUFFICIENT_ACCESS_OR_READONLY');
    const restricted = failure(results[2]);
    assert.equal(restricted.statusCode, 'DELETE_FAILED');
    assert.match(restricted.message, /associated with the following invoice lines/);
    assert.equal(okId(results[3]), plain);
    const accounts = await deletedState('Account', [shared!, hidden!, plain!]);
    assert.deepEqual([accounts.get(shared!), accounts.get(hidden!), accounts.get(plain!)], [true, false, true]);
    assert.equal((await deletedState('Product2', [product])).get(product), false);
    // The account's contacts went with it: Salesforce cascades the delete.
    assert.deepEqual([...(await deletedState('Contact', contacts)).values()], [true, true]);
  });

  test('a dropped connection is sent again: the records are deleted once, each reported deleted', async () => {
    const leads = (await org.createRecords('Lead', Array.from({ length: 3 }, (_, i) => ({ LastName: `Delete ${run} Dropped ${i}`, Company: 'Delete Co' })))).map(okId);
    await h.fault({ kind: 'drop', match: 'DELETE /services/data/*/composite/sobjects', times: 1 });
    const results = await org.deleteRecords(leads);
    assert.deepEqual(results.map(okId), leads);
    assert.deepEqual([...(await deletedState('Lead', leads)).values()], [true, true, true]);
  });
});
