/**
 * Row types of the catalog tables (migrations.ts), for the query builder. Only the tables that
 * ordinary queries touch are here; the record-version hot path uses prepared SQL directly.
 */
import type { Generated } from 'kysely';

export interface OrgsTable {
  name: string;
  org_id: string;
  instance_url: string;
  login_url: string;
  sealed_auth: Uint8Array;
  created_at: number;
  settings: string;
}

export interface ObjectsTable {
  object_key: Generated<number>;
  org_id: string;
  name: string;
  record_count: Generated<number>;
  version_count: Generated<number>;
  watermark_modstamp: number | null;
  watermark_record_id: string | null;
}

export interface ObjectStateTable {
  object_key: number;
  status: string;
  backfilled_at: number | null;
  last_run_id: string | null;
  last_backup_at: number | null;
  reason: string | null;
  status_code: string | null;
  /** JSON. */
  details: string;
}

export interface PacksTable {
  pack_key: Generated<number>;
  pack_id: string;
  payloads: number;
  payload_hashes: Uint8Array;
  sealed: Uint8Array;
  created_at: number;
}

export interface SchemasTable {
  org_id: string;
  schema_id: string;
  sealed: Uint8Array;
}

export interface SchemaIntervalsTable {
  interval_key: Generated<number>;
  org_id: string;
  object_name: string;
  schema_id: string;
  valid_from: number;
  valid_to: number | null;
}

export interface FilesTable {
  org_id: string;
  record_id: string;
  field: string;
  system_modstamp: number;
  object_name: string;
  address: string;
  size: number;
  sealed_meta: Uint8Array;
}

export interface RunsTable {
  run_id: string;
  org_id: string | null;
  kind: string;
  status: string;
  started_at: number;
  ended_at: number | null;
  counters: string;
  message: string | null;
  sealed_parameters: Uint8Array;
}

export interface ObjectRunsTable {
  run_id: string;
  object_name: string;
  status: string;
  status_code: string | null;
  message: string | null;
  counters: string;
}

export interface IdMappingsTable {
  org_id: string;
  old_id: string;
  new_id: string;
  object_name: string;
  run_id: string;
  created_at: number;
}

export interface RestoreStepsTable {
  seq: Generated<number>;
  run_id: string;
  step_id: string;
  object_name: string;
  action: string;
  /** JSON array of the backup IDs the step writes. */
  original_ids: string;
  started_at: number;
  completed_at: number | null;
}

export interface RestoreResultsTable {
  seq: Generated<number>;
  run_id: string;
  step_id: string;
  object_name: string;
  original_id: string;
  new_id: string | null;
  outcome: string;
  status_code: string | null;
  sealed_message: Uint8Array | null;
}

export interface ArchiveStepsTable {
  seq: Generated<number>;
  run_id: string;
  step_id: string;
  object_name: string;
  action: string;
  /** JSON array of the step's records (ArchiveStepRecord). */
  records: string;
  started_at: number;
  completed_at: number | null;
}

export interface ArchiveResultsTable {
  seq: Generated<number>;
  run_id: string;
  step_id: string;
  object_name: string;
  record_id: string;
  outcome: string;
  status_code: string | null;
  via: string | null;
  system_modstamp: number | null;
  sealed_message: Uint8Array | null;
}

export interface ArchivedRecordsTable {
  org_id: string;
  record_id: string;
  object_name: string;
  run_id: string;
  archived_at: number;
  system_modstamp: number;
}

export interface AuditLogTable {
  audit_key: Generated<number>;
  at: number;
  actor: string;
  action: string;
  target: string | null;
  details: string;
}

export interface LocksTable {
  org_id: string;
  owner: string;
  token: string;
  pid: number;
  hostname: string;
  acquired_at: number;
  heartbeat_at: number;
}

export interface UsersTable {
  name: string;
  role: string;
  /** `scrypt$N$r$p$salt$hash`: already a slow, salted hash. */
  password_hash: string;
  created_at: number;
  password_changed_at: number;
}

export interface SessionsTable {
  /** SHA-256 of the cookie's secret, hex; the secret itself is never stored. */
  id_hash: string;
  user_name: string;
  csrf_token: string;
  created_at: number;
  expires_at: number;
  last_seen_at: number;
}

export interface ApiTokensTable {
  id: string;
  /** SHA-256 of the token's secret, hex. */
  secret_hash: string;
  user_name: string;
  label: string;
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
}

export interface SchedulesTable {
  org_name: string;
  job: string;
  /** JSON (ScheduleRule). */
  rule: string;
  time_zone: string;
  cycle_days: number | null;
  /** JSON array of object names, or null for all. */
  objects: string | null;
  set_at: number;
  set_by: string;
}

export interface ScheduleStateTable {
  org_name: string;
  job: string;
  last_slot: number | null;
  last_run_id: string | null;
  last_status: string | null;
  last_started_at: number | null;
  last_ended_at: number | null;
  last_success_at: number | null;
  cycle_started_at: number | null;
  baseline_reason: string | null;
  baseline_at: number | null;
  org_id_seen: string | null;
}

export interface StreamStateTable {
  org_id: string;
  object_name: string;
  /** JSON (StreamObjectState). */
  state: string;
  updated_at: number;
}

export interface RecoveryPointsTable {
  id: string;
  org_id: string;
  name: string | null;
  at: number;
  created_at: number;
  created_by: string;
  /** JSON array of RecoveryPointObject. */
  objects: string;
}

export interface NotificationChannelsTable {
  org_id: string;
  name: string;
  type: string;
  /** JSON array of event kinds. */
  events: string;
  enabled: number;
  sealed_config: Uint8Array;
  updated_at: number;
}

export interface NotificationLogTable {
  seq: Generated<number>;
  at: number;
  org_id: string | null;
  org_name: string;
  event_kind: string;
  run_id: string | null;
  channel: string;
  channel_type: string;
  outcome: string;
  error: string | null;
  attempts: number;
  duration_ms: number;
}

export interface MetadataContentsTable {
  org_id: string;
  content_id: string;
  sealed: Uint8Array;
}

export interface MetadataVersionsTable {
  seq: Generated<number>;
  org_id: string;
  type: string;
  full_name: string;
  content_id: string | null;
  deleted: number;
  last_modified: number | null;
  salesforce_id: string | null;
  captured_at: number;
  run_id: string;
}

export interface MetadataRunsTable {
  org_id: string;
  run_id: string;
  captured_at: number;
  last_seq: number;
  components: number;
  changed: number;
  deleted: number;
}

export interface CatalogTables {
  orgs: OrgsTable;
  objects: ObjectsTable;
  object_state: ObjectStateTable;
  packs: PacksTable;
  schemas: SchemasTable;
  schema_intervals: SchemaIntervalsTable;
  files: FilesTable;
  runs: RunsTable;
  object_runs: ObjectRunsTable;
  id_mappings: IdMappingsTable;
  restore_steps: RestoreStepsTable;
  restore_results: RestoreResultsTable;
  archive_steps: ArchiveStepsTable;
  archive_results: ArchiveResultsTable;
  archived_records: ArchivedRecordsTable;
  audit_log: AuditLogTable;
  locks: LocksTable;
  users: UsersTable;
  sessions: SessionsTable;
  api_tokens: ApiTokensTable;
  schedules: SchedulesTable;
  schedule_state: ScheduleStateTable;
  stream_state: StreamStateTable;
  recovery_points: RecoveryPointsTable;
  notification_channels: NotificationChannelsTable;
  notification_log: NotificationLogTable;
  metadata_contents: MetadataContentsTable;
  metadata_versions: MetadataVersionsTable;
  metadata_runs: MetadataRunsTable;
}
