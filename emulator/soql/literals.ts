import type { CompileContext } from './context.ts';
import { queryError } from './query-error.ts';

/**
 * SOQL string literals: single-quoted with backslash escapes. `\%` and `\_` stay escaped for LIKE,
 * where they mean a literal percent sign or underscore; elsewhere they are those characters.
 */

const SIMPLE_ESCAPES: Record<string, string> = {
  n: '\n',
  N: '\n',
  r: '\r',
  R: '\r',
  t: '\t',
  T: '\t',
  b: '\b',
  B: '\b',
  f: '\f',
  F: '\f',
  '"': '"',
  "'": "'",
  '\\': '\\',
};

/** One character of a string literal: either plain text or a LIKE wildcard. */
type Piece = { text: string } | { wildcard: '%' | '_' };

function pieces(ctx: CompileContext, quoted: string, offset: number): Piece[] {
  const body = quoted.slice(1, -1);
  const out: Piece[] = [];
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === '%' || c === '_') {
      out.push({ wildcard: c });
      continue;
    }
    if (c !== '\\') {
      out.push({ text: c });
      continue;
    }
    const next = body[i + 1] ?? '';
    i++;
    if (next === '%' || next === '_') out.push({ text: next });
    else if (next === 'u' && /^[0-9a-fA-F]{4}$/.test(body.slice(i + 1, i + 5))) {
      out.push({ text: String.fromCharCode(parseInt(body.slice(i + 1, i + 5), 16)) });
      i += 4;
    } else if (next in SIMPLE_ESCAPES) out.push({ text: SIMPLE_ESCAPES[next] });
    else {
      throw queryError(
        'MALFORMED_QUERY',
        `Invalid string literal '${body}'. Illegal character sequence '\\${next}' in string literal.`,
        ctx.soql,
        offset,
      );
    }
  }
  return out;
}

/** The value of a quoted string literal. */
export function unquote(ctx: CompileContext, quoted: string, offset: number): string {
  return pieces(ctx, quoted, offset)
    .map((p) => ('text' in p ? p.text : p.wildcard))
    .join('');
}

/** A LIKE pattern as an anchored, case-insensitive regular expression (`%` any run, `_` one character). */
export function likePattern(ctx: CompileContext, quoted: string, offset: number): RegExp {
  const source = pieces(ctx, quoted, offset)
    .map((p) => ('wildcard' in p ? (p.wildcard === '%' ? '[\\s\\S]*' : '[\\s\\S]') : p.text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, 'i');
}
