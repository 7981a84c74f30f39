// The search index caught up in large chunks, whose tokens the payload worker cuts (512 versions
// or more), against the same versions caught up after each small batch, whose tokens the index
// cuts on the main thread: every record must end with the same token hashes and the same head,
// and search must find values from both kinds of chunk, including versions of both in one
// record's history. And the worker's part proven: a large catch-up takes its tokens from it.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import type { VersionInput } from '../../src/core/vault.ts';
import { queryTerms } from '../../src/core/search-text.ts';
import { deriveKeyring } from '../../src/crypto/keys.ts';
import { canonicalJson } from '../../src/store/packs.ts';
import { PayloadPipeline } from '../../src/store/payload-worker.ts';
import { Connections } from '../../src/store/sqlite/connection.ts';
import { SqliteSearchIndex } from '../../src/store/sqlite/search-index.ts';
import { OrgTokenHashers, payloadTokenHashes } from '../../src/store/search-hashing.ts';
import { openSqliteVaultStore } from '../../src/store/sqlite/index.ts';
import type { VaultStore } from '../../src/store/port.ts';

const ORG = '00D000000000001EAA';
const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

const id = (n: number): string => `001000000000${String(n).padStart(3, '0')}AAA`;

function version(n: number, round: number): VersionInput {
  const at = Date.UTC(2024, 0, 1) + round * 86_400_000 + n;
  return {
    recordId: id(n),
    systemModstamp: at,
    changeType: round === 0 ? 'created' : 'updated',
    isDeleted: false,
    lastModifiedById: '005000000000001AAA',
    fields: {
      attributes: { type: 'Account' },
      Id: id(n),
      Name: `Acme ${n % 7 === 0 ? 'Müller' : 'Widgets'} ${n}`,
      BillingCity: ['Lyon', 'Zürich', 'Tokyo 東京', 'Austin'][n % 4],
      Phone: `+1 (415) 555-${String(1000 + n).slice(-4)}`,
      Description: round === 0 ? `first note ${n}` : `round ${round} note ${n} ${n % 3 === 0 ? 'escalation' : 'renewal'} averyveryverylongwordindeed${round}`,
      Email__c: `contact${n}@example${round}.com`,
      Rating: ['Hot', 'Warm', 'Cold'][(n + round) % 3],
      CreatedDate: '2024-01-01T00:00:00.000+0000',
      NumberOfEmployees: n,
    },
  };
}

async function openStore(dir: string, key: Buffer): Promise<VaultStore> {
  return openSqliteVaultStore({ path: join(dir, 'catalog.db'), keyring: deriveKeyring(key, 'test-vault') });
}

/** Per record: its head stamp and its token hashes, sorted (the hashes only, not their order). */
function postings(dir: string): Map<string, string> {
  const db = new Database(join(dir, 'catalog.db'), { readonly: true });
  try {
    const rows = db.prepare('SELECT record_id, head_modstamp, head_deleted, tokens FROM search_postings').all() as { record_id: string; head_modstamp: number; head_deleted: number; tokens: Buffer }[];
    const out = new Map<string, string>();
    for (const row of rows) {
      const hashes: string[] = [];
      for (let at = 0; at < row.tokens.length; at += 6) hashes.push(row.tokens.toString('hex', at, at + 6));
      out.set(row.record_id, `${row.head_modstamp}/${row.head_deleted}/${hashes.sort().join(',')}`);
    }
    return out;
  } finally {
    db.close();
  }
}

const batchOf = (round: number, versions: VersionInput[]) => ({ orgId: ORG, objectName: 'Account', runId: `run-${round}`, capturedAt: Date.UTC(2024, 6, 1) + round, schemaId: null, versions });

test('tokens cut by the payload worker index exactly as tokens cut by the index itself', async () => {
  const key = randomBytes(32);
  const records = 700;
  const rounds = 3;
  const big = await mkdtemp(join(tmpdir(), 'orgvault-tokens-big-'));
  const small = await mkdtemp(join(tmpdir(), 'orgvault-tokens-small-'));
  dirs.push(big, small);
  const a = await openStore(big, key);
  const b = await openStore(small, key);
  try {
    for (let round = 0; round < rounds; round++) {
      const versions = Array.from({ length: records }, (_, n) => version(n, round));
      // Round 1 also repeats versions already stored (duplicates) in the large batch.
      const bigVersions = round === 1 ? [...versions, ...Array.from({ length: 50 }, (_, n) => version(n, 0))] : versions;
      const outcome = await a.writeVersions(batchOf(round, bigVersions));
      assert.equal(outcome.written, records);
      for (let start = 0; start < records; start += 100) {
        await b.writeVersions(batchOf(round, versions.slice(start, start + 100)));
        assert.deepEqual(await b.catchUpSearchIndex(), { versions: 100 });
      }
    }
    assert.equal((await a.searchIndexStats()).pendingVersions, records * rounds);
    assert.deepEqual(await a.catchUpSearchIndex(), { versions: records * rounds });
    // A small batch on the large vault too: its tokens are cut inline, beside the worker's.
    for (const store of [a, b]) await store.writeVersions(batchOf(rounds, [version(5, rounds)]));

    for (const store of [a, b]) {
      const find = async (text: string): Promise<string[]> => (await store.searchCandidates({ orgId: ORG, terms: queryTerms(text) })).map((c) => c.recordId).sort();
      assert.deepEqual(await find('first note 42'), [id(42)]);
      assert.equal((await store.searchIndexStats()).pendingVersions, 0);
      assert.deepEqual(await find('round 2 note 43'), [id(43)]);
      assert.deepEqual(await find('averyveryverylongwordindeed3'), [id(5)]);
      assert.deepEqual(await find('muller 14'), [id(14)]);
      assert.deepEqual(await find('4155551044'), [id(44)]);
      assert.deepEqual(await find('contact45@example1.com'), [id(45)]);
      assert.deepEqual(await find('averyveryverylongwordindeed2 note 46'), [id(46)]);
      assert.equal((await find('東京')).length, records / 4);
    }
  } finally {
    await a.close();
    await b.close();
  }
  const left = postings(big);
  const right = postings(small);
  assert.equal(left.size, records);
  assert.deepEqual(left, right);
});

test('the payload worker cuts the tokens of payloads as this thread would', async () => {
  const indexingKey = randomBytes(32);
  const pipeline = new PayloadPipeline(randomBytes(32), indexingKey);
  const strings = Array.from({ length: 600 }, (_, n) => canonicalJson(version(n, 1).fields));
  const offsets = new Uint32Array(strings.length + 1);
  strings.forEach((text, i) => (offsets[i + 1] = offsets[i]! + Buffer.byteLength(text)));
  const here = payloadTokenHashes(new OrgTokenHashers(indexingKey).of(ORG), Buffer.from(strings.join('')), offsets);
  const expected = Array.from(here.ends, (end, i) => here.hashes.toString('latin1', i === 0 ? 0 : here.ends[i - 1], end));
  try {
    const made = await pipeline.tokenHashes(ORG, Buffer.from(strings.join('')), offsets);
    assert.ok(made, 'the worker could not cut tokens: the index would cut every token itself');
    assert.deepEqual(made, expected);
  } finally {
    await pipeline.close();
  }
  // Without the index key there is nothing to cut with: the caller is told to cut them itself.
  const keyless = new PayloadPipeline(randomBytes(32));
  try {
    assert.equal(await keyless.tokenHashes(ORG, Buffer.from(strings[0]!), new Uint32Array([0, Buffer.byteLength(strings[0]!)])), undefined);
  } finally {
    await keyless.close();
  }
});

test('a large catch-up takes every token from the payload worker, a small one cuts its own', async () => {
  const key = randomBytes(32);
  const dir = await mkdtemp(join(tmpdir(), 'orgvault-tokens-asked-'));
  dirs.push(dir);
  const store = await openStore(dir, key);
  try {
    await store.writeVersions(batchOf(0, Array.from({ length: 600 }, (_, n) => version(n, 0))));
  } finally {
    await store.close();
  }
  const keyring = deriveKeyring(key, 'test-vault');
  const asked: number[] = [];
  const pipeline = new (class extends PayloadPipeline {
    override async tokenHashes(orgId: string, bytes: Buffer, offsets: Uint32Array): Promise<string[] | undefined> {
      const made = await super.tokenHashes(orgId, bytes, offsets);
      asked.push(made?.length ?? 0);
      return made;
    }
  })(keyring.addressing, keyring.indexing);
  const conns = new Connections(join(dir, 'catalog.db'), false);
  try {
    const index = new SqliteSearchIndex(conns, keyring, pipeline);
    assert.deepEqual(await index.catchUpSearchIndex(), { versions: 600 });
    assert.equal(asked.reduce((n, k) => n + k, 0), 600, 'the worker cut the tokens of all 600 versions');
    assert.deepEqual((await index.searchCandidates({ orgId: ORG, terms: queryTerms('first note 42') })).map((c) => c.recordId), [id(42)]);
  } finally {
    await conns.close();
    await pipeline.close();
  }
  const again = await openStore(dir, key);
  try {
    await again.writeVersions(batchOf(1, Array.from({ length: 10 }, (_, n) => version(n, 1))));
  } finally {
    await again.close();
  }
  const conns2 = new Connections(join(dir, 'catalog.db'), false);
  try {
    asked.length = 0;
    const index = new SqliteSearchIndex(conns2, keyring, pipeline);
    assert.deepEqual(await index.catchUpSearchIndex(), { versions: 10 });
    assert.deepEqual(asked, [], 'ten versions are not worth a round trip to the worker');
    assert.deepEqual((await index.searchCandidates({ orgId: ORG, terms: queryTerms('contact7@example1.com') })).map((c) => c.recordId), [id(7)]);
  } finally {
    await conns2.close();
  }
});
