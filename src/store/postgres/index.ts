/**
 * The vault's catalog on PostgreSQL: the same tables as the SQLite catalog (one schema, from
 * ../schema/migrations.ts), shared by any number of processes and machines. Record payloads live
 * in sealed packs as in SQLite; see connection.ts for the connection and schema rules, and each
 * module for its part of the VaultStore port.
 */
import type { Keyring } from '../../crypto/keys.ts';
import type { VaultStore } from '../port.ts';
import { PgConnections } from './connection.ts';
import { PgArchive } from './archive.ts';
import { PgCatalog } from './catalog.ts';
import { PgLocks } from './locks.ts';
import { PgRestoreJournal } from './restore-journal.ts';
import { PgTransfer } from './transfer.ts';
import { PgChangeCapture } from './change-capture.ts';
import { PgMetadata } from './metadata.ts';
import { PgNotifications } from './notifications.ts';
import { PgSchedules } from './schedules.ts';
import { PgUsers } from './users.ts';
import { PgRetention } from './retention.ts';
import { PgSearchIndex } from './search-index.ts';
import { PayloadPipeline } from '../payload-worker.ts';
import { PgVersions } from './versions.ts';

export { parsePgUrl } from './connection.ts';

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
  const users = new PgUsers(conns);
  const schedules = new PgSchedules(conns);
  const changeCapture = new PgChangeCapture(conns);
  const notifications = new PgNotifications(conns);
  const metadata = new PgMetadata(conns, options.keyring);
  const transfer = new PgTransfer(conns);
  const catalog = new PgCatalog(conns, options.keyring);
  const journal = new PgRestoreJournal(conns, options.keyring);
  const archive = new PgArchive(conns, options.keyring);
  const locks = new PgLocks(conns);
  const search = new PgSearchIndex(conns, options.keyring);
  const payloads = new PayloadPipeline(options.keyring.addressing);
  const versions = new PgVersions(conns, options.keyring, payloads);
  const retention = new PgRetention(conns, options.keyring, () => versions.clearCache());
  // MODULES: each part of the port is added here by its module (see the SQLite adapter's index.ts).
  return {
    ...bind(versions, ['versionAsOf', 'versionsOf', 'latestVersions', 'stateAsOf', 'findVersions', 'countVersions', 'headsOf', 'listPacks', 'checkPack', 'danglingVersions', 'storedVersionKeys']),
    // Not indexed as written: the search index catches up after a backup and before a search.
    writeVersions: (batch) => versions.writeVersions(batch),
    ...bind(catalog, [
      'putOrg',
      'getOrg',
      'listOrgs',
      'removeOrg',
      'putSchema',
      'getSchema',
      'schemaHistory',
      'putFile',
      'filesOf',
      'countFiles',
      'referencedAddresses',
      'filesReferencing',
      'createRun',
      'updateRun',
      'getRun',
      'listRuns',
      'putObjectRun',
      'listObjectRuns',
      'getObjectStates',
      'getObjectState',
      'putObjectState',
      'putIdMappings',
      'resolveId',
      'resolveIds',
      'appendAudit',
      'listAudit',
    ]),
    ...bind(journal, ['beginRestoreStep', 'completeRestoreStep', 'restoreSteps', 'restoreResults']),
    ...bind(archive, ['beginArchiveStep', 'completeArchiveStep', 'archiveSteps', 'archiveResults', 'archivedRecords', 'countArchived', 'archivedIds']),
    ...bind(search, ['catchUpSearchIndex', 'openSearchCandidates', 'searchCandidates', 'searchIndexStats']),
    ...bind(retention, ['recordChains', 'forgetVersions', 'packUsage', 'repackPacks', 'purgeRecords', 'syncCatalog', 'catalogSize', 'compactCatalog']),
    acquireOrgLock: locks.acquireOrgLock.bind(locks),
    acquireVaultLock: locks.acquireVaultLock.bind(locks),
    ...bind(transfer, ['catalogTables', 'readCatalogRows', 'writeCatalogRows', 'finishCatalogImport']),
    ...bind(schedules, ['putSchedule', 'getSchedule', 'listSchedules', 'removeSchedule', 'getScheduleState', 'claimScheduleSlot', 'updateScheduleState']),
    ...bind(users, ['putUser', 'getUser', 'listUsers', 'removeUser', 'putSession', 'getSession', 'deleteSessions', 'putApiToken', 'getApiToken', 'listApiTokens', 'removeApiToken']),
    ...bind(changeCapture, ['getStreamStates', 'putStreamState', 'putRecoveryPoint', 'getRecoveryPoint', 'listRecoveryPoints']),
    ...bind(notifications, ['putNotificationChannel', 'removeNotificationChannel', 'notificationChannels', 'appendNotificationLog', 'listNotificationLog']),
    ...bind(metadata, ['writeMetadataVersions', 'completeMetadataRun', 'metadataHeads', 'metadataHistory', 'readMetadataFiles', 'metadataRuns', 'metadataChains', 'forgetMetadataVersions']),
    close: async () => {
      await locks.releaseAll();
      await conns.close();
      await payloads.close();
    },
  } as VaultStore;
}
