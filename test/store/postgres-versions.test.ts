// What only PostgreSQL's record versions show: writers on several connections at once, a batch
// whose transaction fails, and the same answers as the SQLite adapter for the same writes.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type pg from 'pg';
import type { RecordVersion, VersionInput } from '../../src/core/vault.ts';
import type { Keyring } from '../../src/crypto/keys.ts';
import { canonicalJson, openPack } from '../../src/store/packs.ts';
import { PayloadPipeline } from '../../src/store/payload-worker.ts';
import type { VaultStore, VersionBatch } from '../../src/store/port.ts';
import { PgConnections } from '../../src/store/postgres/connection.ts';
import { openPostgresVaultStore } from '../../src/store/postgres/index.ts';
import type { WriteStep } from '../../src/store/postgres/versions.ts';
import { PgVersions } from '../../src/store/postgres/versions.ts';
import { openSqliteVaultStore } from '../../src/store/sqlite/index.ts';
import { newKeyring } from '../contracts/vault-store.contract.ts';
import { freshStoreUrl, postgresSkip, withSchema } from '../fixtures/postgres.ts';

const skip = postgresSkip();
const ORG = '00D000000000001AAA';
const T = Date.UTC(2025, 0, 1);
const id = (n: number): string => `001${String(n).padStart(12, '0')}AAA`;

function batch(objectName: string, versions: VersionInput[], extra: Partial<VersionBatch> = {}): VersionBatch {
  return { orgId: ORG, objectName, runId: 'run-1', capturedAt: T, schemaId: null, versions, ...extra };
}

function version(n: number, at: number, name: string, changeType: VersionInput['changeType'] = 'updated'): VersionInput {
  return { recordId: id(n), systemModstamp: at, changeType, isDeleted: changeType === 'deleted', lastModifiedById: null, fields: { Id: id(n), Name: name } };
}

async function rows<R extends pg.QueryResultRow>(schema: string, sql: string, params: unknown[] = []): Promise<R[]> {
  return withSchema(schema, async (client) => (await client.query<R>(sql, params)).rows);
}

/** Every invariant the catalog keeps between its version tables, checked in SQL. */
async function checkConsistent(schema: string): Promise<void> {
  const [counts] = await rows<{ records: string; versions: string; heads: string; rows: string }>(
    schema,
    `SELECT (SELECT sum(record_count) FROM objects) AS records, (SELECT sum(version_count) FROM objects) AS versions,
            (SELECT count(*) FROM record_heads) AS heads, (SELECT count(*) FROM record_versions) AS rows`,
  );
  assert.equal(counts!.records, counts!.heads, 'record counts match the heads');
  assert.equal(counts!.versions, counts!.rows, 'version counts match the rows');
  // Each head is its record's latest version by (SystemModstamp, seq).
  const wrongHeads = await rows(
    schema,
    `SELECT h.record_id FROM record_heads h
      WHERE h.seq <> (SELECT v.seq FROM record_versions v WHERE v.object_key = h.object_key AND v.record_id = h.record_id ORDER BY v.system_modstamp DESC, v.seq DESC LIMIT 1)`,
  );
  assert.deepEqual(wrongHeads, []);
  // Each chain link points at the version just before in (SystemModstamp, seq) order.
  const wrongLinks = await rows(
    schema,
    `SELECT seq FROM (SELECT seq, prev_seq, lag(seq) OVER (PARTITION BY object_key, record_id ORDER BY system_modstamp, seq) AS expected FROM record_versions) x
      WHERE prev_seq IS DISTINCT FROM expected`,
  );
  assert.deepEqual(wrongLinks, []);
  // No version is stored twice.
  const twice = await rows(
    schema,
    `SELECT v.record_id, v.system_modstamp FROM record_versions v JOIN packs p ON p.pack_key = v.pack_key
      GROUP BY v.object_key, v.record_id, v.system_modstamp, substring(p.payload_hashes FROM v.slot * 32 + 1 FOR 32) HAVING count(*) > 1`,
  );
  assert.deepEqual(twice, []);
}

if (skip) {
  test('PostgreSQL record versions', { skip }, () => undefined);
} else {
  describe('PostgreSQL record versions', () => {
    test('writers on separate connections, of one object and of several, end with consistent heads, chains and counts', async () => {
      const location = freshStoreUrl();
      const keyring = newKeyring();
      const stores = await Promise.all([0, 1, 2].map(() => openPostgresVaultStore({ url: location.url, keyring })));
      try {
        // Each writer covers overlapping records of Account: the same versions (re-reads), later
        // versions and earlier ones (late arrivals), in batches that run side by side; and an object of its own.
        await Promise.all(
          stores.map(async (store, w) => {
            for (let b = 0; b < 6; b++) {
              const versions: VersionInput[] = [];
              for (let n = 0; n < 300; n++) {
                const at = T + ((n * 7 + b * 3 + w) % 11) * 1000;
                versions.push(version(n, at, `v${(n + b + w) % 4}`));
              }
              await store.writeVersions(batch('Account', versions, { runId: `w${w}` }));
              await store.writeVersions(batch(`Custom${w}__c`, versions.slice(0, 100).map((v) => ({ ...v, systemModstamp: v.systemModstamp + b * 10_000 })), { runId: `w${w}` }));
            }
          }),
        );
        await checkConsistent(location.schema);
        const counts = await stores[0]!.countVersions(ORG, 'Account');
        assert.equal(counts.records, 300);
        // Every distinct (record, stamp, fields) written by anyone is stored exactly once.
        const expected = new Set<string>();
        for (let w = 0; w < 3; w++) for (let b = 0; b < 6; b++) for (let n = 0; n < 300; n++) expected.add(`${n}|${T + ((n * 7 + b * 3 + w) % 11) * 1000}|v${(n + b + w) % 4}`);
        assert.equal(counts.versions, expected.size);
        for (let w = 0; w < 3; w++) assert.deepEqual(await stores[0]!.countVersions(ORG, `Custom${w}__c`), { records: 100, versions: 600 });
      } finally {
        for (const store of stores) await store.close();
        await location.drop();
      }
    });

    test('a batch whose transaction fails leaves nothing behind; written again, it is stored once', async () => {
      const location = freshStoreUrl();
      const keyring = newKeyring();
      const conns = await PgConnections.open(location.url);
      const payloads = new PayloadPipeline(keyring.addressing);
      let failAt: WriteStep | undefined;
      const versions = new PgVersions(conns, keyring, payloads, {
        onWriteStep(step) {
          if (step === failAt) throw new Error(`failed at ${step}`);
        },
      });
      try {
        const first = Array.from({ length: 700 }, (_, n) => version(n, T + n, `a${n}`, 'created'));
        await versions.writeVersions(batch('Account', first, { watermark: { systemModstamp: T + 699, recordId: id(699) } }));
        const snapshot = async (): Promise<unknown> =>
          rows(
            location.schema,
            `SELECT (SELECT count(*) FROM record_versions) AS v, (SELECT count(*) FROM packs) AS p, (SELECT count(*) FROM batches) AS b,
                    (SELECT string_agg(record_id || ':' || seq, ',' ORDER BY record_id) FROM record_heads) AS h,
                    (SELECT row(record_count, version_count, watermark_modstamp, watermark_record_id)::text FROM objects) AS o`,
          );
        const before = await snapshot();
        // New records, updates and a late version under a stored head, with a watermark.
        const second = [
          ...Array.from({ length: 600 }, (_, n) => version(1000 + n, T + 10_000 + n, `b${n}`, 'created')),
          ...Array.from({ length: 300 }, (_, n) => version(n, T + 20_000 + n, `a${n}-2`)),
          version(5, T + 1, 'late'),
        ];
        const watermark = { systemModstamp: T + 20_299, recordId: id(299) };
        for (const step of ['mid-inserts', 'before-commit'] as const) {
          failAt = step;
          await assert.rejects(versions.writeVersions(batch('Account', second, { watermark })), new RegExp(`failed at ${step}`));
          assert.deepEqual(await snapshot(), before);
        }
        failAt = undefined;
        assert.deepEqual(await versions.writeVersions(batch('Account', second, { watermark })), { written: 901, duplicates: 0, deduplicated: 0, newRecords: 600 });
        assert.deepEqual(await versions.writeVersions(batch('Account', second, { watermark })), { written: 0, duplicates: 901, deduplicated: 0, newRecords: 0 });
        await checkConsistent(location.schema);
        assert.deepEqual((await versions.versionsOf(ORG, id(5))).map((v) => v.fields.Name), ['a5-2', 'a5', 'late']);

        // A store opened read-only reads and refuses to write, naming why.
        const readonly = await openPostgresVaultStore({ url: location.url, keyring, readonly: true });
        try {
          assert.equal((await readonly.versionAsOf(ORG, 'Account', id(5), T + 2))?.fields.Name, 'late');
          await assert.rejects(readonly.writeVersions(batch('Account', [version(1, T + 50_000, 'x')])), { code: 'READ_ONLY' });
        } finally {
          await readonly.close();
        }
      } finally {
        await conns.close();
        await payloads.close();
        await location.drop();
      }
    });

    describe('the same writes give the same answers as SQLite', () => {
      let dir: string;
      let location: ReturnType<typeof freshStoreUrl>;
      let keyring: Keyring;
      let sqlite: VaultStore;
      let postgres: VaultStore;
      before(async () => {
        dir = mkdtempSync(join(tmpdir(), 'orgvault-pgv-'));
        location = freshStoreUrl();
        keyring = newKeyring();
        sqlite = await openSqliteVaultStore({ path: join(dir, 'catalog.db'), keyring });
        postgres = await openPostgresVaultStore({ url: location.url, keyring });
      });
      after(async () => {
        await sqlite.close();
        await postgres.close();
        await location.drop();
        rmSync(dir, { recursive: true, force: true });
      });

      test('random histories: outcomes, histories, states as of every instant and packs', async () => {
        // A small deterministic generator: few records, few stamps and few values, so that
        // re-reads, equal payloads, late versions and same-millisecond changes all happen.
        let seed = 42;
        const random = (n: number): number => {
          seed = (seed * 1103515245 + 12345) % 2 ** 31;
          return seed % n;
        };
        const kinds = ['created', 'updated', 'deleted', 'undeleted', 'event'] as const;
        for (let b = 0; b < 40; b++) {
          const versions = Array.from({ length: 1 + random(30) }, () => {
            const kind = kinds[random(kinds.length)]!;
            return { ...version(random(12), T + random(25) * 1000, `N${random(4)}`, kind), lastModifiedById: random(2) ? '005000000000001AAA' : null };
          });
          const input = batch(b % 3 === 0 ? 'Contact' : 'Account', versions, { runId: `r${b}`, capturedAt: T + b * 60_000, schemaId: b % 2 ? 's1' : null });
          assert.deepEqual(await postgres.writeVersions(input), await sqlite.writeVersions(input), `batch ${b}`);
        }
        const plain = (v: RecordVersion | undefined): unknown => v && { ...v, seq: undefined };
        const all = async (items: AsyncIterable<RecordVersion>): Promise<unknown[]> => {
          const out: unknown[] = [];
          for await (const v of items) out.push(plain(v));
          return out;
        };
        for (let n = 0; n < 13; n++) {
          assert.deepEqual((await postgres.versionsOf(ORG, id(n))).map(plain), (await sqlite.versionsOf(ORG, id(n))).map(plain), `history of ${id(n)}`);
          for (let at = -1; at <= 25; at++) {
            for (const object of ['Account', 'Contact']) {
              assert.deepEqual(plain(await postgres.versionAsOf(ORG, object, id(n), T + at * 1000)), plain(await sqlite.versionAsOf(ORG, object, id(n), T + at * 1000)));
            }
          }
        }
        for (const object of ['Account', 'Contact']) {
          assert.deepEqual(await postgres.countVersions(ORG, object), await sqlite.countVersions(ORG, object));
          assert.deepEqual(await all(postgres.latestVersions(ORG, object, { includeDeleted: true })), await all(sqlite.latestVersions(ORG, object, { includeDeleted: true })));
          for (let at = 0; at <= 25; at += 4) {
            assert.deepEqual(await all(postgres.stateAsOf(ORG, object, T + at * 1000)), await all(sqlite.stateAsOf(ORG, object, T + at * 1000)));
          }
          assert.deepEqual(await all(postgres.findVersions({ orgId: ORG, objectName: object })), await all(sqlite.findVersions({ orgId: ORG, objectName: object })));
          assert.deepEqual(
            await all(postgres.findVersions({ orgId: ORG, objectName: object, by: 'capturedAt', from: T + 600_000 })),
            await all(sqlite.findVersions({ orgId: ORG, objectName: object, by: 'capturedAt', from: T + 600_000 })),
          );
          const ids = [id(1), id(2), id(3)];
          assert.deepEqual(await all(postgres.findVersions({ orgId: ORG, objectName: object, recordIds: ids, from: T + 5000 })), await all(sqlite.findVersions({ orgId: ORG, objectName: object, recordIds: ids, from: T + 5000 })));
          assert.deepEqual(await postgres.headsOf(ORG, object, ids), await sqlite.headsOf(ORG, object, ids));
        }
        // A pack is the same codec and seal on both engines: PostgreSQL's open with the shared codec.
        const [pack] = await rows<{ pack_id: string; sealed: Buffer }>(location.schema, 'SELECT pack_id, sealed FROM packs ORDER BY pack_key LIMIT 1');
        const opened = openPack(keyring.sealing, pack!.pack_id, pack!.sealed);
        const first = (await postgres.versionsOf(ORG, opened.recordId(0))).find((v) => canonicalJson(v.fields) === opened.payload(0).toString('utf8'));
        assert.ok(first, 'the first payload of the first pack is a stored version of its record');
      });
    });
  });
}
