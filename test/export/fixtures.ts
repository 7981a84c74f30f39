// A real vault (SQLite catalog, sealed packs, blob store) holding an org whose records carry the
// values exports get wrong: quotes, commas, line breaks, backslashes, emoji, nulls, tiny and large
// numbers, datetimes with Salesforce's +0000 offset, dates and times; edits, a delete and an
// undelete over three runs; and attachments whose names try to leave their folder or collide.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OrgRegistration, RecordVersion, VersionInput } from '../../src/core/vault.ts';
import { generateKeyFileContent } from '../../src/crypto/keys.ts';
import { initVault, openVault } from '../../src/store/vault.ts';
import type { Vault } from '../../src/store/vault.ts';

export const T0 = Date.UTC(2025, 2, 1, 9, 0, 0);
const HOUR = 3_600_000;

/** Salesforce's datetime form, as the REST API returns it. */
export const sfTime = (ms: number): string => new Date(ms).toISOString().replace('Z', '+0000');

const field = (name: string, type: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ name, type, label: name, nillable: name !== 'Id', ...extra });

export const WIDGET_DESCRIBE = {
  name: 'Widget__c',
  label: 'Widget',
  fields: [
    field('Name', 'string', { length: 80 }),
    field('Id', 'id', { length: 18 }),
    field('Notes__c', 'textarea', { length: 32000 }),
    field('Price__c', 'currency', { precision: 16, scale: 2 }),
    field('Ratio__c', 'percent', { precision: 5, scale: 2 }),
    field('Tiny__c', 'double', { precision: 18, scale: 10 }),
    field('Big__c', 'double', { precision: 18, scale: 0 }),
    field('NumberOfEmployees', 'int', { digits: 8 }),
    field('Active__c', 'boolean', { nillable: false }),
    field('Day__c', 'date'),
    field('When__c', 'datetime'),
    field('At__c', 'time'),
    field('Site__c', 'url', { length: 255 }),
    field('Email__c', 'email', { length: 80 }),
    field('Tags__c', 'multipicklist', { length: 4099 }),
    field('BillingAddress', 'address'),
    field('BillingCity', 'string', { length: 40, compoundFieldName: 'BillingAddress' }),
    field('Account__c', 'reference', { length: 18, referenceTo: ['Account'] }),
    field('IsDeleted', 'boolean', { nillable: false }),
    field('LastModifiedById', 'reference', { length: 18, referenceTo: ['User'] }),
    field('SystemModstamp', 'datetime', { nillable: false }),
  ],
};

export const ATTACHMENT_DESCRIBE = {
  name: 'Attachment',
  label: 'Attachment',
  fields: [
    field('Id', 'id', { length: 18 }),
    field('Name', 'string', { length: 255 }),
    field('ParentId', 'reference', { length: 18, referenceTo: ['Widget__c'] }),
    field('ContentType', 'string', { length: 120 }),
    field('Body', 'base64'),
    field('IsDeleted', 'boolean', { nillable: false }),
    field('SystemModstamp', 'datetime', { nillable: false }),
  ],
};

export const widgetId = (n: number): string => `a01000000000${String(n).padStart(3, '0')}AAA`;
export const attachmentId = (n: number): string => `00P000000000${String(n).padStart(3, '0')}AAA`;

/** A widget's fields at a version; `n` picks the tricky values. */
export function widgetFields(n: number, at: number, over: Record<string, unknown> = {}): Record<string, unknown> {
  const names = [`O'Brien "Ltd", Dublin`, 'Zoë 日本 🚀 Ünïcødé', 'C:\\temp\\new\\table', 'plain', `=SUM(A1) ; DROP TABLE x; --`, 'tab\there', '\\\'mixed\\"', 'null'];
  return {
    Id: widgetId(n),
    Name: names[n % names.length],
    Notes__c: n % 3 === 0 ? null : `line one\nline "two", with comma\r\nline three\\n literal`,
    Price__c: n % 4 === 0 ? null : 1234.5 + n,
    Ratio__c: 12.5,
    Tiny__c: n % 2 === 0 ? 1e-7 : -0.000123,
    Big__c: 1e17,
    NumberOfEmployees: n * 1000,
    Active__c: n % 2 === 0,
    Day__c: '2024-02-29',
    When__c: sfTime(Date.UTC(2024, 0, 15, 10, 20, 30, n)),
    At__c: '10:20:30.000Z',
    Site__c: 'https://example.com/a?b=c&d=e',
    Email__c: n % 5 === 0 ? null : `user${n}@example.com`,
    Tags__c: 'Red;Green',
    BillingCity: 'Québec',
    Account__c: null,
    IsDeleted: false,
    LastModifiedById: '005000000000001AAA',
    SystemModstamp: sfTime(at),
    ...over,
  };
}

export interface ExportFixture {
  dir: string;
  vault: Vault;
  org: OrgRegistration;
  /** Run IDs of the three backups, and when each captured. */
  runs: { id: string; at: number }[];
  /** Bodies by attachment ID (the latest). */
  bodies: Map<string, Buffer>;
  close(): Promise<void>;
}

export const WIDGETS = 12;

/** Writes one batch as a backup would, with a run in the log. */
export async function backupBatch(vault: Vault, org: OrgRegistration, runId: string, at: number, objectName: string, versions: VersionInput[]): Promise<void> {
  if (!(await vault.store.getRun(runId))) {
    await vault.store.createRun({ runId, orgId: org.orgId, kind: 'backup', status: 'Running', startedAt: at, endedAt: null, counters: {}, message: null, parameters: {} });
  }
  if (versions.length) await vault.store.writeVersions({ orgId: org.orgId, objectName, runId, capturedAt: at, schemaId: null, versions });
}

async function endRun(vault: Vault, runId: string, at: number): Promise<void> {
  await vault.store.updateRun(runId, { status: 'Succeeded', endedAt: at });
}

const version = (recordId: string, at: number, changeType: VersionInput['changeType'], fields: Record<string, unknown>): VersionInput => ({
  recordId,
  systemModstamp: at,
  changeType,
  isDeleted: fields.IsDeleted === true,
  lastModifiedById: null,
  fields,
});

/**
 * Three backups: run 1 creates 12 widgets and 4 attachments; run 2 edits widgets 1 and 2, deletes
 * widget 3 and changes attachment 1's body; run 3 undeletes widget 3 and edits widget 4.
 */
export async function exportFixture(): Promise<ExportFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'orgvault-export-'));
  const keyFile = Buffer.from(generateKeyFileContent());
  await initVault(join(dir, 'vault'), { keyFile });
  const vault = await openVault(join(dir, 'vault'), { keyFile });
  const org: OrgRegistration = { name: 'acme', orgId: '00D000000000EXPAAA', instanceUrl: 'https://acme.example', loginUrl: 'https://login.example', sealedAuth: new Uint8Array([1]), createdAt: T0, settings: {} };
  await vault.store.putOrg(org);
  const stateFor = (name: string) => ({ objectName: name, status: 'Waiting' as const, watermark: null, backfilledAt: T0, recordCount: 0, versionCount: 0, lastRunId: null, lastBackupAt: null, reason: null, statusCode: null });
  for (const [name, describe] of [['Widget__c', WIDGET_DESCRIBE], ['Attachment', ATTACHMENT_DESCRIBE]] as const) {
    await vault.store.putSchema(org.orgId, name, describe, T0);
    await vault.store.putObjectState(org.orgId, stateFor(name));
  }
  // An object the vault knows (listed, described) but holds no record of.
  await vault.store.putSchema(org.orgId, 'Empty__c', { name: 'Empty__c', fields: [field('Id', 'id', { length: 18 }), field('Name', 'string', { length: 80 })] }, T0);
  await vault.store.putObjectState(org.orgId, stateFor('Empty__c'));

  const runs = [
    { id: 'run-1-backup', at: T0 + HOUR },
    { id: 'run-2-backup', at: T0 + 2 * HOUR },
    { id: 'run-3-backup', at: T0 + 3 * HOUR },
  ];
  const bodies = new Map<string, Buffer>();
  const putBody = async (recordId: string, at: number, name: string, body: Buffer): Promise<void> => {
    const stored = await vault.blobs.put((async function* () {
      yield body;
    })());
    await vault.store.putFile(org.orgId, { objectName: 'Attachment', recordId, field: 'Body', systemModstamp: at, address: stored.address, size: stored.size, fileName: name, contentType: 'application/octet-stream' });
    bodies.set(recordId, body);
  };

  // Run 1.
  const r1 = runs[0]!;
  await backupBatch(vault, org, r1.id, r1.at, 'Widget__c', Array.from({ length: WIDGETS }, (_, i) => version(widgetId(i), r1.at - 1000 + i, 'created', widgetFields(i, r1.at - 1000 + i))));
  const attachmentNames = ['../../etc/passwd', 'report.pdf', 'report.pdf', 'CON', '.hidden'];
  const attachments: VersionInput[] = [];
  for (let i = 0; i < attachmentNames.length; i++) {
    const at = r1.at - 500 + i;
    await putBody(attachmentId(i), at, attachmentNames[i]!, Buffer.from(`body of attachment ${i}\n${'x'.repeat(i * 1000)}`));
    attachments.push(version(attachmentId(i), at, 'created', { Id: attachmentId(i), Name: attachmentNames[i], ParentId: widgetId(0), ContentType: 'application/octet-stream', IsDeleted: false, SystemModstamp: sfTime(at) }));
  }
  await backupBatch(vault, org, r1.id, r1.at, 'Attachment', attachments);
  await endRun(vault, r1.id, r1.at + 60_000);

  // Run 2.
  const r2 = runs[1]!;
  await backupBatch(vault, org, r2.id, r2.at, 'Widget__c', [
    version(widgetId(1), r2.at - 900, 'updated', widgetFields(1, r2.at - 900, { Name: 'Renamed "one"', Price__c: 99.99 })),
    version(widgetId(2), r2.at - 800, 'updated', widgetFields(2, r2.at - 800, { Notes__c: 'edited\nnotes' })),
    version(widgetId(3), r2.at - 700, 'deleted', widgetFields(3, r2.at - 700, { IsDeleted: true })),
  ]);
  await putBody(attachmentId(1), r2.at - 600, 'report.pdf', Buffer.from('the second body of attachment 1'));
  await backupBatch(vault, org, r2.id, r2.at, 'Attachment', [
    version(attachmentId(1), r2.at - 600, 'updated', { Id: attachmentId(1), Name: 'report.pdf', ParentId: widgetId(0), ContentType: 'application/pdf', IsDeleted: false, SystemModstamp: sfTime(r2.at - 600) }),
  ]);
  await endRun(vault, r2.id, r2.at + 60_000);

  // Run 3.
  const r3 = runs[2]!;
  await backupBatch(vault, org, r3.id, r3.at, 'Widget__c', [
    version(widgetId(3), r3.at - 900, 'undeleted', widgetFields(3, r3.at - 900)),
    version(widgetId(4), r3.at - 800, 'updated', widgetFields(4, r3.at - 800, { Active__c: false, Tags__c: null })),
  ]);
  await endRun(vault, r3.id, r3.at + 60_000);

  return {
    dir,
    vault,
    org,
    runs,
    bodies,
    close: async () => {
      await vault.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Every version of an object in the vault, oldest first. */
export async function allVersions(vault: Vault, org: OrgRegistration, objectName: string): Promise<RecordVersion[]> {
  const versions: RecordVersion[] = [];
  for await (const v of vault.store.findVersions({ orgId: org.orgId, objectName })) versions.push(v);
  return versions;
}

/** Collects an async iterable. */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
