import { isLengthBounded } from '../org/coerce.ts';
import type { FieldDef, ObjectSchema } from '../org/schema.ts';

/** The system fields of a record being loaded; one object, reused for every record. */
export interface SystemValues {
  created: string;
  createdById: string;
  modified: string;
  modifiedById: string;
  systemModstamp: string;
  /** Null: the values' OwnerId, else the creator. */
  ownerId: string | null;
}

type Builder = (values: Record<string, unknown>, system: SystemValues) => Record<string, unknown>;

const SYSTEM_EXPRESSIONS: Record<string, string> = {
  CreatedDate: 's.created',
  CreatedById: 's.createdById',
  LastModifiedDate: 's.modified',
  LastModifiedById: 's.modifiedById',
  SystemModstamp: 's.systemModstamp',
  IsDeleted: 'false',
  OwnerId: 's.ownerId ?? v.OwnerId ?? s.createdById',
};

/**
 * An object's storable fields, read from the org's schema, so that the seeders only ever write
 * fields the catalog defines: a value for a field the catalog lacks is dropped, and a catalog field
 * the seeders do not know gets its default.
 *
 * `make` is compiled per object into one object literal listing every field in definition order:
 * records of an object then share one compact V8 shape, and the bench profile's million records
 * cost a single allocation each before `Org.load` copies them. The generated code only names
 * fields of the catalog (quoted with JSON.stringify) and reads values; it runs no input.
 */
export class Shape {
  readonly object: ObjectSchema;
  readonly make: Builder;
  private readonly fieldSet: Set<string>;
  private readonly fields: FieldDef[];

  constructor(object: ObjectSchema) {
    this.object = object;
    this.fields = object.def.fields.filter(
      (f) => f.name !== 'Id' && !f.formula && f.type !== 'address' && f.type !== 'location',
    );
    this.fieldSet = new Set(this.fields.map((f) => f.name));
    const defaults = this.fields.map(initialValue);
    const entries = this.fields.map((field, i) => {
      const key = JSON.stringify(field.name);
      const system = SYSTEM_EXPRESSIONS[field.name];
      if (system) return `${key}: ${system}`;
      const value = `(x = v[${key}]) === undefined ? d[${i}] : x`;
      return isLengthBounded(field) && field.length ? `${key}: fit(${value}, ${field.length})` : `${key}: ${value}`;
    });
    const body = `return function make(v, s) { let x; const out = { ${entries.join(', ')} }; if (typeof v.Id === 'string') out.Id = v.Id; return out; };`;
    this.make = new Function('d', 'fit', body)(defaults, fit) as Builder;
  }

  get name(): string {
    return this.object.name;
  }

  has(field: string): boolean {
    return this.fieldSet.has(field);
  }

  /** Active values of a picklist field, or the fallback when the field is not a picklist here. */
  values(field: string, fallback: readonly string[] = []): readonly string[] {
    const def = this.object.field(field);
    const values = def?.picklistValues?.filter((p) => p.active).map((p) => p.value);
    return values?.length ? values : fallback;
  }

  /** `preferred` when the field accepts it, else the field's first value (or null). */
  valueOr(field: string, preferred: string): string | null {
    const values = this.values(field);
    if (!values.length) return this.has(field) ? preferred : null;
    return values.includes(preferred) ? preferred : values[0]!;
  }

  /** Required fields (as the write pipeline checks them) that a record leaves blank. */
  missingRequired(record: Record<string, unknown>): string[] {
    return this.fields
      .filter((f) => !f.nillable && (f.createable || f.updateable) && !f.defaultedOnCreate && !f.autoNumber && f.type !== 'boolean')
      .filter((f) => record[f.name] === null || record[f.name] === undefined || record[f.name] === '')
      .map((f) => f.name);
  }
}

/** Text cut to a field's length, as a data load would truncate it. */
function fit(value: unknown, length: number): unknown {
  return typeof value === 'string' && value.length > length ? value.slice(0, length) : value;
}

function initialValue(field: FieldDef): unknown {
  if (field.defaultValue !== undefined) return field.defaultValue;
  if (field.type === 'boolean') return false;
  if (field.picklistValues && field.type === 'picklist') {
    return field.picklistValues.find((p) => p.defaultValue)?.value ?? null;
  }
  return null;
}
