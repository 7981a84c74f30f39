/** Global search: an org's backed-up records by any text value, latest first, each with its history link. */
import { createRoute, z } from '@hono/zod-openapi';
import { MAX_SEARCH_LIMIT, parseSearchRange, searchRecords } from '../../search/index.ts';
import type { SearchResult } from '../../search/index.ts';
import type { ServerApp } from '../app.ts';
import { requireAction } from '../app.ts';
import type { ServerDeps } from '../context.ts';
import type { OrgRegistration } from '../../core/vault.ts';
import { ERROR_RESPONSES, OrgParam, jsonResponse, orgOr404 } from './shared.ts';

const flag = z.enum(['true', 'false']).optional();

export const SearchQuery = z.object({
  q: z.string().openapi({ description: 'the words to find: a record matches when one of its versions holds every word, in any fields', example: 'Acme Boston' }),
  object: z.string().optional().openapi({ description: 'only these objects (API names, separated with commas)', example: 'Account,Contact' }),
  from: z.string().optional().openapi({ description: 'only versions modified (SystemModstamp) at or after this time', example: '2026-01-01' }),
  to: z.string().optional().openapi({ description: 'only versions modified at or before this time; a plain date means the whole day', example: '2026-03-31' }),
  deletedOnly: flag.openapi({ description: 'only records deleted now' }),
  latestOnly: flag.openapi({ description: 'only records whose latest version matches' }),
  limit: z.coerce.number().int().min(1).max(MAX_SEARCH_LIMIT).optional(),
});

export type SearchQueryInput = z.infer<typeof SearchQuery>;

/** Runs a search from the API's (or the dashboard's) query parameters. */
export function searchFromQuery(deps: ServerDeps, org: OrgRegistration, query: SearchQueryInput): Promise<SearchResult> {
  const range = parseSearchRange(query.from, query.to, { from: 'from', to: 'to' });
  const objects = query.object?.split(',').map((o) => o.trim()).filter(Boolean);
  return searchRecords(deps.store, {
    org,
    text: query.q,
    objects,
    ...range,
    deletedOnly: query.deletedOnly === 'true',
    latestOnly: query.latestOnly === 'true',
    limit: query.limit,
  });
}

/** Where a record's history is, in the API and in the dashboard. */
export function historyLinks(orgName: string, recordId: string): { api: string; page: string } {
  const org = encodeURIComponent(orgName);
  return { api: `/api/orgs/${org}/records/${recordId}/history`, page: `/orgs/${org}/records/${recordId}` };
}

export function registerSearchRoutes(app: ServerApp, deps: ServerDeps): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/orgs/{name}/search',
      summary: "Searches the org's backups: records whose versions hold every word (latest state and history, every object; files by name), latest first, each with its matching fields and history links",
      request: { params: OrgParam, query: SearchQuery },
      responses: { 200: jsonResponse('The matching records'), ...ERROR_RESPONSES },
    }),
    async (c) => {
      // Record values are shown to whoever may view backups, as record history is.
      requireAction(c, 'view');
      const org = await orgOr404(deps.store, c.req.valid('param').name);
      const result = await searchFromQuery(deps, org, c.req.valid('query'));
      return c.json({ ...result, hits: result.hits.map((hit) => ({ ...hit, history: historyLinks(org.name, hit.recordId) })) }, 200);
    },
  );
}
