import { Hono } from 'hono';
import type { AppEnv, EmulatorContext } from './context.ts';
import { respondWithError } from './respond.ts';
import { registerAdminRoutes } from '../admin/routes.ts';
import { registerOAuthRoutes } from '../auth/routes.ts';
import { requireSession } from '../auth/middleware.ts';
import { apiVersionGuard, registerVersionRoutes } from '../rest/versions.ts';
import { countApiUsage, registerLimitsRoutes } from '../rest/limits.ts';
import { registerSObjectRoutes } from '../rest/sobjects.ts';
import { registerQueryRoutes } from '../rest/query.ts';
import { registerCompositeRoutes } from '../rest/composite.ts';
import { registerBulkRoutes } from '../bulk/routes.ts';
import { registerFileRoutes } from '../files/routes.ts';
import { registerStreamingRoutes } from '../streaming/routes.ts';
import { registerSoapRoutes } from '../soap/routes.ts';
import { faultInjection, registerBehaviourAdminRoutes } from '../behaviours/routes.ts';
import { registerMetadataAdminRoutes } from '../metadata/index.ts';

/**
 * The emulator's HTTP surface. Order matters: the versions list is public and uncounted; every
 * other `/services/data` call is authenticated, then counted against DailyApiRequests, then routed.
 */
export function createEmulatorApp(ctx: EmulatorContext): Hono<AppEnv> {
  // Salesforce tolerates doubled slashes, and @salesforce/core sends `//services/data/...`.
  const app = new Hono<AppEnv>({ getPath: normalizedPath });
  app.onError((error, c) => respondWithError(c, error));

  // Injected faults (error rates, latency, dropped connections) apply to every API, not to admin.
  app.use('*', faultInjection(ctx));
  registerAdminRoutes(app, ctx);
  registerBehaviourAdminRoutes(app, ctx);
  registerMetadataAdminRoutes(app, ctx);
  registerOAuthRoutes(app, ctx);
  registerVersionRoutes(app, ctx);
  registerStreamingRoutes(app, ctx);
  registerSoapRoutes(app, ctx);

  const data = new Hono<AppEnv>();
  data.use('*', requireSession(ctx));
  data.use('*', apiVersionGuard());
  data.use('*', countApiUsage(ctx));
  registerLimitsRoutes(data, ctx);
  // Before the sObject and query resources: blob uploads and downloads and the ContentDocumentLink
  // query restriction share their paths, and pass on every request they do not handle.
  registerFileRoutes(data, ctx);
  registerSObjectRoutes(data, ctx);
  registerQueryRoutes(data, ctx);
  registerCompositeRoutes(data, ctx);
  registerBulkRoutes(data, ctx);
  app.route('/services/data/:version', data);

  app.notFound((c) => c.json([{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }], 404));
  return app;
}

function normalizedPath(request: Request): string {
  const url = request.url;
  const start = url.indexOf('/', url.indexOf('://') + 3);
  const end = url.indexOf('?', start);
  const path = start < 0 ? '/' : url.slice(start, end < 0 ? undefined : end);
  return path.includes('//') ? path.replace(/\/{2,}/g, '/') : path;
}
