/**
 * The compare use case: a backed-up record against the live one, two versions of a record, two
 * states of an object. Depends on the vault's ports and the org port only; shells wire the adapters.
 */
export { compareObject, compareVersions, compareWithLive } from './compare.ts';
export type { CompareDeps, CompareStore, ComparePoint, ObjectComparison, RecordComparison, RecordSide } from './compare.ts';
export { byId, fieldChanges, mergeById, recordDelta, restorableFields } from './diff.ts';
export type { FieldChange, RecordDelta } from './diff.ts';
export { isoTime, parseTime } from '../core/time.ts';
