/**
 * The vault's catalog on SQLite: one file (plus its WAL) holding orgs, record versions in sealed
 * packs, describes, the file catalog, runs, object state, ID mappings, the restore and archive
 * journals and archive marks, local users with their sessions and API tokens, the audit log and
 * locks. See migrations.ts for the
 * tables, versions.ts for the ordering rules of a batch write and connection.ts for what is
 * durable when.
 */
import type { Keyring } from '../../crypto/keys.ts';
import type { VaultStore } from '../port.ts';
import { SqliteArchive } from './archive.ts';
import { SqliteCatalog } from './catalog.ts';
import { SqliteChangeCapture } from './change-capture.ts';
import { Connections } from './connection.ts';
import { SqliteLocks } from './locks.ts';
import { SqliteMetadata } from './metadata.ts';
import { SqliteNotifications } from './notifications.ts';
import { PayloadPipeline } from '../payload-worker.ts';
import { SqliteRestoreJournal } from './restore-journal.ts';
import { SqliteRetention } from './retention.ts';
import type { SearchIndexHooks } from './search-index.ts';
import { SqliteSearchIndex } from './search-index.ts';
import { SqliteSchedules } from './schedules.ts';
import { SqliteTransfer } from './transfer.ts';
import { SqliteUsers } from './users.ts';
import type { WriteHooks } from './versions.ts';
import { SqliteVersions } from './versions.ts';

export type { WriteHooks, WriteStep } from './versions.ts';

export interface SqliteVaultStoreOptions {
  /** The catalog file; created (with its tables) unless `readonly`. */
  path: string;
  keyring: Keyring;
  /** Open for reading only: every write throws, and nothing is created or migrated. */
  readonly?: boolean;
  /** For crash tests only: called at each step of a batch write and of its indexing. */
  testHooks?: WriteHooks & SearchIndexHooks;
}

/**
 * Opens (creating or migrating if needed) the SQLite catalog at `path`. Record payloads,
 * describes, run parameters and restore messages are sealed with `keyring`; a store opened with
 * another vault's keyring opens, but reading any sealed value raises IntegrityError and changes
 * nothing.
 */
export async function openSqliteVaultStore(options: SqliteVaultStoreOptions): Promise<VaultStore> {
  const conns = new Connections(options.path, options.readonly ?? false);
  // With the index key: the payload worker also cuts the search index's tokens (search-index.ts).
  const payloads = new PayloadPipeline(options.keyring.addressing, options.keyring.indexing);
  const versions = new SqliteVersions(conns, options.keyring, payloads, options.testHooks);
  const catalog = new SqliteCatalog(conns, options.keyring);
  const journal = new SqliteRestoreJournal(conns, options.keyring);
  const archive = new SqliteArchive(conns, options.keyring);
  const users = new SqliteUsers(conns);
  const schedules = new SqliteSchedules(conns);
  const locks = new SqliteLocks(conns);
  const retention = new SqliteRetention(conns, options.keyring, () => versions.clearCache());
  const search = new SqliteSearchIndex(conns, options.keyring, payloads, options.testHooks);
  const changeCapture = new SqliteChangeCapture(conns);
  const notifications = new SqliteNotifications(conns);
  const metadata = new SqliteMetadata(conns, options.keyring);
  const transfer = new SqliteTransfer(conns);
  const bind = <T extends object, K extends keyof T>(target: T, keys: readonly K[]): Pick<T, K> => {
    const out = {} as Pick<T, K>;
    for (const key of keys) {
      const member = target[key];
      out[key] = (typeof member === 'function' ? member.bind(target) : member) as T[K];
    }
    return out;
  };
  return {
    // Not indexed as written: the search index catches up after a backup and before a search.
    ...bind(versions, ['writeVersions', 'versionAsOf', 'versionsOf', 'latestVersions', 'stateAsOf', 'findVersions', 'countVersions', 'headsOf', 'listPacks', 'checkPack', 'danglingVersions']),
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
    ...bind(schedules, ['putSchedule', 'getSchedule', 'listSchedules', 'removeSchedule', 'getScheduleState', 'claimScheduleSlot', 'updateScheduleState']),
    ...bind(users, ['putUser', 'getUser', 'listUsers', 'removeUser', 'putSession', 'getSession', 'deleteSessions', 'putApiToken', 'getApiToken', 'listApiTokens', 'removeApiToken']),
    ...bind(search, ['catchUpSearchIndex', 'openSearchCandidates', 'searchCandidates', 'searchIndexStats']),
    ...bind(changeCapture, ['getStreamStates', 'putStreamState', 'storedVersionKeys', 'putRecoveryPoint', 'getRecoveryPoint', 'listRecoveryPoints']),
    ...bind(notifications, ['putNotificationChannel', 'removeNotificationChannel', 'notificationChannels', 'appendNotificationLog', 'listNotificationLog']),
    ...bind(transfer, ['catalogTables', 'readCatalogRows', 'writeCatalogRows', 'finishCatalogImport']),
    ...bind(metadata, ['writeMetadataVersions', 'completeMetadataRun', 'metadataHeads', 'metadataHistory', 'readMetadataFiles', 'metadataRuns', 'metadataChains', 'forgetMetadataVersions']),
    acquireOrgLock: locks.acquireOrgLock.bind(locks),
    acquireVaultLock: locks.acquireVaultLock.bind(locks),
    ...bind(retention, ['recordChains', 'forgetVersions', 'packUsage', 'repackPacks', 'purgeRecords', 'syncCatalog', 'catalogSize', 'compactCatalog']),
    close: async () => {
      await locks.releaseAll();
      await conns.close();
      await payloads.close();
    },
  };
}
