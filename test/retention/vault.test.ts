// forget, prune and purge on a real vault (SQLite catalog and filesystem blob store in a temp dir):
// the right versions remain with intact chains, counts and file rows; a dry run announces exactly
// what the real run removes; prune rewrites packs (shared payloads stay) and deletes orphan blobs,
// and verify --read-data passes after each step; purge leaves no version, file, blob, mapping or
// sealed byte of the purged records, and logs counts only; the vault lock excludes writers.
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { queryTerms } from '../../src/core/search-text.ts';
import type { OrgRegistration, RecordVersion, VersionInput } from '../../src/core/vault.ts';
import { DAY_MS, forget, prune, purge, resolvePolicy, updateRetentionPolicy } from '../../src/retention/index.ts';
import type { ForgetReport } from '../../src/retention/index.ts';
import { openPack } from '../../src/store/packs.ts';
import { LockHeldError } from '../../src/store/port.ts';
import { CATALOG_FILE, initVault, openVault } from '../../src/store/vault.ts';
import type { Vault } from '../../src/store/vault.ts';
import { verifyVault } from '../../src/verify/index.ts';

const PASSPHRASE = 'retention vault test 7f1c';
const ORG_ID = '00D000000000RETAAA';
const NOW = Date.UTC(2025, 5, 30, 12);
const ago = (days: number): number => NOW - days * DAY_MS;
const id = (object: string, n: number): string => `${object === 'Account' ? '001' : '00P'}00000000${String(n).padStart(4, '0')}AAA`;

const A = id('Account', 1);
const B = id('Account', 2);
const C = id('Account', 3);
const D = id('Account', 4);
const F = id('Account', 6);
const E = id('Attachment', 5);
const G = id('Attachment', 7);

/** The versions each record gets, by days ago; equal `value`s make equal payloads (stored once). */
const HISTORY: Record<string, { object: string; days: number; value: string; deleted?: boolean }[]> = {
  [A]: [400, 200, 95, 65, 40, 20, 5, 1].map((days, i) => ({ object: 'Account', days, value: i === 7 ? 'A-6' : `A-${i}` })),
  [B]: [{ object: 'Account', days: 300, value: 'B-0' }],
  [C]: [
    { object: 'Account', days: 100, value: 'C-0' },
    { object: 'Account', days: 60, value: 'C-1', deleted: true },
  ],
  [D]: [
    { object: 'Account', days: 50, value: 'D-0' },
    { object: 'Account', days: 10, value: 'D-1', deleted: true },
  ],
  [F]: [
    { object: 'Account', days: 100, value: 'F-0' },
    { object: 'Account', days: 90, value: 'F-0' },
    { object: 'Account', days: 1, value: 'F-1' },
  ],
  [E]: [
    { object: 'Attachment', days: 90, value: 'E-0' },
    { object: 'Attachment', days: 45, value: 'E-1' },
    { object: 'Attachment', days: 2, value: 'E-2' },
  ],
  [G]: [{ object: 'Attachment', days: 3, value: 'G-0' }],
};

const fieldsOf = (recordId: string, value: string, deleted = false): Record<string, unknown> => ({ Id: recordId, Name: `secret ${value}`, Code: `zq${value.replace('-', '')}`, IsDeleted: deleted });

async function* bytes(text: string): AsyncIterable<Uint8Array> {
  yield Buffer.from(text);
}

describe('forget, prune and purge on a real vault', () => {
  let dir: string;
  let vault: Vault;
  let org: OrgRegistration;
  const address: Record<string, string> = {};

  const iso = (t: number): string => new Date(t).toISOString();
  const stamps = async (recordId: string): Promise<string[]> => (await vault.store.versionsOf(ORG_ID, recordId)).map((v) => iso(v.systemModstamp));
  const deps = () => ({ store: vault.store, blobs: vault.blobs, actor: 'test', now: () => NOW });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'orgvault-retention-'));
    await initVault(dir, { passphrase: PASSPHRASE }, { scrypt: { N: 2 ** 10, r: 8, p: 1 } });
    vault = await openVault(dir, { passphrase: PASSPHRASE });
    org = { name: 'acme', orgId: ORG_ID, instanceUrl: 'https://acme.example', loginUrl: 'https://login.example', sealedAuth: new Uint8Array([1]), createdAt: NOW, settings: {} };
    await vault.store.putOrg(org);
    await vault.store.putSchema(ORG_ID, 'Attachment', { name: 'Attachment', fields: [{ name: 'Id', type: 'id' }, { name: 'Name', type: 'string' }, { name: 'IsDeleted', type: 'boolean' }] }, ago(400));
    // One backup per point in time, oldest first, a batch per object.
    const times = [...new Set(Object.values(HISTORY).flatMap((h) => h.map((v) => v.days)))].sort((a, b) => b - a);
    for (const days of times) {
      for (const object of ['Account', 'Attachment']) {
        const versions: VersionInput[] = [];
        for (const [recordId, history] of Object.entries(HISTORY)) {
          for (const v of history) {
            if (v.days !== days || v.object !== object) continue;
            versions.push({ recordId, systemModstamp: ago(days), changeType: v.deleted ? 'deleted' : 'updated', isDeleted: v.deleted ?? false, lastModifiedById: null, fields: fieldsOf(recordId, v.value, v.deleted) });
          }
        }
        if (versions.length) await vault.store.writeVersions({ orgId: ORG_ID, objectName: object, runId: `run-${days}`, capturedAt: ago(days), schemaId: null, versions });
      }
    }
    // Metadata: a class changed five times, a flow deleted 60 days ago.
    const metadata = (type: string, fullName: string, days: number, body: string | undefined) =>
      vault.store.writeMetadataVersions(ORG_ID, `meta-${days}`, ago(days), [
        { type, fullName, files: body === undefined ? undefined : { [`${type}/${fullName}`]: body }, deleted: body === undefined, lastModifiedDate: ago(days), salesforceId: null },
      ]);
    for (const days of [400, 95, 65, 20, 1]) await metadata('ApexClass', 'Billing', days, `class Billing { /* ${days} */ }`);
    await metadata('Flow', 'Old_Flow', 100, '<Flow/>');
    await metadata('Flow', 'Old_Flow', 60, undefined);
    // Bodies: E's first version has its own, its later ones and G share another; one blob nothing refers to.
    address.x = (await vault.blobs.put(bytes('body X of E'))).address;
    address.y = (await vault.blobs.put(bytes('body Y shared by E and G'))).address;
    address.z = (await vault.blobs.put(bytes('body Z left by an interrupted backup'))).address;
    const file = (recordId: string, days: number, addr: string) =>
      vault.store.putFile(ORG_ID, { objectName: 'Attachment', recordId, field: 'Body', systemModstamp: ago(days), address: addr, size: 20, fileName: 'secret.txt', contentType: 'text/plain' });
    await file(E, 90, address.x!);
    await file(E, 45, address.y!);
    await file(E, 2, address.y!);
    await file(G, 3, address.y!);
  });

  after(async () => {
    await vault?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('forget refuses an org without a policy, and the policy is validated before it is saved', async () => {
    await assert.rejects(forget(deps(), { org, dryRun: true }), /has no retention policy/);
    await assert.rejects(updateRetentionPolicy({ catalog: vault.store, audit: vault.store, actor: 'test' }, org, { keepDaily: -3 }), /--keep-daily must be a whole number/);
    assert.deepEqual((await vault.store.getOrg('acme'))?.settings, {});
    const policy = await updateRetentionPolicy({ catalog: vault.store, audit: vault.store, actor: 'test', now: () => NOW }, org, { keepAllDays: 30, keepMonthly: 2, keepDeletedDays: 30 });
    assert.deepEqual(policy, resolvePolicy({ keepAllDays: 30, keepMonthly: 2, keepDeletedDays: 30 }));
    org = (await vault.store.getOrg('acme'))!;
    assert.deepEqual(org.settings.retention, { keepAllDays: 30, keepMonthly: 2, keepDeletedDays: 30 });
    const audit = (await vault.store.listAudit()).find((a) => a.action === 'retention.update')!;
    assert.deepEqual([audit.action, audit.target, audit.details.changed], ['retention.update', 'acme', ['keepAllDays', 'keepMonthly', 'keepDeletedDays']]);
  });

  let dry: ForgetReport;
  test('a dry run reports what would go, per object and per record, and changes nothing', async () => {
    const before = await vault.store.countVersions(ORG_ID);
    dry = await forget(deps(), { org, dryRun: true, detail: true });
    assert.equal(dry.asOf, iso(NOW));
    const account = dry.objects.find((o) => o.objectName === 'Account')!;
    // A loses 65, 95, 200 and 400 days ago; C goes whole (deleted 60 days ago); F loses 100 days ago.
    assert.deepEqual([account.records, account.recordsRemoved, account.versionsRemoved], [5, 1, 4 + 2 + 1]);
    const detail = new Map(account.detail!.map((d) => [d.recordId, d]));
    assert.deepEqual(detail.get(A)?.removed.map((r) => r.systemModstamp), [ago(65), ago(95), ago(200), ago(400)].map(iso));
    assert.deepEqual(detail.get(A)?.kept.map((k) => k.reasons), [['latest', 'within', 'monthly'], ['within'], ['within'], ['monthly']]);
    assert.equal(detail.get(C)?.wholeRecord, true);
    assert.deepEqual(detail.get(F)?.removed.map((r) => r.systemModstamp), [iso(ago(100))]);
    assert.equal(detail.has(B), false, 'B keeps its only version');
    assert.equal(detail.has(D), false, 'D was deleted 10 days ago: kept');
    const attachment = dry.objects.find((o) => o.objectName === 'Attachment')!;
    assert.deepEqual([attachment.versionsRemoved, attachment.filesRemoved, attachment.fileBytesRemoved], [1, 1, 20]);
    assert.deepEqual(await vault.store.countVersions(ORG_ID), before);
    // The class keeps its last 30 days and 2 monthly (June, April); the flow goes whole.
    assert.deepEqual(dry.metadata, { components: 2, componentsRemoved: 1, versions: 7, versionsRemoved: 4, versionsKept: 3, contentsRemoved: 0, skipped: 0 });
    assert.equal((await vault.store.metadataChains(ORG_ID)).reduce((n, c) => n + c.versions.length, 0), 7);
    const run = (await vault.store.listRuns({ kind: 'forget' }))[0]!;
    assert.deepEqual([run.status, run.parameters.dryRun, run.counters.versionsRemoved, run.counters.metadataVersionsRemoved], ['Succeeded', true, 8, 4]);
    // Limited to an object, forget leaves metadata alone.
    assert.equal((await forget(deps(), { org, dryRun: true, objects: ['Account'] })).metadata, null);
  });

  test('forget removes exactly what the dry run said; chains, heads, counts and files stay right', async () => {
    const before = await vault.store.countVersions(ORG_ID);
    const versionsBefore = new Map<string, RecordVersion[]>();
    for (const recordId of Object.keys(HISTORY)) versionsBefore.set(recordId, await vault.store.versionsOf(ORG_ID, recordId));
    const report = await forget(deps(), { org, dryRun: false, detail: true });
    assert.deepEqual(report.totals, dry.totals);
    assert.deepEqual(report.metadata, { ...dry.metadata!, contentsRemoved: 3 });
    assert.deepEqual((await vault.store.metadataHistory(ORG_ID, 'ApexClass', 'Billing')).map((v) => iso(v.capturedAt)), [1, 20, 65].map((d) => iso(ago(d))));
    assert.deepEqual(await vault.store.metadataHistory(ORG_ID, 'Flow', 'Old_Flow'), []);
    const kept = await vault.store.metadataHistory(ORG_ID, 'ApexClass', 'Billing');
    assert.deepEqual(await vault.store.readMetadataFiles(ORG_ID, kept[2]!.contentId!), { 'ApexClass/Billing': 'class Billing { /* 65 */ }' });
    assert.equal(report.status, 'Succeeded');
    for (const object of dry.objects) {
      for (const d of object.detail!) {
        const remaining = await stamps(d.recordId);
        if (d.wholeRecord) assert.deepEqual(remaining, [], d.recordId);
        else assert.deepEqual(remaining, d.kept.map((k) => k.systemModstamp), d.recordId);
      }
    }
    assert.deepEqual(await stamps(A), [1, 5, 20, 40].map((d) => iso(ago(d))));
    assert.deepEqual(await stamps(F), [1, 90].map((d) => iso(ago(d))));
    assert.deepEqual(await stamps(B), [iso(ago(300))]);
    assert.deepEqual(await stamps(D), [10, 50].map((d) => iso(ago(d))));
    // Kept versions read back whole, shared payloads included (F 90 days ago shares F 100 days ago's).
    for (const recordId of [A, F, D, E]) {
      const kept = new Set(await stamps(recordId));
      assert.deepEqual(
        (await vault.store.versionsOf(ORG_ID, recordId)).map((v) => v.fields),
        versionsBefore.get(recordId)!.filter((v) => kept.has(iso(v.systemModstamp))).map((v) => v.fields),
      );
    }
    // A point in time whose version went reads the one before it that stayed.
    assert.equal((await vault.store.versionAsOf(ORG_ID, 'Account', A, ago(30)))?.systemModstamp, ago(40));
    assert.equal(await vault.store.versionAsOf(ORG_ID, 'Account', A, ago(41)), undefined);
    assert.deepEqual(await vault.store.countVersions(ORG_ID), { records: before.records - 1, versions: before.versions - 8 });
    assert.deepEqual((await vault.store.headsOf(ORG_ID, 'Account', [A, C])).get(A), { systemModstamp: ago(1), isDeleted: false });
    assert.equal((await vault.store.headsOf(ORG_ID, 'Account', [C])).size, 0);
    // Capture-time and change queries see only what stayed.
    const found: string[] = [];
    for await (const v of vault.store.findVersions({ orgId: ORG_ID, objectName: 'Account', by: 'capturedAt' })) found.push(`${v.recordId}@${iso(v.systemModstamp)}`);
    assert.equal(found.length, 4 + 2 + 1 + 2);
    assert.deepEqual((await vault.store.filesOf(ORG_ID, E)).map((f) => iso(f.systemModstamp)), [2, 45].map((d) => iso(ago(d))));
    const audit = (await vault.store.listAudit()).find((a) => a.action === 'retention.forget')!;
    assert.deepEqual([audit.target, audit.details.versionsRemoved], ['acme', 8]);
    const verify = await verifyVault({ store: vault.store, blobs: vault.blobs }, { readData: 'all' });
    // Before prune the only finding is blob Z (and X, now unreferenced): orphans.
    assert.deepEqual(verify.problems.map((p) => p.kind).sort(), ['orphan-blob', 'orphan-blob']);
    // A second forget finds nothing more.
    const again = await forget(deps(), { org, dryRun: true });
    assert.equal(again.totals.versionsRemoved, 0);
    assert.equal(again.metadata?.versionsRemoved, 0);
  });

  test('prune rewrites packs, keeps shared payloads, deletes orphan blobs, gives pages back; verify passes', async () => {
    const dryRun = await prune(deps(), { dryRun: true });
    assert.ok(dryRun.packs.partialPacks + dryRun.packs.emptyPacks > 0, JSON.stringify(dryRun.packs));
    assert.deepEqual([dryRun.blobs.orphans, dryRun.blobs.deleted], [2, 0]);
    assert.equal(await vault.blobs.has(address.z!), true, 'a dry run deletes nothing');
    const readBefore = new Map<string, unknown>();
    for (const recordId of Object.keys(HISTORY)) readBefore.set(recordId, (await vault.store.versionsOf(ORG_ID, recordId)).map((v) => v.fields));

    const report = await prune(deps(), { dryRun: false });
    assert.equal(report.status, 'Succeeded', report.message ?? '');
    const r = report.repack!;
    assert.ok(r.packsAfter < r.packsBefore || r.sealedBytesAfter < r.sealedBytesBefore, JSON.stringify(r));
    assert.equal(r.payloadsDropped, dryRun.packs.unusedPayloads);
    assert.deepEqual(r.damagedPacks, []);
    assert.deepEqual([report.blobs.deleted, await vault.blobs.has(address.x!), await vault.blobs.has(address.z!), await vault.blobs.has(address.y!)], [2, false, false, true]);
    assert.ok(report.catalog.vacuumed, 'the first prune switches the catalog to incremental vacuum');
    const usage = await vault.store.packUsage();
    assert.deepEqual([usage.unusedPayloads, usage.emptyPacks, usage.partialPacks], [0, 0, 0]);
    for (const recordId of Object.keys(HISTORY)) assert.deepEqual((await vault.store.versionsOf(ORG_ID, recordId)).map((v) => v.fields), readBefore.get(recordId), recordId);
    const verify = await verifyVault({ store: vault.store, blobs: vault.blobs }, { readData: 'all' });
    assert.ok(verify.ok, JSON.stringify(verify.problems));
    const db = new Database(join(dir, CATALOG_FILE), { readonly: true });
    try {
      assert.equal(db.pragma('auto_vacuum', { simple: true }), 2);
    } finally {
      db.close();
    }
    // A second prune has nothing left to do.
    const second = await prune(deps(), { dryRun: false });
    assert.deepEqual([second.repack!.packsRewritten, second.repack!.packsDeleted, second.blobs.deleted, second.catalog.vacuumed], [0, 0, 0, false]);
  });

  test('the vault lock and org writer locks exclude each other', async () => {
    const writer = await vault.store.acquireOrgLock(ORG_ID, 'a backup');
    await assert.rejects(prune(deps(), { dryRun: false }), (e: Error) => e instanceof LockHeldError && /Org 00D000000000RETAAA is being written by a backup/.test(e.message));
    // Waiting: the writer finishes meanwhile and prune goes ahead.
    setTimeout(() => void writer.release(), 300);
    const waited = await prune(deps(), { dryRun: false, waitMs: 10_000 });
    assert.equal(waited.status, 'Succeeded');
    const exclusive = await vault.store.acquireVaultLock('a prune');
    await assert.rejects(vault.store.acquireOrgLock(ORG_ID, 'a backup'), /held exclusively by a prune .* no backup or restore may write/);
    await assert.rejects(vault.store.acquireVaultLock('another prune'), /already held exclusively by a prune/);
    await assert.rejects(forget(deps(), { org, dryRun: false }), LockHeldError);
    await exclusive.release();
    (await vault.store.acquireOrgLock(ORG_ID, 'a backup')).release();
  });

  test('purge removes every trace of the records and their sealed bytes; others stay; logs counts only', async () => {
    await vault.store.putIdMappings(ORG_ID, [
      { objectName: 'Account', oldId: A, newId: '001000000000NEWAAA', runId: 'restore-1', createdAt: NOW },
      { objectName: 'Account', oldId: B, newId: '001000000000NEWBAA', runId: 'restore-1', createdAt: NOW },
    ]);
    await vault.store.putIdMappings(`${ORG_ID}>00D000000000OTHAAA`, [{ objectName: 'Account', oldId: A, newId: '001000000000NEWCAA', runId: 'restore-2', createdAt: NOW }]);
    await vault.store.createRun({ runId: 'restore-1', orgId: ORG_ID, kind: 'restore', status: 'Succeeded', startedAt: NOW, endedAt: NOW, counters: {}, message: null, parameters: {} });
    await vault.store.beginRestoreStep({ runId: 'restore-1', stepId: 's1', objectName: 'Account', action: 'create', originalIds: [A, B], startedAt: NOW, completedAt: null });
    await vault.store.completeRestoreStep(
      'restore-1',
      's1',
      NOW,
      [
        { objectName: 'Account', originalId: A, newId: null, outcome: 'Failed', statusCode: 'STRING_TOO_LONG', message: 'Name: data value too large: secret A-6', stepId: 's1' },
        { objectName: 'Account', originalId: B, newId: null, outcome: 'Failed', statusCode: 'STRING_TOO_LONG', message: 'Name: data value too large: secret B-0', stepId: 's1' },
      ],
      ORG_ID,
      [],
    );
    // The sealed bytes of every pack holding a payload of A, as they are on disk now.
    const db = new Database(join(dir, CATALOG_FILE), { readonly: true });
    const sealedOfA: Buffer[] = [];
    try {
      for (const row of db.prepare('SELECT pack_id, sealed FROM packs').all() as { pack_id: string; sealed: Buffer }[]) {
        const pack = openPack(vault.keyring.sealing, row.pack_id, row.sealed);
        for (let slot = 0; slot < pack.count; slot++) if (pack.recordId(slot) === A) sealedOfA.push(Buffer.from(row.sealed.subarray(20, 60)));
      }
    } finally {
      db.close();
    }
    assert.ok(sealedOfA.length > 0);
    // The check below can see them: they are in the catalog's files now.
    const rawBefore = Buffer.concat([CATALOG_FILE, `${CATALOG_FILE}-wal`].filter((f) => existsSync(join(dir, f))).map((f) => readFileSync(join(dir, f))));
    assert.ok(sealedOfA.every((piece) => rawBefore.includes(piece)));

    // The search index finds A by a value only its versions held, and B by its own.
    const found = async (text: string): Promise<string[]> => (await vault.store.searchCandidates({ orgId: ORG_ID, terms: queryTerms(text) })).map((c) => c.recordId);
    assert.deepEqual(await found('zqA6'), [A]);
    assert.deepEqual(await found('zqB0'), [B]);

    const preview = await purge(deps(), { org, objectName: 'account', recordIds: [A.slice(0, 15), '001000000000999AAA'], confirmed: false });
    assert.deepEqual([preview.status, preview.runId, preview.records, preview.versions, preview.notFound], ['NotConfirmed', null, 1, 4, ['001000000000999AAA']]);
    assert.equal((await vault.store.versionsOf(ORG_ID, A)).length, 4, 'not confirmed: nothing removed');

    const report = await purge(deps(), { org, objectName: 'Account', recordIds: [A], confirmed: true });
    assert.equal(report.status, 'Succeeded', report.message ?? '');
    assert.deepEqual([report.removed?.records, report.removed?.versions, report.removed?.idMappings, report.removed?.messagesErased], [1, 4, 2, 1]);
    assert.deepEqual(await vault.store.versionsOf(ORG_ID, A), []);
    assert.equal(await vault.store.resolveId(ORG_ID, A), undefined);
    assert.equal(await vault.store.resolveId(`${ORG_ID}>00D000000000OTHAAA`, A), undefined);
    assert.equal(await vault.store.resolveId(ORG_ID, B), '001000000000NEWBAA');
    const results = await vault.store.restoreResults('restore-1');
    assert.deepEqual(
      results.map((r) => [r.originalId, r.message]),
      [
        [A, null],
        [B, 'Name: data value too large: secret B-0'],
      ],
    );
    assert.deepEqual(await stamps(B), [iso(ago(300))]);
    assert.ok(report.removed!.searchEntries > 0);
    assert.deepEqual(await found('zqA6'), [], 'search no longer finds the purged values');
    assert.deepEqual(await found('zqB0'), [B]);

    // An attachment whose body another record shares: the rows go, the shared blob stays.
    const attachments = await purge(deps(), { org, objectName: 'Attachment', where: ['Name = "secret E-2"'], confirmed: true });
    assert.deepEqual([attachments.records, attachments.removed?.files, attachments.blobs.deleted], [1, 2, 0]);
    assert.deepEqual(await vault.store.filesOf(ORG_ID, E), []);
    assert.equal(await vault.blobs.has(address.y!), true);
    const last = await purge(deps(), { org, objectName: 'Attachment', recordIds: [G], confirmed: true });
    assert.deepEqual([last.blobs.deleted, await vault.blobs.has(address.y!)], [1, false]);

    // No pack holds a payload of the purged records, and their old sealed bytes are nowhere in the catalog's files.
    const after = new Database(join(dir, CATALOG_FILE), { readonly: true });
    try {
      for (const row of after.prepare('SELECT pack_id, sealed FROM packs').all() as { pack_id: string; sealed: Buffer }[]) {
        const pack = openPack(vault.keyring.sealing, row.pack_id, row.sealed);
        for (let slot = 0; slot < pack.count; slot++) assert.ok(![A, E, G].includes(pack.recordId(slot)), `pack ${row.pack_id} still holds ${pack.recordId(slot)}`);
      }
    } finally {
      after.close();
    }
    for (const file of [CATALOG_FILE, `${CATALOG_FILE}-wal`]) {
      if (!existsSync(join(dir, file))) continue;
      const raw = readFileSync(join(dir, file));
      for (const piece of sealedOfA) assert.equal(raw.indexOf(piece), -1, `${file} still holds sealed bytes of a purged record`);
    }
    const verify = await verifyVault({ store: vault.store, blobs: vault.blobs }, { readData: 'all' });
    assert.ok(verify.ok, JSON.stringify(verify.problems));

    // The logs say a purge happened, by whom, of which object, and how many records: never which.
    const audit = (await vault.store.listAudit()).filter((a) => a.action === 'records.purge');
    assert.equal(audit.length, 3);
    assert.deepEqual(audit[2]!.details, { runId: report.runId, objectName: 'Account', records: 1 });
    const runs = await vault.store.listRuns({ kind: 'purge' });
    assert.equal(runs.length, 3);
    const logged = JSON.stringify([audit, runs]);
    for (const purged of [A, A.slice(0, 15), E, G]) assert.equal(logged.includes(purged), false);
  });
});
