/**
 * Reading the JSON specs of behaviours and faults: each reader names the body field at fault, so
 * the admin API can answer `{"error":"INVALID_FIELD","message","field"}` as its other routes do.
 */
import type { Org } from '../org/org.ts';
import type { FieldDef, ObjectSchema } from '../org/schema.ts';

/** A spec the admin API refuses; `field` is a path into the body (`[1].condition.and[0]`). */
export class SpecError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }

  /** The same error, its field path placed under a prefix (the spec's index in a list). */
  under(prefix: string): SpecError {
    if (!prefix) return this;
    const joined = this.field.startsWith('[') || !this.field ? `${prefix}${this.field}` : `${prefix}.${this.field}`;
    return new SpecError(joined, this.message);
  }
}

export type Spec = Record<string, unknown>;

export function checkKeys(spec: Spec, allowed: readonly string[]): void {
  for (const key of Object.keys(spec)) {
    if (!allowed.includes(key)) {
      throw new SpecError(key, `Unknown field "${key}" for kind "${String(spec.kind)}"; expected ${allowed.map((a) => `"${a}"`).join(', ')}.`);
    }
  }
}

export function optionalString(spec: Spec, key: string): string | undefined {
  const value = spec[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || !value.trim()) throw new SpecError(key, `"${key}" must be a non-empty string.`);
  return value;
}

export function requiredString(spec: Spec, key: string): string {
  const value = optionalString(spec, key);
  if (value === undefined) throw new SpecError(key, `"${key}" is required.`);
  return value;
}

export function optionalBoolean(spec: Spec, key: string, fallback: boolean): boolean {
  const value = spec[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean') throw new SpecError(key, `"${key}" must be true or false.`);
  return value;
}

export function optionalNumber(spec: Spec, key: string, min: number, max: number): number | undefined {
  const value = spec[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new SpecError(key, `"${key}" must be a number from ${min} to ${max}.`);
  }
  return value;
}

export function optionalInteger(spec: Spec, key: string, min: number, max: number): number | undefined {
  const value = optionalNumber(spec, key, min, max);
  if (value !== undefined && !Number.isInteger(value)) throw new SpecError(key, `"${key}" must be an integer from ${min} to ${max}.`);
  return value;
}

export function optionalStringList(spec: Spec, key: string): string[] | undefined {
  const value = spec[key];
  if (value === undefined || value === null) return undefined;
  const items = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(items) || items.some((v) => typeof v !== 'string' || !v)) throw new SpecError(key, `"${key}" must be a list of strings.`);
  return items as string[];
}

export function oneOf<T extends string>(spec: Spec, key: string, values: readonly T[], fallback?: T): T {
  const value = spec[key];
  if ((value === undefined || value === null) && fallback !== undefined) return fallback;
  if (typeof value !== 'string' || !values.includes(value as T)) throw new SpecError(key, `"${key}" must be one of ${values.map((v) => `"${v}"`).join(', ')}.`);
  return value as T;
}

export function seedOf(spec: Spec): string | number {
  const seed = spec.seed;
  if (seed === undefined || seed === null) return 1;
  if ((typeof seed === 'number' && Number.isFinite(seed)) || (typeof seed === 'string' && seed.length <= 200)) return seed;
  throw new SpecError('seed', '"seed" must be a string or a number.');
}

export const WRITE_OPERATIONS = ['create', 'update', 'delete', 'undelete'] as const;
export type WriteOperation = (typeof WRITE_OPERATIONS)[number];

export function operationsOf(spec: Spec, fallback: readonly WriteOperation[]): WriteOperation[] {
  const list = optionalStringList(spec, 'operations');
  if (!list) return [...fallback];
  for (const op of list) {
    if (!WRITE_OPERATIONS.includes(op as WriteOperation)) throw new SpecError('operations', `"operations" entries must be ${WRITE_OPERATIONS.join(', ')}.`);
  }
  return list as WriteOperation[];
}

/** The object a spec names, in its canonical spelling. */
export function objectOf(org: Org, spec: Spec, key = 'object'): ObjectSchema {
  const name = requiredString(spec, key);
  const object = org.schema.object(name);
  if (!object) throw new SpecError(key, `No object "${name}" in this org.`);
  return object;
}

export function optionalObject(org: Org, spec: Spec, key = 'object'): ObjectSchema | undefined {
  return spec[key] === undefined || spec[key] === null ? undefined : objectOf(org, spec, key);
}

export function fieldOf(object: ObjectSchema, spec: Spec, key = 'field'): FieldDef {
  const name = requiredString(spec, key);
  const field = object.field(name);
  if (!field) throw new SpecError(key, `No field "${name}" on ${object.name}.`);
  return field;
}

/** Record IDs as 18 characters (an ID given with 15 is accepted, as Salesforce does). */
export function recordIdList(spec: Spec, key: string, toId18: (id: string) => string | undefined): string[] | undefined {
  const ids = optionalStringList(spec, key);
  if (!ids) return undefined;
  return ids.map((id) => {
    const id18 = toId18(id);
    if (!id18) throw new SpecError(key, `"${id}" is not a Salesforce record ID.`);
    return id18;
  });
}
