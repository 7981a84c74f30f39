/**
 * The vault's ports. Use cases depend on these small interfaces only; adapters (`sqlite/`, later
 * `postgres/`; blobs in `fs/`, later `s3/`) implement them and pass the same contract suites in
 * test/contracts/. Every method is async so that a network database fits the same shape.
 *
 * Record payloads and secrets are sealed inside the store with the vault's keyring; IDs, object
 * names and timestamps stay in clear for indexing. Field values never do.
 */
import { OrgvaultError } from '../core/errors.ts';
import type {
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

/** The whole catalog port. An adapter implements all of it; use cases ask for the parts they use. */
export interface VaultStore
  extends OrgCatalog,
    VersionStore,
    SchemaStore,
    FileCatalog,
    RunLog,
    ObjectStateStore,
    IdMappingStore,
    RestoreJournal,
    UserStore,
    AuditLog,
    LockManager,
    PackReader {
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
}

/** Another process holds an org's writer lock. */
export class LockHeldError extends OrgvaultError {
  constructor(
    readonly orgId: string,
    readonly holder: string,
    readonly since: number,
  ) {
    super('LOCK_HELD', `Another orgvault process (${holder}) is writing to org ${orgId} since ${new Date(since).toISOString()}; try again when it finishes.`);
  }
}
