/** Orgs: their status, settings, backups started on demand, record history and compare. */
import { createRoute, z } from '@hono/zod-openapi';
import { recordHistory, resolveSettings, statusReport, storedSettings, updateBackupSettings } from '../../backup/index.ts';
import { compareWithLive } from '../../compare/index.ts';
import { parseTime } from '../../core/time.ts';
import { addOrg, listOrgs, removeOrg, testOrg } from '../../orgs/index.ts';
import type { OrgAuth } from '../../core/org-client.ts';
import type { ServerApp } from '../app.ts';
import { requireAction } from '../app.ts';
import type { ServerDeps } from '../context.ts';
import type { BackgroundBackups } from '../jobs.ts';
import { ERROR_RESPONSES, OrgParam, connectTo, jsonResponse, orgOr404 } from './shared.ts';

/** Every way orgvault logs in to an org (see `orgvault org add --help`). */
const OrgAuthSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('jwt'), loginUrl: z.string().url(), clientId: z.string().min(1), username: z.string().min(1), privateKeyPem: z.string().min(1) }),
  z.object({ kind: z.literal('client-credentials'), loginUrl: z.string().url(), clientId: z.string().min(1), clientSecret: z.string().min(1) }),
  z.object({ kind: z.literal('refresh-token'), loginUrl: z.string().url(), clientId: z.string().min(1), clientSecret: z.string().min(1).optional(), refreshToken: z.string().min(1) }),
  z.object({ kind: z.literal('password'), loginUrl: z.string().url(), clientId: z.string().min(1), clientSecret: z.string().min(1), username: z.string().min(1), password: z.string().min(1) }),
  z.object({ kind: z.literal('access-token'), instanceUrl: z.string().url(), accessToken: z.string().min(1) }),
  z.object({ kind: z.literal('sf-cli'), alias: z.string().min(1) }),
]);

const RecordParam = OrgParam.extend({ id: z.string().min(15).max(18).openapi({ param: { name: 'id', in: 'path' }, example: '001000000000001AAA' }) });

export function registerOrgRoutes(app: ServerApp, deps: ServerDeps, backups: BackgroundBackups): void {

  app.openapi(
    createRoute({ method: 'get', path: '/api/orgs', summary: 'The connected orgs, each with its backup status and totals', responses: { 200: jsonResponse('The orgs'), ...ERROR_RESPONSES } }),
    async (c) => {
      requireAction(c, 'view');
      const orgs = [];
      for (const summary of await listOrgs(deps.store)) {
        const report = await statusReport(deps.store, (await deps.store.getOrg(summary.name))!);
        orgs.push({ ...summary, status: report.status, totals: report.totals, covered: report.covered, lastRun: report.lastRun });
      }
      return c.json({ orgs }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/orgs',
      summary: "Connects an org: logs in with the credentials (sealed in the vault, never returned) and registers it under a name",
      request: { body: { content: { 'application/json': { schema: z.object({ name: z.string().min(1), auth: OrgAuthSchema }) } }, required: true } },
      responses: { 201: jsonResponse('The org registered, and who the API user is'), 502: jsonResponse('The org refused the login'), ...ERROR_RESPONSES },
    }),
    async (c) => {
      const caller = requireAction(c, 'orgs');
      const { name, auth } = c.req.valid('json');
      const added = await addOrg({ catalog: deps.store, keyring: deps.keyring, connect: deps.connectAuth, audit: deps.store, actor: caller.user.name, now: deps.now }, name, auth as OrgAuth);
      return c.json({ org: (await listOrgs(deps.store)).find((o) => o.name === added.registration.name), identity: added.identity }, 201);
    },
  );

  app.openapi(
    createRoute({ method: 'delete', path: '/api/orgs/{name}', summary: "Removes an org's registration; its backups stay in the vault", request: { params: OrgParam }, responses: { 200: jsonResponse('The org removed'), ...ERROR_RESPONSES } }),
    async (c) => {
      const caller = requireAction(c, 'orgs');
      const org = await orgOr404(deps.store, c.req.valid('param').name);
      return c.json(await removeOrg({ catalog: deps.store, audit: deps.store, actor: caller.user.name, now: deps.now }, org.name), 200);
    },
  );

  app.openapi(
    createRoute({ method: 'post', path: '/api/orgs/{name}/test', summary: 'Connects to the org and reports who it is, its API usage and what the API user can see', request: { params: OrgParam }, responses: { 200: jsonResponse('The test report'), 502: jsonResponse('The org refused the login'), ...ERROR_RESPONSES } }),
    async (c) => {
      requireAction(c, 'orgs');
      const org = await orgOr404(deps.store, c.req.valid('param').name);
      return c.json(await testOrg({ catalog: deps.store, keyring: deps.keyring, connect: deps.connectAuth }, org.name), 200);
    },
  );

  app.openapi(
    createRoute({ method: 'get', path: '/api/orgs/{name}', summary: "An org's backup dashboard: status, totals and objects", request: { params: OrgParam }, responses: { 200: jsonResponse('The status report'), ...ERROR_RESPONSES } }),
    async (c) => {
      requireAction(c, 'view');
      const org = await orgOr404(deps.store, c.req.valid('param').name);
      return c.json({ ...(await statusReport(deps.store, org)), running: (await backups.active(org)) !== null }, 200);
    },
  );

  app.openapi(
    createRoute({ method: 'get', path: '/api/orgs/{name}/settings', summary: "The org's backup settings, defaults filled in", request: { params: OrgParam }, responses: { 200: jsonResponse('The settings'), ...ERROR_RESPONSES } }),
    async (c) => {
      requireAction(c, 'view');
      const org = await orgOr404(deps.store, c.req.valid('param').name);
      return c.json({ backup: resolveSettings(storedSettings(org)) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/api/orgs/{name}/settings',
      summary: "Changes the org's backup settings (exclusions, toggles, API budget…); unknown or invalid settings are refused",
      request: { params: OrgParam, body: { content: { 'application/json': { schema: z.object({ backup: z.record(z.string(), z.unknown()) }) } }, required: true } },
      responses: { 200: jsonResponse('The settings now'), ...ERROR_RESPONSES },
    }),
    async (c) => {
      const caller = requireAction(c, 'settings');
      const org = await orgOr404(deps.store, c.req.valid('param').name);
      const settings = await updateBackupSettings({ catalog: deps.store, audit: deps.store, actor: caller.user.name, now: deps.now }, org, c.req.valid('json').backup);
      return c.json({ backup: settings }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/orgs/{name}/backups',
      summary: 'Backs the org up now, in the background; the run is followed in /api/runs/{id}',
      request: { params: OrgParam, body: { content: { 'application/json': { schema: z.object({ objects: z.array(z.string()).optional(), reconcile: z.boolean().optional() }) } }, required: false } },
      responses: { 202: jsonResponse('Started (or queued for the workers): the run ID'), 409: jsonResponse('A backup of the org is running or queued'), ...ERROR_RESPONSES },
    }),
    async (c) => {
      const caller = requireAction(c, 'backup');
      const org = await orgOr404(deps.store, c.req.valid('param').name);
      // The body is optional: a JSON one (sized or chunked) is validated, none means every object.
      const body = /json/i.test(c.req.header('content-type') ?? '') ? c.req.valid('json') : {};
      const runId = await backups.start(org, caller.user.name, body);
      if (!runId) return c.json({ error: 'BACKUP_RUNNING', message: `A backup of ${org.name} is already running or queued; follow it in /api/runs, or wait for it to end.` }, 409);
      return c.json({ runId }, 202);
    },
  );

  app.openapi(
    createRoute({ method: 'get', path: '/api/orgs/{name}/records/{id}/history', summary: 'Every backed-up version of a record, newest first, with the fields that changed', request: { params: RecordParam }, responses: { 200: jsonResponse('The versions'), ...ERROR_RESPONSES } }),
    async (c) => {
      requireAction(c, 'view');
      const { name, id } = c.req.valid('param');
      const org = await orgOr404(deps.store, name);
      return c.json(await recordHistory(deps.store, org, id), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/orgs/{name}/records/{id}/compare',
      summary: 'A backed-up version (the latest, or as of a time) against the live record: what a restore would change',
      request: { params: RecordParam, query: z.object({ at: z.string().optional().openapi({ example: '2026-11-01T00:00:00Z' }) }) },
      responses: { 200: jsonResponse('The comparison'), ...ERROR_RESPONSES },
    }),
    async (c) => {
      requireAction(c, 'restore');
      const { name, id } = c.req.valid('param');
      const { at } = c.req.valid('query');
      const org = await orgOr404(deps.store, name);
      const comparison = await compareWithLive({ store: deps.store, connect: () => connectTo(deps, org), now: deps.now }, org, id, { at: at === undefined ? undefined : parseTime(at, 'at') });
      return c.json(comparison, 200);
    },
  );
}
