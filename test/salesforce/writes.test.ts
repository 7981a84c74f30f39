// The write methods of the OrgClient port against an in-process emulator: sObject Collections
// creates and updates, SOAP undelete, Bulk API 2.0 ingest jobs and multipart file uploads. Each
// gives one result per record, in order, with Salesforce's status codes; creates are never sent
// twice once they may have reached the org; and every call is counted as the org counts it.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, beforeEach, describe, test } from 'node:test';
import { SalesforceApiError } from '../../src/core/errors.ts';
import type { OrgClient, RecordWriteResult, SObjectRecord } from '../../src/core/org-client.ts';
import { parseRowError } from '../../src/salesforce/ingest.ts';
import { connectOrg } from '../../src/salesforce/index.ts';
import { FAST, collect, startHarness } from './harness.ts';
import type { Harness } from './harness.ts';

interface Statistics {
  byClient?: Record<string, number>;
  byEndpoint?: Record<string, number>;
}

interface FaultState {
  faults: { name: string; calls: number; fired: number }[];
}

const isApiError = (code: string) => (e: unknown) => {
  assert.ok(e instanceof SalesforceApiError, String(e));
  assert.equal(e.statusCode, code, e.message);
  return true;
};

function okId(result: RecordWriteResult | undefined): string {
  assert.ok(result?.ok, `expected success, got ${JSON.stringify(result)}`);
  return result.id;
}

function failure(result: RecordWriteResult | undefined): { statusCode: string; message: string; fields: string[] } {
  assert.ok(result && !result.ok, `expected failure, got ${JSON.stringify(result)}`);
  assert.ok(result.errors.length >= 1);
  return result.errors[0]!;
}

async function bytesOf(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

describe('record writes', () => {
  let h: Harness;
  let org: OrgClient;
  let run = 0;
  const lines: string[] = [];
  before(async () => {
    h = await startHarness('demo');
    org = await connectOrg(h.passwordAuth, { ...FAST, log: (line) => lines.push(line) });
  });
  after(() => h.close());
  beforeEach(async () => {
    await h.clearFaults();
    lines.length = 0;
    run++;
  });

  const stats = async (): Promise<number> => (await h.admin<Statistics>('GET', '/statistics')).byClient?.orgvault ?? 0;
  const fired = async (): Promise<number[]> => (await h.admin<FaultState>('GET', '/faults')).faults.map((f) => f.fired);

  /** Deletes records as another API client would, so that they sit in the Recycle Bin. */
  async function deleteDirectly(ids: string[]): Promise<void> {
    const token = h.emu.context.sessions.issue(h.emu.org.apiUserId, h.emu.info.clientId).accessToken;
    const response = await fetch(`${h.emu.info.instanceUrl}/services/data/v62.0/composite/sobjects?ids=${ids.join(',')}&allOrNone=true`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
    assert.equal(response.status, 200, await response.text());
  }

  async function byId(soql: string): Promise<Map<string, SObjectRecord>> {
    return new Map((await collect(org.query(soql, { includeDeleted: true }))).map((r) => [String(r.Id), r]));
  }

  test('createRecords writes 250 records in two calls, results in input order', async () => {
    const records = Array.from({ length: 250 }, (_, i) => ({ Name: `Writes ${run} Account ${String(i).padStart(3, '0')}`, NumberOfEmployees: i }));
    const calls = org.usage().calls;
    const results = await org.createRecords('Account', records);
    assert.equal(org.usage().calls - calls, 2, 'collections of 200');
    assert.equal(results.length, 250);
    const ids = results.map(okId);
    assert.equal(new Set(ids).size, 250);
    const saved = await byId(`SELECT Id, Name, NumberOfEmployees FROM Account WHERE Name LIKE 'Writes ${run} Account %'`);
    ids.forEach((id, i) => {
      assert.equal(saved.get(id)?.Name, records[i]!.Name);
      assert.equal(saved.get(id)?.NumberOfEmployees, i);
    });
    assert.deepEqual(await org.createRecords('Account', []), []);
  });

  test('per-record failures come back in place among the successes', async () => {
    const results = await org.createRecords('Account', [
      { Name: `Writes ${run} fine 1` },
      { Phone: '555-0100' },
      { Name: `Writes ${run} customer without phone`, Type: 'Customer - Direct' },
      { Name: `Writes ${run} fine 2`, Type: 'Customer - Direct', Phone: '555-0101' },
      { Name: `Writes ${run} bad field`, No_Such_Field__c: 1 },
    ]);
    assert.equal(results.length, 5);
    okId(results[0]);
    const missing = failure(results[1]);
    assert.equal(missing.statusCode, 'REQUIRED_FIELD_MISSING');
    assert.deepEqual(missing.fields, ['Name']);
    const rule = failure(results[2]);
    assert.equal(rule.statusCode, 'FIELD_CUSTOM_VALIDATION_EXCEPTION');
    assert.equal(rule.message, 'Customer accounts need a phone number.');
    assert.deepEqual(rule.fields, ['Phone']);
    okId(results[3]);
    assert.equal(failure(results[4]).statusCode, 'INVALID_FIELD');
  });

  test('updateRecords updates by Id, with failures in place', async () => {
    const created = (await org.createRecords('Account', [{ Name: `Writes ${run} A` }, { Name: `Writes ${run} B` }, { Name: `Writes ${run} C` }])).map(okId);
    const results = await org.updateRecords('Account', [
      { Id: created[0], Description: 'updated', NumberOfEmployees: 42 },
      { Id: created[1], Type: 'Customer - Channel', Phone: null },
      { Id: created[2], Name: null },
      { Description: 'no id' },
    ]);
    assert.equal(okId(results[0]), created[0]);
    assert.equal(failure(results[1]).statusCode, 'FIELD_CUSTOM_VALIDATION_EXCEPTION');
    assert.equal(failure(results[2]).statusCode, 'REQUIRED_FIELD_MISSING');
    assert.equal(failure(results[3]).statusCode, 'MISSING_ARGUMENT');
    const saved = await byId(`SELECT Id, Description, NumberOfEmployees, Type FROM Account WHERE Id IN ('${created.join("','")}')`);
    assert.equal(saved.get(created[0]!)?.Description, 'updated');
    assert.equal(saved.get(created[0]!)?.NumberOfEmployees, 42);
    assert.equal(saved.get(created[1]!)?.Type, null);
  });

  test('allowDuplicates saves past an alerting duplicate rule', async () => {
    const name = `Writes ${run} Duplicate`;
    okId((await org.createRecords('Account', [{ Name: name }]))[0]);
    const blocked = failure((await org.createRecords('Account', [{ Name: name }]))[0]);
    assert.equal(blocked.statusCode, 'DUPLICATES_DETECTED');
    okId((await org.createRecords('Account', [{ Name: name }], { allowDuplicates: true }))[0]);
    const [first, second] = [...(await byId(`SELECT Id FROM Account WHERE Name = '${name}'`)).keys()];
    assert.ok(first && second);
    assert.equal(failure((await org.updateRecords('Account', [{ Id: second, Description: 'still a duplicate' }]))[0]).statusCode, 'DUPLICATES_DETECTED');
    okId((await org.updateRecords('Account', [{ Id: second, Description: 'still a duplicate' }], { allowDuplicates: true }))[0]);
  });

  test('undeleteRecords brings records back from the Recycle Bin, failures per ID', async () => {
    const leads = (await org.createRecords('Lead', Array.from({ length: 3 }, (_, i) => ({ LastName: `Writes ${run} Lead ${i}`, Company: 'Undelete Co' })))).map(okId);
    await deleteDirectly(leads);
    const live = okId((await org.createRecords('Lead', [{ LastName: `Writes ${run} Live`, Company: 'Undelete Co' }]))[0]);
    await h.admin('POST', `/records/${leads[2]}/purge`);
    const results = await org.undeleteRecords([leads[0]!, live, leads[1]!, leads[2]!]);
    assert.equal(results.length, 4);
    assert.equal(okId(results[0]), leads[0]);
    const notDeleted = failure(results[1]);
    assert.equal(notDeleted.statusCode, 'UNDELETE_FAILED');
    assert.match(notDeleted.message, /recycle bin/i);
    assert.equal(okId(results[2]), leads[1]);
    assert.equal(failure(results[3]).statusCode, 'INVALID_CROSS_REFERENCE_KEY');
    const saved = await byId(`SELECT Id, IsDeleted FROM Lead WHERE Id IN ('${leads.join("','")}')`);
    assert.equal(saved.get(leads[0]!)?.IsDeleted, false);
    assert.equal(saved.get(leads[1]!)?.IsDeleted, false);
    assert.equal(saved.has(leads[2]!), false);
    assert.deepEqual(await org.undeleteRecords([]), []);
  });

  test('undelete sends 200 IDs a call and logs in again once when the session is gone', async () => {
    const leads = (await org.createRecords('Lead', Array.from({ length: 201 }, (_, i) => ({ LastName: `Writes ${run} Bulk Lead ${i}`, Company: 'Undelete Co' })))).map(okId);
    for (let i = 0; i < leads.length; i += 200) await deleteDirectly(leads.slice(i, i + 200));
    await h.admin('POST', '/sessions/revoke');
    const before = await stats();
    const calls = org.usage().calls;
    const results = await org.undeleteRecords(leads);
    assert.deepEqual(results.map(okId), leads);
    assert.ok(lines.some((l) => /logging in again/.test(l)), 'the SOAP fault renewed the session');
    assert.equal(org.usage().calls - calls, 2, 'two SOAP calls charged; the refused one is not');
    assert.equal((await stats()) - before, 2);
    const usage = org.usage();
    assert.ok(usage.orgUsed !== null && usage.orgUsed > 0, 'LimitInfoHeader read');
  });

  test('SOAP faults carry their code', async () => {
    await h.fault({
      kind: 'error',
      match: 'POST /services/Soap/u/**',
      status: 500,
      times: 1,
      body: '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:sf="urn:fault.partner.soap.sforce.com"><soapenv:Body><soapenv:Fault><faultcode>sf:INVALID_TYPE</faultcode><faultstring>INVALID_TYPE: sObject type &apos;Nope&apos; is not supported.</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>',
      contentType: 'text/xml',
    });
    await assert.rejects(org.undeleteRecords(['00Q000000000001AAA']), (e: unknown) => {
      isApiError('INVALID_TYPE')(e);
      assert.match((e as Error).message, /sObject type 'Nope' is not supported/);
      return true;
    });
    assert.deepEqual(await fired(), [1], 'a fault that is not transient is not retried');
  });

  test('a create that may have reached the org is not sent again; an update is', async () => {
    await h.fault({ kind: 'drop', match: 'POST /services/data/*/composite/sobjects', times: 1 });
    await assert.rejects(org.createRecords('Account', [{ Name: `Writes ${run} dropped` }]), isApiError('CONNECTION_ERROR'));
    assert.deepEqual(await fired(), [1], 'sent once');
    await h.clearFaults();

    // A 503 or a lock error is answered instead of the request: safe to send again.
    await h.fault([
      { kind: 'error', match: 'POST /services/data/*/composite/sobjects', status: 503, times: 1 },
      { kind: 'error', match: 'POST /services/data/*/composite/sobjects', status: 400, times: 1, body: '[{"message":"unable to obtain exclusive access to this record","errorCode":"UNABLE_TO_LOCK_ROW"}]', name: 'lock' },
    ]);
    const [created] = await org.createRecords('Account', [{ Name: `Writes ${run} resent` }]);
    const id = okId(created);
    assert.deepEqual(await fired(), [1, 1]);
    await h.clearFaults();

    // A 502 from the edge may come after the records were saved.
    await h.fault({ kind: 'error', match: 'POST /services/data/*/composite/sobjects', status: 502, times: 1 });
    await assert.rejects(org.createRecords('Account', [{ Name: `Writes ${run} edge` }]), isApiError('HTTP_502'));
    await h.clearFaults();

    await h.fault({ kind: 'drop', match: 'PATCH /services/data/*/composite/sobjects', times: 1 });
    assert.equal(okId((await org.updateRecords('Account', [{ Id: id, Description: 'after a drop' }]))[0]), id);
    assert.deepEqual(await fired(), [1]);
    await h.clearFaults();

    await h.fault({ kind: 'drop', match: 'POST /services/data/*/sobjects/Attachment', times: 1 });
    await assert.rejects(
      org.createWithBody({ objectName: 'Attachment', fields: { Name: 'a.txt', ParentId: id }, bodyField: 'Body', fileName: 'a.txt', body: async function* () { yield Buffer.from('x'); } }),
      isApiError('CONNECTION_ERROR'),
    );
    assert.deepEqual(await fired(), [1]);
    const names = await collect(org.query(`SELECT Id FROM Account WHERE Name IN ('Writes ${run} dropped', 'Writes ${run} edge')`));
    assert.equal(names.length, 0, 'the faults answered before the org saved anything');
  });

  test('createWithBody uploads a ContentVersion linked to its record, and an Attachment', async () => {
    const account = okId((await org.createRecords('Account', [{ Name: `Writes ${run} Files` }]))[0]);
    const body = randomBytes(300_000);
    const chunks = [body.subarray(0, 1000), body.subarray(1000, 200_000), body.subarray(200_000)];
    const version = await org.createWithBody({
      objectName: 'ContentVersion',
      fields: { Title: 'Quarterly "report"', PathOnClient: 'report, final.pdf', FirstPublishLocationId: account },
      bodyField: 'VersionData',
      fileName: 'report, "final".pdf',
      body: async function* () {
        yield* chunks;
      },
    });
    const versionId = okId(version);
    assert.match(versionId, /^068/);
    assert.deepEqual(await bytesOf(org.downloadBody('ContentVersion', versionId, 'VersionData')), body);
    const [saved] = await collect(org.query(`SELECT Title, ContentDocumentId, ContentSize FROM ContentVersion WHERE Id = '${versionId}'`));
    assert.equal(saved?.Title, 'Quarterly "report"');
    assert.equal(saved?.ContentSize, body.length);
    const links = await collect(org.query(`SELECT LinkedEntityId FROM ContentDocumentLink WHERE ContentDocumentId = '${String(saved?.ContentDocumentId)}'`));
    assert.ok(links.some((l) => l.LinkedEntityId === account), 'linked to FirstPublishLocationId');

    const text = Buffer.from('plain text attachment\n');
    const attachment = okId(await org.createWithBody({ objectName: 'Attachment', fields: { Name: 'notes.txt', ParentId: account, ContentType: 'text/plain' }, bodyField: 'Body', fileName: 'notes.txt', body: async function* () { yield text; } }));
    assert.deepEqual(await bytesOf(org.downloadBody('Attachment', attachment, 'Body')), text);

    const refused = await org.createWithBody({ objectName: 'Attachment', fields: { Name: 'orphan.txt' }, bodyField: 'Body', fileName: 'orphan.txt', body: async function* () { yield text; } });
    assert.equal(failure(refused).statusCode, 'REQUIRED_FIELD_MISSING');
  });

  test('ingest inserts with failures matched to their records, values of each type round-tripping', async () => {
    await h.admin('POST', '/behaviours', { kind: 'validationRule', object: 'Project__c', name: 'Writes_Budget_Not_Negative', formula: 'Budget__c < 0', message: 'The budget cannot be negative.', errorField: 'Budget__c' });
    const fields = (await org.describeObject('Project__c')).fields;
    const tag = `Writes ${run}`;
    const records: SObjectRecord[] = [
      { Name: `${tag} plain`, Start_Date__c: '2024-02-29', Budget__c: 1234.5, Progress__c: 12.25, Is_Billable__c: true, Status__c: 'Active' },
      { Name: `${tag} "quoted", with comma`, Description__c: 'line one\nline two, "quoted"\n', Is_Billable__c: false, Budget__c: 0.0000001 },
      { Name: 'x'.repeat(81), Budget__c: 10 },
      { Name: `${tag} negative`, Budget__c: -5 },
      { Name: `${tag} twin`, Budget__c: 7 },
      { Name: `${tag} twin`, Budget__c: 7 },
      { Name: `${tag} nulls`, Start_Date__c: null, Contact_Email__c: 'someone@example.com', Technologies__c: 'Apex;Flow', attributes: { type: 'Project__c' } },
      { Name: `  ${tag} spaced  `, Budget__c: 12345678901234.5 },
    ];
    const calls = org.usage().calls;
    const before = await stats();
    const results = await org.ingest('Project__c', 'insert', records, fields);
    assert.equal(org.usage().calls - calls, (await stats()) - before, 'every Bulk call counted');
    assert.equal(results.length, records.length);
    const tooLong = failure(results[2]);
    assert.equal(tooLong.statusCode, 'STRING_TOO_LONG');
    assert.deepEqual(tooLong.fields, ['Name']);
    const rule = failure(results[3]);
    assert.equal(rule.statusCode, 'FIELD_CUSTOM_VALIDATION_EXCEPTION');
    assert.equal(rule.message, 'The budget cannot be negative.');
    assert.deepEqual(rule.fields, ['Budget__c']);
    const ids = [0, 1, 4, 5, 6, 7].map((i) => okId(results[i]));
    assert.equal(new Set(ids).size, ids.length, 'identical rows got a record each');

    const saved = await byId(`SELECT Id, Name, Start_Date__c, Budget__c, Progress__c, Is_Billable__c, Status__c, Description__c, Contact_Email__c, Technologies__c FROM Project__c WHERE Id IN ('${ids.join("','")}')`);
    const row = (i: number): SObjectRecord => saved.get(okId(results[i]))!;
    assert.deepEqual(
      { ...row(0), Id: undefined },
      { Id: undefined, Name: `${tag} plain`, Start_Date__c: '2024-02-29', Budget__c: 1234.5, Progress__c: 12.25, Is_Billable__c: true, Status__c: 'Active', Description__c: null, Contact_Email__c: null, Technologies__c: null },
    );
    assert.equal(row(1).Name, `${tag} "quoted", with comma`);
    assert.equal(row(1).Description__c, 'line one\nline two, "quoted"\n');
    assert.equal(row(1).Is_Billable__c, false);
    assert.equal(row(1).Budget__c, 0, 'a tiny budget, sent without an exponent, rounds to the field scale');
    assert.equal(row(4).Budget__c, 7);
    assert.equal(row(6).Start_Date__c, null);
    assert.equal(row(6).Contact_Email__c, 'someone@example.com');
    assert.equal(row(6).Technologies__c, 'Apex;Flow');
    assert.equal(row(6).Is_Billable__c, true, 'a column left empty takes the default');
    assert.equal(row(7).Name, `  ${tag} spaced  `, 'edge spaces quoted, so kept');
    assert.equal(row(7).Budget__c, 12345678901234.5);
  });

  test('ingest updates by Id: nulls clear fields, failures stay with their records', async () => {
    const fields = (await org.describeObject('Task')).fields;
    const tag = `Writes ${run} task`;
    const inserted = await org.ingest(
      'Task',
      'insert',
      [
        { Subject: `${tag} 1`, ReminderDateTime: '2024-03-17T16:21:26.000+0000', IsReminderSet: true, CallDurationInSeconds: 125, ActivityDate: '2024-03-18', Description: 'first' },
        { Subject: `${tag} 2`, ReminderDateTime: '2024-12-31T23:59:59.999Z', IsReminderSet: false, CallDurationInSeconds: 0, Description: 'second' },
        { Subject: `${tag} 3`, ReminderDateTime: '2025-06-01T08:00:00.000+0000', Description: 'third' },
      ],
      fields,
    );
    const ids = inserted.map(okId);
    const read = async (): Promise<Map<string, SObjectRecord>> => byId(`SELECT Id, Subject, ReminderDateTime, IsReminderSet, CallDurationInSeconds, ActivityDate, Description, Status FROM Task WHERE Id IN ('${ids.join("','")}')`);
    let saved = await read();
    assert.equal(saved.get(ids[0]!)?.ReminderDateTime, '2024-03-17T16:21:26.000+0000');
    assert.equal(saved.get(ids[0]!)?.IsReminderSet, true);
    assert.equal(saved.get(ids[0]!)?.CallDurationInSeconds, 125);
    assert.equal(saved.get(ids[0]!)?.ActivityDate, '2024-03-18');
    assert.equal(saved.get(ids[1]!)?.ReminderDateTime, '2024-12-31T23:59:59.999+0000');
    assert.equal(saved.get(ids[1]!)?.CallDurationInSeconds, 0);

    const updated = await org.ingest(
      'Task',
      'update',
      [
        { Id: ids[2], Description: null, CallDurationInSeconds: 7 },
        { Id: ids[0], Description: 'first, updated', ReminderDateTime: null, ActivityDate: null },
        { Id: '00T000000000000AAA', Description: 'no such task' },
        { Id: ids[1], CallType: 'Sideways' },
      ],
      fields,
    );
    assert.equal(okId(updated[0]), ids[2]);
    assert.equal(okId(updated[1]), ids[0]);
    assert.ok(!updated[2]!.ok);
    const invalid = failure(updated[3]);
    assert.equal(invalid.statusCode, 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST');
    assert.deepEqual(invalid.fields, ['CallType']);
    saved = await read();
    assert.equal(saved.get(ids[2]!)?.Description, null);
    assert.equal(saved.get(ids[2]!)?.CallDurationInSeconds, 7);
    assert.equal(saved.get(ids[0]!)?.Description, 'first, updated');
    assert.equal(saved.get(ids[0]!)?.ReminderDateTime, null);
    assert.equal(saved.get(ids[0]!)?.ActivityDate, null);
    assert.equal(saved.get(ids[0]!)?.CallDurationInSeconds, 125, 'a column not in the record is left alone');
    assert.equal(saved.get(ids[1]!)?.Description, 'second');
    assert.deepEqual(await org.ingest('Task', 'update', [], fields), []);
  });

  test('an ingest job that fails raises SalesforceApiError', async () => {
    await h.fault({ kind: 'bulkJob', mode: 'fail', object: 'Project__c', times: 1 });
    const fields = (await org.describeObject('Project__c')).fields;
    await assert.rejects(org.ingest('Project__c', 'insert', [{ Name: `Writes ${run} doomed` }], fields), (e: unknown) => {
      assert.ok(e instanceof SalesforceApiError, String(e));
      assert.match(e.message, /Bulk ingest job \w+ failed/);
      return true;
    });
    await assert.rejects(org.ingest('Project__c', 'insert', [{ Name: `Writes ${run} bad column`, Nope__c: 1 }], fields), (e: unknown) => e instanceof SalesforceApiError);
    await h.clearFaults();

    // Neither the upload nor the close is sent twice once it may have reached the org.
    await h.fault({ kind: 'drop', match: 'PUT /services/data/*/jobs/ingest/*/batches', times: 1 });
    await assert.rejects(org.ingest('Project__c', 'insert', [{ Name: `Writes ${run} upload dropped` }], fields), isApiError('CONNECTION_ERROR'));
    assert.deepEqual(await fired(), [1]);
    await h.clearFaults();
    await h.fault({ kind: 'drop', match: 'PATCH /services/data/*/jobs/ingest/*', times: 1 });
    await assert.rejects(org.ingest('Project__c', 'insert', [{ Name: `Writes ${run} close dropped` }], fields), isApiError('CONNECTION_ERROR'));
    assert.equal((await collect(org.query(`SELECT Id FROM Project__c WHERE Name LIKE 'Writes ${run} %'`))).length, 0);

    // Every job, finished or failed, was deleted.
    const token = h.emu.context.sessions.issue(h.emu.org.apiUserId, h.emu.info.clientId).accessToken;
    const jobs = (await (await fetch(`${h.emu.info.instanceUrl}/services/data/v62.0/jobs/ingest`, { headers: { authorization: `Bearer ${token}` } })).json()) as { records: unknown[] };
    assert.deepEqual(jobs.records, []);
  });

  test('usage counts exactly the calls the org charged to this client', async () => {
    const fresh = await connectOrg(h.passwordAuth, FAST);
    const start = await stats();
    const [a, b] = (await fresh.createRecords('Lead', [{ LastName: `Writes ${run} U1`, Company: 'Usage' }, { LastName: `Writes ${run} U2`, Company: 'Usage' }])).map(okId);
    await fresh.updateRecords('Lead', [{ Id: a, Company: 'Usage 2' }]);
    await deleteDirectly([a!, b!]);
    await fresh.undeleteRecords([a!, b!, a!]);
    await fresh.ingest('Lead', 'update', [{ Id: a, Title: 'Counted' }], (await fresh.describeObject('Lead')).fields);
    await fresh.createWithBody({ objectName: 'Attachment', fields: { Name: 'u.txt', ParentId: a }, bodyField: 'Body', fileName: 'u.txt', body: async function* () { yield Buffer.from('u'); } });
    assert.equal(fresh.usage().calls, (await stats()) - start);
  });
});

describe('parseRowError', () => {
  test('reads sf__Error whatever colons the message holds', () => {
    assert.deepEqual(parseRowError('REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --'), [{ statusCode: 'REQUIRED_FIELD_MISSING', message: 'Required fields are missing: [Name]', fields: ['Name'] }]);
    assert.deepEqual(parseRowError('FIELD_CUSTOM_VALIDATION_EXCEPTION:Budget: must be positive:Field1;Field2'), [{ statusCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION', message: 'Budget: must be positive', fields: ['Field1', 'Field2'] }]);
    assert.deepEqual(parseRowError('REQUIRED_FIELD_MISSING:Required fields are missing: [Name, Type]:Name Type --'), [{ statusCode: 'REQUIRED_FIELD_MISSING', message: 'Required fields are missing: [Name, Type]', fields: ['Name', 'Type'] }]);
    assert.deepEqual(parseRowError('INVALID_FIELD:Foreign key external ID: 12 not found for field Ext__c in entity Account:--'), [{ statusCode: 'INVALID_FIELD', message: 'Foreign key external ID: 12 not found for field Ext__c in entity Account', fields: [] }]);
    assert.deepEqual(parseRowError('ENTITY_IS_DELETED:entity is deleted: see the bin'), [{ statusCode: 'ENTITY_IS_DELETED', message: 'entity is deleted: see the bin', fields: [] }]);
    assert.deepEqual(parseRowError('A:one:--\nB:two:X --'), [
      { statusCode: 'A', message: 'one', fields: [] },
      { statusCode: 'B', message: 'two', fields: ['X'] },
    ]);
    assert.equal(parseRowError('Something went wrong')[0]!.statusCode, 'UNKNOWN_EXCEPTION');
    assert.equal(parseRowError('')[0]!.statusCode, 'UNKNOWN_EXCEPTION');
  });
});
