/** The permission check through the API: the last report of an org, and a check run now. */
import { createRoute } from '@hono/zod-openapi';
import { latestPermissionReport, runPermissionCheck } from '../../permissions/index.ts';
import type { ServerApp } from '../app.ts';
import { requireAction } from '../app.ts';
import type { ServerDeps } from '../context.ts';
import { ERROR_RESPONSES, OrgParam, connectTo, jsonResponse, orgOr404 } from './shared.ts';

export function registerPermissionRoutes(app: ServerApp, deps: ServerDeps): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/orgs/{name}/permissions',
      summary: "The last permission check of the org's API user: user permissions, objects and fields it cannot read (report null when none ran)",
      request: { params: OrgParam },
      responses: { 200: jsonResponse('The run and its report'), ...ERROR_RESPONSES },
    }),
    async (c) => {
      requireAction(c, 'view');
      const org = await orgOr404(deps.store, c.req.valid('param').name);
      const latest = await latestPermissionReport(deps.store, org.orgId);
      return c.json(latest ? { runId: latest.run.runId, status: latest.run.status, report: latest.report } : { runId: null, status: null, report: null }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/orgs/{name}/permissions/check',
      summary: "Checks the API user's permissions now (a run of kind permissions in the job log) and answers the report",
      request: { params: OrgParam },
      responses: { 200: jsonResponse('The run ID, its status (CompletedWithErrors when a gap was found) and the report'), 502: jsonResponse('Salesforce refused the connection'), ...ERROR_RESPONSES },
    }),
    async (c) => {
      requireAction(c, 'backup');
      const org = await orgOr404(deps.store, c.req.valid('param').name);
      const result = await runPermissionCheck({ store: deps.store, connect: () => connectTo(deps, org), now: deps.now }, org);
      return c.json(result, 200);
    },
  );
}
