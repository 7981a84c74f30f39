/**
 * Engine-independent parts of the record-version stores: the change-type codes stored in every
 * version row, batch validation, watermark order, pack slices, the check of a pack against its
 * catalog row, and a version row to a RecordVersion. Rows and packs copy between SQLite and
 * PostgreSQL unchanged, so both adapters must agree on every one of these: they live here once.
 */
import { createHash } from 'node:crypto';
import { OrgvaultError, UsageError } from '../../core/errors.ts';
import type { ChangeType, RecordVersion, VersionInput, Watermark } from '../../core/vault.ts';
import { IntegrityError } from '../../crypto/errors.ts';
import type { Keyring } from '../../crypto/keys.ts';
import type { OpenedPack } from '../packs.ts';
import { openPack, payloadHash } from '../packs.ts';
import type { VersionBatch } from '../port.ts';

/** The points of a batch write at which a test may crash the process or fail the write. */
export type WriteStep = 'before-transaction' | 'mid-inserts' | 'before-commit' | 'after-commit';

/** Test-only hooks; production code passes none. */
export interface WriteHooks {
  onWriteStep?(step: WriteStep): void;
}

/** Stable codes for change types: stored in every version row on both engines, so never renumbered. */
export const CHANGE_CODES: Readonly<Record<ChangeType, number>> = { created: 1, updated: 2, deleted: 3, undeleted: 4, reconciled: 5, event: 6 };
const CHANGE_NAMES: readonly (ChangeType | undefined)[] = (() => {
  const names: (ChangeType | undefined)[] = [];
  for (const [name, code] of Object.entries(CHANGE_CODES)) names[code] = name as ChangeType;
  return names;
})();

/** Bytes of one payload hash in a pack row's `payload_hashes`. */
export const HASH_BYTES = 32;

/** A version row joined with its batch, as reads select it. */
export interface VersionRow {
  seq: number;
  object_key: number;
  record_id: string;
  system_modstamp: number;
  prev_seq: number | null;
  change_type: number;
  is_deleted: number;
  last_modified_by_id: string | null;
  pack_key: number;
  slot: number;
  captured_at: number;
  run_id: string;
  schema_id: string | null;
}

/** Orders watermarks by (SystemModstamp, record ID). */
export const compareWatermark = (a: Watermark, b: Watermark): number =>
  a.systemModstamp !== b.systemModstamp ? a.systemModstamp - b.systemModstamp : a.recordId < b.recordId ? -1 : a.recordId > b.recordId ? 1 : 0;

/**
 * Byte order of record IDs: SQLite's BINARY and PostgreSQL's COLLATE "C" (the same as code-unit
 * order for the IDs Salesforce makes).
 */
export const byBytes = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Throws the error of a malformed version or version row. */
export function invalid(message: string): never {
  throw new OrgvaultError('INVALID_VERSION', message);
}

/** Checks a batch before anything is written; throws INVALID_VERSION naming what is wrong. */
export function validateBatch(batch: VersionBatch): void {
  if (!batch.orgId || !batch.objectName) invalid('A version batch needs an org ID and an object name.');
  if (!batch.runId) invalid('A version batch needs the run ID that captured it.');
  if (!Number.isSafeInteger(batch.capturedAt)) invalid(`capturedAt must be epoch milliseconds, not ${String(batch.capturedAt)}.`);
  for (const v of batch.versions) {
    if (typeof v.recordId !== 'string' || v.recordId.length === 0 || v.recordId.length > 255) invalid(`A version of ${batch.objectName} has an invalid record ID.`);
    if (!Number.isSafeInteger(v.systemModstamp)) invalid(`Version ${v.recordId}: SystemModstamp must be epoch milliseconds, not ${String(v.systemModstamp)}.`);
    if (CHANGE_CODES[v.changeType] === undefined) invalid(`Version ${v.recordId}: unknown change type ${String(v.changeType)}.`);
    if (v.fields === null || typeof v.fields !== 'object') invalid(`Version ${v.recordId}: fields must be an object.`);
  }
}

/** The stored codes of a query's change types; throws on a type that has none. */
export function changeCodes(types: readonly string[] | undefined): number[] | undefined {
  return types?.map((t) => CHANGE_CODES[t as ChangeType] ?? invalid(`Unknown change type ${t}.`));
}

/** The latest (SystemModstamp, Id) among a batch's versions: how far the batch's data reaches. */
export function reach(versions: readonly VersionInput[]): Watermark | undefined {
  let best: Watermark | undefined;
  for (const v of versions) {
    const candidate = { systemModstamp: v.systemModstamp, recordId: v.recordId };
    if (!best || compareWatermark(candidate, best) > 0) best = candidate;
  }
  return best;
}

/** Throws unless `slice` is n/m with 1 ≤ n ≤ m. */
export function checkSlice(slice: { n: number; m: number } | undefined): void {
  if (slice && !(Number.isInteger(slice.n) && Number.isInteger(slice.m) && slice.n >= 1 && slice.n <= slice.m)) {
    throw new UsageError(`A slice is n/m with 1 ≤ n ≤ m, not ${slice.n}/${slice.m}.`);
  }
}

/** Whether a pack belongs to slice n/m (all packs without a slice). */
export function inSlice(packId: string, slice: { n: number; m: number } | undefined): boolean {
  return !slice || packSlice(packId, slice.m) === slice.n - 1;
}

// A hash of the pack's ID, not its key: slices stay stable as packs are added, and agree across engines.
function packSlice(packId: string, m: number): number {
  return createHash('sha256').update(packId).digest().readUInt32BE(0) % m;
}

/** Opens a pack and checks it against its catalog row: its payload count and every payload's hash. */
export function verifyPack(keyring: Keyring, packId: string, row: { payloads: number; payload_hashes: Buffer; sealed: Buffer }): { payloads: number } {
  const pack = openPack(keyring.sealing, packId, row.sealed);
  if (pack.count !== row.payloads || row.payload_hashes.length !== pack.count * HASH_BYTES) {
    throw new IntegrityError(`pack ${packId} holds ${pack.count} payloads where the catalog records ${row.payloads}.`);
  }
  for (let slot = 0; slot < pack.count; slot++) {
    const expected = row.payload_hashes.subarray(slot * HASH_BYTES, (slot + 1) * HASH_BYTES);
    if (!payloadHash(keyring.addressing, pack.payload(slot)).equals(expected)) {
      throw new IntegrityError(`pack ${packId} slot ${slot} does not match its recorded hash.`);
    }
  }
  return { payloads: pack.count };
}

/** A version row and its opened pack as a RecordVersion; throws if the pack's slot is not the row's record. */
export function toRecordVersion(row: VersionRow, pack: OpenedPack, objectName: string): RecordVersion {
  if (pack.recordId(row.slot) !== row.record_id) {
    throw new IntegrityError(`pack ${pack.packId} slot ${row.slot} holds ${pack.recordId(row.slot)}, not ${row.record_id}: the catalog row was altered.`);
  }
  return {
    recordId: row.record_id,
    systemModstamp: row.system_modstamp,
    changeType: CHANGE_NAMES[row.change_type] ?? invalid(`Unknown change type code ${row.change_type} in version ${row.seq}.`),
    isDeleted: row.is_deleted === 1,
    lastModifiedById: row.last_modified_by_id,
    fields: JSON.parse(pack.payload(row.slot).toString('utf8')) as Record<string, unknown>,
    seq: row.seq,
    objectName,
    capturedAt: row.captured_at,
    runId: row.run_id,
    schemaId: row.schema_id,
  };
}

/** A record's head as a batch write holds it while the batch is applied. */
export interface HeadState {
  seq: number;
  modstamp: number;
  isDeleted: boolean;
  packKey: number;
  slot: number;
  hash: Buffer;
  /** Changed by this batch: to be written back. */
  dirty: boolean;
}
