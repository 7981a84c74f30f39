/**
 * The emulator's own control API under `/__emulator/`: what tests, the demo and benchmarks use to
 * seed the org, move its clock, change permissions and limits, and generate activity. It is no
 * part of Salesforce's API, so it answers plain JSON (`{"error","message","field"?}` on failure)
 * and authenticates with the emulator's admin token rather than an OAuth session.
 */
import type { Context, Hono } from 'hono';
import { AdminError, authorized, badField, optionalInteger, readBody } from './request.ts';
import type { Body } from './request.ts';
import type { Org, OrgState } from '../org/org.ts';
import { defaultPermissions } from '../org/access.ts';
import type { UserPermissions } from '../org/access.ts';
import { toId18 } from '../org/ids.ts';
import type { AppEnv, EmulatorContext } from '../server/context.ts';
import { installDemoBehaviours } from '../behaviours/demo.ts';
import { clearFaults } from '../behaviours/faults.ts';
import { clearBehaviours } from '../behaviours/registry.ts';
import { resetBulkUsage } from '../bulk/jobs.ts';
import { changeDataCapture, DEMO_CDC_OBJECTS } from '../streaming/change-events.ts';
import { applyActivity } from '../seed/activity.ts';
import { buildOrg, SEED_PROFILES } from '../seed/build-org.ts';
import type { SeedProfile } from '../seed/build-org.ts';

const MAX_SCALE = 5_000_000;
const MAX_ACTIVITY = 1_000_000;


type Handler = (c: Context<AppEnv>, body: Body) => unknown;

/** Registers every `/__emulator/` route on the emulator's app. Call it after the org is seeded: the
 * org's state at that moment is what `POST /__emulator/reset` goes back to. */
export function registerAdminRoutes(app: Hono<AppEnv>, ctx: EmulatorContext): void {
  const org = ctx.org;
  const initial = snapshot(org.exportState());

  app.use('/__emulator/*', async (c, next) => {
    if (!authorized(c.req.header('authorization'), ctx.adminToken)) {
      return c.json({ error: 'UNAUTHORIZED', message: 'The admin API needs "Authorization: Bearer <admin token>".' }, 401);
    }
    await next();
  });

  const route = (method: 'get' | 'post', path: string, fields: string[], handler: Handler): void => {
    app[method](`/__emulator${path}`, async (c) => {
      try {
        const body = method === 'post' ? await readBody(c, fields) : {};
        return c.json(await handler(c, body));
      } catch (error) {
        if (!(error instanceof AdminError)) throw error;
        const payload: Body = { error: error.code, message: error.message };
        if (error.field) payload.field = error.field;
        return c.json(payload, error.status);
      }
    });
  };

  route('post', '/seed', ['profile', 'seed', 'scale'], (_c, body) => {
    const profile = body.profile;
    if (typeof profile !== 'string' || !SEED_PROFILES.includes(profile as SeedProfile)) {
      throw badField('profile', `"profile" must be one of ${SEED_PROFILES.join(', ')}.`);
    }
    const seed = optionalSeed(body);
    const scale = optionalInteger(body, 'scale', 0, MAX_SCALE);
    const started = performance.now();
    const built = buildOrg({ profile: profile as SeedProfile, seed, scale, now: org.clock.now(), instance: org.instance });
    // A new data set in the same org: the connected app, credentials, limits and permissions stay,
    // so sessions and keys a test already holds keep working.
    org.importState({
      ...built.exportState(),
      nowMs: org.clock.nowMs(),
      connectedApp: org.connectedApp ?? built.connectedApp,
      credentials: Object.fromEntries(org.credentials),
      settings: { ...org.settings },
      permissions: org.access.exportState(),
    });
    seedAutomation(org, profile as SeedProfile);
    return { profile, seed, scale: scale ?? null, records: recordCounts(ctx).total, elapsedMs: Math.round(performance.now() - started) };
  });

  route('post', '/reset', [], () => {
    // Data goes back, time does not: clocks in an org never run backwards (see the report on
    // OrgClock), so the initial state is brought in at the current time.
    org.importState({ ...snapshot(initial), nowMs: Math.max(org.clock.nowMs(), initial.nowMs) });
    ctx.usage.reset();
    resetBulkUsage(org);
    return { reset: true, records: recordCounts(ctx).total };
  });

  route('get', '/limits', [], () => limits(ctx));
  route('post', '/limits', ['dailyApiRequests', 'sessionTimeoutSeconds', 'queryCursorsPerUser'], (_c, body) => {
    const daily = optionalInteger(body, 'dailyApiRequests', 0, Number.MAX_SAFE_INTEGER);
    const timeout = optionalInteger(body, 'sessionTimeoutSeconds', 1, 31_536_000);
    // 0 lifts the limit (Salesforce's behaviour since API version 56.0).
    const cursors = optionalInteger(body, 'queryCursorsPerUser', 0, 1_000_000);
    if (daily === undefined && timeout === undefined && cursors === undefined) {
      throw badField('dailyApiRequests', 'Give "dailyApiRequests", "sessionTimeoutSeconds" and/or "queryCursorsPerUser".');
    }
    if (daily !== undefined) org.settings.dailyApiRequests = daily;
    if (timeout !== undefined) org.settings.sessionTimeoutSeconds = timeout;
    if (cursors === 0) delete org.settings.queryCursorsPerUser;
    else if (cursors !== undefined) org.settings.queryCursorsPerUser = cursors;
    return limits(ctx);
  });

  route('get', '/statistics', [], () => {
    const counts = recordCounts(ctx);
    return { ...ctx.usage.statistics(), records: counts.live, recycleBin: counts.recycleBin };
  });

  route('post', '/activity', ['changes', 'seed'], (_c, body) => {
    const changes = optionalInteger(body, 'changes', 0, MAX_ACTIVITY);
    if (changes === undefined) throw badField('changes', '"changes" is required: the number of changes to make.');
    return applyActivity(org, { changes, seed: optionalSeed(body) });
  });

  route('get', '/clock', [], () => ({ now: org.clock.now().toISOString() }));
  route('post', '/clock', ['advanceSeconds'], (_c, body) => {
    const seconds = body.advanceSeconds;
    if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) {
      throw badField('advanceSeconds', '"advanceSeconds" must be a number of seconds, 0 or more (the clock only moves forward).');
    }
    return { now: org.clock.advance(seconds).toISOString() };
  });

  route('post', '/permissions', ['object', 'field', 'read', 'write', 'permission', 'value'], (_c, body) => {
    setPermission(ctx, body);
    return org.access.exportState();
  });

  route('get', '/connected-app', [], () => {
    const app = org.connectedApp;
    if (!app) throw new AdminError(404, 'NOT_FOUND', 'This org has no connected app.');
    return { clientId: app.clientId, clientSecret: app.clientSecret, certificatePem: app.certificatePem, privateKeyPem: app.privateKeyPem };
  });

  route('post', '/oauth/refresh-token', ['username'], (_c, body) => {
    const app = org.connectedApp;
    if (!app) throw new AdminError(404, 'NOT_FOUND', 'This org has no connected app.');
    if (body.username !== undefined && (typeof body.username !== 'string' || !body.username)) throw badField('username', '"username" must be a username.');
    const wanted = typeof body.username === 'string' ? body.username.toLowerCase() : undefined;
    const user = wanted === undefined
      ? org.get(org.apiUserId)
      : [...org.records('User')].find((u) => typeof u.Username === 'string' && u.Username.toLowerCase() === wanted);
    if (!user || user.IsDeleted) throw badField('username', `No user "${String(body.username ?? '')}" in this org.`);
    if (user.IsActive === false) throw badField('username', `${String(user.Username)} is inactive.`);
    // What the web-server flow would grant the user: a refresh token for the connected app.
    const refreshToken = ctx.sessions.grant(user.Id, app.clientId);
    return { refreshToken, clientId: app.clientId, clientSecret: app.clientSecret, loginUrl: ctx.instanceUrl() };
  });

  route('post', '/sessions/revoke', [], () => {
    ctx.sessions.revokeAll();
    return { revoked: true };
  });

  route('post', '/recycle-bin/empty', [], () => {
    const ids: string[] = [];
    for (const object of org.schema.objects()) {
      for (const record of org.records(object.name)) if (record.IsDeleted) ids.push(record.Id);
    }
    let purged = 0;
    for (const id of ids) {
      if (!org.get(id)) continue;
      org.purge(id);
      if (!org.get(id)) purged++;
    }
    return { purged };
  });

  route('post', '/records/:id/purge', [], (c) => {
    const raw = c.req.param('id') ?? '';
    const id = toId18(raw);
    if (!id) throw new AdminError(400, 'MALFORMED_ID', `"${raw}" is not a Salesforce record ID.`, 'id');
    if (!org.isInRecycleBin(id)) throw new AdminError(404, 'NOT_FOUND', `Record ${id} is not in the Recycle Bin.`);
    org.purge(id);
    return { purged: id };
  });
}

/**
 * The automation a freshly seeded org has, as `createEmulator` sets it up: the demo's behaviours
 * (validation rules, triggers, locks, duplicate rules) and Change Data Capture selection for the
 * demo profile, none for the others, and no injected faults. Validation rules deployed through
 * the Metadata API are configuration, not seeded data, and stay.
 */
function seedAutomation(org: Org, profile: SeedProfile): void {
  clearBehaviours(org);
  clearFaults(org);
  if (profile === 'demo') installDemoBehaviours(org);
  changeDataCapture(org).select(profile === 'demo' ? DEMO_CDC_OBJECTS : []);
}




function optionalSeed(body: Body): string | number {
  const seed = body.seed;
  if (seed === undefined || seed === null) return 1;
  if ((typeof seed === 'number' && Number.isFinite(seed)) || (typeof seed === 'string' && seed.length <= 200)) return seed;
  throw badField('seed', '"seed" must be a string or a number.');
}

function setPermission(ctx: EmulatorContext, body: Body): void {
  const access = ctx.org.access;
  if (body.permission !== undefined) {
    const names = Object.keys(defaultPermissions());
    if (typeof body.permission !== 'string' || !names.includes(body.permission)) {
      throw badField('permission', `"permission" must be one of ${names.join(', ')}.`);
    }
    if (typeof body.value !== 'boolean') throw badField('value', '"value" must be true or false.');
    for (const extra of ['object', 'field', 'read', 'write']) {
      if (body[extra] !== undefined) throw badField(extra, `"${extra}" cannot be combined with "permission".`);
    }
    access.setPermission(body.permission as keyof UserPermissions, body.value);
    return;
  }
  if (typeof body.object !== 'string') throw badField('object', '"object" (an object API name) or "permission" is required.');
  const object = ctx.org.schema.object(body.object);
  if (!object) throw badField('object', `No object "${body.object}" in this org.`);
  if (body.value !== undefined) throw badField('value', '"value" goes with "permission"; use "read" or "write" for objects and fields.');
  for (const flag of ['read', 'write']) {
    if (body[flag] !== undefined && typeof body[flag] !== 'boolean') throw badField(flag, `"${flag}" must be true or false.`);
  }
  if (body.field !== undefined) {
    if (typeof body.field !== 'string') throw badField('field', '"field" must be a field API name.');
    const field = object.field(body.field);
    if (!field) throw badField('field', `No field "${body.field}" on ${object.name}.`);
    if (field.name === 'Id') throw badField('field', 'The Id field cannot be hidden.');
    if (body.write !== undefined) throw badField('write', 'Field permissions take "read" only.');
    if (body.read === undefined) throw badField('read', '"read" is required with "field".');
    access.setFieldRead(object.name, field.name, body.read as boolean);
    return;
  }
  if (body.read === undefined && body.write === undefined) throw badField('read', 'Give "read" and/or "write".');
  if (body.read !== undefined) access.setObjectRead(object.name, body.read as boolean);
  if (body.write !== undefined) access.setObjectWrite(object.name, body.write as boolean);
}

function limits(ctx: EmulatorContext): Body {
  const max = ctx.org.settings.dailyApiRequests;
  const used = ctx.usage.used();
  return {
    dailyApiRequests: { max, used, remaining: Math.max(0, max - used) },
    sessionTimeoutSeconds: ctx.org.settings.sessionTimeoutSeconds,
    // null: no limit, as in Salesforce since API version 56.0.
    queryCursorsPerUser: ctx.org.settings.queryCursorsPerUser ?? null,
  };
}

function recordCounts(ctx: EmulatorContext): { live: Record<string, number>; recycleBin: Record<string, number>; total: number } {
  const live: Record<string, number> = {};
  const recycleBin: Record<string, number> = {};
  let total = 0;
  for (const object of ctx.org.schema.objects()) {
    let alive = 0;
    let deleted = 0;
    for (const record of ctx.org.records(object.name)) {
      if (record.IsDeleted) deleted++;
      else alive++;
    }
    if (alive) live[object.name] = alive;
    if (deleted) recycleBin[object.name] = deleted;
    total += alive;
  }
  return { live, recycleBin, total };
}

/**
 * A copy of a state that later writes cannot reach. Records are replaced, never mutated, so the
 * table arrays only need copying; but `Org.exportState` hands out its live settings object and
 * deletion log.
 */
function snapshot(state: OrgState): OrgState {
  return {
    ...state,
    settings: { ...state.settings },
    credentials: { ...state.credentials },
    deletionLog: state.deletionLog.map((d) => ({ ...d })),
    recycleBin: state.recycleBin.map((e) => ({ ...e, clearedLookups: [...e.clearedLookups] })),
    tables: Object.fromEntries(Object.entries(state.tables).map(([name, records]) => [name, [...records]])),
    permissions: structuredClone(state.permissions),
  };
}
