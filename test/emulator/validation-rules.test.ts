// Validation rules have one home, the org's metadata: a rule deployed through the Metadata API's
// CRUD calls (or the metadata admin API) is enforced by every write path, and a rule added as a
// behaviour (the demo's among them) is metadata that listMetadata, readMetadata and retrieve show.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Connection } from '@jsforce/jsforce-node';
import JSZip from 'jszip';
import { configureBulk } from '../../emulator/bulk/routes.ts';
import { startEmulator } from '../../emulator/index.ts';
import type { RunningEmulator } from '../../emulator/index.ts';
import { validationRules } from '../../emulator/metadata/index.ts';

const VERSION = '60.0';
type Json = Record<string, unknown>;

interface Harness {
  emu: RunningEmulator;
  conn: Connection;
  /** A REST call with the connection's session; the parsed body. */
  rest(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }>;
  admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }>;
}

async function start(profile: 'empty' | 'demo'): Promise<Harness> {
  const emu = await startEmulator({ profile, seed: 1 });
  const conn = new Connection({ loginUrl: emu.info.loginUrl, version: VERSION, oauth2: { loginUrl: emu.info.loginUrl, clientId: emu.info.clientId, clientSecret: emu.info.clientSecret } });
  await conn.login(emu.info.username, emu.info.password);
  configureBulk(emu.org, { stepDelayMs: 0 });
  const call = async (url: string, method: string, token: string, body?: unknown) => {
    const response = await fetch(url, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': typeof body === 'string' ? 'text/csv' : 'application/json' },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as unknown) : undefined };
  };
  return {
    emu,
    conn,
    rest: (method, path, body) => call(`${emu.info.instanceUrl}/services/data/v${VERSION}${path}`, method, conn.accessToken!, body),
    admin: async (method, path, body) => {
      const reply = await call(`${emu.info.instanceUrl}/__emulator${path}`, method, emu.info.adminToken, body);
      return { status: reply.status, body: reply.body as Json };
    },
  };
}

const RULE = {
  fullName: 'Account.Site_Needs_Rating',
  active: true,
  errorConditionFormula: 'AND(NOT(ISBLANK(Site)), ISBLANK(TEXT(Rating)))',
  errorMessage: 'A site needs a rating.',
  errorDisplayField: 'Rating',
};
const FAILURE = { message: RULE.errorMessage, errorCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION', fields: ['Rating'] };

describe('validation rules deployed through the Metadata API', () => {
  let h: Harness;
  before(async () => {
    h = await start('empty');
  });
  after(() => h.emu.close());

  const create = (metadata: Json | Json[]) => h.conn.metadata.create('ValidationRule', metadata as never) as unknown as Promise<Json | Json[]>;

  test('createMetadata stores the rule and every write path enforces it', async () => {
    const saved = await create(RULE);
    assert.deepEqual(saved, { fullName: RULE.fullName, success: true, errors: [] });
    assert.ok(validationRules(h.emu.org).some((r) => r.object === 'Account' && r.fullName === 'Site_Needs_Rating' && r.active));

    // REST
    const rest = await h.rest('POST', '/sobjects/Account', { Name: 'Blocked', Site: 'Paris' });
    assert.equal(rest.status, 400);
    assert.deepEqual(rest.body, [FAILURE]);
    assert.equal((await h.rest('POST', '/sobjects/Account', { Name: 'Allowed', Site: 'Paris', Rating: 'Hot' })).status, 201);
    const plain = await h.rest('POST', '/sobjects/Account', { Name: 'Plain' });
    assert.equal(plain.status, 201);
    const id = (plain.body as { id: string }).id;
    const update = await h.rest('PATCH', `/sobjects/Account/${id}`, { Site: 'Lyon' });
    assert.deepEqual(update, { status: 400, body: [FAILURE] });

    // sObject Collections and Composite
    const collection = await h.rest('POST', '/composite/sobjects', { allOrNone: false, records: [{ attributes: { type: 'Account' }, Name: 'C1', Site: 'Rome' }, { attributes: { type: 'Account' }, Name: 'C2' }] });
    const results = collection.body as { success: boolean; errors: Json[] }[];
    assert.deepEqual(results.map((r) => r.success), [false, true]);
    assert.deepEqual(results[0]!.errors, [{ statusCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION', message: RULE.errorMessage, fields: ['Rating'] }]);
    const composite = await h.rest('POST', '/composite', { allOrNone: false, compositeRequest: [{ method: 'POST', url: `/services/data/v${VERSION}/sobjects/Account`, referenceId: 'a', body: { Name: 'C3', Site: 'Oslo' } }] });
    const sub = (composite.body as { compositeResponse: { httpStatusCode: number; body: unknown }[] }).compositeResponse[0]!;
    assert.deepEqual([sub.httpStatusCode, sub.body], [400, [FAILURE]]);

    // Bulk API 2.0
    const job = await h.rest('POST', '/jobs/ingest', { object: 'Account', operation: 'insert' });
    const jobId = (job.body as { id: string }).id;
    assert.equal((await h.rest('PUT', `/jobs/ingest/${jobId}/batches`, 'Name,Site,Rating\nB1,Berlin,\nB2,Berlin,Warm\n')).status, 201);
    await h.rest('PATCH', `/jobs/ingest/${jobId}`, { state: 'UploadComplete' });
    let info = (await h.rest('GET', `/jobs/ingest/${jobId}`)).body as { state: string; numberRecordsFailed: number };
    while (info.state !== 'JobComplete' && info.state !== 'Failed') {
      await new Promise((resolve) => setTimeout(resolve, 5));
      info = (await h.rest('GET', `/jobs/ingest/${jobId}`)).body as typeof info;
    }
    assert.equal(info.numberRecordsFailed, 1);
    const failed = await fetch(`${h.emu.info.instanceUrl}/services/data/v${VERSION}/jobs/ingest/${jobId}/failedResults`, { headers: { authorization: `Bearer ${h.conn.accessToken!}` } });
    assert.match(await failed.text(), /FIELD_CUSTOM_VALIDATION_EXCEPTION:A site needs a rating\.:Rating/);
  });

  test('updateMetadata replaces the rule; deleteMetadata removes it from enforcement', async () => {
    const { errorDisplayField: _shown, ...withoutField } = RULE;
    const updated = await h.conn.metadata.update('ValidationRule', { ...withoutField, errorMessage: 'Rate the site first.' } as never);
    assert.deepEqual(updated, { fullName: RULE.fullName, success: true, errors: [] });
    const refused = await h.rest('POST', '/sobjects/Account', { Name: 'Again', Site: 'Paris' });
    assert.deepEqual(refused.body, [{ message: 'Rate the site first.', errorCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION', fields: [] }]);
    const [read] = (await h.conn.metadata.read('ValidationRule', [RULE.fullName])) as unknown as Json[];
    assert.equal(read!.errorMessage, 'Rate the site first.');

    const inactive = (await h.conn.metadata.upsert('ValidationRule', { ...RULE, active: false } as never)) as unknown as Json;
    assert.deepEqual(inactive, { created: false, fullName: RULE.fullName, success: true, errors: [] });
    assert.equal((await h.rest('POST', '/sobjects/Account', { Name: 'Inactive rule', Site: 'Paris' })).status, 201);

    const deleted = await h.conn.metadata.delete('ValidationRule', RULE.fullName);
    assert.deepEqual(deleted, { fullName: RULE.fullName, success: true, errors: [] });
    assert.equal((await h.conn.metadata.list([{ type: 'ValidationRule' }])).some((p) => p.fullName === RULE.fullName), false);
    const again = (await h.conn.metadata.delete('ValidationRule', RULE.fullName)) as unknown as { success: boolean; errors: Json[] };
    assert.equal(again.success, false);
    assert.equal(again.errors[0]!.statusCode, 'INVALID_CROSS_REFERENCE_KEY');
  });

  test('bad components fail one by one with Salesforce status codes', async () => {
    const { errorMessage: _message, ...noMessage } = RULE;
    const results = (await create([
      { ...RULE, fullName: 'Account.Bad_Formula', errorConditionFormula: 'ISBLANK(Sitee)' },
      { ...RULE, fullName: 'Nope__c.Rule' },
      { ...noMessage, fullName: 'Account.No_Message' },
      { ...RULE, fullName: 'Account.Good' },
      { ...RULE, fullName: 'Account.Good' },
    ])) as { success: boolean; errors: { statusCode: string; fields: string[] }[] }[];
    assert.deepEqual(results.map((r) => [r.success, r.errors[0]?.statusCode ?? null, r.errors[0]?.fields[0] ?? null]), [
      [false, 'FIELD_INTEGRITY_EXCEPTION', 'errorConditionFormula'],
      [false, 'INVALID_CROSS_REFERENCE_KEY', 'fullName'],
      [false, 'REQUIRED_FIELD_MISSING', 'errorMessage'],
      [true, null, null],
      [false, 'DUPLICATE_DEVELOPER_NAME', 'fullName'],
    ]);
    await assert.rejects(create(Array.from({ length: 11 }, (_, i) => ({ ...RULE, fullName: `Account.R${i}` }))), /EXCEEDED_ID_LIMIT/);
    await h.conn.metadata.delete('ValidationRule', 'Account.Good');
  });

  test('the metadata admin API sets and deletes enforced rules', async () => {
    const rule = { fullName: 'No_Test_Names', active: true, errorConditionFormula: 'BEGINS(Name, "TEST")', errorMessage: 'No test data.' };
    assert.equal((await h.admin('POST', '/metadata', { op: 'upsertValidationRule', object: 'Account', rule })).status, 200);
    assert.deepEqual((await h.rest('POST', '/sobjects/Account', { Name: 'TEST 1' })).body, [{ message: 'No test data.', errorCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION', fields: [] }]);
    const bad = await h.admin('POST', '/metadata', { op: 'upsertValidationRule', object: 'Account', rule: { ...rule, errorConditionFormula: 'ISBLANK(Nope)' } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.field, 'rule.errorConditionFormula');
    assert.equal((await h.admin('POST', '/metadata', { op: 'deleteValidationRule', object: 'Account', name: 'No_Test_Names' })).status, 200);
    assert.equal((await h.rest('POST', '/sobjects/Account', { Name: 'TEST 2' })).status, 201);
    const missing = await h.admin('POST', '/metadata', { op: 'deleteValidationRule', object: 'Account', name: 'No_Test_Names' });
    assert.deepEqual([missing.status, missing.body.field], [400, 'name']);
  });
});

describe('validation rules added as behaviours are metadata', () => {
  let h: Harness;
  before(async () => {
    h = await start('demo');
  });
  after(() => h.emu.close());

  const DEMO_RULE = 'Account.Phone_Required_For_Customers';

  test('the demo rules show in listMetadata, readMetadata and retrieve', async () => {
    const listed = (await h.conn.metadata.list([{ type: 'ValidationRule' }])).map((p) => p.fullName);
    assert.ok(listed.includes(DEMO_RULE));
    assert.ok(listed.includes('Opportunity.Closed_Won_Requires_Amount'));
    const [read] = (await h.conn.metadata.read('ValidationRule', [DEMO_RULE])) as unknown as Json[];
    assert.deepEqual(read, {
      fullName: DEMO_RULE,
      active: true,
      errorConditionFormula: 'AND(BEGINS(TEXT(Type), "Customer"), ISBLANK(Phone))',
      errorDisplayField: 'Phone',
      errorMessage: 'Customer accounts need a phone number.',
    });
    const started = await h.conn.metadata.retrieve({ singlePackage: true, unpackaged: { types: [{ name: 'ValidationRule', members: [DEMO_RULE] }], version: VERSION } } as never);
    let result = await h.conn.metadata.checkRetrieveStatus(started.id);
    while (!result.done) result = await h.conn.metadata.checkRetrieveStatus(started.id);
    const zip = await JSZip.loadAsync(Buffer.from(result.zipFile, 'base64'));
    assert.match(await zip.file('objects/Account.object')!.async('string'), /<fullName>Phone_Required_For_Customers<\/fullName>/);
  });

  test('changing or deleting a demo rule through the Metadata API changes what is enforced and listed', async () => {
    const customer = { Name: 'No Phone Ltd', Type: 'Customer - Direct' };
    assert.equal((await h.rest('POST', '/sobjects/Account', customer)).status, 400);
    const updated = await h.conn.metadata.update('ValidationRule', { fullName: DEMO_RULE, active: true, errorConditionFormula: 'AND(BEGINS(TEXT(Type), "Customer"), ISBLANK(Phone), ISBLANK(Website))', errorMessage: 'Customers need a phone or a website.' } as never);
    assert.equal((updated as unknown as Json).success, true);
    assert.deepEqual((await h.rest('POST', '/sobjects/Account', customer)).body, [{ message: 'Customers need a phone or a website.', errorCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION', fields: [] }]);
    const withSite = await h.rest('POST', '/sobjects/Account', { ...customer, Website: 'https://example.com' });
    assert.equal(withSite.status, 201, JSON.stringify(withSite.body));
    const listing = (await h.admin('GET', '/behaviours')).body.behaviours as Json[];
    assert.deepEqual(listing.find((b) => b.name === 'Phone_Required_For_Customers'), {
      kind: 'validationRule',
      name: 'Phone_Required_For_Customers',
      object: 'Account',
      formula: 'AND(BEGINS(TEXT(Type), "Customer"), ISBLANK(Phone), ISBLANK(Website))',
      message: 'Customers need a phone or a website.',
      active: true,
    });

    await h.conn.metadata.delete('ValidationRule', DEMO_RULE);
    // Another name: the demo's duplicate rule matches accounts by name.
    assert.equal((await h.rest('POST', '/sobjects/Account', { ...customer, Name: 'Still No Phone Ltd' })).status, 201);
    const after = (await h.admin('GET', '/behaviours')).body.behaviours as Json[];
    assert.ok(!after.some((b) => b.name === 'Phone_Required_For_Customers'));
    // Removing a behaviour removes its rule from the metadata too.
    assert.equal((await h.admin('DELETE', '/behaviours/Closed_Won_Requires_Amount')).status, 200);
    assert.ok(!(await h.conn.metadata.list([{ type: 'ValidationRule' }])).some((p) => p.fullName === 'Opportunity.Closed_Won_Requires_Amount'));
  });
});
