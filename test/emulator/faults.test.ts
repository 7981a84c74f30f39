// Injected faults: each one provoked over HTTP with its exact status and body, the same seed failing
// the same calls, and clearing the faults giving normal service back. jsforce shows what a client
// sees, including its own retries of GET requests on 5xx answers and dropped connections.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Connection } from '@jsforce/jsforce-node';
import { bulkJobFault } from '../../emulator/behaviours/faults.ts';
import { startEmulator } from '../../emulator/index.ts';
import type { RunningEmulator } from '../../emulator/index.ts';

const V = '/services/data/v60.0';

/** Response bodies are read field by field in assertions; typing every shape would only restate them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

interface Reply {
  status: number;
  contentType: string | null;
  text: string;
  json(): Json;
}

interface Harness {
  emu: RunningEmulator;
  /** A new session for `call` and `conn`, after a fault revoked the old one. */
  renew(): void;
  conn(options?: { refreshToken?: boolean }): Connection;
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Reply>;
  admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }>;
  fault(specs: unknown): Promise<void>;
  close(): Promise<void>;
}

async function start(profile: 'empty' | 'demo' = 'empty'): Promise<Harness> {
  const emu = await startEmulator({ profile, seed: 1 });
  let session = emu.context.sessions.issue(emu.org.apiUserId, emu.info.clientId);
  const request = async (url: string, method: string, body: unknown, headers: Record<string, string>): Promise<Reply> => {
    const init: RequestInit = { method, headers: { ...headers } };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] = 'application/json';
    }
    const response = await fetch(url, init);
    const text = await response.text();
    return { status: response.status, contentType: response.headers.get('content-type'), text, json: () => JSON.parse(text) };
  };
  const h: Harness = {
    emu,
    renew() {
      session = emu.context.sessions.issue(emu.org.apiUserId, emu.info.clientId);
    },
    conn(options = {}) {
      const oauth2 = { loginUrl: emu.info.instanceUrl, clientId: emu.info.clientId, clientSecret: emu.info.clientSecret };
      if (!options.refreshToken) return new Connection({ instanceUrl: emu.info.instanceUrl, accessToken: session.accessToken, version: '60.0' });
      const grant = emu.context.sessions.issue(emu.org.apiUserId, emu.info.clientId, { refreshToken: true });
      return new Connection({ oauth2, instanceUrl: emu.info.instanceUrl, accessToken: grant.accessToken, refreshToken: grant.refreshToken, version: '60.0' });
    },
    call: (method, path, body, headers = {}) => request(`${emu.info.instanceUrl}${path.startsWith('/services') ? path : `${V}${path}`}`, method, body, { authorization: `Bearer ${session.accessToken}`, ...headers }),
    async admin(method, path, body) {
      const reply = await request(`${emu.info.instanceUrl}/__emulator${path}`, method, body, { authorization: `Bearer ${emu.info.adminToken}` });
      return { status: reply.status, body: reply.json() };
    },
    async fault(specs) {
      const { status, body } = await h.admin('POST', '/faults', specs);
      assert.equal(status, 200, JSON.stringify(body));
    },
    close: () => emu.close(),
  };
  return h;
}

const statuses = async (h: Harness, path: string, n: number): Promise<number[]> => {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await h.call('GET', path)).status);
  return out;
};

describe('faults admin API', () => {
  let h: Harness;
  before(async () => {
    h = await start();
  });
  after(() => h.close());

  test('adds, lists with counters, removes by name and clears', async () => {
    await h.fault([
      { kind: 'error', match: 'GET /services/data/*/limits', status: 500, rate: 1, name: 'limits-500' },
      { kind: 'latency', match: '/services/data/**', ms: 1 },
    ]);
    await h.call('GET', '/limits');
    const { body } = await h.admin('GET', '/faults');
    assert.deepEqual(
      body.faults.map((f: Json) => [f.name, f.calls, f.fired]),
      [
        ['limits-500', 1, 1],
        ['latency /services/data/**', 1, 1],
      ],
    );
    assert.equal(body.faults[0].seed, 1, 'the default seed is listed');
    assert.deepEqual(await h.admin('DELETE', `/faults/${encodeURIComponent('latency /services/data/**')}`), { status: 200, body: { deleted: 'latency /services/data/**' } });
    assert.equal((await h.admin('DELETE', '/faults/nothing')).status, 404);
    assert.deepEqual(await h.admin('DELETE', '/faults'), { status: 200, body: { deleted: 1 } });
    assert.equal((await h.call('GET', '/limits')).status, 200);
  });

  test('refuses bad specs naming the field', async () => {
    const cases: [unknown, string][] = [
      [{ kind: 'meltdown' }, 'kind'],
      [{ kind: 'error', status: 503 }, 'match'],
      [{ kind: 'error', match: 'GET /x', status: 200 }, 'status'],
      [{ kind: 'error', match: 'FETCH /x', status: 500 }, 'match'],
      [{ kind: 'latency', match: '/x' }, 'ms'],
      [{ kind: 'latency', match: '/x', minMs: 50, maxMs: 10 }, 'maxMs'],
      [{ kind: 'requestLimit', match: '/x' }, 'after'],
      [{ kind: 'revokeSessions', match: '/x' }, 'after'],
      [{ kind: 'bulkJob', mode: 'explode' }, 'mode'],
      [{ kind: 'drop', match: '/x', rate: -1 }, 'rate'],
      [[{ kind: 'drop', match: '/x' }, { kind: 'drop', match: '/x', ms: 5 }], '[1].ms'],
    ];
    for (const [spec, field] of cases) {
      const { status, body } = await h.admin('POST', '/faults', spec);
      assert.equal(status, 400, JSON.stringify(spec));
      assert.equal(body.error, 'INVALID_FIELD');
      assert.equal(body.field, field, JSON.stringify(body));
    }
    assert.deepEqual((await h.admin('GET', '/faults')).body, { faults: [] });
  });

  test('never touch the admin API', async () => {
    await h.fault({ kind: 'error', match: '/**', status: 503 });
    assert.equal((await h.call('GET', '/limits')).status, 503);
    assert.equal((await h.admin('GET', '/faults')).status, 200);
    assert.equal((await h.admin('DELETE', '/faults')).status, 200);
    assert.equal((await h.call('GET', '/limits')).status, 200);
  });
});

describe('error responses', () => {
  let h: Harness;
  before(async () => {
    h = await start();
  });
  after(() => h.close());

  test('500 answers UNKNOWN_EXCEPTION as JSON', async () => {
    await h.fault({ kind: 'error', match: 'GET /services/data/*/limits', status: 500, seed: 3 });
    const reply = await h.call('GET', '/limits');
    assert.equal(reply.status, 500);
    assert.equal(reply.contentType, 'application/json;charset=UTF-8');
    const body = reply.json();
    assert.deepEqual(Object.keys(body[0]), ['message', 'errorCode']);
    assert.equal(body[0].errorCode, 'UNKNOWN_EXCEPTION');
    assert.match(body[0].message, /^An unexpected error occurred\. Please include this ErrorId if you contact support: \d+-\d+ \(-\d+\)$/);
    await h.admin('DELETE', '/faults');
  });

  test('503 and 502 answer the edge\'s HTML pages', async () => {
    await h.fault([
      { kind: 'error', match: 'GET /services/data/*/limits', status: 503 },
      { kind: 'error', match: 'GET /services/data/*/sobjects', status: 502 },
    ]);
    const unavailable = await h.call('GET', '/limits');
    assert.equal(unavailable.status, 503);
    assert.equal(unavailable.contentType, 'text/html');
    assert.match(unavailable.text, /^<!DOCTYPE html>/);
    assert.match(unavailable.text, /<title>Service Unavailable<\/title>/);
    const badGateway = await h.call('GET', '/sobjects');
    assert.equal(badGateway.status, 502);
    assert.match(badGateway.text, /<title>Bad Gateway<\/title>/);
    assert.equal((await h.call('GET', '/sobjects/Account/describe')).status, 502, 'a pattern matches the paths it is a prefix of');
    assert.equal((await h.call('GET', '/query?q=SELECT+Id+FROM+Account')).status, 200);
    await h.admin('DELETE', '/faults');
  });

  test('methods and templates narrow a pattern; a custom body is sent as given', async () => {
    await h.fault({ kind: 'error', match: 'POST /services/data/:version/sobjects/:object$', status: 503, body: '{"busy":true}' });
    const created = await h.call('POST', '/sobjects/Account', { Name: 'Busy' });
    assert.equal(created.status, 503);
    assert.equal(created.contentType, 'application/json;charset=UTF-8');
    assert.deepEqual(created.json(), { busy: true });
    assert.equal((await h.call('GET', '/sobjects/Account')).status, 200, 'GET is another method');
    const id = h.emu.org.insert('Account', { Name: 'Existing' }, { userId: h.emu.org.apiUserId, system: true }).Id;
    assert.equal((await h.call('PATCH', `/sobjects/Account/${id}`, { Site: 'x' })).status, 204, '$ makes the pattern exact');
    await h.admin('DELETE', '/faults');
  });

  test('jsforce retries a GET through a passing 503 and fails a POST with the HTML error', async () => {
    const conn = h.conn();
    await h.fault({ kind: 'error', match: 'GET /services/data/*/limits', status: 503, times: 1, name: 'one-503' });
    const limits = await conn.limits();
    assert.ok(limits.DailyApiRequests);
    const listed = (await h.admin('GET', '/faults')).body.faults[0];
    assert.deepEqual([listed.calls, listed.fired], [2, 1], 'jsforce called twice; the fault fired once');
    await h.fault({ kind: 'error', match: 'POST /services/data/*/sobjects', status: 503 });
    await assert.rejects(conn.sobject('Account').create({ Name: 'Down' }), (error: Error & { errorCode?: string }) => {
      assert.equal(error.errorCode, 'ERROR_HTTP_503');
      assert.match(error.message, /HTTP response contains html content/);
      return true;
    });
    await h.admin('DELETE', '/faults');
    assert.equal((await conn.sobject('Account').create({ Name: 'Up again' })).success, true);
  });

  test('times caps how often a fault fires', async () => {
    await h.fault({ kind: 'error', match: 'GET /services/data/*/limits', status: 500, times: 2 });
    assert.deepEqual(await statuses(h, '/limits', 4), [500, 500, 200, 200]);
    await h.admin('DELETE', '/faults');
  });
});

describe('latency and dropped connections', () => {
  let h: Harness;
  before(async () => {
    h = await start();
  });
  after(() => h.close());

  // The delay itself is a sleep; what tests can assert without timing is that the fault applied
  // to each matching call and the calls still succeeded.
  test('fixed and uniform latency apply to matching calls, which still succeed', async () => {
    await h.fault({ kind: 'latency', match: 'GET /services/data/*/limits', ms: 50 });
    assert.equal((await h.call('GET', '/limits')).status, 200);
    assert.equal((await h.call('GET', '/sobjects')).status, 200);
    let listed = (await h.admin('GET', '/faults')).body as { faults?: { calls: number; fired: number }[] } | { calls: number; fired: number }[];
    let faults = Array.isArray(listed) ? listed : (listed.faults ?? []);
    assert.deepEqual(faults.map((f) => [f.calls, f.fired]), [[1, 1]], 'the other endpoint was not delayed');
    await h.admin('DELETE', '/faults');
    await h.fault({ kind: 'latency', match: 'GET /services/data/*/limits', minMs: 10, maxMs: 30, seed: 4 });
    await h.call('GET', '/limits');
    await h.call('GET', '/limits');
    listed = (await h.admin('GET', '/faults')).body as typeof listed;
    faults = Array.isArray(listed) ? listed : (listed.faults ?? []);
    assert.deepEqual(faults.map((f) => [f.calls, f.fired]), [[2, 2]]);
    await h.admin('DELETE', '/faults');
  });

  test('a dropped connection is a socket error; jsforce retries a GET past it', async () => {
    await h.fault({ kind: 'drop', match: 'GET /services/data/*/limits', times: 1 });
    await assert.rejects(h.call('GET', '/limits'), (error: Error & { cause?: { code?: string } }) => {
      assert.equal(error.message, 'fetch failed');
      assert.equal(error.cause?.code, 'UND_ERR_SOCKET');
      return true;
    });
    assert.equal((await h.call('GET', '/limits')).status, 200);
    await h.fault({ kind: 'drop', match: 'GET /services/data/*/limits', times: 1, name: 'drop-once-more' });
    assert.ok((await h.conn().limits()).DailyApiRequests);
    await h.admin('DELETE', '/faults');
  });
});

describe('sessions and limits', () => {
  let h: Harness;
  before(async () => {
    h = await start();
  });
  after(() => h.close());

  test('revokeSessions: after N calls every session and refresh token is revoked', async () => {
    const grant = h.emu.context.sessions.issue(h.emu.org.apiUserId, h.emu.info.clientId, { refreshToken: true });
    await h.fault({ kind: 'revokeSessions', match: '/services/data/**', after: 2 });
    const bearer = { authorization: `Bearer ${grant.accessToken}` };
    assert.equal((await h.call('GET', '/limits', undefined, bearer)).status, 200);
    assert.equal((await h.call('GET', '/limits', undefined, bearer)).status, 200);
    const revoked = await h.call('GET', '/limits', undefined, bearer);
    assert.equal(revoked.status, 401);
    assert.deepEqual(revoked.json(), [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }]);
    const refresh = await fetch(`${h.emu.info.instanceUrl}/services/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: grant.refreshToken!, client_id: h.emu.info.clientId, client_secret: h.emu.info.clientSecret }),
    });
    assert.equal(refresh.status, 400);
    assert.deepEqual(await refresh.json(), { error: 'invalid_grant', error_description: 'expired access/refresh token' });
    await h.admin('DELETE', '/faults');
  });

  test('expireSessions: access tokens end, refresh tokens stay, and jsforce refreshes', async () => {
    const conn = h.conn({ refreshToken: true });
    let refreshes = 0;
    conn.on('refresh', () => refreshes++);
    await h.fault({ kind: 'expireSessions', match: 'GET /services/data/*/limits', after: 1 });
    await conn.limits();
    assert.equal(refreshes, 0);
    const tokenBefore = conn.accessToken;
    await conn.limits();
    assert.equal(refreshes, 1, 'the second call met an expired session and refreshed');
    assert.notEqual(conn.accessToken, tokenBefore);
    await conn.limits();
    assert.equal(refreshes, 1, 'it happens once with "after"');
    await h.admin('DELETE', '/faults');
  });

  test('expireSessions every N calls', async () => {
    const conn = h.conn({ refreshToken: true });
    let refreshes = 0;
    conn.on('refresh', () => refreshes++);
    await h.fault({ kind: 'expireSessions', match: 'GET /services/data/*/sobjects', every: 3 });
    for (let i = 0; i < 6; i++) await conn.describeGlobal();
    // Calls 3 and 6 find the session expired; jsforce's retry after refreshing is a call too, so the
    // six describes make eight calls, two of them refused.
    assert.equal(refreshes, 2);
    const listed = (await h.admin('GET', '/faults')).body.faults[0];
    assert.deepEqual([listed.calls, listed.fired], [8, 2]);
    await h.admin('DELETE', '/faults');
  });

  test('requestLimit: after N calls REQUEST_LIMIT_EXCEEDED until cleared', async () => {
    h.renew();
    await h.fault({ kind: 'requestLimit', match: '/services/data/**', after: 3 });
    assert.deepEqual(await statuses(h, '/limits', 5), [200, 200, 200, 403, 403]);
    const refused = await h.call('GET', '/sobjects');
    assert.equal(refused.status, 403);
    assert.deepEqual(refused.json(), [{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }]);
    await assert.rejects(async () => h.conn().query('SELECT Id FROM Account'), { errorCode: 'REQUEST_LIMIT_EXCEEDED', message: 'TotalRequests Limit exceeded.' });
    await h.admin('DELETE', '/faults');
    assert.equal((await h.call('GET', '/limits')).status, 200);
  });
});

describe('query faults', () => {
  let h: Harness;
  const soql = '/query?q=SELECT+Id,LastName+FROM+Contact';
  const batch = { 'Sforce-Query-Options': 'batchSize=200' };
  before(async () => {
    h = await start('demo');
  });
  after(() => h.close());

  test('INVALID_QUERY_LOCATOR: a cursor expires early and stays expired', async () => {
    await h.fault({ kind: 'invalidQueryLocator' });
    const first = await h.call('GET', soql, undefined, batch);
    assert.equal(first.status, 200);
    const next = first.json().nextRecordsUrl as string;
    assert.match(next, /\/query\/01g[0-9A-Za-z]{15}-200$/);
    const expired = { status: 400, body: [{ message: 'invalid query locator', errorCode: 'INVALID_QUERY_LOCATOR' }] };
    for (let i = 0; i < 2; i++) {
      const reply = await h.call('GET', next, undefined, batch);
      assert.deepEqual({ status: reply.status, body: reply.json() }, expired);
    }
    await assert.rejects(async () => h.conn().query('SELECT Id FROM Contact', { autoFetch: true, maxFetch: 5000 }), { errorCode: 'INVALID_QUERY_LOCATOR', message: 'invalid query locator' });
    await h.admin('DELETE', '/faults');
    const all = await h.conn().query('SELECT Id FROM Contact', { autoFetch: true, maxFetch: 5000 });
    assert.equal(all.records.length, h.emu.org.count('Contact'));
  });

  test('INVALID_QUERY_LOCATOR at a rate hits the same pages for the same seed', async () => {
    const run = async (seed: number): Promise<number[]> => {
      await h.fault({ kind: 'invalidQueryLocator', rate: 0.3, seed, name: 'cursor' });
      const failedPages: number[] = [];
      // Each page from a fresh cursor, so that one failure does not end the walk.
      for (let page = 1; page <= 10; page++) {
        const first = (await h.call('GET', soql, undefined, batch)).json();
        const reply = await h.call('GET', (first.nextRecordsUrl as string).replace(/-200$/, `-${page * 200}`), undefined, batch);
        if (reply.status === 400) failedPages.push(page);
      }
      await h.admin('DELETE', '/faults');
      return failedPages;
    };
    const a = await run(11);
    assert.deepEqual(await run(11), a);
    assert.ok(a.length > 0 && a.length < 10, `some pages fail (${a.join(',')})`);
  });

  test('QUERY_TIMEOUT on the query resource only', async () => {
    await h.fault({ kind: 'queryTimeout' });
    const reply = await h.call('GET', soql);
    assert.equal(reply.status, 400);
    assert.deepEqual(reply.json(), [{ message: 'Your query request was running for too long.', errorCode: 'QUERY_TIMEOUT' }]);
    assert.equal((await h.call('GET', '/sobjects/Contact/describe')).status, 200);
    assert.equal((await h.call('GET', '/queryAll?q=SELECT+Id+FROM+Contact+LIMIT+1')).status, 200);
    await assert.rejects(async () => h.conn().query('SELECT Id FROM Contact LIMIT 5'), { errorCode: 'QUERY_TIMEOUT' });
    await h.admin('DELETE', '/faults');
    assert.equal((await h.conn().query('SELECT Id FROM Contact LIMIT 5')).records.length, 5);
  });
});

describe('determinism', () => {
  const run = async (seed: number): Promise<{ statuses: number[]; fired: number }> => {
    const h = await start();
    try {
      await h.fault({ kind: 'error', match: 'GET /services/data/*/limits', status: 500, rate: 0.4, seed });
      const result = await statuses(h, '/limits', 30);
      return { statuses: result, fired: (await h.admin('GET', '/faults')).body.faults[0].fired };
    } finally {
      await h.close();
    }
  };

  test('the same seed fails the same calls; another seed others', async () => {
    const a = await run(7);
    const b = await run(7);
    const c = await run(8);
    assert.deepEqual(b.statuses, a.statuses);
    assert.notDeepEqual(c.statuses, a.statuses);
    const failed = a.statuses.filter((s) => s === 500).length;
    assert.ok(failed > 3 && failed < 22, `about 40% of 30 fail (${failed})`);
    assert.equal(a.fired, failed);
  });
});

describe('Bulk job faults', () => {
  let h: Harness;
  before(async () => {
    h = await start();
  });
  after(() => h.close());

  test('bulkJobFault tells the Bulk module to fail or hang a job', async () => {
    assert.equal(bulkJobFault(h.emu.org), undefined);
    await h.fault({ kind: 'bulkJob', mode: 'hang', object: 'Account' });
    assert.equal(bulkJobFault(h.emu.org, { object: 'account', operation: 'query' }), 'hang');
    assert.equal(bulkJobFault(h.emu.org, { object: 'Contact' }), undefined);
    await h.fault({ kind: 'bulkJob', mode: 'fail', operation: 'insert', name: 'inserts-fail' });
    assert.equal(bulkJobFault(h.emu.org, { object: 'Contact', operation: 'insert' }), 'fail');
    await h.admin('DELETE', '/faults');
    assert.equal(bulkJobFault(h.emu.org, { object: 'Account' }), undefined);
  });

  test('a failing fault fails query and ingest jobs as Salesforce does; a hanging one never finishes', async () => {
    const poll = async (path: string): Promise<Json> => {
      let info: Json;
      // The emulator moves a job on a timer: poll until it leaves its working states or a while passes.
      for (let i = 0; i < 100; i++) {
        info = (await h.call('GET', path)).json();
        if (!['UploadComplete', 'InProgress', 'Open'].includes(info.state)) break;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      return info;
    };
    await h.fault({ kind: 'bulkJob', mode: 'fail', object: 'Account', name: 'query-fails' });
    const query = (await h.call('POST', '/jobs/query', { operation: 'query', query: 'SELECT Id FROM Account' })).json();
    const failed = await poll(`/jobs/query/${query.id}`);
    assert.equal(failed.state, 'Failed');
    assert.equal(failed.errorMessage, 'InternalServerError : retried more than 15 times');
    assert.equal((await h.call('GET', `/jobs/query/${query.id}/results`)).status, 400);
    const ingest = (await h.call('POST', '/jobs/ingest', { object: 'Account', operation: 'insert' })).json();
    const upload = await fetch(`${h.emu.info.instanceUrl}${V}/jobs/ingest/${ingest.id}/batches`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${h.emu.context.sessions.issue(h.emu.org.apiUserId, h.emu.info.clientId).accessToken}`, 'content-type': 'text/csv' },
      body: 'Name\nFaulty\n',
    });
    assert.equal(upload.status, 201, await upload.text());
    await h.call('PATCH', `/jobs/ingest/${ingest.id}`, { state: 'UploadComplete' });
    const ingestFailed = await poll(`/jobs/ingest/${ingest.id}`);
    assert.equal(ingestFailed.state, 'Failed');
    assert.equal(ingestFailed.errorMessage, 'InternalServerError : retried more than 15 times');
    assert.equal(h.emu.org.count('Account'), 0, 'nothing was written');
    await h.admin('DELETE', '/faults');

    await h.fault({ kind: 'bulkJob', mode: 'hang', name: 'query-hangs' });
    const hanging = (await h.call('POST', '/jobs/query', { operation: 'query', query: 'SELECT Id FROM Account' })).json();
    assert.equal((await poll(`/jobs/query/${hanging.id}`)).state, 'InProgress');
    assert.equal((await h.call('PATCH', `/jobs/query/${hanging.id}`, { state: 'Aborted' })).json().state, 'Aborted');
    await h.admin('DELETE', '/faults');
  });

  test('at a rate, the same seed hits the same jobs', async () => {
    const jobs = async (): Promise<(string | undefined)[]> => {
      await h.fault({ kind: 'bulkJob', mode: 'fail', rate: 0.5, seed: 21, name: 'flaky' });
      const out = Array.from({ length: 12 }, () => bulkJobFault(h.emu.org, { object: 'Account', operation: 'insert' }));
      await h.admin('DELETE', '/faults');
      return out;
    };
    const a = await jobs();
    assert.deepEqual(await jobs(), a);
    assert.ok(a.includes('fail') && a.includes(undefined));
  });
});
