import type { FieldDef, ObjectSchema, Schema, StoredRecord } from '../org/schema.ts';

/**
 * What the SOQL engine reads. The org implements it for the API user: `schema` holds only the
 * objects and fields that user can see, and `readField` applies formulas and encryption masks, so
 * the engine never needs to know about permissions.
 */
export interface QuerySource {
  /** The objects and fields visible to the querying user. */
  readonly schema: Schema;
  /** Every stored record of an object; deleted ones (IsDeleted = true) only when asked for. */
  scan(objectName: string, includeDeleted: boolean): Iterable<StoredRecord>;
  /** A record of any object by 18-character ID, deleted ones included, or undefined. */
  get(id: string): StoredRecord | undefined;
  /** A field's value as the user sees it: formulas computed, encrypted fields masked. */
  readField(object: ObjectSchema, record: StoredRecord, fieldName: string): unknown;
  /** The same as `readField` for one field, resolved once: the hot path of projection and filters. */
  fieldReader(object: ObjectSchema, field: FieldDef): (record: StoredRecord) => unknown;
  /**
   * Whether `fieldReader` of this field gives the stored value as is (`record[field.name] ?? null`:
   * no formula, no mask), so that generated row writers may read the property directly. A source
   * without it is always read through `fieldReader`.
   */
  isStoredValue?(object: ObjectSchema, field: FieldDef): boolean;
  /** The org's current time (epoch ms) for date literals such as TODAY and LAST_N_DAYS:n. */
  nowMs(): number;
}
