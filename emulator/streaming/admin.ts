/**
 * The emulator's control API for Change Data Capture, under `/__emulator/cdc`: select objects (the
 * Setup page), shorten the CometD timeouts for tests, set the overflow threshold, and publish gap
 * and overflow events on demand. Plain JSON like the rest of the admin API.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { toId18 } from '../org/ids.ts';
import type { ObjectSchema } from '../org/schema.ts';
import type { AppEnv, EmulatorContext } from '../server/context.ts';
import type { BayeuxServer } from './bayeux.ts';
import { changeDataCapture, RETENTION_MS } from './change-events.ts';
import type { ChangeDataCapture, ChangeEvent } from './change-events.ts';
import { changeEventName } from './payload.ts';

type Body = Record<string, unknown>;

class AdminError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

const badField = (field: string, message: string): AdminError => new AdminError(400, 'INVALID_FIELD', message, field);

const GAP_TYPES = ['GAP_CREATE', 'GAP_UPDATE', 'GAP_DELETE', 'GAP_UNDELETE'] as const;

/**
 * Registers `GET`/`POST /__emulator/cdc`, `POST /__emulator/cdc/gap` and
 * `POST /__emulator/cdc/overflow`. They check the admin token themselves, so they stay protected
 * wherever they are registered relative to the admin API's own middleware.
 */
export function registerCdcAdminRoutes(app: Hono<AppEnv>, ctx: EmulatorContext, server: BayeuxServer): void {
  const cdc = changeDataCapture(ctx.org);
  const route = (method: 'get' | 'post', path: string, fields: string[], handler: (body: Body) => unknown): void => {
    app[method](`/__emulator${path}`, async (c) => {
      if (!authorized(c.req.header('authorization'), ctx.adminToken)) {
        return c.json({ error: 'UNAUTHORIZED', message: 'The admin API needs "Authorization: Bearer <admin token>".' }, 401);
      }
      try {
        return c.json(handler(method === 'post' ? await readBody(c, fields) : {}));
      } catch (error) {
        if (!(error instanceof AdminError)) throw error;
        const payload: Body = { error: error.code, message: error.message };
        if (error.field) payload.field = error.field;
        return c.json(payload, error.status);
      }
    });
  };

  route('get', '/cdc', [], () => status(cdc, server));

  route('post', '/cdc', ['objects', 'overflowThreshold', 'longPollTimeoutMs', 'clientTimeoutMs'], (body) => {
    if (body.objects !== undefined && (!Array.isArray(body.objects) || body.objects.some((o) => typeof o !== 'string'))) {
      throw badField('objects', '"objects" must be an array of object API names.');
    }
    const threshold = optionalInteger(body, 'overflowThreshold', 1, 1_000_000_000);
    const longPoll = optionalInteger(body, 'longPollTimeoutMs', 0, 110_000);
    const clientTimeout = optionalInteger(body, 'clientTimeoutMs', 1, 3_600_000);
    if (body.objects !== undefined) {
      try {
        cdc.select(body.objects as string[]);
      } catch (error) {
        throw badField('objects', (error as Error).message);
      }
    }
    if (threshold !== undefined) cdc.settings.overflowThreshold = threshold;
    if (longPoll !== undefined) cdc.settings.longPollTimeoutMs = longPoll;
    if (clientTimeout !== undefined) cdc.settings.clientTimeoutMs = clientTimeout;
    return status(cdc, server);
  });

  route('post', '/cdc/gap', ['object', 'recordIds', 'changeType'], (body) => {
    const object = selectedObject(ctx, cdc, body.object);
    if (!Array.isArray(body.recordIds) || !body.recordIds.length) throw badField('recordIds', '"recordIds" must be a non-empty array of record IDs.');
    const ids = body.recordIds.map((raw) => {
      const id = typeof raw === 'string' ? toId18(raw) : undefined;
      if (!id || id.slice(0, 3) !== object.def.keyPrefix) throw badField('recordIds', `"${String(raw)}" is not the ID of a ${object.name} record.`);
      return id;
    });
    const raw = typeof body.changeType === 'string' ? body.changeType.toUpperCase() : '';
    const changeType = (raw.startsWith('GAP_') ? raw : `GAP_${raw}`) as (typeof GAP_TYPES)[number];
    if (!GAP_TYPES.includes(changeType)) throw badField('changeType', '"changeType" must be one of CREATE, UPDATE, DELETE, UNDELETE (or their GAP_ forms).');
    return published(cdc.publishGap(object.name, ids, changeType));
  });

  route('post', '/cdc/overflow', ['object'], (body) => published(cdc.publishOverflow(selectedObject(ctx, cdc, body.object).name)));
}

function status(cdc: ChangeDataCapture, server: BayeuxServer): Body {
  const retained = cdc.retained();
  const objects = cdc.selected();
  return {
    objects,
    channels: ['/data/ChangeEvents', ...objects.map((o) => `/data/${changeEventName(o)}`)],
    overflowThreshold: cdc.settings.overflowThreshold,
    longPollTimeoutMs: cdc.settings.longPollTimeoutMs,
    clientTimeoutMs: cdc.settings.clientTimeoutMs,
    retentionHours: RETENTION_MS / 3_600_000,
    retainedEvents: retained.length,
    earliestReplayId: retained[0]?.replayId ?? null,
    latestReplayId: retained[retained.length - 1]?.replayId ?? null,
    clients: server.clientCount,
    deliveredEvents: cdc.deliveredEvents,
  };
}

function published(event: ChangeEvent): Body {
  return { replayId: event.replayId, event: event.data };
}

function selectedObject(ctx: EmulatorContext, cdc: ChangeDataCapture, name: unknown): ObjectSchema {
  if (typeof name !== 'string') throw badField('object', '"object" (an object API name) is required.');
  const object = ctx.org.schema.object(name);
  if (!object) throw badField('object', `No object "${name}" in this org.`);
  if (!cdc.isSelected(object.name)) throw badField('object', `${object.name} is not selected for Change Data Capture.`);
  return object;
}

/** Constant-time comparison of the bearer token; hashing first makes the lengths equal. */
function authorized(header: string | undefined, token: string): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!match || !token) return false;
  const digest = (text: string): Buffer => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(match[1]!), digest(token));
}

async function readBody(c: Context<AppEnv>, fields: string[]): Promise<Body> {
  const text = await c.req.text();
  if (!text.trim()) return {};
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new AdminError(400, 'INVALID_JSON', 'The request body is not valid JSON.');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new AdminError(400, 'INVALID_JSON', 'The request body must be a JSON object.');
  }
  for (const key of Object.keys(body)) {
    if (!fields.includes(key)) throw badField(key, `Unknown field "${key}"; expected ${fields.map((f) => `"${f}"`).join(', ')}.`);
  }
  return body as Body;
}

function optionalInteger(body: Body, field: string, min: number, max: number): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw badField(field, `"${field}" must be an integer from ${min} to ${max}.`);
  }
  return value;
}
