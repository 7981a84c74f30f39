// The SOQL engine against a hand-built schema and an in-memory QuerySource: every supported
// clause, the REST and flat projections, Salesforce's error codes and messages, Bulk 2.0's
// refusals, and the million-row backup queries.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Schema } from '../../emulator/org/schema.ts';
import type { FieldDef, ObjectDef, ObjectSchema, StoredRecord } from '../../emulator/org/schema.ts';
import { IdAllocator } from '../../emulator/org/ids.ts';
import { SalesforceError } from '../../emulator/org/errors.ts';
import type { QuerySource } from '../../emulator/soql/source.ts';
import { executeSoql } from '../../emulator/soql/execute.ts';
import type { QueryPlanResult, SoqlOptions } from '../../emulator/soql/execute.ts';

// ---------------------------------------------------------------------------------------------
// Schema

function field(name: string, type: FieldDef['type'], extra: Partial<FieldDef> = {}): FieldDef {
  return { name, label: name, type, nillable: true, createable: true, updateable: true, custom: name.endsWith('__c') || name.endsWith('__s'), ...extra };
}

function object(name: string, keyPrefix: string, labelPlural: string, fields: FieldDef[], extra: Partial<ObjectDef> = {}): ObjectDef {
  const system = [
    field('Id', 'id', { nillable: false, createable: false, updateable: false }),
    field('IsDeleted', 'boolean', { nillable: false, createable: false, updateable: false }),
    field('CreatedDate', 'datetime', { createable: false, updateable: false }),
    field('SystemModstamp', 'datetime', { createable: false, updateable: false }),
  ];
  return {
    name,
    label: name,
    labelPlural,
    keyPrefix,
    custom: name.endsWith('__c'),
    fields: [...system, ...fields],
    queryable: true,
    createable: true,
    updateable: true,
    deletable: true,
    undeletable: true,
    retrieveable: true,
    replicateable: true,
    searchable: true,
    triggerable: true,
    layoutable: true,
    ...extra,
  };
}

const billing = (suffix: string, type: FieldDef['type'] = 'string'): FieldDef => field(`Billing${suffix}`, type, { compoundFieldName: 'BillingAddress' });

const schema = new Schema([
  object('User', '005', 'Users', [field('Name', 'string'), field('Email', 'email'), field('IsActive', 'boolean')]),
  object('Account', '001', 'Accounts', [
    field('Name', 'string', { nameField: true }),
    field('Type', 'picklist'),
    field('Industry', 'picklist', {
      picklistValues: [
        { value: 'Tech', label: 'Technology', active: true, defaultValue: false },
        { value: 'Retail', label: 'Retail Trade', active: true, defaultValue: false },
      ],
    }),
    field('AnnualRevenue', 'currency'),
    field('NumberOfEmployees', 'int'),
    field('Active__c', 'boolean'),
    field('Founded__c', 'date'),
    field('Description', 'textarea', { filterable: false, sortable: false }),
    field('OwnerId', 'reference', { referenceTo: ['User'], relationshipName: 'Owner', childRelationshipName: null }),
    field('ParentId', 'reference', { referenceTo: ['Account'], relationshipName: 'Parent', childRelationshipName: 'ChildAccounts' }),
    billing('Street', 'textarea'),
    billing('City'),
    billing('State'),
    billing('PostalCode'),
    billing('Country'),
    billing('Latitude', 'double'),
    billing('Longitude', 'double'),
    billing('GeocodeAccuracy', 'picklist'),
    field('BillingAddress', 'address', { createable: false, updateable: false }),
  ]),
  object('Contact', '003', 'Contacts', [
    field('FirstName', 'string'),
    field('LastName', 'string'),
    field('Name', 'string', {
      createable: false,
      updateable: false,
      formula: ({ record }) => [record.FirstName, record.LastName].filter(Boolean).join(' ') || null,
    }),
    field('Email', 'email'),
    field('Birthdate', 'date'),
    field('AccountId', 'reference', { referenceTo: ['Account'], relationshipName: 'Account' }),
  ]),
  object('Widget__c', 'a01', 'Widgets', [
    field('Name', 'string'),
    field('Colors__c', 'multipicklist'),
    field('Price__c', 'double'),
    field('Total__c', 'double', {
      createable: false,
      updateable: false,
      formula: ({ record }) => (typeof record.Price__c === 'number' ? record.Price__c * 2 : null),
      formulaText: 'Price__c * 2',
    }),
    field('Account__c', 'reference', { referenceTo: ['Account'], relationshipName: 'Account__r' }),
    field('Data__c', 'base64'),
    field('Secret__c', 'encryptedstring', { encrypted: true, maskChar: '*' }),
    field('Location__Latitude__s', 'double', { compoundFieldName: 'Location__c' }),
    field('Location__Longitude__s', 'double', { compoundFieldName: 'Location__c' }),
    field('Location__c', 'location', { createable: false, updateable: false }),
  ]),
  object('Task', '00T', 'Tasks', [
    field('Subject', 'string'),
    field('WhatId', 'reference', { referenceTo: ['Account', 'Widget__c'], relationshipName: 'What', polymorphicForeignKey: true }),
    field('WhoId', 'reference', { referenceTo: ['Contact'], relationshipName: 'Who', polymorphicForeignKey: true }),
  ]),
  object('Hidden__c', 'a02', 'Hiddens', [field('Name', 'string')], { queryable: false }),
]);

// ---------------------------------------------------------------------------------------------
// An in-memory source

const NOW = Date.parse('2024-03-13T15:30:00.000Z'); // a Wednesday

class MemorySource implements QuerySource {
  readonly schema: Schema;
  readonly tables = new Map<string, StoredRecord[]>();
  readonly byId = new Map<string, StoredRecord>();
  scans: string[] = [];
  /** When set, scan() ignores includeDeleted, to prove the engine filters deleted rows itself. */
  leakDeleted = false;
  private readonly ids = new IdAllocator();

  constructor(s: Schema) {
    this.schema = s;
  }

  insert(objectName: string, values: Record<string, unknown>): StoredRecord {
    const obj = this.schema.object(objectName)!;
    const record = { IsDeleted: false, ...values, Id: this.ids.next(obj.def.keyPrefix) } as StoredRecord;
    const list = this.tables.get(obj.name) ?? [];
    list.push(record);
    this.tables.set(obj.name, list);
    this.byId.set(record.Id, record);
    return record;
  }

  scan(objectName: string, includeDeleted: boolean): Iterable<StoredRecord> {
    this.scans.push(objectName);
    const list = this.tables.get(this.schema.object(objectName)!.name) ?? [];
    return includeDeleted || this.leakDeleted ? list : list.filter((r) => r.IsDeleted !== true);
  }

  get(id: string): StoredRecord | undefined {
    return this.byId.get(id);
  }

  readField(obj: ObjectSchema, record: StoredRecord, fieldName: string): unknown {
    const def = obj.field(fieldName);
    if (!def) return null;
    if (def.formula) return def.formula({ record, lookup: (id) => this.byId.get(id) });
    const value = record[def.name] ?? null;
    if (def.encrypted && typeof value === 'string') return '*'.repeat(value.length);
    return value;
  }

  fieldReader(obj: ObjectSchema, field: FieldDef): (record: StoredRecord) => unknown {
    return (record) => this.readField(obj, record, field.name);
  }

  nowMs(): number {
    return NOW;
  }
}

function fixture() {
  const src = new MemorySource(schema);
  const ada = src.insert('User', { Name: 'Ada', Email: 'ada@example.com', IsActive: true });
  const acme = src.insert('Account', {
    Name: 'Acme',
    Type: 'Customer',
    Industry: 'Tech',
    AnnualRevenue: 1000.5,
    NumberOfEmployees: 50,
    Active__c: true,
    Founded__c: '2001-05-04',
    OwnerId: ada.Id,
    CreatedDate: '2024-03-13T08:00:00.000+0000',
    SystemModstamp: '2024-03-13T08:00:00.000+0000',
    BillingStreet: '1 Main St',
    BillingCity: 'Springfield',
    BillingCountry: 'US',
    BillingLatitude: 1.5,
    BillingLongitude: -2.25,
  });
  const globex = src.insert('Account', {
    Name: 'globex',
    Industry: 'Retail',
    AnnualRevenue: 20,
    NumberOfEmployees: 5,
    Active__c: false,
    ParentId: acme.Id,
    CreatedDate: '2024-03-12T23:59:59.000+0000',
    SystemModstamp: '2024-03-12T23:59:59.000+0000',
  });
  const initech = src.insert('Account', {
    Name: 'Initech',
    NumberOfEmployees: 500,
    Active__c: true,
    CreatedDate: '2024-02-01T00:00:00.000+0000',
    SystemModstamp: '2024-02-01T00:00:00.000+0000',
  });
  const gone = src.insert('Account', { Name: 'Gone', IsDeleted: true, CreatedDate: '2024-01-01T00:00:00.000+0000', SystemModstamp: '2024-03-01T00:00:00.000+0000' });
  const c1 = src.insert('Contact', { FirstName: 'Carol', LastName: 'Zed', Email: 'carol@acme.test', AccountId: acme.Id, Birthdate: '1990-01-02' });
  const c2 = src.insert('Contact', { FirstName: 'Bob', LastName: 'Young', AccountId: acme.Id });
  const c3 = src.insert('Contact', { FirstName: 'Dan', LastName: 'Xu', AccountId: globex.Id });
  const c4 = src.insert('Contact', { FirstName: 'Old', LastName: 'Deleted', AccountId: acme.Id, IsDeleted: true });
  const w1 = src.insert('Widget__c', { Name: 'W1', Colors__c: 'Red;Blue', Price__c: 2.5, Account__c: acme.Id, Data__c: 'aGVsbG8=', Secret__c: 'hush', Location__Latitude__s: 10, Location__Longitude__s: 20 });
  const w2 = src.insert('Widget__c', { Name: 'W2', Colors__c: 'Green', Price__c: 4, Account__c: acme.Id });
  const w3 = src.insert('Widget__c', { Name: 'W3', Colors__c: null, Price__c: null });
  const t1 = src.insert('Task', { Subject: 'Call', WhatId: acme.Id, WhoId: c1.Id });
  const t2 = src.insert('Task', { Subject: 'Ship', WhatId: w1.Id });
  const t3 = src.insert('Task', { Subject: 'Idle' });
  src.scans = [];
  return { src, ada, acme, globex, initech, gone, c1, c2, c3, c4, w1, w2, w3, t1, t2, t3 };
}

const REST: SoqlOptions = { includeDeleted: false, context: 'rest' };
const ALL: SoqlOptions = { includeDeleted: true, context: 'rest' };
const BULK: SoqlOptions = { includeDeleted: false, context: 'bulk' };

function run(src: QuerySource, soql: string, options: SoqlOptions = REST): QueryPlanResult {
  return executeSoql(src, soql, options);
}

/** The REST JSON records of a query at API v62.0. */
function rest(src: QuerySource, soql: string, options: SoqlOptions = REST): Record<string, unknown>[] {
  const result = run(src, soql, options);
  return result.rows.map((r) => result.projectRest(r, '62.0'));
}

/** Values of one column of a query's rows. */
function column(src: QuerySource, soql: string, name: string, options: SoqlOptions = REST): unknown[] {
  return rest(src, soql, options).map((r) => r[name]);
}

function fails(fn: () => unknown, errorCode: string, message?: string | RegExp): SalesforceError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof SalesforceError, `expected a SalesforceError, got ${String(caught)}`);
  assert.equal(caught.errorCode, errorCode, caught.message);
  assert.equal(caught.httpStatus, 400);
  if (typeof message === 'string') assert.equal(caught.message, message);
  else if (message) assert.match(caught.message, message);
  return caught;
}

// ---------------------------------------------------------------------------------------------

describe('field lists and projection', () => {
  test('names resolve case-insensitively to canonical case, with attributes and typed values', () => {
    const { src, acme } = fixture();
    const [row] = rest(src, "select id, NAME, annualrevenue, numberofemployees, active__c, founded__c, createddate, industry, ownerid from account where name = 'Acme'");
    assert.deepEqual(row, {
      attributes: { type: 'Account', url: `/services/data/v62.0/sobjects/Account/${acme.Id}` },
      Id: acme.Id,
      Name: 'Acme',
      AnnualRevenue: 1000.5,
      NumberOfEmployees: 50,
      Active__c: true,
      Founded__c: '2001-05-04',
      CreatedDate: '2024-03-13T08:00:00.000+0000',
      Industry: 'Tech',
      OwnerId: acme.OwnerId,
    });
    assert.equal(run(src, 'SELECT Id FROM account').object, 'Account');
  });

  test('parent paths nest objects with attributes, merged per relationship; empty lookups are null', () => {
    const { src, acme, ada, globex, c3 } = fixture();
    const rows = rest(src, 'SELECT LastName, Account.Name, account.owner.EMAIL, Account.Industry FROM Contact ORDER BY LastName');
    assert.deepEqual(rows[0], {
      attributes: { type: 'Contact', url: `/services/data/v62.0/sobjects/Contact/${c3.Id}` },
      LastName: 'Xu',
      Account: {
        attributes: { type: 'Account', url: `/services/data/v62.0/sobjects/Account/${globex.Id}` },
        Name: 'globex',
        Owner: null,
        Industry: 'Retail',
      },
    });
    assert.deepEqual(rows[2].Account, {
      attributes: { type: 'Account', url: `/services/data/v62.0/sobjects/Account/${acme.Id}` },
      Name: 'Acme',
      Owner: { attributes: { type: 'User', url: `/services/data/v62.0/sobjects/User/${ada.Id}` }, Email: 'ada@example.com' },
      Industry: 'Tech',
    });
    const [lonely] = rest(src, "SELECT Name, Parent.Name FROM Account WHERE Name = 'Acme'");
    assert.equal(lonely.Parent, null);
  });

  test('the object name or alias may prefix a path', () => {
    const { src } = fixture();
    assert.deepEqual(column(src, "SELECT Account.Name FROM Account WHERE Account.Name = 'Acme'", 'Name'), ['Acme']);
    assert.deepEqual(column(src, "SELECT a.Name FROM Account a WHERE a.Name = 'Acme' ORDER BY a.Name", 'Name'), ['Acme']);
  });

  test('polymorphic relationships resolve through the referenced record’s actual object', () => {
    const { src, acme, w1 } = fixture();
    const rows = rest(src, 'SELECT Subject, What.Name, What.Type, Who.Name FROM Task ORDER BY Subject');
    assert.deepEqual(
      rows.map((r) => [r.Subject, r.What, r.Who === null ? null : (r.Who as Record<string, unknown>).attributes]),
      [
        ['Call', { attributes: { type: 'Account', url: `/services/data/v62.0/sobjects/Account/${acme.Id}` }, Name: 'Acme', Type: 'Account' }, { type: 'Contact', url: (rows[0].Who as { attributes: { url: string } }).attributes.url }],
        ['Idle', null, null],
        ['Ship', { attributes: { type: 'Widget__c', url: `/services/data/v62.0/sobjects/Widget__c/${w1.Id}` }, Name: 'W1', Type: 'Widget__c' }, null],
      ],
    );
    // Contact.Name is a formula here: read through the source on the parent's actual object.
    assert.equal((rows[0].Who as Record<string, unknown>).Name, 'Carol Zed');
    assert.deepEqual(column(src, "SELECT Subject FROM Task WHERE What.Name = 'W1'", 'Subject'), ['Ship']);
    // What.Type is the parent's object, even when that object has a Type field of its own.
    assert.deepEqual(column(src, "SELECT Subject FROM Task WHERE What.Type = 'Account'", 'Subject'), ['Call']);
    assert.deepEqual(column(src, "SELECT Subject, What.Email FROM Task WHERE Subject = 'Call'", 'What'), [
      { attributes: { type: 'Account', url: `/services/data/v62.0/sobjects/Account/${acme.Id}` }, Email: null },
    ]);
  });

  test('child subqueries give {totalSize, done, records} or null, with their own WHERE, ORDER BY and LIMIT', () => {
    const { src, c1, c2 } = fixture();
    const rows = rest(src, 'SELECT Name, (SELECT LastName, Account.Name FROM Contacts ORDER BY LastName), (SELECT Name FROM widgets__r WHERE Price__c > 3) FROM Account ORDER BY Name');
    const acme = rows.find((r) => r.Name === 'Acme')!;
    assert.deepEqual(acme.Contacts, {
      totalSize: 2,
      done: true,
      records: [
        { attributes: { type: 'Contact', url: `/services/data/v62.0/sobjects/Contact/${c2.Id}` }, LastName: 'Young', Account: (acme.Contacts as { records: Record<string, unknown>[] }).records[0].Account },
        { attributes: { type: 'Contact', url: `/services/data/v62.0/sobjects/Contact/${c1.Id}` }, LastName: 'Zed', Account: (acme.Contacts as { records: Record<string, unknown>[] }).records[1].Account },
      ],
    });
    assert.equal(((acme.Contacts as { records: Record<string, unknown>[] }).records[0].Account as Record<string, unknown>).Name, 'Acme');
    assert.equal((acme.Widgets__r as { totalSize: number }).totalSize, 1);
    assert.equal(rows.find((r) => r.Name === 'Initech')!.Contacts, null);
    const limited = rest(src, "SELECT Name, (SELECT LastName FROM Contacts ORDER BY LastName DESC LIMIT 1) FROM Account WHERE Name = 'Acme'");
    assert.deepEqual((limited[0].Contacts as { records: Array<{ LastName: string }> }).records.map((r) => r.LastName), ['Zed']);
  });

  test('a child subquery scans the child object once per query, not once per parent', () => {
    const { src } = fixture();
    src.scans = [];
    rest(src, 'SELECT Name, (SELECT Id FROM Contacts) FROM Account');
    assert.deepEqual(src.scans.sort(), ['Account', 'Contact']);
  });

  test('child subqueries include deleted children only under queryAll', () => {
    const { src } = fixture();
    const count = (options: SoqlOptions) =>
      (rest(src, "SELECT Name, (SELECT Id FROM Contacts) FROM Account WHERE Name = 'Acme'", options)[0].Contacts as { totalSize: number }).totalSize;
    assert.equal(count(REST), 2);
    assert.equal(count(ALL), 3);
  });

  test('FIELDS(ALL), FIELDS(STANDARD) and FIELDS(CUSTOM)', () => {
    const { src } = fixture();
    const all = run(src, 'SELECT FIELDS(ALL) FROM Widget__c LIMIT 200');
    assert.deepEqual(all.columns, ['Id', 'IsDeleted', 'CreatedDate', 'SystemModstamp', 'Name', 'Colors__c', 'Price__c', 'Total__c', 'Account__c', 'Data__c', 'Secret__c', 'Location__Latitude__s', 'Location__Longitude__s', 'Location__c']);
    assert.deepEqual(run(src, 'SELECT FIELDS(STANDARD) FROM Widget__c').columns, ['Id', 'IsDeleted', 'CreatedDate', 'SystemModstamp', 'Name']);
    assert.deepEqual(run(src, 'SELECT FIELDS(custom) FROM Widget__c LIMIT 5').columns, ['Colors__c', 'Price__c', 'Total__c', 'Account__c', 'Data__c', 'Secret__c', 'Location__Latitude__s', 'Location__Longitude__s', 'Location__c']);
    const [row] = rest(src, "SELECT FIELDS(STANDARD), Account__r.Name FROM Widget__c WHERE Name = 'W1'");
    assert.equal((row.Account__r as Record<string, unknown>).Name, 'Acme');
  });

  test('FIELDS(ALL) and FIELDS(CUSTOM) need a LIMIT of at most 200', () => {
    const { src } = fixture();
    const expected = '\nSELECT FIELDS(ALL) FROM Account\n       ^\nERROR at Row:1:Column:8\nThe SOQL FIELDS function must have a LIMIT of at most 200';
    fails(() => run(src, 'SELECT FIELDS(ALL) FROM Account'), 'MALFORMED_QUERY', expected);
    fails(() => run(src, 'SELECT FIELDS(CUSTOM) FROM Account LIMIT 201'), 'MALFORMED_QUERY', /The SOQL FIELDS function must have a LIMIT of at most 200$/);
    assert.equal(run(src, 'SELECT FIELDS(ALL) FROM Account LIMIT 200').totalSize, 3);
  });

  test('a field selected twice is INVALID_FIELD, FIELDS() overlaps included', () => {
    const { src } = fixture();
    fails(() => run(src, 'SELECT Id, Name, name FROM Account'), 'INVALID_FIELD', '\nSELECT Id, Name, name FROM Account\n                 ^\nERROR at Row:1:Column:18\nduplicate field selected: name');
    fails(() => run(src, 'SELECT Id, FIELDS(ALL) FROM Account LIMIT 10'), 'INVALID_FIELD', /duplicate field selected: Id$/);
  });

  test('formulas and masks are read through the source; base64 fields print as their blob URL', () => {
    const { src, w1 } = fixture();
    const [row] = rest(src, "SELECT Total__c, Secret__c, Data__c FROM Widget__c WHERE Name = 'W1'");
    assert.equal(row.Total__c, 5);
    assert.equal(row.Secret__c, '****');
    assert.equal(row.Data__c, `/services/data/v62.0/sobjects/Widget__c/${w1.Id}/Data__c`);
    const [empty] = rest(src, "SELECT Data__c, Total__c FROM Widget__c WHERE Name = 'W3'");
    assert.deepEqual([empty.Data__c, empty.Total__c], [null, null]);
  });

  test('address and location compound fields are assembled from their components', () => {
    const { src } = fixture();
    const rows = rest(src, 'SELECT Name, BillingAddress FROM Account ORDER BY Name');
    assert.deepEqual(rows[0].BillingAddress, {
      city: 'Springfield',
      country: 'US',
      geocodeAccuracy: null,
      latitude: 1.5,
      longitude: -2.25,
      postalCode: null,
      state: null,
      street: '1 Main St',
    });
    assert.equal(rows[1].BillingAddress, null);
    assert.deepEqual(column(src, "SELECT Location__c FROM Widget__c WHERE Name = 'W1'", 'Location__c'), [{ latitude: 10, longitude: 20 }]);
  });

  test('toLabel() prints picklist labels', () => {
    const { src } = fixture();
    assert.deepEqual(column(src, 'SELECT toLabel(Industry) FROM Account WHERE Industry != null ORDER BY Name', 'Industry'), ['Technology', 'Retail Trade']);
  });

  test('flat columns and values for Bulk CSV', () => {
    const { src, c1, acme } = fixture();
    const result = run(src, "SELECT Id, Account.Name, Account.Owner.Email, account.annualrevenue, Birthdate FROM Contact WHERE LastName = 'Zed'");
    assert.deepEqual(result.columns, ['Id', 'Account.Name', 'Account.Owner.Email', 'Account.AnnualRevenue', 'Birthdate']);
    assert.deepEqual(result.projectFlat(result.rows[0]), [c1.Id, 'Acme', 'ada@example.com', 1000.5, '1990-01-02']);
    const xu = run(src, "SELECT LastName, Account.Name FROM Contact WHERE LastName = 'Xu'");
    assert.deepEqual(xu.projectFlat(xu.rows[0]), ['Xu', 'globex']);
    src.insert('Contact', { LastName: 'Orphan' });
    const orphan = run(src, "SELECT LastName, Account.Name, Account.Owner.Email FROM Contact WHERE LastName = 'Orphan'");
    assert.deepEqual(orphan.projectFlat(orphan.rows[0]), ['Orphan', null, null]);
    assert.equal(acme.Name, 'Acme');
  });
});

describe('WHERE', () => {
  const names = (src: QuerySource, where: string) => column(src, `SELECT Name FROM Account WHERE ${where} ORDER BY Name`, 'Name');

  test('comparison operators on text, numbers and booleans; text comparisons ignore case', () => {
    const { src } = fixture();
    assert.deepEqual(names(src, "Name = 'ACME'"), ['Acme']);
    assert.deepEqual(names(src, "Name != 'acme'"), ['globex', 'Initech']);
    assert.deepEqual(names(src, "Name <> 'acme'"), ['globex', 'Initech']);
    assert.deepEqual(names(src, 'NumberOfEmployees < 50'), ['globex']);
    assert.deepEqual(names(src, 'NumberOfEmployees <= 50'), ['Acme', 'globex']);
    assert.deepEqual(names(src, 'NumberOfEmployees > 50'), ['Initech']);
    assert.deepEqual(names(src, 'NumberOfEmployees >= 50'), ['Acme', 'Initech']);
    assert.deepEqual(names(src, 'AnnualRevenue > 100.25'), ['Acme']);
    assert.deepEqual(names(src, 'Active__c = true'), ['Acme', 'Initech']);
    assert.deepEqual(names(src, 'Active__c = FALSE'), ['globex']);
    assert.deepEqual(names(src, "Name > 'b'"), ['globex', 'Initech']);
  });

  test('null comparisons, and != including nulls as Salesforce does', () => {
    const { src } = fixture();
    assert.deepEqual(names(src, 'Industry = null'), ['Initech']);
    assert.deepEqual(names(src, 'Industry != null'), ['Acme', 'globex']);
    assert.deepEqual(names(src, "Industry != 'Tech'"), ['globex', 'Initech']);
    assert.deepEqual(names(src, 'AnnualRevenue < 1000000'), ['Acme', 'globex']);
  });

  test('LIKE is case-insensitive with % and _, and \\% \\_ match literally', () => {
    const { src } = fixture();
    assert.deepEqual(names(src, "Name LIKE 'a%'"), ['Acme']);
    assert.deepEqual(names(src, "Name LIKE '%E%'"), ['Acme', 'globex', 'Initech']);
    assert.deepEqual(names(src, "Name LIKE 'gl_bex'"), ['globex']);
    assert.deepEqual(names(src, "Name LIKE 'acm'"), []);
    src.insert('Account', { Name: '100% a_b' });
    src.insert('Account', { Name: '100x aXb' });
    assert.deepEqual(names(src, "Name LIKE '100\\% a\\_b'"), ['100% a_b']);
    assert.deepEqual(names(src, "Name LIKE '100_ a_b'"), ['100% a_b', '100x aXb']);
  });

  test('string escapes', () => {
    const { src } = fixture();
    src.insert('Account', { Name: "O'Brien \\ \"Q\"\nx" });
    assert.deepEqual(names(src, "Name = 'O\\'Brien \\\\ \\\"Q\\\"\\nx'"), ["O'Brien \\ \"Q\"\nx"]);
    assert.deepEqual(names(src, "Name = '\\u0041cme'"), ['Acme']);
    fails(() => names(src, "Name = 'a\\qb'"), 'MALFORMED_QUERY', /Invalid string literal 'a\\qb'. Illegal character sequence '\\q' in string literal.$/);
  });

  test('IN and NOT IN lists, with null and 15-character IDs', () => {
    const { src, acme, globex } = fixture();
    assert.deepEqual(names(src, "Name IN ('acme', 'INITECH')"), ['Acme', 'Initech']);
    assert.deepEqual(names(src, "Name NOT IN ('acme', 'INITECH')"), ['globex']);
    assert.deepEqual(names(src, "Industry IN ('Tech', null)"), ['Acme', 'Initech']);
    assert.deepEqual(names(src, 'NumberOfEmployees IN (5, 500)'), ['globex', 'Initech']);
    assert.deepEqual(names(src, `Id IN ('${acme.Id.slice(0, 15)}', '${globex.Id}')`), ['Acme', 'globex']);
    assert.deepEqual(names(src, `Id = '${acme.Id.slice(0, 15)}'`), ['Acme']);
    fails(() => names(src, "Id = 'nonsense'"), 'INVALID_QUERY_FILTER_OPERATOR', /\ninvalid ID field: nonsense$/);
  });

  test('semi-joins and anti-joins', () => {
    const { src } = fixture();
    assert.deepEqual(names(src, 'Id IN (SELECT AccountId FROM Contact)'), ['Acme', 'globex']);
    assert.deepEqual(names(src, "Id IN (SELECT AccountId FROM Contact WHERE FirstName = 'Dan')"), ['globex']);
    assert.deepEqual(names(src, 'Id NOT IN (SELECT AccountId FROM Contact)'), ['Initech']);
    assert.deepEqual(names(src, "Id IN (SELECT Account__c FROM Widget__c) AND Id NOT IN (SELECT AccountId FROM Contact WHERE LastName = 'Xu')"), ['Acme']);
    assert.deepEqual(
      column(src, "SELECT LastName FROM Contact WHERE AccountId IN (SELECT Id FROM Account WHERE Industry = 'Tech') ORDER BY LastName", 'LastName'),
      ['Young', 'Zed'],
    );
    fails(() => names(src, 'Id IN (SELECT Nope FROM Contact)'), 'INVALID_FIELD', /No such column 'Nope' on entity 'Contact'/);
  });

  test('INCLUDES and EXCLUDES on multi-select picklists', () => {
    const { src } = fixture();
    const widgets = (where: string) => column(src, `SELECT Name FROM Widget__c WHERE ${where} ORDER BY Name`, 'Name');
    assert.deepEqual(widgets("Colors__c INCLUDES ('red')"), ['W1']);
    assert.deepEqual(widgets("Colors__c INCLUDES ('Red;Green', 'Green')"), ['W2']);
    assert.deepEqual(widgets("Colors__c INCLUDES ('Red;Blue')"), ['W1']);
    assert.deepEqual(widgets("Colors__c INCLUDES ('Red', 'Green')"), ['W1', 'W2']);
    assert.deepEqual(widgets("Colors__c EXCLUDES ('Red')"), ['W2', 'W3']);
    assert.deepEqual(widgets("Colors__c = 'Blue;Red'"), ['W1']);
    assert.deepEqual(widgets("Colors__c = 'Blue'"), []);
    fails(() => names(src, "Name INCLUDES ('x')"), 'INVALID_QUERY_FILTER_OPERATOR', /includes or excludes operator only valid on multipicklist field$/);
  });

  test('date and datetime literals, both datetime zone forms', () => {
    const { src } = fixture();
    assert.deepEqual(names(src, 'Founded__c = 2001-05-04'), ['Acme']);
    assert.deepEqual(names(src, 'Founded__c < 2001-05-05'), ['Acme']);
    assert.deepEqual(names(src, 'CreatedDate = 2024-03-13T08:00:00Z'), ['Acme']);
    assert.deepEqual(names(src, 'CreatedDate = 2024-03-13T08:00:00.000+0000'), ['Acme']);
    assert.deepEqual(names(src, 'CreatedDate = 2024-03-13T03:00:00-05:00'), ['Acme']);
    assert.deepEqual(names(src, 'CreatedDate > 2024-03-12T23:59:59Z'), ['Acme']);
    assert.deepEqual(names(src, 'CreatedDate >= 2024-03-12T18:59:59-0500'), ['Acme', 'globex']);
  });

  test('relative date literals cover whole UTC days, weeks, months and years', () => {
    const { src } = fixture();
    // NOW is Wednesday 2024-03-13 15:30 UTC.
    assert.deepEqual(names(src, 'CreatedDate = TODAY'), ['Acme']);
    assert.deepEqual(names(src, 'CreatedDate = YESTERDAY'), ['globex']);
    assert.deepEqual(names(src, 'CreatedDate < TODAY'), ['globex', 'Initech']);
    assert.deepEqual(names(src, 'CreatedDate <= TODAY'), ['Acme', 'globex', 'Initech']);
    assert.deepEqual(names(src, 'CreatedDate > YESTERDAY'), ['Acme']);
    assert.deepEqual(names(src, 'CreatedDate >= YESTERDAY'), ['Acme', 'globex']);
    assert.deepEqual(names(src, 'CreatedDate != TODAY'), ['globex', 'Initech']);
    assert.deepEqual(names(src, 'CreatedDate = TOMORROW'), []);
    assert.deepEqual(names(src, 'CreatedDate = LAST_N_DAYS:1'), ['Acme', 'globex']);
    assert.deepEqual(names(src, 'CreatedDate = LAST_N_DAYS:60'), ['Acme', 'globex', 'Initech']);
    assert.deepEqual(names(src, 'CreatedDate = N_DAYS_AGO:1'), ['globex']);
    assert.deepEqual(names(src, 'CreatedDate = NEXT_N_DAYS:3'), []);
    assert.deepEqual(names(src, 'CreatedDate = THIS_WEEK'), ['Acme', 'globex']);
    assert.deepEqual(names(src, 'CreatedDate = LAST_WEEK'), []);
    assert.deepEqual(names(src, 'CreatedDate = THIS_MONTH'), ['Acme', 'globex']);
    assert.deepEqual(names(src, 'CreatedDate = LAST_MONTH'), ['Initech']);
    assert.deepEqual(names(src, 'CreatedDate = THIS_YEAR'), ['Acme', 'globex', 'Initech']);
    assert.deepEqual(names(src, 'CreatedDate = LAST_YEAR'), []);
    assert.deepEqual(names(src, 'CreatedDate = THIS_QUARTER'), ['Acme', 'globex', 'Initech']);
    assert.deepEqual(names(src, 'CreatedDate IN (TODAY, LAST_MONTH)'), ['Acme', 'Initech']);
    assert.deepEqual(names(src, 'Founded__c < LAST_N_YEARS:5'), ['Acme']);
    assert.deepEqual(names(src, 'Founded__c = THIS_YEAR'), []);
  });

  test('AND, OR, NOT and parentheses; parent paths in WHERE', () => {
    const { src } = fixture();
    assert.deepEqual(names(src, "Name = 'Acme' OR (Active__c = false AND NumberOfEmployees < 10)"), ['Acme', 'globex']);
    assert.deepEqual(names(src, "NOT Name = 'Acme'"), ['globex', 'Initech']);
    assert.deepEqual(names(src, "NOT (Name = 'Acme' OR Name = 'globex') AND Active__c = true"), ['Initech']);
    assert.deepEqual(names(src, "(NOT Name = 'Acme') AND (NOT Name = 'Initech')"), ['globex']);
    assert.deepEqual(names(src, "((Name = 'Acme'))"), ['Acme']);
    assert.deepEqual(names(src, "Parent.Name = 'Acme'"), ['globex']);
    assert.deepEqual(names(src, "Owner.Email LIKE 'ada@%'"), ['Acme']);
    assert.deepEqual(column(src, "SELECT LastName FROM Contact WHERE Account.Owner.Name = 'Ada' ORDER BY LastName", 'LastName'), ['Young', 'Zed']);
  });

  test('AND and OR mixed without parentheses is MALFORMED_QUERY', () => {
    const { src } = fixture();
    fails(
      () => run(src, "SELECT Id FROM Account WHERE Name = 'a' AND Name = 'b' OR Name = 'c'"),
      'MALFORMED_QUERY',
      "\nAccount WHERE Name = 'a' AND Name = 'b' OR Name = 'c'\n                                        ^\nERROR at Row:1:Column:56\nunexpected token: 'OR'",
    );
  });

  test('values of the wrong type are INVALID_FIELD with Salesforce’s message', () => {
    const { src } = fixture();
    fails(
      () => run(src, "SELECT Id FROM Account WHERE CreatedDate > '2024-01-01'"),
      'INVALID_FIELD',
      "\nSELECT Id FROM Account WHERE CreatedDate > '2024-01-01'\n                             ^\nERROR at Row:1:Column:30\nvalue of filter criterion for field 'CreatedDate' must be of type dateTime and should not be enclosed in quotes",
    );
    fails(() => run(src, 'SELECT Id FROM Account WHERE CreatedDate > 2024-01-01'), 'INVALID_FIELD', /field 'CreatedDate' must be of type dateTime and should not be enclosed in quotes$/);
    fails(() => run(src, 'SELECT Id FROM Account WHERE Founded__c > 2024-01-01T00:00:00Z'), 'INVALID_FIELD', /field 'Founded__c' must be of type date and should not be enclosed in quotes$/);
    fails(() => run(src, "SELECT Id FROM Account WHERE NumberOfEmployees = '5'"), 'INVALID_FIELD', /field 'NumberOfEmployees' must be of type integer and should not be enclosed in quotes$/);
    fails(() => run(src, "SELECT Id FROM Account WHERE Active__c = 'true'"), 'INVALID_FIELD', /field 'Active__c' must be of type boolean and should not be enclosed in quotes$/);
    fails(() => run(src, 'SELECT Id FROM Account WHERE Name = 5'), 'INVALID_FIELD', /field 'Name' must be of type string and should be enclosed in quotes$/);
  });

  test('fields that cannot be filtered or sorted', () => {
    const { src } = fixture();
    fails(() => run(src, "SELECT Id FROM Account WHERE Description = 'x'"), 'INVALID_FIELD', /field 'Description' can not be filtered in query call$/);
    fails(() => run(src, 'SELECT Id FROM Account ORDER BY Description'), 'INVALID_FIELD', /field 'Description' can not be sorted in a query call$/);
  });

  test('deleted rows come back only under queryAll, whatever the WHERE says', () => {
    const { src } = fixture();
    src.leakDeleted = true;
    assert.deepEqual(names(src, 'IsDeleted = true'), []);
    assert.equal(run(src, 'SELECT Id FROM Account').totalSize, 3);
    assert.deepEqual(column(src, 'SELECT Name FROM Account WHERE IsDeleted = true', 'Name', ALL), ['Gone']);
    assert.equal(run(src, 'SELECT Id FROM Account', ALL).totalSize, 4);
    assert.equal(run(src, 'SELECT COUNT() FROM Account').count, 3);
  });
});

describe('ORDER BY, LIMIT and OFFSET', () => {
  test('several keys, directions, and Salesforce’s null placement defaults', () => {
    const { src } = fixture();
    const q = (order: string) => column(src, `SELECT Name FROM Account ORDER BY ${order}`, 'Name');
    assert.deepEqual(q('Name'), ['Acme', 'globex', 'Initech']);
    assert.deepEqual(q('Name DESC'), ['Initech', 'globex', 'Acme']);
    assert.deepEqual(q('Industry'), ['Initech', 'globex', 'Acme']);
    assert.deepEqual(q('Industry DESC'), ['Acme', 'globex', 'Initech']);
    assert.deepEqual(q('Industry ASC NULLS LAST'), ['globex', 'Acme', 'Initech']);
    assert.deepEqual(q('Industry DESC NULLS FIRST'), ['Initech', 'Acme', 'globex']);
    assert.deepEqual(q('Active__c DESC, NumberOfEmployees DESC'), ['Initech', 'Acme', 'globex']);
    assert.deepEqual(q('Active__c, Name DESC'), ['globex', 'Initech', 'Acme']);
  });

  test('parent paths in ORDER BY', () => {
    const { src } = fixture();
    assert.deepEqual(column(src, 'SELECT LastName FROM Contact ORDER BY Account.Name DESC, LastName', 'LastName'), ['Xu', 'Young', 'Zed']);
    assert.deepEqual(column(src, 'SELECT Subject FROM Task ORDER BY What.Name NULLS LAST', 'Subject'), ['Call', 'Ship', 'Idle']);
  });

  test('without ORDER BY rows come in stored order', () => {
    const { src, c1, c2, c3 } = fixture();
    assert.deepEqual(column(src, 'SELECT Id FROM Contact', 'Id'), [c1.Id, c2.Id, c3.Id]);
  });

  test('LIMIT and OFFSET, with and without ORDER BY', () => {
    const { src } = fixture();
    assert.deepEqual(column(src, 'SELECT Name FROM Account ORDER BY Name LIMIT 2', 'Name'), ['Acme', 'globex']);
    assert.deepEqual(column(src, 'SELECT Name FROM Account ORDER BY Name LIMIT 2 OFFSET 1', 'Name'), ['globex', 'Initech']);
    assert.deepEqual(column(src, 'SELECT Name FROM Account LIMIT 1 OFFSET 1', 'Name'), ['globex']);
    assert.deepEqual(column(src, 'SELECT Name FROM Account ORDER BY Name OFFSET 2', 'Name'), ['Initech']);
    assert.equal(run(src, 'SELECT Name FROM Account LIMIT 0').totalSize, 0);
    assert.equal(run(src, 'SELECT Name FROM Account ORDER BY Name LIMIT 2').totalSize, 2);
  });

  test('OFFSET above 2000 is NUMBER_OUTSIDE_VALID_RANGE', () => {
    const { src } = fixture();
    fails(() => run(src, 'SELECT Id FROM Account OFFSET 2001'), 'NUMBER_OUTSIDE_VALID_RANGE', 'Maximum SOQL offset allowed is 2000');
    assert.equal(run(src, 'SELECT Id FROM Account OFFSET 2000').totalSize, 0);
  });
});

describe('aggregates', () => {
  test('SELECT COUNT() returns a count and no records', () => {
    const { src } = fixture();
    const result = run(src, 'SELECT COUNT() FROM Account WHERE Active__c = true');
    assert.equal(result.count, 2);
    assert.equal(result.totalSize, 2);
    assert.deepEqual(result.rows, []);
    assert.equal(run(src, 'SELECT COUNT() FROM Contact LIMIT 2').count, 2);
    assert.equal(run(src, 'SELECT COUNT() FROM Contact', ALL).count, 4);
  });

  test('COUNT(Id) with and without alias gives an AggregateResult row', () => {
    const { src } = fixture();
    assert.deepEqual(rest(src, 'SELECT COUNT(Id) FROM Contact'), [{ attributes: { type: 'AggregateResult' }, expr0: 3 }]);
    assert.deepEqual(rest(src, 'SELECT COUNT(Id) total, COUNT(Email) withEmail FROM Contact'), [{ attributes: { type: 'AggregateResult' }, total: 3, withEmail: 1 }]);
    assert.deepEqual(rest(src, "SELECT COUNT(Id) FROM Contact WHERE LastName = 'nobody'"), [{ attributes: { type: 'AggregateResult' }, expr0: 0 }]);
  });

  test('GROUP BY with several aggregates, parent paths and ORDER BY', () => {
    const { src } = fixture();
    const rows = rest(src, 'SELECT Account.Name, COUNT(Id), MAX(LastName) lastName FROM Contact GROUP BY Account.Name ORDER BY COUNT(Id) DESC');
    assert.deepEqual(rows, [
      { attributes: { type: 'AggregateResult' }, Name: 'Acme', expr0: 2, lastName: 'Zed' },
      { attributes: { type: 'AggregateResult' }, Name: 'globex', expr0: 1, lastName: 'Xu' },
    ]);
    assert.deepEqual(rest(src, 'SELECT SUM(Price__c) s, AVG(Price__c) a, MIN(Price__c) lo, COUNT_DISTINCT(Account__c) n FROM Widget__c'), [
      { attributes: { type: 'AggregateResult' }, s: 6.5, a: 3.25, lo: 2.5, n: 1 },
    ]);
    const result = run(src, 'SELECT Industry, COUNT(Id) c FROM Account GROUP BY Industry ORDER BY Industry NULLS LAST');
    assert.deepEqual(result.columns, ['Industry', 'c']);
    assert.deepEqual(result.rows.map((r) => result.projectFlat(r)), [['Retail', 1], ['Tech', 1], [null, 1]]);
    fails(() => run(src, 'SELECT Name, COUNT(Id) FROM Account GROUP BY Industry'), 'MALFORMED_QUERY', /Field must be grouped or aggregated: Name$/);
  });
});

describe('errors', () => {
  test('unknown object is INVALID_TYPE with the excerpt and Salesforce’s message', () => {
    const { src } = fixture();
    fails(
      () => run(src, 'SELECT Id FROM Foo'),
      'INVALID_TYPE',
      "\nSELECT Id FROM Foo\n               ^\nERROR at Row:1:Column:16\nsObject type 'Foo' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.",
    );
    fails(() => run(src, 'SELECT Id FROM Hidden__c'), 'INVALID_TYPE_FOR_OPERATION', /entity type Hidden__c does not support query$/);
  });

  test('unknown field is INVALID_FIELD with the excerpt and Salesforce’s message', () => {
    const { src } = fixture();
    fails(
      () => run(src, 'SELECT Id, Foo FROM Account'),
      'INVALID_FIELD',
      "\nSELECT Id, Foo FROM Account\n           ^\nERROR at Row:1:Column:12\nNo such column 'Foo' on entity 'Account'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.",
    );
    fails(() => run(src, "SELECT Id FROM Account WHERE Nme = 'x'"), 'INVALID_FIELD', /\^\nERROR at Row:1:Column:30\nNo such column 'Nme' on entity 'Account'/);
    fails(() => run(src, 'SELECT Id FROM Account ORDER BY Nme'), 'INVALID_FIELD', /Column:33\nNo such column 'Nme' on entity 'Account'/);
    fails(() => run(src, 'SELECT Account.Nme FROM Contact'), 'INVALID_FIELD', /No such column 'Nme' on entity 'Account'/);
    // Polymorphic relationships reach only the fields of Salesforce's Name entity.
    fails(() => run(src, 'SELECT What.Industry FROM Task'), 'INVALID_FIELD', /\nNo such column 'Industry' on entity 'Name'\. If you/);
  });

  test('unknown relationships in paths and subqueries', () => {
    const { src } = fixture();
    fails(
      () => run(src, 'SELECT Acct.Name FROM Contact'),
      'INVALID_FIELD',
      "\nSELECT Acct.Name FROM Contact\n       ^\nERROR at Row:1:Column:8\nDidn't understand relationship 'Acct' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.",
    );
    fails(() => run(src, 'SELECT Account__c.Name FROM Widget__c'), 'INVALID_FIELD', /Didn't understand relationship 'Account__c' in field path/);
    fails(
      () => run(src, 'SELECT Id, (SELECT Id FROM Contact) FROM Account'),
      'INVALID_TYPE',
      "\nSELECT Id, (SELECT Id FROM Contact) FROM Account\n                           ^\nERROR at Row:1:Column:28\nDidn't understand relationship 'Contact' in FROM clause of subquery. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.",
    );
  });

  test('parse failures are MALFORMED_QUERY with the position', () => {
    const { src } = fixture();
    fails(() => run(src, 'SELECT Id FROM Account WHERE Name = x'), 'MALFORMED_QUERY', /\^\nERROR at Row:1:Column:37\nunexpected token: 'x'$/);
    fails(() => run(src, 'SELECT Id FROM'), 'MALFORMED_QUERY', /ERROR at Row:1:Column:15\nunexpected token: '<EOF>'$/);
    fails(() => run(src, 'SELECT Id FROM Account WHERE Name = "x"'), 'MALFORMED_QUERY', /ERROR at Row:1:Column:37\n/);
    fails(() => run(src, 'SELEC Id FROM Account'), 'MALFORMED_QUERY', /ERROR at Row:1:Column:1\n/);
  });

  test('multi-line queries report the row and column of the offending line', () => {
    const { src } = fixture();
    fails(() => run(src, 'SELECT Id,\n  Nope\nFROM Account'), 'INVALID_FIELD', "\n  Nope\n  ^\nERROR at Row:2:Column:3\nNo such column 'Nope' on entity 'Account'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.");
  });

  test('long lines show a window around the position, widened to whole tokens', () => {
    const { src } = fixture();
    const soql = 'SELECT Id, Name, AnnualRevenue, NumberOfEmployees, Industry, Active__c, Nope, CreatedDate, SystemModstamp, IsDeleted FROM Account';
    const error = fails(() => run(src, soql), 'INVALID_FIELD');
    const [, excerpt, caret, position] = error.message.split('\n');
    // 40 characters before reach into NumberOfEmployees and 31 after into SystemModstamp: both kept whole.
    assert.equal(excerpt, 'NumberOfEmployees, Industry, Active__c, Nope, CreatedDate, SystemModstamp');
    assert.equal(caret, `${' '.repeat(excerpt.indexOf('Nope'))}^`);
    assert.equal(position, `ERROR at Row:1:Column:${soql.indexOf('Nope') + 1}`);
  });
});

describe('less common forms', () => {
  test('aliases inside child subqueries and semi-joins', () => {
    const { src } = fixture();
    const [acme] = rest(src, "SELECT Name, (SELECT c.LastName FROM Contacts c WHERE c.FirstName != 'Bob') FROM Account a WHERE a.Name = 'Acme'");
    assert.deepEqual((acme.Contacts as { records: Array<{ LastName: string }> }).records.map((r) => r.LastName), ['Zed']);
    assert.deepEqual(column(src, 'SELECT Name FROM Account WHERE Id IN (SELECT c.AccountId FROM Contact c WHERE c.LastName = \'Xu\')', 'Name'), ['globex']);
  });

  test('a semi-join’s own WHERE is checked for AND/OR mixing too', () => {
    const { src } = fixture();
    fails(
      () => run(src, "SELECT Id FROM Account WHERE Id IN (SELECT AccountId FROM Contact WHERE LastName = 'a' OR LastName = 'b' AND FirstName = 'c')"),
      'MALFORMED_QUERY',
      /unexpected token: 'AND'$/,
    );
  });

  test('empty string literals match empty (null) text, as Salesforce stores no empty strings', () => {
    const { src } = fixture();
    assert.deepEqual(column(src, "SELECT Name FROM Account WHERE Industry = '' ORDER BY Name", 'Name'), ['Initech']);
    assert.deepEqual(column(src, "SELECT Name FROM Account WHERE ParentId = ''", 'Name'), ['Acme', 'Initech']);
  });

  test('unsupported SOQL says so with MALFORMED_QUERY', () => {
    const { src } = fixture();
    fails(() => run(src, 'SELECT TYPEOF What WHEN Account THEN Name END FROM Task'), 'MALFORMED_QUERY', /TYPEOF is not supported/);
    fails(() => run(src, 'SELECT Industry, COUNT(Id) FROM Account GROUP BY Industry HAVING COUNT(Id) > 1'), 'MALFORMED_QUERY', /HAVING is not supported/);
    fails(() => run(src, 'SELECT Id FROM Account WHERE CALENDAR_YEAR(CreatedDate) = 2024'), 'MALFORMED_QUERY', /CALENDAR_YEAR\(\) in WHERE is not supported/);
    fails(() => run(src, 'SELECT Id, COUNT() FROM Account'), 'MALFORMED_QUERY', /COUNT\(\) must be the only element/);
  });
});

describe('Bulk API 2.0 context', () => {
  test('refuses what Bulk 2.0 refuses', () => {
    const { src } = fixture();
    fails(() => run(src, 'SELECT Id, (SELECT Id FROM Contacts) FROM Account', BULK), 'FEATURENOTENABLED', 'Aggregate Relationships not supported in Bulk V2 Query with CSV content type');
    fails(() => run(src, 'SELECT Id, BillingAddress FROM Account', BULK), 'FEATURENOTENABLED', 'Selecting compound data not supported in Bulk Query');
    fails(() => run(src, 'SELECT COUNT() FROM Account', BULK), 'INVALIDJOB', /Aggregate functions/);
    fails(() => run(src, 'SELECT COUNT(Id) FROM Account', BULK), 'INVALIDJOB', /Aggregate functions/);
    fails(() => run(src, 'SELECT Industry FROM Account GROUP BY Industry', BULK), 'INVALIDJOB', /GROUP BY/);
    fails(() => run(src, 'SELECT Id FROM Account OFFSET 1', BULK), 'INVALIDJOB', /OFFSET/);
    fails(() => run(src, 'SELECT FIELDS(STANDARD) FROM Account', BULK), 'INVALIDJOB', /FIELDS/);
  });

  test('plain queries with parent paths work, deleted rows under queryAll', () => {
    const { src } = fixture();
    const result = run(src, 'SELECT Id, Name, Parent.Name FROM Account ORDER BY Name', BULK);
    assert.deepEqual(result.columns, ['Id', 'Name', 'Parent.Name']);
    assert.deepEqual(result.rows.map((r) => result.projectFlat(r).slice(1)), [['Acme', null], ['globex', 'Acme'], ['Initech', null]]);
    assert.equal(run(src, 'SELECT Id FROM Account', { includeDeleted: true, context: 'bulk' }).totalSize, 4);
  });
});

describe('a million rows', () => {
  const big = (() => {
    let cached: { src: MemorySource; ids: string[]; stamps: string[] } | undefined;
    return () => {
      if (cached) return cached;
      const src = new MemorySource(schema);
      const ids: string[] = [];
      const stamps: string[] = [];
      const base = Date.parse('2024-01-01T00:00:00.000Z');
      const table: StoredRecord[] = [];
      const allocator = new IdAllocator();
      let stamp = '';
      for (let i = 0; i < 1_000_000; i++) {
        // Four rows share each stamp, so keyset paging has to break ties on Id.
        if (i % 4 === 0) stamp = new Date(base + (i / 4) * 1000).toISOString().replace('Z', '+0000');
        const id = allocator.next('003');
        table.push({ Id: id, IsDeleted: false, LastName: `L${i % 1000}`, SystemModstamp: stamp, CreatedDate: stamp });
        ids.push(id);
        stamps.push(stamp);
      }
      src.tables.set('Contact', table);
      cached = { src, ids, stamps };
      return cached;
    };
  })();

  test('keyset page on (SystemModstamp, Id) with LIMIT 2000', () => {
    const { src, ids, stamps } = big();
    const at = 600_001;
    const result = run(
      src,
      `SELECT Id, SystemModstamp FROM Contact WHERE SystemModstamp > ${stamps[at]} OR (SystemModstamp = ${stamps[at]} AND Id > '${ids[at]}') ORDER BY SystemModstamp, Id LIMIT 2000`,
    );
    assert.equal(result.totalSize, 2000);
    assert.deepEqual(
      result.rows.map((r) => r.Id),
      ids.slice(at + 1, at + 2001),
    );
  });

  test('a range filter with a full sort of many rows', () => {
    const { src, stamps } = big();
    const result = run(src, `SELECT Id FROM Contact WHERE SystemModstamp >= ${stamps[0]} AND SystemModstamp <= ${stamps[999_999]} ORDER BY SystemModstamp DESC, Id DESC`);
    assert.equal(result.totalSize, 1_000_000);
    assert.equal(result.rows[0].Id, big().ids[999_999]);
  });
});
