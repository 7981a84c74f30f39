/**
 * The catalog schema of both engines, as numbered migrations: the one source of truth. Each is
 * applied once, in order, and recorded in `schema_migrations`; a migration is never edited once
 * released: a change is a new number, for both engines at once.
 *
 * `sql` is written for SQLite in a subset close to PostgreSQL: BIGINT for epoch milliseconds,
 * SMALLINT codes, row-value comparisons, partial indexes. `forDialect` derives PostgreSQL's text
 * from it by rule (the SQLite-only parts are `INTEGER PRIMARY KEY`, the rowid, which becomes an
 * identity column; `WITHOUT ROWID`, which PostgreSQL tables never have; BLOB, which is BYTEA).
 * Where the engines must differ (triggers, partitioning), a migration says what PostgreSQL runs
 * instead, beside the SQLite text, so both stay in one place and in one numbering.
 *
 * Record versions are append-only in `seq` order and each row points at the version before it of
 * the same record (`prev_seq`); `record_heads` holds each record's latest version. There is no
 * per-record index on the versions themselves in SQLite: when versions arrive in SystemModstamp
 * order their record IDs are random, and an index keyed by record would dirty one page per version
 * (measured: it halves bulk write speed). A record's history is its chain, walked from its head.
 */

export type SqlDialect = 'sqlite' | 'postgres';

export interface Migration {
  version: number;
  name: string;
  /** SQLite's text; also the source of PostgreSQL's unless `postgres` says otherwise. */
  sql: string;
  /**
   * PostgreSQL's text where it is not derived from `sql` by rule: the whole text, or a function
   * of the derived text (to replace one table's definition and keep the rest).
   */
  postgres?: string | ((derived: string) => string);
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'catalog',
    sql: `
CREATE TABLE orgs (
  name TEXT PRIMARY KEY,
  org_id TEXT NOT NULL,
  instance_url TEXT NOT NULL,
  login_url TEXT NOT NULL,
  sealed_auth BLOB NOT NULL,
  created_at BIGINT NOT NULL,
  settings TEXT NOT NULL
);

-- One row per (org, object): a small key for the version tables, and what moves with the data:
-- counts and the watermark, written in the same transaction as the versions they cover.
CREATE TABLE objects (
  object_key INTEGER PRIMARY KEY,
  org_id TEXT NOT NULL,
  name TEXT NOT NULL,
  record_count BIGINT NOT NULL DEFAULT 0,
  version_count BIGINT NOT NULL DEFAULT 0,
  watermark_modstamp BIGINT,
  watermark_record_id TEXT,
  UNIQUE (org_id, name)
);

-- What the backup says about an object: status, reasons, times.
CREATE TABLE object_state (
  object_key INTEGER PRIMARY KEY REFERENCES objects (object_key),
  status TEXT NOT NULL,
  backfilled_at BIGINT,
  last_run_id TEXT,
  last_backup_at BIGINT,
  reason TEXT,
  status_code TEXT
);

-- One row per writeVersions batch: what its versions share (run, capture time, describe).
CREATE TABLE batches (
  batch_key INTEGER PRIMARY KEY AUTOINCREMENT,
  object_key INTEGER NOT NULL,
  run_id TEXT NOT NULL,
  captured_at BIGINT NOT NULL,
  schema_id TEXT,
  first_seq BIGINT NOT NULL,
  last_seq BIGINT NOT NULL
);
CREATE INDEX batches_captured ON batches (object_key, captured_at, batch_key);

CREATE TABLE record_versions (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  object_key INTEGER NOT NULL,
  record_id TEXT NOT NULL,
  system_modstamp BIGINT NOT NULL,
  prev_seq BIGINT,
  batch_key BIGINT NOT NULL,
  change_type SMALLINT NOT NULL,
  is_deleted SMALLINT NOT NULL,
  last_modified_by_id TEXT,
  pack_key BIGINT NOT NULL,
  slot INTEGER NOT NULL
);
-- "What changed between T1 and T2"; appended to in SystemModstamp order by incremental runs.
CREATE INDEX record_versions_modstamp ON record_versions (object_key, system_modstamp, seq);

CREATE TABLE record_heads (
  object_key INTEGER NOT NULL,
  record_id TEXT NOT NULL,
  seq BIGINT NOT NULL,
  system_modstamp BIGINT NOT NULL,
  is_deleted SMALLINT NOT NULL,
  pack_key BIGINT NOT NULL,
  slot INTEGER NOT NULL,
  payload_hash BLOB NOT NULL,
  PRIMARY KEY (object_key, record_id)
) WITHOUT ROWID;
CREATE INDEX record_heads_record ON record_heads (record_id);

-- Sealed packs of payloads, and the keyed hash of every payload in slot order (32 bytes each).
CREATE TABLE packs (
  pack_key INTEGER PRIMARY KEY AUTOINCREMENT,
  pack_id TEXT NOT NULL UNIQUE,
  payloads INTEGER NOT NULL,
  payload_hashes BLOB NOT NULL,
  sealed BLOB NOT NULL,
  created_at BIGINT NOT NULL
);

-- Describes are stored once per content address; intervals say when each one held.
CREATE TABLE schemas (
  org_id TEXT NOT NULL,
  schema_id TEXT NOT NULL,
  sealed BLOB NOT NULL,
  PRIMARY KEY (org_id, schema_id)
);
CREATE TABLE schema_intervals (
  interval_key INTEGER PRIMARY KEY,
  org_id TEXT NOT NULL,
  object_name TEXT NOT NULL,
  schema_id TEXT NOT NULL,
  valid_from BIGINT NOT NULL,
  valid_to BIGINT
);
CREATE INDEX schema_intervals_object ON schema_intervals (org_id, object_name, valid_from);
CREATE UNIQUE INDEX schema_intervals_current ON schema_intervals (org_id, object_name) WHERE valid_to IS NULL;

-- File names and content types are field values: sealed with the row's identity as associated data.
CREATE TABLE files (
  org_id TEXT NOT NULL,
  record_id TEXT NOT NULL,
  field TEXT NOT NULL,
  system_modstamp BIGINT NOT NULL,
  object_name TEXT NOT NULL,
  address TEXT NOT NULL,
  size BIGINT NOT NULL,
  sealed_meta BLOB NOT NULL,
  PRIMARY KEY (org_id, record_id, field, system_modstamp)
);
CREATE INDEX files_address ON files (address);

CREATE TABLE runs (
  run_id TEXT PRIMARY KEY,
  org_id TEXT,
  kind TEXT NOT NULL,
  status TEXT NOT NULL,
  started_at BIGINT NOT NULL,
  ended_at BIGINT,
  counters TEXT NOT NULL,
  message TEXT,
  sealed_parameters BLOB NOT NULL
);
CREATE INDEX runs_started ON runs (started_at);
CREATE INDEX runs_org_started ON runs (org_id, started_at);

CREATE TABLE object_runs (
  run_id TEXT NOT NULL,
  object_name TEXT NOT NULL,
  status TEXT NOT NULL,
  status_code TEXT,
  message TEXT,
  counters TEXT NOT NULL,
  PRIMARY KEY (run_id, object_name)
);

CREATE TABLE id_mappings (
  org_id TEXT NOT NULL,
  old_id TEXT NOT NULL,
  new_id TEXT NOT NULL,
  object_name TEXT NOT NULL,
  run_id TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (org_id, old_id)
);

CREATE TABLE audit_log (
  audit_key INTEGER PRIMARY KEY,
  at BIGINT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT,
  details TEXT NOT NULL
);

CREATE TABLE locks (
  org_id TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  token TEXT NOT NULL,
  pid INTEGER NOT NULL,
  hostname TEXT NOT NULL,
  acquired_at BIGINT NOT NULL,
  heartbeat_at BIGINT NOT NULL
);
`,
    // PostgreSQL: the version tables with a per-record index (see postgresVersionTables).
    postgres: (derived) => postgresVersionTables(derived),
  },
  {
    version: 2,
    name: 'object state details',
    // The capture's own bookkeeping per object (when deletes were last checked, which API reads
    // it), as JSON: it changes with the engine, the schema should not have to.
    sql: `ALTER TABLE object_state ADD COLUMN details TEXT NOT NULL DEFAULT '{}';`,
  },
  {
    version: 3,
    name: 'restore journal',
    // A restore journals each step before sending its writes and completes it with the results,
    // so a step left without completed_at is one a crash interrupted. IDs, codes and outcomes stay
    // in clear for the report; a result's message may quote field values and is sealed, bound to
    // its run, step and record. `seq` keeps begin and insertion order, which times cannot (ties).
    sql: `
CREATE TABLE restore_steps (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id TEXT NOT NULL,
  step_id TEXT NOT NULL,
  object_name TEXT NOT NULL,
  action TEXT NOT NULL,
  original_ids TEXT NOT NULL,
  started_at BIGINT NOT NULL,
  completed_at BIGINT,
  UNIQUE (run_id, step_id)
);
CREATE INDEX restore_steps_run ON restore_steps (run_id, seq);

CREATE TABLE restore_results (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id TEXT NOT NULL,
  step_id TEXT NOT NULL,
  object_name TEXT NOT NULL,
  original_id TEXT NOT NULL,
  new_id TEXT,
  outcome TEXT NOT NULL,
  status_code TEXT,
  sealed_message BLOB
);
CREATE INDEX restore_results_run ON restore_results (run_id, seq);
`,
  },
  {
    version: 4,
    name: 'users',
    // Local users of the HTTP API, their browser sessions and API tokens. Password hashes are
    // already slow, salted hashes (scrypt); session and token secrets are kept only as SHA-256
    // hashes (they are 256-bit random, so a fast hash suffices), so nothing here needs sealing and
    // a stolen catalog gives no way in. A session's CSRF token is in clear: it is worthless
    // without the session's cookie, which is not stored. Sessions and tokens are deleted with
    // their user in one transaction (no foreign keys: SQLite leaves them off by default).
    sql: `
CREATE TABLE users (
  name TEXT PRIMARY KEY,
  role TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  password_changed_at BIGINT NOT NULL
);

CREATE TABLE sessions (
  id_hash TEXT PRIMARY KEY,
  user_name TEXT NOT NULL,
  csrf_token TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  last_seen_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_name);

CREATE TABLE api_tokens (
  id TEXT PRIMARY KEY,
  secret_hash TEXT NOT NULL,
  user_name TEXT NOT NULL,
  label TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT,
  last_used_at BIGINT
);
CREATE INDEX api_tokens_user ON api_tokens (user_name, created_at);
`,
  },
  {
    version: 5,
    name: 'search index',
    // The keyed blind index of global search (search-index.ts). A token is never stored: only 48
    // bits of its keyed hash (HMAC-SHA-256 under the vault's index key and the org), as a 6-byte
    // BLOB. `search_postings` has one row per indexed record: its doc number and the hashes of
    // every token any of its versions held, posted once, when a version first holds it.
    // `search_terms` inverts them: per block of 16,384 doc numbers and token, the docs holding it,
    // 2 bytes each (a marker bit in the first byte, so that a byte search finds only whole
    // entries). New records take the next docs, so a backfill writes the last block's rows only.
    // Deleting a record's row (purge: DELETE FROM search_postings WHERE object_key = ? AND
    // record_id IN (…)) takes its docs out of every list in the same transaction, by the trigger.
    // A record's row also carries its latest version's SystemModstamp and deletion, indexed, so
    // that a common word's records are read latest first and a search stops after its results.
    // `search_state` says how far the index reaches: every batch up to `indexed_batch` is
    // indexed, committed with the postings it covers.
    sql: `
CREATE TABLE search_postings (
  doc INTEGER PRIMARY KEY AUTOINCREMENT,
  object_key INTEGER NOT NULL,
  record_id TEXT NOT NULL,
  head_modstamp BIGINT NOT NULL,
  head_deleted SMALLINT NOT NULL,
  tokens BLOB NOT NULL,
  UNIQUE (object_key, record_id)
);
CREATE INDEX search_postings_head ON search_postings (head_modstamp);

CREATE TABLE search_terms (
  block INTEGER NOT NULL,
  token BLOB NOT NULL,
  docs BLOB NOT NULL,
  PRIMARY KEY (block, token)
) WITHOUT ROWID;

CREATE TRIGGER search_postings_forget AFTER DELETE ON search_postings BEGIN
  UPDATE search_terms
    SET docs = unhex(
      hex(substr(docs, 1, instr(docs, unhex(printf('%02X%02X', 128 + ((OLD.doc & 16383) >> 7), OLD.doc & 127))) - 1)) ||
      hex(substr(docs, instr(docs, unhex(printf('%02X%02X', 128 + ((OLD.doc & 16383) >> 7), OLD.doc & 127))) + 2)))
    WHERE block = OLD.doc >> 14
      AND token IN (WITH RECURSIVE t(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM t WHERE (i + 1) * 6 < length(OLD.tokens)) SELECT substr(OLD.tokens, i * 6 + 1, 6) FROM t)
      AND instr(docs, unhex(printf('%02X%02X', 128 + ((OLD.doc & 16383) >> 7), OLD.doc & 127))) > 0;
  DELETE FROM search_terms
    WHERE block = OLD.doc >> 14
      AND token IN (WITH RECURSIVE t(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM t WHERE (i + 1) * 6 < length(OLD.tokens)) SELECT substr(OLD.tokens, i * 6 + 1, 6) FROM t)
      AND length(docs) = 0;
END;

CREATE TABLE search_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  indexed_batch BIGINT NOT NULL
);
INSERT INTO search_state (id, indexed_batch) VALUES (1, 0);
`,
    // PostgreSQL (postgres/search-index.ts): a row per record as in SQLite, its hashes (the same
    // 48 bits under the same keys) as a BIGINT[] with a GIN index instead of `search_terms`:
    // PostgreSQL keeps GIN's posting lists compressed, appends through its pending list, drops a
    // deleted row's entries itself (purge needs no trigger), and its planner picks between the
    // lists and the head index per search. The layouts differ, so `orgvault migrate` rebuilds the
    // index from the versions (catchUpSearchIndex). Batches still to index are queued in
    // `search_pending` by a trigger on `batches`, in the batch's own transaction: batch keys from
    // concurrent writers commit out of order, so SQLite's "every batch up to N" cannot say it.
    postgres: `
CREATE TABLE search_postings (
  doc BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  object_key BIGINT NOT NULL,
  record_id TEXT COLLATE "C" NOT NULL,
  head_modstamp BIGINT NOT NULL,
  head_deleted SMALLINT NOT NULL,
  tokens BIGINT[] NOT NULL,
  UNIQUE (object_key, record_id)
);
CREATE INDEX search_postings_head ON search_postings (head_modstamp, doc);
CREATE INDEX search_postings_tokens ON search_postings USING gin (tokens);

CREATE TABLE search_pending (batch_key BIGINT PRIMARY KEY);
INSERT INTO search_pending (batch_key) SELECT batch_key FROM batches;
CREATE FUNCTION search_pending_add() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  INSERT INTO search_pending (batch_key) VALUES (NEW.batch_key) ON CONFLICT DO NOTHING;
  RETURN NULL;
END
$$;
CREATE TRIGGER batches_search_pending AFTER INSERT ON batches FOR EACH ROW EXECUTE FUNCTION search_pending_add();
`,
  },
  {
    version: 6,
    name: 'retention',
    // Prune and purge rewrite packs: they find the versions that point into a pack by this index.
    // Its keys grow with the packs a batch writes, so a backup appends to its right edge.
    sql: `CREATE INDEX record_versions_pack ON record_versions (pack_key, slot);`,
  },
  {
    version: 7,
    name: 'archive',
    // An archive journals each batch of deletes before sending it (with the records it deletes,
    // the cascaded ones included, and the SystemModstamp each was confirmed at in the vault) and
    // completes it with the results, as a restore does. A result's message may quote field values
    // (Salesforce's DELETE_FAILED names the record) and is sealed. `archived_records` marks what
    // an archive deleted, one row per record (a second archive of it replaces the row); whether
    // it was restored since is read from the record heads and ID mappings, not stored.
    sql: `
CREATE TABLE archive_steps (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id TEXT NOT NULL,
  step_id TEXT NOT NULL,
  object_name TEXT NOT NULL,
  action TEXT NOT NULL,
  records TEXT NOT NULL,
  started_at BIGINT NOT NULL,
  completed_at BIGINT,
  UNIQUE (run_id, step_id)
);
CREATE INDEX archive_steps_run ON archive_steps (run_id, seq);

CREATE TABLE archive_results (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id TEXT NOT NULL,
  step_id TEXT NOT NULL,
  object_name TEXT NOT NULL,
  record_id TEXT NOT NULL,
  outcome TEXT NOT NULL,
  status_code TEXT,
  via TEXT,
  system_modstamp BIGINT,
  sealed_message BLOB
);
CREATE INDEX archive_results_run ON archive_results (run_id, seq);

CREATE TABLE archived_records (
  org_id TEXT NOT NULL,
  record_id TEXT NOT NULL,
  object_name TEXT NOT NULL,
  run_id TEXT NOT NULL,
  archived_at BIGINT NOT NULL,
  system_modstamp BIGINT NOT NULL,
  PRIMARY KEY (org_id, record_id)
) WITHOUT ROWID;
CREATE INDEX archived_records_object ON archived_records (org_id, object_name, record_id);
CREATE INDEX archived_records_run ON archived_records (run_id, record_id);
`,
  },
  {
    version: 8,
    name: 'schedules',
    // A schedule per (org, job): its rule as JSON (slots are computed, never stored ahead), and
    // beside it what the scheduler remembers across restarts. The state outlives a schedule
    // cleared and set again, so a backup cycle is not restarted by editing the schedule. The
    // last slot handled is moved by a compare-and-set, so two schedulers never run one slot.
    sql: `
CREATE TABLE schedules (
  org_name TEXT NOT NULL,
  job TEXT NOT NULL,
  rule TEXT NOT NULL,
  time_zone TEXT NOT NULL,
  cycle_days INTEGER,
  objects TEXT,
  set_at BIGINT NOT NULL,
  set_by TEXT NOT NULL,
  PRIMARY KEY (org_name, job)
) WITHOUT ROWID;

CREATE TABLE schedule_state (
  org_name TEXT NOT NULL,
  job TEXT NOT NULL,
  last_slot BIGINT,
  last_run_id TEXT,
  last_status TEXT,
  last_started_at BIGINT,
  last_ended_at BIGINT,
  last_success_at BIGINT,
  cycle_started_at BIGINT,
  baseline_reason TEXT,
  baseline_at BIGINT,
  org_id_seen TEXT,
  PRIMARY KEY (org_name, job)
) WITHOUT ROWID;
`,
  },
  {
    version: 9,
    name: 'change data capture',
    // The stream's state per (org, object): the replay ID it resumes from (moved only after the
    // versions it covers committed) and its counters, as JSON. Recovery points name a time and
    // objects; their snapshot is the versions as of that time, so nothing is copied.
    sql: `
CREATE TABLE stream_state (
  org_id TEXT NOT NULL,
  object_name TEXT NOT NULL,
  state TEXT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (org_id, object_name)
) WITHOUT ROWID;
CREATE TABLE recovery_points (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL,
  name TEXT,
  at BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  created_by TEXT NOT NULL,
  objects TEXT NOT NULL
);
CREATE INDEX recovery_points_org ON recovery_points (org_id, created_at);
`,
  },
  {
    version: 10,
    name: 'notifications',
    // An org's channels (email, webhook, Slack) with their settings sealed: an SMTP password and a
    // webhook URL are secrets. The log says what was sent where and how it went, never a secret.
    sql: `
CREATE TABLE notification_channels (
  org_id TEXT NOT NULL,
  name TEXT NOT NULL,
  type TEXT NOT NULL,
  events TEXT NOT NULL,
  enabled SMALLINT NOT NULL,
  sealed_config BLOB NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (org_id, name)
) WITHOUT ROWID;

CREATE TABLE notification_log (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  at BIGINT NOT NULL,
  org_id TEXT,
  org_name TEXT NOT NULL,
  event_kind TEXT NOT NULL,
  run_id TEXT,
  channel TEXT NOT NULL,
  channel_type TEXT NOT NULL,
  outcome TEXT NOT NULL,
  error TEXT,
  attempts INTEGER NOT NULL,
  duration_ms BIGINT NOT NULL
);
CREATE INDEX notification_log_org ON notification_log (org_id, seq);
`,
  },
  {
    version: 11,
    name: 'metadata backup',
    // A component's files are stored once per content address, sealed (an Apex class or a
    // formula may quote values); each version row points at its content, or marks a deletion.
    // A capture is listed in metadata_runs once complete, with the last version row it wrote, so
    // "as of a run" is every component's latest row up to that one.
    sql: `
CREATE TABLE metadata_contents (
  org_id TEXT NOT NULL,
  content_id TEXT NOT NULL,
  sealed BLOB NOT NULL,
  PRIMARY KEY (org_id, content_id)
) WITHOUT ROWID;
CREATE TABLE metadata_versions (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  org_id TEXT NOT NULL,
  type TEXT NOT NULL,
  full_name TEXT NOT NULL,
  content_id TEXT,
  deleted SMALLINT NOT NULL,
  last_modified BIGINT,
  salesforce_id TEXT,
  captured_at BIGINT NOT NULL,
  run_id TEXT NOT NULL
);
CREATE INDEX metadata_versions_component ON metadata_versions (org_id, type, full_name, seq);
CREATE INDEX metadata_versions_run ON metadata_versions (run_id);
CREATE TABLE metadata_runs (
  org_id TEXT NOT NULL,
  run_id TEXT NOT NULL,
  captured_at BIGINT NOT NULL,
  last_seq INTEGER NOT NULL,
  components INTEGER NOT NULL,
  changed INTEGER NOT NULL,
  deleted INTEGER NOT NULL,
  PRIMARY KEY (org_id, run_id)
) WITHOUT ROWID;
CREATE INDEX metadata_runs_org ON metadata_runs (org_id, captured_at);
`,
  },
  {
    version: 12,
    name: 'work queue',
    // The queue `orgvault worker` processes pull from (src/store/postgres/queue.ts). Only a
    // PostgreSQL vault has one: many machines share its database, and SKIP LOCKED lets them
    // claim jobs without waiting on each other. An SQLite vault is one machine's and runs its
    // backups in-process, so its text is this comment alone (the version is still recorded, so
    // both engines keep one numbering). Times are the database's clock (epoch ms), so leases
    // mean the same on every machine. `dedupe_key` is unique among live jobs (one backup per
    // org); `unique_name` for ever (one task per object of a run, enqueued again on takeover).
    sql: `-- work queue: PostgreSQL vaults only (SQLite vaults run their backups in-process).
`,
    postgres: `
CREATE TABLE work_queue (
  job_id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  kind TEXT NOT NULL,
  payload JSONB NOT NULL,
  dedupe_key TEXT,
  group_key TEXT,
  unique_name TEXT,
  priority BIGINT NOT NULL DEFAULT 0,
  state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'dead')),
  attempts INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL,
  run_after BIGINT NOT NULL,
  worker TEXT,
  lease_token TEXT,
  lease_until BIGINT,
  heartbeat_at BIGINT,
  progress JSONB,
  result JSONB,
  last_error TEXT,
  created_at BIGINT NOT NULL,
  started_at BIGINT,
  finished_at BIGINT
);
CREATE UNIQUE INDEX work_queue_dedupe ON work_queue (dedupe_key) WHERE dedupe_key IS NOT NULL AND state IN ('queued', 'running');
CREATE UNIQUE INDEX work_queue_unique_name ON work_queue (kind, coalesce(group_key, ''), unique_name) WHERE unique_name IS NOT NULL;
CREATE INDEX work_queue_ready ON work_queue (priority DESC, job_id) WHERE state = 'queued';
CREATE INDEX work_queue_leases ON work_queue (lease_until) WHERE state = 'running';
CREATE INDEX work_queue_group ON work_queue (group_key, state) WHERE group_key IS NOT NULL;
CREATE INDEX work_queue_finished ON work_queue (finished_at) WHERE state IN ('done', 'dead');
`,
  },
];

/** The newest schema version this code knows. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** PostgreSQL's text derived from SQLite's by rule (see the module comment). */
function derivePostgres(sql: string): string {
  return sql
    .replace(/\bINTEGER PRIMARY KEY AUTOINCREMENT\b/g, 'BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY')
    .replace(/\bINTEGER PRIMARY KEY REFERENCES\b/g, 'BIGINT PRIMARY KEY REFERENCES')
    .replace(/\bINTEGER PRIMARY KEY CHECK\b/g, 'BIGINT PRIMARY KEY CHECK')
    .replace(/\bINTEGER PRIMARY KEY\b/g, 'BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY')
    .replace(/\bINTEGER\b/g, 'BIGINT')
    .replace(/\bBLOB\b/g, 'BYTEA')
    .replace(/\)\s*WITHOUT ROWID;/g, ');');
}

/** The text a migration runs on `dialect`. */
export function migrationSql(migration: Migration, dialect: SqlDialect): string {
  if (dialect === 'sqlite') return migration.sql;
  const { postgres } = migration;
  if (typeof postgres === 'string') return postgres;
  const derived = derivePostgres(migration.sql);
  return postgres ? postgres(derived) : derived;
}

/**
 * Migration 1's version tables on PostgreSQL: the same columns and meanings as SQLite's (rows copy
 * one to one), laid out for a server (docs/ARCHITECTURE.md, "PostgreSQL catalog"):
 * - `record_versions_record` (object_key, record_id, system_modstamp DESC, seq DESC): a
 *   point-in-time read is one index descent whatever the record's history, where SQLite walks the
 *   chain from the head. SQLite cannot afford the index (one random page dirtied per version,
 *   measured at half its bulk write speed); PostgreSQL's buffer cache and background writer absorb
 *   it. `prev_seq` is still kept for the tools that walk chains.
 * - Record IDs compare as bytes (COLLATE "C"), as in SQLite: the same order of pages whatever the
 *   database's locale (Salesforce IDs are case-sensitive), and memcmp-fast comparisons.
 * - Fixed-width columns first, so that no row pays alignment padding (~8 bytes a version).
 * - Heads are updated in place by every incremental batch: fillfactor 80 leaves room on each page
 *   for HOT updates (no indexed column of a head changes).
 * - Pack bodies and hashes are sealed or random bytes that never compress: stored out of line
 *   without compression (EXTERNAL), which also lets substring() read one payload's hash alone.
 */
function postgresVersionTables(derived: string): string {
  const tables = `CREATE TABLE record_versions (
  seq BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  object_key BIGINT NOT NULL,
  system_modstamp BIGINT NOT NULL,
  prev_seq BIGINT,
  batch_key BIGINT NOT NULL,
  pack_key BIGINT NOT NULL,
  slot INTEGER NOT NULL,
  change_type SMALLINT NOT NULL,
  is_deleted SMALLINT NOT NULL,
  record_id TEXT COLLATE "C" NOT NULL,
  last_modified_by_id TEXT
);
CREATE INDEX record_versions_modstamp ON record_versions (object_key, system_modstamp, seq);
CREATE INDEX record_versions_record ON record_versions (object_key, record_id, system_modstamp DESC, seq DESC);

CREATE TABLE record_heads (
  object_key BIGINT NOT NULL,
  seq BIGINT NOT NULL,
  system_modstamp BIGINT NOT NULL,
  pack_key BIGINT NOT NULL,
  slot INTEGER NOT NULL,
  is_deleted SMALLINT NOT NULL,
  record_id TEXT COLLATE "C" NOT NULL,
  payload_hash BYTEA NOT NULL,
  PRIMARY KEY (object_key, record_id)
) WITH (fillfactor = 80);
CREATE INDEX record_heads_record ON record_heads (record_id);
`;
  const packs = `
ALTER TABLE packs ALTER COLUMN sealed SET STORAGE EXTERNAL;
ALTER TABLE packs ALTER COLUMN payload_hashes SET STORAGE EXTERNAL;
`;
  const replaced = derived
    .replace(/CREATE TABLE record_versions \([\s\S]*?CREATE INDEX record_heads_record ON record_heads \(record_id\);\n/, tables)
    .replace(/(CREATE TABLE packs \([\s\S]*?\n\);\n)/, `$1${packs}`);
  if (!replaced.includes('record_versions_record') || !replaced.includes('SET STORAGE EXTERNAL')) throw new Error('Migration 1: the version tables were not found in the derived text.');
  return replaced;
}
