// The VaultStore contract on a real PostgreSQL server (the machine's local one; see
// test/fixtures/postgres.ts), each store in a fresh schema, and what only PostgreSQL shows.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import pg from 'pg';
import type { Keyring } from '../../src/crypto/keys.ts';
import type { VaultStore } from '../../src/store/port.ts';
import { openPostgresVaultStore } from '../../src/store/postgres/index.ts';
import { newKeyring, vaultStoreContract } from '../contracts/vault-store.contract.ts';
import { POSTGRES_URL, freshStoreUrl, postgresSkip } from '../fixtures/postgres.ts';

const skip = postgresSkip();

/** Runs `fn` on a plain connection whose search path is `schema`. */
async function withSchema<T>(schema: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    await client.query(`SET search_path TO ${schema}`);
    return await fn(client);
  } finally {
    await client.end();
  }
}

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
  });
}
