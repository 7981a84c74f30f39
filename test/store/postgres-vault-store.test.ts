// The VaultStore contract on a real PostgreSQL server (the machine's local one; see
// test/fixtures/postgres.ts), each store in a fresh schema, and what only PostgreSQL shows.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Keyring } from '../../src/crypto/keys.ts';
import type { VaultStore } from '../../src/store/port.ts';
import { openPostgresVaultStore } from '../../src/store/postgres/index.ts';
import { newKeyring, vaultStoreContract } from '../contracts/vault-store.contract.ts';
import { POSTGRES_URL, freshStoreUrl, postgresSkip, withSchema } from '../fixtures/postgres.ts';

const skip = postgresSkip();

if (skip) {
  test('VaultStore contract: PostgreSQL', { skip }, () => undefined);
} else {
  vaultStoreContract('PostgreSQL', async () => {
    const location = freshStoreUrl();
    const keyring = newKeyring();
    let store: VaultStore = await openPostgresVaultStore({ url: location.url, keyring });
    return {
      get store() {
        return store;
      },
      async reopen(options: { keyring?: Keyring } = {}) {
        await store.close();
        store = await openPostgresVaultStore({ url: location.url, keyring: options.keyring ?? keyring });
        return store;
      },
      async cleanup() {
        await store.close();
        await location.drop();
      },
      async tamperPack(packId: string) {
        await withSchema(location.schema, (client) =>
          client.query('UPDATE packs SET sealed = overlay(sealed placing decode(lpad(to_hex(get_byte(sealed, length(sealed) / 2) # 1), 2, \'0\'), \'hex\') from length(sealed) / 2 + 1 for 1) WHERE pack_id = $1', [packId]),
        );
      },
      // Every value of every table, byte strings as their bytes: what a stolen database holds.
      async storedBytes() {
        return withSchema(location.schema, async (client) => {
          const tables = await client.query<{ table_name: string }>('SELECT table_name FROM information_schema.tables WHERE table_schema = $1', [location.schema]);
          const parts: Buffer[] = [];
          for (const { table_name } of tables.rows) {
            const rows = await client.query(`SELECT * FROM "${table_name}"`);
            for (const row of rows.rows as Record<string, unknown>[]) {
              for (const value of Object.values(row)) parts.push(Buffer.isBuffer(value) ? value : Buffer.from(String(value)));
            }
          }
          return Buffer.concat(parts);
        });
      },
    };
  });

  describe('PostgreSQL vault store', () => {
    test('two processes opening a new schema at once apply each migration once', async () => {
      const location = freshStoreUrl();
      try {
        const stores = await Promise.all([0, 1, 2].map(() => openPostgresVaultStore({ url: location.url, keyring: newKeyring() })));
        for (const store of stores) await store.close();
        const applied = await withSchema(location.schema, async (client) => (await client.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')).rows.map((r) => Number(r.version)));
        assert.deepEqual(applied, [...new Set(applied)]);
        assert.equal(applied[0], 1);
      } finally {
        await location.drop();
      }
    });

    test('a wrong password or database gives an error naming what to fix, without the password', async () => {
      const url = new URL(POSTGRES_URL!);
      url.password = 'not-the-password-123';
      await assert.rejects(openPostgresVaultStore({ url: url.toString(), keyring: newKeyring() }), (error: Error & { code?: string }) => {
        assert.equal(error.code, 'STORE_AUTH');
        assert.doesNotMatch(error.message, /not-the-password-123/);
        return true;
      });
      const noDb = new URL(POSTGRES_URL!);
      noDb.pathname = '/orgvault_no_such_database';
      await assert.rejects(openPostgresVaultStore({ url: noDb.toString(), keyring: newKeyring() }), { code: 'STORE_NO_DATABASE' });
    });

    test('two machines writing the catalog at once: one describe interval, one run, one step completion, mappings without deadlock', async () => {
      const location = freshStoreUrl();
      const keyring = newKeyring();
      const machines = await Promise.all([0, 1].map(() => openPostgresVaultStore({ url: location.url, keyring })));
      const both = <T>(times: number, fn: (store: VaultStore, i: number) => Promise<T>): Promise<PromiseSettledResult<T>[]> =>
        Promise.allSettled(machines.flatMap((store) => Array.from({ length: times }, (_, i) => fn(store, i))));
      const codes = (settled: PromiseSettledResult<unknown>[]): string[] => settled.flatMap((s) => (s.status === 'rejected' ? [String((s.reason as { code?: string }).code)] : []));
      const ORG = '00D000000000001AAA';
      const T = Date.UTC(2025, 0, 1);
      try {
        // One describe stored by many at once: one of them changes it, and one interval is open.
        const describe = { name: 'Account', fields: [{ name: 'Id', type: 'id' }] };
        const puts = await both(4, (store) => store.putSchema(ORG, 'Account', describe, T));
        assert.deepEqual(codes(puts), []);
        assert.equal(puts.filter((s) => s.status === 'fulfilled' && s.value.changed).length, 1);
        assert.equal((await machines[0]!.schemaHistory(ORG, 'Account')).length, 1);

        const runs = await both(3, (store) => store.createRun({ runId: 'run-1', orgId: ORG, kind: 'restore', status: 'Running', startedAt: T, endedAt: null, counters: {}, message: null, parameters: {} }));
        assert.deepEqual(codes(runs).sort(), Array(5).fill('RUN_EXISTS'));

        // A step begun and completed by two processes at once: one begins it, one completes it.
        const step = { runId: 'run-1', stepId: 's1', objectName: 'Account', action: 'create' as const, originalIds: ['001A'], startedAt: T, completedAt: null };
        assert.deepEqual(codes(await both(2, (store) => store.beginRestoreStep(step))).sort(), Array(3).fill('RESTORE_STEP_EXISTS'));
        const result = { objectName: 'Account', originalId: '001A', newId: '001B', outcome: 'Created' as const, statusCode: null, message: 'created ✓', stepId: 's1' };
        const completions = await both(2, (store, i) => store.completeRestoreStep('run-1', 's1', T + i, [result], ORG, [{ objectName: 'Account', oldId: '001A', newId: '001B', runId: 'run-1', createdAt: T }]));
        assert.deepEqual(codes(completions).sort(), Array(3).fill('RESTORE_STEP_COMPLETED'));
        assert.deepEqual(await machines[1]!.restoreResults('run-1'), [result]);

        // Overlapping mappings in opposite orders, and object states of new objects, from both at once.
        const ids = Array.from({ length: 300 }, (_, i) => `003${String(i).padStart(12, '0')}AAA`);
        const mappings = ids.map((oldId) => ({ objectName: 'Contact', oldId, newId: `${oldId}-new`, runId: 'run-1', createdAt: T }));
        const writes = await both(3, (store, i) => (i % 2 === 0 ? store.putIdMappings(ORG, mappings) : store.putIdMappings(ORG, [...mappings].reverse())));
        assert.deepEqual(codes(writes), []);
        assert.equal((await machines[0]!.resolveIds(ORG, ids)).size, ids.length);
        const state = { status: 'Backfilling' as const, watermark: null, backfilledAt: null, recordCount: 0, versionCount: 0, lastRunId: null, lastBackupAt: null, reason: null, statusCode: null, details: {} };
        const states = await both(4, (store, i) => store.putObjectState(ORG, { ...state, objectName: `Object${i % 2}__c` }));
        assert.deepEqual(codes(states), []);
        assert.deepEqual((await machines[0]!.getObjectStates(ORG)).map((s) => s.objectName), ['Object0__c', 'Object1__c']);
      } finally {
        for (const store of machines) await store.close();
        await location.drop();
      }
    });
  });
}
