// The query plans of the SQLite vault's record-version statements: after a workload that runs the
// write path, the search index's catch-up and every version read, each statement the store
// prepared is explained, and none may read a whole table, nor reach a batch's versions (a range
// of seq) by anything but the primary key. Such a plan returns the same rows, only slower as the
// vault grows (a catch-up once read every version of an object for each batch), so no other test
// would notice it.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { VersionInput } from '../../src/core/vault.ts';
import { queryTerms } from '../../src/core/search-text.ts';
import { deriveKeyring } from '../../src/crypto/keys.ts';
import { PayloadPipeline } from '../../src/store/payload-worker.ts';
import type { Db } from '../../src/store/sqlite/connection.ts';
import { Connections, preparedStatements } from '../../src/store/sqlite/connection.ts';
import { SqliteSearchIndex } from '../../src/store/sqlite/search-index.ts';
import { SqliteVersions } from '../../src/store/sqlite/versions.ts';

const ORG = '00D000000000001EAA';
const T = Date.UTC(2025, 0, 1);
const id = (n: number): string => `001000000${String(n).padStart(6, '0')}AAA`;

function version(n: number, round: number): VersionInput {
  return {
    recordId: id(n),
    systemModstamp: T + round * 86_400_000 + n,
    changeType: round === 0 ? 'created' : 'updated',
    isDeleted: false,
    lastModifiedById: '005000000000001AAA',
    fields: { Id: id(n), Name: `Planned ${n}`, Description: `round ${round} of record ${n}` },
  };
}

/** Each statement's plan, its parameters bound to 1 (valid for every one of them, JSON included). */
function plans(db: Db): { sql: string; steps: string[] }[] {
  return preparedStatements(db)
    .filter((sql) => /^\s*(SELECT|UPDATE|DELETE|INSERT)/i.test(sql))
    .map((sql) => {
      const parameters = (sql.match(/\?/g) ?? []).length;
      const steps = (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...Array<number>(parameters).fill(1)) as { detail: string }[]).map((r) => r.detail);
      return { sql, steps };
    });
}

test('record versions are reached by key or index, and a batch by its seq range on the primary key', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'orgvault-plans-'));
  const keyring = deriveKeyring(randomBytes(32), 'plans');
  const conns = new Connections(join(dir, 'catalog.db'), false);
  const payloads = new PayloadPipeline(keyring.addressing, keyring.indexing);
  try {
    const versions = new SqliteVersions(conns, keyring, payloads);
    const index = new SqliteSearchIndex(conns, keyring, payloads);
    const batch = (round: number, list: VersionInput[]) => ({ orgId: ORG, objectName: 'Account', runId: `run-${round}`, capturedAt: T + round * 86_400_000 + 10_000, schemaId: null, versions: list });
    await versions.writeVersions(batch(0, Array.from({ length: 600 }, (_, n) => version(n, 0))));
    await versions.writeVersions(batch(1, Array.from({ length: 600 }, (_, n) => version(599 - n, 1))));
    // A late version (spliced under newer ones) and a duplicate, on a small batch.
    await versions.writeVersions(batch(2, [{ ...version(3, 0), systemModstamp: T + 1, fields: { Id: id(3), Name: 'late' } }, version(4, 1)]));
    assert.deepEqual(await index.catchUpSearchIndex(), { versions: 1201 });
    await versions.writeVersions(batch(3, [version(5, 3)]));
    assert.equal((await index.searchCandidates({ orgId: ORG, terms: queryTerms('planned') })).length, 600);

    let read = 0;
    for await (const _ of versions.findVersions({ orgId: ORG, objectName: 'Account', by: 'capturedAt', from: T, to: T + 10 * 86_400_000 })) read++;
    for await (const _ of versions.findVersions({ orgId: ORG, objectName: 'Account', from: T, to: T + 10 * 86_400_000, changeTypes: ['updated'] })) read++;
    for await (const _ of versions.findVersions({ orgId: ORG, objectName: 'Account', recordIds: [id(1), id(2)], by: 'capturedAt' })) read++;
    for await (const _ of versions.latestVersions(ORG, 'Account')) read++;
    for await (const _ of versions.stateAsOf(ORG, 'Account', T + 86_400_000 / 2)) read++;
    assert.ok(read > 2400);
    assert.ok(await versions.versionAsOf(ORG, 'Account', id(3), T + 2));
    assert.equal((await versions.versionsOf(ORG, id(3))).length, 3);
    assert.equal((await versions.headsOf(ORG, 'Account', [id(1), id(700)])).size, 1);

    const explained = [...plans(conns.read), ...plans(conns.write)].filter((p) => /record_versions|record_heads|search_postings/.test(p.sql));
    assert.ok(explained.length >= 15, `${explained.length} statements explained`);
    for (const { sql, steps } of explained) {
      for (const step of steps) assert.doesNotMatch(step, /^SCAN (record_versions|record_heads|search_postings|v|h|p)\b/, `a whole table read by: ${sql}`);
      if (/\bseq (BETWEEN|>) \?/.test(sql)) {
        assert.ok(
          steps.some((step) => /^SEARCH (record_versions|v) USING INTEGER PRIMARY KEY \(rowid>\? AND rowid<\?\)/.test(step)),
          `a seq range not read by the primary key: ${sql}\n${steps.join('\n')}`,
        );
      }
    }
  } finally {
    await conns.close();
    await payloads.close();
    await rm(dir, { recursive: true, force: true });
  }
});
