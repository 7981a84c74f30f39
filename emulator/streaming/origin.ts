/**
 * The `changeOrigin` of change events: which API, at which version, and for which client a change
 * was made (`com/salesforce/api/rest/66.0;client=orgvault`). Writes reach the org without knowing
 * the request behind them, so the request's origin rides along in async context.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../server/context.ts';

const current = new AsyncLocalStorage<string>();

/** API names Salesforce puts in changeOrigin, by the path prefix of the request. */
const APIS: [RegExp, string][] = [
  [/^\/services\/data\/v(\d+\.\d)\/tooling(?:\/|$)/, 'toolingrest'],
  [/^\/services\/data\/v(\d+\.\d)\/jobs\/ingest(?:\/|$)/, 'bulkapi'],
  [/^\/services\/data\/v(\d+\.\d)(?:\/|$)/, 'rest'],
  [/^\/services\/async\/(\d+\.\d)(?:\/|$)/, 'bulkapi'],
  [/^\/services\/Soap\/T\/(\d+\.\d)(?:\/|$)/i, 'toolingsoap'],
  [/^\/services\/Soap\/[uc]\/(\d+\.\d)(?:\/|$)/i, 'soap'],
];

/**
 * Middleware that records the origin of API requests for the changes they make. The client part
 * comes from `Sforce-Call-Options: client=…`, and is left out when the caller sets none.
 */
export function captureChangeOrigin(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const path = c.req.path;
    for (const [pattern, api] of APIS) {
      const match = pattern.exec(path);
      if (!match) continue;
      const client = /(?:^|[,;\s])client=([^,;\s]+)/.exec(c.req.header('Sforce-Call-Options') ?? '')?.[1];
      const origin = `com/salesforce/api/${api}/${match[1]}${client ? `;client=${client}` : ''}`;
      return current.run(origin, () => next());
    }
    await next();
  };
}

/** The origin of the change being made now: empty outside an API request, as for Apex or the UI. */
export function currentChangeOrigin(): string {
  return current.getStore() ?? '';
}
