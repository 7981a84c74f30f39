/** Pieces every route module uses: response descriptions and finding a named org. */
import { z } from '@hono/zod-openapi';
import type { OrgClient } from '../../core/org-client.ts';
import type { OrgRegistration } from '../../core/vault.ts';
import { openOrgClient } from '../../orgs/index.ts';
import type { ServerDeps } from '../context.ts';
import type { OrgCatalog } from '../../store/port.ts';
import { NotFoundError } from '../app.ts';

/** A JSON answer, described loosely: its shape is the use case's result, documented there. */
export function jsonResponse(description: string): { content: { 'application/json': { schema: z.ZodType } }; description: string } {
  return { content: { 'application/json': { schema: z.object({}).passthrough() } }, description };
}

export const ERROR_RESPONSES = {
  400: jsonResponse('The request is not valid; the message names what is wrong'),
  401: jsonResponse('Not signed in'),
  403: jsonResponse("The caller's role does not allow this, or the CSRF token is missing"),
  404: jsonResponse('No such org, run, user or token'),
};

export const OrgParam = z.object({ name: z.string().min(1).openapi({ param: { name: 'name', in: 'path' }, example: 'prod' }) });

/** An authenticated client for a registered org, its credentials unsealed from the vault. */
export function connectTo(deps: ServerDeps, org: OrgRegistration): Promise<OrgClient> {
  return openOrgClient(deps.store, deps.keyring, org, deps.connectAuth);
}

export async function orgOr404(catalog: OrgCatalog, name: string): Promise<OrgRegistration> {
  const org = await catalog.getOrg(name);
  if (!org) throw new NotFoundError(`No org named "${name}" in this vault.`);
  return org;
}
