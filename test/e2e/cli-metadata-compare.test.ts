// `orgvault metadata compare` and `metadata export` as an admin runs them: the real bin/orgvault.js
// in a child process against an emulated org. A field, a picklist, a validation rule and an Apex
// class are changed through the emulator's admin API between two metadata backups, and each change
// is found in the compare (with its diff), and against the live org; a zip exported as of the
// first backup holds the old versions, named in its package.xml.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import JSZip from 'jszip';
import { startEmulator } from '../../emulator/index.ts';
import type { RunningEmulator } from '../../emulator/index.ts';
import { jsonOf, runCli } from './fixtures/cli-runner.ts';
import type { CliResult } from './fixtures/cli-runner.ts';
import { emulatedOrg } from './fixtures/emulated-org.ts';
import type { EmulatedOrg } from './fixtures/emulated-org.ts';

const PASSPHRASE = 'e2e metadata compare passphrase 3f1';
const CLASS_V1 = "public class Greeter {\n    public static String hello() {\n        return 'hello';\n    }\n}\n";
const CLASS_V2 = CLASS_V1.replace("'hello'", "'hello, world'");
const RULE = { fullName: 'Website_For_Partners', active: true, errorConditionFormula: 'AND(ISPICKVAL(Type, "Partner"), ISBLANK(Website))', errorMessage: 'Partners need a website.' };

interface Comparison {
  from: { runId?: string; live?: boolean };
  to: { runId?: string; live?: boolean };
  counts: { added: number; removed: number; changed: number; unchanged: number };
  changes: { type: string; fullName: string; change: string; files: { path: string; change: string }[]; diff: string }[];
}

describe('orgvault metadata compare and export', () => {
  let emu: RunningEmulator;
  let sf: EmulatedOrg;
  let scratch: string;
  let vault: string;
  let first: { runId: string; capturedAt: string };

  before(async () => {
    emu = await startEmulator({ profile: 'demo', seed: 5 });
    sf = emulatedOrg(emu);
    scratch = await mkdtemp(join(tmpdir(), 'orgvault-cli-mdcompare-'));
    vault = join(scratch, 'vault');
  });
  after(async () => {
    await emu?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  const run = (args: string[]): Promise<CliResult> => runCli(args, { vault, cwd: scratch, passphrase: PASSPHRASE });
  const metadataOp = (body: Record<string, unknown>) => sf.admin('POST', '/metadata', body);
  // Salesforce dates changes to the second or better; move the org's clock so each step is later.
  const later = () => sf.admin('POST', '/clock', { advanceSeconds: 60 });
  const backup = async (): Promise<void> => {
    const result = await run(['metadata', 'backup', '--org', 'demo', '--json']);
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
  };
  const find = (c: Comparison, type: string, fullName: string) => c.changes.find((x) => x.type === type && x.fullName === fullName);

  test('a first metadata backup, then a field, a picklist, a validation rule and a class changed, and a second', async () => {
    assert.equal((await run(['init'])).code, 0);
    const { info } = emu;
    const added = await run(['org', 'add', 'demo', '--login-url', info.loginUrl, '--client-id', info.clientId, '--client-secret', info.clientSecret, '--username', info.username, '--password', info.password]);
    assert.equal(added.code, 0, added.stderr);
    await metadataOp({ op: 'addField', object: 'Account', field: { fullName: 'Tier_Note__c', type: 'Text', length: 40, label: 'Tier Note' } });
    await metadataOp({ op: 'upsertValidationRule', object: 'Account', rule: RULE });
    await metadataOp({ op: 'upsertApexClass', name: 'Greeter', body: CLASS_V1 });
    await later();
    await backup();

    await later();
    await metadataOp({ op: 'addField', object: 'Account', field: { fullName: 'Tier_Note__c', type: 'Text', length: 80, label: 'Tier Note' } });
    await metadataOp({ op: 'setPicklistValues', object: 'Invoice__c', field: 'Status__c', values: ['Draft', 'Sent', 'Paid', 'Disputed'] });
    await metadataOp({ op: 'upsertValidationRule', object: 'Account', rule: { ...RULE, errorConditionFormula: 'AND(ISPICKVAL(Type, "Partner"), ISBLANK(Website), ISBLANK(Phone))' } });
    await metadataOp({ op: 'upsertApexClass', name: 'Greeter', body: CLASS_V2 });
    await metadataOp({ op: 'addField', object: 'Account', field: { fullName: 'Added_Later__c', type: 'Checkbox', defaultValue: 'false', label: 'Added Later' } });
    await later();
    await backup();
  });

  test('compare (the last two backups) finds each change, with a diff that shows it', async () => {
    const result = await run(['metadata', 'compare', '--org', 'demo', '--json']);
    assert.equal(result.code, 0, result.stderr);
    const c = jsonOf<Comparison>(result);
    assert.ok(c.from.runId && c.to.runId && c.from.runId !== c.to.runId);

    const field = find(c, 'CustomField', 'Account.Tier_Note__c');
    assert.equal(field?.change, 'changed', JSON.stringify(c.changes.map((x) => `${x.change} ${x.type}:${x.fullName}`)));
    assert.match(field!.diff, /^-\s*<length>40<\/length>$/m);
    assert.match(field!.diff, /^\+\s*<length>80<\/length>$/m);

    const picklist = find(c, 'CustomField', 'Invoice__c.Status__c');
    assert.equal(picklist?.change, 'changed');
    assert.match(picklist!.diff, /^\+.*Disputed/m);

    const rule = find(c, 'ValidationRule', `Account.${RULE.fullName}`);
    assert.equal(rule?.change, 'changed');
    assert.match(rule!.diff, /^\+.*ISBLANK\(Phone\)/m);

    const cls = find(c, 'ApexClass', 'Greeter');
    assert.equal(cls?.change, 'changed');
    assert.deepEqual(cls!.files, [{ path: 'classes/Greeter.cls', change: 'changed' }]);
    assert.match(cls!.diff, /^-        return 'hello';$/m);
    assert.match(cls!.diff, /^\+        return 'hello, world';$/m);

    assert.equal(find(c, 'CustomField', 'Account.Added_Later__c')?.change, 'added');
    assert.equal(c.counts.removed, 0);

    // What a person reads: the table and the diffs.
    const human = await run(['metadata', 'compare', '--org', 'demo', '--type', 'ApexClass']);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /1 changed/);
    assert.match(human.stdout, /=== ApexClass:Greeter\n--- a\/classes\/Greeter\.cls\n\+\+\+ b\/classes\/Greeter\.cls/);
  });

  test('compare with the live org: a change made since the last backup', async () => {
    await later();
    await metadataOp({ op: 'upsertApexClass', name: 'Greeter', body: CLASS_V2.replace('hello, world', 'hi') });
    const result = await run(['metadata', 'compare', '--org', 'demo', '--to', 'live', '--type', 'ApexClass', '--json']);
    assert.equal(result.code, 0, result.stderr);
    const c = jsonOf<Comparison>(result);
    assert.equal(c.to.live, true);
    assert.deepEqual(c.changes.map((x) => `${x.change} ${x.fullName}`), ['changed Greeter']);
    assert.match(c.changes[0]!.diff, /^\+        return 'hi';$/m);
  });

  test('export as of the first backup: the old versions, named in package.xml', async () => {
    const runs = await run(['metadata', 'compare', '--org', 'demo', '--json']);
    first = { runId: jsonOf<Comparison>(runs).from.runId!, capturedAt: '' };
    const out = join(scratch, 'first.zip');
    const exported = await run(['metadata', 'export', '--org', 'demo', '--run', first.runId, '--out', out, '--json']);
    assert.equal(exported.code, 0, exported.stderr);
    const summary = jsonOf<{ point: { runId: string; at: string }; components: number }>(exported);
    assert.equal(summary.point.runId, first.runId);
    first.capturedAt = summary.point.at;

    // The same point given as a time.
    const byTime = join(scratch, 'first-by-time.zip');
    const again = await run(['metadata', 'export', '--org', 'demo', '--as-of', first.capturedAt, '--out', byTime]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /Deploy it with: sf project deploy start --manifest package.xml/);

    for (const file of [out, byTime]) {
      const zip = await JSZip.loadAsync(await readFile(file));
      const manifest = await zip.file('package.xml')!.async('string');
      const members = (type: string): string[] => {
        const block = new RegExp(`<types>((?:(?!</types>)[^])*)<name>${type}</name>\\s*</types>`).exec(manifest);
        return block ? [...block[1]!.matchAll(/<members>([^<]+)<\/members>/g)].map((m) => m[1]!) : [];
      };
      assert.ok(members('ApexClass').includes('Greeter'));
      assert.ok(members('CustomField').includes('Account.Tier_Note__c'));
      assert.ok(!members('CustomField').includes('Account.Added_Later__c'), 'added after the first backup');
      assert.ok(members('ValidationRule').includes(`Account.${RULE.fullName}`));
      assert.ok(members('Profile').includes('Admin'), 'System Administrator under its Metadata API name');
      assert.match(manifest, /<version>62\.0<\/version>/);

      const root = 'force-app/main/default';
      assert.equal(await zip.file(`${root}/classes/Greeter.cls`)!.async('string'), CLASS_V1);
      assert.match(await zip.file(`${root}/objects/Account/fields/Tier_Note__c.field-meta.xml`)!.async('string'), /<length>40<\/length>/);
      assert.doesNotMatch(await zip.file(`${root}/objects/Invoice__c/fields/Status__c.field-meta.xml`)!.async('string'), /Disputed/);
      assert.doesNotMatch(await zip.file(`${root}/objects/Account/validationRules/${RULE.fullName}.validationRule-meta.xml`)!.async('string'), /Phone/);
      assert.ok(zip.file(`${root}/profiles/Admin.profile-meta.xml`), Object.keys(zip.files).filter((n) => n.includes('profiles/')).join(', '));
      assert.match(await zip.file('README.txt')!.async('string'), /System Administrator\s+-> Admin/);
    }

    // Bad input exits 2 and names the flag.
    const bad = await run(['metadata', 'export', '--org', 'demo', '--as-of', 'yesterday', '--out', join(scratch, 'x.zip')]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--as-of "yesterday" is not an ISO-8601 time/);
    const badRun = await run(['metadata', 'compare', '--org', 'demo', '--from', 'no-such-run']);
    assert.equal(badRun.code, 2);
    assert.match(badRun.stderr, /No metadata backup of demo has run ID "no-such-run"/);
  });
});
