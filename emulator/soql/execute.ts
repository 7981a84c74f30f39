import { parseQuery } from '@jetstreamapp/soql-parser-js';
import type { Query } from '@jetstreamapp/soql-parser-js';
import type { ObjectSchema, StoredRecord } from '../org/schema.ts';
import { SalesforceError } from '../org/errors.ts';
import type { QuerySource } from './source.ts';
import type { CompileContext, SoqlOptions } from './context.ts';
import { clauseOffset, locateWord, tokenize, wholeScope } from './lexer.ts';
import { messages, parseFailure, queryError } from './query-error.ts';
import { resolveObject } from './paths.ts';
import { compileWhere, whereTree } from './where.ts';
import type { Predicate } from './where.ts';
import { compileOrderBy, orderRows } from './order.ts';
import { compileSelect, projectRest, projectRestJson } from './projection.ts';
import { compileAggregate, isAggregateQuery, isCountQuery } from './aggregate.ts';
import { bulkError } from './bulk-rules.ts';

/**
 * The emulator's SOQL engine. One entry point, `executeSoql`, compiles a query against what the
 * querying user can see (a QuerySource) and returns the matching rows with projections for REST
 * JSON and Bulk CSV. Errors are SalesforceError (status 400) with Salesforce's codes and messages.
 *
 * Supported: field lists with parent paths (polymorphic too), child subqueries, FIELDS(), toLabel(),
 * WHERE with every comparison operator, LIKE, IN/NOT IN (lists and semi-/anti-joins),
 * INCLUDES/EXCLUDES, date literals; ORDER BY, LIMIT, OFFSET; COUNT() and aggregate functions with
 * GROUP BY. Not supported (MALFORMED_QUERY saying so): TYPEOF, HAVING, functions in WHERE, GROUP BY
 * ROLLUP/CUBE, WITH DATA CATEGORY.
 */

export type { SoqlOptions } from './context.ts';

export interface QueryPlanResult {
  /** Object queried (canonical name). */
  object: string;
  /** For COUNT() queries: the count and no rows. */
  count?: number;
  totalSize: number;
  /**
   * Matching records, filtered, ordered, OFFSET/LIMIT applied. Projection is lazy so a
   * 1,000,000-row result costs little until pages are served. Aggregate queries return one
   * synthetic row per group, meaningful only to the projections below.
   */
  rows: StoredRecord[];
  /**
   * REST JSON shape of one row: {"attributes":{"type","url"}, fields..., Parent: {attributes,...}|null,
   * Children: {totalSize,done,records}|null}. url = `/services/data/v${apiVersion}/sobjects/${type}/${Id}`.
   * Aggregate rows are `{"attributes":{"type":"AggregateResult"}, alias|exprN: value}`.
   */
  projectRest(row: StoredRecord, apiVersion: string): Record<string, unknown>;
  /** `projectRest` as JSON text, without building the object: the serving hot path. */
  projectRestJson(row: StoredRecord, apiVersion: string): string;
  /**
   * Flat column names for Bulk API CSV (dotted parent paths like Account.Name, canonical case).
   * Child subqueries have no columns.
   */
  columns: string[];
  /**
   * Values in `columns` order, as REST prints them (numbers, booleans, canonical datetimes, null
   * for empty); the CSV writer formats them. Base64 fields give their stored content.
   */
  projectFlat(row: StoredRecord): unknown[];
}

const MAX_OFFSET = 2000;

export function executeSoql(source: QuerySource, soql: string, options: SoqlOptions): QueryPlanResult {
  let query: Query;
  try {
    query = parseQuery(soql);
  } catch (error) {
    throw parseFailure(soql, error);
  }
  const scope = wholeScope(tokenize(soql));
  const ctx: CompileContext = { source, soql, options, scope, alias: query.sObjectAlias, readers: new Map() };

  if (options.context === 'bulk') rejectForBulk(query);
  // The grammar is checked before any name is resolved, as Salesforce does.
  whereTree(ctx, query.where);
  const fromOffset = clauseOffset(scope, 'FROM') ?? 0;
  const object = resolveObject(ctx, query.sObject, locateWord(scope, query.sObject ?? '', fromOffset));
  if (query.offset !== undefined && query.offset > MAX_OFFSET) {
    throw new SalesforceError('NUMBER_OUTSIDE_VALID_RANGE', messages.maxOffset);
  }

  if (isCountQuery(query)) return executeCount(ctx, object, query);
  if (isAggregateQuery(query)) return executeAggregate(ctx, object, query);

  const plan = compileSelect(ctx, object, query.fields ?? [], query.limit, true);
  const where = compileWhere(ctx, object, query.where);
  const order = compileOrderBy(ctx, object, query.orderBy);
  const offset = query.offset ?? 0;
  const keep = query.limit === undefined ? undefined : offset + query.limit;

  let rows: StoredRecord[];
  if (order) {
    const keys = order.keys;
    const columns: unknown[][] = keys.map(() => []);
    // Sort keys are read in the same pass as the filter, while the shared readers still hold the row.
    rows = collect(ctx, object, where, undefined, (record) => {
      for (let k = 0; k < keys.length; k++) columns[k].push(keys[k](record));
    });
    rows = orderRows(rows, order, keep, columns);
  } else rows = collect(ctx, object, where, keep);
  if (offset) rows = rows.slice(offset);

  return {
    object: object.name,
    totalSize: rows.length,
    rows,
    projectRest: (row, apiVersion) => projectRest(ctx, plan, row, apiVersion),
    projectRestJson: (row, apiVersion) => projectRestJson(ctx, plan, row, apiVersion),
    columns: plan.columns.map((c) => c.name),
    projectFlat: (row) => plan.columns.map((c) => c.value(row)),
  };
}

function rejectForBulk(query: Query): void {
  const fields = query.fields ?? [];
  if (fields.some((f) => f.type === 'FieldSubquery')) throw bulkError('relationshipSubquery');
  if (isAggregateQuery(query)) throw bulkError('aggregate');
  if (fields.some((f) => f.type === 'FieldFunctionExpression' && f.functionName.toUpperCase() === 'FIELDS')) throw bulkError('fieldsFunction');
  if (query.offset !== undefined) throw bulkError('offset');
}

/**
 * Live records (and deleted ones under queryAll) that pass the filter, in scan order, stopping as
 * soon as `keep` rows are found.
 */
function collect(
  ctx: CompileContext,
  object: ObjectSchema,
  where: Predicate | undefined,
  keep: number | undefined,
  onMatch?: (record: StoredRecord) => void,
): StoredRecord[] {
  const rows: StoredRecord[] = [];
  if (keep === 0) return rows;
  const includeDeleted = ctx.options.includeDeleted;
  for (const record of ctx.source.scan(object.name, includeDeleted)) {
    // Never trust the source alone: without queryAll a deleted row must not leak through.
    if (!includeDeleted && record.IsDeleted === true) continue;
    if (where && !where(record)) continue;
    rows.push(record);
    onMatch?.(record);
    if (rows.length === keep) break;
  }
  return rows;
}

function executeCount(ctx: CompileContext, object: ObjectSchema, query: Query): QueryPlanResult {
  const fields = query.fields ?? [];
  if (fields.length > 1 || query.groupBy) {
    throw queryError('MALFORMED_QUERY', 'COUNT() must be the only element in the SELECT list', ctx.soql, locateWord(ctx.scope, 'COUNT'));
  }
  const where = compileWhere(ctx, object, query.where);
  let count = 0;
  const includeDeleted = ctx.options.includeDeleted;
  for (const record of ctx.source.scan(object.name, includeDeleted)) {
    if (!includeDeleted && record.IsDeleted === true) continue;
    if (!where || where(record)) count++;
  }
  count = Math.max(0, count - (query.offset ?? 0));
  if (query.limit !== undefined) count = Math.min(count, query.limit);
  return {
    object: object.name,
    count,
    totalSize: count,
    rows: [],
    projectRest: () => ({ attributes: { type: object.name } }),
    projectRestJson: () => JSON.stringify({ attributes: { type: object.name } }),
    columns: [],
    projectFlat: () => [],
  };
}

function executeAggregate(ctx: CompileContext, object: ObjectSchema, query: Query): QueryPlanResult {
  const plan = compileAggregate(ctx, object, query);
  const where = compileWhere(ctx, object, query.where);
  const rows = plan.rows(collect(ctx, object, where, undefined));
  const aggregateRow = (row: StoredRecord): Record<string, unknown> => {
    const out: Record<string, unknown> = { attributes: { type: 'AggregateResult' } };
    for (const key of plan.keys) out[key] = row[key] ?? null;
    return out;
  };
  return {
    object: object.name,
    totalSize: rows.length,
    rows,
    projectRest: (row) => aggregateRow(row),
    projectRestJson: (row) => JSON.stringify(aggregateRow(row)),
    columns: [...plan.keys],
    projectFlat: (row) => plan.keys.map((key) => row[key] ?? null),
  };
}
