import type { FieldFunctionExpression, Query } from '@jetstreamapp/soql-parser-js';
import type { ObjectSchema, StoredRecord } from '../org/schema.ts';
import type { CompileContext } from './context.ts';
import { clauseOffset, locateWord } from './lexer.ts';
import { normalizer, outputValue, resolveField } from './paths.ts';
import type { FieldRef, ValueKind } from './paths.ts';
import { orderRows, sortSpec } from './order.ts';
import type { OrderPlan } from './order.ts';
import { messages, queryError } from './query-error.ts';

/**
 * Aggregate queries: COUNT, COUNT_DISTINCT, SUM, AVG, MIN, MAX with optional GROUP BY on plain
 * fields or parent paths. Each result row is an AggregateResult keyed by alias, by `exprN` for
 * unaliased aggregates (numbered in SELECT order), and by the field name for grouped fields.
 */

const AGGREGATES = new Set(['COUNT', 'COUNT_DISTINCT', 'SUM', 'AVG', 'MIN', 'MAX']);

export function isAggregateQuery(query: Query): boolean {
  if (query.groupBy) return true;
  return (query.fields ?? []).some((f) => f.type === 'FieldFunctionExpression' && AGGREGATES.has(f.functionName.toUpperCase()));
}

/** `SELECT COUNT() FROM ...`: a count and no rows. */
export function isCountQuery(query: Query): boolean {
  const fields = query.fields ?? [];
  return fields.some((f) => f.type === 'FieldFunctionExpression' && f.functionName.toUpperCase() === 'COUNT' && f.parameters.length === 0);
}

type Output =
  | { key: string; kind: ValueKind; group: number }
  | { key: string; kind: ValueKind; fn: string; ref: FieldRef | undefined; match: string };

interface Accumulator {
  count: number;
  sum: number;
  distinct: Set<unknown> | undefined;
  best: unknown;
  bestKey: string | number | boolean | null;
}

export interface AggregatePlan {
  keys: string[];
  /** Groups in result order, each one output row (values keyed like the REST record). */
  rows(matching: Iterable<StoredRecord>): StoredRecord[];
}

/** Where an aggregate row keeps the value of its i-th GROUP BY field (not an output key). */
const groupKey = (i: number): string => `\u0000group${i}`;

/** A grouping value as part of a bucket key; the type tag keeps null, 1 and '1' apart. */
const groupPart = (v: string | number | boolean | null): string => (v === null ? '\u0000' : `${typeof v}:${v}`);

function fnKey(fn: string, path: string | undefined): string {
  return `${fn}(${(path ?? '').toLowerCase()})`;
}

export function compileAggregate(ctx: CompileContext, object: ObjectSchema, query: Query): AggregatePlan {
  const groupItems = query.groupBy === undefined ? [] : Array.isArray(query.groupBy) ? query.groupBy : [query.groupBy];
  const groupOffset = clauseOffset(ctx.scope, 'GROUP') ?? 0;
  let cursor = groupOffset;
  const groups: FieldRef[] = groupItems.map((g) => {
    if (!('field' in g)) {
      const name = g.fn.functionName ?? 'function';
      throw queryError('MALFORMED_QUERY', `GROUP BY ${name}() is not supported by the orgvault emulator`, ctx.soql, locateWord(ctx.scope, name, groupOffset));
    }
    const offset = locateWord(ctx.scope, g.field, cursor);
    cursor = offset + 1;
    const ref = resolveField(ctx, object, g.field, offset);
    if (ref.field.groupable === false || ref.kind === 'compound' || ref.kind === 'base64' || ref.kind === 'multipicklist') {
      throw queryError('INVALID_FIELD', `field '${ref.written}' can not be grouped in a query call`, ctx.soql, offset);
    }
    return ref;
  });
  if (query.having) {
    throw queryError('MALFORMED_QUERY', 'HAVING is not supported by the orgvault emulator', ctx.soql, clauseOffset(ctx.scope, 'HAVING') ?? 0);
  }

  const outputs: Output[] = [];
  let exprIndex = 0;
  cursor = ctx.scope.tokens[ctx.scope.from]?.start ?? 0;
  for (const item of query.fields ?? []) {
    if (item.type === 'Field' || item.type === 'FieldRelationship') {
      const written = item.type === 'Field' ? ('rawValue' in item ? item.rawValue : item.field) : (item.rawValue ?? [...item.relationships, item.field].join('.'));
      const offset = locateWord(ctx.scope, written, cursor);
      cursor = offset + 1;
      const ref = resolveField(ctx, object, written, offset);
      const group = groups.findIndex((g) => g.path.toLowerCase() === ref.path.toLowerCase());
      if (group < 0) throw queryError('MALFORMED_QUERY', `Field must be grouped or aggregated: ${ref.written}`, ctx.soql, offset);
      outputs.push({ key: ref.field.name, kind: ref.kind, group });
      continue;
    }
    if (item.type !== 'FieldFunctionExpression' || !AGGREGATES.has(item.functionName.toUpperCase())) {
      const offset = locateWord(ctx.scope, item.type === 'FieldFunctionExpression' ? item.functionName : 'SELECT', cursor);
      throw queryError('MALFORMED_QUERY', 'Only fields, aggregate functions and GROUP BY are supported in aggregate queries by the orgvault emulator', ctx.soql, offset);
    }
    outputs.push(aggregateOutput(ctx, object, item, () => (item.alias ? item.alias : `expr${exprIndex++}`), cursor));
    cursor = locateWord(ctx.scope, item.functionName, cursor) + 1;
  }

  const order = aggregateOrder(ctx, object, query, outputs, groups);
  const limit = query.limit;
  const offset = query.offset ?? 0;

  return {
    keys: outputs.map((o) => o.key),
    rows(matching) {
      const groupNorms = groups.map((g) => normalizer(g.kind, g.field));
      const aggregates = outputs.filter((o): o is Extract<Output, { fn: string }> => 'fn' in o);
      const norms = aggregates.map((a) => (a.ref ? normalizer(a.ref.kind, a.ref.field) : () => 1));
      const buckets = new Map<string, { values: unknown[]; accs: Accumulator[] }>();
      for (const record of matching) {
        const values = groups.map((g) => g.read(record));
        const key = groups.length === 0 ? '' : groups.length === 1 ? groupPart(groupNorms[0](values[0])) : values.map((v, i) => groupPart(groupNorms[i](v))).join('\u0001');
        let bucket = buckets.get(key);
        if (!bucket) {
          bucket = { values, accs: aggregates.map(() => ({ count: 0, sum: 0, distinct: undefined, best: null, bestKey: null })) };
          buckets.set(key, bucket);
        }
        for (let i = 0; i < aggregates.length; i++) accumulate(aggregates[i], norms[i], bucket.accs[i], record);
      }
      // Without GROUP BY there is always exactly one row, even over no records.
      if (groups.length === 0 && buckets.size === 0) {
        buckets.set('', { values: [], accs: aggregates.map(() => ({ count: 0, sum: 0, distinct: undefined, best: null, bestKey: null })) });
      }
      let rows: StoredRecord[] = [...buckets.values()].map((bucket) => {
        const row: Record<string, unknown> = { Id: '' };
        bucket.values.forEach((v, i) => (row[groupKey(i)] = v));
        let a = 0;
        for (const o of outputs) {
          row[o.key] = 'group' in o ? outputValue(o.kind, bucket.values[o.group]) : result(o, bucket.accs[a++]);
        }
        return row as StoredRecord;
      });
      if (order) rows = orderRows(rows, order);
      return rows.slice(offset, limit === undefined ? undefined : offset + limit);
    },
  };
}

function aggregateOutput(
  ctx: CompileContext,
  object: ObjectSchema,
  item: FieldFunctionExpression,
  key: () => string,
  cursor: number,
): Output {
  const fn = item.functionName.toUpperCase();
  const offset = locateWord(ctx.scope, item.functionName, cursor);
  const param = item.parameters[0];
  if (typeof param !== 'string') {
    if (fn === 'COUNT') return { key: key(), kind: 'number', fn, ref: undefined, match: fnKey(fn, undefined) };
    throw queryError('MALFORMED_QUERY', messages.unexpectedToken(')'), ctx.soql, offset);
  }
  const ref = resolveField(ctx, object, param, locateWord(ctx.scope, param, offset));
  if ((fn === 'SUM' || fn === 'AVG') && ref.kind !== 'number') {
    throw queryError('INVALID_FIELD', `field ${ref.written} does not support aggregate operator ${fn}`, ctx.soql, offset);
  }
  const kind: ValueKind = fn === 'COUNT' || fn === 'COUNT_DISTINCT' || fn === 'SUM' || fn === 'AVG' ? 'number' : ref.kind;
  return { key: key(), kind, fn, ref, match: fnKey(fn, ref.path) };
}

function accumulate(
  output: Extract<Output, { fn: string }>,
  norm: (v: unknown) => string | number | boolean | null,
  acc: Accumulator,
  record: StoredRecord,
): void {
  if (!output.ref) {
    acc.count++;
    return;
  }
  const raw = output.ref.read(record);
  const key = norm(raw);
  if (key === null) return;
  acc.count++;
  switch (output.fn) {
    case 'COUNT_DISTINCT':
      (acc.distinct ??= new Set()).add(key);
      break;
    case 'SUM':
    case 'AVG':
      acc.sum += Number(key);
      break;
    case 'MIN':
      if (acc.bestKey === null || key < acc.bestKey) {
        acc.bestKey = key;
        acc.best = raw;
      }
      break;
    case 'MAX':
      if (acc.bestKey === null || key > acc.bestKey) {
        acc.bestKey = key;
        acc.best = raw;
      }
      break;
  }
}

function result(output: Extract<Output, { fn: string }>, acc: Accumulator): unknown {
  switch (output.fn) {
    case 'COUNT':
      return acc.count;
    case 'COUNT_DISTINCT':
      return acc.distinct?.size ?? 0;
    // Salesforce sums decimals exactly; 15 significant digits drop binary floating-point noise.
    case 'SUM':
      return acc.count ? Number(acc.sum.toPrecision(15)) : null;
    case 'AVG':
      return acc.count ? Number((acc.sum / acc.count).toPrecision(15)) : null;
    default:
      return outputValue(output.kind, acc.best);
  }
}

function aggregateOrder(
  ctx: CompileContext,
  object: ObjectSchema,
  query: Query,
  outputs: Output[],
  groups: FieldRef[],
): OrderPlan<StoredRecord> | undefined {
  const items = query.orderBy === undefined ? [] : Array.isArray(query.orderBy) ? query.orderBy : [query.orderBy];
  if (items.length === 0) return undefined;
  const orderOffset = clauseOffset(ctx.scope, 'ORDER') ?? 0;
  const readers = items.map((item) => {
    if ('field' in item) {
      const offset = locateWord(ctx.scope, item.field, orderOffset);
      const ref = resolveField(ctx, object, item.field, offset);
      const group = groups.findIndex((g) => g.path.toLowerCase() === ref.path.toLowerCase());
      if (group < 0) throw queryError('MALFORMED_QUERY', `Ordered field must be grouped or aggregated: ${ref.written}`, ctx.soql, offset);
      const norm = normalizer(ref.kind, ref.field);
      // Rows keep every group value under a hidden key, so grouping fields need not be selected.
      const hidden = groupKey(group);
      return (r: StoredRecord) => norm(r[hidden]);
    }
    const fn = (item.fn.functionName ?? '').toUpperCase();
    const param = item.fn.parameters?.[0];
    const offset = locateWord(ctx.scope, item.fn.functionName ?? 'ORDER', orderOffset);
    const path = typeof param === 'string' ? resolveField(ctx, object, param, offset).path : undefined;
    const match = fnKey(fn, path);
    const out = outputs.find((o) => 'fn' in o && o.match === match);
    if (!out) throw queryError('MALFORMED_QUERY', `ORDER BY ${item.fn.rawValue ?? fn} must also be selected in the orgvault emulator`, ctx.soql, offset);
    const norm = out.kind === 'number' ? (v: unknown) => (v === null ? null : Number(v)) : (v: unknown) => (v === null ? null : typeof v === 'string' ? v.toLowerCase() : (v as string));
    return (r: StoredRecord) => norm(r[out.key] ?? null);
  });
  return { specs: items.map(sortSpec), keys: readers };
}
