import { SalesforceError } from '../org/errors.ts';
import { tokenize } from './lexer.ts';

/**
 * SOQL errors in Salesforce's form. Compile errors carry the query excerpt, a caret under the
 * offending token and its position before the reason:
 *
 *     \nSELECT Id, Foo FROM Account\n           ^\nERROR at Row:1:Column:12\nNo such column 'Foo' ...
 *
 * For long lines Salesforce shows a window of the line around the position (about 40 characters
 * before it and 30 after, widened to whole tokens), not the whole query.
 */
export function queryError(errorCode: string, reason: string, soql: string, offset: number): SalesforceError {
  return new SalesforceError(errorCode, `\n${excerpt(soql, offset)}\n${reason}`);
}

const BEFORE = 40;
const AFTER = 31;

function excerpt(soql: string, offset: number): string {
  const at = Math.max(0, Math.min(offset, soql.length));
  const lineStart = soql.lastIndexOf('\n', at - 1) + 1;
  const nextBreak = soql.indexOf('\n', at);
  const lineEnd = nextBreak === -1 ? soql.length : nextBreak;
  const line = soql.slice(lineStart, lineEnd).replace(/\r$/, '');
  const col = at - lineStart;
  const row = soql.slice(0, lineStart).split('\n').length;

  let from = Math.max(0, col - BEFORE);
  let to = Math.min(line.length, col + AFTER);
  // Widen to whole tokens so the excerpt never starts or ends mid-word.
  for (const t of tokenize(line)) {
    const end = t.start + t.text.length;
    if (t.start < from && end > from) from = t.start;
    if (t.start < to && end > to) to = end;
  }
  const shown = line.slice(from, to);
  return `${shown}\n${' '.repeat(col - from)}^\nERROR at Row:${row}:Column:${col + 1}`;
}

const noSuchColumn = (column: string, entity: string): string =>
  `No such column '${column}' on entity '${entity}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`;

export const messages = {
  noSuchColumn,
  unsupportedObject: (name: string): string =>
    `sObject type '${name}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.`,
  badRelationshipInPath: (name: string): string =>
    `Didn't understand relationship '${name}' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.`,
  badChildRelationship: (name: string): string =>
    `Didn't understand relationship '${name}' in FROM clause of subquery. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.`,
  fieldsLimit: 'The SOQL FIELDS function must have a LIMIT of at most 200',
  maxOffset: 'Maximum SOQL offset allowed is 2000',
  unexpectedToken: (token: string): string => `unexpected token: '${token}'`,
};

/**
 * A parser-library failure as MALFORMED_QUERY. The library reports the offending token's text but
 * not its position, so the position is that of the first token with that text (end of query for
 * end of input).
 */
export function parseFailure(soql: string, error: unknown): SalesforceError {
  const message = error instanceof Error ? error.message : String(error);
  const lexing = /unexpected character: ->(.)<- at offset: (\d+)/.exec(message);
  if (lexing) {
    return queryError('MALFORMED_QUERY', `no viable alternative at character '${lexing[1]}'`, soql, Number(lexing[2]));
  }
  const found = /but found(?::| -->) '([^']*)'/.exec(message);
  const image = found?.[1] ?? '';
  if (!image) return queryError('MALFORMED_QUERY', messages.unexpectedToken('<EOF>'), soql, soql.trimEnd().length);
  const first = image.split(/\s+/)[0].toLowerCase();
  const token = tokenize(soql).find((t) => t.text.toLowerCase() === first || t.text.toLowerCase().startsWith(`${first}.`));
  return queryError('MALFORMED_QUERY', messages.unexpectedToken(image), soql, token?.start ?? 0);
}
