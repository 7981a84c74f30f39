import type { Context, Hono, MiddlewareHandler } from 'hono';
import { API_VERSIONS, LATEST_API_VERSION } from '../server/context.ts';
import type { AppEnv, EmulatorContext } from '../server/context.ts';
import { errorResponse } from '../server/respond.ts';
import { requireSession } from '../auth/middleware.ts';
import { countApiUsage } from './limits.ts';

/** Release names by API version; 31.0 (Summer '14) is the oldest version Salesforce still serves. */
const SEASONS = ['Summer', 'Winter', 'Spring'] as const;

function releaseLabel(version: string): string {
  const n = Number.parseInt(version, 10);
  // 31.0 is Summer '14; each version after it is the next of three releases a year, and a year's
  // Winter release carries the following year's number.
  const step = n - 31;
  const season = SEASONS[step % 3]!;
  const year = 14 + Math.floor((step + 2) / 3);
  return `${season} '${String(year).padStart(2, '0')}`;
}

/** Resources by Version, in the order Salesforce lists them (identity is added per user). */
const RESOURCES = [
  'tooling', 'metadata', 'eclair', 'folders', 'prechatForms', 'contact-tracing', 'jsonxform', 'chatter',
  'payments', 'tabs', 'appMenu', 'quickActions', 'queryAll', 'commerce', 'wave', 'iot', 'analytics',
  'search', 'smartdatadiscovery', 'identity', 'composite', 'parameterizedSearch', 'fingerprint', 'theme',
  'nouns', 'domino', 'event', 'serviceTemplates', 'recent', 'connect', 'licensing', 'limits', 'process',
  'dedupe', 'async-queries', 'query', 'jobs', 'localizedvalue', 'mobile', 'emailConnect', 'consent',
  'tokenizer', 'compactLayouts', 'sobjects', 'actions', 'support',
];

const notFound = (c: Context): Response =>
  errorResponse(c, 404, [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }]);

/**
 * `GET /services/data` (public, not counted) and `GET /services/data/vXX.X` (authenticated and
 * counted like any REST call). jsforce reads the latter's `identity` when it has no identity URL.
 */
export function registerVersionRoutes(app: Hono<AppEnv>, ctx: EmulatorContext): void {
  const versions = API_VERSIONS.map((version) => ({ label: releaseLabel(version), url: `/services/data/v${version}`, version }));
  app.get('/services/data', (c) => c.json(versions));
  app.get('/services/data/', (c) => c.json(versions));

  const resources = (c: Context<AppEnv>): Response => {
    const base = `/services/data/v${c.get('apiVersion')}`;
    const body: Record<string, string> = {};
    for (const name of RESOURCES) {
      body[name] = name === 'identity' ? `${ctx.instanceUrl()}/id/${ctx.org.orgId}/${c.get('session').userId}` : `${base}/${name}`;
    }
    return c.json(body);
  };
  // Registered on the main app ahead of the /services/data/:version sub-app, so the chain is
  // spelled out here; the sub-app's own middleware never runs for these paths.
  const chain = [requireSession(ctx), apiVersionGuard(), countApiUsage(ctx)] as const;
  app.get('/services/data/:version', ...chain, resources);
  app.get('/services/data/:version/', ...chain, resources);
}

/**
 * Validates the `:version` segment (`v59.0`, or `latest` for the newest) of `/services/data/:version`
 * routes and exposes it as `c.get('apiVersion')` (`59.0`); other versions are 404 NOT_FOUND.
 */
export function apiVersionGuard(): MiddlewareHandler<AppEnv> {
  const known = new Set(API_VERSIONS);
  return async (c, next) => {
    const segment = c.req.param('version') ?? '';
    const version = segment === 'latest' ? LATEST_API_VERSION : /^v(\d+\.\d)$/.exec(segment)?.[1];
    if (!version || !known.has(version)) return notFound(c);
    c.set('apiVersion', version);
    await next();
  };
}
