// Compare and export of metadata over a real SQLite vault: the last two backups by default, runs
// and times, package.xml and files as of a point, built-in profiles kept apart from custom ones.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import JSZip from 'jszip';
import { UsageError } from '../../src/core/errors.ts';
import type { OrgRegistration } from '../../src/core/vault.ts';
import { deriveKeyring, generateDataKey } from '../../src/crypto/keys.ts';
import { compareMetadata, parseMetadataPoint } from '../../src/metadata/compare.ts';
import { buildMetadataPackage, exportMetadata, packageXml, sourceFormatPath } from '../../src/metadata/export-package.ts';
import { exportProfileNames, profileDisplayName } from '../../src/metadata/profile-names.ts';
import type { VaultStore } from '../../src/store/port.ts';
import { openSqliteVaultStore } from '../../src/store/sqlite/index.ts';

const ORG: OrgRegistration = { name: 'prod', orgId: '00D000000000001AAA', instanceUrl: 'https://x', loginUrl: 'https://x', sealedAuth: new Uint8Array(), createdAt: 0, settings: {} };
const T = Date.UTC(2026, 10, 1);
const HOUR = 3_600_000;

const cls = (name: string, body: string) => ({ [`classes/${name}.cls`]: body, [`classes/${name}.cls-meta.xml`]: '<?xml version="1.0" encoding="UTF-8"?>\n<ApexClass xmlns="http://soap.sforce.com/2006/04/metadata">\n    <apiVersion>62.0</apiVersion>\n    <status>Active</status>\n</ApexClass>\n' });
const picklist = (values: string[]) => ({
  'objects/Account/fields/Tier__c.field-meta.xml': ['<?xml version="1.0" encoding="UTF-8"?>', '<CustomField xmlns="http://soap.sforce.com/2006/04/metadata">', '    <fullName>Tier__c</fullName>', '    <type>Picklist</type>', '    <valueSet>', ...values.map((v) => `        <value><fullName>${v}</fullName></value>`), '    </valueSet>', '</CustomField>', ''].join('\n'),
});
const profile = (name: string, text: string) => ({ [`profiles/${name}.profile-meta.xml`]: `<Profile><custom>${text}</custom></Profile>\n` });
const put = (type: string, fullName: string, files?: Record<string, string>) => ({ type, fullName, files, deleted: files === undefined, lastModifiedDate: T, salesforceId: null });

describe('metadata compare and export', () => {
  let dir: string;
  let store: VaultStore;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'orgvault-mc-'));
    store = await openSqliteVaultStore({ path: join(dir, 'catalog.db'), keyring: deriveKeyring(generateDataKey(), randomUUID()) });
    await store.writeMetadataVersions(ORG.orgId, 'run-1', T, [
      put('ApexClass', 'Greeter', cls('Greeter', 'public class Greeter {\n    public String hi() {\n        return \'hi\';\n    }\n}\n')),
      put('ApexClass', 'Old', cls('Old', 'public class Old {}\n')),
      put('CustomField', 'Account.Tier__c', picklist(['Gold', 'Silver'])),
      put('Profile', 'Admin', profile('Admin', 'false')),
      put('Profile', 'admin', profile('admin', 'true')),
    ]);
    await store.completeMetadataRun({ orgId: ORG.orgId, runId: 'run-1', capturedAt: T, components: 5, changed: 5, deleted: 0 });
    await store.writeMetadataVersions(ORG.orgId, 'run-2', T + HOUR, [
      put('ApexClass', 'Greeter', cls('Greeter', 'public class Greeter {\n    public String hi() {\n        return \'hello\';\n    }\n}\n')),
      put('ApexClass', 'Old'),
      put('ApexClass', 'Fresh', cls('Fresh', 'public class Fresh {}\n')),
      put('CustomField', 'Account.Tier__c', picklist(['Gold', 'Silver', 'Bronze'])),
    ]);
    await store.completeMetadataRun({ orgId: ORG.orgId, runId: 'run-2', capturedAt: T + HOUR, components: 5, changed: 4, deleted: 1 });
  });
  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('by default the last two backups: added, removed and changed, with a diff of each changed file', async () => {
    const result = await compareMetadata({ store }, ORG, {});
    assert.equal(result.from.runId, 'run-1');
    assert.equal(result.to.runId, 'run-2');
    assert.deepEqual(result.counts, { added: 1, removed: 1, changed: 2, unchanged: 2 });
    assert.deepEqual(
      result.changes.map((c) => `${c.change} ${c.type}:${c.fullName}`),
      ['added ApexClass:Fresh', 'changed ApexClass:Greeter', 'removed ApexClass:Old', 'changed CustomField:Account.Tier__c'],
    );
    const greeter = result.changes.find((c) => c.fullName === 'Greeter')!;
    assert.deepEqual(greeter.files, [{ path: 'classes/Greeter.cls', change: 'changed' }]);
    assert.match(greeter.diff, /^--- a\/classes\/Greeter\.cls\n\+\+\+ b\/classes\/Greeter\.cls\n@@ /);
    assert.match(greeter.diff, /\n-        return 'hi';\n\+        return 'hello';\n/);
    const tier = result.changes.find((c) => c.type === 'CustomField')!;
    assert.match(tier.diff, /\n\+        <value><fullName>Bronze<\/fullName><\/value>\n/);
    assert.equal(result.changes.find((c) => c.fullName === 'Fresh')!.diff, '');
    assert.deepEqual(result.changes.find((c) => c.fullName === 'Old')!.files.map((f) => f.change), ['removed', 'removed']);
  });

  test('runs by prefix and times; the reverse direction swaps added and removed; a type filter', async () => {
    const back = await compareMetadata({ store }, ORG, { from: parseMetadataPoint('run-2', '--from'), to: parseMetadataPoint(new Date(T + 1000).toISOString(), '--to') });
    assert.equal(back.to.at, new Date(T + 1000).toISOString());
    assert.deepEqual(back.changes.filter((c) => c.change !== 'changed').map((c) => `${c.change} ${c.fullName}`), ['removed Fresh', 'added Old']);
    // --to alone: from the backup before the one that `to` stands for.
    const toTime = await compareMetadata({ store }, ORG, { to: { at: T + 2 * HOUR } });
    assert.deepEqual([toTime.from.runId, toTime.to.at], ['run-1', new Date(T + 2 * HOUR).toISOString()]);
    assert.equal(toTime.counts.changed, 2);
    await assert.rejects(compareMetadata({ store }, ORG, { to: { at: T + 1000 } }), /nothing before the --to point/);
    const fields = await compareMetadata({ store }, ORG, {}, { type: 'CustomField' });
    assert.deepEqual(fields.counts, { added: 0, removed: 0, changed: 1, unchanged: 0 });
    await assert.rejects(compareMetadata({ store }, ORG, { from: { runId: 'run-' } }), (e: unknown) => e instanceof UsageError && /ambiguous/.test(e.message));
    await assert.rejects(compareMetadata({ store }, ORG, { from: { runId: 'nope' } }), (e: unknown) => e instanceof UsageError && /No metadata backup of prod has run ID "nope"/.test(e.message));
  });

  test('against the live org: the capture passed in is the right side', async () => {
    const result = await compareMetadata(
      { store, live: async () => [{ type: 'ApexClass', fullName: 'Greeter', files: cls('Greeter', 'public class Greeter {}\n'), lastModifiedDate: T + 2 * HOUR }] },
      ORG,
      { from: { runId: 'run-2' }, to: { live: true } },
      { type: 'ApexClass' },
    );
    assert.equal(result.to.label, 'live org');
    assert.deepEqual(result.changes.map((c) => `${c.change} ${c.fullName}`), ['removed Fresh', 'changed Greeter']);
    assert.equal(result.changes[1]!.after!.lastModifiedDate, new Date(T + 2 * HOUR).toISOString());
  });

  test('fewer than two backups: a usage error saying what to do', async () => {
    const other = { ...ORG, name: 'empty', orgId: '00D000000000002AAA' };
    await assert.rejects(compareMetadata({ store }, other, {}), (e: unknown) => e instanceof UsageError && /empty has no metadata backup yet/.test(e.message));
    assert.deepEqual(parseMetadataPoint('LIVE', '--to'), { live: true });
    assert.throws(() => parseMetadataPoint('2026-13-01', '--to'), UsageError);
  });

  test('built-in profiles keep their API names; a custom profile that would overwrite one is renamed', () => {
    assert.deepEqual(
      exportProfileNames(['Admin', 'admin', 'Sales Rep', 'Standard']).map((p) => [p.fullName, p.exportName, p.builtIn?.label ?? null]),
      [
        ['Admin', 'Admin', 'System Administrator'],
        ['admin', 'Custom_admin', null],
        ['Sales Rep', 'Sales Rep', null],
        ['Standard', 'Standard', 'Standard User'],
      ],
    );
    // A custom profile named like a built-in one that this export does not hold is renamed too.
    assert.equal(exportProfileNames(['readonly'])[0]!.exportName, 'Custom_readonly');
    assert.equal(exportProfileNames(['Custom_admin', 'admin', 'Admin'])[1]!.exportName, 'Custom_admin_2');
    assert.equal(profileDisplayName('StandardAul'), 'StandardAul (Standard Platform User)');
  });

  test('package.xml lists types and members sorted, escaped, with the version', () => {
    assert.equal(
      packageXml([{ name: 'Profile', members: ['Custom_admin', 'Admin'] }, { name: 'ApexClass', members: ['A&B'] }], '62.0'),
      [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<Package xmlns="http://soap.sforce.com/2006/04/metadata">',
        '    <types>',
        '        <members>A&amp;B</members>',
        '        <name>ApexClass</name>',
        '    </types>',
        '    <types>',
        '        <members>Admin</members>',
        '        <members>Custom_admin</members>',
        '        <name>Profile</name>',
        '    </types>',
        '    <version>62.0</version>',
        '</Package>',
        '',
      ].join('\n'),
    );
    const pkg = buildMetadataPackage([{ type: 'Profile', fullName: 'admin', files: profile('admin', 'x') }, { type: 'Profile', fullName: 'Admin', files: profile('Admin', 'y') }], { org: 'prod', point: 'now' });
    assert.deepEqual([...pkg.entries.keys()], ['package.xml', 'sfdx-project.json', 'README.txt', 'force-app/main/default/profiles/Admin.profile-meta.xml', 'force-app/main/default/profiles/Custom_admin.profile-meta.xml']);
    assert.match(pkg.entries.get('README.txt')!, /System Administrator\s+-> Admin/);
    assert.match(pkg.entries.get('README.txt')!, /Renamed in this export:\n {2}admin -> Custom_admin/);
  });

  test('stored retrieve paths become source-format paths; bodies with a companion and bundles keep theirs', () => {
    const files = { 'classes/A.cls': 'public class A {}', 'classes/A.cls-meta.xml': '<ApexClass/>', 'profiles/Admin.profile': '<?xml version="1.0"?><Profile/>', 'lwc/card/card.html': '<template></template>' };
    assert.equal(sourceFormatPath('classes/A.cls', files['classes/A.cls'], files), 'classes/A.cls');
    assert.equal(sourceFormatPath('classes/A.cls-meta.xml', files['classes/A.cls-meta.xml'], files), 'classes/A.cls-meta.xml');
    assert.equal(sourceFormatPath('profiles/Admin.profile', files['profiles/Admin.profile'], files), 'profiles/Admin.profile-meta.xml');
    assert.equal(sourceFormatPath('lwc/card/card.html', files['lwc/card/card.html'], files), 'lwc/card/card.html');
    const pkg = buildMetadataPackage([{ type: 'Profile', fullName: 'admin', files: { 'profiles/admin.profile': '<Profile/>' } }, { type: 'Profile', fullName: 'Admin', files: { 'profiles/Admin.profile': '<Profile/>' } }], { org: 'prod', point: 'now' });
    assert.ok(pkg.entries.has('force-app/main/default/profiles/Custom_admin.profile-meta.xml') && pkg.entries.has('force-app/main/default/profiles/Admin.profile-meta.xml'));
  });

  test('export as of the first backup: the old versions, a deleted component present again, profiles apart', async () => {
    const out = join(dir, 'first.zip');
    const result = await exportMetadata(store, ORG, { at: T + 1000 }, out);
    assert.equal(result.components, 5);
    assert.deepEqual(result.renamedProfiles, [{ fullName: 'admin', exportName: 'Custom_admin' }]);
    assert.equal((await stat(out)).mode & 0o777, 0o600);
    const zip = await JSZip.loadAsync(await readFile(out));
    const manifest = await zip.file('package.xml')!.async('string');
    assert.match(manifest, /<members>Greeter<\/members>\s*<members>Old<\/members>\s*<name>ApexClass<\/name>/);
    assert.match(manifest, /<members>Admin<\/members>\s*<members>Custom_admin<\/members>\s*<name>Profile<\/name>/);
    assert.match(await zip.file('force-app/main/default/classes/Greeter.cls')!.async('string'), /return 'hi';/);
    assert.doesNotMatch(await zip.file('force-app/main/default/objects/Account/fields/Tier__c.field-meta.xml')!.async('string'), /Bronze/);
    assert.match(await zip.file('force-app/main/default/profiles/Admin.profile-meta.xml')!.async('string'), /false/);
    assert.match(await zip.file('force-app/main/default/profiles/Custom_admin.profile-meta.xml')!.async('string'), /true/);
    assert.ok(zip.file('sfdx-project.json') && zip.file('README.txt'));

    // The latest backup by default; an existing file is refused unless --force.
    await assert.rejects(exportMetadata(store, ORG, {}, out), (e: unknown) => e instanceof UsageError && /already exists/.test(e.message));
    const latest = await exportMetadata(store, ORG, {}, out, { force: true });
    assert.equal(latest.point.runId, 'run-2');
    const zip2 = await JSZip.loadAsync(await readFile(out));
    assert.equal(zip2.file('force-app/main/default/classes/Old.cls'), null);
    assert.match(await zip2.file('force-app/main/default/classes/Fresh.cls')!.async('string'), /Fresh/);
  });

  test('export refusals: before the first backup, both --as-of and --run, not a .zip', async () => {
    await assert.rejects(exportMetadata(store, ORG, { at: T - HOUR }, join(dir, 'x.zip')), (e: unknown) => e instanceof UsageError && /no metadata backup at or before/.test(e.message));
    await assert.rejects(exportMetadata(store, ORG, { at: T, runId: 'run-1' }, join(dir, 'x.zip')), /cannot be combined/);
    await assert.rejects(exportMetadata(store, ORG, {}, join(dir, 'x.tar')), /ending in \.zip/);
    await assert.rejects(exportMetadata(store, ORG, {}, join(dir, 'missing', 'x.zip')), /does not exist/);
  });
});
