// The emulator prints a query cursor's next page while the client reads the last one (the
// serving speed of issue 2). A page printed ahead must be exactly the page a request would have
// printed: after a record changed between pages (a formula over its parent), with another batch
// size, under another API version, requested at once, and over a whole walk of the cursor.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startEmulator } from '../../emulator/index.ts';
import type { RunningEmulator } from '../../emulator/index.ts';

/** Query answers are read field by field; typing every shape would only restate them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

describe('query pages printed ahead', () => {
  let emu: RunningEmulator;
  let token: string;
  const soql = encodeURIComponent('SELECT Id, AccountId, Account_Name__c, LastName FROM Contact ORDER BY Id');

  const get = async (path: string, batchSize?: number): Promise<Json> => {
    const headers: Record<string, string> = { Authorization: `Bearer ${token}` };
    if (batchSize !== undefined) headers['Sforce-Query-Options'] = `batchSize=${batchSize}`;
    const response = await fetch(`${emu.info.instanceUrl}${path}`, { headers });
    assert.equal(response.status, 200, path);
    return response.json();
  };
  /** Every record of the query, read afresh in pages of 2,000 (nothing printed ahead can match this cursor's pages). */
  const fresh = async (version: string): Promise<Json[]> => {
    const records: Json[] = [];
    for (let next: string | undefined = `/services/data/${version}/query?q=${soql}`; next; ) {
      const page = await get(next);
      records.push(...page.records);
      next = page.nextRecordsUrl;
    }
    return records;
  };
  /** Long enough for the emulator to have printed the next page ahead, if it does. */
  const letItPrintAhead = () => sleep(200);

  before(async () => {
    emu = await startEmulator({ profile: 'demo', seed: 1 });
    const { info } = emu;
    const body = new URLSearchParams({ grant_type: 'password', client_id: info.clientId, client_secret: info.clientSecret, username: info.username, password: info.password });
    token = ((await (await fetch(`${info.loginUrl}/services/oauth2/token`, { method: 'POST', body })).json()) as Json).access_token;
  });
  after(() => emu?.close());

  test('every page equals a fresh read, whatever changed between pages', async () => {
    const before = await fresh('v62.0');
    assert.ok(before.length > 1_500, `the demo org has ${before.length} contacts`);

    const first = await get(`/services/data/v62.0/query?q=${soql}`, 200);
    assert.equal(first.records.length, 200);
    await letItPrintAhead();
    // The parent of the next page's first contact is renamed: its formula field must show it.
    const target = before[200];
    const renamed = await fetch(`${emu.info.instanceUrl}/services/data/v62.0/sobjects/Account/${target.AccountId}`, {
      method: 'PATCH',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ Name: 'Renamed While Paging' }),
    });
    assert.equal(renamed.status, 204);
    const second = await get(first.nextRecordsUrl, 200);
    assert.equal(second.records[0].Id, target.Id);
    assert.equal(second.records[0].Account_Name__c, 'Renamed While Paging');
    const now = await fresh('v62.0');
    assert.deepEqual(second.records, now.slice(200, 400));

    // Another batch size than the page printed ahead.
    await letItPrintAhead();
    const third = await get(second.nextRecordsUrl, 300);
    assert.deepEqual(third.records, now.slice(400, 700));

    // Another API version: the records' URLs name it.
    await letItPrintAhead();
    const fourth = await get(third.nextRecordsUrl.replace('v62.0', 'v59.0'), 300);
    const v59 = await fresh('v59.0');
    assert.equal(fourth.records[0].attributes.url, `/services/data/v59.0/sobjects/Contact/${now[700].Id}`);
    assert.deepEqual(fourth.records, v59.slice(700, 1000));

    // Asked for at once, while the page may be half printed.
    const fifth = await get(fourth.nextRecordsUrl, 300);
    assert.deepEqual(fifth.records, v59.slice(1000, 1300));

    // The rest of the cursor, without waiting: the same records as a fresh read.
    const rest: Json[] = [];
    for (let next: string | undefined = fifth.nextRecordsUrl; next; ) {
      const page = await get(next);
      rest.push(...page.records);
      next = page.nextRecordsUrl;
    }
    assert.deepEqual(rest, v59.slice(1300));
  });
});
