/**
 * Salesforce's implementation restriction on ContentDocumentLink: a query must filter on the
 * document, the linked record or the link's own Id, with `=` or `IN`. API 59.0 lifted it for users
 * with the Query All Files permission.
 */
import { parseQuery } from '@jetstreamapp/soql-parser-js';
import type { ConditionWithValueQuery, Query } from '@jetstreamapp/soql-parser-js';
import { SalesforceError } from '../org/errors.ts';
import type { Org } from '../org/org.ts';
import { tokenize, wholeScope } from '../soql/lexer.ts';
import { whereTree } from '../soql/where.ts';
import type { WhereTree } from '../soql/where.ts';

const RESTRICTION =
  "Implementation restriction: ContentDocumentLink requires a filter by a single Id on ContentDocumentId or LinkedEntityId using the equals operator or multiple Id's using the IN operator.";

const FILTER_FIELDS = new Set(['contentdocumentid', 'linkedentityid', 'id']);

/**
 * The MALFORMED_QUERY error a query of ContentDocumentLink gets without the filter Salesforce
 * requires, or undefined. Queries that do not parse are left to the SOQL engine's own errors.
 */
export function contentDocumentLinkQueryError(org: Org, soql: string, apiVersion: string): SalesforceError | undefined {
  if (!/contentdocumentlink/i.test(soql)) return undefined;
  if (Number.parseFloat(apiVersion) >= 59 && org.access.permissions.queryAllFiles) return undefined;
  let query: Query;
  let tree: WhereTree | undefined;
  try {
    query = parseQuery(soql);
    if (query.sObject?.toLowerCase() !== 'contentdocumentlink') return undefined;
    tree = whereTree(
      { source: org.querySource(), soql, options: { includeDeleted: false, context: 'rest' }, scope: wholeScope(tokenize(soql)), alias: query.sObjectAlias, readers: new Map() },
      query.where,
    );
  } catch {
    return undefined;
  }
  return tree && restricts(tree, query.sObjectAlias) ? undefined : new SalesforceError('MALFORMED_QUERY', RESTRICTION);
}

/** Whether every row the tree lets through is pinned by an ID filter. */
function restricts(tree: WhereTree, alias: string | undefined): boolean {
  switch (tree.op) {
    case 'AND':
      return tree.parts.some((p) => restricts(p, alias));
    case 'OR':
      return tree.parts.every((p) => restricts(p, alias));
    case 'NOT':
      return false;
    case 'COND':
      return isIdFilter(tree.cond, alias);
  }
}

function isIdFilter(cond: ConditionWithValueQuery, alias: string | undefined): boolean {
  if (!('field' in cond) || typeof cond.field !== 'string') return false;
  let field = cond.field.toLowerCase();
  if (alias && field.startsWith(`${alias.toLowerCase()}.`)) field = field.slice(alias.length + 1);
  if (field.startsWith('contentdocumentlink.')) field = field.slice('contentdocumentlink.'.length);
  const operator = String(cond.operator).toUpperCase();
  return FILTER_FIELDS.has(field) && (operator === '=' || operator === 'IN');
}
