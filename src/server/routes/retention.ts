/** An org's retention policy through the API, and forget (its dry run shows what the policy would remove). */
import { createRoute, z } from '@hono/zod-openapi';
import { clearRetentionPolicy, describePolicy, forget, policySettings, storedPolicy, updateRetentionPolicy } from '../../retention/index.ts';
import type { RetentionPolicy } from '../../retention/index.ts';
import type { ServerApp } from '../app.ts';
import { requireAction } from '../app.ts';
import type { ServerDeps } from '../context.ts';
import { ERROR_RESPONSES, OrgParam, jsonResponse, orgOr404 } from './shared.ts';

const count = z.number().int().min(0);
/** The policy's settings: a number, or null to turn a rule of its own off (deleted records and files). */
const PolicyChanges = z
  .object({
    keepAllDays: count,
    keepDaily: count,
    keepWeekly: count,
    keepMonthly: count,
    keepYearly: count,
    keepDeletedDays: count.nullable(),
    keepFileDays: count.nullable(),
    keepFileVersions: count.nullable(),
  })
  .partial()
  .strict();

const policyJson = (policy: RetentionPolicy | undefined): Record<string, unknown> => ({
  policy: policy ?? null,
  settings: policy ? policySettings(policy) : null,
  description: policy ? describePolicy(policy) : null,
});

export function registerRetentionRoutes(app: ServerApp, deps: ServerDeps): void {
  app.openapi(
    createRoute({ method: 'get', path: '/api/orgs/{name}/retention', summary: "The org's retention policy (null: every version is kept)", request: { params: OrgParam }, responses: { 200: jsonResponse('The policy'), ...ERROR_RESPONSES } }),
    async (c) => {
      requireAction(c, 'view');
      const org = await orgOr404(deps.store, c.req.valid('param').name);
      return c.json(policyJson(storedPolicy(org)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/api/orgs/{name}/retention',
      summary: "Sets or changes the org's retention policy; settings left out keep their value, invalid ones are refused",
      request: { params: OrgParam, body: { content: { 'application/json': { schema: PolicyChanges } }, required: true } },
      responses: { 200: jsonResponse('The policy now'), ...ERROR_RESPONSES },
    }),
    async (c) => {
      const caller = requireAction(c, 'settings');
      const org = await orgOr404(deps.store, c.req.valid('param').name);
      const policy = await updateRetentionPolicy({ catalog: deps.store, audit: deps.store, actor: caller.user.name, now: deps.now }, org, c.req.valid('json'));
      return c.json(policyJson(policy), 200);
    },
  );

  app.openapi(
    createRoute({ method: 'delete', path: '/api/orgs/{name}/retention', summary: "Removes the org's retention policy: every version is kept", request: { params: OrgParam }, responses: { 200: jsonResponse('Whether there was one'), ...ERROR_RESPONSES } }),
    async (c) => {
      const caller = requireAction(c, 'settings');
      const org = await orgOr404(deps.store, c.req.valid('param').name);
      return c.json({ cleared: await clearRetentionPolicy({ catalog: deps.store, audit: deps.store, actor: caller.user.name, now: deps.now }, org) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/orgs/{name}/forget',
      summary: 'Applies the retention policy: removes the versions it does not keep (a dry run only reports them); a logged run',
      request: { params: OrgParam, body: { content: { 'application/json': { schema: z.object({ dryRun: z.boolean(), detail: z.boolean().optional() }).strict() } }, required: true } },
      responses: { 200: jsonResponse('The report: per object, versions and records removed and kept'), 409: jsonResponse('A backup or restore of the org is writing'), ...ERROR_RESPONSES },
    }),
    async (c) => {
      const { dryRun, detail } = c.req.valid('json');
      // A dry run removes nothing and shows no value: anyone who may view may ask what would go.
      const caller = requireAction(c, dryRun ? 'view' : 'settings');
      const org = await orgOr404(deps.store, c.req.valid('param').name);
      return c.json(await forget({ store: deps.store, actor: caller.user.name, now: deps.now }, { org, dryRun, detail }), 200);
    },
  );
}
