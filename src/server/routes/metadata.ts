/**
 * Metadata through the API: an org's metadata types with counts and last change, the metadata
 * backups, and a compare of two of them (or one and the live org).
 */
import { createRoute, z } from '@hono/zod-openapi';
import { compareMetadata, liveMetadata, parseMetadataPoint } from '../../metadata/compare.ts';
import { metadataInventory } from '../../metadata/read-model.ts';
import type { MetadataPoint } from '../../metadata/compare.ts';
import type { ServerApp } from '../app.ts';
import { requireAction } from '../app.ts';
import type { ServerDeps } from '../context.ts';
import { ERROR_RESPONSES, OrgParam, connectTo, jsonResponse, orgOr404 } from './shared.ts';

const CompareQuery = z.object({
  from: z.string().optional().openapi({ description: 'A run ID (or its start) or an ISO-8601 time; default: the backup before `to`' }),
  to: z.string().optional().openapi({ description: 'A run ID, a time, or `live`; default: the latest backup' }),
  type: z.string().optional().openapi({ description: 'Only components of this metadata type' }),
});

export function registerMetadataRoutes(app: ServerApp, deps: ServerDeps): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/orgs/{name}/metadata',
      summary: "The org's metadata types (components, deletions, last change) and its metadata backups, newest first",
      request: { params: OrgParam },
      responses: { 200: jsonResponse('Types and runs'), ...ERROR_RESPONSES },
    }),
    async (c) => {
      requireAction(c, 'view');
      const org = await orgOr404(deps.store, c.req.valid('param').name);
      const [{ types }, runs] = await Promise.all([metadataInventory(deps.store, org.orgId), deps.store.metadataRuns(org.orgId)]);
      const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
      return c.json(
        {
          types: types.map((t) => ({ ...t, lastModified: iso(t.lastModified), lastChangeCaptured: iso(t.lastChangeCaptured) })),
          runs: runs.map((r) => ({ ...r, capturedAt: iso(r.capturedAt) })),
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/orgs/{name}/metadata/compare',
      summary: 'Components added, removed and changed between two metadata backups (default: the last two) or a backup and the live org, with a unified diff of each changed one',
      request: { params: OrgParam, query: CompareQuery },
      responses: { 200: jsonResponse('The comparison'), 502: jsonResponse('Salesforce refused the connection (a compare with the live org)'), ...ERROR_RESPONSES },
    }),
    async (c) => {
      requireAction(c, 'view');
      const org = await orgOr404(deps.store, c.req.valid('param').name);
      const query = c.req.valid('query');
      const points: { from?: MetadataPoint; to?: MetadataPoint } = {};
      if (query.from) points.from = parseMetadataPoint(query.from, 'from');
      if (query.to) points.to = parseMetadataPoint(query.to, 'to');
      const result = await compareMetadata({ store: deps.store, live: liveMetadata(() => connectTo(deps, org), org, query.type) }, org, points, query.type ? { type: query.type } : {});
      return c.json(result, 200);
    },
  );
}
