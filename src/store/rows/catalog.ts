/**
 * The catalog's rows and domain values, for every engine: the mappers between the tables of
 * ../schema/tables.ts and the types of core/vault.ts, and the sealing of describes, file entries
 * and run parameters with their associated data. One copy, so that a row written by one engine
 * reads the same on the other (`orgvault migrate` copies rows, sealed bytes included): the
 * associated data here must never change, or sealed values already stored stop opening.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { Selectable } from 'kysely';
import type { AuditEntry, FileRef, ObjectRun, ObjectState, ObjectStatus, OrgRegistration, Run, RunKind, RunStatus } from '../../core/vault.ts';
import { contentAddress } from '../../crypto/address.ts';
import { IntegrityError } from '../../crypto/errors.ts';
import type { Keyring } from '../../crypto/keys.ts';
import { open, seal } from '../../crypto/seal.ts';
import { canonicalJson } from '../packs.ts';
import type { AuditLogTable, FilesTable, ObjectRunsTable, ObjectStateTable, ObjectsTable, OrgsTable, RunsTable } from '../schema/tables.ts';
import { parseJson } from './json.ts';

/** Rows per page when a listing walks a whole table by key. */
export const PAGE = 1000;

const schemaAad = (orgId: string, schemaId: string): string => `orgvault:schema:${orgId}:${schemaId}`;
const fileAad = (orgId: string, f: Pick<FileRef, 'recordId' | 'field' | 'systemModstamp'>): string => `orgvault:file:${orgId}:${f.recordId}:${f.field}:${f.systemModstamp}`;
const runAad = (runId: string): string => `orgvault:run:${runId}:parameters`;

// ---- orgs -------------------------------------------------------------------------------------

/** An `orgs` row as an org registration. */
export function toOrg(row: Selectable<OrgsTable>): OrgRegistration {
  return {
    name: row.name,
    orgId: row.org_id,
    instanceUrl: row.instance_url,
    loginUrl: row.login_url,
    sealedAuth: new Uint8Array(row.sealed_auth),
    createdAt: row.created_at,
    settings: parseJson<Record<string, unknown>>(row.settings),
  };
}

/** The `orgs` row of an org registration (its secrets arrive sealed). */
export function orgRow(org: OrgRegistration): OrgsTable {
  return {
    name: org.name,
    org_id: org.orgId,
    instance_url: org.instanceUrl,
    login_url: org.loginUrl,
    sealed_auth: Buffer.from(org.sealedAuth),
    created_at: org.createdAt,
    settings: JSON.stringify(org.settings ?? {}),
  };
}

// ---- schemas ----------------------------------------------------------------------------------

/** A describe's content address and its sealed, compressed canonical JSON, for the `schemas` table. */
export function sealSchema(keyring: Keyring, orgId: string, describe: unknown): { schemaId: string; sealed: Uint8Array } {
  const json = canonicalJson(describe);
  const schemaId = contentAddress(keyring.addressing, json);
  return { schemaId, sealed: seal(keyring.sealing, deflateRawSync(json), schemaAad(orgId, schemaId)) };
}

/** Opens a sealed describe and checks that it hashes to its address (an IntegrityError if not). */
export function openSchema(keyring: Keyring, orgId: string, schemaId: string, sealed: Uint8Array): unknown {
  const what = `describe ${schemaId.slice(0, 16)}…`;
  const json = inflateRawSync(open(keyring.sealing, sealed, schemaAad(orgId, schemaId), what)).toString('utf8');
  if (contentAddress(keyring.addressing, json) !== schemaId) throw new IntegrityError(`${what} does not hash to its address.`);
  return JSON.parse(json) as unknown;
}

// ---- files ------------------------------------------------------------------------------------

/** The `files` row of a file reference, its name and content type sealed to the row. */
export function fileRow(keyring: Keyring, orgId: string, file: FileRef): FilesTable {
  return {
    org_id: orgId,
    record_id: file.recordId,
    field: file.field,
    system_modstamp: file.systemModstamp,
    object_name: file.objectName,
    address: file.address,
    size: file.size,
    sealed_meta: seal(keyring.sealing, Buffer.from(JSON.stringify({ fileName: file.fileName, contentType: file.contentType })), fileAad(orgId, file)),
  };
}

/** A `files` row as a file reference, its sealed name and content type opened. */
export function toFile(keyring: Keyring, row: Selectable<FilesTable>): FileRef {
  const meta = parseJson<{ fileName: string | null; contentType: string | null }>(
    open(keyring.sealing, row.sealed_meta, fileAad(row.org_id, { recordId: row.record_id, field: row.field, systemModstamp: row.system_modstamp }), `the file entry of ${row.record_id}.${row.field}`).toString('utf8'),
  );
  return {
    objectName: row.object_name,
    recordId: row.record_id,
    field: row.field,
    systemModstamp: row.system_modstamp,
    address: row.address,
    size: row.size,
    fileName: meta.fileName,
    contentType: meta.contentType,
  };
}

// ---- runs -------------------------------------------------------------------------------------

/** The `runs` row of a run, its parameters sealed (restore filters quote field values). */
export function runRow(keyring: Keyring, r: Run): RunsTable {
  return {
    run_id: r.runId,
    org_id: r.orgId,
    kind: r.kind,
    status: r.status,
    started_at: r.startedAt,
    ended_at: r.endedAt,
    counters: JSON.stringify(r.counters ?? {}),
    message: r.message,
    sealed_parameters: seal(keyring.sealing, Buffer.from(JSON.stringify(r.parameters ?? {})), runAad(r.runId)),
  };
}

/** The `runs` columns a patch of run `runId` changes (none when it is empty). */
export function runChanges(keyring: Keyring, runId: string, patch: Partial<Omit<Run, 'runId'>>): Partial<RunsTable> {
  const parameters = patch.parameters === undefined ? undefined : seal(keyring.sealing, Buffer.from(JSON.stringify(patch.parameters)), runAad(runId));
  return {
    ...(patch.orgId !== undefined ? { org_id: patch.orgId } : {}),
    ...(patch.kind !== undefined ? { kind: patch.kind } : {}),
    ...(patch.status !== undefined ? { status: patch.status } : {}),
    ...(patch.startedAt !== undefined ? { started_at: patch.startedAt } : {}),
    ...(patch.endedAt !== undefined ? { ended_at: patch.endedAt } : {}),
    ...(patch.counters !== undefined ? { counters: JSON.stringify(patch.counters) } : {}),
    ...(patch.message !== undefined ? { message: patch.message } : {}),
    ...(parameters !== undefined ? { sealed_parameters: parameters } : {}),
  };
}

/** A `runs` row as a run, its parameters opened. */
export function toRun(keyring: Keyring, row: Selectable<RunsTable>): Run {
  return {
    runId: row.run_id,
    orgId: row.org_id,
    kind: row.kind as RunKind,
    status: row.status as RunStatus,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    counters: parseJson<Record<string, number>>(row.counters),
    message: row.message,
    parameters: parseJson<Record<string, unknown>>(open(keyring.sealing, row.sealed_parameters, runAad(row.run_id), `the parameters of run ${row.run_id}`).toString('utf8')),
  };
}

/** The `object_runs` row of an object's part in a run. */
export function objectRunRow(objectRun: ObjectRun): ObjectRunsTable {
  return {
    run_id: objectRun.runId,
    object_name: objectRun.objectName,
    status: objectRun.status,
    status_code: objectRun.statusCode,
    message: objectRun.message,
    counters: JSON.stringify(objectRun.counters ?? {}),
  };
}

/** An `object_runs` row as an object's part in a run. */
export function toObjectRun(row: Selectable<ObjectRunsTable>): ObjectRun {
  return {
    runId: row.run_id,
    objectName: row.object_name,
    status: row.status as RunStatus,
    statusCode: row.status_code,
    message: row.message,
    counters: parseJson<Record<string, number>>(row.counters),
  };
}

// ---- object state -----------------------------------------------------------------------------

/** The columns of `objects` left-joined with `object_state` that make an object's state. */
export type ObjectStateRow = Pick<Selectable<ObjectsTable>, 'name' | 'record_count' | 'version_count' | 'watermark_modstamp' | 'watermark_record_id'> & {
  [K in Exclude<keyof ObjectStateTable, 'object_key'>]: ObjectStateTable[K] | null;
};

/** The columns of ObjectStateRow, as selected from `objects as o` left-joined with `object_state as s`. */
export const OBJECT_STATE_COLUMNS = [
  'o.name',
  'o.record_count',
  'o.version_count',
  'o.watermark_modstamp',
  'o.watermark_record_id',
  's.status',
  's.backfilled_at',
  's.last_run_id',
  's.last_backup_at',
  's.reason',
  's.status_code',
  's.details',
] as const;

/** An object's row joined with its (possibly missing) state row, as its state. */
export function toObjectState(row: ObjectStateRow): ObjectState {
  return {
    objectName: row.name,
    // Data without a status was written but never reported on: its backfill is not known complete.
    status: (row.status ?? 'Backfilling') as ObjectStatus,
    watermark: row.watermark_modstamp === null ? null : { systemModstamp: row.watermark_modstamp, recordId: row.watermark_record_id ?? '' },
    backfilledAt: row.backfilled_at,
    recordCount: row.record_count,
    versionCount: row.version_count,
    lastRunId: row.last_run_id,
    lastBackupAt: row.last_backup_at,
    reason: row.reason,
    statusCode: row.status_code,
    details: row.details ? (JSON.parse(row.details) as Record<string, unknown>) : {},
  };
}

/**
 * The `object_state` row of an object's state. Its watermark and counts are not in it: they belong
 * to the data and move only with writeVersions.
 */
export function objectStateRow(objectKey: number, state: ObjectState): ObjectStateTable {
  return {
    object_key: objectKey,
    status: state.status,
    backfilled_at: state.backfilledAt,
    last_run_id: state.lastRunId,
    last_backup_at: state.lastBackupAt,
    reason: state.reason,
    status_code: state.statusCode,
    details: JSON.stringify(state.details ?? {}),
  };
}

// ---- audit ------------------------------------------------------------------------------------

/** The `audit_log` row of an audit entry (its key is the table's). */
export function auditRow(entry: AuditEntry): Omit<AuditLogTable, 'audit_key'> {
  return { at: entry.at, actor: entry.actor, action: entry.action, target: entry.target, details: JSON.stringify(entry.details ?? {}) };
}

/** An `audit_log` row as an audit entry. */
export function toAuditEntry(row: Pick<Selectable<AuditLogTable>, 'at' | 'actor' | 'action' | 'target' | 'details'>): AuditEntry {
  return { at: row.at, actor: row.actor, action: row.action, target: row.target, details: parseJson<Record<string, unknown>>(row.details) };
}
