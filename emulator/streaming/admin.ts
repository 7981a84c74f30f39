/**
 * The emulator's control API for Change Data Capture, under `/__emulator/cdc`: select objects (the
 * Setup page), shorten the CometD timeouts for tests, set the overflow threshold, and publish gap
 * and overflow events on demand. Plain JSON like the rest of the admin API.
 */
import type { Hono } from 'hono';
import { AdminError, authorized, badField, optionalInteger, readBody } from '../admin/request.ts';
import type { Body } from '../admin/request.ts';
import { toId18 } from '../org/ids.ts';
import type { ObjectSchema } from '../org/schema.ts';
import type { AppEnv, EmulatorContext } from '../server/context.ts';
import type { BayeuxServer } from './bayeux.ts';
import { changeDataCapture, RETENTION_MS } from './change-events.ts';
import type { ChangeDataCapture, ChangeEvent } from './change-events.ts';
import { changeEventName } from './payload.ts';


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



