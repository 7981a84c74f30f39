/**
 * The restore wizard's steps: the matching records and versions with their related records, then
 * a dry run or the restore itself, whose report comes back (and stays in the job log).
 */
import { createRoute, z } from '@hono/zod-openapi';
import { restoreRequestOf, selectionOf } from '../../restore/request.ts';
import type { RestoreFlags } from '../../restore/request.ts';
import { CHANGE_TYPES } from '../../core/vault.ts';
import { gatherRelated, runRestore, selectVersions } from '../../restore/index.ts';
import type { ServerApp } from '../app.ts';
import { requireAction } from '../app.ts';
import type { ServerDeps } from '../context.ts';
import { notifierOf } from './notifications.ts';
import { ERROR_RESPONSES, OrgParam, connectTo, jsonResponse, orgOr404 } from './shared.ts';

/** The restore command's options, by the same names (see `orgvault restore --help`). */
const RestoreBody = z.object({
  object: z.string().min(1).openapi({ example: 'Account' }),
  changeTypes: z.array(z.enum(CHANGE_TYPES as [string, ...string[]])).optional(),
  from: z.string().optional(),
  to: z.string().optional(),
  dateBy: z.enum(['activity', 'backup']).default('activity'),
  ids: z.array(z.string()).optional(),
  modifiedBy: z.string().optional(),
  where: z.array(z.string()).optional(),
  match: z.string().optional(),
  asOf: z.string().optional(),
  pick: z.record(z.string(), z.string()).optional().openapi({ description: 'record ID → SystemModstamp of the version to restore' }),
  parents: z.number().int().min(0).max(10).default(0),
  children: z.number().int().min(0).max(10).default(0),
  dryRun: z.boolean().default(false),
  overwriteNewer: z.boolean().default(false),
  writeNulls: z.boolean().default(false),
  set: z.record(z.string(), z.string().nullable()).optional().openapi({ description: 'field (or Object.Field) → value or template; null writes null' }),
  inactiveOwner: z.string().default('fail'),
  recordType: z.string().default('fail'),
  allowDuplicates: z.boolean().default(false),
  bulkThreshold: z.number().int().min(1).default(2000),
  matchOn: z.array(z.string()).optional().openapi({ example: ['Account=External_Id__c'] }),
  targetOrg: z.string().optional(),
  mask: z.array(z.string()).optional().openapi({ example: ['Contact.Email=email'] }),
});
type RestoreInput = z.infer<typeof RestoreBody>;

function flagsOf(body: RestoreInput): RestoreFlags {
  const overrides = Object.entries(body.set ?? {});
  return {
    object: body.object,
    changeType: body.changeTypes,
    from: body.from,
    to: body.to,
    dateBy: body.dateBy,
    id: body.ids,
    modifiedBy: body.modifiedBy,
    where: body.where,
    match: body.match,
    asOf: body.asOf,
    pick: body.pick ? Object.entries(body.pick).map(([id, at]) => `${id}=${at}`) : undefined,
    parents: String(body.parents),
    children: String(body.children),
    dryRun: body.dryRun,
    overwriteNewer: body.overwriteNewer,
    writeNulls: body.writeNulls,
    set: overrides.filter(([, v]) => v !== null).map(([f, v]) => `${f}=${v}`),
    clear: overrides.filter(([, v]) => v === null).map(([f]) => f),
    inactiveOwner: body.inactiveOwner,
    recordType: body.recordType,
    allowDuplicates: body.allowDuplicates,
    bulkThreshold: String(body.bulkThreshold),
    matchOn: body.matchOn,
    targetOrg: body.targetOrg,
    mask: body.mask,
  };
}

export function registerRestoreRoutes(app: ServerApp, deps: ServerDeps): void {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/orgs/{name}/restores/preview',
      summary: 'The records and versions a restore would bring back, with their related records (nothing is written, nothing is asked of the org)',
      request: { params: OrgParam, body: { content: { 'application/json': { schema: RestoreBody } }, required: true } },
      responses: { 200: jsonResponse('The selected records and the related ones'), ...ERROR_RESPONSES },
    }),
    async (c) => {
      requireAction(c, 'restore');
      const org = await orgOr404(deps.store, c.req.valid('param').name);
      const body = c.req.valid('json');
      const selection = await selectionOf(flagsOf(body));
      const selected = await selectVersions(deps.store, { ...selection, orgId: org.orgId });
      const items = await gatherRelated(deps.store, org.orgId, selection.objectName, selected, {
        parents: body.parents,
        children: body.children,
        asOf: selection.version?.kind === 'asOf' ? selection.version.at : undefined,
      });
      const records = items.map((i) => ({
        recordId: i.originalId,
        object: i.objectName,
        role: i.role,
        via: i.via,
        viaField: i.viaField,
        systemModstamp: new Date(i.version.systemModstamp).toISOString(),
        changeType: i.version.changeType,
        isDeleted: i.version.isDeleted,
        fields: i.version.fields,
      }));
      return c.json({ object: selection.objectName, count: selected.length, records }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/orgs/{name}/restores',
      summary: 'Restores (or, with dryRun, checks against the org and writes nothing); answers with the per-record report',
      request: { params: OrgParam, body: { content: { 'application/json': { schema: RestoreBody } }, required: true } },
      responses: { 200: jsonResponse('The restore report: runId, status, counts, results'), 502: jsonResponse('Salesforce refused the restore as a whole'), ...ERROR_RESPONSES },
    }),
    async (c) => {
      requireAction(c, 'restore');
      const org = await orgOr404(deps.store, c.req.valid('param').name);
      const body = c.req.valid('json');
      const flags = flagsOf(body);
      const target = body.targetOrg ? await orgOr404(deps.store, body.targetOrg) : undefined;
      const request = await restoreRequestOf(flags, { org, target, maskKey: deps.maskKey });
      const client = await connectTo(deps, target ?? org);
      const report = await runRestore({ store: deps.store, blobs: deps.blobs, client, now: deps.now, notifier: notifierOf(deps) }, request);
      await deps.store.appendAudit({ at: (deps.now ?? Date.now)(), actor: c.get('caller')!.user.name, action: body.dryRun ? 'restore.dry-run' : 'restore', target: org.name, details: { runId: report.runId, object: body.object, counts: report.counts } });
      return c.json(report, 200);
    },
  );
}
