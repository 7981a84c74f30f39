/**
 * The vault's catalog on PostgreSQL: the same tables as the SQLite catalog (one schema, from
 * ../schema/migrations.ts), shared by any number of processes and machines. Record payloads live
 * in sealed packs as in SQLite; see connection.ts for the connection and schema rules, and each
 * module for its part of the VaultStore port.
 */
import type { Keyring } from '../../crypto/keys.ts';
import type { VaultStore } from '../port.ts';
import { PgConnections } from './connection.ts';

export { parsePgUrl, redactPgUrl } from './connection.ts';

export interface PostgresVaultStoreOptions {
  /** `postgres://user@host:5432/database?schema=NAME` (see parsePgUrl). */
  url: string;
  keyring: Keyring;
  /** Open for reading only: every write fails, and nothing is created or migrated. */
  readonly?: boolean;
}

/**
 * Opens (creating or migrating if needed) the catalog in the URL's schema. Sealed values are read
 * with `keyring`; a store opened with another vault's keyring opens, but reading any sealed value
 * raises IntegrityError and changes nothing.
 */
export async function openPostgresVaultStore(options: PostgresVaultStoreOptions): Promise<VaultStore> {
  const conns = await PgConnections.open(options.url, { readonly: options.readonly });
  const bind = <T extends object, K extends keyof T>(target: T, keys: readonly K[]): Pick<T, K> => {
    const out = {} as Pick<T, K>;
    for (const key of keys) {
      const member = target[key];
      out[key] = (typeof member === 'function' ? member.bind(target) : member) as T[K];
    }
    return out;
  };
  // MODULES: each part of the port is added here by its module (see the SQLite adapter's index.ts).
  return {
    close: async () => {
      await conns.close();
    },
  } as VaultStore;
}
