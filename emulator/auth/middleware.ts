import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv, EmulatorContext, Session } from '../server/context.ts';
import { errorResponse } from '../server/respond.ts';

/**
 * The access token a request carries: `Authorization: Bearer <t>` or `Authorization: OAuth <t>`
 * (jsforce sends the latter for some APIs), or Bulk API 1.0's `X-SFDC-Session` header.
 */
export function accessTokenOf(c: Context): string | undefined {
  const authorization = c.req.header('Authorization');
  if (authorization) {
    const match = /^(?:Bearer|OAuth)\s+(\S+)\s*$/i.exec(authorization);
    return match?.[1];
  }
  return c.req.header('X-SFDC-Session')?.trim() || undefined;
}

/**
 * The live session behind a request, its idle timer reset; undefined when the token is missing,
 * unknown or expired. Bulk, streaming and other route modules use it to authenticate their own way.
 */
export function authenticateRequest(ctx: EmulatorContext, c: Context): Session | undefined {
  const token = accessTokenOf(c);
  return token ? ctx.sessions.authenticate(token) : undefined;
}

/** The REST API's answer to a missing or dead session. */
export function invalidSessionResponse(c: Context): Response {
  c.header('WWW-Authenticate', 'Token');
  return errorResponse(c, 401, [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }]);
}

/**
 * Requires a valid OAuth session and exposes it as `c.get('session')`; answers 401
 * INVALID_SESSION_ID otherwise, which is what makes jsforce refresh its token.
 */
export function requireSession(ctx: EmulatorContext): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const session = authenticateRequest(ctx, c);
    if (!session) return invalidSessionResponse(c);
    c.set('session', session);
    await next();
  };
}
