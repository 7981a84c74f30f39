/**
 * An org's notification channels and log through the API: list (secrets masked), set, remove,
 * send a test, and the log of what was sent. Secrets go in, never out.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { NOTIFICATION_EVENT_KINDS } from '../../core/notifications.ts';
import { CHANNEL_TYPES, SMTP_SECURITY, channelViews, createNotifier, removeChannel, setChannel } from '../../notify/index.ts';
import type { VaultNotifier } from '../../notify/index.ts';
import type { NotificationLogEntry } from '../../store/port.ts';
import type { ServerApp } from '../app.ts';
import { NotFoundError, requireAction } from '../app.ts';
import type { ServerDeps } from '../context.ts';
import { ERROR_RESPONSES, OrgParam, jsonResponse, orgOr404 } from './shared.ts';

const built = new WeakMap<ServerDeps, VaultNotifier>();

/** The server's notifier: the one it was given, or one built once from its store and keyring. */
export function notifierOf(deps: ServerDeps): VaultNotifier {
  if (deps.notifier) return deps.notifier;
  let notifier = built.get(deps);
  if (!notifier) {
    notifier = createNotifier({ store: deps.store, keyring: deps.keyring, now: deps.now, onProblem: (message) => console.error(message) });
    built.set(deps, notifier);
  }
  return notifier;
}

export function logEntryJson(e: NotificationLogEntry): Record<string, unknown> {
  return { at: new Date(e.at).toISOString(), event: e.eventKind, runId: e.runId, channel: e.channel, channelType: e.channelType, outcome: e.outcome, error: e.error, attempts: e.attempts, durationMs: e.durationMs };
}

const ChannelParam = OrgParam.extend({ channel: z.string().min(1).openapi({ param: { name: 'channel', in: 'path' }, example: 'ops-email' }) });

const ChannelBody = z
  .object({
    type: z.enum(CHANNEL_TYPES as [string, ...string[]]).optional(),
    events: z.array(z.string()).optional().openapi({ example: ['job-failed', 'objects-in-error'], description: `Among ${NOTIFICATION_EVENT_KINDS.join(', ')}, or all` }),
    enabled: z.boolean().optional(),
    email: z
      .object({
        host: z.string(),
        port: z.number().int(),
        security: z.enum(SMTP_SECURITY as [string, ...string[]]),
        user: z.string().nullable(),
        password: z.string().nullable(),
        from: z.string(),
        to: z.array(z.string()),
      })
      .partial()
      .strict()
      .optional(),
    url: z.string().optional().openapi({ description: 'The webhook or Slack incoming-webhook URL (a secret: never shown again)' }),
  })
  .strict();

export function registerNotificationRoutes(app: ServerApp, deps: ServerDeps): void {
  const settingsDeps = (actor: string) => ({ store: deps.store, keyring: deps.keyring, audit: deps.store, actor, now: deps.now });

  app.openapi(
    createRoute({ method: 'get', path: '/api/orgs/{name}/notifications', summary: "The org's notification channels (secrets masked) and the events they receive", request: { params: OrgParam }, responses: { 200: jsonResponse('The channels'), ...ERROR_RESPONSES } }),
    async (c) => {
      requireAction(c, 'view');
      const org = await orgOr404(deps.store, c.req.valid('param').name);
      return c.json({ org: org.name, events: NOTIFICATION_EVENT_KINDS, channels: await channelViews(deps, org) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/api/orgs/{name}/notifications/{channel}',
      summary: 'Adds a channel or changes one; settings left out keep their value (secrets included), invalid ones are refused',
      request: { params: ChannelParam, body: { content: { 'application/json': { schema: ChannelBody } }, required: true } },
      responses: { 200: jsonResponse('The channel now (secrets masked)'), ...ERROR_RESPONSES },
    }),
    async (c) => {
      const caller = requireAction(c, 'settings');
      const { name, channel } = c.req.valid('param');
      const org = await orgOr404(deps.store, name);
      const body = c.req.valid('json');
      const view = await setChannel(settingsDeps(caller.user.name), org, {
        name: channel,
        type: body.type as (typeof CHANNEL_TYPES)[number] | undefined,
        events: body.events,
        enabled: body.enabled,
        email: body.email as Parameters<typeof setChannel>[2]['email'],
        url: body.url,
      });
      return c.json({ org: org.name, channel: view }, 200);
    },
  );

  app.openapi(
    createRoute({ method: 'delete', path: '/api/orgs/{name}/notifications/{channel}', summary: 'Removes a channel', request: { params: ChannelParam }, responses: { 200: jsonResponse('Removed'), ...ERROR_RESPONSES } }),
    async (c) => {
      const caller = requireAction(c, 'settings');
      const { name, channel } = c.req.valid('param');
      const org = await orgOr404(deps.store, name);
      if (!(await removeChannel(settingsDeps(caller.user.name), org, channel))) throw new NotFoundError(`${org.name} has no notification channel "${channel}".`);
      return c.json({ removed: true }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/orgs/{name}/notifications/test',
      summary: 'Sends a test notification to every channel of the org (or the one named), whatever events it chose; each outcome is logged',
      request: { params: OrgParam, body: { content: { 'application/json': { schema: z.object({ channel: z.string().optional() }).strict() } }, required: false } },
      responses: { 200: jsonResponse('The outcome per channel'), ...ERROR_RESPONSES },
    }),
    async (c) => {
      requireAction(c, 'settings');
      const org = await orgOr404(deps.store, c.req.valid('param').name);
      const channel = (c.req.valid('json') as { channel?: string } | undefined)?.channel;
      const results = await notifierOf(deps).test(org, channel);
      if (channel !== undefined && results.length === 0) throw new NotFoundError(`${org.name} has no notification channel "${channel}".`);
      return c.json({ org: org.name, results }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/orgs/{name}/notifications/log',
      summary: 'The notifications sent for the org, newest first, with their outcome',
      request: { params: OrgParam, query: z.object({ limit: z.coerce.number().int().min(1).max(1000).optional() }) },
      responses: { 200: jsonResponse('The log'), ...ERROR_RESPONSES },
    }),
    async (c) => {
      requireAction(c, 'view');
      const org = await orgOr404(deps.store, c.req.valid('param').name);
      const entries = await deps.store.listNotificationLog({ orgId: org.orgId, limit: c.req.valid('query').limit ?? 100 });
      return c.json({ org: org.name, notifications: entries.map(logEntryJson) }, 200);
    },
  );
}
