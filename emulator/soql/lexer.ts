/**
 * A forgiving tokenizer used only to find where things are in the query text. The parser library
 * does not report positions, yet Salesforce's errors point at the offending token with a caret and
 * `ERROR at Row:r:Column:c`, so the engine looks positions up here.
 */

export interface Token {
  /** The token text as written (strings keep their quotes). */
  text: string;
  /** Offset of the first character in the query. */
  start: number;
  kind: 'word' | 'string' | 'number' | 'punct';
}

const WORD_START = /[A-Za-z_]/;
const WORD_PART = /[A-Za-z0-9_]/;

/** Splits a query into tokens. Never throws: unknown characters become one-character tokens. */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (c === "'") {
      i++;
      while (i < text.length && text[i] !== "'") i += text[i] === '\\' ? 2 : 1;
      i = Math.min(i + 1, text.length);
      tokens.push({ text: text.slice(start, i), start, kind: 'string' });
    } else if (WORD_START.test(c)) {
      // Dotted paths (Account.Owner.Email) stay one token so they can be matched as written.
      while (i < text.length && (WORD_PART.test(text[i]) || (text[i] === '.' && WORD_START.test(text[i + 1] ?? '')))) i++;
      tokens.push({ text: text.slice(start, i), start, kind: 'word' });
    } else if (/[0-9]/.test(c)) {
      // Covers numbers, dates and datetimes (2024-01-01T00:00:00.000+0000) in one token.
      while (i < text.length && /[0-9A-Za-z:.+-]/.test(text[i])) i++;
      tokens.push({ text: text.slice(start, i), start, kind: 'number' });
    } else {
      const two = text.slice(i, i + 2);
      const len = two === '!=' || two === '<>' || two === '<=' || two === '>=' ? 2 : 1;
      i += len;
      tokens.push({ text: text.slice(start, i), start, kind: 'punct' });
    }
  }
  return tokens;
}

/**
 * The token range of one SELECT scope: the whole query, or a parenthesised subquery. `from` is the
 * index of the scope's SELECT token; scanning stops where the scope's parenthesis closes.
 */
export interface Scope {
  tokens: Token[];
  /** Index of the SELECT token. */
  from: number;
  /** Index one past the scope's last token. */
  to: number;
}

export function wholeScope(tokens: Token[]): Scope {
  const from = tokens.findIndex((t) => t.kind === 'word' && t.text.toUpperCase() === 'SELECT');
  return { tokens, from: Math.max(from, 0), to: tokens.length };
}

/** Indexes of the tokens that sit directly in the scope (not inside nested parentheses). */
function* topLevel(scope: Scope): Generator<number> {
  let depth = 0;
  for (let i = scope.from; i < scope.to; i++) {
    const t = scope.tokens[i];
    if (t.text === '(') depth++;
    else if (t.text === ')') {
      if (depth === 0) return;
      depth--;
    } else if (depth === 0) yield i;
  }
}

/** Offset of a clause keyword (FROM, WHERE, ORDER, GROUP, LIMIT, OFFSET) at the scope's level. */
export function clauseOffset(scope: Scope, keyword: string): number | undefined {
  for (const i of topLevel(scope)) {
    const t = scope.tokens[i];
    if (t.kind === 'word' && t.text.toUpperCase() === keyword) return t.start;
  }
  return undefined;
}

/** Subqueries of a scope in text order, each as its own scope. */
export function subqueryScopes(scope: Scope): Scope[] {
  const result: Scope[] = [];
  let depth = 0;
  for (let i = scope.from; i < scope.to; i++) {
    const t = scope.tokens[i];
    if (t.text === '(') {
      depth++;
      const next = scope.tokens[i + 1];
      if (depth === 1 && next && next.kind === 'word' && next.text.toUpperCase() === 'SELECT') {
        let inner = 0;
        let j = i + 1;
        for (; j < scope.to; j++) {
          const u = scope.tokens[j];
          if (u.text === '(') inner++;
          else if (u.text === ')') {
            if (inner === 0) break;
            inner--;
          }
        }
        result.push({ tokens: scope.tokens, from: i + 1, to: j });
      }
    } else if (t.text === ')') {
      if (depth === 0) break;
      depth--;
    }
  }
  return result;
}

/**
 * Offset of the first word token at or after `from` that matches `text` case-insensitively, within
 * the scope; falls back to the first match anywhere in the scope, then to the scope start.
 */
export function locateWord(scope: Scope, text: string, from = 0): number {
  const wanted = text.toLowerCase();
  let fallback: number | undefined;
  for (let i = scope.from; i < scope.to; i++) {
    const t = scope.tokens[i];
    if (t.kind !== 'word' || t.text.toLowerCase() !== wanted) continue;
    if (t.start >= from) return t.start;
    fallback ??= t.start;
  }
  return fallback ?? scope.tokens[scope.from]?.start ?? 0;
}

/**
 * Offset of the n-th (0-based) logical operator (AND, OR, NOT) of a WHERE clause, counted at the
 * WHERE's own level and skipping semi-join subqueries, which is how the rebuilt condition tree
 * numbers them.
 */
export function locateLogicalOperator(scope: Scope, whereOffset: number, n: number): number {
  let seen = 0;
  let skipDepth = 0;
  let depth = 0;
  for (let i = scope.from; i < scope.to; i++) {
    const t = scope.tokens[i];
    if (t.start < whereOffset) {
      if (t.text === '(') depth++;
      else if (t.text === ')') depth--;
      continue;
    }
    if (t.text === '(') {
      depth++;
      const next = scope.tokens[i + 1];
      if (skipDepth === 0 && next?.kind === 'word' && next.text.toUpperCase() === 'SELECT') skipDepth = depth;
      continue;
    }
    if (t.text === ')') {
      if (skipDepth === depth) skipDepth = 0;
      depth--;
      if (depth < 0) break;
      continue;
    }
    if (skipDepth || t.kind !== 'word') continue;
    const word = t.text.toUpperCase();
    if (word === 'ORDER' || word === 'GROUP' || word === 'LIMIT' || word === 'OFFSET') break;
    const isNotIn = word === 'NOT' && scope.tokens[i + 1]?.text.toUpperCase() === 'IN';
    if ((word === 'AND' || word === 'OR' || word === 'NOT') && !isNotIn) {
      if (seen === n) return t.start;
      seen++;
    }
  }
  return whereOffset;
}
