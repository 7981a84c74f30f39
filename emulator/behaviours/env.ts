import type { Org, WriteContext } from '../org/org.ts';
import type { ObjectSchema, StoredRecord } from '../org/schema.ts';
import { formatDatetime } from '../org/values.ts';
import type { FormulaEnv } from './formula.ts';

/** A record and its object, the base a formula's field paths start from. */
export interface Scope {
  object: ObjectSchema;
  record: StoredRecord;
}

/**
 * A field path's value: relationship names first (`Account.Owner.IsActive`), then a field, read as
 * a user sees it (formula fields computed). `$User` is the running user; `$Source` the record a
 * lookup filter is checked for. A missing parent gives null, as a formula does.
 */
export function readPath(org: Org, base: Scope, path: string[], roots: { userId: string; source?: Scope }): unknown {
  let scope: Scope | undefined = base;
  let segments = path;
  const root = segments[0]!.toLowerCase();
  if (root === '$user') {
    const user = org.get(roots.userId);
    const object = org.schema.object('User');
    scope = user && object ? { object, record: user } : undefined;
    segments = segments.slice(1);
  } else if (root === '$source') {
    scope = roots.source;
    segments = segments.slice(1);
  }
  for (let i = 0; scope && i < segments.length; i++) {
    const name = segments[i]!;
    if (i === segments.length - 1) {
      const field = scope.object.field(name);
      return field ? org.readField(scope.object, scope.record, field.name) : null;
    }
    const lookup = scope.object.relationship(name);
    const id = lookup ? scope.record[lookup.name] : undefined;
    const parent = typeof id === 'string' ? org.get(id) : undefined;
    const object = parent ? org.schema.objectForId(parent.Id) : undefined;
    scope = parent && object ? { object, record: parent } : undefined;
  }
  return null;
}

/** The formula environment of a write: the record as it will be, and as it was. */
export function writeEnv(ctx: WriteContext, options: { record?: StoredRecord; source?: Scope } = {}): FormulaEnv {
  const org = ctx.org;
  const record = options.record ?? ctx.record;
  const before = ctx.previous ?? record;
  const roots = { userId: ctx.options.userId, source: options.source };
  return scopeEnv(org, { object: ctx.object, record }, { object: ctx.object, record: before }, roots, ctx.operation === 'create');
}

/** The formula environment of a stored record, read outside a write (lookup filter targets). */
export function scopeEnv(org: Org, scope: Scope, prior: Scope, roots: { userId: string; source?: Scope }, isNew = false): FormulaEnv {
  const nowMs = org.clock.nowMs();
  return {
    field: (path) => readPath(org, scope, path, roots),
    prior: (path) => readPath(org, prior, path, roots),
    isNew,
    today: formatDatetime(nowMs).slice(0, 10),
    now: formatDatetime(nowMs),
  };
}
