// Bulk API 2.0 queries give exactly the records REST gives for the same SOQL, field type by field
// type, across result pages; failed jobs raise the job's error; jobs are deleted afterwards.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { bulkState, configureBulk, setJobState } from '../../emulator/bulk/jobs.ts';
import { SalesforceApiError } from '../../src/core/errors.ts';
import type { FieldSummary, OrgClient } from '../../src/core/org-client.ts';
import { normaliseDatetime, normaliseTime } from '../../src/salesforce/csv-values.ts';
import { connectOrg } from '../../src/salesforce/index.ts';
import { FAST, collect, startHarness } from './harness.ts';
import type { Harness } from './harness.ts';

const REAL = fileURLToPath(new URL('../../../shared/fixtures/salesforce-real/', import.meta.url));

/** Types Bulk API 2.0 cannot return (compound fields, bodies). */
const NOT_IN_BULK = new Set(['address', 'location', 'base64']);

describe('bulkQuery', () => {
  let h: Harness;
  let org: OrgClient;
  before(async () => {
    h = await startHarness('demo');
    org = await connectOrg(h.passwordAuth, FAST);
  });
  after(() => h.close());

  async function bulkFields(object: string): Promise<FieldSummary[]> {
    return (await org.describeObject(object)).fields.filter((f) => !NOT_IN_BULK.has(f.type));
  }

  test('REST and Bulk give identical records for every field type', async () => {
    const covered = new Set<string>();
    for (const object of ['Account', 'Contact', 'Opportunity', 'Case', 'Event', 'Task', 'Invoice__c', 'Invoice_Line__c', 'Project__c', 'Product2', 'Lead', 'Campaign']) {
      const fields = await bulkFields(object);
      const soql = `SELECT ${fields.map((f) => f.name).join(', ')} FROM ${object} ORDER BY Id`;
      const viaRest = await collect(org.query(soql));
      const viaBulk = await collect(org.bulkQuery(soql, fields));
      assert.ok(viaRest.length > 0, object);
      assert.equal(viaBulk.length, viaRest.length, object);
      for (let i = 0; i < viaRest.length; i++) assert.deepEqual(viaBulk[i], viaRest[i], `${object} row ${i}`);
      for (const f of fields) if (viaRest.some((r) => r[f.name] !== null)) covered.add(f.type);
    }
    for (const type of ['id', 'reference', 'string', 'textarea', 'picklist', 'multipicklist', 'boolean', 'int', 'double', 'currency', 'percent', 'date', 'datetime', 'email', 'phone', 'url']) {
      assert.ok(covered.has(type), `a non-null ${type} value was compared (covered: ${[...covered].sort().join(', ')})`);
    }
  });

  test('queryAll, parent fields and pages of any size match REST', async () => {
    const paged = await connectOrg(h.passwordAuth, { ...FAST, bulk: { ...FAST.bulk, pageSize: 700, batchSize: 300 } });
    const fields = (await bulkFields('Contact')).filter((f) => ['Id', 'LastName', 'Birthdate', 'CreatedDate', 'IsDeleted', 'AccountId', 'ReportsToId'].includes(f.name));
    const soql = 'SELECT Id, LastName, Birthdate, CreatedDate, IsDeleted, AccountId, Account.Name, ReportsTo.LastName, ReportsTo.Account.Name FROM Contact ORDER BY Id';
    const viaRest = await collect(paged.query(soql, { includeDeleted: true }));
    const batches: number[] = [];
    const viaBulk: Record<string, unknown>[] = [];
    for await (const batch of paged.bulkQuery(soql, fields, { includeDeleted: true })) {
      batches.push(batch.length);
      viaBulk.push(...batch);
    }
    assert.ok(Math.max(...batches) <= 300 && batches.length > 7, `batches ${batches.join(',')}`);
    assert.ok(viaRest.some((r) => r.IsDeleted === true), 'queryAll includes the Recycle Bin');
    assert.ok(viaRest.some((r) => r.ReportsTo === null), 'some contacts have no manager');
    assert.ok(viaRest.some((r) => r.ReportsTo !== null), 'some contacts have a manager');
    assert.deepEqual(viaBulk, viaRest);
  });

  test('the job is deleted afterwards, also when the consumer stops early', async () => {
    const live = (): number => [...bulkState(h.emu.org).jobs.values()].filter((j) => j.kind === 'query').length;
    const before = live();
    for await (const batch of org.bulkQuery('SELECT Id FROM Contact', await bulkFields('Contact'))) {
      assert.ok(batch.length > 0);
      break;
    }
    assert.equal(live(), before);
  });

  test('a malformed query and a failed job raise SalesforceApiError with the code', async () => {
    await assert.rejects(collect(org.bulkQuery('SELECT Nope__c FROM Account', [])), (e: unknown) => e instanceof SalesforceApiError && e.statusCode === 'INVALID_FIELD');
    // A job that fails while it runs: the emulator's job is held back and failed as Salesforce would.
    configureBulk(h.emu.org, { stepDelayMs: 60_000 });
    try {
      const run = collect(org.bulkQuery('SELECT Id FROM Account', await bulkFields('Account')));
      let job;
      while (!(job = [...bulkState(h.emu.org).jobs.values()].find((j) => j.kind === 'query' && j.state === 'UploadComplete'))) await new Promise((r) => setTimeout(r, 5));
      setJobState(h.emu.org, job, 'Failed', 'INVALID_TYPE: sObject type Account is not supported.');
      await assert.rejects(run, (e: unknown) => e instanceof SalesforceApiError && e.statusCode === 'INVALID_TYPE' && /not supported/.test(e.message));
      assert.equal(bulkState(h.emu.org).jobs.has(job.id), false, 'the failed job was deleted');
    } finally {
      configureBulk(h.emu.org, { stepDelayMs: 10 });
    }
  });

  test('dropped result requests are fetched again without duplicates', async () => {
    await h.fault({ kind: 'drop', match: 'GET /services/data/*/jobs/query/*/results', rate: 0.5, seed: 3 });
    try {
      const fields = (await bulkFields('Contact')).filter((f) => f.name === 'Id' || f.name === 'LastName');
      const paged = await connectOrg(h.passwordAuth, { ...FAST, retry: { ...FAST.retry, attempts: 8 }, bulk: { ...FAST.bulk, pageSize: 500 } });
      const viaBulk = await collect(paged.bulkQuery('SELECT Id, LastName FROM Contact ORDER BY Id', fields));
      const viaRest = await collect(org.query('SELECT Id, LastName FROM Contact ORDER BY Id'));
      assert.deepEqual(viaBulk, viaRest);
    } finally {
      await h.clearFaults();
    }
  });
});

describe('Bulk CSV values', () => {
  test('datetimes and times take the exact REST form', () => {
    assert.equal(normaliseDatetime('2024-01-01T00:00:00.000Z'), '2024-01-01T00:00:00.000+0000');
    assert.equal(normaliseDatetime('2024-01-01T00:00:00Z'), '2024-01-01T00:00:00.000+0000');
    assert.equal(normaliseDatetime('2024-01-01T02:00:00.5+02:00'), '2024-01-01T00:00:00.500+0000');
    assert.equal(normaliseDatetime('2024-01-01T00:00:00.000+0000'), '2024-01-01T00:00:00.000+0000');
    assert.equal(normaliseTime('16:21:26Z'), '16:21:26.000Z');
  });

  test('the datetime form of recorded real Salesforce payloads', { skip: !existsSync(REAL) && `no ${REAL}` }, () => {
    const organization = JSON.parse(readFileSync(`${REAL}GET_sobjects_Organization.json`, 'utf8')) as Record<string, unknown>;
    const datetimes = Object.values(organization).filter((v): v is string => typeof v === 'string' && /^\d{4}-\d\d-\d\dT/.test(v));
    assert.ok(datetimes.length > 0);
    for (const rest of datetimes) {
      assert.match(rest, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/);
      // Bulk API 2.0 writes the same instant with a Z.
      assert.equal(normaliseDatetime(rest.replace('+0000', 'Z')), rest);
      assert.equal(normaliseDatetime(rest), rest);
    }
  });
});
