/**
 * The pure parts of compare: which fields differ, which fields a restore writes, and the
 * merge-join of two states of an object streamed in record-ID order.
 */
import type { FieldSummary } from '../core/org-client.ts';
import type { RecordVersion } from '../core/vault.ts';

/** One field that differs: its value on the left (older, or backed up) and on the right. */
export interface FieldChange {
  field: string;
  left: unknown;
  right: unknown;
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/**
 * Fields whose values differ between two field maps, by name. A field one side lacks counts as
 * null there. `only` limits the comparison to those fields.
 */
export function fieldChanges(left: Record<string, unknown>, right: Record<string, unknown>, only?: readonly string[]): FieldChange[] {
  const names = only ?? [...new Set([...Object.keys(left), ...Object.keys(right)])];
  return [...names]
    .filter((name) => !same(left[name], right[name]))
    .sort()
    .map((field) => ({ field, left: left[field] ?? null, right: right[field] ?? null }));
}

/** Compound fields (read through their components) and file bodies (kept as blobs), never compared as values. */
const NOT_COMPARED_TYPES = new Set(['address', 'location', 'base64']);

/**
 * The fields a restore writes to a record: those that are neither calculated nor system-set,
 * updateable when the record exists, createable when it has to be created again. `Id` never.
 */
export function restorableFields(fields: readonly FieldSummary[], recordExists: boolean): FieldSummary[] {
  return fields.filter((f) => f.name !== 'Id' && !f.calculated && !NOT_COMPARED_TYPES.has(f.type) && (recordExists ? f.updateable : f.createable));
}

/** What became of a record between two states of its object. */
export type RecordDelta =
  | { id: string; change: 'added' }
  | { id: string; change: 'changed'; changedFields: string[] }
  | { id: string; change: 'removed'; removedAs: 'deleted' | 'gone' }
  | { id: string; change: 'unchanged' };

/** A version that counts as present: stored and not deleted. */
const present = (v: RecordVersion | undefined): boolean => v !== undefined && !v.isDeleted;

/**
 * The delta of one record between its version at the left point and at the right point (either
 * may be missing: not yet in the vault). Undefined when it is present on neither side.
 */
export function recordDelta(id: string, left: RecordVersion | undefined, right: RecordVersion | undefined): RecordDelta | undefined {
  if (!present(left)) return present(right) ? { id, change: 'added' } : undefined;
  if (!present(right)) return { id, change: 'removed', removedAs: right && right.changeType !== 'reconciled' ? 'deleted' : 'gone' };
  if (left!.seq === right!.seq) return { id, change: 'unchanged' };
  const changedFields = fieldChanges(left!.fields, right!.fields).map((c) => c.field);
  return changedFields.length === 0 ? { id, change: 'unchanged' } : { id, change: 'changed', changedFields };
}

/** Record IDs compare as the vault orders them: by their bytes (IDs are ASCII). */
export const byId = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Merge-joins two streams of versions, each in ascending record-ID order (as `stateAsOf` yields
 * them), into pairs by record ID. Holds one version of each stream at a time; a stream out of
 * order is an error rather than a wrong answer.
 */
export async function* mergeById(
  left: AsyncIterable<RecordVersion>,
  right: AsyncIterable<RecordVersion>,
): AsyncGenerator<{ id: string; left: RecordVersion | undefined; right: RecordVersion | undefined }> {
  const l = ordered(left, 'left')[Symbol.asyncIterator]();
  const r = ordered(right, 'right')[Symbol.asyncIterator]();
  let a = await l.next();
  let b = await r.next();
  while (!a.done || !b.done) {
    const order = a.done ? 1 : b.done ? -1 : byId(a.value.recordId, b.value.recordId);
    if (order < 0) {
      const v = a.value as RecordVersion;
      yield { id: v.recordId, left: v, right: undefined };
      a = await l.next();
    } else if (order > 0) {
      const v = b.value as RecordVersion;
      yield { id: v.recordId, left: undefined, right: v };
      b = await r.next();
    } else {
      const v = a.value as RecordVersion;
      yield { id: v.recordId, left: v, right: b.value as RecordVersion };
      a = await l.next();
      b = await r.next();
    }
  }
}

async function* ordered(versions: AsyncIterable<RecordVersion>, side: string): AsyncGenerator<RecordVersion> {
  let last: string | undefined;
  for await (const v of versions) {
    if (last !== undefined && byId(last, v.recordId) >= 0) throw new Error(`The ${side} state is not in record-ID order (${last} then ${v.recordId}): a merge-join needs it.`);
    last = v.recordId;
    yield v;
  }
}
