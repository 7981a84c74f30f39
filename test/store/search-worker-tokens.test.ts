// The search index of batches whose tokens the payload worker cut (batches of 512 versions or
// more) against the same versions written in small batches, whose tokens the index cuts on the
// main thread: every record must end with the same token hashes and the same head, and search
// must find values from both kinds of batch, including versions of both in one record's history.
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
      const batch = { orgId: ORG, objectName: 'Account', runId: `run-${round}`, capturedAt: Date.UTC(2024, 6, 1) + round, schemaId: null };
      // Round 1 also repeats versions already stored (duplicates) in the large batch.
      const bigVersions = round === 1 ? [...versions, ...Array.from({ length: 50 }, (_, n) => version(n, 0))] : versions;
      const outcome = await a.writeVersions({ ...batch, versions: bigVersions });
      assert.equal(outcome.written, records);
      for (let start = 0; start < records; start += 100) await b.writeVersions({ ...batch, versions: versions.slice(start, start + 100) });
    }
    // A small batch on the large vault too: its tokens are cut inline, beside the worker's.
    await a.writeVersions({ orgId: ORG, objectName: 'Account', runId: 'run-late', capturedAt: Date.UTC(2024, 7, 1), schemaId: null, versions: [version(5, rounds)] });
    await b.writeVersions({ orgId: ORG, objectName: 'Account', runId: 'run-late', capturedAt: Date.UTC(2024, 7, 1), schemaId: null, versions: [version(5, rounds)] });

    for (const store of [a, b]) {
      assert.equal((await store.searchIndexStats()).pendingVersions, 0);
      const find = async (text: string): Promise<string[]> => (await store.searchCandidates({ orgId: ORG, terms: queryTerms(text) })).map((c) => c.recordId).sort();
      assert.deepEqual(await find('first note 42'), [id(42)]);
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

test('the payload worker does cut the tokens of a large batch, as this thread would', async () => {
  const indexingKey = randomBytes(32);
  const pipeline = new PayloadPipeline(randomBytes(32), indexingKey);
  const fields = Array.from({ length: 600 }, (_, n) => version(n, 1).fields);
  // What this thread makes of the same payloads.
  const strings = fields.map((f) => canonicalJson(f));
  const offsets = new Uint32Array(strings.length + 1);
  strings.forEach((text, i) => (offsets[i + 1] = offsets[i]! + Buffer.byteLength(text)));
  const here = payloadTokenHashes(new OrgTokenHashers(indexingKey).of(ORG), Buffer.from(strings.join('')), offsets);
  const expected = Array.from(here.ends, (end, i) => here.hashes.toString('latin1', i === 0 ? 0 : here.ends[i - 1], end));
  try {
    // The worker's hashes are taken when the index asks: waited for longer each time until some came.
    for (let attempt = 1; ; attempt++) {
      const prepared = await pipeline.prepare(fields, { tokensOf: ORG });
      assert.ok(prepared.harvestTokens, 'a large batch asks the worker for its tokens');
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      const made = await prepared.harvestTokens();
      prepared.release();
      assert.equal(made.length, fields.length);
      const done = made.flatMap((hashes, i) => (hashes === undefined ? [] : [i]));
      if (done.length > 0) {
        for (const i of done) assert.equal(made[i], expected[i], `payload ${i}`);
        break;
      }
      assert.ok(attempt < 20, 'the worker made no token hashes: the index cut every token itself');
    }
  } finally {
    await pipeline.close();
  }
});
