/**
 * The admin API of org behaviours and faults, and the middleware that injects faults. Admin calls
 * answer plain JSON as the rest of `/__emulator/` does (`{"error","message","field"?}` on failure):
 *
 * - `GET /__emulator/behaviours` lists; `POST` adds one spec (`{"kind": …}`) or a list, replacing
 *   those of the same name; `POST /__emulator/behaviours/demo` adds the demo set; `DELETE
 *   /__emulator/behaviours/:name` removes one, `DELETE /__emulator/behaviours` all.
 * - `GET|POST|DELETE /__emulator/faults` and `DELETE /__emulator/faults/:name` likewise.
 */
import type { IncomingMessage } from 'node:http';
import type { Context, Hono, MiddlewareHandler } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { AppEnv, EmulatorContext } from '../server/context.ts';
import { installDemoBehaviours } from './demo.ts';
import { addFaults, clearFaults, faultsFor, listFaults, removeFault } from './faults.ts';
import { addBehaviours, clearBehaviours, listBehaviours, removeBehaviour } from './registry.ts';
import { SpecError } from './spec.ts';

/** Admin routes that configure restore-breaking org behaviours and faults. */
export function registerBehaviourAdminRoutes(app: Hono<AppEnv>, ctx: EmulatorContext): void {
  const org = ctx.org;

  app.get('/__emulator/behaviours', (c) => c.json({ behaviours: listBehaviours(org) }));
  app.post('/__emulator/behaviours/demo', (c) => {
    installDemoBehaviours(org);
    return c.json({ behaviours: listBehaviours(org) });
  });
  app.post('/__emulator/behaviours', (c) => withBody(c, (body) => ({ behaviours: addBehaviours(org, body) })));
  app.delete('/__emulator/behaviours', (c) => {
    const deleted = listBehaviours(org).length;
    clearBehaviours(org);
    return c.json({ deleted });
  });
  app.delete('/__emulator/behaviours/:name', (c) => {
    const name = c.req.param('name');
    if (!removeBehaviour(org, name)) return c.json({ error: 'NOT_FOUND', message: `No behaviour named "${name}".` }, 404);
    return c.json({ deleted: name });
  });

  app.get('/__emulator/faults', (c) => c.json({ faults: listFaults(org) }));
  app.post('/__emulator/faults', (c) => withBody(c, (body) => ({ faults: addFaults(org, body) })));
  app.delete('/__emulator/faults', (c) => {
    const deleted = listFaults(org).length;
    clearFaults(org);
    return c.json({ deleted });
  });
  app.delete('/__emulator/faults/:name', (c) => {
    const name = c.req.param('name');
    if (!removeFault(org, name)) return c.json({ error: 'NOT_FOUND', message: `No fault named "${name}".` }, 404);
    return c.json({ deleted: name });
  });
}

async function withBody(c: Context<AppEnv>, handle: (body: unknown) => unknown): Promise<Response> {
  let body: unknown;
  try {
    body = JSON.parse(await c.req.text());
  } catch {
    return c.json({ error: 'INVALID_JSON', message: 'The request body must be a JSON object or a list of them.' }, 400);
  }
  try {
    return c.json(handle(body));
  } catch (error) {
    if (!(error instanceof SpecError)) throw error;
    const payload: Record<string, string> = { error: 'INVALID_FIELD', message: error.message };
    if (error.field) payload.field = error.field;
    return c.json(payload, 400);
  }
}

/** Fault injection on the API surface, configured through the admin API. */
export function faultInjection(ctx: EmulatorContext): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const path = pathOf(c.req.url);
    // The admin API stays reliable: it is how a test clears the faults it set.
    if (path === '/__emulator' || path.startsWith('/__emulator/')) return next();
    const { delayMs, effect } = faultsFor(ctx.org, c.req.method, path);
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    if (!effect) return next();
    switch (effect.type) {
      case 'respond':
        return c.body(effect.body, effect.status as ContentfulStatusCode, { 'content-type': effect.contentType });
      case 'drop':
        return drop(c);
      case 'revokeSessions':
        ctx.sessions.revokeAll();
        return next();
      case 'expireSessions':
        // Access tokens end; refresh tokens stay valid, as when a session times out.
        for (const session of ctx.sessions.activeSessions()) ctx.sessions.revoke(session.accessToken);
        return next();
    }
  };
}

function pathOf(url: string): string {
  const start = url.indexOf('/', url.indexOf('://') + 3);
  const end = url.indexOf('?', start);
  const path = start < 0 ? '/' : url.slice(start, end < 0 ? undefined : end);
  return path.replace(/\/{2,}/g, '/');
}

/**
 * Closes the connection without an answer, as a load balancer resetting it would: the client sees
 * a socket error. In-process (`app.request`, no socket) it answers an empty 502 instead.
 */
function drop(c: Context<AppEnv>): Response {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (incoming?.socket) {
    incoming.socket.destroy();
    return new Response(null, { status: 502 });
  }
  return c.body(null, 502);
}
