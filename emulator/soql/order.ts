import type { OrderByClause } from '@jetstreamapp/soql-parser-js';
import type { ObjectSchema, StoredRecord } from '../org/schema.ts';
import type { CompileContext } from './context.ts';
import { clauseOffset, locateWord } from './lexer.ts';
import { normalizer, resolveField, sharedReader } from './paths.ts';
import { messages, queryError } from './query-error.ts';

/**
 * ORDER BY: keys are computed once per row into comparable form (lower-cased text, numbers,
 * canonical date strings) and compared by a precomputed comparator. With a LIMIT only the best
 * `offset + limit` rows are kept in a bounded heap, so a LIMIT 2000 page of a million-row table
 * never sorts the whole table.
 */

export interface SortSpec {
  desc: boolean;
  nullsFirst: boolean;
}

export interface OrderPlan<T> {
  specs: SortSpec[];
  /** One reader per ORDER BY item, giving the row's key in comparable form. */
  keys: Array<(row: T) => unknown>;
}

/** The sort direction and null placement of one ORDER BY item, with Salesforce's defaults. */
export function sortSpec(item: OrderByClause): SortSpec {
  const desc = item.order?.toUpperCase() === 'DESC';
  // ASC puts nulls first and DESC puts them last unless NULLS says otherwise.
  const nullsFirst = item.nulls ? item.nulls.toUpperCase() === 'FIRST' : !desc;
  return { desc, nullsFirst };
}

/** Compiles the ORDER BY of a non-aggregate query; undefined when there is none. */
export function compileOrderBy(ctx: CompileContext, object: ObjectSchema, orderBy: OrderByClause | OrderByClause[] | undefined): OrderPlan<StoredRecord> | undefined {
  const items = orderBy === undefined ? [] : Array.isArray(orderBy) ? orderBy : [orderBy];
  if (items.length === 0) return undefined;
  let cursor = clauseOffset(ctx.scope, 'ORDER') ?? 0;
  const readers: Array<(r: StoredRecord) => unknown> = [];
  for (const item of items) {
    if (!('field' in item)) {
      const name = item.fn.functionName ?? item.fn.rawValue ?? 'function';
      throw queryError('MALFORMED_QUERY', messages.unexpectedToken(name), ctx.soql, locateWord(ctx.scope, name, cursor));
    }
    const offset = locateWord(ctx.scope, item.field, cursor);
    cursor = offset + 1;
    const ref = sharedReader(ctx, object, resolveField(ctx, object, item.field, offset));
    if (ref.field.sortable === false || ref.kind === 'compound' || ref.kind === 'base64' || ref.kind === 'multipicklist') {
      throw queryError('INVALID_FIELD', `field '${ref.written}' can not be sorted in a query call`, ctx.soql, offset);
    }
    const norm = normalizer(ref.kind, ref.field);
    const read = ref.read;
    readers.push((r) => norm(read(r)));
  }
  return { specs: items.map(sortSpec), keys: readers };
}

type Key = string | number | boolean | null;

/**
 * Compares row indexes by precomputed key columns. Ties fall back to the index, which is scan
 * order, so equal keys keep the order Salesforce would return them in for an unsorted query.
 */
function comparator(specs: SortSpec[], columns: Key[][]): (a: number, b: number) => number {
  if (columns.length === 1) {
    // The common single-key case without the loop.
    const [column] = columns;
    const [{ desc, nullsFirst }] = specs;
    return (a, b) => {
      const x = column[a];
      const y = column[b];
      if (x === y) return a - b;
      if (x === null) return nullsFirst ? -1 : 1;
      if (y === null) return nullsFirst ? 1 : -1;
      return x < y === desc ? 1 : -1;
    };
  }
  const n = columns.length;
  const desc = specs.map((s) => s.desc);
  const nullsFirst = specs.map((s) => s.nullsFirst);
  return (a, b) => {
    for (let i = 0; i < n; i++) {
      const column = columns[i];
      const x = column[a];
      const y = column[b];
      if (x === y) continue;
      if (x === null) return nullsFirst[i] ? -1 : 1;
      if (y === null) return nullsFirst[i] ? 1 : -1;
      return x < y === desc[i] ? 1 : -1;
    }
    return a - b;
  };
}

/**
 * Sorts rows by the plan. Keys are computed once per row into columns and row indexes are sorted,
 * so the comparator touches no objects (callers may pass the columns, computed while scanning).
 * With `keep`, only the first `keep` rows in order are
 * returned, found with a bounded max-heap in O(n log keep).
 */
export function orderRows<T>(rows: T[], plan: OrderPlan<T>, keep?: number, keyColumns?: unknown[][]): T[] {
  const n = rows.length;
  const columns = (keyColumns ??
    plan.keys.map((key) => {
      const column = new Array<Key>(n);
      for (let i = 0; i < n; i++) column[i] = key(rows[i]) as Key;
      return column;
    })) as Key[][];
  const cmp = comparator(plan.specs, columns);
  if (keep === undefined || keep >= n) {
    const order = new Array<number>(n);
    for (let i = 0; i < n; i++) order[i] = i;
    order.sort(cmp);
    return order.map((i) => rows[i]);
  }
  if (keep <= 0) return [];
  // heap[0] is the worst of the best `keep` rows seen so far.
  const heap: number[] = [];
  const siftUp = (start: number): void => {
    let i = start;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (cmp(heap[i], heap[parent]) <= 0) break;
      [heap[i], heap[parent]] = [heap[parent], heap[i]];
      i = parent;
    }
  };
  const siftDown = (): void => {
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let top = i;
      if (l < heap.length && cmp(heap[l], heap[top]) > 0) top = l;
      if (r < heap.length && cmp(heap[r], heap[top]) > 0) top = r;
      if (top === i) return;
      [heap[i], heap[top]] = [heap[top], heap[i]];
      i = top;
    }
  };
  for (let i = 0; i < n; i++) {
    if (heap.length < keep) {
      heap.push(i);
      siftUp(heap.length - 1);
    } else if (cmp(i, heap[0]) < 0) {
      heap[0] = i;
      siftDown();
    }
  }
  return heap.sort(cmp).map((i) => rows[i]);
}
