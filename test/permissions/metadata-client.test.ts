// The Metadata API client of the org port over HTTP against the emulator: listMetadata in calls of
// three queries, readMetadata in calls of ten names with a null in place of a name the org does
// not have, plain JSON records, each call charged, and Salesforce's faults as SalesforceApiError.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startEmulator } from '../../emulator/index.ts';
import type { RunningEmulator } from '../../emulator/index.ts';
import { SalesforceApiError } from '../../src/core/errors.ts';
import { metadataList, metadataText } from '../../src/core/org-client.ts';
import type { OrgClient } from '../../src/core/org-client.ts';
import { connectOrg } from '../../src/salesforce/index.ts';
import { emulatedOrg } from '../e2e/fixtures/emulated-org.ts';

describe('Metadata API client', () => {
  let emulator: RunningEmulator;
  let client: OrgClient;

  before(async () => {
    emulator = await startEmulator({ profile: 'demo', seed: 5 });
    client = await connectOrg(emulatedOrg(emulator).auth, { retry: { attempts: 2, baseDelayMs: 5, maxDelayMs: 10 } });
  });
  after(async () => {
    await emulatedOrg(emulator).admin('POST', '/permissions', { permission: 'modifyAllData', value: true });
    await emulator?.close();
  });

  it('lists components of several types, three queries a call', async () => {
    const before = client.scoped();
    const listed = await before.listMetadata([{ type: 'Profile' }, { type: 'CustomObject' }, { type: 'CustomField' }, { type: 'Layout' }]);
    assert.equal(before.usage().calls, 2);
    const types = new Set(listed.map((p) => p.type));
    assert.deepEqual([...types].sort(), ['CustomField', 'CustomObject', 'Layout', 'Profile']);
    const admin = listed.find((p) => p.type === 'Profile' && p.fullName === 'Admin')!;
    assert.match(admin.id, /^00e[A-Za-z0-9]{15}$/);
    assert.equal(admin.fileName, 'profiles/Admin.profile');
    assert.equal(admin.namespacePrefix, null);
    assert.equal(listed.find((p) => p.type === 'CustomObject' && p.fullName === 'Account')?.id, '', 'a standard object has no ID');
  });

  it('reads components ten names a call, null where a name does not exist', async () => {
    const fields = (await client.listMetadata([{ type: 'CustomField' }])).map((p) => p.fullName).sort();
    assert.ok(fields.length >= 12, `${fields.length} custom fields`);
    const names = [...fields.slice(0, 6), 'Account.Nope__c', ...fields.slice(6, 12)];
    const scoped = client.scoped();
    const records = await scoped.readMetadata('CustomField', names);
    assert.equal(scoped.usage().calls, 2);
    assert.equal(records.length, names.length);
    assert.equal(records[6], null);
    records.forEach((r, i) => {
      if (i !== 6) assert.equal(metadataText(r?.fullName)?.toLowerCase(), names[i]!.toLowerCase());
    });
    const [admin] = await client.readMetadata('Profile', ['Admin']);
    const perms = metadataList(admin!.userPermissions).map((p) => (typeof p === 'object' && !Array.isArray(p) ? metadataText(p.name) : undefined));
    assert.ok(perms.includes('ApiEnabled'));
    assert.ok(metadataList(admin!.objectPermissions).length > 0);
  });

  it('raises Salesforce\'s faults: an unknown type, and a user without Modify All Data', async () => {
    await assert.rejects(client.readMetadata('NoSuchType', ['X']), (e: unknown) => e instanceof SalesforceApiError && e.statusCode === 'INVALID_TYPE');
    await emulatedOrg(emulator).admin('POST', '/permissions', { permission: 'modifyAllData', value: false });
    await assert.rejects(client.listMetadata([{ type: 'Profile' }]), (e: unknown) => e instanceof SalesforceApiError && e.statusCode === 'INSUFFICIENT_ACCESS');
  });
});
