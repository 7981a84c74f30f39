// What the client does when the org misbehaves: transient failures (5xx, edge HTML pages, lock
// contention, dropped connections, timeouts) are retried a bounded number of times; the failures
// the backup engine acts on itself (INVALID_QUERY_LOCATOR, REQUEST_LIMIT_EXCEEDED) surface at once
// with Salesforce's code. And file bodies stream byte for byte.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { SalesforceApiError } from '../../src/core/errors.ts';
import type { OrgClient } from '../../src/core/org-client.ts';
import { connectOrg } from '../../src/salesforce/index.ts';
import { FAST, collect, startHarness } from './harness.ts';
import type { Harness } from './harness.ts';

interface FaultState {
  faults: { name: string; calls: number; fired: number }[];
}

const isApiError = (code: string) => (e: unknown) => {
  assert.ok(e instanceof SalesforceApiError, String(e));
  assert.equal(e.statusCode, code, e.message);
  return true;
};

describe('retries and errors', () => {
  let h: Harness;
  let org: OrgClient;
  const lines: string[] = [];
  before(async () => {
    h = await startHarness('demo');
    org = await connectOrg(h.passwordAuth, { ...FAST, log: (line) => lines.push(line) });
  });
  after(() => h.close());
  beforeEach(async () => {
    await h.clearFaults();
    lines.length = 0;
  });

  const fired = async (): Promise<number[]> => (await h.admin<FaultState>('GET', '/faults')).faults.map((f) => f.fired);

  test('503 edge pages and 500s are retried until an answer comes', async () => {
    await h.fault([
      { kind: 'error', match: 'GET /services/data/*/limits', status: 503, times: 2 },
      { kind: 'error', match: 'GET /services/data/*/sobjects', status: 500, times: 1 },
    ]);
    assert.ok((await org.limits()).dailyApiRequests.max > 0);
    assert.ok((await org.describeGlobal()).length > 0);
    assert.deepEqual(await fired(), [2, 1]);
    assert.equal(lines.filter((l) => /attempt \d of 4/.test(l)).length, 3);
  });

  test('UNABLE_TO_LOCK_ROW and other transient statuses are retried', async () => {
    await h.fault({ kind: 'error', match: 'POST /services/data/*/composite', status: 400, body: '[{"message":"unable to obtain exclusive access to this record","errorCode":"UNABLE_TO_LOCK_ROW"}]', times: 2 });
    const [result] = await org.queryBatch([{ soql: 'SELECT Id FROM Account LIMIT 1' }]);
    assert.ok(result?.ok);
    assert.deepEqual(await fired(), [2]);
    await h.clearFaults();
    await h.fault({ kind: 'queryTimeout', times: 1 });
    assert.equal((await collect(org.query('SELECT Id FROM Account LIMIT 3'))).length, 3);
    assert.deepEqual(await fired(), [1]);
  });

  test('dropped connections and timeouts are retried', async () => {
    await h.fault({ kind: 'drop', match: 'GET /services/data/*/query', times: 2 });
    assert.equal((await collect(org.query('SELECT Id FROM Account LIMIT 5'))).length, 5);
    await h.clearFaults();
    const impatient = await connectOrg(h.passwordAuth, { ...FAST, retry: { ...FAST.retry, timeoutMs: 200 } });
    await h.fault({ kind: 'latency', match: 'GET /services/data/*/limits', ms: 2_000, times: 1 });
    assert.ok((await impatient.limits()).dailyApiRequests.max > 0);
  });

  test('retries are bounded: the last error surfaces with its code', async () => {
    await h.fault({ kind: 'error', match: 'GET /services/data/*/limits', status: 503 });
    await assert.rejects(org.limits(), isApiError('HTTP_503'));
    assert.deepEqual(await fired(), [4], 'four attempts in all');
    await h.clearFaults();
    await h.fault({ kind: 'drop', match: 'GET /services/data/*/limits' });
    await assert.rejects(org.limits(), isApiError('CONNECTION_ERROR'));
  });

  test('INVALID_QUERY_LOCATOR surfaces at once, without a retry', async () => {
    await h.fault({ kind: 'invalidQueryLocator', times: 1 });
    let pages = 0;
    await assert.rejects(async () => {
      for await (const _ of org.query('SELECT Id FROM Contact')) pages++;
    }, isApiError('INVALID_QUERY_LOCATOR'));
    assert.equal(pages, 1, 'the first page came, the cursor then failed');
    assert.deepEqual(await fired(), [1]);
  });

  test('REQUEST_LIMIT_EXCEEDED surfaces at once, without a retry', async () => {
    const usage = org.usage().calls;
    await h.fault({ kind: 'requestLimit', match: '/services/data/**', after: 1 });
    await org.limits();
    await assert.rejects(org.describeGlobal(), isApiError('REQUEST_LIMIT_EXCEEDED'));
    assert.deepEqual(await fired(), [1], 'the refused call was not repeated');
    await h.clearFaults();
    assert.equal(org.usage().calls - usage, 1, 'a refused call is not charged');
  });

  test('the org daily limit itself answers REQUEST_LIMIT_EXCEEDED', async () => {
    const { dailyApiRequests } = await h.admin<{ dailyApiRequests: { max: number } }>('GET', '/limits');
    try {
      await h.admin('POST', '/limits', { dailyApiRequests: 1 });
      await assert.rejects(org.limits(), isApiError('REQUEST_LIMIT_EXCEEDED'));
      assert.equal(org.usage().orgMax, 1);
    } finally {
      await h.admin('POST', '/limits', { dailyApiRequests: dailyApiRequests.max });
    }
  });
});

describe('downloadBody', () => {
  let h: Harness;
  let org: OrgClient;
  before(async () => {
    h = await startHarness('demo');
    org = await connectOrg(h.passwordAuth, FAST);
  });
  after(() => h.close());

  async function direct(path: string): Promise<Buffer> {
    const token = h.emu.context.sessions.issue(h.emu.org.apiUserId, h.emu.info.clientId).accessToken;
    const response = await fetch(`${h.emu.info.instanceUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(response.status, 200);
    return Buffer.from(await response.arrayBuffer());
  }

  test('streams ContentVersion and Attachment bodies byte for byte', async () => {
    const [version] = await collect(org.query('SELECT Id, ContentSize FROM ContentVersion ORDER BY ContentSize DESC LIMIT 1'));
    const [attachment] = await collect(org.query('SELECT Id FROM Attachment LIMIT 1'));
    for (const [object, id, field] of [['ContentVersion', version!.Id, 'VersionData'], ['Attachment', attachment?.Id, 'Body']] as const) {
      if (typeof id !== 'string') continue;
      const chunks: Uint8Array[] = [];
      for await (const chunk of org.downloadBody(object, id, field)) chunks.push(chunk);
      const body = Buffer.concat(chunks);
      assert.ok(body.length > 0);
      assert.deepEqual(body, await direct(`/services/data/v62.0/sobjects/${object}/${id}/${field}`), `${object} ${id}`);
    }
    assert.equal(Buffer.concat(await collectBytes(org.downloadBody('ContentVersion', String(version!.Id), 'VersionData'))).length, version!.ContentSize);
  });

  test('a failure before the first byte is retried; a missing record is NOT_FOUND', async () => {
    const [version] = await collect(org.query('SELECT Id FROM ContentVersion LIMIT 1'));
    await h.fault({ kind: 'drop', match: 'GET /services/data/*/sobjects/ContentVersion/**', times: 1 });
    await h.fault({ kind: 'error', match: 'GET /services/data/*/sobjects/ContentVersion/**', status: 503, times: 1 });
    const body = Buffer.concat(await collectBytes(org.downloadBody('ContentVersion', String(version!.Id), 'VersionData')));
    await h.clearFaults();
    assert.deepEqual(body, await direct(`/services/data/v62.0/sobjects/ContentVersion/${String(version!.Id)}/VersionData`));
    await assert.rejects(collectBytes(org.downloadBody('ContentVersion', '068000000000000AAA', 'VersionData')), (e: unknown) => e instanceof SalesforceApiError && /NOT_FOUND|MALFORMED_ID|INVALID/.test(e.statusCode));
  });
});

async function collectBytes(stream: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const chunk of stream) out.push(chunk);
  return out;
}
