// The Metadata API of the emulator through unmodified jsforce (describe, list, read, retrieve and
// its status checks), and the admin API that changes the org's metadata: each change shows in
// describe and SOQL where it should, and moves the versions a metadata backup compares.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Connection } from '@jsforce/jsforce-node';
import { XMLValidator } from 'fast-xml-parser';
import JSZip from 'jszip';
import { startEmulator } from '../../emulator/index.ts';
import type { RunningEmulator } from '../../emulator/index.ts';
import { registerMetadataAdminRoutes, validationRules } from '../../emulator/metadata/index.ts';

const VERSION = '60.0';

type FileProperties = Awaited<ReturnType<Connection['metadata']['list']>>[number];
type RetrieveRequest = Parameters<Connection['metadata']['retrieve']>[0];

/** jsforce's Package type wants every Package property; a manifest needs types and version. */
const request = (types: { name: string; members: string[] }[], singlePackage = false): RetrieveRequest =>
  ({ singlePackage, unpackaged: { types, version: VERSION } }) as unknown as RetrieveRequest;

interface AdminComponent {
  type: string;
  fullName: string;
  version: number;
  lastModifiedDate: string;
}

describe('Metadata API', () => {
  let emu: RunningEmulator;
  let conn: Connection;

  const admin = async (method: 'GET' | 'POST', body?: unknown, query = ''): Promise<{ status: number; json: Record<string, unknown> }> => {
    const response = await fetch(`${emu.info.instanceUrl}/__emulator/metadata${query}`, {
      method,
      headers: { authorization: `Bearer ${emu.info.adminToken}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  };
  const versions = async (type: string): Promise<AdminComponent[]> => (await admin('GET', undefined, `?type=${type}`)).json.components as AdminComponent[];
  const listed = async (type: string, fullName: string): Promise<FileProperties | undefined> =>
    (await conn.metadata.list([{ type }])).find((p) => p.fullName === fullName);

  /** Retrieves a manifest and opens the zip, polling the way a backup would. */
  const retrieve = async (types: { name: string; members: string[] }[], singlePackage = false) => {
    const started = await conn.metadata.retrieve(request(types, singlePackage));
    let result = await conn.metadata.checkRetrieveStatus(started.id);
    while (!result.done) result = await conn.metadata.checkRetrieveStatus(started.id);
    const zip = await JSZip.loadAsync(Buffer.from(result.zipFile, 'base64'));
    const read = async (path: string): Promise<string> => {
      const file = zip.file(path);
      assert.ok(file, `${path} is in the zip`);
      return file.async('string');
    };
    return { result, zip, read, names: Object.keys(zip.files).sort() };
  };

  before(async () => {
    emu = await startEmulator({ profile: 'demo', seed: 1 });
    // The lead wires this into the app; until then the test mounts it (routes can be added until
    // the first request builds the router). The admin token middleware is already installed.
    if (!emu.app.routes.some((r) => r.path === '/__emulator/metadata')) registerMetadataAdminRoutes(emu.app, emu.context);
    const session = emu.context.sessions.issue(emu.org.apiUserId, 'metadata-test');
    conn = new Connection({ instanceUrl: emu.info.instanceUrl, accessToken: session.accessToken, version: VERSION });
    conn.metadata.pollInterval = 20;
  });
  after(() => emu.close());

  test('describeMetadata lists the types with their directories, suffixes and children', async () => {
    const described = await conn.metadata.describe();
    const byName = new Map(described.metadataObjects.map((o) => [o.xmlName, o]));
    const object = byName.get('CustomObject')!;
    assert.equal(object.directoryName, 'objects');
    assert.equal(object.suffix, 'object');
    assert.equal(object.inFolder, false);
    for (const child of ['CustomField', 'ValidationRule', 'RecordType']) assert.ok(object.childXmlNames.includes(child));
    assert.deepEqual(
      { ...byName.get('ApexClass')!, childXmlNames: undefined },
      { xmlName: 'ApexClass', directoryName: 'classes', suffix: 'cls', inFolder: false, metaFile: true, childXmlNames: undefined },
    );
    for (const name of ['Layout', 'Profile', 'PermissionSet', 'ApexTrigger', 'Flow']) assert.ok(byName.has(name), name);
    assert.equal(byName.get('Report')!.inFolder, true);
    assert.equal(described.organizationNamespace, '');
    assert.equal(described.testRequired, true);
  });

  test('listMetadata reports FileProperties; standard objects have no ID and epoch dates', async () => {
    const properties = await conn.metadata.list([{ type: 'CustomObject' }, { type: 'ApexClass' }]);
    const account = properties.find((p) => p.type === 'CustomObject' && p.fullName === 'Account')!;
    assert.equal(account.fileName, 'objects/Account.object');
    assert.equal(account.id, '');
    assert.equal(account.lastModifiedDate, '1970-01-01T00:00:00.000Z');
    const invoice = properties.find((p) => p.fullName === 'Invoice__c')!;
    assert.match(invoice.id, /^01I[A-Za-z0-9]{15}$/);
    assert.equal(invoice.manageableState, 'unmanaged');
    assert.ok(Date.parse(invoice.createdDate) <= Date.parse(invoice.lastModifiedDate));
    assert.ok(Date.parse(invoice.lastModifiedDate) < emu.org.clock.nowMs());
    const service = properties.find((p) => p.type === 'ApexClass' && p.fullName === 'InvoiceService')!;
    assert.equal(service.fileName, 'classes/InvoiceService.cls');
    assert.match(service.id, /^01p/);
    assert.equal(service.createdByName, 'Dana Whitfield');
    assert.ok(properties.every((p) => p.type === 'CustomObject' || p.type === 'ApexClass'));

    const children = await conn.metadata.list([{ type: 'CustomField' }, { type: 'RecordType' }, { type: 'ValidationRule' }]);
    assert.ok(children.some((p) => p.type === 'CustomField' && p.fullName === 'Invoice__c.Status__c' && p.fileName === 'objects/Invoice__c.object'));
    assert.ok(children.some((p) => p.type === 'RecordType' && p.fullName === 'Account.Business_Account' && p.id.startsWith('012')));
    assert.ok(children.some((p) => p.type === 'ValidationRule' && p.fullName === 'Opportunity.Close_Date_Not_In_Past'));
    // In-folder types list nothing without a folder.
    assert.deepEqual(await conn.metadata.list([{ type: 'EmailTemplate' }, { type: 'Report' }]), []);
    await assert.rejects(conn.metadata.list([{ type: 'NoSuchType' }]), { errorCode: 'sf:INVALID_TYPE', message: 'INVALID_TYPE: Unknown type:NoSuchType' });
  });

  test('readMetadata returns objects with fields, picklist values and record types', async () => {
    const [account, invoice, missing] = (await conn.metadata.read('CustomObject', ['Account', 'Invoice__c', 'No_Such__c'])) as unknown as Record<string, unknown>[];
    assert.equal(account!.fullName, 'Account');
    const recordTypes = account!.recordTypes as { fullName: string; active: boolean; label: string }[];
    assert.deepEqual(recordTypes.map((r) => [r.fullName, r.active]), [['Business_Account', true], ['Legacy_Account', false], ['Partner_Account', true]]);
    assert.ok((account!.fields as { fullName: string }[]).some((f) => f.fullName === 'Industry'));

    assert.equal(invoice!.fullName, 'Invoice__c');
    assert.equal(invoice!.label, 'Invoice');
    const nameField = invoice!.nameField as Record<string, unknown>;
    assert.deepEqual([nameField.type, nameField.displayFormat, nameField.label], ['AutoNumber', 'INV-{00000}', 'Invoice Number']);
    const fields = invoice!.fields as Record<string, unknown>[];
    const status = fields.find((f) => f.fullName === 'Status__c') as { type: string; valueSet: { restricted: boolean; valueSetDefinition: { value: { fullName: string; default: boolean }[] } } };
    assert.equal(status.type, 'Picklist');
    assert.equal(status.valueSet.restricted, true);
    assert.deepEqual(status.valueSet.valueSetDefinition.value.map((v) => v.fullName), ['Draft', 'Sent', 'Paid', 'Void']);
    assert.equal(status.valueSet.valueSetDefinition.value[0]!.default, true);
    const account_ = fields.find((f) => f.fullName === 'Account__c')!;
    assert.deepEqual([account_.type, account_.referenceTo, account_.relationshipName], ['MasterDetail', 'Account', 'Invoices']);
    const total = fields.find((f) => f.fullName === 'Total__c')!;
    assert.deepEqual([total.type, total.summaryOperation, total.summaryForeignKey], ['Summary', 'sum', 'Invoice_Line__c.Invoice__c']);
    assert.equal(missing!.fullName, undefined, 'a name that does not exist reads as an empty record');

    const [rule] = (await conn.metadata.read('ValidationRule', ['Opportunity.Close_Date_Not_In_Past'])) as unknown as Record<string, unknown>[];
    assert.equal(rule!.active, false);
    assert.equal(rule!.errorDisplayField, 'CloseDate');
    const [apex] = (await conn.metadata.read('ApexClass', ['InvoiceService'])) as unknown as { content: string; apiVersion: number; status: string }[];
    assert.match(Buffer.from(apex!.content, 'base64').toString('utf8'), /^public with sharing class InvoiceService/);
    assert.equal(apex!.status, 'Active');
    const [profile] = (await conn.metadata.read('Profile', ['Admin'])) as unknown as { objectPermissions: { object: string; modifyAllRecords: boolean }[]; userLicense: string }[];
    assert.equal(profile!.userLicense, 'Salesforce');
    assert.equal(profile!.objectPermissions.find((p) => p.object === 'Invoice__c')!.modifyAllRecords, true);
  });

  test('retrieve packs package.xml and source-format files; the status is checked until done', async () => {
    const started = await conn.metadata.retrieve(
      request([
        { name: 'CustomObject', members: ['*', 'Account'] },
        { name: 'ApexClass', members: ['*'] },
        { name: 'ApexTrigger', members: ['*'] },
        { name: 'Layout', members: ['Account-Account Layout'] },
        { name: 'Profile', members: ['Admin'] },
        { name: 'PermissionSet', members: ['*'] },
        { name: 'Flow', members: ['*'] },
        { name: 'ApexClass', members: ['Missing_Class'] },
      ]),
    );
    assert.match(started.id, /^09S/);
    assert.equal(started.done, false);
    const first = await conn.metadata.checkRetrieveStatus(started.id);
    assert.deepEqual([first.done, first.status], [false, 'InProgress']);
    const result = await conn.metadata.checkRetrieveStatus(started.id);
    assert.deepEqual([result.done, result.status, result.success], [true, 'Succeeded', true]);
    assert.deepEqual(result.messages, [{ fileName: 'unpackaged/package.xml', problem: "Entity of type 'ApexClass' named 'Missing_Class' cannot be found" }]);

    const zip = await JSZip.loadAsync(Buffer.from(result.zipFile, 'base64'));
    const names = Object.keys(zip.files);
    for (const path of [
      'unpackaged/package.xml',
      'unpackaged/objects/Account.object',
      'unpackaged/objects/Invoice__c.object',
      'unpackaged/objects/Invoice_Line__c.object',
      'unpackaged/classes/InvoiceService.cls',
      'unpackaged/classes/InvoiceService.cls-meta.xml',
      'unpackaged/triggers/InvoiceLineTrigger.trigger',
      'unpackaged/triggers/InvoiceLineTrigger.trigger-meta.xml',
      'unpackaged/layouts/Account-Account Layout.layout',
      'unpackaged/profiles/Admin.profile',
      'unpackaged/permissionsets/Invoice_Manager.permissionset',
      'unpackaged/flows/Opportunity_Closed_Won_Follow_Up.flow',
    ]) {
      assert.ok(names.includes(path), `${path} is in the zip`);
    }
    assert.ok(!names.includes('unpackaged/objects/Contact.object'), 'the CustomObject wildcard leaves standard objects out');
    for (const path of names.filter((n) => /\.(xml|object|layout|profile|permissionset|flow)$/.test(n))) {
      const text = await zip.file(path)!.async('string');
      assert.equal(XMLValidator.validate(text), true, `${path} is well-formed`);
      assert.ok(text.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n'), path);
    }
    const manifest = await zip.file('unpackaged/package.xml')!.async('string');
    assert.match(manifest, /<Package xmlns="http:\/\/soap\.sforce\.com\/2006\/04\/metadata">/);
    assert.match(manifest, /<types>\s*<members>\*<\/members>\s*<members>Account<\/members>\s*<name>CustomObject<\/name>\s*<\/types>/);
    assert.match(manifest, /<version>60\.0<\/version>/);
    const invoice = await zip.file('unpackaged/objects/Invoice__c.object')!.async('string');
    assert.match(invoice, /<CustomObject xmlns="http:\/\/soap\.sforce\.com\/2006\/04\/metadata">\n {4}<allowInChatterGroups>/);
    assert.match(invoice, /<fields>\n {8}<fullName>Status__c<\/fullName>/);
    assert.match(await zip.file('unpackaged/classes/InvoiceService.cls-meta.xml')!.async('string'), /<apiVersion>59\.0<\/apiVersion>\n {4}<status>Active<\/status>/);
    // The profile carries permissions on what came with it, and only on that.
    const profile = await zip.file('unpackaged/profiles/Admin.profile')!.async('string');
    assert.match(profile, /<object>Invoice__c<\/object>/);
    assert.match(profile, /<field>Invoice__c\.Status__c<\/field>/);
    assert.match(profile, /<layout>Account-Account Layout<\/layout>/);
    assert.doesNotMatch(profile, /<object>Contact<\/object>/);
    assert.doesNotMatch(profile, /<layout>Contact-Contact Layout<\/layout>/);

    const files = result.fileProperties.map((p) => `${p.type} ${p.fileName}`);
    assert.ok(files.includes('Package unpackaged/package.xml'));
    assert.ok(files.includes('ApexClass unpackaged/classes/InvoiceService.cls'));
    assert.ok(files.includes('CustomObject unpackaged/objects/Account.object'));
    // The zip is handed out once, then deleted from the server.
    await assert.rejects(conn.metadata.checkRetrieveStatus(started.id), { errorCode: 'sf:INVALID_CROSS_REFERENCE_KEY' });
  });

  test('retrieving child components yields partial object files; singlePackage drops the folder', async () => {
    const locator = conn.metadata.retrieve(
      request([{ name: 'CustomField', members: ['Invoice__c.Status__c'] }, { name: 'ValidationRule', members: ['Opportunity.Close_Date_Not_In_Past'] }], true),
    );
    const result = await locator.complete();
    const zip = await JSZip.loadAsync(Buffer.from(result.zipFile, 'base64'));
    assert.deepEqual(Object.keys(zip.files).sort(), ['objects/Invoice__c.object', 'objects/Opportunity.object', 'package.xml']);
    const invoice = await zip.file('objects/Invoice__c.object')!.async('string');
    assert.match(invoice, /<fullName>Status__c<\/fullName>/);
    assert.doesNotMatch(invoice, /<label>Invoice<\/label>|Due_Date__c/);
    assert.deepEqual(
      result.fileProperties.map((p) => [p.type, p.fullName, p.fileName]).sort(),
      [['CustomField', 'Invoice__c.Status__c', 'objects/Invoice__c.object'], ['Package', 'package.xml', 'package.xml'], ['ValidationRule', 'Opportunity.Close_Date_Not_In_Past', 'objects/Opportunity.object']],
    );
  });

  test('addField: the field shows in describe and SOQL, and moves the object version', async () => {
    const beforeMs = emu.org.clock.nowMs();
    const added = await admin('POST', { op: 'addField', object: 'Account', field: { fullName: 'Backup_Tier__c', type: 'Text', length: 40, label: 'Backup Tier' } });
    assert.equal(added.status, 200, JSON.stringify(added.json));
    const changed = added.json.changed as AdminComponent[];
    assert.ok(changed.some((c) => c.type === 'CustomField' && c.fullName === 'Account.Backup_Tier__c' && c.version === 1));
    assert.ok(changed.some((c) => c.type === 'CustomObject' && c.fullName === 'Account' && c.version === 2));

    const described = await conn.describe('Account');
    const field = described.fields.find((f) => f.name === 'Backup_Tier__c')!;
    assert.deepEqual([field.type, field.length, field.label, field.custom], ['string', 40, 'Backup Tier', true]);
    const { records } = await conn.query<{ Id: string }>('SELECT Id FROM Account LIMIT 1');
    await conn.sobject('Account').update({ Id: records[0]!.Id, Backup_Tier__c: 'Gold' });
    const queried = await conn.query<{ Backup_Tier__c: string | null }>(`SELECT Id, Backup_Tier__c FROM Account WHERE Backup_Tier__c = 'Gold'`);
    assert.deepEqual(queried.records.map((r) => r.Backup_Tier__c), ['Gold']);

    const property = await listed('CustomField', 'Account.Backup_Tier__c');
    assert.ok(property && Date.parse(property.createdDate) >= beforeMs);
    const [read] = (await conn.metadata.read('CustomField', ['Account.Backup_Tier__c'])) as unknown as { type: string; length: number }[];
    assert.deepEqual([read!.type, read!.length], ['Text', 40]);

    // On a custom object, the object's own lastModifiedDate moves too.
    const invoiceBefore = (await listed('CustomObject', 'Invoice__c'))!;
    const reference = await admin('POST', {
      op: 'addField',
      object: 'Invoice__c',
      field: { fullName: 'Reviewer__c', type: 'Lookup', referenceTo: 'User', relationshipName: 'Reviewed_Invoices', label: 'Reviewer' },
    });
    assert.equal(reference.status, 200, JSON.stringify(reference.json));
    const invoiceAfter = (await listed('CustomObject', 'Invoice__c'))!;
    assert.equal(invoiceAfter.id, invoiceBefore.id);
    assert.ok(Date.parse(invoiceAfter.lastModifiedDate) > Date.parse(invoiceBefore.lastModifiedDate));
    assert.ok(Date.parse(invoiceAfter.lastModifiedDate) >= beforeMs);
    assert.equal(invoiceAfter.createdDate, invoiceBefore.createdDate);
    const version = (await versions('CustomObject')).find((c) => c.fullName === 'Invoice__c')!;
    assert.equal(version.version, 2);
    await conn.query(`SELECT Id, Reviewer__c, Reviewer__r.Name FROM Invoice__c LIMIT 1`);
  });

  test('setPicklistValues changes what describe, readMetadata and writes accept', async () => {
    const response = await admin('POST', {
      op: 'setPicklistValues',
      object: 'Invoice__c',
      field: 'Status__c',
      values: ['Draft', 'Sent', { fullName: 'Overdue', label: 'Overdue', default: false }, 'Paid', { fullName: 'Void', isActive: false }],
    });
    assert.equal(response.status, 200, JSON.stringify(response.json));
    assert.ok((response.json.changed as AdminComponent[]).some((c) => c.fullName === 'Invoice__c.Status__c' && c.version === 2));

    const described = await conn.describe('Invoice__c');
    const status = described.fields.find((f) => f.name === 'Status__c')!;
    assert.deepEqual(status.picklistValues!.map((p) => [p.value, p.active]), [['Draft', true], ['Sent', true], ['Overdue', true], ['Paid', true], ['Void', false]]);
    const { records } = await conn.query<{ Id: string }>('SELECT Id FROM Account LIMIT 1');
    const created = await conn.sobject('Invoice__c').create({ Account__c: records[0]!.Id, Due_Date__c: '2030-01-31', Status__c: 'Overdue' });
    assert.equal(created.success, true);

    const [field] = (await conn.metadata.read('CustomField', ['Invoice__c.Status__c'])) as unknown as { valueSet: { valueSetDefinition: { value: { fullName: string; isActive?: boolean }[] } } }[];
    const values = field!.valueSet.valueSetDefinition.value;
    assert.deepEqual(values.map((v) => v.fullName), ['Draft', 'Sent', 'Overdue', 'Paid', 'Void']);
    assert.equal(values.find((v) => v.fullName === 'Void')!.isActive, false);
  });

  test('upsertValidationRule stores the rule for enforcement and versions it', async () => {
    const rule = { fullName: 'Website_Required_For_Partners', active: true, errorConditionFormula: 'AND(ISPICKVAL(Type, "Partner"), ISBLANK(Website))', errorMessage: 'Partners need a website.', errorDisplayField: 'website' };
    const created = await admin('POST', { op: 'upsertValidationRule', object: 'account', rule });
    assert.equal(created.status, 200, JSON.stringify(created.json));
    const stored = validationRules(emu.org).find((r) => r.fullName === rule.fullName)!;
    assert.deepEqual(stored, { object: 'Account', fullName: rule.fullName, active: true, errorConditionFormula: rule.errorConditionFormula, errorMessage: rule.errorMessage, errorDisplayField: 'Website' });

    const first = (await listed('ValidationRule', `Account.${rule.fullName}`))!;
    assert.match(first.id, /^03d/);
    const updated = await admin('POST', { op: 'upsertValidationRule', object: 'Account', rule: { ...rule, active: false } });
    assert.ok((updated.json.changed as AdminComponent[]).some((c) => c.fullName === `Account.${rule.fullName}` && c.version === 2));
    assert.equal(validationRules(emu.org).find((r) => r.fullName === rule.fullName)!.active, false);
    const [read] = (await conn.metadata.read('ValidationRule', [`Account.${rule.fullName}`])) as unknown as { active: boolean; errorConditionFormula: string }[];
    assert.deepEqual([read!.active, read!.errorConditionFormula], [false, rule.errorConditionFormula]);
    const { read: file } = await retrieve([{ name: 'CustomObject', members: ['Account'] }]);
    assert.match(await file('unpackaged/objects/Account.object'), /<validationRules>\n {8}<fullName>Website_Required_For_Partners<\/fullName>\n {8}<active>false<\/active>/);
  });

  test('validation rules configured as org behaviours are metadata too', async () => {
    const response = await fetch(`${emu.info.instanceUrl}/__emulator/behaviours`, {
      method: 'POST',
      headers: { authorization: `Bearer ${emu.info.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'validationRule', object: 'Contact', name: 'Needs_Email', formula: 'ISBLANK(Email)', message: 'Email is required.', active: false }),
    });
    assert.equal(response.status, 200);
    const property = await listed('ValidationRule', 'Contact.Needs_Email');
    assert.equal(property?.fileName, 'objects/Contact.object');
    const [read] = (await conn.metadata.read('ValidationRule', ['Contact.Needs_Email'])) as unknown as { errorConditionFormula: string; errorMessage: string }[];
    assert.deepEqual([read!.errorConditionFormula, read!.errorMessage], ['ISBLANK(Email)', 'Email is required.']);
    // One store of validation rules: the metadata accessor has it too.
    assert.ok(validationRules(emu.org).some((r) => r.object === 'Contact' && r.fullName === 'Needs_Email' && !r.active));
  });

  test('upsertApexClass adds and changes classes, and a retrieve carries the new body', async () => {
    const body = 'public class BackupProbe {\n    public static String ping() { return \'pong\'; }\n}\n';
    const created = await admin('POST', { op: 'upsertApexClass', name: 'BackupProbe', body });
    assert.equal(created.status, 200, JSON.stringify(created.json));
    assert.ok((await listed('ApexClass', 'BackupProbe'))!.id.startsWith('01p'));

    const changedBody = body.replace("'pong'", "'pong v2'");
    const updated = await admin('POST', { op: 'upsertApexClass', name: 'BackupProbe', body: changedBody, apiVersion: '61.0' });
    const probe = (updated.json.changed as AdminComponent[]).filter((c) => c.type === 'ApexClass');
    assert.deepEqual(probe.map((c) => [c.fullName, c.version]), [['BackupProbe', 2]]);

    const { read, names } = await retrieve([{ name: 'ApexClass', members: ['BackupProbe'] }]);
    assert.deepEqual(names, ['unpackaged/classes/BackupProbe.cls', 'unpackaged/classes/BackupProbe.cls-meta.xml', 'unpackaged/package.xml']);
    assert.equal(await read('unpackaged/classes/BackupProbe.cls'), changedBody);
    assert.match(await read('unpackaged/classes/BackupProbe.cls-meta.xml'), /<apiVersion>61\.0<\/apiVersion>/);
  });

  test('folders: listed by folder type, their contents one folder at a time (unfiled$public too), read and retrieved', async () => {
    const folders = await conn.metadata.list([{ type: 'ReportFolder' }, { type: 'DashboardFolder' }, { type: 'EmailTemplateFolder' }]);
    assert.deepEqual(folders.map((p) => `${p.type} ${p.fullName} ${p.fileName}`).sort(), [
      'DashboardFolder Executive_Dashboards dashboards/Executive_Dashboards',
      'ReportFolder Finance_Reports reports/Finance_Reports',
      'ReportFolder Sales_Reports reports/Sales_Reports',
    ]);
    assert.ok(folders.every((p) => /^00l/.test(p.id) && p.manageableState === 'unmanaged'));
    const [documents, emails] = [await conn.metadata.list([{ type: 'DocumentFolder' }]), await conn.metadata.list([{ type: 'EmailFolder' }])];
    assert.deepEqual([documents.map((p) => p.fileName), emails.map((p) => p.fileName)], [['documents/Brand_Assets'], ['email/Invoice_Emails']]);

    const reports = await conn.metadata.list([{ type: 'Report', folder: 'Sales_Reports' }, { type: 'Report', folder: 'unfiled$public' }, { type: 'Report', folder: 'No_Such_Folder' }]);
    assert.deepEqual(reports.map((p) => `${p.fullName} ${p.fileName}`).sort(), [
      'Sales_Reports/Accounts_By_Industry reports/Sales_Reports/Accounts_By_Industry.report',
      'Sales_Reports/Open_Pipeline reports/Sales_Reports/Open_Pipeline.report',
      'unfiled$public/New_Contacts_This_Month reports/unfiled$public/New_Contacts_This_Month.report',
    ]);
    assert.ok(reports.every((p) => p.type === 'Report' && /^00O/.test(p.id) && Date.parse(p.lastModifiedDate) < emu.org.clock.nowMs()));
    const items = await conn.metadata.list([{ type: 'Document', folder: 'Brand_Assets' }, { type: 'EmailTemplate', folder: 'unfiled$public' }, { type: 'Dashboard', folder: 'Executive_Dashboards' }]);
    assert.deepEqual(items.map((p) => `${p.type} ${p.fullName} ${p.fileName}`).sort(), [
      'Dashboard Executive_Dashboards/Sales_Overview dashboards/Executive_Dashboards/Sales_Overview.dashboard',
      'Document Brand_Assets/company_emblem.png documents/Brand_Assets/company_emblem.png',
      'Document Brand_Assets/invoice_footer.txt documents/Brand_Assets/invoice_footer.txt',
      'EmailTemplate unfiled$public/Welcome_New_Customer email/unfiled$public/Welcome_New_Customer.email',
    ]);

    const [folder] = (await conn.metadata.read('ReportFolder', ['Sales_Reports'])) as unknown as { fullName: string; name: string; accessType: string }[];
    assert.deepEqual([folder!.fullName, folder!.name, folder!.accessType], ['Sales_Reports', 'Sales Reports', 'Public']);
    const [report] = (await conn.metadata.read('Report', ['Sales_Reports/Open_Pipeline'])) as unknown as { fullName: string; reportType: string; name: string }[];
    assert.deepEqual([report!.fullName, report!.reportType, report!.name], ['Sales_Reports/Open_Pipeline', 'Opportunity', 'Open Pipeline']);
    const [template] = (await conn.metadata.read('EmailTemplate', ['Invoice_Emails/Invoice_Sent'])) as unknown as { content: string; subject: string }[];
    assert.match(Buffer.from(template!.content, 'base64').toString('utf8'), /^Dear \{!Contact\.FirstName\}/);
    assert.equal(template!.subject, 'Your invoice {!Invoice__c.Name}');

    // Folders are members of the type they hold; a wildcard retrieves nothing of a foldered type.
    const { result, names, read } = await retrieve([
      { name: 'Report', members: ['Sales_Reports', 'Sales_Reports/Open_Pipeline', 'unfiled$public/New_Contacts_This_Month', '*'] },
      { name: 'Document', members: ['Brand_Assets', 'Brand_Assets/company_emblem.png'] },
      { name: 'EmailTemplate', members: ['Invoice_Emails/Invoice_Sent', 'Invoice_Emails/Nope'] },
    ]);
    assert.deepEqual(names, [
      'unpackaged/documents/Brand_Assets-meta.xml',
      'unpackaged/documents/Brand_Assets/company_emblem.png',
      'unpackaged/documents/Brand_Assets/company_emblem.png-meta.xml',
      'unpackaged/email/Invoice_Emails/Invoice_Sent.email',
      'unpackaged/email/Invoice_Emails/Invoice_Sent.email-meta.xml',
      'unpackaged/package.xml',
      'unpackaged/reports/Sales_Reports-meta.xml',
      'unpackaged/reports/Sales_Reports/Open_Pipeline.report',
      'unpackaged/reports/unfiled$public/New_Contacts_This_Month.report',
    ]);
    assert.match(await read('unpackaged/reports/Sales_Reports-meta.xml'), /^<\?xml[^\n]*\n<ReportFolder xmlns="http:\/\/soap\.sforce\.com\/2006\/04\/metadata">\n {4}<accessType>Public<\/accessType>/);
    assert.match(await read('unpackaged/email/Invoice_Emails/Invoice_Sent.email-meta.xml'), /<subject>Your invoice \{!Invoice__c\.Name\}<\/subject>/);
    const png = await (await JSZip.loadAsync(Buffer.from(result.zipFile, 'base64'))).file('unpackaged/documents/Brand_Assets/company_emblem.png')!.async('nodebuffer');
    assert.deepEqual([...png.subarray(1, 4)], [...Buffer.from('PNG')]);
    assert.deepEqual(result.messages, [{ fileName: 'unpackaged/package.xml', problem: "Entity of type 'EmailTemplate' named 'Invoice_Emails/Nope' cannot be found" }]);
    const files = result.fileProperties.map((p) => `${p.type} ${p.fullName} ${p.fileName}`);
    assert.ok(files.includes('ReportFolder Sales_Reports unpackaged/reports/Sales_Reports'));
    assert.ok(files.includes('Document Brand_Assets/company_emblem.png unpackaged/documents/Brand_Assets/company_emblem.png'));
  });

  test('the admin API changes reports, dashboards, documents, email templates and folders, moving their versions', async () => {
    const version = async (type: string, fullName: string): Promise<number | undefined> => (await versions(type)).find((c) => c.fullName === fullName)?.version;
    const before = await version('Report', 'Sales_Reports/Open_Pipeline');
    const changed = await admin('POST', { op: 'upsertReport', folder: 'sales_reports', name: 'Open_Pipeline', format: 'Matrix' });
    assert.equal(changed.status, 200, JSON.stringify(changed.json));
    assert.deepEqual((changed.json.changed as AdminComponent[]).map((c) => [c.type, c.fullName, c.version]), [['Report', 'Sales_Reports/Open_Pipeline', before! + 1]]);
    const [report] = (await conn.metadata.read('Report', ['Sales_Reports/Open_Pipeline'])) as unknown as { format: string; reportType: string; columns: unknown[] }[];
    assert.deepEqual([report!.format, report!.reportType, report!.columns.length], ['Matrix', 'Opportunity', 5], 'what the upsert does not name is kept');

    const created = await admin('POST', { op: 'upsertEmailTemplate', folder: 'Invoice_Emails', name: 'Credit_Note', subject: 'Credit note', body: 'Hello,\n' });
    assert.deepEqual((created.json.changed as AdminComponent[]).map((c) => [c.type, c.fullName, c.version]), [['EmailTemplate', 'Invoice_Emails/Credit_Note', 1]]);
    assert.ok((await conn.metadata.list([{ type: 'EmailTemplate', folder: 'Invoice_Emails' }])).some((p) => p.fullName === 'Invoice_Emails/Credit_Note' && p.id.startsWith('00X')));
    const document = await admin('POST', { op: 'upsertDocument', folder: 'Brand_Assets', name: 'terms.txt', text: 'Terms.\n', label: 'Terms' });
    assert.deepEqual((document.json.changed as AdminComponent[]).map((c) => c.fullName), ['Brand_Assets/terms.txt']);
    const dashboard = await admin('POST', { op: 'upsertDashboard', folder: 'Executive_Dashboards', name: 'Sales_Overview', title: 'Sales at a Glance' });
    assert.deepEqual((dashboard.json.changed as AdminComponent[]).map((c) => c.fullName), ['Executive_Dashboards/Sales_Overview']);

    assert.equal((await admin('POST', { op: 'upsertFolder', type: 'Dashboard', name: 'Team_Dashboards' })).status, 200);
    assert.ok((await conn.metadata.list([{ type: 'DashboardFolder' }])).some((p) => p.fullName === 'Team_Dashboards'));
    assert.equal((await admin('POST', { op: 'deleteFolder', type: 'Dashboard', name: 'Team_Dashboards' })).status, 200);
    assert.equal((await admin('POST', { op: 'deleteEmailTemplate', folder: 'Invoice_Emails', name: 'Credit_Note' })).status, 200);
    assert.equal(await version('EmailTemplate', 'Invoice_Emails/Credit_Note'), undefined);

    const cases: [unknown, string, RegExp][] = [
      [{ op: 'upsertReport', folder: 'No_Folder', name: 'R', reportType: 'AccountList', columns: ['ACCOUNT.NAME'] }, 'folder', /No report folder "No_Folder"/],
      [{ op: 'upsertReport', folder: 'Sales_Reports', name: 'Brand_New' }, 'reportType', /required for a new report/],
      [{ op: 'upsertDashboard', folder: 'unfiled$public', name: 'D', reports: [] }, 'folder', /Dashboards cannot be unfiled/],
      [{ op: 'upsertDashboard', folder: 'Executive_Dashboards', name: 'D', reports: ['Sales_Reports/Nope'] }, 'reports', /No report "Sales_Reports\/Nope"/],
      [{ op: 'upsertDocument', folder: 'Brand_Assets', name: 'noextension', text: 'x' }, 'name', /file extension/],
      [{ op: 'deleteFolder', type: 'Report', name: 'Sales_Reports' }, 'name', /is not empty/],
      [{ op: 'deleteReport', folder: 'Sales_Reports', name: 'Open_Pipeline' }, 'name', /used by the dashboard Executive_Dashboards\/Sales_Overview/],
      [{ op: 'upsertFolder', type: 'Chart', name: 'X' }, 'type', /one of Report, Dashboard, Document, EmailTemplate/],
    ];
    for (const [body, field, message] of cases) {
      const response = await admin('POST', body);
      assert.equal(response.status, 400, JSON.stringify(body));
      assert.equal(response.json.field, field, JSON.stringify(response.json));
      assert.match(String(response.json.message), message);
    }
  });

  test('the admin API lists versions and refuses bad requests, naming the field', async () => {
    const { status, json } = await admin('GET');
    assert.equal(status, 200);
    const components = json.components as AdminComponent[];
    for (const type of ['CustomObject', 'CustomField', 'ValidationRule', 'RecordType', 'Layout', 'Profile', 'PermissionSet', 'ApexClass', 'ApexTrigger', 'Flow']) {
      assert.ok(components.some((c) => c.type === type), type);
    }
    assert.ok(components.every((c) => c.version >= 1 && !Number.isNaN(Date.parse(c.lastModifiedDate))));

    const cases: [unknown, string][] = [
      [{ op: 'dropTable' }, 'op'],
      [{ op: 'addField', object: 'Nope__c', field: { fullName: 'X__c', type: 'Text', length: 10 } }, 'object'],
      [{ op: 'addField', object: 'Account', field: { fullName: 'X__c', type: 'Text', length: 400 } }, 'field.length'],
      [{ op: 'addField', object: 'Account', field: { fullName: 'Bad Name', type: 'Text', length: 10 } }, 'field.fullName'],
      [{ op: 'addField', object: 'Account', field: { fullName: 'F__c', type: 'Text', length: 10, formula: '1' } }, 'field.formula'],
      [{ op: 'addField', object: 'Account', field: { fullName: 'P__c', type: 'Picklist' } }, 'field.valueSet'],
      [{ op: 'setPicklistValues', object: 'Account', field: 'Name', values: ['A'] }, 'field'],
      [{ op: 'setPicklistValues', object: 'Account', field: 'Industry', values: ['A', 'a'] }, 'values[1]'],
      [{ op: 'upsertValidationRule', object: 'Account', rule: { fullName: 'R', errorMessage: 'm' } }, 'rule.errorConditionFormula'],
      [{ op: 'upsertValidationRule', object: 'Account', rule: { fullName: 'R', errorMessage: 'm', errorConditionFormula: 'true', errorDisplayField: 'Nope' } }, 'rule.errorDisplayField'],
      [{ op: 'upsertApexClass', name: '1Bad', body: 'x' }, 'name'],
      [{ op: 'upsertApexClass', name: 'Good', body: 'x', extra: 1 }, 'extra'],
    ];
    for (const [body, field] of cases) {
      const response = await admin('POST', body);
      assert.equal(response.status, 400, JSON.stringify(body));
      assert.equal(response.json.error, 'INVALID_FIELD');
      assert.equal(response.json.field, field, JSON.stringify(response.json));
    }
    const unauthorized = await fetch(`${emu.info.instanceUrl}/__emulator/metadata`, { method: 'POST', body: '{}' });
    assert.equal(unauthorized.status, 401);
  });

  test('the Metadata API needs Modify All Data and a live session', async () => {
    const set = (value: boolean): Promise<Response> =>
      fetch(`${emu.info.instanceUrl}/__emulator/permissions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${emu.info.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ permission: 'modifyAllData', value }),
      });
    assert.equal((await set(false)).status, 200);
    try {
      await assert.rejects(conn.metadata.list([{ type: 'ApexClass' }]), { errorCode: 'sf:INSUFFICIENT_ACCESS' });
    } finally {
      await set(true);
    }
    const stale = new Connection({ instanceUrl: emu.info.instanceUrl, accessToken: 'not-a-session', version: VERSION });
    await assert.rejects(stale.metadata.describe(), { errorCode: 'sf:INVALID_SESSION_ID' });
  });
});
