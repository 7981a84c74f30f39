import type { Context, Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { MetadataApiError } from '../metadata/types.ts';
import { node } from '../metadata/xml.ts';
import type { XmlNode } from '../metadata/xml.ts';
import { API_VERSIONS } from '../server/context.ts';
import type { AppEnv, EmulatorContext } from '../server/context.ts';
import { faultEnvelope, PARTNER_NS, parseEnvelope, responseEnvelope, SoapFault } from './envelope.ts';
import type { SoapApi } from './envelope.ts';
import * as metadata from './metadata.ts';
import { deleteMetadata, saveMetadata } from './metadata-crud.ts';
import type { MetadataCall } from './metadata.ts';
import * as partner from './partner.ts';
import type { PartnerCall } from './partner.ts';

const PARTNER_CALLS: Record<string, (call: PartnerCall) => XmlNode[]> = {
  undelete: partner.undelete,
  emptyRecycleBin: partner.emptyRecycleBin,
  getUserInfo: partner.getUserInfo,
  getServerTimestamp: partner.getServerTimestamp,
  logout: partner.logout,
};

const METADATA_CALLS: Record<string, (call: MetadataCall) => XmlNode[] | Promise<XmlNode[]>> = {
  describeMetadata: () => metadata.describeMetadata(),
  listMetadata: metadata.listMetadata,
  readMetadata: metadata.readMetadata,
  retrieve: metadata.retrieve,
  checkRetrieveStatus: metadata.checkRetrieveStatus,
  checkStatus: metadata.checkStatus,
  createMetadata: (call) => saveMetadata(call, 'create'),
  updateMetadata: (call) => saveMetadata(call, 'update'),
  upsertMetadata: (call) => saveMetadata(call, 'upsert'),
  deleteMetadata,
};

/**
 * SOAP: the Partner API (`/services/Soap/u/XX.X`) and the Metadata API (`/services/Soap/m/XX.X`),
 * each also under the org-ID suffix login() hands out as serverUrl. Calls authenticate with the
 * envelope's SessionHeader (the OAuth access token is a session ID) and count against
 * DailyApiRequests like REST calls; login does neither. Failures are SOAP faults with HTTP 500,
 * `sf:INVALID_SESSION_ID` being the one jsforce refreshes its session on.
 */
export function registerSoapRoutes(app: Hono<AppEnv>, ctx: EmulatorContext): void {
  for (const [segment, api] of [['u', 'partner'], ['m', 'metadata']] as const) {
    const handler = (c: Context<AppEnv>): Promise<Response> => handle(c, ctx, api);
    app.post(`/services/Soap/${segment}/:version`, handler);
    app.post(`/services/Soap/${segment}/:version/:orgId`, handler);
  }
}

function soapXml(c: Context<AppEnv>, body: string, status: ContentfulStatusCode = 200): Response {
  return c.body(body, status, { 'Content-Type': 'text/xml;charset=UTF-8' });
}

async function handle(c: Context<AppEnv>, ctx: EmulatorContext, api: SoapApi): Promise<Response> {
  try {
    const raw = c.req.param('version') ?? '';
    const version = /^\d+$/.test(raw) ? `${raw}.0` : raw;
    if (!API_VERSIONS.includes(version)) throw new SoapFault('UNSUPPORTED_API_VERSION', 'Invalid Api version specified on URL');
    const request = parseEnvelope(await c.req.text());
    if (api === 'partner' && request.operation === 'login') return soapXml(c, responseEnvelope(api, 'login', partner.login(ctx, request, version)));

    const session = request.sessionId ? ctx.sessions.authenticate(request.sessionId) : undefined;
    if (!session) throw new SoapFault('INVALID_SESSION_ID', 'Invalid Session ID found in SessionHeader: Illegal Session');
    const used = ctx.usage.admit();
    if (used === undefined) throw new SoapFault('REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.');

    let content: XmlNode[];
    if (api === 'partner') {
      const call = PARTNER_CALLS[request.operation];
      if (!call) throw noOperation(PARTNER_NS, request.operation);
      content = call({ ctx, session, request, apiVersion: version });
    } else {
      const call = METADATA_CALLS[request.operation];
      if (!call) throw noOperation('http://soap.sforce.com/2006/04/metadata', request.operation);
      metadata.requireMetadataAccess(ctx.org, session);
      content = await call({ org: ctx.org, session, request, apiVersion: version });
    }
    ctx.usage.attribute(`SOAP ${api === 'partner' ? 'u' : 'm'}/${request.operation}`, request.client ?? c.req.header('User-Agent') ?? session.clientId);
    // The Partner API reports usage in a SOAP header (REST's Sforce-Limit-Info is not sent here).
    const headers = api === 'partner' ? [limitInfo(used, ctx.usage.max())] : [];
    return soapXml(c, responseEnvelope(api, request.operation, content, headers));
  } catch (error) {
    return soapXml(c, faultEnvelope(api, asFault(error)), 500);
  }
}

function limitInfo(current: number, limit: number): XmlNode {
  return node('LimitInfoHeader', [node('limitInfo', [node('current', current), node('limit', limit), node('type', 'API REQUESTS')])]);
}

function noOperation(namespace: string, operation: string): SoapFault {
  return new SoapFault('Client', `No operation available for request {${namespace}}${operation}`, 'client');
}

function asFault(error: unknown): SoapFault {
  if (error instanceof SoapFault) return error;
  if (error instanceof MetadataApiError) return new SoapFault(error.code, error.message);
  // Anything else is an emulator bug; Salesforce's own internal errors look like this.
  console.error('[emulator] internal error', error);
  return new SoapFault('UNKNOWN_EXCEPTION', 'An unexpected error occurred. Please include this ErrorId if you contact support: 0-0 (-1)');
}
