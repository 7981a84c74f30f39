// The permission check's rules, pure: permission sets add to the profile, describe (what the API
// user sees) beats what was read, a field deleted is not a field hidden, excluded objects are no
// gap, and the CSV neither breaks on commas nor carries formulas.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MetadataRecord } from '../../src/core/org-client.ts';
import { evaluatePermissions, permissionSetXml, reportCsv } from '../../src/permissions/index.ts';
import type { GatheredPermissions } from '../../src/permissions/index.ts';

const profile: MetadataRecord = {
  fullName: 'Integration',
  userPermissions: [
    { enabled: 'true', name: 'ApiEnabled' },
    { enabled: 'true', name: 'ModifyAllData' },
  ],
  objectPermissions: [
    { object: 'Account', allowRead: 'true', viewAllRecords: 'false', modifyAllRecords: 'false' },
    { object: 'Invoice__c', allowRead: 'false', viewAllRecords: 'false' },
  ],
  fieldPermissions: [
    { field: 'Account.Secret__c', readable: 'false', editable: 'false' },
    { field: 'Account.Phone', readable: 'true', editable: 'true' },
    { field: 'Account.Rating', readable: 'false', editable: 'false' },
  ],
};

function gathered(over: Partial<GatheredPermissions> = {}): GatheredPermissions {
  return {
    orgId: '00D000000000001AAA',
    orgName: 'prod',
    checkedAt: Date.UTC(2026, 0, 1),
    user: { id: '005000000000001AAA', username: 'api@example.com', profileId: '00e000000000001AAA', profileName: 'Integration', profileFullName: 'Integration', permissionSets: [] },
    sources: [],
    grants: [{ label: 'profile Integration', record: profile }],
    metadataRefused: false,
    visibleObjects: ['Account', 'Task'],
    metadataObjects: ['Account', 'Invoice__c', 'Legacy__c'],
    describedFields: new Map([['Account', ['Id', 'Name', 'Phone', 'Rating']]]),
    auditFieldsCreateable: false,
    vault: [
      { objectName: 'Account', status: 'Waiting', storedFields: ['Id', 'Name', 'Phone', 'Secret__c', 'Gone__c'] },
      { objectName: 'Legacy__c', status: 'Excluded', storedFields: [] },
    ],
    ...over,
  };
}

describe('evaluatePermissions', () => {
  it('takes permissions from the profile and the permission sets together', () => {
    const set: MetadataRecord = { fullName: 'Backup', userPermissions: { enabled: 'true', name: 'ViewAllData' }, objectPermissions: { object: 'Invoice__c', allowRead: 'true', viewAllRecords: 'true' } };
    const report = evaluatePermissions(gathered({ grants: [{ label: 'profile Integration', record: profile }, { label: 'permission set Backup', record: set }], visibleObjects: ['Account', 'Task', 'Invoice__c'] }));
    const vad = report.userPermissions.find((p) => p.name === 'ViewAllData')!;
    assert.equal(vad.status, 'granted');
    assert.deepEqual(vad.grantedBy, ['permission set Backup']);
    const invoice = report.objects.find((o) => o.object === 'Invoice__c')!;
    assert.equal(invoice.read, true);
    assert.deepEqual(invoice.grantedBy, ['permission set Backup']);
    // An object without object permissions of its own (Task) is readable by describe.
    assert.deepEqual(report.objects.find((o) => o.object === 'Task')!.grantedBy, ['describe']);
  });

  it('reports unreadable objects and fields, but not excluded objects nor fields deleted from the org', () => {
    const report = evaluatePermissions(gathered());
    const invoice = report.objects.find((o) => o.object === 'Invoice__c')!;
    assert.equal(invoice.read, false);
    assert.equal(invoice.unprotected, true);
    // A standard object the Metadata API lists but no permission names: no API user sees it.
    const quiet = evaluatePermissions(gathered({ metadataObjects: ['Account', 'Invoice__c', 'Legacy__c', 'Macro', 'Feature__mdt'] }));
    assert.equal(quiet.objects.find((o) => o.object === 'Macro')!.unprotected, false);
    assert.equal(quiet.objects.find((o) => o.object === 'Feature__mdt')!.unprotected, false);
    const legacy = report.objects.find((o) => o.object === 'Legacy__c')!;
    assert.equal(legacy.read, false);
    assert.equal(legacy.unprotected, false, 'excluded from backups: no gap');
    // Rating is hidden by the profile but describe shows it (a permission set not read grants it).
    assert.deepEqual(report.fields.map((f) => `${f.object}.${f.field}:${f.backedUpBefore}`), ['Account.Secret__c:true']);
    // Without View All Data nor View All, Account is read only in part.
    const account = report.objects.find((o) => o.object === 'Account')!;
    assert.equal(account.allRecords, false);
    assert.equal(account.unprotected, true);
    assert.deepEqual(report.summary.requiredMissing, ['ViewAllData', 'QueryAllFiles']);
    assert.equal(report.summary.gap, true);
  });

  it('says unknown where the profile could not be read, and what a Metadata API refusal means', () => {
    const report = evaluatePermissions(gathered({ grants: [], metadataRefused: true, auditFieldsCreateable: true }));
    const status = (name: string): string => report.userPermissions.find((p) => p.name === name)!.status;
    assert.equal(status('ApiEnabled'), 'granted');
    assert.equal(status('ModifyAllData'), 'missing');
    assert.equal(status('CreateAuditFields'), 'granted');
    assert.equal(status('ViewAllData'), 'unknown');
    assert.equal(report.objects.find((o) => o.object === 'Account')!.allRecords, null);
    // Describe against the vault's stored describe: both vanished fields are reported, from describe.
    assert.deepEqual(report.fields.map((f) => `${f.field}:${f.source}`).sort(), ['Gone__c:describe', 'Secret__c:describe']);
  });

  it('writes CSV cells that survive commas, quotes and spreadsheet formulas', () => {
    const report = evaluatePermissions(gathered());
    report.objects[0]!.note = '=HYPERLINK("x"), "quoted"';
    const csv = reportCsv(report);
    assert.match(csv, /"'=HYPERLINK\(""x""\), ""quoted"""/);
    const xml = permissionSetXml(report);
    assert.match(xml, /<object>Invoice__c<\/object>/);
    assert.doesNotMatch(xml, /<object>Legacy__c<\/object>/);
    assert.match(xml, /<field>Account\.Secret__c<\/field>/);
  });
});
