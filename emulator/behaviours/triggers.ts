/**
 * Apex-like triggers: before or after a write of an object, optionally under a condition, they
 * update the record itself or a record it points at, create records, or delete. Their writes go
 * through the API pipeline, so they fire other triggers and rules, inside the same transaction.
 *
 * Salesforce forbids a trigger from updating or deleting the record it fires for from a before
 * trigger, and from deleting it from an after trigger, directly or through other triggers
 * (SELF_REFERENCE_FROM_TRIGGER). An after trigger may update its own record; that fires it again,
 * up to a depth of 16.
 */
import { RecordWriteError, SalesforceError } from '../org/errors.ts';
import type { Org, WriteContext, WriteOptions } from '../org/org.ts';
import type { ObjectSchema } from '../org/schema.ts';
import { writeEnv } from './env.ts';
import { checkPath, compileCondition, holds } from './formula.ts';
import type { FormulaEnv } from './formula.ts';
import { SpecError, checkKeys, objectOf, oneOf, operationsOf, optionalBoolean, requiredString } from './spec.ts';
import type { Spec, WriteOperation } from './spec.ts';

const MAX_DEPTH = 16;

interface Frame {
  recordId: string;
  trigger: string;
  timing: 'before' | 'after';
}

/** Which records are in a trigger right now, per org (writes are synchronous, so a stack). */
export class TriggerStack {
  readonly frames: Frame[] = [];

  /** SELF_REFERENCE_FROM_TRIGGER when a write reaches a record its own trigger is running for. */
  selfReference(ctx: WriteContext): SalesforceError | undefined {
    if (ctx.operation !== 'update' && ctx.operation !== 'delete') return undefined;
    const frame = this.frames.find((f) => f.recordId === ctx.record.Id && (f.timing === 'before' || ctx.operation === 'delete'));
    if (!frame) return undefined;
    return selfReferenceError(ctx.record.Id, frame.trigger, ctx.operation);
  }
}

function selfReferenceError(id: string, trigger: string, operation: 'update' | 'delete'): SalesforceError {
  return new SalesforceError(
    'SELF_REFERENCE_FROM_TRIGGER',
    `Object (id = ${id.slice(0, 15)}) is currently in trigger ${trigger}, therefore it cannot recursively ${operation} itself`,
    { fields: [] },
  );
}

type Action =
  | { kind: 'update'; target: string; set: Record<string, unknown> }
  | { kind: 'create'; object: string; values: Record<string, unknown> }
  | { kind: 'delete'; target: string };

export interface Trigger {
  readonly name: string;
  readonly kind: 'trigger';
  readonly timing: 'before' | 'after';
  readonly spec: Spec;
  fire(ctx: WriteContext, stack: TriggerStack): void;
}

/**
 * `{"kind":"trigger","name","object","timing":"before"|"after","operations":[…],"condition"?,
 * "actions":[{"update":"self"|"<LookupField>","set":{…}} | {"create":"<Object>","values":{…}} |
 * {"delete":"self"|"<LookupField>"}], "wrapErrors"?}`. Values may hold `{!Field}` (a path on the
 * triggering record). With `wrapErrors`, a failing action fails the write as an unhandled Apex
 * exception does (CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY quoting the inner error); without, the inner
 * status code and message come through as they are.
 */
export function trigger(org: Org, spec: Spec): Trigger {
  checkKeys(spec, ['kind', 'name', 'object', 'timing', 'operations', 'condition', 'formula', 'actions', 'wrapErrors', 'active']);
  const object = objectOf(org, spec);
  const name = requiredString(spec, 'name');
  const timing = oneOf(spec, 'timing', ['before', 'after'] as const, 'after');
  const operations = operationsOf(spec, ['create', 'update']);
  const expr = compileCondition(spec, object, org.schema, { required: false });
  const wrapErrors = optionalBoolean(spec, 'wrapErrors', false);
  const active = optionalBoolean(spec, 'active', true);
  if (!Array.isArray(spec.actions) || !spec.actions.length) throw new SpecError('actions', '"actions" must be a non-empty list.');
  const actions = spec.actions.map((raw, i) => {
    try {
      return parseAction(org, object, raw);
    } catch (error) {
      throw error instanceof SpecError ? error.under(`actions[${i}]`) : error;
    }
  });

  return {
    name,
    kind: 'trigger',
    timing,
    spec: { ...spec, object: object.name, timing, operations, wrapErrors, active },
    fire(ctx, stack) {
      if (!active || ctx.object.name !== object.name || !operations.includes(ctx.operation)) return;
      const env = writeEnv(ctx);
      if (expr && !holds(expr, env)) return;
      if (stack.frames.length >= MAX_DEPTH) {
        throw new RecordWriteError([new SalesforceError('CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY', `${name}: maximum trigger depth exceeded`, { fields: [] })]);
      }
      stack.frames.push({ recordId: ctx.record.Id, trigger: name, timing });
      const options: WriteOptions = { userId: ctx.options.userId, allowDuplicates: ctx.options.allowDuplicates };
      try {
        for (const action of actions) {
          try {
            runAction(ctx, action, env, options, name, timing);
          } catch (error) {
            if (!wrapErrors) throw error;
            const targetId = action.kind === 'create' ? undefined : action.target === 'self' ? ctx.record.Id : ctx.record[action.target];
            throw apexException(error, { name, timing, operation: ctx.operation, dml: action.kind, targetId: typeof targetId === 'string' ? targetId : undefined });
          }
        }
      } finally {
        stack.frames.pop();
      }
    },
  };
}

function parseAction(org: Org, object: ObjectSchema, raw: unknown): Action {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new SpecError('', 'An action must be a JSON object.');
  const action = raw as Spec;
  const kinds = ['update', 'create', 'delete'].filter((k) => action[k] !== undefined);
  if (kinds.length !== 1) throw new SpecError('', 'An action has exactly one of "update", "create" or "delete".');
  const values = (key: string, target: ObjectSchema | undefined): Record<string, unknown> => {
    const map = action[key];
    if (!map || typeof map !== 'object' || Array.isArray(map)) throw new SpecError(key, `"${key}" must be an object of field values.`);
    for (const [field, value] of Object.entries(map)) {
      if (target && !target.field(field)) throw new SpecError(`${key}.${field}`, `No field "${field}" on ${target.name}.`);
      for (const [, path] of String(typeof value === 'string' ? value : '').matchAll(/\{!([^}]+)\}/g)) {
        const problem = checkPath(path!.trim().split('.'), object, org.schema);
        if (problem) throw new SpecError(`${key}.${field}`, problem);
      }
    }
    return map as Record<string, unknown>;
  };
  if (action.create !== undefined) {
    checkKeys(action, ['create', 'values']);
    const target = objectOf(org, action, 'create');
    return { kind: 'create', object: target.name, values: values('values', target) };
  }
  const verb = kinds[0] as 'update' | 'delete';
  const target = requiredString(action, verb);
  let targetObject: ObjectSchema | undefined = object;
  if (target !== 'self') {
    const field = object.field(target);
    if (!field || field.type !== 'reference' || field.name === 'Id') throw new SpecError(verb, `"${verb}" must be "self" or a lookup field of ${object.name}.`);
    targetObject = field.referenceTo?.length === 1 ? org.schema.object(field.referenceTo[0]!) : undefined;
  }
  if (verb === 'delete') {
    checkKeys(action, ['delete']);
    return { kind: 'delete', target };
  }
  checkKeys(action, ['update', 'set']);
  return { kind: 'update', target, set: values('set', targetObject) };
}

/** Values with `{!Path}` replaced from the triggering record; a value that is only one keeps its type. */
function resolve(values: Record<string, unknown>, env: FormulaEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(values)) {
    if (typeof value !== 'string' || !value.includes('{!')) {
      out[field] = value;
      continue;
    }
    const whole = /^\{!([^}]+)\}$/.exec(value);
    out[field] = whole ? (env.field(whole[1]!.trim().split('.')) ?? null) : value.replace(/\{!([^}]+)\}/g, (_m, path: string) => String(env.field(path.trim().split('.')) ?? ''));
  }
  return out;
}

function runAction(ctx: WriteContext, action: Action, env: FormulaEnv, options: WriteOptions, name: string, timing: 'before' | 'after'): void {
  const org = ctx.org;
  if (action.kind === 'create') {
    org.insert(action.object, resolve(action.values, env), options);
    return;
  }
  const id = action.target === 'self' ? ctx.record.Id : ctx.record[action.target];
  if (typeof id !== 'string') return;
  // A before-insert record does not exist yet: any write to it is a write to itself.
  if (action.target === 'self' && ctx.operation === 'create' && timing === 'before') {
    throw new RecordWriteError([selfReferenceError(id, name, action.kind)]);
  }
  if (action.kind === 'delete') {
    org.delete(id, options);
    return;
  }
  const object = org.schema.objectForId(id);
  if (!object) return;
  org.update(object.name, id, resolve(action.set, env), options);
}

const EVENT: Record<WriteOperation, string> = { create: 'Insert', update: 'Update', delete: 'Delete', undelete: 'Undelete' };

/** An unhandled DmlException as Apex reports it from a trigger. */
function apexException(
  error: unknown,
  at: { name: string; timing: 'before' | 'after'; operation: WriteOperation; dml: Action['kind']; targetId: string | undefined },
): unknown {
  const inner = error instanceof RecordWriteError ? error.errors[0] : error instanceof SalesforceError ? error : undefined;
  if (!inner) return error;
  const event = `${at.timing === 'before' ? 'Before' : 'After'}${EVENT[at.operation]}`;
  const dml = { create: 'Insert', update: 'Update', delete: 'Delete' }[at.dml];
  const row = at.targetId ? `row 0 with id ${at.targetId}` : 'row 0';
  const message =
    `${at.name}: execution of ${event}\n\ncaused by: System.DmlException: ${dml} failed. First exception on ${row}; first error: ` +
    `${inner.errorCode}, ${inner.message}: [${(inner.fields ?? []).join(', ')}]\n\nTrigger.${at.name}: line 1, column 1`;
  return new RecordWriteError([new SalesforceError('CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY', message, { fields: [] })]);
}
