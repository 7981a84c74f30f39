/**
 * Archive through the API: a dry run (the default) or an archive, its report, resuming an
 * interrupted one (administrators only), and which records an archive deleted (for anyone who may
 * view, so that search hits and histories can be marked).
 */
import { createRoute, z } from '@hono/zod-openapi';
import { archiveReport, resumeArchive, runArchive } from '../../archive/index.ts';
import { UsageError } from '../../core/errors.ts';
import { isRecordId } from '../../core/vault.ts';
import type { ServerApp } from '../app.ts';
import { NotFoundError, requireAction } from '../app.ts';
import type { ServerDeps } from '../context.ts';
import { ERROR_RESPONSES, OrgParam, connectTo, jsonResponse, orgOr404 } from './shared.ts';

/** The archive command's options, by the same names (see `orgvault archive --help`). */
const ArchiveBody = z.object({
  object: z.string().min(1).openapi({ example: 'Case' }),
  where: z.string().min(1).openapi({ description: 'a SOQL condition on the object', example: 'ClosedDate < LAST_N_YEARS:2 AND IsClosed = true' }),
  limit: z.number().int().min(1).optional(),
  children: z.boolean().default(false).openapi({ description: 'archive the children Salesforce deletes with each record (master-detail, cascades)' }),
  childObjects: z.array(z.string().min(1)).default([]).openapi({ description: 'also the children of these objects through lookups and restricted lookups (needs children)', example: ['Case'] }),
  dryRun: z.boolean().default(true).openapi({ description: 'true (the default) checks and deletes nothing; false deletes' }),
  skipUnsafe: z.boolean().default(false).openapi({ description: 'delete the safe records even when others are refused' }),
});

const ArchiveRunParam = OrgParam.extend({ runId: z.string().uuid().openapi({ param: { name: 'runId', in: 'path' } }) });

export function registerArchiveRoutes(app: ServerApp, deps: ServerDeps): void {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/orgs/{name}/archives',
      summary: 'Archives records that are safely in the vault (deletes them from Salesforce), or with dryRun (the default) shows what would go and what would be refused',
      request: { params: OrgParam, body: { content: { 'application/json': { schema: ArchiveBody } }, required: true } },
      responses: { 200: jsonResponse('The archive report: runId, status, counts, per-object counts, results'), 502: jsonResponse('Salesforce refused the archive as a whole'), ...ERROR_RESPONSES },
    }),
    async (c) => {
      const caller = requireAction(c, 'archive');
      const org = await orgOr404(deps.store, c.req.valid('param').name);
      const body = c.req.valid('json');
      const client = await connectTo(deps, org);
      const report = await runArchive(
        { store: deps.store, blobs: deps.blobs, client, now: deps.now },
        { org, objectName: body.object, where: body.where, limit: body.limit, children: body.children, childObjects: body.childObjects, dryRun: body.dryRun, skipUnsafe: body.skipUnsafe, actor: caller.user.name },
      );
      return c.json(report, 200);
    },
  );

  app.openapi(
    createRoute({ method: 'get', path: '/api/orgs/{name}/archives/{runId}', summary: "An archive's report, record by record", request: { params: ArchiveRunParam }, responses: { 200: jsonResponse('The archive report'), ...ERROR_RESPONSES } }),
    async (c) => {
      requireAction(c, 'view');
      const { name, runId } = c.req.valid('param');
      const org = await orgOr404(deps.store, name);
      const run = await deps.store.getRun(runId);
      if (!run || run.kind !== 'archive' || run.orgId !== org.orgId) throw new NotFoundError(`No archive run ${runId} of org ${org.name}.`);
      return c.json(await archiveReport(deps.store, runId), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/orgs/{name}/archives/{runId}/resume',
      summary: 'Finishes an interrupted archive: its unfinished batch is settled against the org, then what is left is checked and deleted',
      request: { params: ArchiveRunParam },
      responses: { 200: jsonResponse('The archive report'), 502: jsonResponse('Salesforce refused the archive as a whole'), ...ERROR_RESPONSES },
    }),
    async (c) => {
      const caller = requireAction(c, 'archive');
      const { name, runId } = c.req.valid('param');
      const org = await orgOr404(deps.store, name);
      const client = await connectTo(deps, org);
      return c.json(await resumeArchive({ store: deps.store, blobs: deps.blobs, client, now: deps.now }, runId, org, caller.user.name), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/orgs/{name}/archived',
      summary: 'Which of these records an archive deleted from Salesforce (and whether they were restored since)',
      request: { params: OrgParam, query: z.object({ ids: z.string().min(15).openapi({ description: 'record IDs separated by commas (at most 2,000)', example: '500000000000001AAA,500000000000002AAA' }) }) },
      responses: { 200: jsonResponse('`archived`: the archived ones among the IDs, each with its run, time and whether it was restored'), ...ERROR_RESPONSES },
    }),
    async (c) => {
      requireAction(c, 'view');
      const org = await orgOr404(deps.store, c.req.valid('param').name);
      const ids = c.req.valid('query').ids.split(',').map((s) => s.trim()).filter(Boolean);
      const bad = ids.find((id) => !isRecordId(id));
      if (bad) throw new UsageError(`"${bad}" is not a Salesforce record ID (15 or 18 letters and digits).`);
      if (ids.length > 2000) throw new UsageError(`${ids.length} IDs asked for; ask for at most 2,000 at a time.`);
      const marks = await deps.store.archivedRecords(org.orgId, ids);
      return c.json({ archived: [...marks.values()].map((m) => ({ ...m, archivedAt: new Date(m.archivedAt).toISOString(), systemModstamp: new Date(m.systemModstamp).toISOString() })) }, 200);
    },
  );
}
