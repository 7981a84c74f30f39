import type {
  ConditionWithValueQuery,
  LiteralType,
  ValueCondition,
  ValueFunctionCondition,
  ValueQueryCondition,
  ValueWithDateLiteralCondition,
  ValueWithDateNLiteralCondition,
  WhereClause,
} from '@jetstreamapp/soql-parser-js';
import type { FieldDef, ObjectSchema, StoredRecord } from '../org/schema.ts';
import { toId18 } from '../org/ids.ts';
import { formatDate, formatDatetime, parseDatetime } from '../org/values.ts';
import type { CompileContext } from './context.ts';
import { clauseOffset, locateLogicalOperator, locateWord, subqueryScopes } from './lexer.ts';
import { likePattern, unquote } from './literals.ts';
import { dateLiteralRange } from './date-literals.ts';
import { normalizer, resolveField, resolveObject, sharedReader } from './paths.ts';
import type { FieldRef } from './paths.ts';
import { messages, queryError } from './query-error.ts';

/**
 * WHERE compiled once into a closure over the stored record, so evaluating a row never walks the
 * AST. The parser library hands conditions over as a flat chain with parenthesis counts; the chain
 * is rebuilt into a tree here, rejecting AND and OR mixed without parentheses as SOQL does.
 */

export type Predicate = (record: StoredRecord) => boolean;

type Comparable = string | number | boolean | null;

/** A condition comparing a field with literal values. */
type Condition = ValueCondition | ValueWithDateLiteralCondition | ValueWithDateNLiteralCondition;

/** The WHERE clause as a tree, before compilation. */
export type WhereTree =
  | { op: 'AND' | 'OR'; parts: WhereTree[] }
  | { op: 'NOT'; part: WhereTree }
  | { op: 'COND'; cond: ConditionWithValueQuery };

type Item = { t: '(' } | { t: ')' } | { t: 'NOT' | 'AND' | 'OR'; n: number } | { t: 'COND'; cond: ConditionWithValueQuery };

function isCondition(left: unknown): left is ConditionWithValueQuery {
  return typeof left === 'object' && left !== null && ('field' in left || 'fn' in left);
}

function flatten(where: WhereClause): Item[] {
  const items: Item[] = [];
  let n = 0;
  let node: WhereClause | undefined = where;
  while (node) {
    const left: unknown = node.left;
    const open = typeof left === 'object' && left !== null ? ((left as { openParen?: number }).openParen ?? 0) : 0;
    for (let i = 0; i < open; i++) items.push({ t: '(' });
    if (isCondition(left)) {
      items.push({ t: 'COND', cond: left });
      const close = (left as { closeParen?: number }).closeParen ?? 0;
      for (let i = 0; i < close; i++) items.push({ t: ')' });
    }
    if ('operator' in node && node.operator) {
      items.push({ t: node.operator, n: n++ });
      node = node.right;
    } else node = undefined;
  }
  return items;
}

/** Rebuilds the condition tree; throws MALFORMED_QUERY where SOQL's grammar would. */
export function whereTree(ctx: CompileContext, where: WhereClause | undefined): WhereTree | undefined {
  if (!where) return undefined;
  const items = flatten(where);
  const whereOffset = clauseOffset(ctx.scope, 'WHERE') ?? 0;
  let pos = 0;
  const fail = (item: Item | undefined): never => {
    if (item && 'n' in item) {
      const offset = locateLogicalOperator(ctx.scope, whereOffset, item.n);
      const written = ctx.soql.slice(offset).match(/^\w+/)?.[0] ?? item.t;
      throw queryError('MALFORMED_QUERY', messages.unexpectedToken(written), ctx.soql, offset);
    }
    throw queryError('MALFORMED_QUERY', messages.unexpectedToken(item ? item.t : '<EOF>'), ctx.soql, whereOffset);
  };
  const expr = (): WhereTree => {
    const parts = [unary()];
    let op: 'AND' | 'OR' | undefined;
    for (let item = items[pos]; item && (item.t === 'AND' || item.t === 'OR'); item = items[pos]) {
      if (op && item.t !== op) fail(item);
      op = item.t;
      pos++;
      parts.push(unary());
    }
    return op ? { op, parts } : parts[0];
  };
  const unary = (): WhereTree => {
    const item = items[pos++];
    if (!item) return fail(item);
    if (item.t === 'NOT') return { op: 'NOT', part: unary() };
    if (item.t === 'COND') return { op: 'COND', cond: item.cond };
    if (item.t === '(') {
      const inner = expr();
      if (items[pos]?.t !== ')') fail(items[pos]);
      pos++;
      return inner;
    }
    return fail(item);
  };
  const tree = expr();
  if (pos < items.length) fail(items[pos]);
  return tree;
}

interface State {
  ctx: CompileContext;
  object: ObjectSchema;
  whereOffset: number;
  /** Where the next condition's field is searched from, so repeated names get their own caret. */
  cursor: number;
  semiJoins: number;
}

/** Compiles a WHERE clause of `object`; undefined when there is none. */
export function compileWhere(ctx: CompileContext, object: ObjectSchema, where: WhereClause | undefined): Predicate | undefined {
  const tree = whereTree(ctx, where);
  if (!tree) return undefined;
  const whereOffset = clauseOffset(ctx.scope, 'WHERE') ?? 0;
  return compileTree({ ctx, object, whereOffset, cursor: whereOffset, semiJoins: 0 }, tree);
}

function compileTree(st: State, tree: WhereTree): Predicate {
  switch (tree.op) {
    case 'COND':
      return compileCondition(st, tree.cond);
    case 'NOT': {
      const inner = compileTree(st, tree.part);
      return (r) => !inner(r);
    }
    case 'AND': {
      const parts = tree.parts.map((p) => compileTree(st, p));
      if (parts.length === 2) {
        const [a, b] = parts;
        return (r) => a(r) && b(r);
      }
      return (r) => parts.every((p) => p(r));
    }
    case 'OR': {
      const parts = tree.parts.map((p) => compileTree(st, p));
      if (parts.length === 2) {
        const [a, b] = parts;
        return (r) => a(r) || b(r);
      }
      return (r) => parts.some((p) => p(r));
    }
  }
}

/** Salesforce's type name for a field in "must be of type ..." messages. */
function typeName(field: FieldDef): string {
  switch (field.type) {
    case 'int':
      return 'integer';
    case 'datetime':
      return 'dateTime';
    case 'id':
    case 'reference':
      return 'id';
    case 'string':
    case 'textarea':
    case 'email':
    case 'phone':
    case 'url':
    case 'combobox':
    case 'encryptedstring':
    case 'anyType':
      return 'string';
    default:
      return field.type;
  }
}

/** A literal in comparable form, or a date range for date literals (TODAY, LAST_N_DAYS:n). */
type Literal = { value: Comparable } | { range: [string, string] };

function literalList(cond: Condition): Array<{ raw: string; type: LiteralType; n: number | undefined }> {
  const values = Array.isArray(cond.value) ? cond.value : [cond.value];
  const types = cond.literalType;
  const ns = 'dateLiteralVariable' in cond ? cond.dateLiteralVariable : undefined;
  return values.map((raw, i) => ({
    raw,
    type: (Array.isArray(types) ? types[i] : types) ?? 'STRING',
    n: Array.isArray(ns) ? ns[i] : ns,
  }));
}

function compileCondition(st: State, cond: ConditionWithValueQuery): Predicate {
  const { ctx } = st;
  if (!('field' in cond)) {
    const name = (cond as ValueFunctionCondition).fn.functionName ?? 'function';
    throw queryError('MALFORMED_QUERY', `${name}() in WHERE is not supported by the orgvault emulator`, ctx.soql, locateWord(ctx.scope, name, st.cursor));
  }
  const offset = locateWord(ctx.scope, cond.field, st.cursor);
  st.cursor = offset + 1;
  const ref = sharedReader(ctx, st.object, resolveField(ctx, st.object, cond.field, offset));
  if (ref.field.filterable === false || ref.kind === 'compound' || ref.kind === 'base64') {
    throw queryError('INVALID_FIELD', `field '${ref.written}' can not be filtered in query call`, ctx.soql, offset);
  }
  const operator = cond.operator.toUpperCase();
  if ('valueQuery' in cond && cond.valueQuery) {
    if (operator !== 'IN' && operator !== 'NOT IN') throw queryError('MALFORMED_QUERY', messages.unexpectedToken('SELECT'), ctx.soql, offset);
    return semiJoin(st, ref, cond, operator === 'NOT IN');
  }
  const valueCond = cond as Condition;
  if (ref.kind === 'multipicklist') return multipicklist(st, ref, valueCond, operator, offset);
  if (operator === 'INCLUDES' || operator === 'EXCLUDES') {
    throw queryError('INVALID_QUERY_FILTER_OPERATOR', 'includes or excludes operator only valid on multipicklist field', ctx.soql, offset);
  }

  const read = ref.read;
  const norm = normalizer(ref.kind, ref.field);
  const get = (r: StoredRecord): Comparable => norm(read(r));

  if (operator === 'LIKE') {
    const [lit] = literalList(valueCond);
    if (lit.type !== 'STRING' || (ref.kind !== 'text' && ref.kind !== 'id' && ref.kind !== 'time')) {
      literal(st, ref, lit.raw, lit.type, lit.n, offset);
      throw typeError(st, ref, offset);
    }
    const re = likePattern(ctx, lit.raw, offset);
    return (r) => {
      const v = read(r);
      return typeof v === 'string' && v !== '' && re.test(v);
    };
  }

  const literals = literalList(valueCond).map((l) => literal(st, ref, l.raw, l.type, l.n, offset));
  if (operator === 'IN' || operator === 'NOT IN') {
    const values = new Set<Comparable>();
    const ranges: Array<[string, string]> = [];
    for (const l of literals) {
      if ('value' in l) values.add(l.value);
      else ranges.push(l.range);
    }
    const inList = (r: StoredRecord): boolean => {
      const v = get(r);
      if (values.has(v)) return true;
      if (v === null) return false;
      for (const [start, end] of ranges) if (v >= start && v < end) return true;
      return false;
    };
    return operator === 'IN' ? inList : (r) => !inList(r);
  }

  const lit = literals[0];
  if ('range' in lit) {
    const [start, end] = lit.range;
    switch (operator) {
      case '=':
        return (r) => {
          const v = get(r);
          return v !== null && v >= start && v < end;
        };
      case '!=':
      case '<>':
        return (r) => {
          const v = get(r);
          return v === null || v < start || v >= end;
        };
      case '<':
        return (r) => {
          const v = get(r);
          return v !== null && v < start;
        };
      case '<=':
        return (r) => {
          const v = get(r);
          return v !== null && v < end;
        };
      case '>':
        return (r) => {
          const v = get(r);
          return v !== null && v >= end;
        };
      case '>=':
        return (r) => {
          const v = get(r);
          return v !== null && v >= start;
        };
    }
  } else {
    const value = lit.value;
    switch (operator) {
      case '=':
        return (r) => get(r) === value;
      case '!=':
      case '<>':
        return (r) => get(r) !== value;
      case '<':
        return (r) => {
          const v = get(r);
          return v !== null && value !== null && v < value;
        };
      case '<=':
        return (r) => {
          const v = get(r);
          return v !== null && value !== null && v <= value;
        };
      case '>':
        return (r) => {
          const v = get(r);
          return v !== null && value !== null && v > value;
        };
      case '>=':
        return (r) => {
          const v = get(r);
          return v !== null && value !== null && v >= value;
        };
    }
  }
  throw queryError('MALFORMED_QUERY', messages.unexpectedToken(cond.operator), ctx.soql, offset);
}

function typeError(st: State, ref: FieldRef, offset: number): Error {
  const quoted = ref.kind === 'text' || ref.kind === 'id' || ref.kind === 'multipicklist' || ref.kind === 'time';
  return queryError(
    'INVALID_FIELD',
    `value of filter criterion for field '${ref.written}' must be of type ${typeName(ref.field)} and should ${quoted ? '' : 'not '}be enclosed in quotes`,
    st.ctx.soql,
    offset,
  );
}

/** Converts one literal to the field's comparable form, enforcing Salesforce's type rules. */
function literal(st: State, ref: FieldRef, raw: string, type: LiteralType, n: number | undefined, offset: number): Literal {
  const { ctx } = st;
  if (type === 'NULL') return { value: null };
  if (type === 'APEX_BIND_VARIABLE') throw queryError('MALFORMED_QUERY', messages.unexpectedToken(`:${raw}`), ctx.soql, offset);
  switch (ref.kind) {
    case 'text':
    case 'time': {
      if (type !== 'STRING') throw typeError(st, ref, offset);
      return { value: normalizer(ref.kind, ref.field)(unquote(ctx, raw, offset)) };
    }
    case 'id': {
      if (type !== 'STRING') throw typeError(st, ref, offset);
      const text = unquote(ctx, raw, offset);
      if (text === '') return { value: null };
      const id = toId18(text);
      if (!id) throw queryError('INVALID_QUERY_FILTER_OPERATOR', `invalid ID field: ${text}`, ctx.soql, offset);
      return { value: id };
    }
    case 'number': {
      if (type === 'INTEGER' || type === 'DECIMAL') return { value: Number(raw) };
      if (type === 'INTEGER_WITH_CURRENCY_PREFIX' || type === 'DECIMAL_WITH_CURRENCY_PREFIX') return { value: Number(raw.replace(/^[A-Za-z]+/, '')) };
      throw typeError(st, ref, offset);
    }
    case 'boolean': {
      if (type !== 'BOOLEAN') throw typeError(st, ref, offset);
      return { value: raw.toUpperCase() === 'TRUE' };
    }
    case 'date':
    case 'datetime': {
      const isDate = ref.kind === 'date';
      if (type === 'DATE_LITERAL' || type === 'DATE_N_LITERAL') {
        const range = dateLiteralRange(raw, n, ctx.source.nowMs());
        if (!range) throw queryError('MALFORMED_QUERY', messages.unexpectedToken(raw), ctx.soql, offset);
        const format = isDate ? formatDate : formatDatetime;
        return { range: [format(range.startMs), format(range.endMs)] };
      }
      if (isDate && type === 'DATE') {
        if (Number.isNaN(Date.parse(`${raw}T00:00:00Z`))) throw queryError('MALFORMED_QUERY', messages.unexpectedToken(raw), ctx.soql, offset);
        return { value: raw };
      }
      if (!isDate && type === 'DATETIME') {
        const ms = parseDatetime(raw);
        if (Number.isNaN(ms)) throw queryError('MALFORMED_QUERY', messages.unexpectedToken(raw), ctx.soql, offset);
        return { value: formatDatetime(ms) };
      }
      throw typeError(st, ref, offset);
    }
    default:
      throw typeError(st, ref, offset);
  }
}

/** The selected values of a multi-select picklist, lower-cased (picklist matching ignores case). */
function picks(value: unknown): string[] {
  if (typeof value !== 'string' || value === '') return [];
  return value.split(';').map((v) => v.trim().toLowerCase()).filter((v) => v !== '');
}

const pickKey = (values: string[]): string => [...new Set(values)].sort().join(';');

function multipicklist(st: State, ref: FieldRef, cond: Condition, operator: string, offset: number): Predicate {
  const { ctx } = st;
  const read = ref.read;
  const terms: Array<string[] | null> = literalList(cond).map((l) => {
    if (l.type === 'NULL') return null;
    if (l.type !== 'STRING') throw typeError(st, ref, offset);
    return picks(unquote(ctx, l.raw, offset));
  });
  switch (operator) {
    case 'INCLUDES':
    case 'EXCLUDES': {
      // Each term matches when every value it lists (';'-separated) is selected.
      const sets = terms.filter((t): t is string[] => t !== null);
      const includes = (r: StoredRecord): boolean => {
        const selected = new Set(picks(read(r)));
        return sets.some((t) => t.length > 0 && t.every((v) => selected.has(v)));
      };
      return operator === 'INCLUDES' ? includes : (r) => !includes(r);
    }
    case '=':
    case '!=':
    case '<>':
    case 'IN':
    case 'NOT IN': {
      const keys = new Set(terms.map((t) => (t === null || t.length === 0 ? null : pickKey(t))));
      const matches = (r: StoredRecord): boolean => {
        const p = picks(read(r));
        return keys.has(p.length ? pickKey(p) : null);
      };
      return operator === '=' || operator === 'IN' ? matches : (r) => !matches(r);
    }
    default:
      throw queryError('INVALID_QUERY_FILTER_OPERATOR', `invalid operator on multipicklist field`, ctx.soql, offset);
  }
}

/**
 * `Field IN (SELECT ...)`: the subquery runs once, at compile time, into a set of values. Its rows
 * come from live records only, whatever the outer query's queryAll setting.
 */
function semiJoin(st: State, ref: FieldRef, cond: ValueQueryCondition, negate: boolean): Predicate {
  const { ctx } = st;
  const inner = cond.valueQuery;
  const scopes = subqueryScopes(ctx.scope).filter((s) => s.tokens[s.from].start > st.whereOffset);
  const scope = scopes[st.semiJoins++] ?? ctx.scope;
  const innerCtx: CompileContext = { ...ctx, scope, alias: inner.sObjectAlias };
  const fromOffset = clauseOffset(scope, 'FROM') ?? 0;
  const object = resolveObject(innerCtx, inner.sObject, locateWord(scope, inner.sObject ?? '', fromOffset));
  const selected = inner.fields ?? [];
  const first = selected[0];
  if (selected.length !== 1 || !first || (first.type !== 'Field' && first.type !== 'FieldRelationship')) {
    throw queryError('MALFORMED_QUERY', 'semi join sub-selects are only allowed to select one field', ctx.soql, locateWord(scope, 'SELECT'));
  }
  const written = first.type === 'Field' ? ('rawValue' in first ? (first as { rawValue: string }).rawValue : first.field) : (first.rawValue ?? [...first.relationships, first.field].join('.'));
  const innerRef = resolveField(innerCtx, object, written, locateWord(scope, written, scope.tokens[scope.from].start));
  const where = compileWhere(innerCtx, object, inner.where);
  const norm = normalizer(ref.kind, ref.field);
  const values = new Set<Comparable>();
  for (const record of ctx.source.scan(object.name, false)) {
    if (record.IsDeleted === true) continue;
    if (where && !where(record)) continue;
    const v = norm(innerRef.read(record));
    if (v !== null) values.add(v);
  }
  const read = ref.read;
  if (negate) return (r) => !values.has(norm(read(r)));
  return (r) => values.has(norm(read(r)));
}
