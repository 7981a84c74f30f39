/**
 * Salesforce Backup's advanced restore filters: conditions on field values, combined with ALL,
 * ANY or custom logic such as `1 AND (2 OR 3)`, checked against the object's schema so that a
 * typo is an error naming the field, never a silently empty restore. Pure: no I/O.
 */
import { UsageError } from '../core/errors.ts';
import type { FieldSummary } from '../core/org-client.ts';
import { parseSalesforceDatetime } from '../core/time.ts';

export type Operator = '=' | '!=' | '<' | '<=' | '>' | '>=' | 'contains' | 'starts with' | 'in' | 'is null' | 'is not null';

export interface Condition {
  field: string;
  operator: Operator;
  /** Absent for `is null` and `is not null`; several for `in`. */
  values: (string | number | boolean)[];
}

/** A parsed logic expression over condition numbers (1-based). */
export type Logic = { op: 'and' | 'or'; terms: Logic[] } | { op: 'not'; term: Logic } | { op: 'ref'; index: number };

const CONDITION = /^\s*([A-Za-z][A-Za-z0-9_]*)\s*(!=|<>|<=|>=|=|<|>|contains\b|starts\s+with\b|in\b|is\s+not\s+null\s*$|is\s+null\s*$)\s*(.*)$/i;
const NUMERIC = new Set(['int', 'long', 'double', 'currency', 'percent']);
const ORDERED = new Set([...NUMERIC, 'date', 'datetime', 'time']);

/** Parses one `--where` condition and checks it against the object's fields. */
export function parseCondition(text: string, fields: readonly FieldSummary[], position: number): Condition {
  const m = CONDITION.exec(text);
  if (!m) {
    throw new UsageError(
      `Condition ${position} ("${text}") is not FIELD OPERATOR VALUE. Operators: =, !=, <, <=, >, >=, contains, starts with, in (a, b), is null, is not null; e.g. "Industry = Banking" or "AnnualRevenue >= 1000000".`,
    );
  }
  const [, name, rawOperator, rest] = m as unknown as [string, string, string, string];
  const field = fields.find((f) => f.name.toLowerCase() === name.toLowerCase());
  if (!field) {
    const near = fields.filter((f) => editDistance(f.name.toLowerCase(), name.toLowerCase()) <= 2).map((f) => f.name).slice(0, 5);
    throw new UsageError(`Condition ${position}: the object has no field "${name}"${near.length ? ` (did you mean ${near.join(', ')}?)` : ''}.`);
  }
  const operator = normaliseOperator(rawOperator);
  if (operator === 'is null' || operator === 'is not null') return { field: field.name, operator, values: [] };
  if (rest.trim() === '') throw new UsageError(`Condition ${position} ("${text}") has no value after "${rawOperator.trim()}".`);
  if ((operator === 'contains' || operator === 'starts with') && NUMERIC.has(field.type)) {
    throw new UsageError(`Condition ${position}: "${operator}" compares text, and ${field.name} is a ${field.type} field; use =, <, > and the like.`);
  }
  if (['<', '<=', '>', '>='].includes(operator) && !ORDERED.has(field.type)) {
    throw new UsageError(`Condition ${position}: ${field.name} is a ${field.type} field, which has no order; use =, !=, contains or in.`);
  }
  const texts = operator === 'in' ? listValues(rest, position) : [unquote(rest.trim())];
  return { field: field.name, operator, values: texts.map((t) => typedValue(t, field, position)) };
}

/** Levenshtein distance, for "did you mean" on a mistyped field name. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = row;
  }
  return previous[b.length]!;
}

function normaliseOperator(raw: string): Operator {
  const op = raw.trim().toLowerCase().replace(/\s+/g, ' ');
  return (op === '<>' ? '!=' : op) as Operator;
}

function listValues(rest: string, position: number): string[] {
  const m = /^\(\s*(.*?)\s*\)\s*$/.exec(rest.trim());
  if (!m) throw new UsageError(`Condition ${position}: "in" takes a list in parentheses, e.g. "StageName in (Prospecting, 'Closed Won')".`);
  return m[1]!.split(',').map((v) => unquote(v.trim())).filter((v) => v !== '');
}

function unquote(text: string): string {
  const m = /^'(.*)'$|^"(.*)"$/.exec(text);
  return m ? (m[1] ?? m[2]!) : text;
}

function typedValue(text: string, field: FieldSummary, position: number): string | number | boolean {
  if (NUMERIC.has(field.type)) {
    const n = Number(text);
    if (text === '' || !Number.isFinite(n)) throw new UsageError(`Condition ${position}: ${field.name} is a ${field.type} field; "${text}" is not a number.`);
    return n;
  }
  if (field.type === 'boolean') {
    if (!/^(true|false)$/i.test(text)) throw new UsageError(`Condition ${position}: ${field.name} is a checkbox; give true or false, not "${text}".`);
    return text.toLowerCase() === 'true';
  }
  if (field.type === 'date' || field.type === 'datetime') {
    if (Number.isNaN(Date.parse(text))) throw new UsageError(`Condition ${position}: ${field.name} is a ${field.type} field; "${text}" is not a date (use 2026-11-01 or 2026-11-01T10:00:00Z).`);
    return text;
  }
  return text;
}

/**
 * Parses `all`, `any` or custom logic over `count` conditions. Custom logic must use every
 * condition, only existing numbers, and balanced parentheses.
 */
export function parseLogic(text: string | undefined, count: number): Logic | undefined {
  if (count === 0) {
    if (text && !/^(all|any)$/i.test(text.trim())) throw new UsageError(`--match "${text}" combines conditions, but no --where condition was given.`);
    return undefined;
  }
  const refs = Array.from({ length: count }, (_, i): Logic => ({ op: 'ref', index: i + 1 }));
  const mode = (text ?? 'all').trim();
  if (/^all$/i.test(mode)) return { op: 'and', terms: refs };
  if (/^any$/i.test(mode)) return { op: 'or', terms: refs };
  const tokens = mode.match(/\(|\)|\d+|[A-Za-z]+|\S/g) ?? [];
  let at = 0;
  const fail = (why: string): never => {
    throw new UsageError(`--match "${mode}": ${why}. Use ALL, ANY, or numbers of the --where conditions (1 to ${count}) with AND, OR, NOT and parentheses, e.g. "1 AND (2 OR 3)".`);
  };
  const used = new Set<number>();
  const primary = (): Logic => {
    const token = tokens[at++];
    if (token === undefined) return fail('it ends too early');
    if (token === '(') {
      const inner = or();
      if (tokens[at++] !== ')') fail('a parenthesis is not closed');
      return inner;
    }
    if (/^not$/i.test(token)) return { op: 'not', term: primary() };
    if (/^\d+$/.test(token)) {
      const index = Number(token);
      if (index < 1 || index > count) fail(`there is no condition ${index}`);
      used.add(index);
      return { op: 'ref', index };
    }
    return fail(`"${token}" is not a condition number, AND, OR, NOT or a parenthesis`);
  };
  const and = (): Logic => {
    const terms = [primary()];
    while (/^and$/i.test(tokens[at] ?? '')) {
      at++;
      terms.push(primary());
    }
    return terms.length === 1 ? terms[0]! : { op: 'and', terms };
  };
  const or = (): Logic => {
    const terms = [and()];
    while (/^or$/i.test(tokens[at] ?? '')) {
      at++;
      terms.push(and());
    }
    return terms.length === 1 ? terms[0]! : { op: 'or', terms };
  };
  const logic = or();
  if (at < tokens.length) fail(`"${tokens[at]}" is not expected there`);
  const unused = refs.map((r) => (r as { index: number }).index).filter((i) => !used.has(i));
  if (unused.length) fail(`condition ${unused.join(', ')} is not used`);
  return logic;
}

/** Whether a record's fields meet the conditions combined by the logic. */
export function matches(fields: Record<string, unknown>, conditions: readonly Condition[], logic: Logic | undefined): boolean {
  if (!logic) return true;
  const evaluate = (node: Logic): boolean => {
    switch (node.op) {
      case 'and':
        return node.terms.every(evaluate);
      case 'or':
        return node.terms.some(evaluate);
      case 'not':
        return !evaluate(node.term);
      case 'ref':
        return test(conditions[node.index - 1]!, fields[conditions[node.index - 1]!.field]);
    }
  };
  return evaluate(logic);
}

function test(condition: Condition, value: unknown): boolean {
  const { operator, values } = condition;
  if (operator === 'is null') return value === null || value === undefined || value === '';
  if (operator === 'is not null') return !(value === null || value === undefined || value === '');
  if (value === null || value === undefined) return operator === '!=';
  const equal = (expected: string | number | boolean): boolean => compare(value, expected) === 0;
  switch (operator) {
    case '=':
      return equal(values[0]!);
    case '!=':
      return !equal(values[0]!);
    case 'in':
      return values.some(equal);
    case 'contains':
      return String(value).toLowerCase().includes(String(values[0]).toLowerCase());
    case 'starts with':
      return String(value).toLowerCase().startsWith(String(values[0]).toLowerCase());
    default: {
      const order = compare(value, values[0]!);
      if (Number.isNaN(order)) return false;
      return operator === '<' ? order < 0 : operator === '<=' ? order <= 0 : operator === '>' ? order > 0 : order >= 0;
    }
  }
}

/** Orders a stored value against a filter value: numbers as numbers, dates as instants, text without case. */
function compare(value: unknown, expected: string | number | boolean): number {
  if (typeof expected === 'number') return Number(value) - expected;
  if (typeof expected === 'boolean') return value === expected ? 0 : 1;
  const left = String(value);
  const asTime = (text: string): number => parseSalesforceDatetime(text) ?? Number.NaN;
  if (/^\d{4}-\d{2}-\d{2}/.test(left) && /^\d{4}-\d{2}-\d{2}/.test(expected)) {
    const a = asTime(left);
    const b = asTime(expected);
    if (!Number.isNaN(a) && !Number.isNaN(b)) return a - b;
  }
  const l = left.toLowerCase();
  const r = expected.toLowerCase();
  return l < r ? -1 : l > r ? 1 : 0;
}
