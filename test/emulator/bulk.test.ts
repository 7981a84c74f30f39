// Bulk API 2.0 of the emulator: unmodified jsforce's bulk2 client against a real server, and raw
// HTTP for the wire details jsforce hides (job shapes, CSV format, locators, errors).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Connection } from '@jsforce/jsforce-node';
import { startEmulator } from '../../emulator/index.ts';
import type { RunningEmulator } from '../../emulator/index.ts';
import { bulkUsage, configureBulk } from '../../emulator/bulk/routes.ts';
import type { BulkSettings } from '../../emulator/bulk/routes.ts';
import { BULK_UNSUPPORTED } from '../../emulator/soql/bulk-rules.ts';
import type { StoredRecord } from '../../emulator/org/schema.ts';

const VERSION = '62.0';
const API = `/services/data/v${VERSION}`;
const FAST: Partial<BulkSettings> = { stepDelayMs: 5, resultPageSize: 50_000, ingestChunkSize: 200, listPageSize: 1_000 };
const NOT_FOUND = [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }];
const SALESFORCE_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000\+0000$/;
const BULK_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Response bodies are read field by field in assertions; typing every shape would only restate them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json: Json;
}

let emulator: RunningEmulator;
let conn: Connection;
let token: string;

before(async () => {
  emulator = await startEmulator({ profile: 'demo', seed: 1 });
  configureBulk(emulator.org, FAST);
  const { info } = emulator;
  conn = new Connection({ loginUrl: info.loginUrl, version: VERSION, oauth2: { loginUrl: info.loginUrl, clientId: info.clientId, clientSecret: info.clientSecret } });
  await conn.login(info.username, info.password);
  conn.bulk2.pollInterval = 20;
  conn.bulk2.pollTimeout = 60_000;
  token = conn.accessToken!;
});

after(async () => {
  await emulator.close();
});

async function http(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const init: RequestInit = { method, headers: { authorization: `Bearer ${token}`, ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' || body instanceof FormData ? body : JSON.stringify(body);
    if (typeof body !== 'string' && !(body instanceof FormData)) (init.headers as Record<string, string>)['content-type'] = 'application/json';
  }
  const response = await fetch(`${emulator.info.instanceUrl}${path.startsWith('/services') ? path : `${API}${path}`}`, init);
  const text = await response.text();
  let json: Json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** Polls a job until it reaches one of `states`, as a client must: state changes on a timer. */
async function waitFor(kind: 'query' | 'ingest', id: string, states = ['JobComplete', 'Failed', 'Aborted']): Promise<Json> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const reply = await http('GET', `/jobs/${kind}/${id}`);
    assert.equal(reply.status, 200, reply.text);
    if (states.includes(reply.json.state)) return reply.json;
    if (Date.now() > deadline) throw new Error(`job ${id} stuck in ${reply.json.state}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function completedQuery(query: string, options: Record<string, unknown> = {}): Promise<string> {
  const created = await http('POST', '/jobs/query', { operation: 'query', query, ...options });
  assert.equal(created.status, 200, created.text);
  const job = await waitFor('query', created.json.id);
  assert.equal(job.state, 'JobComplete', JSON.stringify(job));
  return created.json.id;
}

/** Creates an ingest job, uploads `csv`, closes it and waits for the outcome. */
async function ingest(job: Record<string, unknown>, csv: string): Promise<{ id: string; info: Json }> {
  const created = await http('POST', '/jobs/ingest', job);
  assert.equal(created.status, 200, created.text);
  const id: string = created.json.id;
  const upload = await http('PUT', `/jobs/ingest/${id}/batches`, csv, { 'content-type': 'text/csv' });
  assert.equal(upload.status, 201, upload.text);
  const closed = await http('PATCH', `/jobs/ingest/${id}`, { state: 'UploadComplete' });
  assert.equal(closed.status, 200, closed.text);
  return { id, info: await waitFor('ingest', id) };
}

async function records(stream: NodeJS.EventEmitter): Promise<Record<string, string>[]> {
  const out: Record<string, string>[] = [];
  await new Promise<void>((resolve, reject) => {
    stream.on('record', (record: Record<string, string>) => out.push(record));
    stream.on('end', () => resolve());
    stream.on('error', reject);
  });
  return out;
}

/** Result rows as the CSV cells they are: jsforce types only the `sf__` columns. */
function cells(rows: object[]): Record<string, string>[] {
  return rows as Record<string, string>[];
}

function insertAccount(values: Record<string, unknown>): StoredRecord {
  return emulator.org.insert('Account', values, { userId: emulator.org.apiUserId });
}

function liveIds(object: string): string[] {
  return [...emulator.org.records(object)].filter((r) => !r.IsDeleted).map((r) => r.Id);
}

// ------------------------------------------------------------------------------------ jsforce

describe('jsforce bulk2 client', () => {
  test('query streams every record, across several result pages', async () => {
    configureBulk(emulator.org, { resultPageSize: 500 });
    try {
      const expected = liveIds('Contact');
      const rows = await records(await conn.bulk2.query('SELECT Id, Name, Email, CreatedDate, Account.Name FROM Contact'));
      // Salesforce starts every result page with the header row, and jsforce 3.10.16 pipes every
      // page into one CSV parser, so each page after the first yields its header as a record.
      const pages = Math.ceil(expected.length / 500);
      const headers = rows.filter((r) => r.Id === 'Id');
      assert.equal(headers.length, pages - 1);
      assert.deepEqual(headers[0], { Id: 'Id', Name: 'Name', Email: 'Email', CreatedDate: 'CreatedDate', 'Account.Name': 'Account.Name' });
      const data = rows.filter((r) => r.Id !== 'Id');
      assert.deepEqual(data.map((r) => r.Id).sort(), [...expected].sort());
      assert.ok(data.every((r) => BULK_DATETIME.test(r.CreatedDate!)));
      const withAccount = data.find((r) => r['Account.Name'] !== '')!;
      const contact = emulator.org.get(withAccount.Id!)!;
      assert.equal(withAccount['Account.Name'], emulator.org.get(String(contact.AccountId))!.Name);
    } finally {
      configureBulk(emulator.org, FAST);
    }
  });

  test('queryAll (scanAll) returns records in the Recycle Bin; query does not', async () => {
    const deleted = [...emulator.org.records('Contact')].filter((r) => r.IsDeleted).map((r) => r.Id);
    assert.ok(deleted.length > 0);
    const soql = 'SELECT Id, IsDeleted FROM Contact WHERE IsDeleted = true';
    const all = await records(await conn.bulk2.query(soql, { scanAll: true }));
    assert.deepEqual(all.map((r) => r.Id).sort(), [...deleted].sort());
    assert.ok(all.every((r) => r.IsDeleted === 'true'));
    assert.deepEqual(await records(await conn.bulk2.query(soql)), []);
  });

  test('insert reports successful and failed rows', async () => {
    const name = `Bulk Insert ${Date.now()}`;
    const result = await conn.bulk2.loadAndWaitForResults({
      object: 'Account',
      operation: 'insert',
      input: `Name,NumberOfEmployees,BillingState\n${name},300,CA\n,5,NY\n`,
    });
    assert.equal(result.successfulResults.length, 1);
    const ok = cells(result.successfulResults)[0]!;
    assert.equal(ok.sf__Created, 'true');
    assert.equal(ok.Name, name);
    const stored = emulator.org.get(ok.sf__Id!)!;
    assert.equal(stored.Name, name);
    assert.equal(stored.NumberOfEmployees, 300);
    assert.equal(stored.CreatedById, emulator.org.apiUserId);
    assert.deepEqual(result.failedResults, [
      { sf__Id: '', sf__Error: 'REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --', Name: '', NumberOfEmployees: '5', BillingState: 'NY' },
    ]);
    assert.deepEqual(result.unprocessedRecords, []);
  });

  test('insert from records, as jsforce serialises them', async () => {
    const result = await conn.bulk2.loadAndWaitForResults({
      object: 'Account',
      operation: 'insert',
      input: [{ Name: 'Records A', NumberOfEmployees: 1 }, { Name: 'Records B', NumberOfEmployees: 2 }],
    });
    assert.deepEqual(cells(result.successfulResults).map((r) => [r.Name, r.sf__Created]), [['Records A', 'true'], ['Records B', 'true']]);
    assert.deepEqual(result.failedResults, []);
  });

  test('update leaves empty cells alone, #N/A clears a field, a wrong Id fails the row', async () => {
    const a = insertAccount({ Name: 'Update A', Phone: '111', Website: 'https://a.example' });
    const b = insertAccount({ Name: 'Update B', Phone: '222', Website: 'https://b.example' });
    const contactId = liveIds('Contact')[0]!;
    const result = await conn.bulk2.loadAndWaitForResults({
      object: 'Account',
      operation: 'update',
      input: `Id,Phone,Website\n${a.Id},555,#N/A\n${b.Id},,\n${contactId},1,\n`,
    });
    assert.deepEqual(result.successfulResults.map((r) => [r.sf__Id, r.sf__Created]).sort(), [[a.Id, 'false'], [b.Id, 'false']].sort());
    assert.deepEqual(result.failedResults.map((r) => r.sf__Error), [`MALFORMED_ID:Account ID: id value of incorrect type: ${contactId}:Id --`]);
    assert.equal(emulator.org.get(a.Id)!.Phone, '555');
    assert.equal(emulator.org.get(a.Id)!.Website, null);
    assert.equal(emulator.org.get(b.Id)!.Phone, '222');
    assert.equal(emulator.org.get(b.Id)!.Website, 'https://b.example');
  });

  test('upsert by external ID creates and updates; parents are found by external ID', async () => {
    const existing = [...emulator.org.records('Invoice__c')].find((r) => !r.IsDeleted && r.External_Id__c)!;
    const accountId = String(existing.Account__c);
    const newKey = `BULK-${Date.now()}`;
    const upsert = await conn.bulk2.loadAndWaitForResults({
      object: 'Invoice__c',
      operation: 'upsert',
      externalIdFieldName: 'External_Id__c',
      input:
        'External_Id__c,Account__c,Due_Date__c,Notes__c\n' +
        `${String(existing.External_Id__c)},,,Updated by Bulk\n` +
        `${newKey},${accountId},2030-01-31,Created by Bulk\n` +
        `${newKey}-2,${accountId},,Missing due date\n`,
    });
    const byKey = new Map(cells(upsert.successfulResults).map((r) => [r.External_Id__c, r]));
    assert.equal(byKey.get(String(existing.External_Id__c))!.sf__Created, 'false');
    assert.equal(byKey.get(String(existing.External_Id__c))!.sf__Id, existing.Id);
    assert.equal(byKey.get(newKey)!.sf__Created, 'true');
    assert.equal(emulator.org.get(existing.Id)!.Notes__c, 'Updated by Bulk');
    assert.equal(emulator.org.get(existing.Id)!.Due_Date__c, existing.Due_Date__c);
    assert.deepEqual(upsert.failedResults.map((r) => r.sf__Error), ['REQUIRED_FIELD_MISSING:Required fields are missing: [Due_Date__c]:Due_Date__c --']);

    const lines = await conn.bulk2.loadAndWaitForResults({
      object: 'Invoice_Line__c',
      operation: 'insert',
      input: `Name,Invoice__r.External_Id__c,Quantity__c,Unit_Price__c\nLine 1,${newKey},2,10.5\nLine 2,NO-SUCH-KEY,1,1\n`,
    });
    assert.equal(lines.successfulResults.length, 1);
    assert.equal(emulator.org.get(lines.successfulResults[0]!.sf__Id)!.Invoice__c, byKey.get(newKey)!.sf__Id);
    assert.deepEqual(lines.failedResults.map((r) => r.sf__Error), [
      'INVALID_FIELD:Foreign key external ID: NO-SUCH-KEY not found for field External_Id__c in entity Invoice__c:--',
    ]);
  });

  test('delete sends records to the Recycle Bin; hardDelete purges them', async () => {
    const [a, b, c] = ['Delete A', 'Delete B', 'Delete C'].map((Name) => insertAccount({ Name }));
    const deleted = await conn.bulk2.loadAndWaitForResults({ object: 'Account', operation: 'delete', input: [{ Id: a!.Id }] });
    assert.deepEqual(deleted.successfulResults.map((r) => [r.sf__Id, r.sf__Created]), [[a!.Id, 'false']]);
    assert.equal(emulator.org.isInRecycleBin(a!.Id), true);

    const hard = await conn.bulk2.loadAndWaitForResults({ object: 'Account', operation: 'hardDelete', input: `Id\n${b!.Id}\n${a!.Id}\n` });
    assert.deepEqual(hard.successfulResults.map((r) => r.sf__Id), [b!.Id]);
    assert.deepEqual(hard.failedResults.map((r) => r.sf__Error), ['ENTITY_IS_DELETED:entity is deleted:--']);
    assert.equal(emulator.org.get(b!.Id), undefined);
    assert.equal(emulator.org.isInRecycleBin(b!.Id), false);
    assert.equal(emulator.org.get(c!.Id)!.IsDeleted, false);

    // Children deleted with a record (master-detail) leave the Recycle Bin with it.
    const options = { userId: emulator.org.apiUserId };
    const invoice = emulator.org.insert('Invoice__c', { Account__c: c!.Id, Due_Date__c: '2031-01-01' }, options);
    const line = emulator.org.insert('Invoice_Line__c', { Name: 'Cascade', Invoice__c: invoice.Id }, options);
    const cascade = await conn.bulk2.loadAndWaitForResults({ object: 'Invoice__c', operation: 'hardDelete', input: `Id\n${invoice.Id}\n` });
    assert.equal(cascade.successfulResults.length, 1);
    assert.equal(emulator.org.get(invoice.Id), undefined);
    assert.equal(emulator.org.get(line.Id), undefined);
  });

  test('an empty upload completes with no results', async () => {
    const result = await conn.bulk2.loadAndWaitForResults({ object: 'Account', operation: 'insert', input: [] });
    assert.deepEqual(result, { successfulResults: [], failedResults: [], unprocessedRecords: [] });
  });
});

// ------------------------------------------------------------------------------------ query jobs

describe('query jobs over HTTP', () => {
  test('job info has Salesforce’s fields, in its order, at each step', async () => {
    const created = await http('POST', '/jobs/query', { operation: 'query', query: 'SELECT Id, Name FROM Account' });
    assert.equal(created.status, 200);
    assert.match(created.headers.get('content-type')!, /^application\/json/);
    assert.deepEqual(Object.keys(created.json), ['id', 'operation', 'object', 'createdById', 'createdDate', 'systemModstamp', 'state', 'concurrencyMode', 'contentType', 'apiVersion', 'lineEnding', 'columnDelimiter']);
    assert.match(created.json.id, /^750[A-Za-z0-9]{15}$/);
    assert.equal(created.json.state, 'UploadComplete');
    assert.match(created.json.createdDate, SALESFORCE_DATETIME);
    assert.equal(created.json.createdById, emulator.org.apiUserId);
    assert.deepEqual([created.json.concurrencyMode, created.json.contentType, created.json.lineEnding, created.json.columnDelimiter], ['Parallel', 'CSV', 'LF', 'COMMA']);
    assert.match(created.text, /"apiVersion":62\.0,/);

    const done = await waitFor('query', created.json.id);
    assert.deepEqual(Object.keys(done), [
      'id', 'operation', 'object', 'createdById', 'createdDate', 'systemModstamp', 'state', 'concurrencyMode', 'contentType', 'apiVersion',
      'jobType', 'lineEnding', 'columnDelimiter', 'numberRecordsProcessed', 'retries', 'totalProcessingTime', 'isPkChunkingSupported',
    ]);
    assert.equal(done.jobType, 'V2Query');
    assert.equal(done.numberRecordsProcessed, liveIds('Account').length);
    assert.equal(done.isPkChunkingSupported, true);
  });

  test('results before the job completes answer JOB_NOT_COMPLETE', async () => {
    configureBulk(emulator.org, { stepDelayMs: 2_000 });
    try {
      const created = await http('POST', '/jobs/query', { operation: 'query', query: 'SELECT Id FROM Account' });
      const early = await http('GET', `/jobs/query/${created.json.id}/results`);
      assert.equal(early.status, 400);
      assert.equal(early.json[0].errorCode, 'JOB_NOT_COMPLETE');
      await http('PATCH', `/jobs/query/${created.json.id}`, { state: 'Aborted' });
    } finally {
      configureBulk(emulator.org, FAST);
    }
  });

  test('queries Bulk API 2.0 cannot run are refused when the job is created', async () => {
    const refused: [string, { errorCode: string; message: string }][] = [
      ['SELECT COUNT() FROM Account', BULK_UNSUPPORTED.aggregate],
      ['SELECT Industry, COUNT(Id) FROM Account GROUP BY Industry', BULK_UNSUPPORTED.aggregate],
      ['SELECT Id, (SELECT Id FROM Contacts) FROM Account', BULK_UNSUPPORTED.relationshipSubquery],
      ['SELECT Id, BillingAddress FROM Account', BULK_UNSUPPORTED.compoundField],
      ['SELECT Id FROM Account LIMIT 10 OFFSET 5', BULK_UNSUPPORTED.offset],
      ['SELECT FIELDS(ALL) FROM Account LIMIT 10', BULK_UNSUPPORTED.fieldsFunction],
      ['SELECT Id FROM Customer_Interaction__b', { errorCode: 'INVALIDENTITY', message: "Entity 'Customer_Interaction__b' is not supported by the Bulk API." }],
    ];
    for (const [query, expected] of refused) {
      const reply = await http('POST', '/jobs/query', { operation: 'query', query });
      assert.equal(reply.status, 400, query);
      assert.deepEqual(reply.json, [{ errorCode: expected.errorCode, message: expected.message }], query);
    }
    const badField = await http('POST', '/jobs/query', { operation: 'query', query: 'SELECT Id, Nope__c FROM Account' });
    assert.equal(badField.status, 400);
    assert.equal(badField.json[0].errorCode, 'INVALID_FIELD');
    assert.match(badField.json[0].message, /ERROR at Row:1:Column:12\nNo such column 'Nope__c' on entity 'Account'/);
    const badOperation = await http('POST', '/jobs/query', { operation: 'insert', query: 'SELECT Id FROM Account' });
    assert.equal(badOperation.status, 400);
    assert.equal(badOperation.json[0].errorCode, 'JSON_PARSER_ERROR');
    const badJson = await http('POST', '/jobs/query', '{"operation":', { 'content-type': 'application/json' });
    assert.equal(badJson.json[0].errorCode, 'JSON_PARSER_ERROR');
  });

  test('results are CSV: every value quoted, quotes doubled, null an empty cell', async () => {
    const account = insertAccount({ Name: 'Quote "Q", Inc.\nSecond line', NumberOfEmployees: 12, AnnualRevenue: 1234.5 });
    const id = await completedQuery(`SELECT Id, Name, Phone, NumberOfEmployees, AnnualRevenue, IsDeleted, CreatedDate FROM Account WHERE Id = '${account.Id}'`);
    const reply = await http('GET', `/jobs/query/${id}/results`);
    assert.equal(reply.status, 200);
    assert.match(reply.headers.get('content-type')!, /^text\/csv/);
    assert.equal(reply.headers.get('sforce-locator'), 'null');
    assert.equal(reply.headers.get('sforce-numberofrecords'), '1');
    const created = String(account.CreatedDate).replace('+0000', 'Z');
    // AnnualRevenue has no decimal places: the stored value is rounded, and printed as stored.
    assert.equal(account.AnnualRevenue, 1235);
    assert.equal(
      reply.text,
      '"Id","Name","Phone","NumberOfEmployees","AnnualRevenue","IsDeleted","CreatedDate"\n' +
        `"${account.Id}","Quote ""Q"", Inc.\nSecond line",,"12","1235","false","${created}"\n`,
    );
  });

  test('the job’s column delimiter and line ending shape the CSV', async () => {
    const account = insertAccount({ Name: 'Pipe|And,Comma', Phone: '555 0100' });
    const soql = `SELECT Id, Name, Phone, Fax FROM Account WHERE Id = '${account.Id}'`;
    const pipe = await completedQuery(soql, { columnDelimiter: 'PIPE', lineEnding: 'CRLF' });
    assert.equal((await http('GET', `/jobs/query/${pipe}`)).json.columnDelimiter, 'PIPE');
    assert.equal((await http('GET', `/jobs/query/${pipe}/results`)).text, `"Id"|"Name"|"Phone"|"Fax"\r\n"${account.Id}"|"Pipe|And,Comma"|"555 0100"|\r\n`);
    const tab = await completedQuery(soql, { columnDelimiter: 'TAB' });
    assert.equal((await http('GET', `/jobs/query/${tab}/results`)).text, `"Id"\t"Name"\t"Phone"\t"Fax"\n"${account.Id}"\t"Pipe|And,Comma"\t"555 0100"\t\n`);
    const bad = await http('POST', '/jobs/query', { operation: 'query', query: soql, columnDelimiter: 'COLON' });
    assert.equal(bad.status, 400);
    assert.equal(bad.json[0].errorCode, 'JSON_PARSER_ERROR');
  });

  test('parent paths and toLabel are printed like plain columns', async () => {
    const contact = [...emulator.org.records('Contact')].find((r) => !r.IsDeleted && r.AccountId)!;
    const account = emulator.org.get(String(contact.AccountId))!;
    const id = await completedQuery(`SELECT Id, Account.Name, Account.CreatedDate, toLabel(LeadSource) FROM Contact WHERE Id = '${contact.Id}'`);
    const [header, row] = (await http('GET', `/jobs/query/${id}/results`)).text.split('\n');
    assert.equal(header, '"Id","Account.Name","Account.CreatedDate","LeadSource"');
    const leadSource = contact.LeadSource === null || contact.LeadSource === undefined ? '' : `"${String(contact.LeadSource)}"`;
    assert.equal(row, `"${contact.Id}","${String(account.Name)}","${String(account.CreatedDate).replace('+0000', 'Z')}",${leadSource}`);
  });

  test('a job that can no longer run fails with an errorMessage', async () => {
    configureBulk(emulator.org, { stepDelayMs: 300 });
    try {
      const created = await http('POST', '/jobs/query', { operation: 'query', query: 'SELECT Id FROM Lead' });
      assert.equal(created.status, 200);
      // The user loses access to the object between creation and the run.
      emulator.org.access.setObjectRead('Lead', false);
      const failed = await waitFor('query', created.json.id);
      assert.equal(failed.state, 'Failed');
      assert.match(failed.errorMessage, /^INVALID_TYPE: /);
      assert.equal((await http('GET', `/jobs/query/${created.json.id}/results`)).json[0].errorCode, 'JOB_NOT_COMPLETE');
    } finally {
      emulator.org.access.setObjectRead('Lead', true);
      configureBulk(emulator.org, FAST);
    }
  });

  test('pages follow Sforce-Locator to the literal null', async () => {
    const expected = liveIds('Contact');
    const id = await completedQuery('SELECT Id FROM Contact');
    const seen: string[] = [];
    const locators: string[] = [];
    let locator: string | null = null;
    for (;;) {
      const reply: Reply = await http('GET', `/jobs/query/${id}/results?maxRecords=1000${locator ? `&locator=${locator}` : ''}`);
      assert.equal(reply.status, 200);
      const lines = reply.text.trimEnd().split('\n');
      assert.equal(lines[0], '"Id"', 'every page starts with the header row');
      assert.equal(Number(reply.headers.get('sforce-numberofrecords')), lines.length - 1);
      seen.push(...lines.slice(1).map((l) => l.slice(1, -1)));
      locator = reply.headers.get('sforce-locator');
      assert.ok(locator);
      if (locator === 'null') break;
      locators.push(locator);
    }
    assert.deepEqual(seen.sort(), [...expected].sort());
    assert.equal(locators.length, Math.ceil(expected.length / 1000) - 1);
    assert.equal(locators[0], 'MTAwMA', 'base64 of the next row, like Salesforce’s MTAwMDA');
    // A locator can be used again as long as the job exists.
    const again = await http('GET', `/jobs/query/${id}/results?maxRecords=1000&locator=${locators[0]}`);
    assert.equal(again.headers.get('sforce-locator'), locators[1] ?? 'null');
    assert.equal((await http('GET', `/jobs/query/${id}/results?locator=not-a-locator!`)).status, 400);
    assert.equal((await http('GET', `/jobs/query/${id}/results?maxRecords=0`)).status, 400);
  });

  test('the result set is a snapshot taken when the job ran', async () => {
    const soql = "SELECT Id FROM Account WHERE Name LIKE 'Snapshot %'";
    insertAccount({ Name: 'Snapshot 1' });
    const id = await completedQuery(soql);
    insertAccount({ Name: 'Snapshot 2' });
    const first = await http('GET', `/jobs/query/${id}/results`);
    assert.equal(first.headers.get('sforce-numberofrecords'), '1');
    const later = await completedQuery(soql);
    assert.equal((await http('GET', `/jobs/query/${later}/results`)).headers.get('sforce-numberofrecords'), '2');
  });

  test('abort and delete follow Salesforce’s state rules', async () => {
    configureBulk(emulator.org, { stepDelayMs: 2_000 });
    let pending: Reply;
    try {
      pending = await http('POST', '/jobs/query', { operation: 'query', query: 'SELECT Id FROM Account' });
      const notTerminated = await http('DELETE', `/jobs/query/${pending.json.id}`);
      assert.equal(notTerminated.status, 400);
      assert.deepEqual(notTerminated.json, [{ errorCode: 'API_ERROR', message: 'Error encountered when deleting the job because the job is not terminated' }]);
      const aborted = await http('PATCH', `/jobs/query/${pending.json.id}`, { state: 'Aborted' });
      assert.equal(aborted.status, 200);
      assert.equal(aborted.json.state, 'Aborted');
      assert.deepEqual(Object.keys(aborted.json), ['id', 'operation', 'object', 'createdById', 'createdDate', 'systemModstamp', 'state', 'concurrencyMode', 'contentType', 'apiVersion']);
      const again = await http('PATCH', `/jobs/query/${pending.json.id}`, { state: 'Aborted' });
      assert.deepEqual(again.json, [{ errorCode: 'INVALIDJOBSTATE', message: 'Aborting already Aborted Job not allowed' }]);
    } finally {
      configureBulk(emulator.org, FAST);
    }
    const completed = await completedQuery('SELECT Id FROM Account LIMIT 1');
    const abortCompleted = await http('PATCH', `/jobs/query/${completed}`, { state: 'Aborted' });
    assert.equal(abortCompleted.status, 400);
    assert.deepEqual(abortCompleted.json, [{ errorCode: 'INVALIDJOBSTATE', message: 'Aborting already Completed Job not allowed' }]);
    const reopen = await http('PATCH', `/jobs/query/${completed}`, { state: 'UploadComplete' });
    assert.equal(reopen.status, 400);
    assert.equal(reopen.json[0].errorCode, 'INVALIDJOBSTATE');
    const results = await http('GET', `/jobs/query/${pending.json.id}/results`);
    assert.equal(results.json[0].errorCode, 'JOB_NOT_COMPLETE');

    for (const id of [completed, pending.json.id]) {
      const deleted = await http('DELETE', `/jobs/query/${id}`);
      assert.equal(deleted.status, 204);
      assert.equal(deleted.text, '');
      assert.equal((await http('GET', `/jobs/query/${id}`)).status, 404);
    }
  });

  test('unknown jobs, and jobs of the other kind, are NOT_FOUND', async () => {
    const ingestJob = await http('POST', '/jobs/ingest', { object: 'Account', operation: 'insert' });
    for (const [method, path] of [
      ['GET', '/jobs/query/7505g00000ZZZZZAAA'],
      ['GET', '/jobs/query/7505g00000ZZZZZAAA/results'],
      ['PATCH', '/jobs/query/7505g00000ZZZZZAAA'],
      ['DELETE', '/jobs/query/7505g00000ZZZZZAAA'],
      ['GET', `/jobs/query/${ingestJob.json.id}`],
      ['GET', '/jobs/ingest/7505g00000ZZZZZAAA'],
      ['GET', '/jobs/ingest/7505g00000ZZZZZAAA/successfulResults'],
    ] as const) {
      const reply = await http(method, path, method === 'PATCH' ? { state: 'Aborted' } : undefined);
      assert.equal(reply.status, 404, `${method} ${path}`);
      assert.deepEqual(reply.json, NOT_FOUND);
    }
    const upload = await http('PUT', '/jobs/ingest/7505g00000ZZZZZAAA/batches', 'Name\nx\n', { 'content-type': 'text/csv' });
    assert.equal(upload.status, 404);
    const wrongMethod = await http('PUT', '/jobs/query');
    assert.equal(wrongMethod.status, 405);
    assert.deepEqual(wrongMethod.json, [{ errorCode: 'METHOD_NOT_ALLOWED', message: "HTTP Method 'PUT' not allowed. Allowed are POST,GET" }]);
  });

  test('GET /jobs/query lists jobs a page at a time and counts toward DailyBulkV2QueryJobs', async () => {
    const before = bulkUsage(emulator.org).queryJobs.used;
    const created = await Promise.all(Array.from({ length: 12 }, () => http('POST', '/jobs/query', { operation: 'query', query: 'SELECT Id FROM Account LIMIT 1' })));
    assert.ok(created.every((r) => r.status === 200));
    const usage = bulkUsage(emulator.org).queryJobs;
    assert.deepEqual(usage, { max: 10_000, used: before + 12 });

    // Salesforce pages by 1,000; a small page shows the paging without creating a thousand jobs.
    configureBulk(emulator.org, { listPageSize: 5 });
    try {
      const total = (await http('GET', '/jobs/query')).json.records.length;
      const first = await http('GET', '/jobs/query');
      assert.equal(first.status, 200);
      assert.deepEqual(Object.keys(first.json), ['done', 'records', 'nextRecordsUrl']);
      assert.equal(first.json.done, false);
      assert.deepEqual(Object.keys(first.json.records[0]), [
        'id', 'operation', 'object', 'createdById', 'createdDate', 'systemModstamp', 'state', 'concurrencyMode', 'contentType', 'apiVersion', 'jobType', 'lineEnding', 'columnDelimiter',
      ]);
      // Salesforce's own examples point the query list's continuation at /jobs/ingest.
      assert.match(first.json.nextRecordsUrl, /^\/services\/data\/v62\.0\/jobs\/ingest\?queryLocator=01g[0-9A-Za-z]{15}-5$/);
      const all: Json[] = [...first.json.records];
      let next: string | null = first.json.nextRecordsUrl;
      while (next) {
        const page = await http('GET', next);
        assert.equal(page.status, 200, page.text);
        all.push(...page.json.records);
        assert.equal(page.json.done, page.json.nextRecordsUrl === null);
        next = page.json.nextRecordsUrl;
      }
      assert.ok(all.length >= 12);
      assert.equal(total, 5);
      assert.ok(all.every((j) => j.jobType === 'V2Query'));
      assert.equal(new Set(all.map((j) => j.id)).size, all.length);
      assert.equal((await http('GET', '/jobs/query?queryLocator=01gAAAAAAAAAAAAAAA-5')).json[0].errorCode, 'INVALID_QUERY_LOCATOR');
    } finally {
      configureBulk(emulator.org, FAST);
    }
    assert.deepEqual((await http('GET', '/jobs/query?jobType=V2Ingest')).json.records, []);
    assert.deepEqual((await http('GET', '/jobs/query?isPkChunkingEnabled=true')).json.records, []);
    const ingestList = await http('GET', '/jobs/ingest?jobType=V2Ingest');
    assert.ok(ingestList.json.records.length > 0);
    assert.ok(ingestList.json.records.every((j: Json) => j.jobType === 'V2Ingest'));
  });

  test('results must be fetched with the API version the job was created with', async () => {
    const id = await completedQuery('SELECT Id FROM Account LIMIT 1');
    const other = await http('GET', `/services/data/v61.0/jobs/query/${id}/results`);
    assert.equal(other.status, 409);
  });
});

// ------------------------------------------------------------------------------------ ingest jobs

describe('ingest jobs over HTTP', () => {
  test('lifecycle and job info shapes', async () => {
    const created = await http('POST', '/jobs/ingest', { object: 'account', operation: 'insert', lineEnding: 'LF' });
    assert.equal(created.status, 200);
    assert.deepEqual(Object.keys(created.json), ['id', 'operation', 'object', 'createdById', 'createdDate', 'systemModstamp', 'state', 'concurrencyMode', 'contentType', 'apiVersion', 'contentUrl', 'lineEnding', 'columnDelimiter']);
    assert.equal(created.json.object, 'Account');
    assert.equal(created.json.state, 'Open');
    assert.equal(created.json.contentUrl, `services/data/v62.0/jobs/ingest/${created.json.id}/batches`);
    const id = created.json.id;

    const open = await http('GET', `/jobs/ingest/${id}`);
    assert.deepEqual(Object.keys(open.json), [
      'id', 'operation', 'object', 'createdById', 'createdDate', 'systemModstamp', 'state', 'concurrencyMode', 'contentType', 'apiVersion',
      'jobType', 'contentUrl', 'lineEnding', 'columnDelimiter', 'retries', 'totalProcessingTime', 'apiActiveProcessingTime', 'apexProcessingTime',
    ]);
    const upload = await http('PUT', `/jobs/ingest/${id}/batches`, 'Name\nLifecycle 1\nLifecycle 2\n', { 'content-type': 'text/csv' });
    assert.equal(upload.status, 201);
    assert.equal(upload.text, '');
    const closed = await http('PATCH', `/jobs/ingest/${id}`, { state: 'UploadComplete' });
    assert.deepEqual(Object.keys(closed.json), ['id', 'operation', 'object', 'createdById', 'createdDate', 'systemModstamp', 'state', 'concurrencyMode', 'contentType', 'apiVersion']);
    assert.equal(closed.json.state, 'UploadComplete');
    const done = await waitFor('ingest', id);
    assert.deepEqual(Object.keys(done), [
      'id', 'operation', 'object', 'createdById', 'createdDate', 'systemModstamp', 'state', 'concurrencyMode', 'contentType', 'apiVersion', 'jobType',
      'lineEnding', 'columnDelimiter', 'numberRecordsProcessed', 'numberRecordsFailed', 'retries', 'totalProcessingTime', 'apiActiveProcessingTime', 'apexProcessingTime',
    ]);
    assert.deepEqual([done.state, done.jobType, done.numberRecordsProcessed, done.numberRecordsFailed], ['JobComplete', 'V2Ingest', 2, 0]);
    assert.match(done.systemModstamp, SALESFORCE_DATETIME);
  });

  test('result files echo the uploaded columns, in the job’s delimiter and line ending', async () => {
    const csv = 'Name;Phone\r\n"Semi; Colon";555\r\n;556\r\n';
    const { id, info } = await ingest({ object: 'Account', operation: 'insert', columnDelimiter: 'SEMICOLON', lineEnding: 'CRLF' }, csv);
    assert.deepEqual([info.numberRecordsProcessed, info.numberRecordsFailed], [2, 1]);
    const ok = await http('GET', `/jobs/ingest/${id}/successfulResults`);
    assert.match(ok.headers.get('content-type')!, /^text\/csv/);
    const newId = [...emulator.org.records('Account')].find((r) => r.Name === 'Semi; Colon')!.Id;
    assert.equal(ok.text, `"sf__Id";"sf__Created";Name;Phone\r\n"${newId}";"true";"Semi; Colon";"555"\r\n`);
    const failed = await http('GET', `/jobs/ingest/${id}/failedResults`);
    assert.equal(failed.text, '"sf__Id";"sf__Error";Name;Phone\r\n"";"REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --";"";"556"\r\n');
    assert.equal((await http('GET', `/jobs/ingest/${id}/unprocessedrecords`)).text, 'Name;Phone\r\n');
  });

  test('a row fails with the error a REST write of the same record gets', async () => {
    const name = 'x'.repeat(300);
    const rest = await http('POST', '/sobjects/Account', { Name: name, NumberOfEmployees: 'many' });
    assert.equal(rest.status, 400);
    const { id } = await ingest({ object: 'Account', operation: 'insert' }, `Name,NumberOfEmployees\n${name},many\n`);
    const failed = await http('GET', `/jobs/ingest/${id}/failedResults`);
    const error = rest.json[0];
    const fields = (error.fields ?? []).map((f: string) => `${f} `).join('');
    assert.ok(failed.text.includes(`"${error.errorCode}:${error.message}:${fields}--"`), failed.text);
  });

  test('an unknown column fails the whole job', async () => {
    const { id, info } = await ingest({ object: 'Account', operation: 'insert' }, 'Name,Nope__c\nA,1\nB,2\n');
    assert.equal(info.state, 'Failed');
    assert.equal(info.errorMessage, 'InvalidBatch : Field name not found : Nope__c');
    assert.equal(info.numberRecordsProcessed, 0);
    assert.equal((await http('GET', `/jobs/ingest/${id}/unprocessedrecords`)).text, 'Name,Nope__c\n"A","1"\n"B","2"\n');
  });

  test('creation errors', async () => {
    const unknown = await http('POST', '/jobs/ingest', { object: 'Nope__c', operation: 'insert' });
    assert.deepEqual([unknown.status, unknown.json], [400, [{ errorCode: 'INVALIDJOB', message: 'Unable to find object: Nope__c' }]]);
    const noKey = await http('POST', '/jobs/ingest', { object: 'Account', operation: 'upsert' });
    assert.deepEqual(noKey.json, [{ errorCode: 'INVALIDJOB', message: 'External ID was blank for Account. An External ID must be specified for upsert.' }]);
    const badKey = await http('POST', '/jobs/ingest', { object: 'Account', operation: 'upsert', externalIdFieldName: 'Name' });
    assert.deepEqual(badKey.json, [{ errorCode: 'INVALIDJOB', message: 'Field name provided, Name does not match an External ID, Salesforce Id, or indexed field for Account' }]);
    const badOperation = await http('POST', '/jobs/ingest', { object: 'Account', operation: 'merge' });
    assert.equal(badOperation.json[0].errorCode, 'JSON_PARSER_ERROR');
  });

  test('state errors: uploads and closing only while Open, one upload per job', async () => {
    const created = await http('POST', '/jobs/ingest', { object: 'Account', operation: 'insert' });
    const id: string = created.json.id;
    const notCsv = await http('PUT', `/jobs/ingest/${id}/batches`, '{"Name":"x"}', { 'content-type': 'application/json' });
    assert.equal(notCsv.status, 415);
    const deleteOpen = await http('DELETE', `/jobs/ingest/${id}`);
    assert.equal(deleteOpen.json[0].errorCode, 'API_ERROR');
    await http('PUT', `/jobs/ingest/${id}/batches`, 'Name\nOne\n', { 'content-type': 'text/csv' });
    await http('PUT', `/jobs/ingest/${id}/batches`, 'Name\nTwo\n', { 'content-type': 'text/csv' });
    const twice = await http('PATCH', `/jobs/ingest/${id}`, { state: 'UploadComplete' });
    assert.equal(twice.status, 400);
    assert.deepEqual(twice.json, [{
      errorCode: 'INVALIDJOB',
      message: `Found multipe contents for job: <${id.slice(0, 15)}>, please 'Close' / 'Abort' / 'Delete' the current Job then create a new Job and make sure you only do 'PUT' once on a given Job.`,
    }]);
    const aborted = await http('PATCH', `/jobs/ingest/${id}`, { state: 'Aborted' });
    assert.equal(aborted.json.state, 'Aborted');
    // Never processed: the data comes back as uploaded, and nothing was written.
    assert.equal((await http('GET', `/jobs/ingest/${id}/unprocessedrecords`)).text, 'Name\nOne\n');
    assert.equal((await http('GET', `/jobs/ingest/${id}/successfulResults`)).text, '"sf__Id","sf__Created",Name\n');
    const afterAbort = await http('PUT', `/jobs/ingest/${id}/batches`, 'Name\nThree\n', { 'content-type': 'text/csv' });
    assert.equal(afterAbort.json[0].errorCode, 'INVALIDJOBSTATE');
    const close = await http('PATCH', `/jobs/ingest/${id}`, { state: 'UploadComplete' });
    assert.equal(close.json[0].errorCode, 'INVALIDJOBSTATE');
    const abortAgain = await http('PATCH', `/jobs/ingest/${id}`, { state: 'Aborted' });
    assert.deepEqual(abortAgain.json, [{ errorCode: 'INVALIDJOBSTATE', message: 'Aborting already Aborted Job not allowed' }]);
    assert.equal((await http('DELETE', `/jobs/ingest/${id}`)).status, 204);

    const { id: done } = await ingest({ object: 'Account', operation: 'insert' }, 'Name\nState Errors\n');
    const abortDone = await http('PATCH', `/jobs/ingest/${done}`, { state: 'Aborted' });
    assert.deepEqual(abortDone.json, [{ errorCode: 'INVALIDJOBSTATE', message: 'Aborting already Completed Job not allowed' }]);
  });

  test('a multipart request creates, uploads and closes in one call', async () => {
    const form = new FormData();
    form.append('job', new Blob([JSON.stringify({ object: 'Contact', contentType: 'CSV', operation: 'insert', lineEnding: 'LF' })], { type: 'application/json' }));
    form.append('content', new Blob(['FirstName,LastName\nAstro,Nomical\nHootie,McOwl\n'], { type: 'text/csv' }), 'content');
    const created = await http('POST', '/jobs/ingest', form);
    assert.equal(created.status, 200, created.text);
    assert.equal(created.json.state, 'UploadComplete');
    const done = await waitFor('ingest', created.json.id);
    assert.deepEqual([done.state, done.numberRecordsProcessed, done.numberRecordsFailed], ['JobComplete', 2, 0]);
  });
});
