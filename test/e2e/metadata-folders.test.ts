// Reports, dashboards, documents and email templates (the metadata types kept in folders) against
// the emulator over HTTP: a metadata backup lists each folder type, then each folder's contents
// (Unfiled Public ones too), and stores folders and their components like any other component;
// a report changed, an email template added, a report and its emptied folder deleted between two
// backups are found in `metadata compare` (the report with an XML diff); exclusions by type hold;
// and an export holds the folders and their components at the paths a Salesforce DX project has
// them, named in package.xml as members of the type they hold.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import JSZip from 'jszip';
import { startEmulator } from '../../emulator/index.ts';
import type { RunningEmulator } from '../../emulator/index.ts';
import { componentKey, isBinaryMetadataFile, metadataFileBytes } from '../../src/core/metadata.ts';
import type { OrgClient } from '../../src/core/org-client.ts';
import type { OrgRegistration } from '../../src/core/vault.ts';
import { generateKeyFileContent } from '../../src/crypto/keys.ts';
import { runMetadataBackup } from '../../src/metadata/backup.ts';
import type { MetadataBackupResult } from '../../src/metadata/backup.ts';
import { compareMetadata, liveMetadata } from '../../src/metadata/compare.ts';
import { exportMetadata } from '../../src/metadata/export-package.ts';
import { componentHistory, metadataInventory } from '../../src/metadata/read-model.ts';
import { connectOrg } from '../../src/salesforce/index.ts';
import { initVault, openVault } from '../../src/store/vault.ts';
import type { Vault } from '../../src/store/vault.ts';
import { emulatedOrg } from './fixtures/emulated-org.ts';

const FOLDERED = ['Report', 'Dashboard', 'Document', 'EmailTemplate'];
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

describe('metadata in folders: reports, dashboards, documents and email templates', () => {
  let emulator: RunningEmulator;
  let dir: string;
  let vault: Vault;
  let org: OrgRegistration;
  let connect: () => Promise<OrgClient>;
  let first: MetadataBackupResult;
  let second: MetadataBackupResult;

  const admin = (body: unknown) => emulatedOrg(emulator).admin('POST', '/metadata', body);
  const later = () => emulatedOrg(emulator).admin('POST', '/clock', { advanceSeconds: 60 });
  const backup = async (): Promise<MetadataBackupResult> => {
    const result = await runMetadataBackup({ store: vault.store, client: await connect(), now: () => emulator.org.clock.nowMs() }, { org });
    assert.equal(result.status, 'Succeeded', result.message ?? '');
    return result;
  };
  const filesOf = async (type: string, fullName: string, runId?: string): Promise<Record<string, string>> => {
    const head = (await vault.store.metadataHeads(org.orgId, { type, ...(runId ? { runId } : {}) })).find((h) => h.fullName === fullName);
    assert.ok(head?.contentId, `${type}:${fullName} is stored`);
    return (await vault.store.readMetadataFiles(org.orgId, head.contentId))!;
  };

  before(async () => {
    emulator = await startEmulator({ profile: 'demo', seed: 47 });
    dir = await mkdtemp(join(tmpdir(), 'orgvault-metadata-folders-'));
    const keyFile = Buffer.from(generateKeyFileContent());
    await initVault(join(dir, 'vault'), { keyFile });
    vault = await openVault(join(dir, 'vault'), { keyFile });
    const { info } = emulator;
    // The foldered types and a class: every other type is covered by metadata-backup.test.ts.
    org = {
      name: 'demo',
      orgId: info.orgId,
      instanceUrl: info.instanceUrl,
      loginUrl: info.loginUrl,
      sealedAuth: new Uint8Array(1),
      createdAt: Date.now(),
      settings: { metadata: { minIntervalMinutes: 0, types: [...FOLDERED, 'ApexClass'] } },
    };
    await vault.store.putOrg(org);
    const auth = emulatedOrg(emulator).auth;
    connect = () => connectOrg(auth, { retry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 20 } });
  });
  after(async () => {
    await vault?.close();
    await emulator?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('a backup stores the folders, what they hold and the unfiled public items, each with its files', async () => {
    first = await backup();
    const heads = await vault.store.metadataHeads(org.orgId);
    const keys = heads.map(componentKey);
    for (const key of [
      'ReportFolder:Sales_Reports',
      'ReportFolder:Finance_Reports',
      'Report:Sales_Reports/Open_Pipeline',
      'Report:Finance_Reports/Unpaid_Invoices',
      'Report:unfiled$public/New_Contacts_This_Month',
      'DashboardFolder:Executive_Dashboards',
      'Dashboard:Executive_Dashboards/Sales_Overview',
      'DocumentFolder:Brand_Assets',
      'Document:Brand_Assets/company_emblem.png',
      'EmailFolder:Invoice_Emails',
      'EmailTemplate:Invoice_Emails/Invoice_Sent',
      'EmailTemplate:unfiled$public/Welcome_New_Customer',
      'ApexClass:InvoiceService',
    ]) {
      assert.ok(keys.includes(key), `${key} is backed up (${keys.join(', ')})`);
    }
    // unfiled$public is no folder of its own; the job log counts the components like any other.
    assert.ok(!keys.some((k) => k.endsWith(':unfiled$public')));
    assert.equal(first.counters.metadataComponents, heads.length);
    assert.equal(first.counters.metadataChanged, heads.length);

    assert.deepEqual(Object.keys(await filesOf('ReportFolder', 'Sales_Reports')), ['reports/Sales_Reports-meta.xml']);
    assert.match((await filesOf('ReportFolder', 'Sales_Reports'))['reports/Sales_Reports-meta.xml']!, /<ReportFolder xmlns="[^"]+">[\s\S]*<name>Sales Reports<\/name>/);
    const report = await filesOf('Report', 'Sales_Reports/Open_Pipeline');
    assert.deepEqual(Object.keys(report), ['reports/Sales_Reports/Open_Pipeline.report']);
    assert.match(report['reports/Sales_Reports/Open_Pipeline.report']!, /<reportType>Opportunity<\/reportType>/);
    const logo = await filesOf('Document', 'Brand_Assets/company_emblem.png');
    assert.deepEqual(Object.keys(logo).sort(), ['documents/Brand_Assets/company_emblem.png', 'documents/Brand_Assets/company_emblem.png-meta.xml']);
    assert.ok(isBinaryMetadataFile(logo['documents/Brand_Assets/company_emblem.png']!));
    assert.equal(Buffer.from(metadataFileBytes(logo['documents/Brand_Assets/company_emblem.png']!)).toString('base64'), PNG);
    const template = await filesOf('EmailTemplate', 'unfiled$public/Welcome_New_Customer');
    assert.deepEqual(Object.keys(template).sort(), ['email/unfiled$public/Welcome_New_Customer.email', 'email/unfiled$public/Welcome_New_Customer.email-meta.xml']);
    assert.match(template['email/unfiled$public/Welcome_New_Customer.email']!, /Welcome aboard/);

    const inventory = await metadataInventory(vault.store, org.orgId);
    assert.equal(inventory.types.find((t) => t.type === 'Report')?.components, 4);
    assert.equal(inventory.types.find((t) => t.type === 'ReportFolder')?.components, 2);

    // Nothing changed: nothing retrieved again, nothing stored.
    const again = await backup();
    assert.equal(again.counters.metadataChanged, 0);
    assert.equal(again.counters.metadataRetrieved, 0);
  });

  test('a changed report, a new email template, a deleted report and folder show in compare; the report with an XML diff', async () => {
    await later();
    await admin({ op: 'upsertReport', folder: 'Sales_Reports', name: 'Open_Pipeline', columns: ['OPPORTUNITY_NAME', 'ACCOUNT_NAME', 'STAGE_NAME', 'AMOUNT', 'PROBABILITY', 'CLOSE_DATE'] });
    await admin({ op: 'upsertEmailTemplate', folder: 'Invoice_Emails', name: 'Overdue_Notice', subject: 'Invoice {!Invoice__c.Name} is overdue', body: 'Dear customer,\n\nYour invoice is overdue.\n' });
    await admin({ op: 'deleteReport', folder: 'Finance_Reports', name: 'Unpaid_Invoices' });
    await admin({ op: 'deleteFolder', type: 'Report', name: 'Finance_Reports' });
    await admin({ op: 'upsertFolder', type: 'Report', name: 'Ops_Reports', label: 'Operations Reports' });
    await admin({ op: 'upsertReport', folder: 'Ops_Reports', name: 'Accounts_Without_Phone', reportType: 'AccountList', columns: ['ACCOUNT.NAME', 'PHONE1'] });
    await admin({ op: 'upsertDocument', folder: 'Brand_Assets', name: 'invoice_footer.txt', text: 'Payment is due within 14 days.\n' });
    await later();
    second = await backup();

    const c = await compareMetadata({ store: vault.store }, org, {});
    // The last two backups: the one after the first (nothing changed) and this one.
    assert.ok(c.from.runId && c.from.runId !== first.runId);
    assert.equal(c.to.runId, second.runId);
    assert.deepEqual(
      c.changes.map((x) => `${x.change} ${x.type}:${x.fullName}`),
      [
        'changed Document:Brand_Assets/invoice_footer.txt',
        'added EmailTemplate:Invoice_Emails/Overdue_Notice',
        'removed Report:Finance_Reports/Unpaid_Invoices',
        'added Report:Ops_Reports/Accounts_Without_Phone',
        'changed Report:Sales_Reports/Open_Pipeline',
        'removed ReportFolder:Finance_Reports',
        'added ReportFolder:Ops_Reports',
      ],
    );
    const pipeline = c.changes.find((x) => x.fullName === 'Sales_Reports/Open_Pipeline')!;
    assert.deepEqual(pipeline.files, [{ path: 'reports/Sales_Reports/Open_Pipeline.report', change: 'changed' }]);
    assert.match(pipeline.diff, /^--- a\/reports\/Sales_Reports\/Open_Pipeline\.report$/m);
    assert.match(pipeline.diff, /^\+ {8}<field>PROBABILITY<\/field>$/m);
    const template = c.changes.find((x) => x.fullName === 'Invoice_Emails/Overdue_Notice')!;
    assert.deepEqual(template.files.map((f) => f.path).sort(), ['email/Invoice_Emails/Overdue_Notice.email', 'email/Invoice_Emails/Overdue_Notice.email-meta.xml']);
    assert.match(c.changes.find((x) => x.fullName === 'Brand_Assets/invoice_footer.txt')!.diff, /^\+Payment is due within 14 days\.$/m);

    assert.equal(second.counters.metadataDeleted, 2);
    assert.equal(second.counters.metadataChanged, 7);
    const history = await componentHistory(vault.store, org.orgId, 'Report:Sales_Reports/Open_Pipeline');
    assert.deepEqual(history.versions.map((v) => v.runId), [second.runId, first.runId]);
    const removed = await vault.store.metadataHistory(org.orgId, 'Report', 'Finance_Reports/Unpaid_Invoices');
    assert.deepEqual(removed.map((v) => v.deleted), [true, false]);
  });

  test('compare with the live org finds a report changed since the last backup', async () => {
    await later();
    await admin({ op: 'upsertReport', folder: 'unfiled$public', name: 'New_Contacts_This_Month', label: 'New Contacts (this month)' });
    const c = await compareMetadata({ store: vault.store, live: liveMetadata(connect, org, 'Report') }, org, { from: { runId: second.runId }, to: { live: true } }, { type: 'Report' });
    assert.deepEqual(c.changes.map((x) => `${x.change} ${x.fullName}`), ['changed unfiled$public/New_Contacts_This_Month']);
    assert.match(c.changes[0]!.diff, /^\+ {4}<name>New Contacts \(this month\)<\/name>$/m);
  });

  test('an export holds folders and their components at their source paths, named in package.xml', async () => {
    const out = join(dir, 'now.zip');
    const result = await exportMetadata(vault.store, org, {}, out);
    assert.equal(result.point.runId, second.runId);
    const zip = await JSZip.loadAsync(await readFile(out));
    const manifest = await zip.file('package.xml')!.async('string');
    const members = (type: string): string[] => {
      const block = new RegExp(`<types>((?:(?!</types>)[^])*)<name>${type}</name>\\s*</types>`).exec(manifest);
      return block ? [...block[1]!.matchAll(/<members>([^<]+)<\/members>/g)].map((m) => m[1]!) : [];
    };
    assert.deepEqual(members('Report'), ['Ops_Reports', 'Ops_Reports/Accounts_Without_Phone', 'Sales_Reports', 'Sales_Reports/Accounts_By_Industry', 'Sales_Reports/Open_Pipeline', 'unfiled$public/New_Contacts_This_Month']);
    assert.deepEqual(members('Dashboard'), ['Executive_Dashboards', 'Executive_Dashboards/Sales_Overview']);
    assert.deepEqual(members('Document'), ['Brand_Assets', 'Brand_Assets/company_emblem.png', 'Brand_Assets/invoice_footer.txt']);
    assert.deepEqual(members('EmailTemplate'), ['Invoice_Emails', 'Invoice_Emails/Invoice_Sent', 'Invoice_Emails/Overdue_Notice', 'Invoice_Emails/Payment_Reminder', 'unfiled$public/Welcome_New_Customer']);
    // Folder types are no package.xml type names of their own.
    assert.doesNotMatch(manifest, /<name>\w+Folder<\/name>/);

    const root = 'force-app/main/default';
    for (const path of [
      'reports/Sales_Reports.reportFolder-meta.xml',
      'reports/Sales_Reports/Open_Pipeline.report-meta.xml',
      'reports/unfiled$public/New_Contacts_This_Month.report-meta.xml',
      'dashboards/Executive_Dashboards.dashboardFolder-meta.xml',
      'dashboards/Executive_Dashboards/Sales_Overview.dashboard-meta.xml',
      'documents/Brand_Assets.documentFolder-meta.xml',
      'documents/Brand_Assets/company_emblem.png',
      'documents/Brand_Assets/company_emblem.document-meta.xml',
      'email/Invoice_Emails.emailFolder-meta.xml',
      'email/Invoice_Emails/Overdue_Notice.email',
      'email/Invoice_Emails/Overdue_Notice.email-meta.xml',
    ]) {
      assert.ok(zip.file(`${root}/${path}`), `${path} is in the zip (${Object.keys(zip.files).filter((n) => /reports|email|documents|dashboards/.test(n)).join(', ')})`);
    }
    assert.ok(!zip.file(`${root}/reports/Finance_Reports.reportFolder-meta.xml`), 'the deleted folder is not exported');
    assert.equal((await zip.file(`${root}/documents/Brand_Assets/company_emblem.png`)!.async('nodebuffer')).toString('base64'), PNG);
    assert.match(await zip.file(`${root}/reports/Sales_Reports/Open_Pipeline.report-meta.xml`)!.async('string'), /PROBABILITY/);

    // As of the first backup: the deleted report and its folder, the report's old version.
    const old = await exportMetadata(vault.store, org, { runId: first.runId, type: 'Report' }, join(dir, 'first-reports.zip'));
    assert.deepEqual(old.types, [{ name: 'Report', count: 6 }], 'four reports and their two folders');
    const oldZip = await JSZip.loadAsync(await readFile(old.file));
    assert.ok(oldZip.file(`${root}/reports/Finance_Reports.reportFolder-meta.xml`));
    assert.ok(oldZip.file(`${root}/reports/Finance_Reports/Unpaid_Invoices.report-meta.xml`));
    assert.doesNotMatch(await oldZip.file(`${root}/reports/Sales_Reports/Open_Pipeline.report-meta.xml`)!.async('string'), /PROBABILITY/);
  });

  test('exclusions by type: an excluded type and its folders are neither captured nor marked deleted', async () => {
    await later();
    await admin({ op: 'deleteReport', folder: 'Ops_Reports', name: 'Accounts_Without_Phone' });
    await admin({ op: 'upsertEmailTemplate', folder: 'Invoice_Emails', name: 'Overdue_Notice', body: 'Dear customer,\n\nYour invoice is now 30 days overdue.\n' });
    org = { ...org, settings: { metadata: { minIntervalMinutes: 0, types: [...FOLDERED, 'ApexClass'], excludedTypes: ['Report'] } } };
    const excluded = await backup();
    assert.ok(excluded.outcome!.skippedTypes.includes('Report'));
    assert.equal((await vault.store.metadataHistory(org.orgId, 'Report', 'Ops_Reports/Accounts_Without_Phone'))[0]?.deleted, false);
    assert.equal((await vault.store.metadataHistory(org.orgId, 'ReportFolder', 'Ops_Reports'))[0]?.deleted, false);
    assert.equal((await vault.store.metadataHistory(org.orgId, 'EmailTemplate', 'Invoice_Emails/Overdue_Notice')).length, 2);
    assert.equal(excluded.counters.metadataChanged, 1);

    // Only the folder type excluded: reports are captured, their folders left as they were.
    org = { ...org, settings: { metadata: { minIntervalMinutes: 0, types: [...FOLDERED, 'ApexClass'], excludedTypes: ['ReportFolder'] } } };
    await admin({ op: 'upsertReport', folder: 'Ops_Reports', name: 'Accounts_Without_Phone', reportType: 'AccountList', columns: ['ACCOUNT.NAME'] });
    await admin({ op: 'deleteReport', folder: 'Ops_Reports', name: 'Accounts_Without_Phone' });
    await admin({ op: 'deleteFolder', type: 'Report', name: 'Ops_Reports' });
    const folders = await backup();
    assert.equal((await vault.store.metadataHistory(org.orgId, 'Report', 'Ops_Reports/Accounts_Without_Phone'))[0]?.deleted, true);
    assert.equal((await vault.store.metadataHistory(org.orgId, 'ReportFolder', 'Ops_Reports'))[0]?.deleted, false);
    assert.equal(folders.counters.metadataDeleted, 1);
  });

  test('folders are listed three queries a call; a folder type the org refuses is no failure, a folder that cannot be listed fails its type only', async () => {
    org = { ...org, settings: { metadata: { minIntervalMinutes: 0, types: [...FOLDERED, 'ApexClass'] } } };
    const calls: { type: string; folder?: string }[][] = [];
    let refuse: (q: { type: string; folder?: string }) => boolean = () => false;
    // The real client, its listMetadata watched (and made to fail as an org would for some queries).
    const watched = (client: OrgClient): OrgClient =>
      new Proxy(client, {
        get(target, prop, receiver) {
          if (prop === 'scoped') return () => watched(target.scoped());
          if (prop === 'listMetadata') {
            return async (queries: { type: string; folder?: string }[]) => {
              calls.push(queries);
              const refused = queries.find((q) => refuse(q));
              if (refused) throw new Error(`INVALID_TYPE: refused ${refused.type} ${refused.folder ?? ''}`);
              return target.listMetadata(queries);
            };
          }
          return Reflect.get(target, prop, receiver) as unknown;
        },
      });
    const run = async () => runMetadataBackup({ store: vault.store, client: watched(await connect()), now: () => emulator.org.clock.nowMs() }, { org });

    refuse = (q) => q.type === 'EmailTemplateFolder';
    const quiet = await run();
    assert.equal(quiet.status, 'Succeeded', quiet.message ?? '');
    assert.ok(calls.every((c) => c.length <= 3));
    const folderQueries = calls.flat().filter((q) => q.folder !== undefined);
    assert.deepEqual(
      [...new Set(folderQueries.map((q) => `${q.type}:${q.folder}`))].sort(),
      ['Dashboard:Executive_Dashboards', 'Document:Brand_Assets', 'EmailTemplate:Invoice_Emails', 'EmailTemplate:unfiled$public', 'Report:Sales_Reports', 'Report:unfiled$public'],
    );

    // A folder the org will not list: reports are neither captured nor marked deleted; the rest is.
    await later();
    // Salesforce keeps a report a dashboard shows: the dashboard is changed first.
    await assert.rejects(admin({ op: 'deleteReport', folder: 'Sales_Reports', name: 'Accounts_By_Industry' }), /used by the dashboard Executive_Dashboards\/Sales_Overview/);
    await admin({ op: 'upsertDashboard', folder: 'Executive_Dashboards', name: 'Sales_Overview', reports: ['Sales_Reports/Open_Pipeline'] });
    await admin({ op: 'deleteReport', folder: 'Sales_Reports', name: 'Accounts_By_Industry' });
    await admin({ op: 'upsertEmailTemplate', folder: 'unfiled$public', name: 'Welcome_New_Customer', subject: 'Welcome!' });
    refuse = (q) => q.type === 'Report' && q.folder === 'Sales_Reports';
    const partial = await run();
    assert.equal(partial.status, 'CompletedWithErrors');
    assert.match(partial.message ?? '', /METADATA_TYPES_FAILED: 1 metadata type\(s\).*Report \(the folder Sales_Reports could not be listed/);
    assert.equal((await vault.store.metadataHistory(org.orgId, 'Report', 'Sales_Reports/Accounts_By_Industry'))[0]?.deleted, false);
    assert.equal((await vault.store.metadataHistory(org.orgId, 'EmailTemplate', 'unfiled$public/Welcome_New_Customer')).length, 2);
    refuse = () => false;
    const whole = await run();
    assert.equal((await vault.store.metadataHistory(org.orgId, 'Report', 'Sales_Reports/Accounts_By_Industry'))[0]?.deleted, true);
    assert.equal(whole.counters.metadataDeleted, 1);
  });
});
