/** Signing in and out: a session cookie (HttpOnly, SameSite=Strict) and the CSRF token changes must echo. */
import { createRoute, z } from '@hono/zod-openapi';
import { deleteCookie, getCookie } from 'hono/cookie';
import { signOut } from '../../users/index.ts';
import type { SignInThrottle } from '../../users/index.ts';
import type { ServerApp } from '../app.ts';
import type { ServerDeps } from '../context.ts';
import { SESSION_COOKIE, signInRequest } from '../sign-in.ts';
import { ERROR_RESPONSES, jsonResponse } from './shared.ts';


export function registerSessionRoutes(app: ServerApp, deps: ServerDeps, throttle: SignInThrottle): void {
  const users = { store: deps.store, now: deps.now, actor: 'http' };

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/session',
      summary: 'Sign in',
      request: { body: { content: { 'application/json': { schema: z.object({ name: z.string().min(1), password: z.string().min(1) }) } }, required: true } },
      responses: { 200: jsonResponse('Signed in: the user and the CSRF token'), 400: ERROR_RESPONSES[400], 401: jsonResponse('Wrong name or password'), 429: jsonResponse('Too many failed sign-ins; try later') },
    }),
    async (c) => {
      const { name, password } = c.req.valid('json');
      const answer = await signInRequest(c, deps, throttle, name, password);
      if (!answer.ok && answer.throttledMs > 0) {
        c.header('Retry-After', String(Math.ceil(answer.throttledMs / 1000)));
        return c.json({ error: 'TOO_MANY_ATTEMPTS', message: `Too many failed sign-ins for ${name} from this address; try again in ${Math.ceil(answer.throttledMs / 60_000)} minute(s).` }, 429);
      }
      if (!answer.ok) return c.json({ error: 'INVALID_CREDENTIALS', message: 'Wrong user name or password.' }, 401);
      return c.json({ user: answer.user, csrfToken: answer.csrfToken }, 200);
    },
  );

  app.openapi(
    createRoute({ method: 'get', path: '/api/session', summary: 'Who is signed in', responses: { 200: jsonResponse('The user, and the CSRF token of a browser session'), 401: ERROR_RESPONSES[401] } }),
    (c) => {
      const caller = c.get('caller')!;
      return c.json({ user: caller.user, via: caller.via, csrfToken: caller.via === 'session' ? caller.session.csrfToken : null }, 200);
    },
  );

  app.openapi(
    createRoute({ method: 'delete', path: '/api/session', summary: 'Sign out', responses: { 200: jsonResponse('Signed out'), 401: ERROR_RESPONSES[401], 403: ERROR_RESPONSES[403] } }),
    async (c) => {
      const cookie = getCookie(c, SESSION_COOKIE);
      if (cookie) await signOut(users, cookie);
      deleteCookie(c, SESSION_COOKIE, { path: '/' });
      return c.json({ signedOut: true }, 200);
    },
  );
}
