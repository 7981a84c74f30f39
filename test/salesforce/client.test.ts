// connectOrg against an in-process emulator: every method of the OrgClient port over the real wire
// protocol, usage counted as the org counts it, and errors carrying Salesforce's own codes.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SalesforceApiError } from '../../src/core/errors.ts';
import type { OrgClient } from '../../src/core/org-client.ts';
import { connectOrg } from '../../src/salesforce/index.ts';
import { FAST, collect, startHarness } from './harness.ts';
import type { Harness } from './harness.ts';

interface Statistics {
  calls?: number;
  byClient?: Record<string, number>;
}

describe('OrgClient over REST', () => {
  let h: Harness;
  let org: OrgClient;
  before(async () => {
    h = await startHarness('demo');
    org = await connectOrg(h.passwordAuth, FAST);
  });
  after(() => h.close());

  test('identity names the org and the API user', async () => {
    const id = await org.identity();
    assert.equal(id.orgId, h.emu.info.orgId);
    assert.equal(id.username, h.emu.info.username);
    assert.match(id.userId, /^005/);
    assert.equal(id.instanceUrl, h.emu.info.instanceUrl);
    assert.equal(org.apiVersion, '62.0');
  });

  test('describeGlobal and describeObject give summaries and the raw document', async () => {
    const objects = await org.describeGlobal();
    const account = objects.find((o) => o.name === 'Account');
    assert.deepEqual(account && { queryable: account.queryable, custom: account.custom, keyPrefix: account.keyPrefix }, { queryable: true, custom: false, keyPrefix: '001' });
    const described = await org.describeObject('Account');
    assert.equal(described.name, 'Account');
    const name = described.fields.find((f) => f.name === 'Name');
    assert.equal(name?.type, 'string');
    const parent = described.fields.find((f) => f.name === 'ParentId');
    assert.deepEqual(parent?.referenceTo, ['Account']);
    assert.equal(parent?.relationshipName, 'Parent');
    assert.equal((described.raw as { fields: unknown[] }).fields.length, described.fields.length);
  });

  test('describeObjects describes 25 objects a call, leaving out objects the org lacks', async () => {
    const names = (await org.describeGlobal()).map((o) => o.name).slice(0, 26);
    const before = org.usage().calls;
    const described = await org.describeObjects([...names, 'Nope__c']);
    assert.equal(org.usage().calls - before, 2);
    assert.deepEqual([...described.keys()], names);
    assert.deepEqual(described.get('Account')?.fields.map((f) => f.name), (await org.describeObject('Account')).fields.map((f) => f.name));
    assert.equal(described.get('Account')?.createable, true);
    assert.ok(described.get('Account')?.childRelationships.some((c) => c.childObject === 'Contact' && c.field === 'AccountId'));
  });

  test('limits and recordCounts', async () => {
    const limits = await org.limits();
    assert.ok(limits.dailyApiRequests.max > 0);
    assert.ok(limits.all.DailyApiRequests);
    const counts = await org.recordCounts(['Account', 'Contact']);
    assert.ok((counts.get('Contact') ?? 0) > 2000);
    assert.deepEqual(await org.recordCounts([]), new Map());
  });

  test('query pages through nextRecordsUrl and strips attributes, keeping subquery shape', async () => {
    const pages: number[] = [];
    let total = 0;
    for await (const page of org.query('SELECT Id, Name, Account.Name FROM Contact')) {
      pages.push(page.length);
      total += page.length;
      for (const r of page) assert.equal('attributes' in r, false);
    }
    assert.ok(pages.length > 1, 'more than one page');
    assert.ok(total > 2000);
    const [withChildren] = await collect(org.query('SELECT Id, (SELECT Id, LastName FROM Contacts) FROM Account WHERE Id IN (SELECT AccountId FROM Contact) LIMIT 1'));
    const contacts = withChildren!.Contacts as { totalSize: number; done: boolean; records: Record<string, unknown>[] };
    assert.ok(contacts.totalSize >= 1);
    assert.equal(contacts.done, true);
    assert.equal('attributes' in contacts.records[0]!, false);
    assert.ok('LastName' in contacts.records[0]!);
  });

  test('query errors carry Salesforce codes', async () => {
    await assert.rejects(collect(org.query('SELECT Id FROM NoSuchObject__c')), (e: unknown) => e instanceof SalesforceApiError && e.statusCode === 'INVALID_TYPE');
    await assert.rejects(collect(org.query('SELEKT Id FROM Account')), (e: unknown) => e instanceof SalesforceApiError && e.statusCode === 'MALFORMED_QUERY');
  });

  test('queryBatch answers many queries, errors per subrequest', async () => {
    const queries = [
      ...Array.from({ length: 6 }, (_, i) => ({ soql: `SELECT Id FROM Account ORDER BY Id LIMIT ${i + 1}` })),
      { soql: 'SELECT Id FROM Nope__c' },
      { soql: 'SELECT Id FROM Account WHERE IsDeleted = true', includeDeleted: true },
    ];
    const before = org.usage().calls;
    const results = await org.queryBatch(queries);
    assert.equal(org.usage().calls - before, 2, 'composites of 5 queries, one call each');
    assert.equal(results.length, queries.length);
    for (let i = 0; i < 6; i++) {
      const r = results[i]!;
      assert.ok(r.ok);
      if (r.ok) assert.equal(r.records.length, i + 1);
    }
    const bad = results[6]!;
    assert.equal(bad.ok, false);
    if (!bad.ok) assert.equal(bad.statusCode, 'INVALID_TYPE');
    assert.ok(results[7]!.ok);
  });

  test('getDeleted reports deletes in a window', async () => {
    const [victim] = await collect(org.query('SELECT Id FROM Lead ORDER BY Id LIMIT 1'));
    const now = Date.parse((await h.admin<{ now: string }>('GET', '/clock')).now);
    const token = h.emu.context.sessions.issue(h.emu.org.apiUserId, h.emu.info.clientId).accessToken;
    const del = await fetch(`${h.emu.info.instanceUrl}/services/data/v62.0/sobjects/Lead/${String(victim!.Id)}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
    assert.equal(del.status, 204);
    await h.admin('POST', '/clock', { advanceSeconds: 120 });
    const deleted = await org.getDeleted('Lead', now - 60_000, now + 120_000);
    assert.ok(deleted.records.some((r) => r.id === victim!.Id));
    assert.ok(deleted.earliestDateAvailable <= now);
    assert.ok(Number.isFinite(deleted.latestDateCovered));
  });

  test('usage counts exactly the calls the org charged to this client', async () => {
    const stats = async (): Promise<number> => (await h.admin<Statistics>('GET', '/statistics')).byClient?.orgvault ?? 0;
    const fresh = await connectOrg(h.passwordAuth, FAST);
    const start = await stats();
    await fresh.identity();
    await fresh.describeGlobal();
    await fresh.limits();
    await collect(fresh.query('SELECT Id FROM Contact'));
    await collect(fresh.query('SELECT Id FROM Nope__c')).catch(() => undefined);
    await collect(fresh.bulkQuery('SELECT Id, Name FROM Account', (await fresh.describeObject('Account')).fields));
    const scoped = fresh.scoped();
    await scoped.limits();
    const usage = fresh.usage();
    assert.equal(usage.calls, (await stats()) - start);
    assert.equal(usage.bulkQueryJobs, 1);
    assert.equal(scoped.usage().calls, 1);
    assert.ok(usage.orgUsed !== null && usage.orgUsed > 0);
    assert.equal(usage.orgMax, (await fresh.limits()).dailyApiRequests.max);
  });
});
