import type { Context, Hono } from 'hono';
import { accessTokenOf } from '../auth/middleware.ts';
import { LATEST_API_VERSION } from '../server/context.ts';
import type { AppEnv, EmulatorContext } from '../server/context.ts';
import { registerCdcAdminRoutes } from './admin.ts';
import { BayeuxServer } from './bayeux.ts';
import { captureChangeOrigin } from './origin.ts';

/** Durable streaming (replay) starts at API version 37.0; older `/cometd` versions are refused. */
const MIN_STREAMING_VERSION = 37;

/**
 * CometD (Bayeux) streaming of Change Data Capture events at `/cometd/XX.X`, and its admin API
 * under `/__emulator/cdc`. Mounted on the main app, so it authenticates each request itself with
 * the `Authorization: OAuth <token>` header jsforce's streaming client sends. It also records the
 * API origin of every `/services/…` request for the changeOrigin of the events it causes, so it
 * must be registered before the REST, SOAP and Bulk routes.
 */
export function registerStreamingRoutes(app: Hono<AppEnv>, ctx: EmulatorContext): void {
  app.use('/services/*', captureChangeOrigin());
  const server = new BayeuxServer(ctx.org, (token) => ctx.sessions.authenticate(token));

  const cometd = async (c: Context<AppEnv>): Promise<Response> => {
    const messages = await readMessages(c);
    if (!messages) return c.json([{ successful: false, error: '400::Bad request' }], 400);
    const version = c.req.param('version');
    const refusal = version === undefined
      ? `400::API version in the URI is mandatory. URI format: '/cometd/${LATEST_API_VERSION}'`
      : unsupportedVersion(version);
    if (refusal) {
      return c.json(messages.map((m) => ({ ...(isObject(m) ? { channel: m.channel, id: m.id } : {}), successful: false, error: refusal })), 400);
    }
    const replies = await server.handle({ messages, accessToken: accessTokenOf(c), signal: c.req.raw.signal });
    return c.json(replies);
  };
  app.post('/cometd', cometd);
  app.post('/cometd/', cometd);
  // CometD clients that append the message type post to `/cometd/66.0/handshake` and the like.
  app.post('/cometd/:version', cometd);
  app.post('/cometd/:version/*', cometd);

  registerCdcAdminRoutes(app, ctx, server);
}

function unsupportedVersion(version: string): string | undefined {
  const match = /^(\d+)\.0$/.exec(version);
  const major = match ? Number(match[1]) : NaN;
  if (major >= MIN_STREAMING_VERSION && major <= Number.parseFloat(LATEST_API_VERSION)) return undefined;
  return `400::Unsupported API version. Only API versions '${MIN_STREAMING_VERSION}.0' and later are supported. URI format: '/cometd/${LATEST_API_VERSION}'`;
}

/** The Bayeux messages of a request: a JSON array, or a single message object. */
async function readMessages(c: Context<AppEnv>): Promise<unknown[] | undefined> {
  try {
    const body: unknown = JSON.parse(await c.req.text());
    if (Array.isArray(body)) return body;
    return isObject(body) ? [body] : undefined;
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
