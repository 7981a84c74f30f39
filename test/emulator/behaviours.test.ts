// Org behaviours that break restores: each provoked over HTTP, with unmodified jsforce where it shows
// what a client sees and raw fetch for the exact REST and sObject Collections bodies.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Connection } from '@jsforce/jsforce-node';
import { installDemoBehaviours } from '../../emulator/behaviours/demo.ts';
import { listValidationRules } from '../../emulator/behaviours/registry.ts';
import { startEmulator } from '../../emulator/index.ts';
import type { RunningEmulator } from '../../emulator/index.ts';
import type { StoredRecord } from '../../emulator/org/schema.ts';

const V = '/services/data/v60.0';

/** Response bodies are read field by field in assertions; typing every shape would only restate them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

interface Harness {
  emu: RunningEmulator;
  conn: Connection;
  rest(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: Json }>;
  admin(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: Json }>;
  /** Adds behaviours through the admin API, failing the test if it refuses them. */
  behave(specs: unknown): Promise<void>;
  create(object: string, values: Record<string, unknown>, headers?: Record<string, string>): Promise<string>;
  find(object: string, where: (r: StoredRecord) => boolean): StoredRecord;
  close(): Promise<void>;
}

async function start(profile: 'empty' | 'demo'): Promise<Harness> {
  const emu = await startEmulator({ profile, seed: 1 });
  const session = emu.context.sessions.issue(emu.org.apiUserId, emu.info.clientId);
  const conn = new Connection({ instanceUrl: emu.info.instanceUrl, accessToken: session.accessToken, version: '60.0' });
  const send = async (url: string, method: string, body: unknown, headers: Record<string, string>): Promise<{ status: number; body: Json }> => {
    const init: RequestInit = { method, headers: { ...headers } };
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] = 'application/json';
    }
    const response = await fetch(url, init);
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  };
  const h: Harness = {
    emu,
    conn,
    rest: (method, path, body, headers = {}) => send(`${emu.info.instanceUrl}${V}${path}`, method, body, { authorization: `Bearer ${session.accessToken}`, ...headers }),
    admin: (method, path, body, token = emu.info.adminToken) => send(`${emu.info.instanceUrl}/__emulator${path}`, method, body, { authorization: `Bearer ${token}` }),
    async behave(specs) {
      const { status, body } = await h.admin('POST', '/behaviours', specs);
      assert.equal(status, 200, JSON.stringify(body));
    },
    async create(object, values, headers) {
      const { status, body } = await h.rest('POST', `/sobjects/${object}`, values, headers);
      assert.equal(status, 201, JSON.stringify(body));
      return body.id as string;
    },
    find(object, where) {
      const record = [...emu.org.records(object)].find((r) => !r.IsDeleted && where(r));
      assert.ok(record, `a ${object} to test with`);
      return record;
    },
    close: () => emu.close(),
  };
  return h;
}

const records = (type: string, list: Record<string, unknown>[]): Record<string, unknown>[] => list.map((r) => ({ attributes: { type }, ...r }));
const id15 = (id: string): string => id.slice(0, 15);

describe('behaviours admin API', () => {
  let h: Harness;
  before(async () => {
    h = await start('empty');
  });
  after(() => h.close());

  test('needs the admin token', async () => {
    const { status, body } = await h.admin('GET', '/behaviours', undefined, 'wrong');
    assert.equal(status, 401);
    assert.equal(body.error, 'UNAUTHORIZED');
  });

  test('adds one spec or a list, lists them, and removes them by name', async () => {
    await h.behave({ kind: 'validationRule', object: 'Account', name: 'Needs_Site', condition: { field: 'Site', isNull: true }, message: 'Site is required.', active: false });
    const added = await h.admin('POST', '/behaviours', [
      { kind: 'approvalLock', object: 'Account', name: 'Account_Lock', recordIds: [], condition: { field: 'Rating', equals: 'Hot' } },
      { kind: 'duplicateRule', object: 'Lead', name: 'Lead_Dupes', matchFields: ['Email'] },
    ]);
    assert.equal(added.status, 200);
    assert.deepEqual(added.body.behaviours.map((b: Json) => b.name), ['Account_Lock', 'Lead_Dupes']);
    const listed = await h.admin('GET', '/behaviours');
    assert.deepEqual(listed.body.behaviours.map((b: Json) => [b.kind, b.name]), [
      ['validationRule', 'Needs_Site'],
      ['approvalLock', 'Account_Lock'],
      ['duplicateRule', 'Lead_Dupes'],
    ]);
    const duplicateRule = listed.body.behaviours[2];
    assert.equal(duplicateRule.action, 'alert', 'defaults are filled in');
    assert.deepEqual(duplicateRule.operations, ['create', 'update']);
    assert.deepEqual(await h.admin('DELETE', '/behaviours/Account_Lock'), { status: 200, body: { deleted: 'Account_Lock' } });
    const missing = await h.admin('DELETE', '/behaviours/Account_Lock');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error, 'NOT_FOUND');
    assert.deepEqual(await h.admin('DELETE', '/behaviours'), { status: 200, body: { deleted: 2 } });
    assert.deepEqual((await h.admin('GET', '/behaviours')).body, { behaviours: [] });
  });

  test('refuses bad specs naming the field, and a bad list adds nothing', async () => {
    const cases: [unknown, string, RegExp][] = [
      [{ kind: 'nope' }, 'kind', /"kind" must be one of validationRule, lookupFilter/],
      [{ kind: 'validationRule', object: 'Acount', name: 'X', formula: 'TRUE', message: 'm' }, 'object', /No object "Acount"/],
      [{ kind: 'validationRule', object: 'Account', name: 'X', formula: 'ISBLANK(Phonee)', message: 'm' }, 'formula', /Field Phonee does not exist on Account/],
      [{ kind: 'validationRule', object: 'Account', name: 'X', formula: 'FOO(Phone)', message: 'm' }, 'formula', /Unknown function FOO/],
      [{ kind: 'validationRule', object: 'Account', name: 'X', condition: { field: 'Phone' }, message: 'm' }, 'condition', /exactly one test/],
      [{ kind: 'lookupFilter', object: 'Contact', field: 'LastName', formula: 'TRUE' }, 'field', /not a lookup/],
      [{ kind: 'trigger', object: 'Account', name: 'T', actions: [{ update: 'self', set: { Nope__c: 1 } }] }, 'actions[0].set.Nope__c', /No field "Nope__c" on Account/],
      [{ kind: 'rowLock', rate: 2 }, 'rate', /"rate" must be a number from 0 to 1/],
      [{ kind: 'validationRule', object: 'Account', name: 'X', formula: 'TRUE', message: 'm', extra: 1 }, 'extra', /Unknown field "extra"/],
    ];
    for (const [spec, field, message] of cases) {
      const { status, body } = await h.admin('POST', '/behaviours', spec);
      assert.equal(status, 400, JSON.stringify(spec));
      assert.equal(body.error, 'INVALID_FIELD');
      assert.equal(body.field, field, JSON.stringify(body));
      assert.match(body.message, message);
    }
    const list = await h.admin('POST', '/behaviours', [
      { kind: 'validationRule', object: 'Account', name: 'Good', formula: 'TRUE', message: 'm' },
      { kind: 'validationRule', object: 'Account', name: 'Bad', condition: { and: [{ field: 'Nope', isNull: true }] }, message: 'm' },
    ]);
    assert.equal(list.status, 400);
    assert.equal(list.body.field, '[1].condition');
    assert.deepEqual((await h.admin('GET', '/behaviours')).body, { behaviours: [] });
    const notJson = await h.admin('POST', '/behaviours', '{nope');
    assert.deepEqual(notJson, { status: 400, body: { error: 'INVALID_JSON', message: 'The request body must be a JSON object or a list of them.' } });
  });
});

describe('validation rules (FIELD_CUSTOM_VALIDATION_EXCEPTION)', () => {
  let h: Harness;
  const message = 'Customers need a phone number.';
  const error = { message, errorCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION', fields: ['Phone'] };
  before(async () => {
    h = await start('empty');
    await h.behave({
      kind: 'validationRule',
      object: 'Account',
      name: 'Phone_Required_For_Customers',
      condition: { field: 'Type', equals: 'Customer - Direct', and: { field: 'Phone', isNull: true } },
      message,
      errorField: 'Phone',
    });
  });
  after(() => h.close());

  test('REST create and update answer 400 with the rule message on the error field', async () => {
    assert.deepEqual(await h.rest('POST', '/sobjects/Account', { Name: 'Acme', Type: 'Customer - Direct' }), { status: 400, body: [error] });
    const id = await h.create('Account', { Name: 'Acme', Type: 'Customer - Direct', Phone: '555-0100' });
    assert.deepEqual(await h.rest('PATCH', `/sobjects/Account/${id}`, { Phone: null }), { status: 400, body: [error] });
    assert.equal(h.emu.org.get(id)!.Phone, '555-0100');
    assert.equal((await h.rest('PATCH', `/sobjects/Account/${id}`, { Type: 'Prospect', Phone: null })).status, 204);
  });

  test('jsforce sees the status code and message', async () => {
    await assert.rejects(h.conn.sobject('Account').create({ Name: 'Acme 2', Type: 'Customer - Direct' }), { errorCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION', message });
  });

  test('in a collection without allOrNone, the rest of the batch is saved', async () => {
    const results = await h.conn.sobject('Account').create(
      [{ Name: 'Good 1', Type: 'Customer - Direct', Phone: '1' }, { Name: 'Bad', Type: 'Customer - Direct' }, { Name: 'Good 2' }],
      { allOrNone: false },
    );
    assert.equal(results[0]!.success, true);
    assert.deepEqual(results[1], { success: false, errors: [{ statusCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION', message, fields: ['Phone'] }] });
    assert.equal(results[2]!.success, true);
    for (const r of [results[0]!, results[2]!]) assert.ok(r.success && h.emu.org.get(r.id));
  });

  test('with allOrNone, the batch rolls back', async () => {
    const before = h.emu.org.count('Account');
    const { status, body } = await h.rest('POST', '/composite/sobjects', { allOrNone: true, records: records('Account', [{ Name: 'Fine' }, { Name: 'Bad', Type: 'Customer - Direct' }]) });
    assert.equal(status, 200);
    assert.equal(body[0].errors[0].statusCode, 'ALL_OR_NONE_OPERATION_ROLLED_BACK');
    assert.deepEqual(body[1].errors, [{ statusCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION', message, fields: ['Phone'] }]);
    assert.equal(h.emu.org.count('Account'), before);
  });

  test('formula rules: record-level errors, PRIORVALUE, parent fields; inactive rules do not fire', async () => {
    await h.behave([
      {
        kind: 'validationRule',
        object: 'Opportunity',
        name: 'Won_Amount_Cannot_Drop',
        formula: 'AND(NOT(ISNEW()), ISPICKVAL(PRIORVALUE(StageName), "Closed Won"), Amount < PRIORVALUE(Amount))',
        message: 'The amount of a won opportunity cannot go down.',
      },
      { kind: 'validationRule', object: 'Contact', name: 'Banking_Needs_Email', formula: 'AND(TEXT(Account.Industry) = "Banking", ISBLANK(Email))', message: 'Bank contacts need an email.', errorField: 'Email' },
      { kind: 'validationRule', object: 'Contact', name: 'Switched_Off', formula: 'TRUE', message: 'never', active: false },
    ]);
    const opp = await h.create('Opportunity', { Name: 'Deal', StageName: 'Closed Won', CloseDate: '2026-01-31', Amount: 100 });
    assert.deepEqual(await h.rest('PATCH', `/sobjects/Opportunity/${opp}`, { Amount: 50 }), {
      status: 400,
      body: [{ message: 'The amount of a won opportunity cannot go down.', errorCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION', fields: [] }],
    });
    assert.equal((await h.rest('PATCH', `/sobjects/Opportunity/${opp}`, { Amount: 150 })).status, 204);
    const bank = await h.create('Account', { Name: 'First Bank', Industry: 'Banking' });
    assert.deepEqual(await h.rest('POST', '/sobjects/Contact', { LastName: 'Teller', AccountId: bank }), {
      status: 400,
      body: [{ message: 'Bank contacts need an email.', errorCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION', fields: ['Email'] }],
    });
    await h.create('Contact', { LastName: 'Teller', AccountId: bank, Email: 'teller@bank.example' });
  });

  test('listValidationRules shows every rule as Metadata API formula text', () => {
    const rules = listValidationRules(h.emu.org);
    assert.deepEqual(rules[0], {
      object: 'Account',
      fullName: 'Account.Phone_Required_For_Customers',
      active: true,
      errorConditionFormula: 'AND(ISPICKVAL(Type, "Customer - Direct"), ISBLANK(Phone))',
      errorMessage: message,
      errorDisplayField: 'Phone',
    });
    assert.deepEqual(
      rules.map((r) => [r.fullName, r.active, r.errorDisplayField ?? null]),
      [
        ['Account.Phone_Required_For_Customers', true, 'Phone'],
        ['Opportunity.Won_Amount_Cannot_Drop', true, null],
        ['Contact.Banking_Needs_Email', true, 'Email'],
        ['Contact.Switched_Off', false, null],
      ],
    );
  });

  test('seeding in system mode is not subject to rules', () => {
    const record = h.emu.org.insert('Account', { Name: 'Seeded', Type: 'Customer - Direct' }, { userId: h.emu.org.apiUserId, system: true });
    assert.equal(record.Phone, null);
  });
});

describe('the condition language: formulas and JSON conditions', () => {
  let h: Harness;
  before(async () => {
    h = await start('empty');
  });
  after(() => h.close());

  test('each form fires exactly for the records it describes', async () => {
    const cases: [Record<string, unknown>, Record<string, unknown>, boolean][] = [
      [{ formula: 'LEN(Name) > 5' }, { Name: 'Abcdefg' }, true],
      [{ formula: 'LEN(Name) > 5' }, { Name: 'Abc' }, false],
      [{ formula: 'REGEX(Phone, "\\\\d{3}-\\\\d{4}")' }, { Name: 'R', Phone: '555-0100' }, true],
      [{ formula: 'REGEX(Phone, "\\\\d{3}-\\\\d{4}")' }, { Name: 'R', Phone: '(555) 0100' }, false],
      [{ formula: 'CASE(Rating, "Hot", 1, "Warm", 2, 0) = 2' }, { Name: 'C', Rating: 'Warm' }, true],
      [{ formula: 'SLAExpirationDate__c < TODAY() - 30' }, { Name: 'D', SLAExpirationDate__c: '2000-01-01' }, true],
      [{ formula: 'SLAExpirationDate__c < TODAY() - 30' }, { Name: 'D', SLAExpirationDate__c: '2999-01-01' }, false],
      [{ formula: 'IF(ISBLANK(Site), "none", Site) = "none"' }, { Name: 'I' }, true],
      [{ formula: 'NumberOfEmployees * 2 > 100 && NOT(ISBLANK(Website))' }, { Name: 'N', NumberOfEmployees: 60, Website: 'https://n.example' }, true],
      [{ formula: 'VALUE(YearStarted) < 1900' }, { Name: 'V', YearStarted: '1850' }, true],
      [{ formula: 'UPPER(Name) = "ACME" || CONTAINS(Name, "Corp")' }, { Name: 'acme' }, true],
      [{ formula: '$User.Alias = "iapi"' }, { Name: 'U' }, true],
      [{ formula: 'BLANKVALUE(Site, "x") & "-" & TEXT(Rating) = "x-Hot"' }, { Name: 'B', Rating: 'Hot' }, true],
      [{ condition: { field: 'Rating', in: ['Hot', 'Warm'] } }, { Name: 'J', Rating: 'Cold' }, false],
      [{ condition: { field: 'Rating', notEquals: 'Hot' } }, { Name: 'J', Rating: 'Cold' }, true],
      [{ condition: { field: 'NumberOfEmployees', greaterThan: 10, or: { field: 'Name', contains: 'Big' } } }, { Name: 'Big Co', NumberOfEmployees: 1 }, true],
      [{ condition: { field: 'Name', matches: '[A-Z]{3}' } }, { Name: 'IBM' }, true],
      [{ condition: { not: { field: 'Name', startsWith: 'A' } } }, { Name: 'Apple' }, false],
      [{ condition: { field: 'ShippingCity', equals: { field: 'BillingCity' }, and: { field: 'BillingCity', isNull: false } } }, { Name: 'S', BillingCity: 'Oslo', ShippingCity: 'Oslo' }, true],
      [{ condition: { isNew: true, and: [{ field: 'Industry', equals: 'Banking' }] } }, { Name: 'K', Industry: 'Banking' }, true],
    ];
    for (const [rule, record, fires] of cases) {
      await h.behave({ kind: 'validationRule', object: 'Account', name: 'Under_Test', message: 'fired', ...rule });
      const { status, body } = await h.rest('POST', '/sobjects/Account', record);
      assert.equal(status, fires ? 400 : 201, `${JSON.stringify(rule)} on ${JSON.stringify(record)}: ${JSON.stringify(body)}`);
      if (fires) assert.equal(body[0].message, 'fired');
    }
  });
});

describe('lookup filters (FIELD_FILTER_VALIDATION_EXCEPTION)', () => {
  let h: Harness;
  before(async () => {
    h = await start('empty');
    await h.behave({ kind: 'lookupFilter', object: 'Contact', field: 'ReportsToId', formula: 'AccountId = $Source.AccountId' });
  });
  after(() => h.close());

  test('a lookup to a record outside the filter is refused; the batch goes on', async () => {
    const a = await h.create('Account', { Name: 'A' });
    const b = await h.create('Account', { Name: 'B' });
    const boss = await h.create('Contact', { LastName: 'Boss', AccountId: a });
    const error = { message: 'Value does not exist or does not match filter criteria.', errorCode: 'FIELD_FILTER_VALIDATION_EXCEPTION', fields: ['ReportsToId'] };
    assert.deepEqual(await h.rest('POST', '/sobjects/Contact', { LastName: 'Elsewhere', AccountId: b, ReportsToId: boss }), { status: 400, body: [error] });
    const { body } = await h.rest('POST', '/composite/sobjects', {
      records: records('Contact', [
        { LastName: 'Same', AccountId: a, ReportsToId: boss },
        { LastName: 'Other', AccountId: b, ReportsToId: boss },
      ]),
    });
    assert.equal(body[0].success, true);
    assert.deepEqual(body[1], { success: false, errors: [{ statusCode: 'FIELD_FILTER_VALIDATION_EXCEPTION', message: error.message, fields: ['ReportsToId'] }] });
  });
});

describe('approval locks (ENTITY_IS_LOCKED)', () => {
  let h: Harness;
  let locked: string;
  let free: string;
  const error = { message: 'the entity is locked for editing', errorCode: 'ENTITY_IS_LOCKED', fields: [] };
  before(async () => {
    h = await start('empty');
    locked = await h.create('Opportunity', { Name: 'Pending', StageName: 'Prospecting', CloseDate: '2026-03-01' });
    free = await h.create('Opportunity', { Name: 'Free', StageName: 'Prospecting', CloseDate: '2026-03-01' });
    await h.behave({ kind: 'approvalLock', object: 'Opportunity', processName: 'Discount_Approval', recordIds: [locked] });
  });
  after(() => h.close());

  test('edits and deletes of a locked record fail; other records are not affected', async () => {
    assert.deepEqual(await h.rest('PATCH', `/sobjects/Opportunity/${locked}`, { Amount: 5 }), { status: 400, body: [error] });
    assert.deepEqual(await h.rest('DELETE', `/sobjects/Opportunity/${locked}`), { status: 400, body: [error] });
    assert.equal((await h.rest('PATCH', `/sobjects/Opportunity/${free}`, { Amount: 5 })).status, 204);
    await assert.rejects(h.conn.sobject('Opportunity').update({ Id: locked, Amount: 6 }), { errorCode: 'ENTITY_IS_LOCKED', message: error.message });
  });

  test('a collection delete removes what is not locked', async () => {
    const { body } = await h.rest('DELETE', `/composite/sobjects?ids=${locked},${free}`);
    assert.deepEqual(body, [
      { success: false, errors: [{ statusCode: 'ENTITY_IS_LOCKED', message: error.message, fields: [] }] },
      { id: free, success: true, errors: [] },
    ]);
    assert.equal(h.emu.org.get(locked)!.IsDeleted, false);
  });
});

describe('triggers', () => {
  let h: Harness;
  before(async () => {
    h = await start('empty');
  });
  after(() => h.close());

  test('an after trigger writes other records, in the same transaction', async () => {
    await h.behave({
      kind: 'trigger',
      name: 'ContactTrigger',
      object: 'Contact',
      operations: ['create'],
      actions: [
        { update: 'AccountId', set: { Description: 'Latest contact: {!LastName}', NumberOfEmployees: '{!Account.NumberOfEmployees}' } },
        { create: 'Task', values: { Subject: 'Welcome {!FirstName} {!LastName}', WhoId: '{!Id}', Status: 'Not Started', Priority: 'Normal' } },
      ],
    });
    const account = await h.create('Account', { Name: 'Globex', NumberOfEmployees: 12 });
    const contact = await h.create('Contact', { FirstName: 'Hank', LastName: 'Scorpio', AccountId: account });
    assert.equal(h.emu.org.get(account)!.Description, 'Latest contact: Scorpio');
    assert.equal(h.emu.org.get(account)!.NumberOfEmployees, 12, 'a value that is a whole {!path} keeps its type');
    const task = h.find('Task', (t) => t.WhoId === contact);
    assert.equal(task.Subject, 'Welcome Hank Scorpio');
    await h.admin('DELETE', '/behaviours/ContactTrigger');
  });

  test('an update that comes back to its record from a before trigger: SELF_REFERENCE_FROM_TRIGGER, all rolled back', async () => {
    // Salesforce Backup's example: a before update trigger on A creates B; an after insert
    // trigger on B updates A.
    await h.behave([
      { kind: 'trigger', name: 'AccountTrigger', object: 'Account', timing: 'before', operations: ['update'], actions: [{ create: 'Task', values: { Subject: 'Review {!Name}', WhatId: '{!Id}' } }] },
      { kind: 'trigger', name: 'TaskTrigger', object: 'Task', operations: ['create'], condition: { field: 'Subject', startsWith: 'Review' }, actions: [{ update: 'WhatId', set: { Rating: 'Hot' } }] },
    ]);
    const account = await h.create('Account', { Name: 'Initech' });
    const tasks = h.emu.org.count('Task');
    const error = { message: `Object (id = ${id15(account)}) is currently in trigger AccountTrigger, therefore it cannot recursively update itself`, errorCode: 'SELF_REFERENCE_FROM_TRIGGER', fields: [] };
    assert.deepEqual(await h.rest('PATCH', `/sobjects/Account/${account}`, { Site: 'HQ' }), { status: 400, body: [error] });
    assert.equal(h.emu.org.count('Task'), tasks, 'the task the trigger created is rolled back');
    assert.equal(h.emu.org.get(account)!.Site, null);
    await assert.rejects(h.conn.sobject('Account').update({ Id: account, Site: 'HQ' }), { errorCode: 'SELF_REFERENCE_FROM_TRIGGER', message: error.message });

    const other = await h.create('Account', { Name: 'Other' });
    const { body } = await h.rest('PATCH', '/composite/sobjects', { records: records('Account', [{ Id: account, Site: 'HQ' }, { Id: other, Site: 'HQ' }]) });
    assert.deepEqual(body[0], { success: false, errors: [{ statusCode: 'SELF_REFERENCE_FROM_TRIGGER', message: error.message, fields: [] }] });
    assert.deepEqual(body[1], { success: false, errors: [{ statusCode: 'SELF_REFERENCE_FROM_TRIGGER', message: error.message.replace(id15(account), id15(other)), fields: [] }] });
    await h.admin('DELETE', '/behaviours');
  });

  test('with wrapErrors, the failure reads as an unhandled Apex exception', async () => {
    await h.behave([
      { kind: 'trigger', name: 'AccountTrigger', object: 'Account', timing: 'before', operations: ['update'], wrapErrors: true, actions: [{ create: 'Task', values: { Subject: 'Review {!Name}', WhatId: '{!Id}' } }] },
      { kind: 'trigger', name: 'TaskTrigger', object: 'Task', operations: ['create'], actions: [{ update: 'WhatId', set: { Rating: 'Hot' } }] },
    ]);
    const account = await h.create('Account', { Name: 'Umbrella' });
    const { status, body } = await h.rest('PATCH', `/sobjects/Account/${account}`, { Site: 'Raccoon City' });
    assert.equal(status, 400);
    assert.deepEqual(body, [
      {
        message:
          'AccountTrigger: execution of BeforeUpdate\n\ncaused by: System.DmlException: Insert failed. First exception on row 0; first error: SELF_REFERENCE_FROM_TRIGGER, ' +
          `Object (id = ${id15(account)}) is currently in trigger AccountTrigger, therefore it cannot recursively update itself: []\n\nTrigger.AccountTrigger: line 1, column 1`,
        errorCode: 'CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY',
        fields: [],
      },
    ]);
    await h.admin('DELETE', '/behaviours');
  });

  test('direct self-writes: before-update update and after-update delete are refused; after-update updates recurse to depth 16', async () => {
    const account = await h.create('Account', { Name: 'Hooli' });
    await h.behave({ kind: 'trigger', name: 'SelfUpdate', object: 'Account', timing: 'before', operations: ['update'], actions: [{ update: 'self', set: { Rating: 'Warm' } }] });
    assert.deepEqual((await h.rest('PATCH', `/sobjects/Account/${account}`, { Site: 'x' })).body[0].errorCode, 'SELF_REFERENCE_FROM_TRIGGER');
    await h.admin('DELETE', '/behaviours');

    await h.behave({ kind: 'trigger', name: 'SelfDelete', object: 'Account', operations: ['update'], condition: { field: 'Site', equals: 'gone' }, actions: [{ delete: 'self' }] });
    assert.deepEqual(await h.rest('PATCH', `/sobjects/Account/${account}`, { Site: 'gone' }), {
      status: 400,
      body: [{ message: `Object (id = ${id15(account)}) is currently in trigger SelfDelete, therefore it cannot recursively delete itself`, errorCode: 'SELF_REFERENCE_FROM_TRIGGER', fields: [] }],
    });
    await h.admin('DELETE', '/behaviours');

    // An after trigger may update its own record; guarded by ISCHANGED it stops by itself.
    await h.behave({ kind: 'trigger', name: 'RatingStamp', object: 'Account', operations: ['update'], condition: { field: 'Rating', changed: true }, actions: [{ update: 'self', set: { Description: 'Rated {!Rating}' } }] });
    assert.equal((await h.rest('PATCH', `/sobjects/Account/${account}`, { Rating: 'Cold' })).status, 204);
    assert.equal(h.emu.org.get(account)!.Description, 'Rated Cold');
    await h.admin('DELETE', '/behaviours');

    await h.behave({ kind: 'trigger', name: 'Loop', object: 'Account', operations: ['update'], actions: [{ update: 'self', set: { Description: 'again' } }] });
    assert.deepEqual(await h.rest('PATCH', `/sobjects/Account/${account}`, { Site: 'loop' }), {
      status: 400,
      body: [{ message: 'Loop: maximum trigger depth exceeded', errorCode: 'CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY', fields: [] }],
    });
    await h.admin('DELETE', '/behaviours');
  });
});

describe('duplicate rules (DUPLICATES_DETECTED) and external IDs (DUPLICATE_EXTERNAL_ID)', () => {
  let h: Harness;
  let first: string;
  const message = "You're creating a duplicate record. We recommend you use an existing record instead.";
  before(async () => {
    h = await start('empty');
    await h.behave([
      { kind: 'duplicateRule', object: 'Contact', name: 'Standard_Contact_Duplicate_Rule', matchFields: ['Email'], matchRule: 'Standard_Contact_Match_Rule_v1_1' },
      { kind: 'duplicateRule', object: 'Account', name: 'No_Twin_Accounts', matchFields: ['Name'], action: 'block', message: 'Use one of these records?' },
    ]);
    first = await h.create('Contact', { LastName: 'Bluth', Email: 'lindsay.bluth@example.com' });
  });
  after(() => h.close());

  test('REST answers 400 with the matches in duplicateResut', async () => {
    const { status, body } = await h.rest('POST', '/sobjects/Contact', { LastName: 'Funke', Email: 'Lindsay.Bluth@example.com' });
    assert.equal(status, 400);
    assert.deepEqual(Object.keys(body[0]), ['duplicateResut', 'errorCode', 'message']);
    assert.equal(body[0].errorCode, 'DUPLICATES_DETECTED');
    assert.equal(body[0].message, message);
    assert.deepEqual(body[0].duplicateResut, {
      allowSave: true,
      duplicateRule: 'Standard_Contact_Duplicate_Rule',
      duplicateRuleEntityType: 'Contact',
      errorMessage: message,
      matchResults: [
        {
          entityType: 'Contact',
          errors: [],
          matchEngine: 'ExactMatchEngine',
          matchRecords: [{ additionalInformation: [], fieldDiffs: [], matchConfidence: 100, record: { attributes: { type: 'Contact', url: `/services/data/v66.0/sobjects/Contact/${first}` }, Id: first } }],
          rule: 'Standard_Contact_Match_Rule_v1_1',
          size: 1,
          success: true,
        },
      ],
    });
    const second = await h.create('Contact', { LastName: 'Funke', Email: 'tobias@example.com' });
    assert.equal((await h.rest('PATCH', `/sobjects/Contact/${second}`, { Email: 'lindsay.bluth@example.com' })).body[0].errorCode, 'DUPLICATES_DETECTED');
  });

  test('allowSave=true saves past an alert rule, not past a blocking one', async () => {
    const allow = { 'Sforce-Duplicate-Rule-Header': 'allowSave=true' };
    await h.create('Contact', { LastName: 'Funke', Email: 'lindsay.bluth@example.com' }, allow);
    const saved = await h.conn.sobject('Contact').create({ LastName: 'Bluth', Email: 'LINDSAY.BLUTH@example.com' }, { headers: allow });
    assert.equal(saved.success, true);
    await h.create('Account', { Name: 'Bluth Company' });
    const blocked = await h.rest('POST', '/sobjects/Account', { Name: 'bluth company' }, allow);
    assert.equal(blocked.status, 400);
    assert.equal(blocked.body[0].errorCode, 'DUPLICATES_DETECTED');
    assert.equal(blocked.body[0].message, 'Use one of these records?');
    assert.equal(blocked.body[0].duplicateResut.allowSave, false);
  });

  test('in a collection, duplicates fail and the rest is saved', async () => {
    const results = await h.conn.sobject('Contact').create([{ LastName: 'Dup', Email: 'lindsay.bluth@example.com' }, { LastName: 'New', Email: 'gob@example.com' }], { allOrNone: false });
    assert.deepEqual(results[0], { success: false, errors: [{ statusCode: 'DUPLICATES_DETECTED', message, fields: [] }] });
    assert.equal(results[1]!.success, true);
  });

  test('an external ID matching several records: REST upsert answers 300, collections DUPLICATE_EXTERNAL_ID', async () => {
    // Contact.Email is an idLookup field; several contacts share this address by now.
    const matches = [...h.emu.org.records('Contact')].filter((c) => String(c.Email).toLowerCase() === 'lindsay.bluth@example.com').map((c) => c.Id);
    assert.ok(matches.length > 1);
    const upsert = await h.rest('PATCH', '/sobjects/Contact/Email/lindsay.bluth@example.com', { Title: 'Actress' });
    assert.equal(upsert.status, 300);
    assert.deepEqual(upsert.body, matches.map((id) => `${V}/sobjects/Contact/${id}`));
    await assert.rejects(h.conn.sobject('Contact').upsert({ Email: 'lindsay.bluth@example.com', Title: 'Actress' }, 'Email'), { errorCode: 'MULTIPLE_CHOICES' });
    const { body } = await h.rest('PATCH', '/composite/sobjects/Contact/Email', {
      allOrNone: false,
      records: records('Contact', [
        { Email: 'lindsay.bluth@example.com', Title: 'Actress' },
        { Email: 'buster@example.com', LastName: 'Bluth' },
      ]),
    });
    assert.deepEqual(body[0], {
      success: false,
      errors: [{ statusCode: 'DUPLICATE_EXTERNAL_ID', message: `Email: more than one record found for external id field: [${matches.join(', ')}]`, fields: ['Email'] }],
    });
    assert.equal(body[1].success, true);
    assert.equal(body[1].created, true);
  });
});

describe('sharing, users and record types', () => {
  let h: Harness;
  let hidden: string;
  let visible: string;
  const users = { greg: '', ravi: '', dana: '' };
  before(async () => {
    h = await start('empty');
    hidden = await h.create('Account', { Name: 'Private Holdings' });
    visible = await h.create('Account', { Name: 'Open Books' });
    users.greg = h.find('User', (u) => u.LastName === 'Holloway').Id;
    users.ravi = h.find('User', (u) => u.LastName === 'Menon').Id;
    users.dana = h.find('User', (u) => u.LastName === 'Whitfield').Id;
  });
  after(() => h.close());

  test('a lookup to a record the user cannot see: INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY', async () => {
    await h.behave({ kind: 'sharing', object: 'Account', name: 'Private_Accounts', recordIds: [hidden] });
    assert.deepEqual(await h.rest('POST', '/sobjects/Contact', { LastName: 'Spy', AccountId: hidden }), {
      status: 400,
      body: [{ message: `insufficient access rights on cross-reference id: ${id15(hidden)}`, errorCode: 'INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY', fields: [] }],
    });
    assert.deepEqual(await h.rest('PATCH', `/sobjects/Account/${hidden}`, { Site: 'x' }), {
      status: 400,
      body: [{ message: 'insufficient access rights on object id', errorCode: 'INSUFFICIENT_ACCESS_OR_READONLY', fields: [] }],
    });
    const { body } = await h.rest('POST', '/composite/sobjects', { records: records('Contact', [{ LastName: 'Spy', AccountId: hidden }, { LastName: 'Clerk', AccountId: visible }]) });
    assert.equal(body[0].errors[0].statusCode, 'INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY');
    assert.equal(body[1].success, true);
  });

  test('inactive users: owners (the org) and other user lookups (INACTIVE_OWNER_OR_USER)', async () => {
    assert.deepEqual(await h.rest('POST', '/sobjects/Account', { Name: 'Orphan', OwnerId: users.greg }), {
      status: 400,
      body: [{ message: `operation performed with inactive user [${id15(users.greg)}] as owner of account`, errorCode: 'INACTIVE_OWNER_OR_USER', fields: [] }],
    });
    // A manager is a user lookup the org accepts inactive users in, until a rule says otherwise.
    assert.equal((await h.rest('PATCH', `/sobjects/User/${users.dana}`, { ManagerId: users.greg })).status, 204);
    await h.behave({ kind: 'inactiveUserLookup', fields: ['User.ManagerId'] });
    assert.deepEqual(await h.rest('PATCH', `/sobjects/User/${users.dana}`, { ManagerId: users.greg }), {
      status: 400,
      body: [{ message: `operation performed with inactive user [${id15(users.greg)}] as owner of user`, errorCode: 'INACTIVE_OWNER_OR_USER', fields: [] }],
    });
    assert.equal((await h.rest('PATCH', `/sobjects/User/${users.dana}`, { ManagerId: users.ravi })).status, 204);
  });

  test('users who are not members of the org (INVALID_USERID) and refused User writes (INVALID_USER_OBJECT)', async () => {
    await h.behave({ kind: 'invalidUser', userIds: [users.ravi] });
    assert.deepEqual(await h.rest('POST', '/sobjects/Account', { Name: 'Ravi Co', OwnerId: users.ravi }), {
      status: 400,
      body: [{ message: `invalid user id: ${id15(users.ravi)}`, errorCode: 'INVALID_USERID', fields: [] }],
    });
    const { body } = await h.rest('POST', '/composite/sobjects', { records: records('Account', [{ Name: 'Ravi Co', OwnerId: users.ravi }, { Name: 'Dana Co', OwnerId: users.dana }]) });
    assert.equal(body[0].errors[0].statusCode, 'INVALID_USERID');
    assert.equal(body[1].success, true);
    await h.behave({ kind: 'invalidUserObject', operations: ['update'], condition: { field: 'Department', changed: true } });
    assert.deepEqual(await h.rest('PATCH', `/sobjects/User/${users.dana}`, { Department: 'Finance' }), {
      status: 400,
      body: [{ message: 'invalid user object', errorCode: 'INVALID_USER_OBJECT', fields: [] }],
    });
  });

  test('record types: unassigned or inactive ones are refused; no default to take is UNAVAILABLE_RECORDTYPE_EXCEPTION', async () => {
    const type = (name: string): string => h.find('RecordType', (r) => r.DeveloperName === name).Id;
    await h.behave({ kind: 'recordTypes', object: 'Account', name: 'Account_Record_Types', available: ['Business_Account', 'Partner_Account'] });
    assert.deepEqual(await h.rest('POST', '/sobjects/Account', { Name: 'Old Co', RecordTypeId: type('Legacy_Account') }), {
      status: 400,
      body: [{ message: `Record Type ID: this ID value isn't valid for the user: ${type('Legacy_Account')}`, errorCode: 'INVALID_CROSS_REFERENCE_KEY', fields: ['RecordTypeId'] }],
    });
    await h.create('Account', { Name: 'Partner Co', RecordTypeId: type('Partner_Account') });
    await h.create('Account', { Name: 'Plain Co' });
    const unavailable = { status: 400, body: [{ message: 'Unable to find default record type', errorCode: 'UNAVAILABLE_RECORDTYPE_EXCEPTION', fields: [] }] };
    await h.behave({ kind: 'recordTypes', object: 'Account', name: 'Account_Record_Types', default: null });
    assert.deepEqual(await h.rest('POST', '/sobjects/Account', { Name: 'No Type Co' }), unavailable);
    await h.behave({ kind: 'recordTypes', object: 'Account', name: 'Account_Record_Types', default: 'Legacy_Account' });
    assert.deepEqual(await h.rest('POST', '/sobjects/Account', { Name: 'Retired Default Co' }), unavailable);
    await h.create('Account', { Name: 'Typed Co', RecordTypeId: type('Business_Account') });
  });

  test('a field whose type changed refuses values that no longer fit (INVALID_TYPE_ON_FIELD_IN_RECORD)', async () => {
    await h.behave({ kind: 'fieldTypeChange', object: 'Account', field: 'YearStarted', newType: 'int' });
    assert.deepEqual(await h.rest('PATCH', `/sobjects/Account/${visible}`, { YearStarted: '19x9' }), {
      status: 400,
      body: [{ message: 'Year Started: value not of required type: 19x9', errorCode: 'INVALID_TYPE_ON_FIELD_IN_RECORD', fields: ['YearStarted'] }],
    });
    assert.equal((await h.rest('PATCH', `/sobjects/Account/${visible}`, { YearStarted: '1999' })).status, 204);
  });
});

describe('platform rules restores meet (the org enforces them)', () => {
  let h: Harness;
  before(async () => {
    h = await start('empty');
  });
  after(() => h.close());

  test('REQUIRED_FIELD_MISSING, INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST, ENTITY_IS_DELETED, INVALID_SESSION_ID', async () => {
    assert.deepEqual(await h.rest('POST', '/sobjects/Account', { Site: 'nameless' }), {
      status: 400,
      body: [{ message: 'Required fields are missing: [Name]', errorCode: 'REQUIRED_FIELD_MISSING', fields: ['Name'] }],
    });
    assert.deepEqual(await h.rest('POST', '/sobjects/Account', { Name: 'Picky', CleanStatus: 'Sparkling' }), {
      status: 400,
      body: [{ message: 'Clean Status: bad value for restricted picklist field: Sparkling', errorCode: 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', fields: ['CleanStatus'] }],
    });
    const gone = await h.create('Account', { Name: 'Gone' });
    assert.equal((await h.rest('DELETE', `/sobjects/Account/${gone}`)).status, 204);
    assert.deepEqual(await h.rest('POST', '/sobjects/Contact', { LastName: 'Orphan', AccountId: gone }), {
      status: 400,
      body: [{ message: 'entity is deleted', errorCode: 'ENTITY_IS_DELETED', fields: ['AccountId'] }],
    });
    assert.deepEqual(await h.rest('GET', '/limits', undefined, { authorization: 'Bearer 00D000000000000!AQnotatoken' }), {
      status: 401,
      body: [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }],
    });
    const results = await h.conn.sobject('Account').create([{ Name: 'Fine' }, { Name: 'Picky', CleanStatus: 'Sparkling' }, {}], { allOrNone: false });
    assert.equal(results[0]!.success, true);
    assert.deepEqual(results[1], { success: false, errors: [{ statusCode: 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', message: 'Clean Status: bad value for restricted picklist field: Sparkling', fields: ['CleanStatus'] }] });
    assert.deepEqual(results[2], { success: false, errors: [{ statusCode: 'REQUIRED_FIELD_MISSING', message: 'Required fields are missing: [Name]', fields: ['Name'] }] });
  });
});

describe('row-lock contention and internal errors at seeded rates', () => {
  const failures = async (seed: number, kind: 'rowLock' | 'unknownException'): Promise<{ failed: number[]; errors: Json[] }> => {
    const h = await start('empty');
    try {
      await h.behave({ kind, object: 'Account', rate: 0.3, seed });
      const { body } = await h.rest('POST', '/composite/sobjects', { records: records('Account', Array.from({ length: 40 }, (_, i) => ({ Name: `Account ${i}` }))) });
      const failed = body.flatMap((r: Json, i: number) => (r.success ? [] : [i]));
      return { failed, errors: body.filter((r: Json) => !r.success).map((r: Json) => r.errors[0]) };
    } finally {
      await h.close();
    }
  };

  test('UNABLE_TO_LOCK_ROW: the same seed fails the same writes, another seed others', async () => {
    const a = await failures(42, 'rowLock');
    const b = await failures(42, 'rowLock');
    const c = await failures(43, 'rowLock');
    assert.ok(a.failed.length > 4 && a.failed.length < 24, `about 30% of 40 fail (${a.failed.length})`);
    assert.deepEqual(b.failed, a.failed);
    assert.notDeepEqual(c.failed, a.failed);
    assert.deepEqual(a.errors[0], { statusCode: 'UNABLE_TO_LOCK_ROW', message: 'unable to obtain exclusive access to this record', fields: [] });
  });

  test('UNABLE_TO_LOCK_ROW names the record an update could not lock; UNKNOWN_EXCEPTION answers 500', async () => {
    const h = await start('empty');
    try {
      const account = await h.create('Account', { Name: 'Contended' });
      await h.behave({ kind: 'rowLock', name: 'Contended_Account', recordIds: [account] });
      assert.deepEqual(await h.rest('PATCH', `/sobjects/Account/${account}`, { Site: 'x' }), {
        status: 400,
        body: [{ message: `unable to obtain exclusive access to this record or 1 records: ${account}`, errorCode: 'UNABLE_TO_LOCK_ROW', fields: [] }],
      });
      assert.deepEqual(await h.rest('POST', '/sobjects/Contact', { LastName: 'Child', AccountId: account }), {
        status: 400,
        body: [{ message: `unable to obtain exclusive access to this record or 1 records: ${account}`, errorCode: 'UNABLE_TO_LOCK_ROW', fields: [] }],
      });
      await h.admin('DELETE', '/behaviours/Contended_Account');
      await h.behave({ kind: 'unknownException', object: 'Contact', rate: 1, seed: 5 });
      const { status, body } = await h.rest('POST', '/sobjects/Contact', { LastName: 'Unlucky' });
      assert.equal(status, 500);
      assert.deepEqual(Object.keys(body[0]), ['message', 'errorCode']);
      assert.equal(body[0].errorCode, 'UNKNOWN_EXCEPTION');
      assert.match(body[0].message, /^An unexpected error occurred\. Please include this ErrorId if you contact support: \d+-\d+ \(-\d+\)$/);
    } finally {
      await h.close();
    }
    const a = await failures(9, 'unknownException');
    const b = await failures(9, 'unknownException');
    assert.deepEqual(b.failed, a.failed);
    assert.deepEqual(b.errors, a.errors, 'the ErrorIds come from the seed too');
    assert.equal(a.errors[0].statusCode, 'UNKNOWN_EXCEPTION');
  });
});

describe('every status code of Salesforce Backup\'s table', () => {
  test('is produced by the org or a behaviour', async () => {
    const h = await start('empty');
    try {
      const codes = new Set<string>();
      const expectCode = async (code: string, call: Promise<{ status: number; body: Json }>): Promise<void> => {
        const { body } = await call;
        const found = Array.isArray(body) ? (body[0]?.errorCode ?? body[0]?.errors?.[0]?.statusCode) : undefined;
        assert.equal(found, code, JSON.stringify(body));
        codes.add(code);
      };
      const greg = h.find('User', (u) => u.LastName === 'Holloway').Id;
      const ravi = h.find('User', (u) => u.LastName === 'Menon').Id;
      const account = await h.create('Account', { Name: 'Subject' });
      const gone = await h.create('Account', { Name: 'Gone' });
      await h.rest('DELETE', `/sobjects/Account/${gone}`);
      await h.create('Contact', { LastName: 'One', Email: 'same@example.com' });
      await h.create('Contact', { LastName: 'Two', Email: 'same@example.com' });
      await expectCode('DUPLICATE_EXTERNAL_ID', h.rest('PATCH', '/composite/sobjects/Contact/Email', { records: records('Contact', [{ Email: 'same@example.com' }]) }));
      await expectCode('ENTITY_IS_DELETED', h.rest('POST', '/sobjects/Contact', { LastName: 'X', AccountId: gone }));
      await expectCode('INACTIVE_OWNER_OR_USER', h.rest('POST', '/sobjects/Account', { Name: 'X', OwnerId: greg }));
      await expectCode('INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', h.rest('POST', '/sobjects/Account', { Name: 'X', CleanStatus: 'Nope' }));
      await expectCode('INVALID_SESSION_ID', h.rest('GET', '/limits', undefined, { authorization: 'Bearer nope' }));
      await expectCode('REQUIRED_FIELD_MISSING', h.rest('POST', '/sobjects/Account', {}));
      await h.behave([
        { kind: 'validationRule', object: 'Account', name: 'No_X', formula: 'Name = "X"', message: 'Not X.' },
        { kind: 'lookupFilter', object: 'Contact', field: 'AccountId', formula: 'Name <> "Filtered"' },
        { kind: 'approvalLock', object: 'Account', recordIds: [account] },
        { kind: 'trigger', name: 'SelfTouch', object: 'Opportunity', timing: 'before', operations: ['update'], actions: [{ update: 'self', set: { NextStep: 'x' } }] },
        { kind: 'fieldTypeChange', object: 'Contact', field: 'Department', newType: 'date' },
        { kind: 'invalidUser', userIds: [ravi] },
        { kind: 'invalidUserObject' },
        { kind: 'recordTypes', object: 'Account', default: null },
        { kind: 'rowLock', object: 'Lead', rate: 1 },
        { kind: 'unknownException', object: 'Case', rate: 1 },
      ]);
      const type = h.find('RecordType', (r) => r.DeveloperName === 'Business_Account').Id;
      await expectCode('FIELD_CUSTOM_VALIDATION_EXCEPTION', h.rest('POST', '/sobjects/Account', { Name: 'X', RecordTypeId: type }));
      const filtered = h.emu.org.insert('Account', { Name: 'Filtered' }, { userId: h.emu.org.apiUserId, system: true }).Id;
      await expectCode('FIELD_FILTER_VALIDATION_EXCEPTION', h.rest('POST', '/sobjects/Contact', { LastName: 'X', AccountId: filtered }));
      await expectCode('ENTITY_IS_LOCKED', h.rest('PATCH', `/sobjects/Account/${account}`, { Site: 'x' }));
      const opp = await h.create('Opportunity', { Name: 'O', StageName: 'Prospecting', CloseDate: '2026-01-01' });
      await expectCode('SELF_REFERENCE_FROM_TRIGGER', h.rest('PATCH', `/sobjects/Opportunity/${opp}`, { Amount: 1 }));
      await expectCode('INVALID_TYPE_ON_FIELD_IN_RECORD', h.rest('POST', '/sobjects/Contact', { LastName: 'X', Department: 'Sales' }));
      await expectCode('INVALID_USERID', h.rest('POST', '/sobjects/Contact', { LastName: 'X', OwnerId: ravi }));
      await expectCode('INVALID_USER_OBJECT', h.rest('PATCH', `/sobjects/User/${ravi}`, { Title: 'x' }));
      await expectCode('UNAVAILABLE_RECORDTYPE_EXCEPTION', h.rest('POST', '/sobjects/Account', { Name: 'Y' }));
      await expectCode('UNABLE_TO_LOCK_ROW', h.rest('POST', '/sobjects/Lead', { LastName: 'X', Company: 'Y' }));
      await expectCode('UNKNOWN_EXCEPTION', h.rest('POST', '/sobjects/Case', { Subject: 'x' }));
      assert.equal(codes.size, 16);
    } finally {
      await h.close();
    }
  });
});

describe('the demo org\'s behaviours', () => {
  let h: Harness;
  before(async () => {
    h = await start('demo');
    installDemoBehaviours(h.emu.org);
  });
  after(() => h.close());

  test('are listed by the admin API and show their validation rules as metadata', async () => {
    const { body } = await h.admin('GET', '/behaviours');
    assert.equal(body.behaviours.length, 12);
    assert.deepEqual(
      listValidationRules(h.emu.org).map((r) => [r.fullName, r.errorConditionFormula]),
      [
        ['Account.Phone_Required_For_Customers', 'AND(BEGINS(TEXT(Type), "Customer"), ISBLANK(Phone))'],
        ['Opportunity.Closed_Won_Requires_Amount', 'AND(ISPICKVAL(StageName, "Closed Won"), OR(ISBLANK(Amount), Amount <= 0))'],
      ],
    );
    const again = await h.admin('POST', '/behaviours/demo');
    assert.equal(again.body.behaviours.length, 12, 'installing them again replaces them');
  });

  test('ordinary writes succeed', async () => {
    await h.create('Account', { Name: 'Brand New Customer', Type: 'Customer - Direct', Phone: '(415) 555-0199' });
    const contact = h.find('Contact', (c) => typeof c.AccountId === 'string');
    assert.equal((await h.rest('PATCH', `/sobjects/Contact/${contact.Id}`, { Title: 'Director' })).status, 204);
    const opp = h.find('Opportunity', (o) => o.StageName === 'Prospecting');
    assert.equal((await h.rest('PATCH', `/sobjects/Opportunity/${opp.Id}`, { NextStep: 'Call back' })).status, 204);
  });

  test('restoring seeded data meets each of them', async () => {
    const org = h.emu.org;
    const code = async (call: Promise<{ status: number; body: Json }>): Promise<string> => (await call).body[0].errorCode;
    const customer = h.find('Account', (a) => String(a.Type).startsWith('Customer'));
    assert.equal(await code(h.rest('PATCH', `/sobjects/Account/${customer.Id}`, { Phone: null })), 'FIELD_CUSTOM_VALIDATION_EXCEPTION');
    assert.equal(await code(h.rest('POST', '/sobjects/Account', { Name: customer.Name, Phone: '1' })), 'DUPLICATES_DETECTED');
    const prospecting = h.find('Opportunity', (o) => o.StageName === 'Prospecting' && o.Id !== undefined);
    assert.equal(await code(h.rest('PATCH', `/sobjects/Opportunity/${prospecting.Id}`, { StageName: 'Closed Won' })), 'SELF_REFERENCE_FROM_TRIGGER');
    const negotiating = h.find('Opportunity', (o) => o.StageName === 'Negotiation/Review');
    assert.equal(await code(h.rest('PATCH', `/sobjects/Opportunity/${negotiating.Id}`, { Description: 'restored' })), 'ENTITY_IS_LOCKED');
    const tracked = h.find('Opportunity', (o) => typeof o.TrackingNumber__c === 'string' && o.StageName !== 'Negotiation/Review');
    assert.equal(await code(h.rest('PATCH', `/sobjects/Opportunity/${tracked.Id}`, { TrackingNumber__c: tracked.TrackingNumber__c })), 'INVALID_TYPE_ON_FIELD_IN_RECORD');
    const legacy = h.find('RecordType', (r) => r.DeveloperName === 'Legacy_Account');
    assert.equal(await code(h.rest('POST', '/sobjects/Account', { Name: 'Restored Legacy', Phone: '1', RecordTypeId: legacy.Id })), 'INVALID_CROSS_REFERENCE_KEY');
    const privateAccount = h.find('Account', (a) => a.Type === 'Other' && a.Ownership === 'Private');
    assert.equal(await code(h.rest('POST', '/sobjects/Contact', { LastName: 'Restored', AccountId: privateAccount.Id })), 'INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY');
    const reporting = h.find('Contact', (c) => typeof c.ReportsToId === 'string');
    const stranger = h.find('Contact', (c) => c.AccountId !== reporting.AccountId);
    assert.equal(await code(h.rest('PATCH', `/sobjects/Contact/${reporting.Id}`, { ReportsToId: stranger.Id })), 'FIELD_FILTER_VALIDATION_EXCEPTION');
    const withEmail = h.find('Contact', (c) => typeof c.Email === 'string');
    assert.equal(await code(h.rest('POST', '/sobjects/Contact', { LastName: 'Copy', Email: withEmail.Email })), 'DUPLICATES_DETECTED');
    const won = h.find('Opportunity', (o) => o.StageName === 'Closed Won' && o.Id !== negotiating.Id);
    assert.equal(await code(h.rest('PATCH', `/sobjects/Opportunity/${won.Id}`, { Amount: null })), 'FIELD_CUSTOM_VALIDATION_EXCEPTION');
    // A trigger that writes another record: escalating a case makes its account hot.
    const working = h.find('Case', (c) => c.Status === 'Working' && typeof c.AccountId === 'string' && !org.get(String(c.AccountId))!.IsDeleted && org.get(String(c.AccountId))!.Rating !== 'Hot' && !(org.get(String(c.AccountId))!.Type === 'Other' && org.get(String(c.AccountId))!.Ownership === 'Private'));
    assert.equal((await h.rest('PATCH', `/sobjects/Case/${working.Id}`, { Status: 'Escalated' })).status, 204);
    assert.equal(org.get(String(working.AccountId))!.Rating, 'Hot');
  });
});
