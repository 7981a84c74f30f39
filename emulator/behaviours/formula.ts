/**
 * A subset of Salesforce's formula language, enough for validation rules, lookup filters and
 * trigger conditions (`AND(ISPICKVAL(Type, "Customer - Direct"), ISBLANK(Phone))`), and a JSON
 * condition language that compiles to the same expressions. Both forms evaluate alike, and both
 * render as formula text, which is how the Metadata API shows a rule (`errorConditionFormula`).
 */
import type { ObjectSchema, Schema } from '../org/schema.ts';
import { SpecError } from './spec.ts';

type BinaryOp = '=' | '<>' | '<' | '<=' | '>' | '>=' | '+' | '-' | '*' | '/' | '&' | '&&' | '||';

export type Expr =
  | { kind: 'literal'; value: string | number | boolean | null }
  | { kind: 'field'; path: string[] }
  | { kind: 'call'; name: string; args: Expr[] }
  | { kind: 'unary'; op: '!' | '-'; arg: Expr }
  | { kind: 'binary'; op: BinaryOp; left: Expr; right: Expr };

/** What an expression reads: field values by path (`Account.Type`, `$Source.AccountId`). */
export interface FormulaEnv {
  field(path: string[]): unknown;
  /** The value before the write (PRIORVALUE, ISCHANGED); the current value on create. */
  prior(path: string[]): unknown;
  isNew: boolean;
  /** `YYYY-MM-DD` and a canonical datetime, from the org clock. */
  today: string;
  now: string;
}

// ------------------------------------------------------------------------------------ parsing

type Token = { t: 'num'; v: number } | { t: 'str'; v: string } | { t: 'id'; v: string } | { t: 'op'; v: string };

const OPERATORS = ['&&', '||', '<=', '>=', '<>', '!=', '==', '=', '<', '>', '+', '-', '*', '/', '&', '!', '(', ')', ','];

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (/\s/.test(ch)) {
      i++;
    } else if (ch === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) throw new Error('Unterminated comment');
      i = end + 2;
    } else if (ch === '"' || ch === "'") {
      let value = '';
      let j = i + 1;
      for (; j < text.length && text[j] !== ch; j++) {
        if (text[j] === '\\' && j + 1 < text.length) {
          const next = text[++j]!;
          value += next === 'n' ? '\n' : next === 't' ? '\t' : next;
        } else value += text[j];
      }
      if (j >= text.length) throw new Error('Unterminated string literal');
      tokens.push({ t: 'str', v: value });
      i = j + 1;
    } else if (/[0-9]/.test(ch) || (ch === '.' && /[0-9]/.test(text[i + 1] ?? ''))) {
      const m = /^[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?/.exec(text.slice(i))!;
      tokens.push({ t: 'num', v: Number(m[0]) });
      i += m[0].length;
    } else if (/[A-Za-z_$]/.test(ch)) {
      const m = /^[A-Za-z_$][A-Za-z0-9_$.]*/.exec(text.slice(i))!;
      tokens.push({ t: 'id', v: m[0] });
      i += m[0].length;
    } else {
      const op = OPERATORS.find((o) => text.startsWith(o, i));
      if (!op) throw new Error(`Syntax error: unexpected '${ch}'`);
      tokens.push({ t: 'op', v: op });
      i += op.length;
    }
  }
  return tokens;
}

/** Recursive descent, lowest precedence first: `||`, `&&`, comparisons, `+ - &`, `* /`, unary. */
class Parser {
  private at = 0;
  constructor(private readonly tokens: Token[]) {}

  parse(): Expr {
    const expr = this.or();
    if (this.at < this.tokens.length) throw new Error(`Syntax error: unexpected '${String(this.tokens[this.at]!.v)}'`);
    return expr;
  }

  private peekOp(...ops: string[]): string | undefined {
    const token = this.tokens[this.at];
    return token?.t === 'op' && ops.includes(token.v) ? token.v : undefined;
  }

  private expectOp(op: string): void {
    if (!this.peekOp(op)) throw new Error(`Syntax error: expected '${op}'`);
    this.at++;
  }

  private binaryLevel(ops: string[], next: () => Expr, normalize: (op: string) => BinaryOp = (op) => op as BinaryOp): Expr {
    let left = next();
    for (let op = this.peekOp(...ops); op; op = this.peekOp(...ops)) {
      this.at++;
      left = { kind: 'binary', op: normalize(op), left, right: next() };
    }
    return left;
  }

  private or = (): Expr => this.binaryLevel(['||'], this.and);
  private and = (): Expr => this.binaryLevel(['&&'], this.comparison);
  private comparison = (): Expr =>
    this.binaryLevel(['=', '==', '<>', '!=', '<', '<=', '>', '>='], this.additive, (op) => (op === '==' ? '=' : op === '!=' ? '<>' : (op as BinaryOp)));
  private additive = (): Expr => this.binaryLevel(['+', '-', '&'], this.multiplicative);
  private multiplicative = (): Expr => this.binaryLevel(['*', '/'], this.unary);

  private unary = (): Expr => {
    const op = this.peekOp('!', '-');
    if (op) {
      this.at++;
      return { kind: 'unary', op: op as '!' | '-', arg: this.unary() };
    }
    return this.primary();
  };

  private primary(): Expr {
    const token = this.tokens[this.at++];
    if (!token) throw new Error('Syntax error: unexpected end of formula');
    if (token.t === 'num' || token.t === 'str') return { kind: 'literal', value: token.v };
    if (token.t === 'op') {
      if (token.v !== '(') throw new Error(`Syntax error: unexpected '${token.v}'`);
      const inner = this.or();
      this.expectOp(')');
      return inner;
    }
    const upper = token.v.toUpperCase();
    if (this.peekOp('(')) {
      this.at++;
      const args: Expr[] = [];
      if (!this.peekOp(')')) {
        args.push(this.or());
        while (this.peekOp(',')) {
          this.at++;
          args.push(this.or());
        }
      }
      this.expectOp(')');
      return { kind: 'call', name: upper, args };
    }
    if (upper === 'TRUE' || upper === 'FALSE') return { kind: 'literal', value: upper === 'TRUE' };
    if (upper === 'NULL') return { kind: 'literal', value: null };
    return { kind: 'field', path: token.v.split('.') };
  }
}

/** Arity of each supported function: [min, max]. */
const FUNCTIONS: Record<string, [number, number]> = {
  AND: [1, Infinity], OR: [1, Infinity], NOT: [1, 1], IF: [3, 3], CASE: [3, Infinity],
  ISBLANK: [1, 1], ISNULL: [1, 1], BLANKVALUE: [2, 2], NULLVALUE: [2, 2], ISPICKVAL: [2, 2],
  TEXT: [1, 1], VALUE: [1, 1], LEN: [1, 1], BEGINS: [2, 2], CONTAINS: [2, 2], INCLUDES: [2, 2],
  REGEX: [2, 2], UPPER: [1, 1], LOWER: [1, 1], TRIM: [1, 1], ISNEW: [0, 0], ISCHANGED: [1, 1],
  PRIORVALUE: [1, 1], TODAY: [0, 0], NOW: [0, 0], ABS: [1, 1], MAX: [1, Infinity], MIN: [1, Infinity],
  ROUND: [2, 2], ISNUMBER: [1, 1],
};

/** Parses formula text, checking functions and their arity. Throws an Error naming the problem. */
function parseFormula(text: string): Expr {
  const expr = new Parser(tokenize(text)).parse();
  walk(expr, (node) => {
    if (node.kind !== 'call') return;
    const arity = FUNCTIONS[node.name];
    if (!arity) throw new Error(`Unknown function ${node.name}`);
    if (node.args.length < arity[0] || node.args.length > arity[1]) {
      throw new Error(`Incorrect number of parameters for function '${node.name}()'`);
    }
    if ((node.name === 'ISCHANGED' || node.name === 'PRIORVALUE') && node.args[0]!.kind !== 'field') {
      throw new Error(`${node.name}() takes a field`);
    }
  });
  return expr;
}

function walk(expr: Expr, visit: (node: Expr) => void): void {
  visit(expr);
  if (expr.kind === 'call') for (const arg of expr.args) walk(arg, visit);
  else if (expr.kind === 'unary') walk(expr.arg, visit);
  else if (expr.kind === 'binary') {
    walk(expr.left, visit);
    walk(expr.right, visit);
  }
}

// ------------------------------------------------------------------------------------ JSON conditions

const TESTS = ['equals', 'notEquals', 'isNull', 'in', 'greaterThan', 'greaterOrEqual', 'lessThan', 'lessOrEqual', 'startsWith', 'contains', 'matches', 'changed'] as const;
const CONDITION_KEYS = new Set<string>(['field', ...TESTS, 'isNew', 'and', 'or', 'not', 'formula']);

/**
 * A JSON condition as an expression. A node is the AND of its own test (`field` with one of
 * equals, notEquals, isNull, in, greaterThan, greaterOrEqual, lessThan, lessOrEqual, startsWith,
 * contains, matches, changed), `isNew`, `formula`, `not` and every `and` entry; when it also has
 * `or`, the result is that OR any `or` entry. A value `{"field": "X"}` compares with another field.
 */
function conditionToExpr(raw: unknown, object: ObjectSchema, where: string): Expr {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new SpecError(where, 'A condition must be a JSON object.');
  const node = raw as Record<string, unknown>;
  for (const key of Object.keys(node)) {
    if (!CONDITION_KEYS.has(key)) throw new SpecError(`${where}.${key}`, `Unknown condition key "${key}"; expected one of ${[...CONDITION_KEYS].join(', ')}.`);
  }
  const parts: Expr[] = [];
  const tests = TESTS.filter((t) => node[t] !== undefined);
  if (node.field !== undefined) {
    if (typeof node.field !== 'string' || !node.field) throw new SpecError(`${where}.field`, '"field" must be a field name or path.');
    if (tests.length !== 1) throw new SpecError(where, `A "field" condition takes exactly one test: ${TESTS.join(', ')}.`);
    parts.push(fieldTest(node.field, tests[0]!, node[tests[0]!], object, `${where}.${tests[0]!}`));
  } else if (tests.length) {
    throw new SpecError(`${where}.${tests[0]!}`, `"${tests[0]!}" needs a "field".`);
  }
  if (node.isNew !== undefined) {
    if (typeof node.isNew !== 'boolean') throw new SpecError(`${where}.isNew`, '"isNew" must be true or false.');
    const isNew: Expr = { kind: 'call', name: 'ISNEW', args: [] };
    parts.push(node.isNew ? isNew : not(isNew));
  }
  if (node.formula !== undefined) parts.push(formulaPart(node.formula, `${where}.formula`));
  if (node.not !== undefined) parts.push(not(conditionToExpr(node.not, object, `${where}.not`)));
  for (const [i, sub] of list(node.and).entries()) parts.push(conditionToExpr(sub, object, `${where}.and${Array.isArray(node.and) ? `[${i}]` : ''}`));
  const alternatives = list(node.or).map((sub, i) => conditionToExpr(sub, object, `${where}.or${Array.isArray(node.or) ? `[${i}]` : ''}`));
  if (!parts.length && !alternatives.length) throw new SpecError(where, 'An empty condition: give "field" and a test, "and", "or", "not", "isNew" or "formula".');
  const own = parts.length === 0 ? undefined : parts.length === 1 ? parts[0]! : call('AND', parts);
  if (!alternatives.length) return own!;
  return call('OR', own ? [own, ...alternatives] : alternatives);
}

function list(value: unknown): unknown[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function formulaPart(raw: unknown, where: string): Expr {
  if (typeof raw !== 'string' || !raw.trim()) throw new SpecError(where, '"formula" must be formula text.');
  try {
    return parseFormula(raw);
  } catch (error) {
    throw new SpecError(where, (error as Error).message);
  }
}

const call = (name: string, args: Expr[]): Expr => ({ kind: 'call', name, args });
const not = (arg: Expr): Expr => call('NOT', [arg]);

function operand(value: unknown, where: string): Expr {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const ref = (value as { field?: unknown }).field;
    if (typeof ref !== 'string' || Object.keys(value).length !== 1) throw new SpecError(where, 'A value must be a string, number, boolean, null or {"field": "Name"}.');
    return { kind: 'field', path: ref.split('.') };
  }
  if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return { kind: 'literal', value };
  throw new SpecError(where, 'A value must be a string, number, boolean, null or {"field": "Name"}.');
}

function fieldTest(path: string, test: (typeof TESTS)[number], value: unknown, object: ObjectSchema, where: string): Expr {
  const field: Expr = { kind: 'field', path: path.split('.') };
  // Picklists are compared with ISPICKVAL, as formula text has to, so the rendered rule is valid.
  const picklist = !path.includes('.') && object.field(path)?.type === 'picklist';
  const equals = (v: unknown): Expr => {
    const right = operand(v, where);
    if (picklist && right.kind === 'literal' && typeof right.value === 'string') return call('ISPICKVAL', [field, right]);
    return { kind: 'binary', op: '=', left: picklist ? call('TEXT', [field]) : field, right };
  };
  const text = (v: unknown): Expr => {
    if (typeof v !== 'string') throw new SpecError(where, `"${test}" takes a string.`);
    return { kind: 'literal', value: v };
  };
  const textOf = picklist ? call('TEXT', [field]) : field;
  switch (test) {
    case 'equals':
      return equals(value);
    case 'notEquals':
      return not(equals(value));
    case 'isNull':
      if (typeof value !== 'boolean') throw new SpecError(where, '"isNull" must be true or false.');
      return value ? call('ISBLANK', [field]) : not(call('ISBLANK', [field]));
    case 'in':
      if (!Array.isArray(value) || !value.length) throw new SpecError(where, '"in" must be a non-empty list of values.');
      return value.length === 1 ? equals(value[0]) : call('OR', value.map(equals));
    case 'greaterThan':
    case 'greaterOrEqual':
    case 'lessThan':
    case 'lessOrEqual': {
      const op = ({ greaterThan: '>', greaterOrEqual: '>=', lessThan: '<', lessOrEqual: '<=' } as const)[test];
      return { kind: 'binary', op, left: field, right: operand(value, where) };
    }
    case 'startsWith':
      return call('BEGINS', [textOf, text(value)]);
    case 'contains':
      return call('CONTAINS', [textOf, text(value)]);
    case 'matches':
      try {
        new RegExp(String(value));
      } catch {
        throw new SpecError(where, '"matches" must be a valid regular expression.');
      }
      return call('REGEX', [textOf, text(value)]);
    case 'changed':
      if (typeof value !== 'boolean') throw new SpecError(where, '"changed" must be true or false.');
      return value ? call('ISCHANGED', [field]) : not(call('ISCHANGED', [field]));
  }
}

/**
 * A rule's condition, from `condition` (JSON) or `formula` (text), exactly one of them. Field
 * paths are checked against the schema so that a typo fails when the rule is added, not on every
 * write; `$Source.` paths (lookup filters) are checked against `source`.
 */
export function compileCondition(
  spec: { condition?: unknown; formula?: unknown },
  object: ObjectSchema,
  schema: Schema,
  options: { required: boolean; source?: ObjectSchema },
): Expr | undefined {
  if (spec.condition !== undefined && spec.formula !== undefined) throw new SpecError('formula', 'Give "condition" or "formula", not both.');
  let expr: Expr | undefined;
  if (spec.condition !== undefined) expr = conditionToExpr(spec.condition, object, 'condition');
  else if (spec.formula !== undefined) expr = formulaPart(spec.formula, 'formula');
  else if (options.required) throw new SpecError('condition', 'A "condition" (JSON) or "formula" (text) is required.');
  if (expr) {
    const where = spec.condition !== undefined ? 'condition' : 'formula';
    walk(expr, (node) => {
      if (node.kind !== 'field') return;
      const problem = checkPath(node.path, object, schema, options.source);
      if (problem) throw new SpecError(where, problem);
    });
  }
  return expr;
}

/** Why a field path does not resolve, or undefined when it does. */
export function checkPath(path: string[], object: ObjectSchema, schema: Schema, source?: ObjectSchema): string | undefined {
  let current: ObjectSchema | undefined = object;
  let segments = path;
  if (segments[0]!.startsWith('$')) {
    const root = segments[0]!.toLowerCase();
    if (root === '$source' && source) current = source;
    else if (root === '$user') current = schema.object('User');
    else return `Unknown global ${segments[0]!}${source ? '' : ' (only $User is available here)'}`;
    segments = segments.slice(1);
    if (!segments.length) return `${path.join('.')} needs a field`;
  }
  for (let i = 0; i < segments.length; i++) {
    if (!current) return undefined;
    const name = segments[i]!;
    if (i === segments.length - 1) {
      return current.field(name) ? undefined : `Field ${name} does not exist on ${current.name}. Check spelling.`;
    }
    const lookup = current.relationship(name);
    if (!lookup) return `Relationship ${name} does not exist on ${current.name}.`;
    // Polymorphic lookups (What, Who, Owner) resolve per record: the rest is checked when read.
    current = lookup.referenceTo?.length === 1 ? schema.object(lookup.referenceTo[0]!) : undefined;
  }
  return undefined;
}

// ------------------------------------------------------------------------------------ evaluation

const blank = (v: unknown): boolean => v === null || v === undefined || v === '';
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Whether a condition holds: only a true result counts, as a blank one does not fire a rule. */
export function holds(expr: Expr, env: FormulaEnv): boolean {
  return evaluate(expr, env) === true;
}

function evaluate(expr: Expr, env: FormulaEnv): unknown {
  switch (expr.kind) {
    case 'literal':
      return expr.value;
    case 'field':
      return env.field(expr.path) ?? null;
    case 'unary': {
      const v = evaluate(expr.arg, env);
      if (expr.op === '!') return v === null ? null : v !== true;
      return typeof v === 'number' ? -v : null;
    }
    case 'binary':
      return binary(expr.op, expr.left, expr.right, env);
    case 'call':
      return callFunction(expr, env);
  }
}

function binary(op: BinaryOp, leftExpr: Expr, rightExpr: Expr, env: FormulaEnv): unknown {
  if (op === '&&') return evaluate(leftExpr, env) === true && evaluate(rightExpr, env) === true;
  if (op === '||') return evaluate(leftExpr, env) === true || evaluate(rightExpr, env) === true;
  const left = evaluate(leftExpr, env);
  const right = evaluate(rightExpr, env);
  switch (op) {
    case '&':
      return `${blank(left) ? '' : String(left)}${blank(right) ? '' : String(right)}`;
    case '=':
    case '<>': {
      const same = blank(left) || blank(right) ? blank(left) && blank(right) : compare(left, right) === 0;
      return op === '=' ? same : !same;
    }
    case '<':
    case '<=':
    case '>':
    case '>=': {
      if (blank(left) || blank(right)) return false;
      const c = compare(left, right);
      return op === '<' ? c < 0 : op === '<=' ? c <= 0 : op === '>' ? c > 0 : c >= 0;
    }
    default:
      return arithmetic(op, left, right);
  }
}

function compare(left: unknown, right: unknown): number {
  if (typeof left === 'number' && typeof right === 'number') return left - right;
  if (typeof left === 'boolean' || typeof right === 'boolean') return left === right ? 0 : 1;
  const a = String(left);
  const b = String(right);
  return a < b ? -1 : a > b ? 1 : 0;
}

function arithmetic(op: '+' | '-' | '*' | '/', left: unknown, right: unknown): unknown {
  // Dates plus or minus days, as formulas write `CloseDate < TODAY() - 30`.
  if ((op === '+' || op === '-') && typeof left === 'string' && DATE.test(left) && typeof right === 'number') {
    const ms = Date.parse(`${left}T00:00:00Z`) + (op === '+' ? right : -right) * 86_400_000;
    return new Date(ms).toISOString().slice(0, 10);
  }
  if (op === '-' && typeof left === 'string' && DATE.test(left) && typeof right === 'string' && DATE.test(right)) {
    return (Date.parse(`${left}T00:00:00Z`) - Date.parse(`${right}T00:00:00Z`)) / 86_400_000;
  }
  if (typeof left !== 'number' || typeof right !== 'number') return null;
  if (op === '+') return left + right;
  if (op === '-') return left - right;
  if (op === '*') return left * right;
  return right === 0 ? null : left / right;
}

function callFunction(expr: Extract<Expr, { kind: 'call' }>, env: FormulaEnv): unknown {
  const arg = (i: number): unknown => evaluate(expr.args[i]!, env);
  const text = (i: number): string => {
    const v = arg(i);
    return blank(v) ? '' : String(v);
  };
  switch (expr.name) {
    case 'AND':
      return expr.args.every((_, i) => arg(i) === true);
    case 'OR':
      return expr.args.some((_, i) => arg(i) === true);
    case 'NOT': {
      const v = arg(0);
      return v === null ? null : v !== true;
    }
    case 'IF':
      return arg(0) === true ? arg(1) : arg(2);
    case 'CASE': {
      const value = arg(0);
      for (let i = 1; i + 1 < expr.args.length; i += 2) if (compare(value, arg(i)) === 0) return arg(i + 1);
      return expr.args.length % 2 === 0 ? arg(expr.args.length - 1) : null;
    }
    case 'ISBLANK':
    case 'ISNULL':
      return blank(arg(0));
    case 'BLANKVALUE':
    case 'NULLVALUE': {
      const v = arg(0);
      return blank(v) ? arg(1) : v;
    }
    case 'ISPICKVAL':
      return text(0) === text(1);
    case 'TEXT':
      return text(0);
    case 'VALUE': {
      const n = Number(text(0));
      return text(0).trim() === '' || !Number.isFinite(n) ? null : n;
    }
    case 'ISNUMBER':
      return text(0).trim() !== '' && Number.isFinite(Number(text(0)));
    case 'LEN':
      return text(0).length;
    case 'BEGINS':
      return text(0).startsWith(text(1));
    case 'CONTAINS':
      return text(0).includes(text(1));
    case 'INCLUDES':
      return text(0).split(';').includes(text(1));
    case 'REGEX':
      return new RegExp(`^(?:${text(1)})$`).test(text(0));
    case 'UPPER':
      return text(0).toUpperCase();
    case 'LOWER':
      return text(0).toLowerCase();
    case 'TRIM':
      return text(0).trim();
    case 'ISNEW':
      return env.isNew;
    case 'ISCHANGED': {
      if (env.isNew) return false;
      const path = (expr.args[0] as Extract<Expr, { kind: 'field' }>).path;
      const before = env.prior(path);
      const after = env.field(path);
      return blank(before) ? !blank(after) : blank(after) || compare(before, after) !== 0;
    }
    case 'PRIORVALUE':
      return env.prior((expr.args[0] as Extract<Expr, { kind: 'field' }>).path) ?? null;
    case 'TODAY':
      return env.today;
    case 'NOW':
      return env.now;
    case 'ABS': {
      const v = arg(0);
      return typeof v === 'number' ? Math.abs(v) : null;
    }
    case 'MAX':
    case 'MIN': {
      const values = expr.args.map((_, i) => arg(i));
      if (values.some((v) => typeof v !== 'number')) return null;
      return expr.name === 'MAX' ? Math.max(...(values as number[])) : Math.min(...(values as number[]));
    }
    case 'ROUND': {
      const v = arg(0);
      const digits = arg(1);
      if (typeof v !== 'number' || typeof digits !== 'number') return null;
      const f = 10 ** digits;
      return Math.round(v * f) / f;
    }
    default:
      return null;
  }
}

// ------------------------------------------------------------------------------------ rendering

const PRECEDENCE: Record<BinaryOp, number> = { '||': 1, '&&': 2, '=': 3, '<>': 3, '<': 3, '<=': 3, '>': 3, '>=': 3, '+': 4, '-': 4, '&': 4, '*': 5, '/': 5 };

/** Formula text for an expression, as the Metadata API would show it. */
export function renderFormula(expr: Expr): string {
  return render(expr, 0);
}

function render(expr: Expr, parent: number): string {
  switch (expr.kind) {
    case 'literal':
      if (expr.value === null) return 'NULL';
      if (typeof expr.value === 'boolean') return expr.value ? 'TRUE' : 'FALSE';
      if (typeof expr.value === 'number') return String(expr.value);
      return `"${expr.value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
    case 'field':
      return expr.path.join('.');
    case 'call':
      return `${expr.name}(${expr.args.map((a) => render(a, 0)).join(', ')})`;
    case 'unary':
      return `${expr.op}${render(expr.arg, 6)}`;
    case 'binary': {
      const p = PRECEDENCE[expr.op];
      const text = `${render(expr.left, p)} ${expr.op} ${render(expr.right, p + 1)}`;
      return p < parent ? `(${text})` : text;
    }
  }
}
