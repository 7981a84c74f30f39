import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Org } from '../../emulator/org/org.ts';
import type { OrgChange, OrgState } from '../../emulator/org/org.ts';
import { standardCatalog } from '../../emulator/org/catalog/index.ts';
import type { StoredRecord } from '../../emulator/org/schema.ts';
import { parseDatetime } from '../../emulator/org/values.ts';
import { API_PASSWORD, API_USERNAME, applyActivity, buildOrg, loadOrgState, saveOrgState } from '../../emulator/seed/index.ts';
import { Shape } from '../../emulator/seed/shape.ts';

const NOW = new Date('2026-11-01T00:00:00.000Z');
const DAY_MS = 86_400_000;

/** The state without the running clock, for comparing two builds. */
function comparable(org: Org): Omit<OrgState, 'nowMs'> {
  const { nowMs: _nowMs, ...rest } = org.exportState();
  return rest;
}

function* allRecords(org: Org): Generator<[string, StoredRecord]> {
  for (const object of org.schema.objects()) for (const record of org.records(object.name)) yield [object.name, record];
}

function liveCount(org: Org): number {
  let n = 0;
  for (const [, record] of allRecords(org)) if (!record.IsDeleted) n++;
  return n;
}

describe('buildOrg', () => {
  let demo: Org;
  before(() => {
    demo = buildOrg({ profile: 'demo', seed: 42, now: NOW });
  });

  it('builds the same org twice from the same seed and start time', () => {
    const again = buildOrg({ profile: 'demo', seed: 42, now: NOW });
    assert.deepEqual(comparable(again), comparable(demo));
  });

  it('builds a different org from another seed', () => {
    const other = buildOrg({ profile: 'demo', seed: 43, now: NOW });
    const names = (org: Org) => [...org.records('Account')].slice(0, 20).map((a) => a.Name);
    assert.notDeepEqual(names(other), names(demo));
    // The base does not depend on the seed: the API user and connected app stay the same.
    assert.equal(other.apiUserId, demo.apiUserId);
    assert.equal(other.connectedApp?.clientId, demo.connectedApp?.clientId);
  });

  it('gives every profile the base: organization, users, profiles, record types, price book, connected app', () => {
    const org = buildOrg({ profile: 'empty', seed: 1, now: NOW });
    assert.equal(org.get(org.orgId)?.Name, org.orgName);
    const apiUser = org.get(org.apiUserId)!;
    assert.equal(apiUser.Username, API_USERNAME);
    assert.equal(apiUser.IsActive, true);
    assert.equal(org.get(String(apiUser.ProfileId))?.Name, 'System Administrator');
    assert.equal(org.credentials.get(API_USERNAME), API_PASSWORD);
    const users = [...org.records('User')];
    assert.ok(users.length >= 5);
    assert.ok(users.some((u) => u.IsActive === false), 'an inactive user');
    assert.ok([...org.records('Profile')].some((p) => p.Name === 'Standard User'));
    assert.ok([...org.records('Pricebook2')].some((p) => p.IsStandard === true && p.IsActive === true));
    const recordTypes = [...org.records('RecordType')];
    assert.ok(recordTypes.some((rt) => rt.SobjectType === 'Account' && rt.DeveloperName === 'Business_Account'));
    for (const rt of recordTypes) assert.match(rt.Id, /^012/);

    const app = org.connectedApp!;
    assert.match(app.clientId, /^3MVG9[A-Za-z0-9._]{80}$/);
    assert.match(app.clientSecret, /^[0-9A-F]{64}$/);
    assert.equal(createPublicKey(app.certificatePem).asymmetricKeyDetails?.modulusLength, 2048);
    assert.match(app.certificatePem, /^-----BEGIN PUBLIC KEY-----/);
    assert.match(app.privateKeyPem, /^-----BEGIN PRIVATE KEY-----/);
    const signature = sign('sha256', Buffer.from('assertion'), createPrivateKey(app.privateKeyPem));
    assert.ok(verify('sha256', Buffer.from('assertion'), app.certificatePem, signature));
    // Nothing but the base.
    assert.equal(org.count('Account'), 0);
  });

  it('starts the org clock at `now` and keeps every seeded timestamp before it', () => {
    assert.ok(Math.abs(demo.clock.nowMs() - NOW.getTime()) < 120_000);
    for (const [, record] of allRecords(demo)) {
      for (const field of ['CreatedDate', 'LastModifiedDate', 'SystemModstamp']) {
        const value = record[field];
        if (typeof value === 'string') assert.ok(parseDatetime(value) < NOW.getTime(), `${record.Id}.${field} ${value}`);
      }
    }
  });

  it('seeds about 10,000 records with more than 2,000 contacts', () => {
    const live = liveCount(demo);
    assert.ok(live > 9000 && live < 13000, `live records: ${live}`);
    assert.ok(demo.count('Contact') > 2000);
    for (const object of ['Account', 'Lead', 'Opportunity', 'OpportunityLineItem', 'OpportunityContactRole', 'Product2', 'PricebookEntry', 'Campaign', 'CampaignMember', 'Case', 'CaseComment', 'Task', 'Event', 'Note', 'Attachment', 'Document', 'ContentVersion', 'ContentDocument', 'ContentDocumentLink', 'Invoice__c', 'Invoice_Line__c', 'Project__c', 'Customer_Interaction__b', 'LoginHistory', 'SetupAuditTrail']) {
      assert.ok(demo.count(object) > 0, `${object} has records`);
    }
    assert.ok(demo.count('Account') >= 550);
  });

  it('points every reference of a live record at an existing record of an allowed type', () => {
    let checked = 0;
    for (const object of demo.schema.objects()) {
      const refs = object.def.fields.filter((f) => f.type === 'reference' && f.name !== 'Id' && !f.formula);
      for (const record of demo.records(object.name)) {
        if (record.IsDeleted) continue;
        for (const field of refs) {
          const value = record[field.name];
          if (value === null || value === undefined) continue;
          const target = demo.get(String(value));
          assert.ok(target, `${object.name}.${field.name} of ${record.Id} points at missing ${String(value)}`);
          const targetObject = demo.schema.objectForId(target.Id)!.name;
          assert.ok(field.referenceTo!.includes(targetObject), `${object.name}.${field.name} → ${targetObject}`);
          checked++;
        }
      }
    }
    assert.ok(checked > 30_000);
  });

  it('fills every required field and keeps timestamps in order', () => {
    for (const object of demo.schema.objects()) {
      const shape = new Shape(object);
      for (const record of demo.records(object.name)) {
        assert.deepEqual(shape.missingRequired(record), [], `${object.name} ${record.Id}`);
        const created = record.CreatedDate as string | undefined;
        const modified = record.LastModifiedDate as string | undefined;
        const stamp = record.SystemModstamp as string | undefined;
        if (created && modified) assert.ok(created <= modified, `${record.Id} modified before created`);
        if (modified && stamp) assert.ok(modified <= stamp, `${record.Id} SystemModstamp before LastModifiedDate`);
      }
    }
  });

  it('computes roll-ups as the sum and count of live lines', () => {
    const invoice = demo.schema.object('Invoice__c')!;
    const rollups = invoice.def.fields.filter((f) => f.rollup);
    assert.ok(rollups.length >= 2);
    const lines = demo.schema.object('Invoice_Line__c')!;
    const totals = new Map<string, { sum: number; count: number }>();
    for (const line of demo.records('Invoice_Line__c')) {
      if (line.IsDeleted) continue;
      const t = totals.get(String(line.Invoice__c)) ?? { sum: 0, count: 0 };
      t.sum += Number(demo.readField(lines, line, 'Amount__c'));
      t.count++;
      totals.set(String(line.Invoice__c), t);
    }
    let withLines = 0;
    for (const record of demo.records('Invoice__c')) {
      if (record.IsDeleted) continue;
      const t = totals.get(record.Id) ?? { sum: 0, count: 0 };
      if (t.count) withLines++;
      assert.ok(Math.abs(Number(record.Total__c) - t.sum) < 0.005, `${record.Id} total ${String(record.Total__c)} ≠ ${t.sum}`);
      assert.equal(record.Line_Count__c, t.count);
    }
    assert.ok(withLines > 300);
  });

  it('has a history: later edits, bulk updates sharing a SystemModstamp, system touches', () => {
    let edited = 0;
    let total = 0;
    let systemOnly = 0;
    const stamps = new Map<string, number>();
    for (const [, record] of allRecords(demo)) {
      if (typeof record.CreatedDate !== 'string' || typeof record.SystemModstamp !== 'string') continue;
      total++;
      if (record.LastModifiedDate !== record.CreatedDate) edited++;
      if (record.SystemModstamp !== record.LastModifiedDate) systemOnly++;
      stamps.set(record.SystemModstamp, (stamps.get(record.SystemModstamp) ?? 0) + 1);
    }
    assert.ok(edited / total > 0.3, `edited ${edited}/${total}`);
    assert.ok(systemOnly > 50);
    const shared = [...stamps.values()].filter((n) => n >= 5);
    assert.ok(shared.length >= 10, 'bulk updates share a SystemModstamp');
    // The history spans about two years.
    const created = [...demo.records('Account')].map((a) => parseDatetime(String(a.CreatedDate)));
    assert.ok(Math.min(...created) < NOW.getTime() - 650 * DAY_MS);
    assert.ok(Math.max(...created) > NOW.getTime() - 30 * DAY_MS);
  });

  it('allocates IDs in creation order', () => {
    const accounts = [...demo.records('Account')];
    for (let i = 1; i < accounts.length; i++) {
      assert.ok(accounts[i - 1]!.Id < accounts[i]!.Id);
      assert.ok(String(accounts[i - 1]!.CreatedDate) <= String(accounts[i]!.CreatedDate));
    }
  });

  it('fills the Recycle Bin with recent deletes, cascades included, and logs older ones', () => {
    const deleted = [...allRecords(demo)].filter(([, r]) => r.IsDeleted).map(([object, r]) => ({ object, r }));
    assert.ok(deleted.length > 100, `deleted: ${deleted.length}`);
    for (const { r } of deleted) {
      assert.ok(demo.isInRecycleBin(r.Id));
      assert.ok(parseDatetime(String(r.SystemModstamp)) > NOW.getTime() - 15 * DAY_MS);
    }
    const account = deleted.find((d) => d.object === 'Account' && [...demo.records('Contact')].some((c) => c.IsDeleted && c.AccountId === d.r.Id));
    assert.ok(account, 'an account deleted with its contacts');
    // Deletes older than the Recycle Bin keeps are gone from it but still known to getDeleted.
    const old = demo.deletions('Lead', NOW.getTime() - 30 * DAY_MS, NOW.getTime() - 15 * DAY_MS);
    assert.ok(old.length >= 1);
    assert.equal(demo.get(old[0]!.id), undefined);
  });

  it('has records owned by inactive users, a project cycle and encrypted values', () => {
    const inactive = new Set([...demo.records('User')].filter((u) => u.IsActive === false).map((u) => u.Id));
    const owned = [...allRecords(demo)].filter(([, r]) => !r.IsDeleted && inactive.has(String(r.OwnerId)));
    assert.ok(owned.length > 20, `owned by inactive users: ${owned.length}`);
    const projects = new Map([...demo.records('Project__c')].map((p) => [p.Id, p]));
    const cycle = [...projects.values()].find((p) => {
      const parent = projects.get(String(p.Parent_Project__c));
      return parent && parent.Parent_Project__c === p.Id;
    });
    assert.ok(cycle, 'two projects are each other\'s parent');
    const project = demo.schema.object('Project__c')!;
    const first = [...projects.values()][0]!;
    assert.match(String(first.Secret_Code__c), /^PRJ-/);
    assert.match(String(demo.readField(project, first, 'Secret_Code__c')), /^\*+$/);
  });

  it('holds file bodies as base64, from a few bytes to several megabytes', () => {
    let small = 0;
    let large = 0;
    for (const object of ['Attachment', 'Document', 'ContentVersion']) {
      const field = object === 'ContentVersion' ? 'VersionData' : 'Body';
      for (const record of demo.records(object)) {
        const body = String(record[field]);
        // A round trip, not a regular expression: bodies run to megabytes.
        const bytes = Buffer.from(body, 'base64');
        assert.equal(bytes.toString('base64'), body, `${record.Id} is not canonical base64`);
        if (bytes.length < 10_000) small++;
        if (bytes.length > 2 ** 20) large++;
        assert.ok(bytes.length < 10 * 2 ** 20, `${record.Id}: ${bytes.length} bytes`);
      }
    }
    assert.ok(small > 10 && large >= 3, `small ${small}, large ${large}`);
    const documents = [...demo.records('ContentDocument')];
    for (const d of documents) assert.equal(demo.get(String(d.LatestPublishedVersionId))?.ContentDocumentId, d.Id);
  });

  it('builds the bench profile at an exact scale in realistic proportions', () => {
    const org = buildOrg({ profile: 'bench', seed: 5, scale: 20_000, now: NOW });
    let total = 0;
    for (const object of org.schema.objects()) total += org.count(object.name, true);
    assert.equal(total, 20_000);
    const share = (object: string) => org.count(object) / 20_000;
    assert.ok(Math.abs(share('Account') - 0.06) < 0.005);
    assert.ok(Math.abs(share('Contact') - 0.18) < 0.01);
    assert.ok(share('Task') > 0.1 && share('Task') < 0.2);
    assert.ok(share('Invoice_Line__c') > 0.07);
    assert.ok(share('Opportunity') > 0.05 && share('Case') > 0.05 && share('Lead') > 0.08);
    for (const contact of org.records('Contact')) assert.ok(org.get(String(contact.AccountId))?.Id.startsWith('001'));
    const sums = new Map<string, number>();
    const lines = org.schema.object('Invoice_Line__c')!;
    for (const line of org.records('Invoice_Line__c')) sums.set(String(line.Invoice__c), (sums.get(String(line.Invoice__c)) ?? 0) + Number(org.readField(lines, line, 'Amount__c')));
    for (const invoice of org.records('Invoice__c')) assert.ok(Math.abs(Number(invoice.Total__c) - (sums.get(invoice.Id) ?? 0)) < 0.005);
  });
});

describe('applyActivity', () => {
  const collect = (org: Org): OrgChange[] => {
    const changes: OrgChange[] = [];
    org.onChange((batch) => changes.push(...batch));
    return changes;
  };

  it('makes each kind of change through the pipeline, and counts them', () => {
    const org = buildOrg({ profile: 'demo', seed: 9, now: NOW });
    const changes = collect(org);
    const result = applyActivity(org, { changes: 300, seed: 'day-1' });
    assert.equal(result.created + result.updated + result.deleted + result.undeleted, 300);
    assert.ok(result.created > 0 && result.updated > 0 && result.deleted > 0 && result.undeleted > 0, JSON.stringify(result));
    const types = new Set(changes.map((c) => c.changeType));
    assert.deepEqual([...types].sort(), ['CREATE', 'DELETE', 'UNDELETE', 'UPDATE']);
    // Cascades: more records went than were deleted directly, an account among them.
    assert.ok(changes.filter((c) => c.changeType === 'DELETE').length > result.deleted);
    assert.ok(changes.some((c) => c.changeType === 'DELETE' && c.object === 'Account'));
    // A bulk update: several records share one stamp in one burst.
    const byStamp = new Map<number, number>();
    for (const c of changes) if (c.changeType === 'UPDATE' && c.changedFields.length) byStamp.set(c.stampMs, (byStamp.get(c.stampMs) ?? 0) + 1);
    assert.ok([...byStamp.values()].some((n) => n >= 3));
    // A contact moved to another account.
    assert.ok(changes.some((c) => c.object === 'Contact' && c.changeType === 'UPDATE' && c.changedFields.includes('AccountId')));
    // Writers are active users.
    const active = new Set([...org.records('User')].filter((u) => u.IsActive).map((u) => u.Id));
    for (const c of changes) assert.ok(active.has(c.userId), `change by ${c.userId}`);
  });

  it('makes the same changes for the same seed on the same org state', () => {
    const run = (seed: string): string[] => {
      const org = buildOrg({ profile: 'demo', seed: 9, now: NOW });
      const changes = collect(org);
      applyActivity(org, { changes: 60, seed });
      return changes.map((c) => `${c.changeType} ${c.recordId} ${c.changedFields.join(',')}`);
    };
    const a = run('same');
    assert.deepEqual(run('same'), a);
    assert.notDeepEqual(run('other'), a);
  });

  it('works on an org without business data', () => {
    const org = buildOrg({ profile: 'empty', seed: 1, now: NOW });
    const result = applyActivity(org, { changes: 5, seed: 1 });
    assert.equal(result.created, 5);
  });
});

describe('state file', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'orgvault-state-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('saves and loads an org, Recycle Bin and all', () => {
    const org = buildOrg({ profile: 'demo', seed: 3, now: NOW });
    org.access.setObjectRead('Lead', false);
    const file = join(dir, 'demo.json');
    saveOrgState(org, file);
    assert.deepEqual(readdirSync(dir), ['demo.json'], 'no temporary file left');
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { format: string };
    assert.equal(parsed.format, 'orgvault-emulator-state');

    const restored = new Org(standardCatalog(), { now: NOW });
    assert.equal(loadOrgState(restored, file), true);
    assert.deepEqual(comparable(restored), comparable(org));
    assert.equal(restored.access.canReadObject('Lead'), false);
    const deleted = [...restored.records('Contact')].find((c) => c.IsDeleted)!;
    assert.ok(restored.isInRecycleBin(deleted.Id));
    // The restored org keeps working: an insert takes the next ID.
    const account = restored.insert('Account', { Name: 'After restore' }, { userId: restored.apiUserId });
    assert.equal(org.get(account.Id), undefined);
  });

  it('returns false for a missing file and rejects a foreign one', () => {
    const org = new Org(standardCatalog(), { now: NOW });
    assert.equal(loadOrgState(org, join(dir, 'missing.json')), false);
    const foreign = join(dir, 'foreign.json');
    saveOrgState(buildOrg({ profile: 'empty', seed: 1, now: NOW }), foreign);
    const text = readFileSync(foreign, 'utf8').split('\n');
    const truncated = join(dir, 'truncated.json');
    rmSync(foreign);
    writeFileSync(truncated, text.slice(0, 5).join('\n'));
    assert.throws(() => loadOrgState(org, truncated), /not an emulator state file/);
    assert.ok(existsSync(truncated));
  });
});
