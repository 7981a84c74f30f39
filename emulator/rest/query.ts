import { randomBytes } from 'node:crypto';
import type { Hono } from 'hono';
import type { AppEnv, EmulatorContext } from '../server/context.ts';
import { SalesforceError } from '../org/errors.ts';
import type { Org } from '../org/org.ts';
import { executeSoql } from '../soql/execute.ts';
import type { QueryPlanResult } from '../soql/execute.ts';
import { errorBody, mountRoutes, RawJson } from './records.ts';
import type { RestRequest, RestResult, RestRoute } from './records.ts';

const DEFAULT_BATCH_SIZE = 2000;
const MIN_BATCH_SIZE = 200;
/**
 * A cursor and its results are available for two days after the query ran (org clock). Since API
 * version 56.0 Salesforce keeps no per-user limit on open cursors, for every API version; before,
 * a user had at most ten and each expired after 15 idle minutes. `settings.queryCursorsPerUser`
 * brings such a limit back for tests that need an evicted cursor.
 */
const CURSOR_LIFETIME_MS = 2 * 86_400_000;

/** Registers `/query` and `/queryAll` with their `nextRecordsUrl` continuations. */
export function registerQueryRoutes(app: Hono<AppEnv>, ctx: EmulatorContext): void {
  mountRoutes(app, queryRoutes(ctx));
}

/**
 * The query resources as synchronous routes, shared with Composite. Both continuation routes accept
 * both kinds of cursor: Salesforce's queryAll results point at `/query/…`, and jsforce follows them.
 */
export function queryRoutes(ctx: EmulatorContext): RestRoute[] {
  const org = ctx.org;
  return [
    { method: 'GET', path: '/query', kind: 'query', handler: (req) => startQuery(org, req, false) },
    { method: 'GET', path: '/queryAll', kind: 'query', handler: (req) => startQuery(org, req, true) },
    { method: 'GET', path: '/query/:locator', kind: 'query', handler: (req) => continueQuery(org, req) },
    { method: 'GET', path: '/queryAll/:locator', kind: 'query', handler: (req) => continueQuery(org, req) },
  ];
}

type QueryPlan = Pick<QueryPlanResult, 'count' | 'totalSize' | 'rows' | 'projectRestJson'>;

interface Cursor {
  userId: string;
  plan: QueryPlan;
  openedMs: number;
}

/**
 * Server-side query cursors. A cursor holds the result rows as they were when the query ran (records
 * are immutable objects, so this is a true snapshot) and projects each page only when it is fetched.
 */
class CursorStore {
  private readonly cursors = new Map<string, Cursor>();

  /** Opens a cursor; with a per-user limit, opening one past it releases the user's oldest. */
  open(userId: string, plan: QueryPlan, nowMs: number, perUser: number | undefined): string {
    this.expire(nowMs);
    if (perUser) {
      const mine = [...this.cursors].filter(([, c]) => c.userId === userId);
      // Map order is opening order, so the first ones are the oldest.
      for (let i = 0; i <= mine.length - perUser; i++) this.cursors.delete(mine[i]![0]);
    }
    const key = newLocatorKey();
    this.cursors.set(key, { userId, plan, openedMs: nowMs });
    return key;
  }

  take(key: string, userId: string, nowMs: number): Cursor {
    this.expire(nowMs);
    const cursor = this.cursors.get(key);
    if (!cursor || cursor.userId !== userId) throw invalidLocator();
    return cursor;
  }

  close(key: string): void {
    this.cursors.delete(key);
  }

  private expire(nowMs: number): void {
    for (const [key, cursor] of this.cursors) if (nowMs - cursor.openedMs > CURSOR_LIFETIME_MS) this.cursors.delete(key);
  }
}

const stores = new WeakMap<Org, CursorStore>();

function storeFor(org: Org): CursorStore {
  let store = stores.get(org);
  if (!store) {
    store = new CursorStore();
    stores.set(org, store);
  }
  return store;
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** `01g` (the query locator key prefix) and 15 more characters, the shape of a real cursor ID. */
function newLocatorKey(): string {
  const bytes = randomBytes(15);
  let out = '01g';
  for (const b of bytes) out += BASE62[b % 62];
  return out;
}

function invalidLocator(): SalesforceError {
  return new SalesforceError('INVALID_QUERY_LOCATOR', 'invalid query locator');
}

/** `Sforce-Query-Options: batchSize=N`: 200 to 2000; Salesforce may send more, never fewer. */
function batchSize(req: RestRequest): number {
  const header = req.header('Sforce-Query-Options') ?? '';
  const match = /batchSize\s*=\s*(\d+)/i.exec(header);
  if (!match) return DEFAULT_BATCH_SIZE;
  return Math.min(DEFAULT_BATCH_SIZE, Math.max(MIN_BATCH_SIZE, Number(match[1])));
}

function startQuery(org: Org, req: RestRequest, includeDeleted: boolean): RestResult {
  const soql = req.query.get('q');
  if (soql === null || soql.trim() === '') return errorBody(400, 'MALFORMED_QUERY', 'A query string has to be specified');
  const plan: QueryPlan = executeSoql(org.querySource(), soql, { includeDeleted, context: 'rest' });
  if (plan.count !== undefined) return { status: 200, body: { totalSize: plan.count, done: true, records: [] } };
  const size = batchSize(req);
  if (plan.rows.length <= size) return page(req, plan, 0, plan.rows.length, undefined);
  const key = storeFor(org).open(req.session.userId, plan, org.clock.nowMs(), org.settings.queryCursorsPerUser);
  return page(req, plan, 0, size, key);
}

function continueQuery(org: Org, req: RestRequest): RestResult {
  const match = /^(01g[0-9A-Za-z]{15})-(\d+)$/.exec(req.params.locator ?? '');
  if (!match) throw invalidLocator();
  const key = match[1]!;
  const offset = Number(match[2]);
  const store = storeFor(org);
  const cursor = store.take(key, req.session.userId, org.clock.nowMs());
  if (offset > cursor.plan.rows.length) throw invalidLocator();
  const end = Math.min(cursor.plan.rows.length, offset + batchSize(req));
  if (end >= cursor.plan.rows.length) {
    // The last page releases the cursor: finished queries hold no memory (nor count toward a limit).
    store.close(key);
    return page(req, cursor.plan, offset, end, undefined);
  }
  return page(req, cursor.plan, offset, end, key);
}

function page(req: RestRequest, plan: QueryPlan, start: number, end: number, key: string | undefined): RestResult {
  let text = `{"totalSize":${plan.totalSize},"done":${key === undefined}`;
  if (key !== undefined) text += `,"nextRecordsUrl":${JSON.stringify(`/services/data/v${req.apiVersion}/query/${key}-${end}`)}`;
  text += ',"records":[';
  for (let i = start; i < end; i++) text += (i > start ? ',' : '') + plan.projectRestJson(plan.rows[i]!, req.apiVersion);
  return { status: 200, body: new RawJson(`${text}]}`) };
}
