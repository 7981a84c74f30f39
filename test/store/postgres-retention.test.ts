// Retention and search on a PostgreSQL catalog (the machine's local server, a fresh schema; see
// test/fixtures/postgres.ts) with a filesystem blob store: the use cases of src/retention and
// src/search run over openPostgresVaultStore as they do over SQLite (test/retention/vault.test.ts,
// test/search/search.test.ts). forget removes what the policy drops with chains, heads, counts and
// files right; prune rewrites packs and deletes orphan blobs, verify --read-data passing; purge
// removes records with their search postings, files and blobs; search finds, in history too, and
// stops finding after a purge; an index left behind is caught up, or refused read-only; a pack
// rewrite beside a writer in another connection pool leaves no version dangling; an indexing
// transaction that fails leaves its batch queued; both engines hash a record alike.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { queryTerms } from '../../src/core/search-text.ts';
import type { OrgRegistration, RecordVersion, VersionInput } from '../../src/core/vault.ts';
import type { Keyring } from '../../src/crypto/keys.ts';
import { DAY_MS, forget, prune, purge, updateRetentionPolicy } from '../../src/retention/index.ts';
import type { ForgetReport } from '../../src/retention/index.ts';
import { searchRecords } from '../../src/search/index.ts';
import type { SearchResult } from '../../src/search/index.ts';
import { openFsBlobStore } from '../../src/store/fs/blob-store.ts';
import { openPack } from '../../src/store/packs.ts';
import type { BlobStore, VaultStore } from '../../src/store/port.ts';
import { PayloadPipeline } from '../../src/store/payload-worker.ts';
import { PgConnections } from '../../src/store/postgres/connection.ts';
import { openPostgresVaultStore } from '../../src/store/postgres/index.ts';
import { PgSearchIndex } from '../../src/store/postgres/search-index.ts';
import type { IndexStep } from '../../src/store/postgres/search-index.ts';
import { PgVersions } from '../../src/store/postgres/versions.ts';
import { openSqliteVaultStore } from '../../src/store/sqlite/index.ts';
import { verifyVault } from '../../src/verify/index.ts';
import { newKeyring } from '../contracts/vault-store.contract.ts';
import { freshStoreUrl, postgresSkip, withSchema } from '../fixtures/postgres.ts';

const skip = postgresSkip();
const ORG_ID = '00D000000000RETAAA';
const NOW = Date.UTC(2025, 5, 30, 12);
const ago = (days: number): number => NOW - days * DAY_MS;
const iso = (t: number): string => new Date(t).toISOString();
const id = (prefix: string, n: number): string => `${prefix}00000000${String(n).padStart(4, '0')}AAA`;

const A = id('001', 1);
const B = id('001', 2);
const C = id('001', 3);
const D = id('001', 4);
const F = id('001', 6);
const E = id('00P', 5);
const G = id('00P', 7);

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

const fieldsOf = (recordId: string, value: string, deleted = false): Record<string, unknown> => ({
  Id: recordId,
  Name: `secret ${value}`,
  Code: `zq${value.replace('-', '')}`,
  BillingCity: recordId === A || recordId === B ? 'Boston' : 'Denver',
  IsDeleted: deleted,
});

async function* bytes(text: string): AsyncIterable<Uint8Array> {
  yield Buffer.from(text);
}

describe('retention and search on a PostgreSQL vault', { skip }, () => {
  let scratch: string;
  let location: ReturnType<typeof freshStoreUrl>;
  let keyring: Keyring;
  let store: VaultStore;
  let blobs: BlobStore;
  let org: OrgRegistration;
  const address: Record<string, string> = {};
  const deps = () => ({ store, blobs, actor: 'test', now: () => NOW });
  const stamps = async (recordId: string): Promise<string[]> => (await store.versionsOf(ORG_ID, recordId)).map((v) => iso(v.systemModstamp));
  const search = (text: string): Promise<SearchResult> => searchRecords(store, { org, text });
  const ids = (result: SearchResult): string[] => result.hits.map((h) => h.recordId);

  before(async () => {
    if (skip) return;
    scratch = await mkdtemp(join(tmpdir(), 'orgvault-pg-retention-'));
    location = freshStoreUrl();
    keyring = newKeyring();
    store = await openPostgresVaultStore({ url: location.url, keyring });
    blobs = openFsBlobStore({ dir: join(scratch, 'blobs'), keyring });
    org = { name: 'acme', orgId: ORG_ID, instanceUrl: 'https://acme.example', loginUrl: 'https://login.example', sealedAuth: new Uint8Array([1]), createdAt: NOW, settings: {} };
    await store.putOrg(org);
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
        if (versions.length) await store.writeVersions({ orgId: ORG_ID, objectName: object, runId: `run-${days}`, capturedAt: ago(days), schemaId: null, versions });
      }
    }
    // Bodies: E's first version has its own, its later ones and G share another; one blob nothing refers to.
    address.x = (await blobs.put(bytes('body X of E'))).address;
    address.y = (await blobs.put(bytes('body Y shared by E and G'))).address;
    address.z = (await blobs.put(bytes('body Z left by an interrupted backup'))).address;
    const file = (recordId: string, days: number, addr: string) =>
      store.putFile(ORG_ID, { objectName: 'Attachment', recordId, field: 'Body', systemModstamp: ago(days), address: addr, size: 20, fileName: 'secret.txt', contentType: 'text/plain' });
    await file(E, 90, address.x!);
    await file(E, 45, address.y!);
    await file(E, 2, address.y!);
    await file(G, 3, address.y!);
  });

  after(async () => {
    if (skip) return;
    await store?.close();
    await location?.drop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  test('search finds a word in any version, latest first, and what only the history holds', async () => {
    assert.ok((await store.searchIndexStats()).pendingVersions > 0, 'writes leave indexing to the catch-up');
    const boston = await search('boston');
    assert.deepEqual((await store.searchIndexStats()).pendingVersions, 0, 'the search caught the index up first');
    assert.deepEqual(ids(boston), [A, B]);
    assert.equal(boston.hits[0]!.matchedIn, 'latest');
    const old = await search('zqA0');
    assert.deepEqual(ids(old), [A]);
    assert.equal(old.hits[0]!.matchedIn, 'history');
    assert.equal(old.hits[0]!.version.systemModstamp, iso(ago(400)));
    assert.deepEqual(ids(await search('secret denver')), [F, E, G, D, C]);
    assert.deepEqual(ids(await search('zqA0 zqB0')), []);
  });

  let dry: ForgetReport;
  test('forget: a dry run reports what would go and changes nothing', async () => {
    await updateRetentionPolicy({ catalog: store, audit: store, actor: 'test', now: () => NOW }, org, { keepAllDays: 30, keepMonthly: 2, keepDeletedDays: 30 });
    org = (await store.getOrg('acme'))!;
    const before = await store.countVersions(ORG_ID);
    dry = await forget(deps(), { org, dryRun: true, detail: true });
    const account = dry.objects.find((o) => o.objectName === 'Account')!;
    // A loses 65, 95, 200 and 400 days ago; C goes whole (deleted 60 days ago); F loses 100 days ago.
    assert.deepEqual([account.records, account.recordsRemoved, account.versionsRemoved], [5, 1, 4 + 2 + 1]);
    const detail = new Map(account.detail!.map((d) => [d.recordId, d]));
    assert.deepEqual(detail.get(A)?.removed.map((r) => r.systemModstamp), [ago(65), ago(95), ago(200), ago(400)].map(iso));
    assert.equal(detail.get(C)?.wholeRecord, true);
    const attachment = dry.objects.find((o) => o.objectName === 'Attachment')!;
    assert.deepEqual([attachment.versionsRemoved, attachment.filesRemoved, attachment.fileBytesRemoved], [1, 1, 20]);
    assert.deepEqual(await store.countVersions(ORG_ID), before);
  });

  test('forget removes exactly what the dry run said; chains, heads, counts and files stay right', async () => {
    const before = await store.countVersions(ORG_ID);
    const versionsBefore = new Map<string, RecordVersion[]>();
    for (const recordId of Object.keys(HISTORY)) versionsBefore.set(recordId, await store.versionsOf(ORG_ID, recordId));
    const report = await forget(deps(), { org, dryRun: false, detail: true });
    assert.equal(report.status, 'Succeeded');
    assert.deepEqual(report.totals, dry.totals);
    assert.deepEqual(await stamps(A), [1, 5, 20, 40].map((d) => iso(ago(d))));
    assert.deepEqual(await stamps(F), [1, 90].map((d) => iso(ago(d))));
    assert.deepEqual(await stamps(B), [iso(ago(300))]);
    assert.deepEqual(await stamps(C), []);
    assert.deepEqual(await stamps(D), [10, 50].map((d) => iso(ago(d))));
    assert.deepEqual(await stamps(E), [2, 45].map((d) => iso(ago(d))));
    // Kept versions read back whole, shared payloads included (F 90 days ago shares F 100 days ago's).
    for (const recordId of [A, F, D, E]) {
      const kept = new Set(await stamps(recordId));
      assert.deepEqual(
        (await store.versionsOf(ORG_ID, recordId)).map((v) => v.fields),
        versionsBefore.get(recordId)!.filter((v) => kept.has(iso(v.systemModstamp))).map((v) => v.fields),
      );
    }
    assert.equal((await store.versionAsOf(ORG_ID, 'Account', A, ago(30)))?.systemModstamp, ago(40));
    assert.equal(await store.versionAsOf(ORG_ID, 'Account', A, ago(41)), undefined);
    assert.deepEqual(await store.countVersions(ORG_ID), { records: before.records - 1, versions: before.versions - 8 });
    assert.equal((await store.headsOf(ORG_ID, 'Account', [C])).size, 0);
    const found: string[] = [];
    for await (const v of store.findVersions({ orgId: ORG_ID, objectName: 'Account', by: 'capturedAt' })) found.push(`${v.recordId}@${iso(v.systemModstamp)}`);
    assert.equal(found.length, 4 + 2 + 1 + 2);
    assert.deepEqual((await store.filesOf(ORG_ID, E)).map((f) => iso(f.systemModstamp)), [2, 45].map((d) => iso(ago(d))));
    // Before prune the only findings are blobs Z and X, now unreferenced.
    const verify = await verifyVault({ store, blobs }, { readData: 'all' });
    assert.deepEqual(verify.problems.map((p) => p.kind).sort(), ['orphan-blob', 'orphan-blob']);
    assert.equal((await forget(deps(), { org, dryRun: true })).totals.versionsRemoved, 0);
    // A forgotten version's words no longer verify: search finds A only by what it still holds.
    assert.deepEqual(ids(await search('zqA0')), []);
    assert.deepEqual(ids(await search('zqA4')), [A]);
  });

  test('prune rewrites packs, keeps shared payloads, deletes orphan blobs; verify passes', async () => {
    const dryRun = await prune(deps(), { dryRun: true });
    assert.ok(dryRun.packs.partialPacks + dryRun.packs.emptyPacks > 0, JSON.stringify(dryRun.packs));
    assert.deepEqual([dryRun.blobs.orphans, dryRun.blobs.deleted], [2, 0]);
    const readBefore = new Map<string, unknown>();
    for (const recordId of Object.keys(HISTORY)) readBefore.set(recordId, (await store.versionsOf(ORG_ID, recordId)).map((v) => v.fields));

    const report = await prune(deps(), { dryRun: false });
    assert.equal(report.status, 'Succeeded', report.message ?? '');
    const r = report.repack!;
    assert.ok(r.packsAfter < r.packsBefore && r.sealedBytesAfter < r.sealedBytesBefore, JSON.stringify(r));
    assert.equal(r.payloadsDropped, dryRun.packs.unusedPayloads);
    assert.deepEqual(r.damagedPacks, []);
    assert.deepEqual([report.blobs.deleted, await blobs.has(address.x!), await blobs.has(address.z!), await blobs.has(address.y!)], [2, false, false, true]);
    assert.ok(report.catalog.after.bytes > 0);
    const usage = await store.packUsage();
    assert.deepEqual([usage.unusedPayloads, usage.emptyPacks, usage.partialPacks], [0, 0, 0]);
    for (const recordId of Object.keys(HISTORY)) assert.deepEqual((await store.versionsOf(ORG_ID, recordId)).map((v) => v.fields), readBefore.get(recordId), recordId);
    const verify = await verifyVault({ store, blobs }, { readData: 'all' });
    assert.ok(verify.ok, JSON.stringify(verify.problems));
    const second = await prune(deps(), { dryRun: false });
    assert.deepEqual([second.repack!.packsRewritten, second.repack!.packsDeleted, second.blobs.deleted], [0, 0, 0]);
  });

  test('purge removes the records with their postings, files and blobs; search stops finding them', async () => {
    await store.putIdMappings(ORG_ID, [{ objectName: 'Account', oldId: A, newId: '001000000000NEWAAA', runId: 'restore-1', createdAt: NOW }]);
    await store.putIdMappings(`${ORG_ID}>00D000000000OTHAAA`, [{ objectName: 'Account', oldId: A, newId: '001000000000NEWCAA', runId: 'restore-2', createdAt: NOW }]);
    // The sealed bytes of every pack holding a payload of A.
    const sealedOfA = await withSchema(location.schema, async (client) => {
      const pieces: Buffer[] = [];
      for (const row of (await client.query<{ pack_id: string; sealed: Buffer }>('SELECT pack_id, sealed FROM packs')).rows) {
        const pack = openPack(keyring.sealing, row.pack_id, row.sealed);
        for (let slot = 0; slot < pack.count; slot++) if (pack.recordId(slot) === A) pieces.push(Buffer.from(row.sealed.subarray(20, 60)));
      }
      return pieces;
    });
    assert.ok(sealedOfA.length > 0);
    assert.deepEqual(ids(await search('zqA6')), [A]);
    assert.deepEqual(ids(await search('boston')), [A, B]);

    const report = await purge(deps(), { org, objectName: 'Account', recordIds: [A], confirmed: true });
    assert.equal(report.status, 'Succeeded', report.message ?? '');
    assert.deepEqual([report.removed?.records, report.removed?.versions, report.removed?.idMappings, report.removed?.searchEntries], [1, 4, 2, 1]);
    assert.deepEqual(await store.versionsOf(ORG_ID, A), []);
    assert.equal(await store.resolveId(`${ORG_ID}>00D000000000OTHAAA`, A), undefined);
    assert.deepEqual(ids(await search('zqA6')), [], 'search no longer finds the purged values');
    assert.deepEqual(ids(await search('boston')), [B]);
    assert.deepEqual(await store.searchCandidates({ orgId: ORG_ID, terms: queryTerms('zqA6') }), []);

    // An attachment whose body another record shares: the rows go, the shared blob stays; then the last user of it.
    const attachments = await purge(deps(), { org, objectName: 'Attachment', recordIds: [E], confirmed: true });
    assert.deepEqual([attachments.records, attachments.removed?.files, attachments.blobs.deleted], [1, 2, 0]);
    assert.deepEqual(await store.filesOf(ORG_ID, E), []);
    assert.equal(await blobs.has(address.y!), true);
    const last = await purge(deps(), { org, objectName: 'Attachment', recordIds: [G], confirmed: true });
    assert.deepEqual([last.blobs.deleted, await blobs.has(address.y!)], [1, false]);

    await withSchema(location.schema, async (client) => {
      // No posting, pack payload or sealed byte of the purged records is left in the catalog's tables.
      assert.equal((await client.query<{ n: string }>('SELECT count(*) AS n FROM search_postings WHERE record_id = ANY($1)', [[A, E, G]])).rows[0]!.n, '0');
      const packs = (await client.query<{ pack_id: string; sealed: Buffer }>('SELECT pack_id, sealed FROM packs')).rows;
      for (const row of packs) {
        const pack = openPack(keyring.sealing, row.pack_id, row.sealed);
        for (let slot = 0; slot < pack.count; slot++) assert.ok(![A, E, G].includes(pack.recordId(slot)), `pack ${row.pack_id} still holds ${pack.recordId(slot)}`);
        for (const piece of sealedOfA) assert.equal(row.sealed.indexOf(piece), -1);
      }
      assert.equal((await client.query<{ n: string }>('SELECT count(*) AS n FROM files WHERE record_id = ANY($1)', [[A, E, G]])).rows[0]!.n, '0');
    });
    const verify = await verifyVault({ store, blobs }, { readData: 'all' });
    assert.ok(verify.ok, JSON.stringify(verify.problems));
    const compacted = await store.compactCatalog({ full: true });
    assert.equal(compacted.vacuumed, true);
    assert.ok(compacted.after.bytes > 0);
  });

  test('an index left behind is caught up by the next search; read-only, the search says so', async () => {
    // As a crash between a batch's commit and its indexing leaves it: the batches queued, their postings not written.
    await withSchema(location.schema, (client) => client.query('DELETE FROM search_postings; INSERT INTO search_pending (batch_key) SELECT batch_key FROM batches ON CONFLICT DO NOTHING'));
    assert.ok((await store.searchIndexStats()).pendingVersions >= 5);
    const readonly = await openPostgresVaultStore({ url: location.url, keyring, readonly: true });
    try {
      await assert.rejects(searchRecords(readonly, { org, text: 'boston' }), (e: Error & { code?: string }) => e.code === 'SEARCH_INDEX_BEHIND' && /open it for writing/.test(e.message));
    } finally {
      await readonly.close();
    }
    const progress: number[] = [];
    const result = await searchRecords(store, { org, text: 'boston' }, { onIndexProgress: (done) => progress.push(done) });
    assert.ok(result.indexedNow >= 5 && progress.length > 0, `${result.indexedNow} versions indexed`);
    assert.deepEqual(ids(result), [B]);
    assert.deepEqual(ids(await search('secret denver')), [F, D]);
    assert.deepEqual(await store.searchIndexStats(), { records: 3, pendingVersions: 0 });
  });

  test('many candidates are read latest first a page at a time, each once', async () => {
    const many = Array.from({ length: 1300 }, (_, i): VersionInput => {
      const recordId = id('003', i + 1);
      return { recordId, systemModstamp: ago(5) + i, changeType: 'created', isDeleted: false, lastModifiedById: null, fields: { Id: recordId, LastName: `Common ${i % 2 === 0 ? 'even' : 'odd'}` } };
    });
    await store.writeVersions({ orgId: ORG_ID, objectName: 'Contact', runId: 'run-many', capturedAt: NOW, schemaId: null, versions: many });
    const opened = await store.openSearchCandidates({ orgId: ORG_ID, terms: queryTerms('common') });
    assert.equal(opened.count, 1300);
    const seen: string[] = [];
    for await (const c of opened.candidates) seen.push(c.recordId);
    assert.deepEqual(seen, many.map((v) => v.recordId).reverse());
    const even = await store.searchCandidates({ orgId: ORG_ID, terms: queryTerms('common even'), modifiedFrom: ago(5) + 1000 });
    assert.deepEqual(even.map((c) => c.recordId), many.filter((_, i) => i >= 1000 && i % 2 === 0).map((v) => v.recordId).reverse());
    // Stopping early reads no further (nothing to assert on I/O here, but it must not hang or leak a connection).
    for await (const c of (await store.openSearchCandidates({ orgId: ORG_ID, terms: queryTerms('common') })).candidates) if (c) break;
  });

  test('a pack rewrite beside a writer in another connection pool leaves every version readable', async () => {
    const other = await openPostgresVaultStore({ url: location.url, keyring });
    try {
      // Versions that leave the Contact packs partly used, then a rewrite and new batches at once.
      const contacts = Array.from({ length: 300 }, (_, i) => id('003', i + 1));
      const chains: { recordId: string; headSeq: number; wholeRecord: boolean; seqs: number[]; files: never[] }[] = [];
      for await (const page of store.recordChains(ORG_ID, 'Contact', { recordIds: contacts.filter((_, i) => i % 3 === 0) })) {
        for (const chain of page) chains.push({ recordId: chain.recordId, headSeq: chain.versions[0]!.seq, wholeRecord: true, seqs: [], files: [] });
      }
      assert.equal((await store.forgetVersions(ORG_ID, 'Contact', chains)).records, 100);
      // The writer stores versions equal to their records' heads, which point into the packs being
      // rewritten (deduplicated: the new rows point at the head's pack and slot).
      const kept = contacts.filter((_, i) => i % 3 !== 0);
      const original = (recordId: string): Record<string, unknown> => ({ Id: recordId, LastName: `Common ${(Number(recordId.slice(11, 15)) - 1) % 2 === 0 ? 'even' : 'odd'}` });
      const writes = (async () => {
        let deduplicated = 0;
        for (let round = 0; round < 5; round++) {
          const versions = kept.map((recordId, i): VersionInput => ({ recordId, systemModstamp: ago(0) + round * 1000 + i, changeType: 'updated', isDeleted: false, lastModifiedById: null, fields: original(recordId) }));
          deduplicated += (await other.writeVersions({ orgId: ORG_ID, objectName: 'Contact', runId: `run-concurrent-${round}`, capturedAt: NOW, schemaId: null, versions })).deduplicated;
        }
        return deduplicated;
      })();
      const [repack, deduplicated] = await Promise.all([store.repackPacks(), writes]);
      assert.equal(deduplicated, kept.length * 5);
      assert.ok(repack.packsRewritten + repack.packsDeleted > 0, JSON.stringify(repack));
      assert.equal(await store.danglingVersions(), 0);
      const verify = await verifyVault({ store, blobs }, { readData: 'all' });
      assert.ok(verify.ok, JSON.stringify(verify.problems));
      assert.equal((await store.countVersions(ORG_ID, 'Contact')).records, 1200);
      for (const recordId of [kept[0]!, kept[kept.length - 1]!]) {
        const history = await store.versionsOf(ORG_ID, recordId);
        assert.equal(history.length, 6);
        for (const v of history) assert.deepEqual(v.fields, original(recordId));
      }
    } finally {
      await other.close();
    }
  });
});

describe('search index on PostgreSQL: an indexing transaction that fails', { skip }, () => {
  for (const failAt of ['before-commit', 'after-commit'] as const) {
    test(`fails ${failAt === 'before-commit' ? 'before its commit: the batch stays queued' : 'after its commit: nothing is indexed twice'}, and the next search catches up`, async () => {
      const location = freshStoreUrl();
      const keyring = newKeyring();
      const conns = await PgConnections.open(location.url);
      const payloads = new PayloadPipeline(keyring.addressing);
      try {
        const versions = new PgVersions(conns, keyring, payloads);
        let armed = false;
        const failing = new PgSearchIndex(conns, keyring, {
          onIndexStep(step: IndexStep) {
            if (armed && step === failAt) {
              armed = false;
              throw new Error(`the process died ${step}`);
            }
          },
        });
        const batch = (n: number, word: string) => ({
          orgId: ORG_ID,
          objectName: 'Account',
          runId: `run-${n}`,
          capturedAt: NOW,
          schemaId: null,
          versions: [{ recordId: id('001', n), systemModstamp: ago(10 - n), changeType: 'created' as const, isDeleted: false, lastModifiedById: null, fields: { Id: id('001', n), Name: `${word} Industries` } }],
        });
        await versions.writeVersions(batch(1, 'Zephyrine'));
        assert.deepEqual(await failing.catchUpSearchIndex(), { versions: 1 });
        await versions.writeVersions(batch(2, 'Quillfeather'));
        armed = true;
        // The write committed; its indexing fails at `failAt`.
        await assert.rejects(failing.catchUpSearchIndex(), /the process died/);
        assert.equal((await versions.countVersions(ORG_ID)).versions, 2);
        const stats = await failing.searchIndexStats();
        assert.deepEqual(stats, failAt === 'before-commit' ? { records: 1, pendingVersions: 1 } : { records: 2, pendingVersions: 0 });
        const fresh = new PgSearchIndex(conns, keyring);
        assert.deepEqual(await fresh.catchUpSearchIndex(), { versions: failAt === 'before-commit' ? 1 : 0 });
        for (const [word, n] of [['quillfeather', 1], ['zephyrine', 1], ['industries', 2]] as const) {
          const found = await fresh.searchCandidates({ orgId: ORG_ID, terms: queryTerms(word) });
          assert.equal(found.length, n, word);
        }
        assert.deepEqual(await fresh.searchIndexStats(), { records: 2, pendingVersions: 0 });
      } finally {
        await payloads.close();
        await conns.close();
        await location.drop();
      }
    });
  }
});

describe('search index on PostgreSQL and SQLite', { skip }, () => {
  test('the same record gets the same 48-bit hashes on both engines: the index is the same, only laid out differently', async () => {
    const scratch = await mkdtemp(join(tmpdir(), 'orgvault-pg-hashes-'));
    const location = freshStoreUrl();
    const keyring = newKeyring();
    const batch = {
      orgId: ORG_ID,
      objectName: 'Contact',
      runId: 'run-1',
      capturedAt: NOW,
      schemaId: null,
      versions: [{ recordId: id('003', 1), systemModstamp: NOW, changeType: 'created' as const, isDeleted: false, lastModifiedById: null, fields: { Id: id('003', 1), LastName: 'Müller-Lüdenscheidt', Email: 'hans@example.de', Phone: '+49 30 1234567', Description: 'a token longer than fifteen bytes: Donaudampfschifffahrt' } }],
    };
    const path = join(scratch, 'catalog.db');
    const sqlite = await openSqliteVaultStore({ path, keyring });
    const postgres = await openPostgresVaultStore({ url: location.url, keyring });
    try {
      await sqlite.writeVersions(batch);
      await postgres.writeVersions(batch);
      assert.deepEqual(await sqlite.catchUpSearchIndex(), { versions: 1 });
      assert.deepEqual(await postgres.catchUpSearchIndex(), { versions: 1 });
      const db = new Database(path, { readonly: true });
      const blob = (db.prepare('SELECT tokens FROM search_postings').get() as { tokens: Buffer }).tokens;
      db.close();
      const fromSqlite = Array.from({ length: blob.length / 6 }, (_, i) => blob.readUIntBE(i * 6, 6)).sort((a, b) => a - b);
      const fromPostgres = await withSchema(location.schema, async (client) => (await client.query<{ tokens: string[] }>('SELECT tokens FROM search_postings')).rows[0]!.tokens.map(Number).sort((a, b) => a - b));
      assert.ok(fromSqlite.length >= 8, `${fromSqlite.length} tokens`);
      assert.deepEqual(fromPostgres, fromSqlite);
    } finally {
      await sqlite.close();
      await postgres.close();
      await location.drop();
      await rm(scratch, { recursive: true, force: true });
    }
  });
});
