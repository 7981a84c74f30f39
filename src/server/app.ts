/**
 * The HTTP API: JSON for what the CLI does, described at `/openapi.json`, every request validated
 * (a 400 names the field at fault). No anonymous access: a browser signs in for a session cookie
 * (HttpOnly, SameSite=Strict) and echoes its CSRF token on every change; automation sends an API
 * token. Each route needs an action of the caller's role (src/core/users.ts).
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { AuthenticationError, OrgvaultError, SalesforceApiError, UsageError } from '../core/errors.ts';
import { isAllowed } from '../core/users.ts';
import type { Action } from '../core/users.ts';
import { LockHeldError } from '../store/port.ts';
import { SignInThrottle, sessionUser, tokenUser } from '../users/index.ts';
import type { Caller, ServerDeps, ServerEnv } from './context.ts';
import { BackgroundBackups } from './jobs.ts';
import { registerArchiveRoutes } from './routes/archive.ts';
import { registerOrgRoutes } from './routes/orgs.ts';
import { registerNotificationRoutes } from './routes/notifications.ts';
import { registerPermissionRoutes } from './routes/permissions.ts';
import { registerMetadataRoutes } from './routes/metadata.ts';
import { registerExportRoutes } from './routes/exports.ts';
import { registerRestoreRoutes } from './routes/restores.ts';
import { registerRetentionRoutes } from './routes/retention.ts';
import { registerScheduleRoutes } from './routes/schedules.ts';
import { registerRunRoutes } from './routes/runs.ts';
import { registerSearchRoutes } from './routes/search.ts';
import { registerSessionRoutes } from './routes/session.ts';
import { SESSION_COOKIE } from './sign-in.ts';
import { registerUserRoutes } from './routes/users.ts';
import { registerPages } from './pages/index.ts';
import { getCookie } from 'hono/cookie';

export type ServerApp = OpenAPIHono<ServerEnv>;

/** The API as a Hono app: served by `orgvault serve`, called in-process by the tests. */
export function createServerApp(deps: ServerDeps): ServerApp {
  const app = new OpenAPIHono<ServerEnv>({
    defaultHook: (result, c) => {
      if (result.success) return undefined;
      const issues = result.error.issues.map((i) => `${i.path.length ? i.path.join('.') : 'body'}: ${i.message}`);
      return c.json({ error: 'INVALID_REQUEST', message: `The request is not valid: ${issues.join('; ')}.` }, 400);
    },
  });
  const users = { store: deps.store, now: deps.now, actor: 'http' };

  // Who is calling, from an API token or a session cookie; no caller is refused below.
  app.use('/api/*', async (c, next) => {
    const authorization = c.req.header('authorization');
    if (authorization?.startsWith('Bearer ')) {
      const found = await tokenUser(users, authorization.slice(7).trim());
      if (!found) return c.json({ error: 'UNAUTHENTICATED', message: 'The API token is unknown, revoked or expired.' }, 401);
      c.set('caller', { user: found.user, via: 'token', tokenId: found.token.id });
    } else {
      const cookie = getCookie(c, SESSION_COOKIE);
      const found = cookie ? await sessionUser(users, cookie) : undefined;
      c.set('caller', found ? { user: found.user, via: 'session', session: found.session } : undefined);
    }
    const open = c.req.path === '/api/session' && c.req.method === 'POST';
    const caller = c.get('caller');
    if (!caller && !open) return c.json({ error: 'UNAUTHENTICATED', message: 'Sign in first (POST /api/session), or send an API token (Authorization: Bearer …).' }, 401);
    // Cookies ride along on cross-site requests: a change must echo the session's CSRF token.
    if (caller?.via === 'session' && !['GET', 'HEAD', 'OPTIONS'].includes(c.req.method) && c.req.header('x-csrf-token') !== caller.session.csrfToken) {
      return c.json({ error: 'CSRF', message: 'Missing or wrong X-CSRF-Token header: send the csrfToken that GET /api/session returns.' }, 403);
    }
    await next();
  });

  // One throttle for the API's and the sign-in page's attempts.
  const throttle = new SignInThrottle({ now: deps.now });
  registerSessionRoutes(app, deps, throttle);
  const backups = new BackgroundBackups(deps);
  registerOrgRoutes(app, deps, backups);
  registerRunRoutes(app, deps);
  registerSearchRoutes(app, deps);
  registerRestoreRoutes(app, deps);
  registerRetentionRoutes(app, deps);
  registerScheduleRoutes(app, deps);
  registerExportRoutes(app, deps);
  registerArchiveRoutes(app, deps);
  registerPermissionRoutes(app, deps);
  registerMetadataRoutes(app, deps);
  registerNotificationRoutes(app, deps);
  registerUserRoutes(app, deps);
  registerPages(app, deps, backups, throttle);

  app.openAPIRegistry.registerComponent('securitySchemes', 'session', { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE });
  app.openAPIRegistry.registerComponent('securitySchemes', 'token', { type: 'http', scheme: 'bearer' });
  app.doc31('/openapi.json', { openapi: '3.1.0', info: { title: 'orgvault', version: '0.1.0', description: 'Backup and restore for Salesforce orgs.' }, security: [{ session: [] }, { token: [] }] });

  app.notFound((c) => c.json({ error: 'NOT_FOUND', message: `No route ${c.req.method} ${c.req.path}.` }, 404));
  app.onError((error, c) => errorResponse(c, error));
  return app;
}

/** The caller, if their role allows `action`; otherwise the request ends with a 403 naming the role. */
export function requireAction(c: Context<ServerEnv>, action: Action): Caller {
  const caller = c.get('caller');
  if (!caller) throw new ForbiddenError('Sign in first.');
  if (!isAllowed(caller.user.role, action)) throw new ForbiddenError(`The ${caller.user.role} role may not ${ACTION_WORDS[action]}.`);
  return caller;
}

const ACTION_WORDS: Record<Action, string> = {
  view: 'view backups',
  backup: 'start backups',
  restore: 'compare or restore records',
  settings: 'change settings',
  orgs: 'connect or remove orgs',
  users: 'manage users',
  archive: 'archive records (delete them from Salesforce)',
  export: 'export backed-up records',
};

/** orgvault's errors as HTTP answers: what the caller did wrong is a 4xx naming it. */
function errorResponse(c: Context<ServerEnv>, error: unknown): Response {
  if (error instanceof NotFoundError) return c.json({ error: 'NOT_FOUND', message: error.message }, 404);
  if (error instanceof ForbiddenError) return c.json({ error: 'FORBIDDEN', message: error.message }, 403);
  if (error instanceof UsageError) return c.json({ error: 'INVALID_REQUEST', message: error.message }, 400);
  if (error instanceof LockHeldError) return c.json({ error: error.code, message: error.message }, 409);
  if (error instanceof SalesforceApiError) return c.json({ error: 'SALESFORCE', statusCode: error.statusCode, message: error.message }, 502);
  if (error instanceof AuthenticationError) return c.json({ error: error.code, message: error.message }, 502);
  if (error instanceof OrgvaultError) return c.json({ error: error.code, message: error.message }, 500);
  // An unexpected failure: the details go to the server's log, never to the caller.
  console.error(error);
  return c.json({ error: 'INTERNAL', message: 'The server failed; its log says why.' }, 500);
}

/** The caller's role does not allow the action: a 403. */
export class ForbiddenError extends OrgvaultError {
  constructor(message: string) {
    super('FORBIDDEN', message, { exitCode: 2 });
  }
}

/** A named thing (org, run, user, token) that does not exist: a 404. */
export class NotFoundError extends OrgvaultError {
  constructor(message: string) {
    super('NOT_FOUND', message, { exitCode: 2 });
  }
}
