// Global search on a real vault (SQLite catalog, sealed packs): records found by a word in any
// field across objects, in their latest state and only in their history, files by name, the
// filters, after a key rotation, after a purge, on a vault whose index is behind (catch-up), and
// after a crash in the middle of indexing a batch.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { UsageError } from '../../src/core/errors.ts';
import type { OrgRegistration, VersionInput } from '../../src/core/vault.ts';
import { deriveKeyring } from '../../src/crypto/keys.ts';
import type { ScryptParams } from '../../src/crypto/keys.ts';
import { parseSearchRange, searchRecords } from '../../src/search/index.ts';
import type { SearchRequest, SearchResult } from '../../src/search/index.ts';
import { openSqliteVaultStore } from '../../src/store/sqlite/index.ts';
import { CATALOG_FILE, initVault, openVault, rotateKey } from '../../src/store/vault.ts';
import type { Vault } from '../../src/store/vault.ts';
import { CRASH_ORG, crashId } from './index-crash-writer.ts';

const FAST: ScryptParams = { N: 2 ** 10, r: 8, p: 1 };
const PASS = { passphrase: 'search test passphrase' };
const ORG_ID = '00D000000000SRCHAA';
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 5);
const at = (days: number): number => T0 + days * DAY;
const sf = (ms: number): string => new Date(ms).toISOString().replace('Z', '+0000');

const ACME = '001000000000001AAA';
const GLOBEX = '001000000000002AAA';
const JANE = '003000000000001AAA';
const FILE = '068000000000001AAA';
const ATTACHMENT = '00P000000000001AAA';

function version(recordId: string, days: number, fields: Record<string, unknown>, change: VersionInput['changeType'] = 'updated', isDeleted = false): VersionInput {
  const stamp = at(days);
  return { recordId, systemModstamp: stamp, changeType: change, isDeleted, fields: { Id: recordId, IsDeleted: isDeleted, SystemModstamp: sf(stamp), ...fields } };
}

describe('global search', () => {
  let scratch: string;
  let dir: string;
  let vault: Vault;
  const org: OrgRegistration = { name: 'acme-prod', orgId: ORG_ID, instanceUrl: 'https://acme.example', loginUrl: 'https://login.example', sealedAuth: new Uint8Array(1), createdAt: 0, settings: {} };
  const search = (text: string, over: Partial<SearchRequest> = {}): Promise<SearchResult> => searchRecords(vault.store, { org, text, ...over });
  const ids = (result: SearchResult): string[] => result.hits.map((h) => h.recordId);
  const write = async (objectName: string, versions: VersionInput[]): Promise<void> => {
    await vault.store.writeVersions({ orgId: ORG_ID, objectName, runId: `run-${objectName}-${versions[0]!.systemModstamp}`, capturedAt: versions[0]!.systemModstamp, schemaId: null, versions });
  };

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'orgvault-search-'));
    dir = join(scratch, 'vault');
    await initVault(dir, PASS, { scrypt: FAST, actor: 'test' });
    vault = await openVault(dir, PASS);
    await vault.store.putOrg(org);
    await write('Account', [
      version(ACME, 0, { Name: 'Acme Corporation', BillingCity: 'Boston', BillingStreet: '12 Zelkova Street', Phone: '+1 (415) 555-0123', Industry: 'Manufacturing' }, 'created'),
      version(GLOBEX, 1, { Name: 'Globex', BillingCity: 'Boston', Industry: 'Energy' }, 'created'),
    ]);
    await write('Contact', [version(JANE, 2, { FirstName: 'Jane', LastName: 'Müller', Email: 'jane.doe@example.com', MailingCity: 'Boston' }, 'created')]);
    // Later: Acme renamed (its old name only in history), Globex deleted.
    await write('Account', [
      version(ACME, 10, { Name: 'Acme Holdings', BillingCity: 'Boston', BillingStreet: '12 Zelkova Street', Phone: '+1 (415) 555-0123', Industry: 'Manufacturing' }),
      version(GLOBEX, 11, { Name: 'Globex', BillingCity: 'Boston', Industry: 'Energy' }, 'deleted', true),
    ]);
    await write('ContentVersion', [version(FILE, 3, { Title: 'Quarterly report', PathOnClient: 'Q3 report.pdf', FileType: 'PDF', ContentSize: 2048 }, 'created')]);
    await vault.store.putFile(ORG_ID, { objectName: 'ContentVersion', recordId: FILE, field: 'VersionData', systemModstamp: at(3), address: 'a'.repeat(64), size: 2048, fileName: 'Q3 report.pdf', contentType: 'application/pdf' });
    await write('Attachment', [version(ATTACHMENT, 4, { Name: 'signed-contract.docx', ParentId: ACME }, 'created')]);
  });
  after(async () => {
    await vault?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  test('a word in any field, across objects, latest first', async () => {
    const result = await search('boston');
    // Globex's latest version (its delete, day 11) still says Boston; then Acme (day 10), then Jane (day 2).
    assert.deepEqual(ids(result), [GLOBEX, ACME, JANE]);
    assert.deepEqual(result.hits.map((h) => h.objectName), ['Account', 'Account', 'Contact']);
    const jane = result.hits[2]!;
    assert.equal(jane.name, 'Jane Müller');
    assert.deepEqual(jane.matches, [{ field: 'MailingCity', snippet: 'Boston', marks: [[0, 6]] }]);
    assert.equal(jane.matchedIn, 'latest');
    assert.equal(result.more, false);
  });

  test('every word must be in one version, in any fields', async () => {
    assert.deepEqual(ids(await search('acme BOSTON manufacturing')), [ACME]);
    // Both words were Acme's, but never in the same version: no match.
    assert.deepEqual(ids(await search('holdings corporation')), []);
    assert.deepEqual(ids(await search('acme paris')), []);
  });

  test('a value a later version changed is found in the history, with the version that held it', async () => {
    const result = await search('corporation');
    assert.deepEqual(ids(result), [ACME]);
    const hit = result.hits[0]!;
    assert.equal(hit.matchedIn, 'history');
    assert.equal(hit.name, 'Acme Corporation');
    assert.equal(hit.version.systemModstamp, new Date(at(0)).toISOString());
    assert.equal(hit.latest.systemModstamp, new Date(at(10)).toISOString());
    assert.deepEqual(hit.matches, [{ field: 'Name', snippet: 'Acme Corporation', marks: [[5, 16]] }]);
    const latest = await search('holdings');
    assert.equal(latest.hits[0]?.matchedIn, 'latest');
    assert.equal(latest.hits[0]?.name, 'Acme Holdings');
  });

  test('emails and phone numbers whole, names without their accents', async () => {
    assert.deepEqual(ids(await search('jane.doe@example.com')), [JANE]);
    assert.deepEqual(ids(await search('MULLER')), [JANE]);
    for (const phone of ['4155550123', '(415) 555-0123', '+1 415 555 0123', '14155550123']) assert.deepEqual(ids(await search(phone)), [ACME], phone);
    const hit = (await search('4155550123')).hits[0]!;
    assert.deepEqual(hit.matches.map((m) => m.field), ['Phone']);
  });

  test('files by name: Files with their bodies, Attachments', async () => {
    const result = await search('q3 report.pdf');
    assert.deepEqual(ids(result), [FILE]);
    assert.equal(result.hits[0]!.name, 'Quarterly report');
    assert.deepEqual(result.hits[0]!.files, [{ field: 'VersionData', fileName: 'Q3 report.pdf', size: 2048, address: 'a'.repeat(64) }]);
    assert.deepEqual(ids(await search('signed contract')), [ATTACHMENT]);
  });

  test('filters: objects, deleted only, latest only, dates, limit', async () => {
    assert.deepEqual(ids(await search('boston', { objects: ['contact'] })), [JANE]);
    assert.deepEqual(ids(await search('boston', { objects: ['Account', 'Contact'], deletedOnly: true })), [GLOBEX]);
    const deleted = (await search('globex')).hits[0]!;
    assert.equal(deleted.isDeleted, true);
    assert.equal(deleted.version.isDeleted, true);
    assert.deepEqual(ids(await search('corporation', { latestOnly: true })), []);
    // The range applies to the matching version's SystemModstamp: Acme's old name is in range only up to day 9.
    assert.deepEqual(ids(await search('corporation', parseSearchRange(new Date(at(-1)).toISOString().slice(0, 10), new Date(at(5)).toISOString().slice(0, 10)))), [ACME]);
    assert.deepEqual(ids(await search('corporation', { from: at(1) })), []);
    // Within day 0 to day 5, Globex and Acme match through versions older than their latest.
    const early = await search('boston', { to: at(5) });
    assert.deepEqual(ids(early), [JANE, GLOBEX, ACME]);
    assert.ok(early.hits.filter((h) => h.objectName === 'Account').every((h) => h.matchedIn === 'history'));
    const limited = await search('boston', { limit: 2 });
    assert.deepEqual(ids(limited), [GLOBEX, ACME]);
    assert.equal(limited.more, true);
  });

  test('many candidates are read latest first from the head index, with the same results as looking each one up', async () => {
    const scanning = await openSqliteVaultStore({ path: join(dir, CATALOG_FILE), keyring: vault.keyring, testHooks: { searchLookupLimit: 0 } });
    try {
      const requests: Partial<SearchRequest>[] = [{}, { objects: ['Contact'] }, { deletedOnly: true }, { from: at(2) }, { to: at(5) }, { limit: 1 }, { latestOnly: true }];
      for (const text of ['boston', 'acme', 'corporation', 'boston energy', 'q3 report']) {
        for (const over of requests) {
          const looked = await search(text, over);
          const scanned = await searchRecords(scanning, { org, text, ...over });
          assert.deepEqual(scanned.hits, looked.hits, `${text} ${JSON.stringify(over)}`);
          assert.equal(scanned.more, looked.more);
        }
      }
    } finally {
      await scanning.close();
    }
  });

  test('bad requests are refused, naming what is wrong', async () => {
    await assert.rejects(search('   '), (e) => e instanceof UsageError && /text to search for/.test(e.message));
    await assert.rejects(search('a !'), (e) => e instanceof UsageError && /no word to search for/.test(e.message));
    await assert.rejects(search('boston', { objects: ['Acount'] }), (e) => e instanceof UsageError && /no object "Acount"/.test(e.message) && /Account/.test(e.message));
    await assert.rejects(search('boston', { limit: 0 }), UsageError);
    assert.throws(() => parseSearchRange('2026-03-01', '2026-02-01'), (e: Error) => e instanceof UsageError && /after --to/.test(e.message));
    assert.throws(() => parseSearchRange('yesterday', undefined), (e: Error) => e instanceof UsageError && /--from "yesterday" is not an ISO-8601 time/.test(e.message));
  });

  test('a key rotation keeps the index: the blind-index key comes from the data key, which rotation only re-wraps', async () => {
    await vault.close();
    const next = { passphrase: 'a rotated passphrase' };
    await rotateKey(dir, PASS, next, { scrypt: FAST, actor: 'test' });
    vault = await openVault(dir, next);
    assert.deepEqual(ids(await search('acme')), [ACME]);
    assert.deepEqual(ids(await search('jane.doe@example.com')), [JANE]);
    const stats = await vault.store.searchIndexStats();
    assert.equal(stats.pendingVersions, 0);
    await vault.close();
    await rotateKey(dir, next, PASS, { scrypt: FAST, actor: 'test' });
    vault = await openVault(dir, PASS);
  });

  test('a vault whose index is behind (built before it, or emptied) is indexed on first search', async () => {
    await vault.close();
    const db = new Database(join(dir, CATALOG_FILE));
    db.exec('DELETE FROM search_postings; DELETE FROM search_terms; UPDATE search_state SET indexed_batch = 0;');
    db.close();
    // Read-only, a search cannot index what is missing, and says so rather than miss records.
    const readonly = await openVault(dir, PASS, { readonly: true });
    await assert.rejects(searchRecords(readonly.store, { org, text: 'boston' }), (e: Error & { code?: string }) => e.code === 'SEARCH_INDEX_BEHIND' && /open it for writing/.test(e.message));
    await readonly.close();
    vault = await openVault(dir, PASS);
    assert.ok((await vault.store.searchIndexStats()).pendingVersions >= 7);
    const progress: number[] = [];
    const result = await searchRecords(vault.store, { org, text: 'boston' }, { onIndexProgress: (done) => progress.push(done) });
    assert.ok(result.indexedNow >= 7, `${result.indexedNow} versions indexed`);
    assert.ok(progress.length > 0);
    assert.deepEqual(ids(result), [GLOBEX, ACME, JANE]);
    assert.equal((await search('corporation')).hits[0]?.matchedIn, 'history');
    assert.equal((await search('boston')).indexedNow, 0);
    // Up to date, a read-only vault searches.
    const upToDate = await openVault(dir, PASS, { readonly: true });
    assert.deepEqual(ids(await searchRecords(upToDate.store, { org, text: 'boston' })), [GLOBEX, ACME, JANE]);
    await upToDate.close();
  });

  test('purge: the records are no longer found, and their postings are gone from the index', async () => {
    const before = countTerms(dir);
    const outcome = await vault.store.purgeRecords(ORG_ID, 'Account', [ACME]);
    assert.equal(outcome.searchEntries, 1);
    assert.deepEqual(ids(await search('acme')), []);
    assert.deepEqual(ids(await search('4155550123')), []);
    assert.deepEqual(ids(await search('boston')), [GLOBEX, JANE]);
    // Its tokens went out of every inverted list, and lists it alone held are deleted.
    const afterPurge = countTerms(dir);
    assert.ok(afterPurge.rows < before.rows && afterPurge.bytes < before.bytes, JSON.stringify({ before, afterPurge }));
    const db = new Database(join(dir, CATALOG_FILE), { readonly: true });
    assert.equal((db.prepare('SELECT count(*) AS n FROM search_postings WHERE record_id = ?').get(ACME) as { n: number }).n, 0);
    db.close();
  });
});

function countTerms(dir: string): { rows: number; bytes: number } {
  const db = new Database(join(dir, CATALOG_FILE), { readonly: true });
  try {
    return db.prepare('SELECT count(*) AS rows, coalesce(sum(length(docs)), 0) AS bytes FROM search_terms').get() as { rows: number; bytes: number };
  } finally {
    db.close();
  }
}

describe('search index crash safety', () => {
  const WRITER = fileURLToPath(new URL('./index-crash-writer.ts', import.meta.url));

  function runWriter(path: string, key: Buffer, crashBatch: number, crashAt: string): Promise<{ acks: number[]; signal: NodeJS.Signals | null }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', WRITER], {
        env: { ...process.env, SEARCH_VAULT_PATH: path, SEARCH_VAULT_KEY: key.toString('hex'), SEARCH_CRASH_BATCH: String(crashBatch), SEARCH_CRASH_AT: crashAt, SEARCH_BATCHES: '3' },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.on('error', reject);
      child.on('exit', (_code, signal) => resolve({ acks: [...out.matchAll(/ack (\d+)/g)].map((m) => Number(m[1])), signal }));
    });
  }

  for (const crashAt of ['before-commit', 'after-commit'] as const) {
    test(`killed ${crashAt === 'before-commit' ? 'before the index commit' : 'after it'}: the index never claims what it does not hold, and the next search catches up`, async () => {
      const scratch = await mkdtemp(join(tmpdir(), 'orgvault-search-crash-'));
      try {
        const path = join(scratch, 'catalog.db');
        const key = randomBytes(32);
        const { acks, signal } = await runWriter(path, key, 1, crashAt);
        assert.equal(signal, 'SIGKILL');
        assert.deepEqual(acks, [0]);
        const db = new Database(path, { readonly: true });
        const state = db.prepare('SELECT indexed_batch AS indexed, (SELECT max(batch_key) FROM batches) AS written FROM search_state').get() as { indexed: number; written: number };
        const posted = (b: number): number => (db.prepare("SELECT count(*) AS n FROM search_postings WHERE record_id LIKE ?").get(`${crashId(b, 0).slice(0, 6)}%`) as { n: number }).n;
        // Batch 1's versions are stored (their commit came first); its postings are there only if the index committed.
        assert.equal(state.written, 2);
        assert.equal(state.indexed, crashAt === 'before-commit' ? 1 : 2);
        assert.equal(posted(0), 300);
        assert.equal(posted(1), crashAt === 'before-commit' ? 0 : 300);
        db.close();

        const store = await openSqliteVaultStore({ path, keyring: deriveKeyring(key, 'search-crash') });
        try {
          const crashOrg: OrgRegistration = { name: 'crash', orgId: CRASH_ORG, instanceUrl: 'x', loginUrl: 'x', sealedAuth: new Uint8Array(1), createdAt: 0, settings: {} };
          const result = await searchRecords(store, { org: crashOrg, text: 'crashtest b1 n7' });
          assert.equal(result.indexedNow, crashAt === 'before-commit' ? 300 : 0);
          assert.deepEqual(result.hits.map((h) => h.recordId), [crashId(1, 7)]);
          assert.equal((await searchRecords(store, { org: crashOrg, text: 'batch1', limit: 1000 })).hits.length, 300);
        } finally {
          await store.close();
        }
      } finally {
        await rm(scratch, { recursive: true, force: true });
      }
    });
  }
});
