import type { FieldType as SelectItem, Subquery } from '@jetstreamapp/soql-parser-js';
import type { FieldDef, ObjectSchema, StoredRecord } from '../org/schema.ts';
import { SalesforceError } from '../org/errors.ts';
import type { CompileContext } from './context.ts';
import { clauseOffset, locateWord, subqueryScopes } from './lexer.ts';
import type { Scope } from './lexer.ts';
import { columnReader, fieldOn, followStep, kindOf, outputValue, readOn, resolveField, storedPropertyCode } from './paths.ts';
import type { FieldRef, Step, ValueKind } from './paths.ts';
import { compileWhere } from './where.ts';
import type { Predicate } from './where.ts';
import { compileOrderBy, orderRows } from './order.ts';
import type { OrderPlan } from './order.ts';
import { messages, queryError } from './query-error.ts';
import { bulkError } from './bulk-rules.ts';

/**
 * The SELECT list compiled into a projection tree: plain columns, parent relationships (nested
 * objects with `attributes`) and child subqueries (`{totalSize, done, records}`), plus the flat
 * column list Bulk CSV uses. Projection runs per row on demand, so a large result costs nothing
 * until its pages are served.
 */

/** `jsonKey` caches `,"Key":` for the JSON writer. */
type Node =
  | { kind: 'field'; key: string; jsonKey?: string; field: FieldDef; valueKind: ValueKind; label: boolean; read?: (record: StoredRecord) => unknown }
  | { kind: 'parent'; key: string; jsonKey?: string; step: Step; nodes: Node[] }
  | { kind: 'child'; key: string; jsonKey?: string; child: ChildPlan };

interface Column {
  name: string;
  value(record: StoredRecord): unknown;
}

export interface SelectPlan {
  object: ObjectSchema;
  nodes: Node[];
  columns: Column[];
  /** The generated row constructor for plain-column plans; null once known not to apply. */
  flatRow?: ((record: StoredRecord, apiVersion: string) => string) | null;
}

interface ChildPlan {
  object: ObjectSchema;
  /** The child's reference field pointing at the parent. */
  referenceField: string;
  plan: SelectPlan;
  where: Predicate | undefined;
  order: OrderPlan<StoredRecord> | undefined;
  limit: number | undefined;
  offset: number;
  /** Child rows grouped by parent ID, built on first use with one scan of the child object. */
  index: Map<string, StoredRecord[]> | undefined;
}

/** Fields FIELDS(ALL | STANDARD | CUSTOM) stands for, in describe order. */
function fieldsFunction(object: ObjectSchema, which: string): FieldDef[] {
  const visible = object.def.fields.filter((f) => !f.deprecatedAndHidden);
  if (which === 'STANDARD') return visible.filter((f) => !f.custom);
  if (which === 'CUSTOM') return visible.filter((f) => f.custom);
  return visible;
}

/**
 * Compiles a SELECT list. `limit` is the query's LIMIT, checked for FIELDS(ALL) and
 * FIELDS(CUSTOM), which Salesforce allows only with a LIMIT of at most 200 (top level only).
 */
export function compileSelect(ctx: CompileContext, object: ObjectSchema, items: SelectItem[], limit: number | undefined, topLevel: boolean): SelectPlan {
  const plan: SelectPlan = { object, nodes: [], columns: [] };
  const seen = new Set<string>();
  const selectStart = ctx.scope.tokens[ctx.scope.from]?.start ?? 0;
  const fromOffset = clauseOffset(ctx.scope, 'FROM') ?? ctx.soql.length;
  const childScopes = subqueryScopes(ctx.scope).filter((s) => s.tokens[s.from].start < fromOffset);
  let cursor = selectStart;
  let childIndex = 0;

  const add = (ref: FieldRef, offset: number, label: boolean, alias: string | undefined): void => {
    const key = (alias ?? ref.path).toLowerCase();
    if (seen.has(key)) throw queryError('INVALID_FIELD', `duplicate field selected: ${alias ?? ref.written}`, ctx.soql, offset);
    seen.add(key);
    if (ref.kind === 'compound' && ctx.options.context === 'bulk') {
      throw bulkError('compoundField');
    }
    addNode(plan.nodes, ref, label, alias);
    plan.columns.push(flatColumn(ref, label, alias));
  };

  for (const item of items) {
    switch (item.type) {
      case 'Field':
      case 'FieldRelationship': {
        const written = item.type === 'Field' ? writtenField(item) : (item.rawValue ?? [...item.relationships, item.field].join('.'));
        const offset = locateWord(ctx.scope, written, cursor);
        cursor = offset + 1;
        add(resolveField(ctx, object, written, offset), offset, false, undefined);
        break;
      }
      case 'FieldFunctionExpression': {
        const name = item.functionName.toUpperCase();
        const offset = locateWord(ctx.scope, item.functionName, cursor);
        cursor = offset + 1;
        if (name === 'FIELDS') {
          const which = String(item.parameters[0] ?? '').toUpperCase();
          if (which !== 'ALL' && which !== 'STANDARD' && which !== 'CUSTOM') {
            throw queryError('MALFORMED_QUERY', messages.unexpectedToken(String(item.parameters[0] ?? ')')), ctx.soql, offset);
          }
          if (topLevel && which !== 'STANDARD' && (limit === undefined || limit > 200)) {
            throw queryError('MALFORMED_QUERY', messages.fieldsLimit, ctx.soql, offset);
          }
          for (const f of fieldsFunction(object, which)) add(resolveField(ctx, object, f.name, offset), offset, false, undefined);
        } else if (name === 'TOLABEL' && typeof item.parameters[0] === 'string') {
          const written = item.parameters[0];
          add(resolveField(ctx, object, written, locateWord(ctx.scope, written, offset)), offset, true, item.alias);
        } else {
          throw queryError('MALFORMED_QUERY', `${item.functionName}() in SELECT is not supported by the orgvault emulator`, ctx.soql, offset);
        }
        break;
      }
      case 'FieldSubquery': {
        const scope = childScopes[childIndex++] ?? ctx.scope;
        cursor = Math.max(cursor, scope.tokens[scope.to - 1]?.start ?? cursor);
        const child = compileChild(ctx, object, item.subquery, scope);
        const key = child.key.toLowerCase();
        if (seen.has(key)) throw queryError('INVALID_FIELD', `duplicate field selected: ${child.key}`, ctx.soql, scope.tokens[scope.from].start);
        seen.add(key);
        plan.nodes.push(child);
        break;
      }
      case 'FieldTypeof': {
        const offset = locateWord(ctx.scope, 'TYPEOF', cursor);
        throw queryError('MALFORMED_QUERY', 'TYPEOF is not supported by the orgvault emulator', ctx.soql, offset);
      }
    }
  }
  return plan;
}

function writtenField(item: { field: string; rawValue?: string }): string {
  return item.rawValue ?? item.field;
}

function addNode(nodes: Node[], ref: FieldRef, label: boolean, alias: string | undefined): void {
  let level = nodes;
  for (const step of ref.steps) {
    let parent = level.find((n): n is Extract<Node, { kind: 'parent' }> => n.kind === 'parent' && n.key === step.name);
    if (!parent) {
      parent = { kind: 'parent', key: step.name, step, nodes: [] };
      level.push(parent);
    }
    level = parent.nodes;
  }
  level.push({ kind: 'field', key: alias ?? ref.field.name, field: ref.field, valueKind: ref.kind, label });
}

/** A picklist value's label (toLabel), or the value itself when it is not a defined value. */
function labelOf(field: FieldDef, value: unknown): unknown {
  if (typeof value !== 'string' || !field.picklistValues) return value;
  if (field.type === 'multipicklist') {
    return value
      .split(';')
      .map((v) => field.picklistValues!.find((p) => p.value === v)?.label ?? v)
      .join(';');
  }
  return field.picklistValues.find((p) => p.value === value)?.label ?? value;
}

function flatColumn(ref: FieldRef, label: boolean, alias: string | undefined): Column {
  const read = ref.read;
  const kind = ref.kind;
  const field = ref.field;
  return {
    name: alias ?? ref.path,
    value: label ? (r) => outputValue(kind, labelOf(field, read(r))) : (r) => outputValue(kind, read(r)),
  };
}

function compileChild(ctx: CompileContext, parent: ObjectSchema, sub: Subquery, scope: Scope): Extract<Node, { kind: 'child' }> {
  const fromOffset = clauseOffset(scope, 'FROM') ?? scope.tokens[scope.from].start;
  const nameOffset = locateWord(scope, sub.relationshipName, fromOffset);
  const wanted = sub.relationshipName.toLowerCase();
  const relationship = ctx.source.schema
    .childRelationships(parent.name)
    .find((c) => c.relationshipName !== null && c.relationshipName.toLowerCase() === wanted);
  const object = relationship ? ctx.source.schema.object(relationship.childSObject) : undefined;
  if (!relationship || !object) throw queryError('INVALID_TYPE', messages.badChildRelationship(sub.relationshipName), ctx.soql, nameOffset);
  const childCtx: CompileContext = { ...ctx, scope, alias: sub.sObjectAlias };
  if (sub.offset !== undefined && sub.offset > 2000) throw new SalesforceError('NUMBER_OUTSIDE_VALID_RANGE', messages.maxOffset);
  const child: ChildPlan = {
    object,
    referenceField: relationship.field,
    plan: compileSelect(childCtx, object, sub.fields ?? [], sub.limit, false),
    where: compileWhere(childCtx, object, sub.where),
    order: compileOrderBy(childCtx, object, sub.orderBy),
    limit: sub.limit,
    offset: sub.offset ?? 0,
    index: undefined,
  };
  return { kind: 'child', key: relationship.relationshipName!, child };
}

/** Builds a child subquery's index: one scan of the child object, grouped by the parent reference. */
function childIndex(ctx: CompileContext, child: ChildPlan): Map<string, StoredRecord[]> {
  if (child.index) return child.index;
  const { source, options } = ctx;
  const matches: StoredRecord[] = [];
  for (const record of source.scan(child.object.name, options.includeDeleted)) {
    if (!options.includeDeleted && record.IsDeleted === true) continue;
    if (child.where && !child.where(record)) continue;
    matches.push(record);
  }
  const ordered = child.order ? orderRows(matches, child.order) : matches;
  const index = new Map<string, StoredRecord[]>();
  for (const record of ordered) {
    const parentId = source.readField(child.object, record, child.referenceField);
    if (typeof parentId !== 'string' || parentId === '') continue;
    const list = index.get(parentId);
    if (list) list.push(record);
    else index.set(parentId, [record]);
  }
  child.index = index;
  return index;
}

export function recordUrl(apiVersion: string, type: string, id: string): string {
  return `/services/data/v${apiVersion}/sobjects/${type}/${id}`;
}

/** One row in REST's JSON shape. */
export function projectRest(ctx: CompileContext, plan: SelectPlan, record: StoredRecord, apiVersion: string): Record<string, unknown> {
  return projectNodes(ctx, plan.object, record, plan.nodes, apiVersion, false);
}

/** One row in REST's JSON shape, as JSON text. */
export function projectRestJson(ctx: CompileContext, plan: SelectPlan, record: StoredRecord, apiVersion: string): string {
  if (plan.flatRow === undefined) plan.flatRow = compileFlatRow(ctx, plan) ?? null;
  if (plan.flatRow) return plan.flatRow(record, apiVersion);
  return projectNodesJson(ctx, plan.object, record, plan.nodes, apiVersion, false);
}

type FlatRow = (record: StoredRecord, apiVersion: string) => string;

/** Characters JSON.stringify escapes in a string: quote, backslash, controls, and surrogates (lone ones). */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * A value JSON.stringify would print inside an object, after the key; '' for the values it leaves
 * out (undefined, functions), in which case the key goes too.
 */
function member(key: string, value: unknown): string {
  const text = JSON.stringify(value) as string | undefined;
  return text === undefined ? '' : key + text;
}

/**
 * For the commonest query, plain columns of the queried object (what a backup selects), a row
 * writer generated once per query that prints JSON text straight from the record: key text is
 * constant, stored fields are read from a property site of their own (one shared reader makes
 * every read megamorphic), and values are printed by their kind, strings only quoted unless they
 * hold a character to escape. The text is the one JSON.stringify gives for `projectRest`'s object;
 * printing it this way is about twice as fast, the serving hot path. Other shapes (parents,
 * subqueries, toLabel, base64, compound fields) return undefined and use the general writer.
 */
function compileFlatRow(ctx: CompileContext, plan: SelectPlan): FlatRow | undefined {
  const readers: ((record: StoredRecord) => unknown)[] = [];
  const parts: string[] = [];
  const source = ctx.source;
  for (const node of plan.nodes) {
    if (node.kind !== 'field' || node.label || node.valueKind === 'base64' || node.valueKind === 'compound') return undefined;
    const field = node.field;
    const index = readers.push(columnReader(source, plan.object, field)) - 1;
    // A stored field read from its own property site (`?? null` folded into the null checks below).
    const raw = storedPropertyCode(source, plan.object, field) ?? `readers[${index}](r)`;
    // JSON text fragments as JS string literals: the key alone, and with its commonest values.
    const key = `,${JSON.stringify(node.key)}:`;
    const [k, kNull, kQuote] = [key, `${key}null`, `${key}"`].map((text) => JSON.stringify(text));
    // outputValue, specialised per kind: numbers may arrive as text, and '' is null except for
    // booleans. A string needing no escape is only quoted, which JSON.stringify would do too.
    switch (node.valueKind) {
      case 'number':
        parts.push(
          `((v = ${raw}) == null ? ${kNull} : typeof v === "number" ? (v - v === 0 ? ${k} + v : ${kNull}) : ` +
            `typeof v === "string" ? (v === "" || (n = +v) - n !== 0 ? ${kNull} : ${k} + n) : member(${k}, v))`,
        );
        break;
      case 'boolean':
        parts.push(`((v = ${raw}) == null ? ${kNull} : v === true ? ${JSON.stringify(`${key}true`)} : v === false ? ${JSON.stringify(`${key}false`)} : member(${k}, v))`);
        break;
      default:
        parts.push(
          `((v = ${raw}) == null || v === "" ? ${kNull} : typeof v !== "string" ? member(${k}, v) : ` +
            `escapes.test(v) ? ${k} + JSON.stringify(v) : ${kQuote} + v + '"')`,
        );
    }
  }
  const type = plan.object.name;
  let version: string | undefined;
  let head = '';
  /** `{"attributes":{"type":…,"url":"…/sobjects/Type/` once per API version, then the ID. */
  const attributes = (apiVersion: string, id: unknown): string => {
    if (typeof id !== 'string' || NEEDS_ESCAPE.test(id)) {
      return `{"attributes":{"type":${JSON.stringify(type)},"url":${JSON.stringify(recordUrl(apiVersion, type, id as string))}}`;
    }
    if (apiVersion !== version) {
      version = apiVersion;
      head = `{"attributes":{"type":${JSON.stringify(type)},"url":${JSON.stringify(recordUrl(apiVersion, type, '')).slice(0, -1)}`;
    }
    return `${head}${id}"}`;
  };
  // Only JSON text as string literals, identifier field names and array indexes become code.
  const make = new Function(
    'readers',
    'escapes',
    'member',
    'attributes',
    `return function restRow(r, version) { let v, n; return attributes(version, r.Id) + ${parts.length ? parts.join(' +\n') : '""'} + "}"; };`,
  ) as (readers: unknown[], escapes: RegExp, member: (key: string, value: unknown) => string, attributes: (version: string, id: unknown) => string) => FlatRow;
  return make(readers, NEEDS_ESCAPE, member, attributes);
}

function projectNodes(
  ctx: CompileContext,
  object: ObjectSchema,
  record: StoredRecord,
  nodes: Node[],
  apiVersion: string,
  dynamic: boolean,
): Record<string, unknown> {
  const out: Record<string, unknown> = { attributes: { type: object.name, url: recordUrl(apiVersion, object.name, record.Id) } };
  for (const node of nodes) {
    if (node.kind === 'field') {
      out[node.key] = fieldValue(ctx, object, record, node, apiVersion, dynamic);
    } else if (node.kind === 'parent') {
      const found = followStep(ctx.source, object, record, node.step, dynamic);
      out[node.key] = found ? projectNodes(ctx, found[0], found[1], node.nodes, apiVersion, dynamic || node.step.target === undefined) : null;
    } else {
      const rows = childRows(ctx, node.child, record);
      out[node.key] = rows.length
        ? { totalSize: rows.length, done: true, records: rows.map((r) => projectRest(ctx, node.child.plan, r, apiVersion)) }
        : null;
    }
  }
  return out;
}

/**
 * The same row as `projectNodes`, written straight to JSON text. Serving large results is the
 * emulator's hot path; skipping the intermediate objects roughly doubles its rate and halves
 * the garbage. Keys are escaped once per plan.
 */
function projectNodesJson(
  ctx: CompileContext,
  object: ObjectSchema,
  record: StoredRecord,
  nodes: Node[],
  apiVersion: string,
  dynamic: boolean,
): string {
  let out = `{"attributes":{"type":${JSON.stringify(object.name)},"url":${JSON.stringify(recordUrl(apiVersion, object.name, record.Id))}}`;
  for (const node of nodes) {
    const key = (node.jsonKey ??= `,${JSON.stringify(node.key)}:`);
    if (node.kind === 'field') {
      out += key + jsonValue(fieldValue(ctx, object, record, node, apiVersion, dynamic));
    } else if (node.kind === 'parent') {
      const found = followStep(ctx.source, object, record, node.step, dynamic);
      out += key + (found ? projectNodesJson(ctx, found[0], found[1], node.nodes, apiVersion, dynamic || node.step.target === undefined) : 'null');
    } else {
      const rows = childRows(ctx, node.child, record);
      out += key;
      if (!rows.length) out += 'null';
      else {
        out += `{"totalSize":${rows.length},"done":true,"records":[`;
        for (let i = 0; i < rows.length; i++) out += (i ? ',' : '') + projectRestJson(ctx, node.child.plan, rows[i]!, apiVersion);
        out += ']}';
      }
    }
  }
  return `${out}}`;
}

function jsonValue(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return JSON.stringify(value);
}

/** One selected column's output value for a record. */
function fieldValue(
  ctx: CompileContext,
  object: ObjectSchema,
  record: StoredRecord,
  node: Extract<Node, { kind: 'field' }>,
  apiVersion: string,
  dynamic: boolean,
): unknown {
  const { source } = ctx;
  // Behind a polymorphic hop the field is looked up on the parent's actual object.
  const field = dynamic ? fieldOn(object, node.field) : node.field;
  if (!field) return null;
  const kind = dynamic ? kindOf(field) : node.valueKind;
  if (kind === 'base64') {
    const raw = source.readField(object, record, field.name);
    return raw === null || raw === undefined || raw === '' ? null : `${recordUrl(apiVersion, object.name, record.Id)}/${field.name}`;
  }
  // A column of a statically known object gets its reader once, not a lookup per row.
  const raw = dynamic || kind === 'compound' ? readOn(source, object, record, field) : (node.read ??= columnReader(source, object, field))(record);
  return outputValue(kind, node.label ? labelOf(field, raw) : raw);
}

function childRows(ctx: CompileContext, child: ChildPlan, record: StoredRecord): StoredRecord[] {
  const all = childIndex(ctx, child).get(record.Id);
  return all ? all.slice(child.offset, child.limit === undefined ? undefined : child.offset + child.limit) : [];
}
