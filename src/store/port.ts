/**
 * The vault's ports. Use cases depend on these small interfaces only; adapters (`sqlite/`, later
 * `postgres/`; blobs in `fs/`, later `s3/`) implement them and pass the same contract suites in
 * test/contracts/. Every method is async so that a network database fits the same shape.
 *
 * Record payloads and secrets are sealed inside the store with the vault's keyring; IDs, object
 * names and timestamps stay in clear for indexing. Field values never do.
 */
import { OrgvaultError } from '../core/errors.ts';
import { IntegrityError } from '../crypto/errors.ts';
import type {
  ArchiveResult,
  ArchiveStep,
  ArchivedRecord,
  AuditEntry,
  FileRef,
  IdMapping,
  ObjectRun,
  ObjectState,
  OrgRegistration,
  RecordVersion,
  RestoreResult,
  RestoreStep,
  Run,
  SchemaVersion,
  VersionInput,
  Watermark,
} from '../core/vault.ts';
import type { ApiTokenRecord, SessionRecord, UserRecord } from '../core/users.ts';
import type { MetadataComponentVersion, MetadataFiles, MetadataRunSummary, MetadataVersionInput } from '../core/metadata.ts';
import type { NotificationEventKind } from '../core/notifications.ts';

export interface OrgCatalog {
  putOrg(org: OrgRegistration): Promise<void>;
  getOrg(name: string): Promise<OrgRegistration | undefined>;
  listOrgs(): Promise<OrgRegistration[]>;
  /** Removes the registration only; backed-up data stays until purged. */
  removeOrg(name: string): Promise<boolean>;
}

/** A batch of versions of one object from one run, written atomically with the watermark. */
export interface VersionBatch {
  orgId: string;
  objectName: string;
  runId: string;
  capturedAt: number;
  schemaId: string | null;
  versions: VersionInput[];
  /** Moved in the same transaction as the versions, never past unsaved data. */
  watermark?: Watermark;
}

export interface WriteOutcome {
  /** Versions stored. */
  written: number;
  /** Versions already in the vault (same record, SystemModstamp and fields): skipped. */
  duplicates: number;
  /** Stored versions whose fields equal the previous version's: no second copy of the payload. */
  deduplicated: number;
  /** Records seen for the first time. */
  newRecords: number;
}

export interface VersionQuery {
  orgId: string;
  objectName: string;
  /** Only versions with SystemModstamp (or capture time, with `by: 'capturedAt'`) in [from, to]. */
  from?: number;
  to?: number;
  by?: 'systemModstamp' | 'capturedAt';
  changeTypes?: readonly string[];
  recordIds?: readonly string[];
  lastModifiedById?: string;
}

export interface VersionStore {
  /**
   * Stores a batch in one transaction: versions that are already present are skipped, payloads
   * equal to the record's previous version are not stored twice, and the object's watermark moves
   * only with the data it covers.
   */
  writeVersions(batch: VersionBatch): Promise<WriteOutcome>;
  /** The version of a record current at `at` (the latest with SystemModstamp ≤ at). */
  versionAsOf(orgId: string, objectName: string, recordId: string, at: number): Promise<RecordVersion | undefined>;
  /** Every version of a record, newest first. */
  versionsOf(orgId: string, recordId: string): Promise<RecordVersion[]>;
  /** The latest version of every record of an object (deleted ones with `includeDeleted`), by record ID. */
  latestVersions(orgId: string, objectName: string, options?: { includeDeleted?: boolean }): AsyncIterable<RecordVersion>;
  /** Every record of an object as it was at `at`: its latest version with SystemModstamp ≤ at. */
  stateAsOf(orgId: string, objectName: string, at: number, options?: { includeDeleted?: boolean }): AsyncIterable<RecordVersion>;
  /** Versions matching a query, in (SystemModstamp, seq) order: "what changed between T1 and T2". */
  findVersions(query: VersionQuery): AsyncIterable<RecordVersion>;
  countVersions(orgId: string, objectName?: string): Promise<{ records: number; versions: number }>;
  /**
   * The latest stored version's SystemModstamp and deletion state of each given record that the
   * vault holds: what a capture needs to tell an update from an undelete, without reading payloads.
   */
  headsOf(orgId: string, objectName: string, recordIds: readonly string[]): Promise<Map<string, RecordHead>>;
}

/** The latest stored version of a record, without its fields. */
export interface RecordHead {
  systemModstamp: number;
  isDeleted: boolean;
}

export interface SchemaStore {
  /** Stores a describe if it differs from the current one; returns its content address. */
  putSchema(orgId: string, objectName: string, describe: unknown, at: number): Promise<{ schemaId: string; changed: boolean }>;
  getSchema(orgId: string, schemaId: string): Promise<unknown>;
  schemaHistory(orgId: string, objectName: string): Promise<SchemaVersion[]>;
}

export interface FileCatalog {
  putFile(orgId: string, file: FileRef): Promise<void>;
  filesOf(orgId: string, recordId: string): Promise<FileRef[]>;
  /** How many file versions an org's records hold and their total size (shared bodies counted each time). */
  countFiles(orgId: string): Promise<{ files: number; bytes: number }>;
  /** Every blob address the catalog refers to, for verify and prune. */
  referencedAddresses(): AsyncIterable<string>;
  /** The files that refer to one address, so that a missing or damaged blob names its records. */
  filesReferencing(address: string): AsyncIterable<{ orgId: string; file: FileRef }>;
}

export interface RunLog {
  createRun(run: Run): Promise<void>;
  updateRun(runId: string, patch: Partial<Omit<Run, 'runId'>>): Promise<void>;
  getRun(runId: string): Promise<Run | undefined>;
  listRuns(options?: { orgId?: string; kind?: Run['kind']; limit?: number }): Promise<Run[]>;
  putObjectRun(objectRun: ObjectRun): Promise<void>;
  listObjectRuns(runId: string): Promise<ObjectRun[]>;
}

export interface ObjectStateStore {
  getObjectStates(orgId: string): Promise<ObjectState[]>;
  getObjectState(orgId: string, objectName: string): Promise<ObjectState | undefined>;
  putObjectState(orgId: string, state: ObjectState): Promise<void>;
}

export interface IdMappingStore {
  putIdMappings(orgId: string, mappings: IdMapping[]): Promise<void>;
  /** The newest ID created for an old one (following chains of restores), if any. */
  resolveId(orgId: string, oldId: string): Promise<string | undefined>;
  /** resolveId for many IDs at once: only those with a mapping are in the answer. */
  resolveIds(orgId: string, oldIds: readonly string[]): Promise<Map<string, string>>;
}

/** Per-record journal of restores: what a restore is about to write, and what each write did. */
export interface RestoreJournal {
  /** Durably records a step before its writes are sent. */
  beginRestoreStep(step: RestoreStep): Promise<void>;
  /**
   * In one durable transaction: the step's results, the ID mappings of the records it created
   * (under `mappingScope`, as putIdMappings), and the step marked completed.
   */
  completeRestoreStep(runId: string, stepId: string, completedAt: number, results: RestoreResult[], mappingScope: string, mappings: IdMapping[]): Promise<void>;
  /** The run's steps in the order they were begun. */
  restoreSteps(runId: string): Promise<RestoreStep[]>;
  /** The run's results in the order they were stored. */
  restoreResults(runId: string): Promise<RestoreResult[]>;
}

/**
 * The archive journal (steps journaled before their deletes are sent, completed with per-record
 * results) and the marks of archived records, which search, history and status read.
 */
export interface ArchiveStore {
  /** Durably records a step before its deletes are sent. */
  beginArchiveStep(step: ArchiveStep): Promise<void>;
  /**
   * In one durable transaction: the step's results, an archive mark for each `Deleted` one (under
   * `orgId`, replacing an older mark of the record), and the step marked completed.
   */
  completeArchiveStep(orgId: string, runId: string, stepId: string, completedAt: number, results: ArchiveResult[]): Promise<void>;
  /** The run's steps in the order they were begun. */
  archiveSteps(runId: string): Promise<ArchiveStep[]>;
  /** The run's results in the order they were stored. */
  archiveResults(runId: string): Promise<ArchiveResult[]>;
  /** The marks of those of `recordIds` an archive deleted (restored ones included, flagged). */
  archivedRecords(orgId: string, recordIds: readonly string[]): Promise<Map<string, ArchivedRecord>>;
  /** Records archived and not restored since, per object. */
  countArchived(orgId: string): Promise<Map<string, number>>;
  /** IDs of the records archived (by one run, of one object), in ID order; restored ones only when asked. */
  archivedIds(orgId: string, filter?: { objectName?: string; runId?: string; includeRestored?: boolean }): Promise<string[]>;
}

/** Local users of the HTTP API, their browser sessions and API tokens (secrets stored hashed). */
export interface UserStore {
  /** Adds a user, or replaces the one of that name. */
  putUser(user: UserRecord): Promise<void>;
  getUser(name: string): Promise<UserRecord | undefined>;
  listUsers(): Promise<UserRecord[]>;
  /** Removes the user with its sessions and tokens. */
  removeUser(name: string): Promise<boolean>;
  putSession(session: SessionRecord): Promise<void>;
  getSession(idHash: string): Promise<SessionRecord | undefined>;
  /** Deletes one session, or every session of a user. */
  deleteSessions(match: { idHash: string } | { userName: string }): Promise<number>;
  putApiToken(token: ApiTokenRecord): Promise<void>;
  getApiToken(id: string): Promise<ApiTokenRecord | undefined>;
  listApiTokens(userName?: string): Promise<ApiTokenRecord[]>;
  removeApiToken(id: string): Promise<boolean>;
}

export interface AuditLog {
  appendAudit(entry: AuditEntry): Promise<void>;
  listAudit(options?: { limit?: number }): Promise<AuditEntry[]>;
}

/** Where a notification goes: an SMTP server, a JSON webhook, or a Slack incoming webhook. */
export type NotificationChannelType = 'email' | 'webhook' | 'slack';

/**
 * One of an org's notification channels. Its settings are sealed by src/notify (an SMTP password
 * and a webhook URL are secrets); its name, type and chosen events stay in clear.
 */
export interface NotificationChannelRecord {
  orgId: string;
  name: string;
  type: NotificationChannelType;
  events: NotificationEventKind[];
  enabled: boolean;
  sealedConfig: Uint8Array;
  updatedAt: number;
}

/** One notification sent (or tried): never a secret nor a field value. */
export interface NotificationLogEntry {
  at: number;
  orgId: string | null;
  orgName: string;
  eventKind: NotificationEventKind | 'test';
  runId: string | null;
  channel: string;
  channelType: NotificationChannelType;
  outcome: 'sent' | 'failed';
  error: string | null;
  attempts: number;
  durationMs: number;
}

/** Orgs' notification channels and the log of what was sent. */
export interface NotificationStore {
  /** Creates or replaces the channel of that org and name. */
  putNotificationChannel(channel: NotificationChannelRecord): Promise<void>;
  removeNotificationChannel(orgId: string, name: string): Promise<boolean>;
  /** The org's channels, by name. */
  notificationChannels(orgId: string): Promise<NotificationChannelRecord[]>;
  appendNotificationLog(entry: NotificationLogEntry): Promise<void>;
  /** Newest first. */
  listNotificationLog(options?: { orgId?: string; limit?: number }): Promise<NotificationLogEntry[]>;
}

/** A held writer lock; heartbeats keep it from being taken over as stale. */
export interface OrgLock {
  readonly owner: string;
  heartbeat(): Promise<void>;
  release(): Promise<void>;
}

export interface LockManager {
  /**
   * Takes the one-writer-per-org lock, or throws LockHeldError naming the holder. A lock whose
   * holder stopped heartbeating for `staleAfterMs` (a crashed process) is taken over.
   */
  acquireOrgLock(orgId: string, owner: string, options?: { staleAfterMs?: number }): Promise<OrgLock>;
  /**
   * Takes the vault's exclusive lock (prune, purge): refused (LockHeldError) while any org's writer
   * lock is held or another process holds it; while it is held, acquireOrgLock refuses. Readers
   * never take it.
   */
  acquireVaultLock(owner: string, options?: { staleAfterMs?: number }): Promise<OrgLock>;
}

/** Raw access to sealed record packs, for `verify --read-data`. */
export interface PackReader {
  /** IDs of every stored pack; with a slice, only the n-th of m deterministic slices (1-based). */
  listPacks(slice?: { n: number; m: number }): AsyncIterable<string>;
  /** Opens a pack and checks every payload in it against its recorded hash; throws IntegrityError naming it. */
  checkPack(packId: string): Promise<{ payloads: number }>;
  /** Version rows whose pack is missing. */
  danglingVersions(): Promise<number>;
}

/** A version in a record's chain, without its fields: what a retention policy is evaluated on. */
export interface ChainVersion {
  seq: number;
  systemModstamp: number;
  isDeleted: boolean;
}

/** A file version of a record, without its name: what the file rule of a retention policy sees. */
export interface ChainFile {
  field: string;
  systemModstamp: number;
  address: string;
  size: number;
}

/** A record's history as retention sees it. */
export interface RecordChain {
  recordId: string;
  /** Newest first, in chain order (the first is the head, the record's latest version). */
  versions: ChainVersion[];
  /** Every file version stored for the record, in no particular order. */
  files: ChainFile[];
}

/** What `forget` removes from one record. */
export interface ForgetRecord {
  recordId: string;
  /** The head the decision was made against: a record whose head moved since is left alone. */
  headSeq: number;
  /** Every version and file of the record goes (a deleted record past its keep period). */
  wholeRecord: boolean;
  /** Versions to remove; the head never is, unless `wholeRecord`. */
  seqs: readonly number[];
  /** File versions to remove. */
  files: readonly { field: string; systemModstamp: number }[];
}

export interface ForgetOutcome {
  versions: number;
  records: number;
  files: number;
  /** Records left alone because they changed after the decision was made. */
  skipped: number;
}

/** How full the packs are: what a repack would rewrite and drop. */
export interface PackUsage {
  packs: number;
  /** Packs no version refers to any more: deleted whole. */
  emptyPacks: number;
  /** Packs some of whose payloads nothing refers to: rewritten. */
  partialPacks: number;
  payloads: number;
  unusedPayloads: number;
  /** Sealed bytes of the empty packs, plus the unused share of the partial ones (an estimate). */
  reclaimableBytes: number;
}

export interface RepackOutcome {
  packsBefore: number;
  packsAfter: number;
  packsDeleted: number;
  packsRewritten: number;
  packsWritten: number;
  payloadsMoved: number;
  payloadsDropped: number;
  sealedBytesBefore: number;
  sealedBytesAfter: number;
  /** Packs left as they were because they do not open or do not match their hashes (see verify). */
  damagedPacks: string[];
}

export interface PurgeOutcome {
  records: number;
  versions: number;
  files: number;
  /** Blob addresses the purged files used that no file row refers to any more: to delete. */
  orphanedAddresses: string[];
  idMappings: number;
  /** Restore and archive results whose sealed message (which may quote values) was erased. */
  messagesErased: number;
  searchEntries: number;
  archiveMarks: number;
  repack: RepackOutcome;
}

/** The size of the catalog, in bytes of pages. */
export interface CatalogSize {
  bytes: number;
  freeBytes: number;
}

/**
 * What retention (`forget`), `prune` and `purge` need of the catalog. Removal keeps the vault
 * consistent: chains re-linked, heads and counts right, packs rewritten so that sealed bytes
 * nothing refers to are really gone.
 */
export interface RetentionStore {
  /** An object's records with their chains and files, in pages, in record ID order (only `recordIds` when given). */
  recordChains(orgId: string, objectName: string, options?: { recordIds?: readonly string[] }): AsyncIterable<RecordChain[]>;
  /** Removes versions and file versions of records in one transaction, re-linking chains and updating heads and counts. */
  forgetVersions(orgId: string, objectName: string, records: readonly ForgetRecord[]): Promise<ForgetOutcome>;
  packUsage(): Promise<PackUsage>;
  /**
   * Rewrites every pack holding payloads nothing refers to: the referenced payloads are copied
   * into new packs and their versions and heads re-pointed, the old packs deleted, in one
   * transaction per group of packs. With `secureDelete`, SQLite overwrites what it frees.
   */
  repackPacks(options?: { secureDelete?: boolean; onProgress?: (packsDone: number) => void }): Promise<RepackOutcome>;
  /**
   * Removes every trace of records in one durable transaction with SQLite's secure_delete: versions,
   * heads, file rows, ID mappings naming them, search entries and archive marks, and the messages
   * of restore and archive results about them; the packs that held their payloads are rewritten.
   */
  purgeRecords(orgId: string, objectName: string, recordIds: readonly string[]): Promise<PurgeOutcome>;
  /** Makes every commit so far durable: before deleting what the catalog no longer refers to. */
  syncCatalog(): Promise<void>;
  catalogSize(): Promise<CatalogSize>;
  /**
   * Gives freed pages back to the filesystem: `PRAGMA incremental_vacuum` (the first time, a
   * VACUUM switches the catalog to incremental auto-vacuum), or with `full` a VACUUM that rewrites
   * every page; then a WAL checkpoint. Returns the sizes before and after.
   */
  compactCatalog(options?: { full?: boolean }): Promise<{ before: CatalogSize; after: CatalogSize; vacuumed: boolean; walPending: boolean }>;
}

/** A record that may match a search: the index holds every term's token for it (in some version). */
export interface SearchCandidate {
  objectName: string;
  recordId: string;
  /** The SystemModstamp of the record's latest version. */
  headModstamp: number;
  /** Whether the record's latest version is a delete. */
  isDeleted: boolean;
}

export interface SearchCandidateQuery {
  orgId: string;
  /** Every term must be in the record; a term is satisfied by any of its tokens (src/core/search-text.ts). */
  terms: readonly (readonly string[])[];
  /** Only these objects (API names as stored); all when absent. */
  objectNames?: readonly string[];
  /** Only records whose latest version is a delete. */
  deletedOnly?: boolean;
  /** Only records whose latest version is at or after this SystemModstamp. */
  modifiedFrom?: number;
}

export interface SearchCandidates {
  /** Records whose index entries hold every term, before the filters. */
  count: number;
  /** Those that pass the filters, latest first, read as they are consumed. */
  candidates: AsyncIterable<SearchCandidate>;
}

export interface SearchIndexStats {
  /** Records in the index. */
  records: number;
  /** Versions written but not yet indexed (a crash, or a vault from before the index). */
  pendingVersions: number;
}

/**
 * The keyed blind index of search tokens: per record, the keyed hash of every token any of its
 * versions held, never the token. writeVersions does not index (indexing costs more than the
 * write): catchUpSearchIndex indexes every version written since, which a backup runs at its end,
 * and openSearchCandidates runs it first, so a search covers every version written before it.
 */
export interface SearchIndex {
  /** Indexes every version not yet indexed, in chunks of one transaction each; returns how many. */
  catchUpSearchIndex(options?: { onProgress?: (done: number, total: number) => void }): Promise<{ versions: number }>;
  /**
   * The records of an org that may match, latest first (by their latest version's SystemModstamp),
   * read as they are consumed: a search that stops after its results reads no further. Catches
   * the index up first (SEARCH_INDEX_BEHIND on a read-only vault with versions not yet indexed).
   */
  openSearchCandidates(query: SearchCandidateQuery): Promise<SearchCandidates>;
  /** Every candidate at once, latest first (openSearchCandidates, read to the end). */
  searchCandidates(query: SearchCandidateQuery): Promise<SearchCandidate[]>;
  searchIndexStats(): Promise<SearchIndexStats>;
}

/** When a scheduled job runs (see src/schedule/rule.ts). Times of day are minutes since local midnight. */
export type ScheduleRule =
  | { kind: 'daily'; minute: number }
  /** N jobs a day spread evenly from a start time. */
  | { kind: 'per-day'; times: number; startMinute: number }
  /** A scan every few minutes (at least hourly), offset within the interval so that orgs spread out. */
  | { kind: 'continuous'; everyMinutes: number; offsetMinutes: number }
  | { kind: 'cron'; expression: string }
  /** From a start instant, every N days or months of the calendar (the permission check: monthly). */
  | { kind: 'interval'; start: number; every: number; unit: 'days' | 'months' };

/** What a schedule starts: a backup, or a check of the API user's permissions. */
export type ScheduledJob = 'backup' | 'permissions';

/** An org's schedule for one kind of job. */
export interface ScheduleRecord {
  orgName: string;
  job: ScheduledJob;
  rule: ScheduleRule;
  /** IANA time zone the rule's wall times are read in. */
  timeZone: string;
  /** Backups: days after which the next job is a fresh full baseline (null: the default, a year). */
  cycleDays: number | null;
  /** Backups: only these objects (API names); all when null. */
  objects: string[] | null;
  setAt: number;
  setBy: string;
}

/** What the scheduler remembers of a schedule across restarts. */
export interface ScheduleStateRecord {
  orgName: string;
  job: ScheduledJob;
  /** The last slot handled (run or skipped): a slot is never handled twice. */
  lastSlot: number | null;
  lastRunId: string | null;
  lastStatus: Run['status'] | null;
  lastStartedAt: number | null;
  lastEndedAt: number | null;
  /** When the last job that completed (with or without object errors) started. */
  lastSuccessAt: number | null;
  /** When the current backup cycle's baseline ran. */
  cycleStartedAt: number | null;
  /** Why the last baseline ran, and when. */
  baselineReason: string | null;
  baselineAt: number | null;
  /** The org ID the org reported at the last completed backup: another one means a sandbox refresh. */
  orgIdSeen: string | null;
}

/** Schedules and their state. Slots are claimed atomically, so two schedulers on one vault never both run one. */
export interface ScheduleStore {
  /** Adds a schedule or replaces the org's schedule of that job; its state stays. */
  putSchedule(schedule: ScheduleRecord): Promise<void>;
  getSchedule(orgName: string, job: ScheduledJob): Promise<ScheduleRecord | undefined>;
  listSchedules(): Promise<ScheduleRecord[]>;
  /** Removes the schedule; its state stays (the backup cycle goes on if it is set again). */
  removeSchedule(orgName: string, job: ScheduledJob): Promise<boolean>;
  getScheduleState(orgName: string, job: ScheduledJob): Promise<ScheduleStateRecord | undefined>;
  /** Records `slot` as handled unless a slot at or after it already was; true when this caller claimed it. */
  claimScheduleSlot(orgName: string, job: ScheduledJob, slot: number): Promise<boolean>;
  /** Changes some of the state's fields (creating the state if needed). */
  updateScheduleState(orgName: string, job: ScheduledJob, patch: Partial<Omit<ScheduleStateRecord, 'orgName' | 'job' | 'lastSlot'>>): Promise<void>;
}

/** What the continuous capture (Change Data Capture) of one object has done, and where it resumes. */
export interface StreamObjectState {
  objectName: string;
  /** The channel subscribed to (`/data/AccountChangeEvent`). */
  channel: string;
  /** The replay ID whose versions, and every earlier event's, are committed; null before the first. */
  replayId: number | null;
  status: 'Subscribed' | 'CatchingUp' | 'Stopped' | 'Error';
  subscribedSince: number | null;
  /**
   * The stream has seen every change of the object from this time on (its first subscription, or
   * the scan that covered the hole after an expired replay ID); null when it never did.
   */
  coveredFrom: number | null;
  /** Every change committed before this time is stored (by the stream, or the scan it started). */
  coveredThrough: number | null;
  /** The commit time of the last event applied. */
  lastEventAt: number | null;
  eventsApplied: number;
  versionsWritten: number;
  /** Records read back from Salesforce because an event could not give a whole version. */
  recordsFetched: number;
  gaps: number;
  overflows: number;
  /** Times the stored replay ID had expired and a scan covered the hole. */
  replayExpired: number;
  /** A scan the stream needs (an expired replay ID, an overflow) has not finished yet. */
  scanPending?: boolean;
  message: string | null;
  updatedAt: number;
}

/** A named point in time for chosen objects, usable by restore and export (AvePoint's recovery point). */
export interface RecoveryPoint {
  id: string;
  orgId: string;
  name: string | null;
  /** The point in time (SystemModstamp scale, epoch ms). */
  at: number;
  createdAt: number;
  createdBy: string;
  objects: RecoveryPointObject[];
}

export interface RecoveryPointObject {
  objectName: string;
  /** Live records of the object at the point. */
  records: number;
  /** Until when the vault held every change of the object when the point was made. */
  coveredThrough: number | null;
  /** Whether the vault had every change up to the point; false points are kept with a warning. */
  complete: boolean;
}

/** Change Data Capture's bookkeeping: stream state per object, and recovery points. */
export interface ChangeCaptureStore {
  getStreamStates(orgId: string): Promise<StreamObjectState[]>;
  /** Durable: a stored replay ID is where the next start resumes. */
  putStreamState(orgId: string, state: StreamObjectState): Promise<void>;
  /**
   * Of the given (record, SystemModstamp) pairs, those the vault holds a version of (written by any
   * capture), as `recordId@systemModstamp` keys: what a scan confirming the stream asks.
   */
  storedVersionKeys(orgId: string, objectName: string, keys: readonly { recordId: string; systemModstamp: number }[]): Promise<Set<string>>;
  putRecoveryPoint(point: RecoveryPoint): Promise<void>;
  getRecoveryPoint(id: string): Promise<RecoveryPoint | undefined>;
  listRecoveryPoints(orgId: string): Promise<RecoveryPoint[]>;
}

export interface MetadataWriteOutcome {
  /** Component versions stored. */
  written: number;
  /** Versions equal to the component's head (same content and deletion state): not stored again. */
  unchanged: number;
  /** Contents stored for the first time (a version whose files the vault already held shares them). */
  newContents: number;
}

/** A metadata component's versions newest first: what retention evaluates. */
export interface MetadataChain {
  type: string;
  fullName: string;
  versions: { seq: number; capturedAt: number; deleted: boolean }[];
}

/** What `forget` removes of one metadata component. */
export interface MetadataForget {
  type: string;
  fullName: string;
  /** The head the decision was made against: a component whose head moved since is left alone. */
  headSeq: number;
  /** Versions to remove; the head only when every version goes (a deletion past its keep period). */
  seqs: readonly number[];
}

export interface MetadataForgetOutcome {
  versions: number;
  /** Contents no remaining version refers to, deleted with them. */
  contents: number;
  /** Components left alone because a capture stored a new version after the decision. */
  skipped: number;
}

/**
 * Metadata components' versions (migration 11). Files are stored once per content address (the
 * vault's keyed hash of their canonical JSON), sealed and bound to the org and address; type,
 * fullName, IDs and times stay in clear for listing.
 */
export interface MetadataStore {
  /**
   * Stores a run's component versions in one transaction; a version equal to its component's
   * head is skipped, so writing the same capture twice stores nothing the second time.
   */
  writeMetadataVersions(orgId: string, runId: string, capturedAt: number, versions: readonly MetadataVersionInput[]): Promise<MetadataWriteOutcome>;
  /** Records that a run's capture completed; its versions are then the heads "as of" the run. */
  completeMetadataRun(summary: MetadataRunSummary): Promise<void>;
  /**
   * Each component's latest version (deleted ones only with `includeDeleted`), by type then
   * fullName: now, as of a time (captured at or before `at`), or as of a completed run.
   */
  metadataHeads(orgId: string, options?: { at?: number; runId?: string; type?: string; includeDeleted?: boolean }): Promise<MetadataComponentVersion[]>;
  /** Every version of one component, newest first. */
  metadataHistory(orgId: string, type: string, fullName: string): Promise<MetadataComponentVersion[]>;
  /** A content's files, opened and checked against the address; undefined when not stored. */
  readMetadataFiles(orgId: string, contentId: string): Promise<MetadataFiles | undefined>;
  /** The org's completed metadata captures, newest first. */
  metadataRuns(orgId: string, options?: { limit?: number }): Promise<MetadataRunSummary[]>;
  /** Every component of the org with its versions newest first, by type then fullName. */
  metadataChains(orgId: string): Promise<MetadataChain[]>;
  /**
   * Removes the versions `forget` decided on, in one transaction, and the contents no version
   * of the org refers to any more. A completed run's "as of" view then shows, for a component
   * whose version of the time went, the newest version kept before it.
   */
  forgetMetadataVersions(orgId: string, removals: readonly MetadataForget[]): Promise<MetadataForgetOutcome>;
}

/** A catalog row as an engine returns it: numbers, text, byte strings (Buffer) and nulls. */
export type CatalogRow = Record<string, string | number | Buffer | null>;

/**
 * The catalog's tables row for row, for moving a vault between engines (`orgvault migrate`). Both
 * engines' tables come from one list of migrations (schema/migrations.ts) with the same columns,
 * and every sealed value is bound to IDs, never to the engine, so copied rows read the same.
 */
export interface CatalogTransfer {
  /** Each table of the catalog (schema_migrations aside) with its column names, sorted. */
  catalogTables(): Promise<Map<string, string[]>>;
  /** A table's rows, in pages of about `pageRows`. Run with the vault lock held, so that nothing moves. */
  readCatalogRows(table: string, pageRows: number): AsyncIterable<CatalogRow[]>;
  /** Inserts rows as they are, keys included. */
  writeCatalogRows(table: string, rows: readonly CatalogRow[]): Promise<void>;
  /** After an import: key generators continue after the largest key copied. */
  finishCatalogImport(): Promise<void>;
}

/** The whole catalog port. An adapter implements all of it; use cases ask for the parts they use. */
export interface VaultStore
  extends OrgCatalog,
    ChangeCaptureStore,
    VersionStore,
    SchemaStore,
    FileCatalog,
    RunLog,
    ObjectStateStore,
    IdMappingStore,
    RestoreJournal,
    ArchiveStore,
    UserStore,
    AuditLog,
    LockManager,
    PackReader,
    RetentionStore,
    SearchIndex,
    ScheduleStore,
    NotificationStore,
    MetadataStore,
    CatalogTransfer {
  close(): Promise<void>;
}

/** Content-addressed, write-once storage of sealed file bodies. */
export interface BlobStore {
  /**
   * Seals and stores a body streamed from `source` (never held whole in memory) and returns its
   * content address. A body already present is not stored twice. The body is durable when this
   * resolves.
   */
  put(source: AsyncIterable<Uint8Array>): Promise<{ address: string; size: number; stored: boolean }>;
  /** Streams a body back, authenticated chunk by chunk and re-hashed against its address. */
  get(address: string): AsyncIterable<Buffer>;
  has(address: string): Promise<boolean>;
  /** Every stored address, for verify (orphans) and prune. */
  list(): AsyncIterable<string>;
  delete(address: string): Promise<void>;
  /** The bytes a stored body takes (sealed), or undefined when it is not stored. */
  size(address: string): Promise<number | undefined>;
}

/** Another process holds an org's writer lock. */
export class LockHeldError extends OrgvaultError {
  constructor(
    readonly orgId: string,
    readonly holder: string,
    readonly since: number,
    message?: string,
  ) {
    super('LOCK_HELD', message ?? `Another orgvault process (${holder}) is writing to org ${orgId} since ${new Date(since).toISOString()}; try again when it finishes.`);
  }
}

/**
 * A pack is not in the catalog. Nothing else removes a pack row than prune (and purge) rewriting
 * it, so a pack listed moments ago and gone now was repacked, which verify must not call damage;
 * a version row left pointing at a missing pack is what `danglingVersions` finds.
 */
export class PackGoneError extends IntegrityError {
  constructor(readonly packId: string) {
    super(`pack ${packId} is not in the catalog.`);
  }
}
